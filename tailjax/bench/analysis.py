"""Times the analysis pieces: the scaling fit (with its bootstrap), the weight-norm fit, and the Phase 3c image models'
training step (one lane, and a row of 5 LR lanes).

  python -m tailjax.bench.analysis [--width=128] [--batch=64] [--steps=50] [--conv=xla --archs=cnn]
"""

import jax
import numpy as np
from absl import app, flags

from configs import phase3c
from tailjax import tasks
from tailjax.analysis import scaling, weight_norms
from tailjax.bench.estimator_speed import best_time, chunk_seconds
from tailjax.training import engine
from tailjax.training.lane_grid import Lanes, lane_table

_WIDTH = flags.DEFINE_integer("width", 128, "image model width")
_BATCH = flags.DEFINE_integer("batch", 64, "batch size")
_STEPS = flags.DEFINE_integer("steps", 50, "timed steps per chunk")
_CONV = flags.DEFINE_string("conv", "auto", "cnn convolution: auto | xla | im2col")
_ARCHS = flags.DEFINE_list("archs", ["mlp", "cnn", "vit"], "image models to time")


def main(_):
  print(f"device: {jax.devices()[0].device_kind}, backend {jax.default_backend()}")
  rng = np.random.default_rng(0)
  loss = lambda b, lr: 2 + 0.05 * np.log(lr / (1e-3 * (b / 32) ** 0.5)) ** 2 + rng.normal(0, 0.003)
  rows = [{"batch_size": b, "lr": lr, "seed": s, "final_val_loss": loss(b, lr)}
          for b in (32, 64, 128, 256) for lr in np.geomspace(1e-4, 1e-1, 7) for s in range(3)]  # fmt: skip
  fp = {"ln_vocab": 4.85, "unigram_entropy": 3.1}
  print(
    f"scaling.fit, 4 batch sizes x 7 LRs x 3 seeds (n_boot=1000): {best_time(lambda: scaling.fit(rows, fp), 3):.2f} s"
  )
  norm_rows = [{"lr": lr, "weight_decay": wd, "width": w, "batch_size": b, "norm": float(np.exp(rng.normal())),
                "steady": True, "kind": "ffn", "optimizer": "adamw", "kosson_prediction": 1.0}
               for lr in (1e-3, 3e-3, 1e-2) for wd in (0.1, 1.0) for w in (64, 256) for b in (32, 256)]  # fmt: skip
  print(
    f"weight_norms.fit, {len(norm_rows)} lanes, n_boot=500: {best_time(lambda: weight_norms.fit(norm_rows), 3):.2f} s"
  )
  for arch in _ARCHS.value:
    cfg = phase3c.get_config(arch)
    cfg.model.conv = _CONV.value
    cfg.model.d_model = _WIDTH.value
    cfg.data.image_examples = 2000
    task = tasks.build(cfg)
    train, vb = jax.device_put(task.train_data), task.validation_batches(1, 10)
    for lanes_n in (1, 5):
      table_ = lane_table(np.geomspace(1e-4, 1e-2, lanes_n), (1.0,), 0.01, (0,))
      row = engine.Row.create(cfg, task, _BATCH.value)
      lanes = Lanes.from_table(table_)
      dt = chunk_seconds(row, lanes, train, vb, _STEPS.value)
      rate, ms = _STEPS.value * lanes_n / dt, dt / _STEPS.value * 1e3
      print(f"{arch} d{_WIDTH.value} B={_BATCH.value} {lanes_n} lane(s), {row.strategy}: "
            f"{rate:.1f} lane-steps/s ({ms:.1f} ms per row step)")  # fmt: skip


if __name__ == "__main__":
  app.run(main)
