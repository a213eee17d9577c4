"""The checks every tail estimator makes on its sample and its k: a ValueError a caller can act on.

Value checks run only where the sample is concrete (not under an outer jit), so the kernels stay jittable.
"""

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def _range_abs(x):
  a = jnp.abs(x)
  # XLA's CPU max may drop a NaN, so finiteness is its own reduction: a·0 is NaN exactly where a is NaN or inf
  return jnp.max(a), jnp.min(a), jnp.sum(a * 0.0)


def as_array(x, what: str):
  """`x` as an array (lists and tuples of numbers are accepted); anything else, complex numbers included (a tail is
  a tail of real values: pass the magnitudes or the real parts), is a ValueError naming it."""
  given = x
  if not isinstance(x, (jax.Array, np.ndarray)):
    try:
      x = np.asarray(x)
    except (TypeError, ValueError):
      raise ValueError(f"{what}: x must be an array of numbers, not {type(x).__name__}") from None
  kind = np.dtype(x.dtype).kind
  if kind == "c":
    raise ValueError(f"{what}: x is complex; pass real values, e.g. np.abs(x) or x.real")
  if kind not in "biuf":
    raise ValueError(f"{what}: x must be an array of numbers, not {type(given).__name__} of {x.dtype}")
  return x if x is given else x.astype(np.float32)


def check_sample(x, what: str, at_least: int = 2) -> int:
  """Raise a ValueError a caller can act on; value checks only where x is concrete (not under an outer jit)."""
  n = math.prod(np.shape(x))
  if n < at_least:
    raise ValueError(f"{what}: x has {n} values; pass an array of at least {at_least} samples")
  if not isinstance(x, jax.core.Tracer):
    top, bottom, total = (float(v) for v in _range_abs(jnp.asarray(x, jnp.float32)))
    if not (math.isfinite(top) and math.isfinite(total) and math.isfinite(bottom)):
      raise ValueError(f"{what}: x contains NaN or ±inf; keep the finite values first, e.g. x[np.isfinite(x)]")
    if top == 0:
      raise ValueError(f"{what}: x is all zeros, so it has no tail; check what was recorded")
    if top == bottom:
      raise ValueError(f"{what}: every |x| equals {top:g}, so there is no tail to measure; check what was recorded")
  return n


def check_k(k, low: int, high: int, what: str, n: int) -> None:
  """k must be an integer (a traced integer passes unchecked) in [low, high]."""
  if isinstance(k, jax.core.Tracer):
    return
  if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)):
    raise ValueError(f"{what}: k = {k!r} must be an integer (the number of tail points); pass int(k)")
  if not low <= k <= high:
    raise ValueError(f"{what}: k = {k} is out of range for n = {n}; choose {low} ≤ k ≤ {high}")


def check_result(value, what: str, k):
  if not isinstance(value, jax.core.Tracer) and not math.isfinite(float(value)):
    raise ValueError(
      f"{what}: undefined at k = {k}: the top k + 1 values of |x| include zeros or are all equal; choose a smaller k"
    )
  return value
