"""The engine: a lane of a row is the single run with that LR; LRs order the step; divergence stays in its lane."""

import json
import os
import pathlib

import jax
import numpy as np
import pytest

from tailjax.training import engine, optim
from tailjax.training.lane_grid import lane_table
from tests.conftest import run_row, task_of

GOLDEN = pathlib.Path(__file__).parent / "golden" / "one_step.json"


def lanes(lrs, clip=1.0, seeds=(0,)):
  return lane_table(lrs, (clip,), 0.01, seeds)


@pytest.mark.parametrize("strategy", ["map", "vmap"])
def test_lane_of_row_equals_single_run(tiny, strategy):
  tiny.sweep.lane_strategy = strategy
  lrs = (3e-4, 1e-3, 3e-3)
  row_m, row_val, _ = run_row(tiny, lanes(lrs), 25)
  for r, lr in enumerate(lrs):
    one_m, one_val, _ = run_row(tiny, lanes((lr,)), 25)
    np.testing.assert_allclose(row_m["loss"][:, r], one_m["loss"][:, 0], rtol=1e-5)
    np.testing.assert_allclose(row_m["grad_norm"][:, r], one_m["grad_norm"][:, 0], rtol=1e-5)
    np.testing.assert_allclose(row_val[r], one_val[0], rtol=1e-5)
  # Different LRs really are different runs.
  assert not np.allclose(row_m["loss"][-1, 0], row_m["loss"][-1, 2])


def test_map_and_vmap_compute_the_same_function(tiny):
  table = lanes((1e-3, 1e-2), seeds=(0, 1))
  tiny.sweep.lane_strategy = "map"
  m_map, v_map, _ = run_row(tiny, table, 15)
  tiny.sweep.lane_strategy = "vmap"
  m_vmap, v_vmap, _ = run_row(tiny, table, 15)
  for k in engine.METRICS:
    np.testing.assert_allclose(m_map[k], m_vmap[k], rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(v_map, v_vmap, rtol=1e-5)


def test_equal_seeds_share_init_and_batches_different_seeds_do_not(tiny):
  m, _, _ = run_row(tiny, lanes((1e-3,), seeds=(0, 1, 0)), 3)
  np.testing.assert_array_equal(m["loss"][:, 0], m["loss"][:, 2])
  assert not np.allclose(m["loss"][:, 0], m["loss"][:, 1])


def test_one_step_moves_parameters_monotonically_in_lr(tiny):
  corpus_lrs = (0.0, 1e-3, 1e-2)
  _, _, s0 = run_row(tiny, lanes(corpus_lrs), 0)
  _, _, s1 = run_row(tiny, lanes(corpus_lrs), 1)
  delta_R = jax.vmap(optim.global_norm)(jax.tree.map(lambda a, b: a - b, s1.params, s0.params))
  moved = [float(d) for d in delta_R]
  assert moved[0] == 0.0
  assert 0.0 < moved[1] < moved[2]
  assert moved[2] / moved[1] == pytest.approx(10.0, rel=0.05)  # Adam's first step is ~lr·sign(g)


def test_golden_one_step(tiny):
  """Loss and parameter norm after one step of the tiny model.

  After an intended change to the model, data or optimizer, regenerate with
  `TAILJAX_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_engine.py -k golden` and commit the file.
  """
  m, val, _ = run_row(tiny, lanes((1e-3,)), 1)
  got = {
    "loss": float(m["loss"][0, 0]),
    "grad_norm": float(m["grad_norm"][0, 0]),
    "param_norm": float(m["param_norm"][0, 0]),
    "val_loss": float(val[0]),
  }
  if os.environ.get("TAILJAX_UPDATE_GOLDEN"):
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(got, indent=2) + "\n")
  want = json.loads(GOLDEN.read_text())
  for k, v in want.items():
    assert got[k] == pytest.approx(v, rel=1e-4), k


def test_diverging_lane_is_frozen_and_does_not_touch_the_others(tiny):
  m, val, state = run_row(tiny, lanes((1e-3, 1e30)), 12)
  one_m, one_val, _ = run_row(tiny, lanes((1e-3,)), 12)
  diverged_at = np.asarray(state.diverged_at_R)
  assert diverged_at[0] == -1 and 0 <= diverged_at[1] < 12
  assert bool(state.diverged_R[1]) and not bool(state.diverged_R[0])
  assert np.isnan(m["loss"][diverged_at[1] :, 1]).all() and np.isnan(val[1])
  np.testing.assert_allclose(m["loss"][:, 0], one_m["loss"][:, 0], rtol=1e-6)
  frozen = jax.tree.map(lambda a: np.isfinite(np.asarray(a[1])).all(), state.params)
  assert all(jax.tree.leaves(frozen)), "a frozen lane keeps its last finite parameters"


def test_clip_metrics(tiny):
  m, _, _ = run_row(tiny, lane_table((1e-3,), (None, 1e-6), 0.0, (0,)), 5)
  assert not m["clipped"][:, 0].any()  # no clipping
  assert m["clipped"][:, 1].all()  # a threshold below every gradient norm always fires
  np.testing.assert_array_equal(m["grad_norm"][0, 0], m["grad_norm"][0, 1])  # same pre-clip gradient at step 0


def test_bfloat16_compute_keeps_float32_parameters(tiny):
  m32, _, _ = run_row(tiny, lanes((1e-3,)), 10)
  tiny.model.dtype = "bfloat16"
  m16, val16, s16 = run_row(tiny, lanes((1e-3,)), 10)
  assert all(leaf.dtype == np.float32 for leaf in jax.tree.leaves(s16.params))
  assert np.isfinite(m16["loss"]).all() and np.isfinite(val16).all()
  np.testing.assert_allclose(m16["loss"], m32["loss"], atol=0.05)
  # The matmuls are bf16 in the program. (XLA's CPU backend computes them in float32 and, allowed excess precision,
  # may drop the rounding, so on a CPU the losses can equal float32's; on a GPU they run on bf16 tensor cores.)
  task = task_of(tiny)
  x_BxT = jax.numpy.zeros((4, tiny.data.seq_len), jax.numpy.int32)
  hlo = jax.jit(lambda p: task.loss(p, (x_BxT, x_BxT))).lower(jax.tree.map(lambda a: a[0], s16.params)).as_text()
  bf16_dots = [line for line in hlo.splitlines() if "dot_general" in line and "xbf16>" in line.split("->")[0]]
  assert len(bf16_dots) >= 4, "the attention and MLP matmuls take bf16 operands"


def test_rows_where_every_lane_diverges_are_reported_and_the_sweep_goes_on(tmp_path, tiny):
  import csv

  from tailjax import experiment

  tiny.optim.clip = None
  tiny.sweep.batch_sizes = (4, 8)
  tiny.sweep.learning_rates = (1e30, 1e35)  # parameters overflow float32 within a few steps
  fit = experiment.run(tiny, tmp_path / "wd")
  with open(tmp_path / "wd" / "results.csv") as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 4 and all(r["diverged"] == "True" and int(r["diverged_at"]) >= 0 for r in rows)
  assert [o["censored"] for o in fit["per_batch_size"]] == ["all_diverged", "all_diverged"]
  assert "every lane of B = [4, 8] diverged" in fit["verdict"]
  assert "DIVERGED" in (tmp_path / "wd" / "summary.txt").read_text()
