"""Phase 2 plan of the study: the LR x batch-size grid on TinyShakespeare characters.

    python -m tailjax.main --config=configs/phase2.py --workdir=runs/p2
    python -m tailjax.main --config=configs/phase2.py --config.data.name=random_tokens --workdir=runs/p2_random

d_model 64, 4 layers, 4 heads, sequence 256; B 8 ... 512; 7 LRs 3e-5 ... 3e-2; 5,000 steps; AdamW (0.9, 0.999),
weight decay 0.01, warmup 100. The second command is the study's first attempt, on uniform random tokens: nothing is
learnable there, every loss sits at ln V = ln 65 = 4.17.
"""

from configs import base


def get_config():
  c = base.get_config()
  c.data.name = "tinyshakespeare"
  c.data.seq_len = 256
  c.optim.warmup_steps = 100
  c.optim.weight_decay = 0.01
  c.train.steps = 5_000
  c.eval.every = 500
  c.checkpoint.every = 1000
  c.sweep.batch_sizes = (8, 16, 32, 64, 128, 256, 512)
  c.sweep.learning_rates = (3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
  return c
