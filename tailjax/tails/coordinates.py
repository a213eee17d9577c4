"""The per-coordinate view beside the pooled one: is each coordinate's noise, over the m examples, Gaussian?

Pooled across coordinates, gradient noise can look power-law while each coordinate on its own does not (Xie et al.,
NeurIPS 2023, "On the overlooked structure of stochastic gradients"): mixing coordinates or examples of different
scales makes a heavy tail no coordinate has. So for an [m, D] array every column's m values get the Anderson–Darling
test of normality (mean and variance estimated), the p-values are read at a false-discovery rate of 5%
(Benjamini–Hochberg), and the distribution of the columns' excess kurtosis is summarised.

Why Anderson–Darling: at m = 64–512 it is among the most powerful omnibus tests of normality against heavy and light
tails alike (Stephens 1974; Razali & Wah 2011), and its p-value has a closed form. Written here (jitted, all columns
at once) rather than calling scipy.stats.anderson, which tests one sample at a time and gives no p-value; the tests
check the statistic against scipy's and the p-values against Monte Carlo.
"""

import jax
import jax.numpy as jnp
import numpy as np

LEVEL = 0.05  # the false-discovery rate at which columns are called non-Gaussian
MAX_COORDINATES = 4096  # coordinates tested per view: a random subset of more
KURTOSIS_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@jax.jit
def anderson_darling(x_MxD):
  """(A*², p, excess kurtosis, usable) per column of an [m, D] array.

  A² = −m − (1/m) Σ_i (2i − 1) [ln Φ(z_(i)) + ln(1 − Φ(z_(m+1−i)))] on the sorted column standardised by its mean
  and sd; A*² = A² (1 + 0.75/m + 2.25/m²) and its p-value by D'Agostino & Stephens' (1986, Table 4.9) formula for
  the case of estimated mean and variance. Excess kurtosis: m₄/m₂² − 3 (0 for a Gaussian, 3 for a Laplace). A column
  without spread is unusable (p = 1, kurtosis NaN).
  """
  x = jnp.sort(x_MxD.astype(jnp.float32), axis=0)
  m = x.shape[0]
  d = x - jnp.mean(x, axis=0)
  top = jnp.max(jnp.abs(d), axis=0)
  d = d / jnp.where(top > 0, top, 1.0)  # both statistics are scale-free: tiny spreads' squares must not underflow
  var = jnp.sum(d**2, axis=0) / (m - 1)
  ok = var > 0
  z = d / jnp.sqrt(jnp.where(ok, var, 1.0))
  i = jnp.arange(1, m + 1, dtype=jnp.float32)[:, None]
  terms = (2 * i - 1) * (jax.scipy.special.log_ndtr(z) + jax.scipy.special.log_ndtr(-z[::-1]))
  a2 = -m - jnp.sum(terms, axis=0) / m
  a = a2 * (1 + 0.75 / m + 2.25 / m**2)
  p = jnp.where(  # D'Agostino & Stephens' four pieces, from large A*² (small p) down
    a >= 0.6,
    jnp.exp(1.2937 - 5.709 * a + 0.0186 * a**2),
    jnp.where(
      a >= 0.34,
      jnp.exp(0.9177 - 4.279 * a - 1.38 * a**2),
      jnp.where(
        a >= 0.2,
        1 - jnp.exp(-8.318 + 42.796 * a - 59.938 * a**2),
        1 - jnp.exp(-13.436 + 101.14 * a - 223.73 * a**2),
      ),
    ),
  )
  # m₄/m₂² from the standardised column (z = d / sd, m₂ = var (m − 1)/m)
  kurt = jnp.mean(z**4, axis=0) * (m / (m - 1)) ** 2 - 3.0
  return a, jnp.where(ok, jnp.clip(p, 0.0, 1.0), 1.0), jnp.where(ok, kurt, jnp.nan), ok


def benjamini_hochberg(p_D, level: float = LEVEL) -> np.ndarray:
  """Which of the p-values the Benjamini–Hochberg procedure rejects at false-discovery rate `level`."""
  p = np.asarray(p_D, np.float64)
  order = np.argsort(p)
  below = p[order] <= level * np.arange(1, p.size + 1) / max(p.size, 1)
  reject = np.zeros(p.size, bool)
  if below.any():
    reject[order[: int(np.flatnonzero(below)[-1]) + 1]] = True
  return reject


MIN_EXAMPLES = 8  # below this many examples a coordinate's normality test has no power (and Stephens' p no table)


def summarize(parts, max_coordinates: int = MAX_COORDINATES, seed: int = 0) -> dict:
  """The per-coordinate view of one or more [m, D_j] arrays of the same m examples (a pooled group's tensors): the
  share of usable coordinates whose Gaussianity Anderson–Darling rejects at a false-discovery rate of 5%, and the
  quantiles of their excess kurtosis. Of more than `max_coordinates` columns, a fixed random subset of that many is
  tested (the share is then known to about ±0.8%), in one program whatever the tensors' shapes.

  Returns:
    dict: `coordinates` (usable, of those tested), `unusable` (no spread), `of` (all columns), `m`,
    `share_rejecting`, `rejecting`, `level`, `excess_kurtosis` (quantile → value), `test`.
  """
  m = int(np.shape(parts[0])[0])
  widths = [int(np.prod(np.shape(x)[1:])) for x in parts]
  total = sum(widths)
  pick = np.arange(total)
  if total > max_coordinates:
    pick = np.sort(np.random.default_rng(seed).choice(total, max_coordinates, replace=False))
  starts = np.cumsum([0, *widths])
  columns = [  # each part's picked columns, gathered on the host (no program compiled per tensor shape)
    np.reshape(np.asarray(jax.device_get(x), np.float32), (m, -1))[:, pick[(pick >= lo) & (pick < hi)] - lo]
    for x, lo, hi in zip(parts, starts[:-1], starts[1:], strict=True)
  ]
  x_MxD = np.concatenate(columns, axis=1)
  _, p, kurt, ok = (np.asarray(v) for v in jax.device_get(anderson_darling(x_MxD)))
  ok = ok.astype(bool)
  p, kurt = p[ok], kurt[ok]
  rejecting = int(benjamini_hochberg(p).sum()) if p.size else 0
  return {
    "coordinates": int(ok.sum()),
    "unusable": int(ok.size - ok.sum()),
    "of": total,
    "m": m,
    "rejecting": rejecting,
    "share_rejecting": rejecting / p.size if p.size else float("nan"),
    "level": LEVEL,
    "excess_kurtosis": dict(zip(KURTOSIS_QUANTILES, np.quantile(kurt, KURTOSIS_QUANTILES).tolist(), strict=True))
    if p.size
    else {},
    "test": "Anderson-Darling normality per coordinate over the m examples, Benjamini-Hochberg at FDR 5%",
  }


def sentence(view: dict) -> str:
  """The per-coordinate view in words."""
  if not view["coordinates"]:
    return "per coordinate: no coordinate has spread over the examples"
  k = view["excess_kurtosis"]
  of = f" (a random subset of {view['of']})" if view["of"] > view["coordinates"] + view["unusable"] else ""
  return (
    f"per coordinate: {view['share_rejecting']:.0%} of {view['coordinates']} coordinates{of} reject a Gaussian over "
    f"their {view['m']} examples (Anderson–Darling, FDR 5%), excess kurtosis median {k[0.5]:.2f} (90% of coordinates "
    f"{k[0.05]:.2f} to {k[0.95]:.2f})"
  )


def disagreement(category: str, view: dict) -> str:
  """A clause when the pooled verdict and the per-coordinate view disagree, else "": a pooled power law while most
  coordinates do not reject a Gaussian is a tail that mixing coordinates or examples of different scales made."""
  if category == "power law" and view["coordinates"] and view["share_rejecting"] < 0.5:
    return (
      "; the pooled and per-coordinate views disagree: the pooled values look power-law while most coordinates, one "
      "at a time, do not reject a Gaussian (the tail comes from mixing coordinates or examples of different scales, "
      "as Xie et al. 2023 found)"
    )
  return ""
