"""Your own model: the public API (`tailjax.noise_report`, `NoiseCallback`, `Task`, `train_rows`,
`default_config`) on known answers, against the study's own path, and on bad input; and examples/own_cnn.py, shortened.
"""

import copy
import csv
import json
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import tailjax
from tailjax import tasks
from tailjax.data import images
from tailjax.models import vision
from tailjax.tasks import user
from tailjax.tasks.base import Task
from tailjax.training import engine
from tailjax.training.lane_grid import Lanes, lane_table
from tests.conftest import REPO, tiny_config

D = 32 * 32  # one 32×32 weight matrix


def linear_loss(params, example):
  """⟨w, z⟩: the gradient of example i is z_i itself, so the per-example noise is the data's own law."""
  return jnp.sum(params["w"] * example["z"])


def _z(law: str, m: int = 256, mean: float = 0.5, seed: int = 0):
  rng = np.random.default_rng(seed)
  noise = {"t3": lambda: rng.standard_t(3, (m, 32, 32)), "normal": lambda: rng.normal(0, 1, (m, 32, 32))}[law]()
  return {"z": (mean + noise).astype(np.float32)}


PARAMS = {"w": np.zeros((32, 32), np.float32)}


def test_public_api_is_what_tailjax_exports():
  assert tailjax.__all__ == sorted(
    ["NoiseCallback", "NoiseReport", "Task", "default_config", "noise_report", "train_rows"]
  )
  for name in tailjax.__all__:
    assert getattr(tailjax, name) is not None
  with pytest.raises(AttributeError, match="no attribute 'noise_reprot'"):
    tailjax.noise_reprot  # noqa: B018
  cfg = tailjax.default_config()
  assert cfg.measure.k_ratios == (0.05, 0.1, 0.2)
  with pytest.raises(AttributeError):  # locked: a mistyped field is an error, not a new field
    cfg.measure.n_bot = 3


def test_noise_report_known_answers(tmp_path):
  """Student-t(3) gradients: a heavy tail (a power law whose interval holds α = 3, or, as t(3) reaches its power law
  slowly, one no test can tell from a lognormal at 2^18 values: about half of seeds each), every coordinate far from
  Gaussian; B_simple = tr Σ / |G|² = σ²/μ² = 3/0.25 = 12 (the two-batch estimate too). Gaussian gradients: no power
  law."""
  heavy = tailjax.noise_report(linear_loss, PARAMS, _z("t3"), workdir=tmp_path, n_boot=50, label="t3")
  (v,) = [v for v in heavy.verdicts if v["pooling"] == "robust"]
  assert v["category"] in ("power law", "cannot tell"), v
  assert v["coords_rejecting_gaussian"] > 0.9 and v["resampled"] == "examples"
  assert 0 < v["stable_index"] <= 2
  if v["category"] == "power law":
    assert v["tail_index_ci_low"] <= 3 <= v["tail_index_ci_high"], v
    assert v["pdf_exponent"] == pytest.approx(v["tail_index"] + 1)
  (s,) = heavy.noise_scale
  # m = 256 examples of D = 1024 coordinates: tr Σ̂ has relative error ~√(Var(z²)/(mD)), inflated by t3's heavy
  # fourth moment; |G|² = D μ² to ~σ/(μ√(mD)). 25% holds both with room.
  assert s["b_simple"] == pytest.approx(12, rel=0.25)
  assert s["b_simple_two_batch"] == pytest.approx(12, rel=0.5)
  if v["category"] == "power law":
    line = f"{v['group']} (n = {v['n']}): power law: tail index α = {v['tail_index']:.2f}, 95% interval"
    assert line in heavy.summary() and "pdf exponent" in heavy.summary() and "per coordinate" in heavy.summary()
  else:
    assert f"{v['group']} (n = {v['n']}): {v['verdict']} (so no tail index" in heavy.summary()
  for name in ("alpha.csv", "verdicts.csv", "noise_scale.csv", "param_stats.csv", "hill_curves.json"):
    assert (tmp_path / name).stat().st_size > 0, name
  assert list(csv.DictReader((tmp_path / "verdicts.csv").open()))[0]["lane"] == "t3"
  assert sorted(p.name for p in tmp_path.glob("*.png")), "the report draws the sweep's noise plots"
  light = tailjax.noise_report(linear_loss, PARAMS, _z("normal"), n_boot=0)
  (v,) = [v for v in light.verdicts if v["pooling"] == "robust"]
  assert v["category"] != "power law", v
  assert "(so no tail index: a Hill α there is not one)" in light.summary()
  assert light.noise_scale[0]["b_simple"] == pytest.approx(4, rel=0.15)  # σ²/μ² = 1/0.25; Gaussian: ~√(2/(mD)) error
  # Hill at k/n = 0.1 on the t3 pool: a known answer within its own asymptotic error (α/√k, k = 0.1·n)
  hill = [r for r in heavy.alpha if r["group"] == v["group"] and r["estimator"] == "hill" and r["k_ratio"] == 0.1]
  assert hill and abs(hill[0]["value"] - 3) < 4 * 3 / math.sqrt(0.1 * hill[0]["n"]) + 0.5


def test_noise_report_bad_input(tmp_path):
  with pytest.raises(ValueError, match="must return a scalar"):
    tailjax.noise_report(lambda p, e: p["w"] * e["z"], PARAMS, _z("normal", m=8))
  with pytest.raises(ValueError, match="at least 2"):
    tailjax.noise_report(linear_loss, PARAMS, _z("normal", m=1))
  with pytest.raises(ValueError, match="leaves of examples disagree on their leading axis"):
    tailjax.noise_report(linear_loss, PARAMS, {"z": np.zeros((8, 32, 32)), "other": np.zeros((7,))})
  bad = _z("normal", m=8)
  bad["z"][3, 0, 0] = np.inf
  with pytest.raises(ValueError, match="not finite"):
    tailjax.noise_report(linear_loss, PARAMS, bad)
  with pytest.raises(ValueError, match="measure.every says when or what a sweep measures"):
    tailjax.noise_report(linear_loss, PARAMS, _z("normal", m=8), every=3)
  with pytest.raises(ValueError, match="no config field 'measure.n_bot'; did you mean 'measure.n_boot'"):
    tailjax.noise_report(linear_loss, PARAMS, _z("normal", m=8), n_bot=3)
  blocker = tmp_path / "file"
  blocker.write_text("")
  with pytest.raises(ValueError, match="is a file, not a folder"):
    tailjax.noise_report(linear_loss, PARAMS, _z("normal", m=8), workdir=blocker)


def test_callback_appends_across_restarts(tmp_path):
  """Every `every`-th step is measured; a callback made again on the same folder keeps the earlier steps."""
  z = _z("t3", m=64)
  cb = tailjax.NoiseCallback(linear_loss, z, tmp_path, every=2, n_boot=0, plots=False, verdict=False)
  assert cb(1, PARAMS) is None
  assert cb(0, PARAMS) is not None and cb(2, PARAMS) is not None
  again = tailjax.NoiseCallback(linear_loss, z, tmp_path, every=2, n_boot=0, plots=False, verdict=False)
  again(4, PARAMS)
  steps = sorted({int(r["step"]) for r in csv.DictReader((tmp_path / "alpha.csv").open())})
  assert steps == [0, 2, 4]
  with pytest.raises(ValueError, match="every must be a positive integer"):
    tailjax.NoiseCallback(linear_loss, z, tmp_path, every=0)
  with pytest.raises(ValueError, match="holds measurements of other examples"):  # a series reads one set of examples
    tailjax.NoiseCallback(linear_loss, _z("t3", m=64, seed=1), tmp_path, every=2)
  with pytest.raises(ValueError, match="needs at least 2"):  # at construction, not at the first measured step
    tailjax.NoiseCallback(linear_loss, _z("t3", m=1), tmp_path / "other", every=2)


def test_b_simple_summary_counts_unresolved_lanes_as_infinite():
  """A lane whose |G|² came out ≤ 0 is an unresolved (huge) B_simple: it enters the median as +∞ and is named."""
  from tailjax.analysis import critical_batch

  rows = [{"step": 10, "b_simple": v} for v in (10.0, 20.0, math.inf, math.inf, math.inf)]
  (r,) = critical_batch.b_simple_rows(rows)
  assert r["median"] == math.inf and r["lanes"] == 5 and r["unresolved"] == 3
  # mean 0: the true |G|² is 0, and its unbiased estimate falls below 0 about half the time (with this draw it does)
  zero = tailjax.noise_report(linear_loss, PARAMS, _z("normal", m=64, mean=0.0), verdict=False, plots=False)
  assert zero.noise_scale[0]["true_grad_sq"] < 0 and zero.noise_scale[0]["b_simple"] == math.inf
  assert "not resolved from m = 64 examples" in zero.summary()
  assert "no verdict run (verdict=False)" in zero.summary()  # the Hill numbers, said to be no tested index


# ---------------------------------------------------------------- a task in the engine


def _digits(n=240):
  x, y = images.rendered_digits(n)
  return (x[40:], y[40:]), (x[:40], y[:40])


def _cnn_config():
  c = tiny_config()
  c.data.name, c.model.name = "digits", "cnn"
  c.model.d_model, c.model.n_layers = 8, 1
  c.eval.batch_size = 8
  return c


def test_task_row_equals_the_registry_row():
  """The registry's CNN on the digits, once as the built-in task and once as a user's Task with the same init, loss
  and data: the row trains to the same losses (the engine treats a user's task as it treats its own)."""
  cfg = _cnn_config()
  cfg.data.image_examples = 240
  builtin = tasks.build(cfg)
  module = vision.CNN(10, 8, 1, vision.resolve_conv("auto", "cpu"))

  def loss(params, batch):
    return optax.softmax_cross_entropy_with_integer_labels(module.apply({"params": params}, batch[0]), batch[1]).mean()

  init = lambda key: module.init(key, jnp.zeros((1, 16, 16, 1)))["params"]
  mine = user.prepare(Task("cnn_as_task", init, loss, builtin.train_data, builtin.val_data))
  lanes = Lanes.from_table(lane_table([1e-3, 1e-2], (1.0,), (0.0,), (0, 1), [(0.999, 0.999)]))
  out = []
  for c, task in ((cfg, builtin), (_task_config(cfg), mine)):
    row = engine.Row.create(c, task, 8)
    val = task.validation_batches(cfg.eval.batches, cfg.eval.batch_size)
    state, metrics, val_R = row.run_chunk(row.init_state(lanes), lanes, jax.device_put(task.train_data), val, 10)
    out.append((np.asarray(metrics["loss"]), np.asarray(val_R)))
  np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-5)
  np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-5)
  assert len({tuple(r) for r in out[0][0].T}) == 4  # lanes differ (LR and seed): the comparison is not vacuous


def _task_config(cfg):
  c = copy.deepcopy(cfg)
  c.model.name = c.data.name = "task"
  return c


def _mlp_task_parts():
  """A user's task, small: 20 digits to train and 40 to validate, the registry's MLP (width 4) as their model."""
  (tx, ty), (vx, vy) = _digits(60)
  module = vision.MLP(10, 4, 1)

  def init(key):
    return module.init(key, jnp.zeros((1, 16, 16, 1)))["params"]

  def loss(params, batch):
    return optax.softmax_cross_entropy_with_integer_labels(module.apply({"params": params}, batch[0]), batch[1]).mean()

  return (tx, ty), (vx, vy), module, init, loss


def test_task_bad_input(tmp_path):
  (tx, ty), (vx, vy), module, init, loss = _mlp_task_parts()
  small = {"sweep.batch_sizes": (4,), "train.steps": 4, "output.plots": False, "output.tensorboard": False}
  with pytest.raises(ValueError, match="larger than the 20 training examples"):
    tailjax.train_rows(Task("t", init, loss, (tx[:20], ty[:20]), (vx, vy)), tmp_path / "a", overrides={**small,
                       "sweep.batch_sizes": (32,)})  # fmt: skip
  with pytest.raises(ValueError, match="must return a float scalar"):
    tailjax.train_rows(Task("t", init, lambda p, b: module.apply({"params": p}, b[0]), (tx, ty), (vx, vy)),
                       tmp_path / "b", overrides=small)  # fmt: skip
  with pytest.raises(ValueError, match="leaves of Task.train_data disagree on their leading axis"):
    tailjax.train_rows(Task("t", init, loss, (tx, ty[:5]), (vx, vy)), tmp_path / "c", overrides=small)
  with pytest.raises(ValueError, match="no config field 'sweep.learning_rate'; did you mean 'sweep.learning_rates'"):
    tailjax.train_rows(Task("t", init, loss, (tx, ty), (vx, vy)), tmp_path / "d", overrides={"sweep.learning_rate": 1})
  with pytest.raises(ValueError, match="sweep.learning_rates: every learning rate must be a finite number > 0"):
    tailjax.train_rows(Task("t", init, loss, (tx, ty), (vx, vy)), tmp_path / "e",
                       overrides={**small, "sweep.learning_rates": (0.0,)})  # fmt: skip
  assert not any((tmp_path / d).exists() and any((tmp_path / d).iterdir()) for d in "abcde"), "a refused run wrote"


def test_train_rows_reruns_and_refuses_other_data(tmp_path):
  """A rerun on the same folder reads its finished rows (same results, nothing retrained); other training data in
  the same folder is refused."""
  (tx, ty), (vx, vy), module, init, loss = _mlp_task_parts()
  over = {"sweep.batch_sizes": (4, 8), "sweep.learning_rates": (1e-2, 3e-2), "train.steps": 6, "eval.every": 3,
          "eval.batch_size": 5, "eval.batches": 2, "optim.warmup_steps": 0, "train.stats_window": 3,
          "output.plots": False, "output.tensorboard": False}  # fmt: skip
  task = Task("mlp", init, loss, (tx, ty), (vx, vy))
  tailjax.train_rows(task, tmp_path, overrides=over)
  first = (tmp_path / "results.csv").read_text()
  stamp = (tmp_path / "rows" / "B4.json").stat().st_mtime_ns
  tailjax.train_rows(task, tmp_path, overrides=over)
  assert (tmp_path / "results.csv").read_text() == first
  assert (tmp_path / "rows" / "B4.json").stat().st_mtime_ns == stamp  # read, not retrained
  with pytest.raises(ValueError, match="holds a run on other data"):
    tailjax.train_rows(Task("mlp", init, loss, (tx[::-1], ty[::-1]), (vx, vy)), tmp_path, overrides=over)


def test_the_command_line_refuses_model_task(tmp_path):
  from tests.conftest import cli

  got = cli("--config=configs/quickstart.py", f"--workdir={tmp_path}", "--config.model.name=task",
            "--config.data.name=task")  # fmt: skip
  assert got.returncode == 2, got.stderr
  assert "only tailjax.train_rows(task, ...) can give" in got.stderr and "Traceback" not in got.stderr


def test_example_own_cnn_shortened(tmp_path):
  """examples/own_cnn.py as a user runs it, shortened: the callback's and the rows' files, β's fit, the summary."""
  got = subprocess.run(
    [sys.executable, "examples/own_cnn.py", f"--workdir={tmp_path}", "--steps=60", "--images=400",
     "--batch_sizes=8,16,32", "--lrs=3e-3,1e-2,3e-2,1e-1", "--noverdicts"],  # fmt: skip
    cwd=REPO, capture_output=True, text=True, timeout=600,
  )  # fmt: skip
  assert got.returncode == 0, got.stderr[-3000:]
  assert "part 1: trained 60 steps" in got.stdout and "noise scale B_simple" in got.stdout

  steps = {int(r["step"]) for r in csv.DictReader((tmp_path / "noise" / "alpha.csv").open())}
  assert steps == {0}  # every=100: step 0 only in a 60-step loop
  rows = tmp_path / "rows"
  for name in ("results.csv", "scaling_fit.json", "summary.txt", "alpha.csv", "loss_vs_lr.png", "lr_vs_batch.png"):
    assert (rows / name).exists(), name
  results = list(csv.DictReader((rows / "results.csv").open()))
  assert {int(r["batch_size"]) for r in results} == {8, 16, 32}
  fit = json.loads((rows / "scaling_fit.json").read_text())
  assert "beta" in json.dumps(fit)
  kinds = {r["kind"] for r in csv.DictReader((rows / "alpha.csv").open())}
  assert kinds == {"Conv", "Dense", "vector"}, kinds  # the task's own pools, by module
  final = {r["group"] for r in csv.DictReader((tmp_path / "noise_final" / "alpha.csv").open())}
  assert {"all Conv", "all Dense", "all vector"} <= final  # the one-call report's pools (verdicts: known-answer test)
  assert "reference losses: chance = 2.303 (learned nothing; given by the task (chance_loss))" in got.stdout
