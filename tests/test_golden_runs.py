"""Two whole runs through the command line keep their results: the quickstart and the noisy quadratic model's sgd
sweep, both shortened, write the results.csv and scaling_fit.json committed under tests/golden/. A change to the
engine, a task or the analysis that changes what a run computes or writes shows here, file by file and cell by cell.

After an intended change, regenerate with
`TAILJAX_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_runs.py` and commit the files.

On the machine that wrote them the files match digit for digit; numbers are compared to a relative 1e-5 because XLA's
CPU code differs between processor models (vector widths change the order of a sum's terms) and those rounding
differences grow over a run's steps.
"""

import csv
import io
import json
import math
import os
import pathlib
import shutil

import pytest

from tests.conftest import cli

GOLDEN = pathlib.Path(__file__).parent / "golden"
RUNS = {
  "quickstart": ("--config=configs/quickstart.py", "--config.train.steps=60", "--config.eval.every=30",
                 "--config.checkpoint.every=0", "--config.output.plots=False", "--config.output.tensorboard=False"),
  "nqm_sgd": ("--config=configs/nqm.py:sgd", "--config.train.steps=60", "--config.eval.every=30",
              "--config.sweep.batch_sizes=(1,4,16)", "--config.sweep.seeds=(0,1)", "--config.sweep.auto_extend=False",
              "--config.measure.steps=()", "--config.output.plots=False", "--config.output.tensorboard=False"),
}  # fmt: skip
FILES = ("results.csv", "scaling_fit.json")
REL = 1e-5


def _close(want, got, where: str):
  """Equal structure; equal strings; numbers within REL (NaN equals NaN)."""
  if isinstance(want, dict):
    assert isinstance(got, dict) and sorted(want) == sorted(got), f"{where}: keys {sorted(want)} != {sorted(got)}"
    for k in want:
      _close(want[k], got[k], f"{where}.{k}")
  elif isinstance(want, list):
    assert isinstance(got, list) and len(want) == len(got), f"{where}: {want} != {got}"
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
      _close(w, g, f"{where}[{i}]")
  elif isinstance(want, bool) or want is None or isinstance(want, str) and _number(want) is None:
    assert want == got, f"{where}: {want!r} != {got!r}"
  else:
    w, g = _number(want), _number(got)
    assert g is not None, f"{where}: {want!r} != {got!r}"
    assert (math.isnan(w) and math.isnan(g)) or g == pytest.approx(w, rel=REL, abs=1e-12), f"{where}: {w} != {g}"


def _number(v):
  if isinstance(v, (int, float)):
    return float(v)
  try:
    return float(v)
  except (TypeError, ValueError):
    return None


def _read(path: pathlib.Path):
  text = path.read_text()
  return json.loads(text) if path.suffix == ".json" else list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("run", sorted(RUNS))
def test_a_shortened_run_writes_its_golden_results(tmp_path, run):
  r = cli(*RUNS[run], f"--workdir={tmp_path / run}", timeout=600)
  assert r.returncode == 0, r.stderr[-3000:]
  if os.environ.get("TAILJAX_UPDATE_GOLDEN"):
    (GOLDEN / run).mkdir(parents=True, exist_ok=True)
    for name in FILES:
      shutil.copyfile(tmp_path / run / name, GOLDEN / run / name)
  for name in FILES:
    _close(_read(GOLDEN / run / name), _read(tmp_path / run / name), f"{run}/{name}")
