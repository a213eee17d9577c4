"""compare_runs: finished sweeps side by side, named by what differs, with the weight norms pooled over widths."""

import csv
import json
import subprocess
import sys

from tailjax import experiment
from tests.conftest import REPO, tiny_config


def test_two_widths_compared_and_the_width_exponent_fitted(tmp_path):
  for width in (16, 32):
    c = tiny_config()
    c.model.d_model = width
    c.train.steps = 30
    c.eval.every = 15
    c.sweep.learning_rates = (1e-2, 3e-2)
    c.sweep.weight_decays = (0.3, 3.0)
    experiment.run(c, tmp_path / f"d{width}")
  out = tmp_path / "cmp"
  r = subprocess.run(
    [sys.executable, "-m", "tailjax.compare_runs", f"--out={out}", str(tmp_path / "d16"), str(tmp_path / "d32")],
    cwd=REPO,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert r.returncode == 0, r.stderr[-2000:]
  with open(out / "runs.csv") as f:
    runs = list(csv.DictReader(f))
  assert [x["run"] for x in runs] == ["d_model=16", "d_model=32"]
  with open(out / "lr_opt.csv") as f:
    per_b = list(csv.DictReader(f))
  # each weight-decay setting of a run (lanes of one program) is its own grid, so its own line
  assert [(x["run"], x["batch_size"]) for x in per_b] == [
    (f"d_model={w} (wd = {wd})", "4") for w in (16, 32) for wd in ("0.3", "3")
  ]
  assert (out / "lr_opt_by_run.png").stat().st_size > 0
  fit = json.loads((out / "weight_norm_fit.json").read_text())
  # widths vary across the runs, so the width exponent is fitted there (within one run it cannot be)
  assert "ln width" in fit["kinds"]["ffn"]["exponents"]
  one = json.loads((tmp_path / "d16" / "weight_norm_fit.json").read_text())
  assert "ln width" not in one["kinds"]["ffn"]["exponents"]


def test_a_folder_that_is_not_a_run_is_one_clear_error(tmp_path):
  r = subprocess.run(
    [sys.executable, "-m", "tailjax.compare_runs", f"--out={tmp_path / 'o'}", str(tmp_path)],
    cwd=REPO,
    capture_output=True,
    text=True,
    timeout=120,
  )
  assert r.returncode != 0 and "pass the workdirs of finished sweeps" in r.stderr and "Traceback" not in r.stderr


def test_power_law_share_counts_verdicts_at_the_last_measurement():
  from tailjax.analysis import compare_runs

  v = lambda step, group, category: {"step": str(step), "group": group, "category": category}
  rows = [v(100, "all ffn", "power law"), v(200, "all ffn", "power law"), v(200, "all ffn", "power law with cut-off"),
          v(200, "all ffn", "no plateau"), v(200, "block_0/mlp/fc", "power law")]  # fmt: skip
  assert compare_runs.power_law_share(rows) == {"power_law_verdicts_ffn": "1/3"}
