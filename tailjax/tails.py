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

Order statistics come from `order_stats.kth_largest`; the Clauset fit and the family comparison live in `power_law`,
the bootstraps in `bootstrap`; all are re-exported here, so `tails` is the one name to import.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.bootstrap import _hill_tail_bootstrap, hill_double_bootstrap
from tailjax.order_stats import _abs, _check_k, _check_result, _check_x, _hill, _log_excess_sums, kth_largest, top_desc
from tailjax.power_law import compare_families, fit_power_law_tail

__all__ = [
  "compare_families", "estimate", "fit_power_law_tail", "hill", "hill_curve", "hill_double_bootstrap", "kth_largest",
  "moments", "pickands", "stable_alpha", "standardize_columns", "top_desc",
]  # fmt: skip


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
