"""Tail-index and stable-index estimators, jittable with `k` static (SCIENCE.md §1–2 names the three "α").

Extreme-value estimators work on |x| and estimate ξ = 1/α, the extreme-value index of P(|X| > x) ~ x^(−α):
  hill, hill_curve   α̂ = 1/ξ̂ from the top k order statistics (sd(α̂) ≈ α/√k for a Pareto tail)
  pickands           α̂ = 1/ξ̂ from X(k), X(2k), X(4k); NaN where ξ̂ ≤ 0, never a silent negative index
  moments            ξ̂ of Dekkers–Einmahl–de Haan; ξ̂ ≤ 0 says "no power-law tail"
The stable index α ∈ (0, 2] of an α-stable law is another quantity (it equals the tail index only below 2):
  stable_alpha(x, "mohammadi")  block sums (Mohammadi et al. 2015, as used on SGD noise by Simsekli et al. 2019)
  stable_alpha(x, "ecf")        Koutrouvelis' regression on the empirical characteristic function
Written here rather than taken from a library: scipy has no Hill/Pickands/moments estimators, and the packages that
do (`powerlaw`, Voitalov's `tail-estimation`) are numpy-only and cannot run inside jit on per-example gradients.

Order statistics come from `kth_largest`, a selection by counting passes that never sorts or moves the data: on a CPU
`jax.lax.top_k` and `jnp.sort` take seconds on 1e7 values, this about 0.05 s (BENCHMARKS.md).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np


def _abs(x):
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
  if n <= _SORT_AT_MOST:
    return -jnp.sort(-a_N)[k - 1]
  value, exact = _search(a_N, k, sample)
  return jax.lax.cond(exact, lambda _: value, lambda _: -jnp.sort(-a_N)[k - 1], None)


def _search(a_N, k, sample: int):
  """(the k-th largest, whether the search found it exactly); see `kth_largest`."""
  n = a_N.shape[0]
  k = jnp.asarray(k, jnp.int32)
  e = -jnp.frexp(jnp.max(a_N))[1]  # max · 2^e ∈ [0.5, 1); two factors keep each power of two finite
  s1, s2 = jnp.ldexp(jnp.float32(1), e // 2), jnp.ldexp(jnp.float32(1), e - e // 2)
  to_bits = lambda v: jax.lax.bitcast_convert_type(jnp.float32(v), jnp.int32)  # monotone for v ≥ 0
  to_value = lambda b: jax.lax.bitcast_convert_type(b, jnp.float32)
  s = min(sample, n)
  sample_desc = -jnp.sort(-a_N[jax.random.randint(jax.random.key(0), (s,), 0, n)] * s1 * s2)
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


def _log_excess_sums(a_N, k):
  """(Σ d, Σ d², ln X(k+1)) over the top k values, d = ln X(i) − ln X(k+1); ties at X(k+1) add d = 0."""
  t = kth_largest(a_N, k + 1)
  log_t = jnp.log(t)
  d_N = jnp.log(jnp.maximum(a_N, t)) - log_t  # 0 at and below X(k+1); max, not select, for XLA's CPU backend
  sum_d = jnp.sum(d_N)
  sum_d2 = jnp.sum(jax.lax.optimization_barrier(d_N) ** 2)  # separate reductions: a two-output fusion is 6× slower
  return sum_d, sum_d2, log_t


@jax.jit(static_argnames="k")
def top_desc(x, k: int):
  """The k largest values of |x|, sorted descending (X(1) ≥ … ≥ X(k)); sorts only those k."""
  a = _abs(x)
  t = kth_largest(a, k)
  (pos,) = jnp.nonzero(a > t, size=k, fill_value=0)
  n_above = jnp.sum(a > t)
  return -jnp.sort(-jnp.where(jnp.arange(k) < n_above, a[pos], t))


def _max_abs(x):
  return jnp.max(jnp.abs(x))  # NaN if any NaN, inf if any ±inf: one cheap pass answers both


def _check_x(x, what: str, at_least: int = 2) -> int:
  """Raise a ValueError a caller can act on; value checks only where x is concrete (not under an outer jit)."""
  n = math.prod(np.shape(x))
  if n < at_least:
    raise ValueError(f"{what}: x has {n} values; pass a 1-D array of at least {at_least} samples")
  if not isinstance(x, jax.core.Tracer):
    top = float(jax.jit(_max_abs)(x))
    if not math.isfinite(top):
      raise ValueError(f"{what}: x contains NaN or ±inf; keep the finite values first, e.g. x[np.isfinite(x)]")
    if top == 0:
      raise ValueError(f"{what}: x is all zeros, so it has no tail; check what was recorded")
  return n


def _check_k(k, low: int, high: int, what: str, n: int) -> None:
  if isinstance(k, (int, np.integer)) and not low <= k <= high:
    raise ValueError(f"{what}: k = {k} is out of range for n = {n}; choose {low} ≤ k ≤ {high}")


def _check_result(value, what: str, k):
  if not isinstance(value, jax.core.Tracer) and not math.isfinite(float(value)):
    raise ValueError(
      f"{what}: undefined at k = {k}: the top k + 1 values of |x| include zeros or are all equal; choose a smaller k"
    )
  return value


@jax.jit
def _hill(x, k):
  sum_d, _, _ = _log_excess_sums(_abs(x), k)
  return k / sum_d


def hill(x, k):
  """Hill's tail index α̂ = 1/ξ̂, ξ̂ = (1/k) Σ_{i≤k} ln X(i) − ln X(k+1); 1 ≤ k ≤ n − 1, k may be traced."""
  n = _check_x(x, "hill")
  _check_k(k, 1, n - 1, "hill", n)
  return _check_result(_hill(x, k), "hill", k)


@jax.jit(static_argnames="ks")
def _hill_curve(x, ks: tuple[int, ...]):
  logs = jnp.log(top_desc(x, max(ks) + 1))
  mean_first_k = jnp.cumsum(logs) / jnp.arange(1, logs.shape[0] + 1)
  k_K = jnp.asarray(ks)
  return 1.0 / (mean_first_k[k_K - 1] - logs[k_K])


def hill_curve(x, ks: tuple[int, ...]):
  """Hill's α̂ at every k in `ks` (static) from one selection: the Hill plot, α̂ against k."""
  n = _check_x(x, "hill_curve")
  ks = tuple(int(k) for k in ks)
  if not ks:
    raise ValueError("hill_curve: ks is empty; pass the k values to plot, e.g. (10, 100, 1000)")
  for k in ks:
    _check_k(k, 1, n - 1, "hill_curve", n)
  return _hill_curve(x, ks)


@jax.jit
def _pickands(x, k):
  a = _abs(x)
  xk, x2k, x4k = (kth_largest(a, j) for j in (k, 2 * k, 4 * k))
  xi = jnp.log((xk - x2k) / (x2k - x4k)) / math.log(2.0)
  return jnp.where(xi > 0, 1.0 / xi, jnp.nan)


def pickands(x, k):
  """Pickands' α̂ = 1/ξ̂, ξ̂ = ln[(X(k) − X(2k)) / (X(2k) − X(4k))] / ln 2; 1 ≤ k ≤ n/4; NaN where ξ̂ ≤ 0."""
  n = _check_x(x, "pickands", at_least=4)
  _check_k(k, 1, n // 4, "pickands", n)
  return _pickands(x, k)


@jax.jit
def _moments(x, k):
  sum_d, sum_d2, _ = _log_excess_sums(_abs(x), k)
  m1, m2 = sum_d / k, sum_d2 / k
  return m1 + 1.0 - 0.5 / (1.0 - m1**2 / m2)


def moments(x, k):
  """Dekkers–Einmahl–de Haan ξ̂ = M1 + 1 − ½(1 − M1²/M2)^(−1); M_j the j-th mean of ln X(i) − ln X(k+1)."""
  n = _check_x(x, "moments")
  _check_k(k, 1, n - 1, "moments", n)
  return _check_result(_moments(x, k), "moments", k)


def standardize_columns(x_NxD):
  """Each coordinate (column) centred and scaled to unit variance before pooling.

  Pooling Gaussian coordinates of different scales makes a scale mixture, which the stable estimators read as α < 2
  (Xie et al., NeurIPS 2023); per-coordinate standardisation removes that artefact.
  """
  x = jnp.asarray(x_NxD, jnp.float32)
  return (x - x.mean(0)) / (x.std(0) + 1e-30)


@jax.jit(static_argnames="k1")
def _mohammadi(x, k1: int):
  x = jnp.ravel(x).astype(jnp.float32)
  k2 = x.shape[0] // k1
  x = x[: k1 * k2]
  y_K2 = x.reshape(k2, k1).sum(1)
  inv_alpha = (jnp.mean(jnp.log(jnp.abs(y_K2))) - jnp.mean(jnp.log(jnp.abs(x)))) / math.log(k1)
  return 1.0 / inv_alpha


@jax.jit
def _ecf(x):
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


def stable_alpha(x, method: str = "mohammadi", k1: int | None = None, mle_subsample: int = 200, seed: int = 0):
  """Stable index α̂, clipped to (0, 2].

  Args:
    x: samples (any shape; pooled).
    method: "mohammadi" (block sums of size k1, default ⌊√n⌋), "ecf" (Koutrouvelis, t_k = πk/25, k = 1…10), or
      "mle": `scipy.stats.levy_stable.fit` on a random subsample of `mle_subsample` values. Exact likelihood but
      SLOW: about 24 s for 100 values and 40 s for 200 on one CPU core; not jittable.
    k1: block size for "mohammadi".

  Both return α < 2 for data that are heavy-ish but not stable (Laplace, Student-t): a stable index says which
  stable law fits best, not that one does. Pair it with the tail-index estimators and a family comparison.
  """
  n = _check_x(x, "stable_alpha", at_least=4)
  if k1 is not None and not 2 <= k1 <= n // 2:
    raise ValueError(f"stable_alpha: k1 = {k1} is out of range for n = {n}; choose 2 ≤ k1 ≤ {n // 2}")
  if method == "mohammadi":
    alpha = _mohammadi(x, k1 or max(int(math.isqrt(n)), 2))
  elif method == "ecf":
    alpha = _ecf(x)
  elif method == "mle":
    import scipy.stats as st  # the reference implementation of the stable likelihood

    flat = np.asarray(x, np.float64).ravel()
    sub = np.random.default_rng(seed).choice(flat, size=min(mle_subsample, flat.size), replace=False)
    alpha = jnp.float32(st.levy_stable.fit(sub)[0])
  else:
    raise ValueError(f"method must be 'mohammadi', 'ecf' or 'mle', not {method!r}")
  return jnp.clip(alpha, 1e-6, 2.0)


@jax.jit(static_argnames=("ks", "k_max"))
def _clauset(x, ks: tuple[int, ...], k_max: int):
  top_K = top_desc(x, k_max)  # X(1) ≥ … ≥ X(k_max)
  logs_K = jnp.log(top_K)
  cum_K = jnp.cumsum(logs_K)
  i_K = jnp.arange(1, k_max + 1, dtype=jnp.float32)

  def one(k):  # tail = X(1..k), x_min = X(k)
    tail_index = k / (cum_K[k - 1] - k * logs_K[k - 1])
    fitted_cdf = 1.0 - jnp.exp(-tail_index * (logs_K - logs_K[k - 1]))  # F(X(i)) of the fitted power law
    emp_hi, emp_lo = (k - i_K + 1) / k, (k - i_K) / k  # empirical CDF just at and just below X(i)
    dist = jnp.maximum(jnp.abs(emp_hi - fitted_cdf), jnp.abs(emp_lo - fitted_cdf))
    return tail_index, jnp.max(jnp.where(i_K <= k, dist, 0.0))

  return jax.lax.map(one, jnp.asarray(ks)), top_K


def fit_power_law_tail(x, k_min: int = 50, k_max: int | None = None, n_candidates: int = 200) -> dict:
  """Clauset, Shalizi & Newman (2009) continuous power-law fit of the tail of |x|.

  x_min is the candidate X(k) that minimises the Kolmogorov–Smirnov distance between the tail's empirical CDF and the
  fitted power law; the exponent is the maximum-likelihood one for that tail. Candidates are `n_candidates` tail sizes
  k, log-spaced from k_min to k_max (default n/2), instead of every distinct value as in the `powerlaw` package.

  Returns:
    dict with `pdf_exponent` (Clauset's α = tail index + 1), `tail_index`, `xmin`, `n_tail`, `ks`, and the
    candidate curve (`candidate_k`, `candidate_tail_index`, `candidate_ks`).
  """
  n = _check_x(x, "fit_power_law_tail", at_least=20)
  n_positive = int(jnp.sum(_abs(x) > 0))
  k_max = min(k_max or n // 2, n_positive)
  if not 2 <= k_min <= k_max:
    raise ValueError(
      f"fit_power_law_tail: k_min = {k_min} must lie in [2, k_max = {k_max}] ({n_positive} of n = {n} values are "
      "non-zero); lower k_min or pass more data"
    )
  ks = tuple(sorted({int(k) for k in np.geomspace(min(k_min, k_max), k_max, n_candidates)}))
  (tail_index_C, ks_C), top_K = _clauset(x, ks, k_max)
  tail_index_C, ks_C = np.asarray(tail_index_C), np.asarray(ks_C)
  best = int(np.argmin(ks_C))
  return {
    "pdf_exponent": float(tail_index_C[best] + 1.0),
    "tail_index": float(tail_index_C[best]),
    "xmin": float(top_K[ks[best] - 1]),
    "n_tail": ks[best],
    "ks": float(ks_C[best]),
    "candidate_k": list(ks),
    "candidate_tail_index": tail_index_C.tolist(),
    "candidate_ks": ks_C.tolist(),
  }


def _vuong(ll_a, ll_b) -> dict:
  """Vuong's normalised log-likelihood ratio of a over b: z > 0 favours a; p is two-sided (is the sign significant?)."""
  d = np.asarray(ll_a, np.float64) - np.asarray(ll_b, np.float64)
  if not np.isfinite(d).all():  # a point one family gives zero density: a decisive verdict, not a NaN
    return {"z": float(np.sign(np.nansum(np.where(np.isfinite(d), 0.0, d)))) * math.inf, "p": 0.0}
  z = d.sum() / (d.std() * math.sqrt(d.size) + 1e-300)
  return {"z": float(z), "p": float(math.erfc(abs(z) / math.sqrt(2)))}


def compare_families(x, subsample: int = 20_000, seed: int = 0) -> dict:
  """Which family fits, by likelihood: the whole sample, and the tail.

  Whole sample: Gaussian, Laplace and Student-t fitted by maximum likelihood (scipy.stats, on a random subsample),
  each compared with the best by Vuong's test. Tail (above the Clauset x_min of |x|): power law against a shifted
  exponential, also by Vuong's test, as the `powerlaw` package compares them. Student-t nests the Gaussian
  (ν → ∞), where Vuong's test is only approximate; a large fitted ν with p > 0.05 means "Gaussian".

  Returns:
    dict: `best`, `log_likelihood` and `params` per family, `vuong` (best against each other family: z, p),
    `tail` (xmin, n_tail, power law vs exponential: z > 0 favours the power law, p, `better`).
  """
  import scipy.stats as st  # the reference distributions

  _check_x(x, "compare_families", at_least=20)
  x_N = np.asarray(x, np.float64).ravel()
  rng = np.random.default_rng(seed)
  sub = rng.choice(x_N, size=min(subsample, x_N.size), replace=False)
  families = {"gaussian": st.norm, "laplace": st.laplace, "student_t": st.t}
  params = {name: dist.fit(sub) for name, dist in families.items()}
  ll = {name: dist.logpdf(sub, *params[name]) for name, dist in families.items()}
  best = max(ll, key=lambda name: ll[name].sum())
  fit = fit_power_law_tail(x_N.astype(np.float32))
  a = np.abs(x_N)
  y = a[a >= fit["xmin"]]
  alpha_pdf, xmin = fit["pdf_exponent"], fit["xmin"]
  ll_power = np.log((alpha_pdf - 1) / xmin) - alpha_pdf * np.log(y / xmin)
  lam = 1.0 / max(np.mean(y - xmin), 1e-300)
  ll_exp = np.log(lam) - lam * (y - xmin)
  tail = _vuong(ll_power, ll_exp)
  return {
    "best": best,
    "log_likelihood": {name: float(v.sum()) for name, v in ll.items()},
    "params": {name: [float(p) for p in v] for name, v in params.items()},
    "vuong": {name: _vuong(ll[best], ll[name]) for name in ll if name != best},
    "tail": {
      "xmin": xmin,
      "n_tail": int(y.size),
      "power_law_vs_exponential": tail,
      "better": "power_law" if tail["z"] > 0 else "exponential",
    },
  }


@jax.jit(static_argnames=("n", "n_boot"))
def _hill_tail_bootstrap(top_M, k, n: int, n_boot: int, key):
  """Hill at k on `n_boot` bootstrap resamples of the whole sample, drawing only what reaches the top.

  In a resample of n draws, the number landing among the top 2k values is Binomial(n, 2k/n), each uniform over them;
  that number exceeds k + 1 with overwhelming probability, so the resample's top k + 1 come from there. `top_M` holds
  at least the top 2k values (descending); k may be traced.
  """
  M = top_M.shape[0]
  cap = M + int(8 * math.sqrt(M)) + 8
  m = jnp.minimum(2 * k, M)
  k_count, k_pick = jax.random.split(key)
  count_B = jax.random.binomial(k_count, n, m / n, shape=(n_boot,))
  pick_BxC = jax.random.randint(k_pick, (n_boot, cap), 0, m)
  draws_BxC = jnp.where(jnp.arange(cap) < count_B[:, None], jnp.log(top_M)[pick_BxC], -jnp.inf)
  desc_BxC = -jnp.sort(-draws_BxC, axis=1)
  sum_top_B = jnp.sum(jnp.where(jnp.arange(cap) < k, desc_BxC, 0.0), axis=1)
  return k / (sum_top_B - k * desc_BxC[:, k])


def _moments_of_repeats(logs_M, count_M, k_max: int):
  """Hill's M1(k), M2(k) for k = 1 … k_max of the sample holding logs_M[i] (descending) count_M[i] times: its top
  k_max + 1 are the values repeated by their counts, so nothing is sorted.

  Returns (m1_K, m2_K, complete); complete is False if the counts hold fewer than k_max + 1 values.
  """
  top_K = logs_M[jnp.repeat(jnp.arange(logs_M.shape[0]), count_M, total_repeat_length=k_max + 1)]
  k_K = jnp.arange(1, k_max + 1, dtype=jnp.float32)
  s1, s2, nxt = jnp.cumsum(top_K[:-1]), jnp.cumsum(top_K[:-1] ** 2), top_K[1:]  # nxt = ln X(k+1)
  m1 = s1 / k_K - nxt
  return m1, s2 / k_K - 2 * nxt * s1 / k_K + nxt**2, jnp.sum(count_M) >= k_max + 1


@jax.jit(static_argnames=("n", "n_sub", "k_max", "n_boot"))
def _amse_curve(top_M, n: int, n_sub: int, k_max: int, n_boot: int, key):
  """Danielsson et al.'s bootstrap AMSE criterion mean_b (M2 − 2·M1²)² of Hill at k = 1 … k_max, over `n_boot`
  resamples of size n_sub from the n values whose top M are `top_M` (descending).

  A resample is drawn as a count per value, and only for the top M, which is where its top k_max + 1 come from: the
  number of its n_sub draws landing there is Binomial(n_sub, M/n), each uniform over them. Its order statistics are
  then the data's, repeated by their counts, so no resample is ever sorted. One whose draws do not reach rank
  k_max + 1 within the top M is left out (NaN), as the reference leaves out undefined estimates.
  """
  M = top_M.shape[0]
  logs_M = jnp.log(top_M) - jnp.log(top_M[-1])  # centred: the prefix sums below stay well-conditioned
  cap = min(int(n_sub * M / n + 8 * math.sqrt(n_sub * M / n) + 16), n_sub)

  def one(key):
    k_count, k_pick = jax.random.split(key)
    landed = jax.random.binomial(k_count, n_sub, M / n)  # how many of the n_sub draws land in the top M
    pick_C = jax.random.randint(k_pick, (cap,), 0, M)
    count_M = jnp.zeros(M, jnp.int32).at[pick_C].add(jnp.where(jnp.arange(cap) < landed, 1, 0))
    m1, m2, complete = _moments_of_repeats(logs_M, count_M, k_max)
    return jnp.where(complete, (m2 - 2 * m1**2) ** 2, jnp.nan)

  return jnp.nanmean(jax.lax.map(one, jax.random.split(key, n_boot), batch_size=10), axis=0)


def hill_double_bootstrap(x, n_boot: int = 500, t: float = 0.5, k_max: int = 1 << 15, seed: int = 0) -> dict:
  """Hill with k chosen by the double bootstrap of Danielsson, de Haan, Peng & de Vries (2001), with Qi's (2008)
  constant, as Voitalov et al.'s `tail-estimation` runs it (and with its defaults: 500 resamples, t = ½).

  The bootstrap AMSE of Hill, mean (M2 − 2·M1²)², is minimised at k1 on resamples of size
  n1 = n^((1 + ln(t·n)/ln n)/2) (≈ √t·n) and at k2 on resamples of size n2 = n1²/n (≈ t·n); then
  k* = k1²/k2 · (2 (ln n1/ln k1 − 1))^(ln k1/ln n1 − 1).
  If k2 ≥ k1 (a false minimum) both searches start 0.005·n higher, as in the reference. Unlike the reference, which
  draws and sorts every resample in full, resamples are counts on the data's top values (`_amse_curve`: nothing is
  sorted), and k1, k2 are searched up to `k_max` rather than n1; `at_k_max` flags a minimum on that edge.

  Returns:
    dict: `k` (k*), `alpha` (Hill at k*), `k1`, `k2`, `n1`, `n2`, `at_k_max`.
  """
  n = _check_x(x, "hill_double_bootstrap", at_least=100)
  if not 0 < t < 1:
    raise ValueError(f"hill_double_bootstrap: t = {t}; the second resample size t·n needs 0 < t < 1 (default 0.5)")
  n1 = int(n ** (0.5 * (1 + math.log(int(t * n)) / math.log(n))))
  n2 = max(int(n1 * n1 / n), 4)
  k_max = min(k_max, n2 - 2)
  # Top values enough for the smaller resample (n2) to find its top k_max + 1 among them, with margin.
  M = min(n, int((k_max + 1) * n / n2 * 1.25 + 10 * math.sqrt((k_max + 1) * n / n2) + 64))
  top = top_desc(x, M)
  key1, key2 = jax.random.split(jax.random.key(seed))
  amse1, amse2 = (np.asarray(_amse_curve(top, n, m, k_max, n_boot, key)) for m, key in ((n1, key1), (n2, key2)))
  start = 1  # k ≥ 2, as in the reference
  while True:
    k1 = int(np.nanargmin(amse1[start:])) + start + 1
    k2 = int(np.nanargmin(amse2[start:])) + start + 1
    if k2 < k1 or start + int(0.005 * n) >= k_max - 1:
      break
    start += max(int(0.005 * n), 1)
  qi = (2 * (math.log(n1) / math.log(k1) - 1)) ** (math.log(k1) / math.log(n1) - 1)
  k = int(min(max(round(k1 * k1 / k2 * qi), 1), n - 1))
  return {
    "k": k,
    "alpha": float(_hill(x, k)),
    "k1": k1,
    "k2": k2,
    "n1": n1,
    "n2": n2,
    "at_k_max": max(k1, k2) >= k_max,
  }


_BOOTSTRAP_MAX_K = 4096


def estimate(
  x,
  k_ratios=(0.05, 0.1, 0.2),
  standardize: bool = False,
  n_boot: int = 200,
  families: bool = False,
  k_choice: str = "ks",
  seed: int = 0,
) -> dict:
  """Every estimator on one sample, and a verdict in words.

  Args:
    x: samples; with `standardize`, an [N, D] array whose columns are standardised before pooling.
    k_ratios: fractions of n at which Hill, Pickands and moments are also reported (the study's k choices).
    n_boot: bootstrap replicates for Hill's confidence interval at the chosen k.
    families: also run `compare_families` (slower: scipy fits on a subsample).
    k_choice: how Hill's k is chosen: "ks" (the Clauset fit's KS minimum) or "double_bootstrap" (Danielsson et
      al. 2001, `hill_double_bootstrap`, 200 resamples; slower, ~1–2 s).

  Returns:
    dict: `hill` (k chosen by `k_choice`, α̂ and a 95% bootstrap interval), `hill_curve` (the Hill
    plot), `moments_xi`, `at_k_ratio` (Hill, Pickands, moments per ratio), `stable_alpha` (Mohammadi on all,
    ECF on at most 2e5 values), `power_law_fit`, optionally `families`, and `verdict`.
  """
  if standardize and np.ndim(x) != 2:
    raise ValueError(f"estimate: standardize needs an [N, D] array (N samples of D coordinates), not {np.shape(x)}")
  _check_x(x, "estimate", at_least=100)
  x = standardize_columns(x) if standardize else jnp.asarray(x, jnp.float32)
  x = jnp.ravel(x)
  n = int(x.shape[0])
  if not all(0 < r <= 0.5 for r in k_ratios):
    raise ValueError(f"estimate: k_ratios = {tuple(k_ratios)}; each must be a fraction of n in (0, 0.5]")
  if k_choice not in ("ks", "double_bootstrap"):
    raise ValueError(f"estimate: k_choice = {k_choice!r}; use 'ks' or 'double_bootstrap'")
  fit = fit_power_law_tail(x)
  k = fit["n_tail"] if k_choice == "ks" else hill_double_bootstrap(x, n_boot=200, seed=seed)["k"]
  alpha_hill = float(_hill(x, k))
  if k <= _BOOTSTRAP_MAX_K and n_boot:
    top = top_desc(x, min(2 * _BOOTSTRAP_MAX_K, n))  # static size: one program for every k
    boot = np.asarray(_hill_tail_bootstrap(top, k, n, n_boot, jax.random.key(seed)))
    lo, hi = np.percentile(boot[np.isfinite(boot)], [2.5, 97.5])
    ci_method = f"tail bootstrap, {n_boot} replicates"
  else:  # Hill is asymptotically normal with sd α/√k; at this k the bootstrap would only cost time
    lo, hi = alpha_hill * (1 - 1.96 / math.sqrt(k)), alpha_hill * (1 + 1.96 / math.sqrt(k))
    ci_method = "asymptotic normal, sd = alpha/sqrt(k)"
  xi = float(_moments(x, k))
  curve_k = tuple(sorted({int(v) for v in np.geomspace(10, max(n // 10, 20), 25)}))
  curve = np.asarray(_hill_curve(x, curve_k))
  k_of = {r: max(int(r * n), 1) for r in k_ratios}
  per_ratio = {
    r: {
      "k": k_of[r],
      "hill": float(_hill(x, k_of[r])),
      "pickands": float(_pickands(x, max(k_of[r] // 4, 1))),
      "moments_xi": float(_moments(x, k_of[r])),
    }
    for r in k_ratios
  }
  sub = x[:: max(n // 200_000, 1)]
  stable = {"mohammadi": float(stable_alpha(x, "mohammadi")), "ecf": float(stable_alpha(sub, "ecf"))}
  se_xi = math.sqrt(1 + xi**2) / math.sqrt(k)
  # A power law has a plateau where the KS fit puts the tail: Hill barely moves from k*/10 to k*.
  plateau = float(_hill(x, max(k // 10, 10))), alpha_hill
  drift = abs(plateau[0] - plateau[1]) / min(plateau)
  power_law = xi > 2 * se_xi and drift < 0.3
  # What the study's range of k (n/1000 to n/10) shows.
  k_lo, k_hi = max(n // 1000, 10), max(n // 10, 20)
  a_lo, a_hi = float(_hill(x, k_lo)), float(_hill(x, k_hi))
  if power_law:
    verdict = (
      f"power-law tail, α = {alpha_hill:.2f} [{lo:.2f}, {hi:.2f}] (Hill at k = {k} chosen by "
      f"{'KS' if k_choice == 'ks' else 'double bootstrap'}; moments ξ = {xi:.2f})"
    )
  else:
    verdict = (
      f"no power-law tail: Hill drifts from {a_lo:.1f} to {a_hi:.1f} as k grows from {k_lo} to {k_hi}; "
      f"moments ξ = {xi:.2f} (± {se_xi:.2f})"
    )
  report = {
    "n": n,
    "hill": {
      "k": k,
      "alpha": alpha_hill,
      "ci95": [float(lo), float(hi)],
      "ci_method": ci_method,
      "k_choice": "Clauset KS minimum" if k_choice == "ks" else "double bootstrap (Danielsson et al. 2001)",
      "plateau_drift": drift,
    },
    "hill_curve": {"k": list(curve_k), "alpha": curve.tolist()},
    "moments_xi": xi,
    "at_k_ratio": per_ratio,
    "stable_alpha": stable,
    "power_law_fit": {key: v for key, v in fit.items() if not key.startswith("candidate")},
    "which_alpha": "hill/pickands/power_law_fit: tail index; stable_alpha: stable index in (0, 2]; moments: ξ",
  }
  if families:
    fam = compare_families(np.asarray(x), seed=seed)
    report["families"] = fam
    others = ", ".join(f"{name} p = {v['p']:.1g}" for name, v in fam["vuong"].items())
    verdict += f"; best family {fam['best']} ({others})"
  report["verdict"] = verdict
  return report
