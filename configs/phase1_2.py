"""Phase 1, experiment 1.2: layer-wise tails of real gradient noise in the study's 4-layer NanoTransformer.

    python -m tailjax.main --config=configs/phase1_2.py --workdir=runs/p12
    python -m tailjax.main --config=configs/phase1_2.py --config.model.d_model=256 --workdir=runs/p12_d256
    python -m tailjax.main --config=configs/phase1_2.py --config.data.name=tinyshakespeare --workdir=runs/p12_tiny

Synthetic token sequences (uniform random tokens, V = 65: a model can learn nothing but the frequencies) by default,
a real corpus by one override. The gradient noise g_i − ḡ of 64 examples is measured at steps 100, 1000 and 10000
for every parameter tensor and pooled by kind (attention, ffn, vector = biases and norms, embedding, head):
alpha.csv, verdicts.csv, noise_scale.csv, param_stats.csv and the Phase 1 plots (README, "Gradient-noise tails").
"""

from configs import base


def get_config():
  c = base.get_config()
  c.data.name = "random_tokens"
  c.data.seq_len = 128
  c.model.d_model = 128
  c.model.n_layers = 4
  c.model.n_heads = 2
  c.train.steps = 10_000
  c.eval.every = 1000
  c.checkpoint.every = 1000
  c.sweep.batch_sizes = (64,)
  c.sweep.learning_rates = (1e-3,)
  c.measure.steps = (100, 1000, 10_000)
  c.measure.examples = 64
  return c
