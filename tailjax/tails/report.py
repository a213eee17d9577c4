"""`estimate`: every estimator on one sample, and a verdict in words (docs/science.md says what each number is)."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.tails import kernels
from tailjax.tails.bootstrap import hill_double_bootstrap, hill_tail_bootstrap
from tailjax.tails.checks import check_sample
from tailjax.tails.estimators import stable_alpha, standardize_columns
from tailjax.tails.order_stats import top_desc
from tailjax.tails.power_law import compare_families, fit_power_law_tail

_BOOTSTRAP_MAX_K = 4096


def estimate(
  x,
  *,
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
  check_sample(x, "estimate", at_least=100)
  x = standardize_columns(x) if standardize else jnp.asarray(x, jnp.float32)
  x = jnp.ravel(x)
  n = int(x.shape[0])
  if not all(0 < r <= 0.5 for r in k_ratios):
    raise ValueError(f"estimate: k_ratios = {tuple(k_ratios)}; each must be a fraction of n in (0, 0.5]")
  if k_choice not in ("ks", "double_bootstrap"):
    raise ValueError(f"estimate: k_choice = {k_choice!r}; use 'ks' or 'double_bootstrap'")
  fit = fit_power_law_tail(x)
  k = fit["n_tail"] if k_choice == "ks" else hill_double_bootstrap(x, n_boot=200, seed=seed)["k"]
  alpha_hill = float(kernels.hill(x, k))
  if k <= _BOOTSTRAP_MAX_K and n_boot:
    top = top_desc(x, min(2 * _BOOTSTRAP_MAX_K, n))  # static size: one program for every k
    boot = np.asarray(hill_tail_bootstrap(top, k, n, n_boot, jax.random.key(seed)))
    lo, hi = np.percentile(boot[np.isfinite(boot)], [2.5, 97.5])
    ci_method = f"tail bootstrap, {n_boot} replicates"
  else:  # Hill is asymptotically normal with sd α/√k; at this k the bootstrap would only cost time
    lo, hi = alpha_hill * (1 - 1.96 / math.sqrt(k)), alpha_hill * (1 + 1.96 / math.sqrt(k))
    ci_method = "asymptotic normal, sd = alpha/sqrt(k)"
  xi = float(kernels.moments(x, k))
  curve_k = tuple(sorted({int(v) for v in np.geomspace(10, max(n // 10, 20), 25)}))
  curve = np.asarray(kernels.hill_curve(x, curve_k))
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
  power_law = xi > 2 * se_xi and drift < 0.3
  # What the study's range of k (n/1000 to n/10) shows.
  k_lo, k_hi = max(n // 1000, 10), max(n // 10, 20)
  a_lo, a_hi = float(kernels.hill(x, k_lo)), float(kernels.hill(x, k_hi))
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
