"""Per-lane results of a finished row, computed on the host from the metric history."""

import numpy as np

from tailjax import records

COLUMNS = [
  "batch_size",
  "lr",
  "seed",
  "clip",
  "weight_decay",
  "b2",
  "b2_ref",
  "origin",
  "budget",
  "steps",
  "tokens",
  "final_train_loss",
  "final_val_loss",
  "best_val_loss",
  "train_loss_std",
  "converged",
  "diverged",
  "diverged_at",
  "clip_frequency",
  "mean_grad_norm",
  "mean_post_clip_norm",
  "mean_update_norm",
  "final_param_norm",
  "ln_vocab",
  "unigram_entropy",
]


# Experiment 1.1's FFN trains on an injected gradient: its "loss" is the surrogate ⟨y, ∇_y L⟩, whose value means
# nothing (it drifts to any sign), and there is no validation data; these columns are left empty for it.
NO_LOSS_COLUMNS = (
  "final_train_loss", "final_val_loss", "best_val_loss", "train_loss_std", "converged", "ln_vocab", "unigram_entropy",
)  # fmt: skip


def _f(x) -> float:
  return float(x) if np.isfinite(x) else float("nan")


def row_results(
  cfg, *, batch_size, table, history, diverged_at_R, fingerprint, readouts=None, tokens_per_step=None
) -> list[dict]:
  """One dict per lane and budget, with the columns of COLUMNS.

  Args:
    table: the row's lanes (`lane_table`).
    history: per-step arrays [steps, R] ('loss', 'grad_norm', 'clipped', 'update_norm', 'param_norm'),
      'eval_step' [E] and 'val_loss' [E, R].
    diverged_at_R: step of divergence per lane, -1 if never.
    readouts: {budget: step} (`budget.RowPlan.readouts`): each budget's results are those of the history's first
      `step` steps, which is what a run of that length computes; None = {"steps": the whole history}.
    tokens_per_step: B·T (or B), for the tokens column; None = B.
  """
  steps = history["loss"].shape[0]
  out = []
  for budget, stop in (readouts or {"steps": steps}).items():
    cut = {k: v[:stop] for k, v in history.items() if k not in ("eval_step", "val_loss")}
    at = np.asarray(history["eval_step"]) <= stop
    cut |= {"eval_step": np.asarray(history["eval_step"])[at], "val_loss": np.asarray(history["val_loss"])[at]}
    diverged_at = np.where((diverged_at_R >= 0) & (diverged_at_R < stop), diverged_at_R, -1)
    for r in _readout(cfg, batch_size=batch_size, table=table, history=cut, diverged_at_R=diverged_at,
                      fingerprint=fingerprint):  # fmt: skip
      out.append(r | {"budget": budget, "steps": stop, "tokens": stop * (tokens_per_step or batch_size)})
  return out


def _readout(cfg, *, batch_size, table, history, diverged_at_R, fingerprint) -> list[dict]:
  """One dict per lane: the results of the (already cut) history."""
  window = min(cfg.train.stats_window, history["loss"].shape[0])
  validates = records.DataFacts.of(fingerprint).validates
  out = []
  for r, lane in enumerate(table):
    diverged = bool(diverged_at_R[r] >= 0)
    live = slice(0, int(diverged_at_R[r])) if diverged else slice(None)
    tail = history["loss"][-window:, r]
    val_R = history["val_loss"][:, r]
    std = float(np.std(tail)) if not diverged else float("nan")
    out.append(
      {
        "batch_size": batch_size,
        **lane,
        "final_train_loss": float("nan") if diverged else float(np.mean(tail)),
        "final_val_loss": _f(val_R[-1]),
        "best_val_loss": float(np.nanmin(val_R)) if np.isfinite(val_R).any() else float("nan"),
        "train_loss_std": std,
        "converged": bool(std < cfg.train.converged_std) if not diverged else False,
        "diverged": diverged,
        "diverged_at": int(diverged_at_R[r]),
        "clip_frequency": _mean(history["clipped"][live, r]),
        "mean_grad_norm": _mean(history["grad_norm"][live, r]),  # before clipping
        "mean_post_clip_norm": _mean(np.minimum(history["grad_norm"][live, r], _clip_value(lane["clip"]))),
        "mean_update_norm": _mean(history["update_norm"][live, r]),
        "final_param_norm": float(history["param_norm"][-1, r]),
        "ln_vocab": fingerprint["ln_vocab"],
        "unigram_entropy": fingerprint["unigram_entropy"],
      }
    )
    if not validates:  # no validation loss: its columns stay empty
      out[-1].update(dict.fromkeys(NO_LOSS_COLUMNS))
  return out


def _clip_value(clip) -> float:
  return float("inf") if clip is None else float(clip)


def _mean(x) -> float:
  return float(np.mean(x)) if len(x) else float("nan")


def reference_losses(fingerprint: dict) -> str:
  """The losses a result is read against, as the task names them (`records.DataFacts.references`)."""
  facts = records.DataFacts.of(fingerprint)
  if not facts.references:
    return f"{facts.name}: no reference losses"
  return "reference losses: " + ", ".join(f"{r.name} = {r.value:.3f} ({r.means})" for r in facts.references)


def table(rows: list[dict], fingerprint: dict) -> str:
  """A plain-text table of the results, with the reference losses above it."""
  facts = records.DataFacts.of(fingerprint)
  budgets = len({r.get("budget") for r in rows}) > 1  # both budgets: a column says at which each line is read
  b2s = len({r.get("b2") for r in rows}) > 1  # β2 as lanes, or following B: the value each lane trained with
  lines = [
    reference_losses(fingerprint),
    f"{'B':>5} {'lr':>9} {'seed':>4} {'clip':>6} "
    + (f"{'b2':>7} " if b2s else "")
    + (f"{'budget':>6} {'steps':>6} " if budgets else "")
    + f"{'val_loss':>9} {'best_val':>9} {'train':>7} {'clip_freq':>9} {'|g|':>7}  note",
  ]
  for r in rows:
    note = "DIVERGED" if r["diverged"] else ""
    barely = facts.reference(facts.barely_learned)  # text: the unigram entropy; images: the class entropy
    if not r["diverged"] and barely is not None and r["final_val_loss"] >= barely.value:
      note = f"above {barely.name}: barely learned"
    start = facts.chance.value if facts.chance is not None else None
    if not r["diverged"] and start and r["final_val_loss"] > 2 * start:  # finite, but far above where it started
      note = "blowing up: loss above twice the start"
    clip = "none" if r["clip"] is None else f"{r['clip']:g}"
    lines.append(
      f"{r['batch_size']:>5} {r['lr']:>9.3g} {r['seed']:>4} {clip:>6} "
      + (f"{r['b2']:>7.4g} " if b2s else "")
      + (f"{r['budget']:>6} {r['steps']:>6} " if budgets else "")
      + f"{r['final_val_loss']:>9.4f} "
      f"{r['best_val_loss']:>9.4f} {r['final_train_loss']:>7.4f} {r['clip_frequency']:>9.3f} "
      f"{r['mean_grad_norm']:>7.3f}  {note}"
    )
  lines.append(
    "(val_loss: at the last step; best_val: the lowest at any evaluation; train: mean training loss over the last "
    "train.stats_window steps; "
    + ("b2: Adam's β2 the lane trained with; " if b2s else "")
    + "clip_freq: fraction of steps clipped; "
    "|g|: mean gradient norm before clipping; " + f"losses in {facts.loss_unit}" + ", one row per lane)"
  )
  return "\n".join(lines)
