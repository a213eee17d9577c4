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

Selection of the top order statistics uses `jax.lax.top_k` for now; a faster selection is issue 3's speed work.
"""

import math

import jax
import jax.numpy as jnp


def _top(x, k: int):
  """The k largest values of |x|, descending (X(1) ≥ … ≥ X(k))."""
  return jax.lax.top_k(jnp.abs(jnp.ravel(x)).astype(jnp.float32), k)[0]


@jax.jit(static_argnames="k")
def hill(x, k: int):
  """Hill's tail index α̂ = 1/ξ̂, ξ̂ = (1/k) Σ_{i≤k} ln X(i) − ln X(k+1)."""
  logs = jnp.log(_top(x, k + 1))
  return 1.0 / (jnp.mean(logs[:k]) - logs[k])


@jax.jit(static_argnames="ks")
def hill_curve(x, ks: tuple[int, ...]):
  """Hill's α̂ at every k in `ks` from one selection: the Hill plot, α̂ against k."""
  logs = jnp.log(_top(x, max(ks) + 1))
  mean_first_k = jnp.cumsum(logs) / jnp.arange(1, logs.shape[0] + 1)
  k_K = jnp.asarray(ks)
  return 1.0 / (mean_first_k[k_K - 1] - logs[k_K])


@jax.jit(static_argnames="k")
def pickands(x, k: int):
  """Pickands' α̂ = 1/ξ̂, ξ̂ = ln[(X(k) − X(2k)) / (X(2k) − X(4k))] / ln 2 (needs 4k ≤ n); NaN where ξ̂ ≤ 0."""
  top = _top(x, 4 * k)
  xi = jnp.log((top[k - 1] - top[2 * k - 1]) / (top[2 * k - 1] - top[4 * k - 1])) / math.log(2.0)
  return jnp.where(xi > 0, 1.0 / xi, jnp.nan)


@jax.jit(static_argnames="k")
def moments(x, k: int):
  """Dekkers–Einmahl–de Haan ξ̂ = M1 + 1 − ½(1 − M1²/M2)^(−1); M_j the j-th mean of ln X(i) − ln X(k+1)."""
  logs = jnp.log(_top(x, k + 1))
  d = logs[:k] - logs[k]
  m1, m2 = jnp.mean(d), jnp.mean(d**2)
  return m1 + 1.0 - 0.5 / (1.0 - m1**2 / m2)


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
  q25, q50, q75 = jnp.quantile(x, jnp.array([0.25, 0.5, 0.75]))
  z = (x - q50) / ((q75 - q25) / 2.0)  # centred, unit semi-interquartile range (≈ unit scale for α near 2 or 1)
  t_K = jnp.pi * jnp.arange(1, 11) / 25.0
  phi2_K = jnp.mean(jnp.cos(t_K[:, None] * z), 1) ** 2 + jnp.mean(jnp.sin(t_K[:, None] * z), 1) ** 2
  u, v = jnp.log(t_K), jnp.log(-jnp.log(phi2_K))
  return jnp.sum((u - u.mean()) * (v - v.mean())) / jnp.sum((u - u.mean()) ** 2)  # least-squares slope


def stable_alpha(x, method: str = "mohammadi", k1: int | None = None):
  """Stable index α̂, clipped to (0, 2].

  Args:
    x: samples (any shape; pooled).
    method: "mohammadi" (block sums of size k1, default ⌊√n⌋) or "ecf" (Koutrouvelis, t_k = πk/25, k = 1…10).
    k1: block size for "mohammadi".

  Both return α < 2 for data that are heavy-ish but not stable (Laplace, Student-t): a stable index says which
  stable law fits best, not that one does. Pair it with the tail-index estimators and a family comparison.
  """
  if method == "mohammadi":
    n = int(jnp.size(x))
    alpha = _mohammadi(x, k1 or max(int(math.isqrt(n)), 2))
  elif method == "ecf":
    alpha = _ecf(x)
  else:
    raise ValueError(f"method must be 'mohammadi' or 'ecf', not {method!r}")
  return jnp.clip(alpha, 1e-6, 2.0)
