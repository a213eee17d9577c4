"""The Clauset–Shalizi–Newman power-law fit of a tail, and which family fits a sample (Vuong's tests).

Written here rather than taken from the `powerlaw` package: its x_min search takes seconds at 1e4 values and minutes
at 1e5 (BENCHMARKS.md); this one scans 200 candidate tail sizes in one jitted program.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.tails.checks import as_array, check_sample
from tailjax.tails.order_stats import abs_flat, top_desc


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
    dict with `pdf_exponent` (Clauset's α = tail index + 1), `tail_index`, `xmin`, `n_tail`, `ks`,
    `at_search_limit` (the minimum lies within 10% of the largest tail searched, k_max: a bound there), and the
    candidate curve (`candidate_k`, `candidate_tail_index`, `candidate_ks`).
  """
  x = as_array(x, "fit_power_law_tail")
  n = check_sample(x, "fit_power_law_tail", at_least=20)
  n_positive = int(jnp.sum(abs_flat(x) > 0))
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
    # the KS minimum within 10% of the largest tail searched: the best tail may be larger still (x_min lower)
    "at_search_limit": ks[best] >= 0.9 * ks[-1],
    "candidate_k": list(ks),
    "candidate_tail_index": tail_index_C.tolist(),
    "candidate_ks": ks_C.tolist(),
  }


def vuong(ll_a, ll_b) -> dict:
  """Vuong's normalised log-likelihood ratio of a over b: z > 0 favours a; p is two-sided (is the sign significant?)."""
  d = np.asarray(ll_a, np.float64) - np.asarray(ll_b, np.float64)
  if not np.isfinite(d).all():  # a point one family gives zero density: a decisive verdict, not a NaN
    return {"z": float(np.sign(np.nansum(np.where(np.isfinite(d), 0.0, d)))) * math.inf, "p": 0.0}
  z = d.sum() / (d.std() * math.sqrt(d.size) + 1e-300)
  return {"z": float(z), "p": float(math.erfc(abs(z) / math.sqrt(2)))}


def compare_families(x, subsample: int = 20_000, seed: int = 0, fit: dict | None = None) -> dict:
  """Which family fits, by likelihood: the whole sample, and the tail.

  Whole sample: Gaussian, Laplace and Student-t fitted by maximum likelihood (scipy.stats, on a random subsample),
  each compared with the best by Vuong's test. Tail (above the Clauset x_min of |x|): power law against a shifted
  exponential, also by Vuong's test, as the `powerlaw` package compares them. Student-t nests the Gaussian
  (ν → ∞), where Vuong's test is only approximate; a large fitted ν with p > 0.05 means "Gaussian". `fit`: the
  `fit_power_law_tail` of x, when the caller has made it already.

  Returns:
    dict: `best`, `log_likelihood` and `params` per family, `vuong` (best against each other family: z, p),
    `tail` (xmin, n_tail, power law vs exponential: z > 0 favours the power law, p, `better`).
  """
  import scipy.stats as st  # the reference distributions

  x = as_array(x, "compare_families")
  check_sample(x, "compare_families", at_least=20)
  x_N = np.asarray(x, np.float64).ravel()
  rng = np.random.default_rng(seed)
  sub = rng.choice(x_N, size=min(subsample, x_N.size), replace=False)
  families = {"gaussian": st.norm, "laplace": st.laplace, "student_t": st.t}
  params = {name: dist.fit(sub) for name, dist in families.items()}
  ll = {name: dist.logpdf(sub, *params[name]) for name, dist in families.items()}
  best = max(ll, key=lambda name: ll[name].sum())
  fit = fit or fit_power_law_tail(x_N.astype(np.float32))  # `estimate` passes the fit it made
  a = np.abs(x_N)
  y = a[a >= fit["xmin"]]
  alpha_pdf, xmin = fit["pdf_exponent"], fit["xmin"]
  ll_power = np.log((alpha_pdf - 1) / xmin) - alpha_pdf * np.log(y / xmin)
  lam = 1.0 / max(np.mean(y - xmin), 1e-300)
  ll_exp = np.log(lam) - lam * (y - xmin)
  tail = vuong(ll_power, ll_exp)
  return {
    "best": best,
    "log_likelihood": {name: float(v.sum()) for name, v in ll.items()},
    "params": {name: [float(p) for p in v] for name, v in params.items()},
    "vuong": {name: vuong(ll[best], ll[name]) for name in ll if name != best},
    "tail": {
      "xmin": xmin,
      "n_tail": int(y.size),
      "power_law_vs_exponential": tail,
      "better": "power_law" if tail["z"] > 0 else "exponential",
    },
  }
