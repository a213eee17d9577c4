"""Throughput of the engine: model-steps/s and tokens/s for one lane, a row of lanes, and the lanes run one by one.

    python -m tailjax.bench                      # the shapes of BENCHMARKS.md
    python -m tailjax.bench --shapes=d64_t128 --lanes=5 --steps=40
    XLA_FLAGS=--xla_force_host_platform_device_count=2 python -m tailjax.bench --devices=1,2 --lanes=4  # sharded rows
    python -m tailjax.bench --shapes=d64_t128 --strategies=map --batch_devices=1,2 --repeats=5  # batches split

A model-step is one optimizer step of one lane. Every timing runs compiled chunks of `--steps` steps after one
warm-up chunk (compilation excluded), repeated `--repeats` times; the median is printed.
"""

import itertools
import os
import statistics
import time

import jax
from absl import app, flags

from configs import base
from tailjax import tasks
from tailjax.training import engine
from tailjax.training.lane_grid import Lanes, lane_table, pad_lanes

SHAPES = {  # name: (d_model, n_layers, n_heads, seq_len, batch_size)
  "d64_t128": (64, 4, 4, 128, 32),
  "d64_t256": (64, 4, 4, 256, 32),
  "phase2_5": (128, 4, 4, 256, 32),
}
_SHAPES = flags.DEFINE_list("shapes", list(SHAPES), f"which of {', '.join(SHAPES)}")
_LANES = flags.DEFINE_integer("lanes", 5, "lanes in the row")
_STEPS = flags.DEFINE_integer("steps", 20, "steps per timed chunk")
_REPEATS = flags.DEFINE_integer("repeats", 3, "timed chunks per measurement (median)")
_STRATEGIES = flags.DEFINE_list("strategies", ["map", "vmap"], "lane strategies to time for the row")
_ATTENTION = flags.DEFINE_list("attention", ["auto"], "model.attention values to time")
_DEVICES = flags.DEFINE_list("devices", ["1"], "local devices to split the row's lanes over (one timing per count)")
_BATCH_DEVICES = flags.DEFINE_list(
  "batch_devices",
  ["1"],
  "devices to split each lane's batch over (one timing per count; starts the CPU devices needed)",
)


def _config(shape, attention, strategy):
  d, layers, heads, seq_len, _ = SHAPES[shape]
  c = base.get_config()
  c.data.seq_len = seq_len
  c.model.d_model, c.model.n_layers, c.model.n_heads, c.model.attention = d, layers, heads, attention
  c.eval.batches, c.eval.batch_size = 1, 1  # keep evaluation out of the timing
  c.sweep.lane_strategy = strategy
  return c


def time_row(cfg, task, *, batch_size, lrs, steps, repeats, devices=1, batch_devices=1) -> float:
  """Median seconds for one chunk of `steps` steps of a row whose lanes have learning rates `lrs`, split over
  `devices` local devices (padded lanes, if any, are not counted), each batch over `batch_devices`."""
  row = engine.Row.create(cfg, task, batch_size, devices, batch_devices=batch_devices)
  lanes = row.shard(Lanes.from_table(pad_lanes(lane_table(lrs, (1.0,), 0.01, (0,)), devices)))
  train_data = row.replicate(task.train_data)
  vb = row.replicate(task.validation_batches(1, 1))
  state = row.init_state(lanes)
  state, _, val = row.run_chunk(state, lanes, train_data, vb, steps)  # compile + warm up
  jax.block_until_ready(val)
  times = []
  for _ in range(repeats):
    t = time.perf_counter()
    state, _, val = row.run_chunk(state, lanes, train_data, vb, steps)
    jax.block_until_ready(val)
    times.append(time.perf_counter() - t)
  return statistics.median(times)


def main(argv):
  del argv
  wanted = max(map(int, _DEVICES.value)) * max(map(int, _BATCH_DEVICES.value))
  if wanted > 1 and "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    jax.config.update("jax_num_cpu_devices", wanted)  # before jax starts; a GPU run ignores it
  lrs = tuple(1e-4 * 3**i for i in range(_LANES.value))
  steps, reps = _STEPS.value, _REPEATS.value
  print(f"backend {jax.default_backend()}, {jax.device_count()} device(s): {jax.devices()[0].device_kind}")
  print(f"{'shape':>9} {'attention':>9} {'mode':>28} {'model-steps/s':>13} {'tokens/s':>10} {'vs sequential':>13}")
  for shape in _SHAPES.value:
    batch_size, seq_len = SHAPES[shape][4], SHAPES[shape][3]
    for attention in _ATTENTION.value:
      cfg = _config(shape, attention, "map")
      task = tasks.build(cfg)
      one = time_row(cfg, task, batch_size=batch_size, lrs=lrs[:1], steps=steps, repeats=reps)
      seq = sum(
        time_row(cfg, task, batch_size=batch_size, lrs=(lr,), steps=steps, repeats=reps) for lr in lrs
      )  # one after another
      rows = [("1 lane", one, 1), (f"{len(lrs)} lanes one by one", seq, len(lrs))]
      for strategy in _STRATEGIES.value:
        for d, bd in itertools.product(map(int, _DEVICES.value), map(int, _BATCH_DEVICES.value)):
          t = time_row(
            _config(shape, attention, strategy),
            task,
            batch_size=batch_size,
            lrs=lrs,
            steps=steps,
            repeats=reps,
            devices=d,
            batch_devices=bd,
          )
          where = (f", {d} dev" if d > 1 else "") + (f", batch/{bd}" if bd > 1 else "")
          rows.append((f"row of {len(lrs)}, {strategy}{where}", t, len(lrs)))
      for name, seconds, n in rows:
        msps = n * steps / seconds
        print(
          f"{shape:>9} {attention:>9} {name:>28} {msps:>13.2f} {msps * batch_size * seq_len:>10.0f} "
          f"{seq / seconds * n / len(lrs):>12.2f}x"
        )


if __name__ == "__main__":
  app.run(main)
