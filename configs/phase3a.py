"""Phase 3a of the study: Phase 2.5's model and data at the extended LR range, for the two batch sizes whose optimum
sat on the old grid's top edge.

    python -m tailjax.main --config=configs/phase3a.py --workdir=runs/p3a

B 128, 256; LR 0.01, 0.02, 0.03, 0.05, 0.1; 5,000 steps.
"""

from configs import phase2_5


def get_config():
  c = phase2_5.get_config()
  c.train.steps = 5_000
  c.sweep.batch_sizes = (128, 256)
  c.sweep.learning_rates = (0.01, 0.02, 0.03, 0.05, 0.1)
  return c
