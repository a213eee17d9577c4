"""`train_rows(task, workdir, overrides=...)`: your own model and data (`Task`) trained as the sweep trains the
study's models: per batch size one compiled row of learning-rate × seed lanes in `lax.scan` chunks, checkpoints and
resume, automatic grid extension, the gradient-noise measurement, the scaling fit LR_opt ∝ B^β, summary and plots.
"""

import pathlib

import ml_collections
from absl import logging

from tailjax import tasks
from tailjax.custom import settings
from tailjax.errors import UserError
from tailjax.tasks.base import Task


def train_rows(task: Task, workdir: str | pathlib.Path, config=None, overrides: dict | None = None) -> dict:
  """Trains `task` over the config's grid (sweep.learning_rates × sweep.batch_sizes × sweep.seeds) in `workdir`.

  Args:
    task: your model and data (`tailjax.Task`).
    workdir: where everything is written (results.csv, scaling_fit.json, summary.txt, plots, checkpoints); a
      rerun on the same folder resumes. One folder holds one task: a changed model needs a new folder (a changed
      config or training data is refused).
    config: a full config (default: `default_config()`, configs/base.py); its model and data sections are not read
      (model.name = data.name = "task" are set).
    overrides: dotted config fields, e.g. {"sweep.learning_rates": (1e-3, 3e-3, 1e-2), "sweep.batch_sizes":
      (16, 32, 64), "train.steps": 300, "measure.steps": (300,)}.

  Returns:
    The scaling fit (what scaling_fit.json holds: β with its interval where at least three batch sizes are
    bracketed, and why not where they are not).

  Raises:
    ValueError: an unknown config field or bad value, a task whose functions or data do not fit together, a batch
      larger than the training data, an unwritable workdir.
  """
  from tailjax import experiment  # the training stack: loaded when a row is trained, not when tailjax is
  from tailjax.tasks import user

  base = settings.default_config() if config is None else config
  if not isinstance(base, ml_collections.ConfigDict):
    raise UserError(f"config must be a full config (tailjax.default_config(), then changed), not {type(base).__name__}")
  cfg = settings.with_overrides(base, {"model.name": tasks.USER, "data.name": tasks.USER, **(overrides or {})})
  before = logging.get_verbosity()
  logging.set_verbosity(max(before, logging.INFO))  # the progress, each row's losses and throughput, as the CLI shows
  try:
    return experiment.run(cfg, workdir, task=user.prepare(task, seed=cfg.sweep.seeds[0]))
  finally:
    logging.set_verbosity(before)
