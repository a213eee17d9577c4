"""Tail-index and stable-index estimators with their input checks (docs/science.md names the three "α").

Extreme-value estimators work on |x| and estimate ξ = 1/α, the extreme-value index of P(|X| > x) ~ x^(−α):
  hill, hill_curve   α̂ = 1/ξ̂ from the top k order statistics (sd(α̂) ≈ α/√k for a Pareto tail)
  pickands           α̂ = 1/ξ̂ from X(k), X(2k), X(4k); NaN where ξ̂ ≤ 0, never a silent negative index
  moments            ξ̂ of Dekkers–Einmahl–de Haan; ξ̂ ≤ 0 says "no power-law tail"
The stable index α ∈ (0, 2] of an α-stable law is another quantity (it equals the tail index only below 2):
  stable_alpha(x, "mohammadi")  block sums (Mohammadi et al. 2015, as used on SGD noise by Simsekli et al. 2019)
  stable_alpha(x, "ecf")        Koutrouvelis' regression on the empirical characteristic function
Written here rather than taken from a library: scipy has no Hill/Pickands/moments estimators, and the packages that
do (`powerlaw`, Voitalov's `tail-estimation`) are numpy-only and cannot run inside jit on per-example gradients.

Each wraps its kernel in `kernels` (the same function without the checks, for code already inside a jit).
"""

import math

import jax.numpy as jnp
import numpy as np

from tailjax.tails import kernels
from tailjax.tails.input_checks import as_array, check_k, check_result, check_sample


def hill(x, k):
  """Hill's tail index α̂ = 1/ξ̂, ξ̂ = (1/k) Σ_{i≤k} ln X(i) − ln X(k+1); 1 ≤ k ≤ n − 1, k may be traced."""
  x = as_array(x, "hill")
  n = check_sample(x, "hill")
  check_k(k, 1, n - 1, "hill", n)
  return check_result(kernels.hill(x, k), "hill", k)


def hill_curve(x, ks: tuple[int, ...]):
  """Hill's α̂ at every k in `ks` (static) from one selection: the Hill plot, α̂ against k."""
  x = as_array(x, "hill_curve")
  n = check_sample(x, "hill_curve")
  ks = tuple(ks)
  for k in ks:  # integers only, as `hill` takes them: int(10.5) would quietly plot k = 10
    check_k(k, 1, max(n - 1, 1), "hill_curve", n)
  ks = tuple(int(k) for k in ks)
  if not ks:
    raise ValueError("hill_curve: ks is empty; pass the k values to plot, e.g. (10, 100, 1000)")
  for k in ks:
    check_k(k, 1, n - 1, "hill_curve", n)
  return kernels.hill_curve(x, ks)


def pickands(x, k):
  """Pickands' α̂ = 1/ξ̂, ξ̂ = ln[(X(k) − X(2k)) / (X(2k) − X(4k))] / ln 2; 1 ≤ k ≤ n/4; NaN where ξ̂ ≤ 0."""
  x = as_array(x, "pickands")
  n = check_sample(x, "pickands", at_least=4)
  check_k(k, 1, n // 4, "pickands", n)
  return kernels.pickands(x, k)


def moments(x, k):
  """Dekkers–Einmahl–de Haan ξ̂ = M1 + 1 − ½(1 − M1²/M2)^(−1); M_j the j-th mean of ln X(i) − ln X(k+1)."""
  x = as_array(x, "moments")
  n = check_sample(x, "moments")
  check_k(k, 1, n - 1, "moments", n)
  return check_result(kernels.moments(x, k), "moments", k)


def standardize_columns(x_NxD):
  """Each coordinate (column) centred and scaled to unit variance before pooling.

  Pooling Gaussian coordinates of different scales makes a scale mixture, which the stable estimators read as α < 2
  (Xie et al., NeurIPS 2023). But a value standardised among N is at most √(N − 1) in size, so this caps every tail:
  use `robust_scale_columns` for tails (docs/science.md §3).
  """
  x = jnp.asarray(x_NxD, jnp.float32)
  return (x - x.mean(0)) / (x.std(0) + 1e-30)


def robust_scale_columns(x_NxD):
  """Each coordinate (column) centred on its median and divided by the interquartile range / 1.349 (= σ for a
  Gaussian) of its values off the median, so coordinates of different scales pool without making a scale mixture,
  and no extreme is capped (`kernels.robust_scale` says why the median's own atom is left out of the scale).

  Returns:
    (z_NxD, ok_D): the scaled values (values at the median become exactly 0), and which columns are usable (at
    least 8 values off the median, with a spread); an unusable column must be left out of the pool (its z is 0).
  """
  return kernels.robust_scale(jnp.asarray(x_NxD, jnp.float32))


def pool(x, pooling: str, what: str):
  """The 1-D sample that `pooling` makes of x: "raw" (x as it is, flattened), "robust" (`robust_scale_columns` of an
  [N, D] array, columns without spread left out) or "std" (`standardize_columns`). An [N, ...] array of more axes
  (per-example gradients of a matrix, [m, out, in]) is N samples of its trailing axes flattened. Returns (sample,
  columns left out, the row each value came from: None for 1-D x)."""
  if pooling not in ("raw", "robust", "std"):
    raise ValueError(f"{what}: pooling = {pooling!r}; use 'robust', 'raw' or 'std'")
  rows = lambda d: np.repeat(np.arange(np.shape(x)[0]), d) if np.ndim(x) >= 2 else None  # row-major order
  if pooling == "raw":
    return jnp.ravel(jnp.asarray(x, jnp.float32)), 0, rows(math.prod(np.shape(x)[1:]))
  if np.ndim(x) < 2 or np.shape(x)[0] < 3:
    raise ValueError(
      f"{what}: pooling = {pooling!r} scales each column of an [N, D] array (N ≥ 3 samples of D coordinates), not an "
      f"array of shape {np.shape(x)}; pass pooling='raw' for a 1-D sample"
    )
  x = jnp.reshape(jnp.asarray(x), (np.shape(x)[0], -1))
  if pooling == "std":
    return jnp.ravel(standardize_columns(x)), 0, rows(x.shape[1])
  z_NxD, ok_D = robust_scale_columns(x)
  ok_D = np.asarray(ok_D)
  kept = int(ok_D.sum())
  return jnp.ravel(z_NxD[:, ok_D]), int(ok_D.size - kept), rows(kept)


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
  x = as_array(x, "stable_alpha")
  n = check_sample(x, "stable_alpha", at_least=4)
  if k1 is not None and not 2 <= k1 <= n // 2:
    raise ValueError(f"stable_alpha: k1 = {k1} is out of range for n = {n}; choose 2 ≤ k1 ≤ {n // 2}")
  if method == "mohammadi":
    alpha = kernels.mohammadi(x, k1 or max(int(math.isqrt(n)), 2))
  elif method == "ecf":
    alpha = kernels.ecf(x)
  elif method == "mle":
    import scipy.stats as st  # the reference implementation of the stable likelihood

    flat = np.asarray(x, np.float64).ravel()
    sub = np.random.default_rng(seed).choice(flat, size=min(mle_subsample, flat.size), replace=False)
    alpha = jnp.float32(st.levy_stable.fit(sub)[0])
  else:
    raise ValueError(f"method must be 'mohammadi', 'ecf' or 'mle', not {method!r}")
  return jnp.clip(alpha, 1e-6, 2.0)
