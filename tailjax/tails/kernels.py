"""The estimators' jitted kernels, without the input checks: what code that is already inside a jitted measurement
calls (the noise measurement runs them on the device on every parameter group). `estimators` wraps each with the
checks a user-facing call needs. docs/science.md says which "α" each returns.

  hill(x, k), hill_curve(x, ks)   tail index α̂ = 1/ξ̂ from the top k order statistics of |x|
  pickands(x, k)                  α̂ from X(k), X(2k), X(4k); NaN where ξ̂ ≤ 0
  moments(x, k)                   Dekkers–Einmahl–de Haan ξ̂ (≤ 0: no power-law tail)
  mohammadi(x, k1), ecf(x)        stable index (unclipped: the caller clips to (0, 2])
"""

import math

import jax
import jax.numpy as jnp

from tailjax.tails.order_stats import abs_flat, kth_largest, log_excess_sums, top_desc


@jax.jit
def hill(x, k):
  """Hill's α̂ = k / Σ_{i≤k} (ln X(i) − ln X(k+1)); k may be traced."""
  sum_d, _, _ = log_excess_sums(abs_flat(x), k)
  return k / sum_d


@jax.jit(static_argnames="ks")
def hill_curve(x, ks: tuple[int, ...]):
  """Hill's α̂ at every k in `ks` (static) from one selection of the top max(ks) + 1."""
  logs = jnp.log(top_desc(x, max(ks) + 1))
  mean_first_k = jnp.cumsum(logs) / jnp.arange(1, logs.shape[0] + 1)
  k_K = jnp.asarray(ks)
  return 1.0 / (mean_first_k[k_K - 1] - logs[k_K])


@jax.jit
def pickands(x, k):
  """Pickands' α̂ = ln 2 / ln[(X(k) − X(2k)) / (X(2k) − X(4k))]; NaN where ξ̂ ≤ 0."""
  a = abs_flat(x)
  xk, x2k, x4k = (kth_largest(a, j) for j in (k, 2 * k, 4 * k))
  xi = jnp.log((xk - x2k) / (x2k - x4k)) / math.log(2.0)
  return jnp.where(xi > 0, 1.0 / xi, jnp.nan)


@jax.jit
def moments(x, k):
  """Dekkers–Einmahl–de Haan ξ̂ = M1 + 1 − ½(1 − M1²/M2)^(−1)."""
  sum_d, sum_d2, _ = log_excess_sums(abs_flat(x), k)
  m1, m2 = sum_d / k, sum_d2 / k
  return m1 + 1.0 - 0.5 / (1.0 - m1**2 / m2)


@jax.jit(static_argnames="k1")
def mohammadi(x, k1: int):
  """Mohammadi et al.'s (2015) stable index from block sums of k1 values: 1/α̂ = (mean ln|Y| − mean ln|X|) / ln k1."""
  x = jnp.ravel(x).astype(jnp.float32)
  k2 = x.shape[0] // k1
  x = x[: k1 * k2]
  y_K2 = x.reshape(k2, k1).sum(1)
  inv_alpha = (jnp.mean(jnp.log(jnp.abs(y_K2))) - jnp.mean(jnp.log(jnp.abs(x)))) / math.log(k1)
  return 1.0 / inv_alpha


@jax.jit
def ecf(x):
  """Koutrouvelis' (1980) stable index: the slope of ln(−ln|φ̂(t)|²) on ln t, t_k = πk/25, k = 1…10."""
  x = jnp.ravel(x).astype(jnp.float32)
  n = x.shape[0]
  low = jnp.min(x)  # quartiles by selection on x − min ≥ 0: a full sort would take seconds at 1e7 on a CPU
  q25, q50, q75 = (kth_largest(x - low, max(n - int(q * (n - 1)), 1)) + low for q in (0.25, 0.5, 0.75))
  z = (x - q50) / ((q75 - q25) / 2.0)  # centred, unit semi-interquartile range (≈ unit scale for α near 2 or 1)
  t_K = jnp.pi * jnp.arange(1, 11) / 25.0
  # One reduction per t and per part: a [10, n] array would not fit in memory at 1e8 values.
  re_K = jnp.stack([jnp.mean(jnp.cos(t * z)) for t in t_K])
  im_K = jnp.stack([jnp.mean(jnp.sin(t * z)) for t in t_K])
  phi2_K = re_K**2 + im_K**2
  u, v = jnp.log(t_K), jnp.log(-jnp.log(phi2_K))
  return jnp.sum((u - u.mean()) * (v - v.mean())) / jnp.sum((u - u.mean()) ** 2)  # least-squares slope
