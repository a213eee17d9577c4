"""Phase 3c of the study: does the scaling hold across width and architecture? Image classifiers, one sweep per
(architecture, width).

    python -m tailjax.main --config=configs/phase3c.py:cnn --config.model.d_model=256 --workdir=runs/p3c/cnn_d256
    launch/phase3c.sh runs/p3c      # mlp, cnn, vit at widths 64 ... 2048 as far as they fit, then compare_runs

Default data: `digits` (16×16 digits rendered offline from matplotlib's fonts); `--config.data.name=mnist` or
`cifar10` with a prepared tfds copy. B 32 … 256, LR grid ×3 from 1e-4 with auto-extension, 2,000 steps, α measured
at steps 100 and the end (per-example gradients of 128 images).
"""

from configs import base


def get_config(arch: str = "mlp"):
  if arch not in ("mlp", "cnn", "vit"):
    raise ValueError(f"configs/phase3c.py takes :mlp, :cnn or :vit, not {arch!r}")
  c = base.get_config()
  c.data.name = "digits"
  c.model.name = arch
  c.model.d_model = 128
  c.model.n_layers = 3 if arch != "vit" else 4
  c.optim.clip = 1.0
  c.train.steps = 2_000
  c.eval.every = 500
  c.eval.batch_size = 100
  c.eval.batches = 10
  c.sweep.batch_sizes = (32, 64, 128, 256)
  c.sweep.learning_rates = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
  c.sweep.auto_extend = True
  c.measure.steps = (100, 2_000)
  c.measure.examples = 128
  return c
