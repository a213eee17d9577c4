"""Checks a resolved config before anything is written; each problem is one UserError naming the fix."""

import math
import numbers

from tailjax import models
from tailjax.errors import UserError

LANE_STRATEGIES = ("auto", "vmap", "map")


def _positive_int(name, v):
  if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
    raise UserError(f"{name} must be a positive integer, got {v!r}; pass --config.{name}=N with N > 0")


def _positive_float(name, v, what="value"):
  if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
    raise UserError(f"{name}: every {what} must be a finite number > 0, got {v!r}")


def _nonempty_tuple(name, v, example):
  if not isinstance(v, (tuple, list)) or len(v) == 0:
    raise UserError(f"{name} is empty; give at least one value, e.g. --config.{name}='{example}'")
  if len(set(v)) != len(v):
    raise UserError(f"{name} repeats a value: {tuple(v)}; list each value once")


def config(c) -> None:
  """Raises UserError for the first problem found in config `c`."""
  s = c.sweep
  _nonempty_tuple("sweep.batch_sizes", s.batch_sizes, "(32,64)")
  for b in s.batch_sizes:
    _positive_int("sweep.batch_sizes", b)
  _nonempty_tuple("sweep.learning_rates", s.learning_rates, "(1e-3,3e-3)")
  for lr in s.learning_rates:
    _positive_float("sweep.learning_rates", lr, "learning rate")
  _nonempty_tuple("sweep.seeds", s.seeds, "(0,1)")
  for seed in s.seeds:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
      raise UserError(f"sweep.seeds must be integers >= 0, got {seed!r}")
  if s.clips:
    _nonempty_tuple("sweep.clips", s.clips, "(None,1.0)")
    for clip in s.clips:
      if clip is not None:
        _positive_float("sweep.clips", clip, "clip threshold (or None)")
  if s.weight_decays:
    _nonempty_tuple("sweep.weight_decays", s.weight_decays, "(0.0,0.1)")
    for wd in s.weight_decays:
      if isinstance(wd, bool) or not isinstance(wd, numbers.Real) or not 0 <= wd < math.inf:
        raise UserError(f"sweep.weight_decays must be numbers >= 0, got {wd!r}")
  _extension(c)
  if c.transfer.fit and s.auto_extend:
    raise UserError("transfer.fit and sweep.auto_extend together: the transfer test trains predicted LRs only; "
                    "set --config.sweep.auto_extend=False")  # fmt: skip
  if isinstance(c.transfer.b_ref, bool) or not isinstance(c.transfer.b_ref, numbers.Integral) or c.transfer.b_ref < 0:
    raise UserError(f"transfer.b_ref must be a batch size (or 0 for the smallest bracketed), got {c.transfer.b_ref!r}")
  if c.optim.clip is not None:
    _positive_float("optim.clip", c.optim.clip, "clip threshold (or None)")
  if s.lane_strategy not in LANE_STRATEGIES:
    raise UserError(f"sweep.lane_strategy must be one of {', '.join(LANE_STRATEGIES)}, not {s.lane_strategy!r}")
  if c.optim.name not in ("adamw", "sgd", "muon"):
    raise UserError(f"optim.name must be adamw, sgd or muon, not {c.optim.name!r}")
  if not (isinstance(c.optim.momentum, numbers.Real) and 0 <= c.optim.momentum < 1):
    raise UserError(f"optim.momentum must lie in [0, 1), got {c.optim.momentum!r}")
  _positive_float("optim.muon_adam_lr_ratio", c.optim.muon_adam_lr_ratio, "ratio")
  if not (0 <= c.optim.weight_decay < math.inf):
    raise UserError(f"optim.weight_decay must be >= 0, got {c.optim.weight_decay!r}")
  if c.optim.warmup_steps < 0:
    raise UserError(f"optim.warmup_steps must be >= 0, got {c.optim.warmup_steps!r}")
  for name in ("train.steps", "train.log_every", "train.stats_window", "eval.every"):
    section, key = name.split(".")
    _positive_int(name, c[section][key])
  for name in ("eval.batch_size", "eval.batches", "data.seq_len", "model.attention_block"):
    section, key = name.split(".")
    _positive_int(name, c[section][key])
  _measure(c)
  image_model, image_data = c.model.name in ("mlp", "cnn", "vit"), c.data.name in ("digits", "mnist", "cifar10")
  if image_model != image_data:
    raise UserError(
      f"model.name={c.model.name!r} with data.name={c.data.name!r}: the image models (mlp, cnn, vit) train on image "
      "data (digits, mnist, cifar10) and the transformer on text; set both, as configs/phase3c.py does"
    )
  if (c.model.name == "ffn") != (c.data.name == "injected"):
    raise UserError(
      f"model.name={c.model.name!r} with data.name={c.data.name!r}: the FFN of experiment 1.1 trains on injected "
      "gradients only; set both --config.model.name=ffn and --config.data.name=injected (or neither)"
    )
  if c.data.upstream not in ("normal", "cauchy", "laplace", "uniform"):
    raise UserError(f"data.upstream must be normal, cauchy, laplace or uniform, not {c.data.upstream!r}")
  if c.checkpoint.every < 0:
    raise UserError(f"checkpoint.every must be >= 0 (0 = never), got {c.checkpoint.every!r}")
  _positive_int("checkpoint.keep", c.checkpoint.keep)
  if c.data.source not in ("auto", "file", "tfds"):
    raise UserError(f"data.source must be auto, file or tfds, not {c.data.source!r}")
  if not 0 < c.data.val_fraction < 1:
    raise UserError(f"data.val_fraction must lie in (0, 1), got {c.data.val_fraction!r}")
  model(c.model)
  for name in ("output.plots", "output.tensorboard"):
    section, key = name.split(".")
    if not isinstance(c[section][key], bool):
      raise UserError(f"{name} must be True or False, got {c[section][key]!r}")
  _distributed(c)


def model(m) -> None:
  """The model section (also checked by `models.build`). Pure Python: bad input is reported before jax loads."""
  if m.name not in ("transformer", "ffn", "mlp", "cnn", "vit"):
    raise UserError(f"unknown model.name {m.name!r}; choose transformer, ffn, mlp, cnn or vit")
  if m.d_model <= 0 or m.n_layers <= 0:
    raise UserError(f"model.d_model={m.d_model} and model.n_layers={m.n_layers} must be positive")
  if m.name == "cnn" and m.conv not in ("auto", "xla", "im2col"):
    raise UserError(f"model.conv must be auto, xla or im2col, not {m.conv!r}")
  if m.name == "vit" and (m.n_heads <= 0 or m.d_model % m.n_heads or m.patch_size <= 0):
    raise UserError(f"vit: model.d_model={m.d_model} must be a multiple of model.n_heads={m.n_heads}, "
                    f"and model.patch_size={m.patch_size} positive")  # fmt: skip
  if m.name == "ffn" and m.mlp_ratio <= 0:
    raise UserError(f"model.d_model={m.d_model} and model.mlp_ratio={m.mlp_ratio} must be positive")
  if m.name != "transformer":
    return
  if m.dtype not in models.DTYPES:
    raise UserError(f"model.dtype must be one of {', '.join(models.DTYPES)}, not {m.dtype!r}")
  if m.attention not in models.ATTENTION:
    raise UserError(f"model.attention must be one of {', '.join(models.ATTENTION)}, not {m.attention!r}")
  if m.n_heads <= 0 or m.d_model % m.n_heads:
    raise UserError(
      f"model.d_model={m.d_model} must be a positive multiple of model.n_heads={m.n_heads}, "
      f"and model.n_layers={m.n_layers} positive"
    )


def _distributed(c) -> None:
  s, d = c.sweep, c.distributed
  if isinstance(s.devices, bool) or not isinstance(s.devices, numbers.Integral) or s.devices < 0:
    raise UserError(f"sweep.devices must be an integer >= 0 (0 = every local device), got {s.devices!r}")
  if d.coordinator and (d.num_processes < 1 or not 0 <= d.process_id < d.num_processes):
    raise UserError(
      f"distributed.coordinator={d.coordinator!r} needs distributed.num_processes >= 1 and distributed.process_id "
      f"in [0, num_processes), got {d.num_processes} and {d.process_id}"
    )
  if not d.coordinator and (d.num_processes or d.process_id != -1):
    raise UserError("distributed.num_processes / process_id are set but distributed.coordinator is not; "
                    "pass --config.distributed.coordinator=HOST:PORT too (process 0's address)")  # fmt: skip


def against_data(c, corpus) -> None:
  """Checks that need the corpus: every batch must fit in the training split."""
  biggest = max(c.sweep.batch_sizes)
  if hasattr(corpus, "train_x"):  # images
    if biggest > corpus.n_train:
      raise UserError(f"batch size {biggest} is larger than the {corpus.n_train} training images of {corpus.name}; "
                      "use smaller sweep.batch_sizes or more data.image_examples")  # fmt: skip
    if c.model.name == "vit" and corpus.train_x.shape[1] % c.model.patch_size:
      raise UserError(f"model.patch_size={c.model.patch_size} does not divide the {corpus.train_x.shape[1]}-pixel "
                      f"images of {corpus.name}; pick a divisor")  # fmt: skip
    return
  windows = len(corpus.train_T) - c.data.seq_len
  if biggest > windows:
    raise UserError(
      f"batch size {biggest} is larger than the {windows} distinct windows of length "
      f"{c.data.seq_len} in the training split of {corpus.name}; use smaller "
      "sweep.batch_sizes or data.seq_len, or more data"
    )


def _extension(c) -> None:
  s = c.sweep
  if not isinstance(s.auto_extend, bool):
    raise UserError(f"sweep.auto_extend must be True or False, got {s.auto_extend!r}")
  if isinstance(s.max_extensions, bool) or not isinstance(s.max_extensions, numbers.Integral) or s.max_extensions < 0:
    raise UserError(f"sweep.max_extensions must be an integer >= 0, got {s.max_extensions!r}")
  _positive_int("sweep.extend_points", s.extend_points)
  r = s.extend_ratio
  if isinstance(r, bool) or not isinstance(r, numbers.Real) or not (r == 0 or 1 < r < math.inf):
    raise UserError(f"sweep.extend_ratio must be 0 (the grid's own) or a number > 1, got {r!r}")
  if s.auto_extend and r == 0 and len(set(s.learning_rates)) < 2:
    raise UserError(
      "sweep.auto_extend with one learning rate has no grid ratio to extend by; "
      "set --config.sweep.extend_ratio=3 (say) or give two or more learning rates"
    )


def _measure(c) -> None:
  m = c.measure
  for step in m.steps:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
      raise UserError(f"measure.steps: {step!r} is not a step; list integers >= 0, e.g. '(0,100,1000)'")
  if isinstance(m.every, bool) or not isinstance(m.every, numbers.Integral) or m.every < 0:
    raise UserError(f"measure.every must be an integer >= 0 (0 = off), got {m.every!r}")
  if isinstance(m.examples, bool) or not isinstance(m.examples, numbers.Integral) or m.examples < 2:
    raise UserError(f"measure.examples must be an integer >= 2 (the noise needs a mean), got {m.examples!r}")
  _positive_float("measure.budget_mb", m.budget_mb, "memory budget in MB")
  _positive_int("measure.coords_per_group", m.coords_per_group)
  known = ("hill", "pickands", "moments_xi", "stable_mohammadi")
  if not m.estimators or any(e not in known for e in m.estimators):
    raise UserError(f"measure.estimators must be a non-empty subset of {known}, got {tuple(m.estimators)!r}")
  if not m.k_ratios or not all(isinstance(r, numbers.Real) and 0 < r <= 0.5 for r in m.k_ratios):
    raise UserError(f"measure.k_ratios must be fractions in (0, 0.5], got {tuple(m.k_ratios)!r}")


def measure_steps(c) -> list[int]:
  """Sorted steps at which the gradient noise is measured; steps past train.steps become the last step (so a run
  shortened by an override still measures at its end)."""
  steps = {min(s, c.train.steps) for s in c.measure.steps}
  if c.measure.every:
    steps |= set(range(c.measure.every, c.train.steps + 1, c.measure.every))
  return sorted(steps)
