"""tailjax: gradient-noise tails and learning-rate/batch-size scaling, one compiled program per row.

The library API (README, "Your own model"), loaded on first use so that `import tailjax` stays light:
  noise_report(loss_fn, params, examples, ...)  the gradient-noise report of one set of parameters
  NoiseCallback(loss_fn, examples, workdir, every=N)  the same, called by your own training loop
  NoiseReport                                   what both return
  Task(name, init, loss, train_data, val_data, ...)  your model and data
  train_rows(task, workdir, config=None, overrides=None)  rows of learning rates over batch sizes, and β
  default_config()                              configs/base.py, to start a config from
"""

import importlib

PUBLIC = {
  "noise_report": "tailjax.custom.noise_report",
  "NoiseCallback": "tailjax.custom.noise_report",
  "NoiseReport": "tailjax.custom.noise_report",
  "Task": "tailjax.tasks.base",
  "train_rows": "tailjax.custom.rows",
  "default_config": "tailjax.custom.settings",
}
__all__ = sorted(PUBLIC)


def __getattr__(name: str):
  if name in PUBLIC:
    return getattr(importlib.import_module(PUBLIC[name]), name)
  raise AttributeError(f"module 'tailjax' has no attribute {name!r}")
