"""The Clauset–Shalizi–Newman search for x_min on a sample held as distinct values with weights, jitted: the fit, the
bootstrap of the whole fit (x_min chosen again in every resample; values or whole examples resampled), and the
semi-parametric goodness-of-fit test.

A sample is its distinct magnitudes in descending order with their counts. Ties stay together: the tail above a
candidate x_min is every value ≥ x_min, never a split of a tied value. A bootstrap resample is the same values with
Poisson counts (Poisson(1) per data point), so nothing is ever sorted again; a synthetic data set of the
goodness-of-fit test is a sorted power-law tail (built from sorted uniforms, no sort) above the data's own body.
Arrays are padded to a power of two with zero weights, so one compiled program serves every sample of that size.

Kolmogorov–Smirnov distances are read on a grid of GRID quantiles of each candidate tail (every tail point when the
tail is smaller): between grid points the empirical CDF moves by less than 1/GRID, so each distance is within 1/GRID
of the exact one, at a cost that does not grow with the tail.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

GRID = 4096
GOF_GRID = 1024  # the goodness-of-fit test reads the data's KS and its synthetic sets' alike on this coarser grid
_POISSON_MAX = 8  # Poisson(λ) for λ = 0 … 8 by inverting its CDF; above, the normal approximation


def distinct_of_descending(a_desc) -> tuple[np.ndarray, np.ndarray]:
  """(distinct values of magnitudes already sorted descending, in that order; their counts), both numpy: read off the
  sorted array (no second sort)."""
  a = np.asarray(a_desc)
  starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
  return a[starts].copy(), np.diff(np.r_[starts, a.size])


def padded(values_U, counts_U, at_least: int = 1024):
  """Log-values (centred on the largest) and float weights padded with zero weight to a power of two."""
  size = max(at_least, 1 << int(math.ceil(math.log2(max(values_U.size, 2)))))
  logv = np.log(values_U.astype(np.float64))
  logv_P = np.full(size, logv[-1] - logv[0], np.float32)
  logv_P[: logv.size] = logv - logv[0]
  w_P = np.zeros(size, np.float32)
  w_P[: counts_U.size] = counts_U
  return jnp.asarray(logv_P), jnp.asarray(w_P)


def candidate_counts(k_min: int, k_max: int, n_candidates: int) -> np.ndarray:
  """Tail sizes (in data points) to try as x_min, log-spaced from k_min to k_max, always `n_candidates` of them
  (repeats allowed: a static shape)."""
  return np.geomspace(min(k_min, k_max), k_max, n_candidates).astype(np.float32)


def search(logv_P, w_P, targets_C, grid: int = GRID):
  """Every candidate's fit: for each target tail size, x_min is the largest value whose tail (all values ≥ it)
  reaches that many points. Returns (x_min index u_C, tail weight W_C, tail index c_C, KS distance ks_C)."""
  cum_w = jnp.cumsum(w_P)
  cum_s = jnp.cumsum(w_P * logv_P)
  t_C = jnp.clip(targets_C, 0.5, cum_w[-1])
  u_C = jnp.searchsorted(cum_w, t_C, side="left")
  W_C = cum_w[u_C]
  logx_C = logv_P[u_C]
  c_C = W_C / jnp.maximum(cum_s[u_C] - W_C * logx_C, 1e-30)  # continuous MLE: tail index = W / Σ w ln(x/x_min)
  q_G = (jnp.arange(grid, dtype=jnp.float32) + 0.5) / grid
  i_CxG = jnp.minimum(jnp.searchsorted(cum_w, q_G[None, :] * W_C[:, None], side="left"), u_C[:, None])
  above_CxG = cum_w[i_CxG] / W_C[:, None]  # empirical P(X ≥ v_i) within the tail
  strictly_CxG = (cum_w[i_CxG] - w_P[i_CxG]) / W_C[:, None]  # P(X > v_i)
  fit_CxG = jnp.exp(-c_C[:, None] * (logv_P[i_CxG] - logx_C[:, None]))
  ks_C = jnp.max(jnp.maximum(jnp.abs(above_CxG - fit_CxG), jnp.abs(strictly_CxG - fit_CxG)), axis=1)
  # A zero-weight x_min (a value absent from a resample) is no candidate.
  return u_C, W_C, c_C, jnp.where(w_P[u_C] > 0, ks_C, jnp.inf)


search_jit = jax.jit(search, static_argnames="grid")


def _best(logv_P, w_P, targets_C, grid: int = GRID):
  u_C, W_C, c_C, ks_C = search(logv_P, w_P, targets_C, grid)
  b = jnp.argmin(ks_C)
  return c_C[b], W_C[b], ks_C[b]


def _poisson(key, lam_P, terms: int):
  """Poisson counts for whole-number rates (a sample's counts): exact up to `terms` − 1 (a tail probability below
  1e-6 for the rates `terms_for` allows) by inverting the CDF term by term, ~10× faster than jax.random.poisson on a
  CPU; for λ > 8 the normal approximation, rounded (ties that large are rare in a continuous sample)."""
  k_u, k_z = jax.random.split(key)
  u_P = jax.random.uniform(k_u, lam_P.shape)
  lam = jnp.minimum(lam_P, _POISSON_MAX)
  p_P = jnp.exp(-lam)
  cdf_P, count_P = p_P, jnp.zeros_like(lam_P)
  for j in range(1, terms):
    count_P = count_P + (u_P > cdf_P)
    p_P = p_P * lam / j
    cdf_P = cdf_P + p_P
  large_P = jnp.maximum(jnp.round(lam_P + jnp.sqrt(lam_P) * jax.random.normal(k_z, lam_P.shape)), 0.0)
  return jnp.where(lam_P > _POISSON_MAX, large_P, jnp.where(lam_P > 0, count_P, 0.0))


def terms_for(counts_U) -> int:
  """CDF terms `_poisson` needs for these counts (static: a program per value, three values)."""
  top = int(min(counts_U.max(), _POISSON_MAX))
  return 10 if top == 1 else 14 if top <= 2 else 24


def hill_weighted(logv_P, w_P, k_K):
  """Hill's α̂ at each k of k_K in the sample holding logv_P[i] (descending) w_P[i] times: X(k+1) is the first value
  whose cumulative weight reaches k + 1, and the top k are every value above it plus the rest of k at X(k+1) (ties
  add a log excess of 0). NaN where the weights hold fewer than k + 1 values."""
  cum_w = jnp.cumsum(w_P)
  cum_s = jnp.cumsum(w_P * logv_P)
  k_K = jnp.asarray(k_K, jnp.float32)
  u_K = jnp.minimum(jnp.searchsorted(cum_w, k_K + 1, side="left"), w_P.shape[0] - 1)
  before_w = jnp.where(u_K > 0, cum_w[u_K - 1], 0.0)
  before_s = jnp.where(u_K > 0, cum_s[u_K - 1], 0.0)
  excess = before_s - before_w * logv_P[u_K]  # Σ w (ln X − ln X(k+1)) over the values above X(k+1)
  return jnp.where(cum_w[-1] >= k_K + 1, k_K / jnp.maximum(excess, 1e-30), jnp.nan)


@jax.jit(static_argnames=("n_boot", "terms", "n_examples"))
def bootstrap(logv_P, w_P, targets_C, curve_K, key, *, n_boot: int, terms: int, groups=None, n_examples: int = 0):
  """The whole fit on `n_boot` resamples (x_min searched again in each), and Hill's α̂ at each k of `curve_K` on the
  same resamples: ([n_boot] tail indices, [n_boot, K] Hill curves). KS distances on a grid of 512 (within 1/512 of
  the exact ones, below a resample's own KS noise): enough for x_min.

  Without `groups` every value is resampled on its own (Poisson counts, the iid bootstrap). With `groups` = (value_E,
  example_E), where entry e of the sample is one data value, value_E[e] its index among the distinct values and
  example_E[e] the example it came from (n_examples for padding), whole examples are resampled: each resample draws
  `n_examples` examples with replacement and every value weighs as often as its example was drawn. Values of one
  example share its scale (a per-example gradient's coordinates), so they are no independent draws: the interval
  must resample what is independent."""

  def weights(k):
    if groups is None:
      return _poisson(k, w_P, terms)
    value_E, example_E = groups
    drawn = jax.random.randint(k, (n_examples,), 0, n_examples)
    count_M = jnp.zeros(n_examples + 1, jnp.float32).at[drawn].add(1.0)  # the last: padding, never drawn
    return jax.ops.segment_sum(count_M[example_E], value_E, num_segments=w_P.shape[0])

  def one(k):
    w = weights(k)
    c, _, _ = _best(logv_P, w, targets_C, 512)
    return c, hill_weighted(logv_P, w, curve_K)

  batch = max(1, min(16, (1 << 22) // logv_P.shape[0]))  # 16 resamples at once, fewer where they would not fit
  return jax.lax.map(one, jax.random.split(key, n_boot), batch_size=batch)


@jax.jit(static_argnames=("n_gof", "cap", "terms"))
def gof_ks(logv_P, w_P, targets_C, u, tail_index, *, key, n_gof: int, cap: int, terms: int):
  """Clauset et al.'s (2009, §4.1) semi-parametric bootstrap: the KS distance of the fit to each of `n_gof`
  synthetic data sets of about the sample's size, each fitted the same way (x_min searched again). A synthetic set
  is Binomial(n, n_tail/n) draws from the fitted power law above x_min and a Poisson resample of the data below
  x_min (Clauset et al. draw exactly n − n_tail from the body; the Poisson resample needs no sort)."""
  cum_w = jnp.cumsum(w_P)
  n, n_tail = cum_w[-1], cum_w[u]
  body_P = jnp.where(jnp.arange(w_P.shape[0]) > u, w_P, 0.0)
  log_xmin = logv_P[u]

  def one(k):
    k_n, k_e, k_b = jax.random.split(k, 3)
    t = jnp.minimum(jax.random.binomial(k_n, n, n_tail / n).astype(jnp.int32), cap)
    spacings = jnp.cumsum(jax.random.exponential(k_e, (cap + 1,)))  # sorted uniforms: S_i / S_(t+1)
    u_T = spacings[:cap] / spacings[t]
    in_T = jnp.arange(cap) < t
    tail_logv = jnp.where(in_T, log_xmin - jnp.log(u_T) / tail_index, log_xmin)  # descending
    body = _poisson(k_b, body_P, terms)
    logv = jnp.concatenate([tail_logv, logv_P])
    w = jnp.concatenate([in_T.astype(jnp.float32), body])
    return _best(logv, w, targets_C, GOF_GRID)[2]

  return jax.lax.map(one, jax.random.split(key, n_gof), batch_size=4)
