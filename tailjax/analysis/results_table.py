"""The results as a plain-text table (summary.txt), read against the task's reference losses."""

from tailjax import records


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
