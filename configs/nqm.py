"""The noisy quadratic model (Zhang et al. 2019): a known answer for the whole β pipeline.

    python -m tailjax.main --config=configs/nqm.py:sgd --workdir=runs/nqm_sgd
    python -m tailjax.main --config=configs/nqm.py:adamw --config.data.noise=laplace --workdir=runs/nqm_adamw_laplace

θ ∈ R^1000 from θ_i = 1, L(θ) = ½ Σ i^-1 θ_i², one example's gradient Hθ + √h ⊙ ξ with ξ from data.noise (normal,
laplace, student_t with ν = data.noise_param, stable with α = data.noise_param). `sgd` (momentum 0, no decay, clip or
warmup) is the case with a closed form: analysis/nqm.py gives its exact LR*(B) for every finite-variance law.
B 1…256, an LR grid in steps of √2 extended automatically until each optimum is bracketed, 8 seeds as lanes, 1000
steps, the gradient noise's tails measured at steps 0 and 1000.
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
  # Steps of √2: the expected loss is flat around LR* at small B (×√2 costs 4% at B = 1), so a coarser grid cannot put
  # an optimum within 15% of LR*; 8 seeds average the final loss (its spread over seeds is ~12% at B = 1).
  sgd_lrs = (0.125, 0.177, 0.25, 0.354, 0.5, 0.707, 1.0, 1.41)  # LR* 0.18 (B = 1) … 1.43 (B = 256); η ≥ 2 diverges
  adam_lrs = (0.0028, 0.004, 0.0057, 0.008, 0.0113, 0.016, 0.0226, 0.032)
  c.sweep.learning_rates = sgd_lrs if variant == "sgd" else adam_lrs
  c.sweep.seeds = tuple(range(8))
  c.sweep.auto_extend = True
  c.measure.seeds = (0,)  # the noise is the same law in every lane: one seed's lanes measure it (8 a row, not 64)
  c.measure.steps = (0, 1000)  # the per-example gradient noise's tails at the start and the end (verdicts at the end)
  return c
