"""One experiment from a config, what `python -m tailjax.main` and `tailjax.train_rows` run: the checks, the rows
trained (`training.sweep`), the analysis of the finished rows (`analysis.summary`).

The layers meet only here: the checks come first (a refused run writes nothing), the training stack knows no
analysis (the extension policy and the transfer test's learning rates are handed to it), and the analysis reads the
finished rows the sweep returns.
"""

from absl import logging

from tailjax import errors, tasks, validate
from tailjax.analysis import extend, summary, transfer
from tailjax.errors import UserError
from tailjax.training import distributed, sweep


def run(cfg, workdir_path, *, task=None, position: errors.Position | None = None) -> dict:
  """Runs (or resumes) the sweep `cfg` describes in `workdir_path` and analyses it; returns the scaling fit (or the
  transfer report; {} on a process that does not write the results).

  Args:
    task: None for the task the config names (`tasks.build`); a user's (`tasks.user.prepare`d, with model.name =
      data.name = "task": `tailjax.train_rows`).
    position: kept up to date with where the run is, for a command line's interrupt message.
  """
  validate.config(cfg)
  if (cfg.model.name == tasks.USER) != (task is not None):
    raise UserError(
      "model.name = data.name = 'task' means your own model and data, which only tailjax.train_rows(task, ...) can "
      "give (from Python); on the command line pick a model from configs/, e.g. --config=configs/quickstart.py"
    )
  distributed.initialize(cfg)
  task = task or tasks.build(cfg)
  validate.against_data(cfg, task)
  if cfg.transfer.fit:  # the transfer test: each row's lanes are the rules' predicted learning rates
    ref_fit = transfer.load_reference(cfg)
    the_plan = transfer.plan(cfg, ref_fit)
    row_lrs = {b: sorted(set(by_rule.values())) for b, by_rule in the_plan["lrs"].items()}
  else:
    row_lrs = {b: list(cfg.sweep.learning_rates) for b in cfg.sweep.batch_sizes}
  prepared = sweep.prepare(cfg, workdir_path, task)  # after every check
  for note in summary.caveats(cfg, prepared.fingerprint):  # also at the top of summary.txt
    logging.warning("!!! %s !!!", note)
  extending = cfg.sweep.auto_extend and task.validates  # no validation loss: no optimum to bracket
  next_lrs = extend.planner(cfg, prepared.fingerprint) if extending else None
  done = sweep.train(prepared, row_lrs, next_lrs=next_lrs, position=position)
  if done is None:
    return {}
  if cfg.transfer.fit:
    return summary.transfer_test(cfg, prepared.workdir, done, prepared.fingerprint, the_plan=the_plan, ref_fit=ref_fit)
  return summary.sweep(cfg, prepared.workdir, done, prepared.fingerprint)
