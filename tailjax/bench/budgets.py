"""What the budget fields cost: the training a budget asks for (from the row plans, nothing trained), the engine's step
with β2 as a per-lane value, and the steps-to-target analysis on curves of a Phase-2-sized sweep.

  python -m tailjax.bench.budgets [--steps=30] [--lanes=7]

The engine's cost before the change is `python -m tailjax.bench --shapes=d64_t128 --lanes=7` at the commit before it.
"""

import jax
import numpy as np
from absl import app, flags

from configs import phase2, phase2_tokens
from tailjax import schedule
from tailjax.analysis import critical_batch
from tailjax.bench.estimator_speed import best_time, chunk_seconds

_STEPS = flags.DEFINE_integer("steps", 30, "timed steps per chunk")
_LANES = flags.DEFINE_integer("lanes", 7, "lanes in the timed row")


def _plan_costs() -> None:
  """Lane-steps and tokens a lane trains, summed over Phase 2's rows, at each budget."""
  for name, cfg in (("phase2 (steps)", phase2.get_config()), ("phase2_tokens (both)", phase2_tokens.get_config())):
    plans = [schedule.plan(cfg, b) for b in cfg.sweep.batch_sizes]
    steps = sum(p.steps for p in plans)
    tokens = sum(p.tokens(p.steps) for p in plans)
    evals = sum(len(p.eval_steps) for p in plans)
    print(f"{name}: {steps:,} steps and {tokens / 1e6:,.0f}M tokens per lane over 7 rows, {evals} evaluations")
  cfg = phase2_tokens.get_config()
  cfg.train.budget, cfg.optim.warmup_steps = "tokens", 0
  plans = [schedule.plan(cfg, b) for b in cfg.sweep.batch_sizes]
  print(f"phase2 at fixed tokens only: {sum(p.steps for p in plans):,} steps and "
        f"{sum(p.tokens(p.steps) for p in plans) / 1e6:,.0f}M tokens per lane")  # fmt: skip


def _step_time() -> None:
  """A row of `--lanes` LR lanes of Phase 2's model (T = 128 for speed), β2 from the config and β2 per lane."""
  from configs import base
  from tailjax import tasks
  from tailjax.training import engine, row_loop
  from tailjax.training.lane_grid import Lanes

  c = base.get_config()
  c.data.seq_len = 128
  task = tasks.build(c)
  train, vb = jax.device_put(task.train_data), task.validation_batches(1, 8)
  lrs = list(np.geomspace(1e-4, 1e-2, _LANES.value))
  for label, b2s in (("β2 from the config", ()), ("3 β2 lanes per LR", (0.95, 0.99, 0.999))):
    c.sweep.b2s = b2s
    table, _ = row_loop.row_lanes(c, lrs, 32)
    row, lanes = engine.Row.create(c, task, 32), Lanes.from_table(table)
    dt = chunk_seconds(row, lanes, train, vb, _STEPS.value)
    print(f"d64 T=128 B=32, {len(table)} lanes ({label}), {row.strategy}: {_STEPS.value * len(table) / dt:.1f} "
          f"lane-steps/s")  # fmt: skip


def _analysis_time() -> None:
  """critical_batch.analyse on curves shaped like Phase 2's: 7 batch sizes × 7 LRs × 1 or 3 seeds × 20 evaluations."""
  rng = np.random.default_rng(0)
  bs, steps = (8, 16, 32, 64, 128, 256, 512), np.arange(250, 5001, 250)
  tps = {b: b * 256 for b in bs}
  for seeds in (1, 3):
    done = {}
    for b in bs:
      cols, lanes = [], []
      for lr in np.geomspace(3e-5, 3e-2, 7):
        speed = np.exp(-(np.log(lr / 1e-3) ** 2) / 4) / (1 + 64 / b)
        for s in range(seeds):
          cols.append(1.5 + 2.5 / (1 + steps * speed / 100) + 0.01 * rng.standard_normal(len(steps)))
          lanes.append({"lr": float(lr), "seed": s, "clip": None, "weight_decay": 0.01, "b2_ref": 0.999})
      done[b] = {"eval_step": steps.tolist(), "val_loss": np.array(cols).T.tolist(), "lane_rows": lanes}
    sec = best_time(lambda d=done: critical_batch.analyse(d, {}, tokens_per_step=tps), 3)
    print(f"critical_batch.analyse, 7 B x 7 LRs x {seeds} seed(s) x 20 evals, 4 targets, n_boot=200: {sec:.2f} s")


def main(_):
  print(f"device: {jax.devices()[0].device_kind}, backend {jax.default_backend()}")
  _plan_costs()
  _analysis_time()
  _step_time()


if __name__ == "__main__":
  app.run(main)
