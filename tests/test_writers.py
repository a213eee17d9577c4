"""TensorBoard events: the default writer (no TensorFlow) writes what clu's writer writes, and keeps TensorFlow out."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest
from ml_collections import ConfigDict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from tailjax.training import events, writers

REPO = pathlib.Path(__file__).resolve().parents[1]
SCALARS = [(10, {"loss": 4.125, "grad_norm": 0.5}), (20, {"loss": 3.0625, "grad_norm": float("nan")}),
           (20, {"val_loss": 3.5}), (30, {"loss": 2.75, "grad_norm": 1e-30})]  # fmt: skip


def _read(folder: pathlib.Path) -> dict:
  """{tag: [(step, value)]} of every scalar in the folder's event files, as TensorBoard's own reader loads them."""
  acc = EventAccumulator(str(folder), size_guidance={"tensors": 0})
  acc.Reload()
  return {
    tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
    for tag in acc.Tags()["tensors"]
  }


def test_event_writer_writes_what_clus_writer_writes(tmp_path):
  from clu import metric_writers  # the reference: clu's SummaryWriter (through tf.summary)

  ours, theirs = events.EventWriter(tmp_path / "ours"), metric_writers.SummaryWriter(str(tmp_path / "clu"))
  for w in (ours, theirs):
    for step, scalars in SCALARS:
      w.write_scalars(step, scalars)
    w.close()
  got, want = _read(tmp_path / "ours"), _read(tmp_path / "clu")
  assert sorted(got) == sorted(want) == ["grad_norm", "loss", "val_loss"]
  for tag in want:
    np.testing.assert_array_equal(np.array(got[tag]), np.array(want[tag]), err_msg=tag)  # NaN == NaN here
  assert got["loss"] == [(10, 4.125), (20, 3.0625), (30, 2.75)]


def test_two_writers_in_one_folder_keep_both_files(tmp_path):
  a, b = events.EventWriter(tmp_path), events.EventWriter(tmp_path)
  a.write_scalars(1, {"x": 1.0})
  b.write_scalars(2, {"x": 2.0})
  a.close(), b.close(), b.close()  # closing twice is harmless
  assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2
  assert sorted(_read(tmp_path)["x"]) == [(1, 1.0), (2, 2.0)]


def _cfg(writer: str) -> ConfigDict:
  return ConfigDict({"output": {"tensorboard": True, "tensorboard_writer": writer}})


def test_progress_and_lane_curves_reach_tensorboard(tmp_path):
  with writers.Writers(tmp_path, _cfg("events"), total_steps=100) as w:
    w._progress._every = 0.0  # report at every advance
    with w.row("B4", ["lr=0.1", "lr=0.2"]) as lanes:
      for r, lane in enumerate(lanes):
        lane.write_scalars(5, {"loss": 1.0 + r})
    w.advance(50)
    w.advance(50)
  assert _read(tmp_path / "tb" / "B4" / "lr=0.2")["loss"] == [(5, 2.0)]
  progress = _read(tmp_path / "tb")
  assert [s for s, _ in progress["steps_per_sec"]] == [50, 100] and all(v > 0 for _, v in progress["steps_per_sec"])


def test_a_run_shorter_than_the_interval_still_reports_its_end(tmp_path, monkeypatch):
  """Progress every 20 s, and once at the end: a 3-step sweep (or a resumed one that skips rows and never reaches
  its total) still logs its line and writes its steps_per_sec point; a sweep that fails writes no final point."""
  lines = []  # what absl's logging.info is given (caplog misses absl records once another test set absl's verbosity)
  monkeypatch.setattr(writers.logging, "info", lambda fmt, *args: lines.append(fmt % args))
  with writers.Writers(tmp_path / "short", _cfg("events"), total_steps=100) as w:
    w.advance(3)  # well inside the 20 s interval: nothing yet
    assert not lines
  assert len(lines) == 1 and lines[0].startswith("progress: 3/100 row steps this run (3%)"), lines
  assert [s for s, _ in _read(tmp_path / "short" / "tb")["steps_per_sec"]] == [3]
  with pytest.raises(RuntimeError), writers.Writers(tmp_path / "failed", _cfg("events"), total_steps=100) as w:
    w.advance(3)
    raise RuntimeError("a row failed")
  assert "steps_per_sec" not in _read(tmp_path / "failed" / "tb")


def test_default_writer_keeps_tensorflow_out_of_the_process(tmp_path):
  """What the default buys: a run that writes TensorBoard events never imports TensorFlow (clu's writer does)."""
  code = (
    "import sys, pathlib; from ml_collections import ConfigDict; from tailjax.training import writers\n"
    "cfg = ConfigDict({'output': {'tensorboard': True, 'tensorboard_writer': sys.argv[2]}})\n"
    "with writers.Writers(pathlib.Path(sys.argv[1]), cfg, 10) as w:\n"
    "  with w.row('B4', ['lr=0.1']) as lanes: lanes[0].write_scalars(1, {'loss': 1.0})\n"
    "print('tensorflow' in sys.modules)"
  )
  run = lambda writer: subprocess.run(
    [sys.executable, "-c", code, str(tmp_path / writer), writer], cwd=REPO, capture_output=True, text=True, check=True
  ).stdout.split()[-1]
  assert run("events") == "False"
  assert run("clu") == "True"  # the check can fail: clu's writer does import it


@pytest.mark.parametrize("bad", ["tensorflow", "Clu", ""])
def test_unknown_writer_is_one_clear_error(bad):
  from configs import quickstart
  from tailjax import validate
  from tailjax.errors import UserError

  c = quickstart.get_config()
  c.output.tensorboard_writer = bad
  with pytest.raises(UserError, match="output.tensorboard_writer must be one of events, clu"):
    validate.config(c)
