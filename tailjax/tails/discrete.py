"""The discrete power law of Clauset, Shalizi & Newman (2009, §3): p(x) = x^(−a) / ζ(a, x_min) for integers
x ≥ x_min, the law they fit to word counts, citations and degrees. Fitting integer data with the continuous law
biases the exponent (badly for small x_min).

scipy has the Hurwitz zeta function and the optimiser; the search over x_min is the continuous one's (every distinct
value reachable, ties kept, KS on the same quantile grid), in numpy: integer samples are small next to gradients.
"""

import numpy as np
import scipy.optimize
import scipy.special

from tailjax.tails.clauset import GRID


def is_integer(a_N) -> bool:
  """Every magnitude a whole number (below 2^24, where float32 still holds integers exactly)."""
  a = np.asarray(a_N)
  return bool(a.size and np.all(a == np.round(a)) and a.max() < 2**24)


def fit_exponent(values_U, counts_U) -> float:
  """Maximum-likelihood a of the discrete power law on the tail values_U (x_min = the smallest) with counts."""
  xmin, n_tail = float(values_U.min()), float(counts_U.sum())
  sum_log = float(np.sum(counts_U * np.log(values_U)))
  nll = lambda a: a * sum_log + n_tail * np.log(scipy.special.zeta(a, xmin))
  start = 1.0 + n_tail / max(sum_log - n_tail * np.log(xmin - 0.5), 1e-12)  # Clauset's approximation (3.7)
  res = scipy.optimize.minimize_scalar(nll, bounds=(1.0 + 1e-6, max(2 * start, 6.0)), method="bounded")
  return float(res.x)


def search(values_U, counts_U, targets_C) -> dict:
  """x_min by the KS minimum over the candidate tail sizes `targets_C` (data points), as the continuous search.

  Returns dict: `u` (index of x_min in values_U), `xmin`, `n_tail`, `pdf_exponent`, `ks`, and per candidate
  `candidate_u`, `candidate_k`, `candidate_pdf_exponent`, `candidate_ks`.
  """
  cum_w = np.cumsum(counts_U).astype(np.float64)
  us = sorted({int(u) for u in np.searchsorted(cum_w, np.minimum(targets_C, cum_w[-1]), side="left")})
  fits = []
  for u in us:
    v, w, W = values_U[: u + 1].astype(np.float64), counts_U[: u + 1], cum_w[u]
    a = fit_exponent(v, w)
    i = np.minimum(np.searchsorted(cum_w, (np.arange(GRID) + 0.5) / GRID * W, side="left"), u)
    norm = scipy.special.zeta(a, v[u])
    at_least, above = scipy.special.zeta(a, v[i]) / norm, scipy.special.zeta(a, v[i] + 1) / norm  # fitted law
    ks = np.max(np.maximum(np.abs(cum_w[i] / W - at_least), np.abs((cum_w[i] - w[i]) / W - above)))
    fits.append((u, int(W), a, float(ks)))
  best = min(fits, key=lambda f: f[3])
  return {
    "u": best[0],
    "xmin": float(values_U[best[0]]),
    "n_tail": best[1],
    "pdf_exponent": best[2],
    "ks": best[3],
    "candidate_u": [f[0] for f in fits],
    "candidate_k": [f[1] for f in fits],
    "candidate_pdf_exponent": [f[2] for f in fits],
    "candidate_ks": [f[3] for f in fits],
  }
