"""Cost of one gradient-noise measurement next to one training step, for the Phase 1.2 model.

  python -m tailjax.bench.measure                 # d128, 4 layers, T = 128, m = 64 and 256, B = 64
  python -m tailjax.bench.measure --ms=64 --d_model=256

A measurement is `per_example.per_example_noise` (per-example gradients of m windows in memory-budgeted chunks, 4,096
sampled coordinates per tensor) plus `pool_estimates.estimate_groups` (Hill, Pickands, moments at 3 k ratios and the
stable index, per tensor). Best of `--repeats` after a warm-up; compilation reported apart. With `--verdicts`, also the
verdict pass of the last measurement (the per-coordinate views, then `noise.measurement.pool_verdicts`: `tails.estimate`
with `--n_boot` resamples on every robust and raw pool), per pool.
"""

import functools
import time

import jax
from absl import app, flags

from configs import phase1_2
from tailjax import tasks
from tailjax.noise import measurement, per_example, pool_estimates
from tailjax.training import engine
from tailjax.training.lane_grid import Lanes, lane_table

_MS = flags.DEFINE_list("ms", ["64", "256"], "examples per measurement")
_D_MODEL = flags.DEFINE_integer("d_model", 128, "model width")
_REPEATS = flags.DEFINE_integer("repeats", 3, "timed calls (best kept)")
_VERDICTS = flags.DEFINE_bool("verdicts", False, "also time the verdict pass per pool")
_N_BOOT = flags.DEFINE_integer("n_boot", 200, "resamples behind each robust verdict's interval (measure.n_boot)")
_BUDGET_MB = flags.DEFINE_float("budget_mb", 512.0, "memory budget for one chunk of per-example gradients")


def _best(fn, repeats):
  t0 = time.perf_counter()
  jax.block_until_ready(fn())
  first = time.perf_counter() - t0
  best = float("inf")
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - t0)
  return best, first


def main(argv):
  del argv
  cfg = phase1_2.get_config()
  cfg.model.d_model = _D_MODEL.value
  task = tasks.build(cfg)
  train_data = jax.device_put(task.train_data)
  b = cfg.sweep.batch_sizes[0]
  row = engine.Row.create(cfg, task, b)
  lanes = Lanes.from_table(lane_table((1e-3,), (None,), cfg.optim.weight_decay, (0,)))
  vb = task.validation_batches(1, 8)
  state = row.init_state(lanes)
  n_steps = 10
  holder = {"state": state}

  def train():
    holder["state"], metrics, _ = row.run_chunk(holder["state"], lanes, train_data, vb, n_steps)
    return metrics

  step_s, step_first = _best(train, _REPEATS.value)
  params = jax.tree.map(lambda v: v[0], holder["state"].params)
  n_params = sum(v.size for v in jax.tree_util.tree_leaves(params))
  shape = f"d{cfg.model.d_model}/L{cfg.model.n_layers}, T={cfg.data.seq_len}"
  print(f"model {shape}, {n_params:,} parameters, {jax.devices()[0]}")
  print(
    f"train step (B={b}): {step_s / n_steps * 1e3:.1f} ms  (first chunk of {n_steps} with compile {step_first:.1f} s)"
  )

  def loss_one(p, ex):
    return task.loss(p, jax.tree.map(lambda v: v[None], ex))

  for m in (int(v) for v in _MS.value):
    examples = task.sample(train_data, jax.random.key(1), m)
    budget = _BUDGET_MB.value * 2**20
    grads = functools.partial(per_example.per_example_noise, loss_one, params, examples, budget_bytes=budget)
    g_s, g_first = _best(lambda: grads().noise_MxS, _REPEATS.value)  # noqa: B023 (called right here)
    noise = grads()
    e_s, e_first = _best(functools.partial(pool_estimates.estimate_groups, noise), _REPEATS.value)
    c = per_example.chunk_size(m, n_params, budget)
    print(
      f"m={m}: per-example gradients {g_s:.3f} s (chunks of {c}; first call {g_first:.1f} s), estimators "
      f"{e_s:.3f} s over {len(noise.noise_MxS)} tensors (first {e_first:.1f} s); total "
      f"{(g_s + e_s) / (step_s / n_steps):.0f} training steps' worth"
    )
    if _VERDICTS.value:
      views, left_out = pool_estimates.views(noise)
      pools = {p: pool_estimates.pooled_by_kind(noise, views, left_out, p) for p in pool_estimates.POOLINGS}
      count = sum(len(v) for v in pools.values())

      def verdicts():
        views_by = pool_estimates.per_coordinate(noise)  # noqa: B023 (called right here)
        return measurement.pool_verdicts(pools, n_boot=_N_BOOT.value, per_coordinate=views_by)  # noqa: B023

      v_s, v_first = _best(verdicts, _REPEATS.value)
      print(
        f"m={m}: verdict pass {v_s:.2f} s over {count} pools ({v_s / count:.3f} s a pool; first call {v_first:.1f} s)"
      )


if __name__ == "__main__":
  app.run(main)
