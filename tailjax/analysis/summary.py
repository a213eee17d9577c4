"""A finished sweep's files: results.csv, scaling_fit.json (or transfer.json), summary.txt, the noise files and the
plots, written from the finished rows (rows/B{b}*.json as the sweep gathered them). Jax-free."""

import dataclasses

import numpy as np
from absl import logging

from tailjax import files, lane_results, models, records, schedule
from tailjax.analysis import critical_batch, nqm, results_table, scaling, sweep_plots, transfer, weight_norms
from tailjax.analysis.scaling_fit import ScalingFit
from tailjax.noise import output_tables


def _all_rows(cfg, done: dict) -> list[dict]:
  return [r for b in cfg.sweep.batch_sizes for r in done[b]["rows"]]


def caveats(cfg, fp: dict) -> list[str]:
  """What a reader quoting the results must know about how they were made: the data's own warning (WikiText-2 trained
  on its validation split), and a warmup that does not end before the run does (the LR never reached its nominal
  value, so every optimum is biased upward). Shown at the top of summary.txt and logged as warnings."""
  out = [fp["warning"]] if fp.get("warning") else []
  if cfg.train.budget == "steps" and cfg.optim.warmup_tokens is None:  # one warmup and one length for every row
    if cfg.optim.warmup_steps >= cfg.train.steps:
      out.append(
        f"optim.warmup_steps = {cfg.optim.warmup_steps} is not below train.steps = {cfg.train.steps}: the learning "
        "rate never reached its nominal value, so every optimum is biased upward (shorten the warmup with the run, "
        "e.g. --config.optim.warmup_steps=" + str(max(cfg.train.steps // 10, 1)) + ")"
      )
    elif cfg.optim.warmup_steps > cfg.train.steps // 2:
      out.append(
        f"optim.warmup_steps = {cfg.optim.warmup_steps} is more than half of train.steps = {cfg.train.steps}: most "
        "of the run trained below its nominal learning rate, which biases the optima upward"
      )
    return out
  if cfg.train.budget == "both" and cfg.optim.warmup_tokens is None and cfg.optim.warmup_steps:
    out.append(
      f"the warmup is {cfg.optim.warmup_steps} steps at every batch size, so at fixed "  # fmt: skip
      f"{schedule.unit_name(cfg)} small batches warm up on less data than large ones, which biases that "
      "reading's optima; give it in tokens (optim.warmup_tokens) to compare batch sizes at fixed data"
    )
  short = sorted({p for b in cfg.sweep.batch_sizes for p in schedule.plan(cfg, b).readouts.values()})
  if cfg.train.stats_window > short[0]:
    out.append(f"train.stats_window = {cfg.train.stats_window} steps is longer than the shortest reading "
               f"({short[0]} steps): there final_train_loss, train_loss_std and converged average from step 0, "
               "warmup included")  # fmt: skip
  for kind in schedule.kinds(cfg):  # the warmup against each row's length at each budget
    plans = {b: schedule.plan(cfg, b) for b in cfg.sweep.batch_sizes}
    never = [b for b, p in plans.items() if p.warmup_steps >= p.readouts[kind]]
    half = [b for b, p in plans.items() if p.readouts[kind] // 2 < p.warmup_steps < p.readouts[kind]]
    if never:
      out.append(
        f"at fixed {kind}, the warmup does not end before the run does for B = {never}: their learning "
        "rate never reached its nominal value, so their optima are biased upward (shorten the warmup)"
      )
    if half:
      out.append(
        f"at fixed {kind}, the warmup takes more than half of the run for B = {half}, which biases their optima upward"
      )
  return out


def _write_summary(workdir, text: str, notes: list[str] = ()) -> None:
  head = "".join(f"CAVEAT: {n}\n" for n in notes) + ("\n" if notes else "")
  files.write_text(workdir / "summary.txt", head + text)
  logging.info("results in %s\n%s", workdir, head + text)


def fits_by_budget(rows: list[dict], fp: dict, budgets) -> dict:
  """{budget: scaling fit of its rows}; rows without a budget column (older results) count as steps."""
  return {k: scaling.fit([r for r in rows if r.get("budget", "steps") in (k, "")], fp) for k in budgets}


def protocol(cfg) -> str:
  """What the run held fixed, in words: the budget, the warmup, Adam's β2 (summary.txt's first lines)."""
  bs = sorted(cfg.sweep.batch_sizes)
  plans = [schedule.plan(cfg, b) for b in bs]
  lines = [f"protocol: {schedule.describe(cfg)}"]
  if cfg.optim.warmup_tokens is not None:
    lines.append(f"  warmup {cfg.optim.warmup_tokens:,} {schedule.unit_name(cfg)} at every batch size ("
                 + ", ".join(f"B={p.batch_size}: {p.warmup_steps}" for p in plans) + " steps)")  # fmt: skip
  else:
    lines.append(f"  warmup {cfg.optim.warmup_steps} steps at every batch size")
  if cfg.optim.name != "sgd":
    if cfg.optim.b2_rule == "fixed":
      lines.append(
        f"  Adam's β2 the same at every batch size: {', '.join(f'{x:g}' for x in cfg.sweep.b2s or (cfg.optim.b2,))}"
      )
    else:
      b_ref = cfg.optim.b2_batch or bs[0]
      for ref in cfg.sweep.b2s or (cfg.optim.b2,):
        per = ", ".join(f"B={b}: {ref ** (b / b_ref):.4g}" for b in bs)
        lines.append(f"  Adam's β2 follows the batch size (half-life fixed in tokens): b2 = {ref:g} at B = {b_ref}, "
                     f"so {per}" + (f" (the b2 = … settings below name the value at B = {b_ref})"
                                    if cfg.sweep.b2s else ""))  # fmt: skip
  return "\n".join(lines)


def side_by_side(fits: dict, names=None) -> str:
  """One line per budget: β with its interval and how many optima it rests on (summary.txt, the log); `names` maps a
  budget to its words ("tokens" → "examples" for non-text models)."""
  lines = ["β at each budget (the same lanes, read at fixed steps and at fixed data):"]
  for k, f in fits.items():
    name = (names or {}).get(k, k)
    ci = f.beta_ci
    beta = "no fit" if f.beta is None else f"β = {f.beta:.3f}"
    interval = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and f.beta is not None else ""
    lines.append(f"  at fixed {name + ':':<9} {beta}{interval} from {f.n_bracketed or 0} bracketed optima")
  return "\n".join(lines)


def sweep(cfg, workdir, done: dict, fp: dict) -> dict:
  """Writes results.csv, scaling_fit.json, summary.txt, the noise files and the plots; returns the scaling fit (what
  scaling_fit.json holds).

  `done` maps each batch size to its finished row (all auto-extension rounds joined); `fp` is the data fingerprint.
  With two budgets (train.budget = both) the top-level fit is at fixed steps, `by_budget` holds both, and the plots of
  the tokens budget carry the suffix _tokens.
  """
  all_rows = _all_rows(cfg, done)
  files.write_csv(workdir / "results.csv", all_rows, lane_results.COLUMNS)
  facts = records.DataFacts.of(fp)
  if not facts.validates:  # no validation loss, so no optimum and no fit: the noise is the result
    return _injected(cfg, workdir, all_rows)
  kinds = schedule.kinds(cfg)
  fits = fits_by_budget(all_rows, fp, kinds)
  fits = {k: _read_at(cfg, f, k, known=facts.known_answer == nqm.KNOWN_ANSWER) for k, f in fits.items()}
  fit = fits[kinds[0]]
  if len(kinds) > 1:
    fit = dataclasses.replace(fit, by_budget=fits)
  files.write_json(workdir / "scaling_fit.json", fit.to_json())
  text = protocol(cfg) + "\n\n" + results_table.table(all_rows, fp) + "\n"
  for k, f in fits.items():
    head = f"--- {schedule.describe(cfg, k)} ---\n" if len(kinds) > 1 or k != "steps" else ""
    text += "\n" + head + scaling.optima_table(f) + "\n\n" + f.verdict + "\n"
    if f.exact is not None:
      text += "\n" + nqm.known_answer_text(f.exact) + "\n"
  if len(kinds) > 1:
    text += "\n" + side_by_side(fits, {"tokens": schedule.unit_name(cfg)}) + "\n"
  found = output_tables.write_outputs(workdir, cfg) if schedule.measure_steps(cfg) else {"alpha": [], "scale": []}
  crit = critical_batch.from_sweep(cfg, done, fp, workdir, found.get("scale", []))
  text += "\n" + crit["summary"] + "\n"
  _write_summary(workdir, text, caveats(cfg, fp))
  # the study's weight-norm rule √(η/λ)·d^0.75 needs the model's width, which a user's task does not declare
  norms = weight_norms.table(done, cfg) if cfg.model.name != models.TASK else []
  if norms:
    mid = sorted(cfg.measure.k_ratios)[len(cfg.measure.k_ratios) // 2]
    norm_fit = weight_norms.fit(norms, weight_norms.alpha_by_kind(found["alpha"], mid))
    files.write_csv(workdir / "weight_norms.csv", norms, weight_norms.COLUMNS)
    files.write_json(workdir / "weight_norm_fit.json", norm_fit)
    if cfg.output.plots:
      weight_norms.plot(workdir / "weight_norm_scaling.png", norms, norm_fit)
  if cfg.output.plots:
    for k, f in fits.items():
      suffix = "" if k == kinds[0] else f"_{k}"
      sweep_plots.lr_vs_batch(workdir / f"lr_vs_batch{suffix}.png", f)
      sweep_plots.loss_heatmap(workdir / f"loss_heatmap{suffix}.png", f, fp)
      sweep_plots.loss_vs_lr(workdir / f"loss_vs_lr{suffix}.png", f, fp)
      sweep_plots.scaling_exponent(workdir / f"scaling_exponent{suffix}.png", f)
    if crit.get("targets"):
      sweep_plots.steps_to_target(workdir / "steps_to_target.png", crit, fp)
    if len({r["clip"] for r in all_rows}) > 1:  # clip thresholds as lanes (Phase 3b)
      sweep_plots.clip_study(workdir / "clip_study.png", [r for r in all_rows if r.get("budget") == kinds[0]])
    curves = {b: (np.array(d["eval_step"]), np.array(d["val_loss"], float), d["labels"]) for b, d in done.items()}
    sweep_plots.convergence_curves(workdir / "convergence_curves.png", curves, fp)
  return fit.to_json()


def _read_at(cfg, f: ScalingFit, budget: str, *, known: bool) -> ScalingFit:
  """The fit of one budget with what the summary says of it: the budget, the plots' label where the run is not the
  plain fixed-steps study (every setting's panel carries it), and with `known` the exact answer beside it."""
  label = None
  if len(schedule.kinds(cfg)) > 1 or budget != "steps" or cfg.optim.b2_rule != "fixed":
    label = schedule.short(cfg, budget) + (
      f"; β2 follows B (b2 at B = {cfg.optim.b2_batch or min(cfg.sweep.batch_sizes)})"
      if cfg.optim.b2_rule != "fixed" and cfg.optim.name != "sgd"
      else ""
    )
  if label is not None:
    by_setting = tuple(dataclasses.replace(one, budget_label=label) for one in f.by_setting or ()) or None
    f = dataclasses.replace(f, budget_label=label, by_setting=by_setting)
  return dataclasses.replace(f, budget=budget, exact=nqm.known_answer(cfg, f, budget) if known else None)


def _injected(cfg, workdir, all_rows: list[dict]) -> dict:
  """Experiment 1.1: the FFN follows an injected upstream gradient; no loss to optimise, so no optimum and no fit."""
  if schedule.measure_steps(cfg):
    output_tables.write_outputs(workdir, cfg)
  lines = [
    f"experiment 1.1: the FFN follows an injected upstream gradient (data.upstream = {cfg.data.upstream}); there "
    "is no loss to learn, so no LR optimum. The tails are in alpha.csv and verdicts.csv; results.csv leaves the loss "
    "columns empty (the training objective is a surrogate whose value means nothing).",
    "",
    f"{'B':>5} {'lane':>24} {'clip_freq':>9} {'mean |g|':>10}",
  ]
  for r in all_rows:
    lane = f"lr={r['lr']:g},clip={'none' if r['clip'] is None else format(r['clip'], 'g')}"
    lines.append(f"{r['batch_size']:>5} {lane:>24} {r['clip_frequency']:>9.3f} {r['mean_grad_norm']:>10.4g}")
  _write_summary(workdir, "\n".join(lines) + "\n")
  return {}


def transfer_test(cfg, workdir, done: dict, fp: dict, *, the_plan: dict, ref_fit: dict) -> dict:
  """The transfer test's results.csv, transfer.json and summary.txt; returns the transfer report."""
  all_rows = _all_rows(cfg, done)
  files.write_csv(workdir / "results.csv", all_rows, lane_results.COLUMNS)
  rep = transfer.report(the_plan, ref_fit, all_rows)
  files.write_json(workdir / "transfer.json", rep)
  _write_summary(workdir, results_table.table(all_rows, fp) + "\n\n" + transfer.text(rep) + "\n", caveats(cfg, fp))
  return rep
