"""`estimate`: every estimator on one sample, and a verdict in words (docs/science.md says what each number is)."""

import math

import numpy as np

from tailjax.tails import alternatives, bias, kernels
from tailjax.tails.bootstrap import hill_double_bootstrap
from tailjax.tails.checks import as_array, check_sample
from tailjax.tails.estimators import pool, stable_alpha
from tailjax.tails.power_law import compare_families, fit_power_law_tail


def estimate(
  x,
  *,
  pooling: str | None = None,
  k_ratios=(0.05, 0.1, 0.2),
  standardize: bool = False,
  n_boot: int = 200,
  families: bool = False,
  k_choice: str = "ks",
  gof: int = 0,
  seed: int = 0,
) -> dict:
  """Every estimator on one sample, and a verdict in words.

  Args:
    x: samples: a 1-D array, or an [N, D] array of N samples of D coordinates (or [N, ...]: the trailing axes are the
      coordinates), which `pooling` turns into one sample.
    pooling: for [N, D] input, "robust" (default: each column centred on its median and scaled by the interquartile
      range of its values off the median, unusable columns left out; docs/science.md §3), "raw" (pooled as they
      are: coordinates of different scales make a scale mixture) or "std" (standardised; caps every tail at
      √(N − 1)). 1-D input: "raw".
    k_ratios: fractions of n at which Hill, Pickands and moments are also reported (the study's k choices).
    standardize: the same as pooling="std" (kept for old callers).
    n_boot: bootstrap replicates of the whole Clauset fit (x_min chosen again in each) for the interval.
    gof: synthetic data sets for Clauset's goodness-of-fit p-value (0: not run; ~7 s per 100 at 1e6 values).
    families: also run `compare_families` on the whole sample (slower: scipy fits on a subsample).
    k_choice: how Hill's k is chosen: "ks" (the Clauset fit's KS minimum) or "double_bootstrap" (Danielsson et
      al. 2001, `hill_double_bootstrap`, 200 resamples; slower, ~1–2 s).

  Returns:
    dict: `hill` (k chosen by `k_choice`, α̂ and a 95% bootstrap interval), `hill_curve` (the Hill plot) and
    `hill_flat` (its flattest stretch), `moments_xi`, `at_k_ratio` (Hill, Pickands, moments per ratio),
    `stable_alpha` (Mohammadi on all, ECF on at most 2e5 values), `power_law_fit`, `alternatives` (the tail above
    x_min against the exponential, lognormal, stretched exponential and power law with cut-off), `pooling`,
    `zeros_dropped`, optionally `families`, and `verdict`. Only a tail that beats every alternative, has a flat Hill
    plot around the chosen k and a clearly positive moments ξ gets a verdict beginning "power-law tail".
  """
  x = as_array(x, "estimate")
  if standardize:
    pooling = "std"
  pooling = pooling or ("robust" if np.ndim(x) >= 2 else "raw")
  check_sample(x, "estimate", at_least=100)
  x, columns_dropped = pool(x, pooling, "estimate")
  n_given = int(x.shape[0])
  nonzero = np.asarray(x != 0)
  n_zero = n_given - int(nonzero.sum())
  if n_zero:  # exact zeros (sparse gradients: unused embedding rows, dead units) are no part of a tail
    x = x[nonzero]
    if x.shape[0] < 100:
      raise ValueError(
        f"estimate: {n_zero} of the {n_given} values are exact zeros and only {x.shape[0]} remain; a tail needs at "
        "least 100 non-zero values: measure more examples or coordinates"
      )
  check_sample(x, "estimate", at_least=100)
  n = int(x.shape[0])
  if not all(0 < r <= 0.5 for r in k_ratios):
    raise ValueError(f"estimate: k_ratios = {tuple(k_ratios)}; each must be a fraction of n in (0, 0.5]")
  if k_choice not in ("ks", "double_bootstrap"):
    raise ValueError(f"estimate: k_choice = {k_choice!r}; use 'ks' or 'double_bootstrap'")
  fit = fit_power_law_tail(x, n_boot=n_boot, gof=gof, seed=seed)
  if fit["n_distinct"] < _MIN_DISTINCT:
    raise ValueError(
      f"estimate: |x| takes only {fit['n_distinct']} distinct values; a tail index needs at least {_MIN_DISTINCT} "
      "(this looks like categorical or heavily rounded data)"
    )
  k = min(fit["n_tail"], n - 1) if k_choice == "ks" else hill_double_bootstrap(x, n_boot=200, seed=seed)["k"]
  alpha_hill = float(kernels.hill(x, k))
  logs_desc = np.log(np.sort(np.abs(np.asarray(x, np.float64)))[::-1])  # one sort serves the curve and the bias
  tail = tail_index(logs_desc, k=k, alpha_hill=alpha_hill, fit=fit if k_choice == "ks" else None)
  xi = float(kernels.moments(x, k))
  # The Hill plot spans the k the fit chose, so the verdict and the plot drawn from this report show the same k: to
  # n/2, or further when the chosen tail is larger (beyond, Hill on |x| only reads the body near 0). From the sort.
  curve_k = tuple(sorted({int(v) for v in np.geomspace(10, max(n // 2, min(2 * k, n - 1)), 30)}))
  mean_first_k = np.cumsum(logs_desc) / np.arange(1, n + 1)
  curve = 1.0 / (mean_first_k[np.asarray(curve_k) - 1] - logs_desc[np.asarray(curve_k)])  # Hill at each k
  flat = flattest(curve_k, curve)
  k_of = {r: max(int(r * n), 1) for r in k_ratios}
  per_ratio = {
    r: {
      "k": k_of[r],
      "hill": float(kernels.hill(x, k_of[r])),
      "pickands": float(kernels.pickands(x, max(k_of[r] // 4, 1))),
      "moments_xi": float(kernels.moments(x, k_of[r])),
    }
    for r in k_ratios
  }
  sub = x[:: max(n // 200_000, 1)]
  stable = {"mohammadi": float(stable_alpha(x, "mohammadi")), "ecf": float(stable_alpha(sub, "ecf"))}
  se_xi = math.sqrt(1 + xi**2) / math.sqrt(k)
  # A power law has a plateau where the KS fit puts the tail: Hill barely moves from k*/10 to k*.
  plateau = float(kernels.hill(x, max(k // 10, 10))), alpha_hill
  drift = abs(plateau[0] - plateau[1]) / min(plateau)
  a_N = np.abs(np.asarray(x))
  alt = alternatives.compare(a_N[a_N >= fit["xmin"]], fit["xmin"], seed=seed)  # ties at x_min stay in the tail
  verdict = _verdict(
    alt=alt, tail=tail, k=k, k_choice=k_choice, xi=xi, se_xi=se_xi, drift=drift, flat=flat, curve=(curve_k, curve),
    discrete=fit["discrete"],
  )  # fmt: skip
  if fit["at_search_limit"]:
    verdict += f"; x_min sits on the search's limit (a tail of {fit['n_tail']} = the most searched): it may start lower"
  if columns_dropped:
    verdict += f"; {columns_dropped} coordinates without spread (IQR = 0) left out of the robust pool"
  if n_zero:
    verdict += f"; {n_zero} exact zeros of {n_given} values dropped first"
  report = {
    "n": n,
    "pooling": pooling,
    "columns_dropped": columns_dropped,
    "zeros_dropped": n_zero,
    "tail_index": tail,
    "hill": {
      "k": k,
      "alpha": alpha_hill,
      "ci95": tail["hill_ci95"],
      "k_choice": "Clauset KS minimum" if k_choice == "ks" else "double bootstrap (Danielsson et al. 2001)",
      "plateau_drift": drift,
    },
    "hill_curve": {"k": list(curve_k), "alpha": curve.tolist()},
    "hill_flat": flat,
    "moments_xi": xi,
    "at_k_ratio": per_ratio,
    "stable_alpha": stable,
    "power_law_fit": {key: v for key, v in fit.items() if not key.startswith("candidate")},
    "alternatives": alt,
    "category": next(c for prefix, c in _CATEGORIES.items() if verdict.startswith(prefix)),
    "which_alpha": "hill/pickands/power_law_fit: tail index; stable_alpha: stable index in (0, 2]; moments: ξ",
  }
  if families:
    fam = compare_families(np.asarray(x), seed=seed, fit=fit)
    report["families"] = fam
    others = ", ".join(f"{name} p = {v['p']:.1g}" for name, v in fam["vuong"].items())
    verdict += f"; best family {fam['best']} ({others})"
  report["verdict"] = verdict
  if report["category"] != "power law":
    tail["note"] = "no power-law tail in the verdict: alpha and ci95 are Hill's numbers at the chosen k, no index"
  return report


def tail_index(logs_desc, *, k: int, alpha_hill: float, fit: dict | None) -> dict:
  """The tail index `estimate` reports, and a 95% interval honest about k and about Hill's bias.

  The point: the minimum-variance reduced-bias Hill estimator (`bias`, Caeiro, Gomes & Pestana 2005) at the chosen
  k, where the second-order parameters can be estimated; Hill otherwise. The interval: the whole Clauset fit is
  bootstrapped (x_min chosen again in every resample), which gives the spread of Hill at a k chosen from the data;
  that interval is drawn around Hill and around the bias-reduced value, and their hull is reported. The estimate of
  ρ behind the correction is itself unreliable (docs/science.md §6), so the interval keeps both readings rather than
  trusting either; docs/estimators.md measures its coverage. Without a bootstrap (fit None, or n_boot = 0):
  Hill's asymptotic normal interval, sd = α/√k. `logs_desc`: ln |x|, descending.
  """
  n = logs_desc.size
  if fit is not None and fit["discrete"]:  # integer data: Hill reads the ties, the discrete fit is the estimate
    c, n_tail = fit["tail_index"], fit["n_tail"]
    lo, hi = c * (1 - 1.96 / math.sqrt(n_tail)), c * (1 + 1.96 / math.sqrt(n_tail))
    hill_ci = [alpha_hill * (1 - 1.96 / math.sqrt(k)), alpha_hill * (1 + 1.96 / math.sqrt(k))]
    return {
      "alpha": c, "ci95": [lo, hi], "hill": alpha_hill, "hill_ci95": hill_ci, "reduced_bias": c,
      "bias": "discrete fit", "rho": math.nan, "beta": math.nan,
      "ci_method": "discrete power-law MLE, asymptotic normal, sd = alpha/sqrt(n_tail)",
    }  # fmt: skip
  second = bias.second_order(logs_desc, n)
  # A KS tail beyond k₁ = n/5, where (ρ̂, β̂) are read, is a power law over much of the sample: on a true Pareto the
  # correction there would only add the noise of (ρ̂, β̂) (RMSE 0.45 against Hill's 0.014 at 1e4 values), so Hill
  # stands, and the report says its interval ignores the bias (a stable law's Hill reads high there:
  # docs/estimators.md).
  beyond = k > second["k1"]
  factor = 1.0 if beyond else bias.correction(n, k, second)
  alpha_rb = alpha_hill / factor
  if fit is not None and fit["tail_index_ci95"] is not None:
    lo, hi = (alpha_hill * v / fit["tail_index"] for v in fit["tail_index_ci95"])  # the fit's spread, around Hill
    method = "bootstrap of the whole fit (x_min chosen again in each resample)"
  else:
    lo, hi = alpha_hill * (1 - 1.96 / math.sqrt(k)), alpha_hill * (1 + 1.96 / math.sqrt(k))
    method = "asymptotic normal, sd = alpha/sqrt(k)"
  removed = factor != 1.0
  return {
    "alpha": alpha_rb if removed else alpha_hill,
    "ci95": [min(lo, lo / factor), max(hi, hi / factor)],
    "hill": alpha_hill,
    "hill_ci95": [lo, hi],
    "reduced_bias": alpha_rb,
    "bias": "removed" if removed else "not estimable" if beyond else "ignored",
    "rho": second["rho"],
    "beta": second["beta"],
    "ci_method": method + (", drawn around Hill and the bias-reduced value (their hull)" if removed else ""),
  }


FLAT = 0.1  # a stretch of the Hill plot is flat when its α̂ stay within ±10% of their middle ...
FLAT_SPAN = 10  # ... over at least a factor 10 in k ...
FLAT_FROM = 50  # ... counting only k ≥ 50, where Hill's own noise (sd α/√k) is below ±15%


def flattest(ks, alpha) -> dict | None:
  """The widest stretch of a Hill plot (in ln k, from k ≥ FLAT_FROM) whose α̂ stay within ±FLAT of the stretch's
  middle value, if it spans at least a factor FLAT_SPAN in k; None when the plot has no such stretch (it drifts)."""
  ks, alpha = np.asarray(ks, float), np.asarray(alpha, float)
  best = None
  for i in np.flatnonzero(ks >= FLAT_FROM):
    for j in range(i + 1, len(ks)):
      a = alpha[i : j + 1]
      if not np.isfinite(a).all():
        break
      mid = 0.5 * (a.max() + a.min())
      if a.max() - a.min() > 2 * FLAT * mid:
        break
      if ks[j] >= FLAT_SPAN * ks[i] and (best is None or ks[j] / ks[i] > best["k_hi"] / best["k_lo"]):
        best = {"k_lo": int(ks[i]), "k_hi": int(ks[j]), "alpha_lo": float(a.min()), "alpha_hi": float(a.max())}
  return best


def _verdict(*, alt, tail, k, k_choice, xi, se_xi, drift, flat, curve, discrete) -> str:
  """The verdict in words, in Clauset et al.'s categories; every clause names its evidence."""
  how = "KS" if k_choice == "ks" else "double bootstrap"
  alpha, ci = tail["alpha"], tail["ci95"]
  hill = f"Hill α = {tail['hill']:.2f} at k = {k} chosen by {how}"
  if discrete:  # integer data: the discrete fit's index is the one to quote, whatever the category
    hill += f" (integer data: the discrete power-law fit gives α = {alpha:.2f} [{ci[0]:.2f}, {ci[1]:.2f}])"
  where = (
    f"Hill flat at {flat['alpha_lo']:.2f}–{flat['alpha_hi']:.2f} for k = {flat['k_lo']}–{flat['k_hi']}"
    if flat
    else f"Hill drifts from {curve[1][0]:.1f} to {curve[1][-1]:.1f} over k = {curve[0][0]}–{curve[0][-1]}"
  )
  tests = alt["tests"]
  p = lambda name: f"p = {tests[name]['p']:.2g}"
  # A bend the likelihood ratio finds but the Hill plot does not show (flat from k/10 to the chosen k) is one the
  # verdict must not assert against the plot drawn beside it: it is named, and the power-law criteria decide.
  flat_at_k = flat is not None and flat["k_lo"] <= max(k // 10, FLAT_FROM) and flat["k_hi"] >= k
  slight = ""
  if flat_at_k and alt["category"] in ("not a power law", "power law with cut-off") and alt["winner"] != "exponential":
    slight = f"{alt['winner'].replace('_', ' ')} bends it slightly ({p(alt['winner'])}) where the Hill plot is flat"
    alt = {**alt, "category": "power law"}
  if alt["category"] == "not a power law":
    name = alt["winner"].replace("_", " ")
    return f"not a power law: {name} fits the tail above x_min better ({p(alt['evidence'])}); {where}; {hill}"
  if alt["category"] == "power law with cut-off":
    rate = alt["params"]["power_law_with_cutoff"]["rate"]
    return (
      f"power law with cut-off: the tail bends down (cut-off rate {rate:.3g}/x_min, {p('power_law_with_cutoff')}); "
      f"{hill} is no pure tail index; {where}"
    )
  if alt["category"] == "cannot tell" and alt["winner"] == "exponential":
    return f"power law or exponential: the data cannot tell them apart ({p('exponential')}); {where}; {hill}"
  if alt["category"] == "cannot tell":
    bend = alt["lognormal_bend_upper"]
    return (
      f"power law or lognormal: the data cannot tell them apart (a lognormal bending the tail index by up to "
      f"{bend:.0%} over the {alt['n_tail']} tail points is not ruled out); {where}; {hill}"
    )
  if alt["n_tail"] < _MIN_TAIL:
    return f"power law or lognormal: the data cannot tell them apart (only {alt['n_tail']} tail points); {hill}"
  if xi > 2 * se_xi and drift < 0.3 and flat:
    how_alpha = {
      "removed": f"bias-reduced Hill (Hill {tail['hill']:.2f}; interval covers both)",
      "not estimable": "Hill; the interval ignores Hill's bias: the tail holds over a fifth of the sample, beyond "
      "where the bias can be estimated",
      "ignored": "Hill; the interval ignores Hill's bias: no usable second-order estimate",
      "discrete fit": f"discrete power-law fit of the integer data (Hill {tail['hill']:.2f} reads their ties)",
    }[tail["bias"]]
    return (
      f"power-law tail, α = {alpha:.2f} [{ci[0]:.2f}, {ci[1]:.2f}] ({how_alpha}; k = {k} chosen by {how}; {where}; "
      + f"beats the exponential ({p('exponential')}); "
      + (slight or _nested_clause(tests))
      + f"; moments ξ = {xi:.2f})"
    )
  why = "the Hill plot is not flat around it" if flat else "the Hill plot has no flat stretch"
  return f"no power-law tail at k = {k} ({why}): {where}; moments ξ = {xi:.2f} (± {se_xi:.2f}); {hill}"


def _nested_clause(tests) -> str:
  """Why the lognormal, stretched exponential and cut-off laws did not win: none fits better at the Bonferroni
  level, or those that do bend the tail index by less than alternatives.BEND over the tail (then each is named)."""
  slight = [name for name in alternatives.NAMES[1:] if tests[name]["p"] < alternatives.NESTED_LEVEL]
  if not slight:
    smallest = min(tests[name]["p"] for name in alternatives.NAMES[1:])
    return (
      f"lognormal, stretched exponential, cut-off not better (smallest p = {smallest:.2g}, each needs "
      f"< {alternatives.NESTED_LEVEL:.2g})"
    )
  label = {
    "lognormal": "lognormal",
    "stretched_exponential": "stretched exponential",
    "power_law_with_cutoff": "cut-off",
  }
  named = ", ".join(f"{label[name]} (p = {tests[name]['p']:.2g}, bend {tests[name]['bend']:.0%})" for name in slight)
  return (
    f"{named} fit{'s' if len(slight) == 1 else ''} better but bend{'s' if len(slight) == 1 else ''} the tail index "
    f"by less than {alternatives.BEND:.0%} over the tail: too slight to call it another law"
  )


_MIN_DISTINCT = 10  # fewer distinct magnitudes than this leave Hill's log excesses mostly zero: no index to read
_MIN_TAIL = 100  # fewer tail points than this cannot tell a power law from a lognormal (Clauset et al. 2009, §5)

_CATEGORIES = {  # verdict → category (Clauset et al.'s, and "no plateau" where the Hill plot itself drifts)
  "power-law tail": "power law",
  "power law with cut-off": "power law with cut-off",
  "power law or": "cannot tell",
  "not a power law": "not a power law",
  "no power-law tail": "no plateau",
}
