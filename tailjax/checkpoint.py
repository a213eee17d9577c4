"""Row checkpoints with orbax: the row state plus the host-side metric history, saved as one step.

Orbax writes each step into a temporary folder and renames it when complete, so a run killed mid-save leaves the
previous step as the latest; `restore_latest` therefore always sees a whole checkpoint.
"""

import numpy as np
import orbax.checkpoint as ocp


class RowCheckpoints:
  """Checkpoints of one row in `directory`, keeping the newest `keep`."""

  def __init__(self, directory, keep: int):
    self._mngr = ocp.CheckpointManager(
      directory,
      options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=False),
    )

  def save(self, step: int, state, history: dict) -> None:
    """Saves synchronously: the caller donates `state` to the next chunk right after."""
    hist = {k: np.asarray(v) for k, v in history.items()}
    self._mngr.save(
      step,
      args=ocp.args.Composite(state=ocp.args.StandardSave(state), history=ocp.args.StandardSave(hist)),
    )

  def restore_latest(self, abstract_state):
    """Returns (step, state, history), or None when there is no checkpoint."""
    step = self._mngr.latest_step()
    if step is None:
      return None
    got = self._mngr.restore(
      step,
      args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state), history=ocp.args.StandardRestore()),
    )
    history = {k: np.asarray(v) for k, v in got["history"].items()}
    return step, got["state"], history

  def close(self) -> None:
    self._mngr.close()
