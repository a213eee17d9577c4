"""Is the tail above x_min a power law, or another law? Likelihood-ratio tests as Clauset, Shalizi & Newman (2009, §5)
run them, against the exponential, the lognormal, the stretched exponential and the power law with cut-off.

Every law is fitted by maximum likelihood to the tail alone (x ≥ x_min, densities normalised on [x_min, ∞)), in the
unit u = x / x_min. Two kinds of comparison:

- The exponential neither contains nor approaches the power law: Vuong's normalised log-likelihood ratio (z, and a
  two-sided p for its sign).
- The other three contain the power law as a boundary case: the power law with cut-off at λ = 0; the lognormal as
  σ → ∞ (in ln u its log-density is −a·v − b·v², and b = 1/(2σ²) = 0 is the power law); the stretched exponential
  c·u^(β−1)·exp(−c(u^β − 1)/β) as β → 0 (which is c·u^(−1−c)). Vuong's non-nested z is meaningless for laws that
  coincide at their best fit, so each is parameterised to include its power-law limit and tested by the nested
  likelihood ratio on that one parameter, whose null distribution on the boundary is ½χ²₀ + ½χ²₁ (p = ½ erfc(√R)).
  All three bend the tail downwards (log-density concave in ln x): a tail that falls off faster than a power law.

scipy has the optimiser and the special functions; no package fits these four tail laws in this parameterisation.
"""

import math
import warnings

import numpy as np
import scipy.integrate
import scipy.optimize
import scipy.special

LEVEL = 0.1  # Clauset et al.'s significance level for the likelihood-ratio tests, for the four of them together:
NESTED_LEVEL = LEVEL / 3  # each of the three laws that contain the power law must beat it at LEVEL/3 (Bonferroni),
# or a true power law would be called something else in about a quarter of samples
# How far a law may bend from a power law and still be one: the relative change of the local tail index
# (−d ln f/d ln x − 1) between x_min and the 99th percentile of the tail. A power law is called unambiguous only if no
# lognormal within the data's 95% confidence bends more than this (every significant bend is reported, whatever its
# size).
BEND = 0.2
MAX_TAIL = 10_000  # the laws are fitted to at most this many tail values (a random subset is a sample of the tail)
NAMES = ("exponential", "lognormal", "stretched_exponential", "power_law_with_cutoff")


def _power_law(v_N):
  """Per-point log-likelihood of the MLE power law, in v = ln u (the density of u; ln u terms included)."""
  c = v_N.size / max(v_N.sum(), 1e-300)  # c = γ − 1, the tail index
  return math.log(c) - (1 + c) * v_N, {"tail_index": c}


def _exponential(u_N):
  lam = 1.0 / max(float(np.mean(u_N - 1.0)), 1e-300)
  return math.log(lam) - lam * (u_N - 1.0), {"rate": lam}


def _lognormal(v_N, c0: float):
  """Truncated normal in v = ln u ≥ 0 with log-density −(1 + a)v − b v² − ln Z (density of u), b ≥ 0."""

  def ll(theta):
    a, b = theta
    if b <= 0:  # Z = ∫_0^∞ exp(−a v) dv = 1/a (needs a > 0): the power law
      if a <= 0:
        return np.full(v_N.shape, -np.inf)
      log_z = -math.log(a)
    else:  # Z = ∫_0^∞ exp(−a v − b v²) dv = √(π/4b) · exp(s²) · erfc(s), s = a / 2√b
      s = a / (2 * math.sqrt(b))
      if s >= 0:  # exp(s²)·erfc(s) = erfcx(s), without the cancellation of s² against ln erfc(s) as b → 0
        log_z = 0.5 * math.log(math.pi / (4 * b)) + math.log(float(scipy.special.erfcx(s)))
      else:
        log_z = (
          0.5 * math.log(math.pi / (4 * b)) + s * s + math.log(2) + float(scipy.special.log_ndtr(-s * math.sqrt(2)))
        )
    return -v_N - a * v_N - b * v_N**2 - log_z

  ll_N, params = _fit(ll, [(c0, 0.0), (c0, 1e-3), (c0 * 0.5, 0.05)], bounds=[(-50.0, 50.0), (0.0, 50.0)])
  return ll_N, params, ll


def _upper_bound(ll, theta_hat, ll_max: float, nuisance: tuple, deff: float = 1.0) -> tuple[float, float]:
  """One-sided 95% upper confidence bound of the second parameter of `ll` (a lognormal's curvature, a stretched
  exponential's β: how far the law bends from the power law), by profile likelihood: the largest value whose best
  fit over the first parameter (within `nuisance` bounds) is within 1.35 nats (z = 1.645) of the maximum, times the
  design effect `deff` of dependent values. Returns (the bound, the first parameter's best value there)."""
  drop = 1.35 * deff

  def profile(b):
    res = scipy.optimize.minimize_scalar(
      lambda a: -float(np.sum(ll((a, b)))), bounds=nuisance, method="bounded", options={"xatol": 1e-6}
    )
    return -res.fun, float(res.x)

  lo, hi = theta_hat[1], max(4 * theta_hat[1], 1e-3)
  while ll_max - profile(hi)[0] < drop and hi < 50:
    lo, hi = hi, 2 * hi
  for _ in range(30):
    mid = 0.5 * (lo + hi)
    lo, hi = (mid, hi) if ll_max - profile(mid)[0] < drop else (lo, mid)
  return hi, profile(hi)[1]


def _stretched(u_N, c0: float):
  """c·u^(β−1)·exp(−c(u^β − 1)/β), β ≥ 0 (β = 0: the power law of tail index c)."""
  log_u = np.log(u_N)

  def ll(theta):
    c, beta = theta
    if c <= 0:
      return np.full(u_N.shape, -np.inf)
    growth = log_u if beta < 1e-9 else np.expm1(beta * log_u) / beta  # (u^β − 1)/β, → ln u as β → 0
    return math.log(c) + (beta - 1) * log_u - c * growth

  ll_N, params = _fit(ll, [(c0, 0.0), (c0, 0.1), (1.0, 0.5), (1.0, 1.0)], bounds=[(1e-6, 1e3), (0.0, 5.0)])
  return ll_N, params, ll


def _cutoff(u_N, c0: float):
  """u^(−1−c)·exp(−λ(u − 1)) / Z, λ ≥ 0 (λ = 0 with c > 0: the power law); c may be ≤ 0 when λ > 0."""
  log_u = np.log(u_N)

  def ll(theta):
    c, lam = theta
    if lam <= 0:
      if c <= 0:
        return np.full(u_N.shape, -np.inf)
      log_z = -math.log(c)
    else:
      with warnings.catch_warnings():  # a slowly converging integral is judged by its value below
        warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
        z, _ = scipy.integrate.quad(lambda t: t ** (-1 - c) * math.exp(-lam * (t - 1)), 1, np.inf, limit=200)
      if not z > 0 or not math.isfinite(z):
        return np.full(u_N.shape, -np.inf)
      log_z = math.log(z)
    return -(1 + c) * log_u - lam * (u_N - 1) - log_z

  top = float(u_N.max())
  return _fit(ll, [(c0, 0.0), (c0, 1.0 / top), (max(c0 - 0.5, 0.05), 10.0 / top)], bounds=[(-0.99, 50.0), (0.0, 1e3)])


def _fit(ll, starts, bounds) -> tuple:
  """Maximum likelihood from several starts (L-BFGS-B within bounds); returns (per-point ll, params)."""
  best = None
  for x0 in starts:
    res = scipy.optimize.minimize(
      lambda th: -float(np.sum(ll(th))) if np.all(np.isfinite(ll(th))) else 1e300,
      np.asarray(x0, float),
      method="L-BFGS-B",
      bounds=bounds,
    )
    value = -float(np.sum(ll(res.x)))
    if best is None or value < best[0]:
      best = (value, res.x)
  return ll(best[1]), [float(t) for t in best[1]]


def design_effect(d_N, groups_N) -> float:
  """How much dependence within groups inflates the variance of Σ d (d the per-point log-likelihood ratio): the
  cluster-robust variance Σ_g (D_g − n_g d̄)² over the independent one Σ (d − d̄)², at least 1. Values of one example
  share its scale, so a test that counts them as independent is too sure of itself by this factor (the Rao–Scott
  correction divides the likelihood-ratio statistic by it). 1 without groups."""
  if groups_N is None:
    return 1.0
  d = np.asarray(d_N, np.float64) - np.mean(d_N)
  iid = float(np.sum(d**2))
  if not iid > 0:
    return 1.0
  return max(float(np.sum(np.bincount(groups_N, weights=d) ** 2)) / iid, 1.0)


def _nested(ll_alt, ll_null, boundary: bool = True, groups_N=None) -> dict:
  """Likelihood ratio of a law over one it contains; on the boundary of its parameter (the power-law limits) the
  null distribution of 2R is ½χ²₀ + ½χ²₁, inside it χ²₁; R divided by the design effect of the groups first."""
  r = max(float(np.sum(ll_alt) - np.sum(ll_null)), 0.0)  # the alternative contains the null: R ≥ 0 up to rounding
  deff = design_effect(ll_alt - ll_null, groups_N)
  p = (0.5 if boundary else 1.0) * math.erfc(math.sqrt(r / deff))
  test = f"nested likelihood ratio, p = {'½ ' if boundary else ''}erfc(√(R/deff))"
  return {"R": r, "p": p, "design_effect": deff, "test": test}


def _vuong(ll_pl, ll_alt, groups_N=None) -> dict:
  """Vuong's normalised log-likelihood ratio, its variance cluster-robust where the points come in groups."""
  d = ll_pl - ll_alt
  r = float(d.sum())
  deff = design_effect(d, groups_N)
  z = r / (float(d.std()) * math.sqrt(d.size * deff) + 1e-300)
  return {"R": r, "z": z, "p": math.erfc(abs(z) / math.sqrt(2)), "design_effect": deff, "test": "Vuong, two-sided"}


def compare(tail, xmin: float, seed: int = 0, groups=None) -> dict:
  """The power law against each alternative on `tail` (the values ≥ xmin, xmin > 0); `groups`: the example each
  value came from (integer labels), whose dependence the tests then allow for (`design_effect`), or None.

  Returns:
    dict: `tests` per alternative (R = log-likelihood of the power law minus the alternative's for the exponential,
    of the alternative minus the power law's for the nested three; p), `params` per law (in u = x / x_min),
    `favoured` per alternative ("power_law", the alternative, or None when the test cannot tell at LEVEL), and
    `category`: "power law", "power law with cut-off", "cannot tell" or "not a power law", with `winner`;
    `bend_upper`: the largest relative change of the tail index over the data that a lognormal or a stretched
    exponential (`bend_upper_law`) within the 95% confidence bound on its bend makes (above BEND, it cannot be ruled
    out).
  """
  u_N = np.asarray(tail, np.float64) / xmin
  groups_N = None if groups is None else np.unique(np.asarray(groups)[u_N >= 1.0], return_inverse=True)[1]
  u_N = u_N[u_N >= 1.0]
  n_tail = int(u_N.size)
  if u_N.size > MAX_TAIL:  # scipy's fits cost ~n per evaluation; the tests keep ample power at this size
    pick = np.random.default_rng(seed).choice(u_N.size, MAX_TAIL, replace=False)
    u_N = u_N[pick]
    groups_N = None if groups_N is None else groups_N[pick]
  v_N = np.log(u_N)
  ll_pl, p_pl = _power_law(v_N)
  c0 = p_pl["tail_index"]
  ll_exp, p_exp = _exponential(u_N)
  ll_ln, p_ln, ll_ln_of = _lognormal(v_N, c0)
  ll_se, p_se, ll_se_of = _stretched(u_N, c0)
  ll_co, p_co = _cutoff(u_N, c0)
  tests = {
    "exponential": _vuong(ll_pl, ll_exp, groups_N),
    "lognormal": _nested(ll_ln, ll_pl, groups_N=groups_N),
    "stretched_exponential": _nested(ll_se, ll_pl, groups_N=groups_N),
    "power_law_with_cutoff": _nested(ll_co, ll_pl, groups_N=groups_N),
  }
  favoured = {}
  for name, t in tests.items():
    if t["p"] >= (LEVEL if name == "exponential" else NESTED_LEVEL):
      favoured[name] = None
    elif name == "exponential":
      favoured[name] = "power_law" if t["R"] > 0 else name
    else:
      favoured[name] = name  # a nested alternative is only ever significantly better
  # The cut-off law contains the exponential too (c = −1): where the power-law part adds nothing to an exponential,
  # a cut-off "win" is an exponential tail.
  tests["cutoff_vs_exponential"] = _nested(ll_co, ll_exp, boundary=False, groups_N=groups_N)
  top = float(np.quantile(v_N, 0.99))  # where the tail's data are: not the one largest value, which sets no plot
  bend = {
    "lognormal": lambda a, b: 2 * b * top / c0,
    "stretched_exponential": lambda c, b: c * math.expm1(min(b * top, 50.0)) / max(c - b, 1e-9),
    "power_law_with_cutoff": lambda c, lam: lam * math.expm1(min(top, 50.0)) / max(c + lam, 1e-9),
  }
  fitted = {"lognormal": p_ln, "stretched_exponential": p_se, "power_law_with_cutoff": p_co}
  for name in NAMES[1:]:  # a significantly better law that contains the power law wins, however slight its bend:
    tests[name]["bend"] = bend[name](*fitted[name])  # the tail is then no unambiguous power law; the bend is said
  bends = {name: tests[name]["R"] for name in NAMES[1:] if favoured[name]}
  # How far a lognormal or a stretched exponential within the data's 95% confidence could bend the tail index over
  # the data: above BEND, neither is ruled out. The score of each at the power law is a function of v = ln u (v²;
  # v − c v²/2), whose design effect widens the bound where the values come in dependent groups.
  b_ln, a_ln = _upper_bound(ll_ln_of, p_ln, float(np.sum(ll_ln)), (-50.0, 50.0), design_effect(v_N**2, groups_N))
  deff_se = design_effect(v_N - c0 * v_N**2 / 2, groups_N)
  b_se, c_se = _upper_bound(ll_se_of, p_se, float(np.sum(ll_se)), (1e-6, 1e3), deff_se)
  bend_up = {"lognormal": bend["lognormal"](a_ln, b_ln),
             "stretched_exponential": bend["stretched_exponential"](c_se, min(b_se, 5.0))}  # fmt: skip
  widest = max(bend_up, key=bend_up.get)
  if favoured["exponential"] == "exponential" or bends:
    gains = dict(bends)
    if favoured["exponential"] == "exponential":
      gains["exponential"] = -tests["exponential"]["R"]
    winner = max(gains, key=gains.get)
    evidence = winner
    if winner == "power_law_with_cutoff" and tests["cutoff_vs_exponential"]["p"] >= NESTED_LEVEL:
      winner = "exponential"  # the cut-off law wins as an exponential: its power-law part adds nothing
    category = "power law with cut-off" if winner == "power_law_with_cutoff" else "not a power law"
  elif favoured["exponential"] is None:
    category, winner, evidence = "cannot tell", "exponential", "exponential"
  elif bend_up[widest] > BEND:
    category, winner, evidence = "cannot tell", widest, widest
  else:
    category, winner, evidence = "power law", "power_law", "exponential"
  return {
    "n_tail": n_tail,
    "n_fitted": int(u_N.size),
    "tests": tests,
    "favoured": favoured,
    "category": category,
    "winner": winner,
    "evidence": evidence,  # the test that decided
    "params": {
      "power_law": p_pl,
      "exponential": p_exp,
      "lognormal": dict(zip(("a", "b"), p_ln, strict=True)),
      "stretched_exponential": dict(zip(("c", "beta"), p_se, strict=True)),
      "power_law_with_cutoff": dict(zip(("c", "rate"), p_co, strict=True)),
    },
    "level": LEVEL,
    "bend_upper": bend_up[widest],
    "bend_upper_law": widest,
  }
