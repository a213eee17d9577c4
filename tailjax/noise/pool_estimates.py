"""The tail estimators on measured noise, per parameter tensor and pooled by kind: rows of alpha.csv.

How coordinates are pooled decides the answer (docs/science.md §3): coordinates of different scales pooled as they
are make a scale mixture, whose tail is heavier than any coordinate's. So each coordinate is first scaled by a robust
spread of its m values (the interquartile range, which caps no extreme: `tails.robust_scale_columns`); the raw pool
is kept as a second, labelled view (groups "raw <kind>").

Everything runs on the device with sizes fixed by the tensors' shapes, never by the data, so a sweep compiles its
programs at the first measurement and never again: a tensor's views are padded to a power of two with their true
size n traced (`views`), pools are assembled into a buffer sized by their tensors' shapes (`pooled_by_kind`), and the
estimators run on every sample of one padded size at once (`estimate_samples`: one program per size, vmapped over the
samples). Zero padding never reaches a top order statistic.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.noise.per_example import Noise
from tailjax.tails import coordinates, kernels

POOLINGS = ("robust", "raw")
WHICH_ALPHA = {  # alpha.csv's `which`: the convention of each estimator's value (docs/science.md §1)
  "hill": "tail index (Hill's alpha; pdf exponent = 1 + value)",
  "pickands": "tail index (Hill's alpha; pdf exponent = 1 + value)",
  "moments_xi": "extreme-value index xi (<= 0: no power-law tail)",
  "stable_mohammadi": "stable index in (0, 2]",
}
CURVE_POINTS = 20  # k values of the Hill plot drawn at each measurement


def bucket(n: int) -> int:
  """The padded size of a sample of n values: the next power of two (at least 16)."""
  return max(16, 1 << (n - 1).bit_length())


def _compact(values_N, keep_N, size: int):
  """The kept values moved to the front of a zero buffer of `size`, in their order, and how many there are."""
  at_N = jnp.cumsum(keep_N) - 1
  out = jnp.zeros((size,), values_N.dtype).at[jnp.where(keep_N, at_N, size)].set(values_N, mode="drop")
  return out, jnp.sum(keep_N, dtype=jnp.int32)


@jax.jit
def _views(noise_MxS):
  """One tensor's samples, each zero-padded to bucket(M·S) with its true size and the example (row) of each value:
  the robust view (coordinates scaled by `kernels.robust_scale`; coordinates without spread and values exactly at
  their coordinate's median left out, the latter the atom of a ReLU-gated gradient, no part of a tail) and the raw
  view (the values as they are). The examples let the verdict resample whole examples (their values share a scale)."""
  size = bucket(noise_MxS.size)
  z_MxS, ok_S = kernels.robust_scale(noise_MxS)
  z = jnp.ravel(z_MxS)
  example = jnp.arange(noise_MxS.size, dtype=jnp.int32) // noise_MxS.shape[1]
  robust_B, n_robust = _compact(z, z != 0, size)
  robust_ex_B, _ = _compact(example, z != 0, size)
  raw_B = jnp.pad(jnp.ravel(noise_MxS).astype(z.dtype), (0, size - noise_MxS.size))
  raw_ex_B = jnp.pad(example, (0, size - noise_MxS.size))
  views = {"robust": (robust_B, n_robust, robust_ex_B), "raw": (raw_B, jnp.int32(noise_MxS.size), raw_ex_B)}
  return views, jnp.sum(~ok_S)


def views(noise: Noise) -> tuple[dict, dict]:
  """(name → pooling → (padded sample, n, padded examples), name → coordinates the robust view left out), both on the
  device."""
  out, left_out = {}, {}
  for name, noise_MxS in noise.noise_MxS.items():
    out[name], left_out[name] = _views(noise_MxS)
  return out, left_out


def _pool(parts: tuple):
  """Samples (padded, n, padded examples) concatenated without their padding, into a buffer of bucket(Σ sizes)."""
  size = bucket(sum(x.shape[0] for x, *_ in parts))
  keep = jnp.concatenate([jnp.arange(x.shape[0]) < n for x, n, _ in parts])
  values, n = _compact(jnp.concatenate([x for x, *_ in parts]), keep, size)
  return values, n, _compact(jnp.concatenate([ex for *_, ex in parts]), keep, size)[0]


@jax.jit
def _pools(parts_by_kind: dict) -> dict:
  """`_pool` of every kind, in one program (robust and raw share it: their shapes are the same)."""
  return {kind: _pool(parts) for kind, parts in parts_by_kind.items()}


def pooled_by_kind(noise: Noise, tensor_views: dict, left_out: dict, pooling: str = "robust") -> dict:
  """kind → ((padded pooled sample, n, padded examples), coordinates left out): every sampled noise value of the
  tensors of one kind under `pooling`, with the example it came from. The study's attention / ffn / vector groups."""
  parts, dropped = {}, {}
  for name in noise.noise_MxS:
    kind = noise.kind[name]
    parts.setdefault(kind, []).append(tensor_views[name][pooling])
    dropped.setdefault(kind, []).append(left_out[name] if pooling == "robust" else 0)
  pools = _pools({kind: tuple(p) for kind, p in parts.items()})
  return {kind: (pools[kind], int(np.sum(jax.device_get(dropped[kind])))) for kind in parts}


@jax.jit(static_argnames=("k_ratios",))
def _estimate_GxB(x_GxB, n_G, curve_GxK, k_ratios: tuple):
  """`kernels.padded_estimates` of each of G samples in turn (`lax.map`, not vmap: a vmapped selection would run the
  passes of the slowest sample for all, and its exact-or-sort fallback as both branches); curve_GxK may be None."""
  if curve_GxK is None:
    return jax.lax.map(lambda xn: kernels.padded_estimates(*xn, k_ratios), (x_GxB, n_G))
  return jax.lax.map(lambda xnc: kernels.padded_estimates(xnc[0], xnc[1], k_ratios, xnc[2]), (x_GxB, n_G, curve_GxK))


def curve_ks(n: int) -> list[int]:
  """The k values of a measurement's Hill plot for a sample of n values: 20 from 10 to a quarter of n's padded size,
  geometrically spaced (duplicates kept: the list has a fixed length, so one program serves every n)."""
  return [int(k) for k in np.geomspace(10, max(bucket(n) // 4, 11), CURVE_POINTS)]


def estimate_rows(groups: list, k_ratios) -> tuple[list[dict], list]:
  """alpha.csv rows (without step and lane) and Hill plots (ks, α̂s) of groups given as (row head: group, kind,
  pooling; (padded sample, n, padded examples) on the device; whether to draw its Hill plot). A group of fewer than
  8 values gives no rows (no tail to estimate) and the plot (None, None); a group drawn without a plot gives
  ([], []). Samples of one padded size run as one call (`lax.map` over them): one program per size and count,
  whatever the data, so a sweep compiles them at its first measurement only."""
  ns = [int(n) for n in jax.device_get([sample[1] for _, sample, _ in groups])]
  # One program per padded size and plot-or-not: padding the small tensors to the largest one's size would save
  # one or two compiles (~1 s each, once per sweep) but cost every later measurement 0.2 s (m = 64) to 1.5 s
  # (m = 256) of passes over padding (BENCHMARKS.md).
  by_size = {}  # (padded size, whether to draw the Hill plot) → groups
  for i, (_, (x_B, *_), with_curve) in enumerate(groups):
    by_size.setdefault((x_B.shape[0], with_curve), []).append(i)
  found = [None] * len(groups)
  for (_, with_curve), idx in by_size.items():
    curves_GxK = np.array([curve_ks(max(ns[i], 16)) if with_curve else [] for i in idx], np.int32)
    x_GxB = jnp.stack([groups[i][1][0] for i in idx])
    args = (x_GxB, np.array([ns[i] for i in idx]), curves_GxK if with_curve else None)
    values, alpha_GxK = jax.device_get(_estimate_GxB(*args, k_ratios))
    for g, i in enumerate(idx):
      first = {}  # each distinct k below n, at its first place in the fixed-length list
      for j, k in enumerate(curves_GxK[g].tolist()):
        if k < ns[i]:
          first.setdefault(k, j)
      found[i] = (
        {key: float(v[g]) for key, v in values.items()},
        list(first),
        [float(alpha_GxK[g][j]) for j in first.values()],
      )
  rows, curves = [], []
  for (head, _, _), n, (values, ks, alphas) in zip(groups, ns, found, strict=True):
    curves.append((ks, alphas) if n >= 8 else (None, None))
    if n < 8:
      continue
    for (estimator, r), v in values.items():
      rows.append({**head, "estimator": estimator, "k_ratio": "" if r is None else r, "value": v, "n": n,
                   "which": WHICH_ALPHA[estimator]})  # fmt: skip
  return rows, curves


def estimate_groups(noise: Noise, k_ratios=(0.05, 0.1, 0.2), pooling: str = "robust") -> list[dict]:
  """Rows of alpha.csv (without step and lane) for every tensor: its coordinates pooled by `pooling`."""
  tensor_views, _ = views(noise)
  groups = [
    ({"group": name, "kind": noise.kind[name], "pooling": pooling}, tensor_views[name][pooling], False)
    for name in noise.noise_MxS
  ]
  return estimate_rows(groups, tuple(k_ratios))[0]


def sample_of(padded_sample) -> tuple[np.ndarray, np.ndarray]:
  """The real values of a (padded sample, n, padded examples) triple, and the example of each, on the host."""
  x_B, n, example_B = jax.device_get(padded_sample)
  return np.asarray(x_B)[: int(n)], np.asarray(example_B)[: int(n)]


def per_coordinate(noise: Noise) -> dict:
  """kind → the per-coordinate view (`tails.coordinates.summarize`) of its tensors' noise: each sampled coordinate's
  m values tested for Gaussianity, beside the pooled verdict."""
  parts = {}
  for name, noise_MxS in noise.noise_MxS.items():
    parts.setdefault(noise.kind[name], []).append(noise_MxS)
  return {kind: coordinates.summarize(p) for kind, p in parts.items()}


def scaled(noise_MxS, pooling: str) -> tuple[np.ndarray, int]:
  """The 1-D sample a tensor's noise gives under `pooling` (on the host), and how many coordinates it left out."""
  found, left_out = _views(jnp.asarray(noise_MxS))
  return sample_of(found[pooling])[0], int(left_out) if pooling == "robust" else 0


def group_name(kind: str, pooling: str) -> str:
  """'all ffn' for the robust pool (what every plot and fit reads), 'raw ffn' for the raw view."""
  return f"{'all' if pooling == 'robust' else 'raw'} {kind}"


def hill_interval(alpha: float, k: int) -> tuple[float, float]:
  """Hill's asymptotic normal 95% interval, sd = α/√k."""
  return alpha * (1 - 1.96 / math.sqrt(k)), alpha * (1 + 1.96 / math.sqrt(k))
