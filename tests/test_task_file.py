"""A model added in one file: this test file is itself a task file (the names tasks/quadratic.py defines), registered
by `tasks.register` and trained by name through the registry, from Python and from the command line, exactly as a
built-in model is.

The task: least squares y = x·w* + σε on Gaussian inputs. Its reference losses are known in closed form: L(0) =
(|w*|² + σ²)/2 where a lane that never moved stays, and the noise floor σ²/2 that no estimate of w can beat on
fresh data.
"""

import csv
import json

import numpy as np
import pytest

from tests.conftest import REPO, cli

# The task file: what `tasks.register` reads.
MODELS = ("least_squares",)
DATA = ("gaussian_regression",)
WHAT = "least squares trains on its own Gaussian regression data"
UNIT = "examples"
CONFIG = "tests/test_task_file.py"
SIGMA, N_TRAIN, N_VAL = 0.1, 2048, 512


def check_model(m) -> None:
  """Any width (model.d_model is the number of inputs)."""


def references(d: int) -> tuple[float, float]:
  """(L(0), σ²/2) for inputs of dimension d (w* = 1/√d in every coordinate: |w*|² = 1)."""
  return (1.0 + SIGMA**2) / 2, SIGMA**2 / 2


def build(cfg):
  import jax.numpy as jnp

  from tailjax.records import Reference
  from tailjax.tasks import base, user

  d = cfg.model.d_model
  rng = np.random.default_rng(0)  # the data is fixed; the lanes' seeds draw its batches
  x_NxD = rng.standard_normal((N_TRAIN + N_VAL, d)).astype(np.float32)
  y_N = (x_NxD @ np.full(d, d**-0.5) + SIGMA * rng.standard_normal(N_TRAIN + N_VAL)).astype(np.float32)
  start, floor = references(d)
  task = base.Task(
    name="gaussian_regression",
    init=lambda key: {"w": jnp.zeros((d,), jnp.float32)},  # every lane starts at w = 0, where L = L(0)
    loss=lambda params, batch: 0.5 * jnp.mean((batch[0] @ params["w"] - batch[1]) ** 2),
    train_data=(x_NxD[:N_TRAIN], y_N[:N_TRAIN]),
    val_data=(x_NxD[N_TRAIN:], y_N[N_TRAIN:]),
    chance_loss=start,
    chance_name="L(0)",
    references=(Reference("noise floor", floor, "σ²/2: the best any w does on fresh data"),),
    loss_unit="half squared error",
    identity=base.config_identity("least_squares", cfg),
  )
  return user.prepare(task, seed=cfg.sweep.seeds[0])


def config():
  """A two-row sweep of least squares, small enough for a few seconds on a CPU."""
  from configs import base

  c = base.get_config()
  c.model.name, c.data.name = MODELS[0], DATA[0]
  c.model.d_model = 8
  c.optim.warmup_steps = 0
  c.train.steps = 150
  c.eval.every = 50
  c.eval.batches = 4
  c.eval.batch_size = 128
  c.checkpoint.every = 0
  c.sweep.batch_sizes = (8, 32)
  c.sweep.learning_rates = (1e-3, 1e-2, 1e-1)
  c.output.tensorboard = False
  c.output.plots = False
  return c


CONFIG_FILE = """
from tailjax import tasks
from tests import test_task_file


def get_config():
  tasks.register("tests.test_task_file")
  return test_task_file.config()
"""


@pytest.fixture(scope="module")
def registered():
  from tailjax import tasks

  tasks.register(__name__)
  return tasks


def test_the_registry_builds_a_registered_task_and_the_sweep_trains_it(registered, tmp_path):
  from tailjax import experiment, validate

  cfg = config()
  validate.config(cfg)  # the registered names are choices now
  experiment.run(cfg, tmp_path)
  rows = list(csv.DictReader((tmp_path / "results.csv").open()))
  assert sorted((int(r["batch_size"]), float(r["lr"])) for r in rows) == [
    (b, lr) for b in (8, 32) for lr in (1e-3, 1e-2, 1e-1)
  ]
  start, floor = references(cfg.model.d_model)
  best = min(float(r["final_val_loss"]) for r in rows)
  # the best lane reaches the noise floor: within the validation set's sampling error of σ²/2 (relative sd
  # √(2/512) = 6%) plus what 150 noisy steps leave of |w - w*|² (measured: 0.00467, 7% below σ²/2 = 0.005: this
  # validation set's noise happens to be small)
  assert floor * 0.8 < best < floor * 1.5
  slow = [float(r["final_val_loss"]) for r in rows if float(r["lr"]) == 1e-3]
  assert all(floor * 1.5 < v < start for v in slow)  # too small a step: between the start and the floor
  facts = json.loads((tmp_path / "data.json").read_text())["facts"]
  assert [ref["name"] for ref in facts["references"]] == ["L(0)", "noise floor"]
  assert "noise floor = 0.005" in (tmp_path / "summary.txt").read_text()


def test_the_command_line_trains_a_registered_task_by_name(tmp_path):
  (tmp_path / "least_squares.py").write_text(CONFIG_FILE)
  r = cli(f"--config={tmp_path / 'least_squares.py'}", f"--workdir={tmp_path / 'run'}", "--config.train.steps=50")
  assert r.returncode == 0, r.stderr[-2000:]
  rows = list(csv.DictReader((tmp_path / "run" / "results.csv").open()))
  assert len(rows) == 6 and {r["steps"] for r in rows} == {"50"}
  bad = cli(f"--config={tmp_path / 'least_squares.py'}", f"--workdir={tmp_path / 'bad'}", "--config.data.name=pydoc")
  assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
  assert "--config.model.name=least_squares and --config.data.name=gaussian_regression" in bad.stderr


def test_a_task_file_must_define_what_the_registry_reads(tmp_path, monkeypatch):
  from tailjax import tasks
  from tailjax.errors import UserError

  (tmp_path / "half_a_task.py").write_text("MODELS = ('half',)\nDATA = ('half_data',)\n")
  monkeypatch.syspath_prepend(str(tmp_path))
  with pytest.raises(UserError, match="lacks WHAT, CONFIG, UNIT, check_model, build"):
    tasks.register("half_a_task")
  with pytest.raises(UserError, match="cannot register the task file 'no_such_module'"):
    tasks.register("no_such_module")
  (tmp_path / "taken.py").write_text((REPO / "tests" / "test_task_file.py").read_text().replace("least_squares", "cnn"))
  with pytest.raises(UserError, match="names the model 'cnn', which is taken"):
    tasks.register("taken")
