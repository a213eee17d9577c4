"""LR_opt per batch size and the power-law fit, with edge optima treated as bounds."""

import math

import pytest

from tailjax import scaling

FP = {"ln_vocab": math.log(65), "unigram_entropy": 3.3}
GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def rows_with_optimum(b, lr_opt, seeds=(0,), diverge_above=None):
  out = []
  for lr in GRID:
    for s in seeds:
      loss = 2.0 + (math.log(lr) - math.log(lr_opt)) ** 2 + 0.01 * s
      if diverge_above is not None and lr > diverge_above:
        loss = float("nan")
      out.append({"batch_size": b, "lr": lr, "seed": s, "final_val_loss": loss})
  return out


def test_recovers_exponent_from_bracketed_optima():
  rows = rows_with_optimum(16, 3e-4) + rows_with_optimum(144, 3e-3)  # ratio 9 in B, 10 in LR
  fit = scaling.fit(rows, FP)
  assert fit["n_bracketed"] == 2
  assert fit["beta"] == pytest.approx(math.log(10) / math.log(9))
  assert [o["censored"] for o in fit["per_batch_size"]] == [None, None]


def test_edge_optimum_is_a_bound_and_leaves_the_fit():
  rows = rows_with_optimum(32, 3e-4, seeds=(0, 1)) + rows_with_optimum(64, 1e-3) + rows_with_optimum(256, 1e-1)
  fit = scaling.fit(rows, FP)
  by_b = {o["batch_size"]: o for o in fit["per_batch_size"]}
  assert by_b[256]["censored"] == "high" and by_b[256]["lr_opt"] == 1e-2
  assert fit["n_bracketed"] == 2
  assert fit["beta"] == pytest.approx(math.log(1e-3 / 3e-4) / math.log(2))
  assert fit["naive_fit_all_argmins"]["n"] == 3  # the study's method, kept apart and labelled
  assert "bounds" in fit["verdict"]


def test_low_edge_diverged_and_too_few_points():
  rows = rows_with_optimum(8, 1e-5) + rows_with_optimum(16, 1e-3, diverge_above=0)
  fit = scaling.fit(rows, FP)
  by_b = {o["batch_size"]: o for o in fit["per_batch_size"]}
  assert by_b[8]["censored"] == "low"
  assert by_b[16]["censored"] == "all_diverged"
  assert fit["beta"] is None and "no fit" in fit["verdict"]


def test_diverged_lane_never_wins():
  rows = rows_with_optimum(32, 1e-3, diverge_above=2e-3)
  (opt,) = scaling.optima(rows)
  assert opt["lr_opt"] == 1e-3 and opt["censored"] is None


def test_clip_lanes_are_separate_grids():
  low_clip = [{**r, "clip": 0.01} for r in rows_with_optimum(32, 1e-2 * 3) + rows_with_optimum(64, 1e-3)]
  no_clip = [{**r, "clip": None} for r in rows_with_optimum(32, 3e-4) + rows_with_optimum(64, 1e-3)]
  fit = scaling.fit(no_clip + low_clip, FP)
  assert [f["clip"] for f in fit["by_clip"]] == [None, 0.01]
  none_fit, low_fit = fit["by_clip"]
  assert [o["lr_opt"] for o in none_fit["per_batch_size"]] == [3e-4, 1e-3]
  assert low_fit["per_batch_size"][0]["censored"] == "high"  # not averaged with the other clip's losses
  assert fit["beta"] == none_fit["beta"]
