"""Automatic LR-grid extension: a censored optimum is chased beyond the grid until it is bracketed."""

import csv
import json
import math

import numpy as np
import pytest

from tailjax import experiment
from tailjax.analysis import extend, scaling
from tests.conftest import tiny_config

GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)  # the study's Phase 2.5 grid, ratio ~3.16


def surface(lr, lr_star, noise, rng):
  """A loss that is a parabola in ln LR with its minimum at lr_star, plus Gaussian noise."""
  return 2.0 + 0.05 * (math.log(lr) - math.log(lr_star)) ** 2 + rng.normal(0, noise)


def chase(lr_star, max_rounds=6, noise=0.002, seed=0):
  """Runs the extension loop against the synthetic surface; returns (rows, rounds used)."""
  rng = np.random.default_rng(seed)
  ratio = math.exp(math.log(GRID[-1] / GRID[0]) / (len(GRID) - 1))
  lrs, rows = list(GRID), []
  for k in range(max_rounds + 1):
    rows += [{"batch_size": 64, "lr": lr, "final_val_loss": surface(lr, lr_star, noise, rng)} for lr in lrs]
    plan = extend.next_points(rows, ratio, 2)
    if plan is None:
      return rows, k
    lrs, _ = plan
  return rows, None


@pytest.mark.parametrize("lr_star", [0.05, 0.3, 2e-5])
def test_an_optimum_beyond_the_grid_is_found_and_bracketed(lr_star):
  rows, rounds = chase(lr_star)
  assert rounds is not None and rounds >= 1
  (opt,) = scaling.optima(rows)
  assert opt["censored"] is None
  lrs = opt["grid"]
  assert lrs[0] < opt["lr_opt"] < lrs[-1]
  # the refined optimum lies within half a grid step of the truth
  assert abs(math.log(opt["lr_opt"]) - math.log(lr_star)) < 0.5 * math.log(3.17)


def test_an_optimum_inside_the_grid_adds_nothing():
  rows, rounds = chase(1e-3)
  assert rounds == 0 and len(rows) == len(GRID)


def test_too_few_rounds_leave_a_bound_that_the_fit_does_not_use():
  rows, rounds = chase(10.0, max_rounds=1)
  assert rounds is None
  (opt,) = scaling.optima(rows)
  assert opt["censored"] == "high"
  fit = scaling.fit(rows, {}, n_boot=10)
  assert fit.beta is None and fit.n_bracketed == 0


def test_a_diverged_point_brackets_the_optimum():
  rows = [{"batch_size": 8, "lr": lr, "final_val_loss": 3.0 - lr} for lr in (0.1, 0.3)]
  assert extend.next_points(rows, 3.0, 1) == ([0.9], "optimum at the top edge (0.3)")
  rows.append({"batch_size": 8, "lr": 0.9, "final_val_loss": float("nan")})  # diverged
  assert extend.next_points(rows, 3.0, 1) is None


def test_every_lane_diverged_extends_downwards_and_settings_are_separate():
  nan = float("nan")
  rows = [{"batch_size": 8, "lr": lr, "final_val_loss": nan, "clip": None} for lr in (0.1, 1.0)]
  rows += [{"batch_size": 8, "lr": 0.1, "final_val_loss": 1.0, "clip": 1.0}]
  rows += [{"batch_size": 8, "lr": 1.0, "final_val_loss": 2.0, "clip": 1.0}]  # clip 1.0: censored low as well
  new, why = extend.next_points(rows, 10.0, 2)
  assert new == [0.001, 0.01] and "bottom edge" in why


def _read(path):
  with open(path) as f:
    return list(csv.DictReader(f))


def test_sweep_extends_a_censored_row_and_resumes_without_retraining(tmp_path):
  c = tiny_config()
  c.train.steps = 30
  c.sweep.learning_rates = (1e-4, 3e-4)  # far below the optimum of a 30-step run
  c.sweep.auto_extend = True
  c.sweep.extend_ratio = 10.0
  c.sweep.max_extensions = 3
  fit = experiment.run(c, tmp_path)
  (opt,) = fit["per_batch_size"]
  assert opt["censored"] is None and opt["lr_opt_grid"] > 3e-4
  rows = _read(tmp_path / "results.csv")
  origins = [r["origin"] for r in rows]
  assert origins[:2] == ["grid", "grid"]
  assert all(o.startswith("auto-extension round") and "top edge" in o for o in origins[2:]) and len(rows) > 2
  assert [float(r["lr"]) for r in rows][2:4] == [3e-3, 3e-2]  # the grid's last point times 10, 100
  assert (tmp_path / "rows" / "B4.ext1.json").exists()
  # A rerun plans the same rounds from the saved parts and trains nothing.
  before = (tmp_path / "results.csv").read_text()
  assert experiment.run(c, tmp_path)["per_batch_size"] == fit["per_batch_size"]
  assert (tmp_path / "results.csv").read_text() == before
  assert json.loads((tmp_path / "scaling_fit.json").read_text())["n_bracketed"] == 1


def test_a_row_that_learned_nothing_is_not_chased_into_the_noise():
  # SGD at too small LRs: every loss sits at ln 10 to within noise, and the "argmin" at the bottom edge is noise.
  # Found in a real run (Phase 3c MLP with SGD), where extension went downwards three rounds.
  ln_v = math.log(10)
  rows = [{"batch_size": 32, "lr": lr, "final_val_loss": ln_v + 1e-4 * k, "ln_vocab": ln_v}
          for k, lr in enumerate(GRID)]  # fmt: skip
  (opt,) = scaling.optima(rows)
  assert opt["censored"] == "learned_nothing"
  new, why = extend.next_points(rows, 3.16, 2)
  assert min(new) > GRID[-1] and "learned nothing" in why
  fit = scaling.fit(rows, {"ln_vocab": ln_v}, n_boot=10)
  assert fit.n_bracketed == 0 and "learned nothing at any LR" in fit.verdict
  # ... unless the top LR already diverged: then there is nothing to try
  rows[-1]["final_val_loss"] = float("nan")
  assert extend.next_points(rows, 3.16, 2) is None
