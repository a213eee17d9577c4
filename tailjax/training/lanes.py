"""A row's lanes: the table of (learning rate, clip, weight decay, seed) as exact Python values, the same as device
arrays with a leading lane axis R (`Lanes`), and how the table is laid over devices."""

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from tailjax.training import optim


@flax.struct.dataclass
class Lanes:
  """Per-lane hyper-parameters, each of shape [R]."""

  lr_R: jax.Array
  clip_R: jax.Array
  weight_decay_R: jax.Array
  seed_R: jax.Array

  @property
  def size(self) -> int:
    return self.lr_R.shape[0]

  @classmethod
  def from_table(cls, table: list[dict]) -> "Lanes":
    """Device arrays of a `lane_table`."""
    col = lambda k, dtype: jnp.asarray(np.array([lane[k] for lane in table], np.float64), dtype)
    return cls(
      lr_R=col("lr", jnp.float32),
      clip_R=jnp.asarray([optim.clip_value(lane["clip"]) for lane in table], jnp.float32),
      weight_decay_R=col("weight_decay", jnp.float32),
      seed_R=col("seed", jnp.uint32),
    )


def lane_table(lrs, clips, weight_decays, seeds) -> list[dict]:
  """The lanes of a row, as exact Python values, in the order lr (outer), clip, weight decay, seed (inner).

  `weight_decays` is a sequence, or one number for every lane."""
  wds = (weight_decays,) if isinstance(weight_decays, (int, float)) else weight_decays
  return [
    {"lr": float(lr), "clip": None if c is None else float(c), "weight_decay": float(wd), "seed": int(s)}
    for lr in lrs
    for c in clips
    for wd in wds
    for s in seeds
  ]


def lane_devices(n_lanes: int, wanted: int = 0) -> int:
  """How many local devices a row of `n_lanes` lanes is split over: all (or `wanted`), never more than its lanes."""
  n = len(jax.local_devices())
  return max(1, min(n if wanted <= 0 else min(n, wanted), n_lanes))


def pad_lanes(table: list[dict], devices: int) -> list[dict]:
  """The lane table padded to a multiple of `devices` with copies of its last lane (valid lanes, so the padding
  computes like any other lane; its results are dropped)."""
  return table + [table[-1]] * (-len(table) % devices)
