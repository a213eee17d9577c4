"""LR_opt per batch size from a results grid, and the log-log fit LR_opt = C·B^β.

An optimum on the first or last learning rate of a row is censored: the true optimum lies beyond the grid, so that
point is a one-sided bound and does not enter the fit (SCIENCE.md §4). The study's own method, a fit through every
grid argmin, is reported beside it under a name that says what it is.
"""

import math
from collections import defaultdict

import numpy as np


def optima(rows: list[dict]) -> list[dict]:
  """Grid argmin of the seed-averaged final validation loss, per batch size.

  All rows must share one clip setting (see `fit`). Diverged lanes count as +inf. Returns one dict per batch size,
  ascending.
  """
  by_b = defaultdict(lambda: defaultdict(list))
  for r in rows:
    loss = r["final_val_loss"]
    by_b[r["batch_size"]][r["lr"]].append(loss if np.isfinite(loss) else math.inf)
  out = []
  for b in sorted(by_b):
    lrs = sorted(by_b[b])
    loss_L = np.array([np.mean(by_b[b][lr]) for lr in lrs])
    if not np.isfinite(loss_L).any():
      out.append({"batch_size": b, "lr_opt": None, "censored": "all_diverged", "best_loss": None})
      continue
    i = int(np.argmin(loss_L))
    censored = None
    if len(lrs) == 1:
      censored = "single_point"
    elif i == 0:
      censored = "low"
    elif i == len(lrs) - 1:
      censored = "high"
    out.append(
      {
        "batch_size": b,
        "lr_opt": lrs[i],
        "lr_opt_bracket": [lrs[max(i - 1, 0)], lrs[min(i + 1, len(lrs) - 1)]],
        "censored": censored,
        "best_loss": float(loss_L[i]),
        "grid": lrs,
        "mean_val_loss": [float(x) for x in loss_L],
      }
    )
  return out


def power_law(bs, lrs) -> dict:
  """Least-squares fit of ln lr = ln C + β ln B; β and R² (None where fewer than 2 batch sizes)."""
  if len(set(bs)) < 2:
    return {"beta": None, "c": None, "r2": None, "n": len(bs)}
  x, y = np.log(bs), np.log(lrs)
  beta, ln_c = np.polyfit(x, y, 1)
  resid = y - (ln_c + beta * x)
  ss_tot = float(((y - y.mean()) ** 2).sum())
  r2 = 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else None
  return {"beta": float(beta), "c": float(math.exp(ln_c)), "r2": r2, "n": len(bs)}


def fit(rows: list[dict], fingerprint: dict) -> dict:
  """The summary written to scaling_fit.json.

  With clip thresholds as lanes (Phase 3b) each clip setting is its own grid: `by_clip` holds one fit per setting,
  and the top-level fields are those of the first.
  """
  clips = list(dict.fromkeys(r.get("clip") for r in rows))
  fits = [{"clip": c, **fit_one([r for r in rows if r.get("clip") == c], fingerprint)} for c in clips]
  return {**fits[0], "by_clip": fits} if len(fits) > 1 else fits[0]


def fit_one(rows: list[dict], fingerprint: dict) -> dict:
  """The fit for rows that share one clip setting."""
  opts = optima(rows)
  bracketed = [o for o in opts if o["censored"] is None]
  have_opt = [o for o in opts if o["lr_opt"] is not None]
  main = power_law([o["batch_size"] for o in bracketed], [o["lr_opt"] for o in bracketed])
  naive = power_law([o["batch_size"] for o in have_opt], [o["lr_opt"] for o in have_opt])
  censored = [o["batch_size"] for o in opts if o["censored"]]
  if main["beta"] is None:
    verdict = f"no fit: only {len(bracketed)} batch size(s) have an optimum inside the LR grid" + (
      f"; extend the grid for B = {censored}" if censored else ""
    )
  else:
    verdict = (
      f"beta = {main['beta']:.3f} from {len(bracketed)} bracketed optima (grid argmins, "
      "quantised to the grid's spacing; no confidence interval yet)"
    )
    if censored:
      verdict += f"; B = {censored} have optima at the grid's edge (bounds, not points)"
  return {
    "method": "grid argmin of seed-mean final_val_loss; fit on bracketed optima only",
    "beta": main["beta"],
    "c": main["c"],
    "r2": main["r2"],
    "n_bracketed": len(bracketed),
    "per_batch_size": opts,
    "naive_fit_all_argmins": {
      **naive,
      "note": "the study's method: includes optima on the grid edge, which are bounds; do not report",
    },
    "verdict": verdict,
    "ln_vocab": fingerprint["ln_vocab"],
    "unigram_entropy": fingerprint["unigram_entropy"],
  }
