"""The estimators' jitted kernels, without the input checks: what code that is already inside a jitted measurement
calls (the noise measurement runs them on the device on every parameter group). `estimators` wraps each with the
checks a user-facing call needs. docs/science.md says which "α" each returns.

  hill(x, k), hill_curve(x, ks)   tail index α̂ = 1/ξ̂ from the top k order statistics of |x|
  pickands(x, k)                  α̂ from X(k), X(2k), X(4k); NaN where ξ̂ ≤ 0
  moments(x, k)                   Dekkers–Einmahl–de Haan ξ̂ (≤ 0: no power-law tail)
  mohammadi(x, k1), ecf(x)        stable index (unclipped: the caller clips to (0, 2])
  robust_scale(x_NxD)             columns scaled by their interquartile range (robust pooling)
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


def kth_largest_signed(x_N, k: int):
  """The exact k-th largest value (1-based, k static) of a 1-D array of any sign: positives and negatives are
  selected apart, each as magnitudes (what `kth_largest` takes), so nothing is shifted or rounded."""
  n = x_N.shape[0]
  n_pos, n_nonneg = jnp.sum(x_N > 0), jnp.sum(x_N >= 0)
  from_top = kth_largest(jnp.maximum(x_N, 0.0), k)  # right when k <= n_pos
  from_bottom = -kth_largest(jnp.maximum(-x_N, 0.0), n - k + 1)  # right when k > n_nonneg
  return jnp.where(k <= n_pos, from_top, jnp.where(k <= n_nonneg, 0.0, from_bottom))


@jax.jit
def ecf(x):
  """Koutrouvelis' (1980) stable index: the slope of ln(−ln|φ̂(t)|²) on ln t, t_k = πk/25, k = 1…10."""
  x = jnp.ravel(x).astype(jnp.float32)
  n = x.shape[0]
  # Quartiles by selection (a full sort takes seconds at 1e7 on a CPU), on x itself: shifting x by its minimum first
  # loses every digit of the quartiles in float32 when one value is extreme (a Cauchy draw of 1e9), giving q75 = q25.
  q25, q50, q75 = (kth_largest_signed(x, max(n - int(q * (n - 1)), 1)) for q in (0.25, 0.5, 0.75))
  z = (x - q50) / ((q75 - q25) / 2.0)  # centred, unit semi-interquartile range (≈ unit scale for α near 2 or 1)
  t_K = jnp.pi * jnp.arange(1, 11) / 25.0
  # One reduction per t and per part: a [10, n] array would not fit in memory at 1e8 values.
  re_K = jnp.stack([jnp.mean(jnp.cos(t * z)) for t in t_K])
  im_K = jnp.stack([jnp.mean(jnp.sin(t * z)) for t in t_K])
  phi2_K = re_K**2 + im_K**2
  u, v = jnp.log(t_K), jnp.log(-jnp.log(phi2_K))
  return jnp.sum((u - u.mean()) * (v - v.mean())) / jnp.sum((u - u.mean()) ** 2)  # least-squares slope


@jax.jit
def robust_scale(x_NxD):
  """((x − median) / (IQR / 1.349), usable) per column of an [N, D] array; z = 0 where a column is unusable.

  The interquartile range (= σ for a Gaussian) ignores the extremes, so no tail is capped. It is taken over the
  values that differ from the column's median: where many examples give one exact value (a ReLU-gated gradient is
  one value for every example whose unit is off), that atom would otherwise set the scale, and a scale that follows
  each column's atom fraction pools coordinates into a scale mixture again. The atom itself maps to exactly 0. A
  column is unusable when fewer than 8 of its values differ from the median, or they have no spread.
  """
  med_D = jnp.median(x_NxD, axis=0)
  off_NxD = jnp.where(x_NxD == med_D, jnp.nan, x_NxD)
  q25_D, q75_D = jnp.nanquantile(off_NxD, jnp.array([0.25, 0.75]), axis=0)
  iqr_D = jnp.nan_to_num((q75_D - q25_D) / 1.349)
  ok_D = (iqr_D > 0) & (jnp.sum(~jnp.isnan(off_NxD), axis=0) >= 8)
  return jnp.where(ok_D, (x_NxD - med_D) / jnp.where(ok_D, iqr_D, 1.0), 0.0), ok_D


@jax.jit(static_argnames="k1")
def mohammadi_padded(x_B, n, k1: int):
  """`mohammadi` on the first n values of x_B (the rest padding; n may be traced): blocks of k1 past n are masked,
  so one compiled program serves every n that fits in the padded size."""
  x = x_B.astype(jnp.float32)
  blocks = x.shape[0] // k1
  k2 = n // k1  # complete blocks of real values
  y_K = x[: blocks * k1].reshape(blocks, k1).sum(1)
  in_K = jnp.arange(blocks) < k2
  in_B = jnp.arange(x.shape[0]) < k2 * k1
  mean_log_y = jnp.sum(jnp.where(in_K, jnp.log(jnp.abs(jnp.where(in_K, y_K, 1.0))), 0.0)) / k2
  mean_log_x = jnp.sum(jnp.where(in_B, jnp.log(jnp.abs(jnp.where(in_B, x, 1.0))), 0.0)) / (k2 * k1)
  return math.log(k1) / (mean_log_y - mean_log_x)
