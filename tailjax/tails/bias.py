"""Hill's second-order bias, estimated and removed: the minimum-variance reduced-bias Hill estimator (MVRB) of Caeiro,
Gomes & Pestana (2005), with the second-order parameters (β, ρ) estimated at a large k₁ = n/5.

In Hall's class, 1 − F(x) = C x^(−α) (1 + D x^(αρ) + …) with ρ < 0, Hill's γ̂ = 1/α̂ at k has the bias
γ β (n/k)^ρ / (1 − ρ). The MVRB estimator divides it out: γ̄(k) = γ̂_H(k) (1 − β̂ (n/k)^ρ̂ / (1 − ρ̂)). With (β̂, ρ̂)
taken at a k₁ above any k where γ is read, its variance stays Hill's γ²/k. Student-t(ν) has ρ = −2/ν, Burr XII(c, d)
ρ = −1/d, stable laws ρ = −1.

Why k₁ = n/5 and not Gomes et al.'s n^0.995: that k₁ is nearly the whole sample, body included, and there ρ̂ came out
near −0.7 for every law tried (1e5 values: t(3) −0.71, t(6) −0.69, Burr(1, 2) −0.74, stable(1.5) −0.78) and β̂ near
+1, so the correction had the wrong sign on stable laws. At n/5: t(3) −0.51, t(6) −0.39, Burr(1, 2) −0.55 (truths
−0.67, −0.33, −0.5), and β̂ < 0 on stable laws as it should be. docs/science.md §3 and docs/estimators.md say what the
correction still gets wrong.

Written here: no library on PyPI computes these estimators, and they need the sorted sample once (numpy, float64).
"""

import math

import numpy as np


def second_order(logs_desc, n: int) -> dict:
  """(ρ̂, β̂) from the descending log-magnitudes of the whole sample, at k₁ = n/5.

  ρ̂: Fraga Alves, Gomes & de Haan (2003), τ = 0: T = (ln M1 − ½ ln(M2/2)) / (½ ln(M2/2) − ⅓ ln(M3/6)),
  ρ̂ = −|3 (T − 1) / (T − 3)|, M_j the j-th moment of the log excesses over X(k₁+1).
  β̂: Gomes & Martins (2002), β̂ = (k₁/n)^ρ̂ (d(ρ̂) D(0) − D(ρ̂)) / (d(ρ̂) D(ρ̂) − D(2ρ̂)), with
  d(a) = mean (i/k₁)^(−a) and D(a) = mean (i/k₁)^(−a) U_i over the scaled log spacings U_i = i (ln X(i) − ln X(i+1)).
  Returns {"rho", "beta", "k1", "valid"}; valid is False when the moments are degenerate (ties, too few values).
  """
  k1 = max(n // 5, 10)
  logs = np.asarray(logs_desc[: k1 + 1], np.float64)
  d = logs[:k1] - logs[k1]
  m1, m2, m3 = d.mean(), (d**2).mean(), (d**3).mean()
  with np.errstate(all="ignore"):
    t = (math.log(m1) - 0.5 * math.log(m2 / 2)) / (0.5 * math.log(m2 / 2) - math.log(m3 / 6) / 3) if m1 > 0 else np.nan
    rho = -abs(3 * (t - 1) / (t - 3))
    i = np.arange(1, k1 + 1, dtype=np.float64)
    u = i * (logs[:k1] - logs[1 : k1 + 1])
    r = i / k1
    dk = lambda a: np.mean(r ** (-a))
    big_d = lambda a: np.mean(r ** (-a) * u)
    rho = np.float64(rho)  # numpy powers overflow to inf, not an OverflowError
    beta = (k1 / n) ** rho * (dk(rho) * big_d(0.0) - big_d(rho)) / (dk(rho) * big_d(rho) - big_d(2 * rho))
  # ρ̂ far below −5 (T near 3) says the moments carry no second-order signal: no correction then
  valid = bool(np.isfinite(rho) and np.isfinite(beta) and -5.0 < rho < 0)
  return {"rho": float(rho), "beta": float(beta), "k1": k1, "valid": valid}


def correction(n: int, k: int, second: dict) -> float:
  """The factor MVRB multiplies Hill's γ̂ = 1/α̂ by at k: 1 − β̂ (n/k)^ρ̂ / (1 − ρ̂) (1 where (β̂, ρ̂) are invalid or
  the factor lies outside [½, 2])."""
  if not second["valid"]:
    return 1.0
  factor = 1.0 - second["beta"] / (1.0 - second["rho"]) * (n / k) ** second["rho"]
  # A "correction" by more than a factor 2 says the second-order model does not describe this tail (a cut-off, a
  # body read as tail): none is applied then.
  return factor if 0.5 <= factor <= 2.0 else 1.0
