"""The optax chain each lane trains with: clip_by_global_norm -> AdamW, warmup then constant or cosine.

The per-lane hyper-parameters (learning rate, clip threshold, weight decay) enter as traced scalars, so one compiled
program serves every lane and the step stays a pure function: nothing is written into the optimizer state (unlike
`optax.inject_hyperparams`, whose state would carry them). The state's structure does not depend on their values, so
`make(...).init` gives the same pytree for every lane.
"""

import jax
import jax.numpy as jnp
import optax

from tailjax.errors import UserError

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


def make(cfg, total_steps: int, lr, clip, weight_decay) -> optax.GradientTransformation:
  """The chain for one lane.

  Args:
    cfg: the `optim` config section (static settings).
    total_steps: length of training, for the cosine schedule.
    lr, clip, weight_decay: this lane's values (Python floats or traced scalars); clip = NO_CLIP turns clipping off.
  """
  if cfg.name != "adamw":
    raise UserError(f"optim.name must be 'adamw' (more optimizers come with Phase 4), not {cfg.name!r}")
  schedule = lr_multiplier(cfg, total_steps)
  return optax.chain(
    optax.clip_by_global_norm(clip),
    optax.adamw(
      learning_rate=lambda count: lr * schedule(count),
      b1=cfg.b1,
      b2=cfg.b2,
      eps=cfg.eps,
      weight_decay=weight_decay,
      mask=decay_mask,
    ),
  )


def clip_value(clip) -> float:
  """Config value (None or a positive float) -> the float the chain takes."""
  return NO_CLIP if clip is None else float(clip)


def global_norm(tree) -> jax.Array:
  return optax.tree.norm(tree).astype(jnp.float32)
