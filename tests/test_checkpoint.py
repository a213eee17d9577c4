"""Checkpoints: a damaged or partial step is detected by its checksums (or by orbax) and the step before is used."""

import numpy as np
import pytest

from tailjax.training import checkpoint


def _state(x):
  return {"w": np.full((3, 4), x, np.float32), "count": np.array([x, x, x], np.int32)}


# With the data files gone, tensorstore's reader thread also reports its NOT_FOUND to Python's unraisable hook (after
# restore has raised it too): that echo is expected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("damage", ["flipped bytes", "missing data", "truncated file", "history"])
def test_a_damaged_step_is_deleted_and_the_one_before_restored(tmp_path, damage, caplog):
  ckpt = checkpoint.RowCheckpoints(tmp_path, keep=3)
  for step in (10, 20):
    ckpt.save(step, _state(step), {"loss": np.arange(step, dtype=np.float32)})
  data_files = [f for f in (tmp_path / "20" / "state").rglob("*") if f.is_file() and f.parent.name == "d"]
  for f in data_files:  # orbax keeps the merged OCDBT data and the per-process copy: damage whichever is read
    if damage == "flipped bytes":
      raw = bytearray(f.read_bytes())
      raw[len(raw) // 2] ^= 0x01  # one bit
      f.write_bytes(bytes(raw))
    elif damage == "missing data":  # a partial copy: the data files gone, the metadata left
      f.unlink()
    elif damage == "truncated file":
      f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
  else:  # the history of step 20 replaced by step 10's: valid arrays, wrong contents
    ckpt.close()
    import shutil

    shutil.rmtree(tmp_path / "20" / "history")
    shutil.copytree(tmp_path / "10" / "history", tmp_path / "20" / "history")
    ckpt = checkpoint.RowCheckpoints(tmp_path, keep=3)
  template = {"w": np.zeros((3, 4), np.float32), "count": np.zeros(3, np.int32)}
  step, state, history = ckpt.restore_latest(template)
  assert step == 10 and float(state["w"][0, 0]) == 10 and len(history["loss"]) == 10
  assert not (tmp_path / "20").exists()
  assert any("step 20 is damaged" in r.getMessage() for r in caplog.records)


def test_the_checksum_sees_one_bit_and_not_the_layout():
  a = _state(3)
  b = {"w": a["w"].copy(), "count": a["count"].copy()}
  assert np.array_equal(checkpoint.state_checksum(a), checkpoint.state_checksum(b))
  b["w"].view(np.uint32)[1, 2] ^= 1
  assert not np.array_equal(checkpoint.state_checksum(a), checkpoint.state_checksum(b))
  swapped = {"w": a["w"][::-1].copy() + np.arange(3, dtype=np.float32)[:, None], "count": a["count"]}
  assert not np.array_equal(checkpoint.state_checksum(a), checkpoint.state_checksum(swapped))
