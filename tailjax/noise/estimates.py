"""The tail estimators on measured noise, per parameter tensor and pooled by kind: rows of alpha.csv.

Jitted on the device, one program per sample shape (tails.kernels, without the input checks: the samples come from
`per_example_noise` and are finite by construction).
"""

import math

import jax
import jax.numpy as jnp

from tailjax.noise.per_example import Noise
from tailjax.tails import kernels


@jax.jit(static_argnames=("k_ratios",))
def group_estimates(noise_MxS, k_ratios: tuple):
  x = jnp.ravel(noise_MxS)
  n = x.shape[0]
  out = {}
  for r in k_ratios:
    k = max(int(r * n), 1)
    out[("hill", r)] = kernels.hill(x, k)
    out[("pickands", r)] = kernels.pickands(x, max(k // 4, 1))
    out[("moments_xi", r)] = kernels.moments(x, k)
  out[("stable_mohammadi", None)] = jnp.clip(kernels.mohammadi(x, max(int(math.isqrt(n)), 2)), 1e-6, 2.0)
  return out


WHICH_ALPHA = {
  "hill": "tail index",
  "pickands": "tail index",
  "moments_xi": "extreme-value index xi (<= 0: no power-law tail)",
  "stable_mohammadi": "stable index in (0, 2]",
}


def estimate_groups(noise: Noise, k_ratios=(0.05, 0.1, 0.2)) -> list[dict]:
  """Rows of alpha.csv (without step and lane): Hill, Pickands and moments at each k ratio, and the stable index,
  for every group; computed jitted on the device, one program per group shape."""
  rows = []
  for name, sample in noise.noise_MxS.items():
    if sample.size < 8:
      continue  # a tensor of a few numbers has no tail to estimate
    values = group_estimates(sample, tuple(k_ratios))
    for (estimator, r), v in values.items():
      rows.append(
        {
          "group": name,
          "kind": noise.kind[name],
          "estimator": estimator,
          "k_ratio": "" if r is None else r,
          "value": float(v),
          "n": int(sample.size),
          "which": WHICH_ALPHA[estimator],
        }
      )
  return rows


def pooled_by_kind(noise: Noise) -> dict:
  """kind → every sampled noise value of the tensors of that kind, pooled (the study's attention / ffn / vector)."""
  out = {}
  for name, sample in noise.noise_MxS.items():
    out.setdefault(noise.kind[name], []).append(jnp.ravel(sample))
  return {kind: jnp.concatenate(parts) for kind, parts in out.items()}
