"""Phase 1, experiment 1.1: are heavy-tailed weight gradients architectural? A two-layer FFN y = W_out σ(W_in x),
x ~ N(0, I), trained by an injected upstream gradient ∇_y L drawn from data.upstream; gradient clips as lanes.

    python -m tailjax.main --config=configs/phase1_1.py --workdir=runs/p11_d128
    python -m tailjax.main --config=configs/phase1_1.py --config.data.upstream=cauchy --workdir=runs/p11_cauchy
    launch/phase1_1_widths.sh runs/p11          # widths 64, 128, 256, 512, then alpha_vs_width.png

α of ∇W_in and ∇W_out is measured every 100 steps (the study's alpha_interval) from 64 per-example gradients, with
Hill, Pickands and moments at k/n = 0.05, 0.1, 0.2 and the stable index; verdicts at the end.
"""

from configs import base


def get_config():
  c = base.get_config()
  c.data.name = "injected"
  c.data.upstream = "normal"  # the study's synthetic.grad_dist: normal | cauchy | laplace | uniform
  c.model.name = "ffn"
  c.model.d_model = 128  # the width d; the study's widths are 64, 128, 256, 512 (one run each)
  c.model.mlp_ratio = 1  # hidden units = d
  c.optim.clip = None
  c.optim.warmup_steps = 0
  c.train.steps = 10_000
  c.eval.every = 1000
  c.checkpoint.every = 1000
  c.sweep.batch_sizes = (256,)
  c.sweep.learning_rates = (1e-3,)
  c.sweep.clips = (None, 1.0, 0.1)  # the study's gradient_clips, as lanes of one program
  c.measure.every = 100
  c.measure.steps = (0,)
  c.measure.examples = 64
  c.output.tensorboard = False
  return c
