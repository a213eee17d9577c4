"""Phase 3a of the study: Phase 2.5 with automatic grid extension.

    python -m tailjax.main --config=configs/phase3a.py --workdir=runs/p3a
    python -m tailjax.main --config=configs/phase3a.py:fixed --workdir=runs/p3a_fixed   # the study's own grid

Default: Phase 2.5's grid and batch sizes; a row whose optimum sits on the grid's edge gets two more learning rates
beyond it (×3.16, the grid's ratio) per round, up to 3 rounds, until the optimum is bracketed or the loss diverges.
`:fixed` is what the study ran by hand: B 128 and 256 at LR 0.01, 0.02, 0.03, 0.05, 0.1 for 5,000 steps.
"""

from configs import phase2_5


def get_config(variant: str = "auto"):
  c = phase2_5.get_config()
  if variant == "fixed":
    c.train.steps = 5_000
    c.sweep.batch_sizes = (128, 256)
    c.sweep.learning_rates = (0.01, 0.02, 0.03, 0.05, 0.1)
    return c
  if variant != "auto":
    raise ValueError(f"configs/phase3a.py takes ':auto' (default) or ':fixed', not {variant!r}")
  c.sweep.auto_extend = True
  c.sweep.max_extensions = 3
  c.sweep.extend_points = 2
  return c
