"""Your own Flax model in tailjax: a small CNN that tailjax's registry has never seen, on 16×16 digits.

    .venv/bin/python examples/own_cnn.py                 # both parts, ~2-3 minutes on 2 CPU cores
    .venv/bin/python examples/own_cnn.py --part=noise    # part 1 only
    .venv/bin/python examples/own_cnn.py --part=rows     # part 2 only

Part 1 (noise): your own optax training loop calls `tailjax.NoiseCallback` every 100 steps (tail indices, noise scale);
then one call of `tailjax.noise_report` on the trained parameters prints the verdict per pooled group (Conv, Dense,
vector) with its tail index and interval where the verdict is a power law.
Part 2 (rows): `tailjax.train_rows` trains a row of learning rates at each batch size as one compiled program,
finds each row's optimum and fits LR_opt ∝ B^β, writing the same results, summary and plots as the study's models.

Everything goes under --workdir (default runs/own_cnn): noise/, noise_final/ and rows/.
"""

import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from anywhere in the repository

import flax.linen as nn  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from absl import app, flags  # noqa: E402

import tailjax  # noqa: E402
from tailjax.data import images  # noqa: E402  (the offline digits; any arrays of yours do as well)

_PART = flags.DEFINE_enum("part", "both", ["both", "noise", "rows"], "which part to run")
_WORKDIR = flags.DEFINE_string("workdir", "runs/own_cnn", "where both parts write")
_STEPS = flags.DEFINE_integer("steps", 200, "training steps (part 1's loop, and every lane of part 2)")
_EXAMPLES = flags.DEFINE_integer("images", 2000, "digits rendered (train + validation)")
_BATCHES = flags.DEFINE_list("batch_sizes", ["16", "32", "64"], "part 2's batch sizes (rows)")
_LRS = flags.DEFINE_list("lrs", ["3e-3", "1e-2", "3e-2", "1e-1"], "part 2's learning rates (lanes)")
_VERDICTS = flags.DEFINE_bool("verdicts", True, "part 1's one-call report with the full verdicts (~40 s to compile)")


class SmallCNN(nn.Module):
  """Two strided 3×3 convolutions and a linear head on the flattened 4×4 maps: not a tailjax model."""

  classes: int = 10

  @nn.compact
  def __call__(self, x_BxHxWxC):
    x = nn.relu(nn.Conv(8, (3, 3), strides=2)(x_BxHxWxC))  # [B, 8, 8, 8]
    x = nn.relu(nn.Conv(16, (3, 3), strides=2)(x))  # [B, 4, 4, 16]
    return nn.Dense(self.classes)(x.reshape(x.shape[0], -1))  # logits [B, classes]


MODEL = SmallCNN()


def init(key):
  return MODEL.init(key, jnp.zeros((1, 16, 16, 1)))["params"]


def loss(params, batch):
  """Mean cross-entropy of a batch {"x": [B, 16, 16, 1], "y": [B]}."""
  logits = MODEL.apply({"params": params}, batch["x"])
  return optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]).mean()


def loss_one(params, example):
  """The loss of ONE example (no batch axis): what the noise report differentiates per example."""
  return loss(params, jax.tree.map(lambda v: v[None], example))


def digits(n: int):
  x, y = images.rendered_digits(n)
  n_val = n // 5
  return {"x": jnp.asarray(x[n_val:]), "y": jnp.asarray(y[n_val:])}, {
    "x": jnp.asarray(x[:n_val]),
    "y": jnp.asarray(y[:n_val]),
  }


def part_noise(train, workdir: pathlib.Path, steps: int, verdicts: bool = True) -> None:
  """Your own loop: AdamW on batches of 32, the callback every 100 steps (tail indices and the noise scale: ~1 s
  each), then the one-call report on the trained parameters with the full verdicts (~15 s)."""
  examples = jax.tree.map(lambda v: v[:128], train)  # m = 128 fixed examples, measured at every call
  # made before anything compiles, so that jax's persistent compilation cache, which tailjax turns on, is used
  callback = tailjax.NoiseCallback(loss_one, examples, workdir / "noise", every=100, verdict=False)
  params = init(jax.random.key(0))
  tx = optax.adamw(3e-3)
  opt_state = tx.init(params)

  @jax.jit
  def step_fn(params, opt_state, key, train):
    idx = jax.random.randint(key, (32,), 0, train["y"].shape[0])
    value, grads = jax.value_and_grad(loss)(params, jax.tree.map(lambda v: v[idx], train))
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value

  for step in range(steps + 1):
    callback(step, params)  # measures at steps 0, 100, 200, ...: noise/alpha.csv, noise_scale.csv, plots
    if step < steps:
      params, opt_state, value = step_fn(params, opt_state, jax.random.key(step + 1), train)
  print(f"part 1: trained {steps} steps (last batch loss {float(value):.3f}); the callback's files are in "
        f"{workdir / 'noise'}")  # fmt: skip
  report = tailjax.noise_report(
    loss_one, params, examples, workdir=workdir / "noise_final", step=steps, n_boot=50, verdict=verdicts
  )
  print(f"the one-call report at step {steps} (verdicts.csv and plots in {workdir / 'noise_final'}):")
  print(report.summary())


def part_rows(train, val, workdir: pathlib.Path, steps: int, batch_sizes, lrs) -> None:
  task = tailjax.Task(name="own_cnn_digits", init=init, loss=loss, train_data=train, val_data=val,
                      chance_loss=math.log(10))  # fmt: skip
  fit = tailjax.train_rows(
    task,
    workdir / "rows",
    overrides={
      "sweep.batch_sizes": tuple(batch_sizes),
      "sweep.learning_rates": tuple(lrs),
      "sweep.auto_extend": True,
      "train.steps": steps,
      "train.stats_window": max(steps // 5, 1),
      "optim.warmup_steps": steps // 10,
      "optim.clip": 1.0,
      "eval.every": max(steps // 4, 1),  # chunks of one length: one compiled program per row
      "eval.batch_size": 100,
      "eval.batches": 4,
      "measure.steps": (steps,),
      "measure.examples": 64,
      "measure.verdict": False,  # tail indices and B_simple per lane; part 1 shows the verdicts (~40 s to compile)
    },
  )
  print(f"part 2: results in {workdir / 'rows'}; summary.txt says:")
  print((workdir / "rows" / "summary.txt").read_text())
  del fit


def main(argv):
  del argv
  workdir = pathlib.Path(_WORKDIR.value)
  train, val = digits(_EXAMPLES.value)
  if _PART.value in ("both", "noise"):
    part_noise(train, workdir, _STEPS.value, _VERDICTS.value)
  if _PART.value in ("both", "rows"):
    part_rows(train, val, workdir, _STEPS.value, [int(b) for b in _BATCHES.value], [float(x) for x in _LRS.value])


if __name__ == "__main__":
  app.run(main)
