"""The verdict in words, in Clauset et al.'s categories: `decide` turns the evidence `estimate` gathered into a
category and a sentence whose every clause names its evidence. The category is decided here, never read back out of
the sentence.

Only an unambiguous power law is called one: a tail that beats the exponential, that no law containing the power law
(lognormal, stretched exponential, cut-off) fits significantly better, whose Hill plot is flat around the chosen k
within the spread that resampling gives (examples, where the values came from examples), that does not drift
steadily across the plot, whose moments ξ is clearly positive, and that rests on enough examples.
"""

import math
import typing

import numpy as np

from tailjax.tails import alternatives

FLAT = 0.1  # a stretch of the Hill plot is flat when its α̂ stay within ±10% of their middle ...
FLAT_SPAN = 10  # ... over at least a factor 10 in k ...
FLAT_FROM = 50  # ... counting only k ≥ 50, where Hill's own noise (sd α/√k) is below ±15% ...
FLAT_Z = 3.0  # ... and one constant lies within FLAT_Z resampled sd of α̂ at every k of it (no drift beyond noise)
STEADY = 0.9  # a Hill plot whose α̂ rank-correlate with ln k beyond ±STEADY, changing by a factor ≥ STEADY_RATIO
STEADY_RATIO = 2.0  # over the plot, and whose flat stretch (if any) is its last, drifts steadily: no plateau
MIN_TAIL = 100  # fewer tail points than this cannot tell a power law from a lognormal (Clauset et al. 2009, §5)
MIN_EXAMPLES = 20  # a tail carried by fewer examples (effective number) than this gives no index
BODY = 0.1  # a tail of more than this fraction of the sample is read from its body as much as from its tail
STABLE_BELOW = 1.95  # a stable index below this, beside a tail index above 2, is worth a clause

CATEGORIES = (
  "power law",  # the verdict begins "power-law tail"
  "power law with cut-off",
  "cannot tell",
  "not a power law",
  "no plateau",  # the Hill plot drifts, or is not flat around the chosen k
  "few examples",  # the tail rests on too few examples for an index
)


class Evidence(typing.NamedTuple):
  """What `decide` reads. `curve`: (k, Hill α̂) of the Hill plot; `flat`: its flattest stretch (`flattest`);
  `tail_examples`: the fit's, or None for values without examples."""

  alt: dict
  tail: dict
  n: int
  k: int
  k_choice: str
  xi: float
  se_xi: float
  drift: float
  flat: dict | None
  around_k: dict | None  # the plotted stretch from k/10 (at least FLAT_FROM) to k, where it is flat (`flat_between`)
  flat_loose: dict | None  # the flattest stretch by the ±FLAT rule alone (no resampled-spread check)
  curve: tuple
  steady: bool
  discrete: bool
  tail_examples: dict | None
  stable_index: float  # Koutrouvelis' ECF estimate: the best-fitting stable law's index, in (0, 2]


def flattest(ks, alpha, sd=None, z: float = FLAT_Z) -> dict | None:
  """The widest stretch of a Hill plot (in ln k, from k ≥ FLAT_FROM) whose α̂ stay within ±FLAT of the stretch's
  middle value and, where `sd` (the resampled sd of α̂ at each k) is given, within z·sd of one common value: a
  stretch that varies by more than resampling explains is no plateau. None when no stretch spans FLAT_SPAN in k."""
  ks, alpha = np.asarray(ks, float), np.asarray(alpha, float)
  sd = np.full_like(alpha, np.inf) if sd is None else np.asarray(sd, float)  # None: the ±FLAT rule alone
  best = None
  for i in np.flatnonzero(ks >= FLAT_FROM):
    for j in range(i + 1, len(ks)):
      a, s = alpha[i : j + 1], sd[i : j + 1]
      if not np.isfinite(a).all():
        break
      mid = 0.5 * (a.max() + a.min())
      drifts = np.isfinite(s).all() and np.max(a - z * s) > np.min(a + z * s) + 1e-12 * mid
      if a.max() - a.min() > 2 * FLAT * mid or drifts:
        break
      if ks[j] >= FLAT_SPAN * ks[i] and (best is None or ks[j] / ks[i] > best["k_hi"] / best["k_lo"]):
        best = {"k_lo": int(ks[i]), "k_hi": int(ks[j]), "alpha_lo": float(a.min()), "alpha_hi": float(a.max())}
  return best


def flat_between(ks, alpha, sd, k_lo: int, k_hi: int, *, z: float = FLAT_Z) -> dict | None:
  """The stretch of the Hill plot from k_lo to k_hi (plotted k), where it is flat by `flattest`'s two rules (within
  ±FLAT of its middle, and within z·sd of one common value); None where it is not."""
  ks, alpha = np.asarray(ks, float), np.asarray(alpha, float)
  sd = np.full_like(alpha, np.inf) if sd is None else np.asarray(sd, float)
  pick = (ks >= k_lo) & (ks <= k_hi)
  a, s = alpha[pick], sd[pick]
  if a.size < 2 or not np.isfinite(a).all():
    return None
  mid = 0.5 * (a.max() + a.min())
  drifts = np.isfinite(s).all() and np.max(a - z * s) > np.min(a + z * s) + 1e-12 * mid
  if a.max() - a.min() > 2 * FLAT * mid or drifts:
    return None
  return {"k_lo": int(k_lo), "k_hi": int(k_hi), "alpha_lo": float(a.min()), "alpha_hi": float(a.max())}


def steady_drift(ks, alpha, flat) -> bool:
  """Whether the Hill plot drifts steadily across its whole range: α̂ rank-correlated with ln k beyond ±STEADY,
  changing by a factor ≥ STEADY_RATIO, with no flat stretch or only one at the plot's large-k end (where a steady
  drift slows down, which is no plateau)."""
  ks, alpha = np.asarray(ks, float), np.asarray(alpha, float)
  ok = np.isfinite(alpha) & (alpha > 0)
  if ok.sum() < 5:
    return False
  a = alpha[ok]
  rank = lambda v: np.argsort(np.argsort(v))
  rho = np.corrcoef(rank(ks[ok]), rank(a))[0, 1]
  at_end = flat is None or flat["k_hi"] >= ks[ok][-1]
  return bool(abs(rho) >= STEADY and a.max() / a.min() >= STEADY_RATIO and at_end)


def decide(e: Evidence) -> tuple[str, str]:
  """(category, verdict sentence)."""
  category, sentence = _decide(e)
  if category not in ("power law", "few examples") and e.k > BODY * e.n:
    sentence += (
      f"; the tail read holds {e.k} of {e.n} values, beyond a tenth: its numbers read the body as much as the tail"
    )
  return category, sentence


def _decide(e: Evidence) -> tuple[str, str]:
  how = "KS" if e.k_choice == "ks" else "double bootstrap"
  hill = f"Hill α = {e.tail['hill']:.2f} at k = {e.k} chosen by {how}"
  if e.discrete:  # integer data: the discrete fit's index is the one to quote, whatever the category
    ci = e.tail["ci95"]
    hill += f" (integer data: the discrete power-law fit gives α = {e.tail['alpha']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}])"
  ks, alpha = e.curve
  stretch = lambda f: f"{f['alpha_lo']:.2f}–{f['alpha_hi']:.2f} for k = {f['k_lo']}–{f['k_hi']}"
  if e.flat:
    where = f"Hill flat at {stretch(e.flat)}"
  elif e.flat_loose:
    where = f"Hill within ±{FLAT:.0%} at {stretch(e.flat_loose)} but varying there by more than resampling explains"
  else:
    where = f"Hill drifts from {alpha[0]:.1f} to {alpha[-1]:.1f} over k = {ks[0]}–{ks[-1]}"
  tests = e.alt["tests"]
  p = lambda name: f"p = {tests[name]['p']:.2g}"
  bend = lambda name: f"bending the local tail index by {tests[name]['bend']:.0%} over the tail"
  examples = e.tail_examples
  if examples is not None and examples["effective"] < MIN_EXAMPLES:
    return "few examples", (
      f"no index: the tail is carried by {examples['effective']:.1f} examples (effective number; "
      f"{examples['holding_tail']} of {examples['examples']} hold a value of it), too few to resample; measure more "
      f"examples; {hill}; {where}"
    )
  category = e.alt["category"]
  if category == "not a power law":
    name = e.alt["winner"]
    clause = f"{p(e.alt['evidence'])}" + (f", {bend(name)}" if name in tests and "bend" in tests[name] else "")
    return category, (
      f"not a power law: {name.replace('_', ' ')} fits the tail above x_min better ({clause}); {where}; {hill}"
    )
  if category == "power law with cut-off":
    rate = e.alt["params"]["power_law_with_cutoff"]["rate"]
    return category, (
      f"power law with cut-off: the tail bends down (cut-off rate {rate:.3g}/x_min, {p('power_law_with_cutoff')}, "
      f"{bend('power_law_with_cutoff')}); {hill} is no pure tail index; {where}"
    )
  if category == "cannot tell" and e.alt["winner"] == "exponential":
    return category, f"power law or exponential: the data cannot tell them apart ({p('exponential')}); {where}; {hill}"
  if category == "cannot tell":
    law = e.alt["bend_upper_law"].replace("_", " ")
    return category, (
      f"power law or {law}: the data cannot tell them apart (a {law} bending the tail index by up to "
      f"{e.alt['bend_upper']:.0%} over the {e.alt['n_tail']} tail points is not ruled out); {where}; {hill}"
    )
  if e.alt["n_tail"] < MIN_TAIL:
    return "cannot tell", (
      f"power law or lognormal: the data cannot tell them apart (only {e.alt['n_tail']} tail points); {hill}"
    )
  # the plateau must span k/10 … k: from the plotted k at or above k/10 (or FLAT_FROM) to the plotted k at or below k
  plotted = np.asarray(ks)
  first = plotted[plotted >= max(e.k // 10, FLAT_FROM)]
  last = plotted[plotted <= e.k]
  flat_at_k = (
    e.flat is not None
    and first.size > 0
    and last.size > 0
    and e.flat["k_lo"] <= first[0]
    and e.flat["k_hi"] >= last[-1]
  )
  if not flat_at_k and e.around_k is not None:  # the widest flat stretch lies elsewhere, but around k it is flat too
    flat_at_k, where = True, f"Hill flat at {stretch(e.around_k)}"
  if e.steady:
    return "no plateau", (
      f"no power-law tail (the Hill plot drifts steadily across k = {ks[0]}–{ks[-1]}, from {alpha[0]:.1f} to "
      f"{alpha[-1]:.1f}): {where}; moments ξ = {e.xi:.2f} (± {e.se_xi:.2f}); {hill}"
    )
  if not (e.xi > 2 * e.se_xi and e.drift < 0.3 and flat_at_k):
    why = (
      f"moments ξ = {e.xi:.2f} (± {e.se_xi:.2f}) is not clearly positive"
      if e.xi <= 2 * e.se_xi
      else "the Hill plot is not flat around it"
      if e.flat
      else "the Hill plot has no stretch flat within resampling's spread"
      if e.flat_loose
      else "the Hill plot has no flat stretch"
    )
    return "no plateau", f"no power-law tail at k = {e.k} ({why}): {where}; moments ξ = {e.xi:.2f}; {hill}"
  t = e.tail
  how_alpha = {
    "removed": f"bias-reduced Hill (Hill {t['hill']:.2f}; interval covers both)",
    "not estimable": "Hill; the tail holds over a fifth of the sample, beyond where the bias can be estimated",
    "ignored": "Hill; no usable second-order estimate of its bias",
    "discrete fit": f"discrete power-law fit of the integer data (Hill {t['hill']:.2f} reads their ties)",
  }[t["bias"]]
  body = (
    f"; the tail read holds {e.k} of {e.n} values, beyond a tenth: a power law over most of the sample, or its body "
    "read as tail"
    if e.k > BODY * e.n
    else ""
  )
  resampled = (
    f"interval from {examples['examples']} resampled examples, {examples['effective']:.0f} effective in the tail"
    if examples is not None
    else "interval from resampled values"
  )
  ci = t["ci95"]
  if ci[0] > 2 and e.stable_index < STABLE_BELOW:  # the two conventions disagree: say what each would mean
    body += (
      f"; the stable index ({e.stable_index:.2f}) is below 2 while the tail index is above: were the values α-stable, "
      "their tail index would equal the stable index, and this tail would be an intermediate range short of it"
    )
  return "power law", (
    f"power-law tail, tail index α = {t['alpha']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}] (pdf exponent "
    f"{t['alpha'] + 1:.2f} [{ci[0] + 1:.2f}, {ci[1] + 1:.2f}], Clauset's and the powerlaw package's α; stable index "
    f"{e.stable_index:.2f} by ECF, the best-fitting stable law's, in (0, 2]; {how_alpha}; {resampled}; k = {e.k} "
    f"chosen by {how}; {where}; beats the exponential ({p('exponential')}); {_nested_clause(tests)}; moments "
    f"ξ = {e.xi:.2f}){body}"
  )


def _nested_clause(tests) -> str:
  """Why the lognormal, stretched exponential and cut-off laws did not win: none fits better at the Bonferroni level."""
  smallest = min(tests[name]["p"] for name in alternatives.NAMES[1:])
  return (
    f"lognormal, stretched exponential, cut-off not better (smallest p = {smallest:.2g}, each needs "
    f"< {alternatives.NESTED_LEVEL:.2g})"
  )


def se_moments(xi: float, k: int) -> float:
  """The moments estimator's asymptotic sd at ξ ≥ 0: √(1 + ξ²)/√k."""
  return math.sqrt(1 + xi**2) / math.sqrt(k)
