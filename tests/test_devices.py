"""Several devices and several processes: lanes sharded over emulated CPU devices, batches split over them, rows on
disjoint device groups, rows divided among processes.

Each test runs in subprocesses, because the device count is fixed when jax starts."""

import csv
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.conftest import REPO

FOUR_DEVICES = textwrap.dedent(
  """
  import json, sys
  import jax, numpy as np
  from tests.conftest import tiny_config, task_of
  from tailjax import experiment
  from tailjax.training import checkpoint, engine
  from tailjax.training.lane_grid import Lanes, lane_table, pad_lanes

  assert len(jax.local_devices()) == 4, jax.local_devices()
  out = {}

  # Two rows of 6 lanes (3 LRs x 2 seeds) on 1 device, and on 2 devices per row: each row's lanes split over a pair
  # of devices, the two rows training at the same time on disjoint pairs. (Padding and checkpoints: below.)
  cfg = tiny_config()
  cfg.sweep.batch_sizes = (4, 8)
  cfg.sweep.learning_rates = (1e-3, 3e-3, 1e-2)
  cfg.sweep.seeds = (0, 1)
  cfg.sweep.batch_devices = 1  # lanes only: the batch split is below
  for n in (1, 2):
    cfg.sweep.devices = n
    experiment.run(cfg, sys.argv[1] + f"/dev{n}")
  out["devices_of_row"] = {
    b: json.load(open(sys.argv[1] + f"/dev2/rows/B{b}.json"))["devices"] for b in cfg.sweep.batch_sizes
  }

  # The CPU default: every batch split over the devices (4 here), lanes on none.
  cfg.sweep.devices, cfg.sweep.batch_devices, cfg.sweep.batch_sizes, cfg.sweep.seeds = 0, 0, (8,), (0,)
  experiment.run(cfg, sys.argv[1] + "/split")  # compared with dev1's rows of B = 8, seed 0
  cfg.sweep.batch_devices, cfg.sweep.devices = 1, 1
  out["devices_of_split_row"] = json.load(open(sys.argv[1] + "/split/rows/B8.json"))["devices"]

  # A row of 3 lanes at B = 8 on a 2 x 2 mesh (lanes padded to 4 over 2 devices, each batch over 2) against one
  # device, one chunk with clipping active: the same steps, to float rounding.
  task = task_of(cfg)
  table3 = lane_table((1e-3, 3e-3, 1e-2), (0.5,), 0.01, (0,))
  runs = {}
  for lanes_on, split in ((1, 1), (2, 2)):
    row = engine.Row.create(cfg, task, 8, lanes_on, batch_devices=split)
    lanes = row.shard(Lanes.from_table(pad_lanes(table3, lanes_on)))
    vb = row.replicate(task.validation_batches(2, 4))
    state, metrics, val = row.run_chunk(row.init_state(lanes), lanes, row.replicate(task.train_data), vb, 10)
    runs[split] = jax.device_get(({k: v[:, :3] for k, v in metrics.items()}, val[:3], jax.tree.leaves(state.params)))
  out["mesh_shape"] = dict(row.mesh.shape)
  # what the noise measurement gets: the lanes on one device of each lane block, not copies on every batch device
  out["lanes_only_devices"] = sorted(str(d) for d in jax.tree.leaves(row.lanes_only(state.params))[0].devices())
  (m1, v1, p1), (m2, v2, p2) = runs[1], runs[2]
  rel = lambda k, steps: float(np.max(np.abs(m1[k][steps] - m2[k][steps]) / np.abs(m1[k][steps])))
  out["split_first_step_rel"] = max(rel(k, slice(0, 1)) for k in ("loss", "grad_norm"))  # the same parameters
  out["split_metrics_rel"] = max(rel(k, slice(None)) for k in ("loss", "grad_norm"))
  out["split_clipped_equal"] = bool(np.array_equal(m1["clipped"], m2["clipped"])) and bool(m1["clipped"].any())
  out["split_val_rel"] = float(np.max(np.abs(v1 - v2) / v1))
  out["split_params_rel"] = max(float(np.linalg.norm(a[:3] - b[:3]) / np.linalg.norm(a[:3])) for a, b in zip(p1, p2))

  # 6 lanes on 4 devices (padded to 8). Checkpoints hold the real lanes only: saved on 4 devices, a row resumes on 4
  # or on 1.
  table = lane_table((1e-3, 3e-3, 1e-2), (None,), 0.01, (0, 1))

  def row_on(devices):
    row = engine.Row.create(cfg, task, 4, devices)
    lanes = row.shard(Lanes.from_table(pad_lanes(table, devices)))
    return row, lanes, row.replicate(task.train_data), row.replicate(task.validation_batches(2, 4))

  row4, lanes4, tok4, vb4 = row_on(4)
  state = row4.init_state(lanes4)
  out["param_sharding"] = str(jax.tree.leaves(state.params)[0].sharding.spec)
  out["lanes_padded"] = lanes4.size
  state, _, _ = row4.run_chunk(state, lanes4, tok4, vb4, 10)
  ckpt = checkpoint.RowCheckpoints(sys.argv[1] + "/ckpt", 2)
  ckpt.save(10, row4.real_lanes(state, 6), {"x": np.zeros(1)})
  straight, _, val_straight = row4.run_chunk(state, lanes4, tok4, vb4, 10)
  for devices in (4, 1):
    row, lanes, tok, vb = row_on(devices)
    step, restored, _ = ckpt.restore_latest(row.checkpoint_template(lanes, 6))
    _, _, val = row.run_chunk(row.padded_lanes(restored, lanes.size), lanes, tok, vb, 10)
    out[f"resumed_on_{devices}"] = [float(v) for v in jax.device_get(val)[:6]]
  out["straight"] = [float(v) for v in jax.device_get(val_straight)[:6]]
  print("RESULT " + json.dumps(out))
  """
)


def test_a_row_uses_at_most_one_device_per_lane_and_pads_to_a_multiple():
  import jax

  from tailjax.training.lane_grid import lane_devices, lane_table, pad_lanes

  n = len(jax.local_devices())
  assert lane_devices(3, 0) == min(3, n) and lane_devices(100, 2) == min(2, n)
  table = lane_table((1e-3, 1e-2, 0.1), (None,), 0.0, (0, 1))
  padded = pad_lanes(table, 4)
  assert len(padded) == 8 and padded[:6] == table and padded[6:] == [table[-1]] * 2
  assert pad_lanes(table, 3) == table


def test_a_batch_splits_over_the_largest_divisor_that_fits(monkeypatch):
  import jax

  from tailjax.training.lane_grid import batch_devices

  assert batch_devices(32, 2, 2) == 2 and batch_devices(12, 8, 8) == 6 and batch_devices(7, 2, 2) == 1
  assert batch_devices(32, 4, 2) == 2  # never more than there are devices
  assert batch_devices(4, 8, 8) == 4  # nor than examples
  # auto: on a CPU the devices the lanes leave; on an accelerator 1 (its devices take lanes)
  assert batch_devices(32, 0, 4) == 4 and batch_devices(32, 0, 4, lane_devices_wanted=2) == 2
  monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
  assert batch_devices(32, 0, 4) == 1 and batch_devices(32, 2, 4) == 2


def test_the_command_line_starts_cpu_devices_unless_told_otherwise(monkeypatch):
  from tailjax.training import distributed
  from tests.conftest import tiny_config

  monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
  assert distributed.start_cpu_devices(tiny_config()) == 0  # the user's count stands
  monkeypatch.delenv("XLA_FLAGS")
  one = tiny_config()
  one.sweep.batch_devices = 1
  assert distributed.start_cpu_devices(one) == 0  # one device asked for: nothing to start
  several = tiny_config()
  several.distributed.coordinator, several.distributed.num_processes, several.distributed.process_id = "h:1", 2, 0
  assert distributed.start_cpu_devices(several) == 0  # several processes: jax.distributed decides


def _rows(path):
  with open(path) as f:
    return list(csv.DictReader(f))


def _same_results(a, b, rtol):
  """Equal row by row: exact in every column but the measured floats, which agree to `rtol`."""
  assert len(a) == len(b)
  for x, y in zip(a, b, strict=True):
    for k in x:
      if x[k] == y[k]:
        continue
      np.testing.assert_allclose(float(x[k]), float(y[k]), rtol=rtol, err_msg=k)


@pytest.fixture(scope="module")
def four_devices(tmp_path_factory):
  """FOUR_DEVICES run once (one jax start with 4 emulated devices): (its RESULT, its folder)."""
  tmp_path = tmp_path_factory.mktemp("four")
  env = dict(os.environ)
  env["XLA_FLAGS"] = env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
  r = subprocess.run([sys.executable, "-c", FOUR_DEVICES, str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                     text=True, timeout=600)  # fmt: skip
  assert r.returncode == 0, r.stderr[-3000:]
  return __import__("json").loads(r.stdout.split("RESULT ")[-1]), tmp_path


def test_lanes_sharded_over_emulated_devices_match_one_device(four_devices):
  out, tmp_path = four_devices
  assert out["param_sharding"] == "P('lanes',)"
  assert out["lanes_padded"] == 8
  # XLA compiles a partitioned program differently from a single-device one (fusions, reduction order), so the
  # floats agree to rounding, not bit for bit; the lanes' results are the same computation.
  one = _rows(tmp_path / "dev1" / "results.csv")
  _same_results(one, _rows(tmp_path / "dev2" / "results.csv"), rtol=2e-5)
  by_row = out["devices_of_row"]
  assert len(by_row["4"]) == len(by_row["8"]) == 2 and not set(by_row["4"]) & set(by_row["8"])
  np.testing.assert_array_equal(out["resumed_on_4"], out["straight"])  # same devices: bit for bit
  np.testing.assert_allclose(out["resumed_on_1"], out["straight"], rtol=2e-5)


def test_a_batch_split_over_devices_is_the_same_run(four_devices):
  """Each lane's batch split over devices (`sweep.batch_devices`, the CPU default), gradients averaged: the same
  losses, gradient norms, clipping decisions and parameters as on one device, to float rounding (the halves are
  summed in another order)."""
  out, tmp_path = four_devices
  assert len(out["devices_of_split_row"]) == 4  # 2 lanes (B = 8), each batch over all 4 devices
  # 20 steps of Adam amplify the rounding of near-zero gradients (m/√v), so later steps agree to 1e-4, not 1e-6
  ref = [r for r in _rows(tmp_path / "dev1" / "results.csv") if r["batch_size"] == "8" and r["seed"] == "0"]
  split = _rows(tmp_path / "split" / "results.csv")
  assert len(split) == 3
  _same_results(ref, split, rtol=1e-4)
  assert out["mesh_shape"] == {"lanes": 2, "batch": 2}
  assert out["split_first_step_rel"] < 1e-6, out  # one step from equal parameters: the same mean gradient
  assert out["split_metrics_rel"] < 1e-4 and out["split_val_rel"] < 1e-4 and out["split_params_rel"] < 1e-3, out
  assert out["split_clipped_equal"], "clipping must trigger, and on the same steps"
  assert len(out["lanes_only_devices"]) == 2, out["lanes_only_devices"]  # one per lane block


def _free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


TWO_PROCESSES = textwrap.dedent(
  """
  import sys
  from tests.conftest import tiny_config
  from tailjax import experiment

  cfg = tiny_config()
  cfg.sweep.batch_sizes = (4, 8)
  cfg.sweep.learning_rates = (1e-3, 1e-2)
  cfg.checkpoint.every = 10
  if len(sys.argv) > 2:  # coordinator address, process id
    cfg.distributed.coordinator, cfg.distributed.num_processes = sys.argv[2], 2
    cfg.distributed.process_id = int(sys.argv[3])
  from absl import logging
  logging.use_absl_handler()
  logging.set_verbosity(logging.INFO)
  experiment.run(cfg, sys.argv[1])
  """
)


def test_two_processes_divide_the_rows_and_process_0_merges(tmp_path):
  wd, port = tmp_path / "two", _free_port()
  procs = [
    subprocess.Popen(
      [sys.executable, "-c", TWO_PROCESSES, str(wd), f"localhost:{port}", str(i)],
      cwd=REPO,
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    for i in (0, 1)
  ]
  # The single-process reference, run while the two do.
  one = subprocess.run(
    [sys.executable, "-c", TWO_PROCESSES, str(tmp_path / "one")], cwd=REPO, capture_output=True, text=True
  )
  logs = [p.communicate(timeout=600)[1] for p in procs]
  assert one.returncode == 0, one.stderr[-3000:]
  assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
  # Row 4 on process 0, row 8 on process 1 (each checkpointed alone); one results.csv, the same as one process's.
  assert "B4: 2 lanes" in logs[0] and "B8: 2 lanes" not in logs[0]
  assert "B8: 2 lanes" in logs[1] and "process 1: rows [8] done" in logs[1]
  assert (wd / "results.csv").read_text() == (tmp_path / "one" / "results.csv").read_text()
