"""The noisy quadratic model (issue 15; Zhang et al. 2019): a known answer for the whole β pipeline.

    python -m tailjax.main --config=configs/nqm.py:sgd --workdir=runs/nqm_sgd
    python -m tailjax.main --config=configs/nqm.py:adamw --config.data.noise=laplace --workdir=runs/nqm_adamw_laplace

θ ∈ R^1000 from θ_i = 1, L(θ) = ½ Σ i^-1 θ_i², one example's gradient Hθ + √h ⊙ ξ with ξ from data.noise (normal,
laplace, student_t with ν = data.noise_param, stable with α = data.noise_param). `sgd` (momentum 0, no decay, clip or
warmup) is the case with a closed form: analysis/nqm.py gives its exact LR*(B) for every finite-variance law.
B 1…256, an LR grid extended automatically until each optimum is bracketed, 4 seeds as lanes, 1000 steps, the
gradient noise's tails measured at steps 0, 500 and 1000.
"""

from configs import base


def get_config(variant: str = "sgd"):
  if variant not in ("sgd", "adamw"):
    raise ValueError(f"configs/nqm.py takes :sgd or :adamw, not {variant!r}")
  c = base.get_config()
  c.data.name = "noisy_quadratic"
  c.model.name = "quadratic"
  c.model.d_model = 1000
  c.optim.name = variant
  c.optim.momentum = 0.0
  c.optim.weight_decay = 0.0
  c.optim.clip = None
  c.optim.warmup_steps = 0
  c.train.steps = 1000
  c.eval.every = 250
  c.checkpoint.every = 0
  c.sweep.batch_sizes = (1, 4, 16, 64, 256)
  c.sweep.learning_rates = (0.1, 0.18, 0.32, 0.56, 1.0, 1.78) if variant == "sgd" else (0.003, 0.01, 0.03, 0.1)
  c.sweep.seeds = (0, 1, 2, 3)
  c.sweep.auto_extend = True
  c.measure.every = 500  # the per-example gradient noise's tails at steps 0, 500, 1000 (verdicts at the end)
  return c
