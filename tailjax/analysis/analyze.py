"""Re-analyses any results.csv: the optimum per batch size, the fit LR_opt ∝ B^β with its interval, the plots.

    python -m tailjax.main --config=configs/analyze.py --config.analysis.results=PATH/results.csv --workdir=OUT

The file needs the columns batch_size, lr and final_val_loss; seed and train_loss_std are used when present (seeds
are averaged and resampled; train_loss_std sets the loss noise of the bootstrap), clip and weight_decay split the
lanes into separate grids, ln_vocab and unigram_entropy are shown beside the losses, anything else (the study's
`converged`, `num_steps`, tailjax's `origin`) is ignored.
"""

import csv
import dataclasses
import math
import pathlib

from absl import logging

from tailjax import files
from tailjax import workdir as workdir_lib
from tailjax.analysis import scaling, summary, sweep_plots
from tailjax.errors import UserError

REQUIRED = ("batch_size", "lr", "final_val_loss")


def read_results(path) -> tuple[list[dict], dict]:
  """(rows, reference losses): the rows the scaling fit reads, and ln V / unigram entropy where the file has them."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise UserError(f"analysis.results = {path} is not a file; pass --config.analysis.results=PATH/results.csv")
  try:
    with open(path, newline="", encoding="utf-8") as f:
      table = list(csv.DictReader(line for line in f if line.strip() and not line.startswith("#")))
  except (UnicodeDecodeError, csv.Error):
    raise UserError(
      f"analysis.results = {path} is not a CSV table (not UTF-8 text); pass the results.csv a sweep wrote, or one "
      f"with the columns {', '.join(REQUIRED)}"
    ) from None
  if not table:
    raise UserError(f"{path} has no rows (a header at most); a results file needs one row per (batch size, lr)")
  missing = [c for c in REQUIRED if c not in table[0]]
  if missing:
    raise UserError(f"{path} lacks the column(s) {', '.join(missing)}; a results file needs {', '.join(REQUIRED)}")
  rows = []
  for i, r in enumerate(table, start=2):
    try:
      row = {
        "batch_size": int(float(r["batch_size"])),  # NaN or inf: ValueError / OverflowError
        "lr": float(r["lr"]),
        "final_val_loss": float(r["final_val_loss"]),
      }
    except (TypeError, ValueError, OverflowError):
      raise UserError(f"{path} line {i}: batch_size, lr and final_val_loss must be numbers, got {dict(r)}") from None
    if not (0 < row["lr"] < math.inf) or row["batch_size"] <= 0:  # NaN fails the first test too
      raise UserError(
        f"{path} line {i}: lr and batch_size must be finite and > 0, got lr={row['lr']}, B={row['batch_size']}"
      )
    diverged = str(r.get("diverged", "")).strip().lower() in ("true", "1")
    if math.isnan(row["final_val_loss"]) and not diverged:
      raise UserError(
        f"{path} line {i}: final_val_loss is NaN in a row not marked diverged; write inf for a lane that diverged "
        "(or add the column diverged = True), or remove the row"
      )
    for key in ("seed", "train_loss_std", "clip", "weight_decay", "b2_ref", "budget"):
      if r.get(key) not in (None, ""):
        row[key] = r[key] if key in ("clip", "budget") else float(r[key])
    rows.append(row)  # a diverged lane's loss (NaN or inf) counts as +inf in the optimum
  if not rows:
    raise UserError(f"{path} has no rows")
  fp = {k: float(table[0][k]) for k in ("ln_vocab", "unigram_entropy") if table[0].get(k) not in (None, "")}
  return rows, fp


def run(cfg, workdir) -> dict:
  """Fits and plots `cfg.analysis.results` into `workdir`; returns the scaling fit."""
  rows, fp = read_results(cfg.analysis.results)
  workdir = workdir_lib.make(workdir)
  kinds = list(dict.fromkeys(r.get("budget", "steps") for r in rows))  # a run read at two budgets: one fit each
  fits = {k: scaling.fit([r for r in rows if r.get("budget", "steps") == k], fp) for k in kinds}
  fit = dataclasses.replace(fits[kinds[0]], budget=kinds[0], by_budget=fits if len(kinds) > 1 else None)
  files.write_json(workdir / "scaling_fit.json", fit.to_json())
  if cfg.output.plots:
    for k, f in fits.items():
      suffix = "" if k == kinds[0] else f"_{k}"
      if len(kinds) > 1:
        f = dataclasses.replace(f, budget_label=f"at fixed {k}")
      sweep_plots.lr_vs_batch(workdir / f"lr_vs_batch{suffix}.png", f)
      sweep_plots.loss_heatmap(workdir / f"loss_heatmap{suffix}.png", f, fp)
      sweep_plots.loss_vs_lr(workdir / f"loss_vs_lr{suffix}.png", f, fp)
      sweep_plots.scaling_exponent(workdir / f"scaling_exponent{suffix}.png", f)
  text = "\n\n".join(
    (f"--- fixed {k} ---\n" if len(kinds) > 1 else "") + scaling.optima_table(f) + "\n\n" + f.verdict
    for k, f in fits.items()
  )
  if len(kinds) > 1:
    text += "\n\n" + summary.side_by_side(fits)
  text += ("\n\n(steps to target and the critical batch size need the validation curves, which results.csv does not "
           "hold: critical_batch.json is written by the run itself)")  # fmt: skip
  files.write_text(workdir / "summary.txt", f"analysis of {cfg.analysis.results}\n\n{text}\n")
  logging.info("analysis of %s: %s", cfg.analysis.results, fit.verdict)
  print(text)
  return fit.to_json()
