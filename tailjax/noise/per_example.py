"""Per-example gradient noise: the gradients of m examples, their noise g_i − ḡ per parameter tensor at sampled
coordinates, tr(Σ) and the noise scale B_simple (docs/science.md).

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

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.models import param_kinds


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


def coordinates(params, coords_per_group: int, seed: int = 0) -> list:
  """Per leaf (in tree_leaves order), a fixed random subset of flat coordinate indices (sorted), or None for all of
  them. Drawn by numpy on the host: a jax draw would compile a shuffle for every tensor size."""
  rng = np.random.default_rng(seed)
  out = []
  for leaf in jax.tree_util.tree_leaves(params):
    size = math.prod(leaf.shape)
    out.append(None if size <= coords_per_group else np.sort(rng.choice(size, coords_per_group, replace=False)))
  return out


def per_example_noise(
  loss_fn,
  params,
  examples,
  *,
  coords_per_group: int = 4096,
  budget_bytes: float = 1 << 30,
  seed: int = 0,
  coords: list | None = None,
  kind_fn=None,
) -> Noise:
  """Per-example gradient noise of `loss_fn(params, example) -> scalar` over the leading axis (m) of `examples`.

  Args:
    loss_fn: the loss of ONE example (no batch axis); its gradient is g_i.
    params: parameters (a pytree; no lane axis).
    examples: a pytree whose leaves share a leading axis m (m ≥ 2).
    coords_per_group: coordinates sampled per parameter tensor (all if the tensor is smaller).
    budget_bytes: memory for one chunk of per-example gradients; the chunk size follows from it.
    seed: picks the coordinates (fixed by default, so every measurement of a run reads the same coordinates).
    coords: the coordinates already picked (`coordinates`), to skip picking them again.
    kind_fn: `kind_fn(name, ndim) -> str`, the pool a tensor belongs to (default `param_kinds.group_kind`).

  Raises:
    ValueError: fewer than 2 examples, examples whose leaves disagree on m, or a loss that is not a scalar.
  """
  m = check_examples(loss_fn, params, examples)
  n_params = sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params))
  c = chunk_size(m, n_params, budget_bytes)
  idx = coords if coords is not None else coordinates(params, coords_per_group, seed)
  noise_L, norms_L, sums = _noise_and_sums(params, examples, idx, loss_fn=loss_fn, c=c)
  norms_L, (sum_sq, mean_sq, small_sq) = jax.device_get((norms_L, sums))  # one transfer of the scalars
  mean_sq, sum_sq = float(mean_sq), float(sum_sq)
  trace = (sum_sq - m * mean_sq) / (m - 1)
  true_sq = mean_sq - trace / m
  kinds, noise, grad_norm = {}, {}, {}
  for (path, leaf), s, g in zip(jax.tree_util.tree_flatten_with_path(params)[0], noise_L, norms_L, strict=True):
    name = param_kinds.group_name(path)
    grad_norm[name] = float(g)
    noise[name] = s
    kinds[name] = (kind_fn or param_kinds.group_kind)(name, leaf.ndim)
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


def leading_axis(tree, what: str) -> int:
  """The leading axis that every leaf of `tree` shares (its number of examples), or one ValueError naming `what`."""
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  if not leaves or any(np.ndim(v) == 0 for _, v in leaves):
    raise ValueError(f"{what} must be a pytree of arrays with a leading axis (one entry per example)")
  sizes = {jax.tree_util.keystr(path) or what: np.shape(v)[0] for path, v in leaves}
  if len(set(sizes.values())) > 1:
    raise ValueError(f"the leaves of {what} disagree on their leading axis (one entry per example): {sizes}")
  return next(iter(sizes.values()))


def check_examples(loss_fn, params, examples) -> int:
  """m, the examples' common leading axis, after checking what the measurement needs: m ≥ 2, every leaf of
  `examples` of length m, and `loss_fn(params, example)` a scalar (checked on shapes only: nothing runs)."""
  m = leading_axis(examples, "examples")
  if m < 2:
    raise ValueError(f"m = {m} example(s); the noise needs at least 2 (a mean and a deviation), e.g. 64")
  if not jax.tree_util.tree_leaves(params) or any(not hasattr(v, "shape") for v in jax.tree_util.tree_leaves(params)):
    raise ValueError("params must be a non-empty pytree of arrays (e.g. a flax model's variables['params'])")
  one = jax.tree.map(lambda v: jax.ShapeDtypeStruct(np.shape(v)[1:], jnp.result_type(v)), examples)
  try:
    out = jax.eval_shape(loss_fn, params, one)
  except Exception as e:  # noqa: BLE001 - the user's function failed on the shapes: say so in one line
    raise ValueError(
      f"loss_fn(params, example) fails on one example of these shapes: {type(e).__name__}: "
      f"{str(e).splitlines()[0] if str(e) else ''}; it must take ONE example (no batch axis)"
    ) from None
  if not hasattr(out, "shape") or out.shape != ():
    shape = getattr(out, "shape", type(out).__name__)
    raise ValueError(
      f"loss_fn(params, example) must return a scalar, the loss of ONE example; it returned shape {shape}. "
      "Take a single example (no batch axis) and reduce to one number"
    )
  if not jnp.issubdtype(out.dtype, jnp.floating):
    raise ValueError(f"loss_fn(params, example) must return a float (it is differentiated), got {out.dtype}")
  return m


@jax.jit(static_argnames=("loss_fn", "c"))
def _noise_and_sums(params, examples, idx: list, loss_fn, c: int):
  """Per leaf, the noise g_i − ḡ at its sampled coordinates [m, S] and |ḡ| (all coordinates); and (Σ_i |g_i|²,
  |ḡ|², the mean over small batches of |their mean gradient|²): `gradient_sums` and everything after it in one
  program, so a measurement compiles nothing per tensor."""
  m = jax.tree_util.tree_leaves(examples)[0].shape[0]
  sum_g, sum_sq, picked, small_sq = gradient_sums(params, examples, idx, loss_fn=loss_fn, c=c)
  mean_g = [g / m for g in jax.tree_util.tree_leaves(sum_g)]
  mean_sq = sum(jnp.sum(jnp.square(g.astype(jnp.float32))) for g in mean_g)
  noise = [p - jnp.mean(p, axis=0, keepdims=True) for p in picked]
  norms = jnp.stack([jnp.linalg.norm(g.ravel()) for g in mean_g])
  return noise, norms, (sum_sq, mean_sq, small_sq)


@jax.jit(static_argnames=("loss_fn", "c"))
def gradient_sums(params, examples, idx: list, loss_fn, c: int):
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
