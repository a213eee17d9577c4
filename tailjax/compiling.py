"""Time spent compiling, for logs that say what a slow first call was made of, and the persistent compilation cache.

`seconds()` is the process's total time in jax's tracing, lowering and XLA compilation so far (from jax.monitoring's
duration events); the difference across a block is what that block spent compiling.
"""

import os
import pathlib

import jax

_EVENTS = (
  "/jax/core/compile/jaxpr_trace_duration",
  "/jax/core/compile/jaxpr_to_mlir_module_duration",
  "/jax/core/compile/backend_compile_duration",
)
_total = [0.0]


def _listen(event: str, duration_secs: float, **kwargs) -> None:
  del kwargs
  if event in _EVENTS:
    _total[0] += duration_secs


jax.monitoring.register_event_duration_secs_listener(_listen)


def seconds() -> float:
  """Seconds this process has spent tracing, lowering and compiling so far."""
  return _total[0]


def default_cache() -> str | None:
  """Turns on jax's persistent compilation cache in ~/.cache/tailjax/xla unless $JAX_COMPILATION_CACHE_DIR says
  otherwise ("" turns it off), keeping every program that took ≥ 0.1 s to compile, so a rerun, a resumed run or the
  next sweep of the same shapes loads its programs instead of compiling them. Returns the folder, or None (off, or
  not writable: then nothing is cached and nothing fails). Call before the first compile."""
  folder = os.environ.get("JAX_COMPILATION_CACHE_DIR")
  if folder is None:
    folder = str(pathlib.Path.home() / ".cache" / "tailjax" / "xla")
  if not folder:
    return None
  try:
    pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
  except OSError:
    return None
  if not os.access(folder, os.W_OK):
    return None
  jax.config.update("jax_compilation_cache_dir", folder)
  if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
  return folder
