"""The checks every tail estimator makes on its sample and its k: a ValueError a caller can act on.

Value checks run only where the sample is concrete (not under an outer jit), so the kernels stay jittable.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np


def _max_abs(x):
  return jnp.max(jnp.abs(x))  # NaN if any NaN, inf if any ±inf: one cheap pass answers both


def check_sample(x, what: str, at_least: int = 2) -> int:
  """Raise a ValueError a caller can act on; value checks only where x is concrete (not under an outer jit)."""
  n = math.prod(np.shape(x))
  if n < at_least:
    raise ValueError(f"{what}: x has {n} values; pass a 1-D array of at least {at_least} samples")
  if not isinstance(x, jax.core.Tracer):
    top = float(jax.jit(_max_abs)(x))
    if not math.isfinite(top):
      raise ValueError(f"{what}: x contains NaN or ±inf; keep the finite values first, e.g. x[np.isfinite(x)]")
    if top == 0:
      raise ValueError(f"{what}: x is all zeros, so it has no tail; check what was recorded")
  return n


def check_k(k, low: int, high: int, what: str, n: int) -> None:
  if isinstance(k, (int, np.integer)) and not low <= k <= high:
    raise ValueError(f"{what}: k = {k} is out of range for n = {n}; choose {low} ≤ k ≤ {high}")


def check_result(value, what: str, k):
  if not isinstance(value, jax.core.Tracer) and not math.isfinite(float(value)):
    raise ValueError(
      f"{what}: undefined at k = {k}: the top k + 1 values of |x| include zeros or are all equal; choose a smaller k"
    )
  return value
