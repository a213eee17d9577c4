"""Steady-state weight norms: the fit recovers known exponents; a sweep with weight decays as lanes writes the study."""

import csv
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from tailjax import experiment
from tailjax.analysis import weight_norms
from tests.conftest import tiny_config


def synthetic(p, q, r, noise=0.03, seed=0):
  rng = np.random.default_rng(seed)
  rows = []
  for lr in (1e-3, 3e-3, 1e-2):
    for wd in (0.1, 0.3, 1.0):
      for width in (64, 128, 256):
        for b in (16, 64, 256):
          norm = 2.0 * (lr / wd) ** p * width**q * b**r * math.exp(rng.normal(0, noise))
          rows.append({"lr": lr, "weight_decay": wd, "width": width, "batch_size": b, "norm": norm, "steady": True,
                       "kind": "ffn", "optimizer": "adamw", "kosson_prediction": 1.0,
                       "study_predictor": math.sqrt(lr / wd) * width**0.75})  # fmt: skip
  return rows


@pytest.mark.parametrize("truth", [(0.5, 0.75, 0.0), (0.5, 1.0, -0.25), (0.3, 0.5, 0.1)])
def test_fit_recovers_known_exponents_with_intervals_that_cover_them(truth):
  alpha = 1 / (2 * (truth[2] + 0.5))  # the α whose 1/(2α) − 1/2 is the true B exponent
  got = weight_norms.fit(synthetic(*truth), {"ffn": alpha}, n_boot=200)["kinds"]["ffn"]
  for name, true in zip(("ln(lr/wd)", "ln width", "ln B"), truth, strict=True):
    e = got["exponents"][name]
    assert e["ci"][0] <= true <= e["ci"][1] and abs(e["value"] - true) < 0.03, (name, e)
  # the predictions are judged by the interval: the study's ½ and ¾ are inside only when they are the truth
  assert got["exponents"]["ln(lr/wd)"]["predictions"]["study and Kosson"]["inside_ci"] == (truth[0] == 0.5)
  assert got["exponents"]["ln width"]["predictions"]["study"]["inside_ci"] == (truth[1] == 0.75)
  ((_, b_pred),) = got["exponents"]["ln B"]["predictions"].items()
  assert b_pred["inside_ci"] and b_pred["value"] == pytest.approx(truth[2])


def test_lanes_still_moving_are_not_called_steady():
  rows = synthetic(0.5, 0.75, 0.0)
  for r in rows:
    r["steady"] = False
  result = weight_norms.fit(rows, n_boot=20)
  got = result["kinds"]["ffn"]
  assert got["n_steady"] == 0 and "still moving" in got["fitted_on"]
  title = weight_norms.figure(rows, result).axes[0].get_title()  # no steady lane: no steady-state exponent shown
  assert title.startswith("weight norms at the end: no steady state reached") and "∝" not in title
  steady = synthetic(0.5, 0.75, 0.0)
  assert "∝ (η/λ)^0.50" in weight_norms.figure(steady, weight_norms.fit(steady, n_boot=20)).axes[0].get_title()
  assert weight_norms.fit([{**r, "weight_decay": 0.0} for r in rows])["note"].startswith("no lane with weight decay")
  plt.close("all")


def test_sweep_with_weight_decay_lanes_writes_the_norm_study(tmp_path):
  c = tiny_config()
  c.train.steps = 60
  c.eval.every = 20
  c.sweep.learning_rates = (1e-2, 3e-2)
  c.sweep.weight_decays = (0.3, 3.0)
  c.output.plots = True
  experiment.run(c, tmp_path)
  with open(tmp_path / "weight_norms.csv") as f:
    rows = list(csv.DictReader(f))
  with open(tmp_path / "results.csv") as f:
    lanes = list(csv.DictReader(f))
  assert {r["weight_decay"] for r in lanes} == {"0.3", "3.0"} and len(lanes) == 4
  assert {r["kind"] for r in rows} >= {"attention", "ffn", "embedding", "head"}
  assert (tmp_path / "weight_norm_scaling.png").stat().st_size > 0
  # a lane that trained fewer than 3 decay times 1/(ηλ) is never called steady, however little it moved at the end
  assert all(r["steady"] == "False" for r in rows if float(r["decay_timescales"]) < 3)
  assert sorted({round(float(r["decay_timescales"]), 6) for r in rows}) == [0.18, 0.54, 1.8, 5.4]
  fit = json.loads((tmp_path / "weight_norm_fit.json").read_text())
  assert "ffn" in fit["kinds"]
  # more decay, smaller weights: at each lr the λ = 3 lane's decayed matrices end smaller than the λ = 0.3 lane's
  for lr in ("0.01", "0.03"):
    for m in {r["matrix"] for r in rows}:
      norm = {r["weight_decay"]: float(r["norm"]) for r in rows if r["lr"] == lr and r["matrix"] == m}
      assert norm["3.0"] < norm["0.3"], (lr, m, norm)
