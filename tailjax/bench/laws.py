"""Laws with known answers for docs/estimators.md: samplers (scipy.stats and numpy) and what each should give.

A sampler takes (n, rng) and returns n values, or an [m, d] array of per-example values (then n is m·d and the
estimate resamples its rows, the examples). `tail` is the true tail index (None: no power-law tail, so any "power
law" verdict is a false one).
"""

import typing

import numpy as np
import scipy.stats as st


class Law(typing.NamedTuple):
  sample: typing.Callable
  tail: float | None
  xi: float | None = None  # the extreme-value index 1/α (0 in the Gumbel domain)
  stable: float | None = None  # the stable index, for the laws that are stable


def _iid(draw, tail=None, xi=None, stable=None) -> Law:
  return Law(lambda n, r: draw(int(n), r), tail, xi, stable)


ESTIMATOR_LAWS = {  # the bias and RMSE tables: every estimator on each
  "Pareto(1.5)": _iid(lambda n, r: st.pareto.rvs(1.5, size=n, random_state=r), 1.5, 1 / 1.5),
  "Student-t(3)": _iid(lambda n, r: st.t.rvs(3, size=n, random_state=r), 3.0, 1 / 3),
  "stable(1.5)": _iid(lambda n, r: st.levy_stable.rvs(1.5, 0.0, size=n, random_state=r), 1.5, 1 / 1.5, 1.5),
  "Laplace": _iid(lambda n, r: r.laplace(0, 1, n), None, 0.0),
  "Gaussian": _iid(lambda n, r: r.standard_normal(n), None, 0.0, 2.0),
}

LIGHT = {  # no power-law tail: a "power law" verdict is false (lognormal and Weibull look like one over a range)
  **{f"lognormal σ={s:g}": _iid(lambda n, r, s=s: r.lognormal(0, s, n)) for s in (0.5, 1, 2, 3)},
  **{f"Weibull({c:g})": _iid(lambda n, r, c=c: r.weibull(c, n)) for c in (0.3, 0.5, 0.7)},
  "exponential": _iid(lambda n, r: r.exponential(1.0, n)),
  "Laplace": _iid(lambda n, r: r.laplace(0, 1, n)),
  "Gaussian": _iid(lambda n, r: r.standard_normal(n)),
  "logistic": _iid(lambda n, r: r.logistic(0, 1, n)),
  **{
    f"Gaussian × lognormal(0, {s:g}) scale": _iid(lambda n, r, s=s: r.standard_normal(n) * r.lognormal(0, s, n))
    for s in (0.5, 1)
  },
}

HEAVY = {  # true power laws: where the verdict says "power law", does its interval cover the tail index?
  "Pareto(1.5)": _iid(lambda n, r: st.pareto.rvs(1.5, size=n, random_state=r), 1.5),
  **{f"Student-t({v})": _iid(lambda n, r, v=v: st.t.rvs(v, size=n, random_state=r), float(v)) for v in (2, 3, 4, 6)},
  **{
    f"stable({a:g})": _iid(lambda n, r, a=a: st.levy_stable.rvs(a, 0.0, size=n, random_state=r), a)
    for a in (1.2, 1.5, 1.8)
  },
}

M = 256  # examples behind pooled per-example noise


def coordinate_scales(base):
  """[M, n/M] per-example noise g_i − ḡ of M examples whose coordinates each have a lognormal(0, 1) scale: pooled
  raw, a scale mixture (the study's artefact); pooled robustly (the default), each coordinate's scale removed."""

  def draw(n, r):
    d = int(n) // M
    g_MxD = base((M, d), r) * r.lognormal(0.0, 1.0, d)
    return g_MxD - g_MxD.mean(0)

  return draw


POOLED = {  # light-tailed per-example noise: no "power law" verdict should come of it
  "Gaussian": Law(coordinate_scales(lambda s, r: r.standard_normal(s)), None),
  "Laplace": Law(coordinate_scales(lambda s, r: r.laplace(0, 1, s)), None),
  "logistic": Law(coordinate_scales(lambda s, r: r.logistic(0, 1, s)), None),
}


def example_scales(scale, base, d: int = 1024):
  """[m, d] values g_ij = s_i z_ij: every value of example i shares its scale s_i (here n is m)."""
  return lambda m, r: scale(int(m), r)[:, None] * base((int(m), d), r)


DEPENDENT = {  # per-example scales: the pooled tail index is 3, but one example's values are not independent
  "s_i Pareto(3) × Gaussian": Law(
    example_scales(lambda m, r: st.pareto.rvs(3, size=m, random_state=r), lambda s, r: r.standard_normal(s)), 3.0
  ),
  "s_i lognormal(0, 1) × Student-t(3)": Law(
    example_scales(lambda m, r: r.lognormal(0, 1, m), lambda s, r: st.t.rvs(3, size=s, random_state=r)), 3.0
  ),
}


def rng_for(name: str, n: int, rep: int) -> np.random.Generator:
  """A generator for one draw, seeded by the law's name, n and the replicate (seeds no test uses)."""
  return np.random.default_rng([sum(map(ord, name)) * 7919 + len(name), int(n), rep, 20261207])
