"""The run folder: created and probed, its config pinned, and the one list of config fields a rerun may change.

Jax-free (loaded before the libraries): a refused workdir answers at once. The config diff lives here because three
callers need it — a rerun in the same workdir, the transfer test against its reference run, and `compare_runs`
naming runs by how they differ — and none of them should load the training stack for a dict comparison.
"""

import json
import pathlib
import tempfile

from tailjax import files
from tailjax.errors import UserError

# How a sweep runs, not what it computes: a rerun may change these (where output goes, how many processes and devices
# share the rows; results do not depend on them beyond float rounding across device counts, docs/science.md §6).
RERUN_MAY_CHANGE = ("output", "distributed", "sweep.devices", "sweep.batch_devices")

# What a transfer test may differ in from its reference grid: besides the above, what is swept, measured, saved or
# analysed. The rest (model, data, optimizer, training length) decides the optimum being transferred.
TRANSFER_MAY_CHANGE = RERUN_MAY_CHANGE + ("sweep", "transfer", "analysis", "measure", "checkpoint")

# The folders a run makes in its workdir (README's outputs table): a file in their place is refused before anything
# is written, not met as an OSError halfway through the first row.
RUN_FOLDERS = ("tb", "rows", "checkpoints", "measure")


def config_dict(cfg) -> dict:
  """A config as plain JSON-able data (what config.json holds)."""
  return json.loads(cfg.to_json_best_effort())


def differing(old: dict, new: dict, may_change: tuple[str, ...] = ()) -> list[str]:
  """Sorted dotted names of the fields where two config dicts differ, leaving out those under `may_change`."""
  allowed = lambda name: any(name == p or name.startswith(p + ".") for p in may_change)
  return sorted(name for name in _diff(old, new) if not allowed(name))


def _diff(a, b, prefix="") -> set:
  if isinstance(a, dict) and isinstance(b, dict):
    out = set()
    for k in set(a) | set(b):
      out |= _diff(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else k)
    return out
  return set() if a == b else {prefix}


def make(path) -> pathlib.Path:
  """Creates `path` (and its parents) and checks a file can be written there."""
  path = pathlib.Path(path)
  if path.exists() and not path.is_dir():
    raise UserError(f"workdir {path} is a file, not a folder; pass --workdir=DIR with a folder (new or existing)")
  try:
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path, prefix=".write_probe."):  # unique: processes may share the workdir
      pass
  except OSError as e:
    raise UserError(
      f"workdir {path} is not writable ({e.strerror}); pass --workdir=DIR with a folder you can write"
    ) from None
  return path


def prepare(path, cfg) -> pathlib.Path:
  """Creates the workdir, checks it is writable, and pins the config it holds: a rerun with a config that differs
  beyond RERUN_MAY_CHANGE is refused, and a folder holding results without a config.json is not touched."""
  path = make(path)
  for name in RUN_FOLDERS:
    if (path / name).exists() and not (path / name).is_dir():
      raise UserError(
        f"{path / name} is a file, but a run keeps its {name}/ folder there; move or delete that file, or use a new "
        "--workdir"
      )
  new, saved = config_dict(cfg), path / "config.json"
  if not saved.exists() and ((path / "results.csv").exists() or (path / "rows").exists()):
    raise UserError(
      f"workdir {path} holds results but no config.json, so not a run of this config; use a new --workdir"
    )
  if saved.exists():
    try:
      old = json.loads(saved.read_text())
    except ValueError:
      raise UserError(f"{saved} is not readable JSON; use a new --workdir, or delete that one to start over") from None
    diff = differing(old, new, RERUN_MAY_CHANGE)
    if diff:
      raise UserError(
        f"workdir {path} holds a run of a different config (differs in {', '.join(diff)}); "
        "use a new --workdir, or delete that one to start over"
      )
  files.write_json(saved, new)
  return path
