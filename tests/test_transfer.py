"""The transfer test: predicted learning rates become lanes, and the report measures their loss gap."""

import csv
import json

import pytest

from tailjax import experiment
from tailjax.errors import UserError
from tests.conftest import tiny_config


def _reference(tmp_path, cfg=None, beta_ci=(0.3, 0.5)):
  ref = tmp_path / "ref"
  ref.mkdir()
  fit = {
    "beta": 0.4,
    "beta_ci": list(beta_ci) if beta_ci else None,
    "verdict": "made by hand",
    "per_batch_size": [
      {"batch_size": 4, "lr_opt": 0.01, "censored": None, "best_loss": 3.0},
      {"batch_size": 8, "lr_opt": 0.013, "censored": None, "best_loss": 2.9},
      {"batch_size": 16, "lr_opt": 0.1, "censored": "high", "best_loss": 2.5},
    ],
  }
  (ref / "scaling_fit.json").write_text(json.dumps(fit))
  if cfg is not None:
    (ref / "config.json").write_text(cfg.to_json_best_effort())
  return ref / "scaling_fit.json"


def test_each_rule_is_a_lane_and_the_gap_is_measured(tmp_path):
  c = tiny_config()
  c.sweep.batch_sizes = (4, 8)
  c.transfer.fit = str(_reference(tmp_path, tiny_config()))
  rep = experiment.run(c, tmp_path / "run")
  with open(tmp_path / "run" / "results.csv") as f:
    rows = list(csv.DictReader(f))
  lrs = {(int(r["batch_size"]), float(r["lr"])) for r in rows}
  # B_ref = 4 (smallest bracketed): every rule predicts LR_ref there, so that row has one lane
  assert {lr for b, lr in lrs if b == 4} == {0.01}
  assert sorted(lr for b, lr in lrs if b == 8) == pytest.approx(
    sorted(0.01 * 2**e for e in (0.4, 0.5, 2 / 3)), rel=1e-5
  )
  assert all(r["origin"] == "transfer" for r in rows)
  assert rep["b_ref"] == 4 and len(rep["per_point"]) == 6
  for p in rep["per_point"]:
    losses = [float(r["final_val_loss"]) for r in rows if int(r["batch_size"]) == p["batch_size"]
              and float(r["lr"]) == p["lr"]]  # fmt: skip
    assert p["loss"] == pytest.approx(losses[0]) and p["gap"] == pytest.approx(losses[0] - p["reference_best_loss"])
  assert json.loads((tmp_path / "run" / "transfer.json").read_text())["lr_ref"] == 0.01
  assert "transfer from B_ref = 4" in (tmp_path / "run" / "summary.txt").read_text()


def test_bad_references_are_refused(tmp_path):
  c = tiny_config()
  c.transfer.fit = str(tmp_path / "nope.json")
  with pytest.raises(UserError, match="is not a file"):
    experiment.run(c, tmp_path / "a")
  other = tiny_config()
  other.model.d_model = 32
  c.transfer.fit = str(_reference(tmp_path, other))
  with pytest.raises(UserError, match="model.d_model"):
    experiment.run(c, tmp_path / "b")
  (tmp_path / "ref" / "config.json").unlink()
  c.transfer.b_ref = 16  # censored in the reference: not a point to transfer from
  with pytest.raises(UserError, match="no bracketed optimum"):
    experiment.run(c, tmp_path / "c")


def test_a_beta_without_interval_is_no_rule_and_censored_references_are_marked(tmp_path):
  c = tiny_config()
  c.sweep.batch_sizes = (4, 16)
  c.transfer.fit = str(_reference(tmp_path, tiny_config(), beta_ci=None))
  rep = experiment.run(c, tmp_path / "run")
  assert {p["rule"] for p in rep["per_point"]} == {"sqrt (beta=0.5)", "two_thirds (beta=0.667)"}
  summary = (tmp_path / "run" / "summary.txt").read_text()
  assert "the fitted-β rule is left out: the reference's β = 0.400 has no interval" in summary
  b16 = [line for line in summary.splitlines() if line.strip().startswith("16 ") and "beta=" in line]
  assert b16 and all("CENSORED (high): its best is a bound" in line for line in b16)


def test_a_reference_that_is_not_json_is_one_clear_error(tmp_path):
  c = tiny_config()
  bad = tmp_path / "results.csv"
  bad.write_text("batch_size,lr,final_val_loss\n4,0.01,3.0\n")
  c.transfer.fit = str(bad)
  with pytest.raises(UserError, match="is not a scaling_fit.json"):
    experiment.run(c, tmp_path / "a")
