"""What never losing a sweep costs: a checkpoint save and restore of a row (with its checksums), the checksum alone,
and how fast bad input is answered.

    python -m tailjax.bench.resume                        # quickstart's model, a row of 5 lanes
    python -m tailjax.bench.resume --d_model=128 --lanes=7 --n_layers=4

Each timing is the median of `--repeats`; the row's programs are compiled before the clock starts.
"""

import statistics
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np
from absl import app, flags, logging

from configs import quickstart
from tailjax import tasks
from tailjax.training import checkpoint, engine
from tailjax.training.lane_grid import Lanes, lane_table

_D = flags.DEFINE_integer("d_model", 64, "model width")
_LAYERS = flags.DEFINE_integer("n_layers", 2, "transformer blocks")
_LANES = flags.DEFINE_integer("lanes", 5, "lanes in the row")
_REPEATS = flags.DEFINE_integer("repeats", 5, "timings per measurement (median)")


def _median(fn, repeats) -> float:
  times = []
  for _ in range(repeats):
    t = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t)
  return statistics.median(times)


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)  # orbax logs every file it touches at INFO
  cfg = quickstart.get_config()
  cfg.model.d_model, cfg.model.n_layers = _D.value, _LAYERS.value
  row = engine.Row.create(cfg, tasks.build(cfg), 32)
  lanes = Lanes.from_table(lane_table(1e-3 * 2.0 ** np.arange(_LANES.value), (1.0,), 0.01, (0,)))
  state = jax.block_until_ready(row.init_state(lanes))
  n_params = sum(x.size for x in jax.tree.leaves(state.params)) // _LANES.value
  state_mb = sum(x.nbytes for x in jax.tree.leaves(state)) / 2**20
  history = {"loss": np.zeros((1000, _LANES.value), np.float32)}
  reps = _REPEATS.value
  print(f"backend {jax.default_backend()}; d_model {_D.value}, {_LAYERS.value} blocks: {n_params:,} parameters per "
        f"lane; row of {_LANES.value} lanes: state {state_mb:.1f} MB (parameters and AdamW moments)")  # fmt: skip
  jax.block_until_ready(checkpoint.state_checksum(state))  # compile
  t = _median(lambda: jax.block_until_ready(checkpoint.state_checksum(state)), reps)
  print(f"state checksum (on device): {t * 1e3:.1f} ms")
  with tempfile.TemporaryDirectory() as tmp:
    ckpt = checkpoint.RowCheckpoints(tmp, keep=2)
    step = iter(range(1, 10**6))
    t = _median(lambda: ckpt.save(next(step), state, history), reps)
    print(f"checkpoint save (synchronous, checksums included): {t * 1e3:.0f} ms")
    template = row.checkpoint_template(lanes, _LANES.value)
    t = _median(lambda: jax.block_until_ready(ckpt.restore_latest(template)[1]), reps)
    print(f"checkpoint restore (checksums verified): {t * 1e3:.0f} ms")
    ckpt.close()
  bad = [sys.executable, "-m", "tailjax.main", "--config=configs/quickstart.py", "--config.train.steps=0"]
  t = _median(lambda: subprocess.run(bad, capture_output=True, check=False), reps)
  print(f"bad input answered (a whole `python -m tailjax.main` process, to its one-line error): {t:.2f} s")


if __name__ == "__main__":
  app.run(main)
