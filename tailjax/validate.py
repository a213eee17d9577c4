"""Checks a resolved config before anything is written; each problem is one UserError naming the fix.

Pure Python and jax-free (bad input answers before the libraries load). One small function per kind of check; the
choice lists come from the packages that own them (their jax-free __init__ files).
"""

import math

from tailjax import data, noise, schedule, tasks, training
from tailjax.errors import UserError
from tailjax.value_checks import choice as _choice
from tailjax.value_checks import integer as _integer
from tailjax.value_checks import is_int as _is_int
from tailjax.value_checks import is_number as _is_number
from tailjax.value_checks import positive as _positive


def _in_range(name: str, v, low: float, high: float, *, closed_low: bool = True) -> None:
  """A finite number in [low, high) (or (low, high) when not closed_low)."""
  ok = _is_number(v) and (low <= v if closed_low else low < v) and v < high
  if not ok:
    raise UserError(f"{name} must lie in {'[' if closed_low else '('}{low:g}, {high:g}), got {v!r}; pass a value "
                    f"in that range with --config.{name}=...")  # fmt: skip


def _flag(name: str, v) -> None:
  if not isinstance(v, bool):
    raise UserError(f"{name} must be True or False, got {v!r}")


def _values(name: str, v, example: str) -> None:
  """A non-empty tuple of distinct values."""
  if not isinstance(v, (tuple, list)) or len(v) == 0:
    raise UserError(f"{name} is empty; give at least one value, e.g. --config.{name}='{example}'")
  if len(set(v)) != len(v):
    raise UserError(f"{name} repeats a value: {tuple(v)}; list each value once")


def config(c) -> None:
  """Raises UserError for the first problem found in config `c`."""
  _sweep(c.sweep)
  _extension(c.sweep)
  _optim(c.optim)
  _budget(c)
  _b2(c)
  for name in ("train.steps", "train.log_every", "train.stats_window", "eval.every", "eval.batch_size",
               "eval.batches", "data.seq_len", "model.attention_block", "checkpoint.keep"):  # fmt: skip
    section, key = name.split(".")
    _integer(name, c[section][key])
  _integer("checkpoint.every", c.checkpoint.every, at_least=0, meaning="0 = never")
  _measure(c.measure)
  _analysis(c.analysis)
  if c.measure.seeds and not set(c.measure.seeds) <= set(c.sweep.seeds):
    raise UserError(
      f"measure.seeds = {tuple(c.measure.seeds)!r} names seeds that are no lanes (sweep.seeds = "
      f"{tuple(c.sweep.seeds)!r}); pick from sweep.seeds, or () to measure every lane"
    )
  _data(c.data)
  tasks.check(c)  # the model trains on its own data, and its own fields are valid
  model(c.model)
  _transfer(c)
  for name in ("output.plots", "output.tensorboard"):
    section, key = name.split(".")
    _flag(name, c[section][key])
  _choice("output.tensorboard_writer", c.output.tensorboard_writer, training.TENSORBOARD_WRITERS)
  _distributed(c)


def _sweep(s) -> None:
  _values("sweep.batch_sizes", s.batch_sizes, "(32,64)")
  for b in s.batch_sizes:
    _integer("sweep.batch_sizes", b)
  _values("sweep.learning_rates", s.learning_rates, "(1e-3,3e-3)")
  for lr in s.learning_rates:
    _positive("sweep.learning_rates", lr, "learning rate")
  _values("sweep.seeds", s.seeds, "(0,1)")
  for seed in s.seeds:
    _integer("sweep.seeds", seed, at_least=0)
  if s.clips:
    _values("sweep.clips", s.clips, "(None,1.0)")
    for clip in s.clips:
      if clip is not None:
        _positive("sweep.clips", clip, "clip threshold (or None)")
  if s.weight_decays:
    _values("sweep.weight_decays", s.weight_decays, "(0.0,0.1)")
    for wd in s.weight_decays:
      _in_range("sweep.weight_decays", wd, 0, math.inf)
  _choice("sweep.lane_strategy", s.lane_strategy, training.LANE_STRATEGIES)


def _extension(s) -> None:
  _flag("sweep.auto_extend", s.auto_extend)
  _integer("sweep.max_extensions", s.max_extensions, at_least=0)
  _integer("sweep.extend_points", s.extend_points)
  r = s.extend_ratio
  if not _is_number(r) or not (r == 0 or r > 1):
    raise UserError(f"sweep.extend_ratio must be 0 (the grid's own) or a number > 1, got {r!r}")
  if s.auto_extend and r == 0 and len(set(s.learning_rates)) < 2:
    raise UserError(
      "sweep.auto_extend with one learning rate has no grid ratio to extend by; "
      "set --config.sweep.extend_ratio=3 (say) or give two or more learning rates"
    )


def _optim(o) -> None:
  _choice("optim.name", o.name, training.OPTIMIZERS)
  if o.clip is not None:
    _positive("optim.clip", o.clip, "clip threshold (or None)")
  _in_range("optim.momentum", o.momentum, 0, 1)
  _positive("optim.muon_adam_lr_ratio", o.muon_adam_lr_ratio, "ratio")
  _in_range("optim.weight_decay", o.weight_decay, 0, math.inf)
  _integer("optim.warmup_steps", o.warmup_steps, at_least=0)


def _budget(c) -> None:
  """train.budget and the fields it reads: a tokens budget gives every row at least one step, its warmup in tokens."""
  _choice("train.budget", c.train.budget, tuple(schedule.KINDS))
  _integer("eval.every_tokens", c.eval.every_tokens, at_least=0, meaning="0 = ten evaluations over train.tokens")
  w = c.optim.warmup_tokens
  if w is not None:
    _integer("optim.warmup_tokens", w, at_least=0)
    if c.optim.warmup_steps:
      raise UserError(f"optim.warmup_steps = {c.optim.warmup_steps} and optim.warmup_tokens = {w} both set a warmup; "
                      "give one: --config.optim.warmup_steps=0 to warm up over tokens")  # fmt: skip
  if c.train.budget == "steps":
    return
  unit = tasks.unit(c)
  if not _is_int(c.train.tokens) or c.train.tokens <= 0:
    raise UserError(f"train.budget={c.train.budget!r} needs train.tokens, the {unit} every row sees, got "
                    f"{c.train.tokens!r}; pass e.g. --config.train.tokens=10_000_000")  # fmt: skip
  per_step = max(c.sweep.batch_sizes) * (c.data.seq_len if unit == "tokens" else 1)
  if c.train.tokens < per_step:
    raise UserError(f"train.tokens = {c.train.tokens:,} is less than one step of the largest batch ({per_step:,} "
                    f"{unit}: B = {max(c.sweep.batch_sizes)}{f' × T = {c.data.seq_len}' if unit == 'tokens' else ''}); "
                    "raise train.tokens or drop the largest batch sizes")  # fmt: skip
  if c.train.budget == "tokens" and c.optim.warmup_steps and w is None:
    raise UserError(f"train.budget='tokens' takes its warmup in {unit}: optim.warmup_steps = {c.optim.warmup_steps} "
                    "would warm small batches up on less data than large ones; pass --config.optim.warmup_steps=0 "
                    "--config.optim.warmup_tokens=N (or 0 for none)")  # fmt: skip
  if c.train.budget == "both" and c.optim.schedule != "constant":
    raise UserError("train.budget='both' reads each row at two lengths, which is one run only under a constant "
                    f"schedule (a {c.optim.schedule} schedule's shape depends on the length); run the two budgets "
                    "as two sweeps, or use --config.optim.schedule=constant")  # fmt: skip
  if c.transfer.fit and c.train.budget == "both":
    raise UserError("the transfer test (transfer.fit) runs at one budget; pass --config.train.budget=steps or tokens")


def _b2(c) -> None:
  """Adam's β2: its rule over batch sizes and its optional lane axis."""
  _in_range("optim.b2", c.optim.b2, 0, 1)
  _choice("optim.b2_rule", c.optim.b2_rule, training.B2_RULES)
  _integer("optim.b2_batch", c.optim.b2_batch, at_least=0, meaning="0 = the smallest batch size")
  if c.sweep.b2s:
    _values("sweep.b2s", c.sweep.b2s, "(0.95,0.999)")
    for b2 in c.sweep.b2s:
      _in_range("sweep.b2s", b2, 0, 1)
    if c.optim.name == "sgd":
      raise UserError("sweep.b2s gives lanes over Adam's β2, which optim.name='sgd' does not have; drop sweep.b2s "
                      "or use optim.name=adamw")  # fmt: skip
  if c.optim.b2_rule != "fixed" and c.optim.name == "sgd":
    raise UserError(f"optim.b2_rule={c.optim.b2_rule!r} sets Adam's β2, which optim.name='sgd' does not have; "
                    "drop it or use optim.name=adamw")  # fmt: skip


def _analysis(a) -> None:
  if not isinstance(a.target_losses, (tuple, list)) or not all(_is_number(t) and t > 0 for t in a.target_losses):
    raise UserError(f"analysis.target_losses must be losses > 0, e.g. '(2.0,1.8)', or () to pick them, got "
                    f"{a.target_losses!r}")  # fmt: skip


def _measure(m) -> None:
  for step in m.steps:
    if not _is_int(step) or step < 0:
      raise UserError(f"measure.steps: {step!r} is not a step; list integers >= 0, e.g. '(0,100,1000)'")
  _integer("measure.every", m.every, at_least=0, meaning="0 = off")
  _integer("measure.examples", m.examples, at_least=2, meaning="the noise needs a mean")
  _positive("measure.budget_mb", m.budget_mb, "memory budget in MB")
  _integer("measure.coords_per_group", m.coords_per_group)
  _integer("measure.n_boot", m.n_boot, at_least=0, meaning="0 = Hill's asymptotic interval")
  if not m.estimators or any(e not in noise.ESTIMATORS for e in m.estimators):
    raise UserError(f"measure.estimators must be a non-empty subset of {noise.ESTIMATORS}, got {tuple(m.estimators)!r}")
  if not m.k_ratios or not all(_is_number(r) and 0 < r <= 0.5 for r in m.k_ratios):
    raise UserError(f"measure.k_ratios must be fractions in (0, 0.5], got {tuple(m.k_ratios)!r}")


def _data(d) -> None:
  _choice("data.name", d.name, (*data.TEXT, *data.IMAGES, *data.DRAWN, data.TASK, *tasks.data_names()))
  if d.path and d.name not in data.READS_PATH:
    raise UserError(
      f"data.path={d.path!r} is not read for data.name={d.name!r} (only {', '.join(data.READS_PATH)} read files); "
      "drop --config.data.path, or pick a corpus that reads it"
    )
  _choice("data.upstream", d.upstream, data.UPSTREAM_LAWS)
  _choice("data.noise", d.noise, data.NOISE_LAWS)
  _in_range("data.spectrum_power", d.spectrum_power, 0, 10)
  _choice("data.source", d.source, data.SOURCES)
  _in_range("data.val_fraction", d.val_fraction, 0, 1, closed_low=False)


def model(m) -> None:
  """The model section."""
  _choice("model.name", m.name, tasks.model_names())
  if not (_is_int(m.d_model) and m.d_model > 0 and _is_int(m.n_layers) and m.n_layers > 0):
    raise UserError(f"model.d_model={m.d_model} and model.n_layers={m.n_layers} must be positive integers")
  if m.name != tasks.USER:
    tasks.module(m.name).check_model(m)  # the fields only this model reads


def _transfer(c) -> None:
  if c.transfer.fit and c.sweep.auto_extend:
    raise UserError("transfer.fit and sweep.auto_extend together: the transfer test trains predicted LRs only; "
                    "set --config.sweep.auto_extend=False")  # fmt: skip
  _integer("transfer.b_ref", c.transfer.b_ref, at_least=0, meaning="0 = the smallest bracketed batch size")


def _distributed(c) -> None:
  _integer("sweep.devices", c.sweep.devices, at_least=0, meaning="0 = every local device")
  _integer("sweep.batch_devices", c.sweep.batch_devices, at_least=0, meaning="0 = auto")
  d = c.distributed
  if d.coordinator and (d.num_processes < 1 or not 0 <= d.process_id < d.num_processes):
    raise UserError(
      f"distributed.coordinator={d.coordinator!r} needs distributed.num_processes >= 1 and distributed.process_id "
      f"in [0, num_processes), got {d.num_processes} and {d.process_id}"
    )
  if not d.coordinator and (d.num_processes or d.process_id != -1):
    raise UserError("distributed.num_processes / process_id are set but distributed.coordinator is not; "
                    "pass --config.distributed.coordinator=HOST:PORT too (process 0's address)")  # fmt: skip


def against_data(c, task) -> None:
  """Checks that need the task's data: every batch must fit in its distinct training examples."""
  biggest = max(c.sweep.batch_sizes)
  if task.n_train is not None and biggest > task.n_train:
    raise UserError(f"batch size {biggest} is larger than the {task.n_train} {task.examples_name}; use smaller "
                    f"sweep.batch_sizes or {task.more_data}")  # fmt: skip
