"""Phase 2.5 of the study: the LR x batch-size grid on WikiText-2 characters (vocabulary 128).

    python -m tailjax.main --config=configs/phase2_5.py --workdir=runs/p25

NanoTransformer d_model 128, 4 layers, 4 heads; B 32, 64, 128, 256; LR 1e-4 ... 1e-2; 10,000 steps; AdamW, clip 1.0,
warmup 200. The study's sequence length and weight decay are not in its write-up: 256 and 0.01 here (as its Phase 2).
The offline data has no wiki.train.raw, so this trains on wiki.valid.raw and evaluates on wiki.test.raw, and says so.
"""

from configs import base


def get_config():
  c = base.get_config()
  c.data.name = "wikitext2"
  c.data.seq_len = 256
  c.data.allow_valid_as_train = True
  c.model.d_model = 128
  c.optim.clip = 1.0
  c.optim.warmup_steps = 200
  c.train.steps = 10_000
  c.eval.every = 500
  c.checkpoint.every = 1000
  c.sweep.batch_sizes = (32, 64, 128, 256)
  c.sweep.learning_rates = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
  return c
