"""The small value checks every config check uses: each problem is one UserError naming the field and the fix.
Jax-free (they run before the libraries load)."""

import difflib
import math
import numbers

from tailjax.errors import UserError


def is_int(v) -> bool:
  return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_number(v) -> bool:
  return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def integer(name: str, v, *, at_least: int = 1, meaning: str = "") -> None:
  """An integer ≥ at_least (`meaning` says what the smallest value does, e.g. "0 = never")."""
  if not is_int(v) or v < at_least:
    what = "a positive integer" if at_least == 1 else f"an integer >= {at_least}"
    raise UserError(f"{name} must be {what}{f' ({meaning})' if meaning else ''}, got {v!r}; pass --config.{name}=N")


def positive(name: str, v, what: str = "value") -> None:
  """A finite number > 0."""
  if not is_number(v) or v <= 0:
    raise UserError(f"{name}: every {what} must be a finite number > 0, got {v!r}; pass positive values, e.g. "
                    f"--config.{name}={'(1e-3,3e-3)' if name.startswith('sweep.') else '1.0'}")  # fmt: skip


def choice(name: str, v, choices) -> None:
  if v not in choices:
    near = difflib.get_close_matches(str(v), list(choices), n=1)
    hint = f"did you mean --config.{name}={near[0]}?" if near else f"pass e.g. --config.{name}={next(iter(choices))}"
    raise UserError(f"{name} must be one of {', '.join(choices)}, not {v!r}; {hint}")
