"""Your own model: the gradient-noise report in one call or as a training-loop callback (`report`), and a row of
learning rates over batch sizes for a model and data of yours (`task`, `rows`), through the same engine, estimators,
files and plots as the study's models. `settings` gives configs/base.py to library callers.

The public names are re-exported by `tailjax` itself (tailjax/__init__.py). Loading this package turns on jax's
persistent compilation cache as the command line does (`compiling.default_cache`: ~/.cache/tailjax/xla, or
$JAX_COMPILATION_CACHE_DIR), so that a rerun loads the verdicts' programs instead of compiling them; jax fixes its
cache at its first compile, so this takes effect when tailjax's API is touched before anything else compiles.
"""

from tailjax import compiling

compiling.default_cache()
