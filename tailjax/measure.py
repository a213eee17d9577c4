"""Gradient noise, measured: per-example gradients, their noise g_i − ḡ per parameter group, its tail, and the noise
scale (SCIENCE.md §1–4).

`per_example_noise(loss_fn, params, examples, ...)` runs one jitted program over m examples in chunks whose size
follows a memory budget (`jax.vmap(jax.grad(loss_fn))` on each chunk inside `lax.scan`). Per chunk it keeps only:
  - the running Σ_i g_i and Σ_i |g_i|² over all parameters (for ḡ, tr(Σ) and the noise scale);
  - each group's per-example gradient at a fixed random subset of its coordinates (all of them if the group is
    smaller than `coords_per_group`): the pooled sample the tail estimators read.
So nothing of size m × params is ever materialised beyond one chunk, and nothing of that size leaves the device.

Groups are parameter tensors (layer-wise: "block_0/attn/qkv") and their kinds ("attention", "ffn", "vector" for
biases, norms and other ≤1-D tensors, "embedding", "head", or the tensor's own name for small models such as the
Phase 1.1 FFN). A random subset of coordinates is an unbiased sample of the pooled distribution of a tensor's noise.
"""

import dataclasses
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from tailjax import tails
from tailjax.models import param_kinds
from tailjax.tails import kernels


@dataclasses.dataclass(frozen=True)
class Noise:
  """One measurement. `noise_MxS[group]`: the noise g_i − ḡ of m examples at S coordinates of the group.

  `trace_sigma` is tr(Σ) (the per-example gradient covariance, unbiased), `mean_grad_sq` |ḡ|², `true_grad_sq` the
  unbiased |G|² = |ḡ|² − tr(Σ)/m, and `b_simple` = tr(Σ)/|G|² (McCandlish et al.'s simple noise scale; inf where
  the noise swamps the mean gradient, |G|² ≤ 0). `b_simple_two_batch` is the same quantity from McCandlish et
  al.'s two-batch estimator (App. A): |mean|² of small batches of `b_small` examples against that of all m.
  """

  noise_MxS: dict
  kind: dict
  mean_grad_norm: dict  # |ḡ| of each group (the batch gradient over the m examples), all coordinates
  m: int
  trace_sigma: float
  mean_grad_sq: float
  true_grad_sq: float
  b_simple: float
  b_simple_two_batch: float  # McCandlish's two-batch estimate: batches of b_small examples against all m
  b_small: int


def chunk_size(m: int, n_params: int, budget_bytes: float, overhead: float = 3.0) -> int:
  """The largest divisor of m whose per-example gradients fit the budget: c · n_params · 4 bytes · `overhead`
  (the backward pass's intermediates) ≤ budget."""
  fit = max(int(budget_bytes // (4 * n_params * overhead)), 1)
  return max(c for c in range(1, min(m, fit) + 1) if m % c == 0)


def _coordinates(params, coords_per_group: int, key) -> list:
  """Per leaf (in tree_leaves order), a fixed random subset of flat coordinate indices, or None for all of them."""
  leaves = jax.tree_util.tree_leaves(params)
  out = []
  for leaf, k in zip(leaves, jax.random.split(key, len(leaves)), strict=True):
    size = math.prod(leaf.shape)
    pick = (
      None if size <= coords_per_group else jnp.sort(jax.random.choice(k, size, (coords_per_group,), replace=False))
    )
    out.append(pick)
  return out


def per_example_noise(
  loss_fn,
  params,
  examples,
  *,
  coords_per_group: int = 4096,
  budget_bytes: float = 1 << 30,
  key=None,
  coords: list | None = None,
) -> Noise:
  """Per-example gradient noise of `loss_fn(params, example) -> scalar` over the leading axis (m) of `examples`.

  Args:
    loss_fn: the loss of ONE example (no batch axis); its gradient is g_i.
    params: parameters (a pytree; no lane axis).
    examples: a pytree whose leaves share a leading axis m (m ≥ 2).
    coords_per_group: coordinates sampled per parameter tensor (all if the tensor is smaller).
    budget_bytes: memory for one chunk of per-example gradients; the chunk size follows from it.
    key: picks the coordinates (fixed by default, so every measurement of a run reads the same coordinates).
    coords: the coordinates already picked (`_coordinates`), to skip picking them again.
  """
  m = jax.tree_util.tree_leaves(examples)[0].shape[0]
  if m < 2:
    raise ValueError(f"per_example_noise: m = {m} examples; the noise needs at least 2 (a mean and a deviation)")
  n_params = sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params))
  c = chunk_size(m, n_params, budget_bytes)
  key = key if key is not None else jax.random.key(0)
  idx = coords if coords is not None else _coordinates(params, coords_per_group, key)
  sum_g, sum_sq, sample, small_sq = _measure(params, examples, idx, loss_fn=loss_fn, c=c)
  mean_sq = float(sum(jnp.sum((g / m) ** 2) for g in jax.tree_util.tree_leaves(sum_g)))
  trace = (float(sum_sq) - m * mean_sq) / (m - 1)
  true_sq = mean_sq - trace / m
  kinds, noise, grad_norm = {}, {}, {}
  mean_g = jax.tree_util.tree_leaves(sum_g)
  for (path, leaf), s, g in zip(jax.tree_util.tree_flatten_with_path(params)[0], sample, mean_g, strict=True):
    name = param_kinds.group_name(path)
    grad_norm[name] = float(jnp.linalg.norm(g.ravel())) / m
    noise[name] = s - jnp.mean(s, axis=0, keepdims=True)  # g_i − ḡ at the sampled coordinates
    kinds[name] = param_kinds.group_kind(name, leaf.ndim)
  b_small = c // min(c, _SMALL_BATCHES)
  two = two_batch_noise_scale(float(small_sq), mean_sq, b_small, m) if b_small < m else {"b_simple": math.nan}
  return Noise(
    b_simple_two_batch=two["b_simple"],
    b_small=b_small,
    noise_MxS=noise,
    kind=kinds,
    mean_grad_norm=grad_norm,
    m=m,
    trace_sigma=trace,
    mean_grad_sq=mean_sq,
    true_grad_sq=true_sq,
    b_simple=trace / true_sq if true_sq > 0 else math.inf,
  )


@jax.jit(static_argnames=("loss_fn", "c"))
def _measure(params, examples, idx: list, loss_fn, c: int):
  """(Σ_i g_i, Σ_i |g_i|²) and, per leaf, the per-example gradients at its sampled coordinates [m, S], computed in
  chunks of c examples."""
  m = jax.tree_util.tree_leaves(examples)[0].shape[0]
  chunks = jax.tree_util.tree_map(lambda v: v.reshape(m // c, c, *v.shape[1:]), examples)
  per_example = jax.vmap(jax.grad(loss_fn), in_axes=(None, 0))

  def one_chunk(carry, chunk):
    sum_g, sum_sq = carry
    g = per_example(params, chunk)  # leaves [c, ...]
    sum_g = jax.tree_util.tree_map(lambda a, b: a + jnp.sum(b, axis=0), sum_g, g)
    sum_sq = sum_sq + sum(jnp.sum(jnp.square(v.astype(jnp.float32))) for v in jax.tree_util.tree_leaves(g))
    picked = [
      v.reshape(c, -1) if i is None else v.reshape(c, -1)[:, i]
      for v, i in zip(jax.tree_util.tree_leaves(g), idx, strict=True)
    ]
    # |mean gradient|² of each of q small batches of h examples, for McCandlish's two-batch estimator
    q = min(c, _SMALL_BATCHES)
    h = c // q
    small_sq_Q = sum(
      jnp.sum(jnp.square(jnp.mean(v[: q * h].reshape(q, h, -1).astype(jnp.float32), axis=1)), axis=1)
      for v in jax.tree_util.tree_leaves(g)
    )
    return (sum_g, sum_sq), (picked, small_sq_Q)

  zero = (jax.tree_util.tree_map(jnp.zeros_like, params), jnp.float32(0))
  (sum_g, sum_sq), (picked, small_sq) = jax.lax.scan(one_chunk, zero, chunks)
  return sum_g, sum_sq, [p.reshape(m, -1) for p in picked], jnp.mean(small_sq)


_SMALL_BATCHES = 8  # small batches per chunk for the two-batch estimator (of c // 8 examples each)


def two_batch_noise_scale(g_small_sq: float, g_big_sq: float, b_small: int, b_big: int) -> dict:
  """McCandlish et al.'s (2018, App. A) unbiased estimates from the squared norms of two batch gradients:
  |G|² = (B_big|G_big|² − B_small|G_small|²)/(B_big − B_small), tr(Σ) = (|G_small|² − |G_big|²)/(1/B_small − 1/B_big),
  B_simple = tr(Σ)/|G|². Each estimate is noisy; average the two numerators over steps before dividing."""
  g_sq = (b_big * g_big_sq - b_small * g_small_sq) / (b_big - b_small)
  trace = (g_small_sq - g_big_sq) / (1 / b_small - 1 / b_big)
  return {"true_grad_sq": g_sq, "trace_sigma": trace, "b_simple": trace / g_sq if g_sq > 0 else math.inf}


@jax.jit(static_argnames=("k_ratios",))
def _group_estimates(noise_MxS, k_ratios: tuple):
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
    values = _group_estimates(sample, tuple(k_ratios))
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


# ------------------------------------------------------------------------------------------- inside a sweep's row
ALPHA_COLUMNS = [
  "step", "batch_size", "lane", "lr", "clip", "seed", "group", "kind", "estimator", "k_ratio", "value", "ci_low",
  "ci_high", "n", "which",
]  # fmt: skip
SCALE_COLUMNS = [
  "step", "batch_size", "lane", "lr", "clip", "seed", "m", "b_simple", "trace_sigma", "true_grad_sq",
  "b_simple_two_batch", "b_small",
]  # fmt: skip
PARAM_COLUMNS = ["step", "batch_size", "lane", "group", "kind", "weight_norm", "grad_norm", "top_singular_values"]
GAIN_COLUMNS = ["step", "batch_size", "lane", "branch", "gain"]
VERDICT_COLUMNS = ["step", "batch_size", "lane", "group", "n", "verdict", "hill_k", "hill_alpha", "moments_xi", "best"]


def pooled_by_kind(noise: Noise) -> dict:
  """kind → every sampled noise value of the tensors of that kind, pooled (the study's attention / ffn / vector)."""
  out = {}
  for name, sample in noise.noise_MxS.items():
    out.setdefault(noise.kind[name], []).append(jnp.ravel(sample))
  return {kind: jnp.concatenate(parts) for kind, parts in out.items()}


def _top_singular_values(w, count: int = 3) -> str:
  if w.ndim < 2:
    return ""
  s = jnp.linalg.svd(w.reshape(-1, w.shape[-1]).astype(jnp.float32), compute_uv=False)
  return " ".join(f"{float(v):.4g}" for v in s[:count])


def measure_lanes(
  loss_one, params_R, table, labels, diverged_R, step, b, examples, cfg, verdict: bool, gains_fn=None
) -> dict:
  """One measurement of every lane of a row: rows for alpha.csv, noise_scale.csv, param_stats.csv, verdicts.csv.

  `loss_one(params, example)` is the loss of one example; `params_R` carries the lane axis; `gains_fn(params,
  examples)`, if given, returns each residual branch's ‖f(x)‖/‖x‖ (sublayer_gain.csv). A diverged lane is skipped
  (its parameters are frozen at the last finite step and say nothing about the noise)."""
  m = cfg.measure
  out = {"alpha": [], "scale": [], "params": [], "verdicts": [], "hill_curves": [], "gains": []}
  coords = _coordinates(jax.tree.map(lambda v: v[0], params_R), m.coords_per_group, jax.random.key(0))
  # One lane at a time, not vmapped: the memory budget holds one lane's chunk of per-example gradients.
  for r, lane in enumerate(table):
    if diverged_R[r]:
      continue
    params = jax.tree.map(lambda v, r=r: v[r], params_R)
    noise = per_example_noise(loss_one, params, examples, budget_bytes=m.budget_mb * 2**20, coords=coords)
    head = {
      "step": step,
      "batch_size": b,
      "lane": labels[r],
      "lr": lane["lr"],
      "clip": lane["clip"],
      "seed": lane["seed"],
    }
    per_tensor = estimate_groups(noise, tuple(m.k_ratios))
    pooled = pooled_by_kind(noise)
    per_kind = []
    for kind, sample in pooled.items():
      if sample.size < 8:
        continue
      for (estimator, ratio), v in _group_estimates(sample, tuple(m.k_ratios)).items():
        per_kind.append(
          {"group": f"all {kind}", "kind": kind, "estimator": estimator, "k_ratio": "" if ratio is None else ratio,
           "value": float(v), "n": int(sample.size), "which": WHICH_ALPHA[estimator]}
        )  # fmt: skip
    for kind, sample in pooled.items():  # the Hill plot: does α̂ settle on a plateau as k grows?
      if sample.size >= 1000:
        ks = tuple(sorted({int(k) for k in np.geomspace(10, sample.size // 4, 20)}))
        curve = np.asarray(kernels.hill_curve(sample, ks))
        out["hill_curves"].append({"step": step, "lane": labels[r], "group": f"all {kind}", "k": list(ks),
                                   "alpha": curve.tolist(), "n": int(sample.size)})  # fmt: skip
    wanted = set(m.estimators)
    for row in (row for row in per_tensor + per_kind if row["estimator"] in wanted):
      ci = ("", "")
      if row["estimator"] == "hill":  # Hill's asymptotic normal interval, sd = α/√k
        k = max(int(row["k_ratio"] * row["n"]), 1)
        ci = (row["value"] * (1 - 1.96 / math.sqrt(k)), row["value"] * (1 + 1.96 / math.sqrt(k)))
      out["alpha"].append({**head, **row, "ci_low": ci[0], "ci_high": ci[1]})
    out["scale"].append(
      {**head, "m": noise.m, "b_simple": noise.b_simple, "trace_sigma": noise.trace_sigma,
       "true_grad_sq": noise.true_grad_sq, "b_simple_two_batch": noise.b_simple_two_batch, "b_small": noise.b_small}
    )  # fmt: skip
    short = {k: head[k] for k in ("step", "batch_size", "lane")}
    if gains_fn is not None:
      for branch, gain in gains_fn(params, examples).items():
        out["gains"].append({**short, "branch": branch, "gain": float(gain)})
    for w, (name, g) in zip(jax.tree_util.tree_leaves(params), noise.mean_grad_norm.items(), strict=True):
      out["params"].append(
        {**short, "group": name, "kind": noise.kind[name], "weight_norm": float(jnp.linalg.norm(w.ravel())),
         "grad_norm": g, "top_singular_values": _top_singular_values(w)}
      )  # fmt: skip
    if verdict:
      for kind, sample in pooled.items():
        if sample.size < 100:
          continue
        rep = tails.estimate(sample, families=True)
        out["verdicts"].append(
          {**short, "group": f"all {kind}", "n": rep["n"],
           "verdict": rep["verdict"], "hill_k": rep["hill"]["k"], "hill_alpha": rep["hill"]["alpha"],
           "moments_xi": rep["moments_xi"], "best": rep["families"]["best"]}
        )  # fmt: skip
  return out


def write_outputs(workdir, cfg) -> dict:
  """Gathers every measurement of the sweep into alpha.csv, noise_scale.csv, param_stats.csv, verdicts.csv,
  sublayer_gain.csv (transformer) and hill_curves.json, then draws the plots."""
  import json

  from tailjax import alpha_plots, files

  workdir = pathlib.Path(workdir)
  found = {"alpha": [], "scale": [], "params": [], "verdicts": [], "hill_curves": [], "gains": []}
  for b in cfg.sweep.batch_sizes:
    folder = workdir / "measure" / f"B{b}"
    for path in sorted(folder.glob("step*.json"), key=lambda p: int(p.stem[4:])):
      one = json.loads(path.read_text())
      for key in found:
        found[key] += one.get(key, [])
  files.write_csv(workdir / "alpha.csv", found["alpha"], ALPHA_COLUMNS)
  files.write_csv(workdir / "noise_scale.csv", found["scale"], SCALE_COLUMNS)
  files.write_csv(workdir / "param_stats.csv", found["params"], PARAM_COLUMNS)
  files.write_csv(workdir / "verdicts.csv", found["verdicts"], VERDICT_COLUMNS)
  if found["gains"]:
    files.write_csv(workdir / "sublayer_gain.csv", found["gains"], GAIN_COLUMNS)
  files.write_json(workdir / "hill_curves.json", found["hill_curves"])
  if cfg.output.plots and any(r["estimator"] == "hill" for r in found["alpha"]):  # the plots show Hill
    alpha_plots.all_plots(workdir, found, mid_ratio=sorted(cfg.measure.k_ratios)[len(cfg.measure.k_ratios) // 2])
  return found
