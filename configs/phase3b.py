"""Phase 3b of the study: does clipping explain the scaling? Clip thresholds ride the lane axis.

    python -m tailjax.main --config=configs/phase3b.py --workdir=runs/p3b

Phase 2.5's model and data; B 32 and 256; clip None, 1.0, 0.1, 0.01 as lanes; 5,000 steps. The study planned LR 0.001
for B=32 and Phase 3a's optimum for B=256; every lane of a row shares its LR grid, so both LRs run for both batch sizes
(results.csv has clip_frequency and mean_grad_norm per lane). Set the second LR to your Phase 3a optimum.
"""

from configs import phase2_5


def get_config():
  c = phase2_5.get_config()
  c.train.steps = 5_000
  c.sweep.batch_sizes = (32, 256)
  c.sweep.learning_rates = (0.001, 0.01)
  c.sweep.clips = (None, 1.0, 0.1, 0.01)
  return c
