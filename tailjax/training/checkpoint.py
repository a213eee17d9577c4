"""Row checkpoints with orbax: the row state, the host-side metric history and their checksums, saved as one step.

Orbax writes each step into a temporary folder and renames it when complete, so a run killed mid-save leaves the
previous step as the latest. A step that is whole but damaged (a truncated or overwritten file, a bit flipped on disk)
is caught by the checksums saved with it: `restore_latest` deletes it and falls back to the step before.
"""

import hashlib
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from absl import logging


@jax.jit
def state_checksum(tree) -> jax.Array:
  """One uint32 per leaf: a position-weighted sum of the leaf's bits, modulo 2**32. Integer sums do not depend on
  reduction order, so the same values give the same checksum on any device layout; any one changed bit changes it."""

  def one(x):
    x = x if x.dtype.itemsize == 4 else x.astype(jnp.float32)
    bits = jax.lax.bitcast_convert_type(x, jnp.uint32).ravel()
    weights = jnp.arange(1, bits.size + 1, dtype=jnp.uint32) * jnp.uint32(2654435761)  # Knuth's multiplicative hash
    return jnp.sum(bits * weights, dtype=jnp.uint32)

  return jnp.stack([one(x) for x in jax.tree.leaves(tree)])


def _history_sha256(history: dict) -> str:
  h = hashlib.sha256()
  for k in sorted(history):
    h.update(k.encode())
    h.update(np.ascontiguousarray(history[k]).tobytes())
  return h.hexdigest()


class CorruptCheckpoint(Exception):
  pass


class RowCheckpoints:
  """Checkpoints of one row in `directory`, keeping the newest `keep`.

  In a multi-process run every process checkpoints its own rows alone (orbax would otherwise synchronise all
  processes at every save)."""

  def __init__(self, directory, keep: int):
    self.directory = pathlib.Path(directory)
    self.directory.mkdir(parents=True, exist_ok=True)
    me = jax.process_index()
    self._mngr = ocp.CheckpointManager(
      self.directory,
      options=ocp.CheckpointManagerOptions(
        max_to_keep=keep,
        create=False,
        enable_async_checkpointing=False,
        cleanup_tmp_directories=True,  # what a killed save left behind
        multiprocessing_options=ocp.options.MultiprocessingOptions(primary_host=me, active_processes={me})
        if jax.process_count() > 1
        else ocp.options.MultiprocessingOptions(),
      ),
    )

  def save(self, step: int, state, history: dict) -> None:
    """Saves synchronously: the caller donates `state` to the next chunk right after."""
    hist = {k: np.asarray(v) for k, v in history.items()}
    if jax.process_count() > 1:  # orbax takes process-local device arrays for pmap shards; save host copies
      state = jax.device_get(state)
    sums = {"state": np.asarray(state_checksum(state)).tolist(), "history_sha256": _history_sha256(hist)}
    self._mngr.save(
      step,
      args=ocp.args.Composite(
        state=ocp.args.StandardSave(state),
        history=ocp.args.StandardSave(hist),
        checksums=ocp.args.JsonSave(sums),
      ),
    )

  def latest_step(self) -> int:
    """The newest saved step (0 when there is none), read from the folder names: no state is read."""
    return max(self._mngr.all_steps(), default=0)

  def restore_latest(self, abstract_state):
    """Returns (step, state, history) of the newest checkpoint that reads back whole, or None when there is none.
    Damaged steps are deleted, each with a warning."""
    for step in sorted(self._mngr.all_steps(), reverse=True):
      try:
        return step, *self._restore(step, abstract_state)
      except Exception as e:  # orbax and tensorstore raise many kinds for a damaged step; all mean "unusable"
        why = " ".join(str(e).split())[:200]
        logging.warning("checkpoint %s step %d is damaged (%s: %s); deleted, using the one before", self.directory,
                        step, type(e).__name__, why)  # fmt: skip
        self._mngr.delete(step)
    return None

  def _restore(self, step, abstract_state):
    if jax.process_count() > 1:  # saved as host arrays (see save); the caller places them
      abstract_state = jax.tree.map(lambda s: np.empty(s.shape, s.dtype), abstract_state)
    got = self._mngr.restore(
      step,
      args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state),
        history=ocp.args.StandardRestore(),
        checksums=ocp.args.JsonRestore(),
      ),
    )
    history = {k: np.asarray(v) for k, v in got["history"].items()}
    sums = got["checksums"]
    if np.asarray(state_checksum(got["state"])).tolist() != sums["state"]:
      raise CorruptCheckpoint("the state does not match its checksum")
    if _history_sha256(history) != sums["history_sha256"]:
      raise CorruptCheckpoint("the metric history does not match its checksum")
    return got["state"], history

  def close(self) -> None:
    self._mngr.close()
