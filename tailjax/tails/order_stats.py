"""Order statistics inside jit: the k-th largest value by selection, the sorted top k, Hill's log-excess sums.

`kth_largest` is a selection by counting passes that never sorts or moves the data: on a CPU `jax.lax.top_k` and
`jnp.sort` take seconds on 1e7 values, this about 0.05 s (BENCHMARKS.md). `top_desc` sorts only the top k.
"""

import jax
import jax.numpy as jnp

from tailjax.tails.input_checks import check_k


def abs_flat(x):
  """|x| flattened, as float32: every tail estimator reads this."""
  return jnp.abs(jnp.ravel(x)).astype(jnp.float32)


# Selection by counting. On a CPU, XLA's `top_k` and `sort` take seconds on 1e7 values and a compaction
# (`jnp.nonzero`) about 0.15 s, while one fused reduction over the array takes ~5 ms, provided it is built from
# float min/max/ceil (its CPU backend vectorises those, not compare-and-select). So the k-th largest is found by
# counting values above trial thresholds, never by moving data; numpy's introselect is not usable inside jit.
_SORT_AT_MOST = 1 << 14  # below this a sort is cheaper than the passes
_EXACT_FLOAT_COUNT = 1 << 24  # a float32 sum of 0/1 values is exact up to 2^24
_FLOOR = 2.0**-100  # thresholds stay above this (data scaled to max ~1), so a − t never flushes to zero
_BIG = 3e38


def _above(z_N, t):
  """1.0 where z > t, else 0.0 (exact for t ≥ _FLOOR: a positive difference is then a normal float)."""
  return jnp.minimum(jnp.ceil(jnp.maximum(z_N - t, 0.0)), 1.0)


def _count_above(a_N, s1, s2, t):
  """#{a·s1·s2 > t}, exactly. Up to 2^24 values a float32 sum of 0/1 is exact and takes the fast path; beyond,
  an int32 count (exact, ~5× slower per value on a CPU; on a GPU both are fast)."""
  z_N = a_N * s1 * s2
  if a_N.shape[0] <= _EXACT_FLOAT_COUNT:
    return jnp.sum(_above(z_N, t)).astype(jnp.int32)
  return jnp.sum(z_N > t, dtype=jnp.int32)


def kth_largest(a_N, k, sample: int = 4096):
  """The exact k-th largest value (1-based) of a 1-D array of non-negative finite values. `k` may be traced.

  The array is scaled by a power of two (exact) so that its maximum is ~1. A sorted random sample of `sample` values
  gives two trial thresholds just above and below the answer; then regula falsi (Illinois variant; bisection after
  32 trials) on the count F(t) = #{a > t} against the float's bit pattern narrows (lo, hi] until exactly k values
  exceed lo (the answer is the smallest of them) or exactly k − 1 exceed hi (the answer is the largest value ≤ hi).
  Each trial is one counting pass over the data; 4–10 are typical, 13 the most seen in BENCHMARKS.md. If the answer
  lies below 2^-100 of the maximum, where float32 differences can flush to zero, a full sort answers instead, so the
  result is always exact.
  """
  n = a_N.shape[0]
  check_k(k, 1, n, "kth_largest", n)  # a concrete k must be a whole number in range; a traced one passes
  if n <= _SORT_AT_MOST:
    return -jnp.sort(-a_N)[k - 1]
  value, exact = search_kth_largest(a_N, k, sample)
  return jax.lax.cond(exact, lambda _: value, lambda _: -jnp.sort(-a_N)[k - 1], None)


def search_kth_largest(a_N, k, sample: int):
  """(the k-th largest, whether the search found it exactly); see `kth_largest`."""
  n = a_N.shape[0]
  k = jnp.asarray(k, jnp.int32)
  e = -jnp.frexp(jnp.max(a_N))[1]  # max · 2^e ∈ [0.5, 1); two factors keep each power of two finite
  s1, s2 = jnp.ldexp(jnp.float32(1), e // 2), jnp.ldexp(jnp.float32(1), e - e // 2)
  to_bits = lambda v: jax.lax.bitcast_convert_type(jnp.float32(v), jnp.int32)  # monotone for v ≥ 0
  to_value = lambda b: jax.lax.bitcast_convert_type(b, jnp.float32)
  s = min(sample, n)
  # s indices spread over the array by the golden-ratio (Weyl) sequence: only the first guesses depend on them, and
  # a random draw (threefry) would cost the program a third of its compile time
  at_S = jnp.floor(jnp.mod(jnp.arange(s, dtype=jnp.float32) * 0.618034, 1.0) * n).astype(jnp.int32)
  sample_desc = -jnp.sort(-a_N[jnp.clip(at_S, 0, n - 1)] * s1 * s2)
  r = k.astype(jnp.float32) * (s / n)
  sd = jnp.sqrt(jnp.maximum(r * (1 - r / s), 1.0))
  first = to_bits(sample_desc[jnp.clip(jnp.floor(r - 2.5 * sd), 0, s - 1).astype(jnp.int32)])  # likely above
  second = to_bits(sample_desc[jnp.clip(jnp.floor(r + 2.5 * sd), 0, s - 1).astype(jnp.int32)])  # likely below

  def searching(c):
    lo, hi, f_lo, f_hi, *_, it = c
    return (f_lo != k) & (f_hi != k - 1) & (hi - lo > 1) & (it < 64)

  def step(c):  # invariant F(lo) ≥ k > F(hi), F(t) = #{a > t}; the floor's count starts virtual (n + 1)
    lo, hi, f_lo, f_hi, g_lo, g_hi, last, it = c
    frac = jnp.clip(g_lo / (g_lo - g_hi), 0.0, 1.0)  # regula falsi on g = F − (k − ½) against the bit pattern
    guess = lo + jnp.round(frac * (hi - lo).astype(jnp.float32)).astype(jnp.int32)
    guess = jnp.where(it >= 32, lo + (hi - lo) // 2, guess)  # bisection as a last resort: ≤ 31 more steps
    guess = jnp.where(it == 0, first, jnp.where(it == 1, second, guess))
    guess = jnp.clip(guess, lo + 1, hi - 1)
    f = _count_above(a_N, s1, s2, to_value(guess))
    g = f.astype(jnp.float32) - (k - 0.5)
    up = f >= k  # the guess becomes lo
    # Illinois: when the same end moves twice running, halve the other end's g so the next guess crosses over.
    g_lo = jnp.where(up, g, jnp.where(last == -1, g_lo / 2, g_lo))
    g_hi = jnp.where(up, jnp.where(last == 1, g_hi / 2, g_hi), g)
    return (
      jnp.where(up, guess, lo),
      jnp.where(up, hi, guess),
      jnp.where(up, f, f_lo),
      jnp.where(up, f_hi, f),
      g_lo,
      g_hi,
      jnp.where(up, 1, -1),
      it + 1,
    )

  top = jnp.max(a_N) * s1 * s2  # nothing lies above the maximum: an exact upper end
  init = (to_bits(_FLOOR), to_bits(top), jnp.int32(n + 1), jnp.int32(0))
  init += (jnp.float32(n + 1) - (k - 0.5), 0.5 - k.astype(jnp.float32), jnp.int32(0), jnp.int32(0))
  lo, hi, f_lo, f_hi, *_ = jax.lax.while_loop(searching, step, init)

  def smallest_above_lo(_):
    z = a_N * s1 * s2
    return jnp.min(z + (1.0 - _above(z, to_value(lo))) * _BIG)

  def largest_at_most_hi(_):
    z = a_N * s1 * s2
    return jnp.max(z - _above(z, to_value(hi)) * _BIG)

  found = (f_lo == k) | (f_hi == k - 1) | (hi - lo <= 1)
  value = jax.lax.cond(f_lo == k, smallest_above_lo, largest_at_most_hi, None) / s1 / s2
  return value, found & (hi - 1 > to_bits(_FLOOR))


def kth_largest_many(a_N, k_K, sample: int = 4096):
  """`kth_largest` at each of several k (a 1-D array, may be traced): one search loop run for each k in turn
  (`lax.map`), so K order statistics compile as one loop, not K. (Batching the counts over k instead costs every k
  the passes of the slowest and, vmapped over samples, turns the exact-or-sort `cond` into both branches.)"""
  n = a_N.shape[0]
  k_K = jnp.asarray(k_K, jnp.int32)
  if n <= _SORT_AT_MOST:
    return -jnp.sort(-a_N)[k_K - 1]
  value_K, exact_K = jax.lax.map(lambda k: search_kth_largest(a_N, k, sample), k_K)
  return jax.lax.cond(jnp.all(exact_K), lambda _: value_K, lambda _: -jnp.sort(-a_N)[k_K - 1], None)


def log_excess_sums(a_N, k):
  """(Σ d, Σ d², ln X(k+1)) over the top k values, d = ln X(i) − ln X(k+1); ties at X(k+1) add d = 0."""
  return log_excess_sums_above(a_N, kth_largest(a_N, k + 1))


def log_excess_sums_above(a_N, t):
  """`log_excess_sums` with the threshold t = X(k+1) already found."""
  log_t = jnp.log(t)
  d_N = jnp.log(jnp.maximum(a_N, t)) - log_t  # 0 at and below X(k+1); max, not select, for XLA's CPU backend
  sum_d = jnp.sum(d_N)
  sum_d2 = jnp.sum(jax.lax.optimization_barrier(d_N) ** 2)  # separate reductions: a two-output fusion is 6× slower
  return sum_d, sum_d2, log_t


@jax.jit(static_argnames="k")
def top_desc(x, k: int):
  """The k largest values of |x|, sorted descending (X(1) ≥ … ≥ X(k)); sorts only those k."""
  a = abs_flat(x)
  t = kth_largest(a, k)
  (pos,) = jnp.nonzero(a > t, size=k, fill_value=0)
  n_above = jnp.sum(a > t)
  return -jnp.sort(-jnp.where(jnp.arange(k) < n_above, a[pos], t))
