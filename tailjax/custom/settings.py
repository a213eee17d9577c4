"""The library's configs: `default_config()` is configs/base.py (every field documented there), and
`with_overrides(cfg, {"sweep.learning_rates": (1e-3, 3e-3)})` sets dotted fields, refusing unknown ones as the
command line's --config.FIELD=VALUE does. Jax-free."""

import copy
import difflib
import functools
import importlib.util
import pathlib

import ml_collections

from tailjax import validate
from tailjax.errors import UserError

BASE = pathlib.Path(__file__).resolve().parents[2] / "configs" / "base.py"


@functools.cache
def _base_module():
  spec = importlib.util.spec_from_file_location("tailjax_configs_base", BASE)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def default_config() -> ml_collections.ConfigDict:
  """A fresh copy of configs/base.py's config, locked (a mistyped field is an error, not a new field)."""
  cfg = _base_module().get_config()
  cfg.lock()
  return cfg


def with_overrides(cfg, overrides: dict | None) -> ml_collections.ConfigDict:
  """A copy of `cfg` with each dotted field of `overrides` set; an unknown field is one UserError naming the
  nearest known one. The result is checked (`validate.config`)."""
  out = copy.deepcopy(cfg)
  for dotted, value in (overrides or {}).items():
    *sections, key = str(dotted).split(".")
    node = out
    for part in sections:
      if not isinstance(node, ml_collections.ConfigDict) or part not in node:
        raise UserError(_unknown(dotted, out))
      node = node[part]
    if not isinstance(node, ml_collections.ConfigDict) or key not in node:
      raise UserError(_unknown(dotted, out))
    try:
      with node.unlocked():
        node[key] = value
    except TypeError as e:  # ml_collections keeps each field's type (an int stays an int, a tuple a tuple)
      raise UserError(f"{dotted} = {value!r}: {str(e).splitlines()[0]}; give a value of the field's type "
                      f"(it is {type(node[key]).__name__} in configs/base.py)") from None  # fmt: skip
  validate.config(out)
  return out


def _unknown(dotted: str, cfg) -> str:
  fields = [".".join(k) for k in _paths(cfg)]
  near = difflib.get_close_matches(dotted, fields, n=1)
  hint = f"did you mean {near[0]!r}?" if near else "every field and its meaning is in configs/base.py"
  return f"no config field {dotted!r}; {hint}"


def _paths(cfg, prefix=()):
  for k, v in cfg.items():
    if isinstance(v, ml_collections.ConfigDict):
      yield from _paths(v, (*prefix, k))
    else:
      yield (*prefix, k)
