"""Several devices and several processes: lanes sharded over emulated CPU devices, rows on disjoint device groups,
rows divided among processes.

Each test runs in subprocesses, because the device count is fixed when jax starts."""

import csv
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np

from tests.conftest import REPO

FOUR_DEVICES = textwrap.dedent(
  """
  import json, sys
  import jax, numpy as np
  from tests.conftest import tiny_config, corpus_of
  from tailjax.training import checkpoint, engine, sweep
  from tailjax.training.lanes import Lanes, lane_table, pad_lanes
  from tailjax.data import loader, text

  assert len(jax.local_devices()) == 4, jax.local_devices()
  out = {}

  # Two rows of 6 lanes (3 LRs x 2 seeds) on 1 device, and on 2 devices per row: each row's lanes split over a pair
  # of devices, the two rows training at the same time on disjoint pairs. (Padding and checkpoints: below.)
  cfg = tiny_config()
  cfg.sweep.batch_sizes = (4, 8)
  cfg.sweep.learning_rates = (1e-3, 3e-3, 1e-2)
  cfg.sweep.seeds = (0, 1)
  for n in (1, 2):
    cfg.sweep.devices = n
    sweep.run(cfg, sys.argv[1] + f"/dev{n}")
  out["devices_of_row"] = {
    b: json.load(open(sys.argv[1] + f"/dev2/rows/B{b}.json"))["devices"] for b in cfg.sweep.batch_sizes
  }

  # 6 lanes on 4 devices (padded to 8). Checkpoints hold the real lanes only: saved on 4 devices, a row resumes on 4
  # or on 1.
  corpus = corpus_of(cfg)
  table = lane_table((1e-3, 3e-3, 1e-2), (None,), 0.01, (0, 1))

  def row_on(devices):
    row = engine.Row.create(cfg, corpus.vocab_size, 4, devices)
    lanes = row.shard(Lanes.from_table(pad_lanes(table, devices)))
    return row, lanes, row.replicate(corpus.train_T), row.replicate(text.eval_windows(corpus.val_T, 2, 4, 16))

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

  from tailjax.training.lanes import lane_devices, lane_table, pad_lanes

  n = len(jax.local_devices())
  assert lane_devices(3, 0) == min(3, n) and lane_devices(100, 2) == min(2, n)
  table = lane_table((1e-3, 1e-2, 0.1), (None,), 0.0, (0, 1))
  padded = pad_lanes(table, 4)
  assert len(padded) == 8 and padded[:6] == table and padded[6:] == [table[-1]] * 2
  assert pad_lanes(table, 3) == table


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


def test_lanes_sharded_over_emulated_devices_match_one_device(tmp_path):
  env = dict(os.environ)
  env["XLA_FLAGS"] = env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
  r = subprocess.run([sys.executable, "-c", FOUR_DEVICES, str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                     text=True, timeout=600)  # fmt: skip
  assert r.returncode == 0, r.stderr[-3000:]
  out = __import__("json").loads(r.stdout.split("RESULT ")[-1])
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


def _free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


TWO_PROCESSES = textwrap.dedent(
  """
  import sys
  from tests.conftest import tiny_config
  from tailjax.training import sweep

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
  sweep.run(cfg, sys.argv[1])
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
