"""Finished sweeps side by side: LR_opt(B), β and α per run, and the weight norms pooled across runs.

  python -m tailjax.compare_runs --out=runs/p4 runs/p4/adamw runs/p4/sgd runs/p4/muon

Phase 3c (widths, architectures) and Phase 4 (optimizers) train one sweep per setting, because a width or an
optimizer changes the parameter or state shapes and so cannot be a lane of one compiled program. Each run is named
by the config fields in which it differs from the others. Writes:
  runs.csv              per run: β with its interval, bracketed optima, Hill α per kind (median over lanes, middle k,
                        last measurement; empty where the run measured none), how many lanes' verdicts found a
                        power-law tail per kind (a Hill α is a tail index only where they do), the verdict
  lr_opt.csv            per run and batch size: LR_opt, censored, best loss
  lr_opt_by_run.png     LR_opt against B, one line per run (hollow triangles: optima on the grid's edge, bounds)
  weight_norm_fit.json, weight_norm_scaling.png   the weight-norm exponents over all runs (widths vary here)
  nqm_table.csv, nqm_table.md   runs of the noisy quadratic model: β against the study's 1 − 1/α, the
                        linear and square-root rules and SGD's exact slope; what the tail estimators said of the noise
"""

import csv
import json
import pathlib

from tailjax import files, records, workdir
from tailjax.analysis import nqm, sweep_plots, weight_norms
from tailjax.analysis.scaling_fit import ScalingFit
from tailjax.errors import UserError


def _read_csv(path) -> list[dict]:
  with open(path) as f:
    return list(csv.DictReader(f))


def load(workdirs) -> list[dict]:
  """Each run's config, scaling fit and (where present) alpha and weight-norm tables, with a label."""
  runs = []
  for wd in map(pathlib.Path, workdirs):
    if not wd.is_dir():
      raise UserError(f"{wd} does not exist or is not a folder; pass the workdirs of finished sweeps")
    if not (wd / "config.json").exists():
      raise UserError(f"{wd} has no config.json; pass the workdirs of finished sweeps")
    if not (wd / "scaling_fit.json").exists():
      raise UserError(
        f"{wd} has no scaling_fit.json: it is unfinished, or a run without an LR fit (Phase 1.1's injected FFN); "
        "pass the workdirs of finished LR sweeps"
      )
    runs.append({
      "dir": wd,
      "config": json.loads((wd / "config.json").read_text()),
      "fit": ScalingFit.from_json(json.loads((wd / "scaling_fit.json").read_text())),
      "alpha": _read_csv(wd / "alpha.csv") if (wd / "alpha.csv").exists() else [],
      "norms": _read_csv(wd / "weight_norms.csv") if (wd / "weight_norms.csv").exists() else [],
      "verdicts": _read_csv(wd / "verdicts.csv") if (wd / "verdicts.csv").exists() else [],
      "facts": records.DataFacts.of(json.loads((wd / "data.json").read_text()) if (wd / "data.json").exists() else {}),
    })  # fmt: skip
  differ = set()
  for r in runs[1:]:
    differ |= set(workdir.differing(runs[0]["config"], r["config"], workdir.RERUN_MAY_CHANGE))
  short = {k: k.split(".")[-2] if k.endswith(".name") else k.rsplit(".", 1)[-1] for k in differ}  # optim.name: optim
  short = {k: v if list(short.values()).count(v) == 1 else k for k, v in short.items()}  # ambiguous: keep dotted
  for r in runs:
    fields = [f"{short[k]}={compact_value(_get(r['config'], k))}" for k in sorted(differ, key=_names_first)]
    r["label"] = ", ".join(fields) or r["dir"].name
  return runs


def _names_first(dotted: str) -> tuple:
  """What a run is (optim.name, model.name, widths) before how it was swept."""
  return (not dotted.endswith((".name", ".d_model", ".variant")), dotted)


def compact_value(value) -> str:
  """A config value short enough for a legend: numbers as %g, long lists by their ends and length."""
  if isinstance(value, float):
    return f"{value:g}"
  if isinstance(value, list | tuple):
    items = [compact_value(v) for v in value]
    shown = items if len(items) <= 4 else [*items[:2], "…", items[-1]]
    return "(" + " ".join(shown) + (f"; {len(items)})" if len(items) > 4 else ")")
  return str(value)


def _get(d: dict, dotted: str):
  for k in dotted.split("."):
    d = d.get(k) if isinstance(d, dict) else None
  return d


def summarise(runs: list[dict]) -> tuple[list[dict], list[dict]]:
  per_run, per_b = [], []
  for r in runs:
    c, fit = r["config"], r["fit"]
    ratios = sorted(c["measure"]["k_ratios"])
    alpha = weight_norms.alpha_by_kind(r["alpha"], ratios[len(ratios) // 2]) if r["alpha"] else {}
    ci = fit.beta_ci or [None, None]
    per_run.append({
      "run": r["label"], "workdir": str(r["dir"]), "model": c["model"]["name"], "width": c["model"]["d_model"],
      "optimizer": c["optim"]["name"], "beta": fit.beta, "beta_ci_low": ci[0], "beta_ci_high": ci[1],
      "n_bracketed": fit.n_bracketed, **{f"hill_alpha_{k}": v for k, v in sorted(alpha.items())},
      **power_law_share(r["verdicts"]),
      "verdict": fit.verdict,
    })  # fmt: skip
    exact = fit.exact or {}  # the noisy quadratic model's known answer (SGD)
    star = dict(zip(exact.get("batch_sizes", []), exact.get("lr_star", []), strict=True))
    for one in fit.settings():  # clip or weight-decay lanes (Phase 3b): each setting its own line
      name = r["label"] + (f" ({one.setting})" if one.setting else "")
      for o in one.per_batch_size:
        per_b.append({"run": name, "batch_size": o["batch_size"], "lr_opt": o["lr_opt"],
                      "censored": o["censored"] or "", "best_loss": o["best_loss"],
                      "exact_lr_star": star.get(o["batch_size"], "")})  # fmt: skip
  return per_run, per_b


def power_law_share(verdicts: list[dict]) -> dict:
  """Per kind, how many lanes' full verdicts (last measurement) found a power-law tail, e.g. "8/20": a Hill α means
  a tail index only where the verdict says there is a power law (docs/science.md §1)."""
  if not verdicts:
    return {}
  last = max(int(v["step"]) for v in verdicts)
  out = {}
  for v in verdicts:
    if int(v["step"]) == last and v["group"].startswith("all "):
      yes, n = out.get(v["group"][4:], (0, 0))
      out[v["group"][4:]] = (yes + (v["category"] == "power law"), n + 1)
  return {f"power_law_verdicts_{k}": f"{yes}/{n}" for k, (yes, n) in sorted(out.items())}


def _norm_rows(runs) -> list[dict]:
  out = []
  for r in runs:
    for n in r["norms"]:
      row = dict(n)
      for k in ("batch_size", "width", "elements"):
        row[k] = int(row[k])
      for k in ("lr", "weight_decay", "norm", "kosson_prediction", "study_predictor"):
        row[k] = float(row[k])
      row["steady"] = row["steady"] == "True"
      out.append(row)
  return out


def plot(path, per_b: list[dict]) -> None:
  import textwrap

  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
  for i, run in enumerate(dict.fromkeys(p["run"] for p in per_b)):
    pts = [p for p in per_b if p["run"] == run and p["lr_opt"] is not None]
    ok = [p for p in pts if not p["censored"]]
    label = textwrap.fill(run, 70)  # the legend sits below the axes: a long name wraps instead of running off
    if ok:
      ax.plot([p["batch_size"] for p in ok], [p["lr_opt"] for p in ok], "o-", color=f"C{i % 10}", label=label)
    for p in pts:
      if p["censored"] in ("high", "low"):
        ax.plot(p["batch_size"], p["lr_opt"], "^" if p["censored"] == "high" else "v", color=f"C{i % 10}", mfc="none",
                label=None if ok else label + " (bounds only)")  # fmt: skip
        ok = ok or [p]  # one legend entry per run
  exact = {(p["batch_size"], p["exact_lr_star"]) for p in per_b if p.get("exact_lr_star") not in (None, "")}
  if exact:  # the noisy quadratic model's closed form (the same curve for every SGD run of one setup)
    bs, lr_star = zip(*sorted(exact), strict=True)
    ax.plot(bs, lr_star, "k--", lw=1, label="exact LR*(B) (SGD's closed form)")
  ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="LR_opt")
  sweep_plots.batch_ticks(ax, [p["batch_size"] for p in per_b])
  ax.set_title("optimal learning rate per run (hollow: bound at the grid's edge)", fontsize=9)
  fig.legend(loc="outside lower center", fontsize=7)
  files.write_figure(path, fig)
  plt.close(fig)


def write(out, workdirs) -> list[str]:
  """Writes the comparison of the finished sweeps in `workdirs` to folder `out`; returns the lines to print."""
  runs = load(workdirs)
  out = pathlib.Path(out)
  per_run, per_b = summarise(runs)
  files.write_csv(out / "runs.csv", per_run, list(dict.fromkeys(k for r in per_run for k in r)))
  files.write_csv(out / "lr_opt.csv", per_b, ["run", "batch_size", "lr_opt", "censored", "best_loss", "exact_lr_star"])
  plot(out / "lr_opt_by_run.png", per_b)
  norms = _norm_rows(runs)
  if norms:
    fit = weight_norms.fit(norms)
    files.write_json(out / "weight_norm_fit.json", fit)
    weight_norms.plot(out / "weight_norm_scaling.png", norms, fit)
  lines = [f"{r['run']}: {r['verdict']}" for r in per_run]
  if all(r["facts"].known_answer == nqm.KNOWN_ANSWER for r in runs):  # the noisy quadratic lab's table
    table = [nqm.experiment_row(r) for r in runs]
    files.write_csv(out / "nqm_table.csv", table, list(dict.fromkeys(k for r in table for k in r)))
    text = nqm.experiment_text(table)
    files.write_text(out / "nqm_table.md", text + "\n")
    lines += ["", text, f"wrote {out}/nqm_table.csv, nqm_table.md"]
  extra = ", weight_norm_fit.json, weight_norm_scaling.png" if norms else ""
  return lines + [f"wrote {out}/runs.csv, lr_opt.csv, lr_opt_by_run.png{extra}"]
