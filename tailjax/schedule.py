"""When things happen in a run, as plain Python (no jax): how many steps each row trains (its budget), where its
warmup ends, where it is evaluated, measured (`measure_steps`) and checkpointed, where its chunks end
(`chunk_bounds`), and at which steps its results are read.

- `train.budget = "steps"` (the study): every row trains `train.steps` steps, so a batch of 256 sees 8× the data a
  batch of 32 sees.
- `"tokens"` (fixed data; Porian et al. 2024, Filatov et al. 2025): every row sees `train.tokens` tokens (examples,
  for the image, quadratic and injected models): S(B) = floor(train.tokens / (B·T)) steps, never more than the budget.
- `"both"`: each row trains to the longer of the two and is read at both: results.csv holds one line per lane and
  budget. A run of S steps and the first S steps of a longer run are the same computation here (each lane's batches
  are keyed by (seed, step) and a constant schedule does not depend on the run's length), so one run gives both
  fits; a cosine schedule's shape does depend on the length, and "both" refuses it.

A row is planned by `plan(cfg, B)`; the engine then trains a fixed-steps run of `row_config(cfg, B)`, a copy of the
config whose `train.steps` and `optim.warmup_steps` are that row's, so the engine, the optimizer and the checkpoints
know nothing of budgets.
"""

import dataclasses

import ml_collections

from tailjax import tasks

KINDS = {"steps": ("steps",), "tokens": ("tokens",), "both": ("steps", "tokens")}


def kinds(cfg) -> tuple[str, ...]:
  """The budgets a run is read at, the first being the one its top-level fit and plots use."""
  return KINDS[cfg.train.budget]


def tokens_per_step(cfg, batch_size: int) -> int:
  """What one optimizer step consumes: B·T tokens for a language model, B examples for every other model."""
  return batch_size * tasks.tokens_per_example(cfg)


def unit_name(cfg) -> str:
  """ "tokens" for a language model, "examples" for the others (what train.tokens counts)."""
  return tasks.unit(cfg)


@dataclasses.dataclass(frozen=True)
class RowPlan:
  """A row's schedule in steps.

  Attributes:
    batch_size: B.
    tokens_per_step: B·T (text) or B (examples).
    steps: optimizer steps the row trains (the longest of its read-outs).
    warmup_steps: steps of linear warmup.
    readouts: {budget: step} where each budget reads the row's results.
    eval_steps: sorted steps ending with a validation pass (every read-out among them).
  """

  batch_size: int
  tokens_per_step: int
  steps: int
  warmup_steps: int
  readouts: dict
  eval_steps: tuple

  def tokens(self, step: int) -> int:
    return step * self.tokens_per_step


def budget_steps(cfg, batch_size: int, kind: str) -> int:
  """Steps of budget `kind` at batch size B: train.steps, or floor(train.tokens / (B·T))."""
  if kind == "steps":
    return int(cfg.train.steps)
  return int(cfg.train.tokens) // tokens_per_step(cfg, batch_size)


def warmup_steps(cfg, batch_size: int) -> int:
  """optim.warmup_steps, or optim.warmup_tokens in this row's steps (rounded to the nearest)."""
  if cfg.optim.warmup_tokens is None:
    return int(cfg.optim.warmup_steps)
  return int(round(cfg.optim.warmup_tokens / tokens_per_step(cfg, batch_size)))


def _grid(every: int, end: int) -> set[int]:
  return set(range(every, end, every)) | {end}


def plan(cfg, batch_size: int) -> RowPlan:
  """The row of batch size B: its length, warmup, evaluation points and read-outs."""
  tps = tokens_per_step(cfg, batch_size)
  readouts = {k: budget_steps(cfg, batch_size, k) for k in kinds(cfg)}
  evals = set()
  if "steps" in readouts:
    evals |= _grid(cfg.eval.every, readouts["steps"])
  if "tokens" in readouts:
    end = readouts["tokens"]
    if cfg.eval.every_tokens:
      evals |= _grid(max(cfg.eval.every_tokens // tps, 1), end)
    else:  # ten evaluations, evenly spaced over the row's steps
      evals |= {max(round(j * end / 10), 1) for j in range(1, 11)}
  return RowPlan(
    batch_size=batch_size,
    tokens_per_step=tps,
    steps=max(readouts.values()),
    warmup_steps=warmup_steps(cfg, batch_size),
    readouts=readouts,
    eval_steps=tuple(sorted(evals)),
  )


def row_config(cfg, batch_size: int) -> ml_collections.ConfigDict:
  """The config the engine trains row B with: a fixed-steps run of the row's length and warmup."""
  p = plan(cfg, batch_size)
  c = ml_collections.ConfigDict(cfg.to_dict())  # unlocked copy; the original is untouched
  c.train.steps = p.steps
  c.optim.warmup_steps = p.warmup_steps
  c.optim.warmup_tokens = None
  return c


def describe(cfg, kind: str | None = None) -> str:
  """What each budget (or only `kind`) holds fixed, for the log and summary.txt."""
  out = []
  for k in kinds(cfg) if kind is None else (kind,):
    if k == "steps":
      out.append(f"fixed steps: every batch size trains train.steps = {cfg.train.steps} steps")
    else:
      per_b = ", ".join(f"B={b}: {budget_steps(cfg, b, 'tokens')}" for b in cfg.sweep.batch_sizes)
      out.append(f"fixed {unit_name(cfg)}: every batch size sees train.tokens = {cfg.train.tokens:,}, in whole steps "
                 f"(floor(tokens / {'B·T' if unit_name(cfg) == 'tokens' else 'B'}) steps: {per_b})")  # fmt: skip
  return "; ".join(out)


def short(cfg, kind: str) -> str:
  """A budget in a few words, for plot titles: "at fixed steps (5000)" or "at fixed tokens (40,960,000)"."""
  if kind == "steps":
    return f"at fixed steps ({cfg.train.steps:,} per batch size)"
  return f"at fixed {unit_name(cfg)} ({cfg.train.tokens:,} per batch size)"


def measure_steps(c) -> list[int]:
  """Sorted steps at which the gradient noise is measured; steps past train.steps become the last step (so a run
  shortened by an override still measures at its end)."""
  steps = {min(s, c.train.steps) for s in c.measure.steps}
  if c.measure.every:
    steps |= set(range(c.measure.every, c.train.steps + 1, c.measure.every))
  return sorted(steps)


def chunk_bounds(cfg, eval_steps=None) -> list[int]:
  """Steps at which a chunk ends: every eval (`eval_steps`, or every eval.every), checkpoint and measurement point,
  and the last step."""
  steps = cfg.train.steps
  ends = set(range(cfg.eval.every, steps, cfg.eval.every)) if eval_steps is None else set(eval_steps)
  ends |= {steps}
  if cfg.checkpoint.every:
    ends |= set(range(cfg.checkpoint.every, steps, cfg.checkpoint.every))
  ends |= {s for s in measure_steps(cfg) if s > 0}
  return sorted(ends)
