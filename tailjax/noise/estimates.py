"""The tail estimators on measured noise, per parameter tensor and pooled by kind: rows of alpha.csv.

How coordinates are pooled decides the answer (docs/science.md §3): coordinates of different scales pooled as they
are make a scale mixture, whose tail is heavier than any coordinate's. So each coordinate is first scaled by a robust
spread of its m values (the interquartile range, which caps no extreme: `tails.robust_scale_columns`); the raw pool
is kept as a second, labelled view (groups "raw <kind>").

Jitted on the device, with one compiled program per power-of-two sample size rather than per tensor shape: a sample
is padded with zeros (which never reach the top order statistics) and its true size is a traced argument.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.noise.per_example import Noise
from tailjax.tails import kernels

POOLINGS = ("robust", "raw")
WHICH_ALPHA = {
  "hill": "tail index",
  "pickands": "tail index",
  "moments_xi": "extreme-value index xi (<= 0: no power-law tail)",
  "stable_mohammadi": "stable index in (0, 2]",
}


def bucket(n: int) -> int:
  """The padded size of a sample of n values: the next power of two (at least 16)."""
  return max(16, 1 << (n - 1).bit_length())


def padded(x) -> tuple[jax.Array, int]:
  """(x flattened and zero-padded to `bucket(n)`, n)."""
  x = jnp.ravel(x)
  n = int(x.shape[0])
  return jnp.pad(x, (0, bucket(n) - n)), n


@jax.jit(static_argnames=("k_ratios",))
def _estimates(x_B, n, k_ratios: tuple):
  out = {}
  for r in k_ratios:
    k = jnp.maximum(jnp.floor(r * n).astype(jnp.int32), 1)
    out[("hill", r)] = kernels.hill(x_B, k)
    out[("pickands", r)] = kernels.pickands(x_B, jnp.maximum(k // 4, 1))
    out[("moments_xi", r)] = kernels.moments(x_B, k)
  k1 = max(math.isqrt(x_B.shape[0] // 2), 2)  # ≈ √n for every n in (B/2, B]
  out[("stable_mohammadi", None)] = jnp.clip(kernels.mohammadi_padded(x_B, n, k1), 1e-6, 2.0)
  return out


def group_estimates(sample, k_ratios: tuple) -> dict:
  """Hill, Pickands and moments at each k ratio of n, and Mohammadi's stable index, of one sample (any shape)."""
  x_B, n = padded(sample)
  return _estimates(x_B, n, tuple(k_ratios))


def scaled(noise_MxS, pooling: str) -> tuple[jax.Array, int]:
  """The 1-D sample a tensor's noise gives under `pooling`, and how many coordinates it left out (robust: those
  whose m values have no spread, IQR = 0, e.g. embedding rows of tokens most examples never saw; and the values that
  sit exactly at their coordinate's median, the atom of a ReLU-gated gradient, which are no part of a tail)."""
  if pooling == "raw":
    return jnp.ravel(noise_MxS), 0
  z_MxS, ok_S = kernels.robust_scale(noise_MxS)
  ok_S = np.asarray(ok_S)
  z = jnp.ravel(z_MxS[:, ok_S])
  return z[z != 0], int(ok_S.size - ok_S.sum())  # exact zeros: examples at their coordinate's median (an atom)


def estimate_groups(noise: Noise, k_ratios=(0.05, 0.1, 0.2), pooling: str = "robust") -> list[dict]:
  """Rows of alpha.csv (without step and lane) for every tensor: its coordinates pooled by `pooling`."""
  rows = []
  for name, noise_MxS in noise.noise_MxS.items():
    sample, _ = scaled(noise_MxS, pooling)
    if sample.size < 8:
      continue  # a tensor of a few numbers has no tail to estimate
    for (estimator, r), v in group_estimates(sample, tuple(k_ratios)).items():
      rows.append(
        {"group": name, "kind": noise.kind[name], "pooling": pooling, "estimator": estimator,
         "k_ratio": "" if r is None else r, "value": float(v), "n": int(sample.size), "which": WHICH_ALPHA[estimator]}
      )  # fmt: skip
  return rows


def pooled_by_kind(noise: Noise, pooling: str = "robust") -> dict:
  """kind → (every sampled noise value of the tensors of that kind under `pooling`, pooled; coordinates left out).
  The study's attention / ffn / vector groups."""
  parts, left_out = {}, {}
  for name, noise_MxS in noise.noise_MxS.items():
    sample, dropped = scaled(noise_MxS, pooling)
    kind = noise.kind[name]
    parts.setdefault(kind, []).append(sample)
    left_out[kind] = left_out.get(kind, 0) + dropped
  return {kind: (jnp.concatenate(p), left_out[kind]) for kind, p in parts.items()}


def group_name(kind: str, pooling: str) -> str:
  """'all ffn' for the robust pool (what every plot and fit reads), 'raw ffn' for the raw view."""
  return f"{'all' if pooling == 'robust' else 'raw'} {kind}"
