"""What each lane of a finished row scored: its lines of results.csv (COLUMNS), computed on the host from the metric
history. Plain numpy: the row loop writes them, the analysis reads them."""

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
    readouts: {budget: step} (`schedule.RowPlan.readouts`): each budget's results are those of the history's first
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
