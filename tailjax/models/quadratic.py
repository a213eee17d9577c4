"""The noisy quadratic model (Zhang et al. 2019) as a model the engine trains: the known answer for the β pipeline.

Parameters θ ∈ R^D start at `theta0`; the loss is L(θ) = ½ Σ_i h_i θ_i² with h_i = i^(−p); one example is a noise
vector ξ ∈ R^D, and its surrogate loss ½ Σ h θ² + Σ √h_i ξ_i θ_i has the gradient Hθ + √h ⊙ ξ (noise covariance ∝ H),
so a batch of B examples averages B such gradients. The validation loss is the exact L(θ). The noise laws are scaled
to unit variance (the stable law, which has none, to unit scale): `analysis/nqm.py` has the closed form of SGD's
expected loss for every finite-variance law.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


def curvatures(d: int, power: float) -> jax.Array:
  """h_i = i^(−power), i = 1…d: [d]."""
  return jnp.arange(1, d + 1, dtype=jnp.float32) ** (-power)


class Quadratic(nn.Module):
  d: int  # dimension D (model.d_model)
  power: float  # spectrum exponent p (data.spectrum_power)
  theta0: float  # every coordinate's start (model.theta0)

  @nn.compact
  def __call__(self, xi_BxD):
    """The per-example surrogate losses [B] of noise vectors ξ [B, D]."""
    theta_D = self.param("theta", nn.initializers.constant(self.theta0), (self.d,))
    h_D = curvatures(self.d, self.power)
    return 0.5 * jnp.sum(h_D * theta_D**2) + xi_BxD @ (jnp.sqrt(h_D) * theta_D)

  def exact_loss(self):
    """L(θ) = ½ Σ h θ², with no noise (the validation loss)."""
    theta_D = self.get_variable("params", "theta")
    return 0.5 * jnp.sum(curvatures(self.d, self.power) * theta_D**2)


def draw_noise(key, law: str, param: float, shape) -> jax.Array:
  """Noise of the named law: unit variance for normal, laplace and student_t (ν = param > 2), unit scale for the
  symmetric α-stable law (α = param in (0, 2]), drawn by Chambers, Mallows and Stuck (1976): jax.random has no
  stable sampler."""
  if law == "normal":
    return jax.random.normal(key, shape)
  if law == "laplace":
    return jax.random.laplace(key, shape) / jnp.sqrt(2.0)
  if law == "student_t":
    if float(param).is_integer() and param <= 64:
      # Z / sqrt(χ²_ν / ν), exact and loop-free: χ²_ν = −2 Σ_{j ≤ ν//2} ln U_j (+ Z'² for odd ν). jax.random.t draws
      # a gamma by rejection (a while loop per value): a row of 64 lanes at B = 4 took 140 s against 12 s for normal
      # noise. Measured per 256 × 1000 draw: normal 1.8 ms, this 5.5 ms at ν = 3, ν squared normals 14.5 ms.
      k_z, k_u, k_n = jax.random.split(key, 3)
      n_exp = int(param) // 2
      u = jax.random.uniform(k_u, (n_exp, *shape), minval=jnp.finfo(jnp.float32).tiny)
      chi2 = -2.0 * jnp.sum(jnp.log(u), axis=0)
      if int(param) % 2:
        chi2 = chi2 + jax.random.normal(k_n, shape) ** 2
      t = jax.random.normal(k_z, shape) / jnp.sqrt(chi2 / param)
    else:
      t = jax.random.t(key, param, shape)
    return t * jnp.sqrt((param - 2.0) / param)
  if law == "stable":
    # V = π(u − ½) with cos V written as sin(π min(u, 1 − u)): in float32, cos(−π/2) is −4e-8, and a negative base
    # to the power 1/α is NaN. uniform's minval is reachable, so at ~10^10 draws a row (B = 256) the naive form made
    # whole lanes NaN and the sweep read them as diverged. W is kept off 0 for the same reason.
    k_v, k_w = jax.random.split(key)
    u = jax.random.uniform(k_v, shape)
    v = jnp.pi * (u - 0.5)
    floor = 2.0**-25  # below float32's spacing of u near 0: the largest draw stays finite for α down to ~0.3
    m = jnp.maximum(jnp.minimum(u, 1.0 - u), floor)  # |V| = π(½ − m)
    cos_v = jnp.sin(jnp.pi * m)
    a = param
    c = abs(1.0 - a)  # cos((1 − α)V) = sin(π(½(1 − c) + c m)) > 0 likewise (at α = 2 it is cos V)
    cos_av = jnp.sin(jnp.pi * (0.5 * (1.0 - c) + c * m))
    w = jnp.maximum(jax.random.exponential(k_w, shape), floor)
    return jnp.sin(a * v) / cos_v ** (1 / a) * (cos_av / w) ** ((1 - a) / a)
  raise ValueError(f"unknown noise law {law!r}")
