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

from tailjax.tails.order_stats import (
  abs_flat,
  kth_largest,
  kth_largest_many,
  log_excess_sums,
  log_excess_sums_above,
  top_desc,
)


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


def _linear_quantile(s_NxD, q, n_D, skip_at_D=None, skip_D=None):
  """numpy's "linear" q-quantile of each column of a column-sorted array, over its first n_D values, or over the
  column without the block of skip_D values starting at row skip_at_D (then n_D is the count left)."""
  p_D = q * (n_D - 1).astype(jnp.float32)
  low_D, high_D = jnp.floor(p_D), jnp.ceil(p_D)
  w_D = p_D - low_D

  def at(j_D):
    j_D = jnp.clip(j_D.astype(jnp.int32), 0, jnp.maximum(n_D - 1, 0))
    if skip_D is not None:
      j_D = jnp.where(j_D < skip_at_D, j_D, j_D + skip_D)
    return jnp.take_along_axis(s_NxD, j_D[None], axis=0)[0]

  return at(low_D) * (1 - w_D) + at(high_D) * w_D


@jax.jit
def robust_scale(x_NxD):
  """((x − median) / (IQR / 1.349), usable) per column of an [N, D] array; z = 0 where a column is unusable.

  The interquartile range (= σ for a Gaussian) ignores the extremes, so no tail is capped. It is taken over the
  values that differ from the column's median: where many examples give one exact value (a ReLU-gated gradient is
  one value for every example whose unit is off), that atom would otherwise set the scale, and a scale that follows
  each column's atom fraction pools coordinates into a scale mixture again. The atom itself maps to exactly 0. A
  column is unusable when fewer than 8 of its values differ from the median, or they have no spread.

  Each column is sorted once; the median and both quartiles are read from it (numpy's linear interpolation, the
  quartiles over the column with the median's block of equal values skipped): `jnp.median` and `jnp.nanquantile`
  would sort it twice more, and this runs on every tensor at every measurement.
  """
  n = x_NxD.shape[0]
  s_NxD = jnp.sort(x_NxD, axis=0)
  all_D = jnp.full(x_NxD.shape[1:], n, jnp.int32)
  med_D = _linear_quantile(s_NxD, 0.5, all_D)
  below_D = jnp.sum(s_NxD < med_D, axis=0, dtype=jnp.int32)
  atom_D = jnp.sum(s_NxD == med_D, axis=0, dtype=jnp.int32)
  off_D = n - atom_D
  q25_D, q75_D = (_linear_quantile(s_NxD, q, off_D, below_D, atom_D) for q in (0.25, 0.75))
  iqr_D = jnp.where(off_D > 0, (q75_D - q25_D) / 1.349, 0.0)
  ok_D = (iqr_D > 0) & (off_D >= 8)
  return jnp.where(ok_D, (x_NxD - med_D) / jnp.where(ok_D, iqr_D, 1.0), 0.0), ok_D


def _isqrt(v):
  """⌊√v⌋ of a positive int32 (traced), exact: the float root corrected by one either way."""
  r = jnp.floor(jnp.sqrt(v.astype(jnp.float32))).astype(jnp.int32)
  r = jnp.where((r + 1) * (r + 1) <= v, r + 1, r)
  return jnp.where(r * r > v, r - 1, r)


def mohammadi_masked(x_B, n):
  """`mohammadi` on the first n values of x_B (the rest padding; n may be traced), with blocks of
  k1 = ⌊√(b/2)⌋ values, b the next power of two ≥ max(n, 16) (≈ √n, the same for every n of one power-of-two size).
  Block sums are segment sums with a traced block size, so one compiled program serves every n up to x_B's size."""
  x = x_B.astype(jnp.float32)
  size = x.shape[0]
  n = jnp.asarray(n, jnp.int32)
  bits = 32 - jax.lax.clz(jnp.maximum(n, 16) - 1)  # b = 2^bits
  k1 = jnp.maximum(_isqrt(jnp.left_shift(1, bits - 1)), 2)
  k2 = n // k1  # complete blocks of real values
  i_B = jnp.arange(size)
  in_B = i_B < k2 * k1
  y_K = jax.ops.segment_sum(jnp.where(in_B, x, 0.0), jnp.where(in_B, i_B // k1, size // 2), num_segments=size // 2 + 1)
  in_K = jnp.arange(size // 2 + 1) < k2
  mean_log_y = jnp.sum(jnp.where(in_K, jnp.log(jnp.abs(jnp.where(in_K, y_K, 1.0))), 0.0)) / k2
  mean_log_x = jnp.sum(jnp.where(in_B, jnp.log(jnp.abs(jnp.where(in_B, x, 1.0))), 0.0)) / (k2 * k1)
  return jnp.log(k1.astype(jnp.float32)) / (mean_log_y - mean_log_x)


def padded_estimates(x_B, n, k_ratios: tuple, curve_K=None):
  """The measurement's estimators on the first n values of x_B (zero padding after them never reaches a top order
  statistic): Hill, Pickands (at k/4) and the moments ξ at k = ⌊r·n⌋ for each static ratio r, Mohammadi's stable
  index, and Hill at each k of `curve_K` (traced, or None for no curve: the Hill plot). Every order statistic comes
  from one selection loop run per k (`kth_largest_many`), so the program compiles one loop, not one per statistic."""
  a = abs_flat(x_B)
  n = jnp.asarray(n, jnp.int32)
  k_R = jnp.stack([jnp.maximum(jnp.floor(r * n).astype(jnp.int32), 1) for r in k_ratios])
  j_R = jnp.maximum(k_R // 4, 1)
  curve_K = jnp.zeros((0,), jnp.int32) if curve_K is None else jnp.asarray(curve_K, jnp.int32)
  curve_K = jnp.clip(curve_K, 1, jnp.maximum(n - 1, 1))
  t = kth_largest_many(a, jnp.clip(jnp.concatenate([k_R + 1, j_R, 2 * j_R, 4 * j_R, curve_K + 1]), 1, n))
  count = len(k_ratios)
  t_k, t_j, t_2j, t_4j = (t[i * count : (i + 1) * count] for i in range(4))
  t_c = t[4 * count :]
  out = {}
  for i, r in enumerate(k_ratios):
    sum_d, sum_d2, _ = log_excess_sums_above(a, t_k[i])
    m1, m2 = sum_d / k_R[i], sum_d2 / k_R[i]
    out[("hill", r)] = k_R[i] / sum_d
    xi = jnp.log((t_j[i] - t_2j[i]) / (t_2j[i] - t_4j[i])) / math.log(2.0)
    out[("pickands", r)] = jnp.where(xi > 0, 1.0 / xi, jnp.nan)
    out[("moments_xi", r)] = m1 + 1.0 - 0.5 / (1.0 - m1**2 / m2)
  out[("stable_mohammadi", None)] = jnp.clip(mohammadi_masked(x_B, n), 1e-6, 2.0)
  if curve_K.shape[0] == 0:
    return out, jnp.zeros((0,), jnp.float32)
  # one reduction body run per k (lax.map), not K unrolled ones: the program compiles in half the time
  return out, jax.lax.map(lambda ct: ct[0] / log_excess_sums_above(a, ct[1])[0], (curve_K.astype(jnp.float32), t_c))
