"""The Clauset–Shalizi–Newman power-law fit of a tail, and which family fits a sample (Vuong's tests).

Written here rather than taken from the `powerlaw` package: its x_min search takes seconds at 1e4 values and minutes
at 1e5 (BENCHMARKS.md); this one scans 256 candidate tail sizes in one jitted program (`clauset`), and bootstraps it.
"""

import dataclasses
import math
import numbers
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.tails import clauset
from tailjax.tails import discrete as discrete_fit
from tailjax.tails.discrete import is_integer
from tailjax.tails.input_checks import as_array, check_sample


def fit_power_law_tail(
  x,
  k_min: int = 50,
  k_max: int | None = None,
  n_candidates: int = 256,
  *,
  discrete: bool | None = None,
  n_boot: int = 0,
  gof: int = 0,
  seed: int = 0,
  examples=None,
  hill_plot: bool = False,
) -> dict:
  """Clauset, Shalizi & Newman (2009) power-law fit of the tail of |x|.

  x_min is the value that minimises the Kolmogorov–Smirnov distance between the tail (every value ≥ x_min: ties
  are never split) and the fitted power law; the exponent is the maximum-likelihood one for that tail. Candidates
  are `n_candidates` tail sizes log-spaced from k_min to k_max (default: the whole sample), each mapped to the
  distinct value where the tail reaches it. Integer data get the discrete power law (`discrete=None` detects it),
  as Clauset et al. fit word counts, citations and degrees. KS distances are exact within 1/4096 (`clauset.GRID`).

  Args:
    n_boot: resamples of the whole fit (x_min chosen again in each, among tails up to twice the data's; continuous
      fits only) for `tail_index_ci95`, a percentile interval of the tail index.
    examples: the example (any integer label) each value of x came from, x's shape: the bootstrap then resamples
      whole examples, not values (values of one example share its scale and are no independent draws), and
      `tail_examples` says how many examples the fitted tail rests on. None: every value is its own draw.
    hill_plot: the bootstrap also reads Hill's α̂ on every resample at the k of the Hill plot (`hill_plot_ks` of n and
      the fitted tail): `boot_hill` holds their 16th, 50th and 84th percentiles per k and every resample's curve
      (`curves`, [n_boot, K]; NaN beyond the top 3 × n_tail
      values the bootstrap reads, where a resample holds fewer than k + 1 of them).
    gof: synthetic data sets for Clauset's goodness-of-fit p-value (§4.1; continuous fits only): p ≤ 0.1 rules the
      power law out; p is precise to about ±1/√(4·gof) near 0.1 (Clauset et al. use 2500).

  Returns:
    dict with `pdf_exponent` (Clauset's α = tail index + 1), `tail_index`, `xmin`, `n_tail`, `ks`, `discrete`,
    `n_distinct`, `zeros_dropped`, `at_search_limit` (k_max below the sample and the minimum within 10% of it: a
    bound there), `tail_index_ci95`, `boot_hill`, `resampled` ("examples" or "values") and `gof_p` (None unless
    asked for), `tail_examples` (with `examples`: the examples in the data, those holding a value of the tail, and
    the effective number (Σc)²/Σc² of the tail's per-example counts c), and the candidate curve (`candidate_k`,
    `candidate_tail_index`, `candidate_ks`).
  """
  x = as_array(x, "fit_power_law_tail")
  n = check_sample(x, "fit_power_law_tail", at_least=20)
  return fit_descending(
    descending(x, examples, "fit_power_law_tail"), n=n, k_min=k_min, k_max=k_max, n_candidates=n_candidates,
    discrete=discrete, n_boot=n_boot, gof=gof, seed=seed, hill_plot=hill_plot,
  )  # fmt: skip


@dataclasses.dataclass
class Magnitudes:
  """A sample's non-zero magnitudes: `desc` sorted descending (float64), and for dependent values `a` and `examples`
  (labels 0 … m − 1) in the sample's order, so the examples of the largest values are found without a full argsort
  (`top_examples`). `examples` None: every value is its own draw."""

  desc: np.ndarray
  a: np.ndarray | None = None
  examples: np.ndarray | None = None
  _top: np.ndarray | None = dataclasses.field(default=None, repr=False)  # the examples of the largest found so far

  def top_examples(self, t: int) -> np.ndarray:
    """The examples of the t largest values, in descending order of the values (ties in any order)."""
    t = min(int(t), self.a.size)
    if self._top is None or self._top.size < t:
      top = np.argpartition(-self.a, t - 1)[:t] if t < self.a.size else np.arange(self.a.size)
      self._top = self.examples[top[np.argsort(-self.a[top])]]
    return self._top[:t]


def descending(x, examples=None, what: str = "fit_power_law_tail") -> Magnitudes:
  """|x| without its exact zeros, sorted descending (the one sort every fit and estimate of x reads), with the
  example of each value where `examples` labels them."""
  a = np.abs(np.asarray(x).ravel())
  if a.dtype not in (np.float32, np.float64):
    a = a.astype(np.float64)
  desc = lambda v: np.sort(v)[::-1].astype(np.float64)  # sorted in the data's own precision (float32: twice as fast)
  if examples is not None:
    examples = np.asarray(examples).ravel()
    if examples.shape != a.shape:
      raise ValueError(f"{what}: examples has {examples.size} labels for {a.size} values; pass one per value of x")
    keep = a > 0
    a = a[keep]
    return Magnitudes(desc(a), a, dense_labels(examples[keep]))
  return Magnitudes(desc(a[a > 0]))


def dense_labels(labels) -> np.ndarray:
  """Labels as 0 … m − 1 (int32): the labels themselves where they already are (row indices), else their ranks."""
  if labels.size and np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0 and labels.max() < 2**31 - 1:
    if np.all(np.bincount(labels) > 0):
      return labels.astype(np.int32)
  return np.unique(labels, return_inverse=True)[1].astype(np.int32)


def fit_descending(
  mags: Magnitudes, *, n: int, k_min=50, k_max=None, n_candidates=256, discrete=None, n_boot=0, gof=0, seed=0,
  hill_plot=False,
) -> dict:  # fmt: skip
  """`fit_power_law_tail` on magnitudes already sorted by `descending`; n: the size of the sample before its zeros
  were dropped."""
  a, dependent = mags.desc, mags.examples is not None
  k_max = min(k_max or a.size, a.size)
  if not 2 <= k_min <= k_max:
    raise ValueError(
      f"fit_power_law_tail: k_min = {k_min} must lie in [2, k_max = {k_max}] ({a.size} of n = {n} values are "
      "non-zero); lower k_min or pass more data"
    )
  for name, v in (("n_boot", n_boot), ("gof", gof)):
    if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)) or v < 0:
      raise ValueError(f"fit_power_law_tail: {name} = {v!r}; pass a whole number of resamples ≥ 0 (0: none)")
  values_U, counts_U = clauset.distinct_of_descending(a)
  if values_U.size < 3:
    raise ValueError(
      f"fit_power_law_tail: |x| takes only {values_U.size} distinct values; a tail needs more (categorical or "
      "heavily rounded data have none to fit)"
    )
  discrete = is_integer(values_U) if discrete is None else bool(discrete)
  targets_C = clauset.candidate_counts(k_min, k_max, n_candidates)
  if discrete:
    found = discrete_fit.search(values_U, counts_U, targets_C)
    tail_index_C = np.asarray(found["candidate_pdf_exponent"]) - 1.0
    u_C, k_C, ks_C = (np.asarray(found[f"candidate_{key}"]) for key in ("u", "k", "ks"))
  else:
    logv_P, w_P = clauset.padded(values_U, counts_U)
    u_C, W_C, c_C, ks_C = (np.asarray(v) for v in clauset.search_jit(logv_P, w_P, jnp.asarray(targets_C)))
    keep = np.unique(u_C, return_index=True)[1]  # one row per distinct x_min
    u_C, k_C, tail_index_C, ks_C = u_C[keep], W_C[keep].astype(int), c_C[keep], ks_C[keep]
  best = int(np.argmin(ks_C))
  xmin, n_tail = float(values_U[u_C[best]]), int(k_C[best])
  out = {
    "pdf_exponent": float(tail_index_C[best] + 1.0),
    "tail_index": float(tail_index_C[best]),
    "xmin": xmin,
    "n_tail": n_tail,
    "ks": float(ks_C[best]),
    "discrete": discrete,
    "n_distinct": int(values_U.size),
    "zeros_dropped": n - int(a.size),  # exact zeros are no part of a tail
    # a k_max below the sample and the KS minimum within 10% of it: the best tail may be larger still (x_min lower)
    "at_search_limit": k_max < a.size and n_tail >= 0.9 * k_max,
    "tail_index_ci95": None,
    "boot_hill": None,
    "resampled": "examples" if dependent else "values",
    "tail_examples": None,
    "gof_p": None,
    "candidate_k": [int(k) for k in k_C],
    "candidate_tail_index": [float(c) for c in tail_index_C],
    "candidate_ks": [float(v) for v in ks_C],
  }
  if dependent:  # the examples of the tail's values (every value ≥ x_min: the first n_tail)
    mags.top_examples(3 * n_tail + 64)  # the most any later reading needs (the bootstrap's top), found once
    counts = np.bincount(mags.top_examples(n_tail))
    out["tail_examples"] = {
      "examples": int(mags.examples.max()) + 1,
      "holding_tail": int(np.count_nonzero(counts)),
      "effective": float(n_tail**2 / np.sum(counts.astype(np.float64) ** 2)),
    }
  if discrete or not (n_boot or gof):
    return out
  key_boot, key_gof = jax.random.split(jax.random.key(seed))
  if n_boot:
    # Resamples choose x_min among tails up to twice the data's: only values in the top 3 × n_tail can matter. Hill is
    # read on them too, at the plot's k up to about 2 × n_tail (beyond, a resample holds too few: NaN).
    curve_k = hill_plot_ks(int(a.size), n_tail) if hill_plot else ()
    cum_counts = np.cumsum(counts_U)
    top = min(int(np.searchsorted(cum_counts, 3 * n_tail)) + 1, values_U.size)
    boot_targets = clauset.candidate_counts(k_min, min(2 * n_tail, k_max), 64)
    top_logv_P, top_w_P = clauset.padded(values_U[:top], counts_U[:top])
    groups, m = None, 0
    if dependent:
      held = int(cum_counts[top - 1])  # the data values among the top distinct values
      size = 1 << int(math.ceil(math.log2(max(held, 2))))  # padded: one program per power of two
      m = int(mags.examples.max()) + 1
      value_E = np.zeros(size, np.int32)
      value_E[:held] = np.repeat(np.arange(top, dtype=np.int32), counts_U[:top])  # each value's distinct index
      example_E = np.full(size, m, np.int32)
      example_E[:held] = mags.top_examples(held)
      groups = (jnp.asarray(value_E), jnp.asarray(example_E))
    curve_K = jnp.asarray(np.asarray(curve_k or (1,), np.float32))  # one k at least: lax.map batches no empty axis
    c_B, hill_BxK = clauset.bootstrap(
      top_logv_P, top_w_P, jnp.asarray(boot_targets), curve_K, key_boot, n_boot=n_boot,
      terms=clauset.terms_for(counts_U), groups=groups, n_examples=m,
    )  # fmt: skip
    out["tail_index_ci95"] = [float(v) for v in np.percentile(np.asarray(c_B), [2.5, 97.5])]
    if curve_k:
      with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a k no resample reaches: NaN, said in the docstring
        q = np.nanpercentile(np.asarray(hill_BxK, np.float64), [16, 50, 84], axis=0)
      out["boot_hill"] = {"k": [int(k) for k in curve_k], "q16": q[0].tolist(), "q50": q[1].tolist(),
                          "q84": q[2].tolist(), "curves": np.asarray(hill_BxK, np.float64)}  # fmt: skip
  if gof:
    # The data's KS and every synthetic set's are read alike: 64 candidates, a grid of 1024 (a quarter of the cost).
    gof_targets = jnp.asarray(clauset.candidate_counts(k_min, k_max, 64))
    ks_data = float(jnp.min(clauset.search_jit(logv_P, w_P, gof_targets, clauset.GOF_GRID)[3]))
    cap = 1 << int(n_tail + 6 * math.sqrt(n_tail) + 16).bit_length()  # a power of two: one program per size
    ks_G = clauset.gof_ks(
      logv_P, w_P, gof_targets, int(u_C[best]), out["tail_index"], key=key_gof, n_gof=gof, cap=cap,
      terms=clauset.terms_for(counts_U),
    )  # fmt: skip
    out["gof_p"] = float(np.mean(np.asarray(ks_G) >= ks_data))
  return out


def hill_plot_ks(n: int, k: int) -> tuple[int, ...]:
  """The k of the Hill plot of n values whose chosen tail holds k: 30 log-spaced from 10 to n/2, or further when the
  tail is larger, and k itself (so the plot shows the k the fit chose; beyond n/2, Hill on |x| reads only the body
  near 0)."""
  return tuple(sorted({int(v) for v in np.geomspace(10, max(n // 2, min(2 * k, n - 1)), 30)} | {min(k, n - 1)}))


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
