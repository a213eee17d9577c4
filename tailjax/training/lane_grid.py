"""A row's lanes: the table of (learning rate, clip, weight decay, β2, seed) as exact Python values, the same as device
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
  b2_R: jax.Array  # Adam's β2 per lane; NaN = the config's optim.b2

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
      b2_R=jnp.asarray([np.nan if lane.get("b2") is None else lane["b2"] for lane in table], jnp.float32),
    )


def lane_table(lrs, clips, weight_decays, seeds, b2s=((None, None),)) -> list[dict]:
  """The lanes of a row, as exact Python values, in the order lr (outer), clip, weight decay, β2, seed (inner).

  `weight_decays` is a sequence, or one number for every lane. `b2s` holds (β2 named by the config, β2 this row
  trains with) pairs (`optim.b2_for_batch`); (None, None) = the config's optim.b2, and no β2 for SGD."""
  wds = (weight_decays,) if isinstance(weight_decays, (int, float)) else weight_decays
  num = lambda x: None if x is None else float(x)
  return [
    {"lr": float(lr), "clip": num(c), "weight_decay": float(wd), "b2_ref": num(ref), "b2": num(b2), "seed": int(s)}
    for lr in lrs
    for c in clips
    for wd in wds
    for ref, b2 in b2s
    for s in seeds
  ]


def lane_devices(n_lanes: int, wanted: int = 0, available: int | None = None) -> int:
  """How many devices a row of `n_lanes` lanes is split over: all `available` (default: the local devices) or
  `wanted`, never more than its lanes."""
  n = len(jax.local_devices()) if available is None else available
  return max(1, min(n if wanted <= 0 else min(n, wanted), n_lanes))


def batch_devices(batch_size: int, wanted: int = 0, available: int | None = None, lane_devices_wanted: int = 0) -> int:
  """How many devices each lane's batch is split over: the largest divisor of `batch_size` that is at most `wanted`
  and the devices `available` (default: the local devices). `wanted` = 0 is auto: on a CPU, the devices left once
  the lanes have theirs (`lane_devices_wanted`, 0 = 1); on an accelerator 1 (its lanes fill the devices)."""
  n = len(jax.local_devices()) if available is None else available
  if wanted <= 0:
    wanted = n // max(lane_devices_wanted, 1) if jax.default_backend() == "cpu" else 1
  return max(d for d in range(1, max(1, min(wanted, n, batch_size)) + 1) if batch_size % d == 0)


def pad_lanes(table: list[dict], devices: int) -> list[dict]:
  """The lane table padded to a multiple of `devices` with copies of its last lane (valid lanes, so the padding
  computes like any other lane; its results are dropped)."""
  return table + [table[-1]] * (-len(table) % devices)
