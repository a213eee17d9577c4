"""The transfer test (the study's Phase 2 plan, step 4): do the scaling rules predict good learning rates?

From a reference grid sweep's scaling_fit.json take (B_ref, LR_ref) — by default the smallest batch size whose
optimum is bracketed, at its refined LR_opt — and predict LR(B) = LR_ref·(B/B_ref)^β for β = ½ (square-root rule),
⅔ and the reference's fitted β. Each prediction is one lane of its batch size's row; the report is the loss gap to
that batch size's optimum in the reference sweep (a gap near the loss noise means the rule transfers).
"""

import json
import math
import pathlib

from tailjax import workdir
from tailjax.analysis.scaling_fit import ScalingFit
from tailjax.errors import UserError


def load_reference(cfg) -> ScalingFit:
  path = pathlib.Path(cfg.transfer.fit)
  if not path.is_file():
    raise UserError(
      f"transfer.fit = {path} is not a file; pass --config.transfer.fit=RUN/scaling_fit.json of a finished grid sweep"
    )
  try:
    fit = json.loads(path.read_text())
  except (UnicodeDecodeError, json.JSONDecodeError):
    raise UserError(
      f"transfer.fit = {path} is not a scaling_fit.json (not JSON); pass RUN/scaling_fit.json of a finished grid sweep"
    ) from None
  if not isinstance(fit, dict) or "per_batch_size" not in fit:
    raise UserError(f"transfer.fit = {path} has no per_batch_size: pass the scaling_fit.json a grid sweep wrote")
  ref_cfg = path.parent / "config.json"
  if ref_cfg.exists():
    old = json.loads(ref_cfg.read_text())
    diff = workdir.differing(old, workdir.config_dict(cfg), workdir.TRANSFER_MAY_CHANGE)
    if diff:
      raise UserError(
        f"the reference run {path.parent} was trained with a different config (differs in {', '.join(diff)}); "
        "its optima are not this config's: use the same model, data and optimizer settings"
      )
  if not any(o.get("censored") is None for o in fit["per_batch_size"]):
    raise UserError(f"{path} has no bracketed optimum to transfer from; extend that sweep until one is bracketed")
  return ScalingFit.from_json(fit)


def fitted_rule_missing(fit: ScalingFit) -> str | None:
  """Why the reference's fitted β is no rule to test (None when it is one): it needs a β with an interval."""
  if fit.beta is None:
    return f"no fitted β in the reference ({fit.verdict or 'no verdict'})"
  if not fit.beta_ci:
    return f"the reference's β = {fit.beta:.3f} has no interval (too few bracketed optima to trust it)"
  return None


def plan(cfg, fit: ScalingFit) -> dict:
  """{B: {rule: lr}} for every batch size of the sweep, and the reference point."""
  bracketed = {o["batch_size"]: o for o in fit.per_batch_size if o["censored"] is None}
  b_ref = cfg.transfer.b_ref or min(bracketed)
  if b_ref not in bracketed:
    raise UserError(
      f"transfer.b_ref = {b_ref} has no bracketed optimum in the reference (bracketed: {sorted(bracketed)}); "
      "pick one of those, or 0 for the smallest"
    )
  lr_ref = bracketed[b_ref]["lr_opt"]
  rules = {"sqrt (beta=0.5)": 0.5, "two_thirds (beta=0.667)": 2 / 3}
  missing = fitted_rule_missing(fit)
  if missing is None:
    lo, hi = fit.beta_ci
    rules[f"fitted (beta={fit.beta:.3f} [{lo:.2f}, {hi:.2f}])"] = fit.beta
  lrs = {b: {rule: float(f"{lr_ref * (b / b_ref) ** beta:.6g}") for rule, beta in rules.items()}
         for b in cfg.sweep.batch_sizes}  # fmt: skip
  left_out = {} if missing is None else {"fitted": f"the fitted-β rule is left out: {missing}"}
  return {"b_ref": b_ref, "lr_ref": lr_ref, "rules": rules, "lrs": lrs, "left_out": left_out}


def report(the_plan: dict, fit: ScalingFit, rows: list[dict]) -> dict:
  """Per batch size and rule: the LR, the seed-mean loss, and its gap to the reference optimum's loss."""
  ref = {o["batch_size"]: o for o in fit.per_batch_size}
  out = []
  for b, by_rule in the_plan["lrs"].items():
    for rule, lr in by_rule.items():
      losses = [r["final_val_loss"] for r in rows if r["batch_size"] == b and r["lr"] == lr]
      loss = sum(losses) / len(losses) if losses and all(math.isfinite(x) for x in losses) else math.nan
      o = ref.get(b)
      best = o["best_loss"] if o and o.get("best_loss") is not None else math.nan
      out.append({
        "batch_size": b, "rule": rule, "lr": lr, "loss": loss, "reference_best_loss": best, "gap": loss - best,
        "reference_lr_opt": o["lr_opt"] if o else None, "reference_censored": o["censored"] if o else "not in grid",
      })  # fmt: skip
  return {"b_ref": the_plan["b_ref"], "lr_ref": the_plan["lr_ref"], "rules": the_plan["rules"], "per_point": out,
          "left_out": the_plan.get("left_out", {}),
          "note": "gap = this lane's final val loss − the reference grid's best seed-mean loss at that B; a gap "
                  "within the loss noise means the rule transfers; where the reference optimum was censored the "
                  "gap can be negative"}  # fmt: skip


def text(rep: dict) -> str:
  """summary.txt's transfer table; a reference optimum that was censored is marked (its "best" is a bound's loss,
  not an optimum's, and the gap to it can be negative)."""
  lines = [f"transfer from B_ref = {rep['b_ref']}, LR_ref = {rep['lr_ref']:.4g}"]
  lines += list(rep.get("left_out", {}).values())
  lines.append(f"{'B':>5} {'rule':>34} {'lr':>10} {'loss':>8} {'ref best':>9} {'gap':>8}  reference")
  for p in rep["per_point"]:
    cen = p["reference_censored"]
    ref = "bracketed" if cen is None else f"CENSORED ({cen}): its best is a bound, not an optimum"
    lines.append(f"{p['batch_size']:>5} {p['rule']:>34} {p['lr']:>10.4g} {p['loss']:>8.4f} "
                 f"{p['reference_best_loss']:>9.4f} {p['gap']:>+8.4f}  {ref}")  # fmt: skip
  return "\n".join(lines)
