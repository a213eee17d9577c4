"""The noisy quadratic model (Zhang et al. 2019; models/quadratic.py): the known answer for the β pipeline.

A batch is B noise vectors ξ [B, D] of data.noise's law, drawn on the device; the validation loss is the exact
L(θ) = ½ Σ h θ², not an estimate from batches. Reference losses: L(θ0), where a lane that never moved stays (it
learned nothing), and 0, the minimum. Under plain SGD analysis/nqm.py has its exact LR*(B) and steps to a target.
"""

MODELS = ("quadratic",)
DATA = ("noisy_quadratic",)
WHAT = "the noisy quadratic model draws its own noise"
UNIT = "examples"
CONFIG = "configs/nqm.py"


def check_model(m) -> None:
  """θ0 a finite number."""
  from tailjax import value_checks
  from tailjax.errors import UserError

  if not value_checks.is_number(m.theta0):
    raise UserError(f"model.theta0 must be a finite number, got {m.theta0!r}; pass --config.model.theta0=1.0")


def check(cfg) -> None:
  """Student-t noise with a finite variance; a stable law's α in (0, 2]."""
  from tailjax import value_checks
  from tailjax.errors import UserError

  d = cfg.data
  number = value_checks.is_number(d.noise_param)
  if d.noise == "student_t" and not (number and d.noise_param > 2):
    raise UserError(f"data.noise_param = {d.noise_param!r}: Student-t noise needs ν > 2 (a finite variance); pass "
                    "--config.data.noise_param=3 (say), or data.noise=stable for infinite variance")  # fmt: skip
  if d.noise == "stable" and not (number and 0 < d.noise_param <= 2):
    raise UserError(f"data.noise_param = {d.noise_param!r}: a stable law's α lies in (0, 2]; pass "
                    "--config.data.noise_param=1.5 (say)")  # fmt: skip


def l_theta0(cfg) -> float:
  """L(θ0) = ½ θ0² Σ h_i, in float64."""
  import numpy as np

  h_D = np.arange(1, cfg.model.d_model + 1, dtype=np.float64) ** (-float(cfg.data.spectrum_power))
  return float(0.5 * cfg.model.theta0**2 * h_D.sum())


def build(cfg):
  import jax.numpy as jnp
  import numpy as np

  from tailjax.models import param_kinds, quadratic
  from tailjax.tasks import base

  d, data = cfg.model.d_model, cfg.data
  model = quadratic.Quadratic(d, data.spectrum_power, cfg.model.theta0)
  start = l_theta0(cfg)
  fp = {
    "name": "noisy_quadratic", "source": f"no corpus: noise {data.noise} drawn per example and coordinate",
    "sha256": None, "vocab_size": 1, "ln_vocab": start, "unigram_entropy": 0.0, "train_tokens": 0, "val_tokens": 0,
    "kind": "quadratic", "noise": data.noise, "noise_param": data.noise_param, "spectrum_power": data.spectrum_power,
  }  # fmt: skip
  return base.Task(
    name="noisy_quadratic",
    init=lambda key: model.init(key, jnp.zeros((1, d), jnp.float32))["params"],
    loss=lambda params, xi_BxD: model.apply({"params": params}, xi_BxD).mean(),
    train_data=np.zeros((1,), np.float32),  # nothing: the sampler draws every example
    sample=lambda _, key, n: quadratic.draw_noise(key, data.noise, data.noise_param, (n, d)),
    exact_loss=lambda params: model.apply({"params": params}, method=quadratic.Quadratic.exact_loss),
    chance_loss=start,
    chance_name="L(θ0)",
    chance_means="the start: learned nothing",
    references=(base.Reference("minimum", 0.0, "the minimum"),),
    loss_unit="units of L = ½ Σ h θ²",
    # under stable noise θ gathers α-stable jumps, so θ² has tail index α/2 < 1 and E[L] is infinite: a mean over
    # seeds is ruled by the one seed that jumped furthest; the median is the typical run
    seed_statistic="median" if data.noise == "stable" else "mean",
    known_answer="noisy_quadratic",  # analysis/nqm.py's closed form (nqm.KNOWN_ANSWER)
    flops_per_example=6 * d,  # the gradient Hθ + √h ⊙ ξ and the loss: a few FLOPs per coordinate
    kind_fn=param_kinds.group_kind,
    n_train=None,
    fingerprint=fp,
    describe=f"data noisy_quadratic: noise {data.noise}, L(θ0) = {start:.4g} (nothing learned), minimum 0",
    identity=base.config_identity("quadratic", cfg),
  )
