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

Order statistics come from `kth_largest`, a sample-bracketed selection (Floyd & Rivest 1975) that never sorts the
data: on a CPU `jax.lax.top_k` and `jnp.sort` take seconds on 1e7 values, this about 0.3 s (BENCHMARKS.md).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np


def _abs(x):
  return jnp.abs(jnp.ravel(x)).astype(jnp.float32)


def kth_largest(a_N, k, sample: int = 1 << 15):
  """The exact k-th largest value (1-based) of a 1-D array, without sorting it. `k` may be traced.

  A sorted random sample of `sample` values gives two pivots that bracket the answer with overwhelming probability;
  one pass counts the values above and between them, and only the values between are gathered and sorted. If the
  bracket missed (or holds more values than the static capacity), a full sort answers instead, so the result is
  always exact. Nothing here depends on the value of k at compile time: one program serves every k.
  """
  n = a_N.shape[0]
  s = min(n, sample)
  worst_margin = 5.0 * math.sqrt(s / 4) + 8  # the margin below at its largest (r = s/2)
  cap = min(n, int(2 * n * (2 * worst_margin + 2) / s) + 4096)
  r = jnp.asarray(k, jnp.float32) * (s / n)  # where the answer should rank in the sample (float: k·s overflows int32)
  margin = 5.0 * jnp.sqrt(jnp.maximum(r * (1 - r / s), 1.0)) + 8  # ~5 sd of that rank
  i_hi = jnp.clip(jnp.floor(r - margin), 0, s - 1).astype(jnp.int32)
  i_lo = jnp.clip(jnp.floor(r + margin), 0, s - 1).astype(jnp.int32)
  sample_desc = -jnp.sort(-a_N[jax.random.randint(jax.random.key(0), (s,), 0, n)])
  hi = jnp.where(i_hi > 0, sample_desc[i_hi], jnp.inf)
  lo = jnp.where(i_lo < s - 1, sample_desc[i_lo], -jnp.inf)
  n_above = jnp.sum(a_N > hi)
  in_band = (a_N >= lo) & (a_N <= hi)
  n_band = jnp.sum(in_band)

  def from_band(_):
    (pos,) = jnp.nonzero(in_band, size=cap, fill_value=0)
    band = jnp.where(jnp.arange(cap) < n_band, a_N[pos], -jnp.inf)
    return -jnp.sort(-band)[k - 1 - n_above]

  ok = (n_above < k) & (n_above + n_band >= k) & (n_band <= cap)
  return jax.lax.cond(ok, from_band, lambda _: -jnp.sort(-a_N)[k - 1], None)


def _log_excess_sums(a_N, k):
  """(Σ d, Σ d², ln X(k+1)) over the top k values, d = ln X(i) − ln X(k+1); ties at X(k+1) add d = 0."""
  t = kth_largest(a_N, k + 1)
  d = jnp.where(a_N > t, jnp.log(a_N) - jnp.log(t), 0.0)
  return jnp.sum(d), jnp.sum(d * d), jnp.log(t)


def top_desc(x, k: int):
  """The k largest values of |x|, sorted descending (X(1) ≥ … ≥ X(k)); sorts only those k."""
  a = _abs(x)
  t = kth_largest(a, k)
  (pos,) = jnp.nonzero(a > t, size=k, fill_value=0)
  n_above = jnp.sum(a > t)
  return -jnp.sort(-jnp.where(jnp.arange(k) < n_above, a[pos], t))


@jax.jit
def hill(x, k):
  """Hill's tail index α̂ = 1/ξ̂, ξ̂ = (1/k) Σ_{i≤k} ln X(i) − ln X(k+1)."""
  sum_d, _, _ = _log_excess_sums(_abs(x), k)
  return k / sum_d


@jax.jit(static_argnames="ks")
def hill_curve(x, ks: tuple[int, ...]):
  """Hill's α̂ at every k in `ks` from one selection: the Hill plot, α̂ against k."""
  logs = jnp.log(top_desc(x, max(ks) + 1))
  mean_first_k = jnp.cumsum(logs) / jnp.arange(1, logs.shape[0] + 1)
  k_K = jnp.asarray(ks)
  return 1.0 / (mean_first_k[k_K - 1] - logs[k_K])


@jax.jit
def pickands(x, k):
  """Pickands' α̂ = 1/ξ̂, ξ̂ = ln[(X(k) − X(2k)) / (X(2k) − X(4k))] / ln 2 (needs 4k ≤ n); NaN where ξ̂ ≤ 0."""
  a = _abs(x)
  xk, x2k, x4k = (kth_largest(a, j) for j in (k, 2 * k, 4 * k))
  xi = jnp.log((xk - x2k) / (x2k - x4k)) / math.log(2.0)
  return jnp.where(xi > 0, 1.0 / xi, jnp.nan)


@jax.jit
def moments(x, k):
  """Dekkers–Einmahl–de Haan ξ̂ = M1 + 1 − ½(1 − M1²/M2)^(−1); M_j the j-th mean of ln X(i) − ln X(k+1)."""
  sum_d, sum_d2, _ = _log_excess_sums(_abs(x), k)
  m1, m2 = sum_d / k, sum_d2 / k
  return m1 + 1.0 - 0.5 / (1.0 - m1**2 / m2)


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
  q25, q50, q75 = jnp.quantile(x, jnp.array([0.25, 0.5, 0.75]))
  z = (x - q50) / ((q75 - q25) / 2.0)  # centred, unit semi-interquartile range (≈ unit scale for α near 2 or 1)
  t_K = jnp.pi * jnp.arange(1, 11) / 25.0
  phi2_K = jnp.mean(jnp.cos(t_K[:, None] * z), 1) ** 2 + jnp.mean(jnp.sin(t_K[:, None] * z), 1) ** 2
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
  if method == "mohammadi":
    n = int(jnp.size(x))
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
  n = int(jnp.size(x))
  k_max = min(k_max or n // 2, n)
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


_BOOTSTRAP_MAX_K = 4096


def estimate(
  x,
  k_ratios=(0.05, 0.1, 0.2),
  standardize: bool = False,
  n_boot: int = 200,
  families: bool = False,
  seed: int = 0,
) -> dict:
  """Every estimator on one sample, and a verdict in words.

  Args:
    x: samples; with `standardize`, an [N, D] array whose columns are standardised before pooling.
    k_ratios: fractions of n at which Hill, Pickands and moments are also reported (the study's k choices).
    n_boot: bootstrap replicates for Hill's confidence interval at the chosen k.
    families: also run `compare_families` (slower: scipy fits on a subsample).

  Returns:
    dict: `hill` (k chosen by Clauset's KS criterion, α̂ and a 95% bootstrap interval), `hill_curve` (the Hill
    plot), `moments_xi`, `at_k_ratio` (Hill, Pickands, moments per ratio), `stable_alpha` (Mohammadi on all,
    ECF on at most 2e5 values), `power_law_fit`, optionally `families`, and `verdict`.
  """
  x = standardize_columns(x) if standardize else jnp.asarray(x, jnp.float32)
  x = jnp.ravel(x)
  n = int(x.shape[0])
  fit = fit_power_law_tail(x)
  k = fit["n_tail"]
  alpha_hill = float(hill(x, k))
  if k <= _BOOTSTRAP_MAX_K and n_boot:
    top = top_desc(x, min(2 * _BOOTSTRAP_MAX_K, n))  # static size: one program for every k
    boot = np.asarray(_hill_tail_bootstrap(top, k, n, n_boot, jax.random.key(seed)))
    lo, hi = np.percentile(boot[np.isfinite(boot)], [2.5, 97.5])
    ci_method = f"tail bootstrap, {n_boot} replicates"
  else:  # Hill is asymptotically normal with sd α/√k; at this k the bootstrap would only cost time
    lo, hi = alpha_hill * (1 - 1.96 / math.sqrt(k)), alpha_hill * (1 + 1.96 / math.sqrt(k))
    ci_method = "asymptotic normal, sd = alpha/sqrt(k)"
  xi = float(moments(x, k))
  curve_k = tuple(sorted({int(v) for v in np.geomspace(10, max(n // 10, 20), 25)}))
  curve = np.asarray(hill_curve(x, curve_k))
  per_ratio = {
    r: {
      "k": int(r * n),
      "hill": float(hill(x, int(r * n))),
      "pickands": float(pickands(x, max(int(r * n) // 4, 1))),
      "moments_xi": float(moments(x, int(r * n))),
    }
    for r in k_ratios
  }
  sub = x[:: max(n // 200_000, 1)]
  stable = {"mohammadi": float(stable_alpha(x, "mohammadi")), "ecf": float(stable_alpha(sub, "ecf"))}
  se_xi = math.sqrt(1 + xi**2) / math.sqrt(k)
  # A power law has a plateau where the KS fit puts the tail: Hill barely moves from k*/10 to k*.
  plateau = float(hill(x, max(k // 10, 10))), alpha_hill
  drift = abs(plateau[0] - plateau[1]) / min(plateau)
  power_law = xi > 2 * se_xi and drift < 0.3
  # What the study's range of k (n/1000 to n/10) shows.
  k_lo, k_hi = max(n // 1000, 10), max(n // 10, 20)
  a_lo, a_hi = float(hill(x, k_lo)), float(hill(x, k_hi))
  if power_law:
    verdict = (
      f"power-law tail, α = {alpha_hill:.2f} [{lo:.2f}, {hi:.2f}] (Hill at k = {k} chosen by KS; moments ξ = {xi:.2f})"
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
      "k_choice": "Clauset KS minimum",
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
