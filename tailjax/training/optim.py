"""The optax chain each lane trains with: clip_by_global_norm -> AdamW, SGD with momentum or Muon; warmup, then a
constant or cosine schedule.

The per-lane hyper-parameters (learning rate, clip threshold, weight decay) enter as traced scalars, so one compiled
program serves every lane and the step stays a pure function: nothing is written into the optimizer state (unlike
`optax.inject_hyperparams`, whose state would carry them). The state's structure does not depend on their values, so
`make(...).init` gives the same pytree for every lane.
"""

import jax
import jax.numpy as jnp
import optax
from flax import traverse_util
from optax import contrib

from tailjax import training
from tailjax.errors import UserError
from tailjax.models import param_kinds

NO_CLIP = float("inf")  # how a lane says "no clipping": the norm never exceeds it


def lr_multiplier(cfg, total_steps: int) -> optax.Schedule:
  """Warmup from 0 to 1 over `warmup_steps`, then constant 1 or a cosine down to `final_lr_ratio`."""
  warmup = max(int(cfg.warmup_steps), 0)
  if cfg.schedule == "constant":
    if warmup == 0:
      return optax.constant_schedule(1.0)
    return optax.warmup_constant_schedule(0.0, 1.0, warmup)
  if cfg.schedule == "cosine":
    return optax.warmup_cosine_decay_schedule(
      0.0, 1.0, warmup, max(total_steps, warmup + 1), end_value=cfg.final_lr_ratio
    )
  raise UserError(f"optim.schedule must be 'constant' or 'cosine', not {cfg.schedule!r}")


def decay_mask(params):
  """Weight decay on matrices (ndim >= 2, embeddings included), not on biases and LayerNorm vectors."""
  return jax.tree.map(lambda p: p.ndim >= 2, params)


def muon_dims(params):
  """Which tensors Muon orthogonalises, and along which axes: every hidden weight matrix (reduction over all axes but
  the last; the fused q/k/v kernel [D, 3, H, Dh] per projection), while embeddings, the output head and vectors go to
  its AdamW part, as Muon is meant to be used (Jordan et al. 2024)."""
  flat = traverse_util.flatten_dict(params)
  dims = {}
  for path, p in flat.items():
    if getattr(p, "ndim", 0) < 2 or param_kinds.is_embedding_or_head(path[0]):  # 0: masked
      dims[path] = None
    elif path[-1] == "qkv":
      dims[path] = contrib.MuonDimensionNumbers(reduction_axis=0, output_axis=(2, 3))
    else:
      dims[path] = contrib.MuonDimensionNumbers(reduction_axis=tuple(range(p.ndim - 1)), output_axis=p.ndim - 1)
  return traverse_util.unflatten_dict(dims)


def b2_for_batch(cfg, b2: float, batch_size: int, b2_batch: int) -> float:
  """β2 of a row of batch size B: `b2` itself (rule fixed), or b2^(B / b2_batch) (rule half_life_tokens), which keeps
  the second moment's half-life in tokens, B·T·ln ½ / ln β2, the same at every B (Marek et al. 2025)."""
  if cfg.b2_rule == "fixed":
    return float(b2)
  if cfg.b2_rule == "half_life_tokens":
    return float(b2) ** (batch_size / b2_batch)
  raise UserError(f"optim.b2_rule must be one of {', '.join(training.B2_RULES)}, not {cfg.b2_rule!r}")


def make(cfg, total_steps: int, lr, clip, weight_decay, *, b2=None) -> optax.GradientTransformation:
  """The chain for one lane: clip by global norm, then the optimizer named by `cfg.name`.

  Weight decay is decoupled for all three (each step shrinks a decayed weight by lr·λ·w), so η/λ means the same
  thing across optimizers.

  Args:
    cfg: the `optim` config section (static settings).
    total_steps: length of training, for the cosine schedule.
    lr, clip, weight_decay: this lane's values (Python floats or traced scalars); clip = NO_CLIP turns clipping off.
    b2: this lane's Adam β2 (adamw, and muon's AdamW part); None or NaN = cfg.b2.
  """
  b2 = cfg.b2 if b2 is None else jnp.where(jnp.isnan(b2), cfg.b2, b2)
  schedule = lr_multiplier(cfg, total_steps)
  lr_fn = lambda count: lr * schedule(count)
  if cfg.name == "adamw":
    opt = optax.adamw(lr_fn, b1=cfg.b1, b2=b2, eps=cfg.eps, weight_decay=weight_decay, mask=decay_mask)
  elif cfg.name == "sgd":  # heavy-ball (or Nesterov) momentum, then decoupled decay, then -lr
    opt = optax.chain(
      optax.trace(decay=cfg.momentum, nesterov=cfg.nesterov),
      optax.add_decayed_weights(weight_decay, decay_mask),
      optax.scale_by_learning_rate(lr_fn),
    )
  elif cfg.name == "muon":
    opt = contrib.muon(
      lr_fn,
      beta=cfg.momentum,
      eps=cfg.eps,
      nesterov=cfg.nesterov,
      weight_decay=weight_decay,
      weight_decay_mask=decay_mask,
      adam_b1=cfg.b1,
      adam_b2=b2,
      adam_weight_decay=weight_decay,
      adam_learning_rate=lambda count: cfg.muon_adam_lr_ratio * lr_fn(count),
      muon_weight_dimension_numbers=muon_dims,
    )
  else:
    raise UserError(f"optim.name must be one of {', '.join(training.OPTIMIZERS)}, not {cfg.name!r}")
  return optax.chain(optax.clip_by_global_norm(clip), opt)


def clip_value(clip) -> float:
  """Config value (None or a positive float) -> the float the chain takes."""
  return NO_CLIP if clip is None else float(clip)


def global_norm(tree) -> jax.Array:
  return optax.tree.norm(tree).astype(jnp.float32)
