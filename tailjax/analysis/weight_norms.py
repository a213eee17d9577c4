"""Steady-state weight norms against the study's planned scaling rules (its never-written `scaling_rules.py`).

With decoupled weight decay λ and learning rate η a weight matrix's norm settles where decay balances the updates.
For AdamW, whose updates have a per-element size of about η, Kosson et al. (2024, "rotational equilibrium") give
‖W‖ ≈ √(η·C/(2λ)) for a matrix of C elements. The study proposed ‖W‖ ∝ √(η/λ)·d^0.75 (d the model width) with a
batch-size factor B^(1/(2α) − 1/2) from the gradient noise's tail index α. Both are tested here, as exponents:

    ln ‖W‖ = a + p·ln(η/λ) + q·ln d + r·ln B      (per kind of matrix; a regressor enters only where it varies)

p against ½, q against ¾ (the study) and 1 (Kosson, square matrices C = d²), r against 1/(2α) − ½ with α the
measured Hill index of that kind. Intervals are a percentile bootstrap over lanes. A lane is steady when its norm
moved by less than `STEADY_TOL` over the last eval interval and it trained for at least `MIN_TIMESCALES` decay times
1/(ηλ) (a slowly decaying norm also changes little per interval, far from equilibrium); the fit uses the steady
lanes only and says how many there were.
"""

import math

import numpy as np

from tailjax import files
from tailjax.analysis import sweep_plots
from tailjax.models import param_kinds

STEADY_TOL = 0.05  # relative change of ‖W‖ over the last eval interval below which a lane counts as steady
MIN_TIMESCALES = 3.0  # ... and at least this many decay times 1/(ηλ) trained (e^-3: 5% of the start left)
COLUMNS = ["batch_size", "lr", "weight_decay", "seed", "clip", "origin", "width", "optimizer", "matrix", "kind",
           "elements", "norm", "norm_before", "rel_change", "decay_timescales", "steady", "study_predictor",
           "kosson_prediction"]  # fmt: skip


def table(done: dict, cfg) -> list[dict]:
  """One row per (lane, weight matrix) from finished rows' `matrix_norms` (eval points × lanes)."""
  out = []
  for b, d in done.items():
    shapes = d.get("matrix_shapes", {})
    for path, norms in d.get("matrix_norms", {}).items():
      norms_ExR = np.asarray(norms, float)
      elements = int(np.prod(shapes.get(path, [0])))
      for r, lane in enumerate(d.get("lane_rows", d["rows"])):  # one per curve column, at the row's whole length
        if lane["diverged"]:
          continue
        last = norms_ExR[-1, r]
        before = norms_ExR[-2, r] if len(norms_ExR) > 1 else math.nan
        change = abs(last - before) / last if last > 0 and math.isfinite(before) else math.nan
        lr, wd = lane["lr"], lane["weight_decay"]
        out.append({
          "batch_size": b, "lr": lr, "weight_decay": wd, "seed": lane["seed"], "clip": lane["clip"],
          "origin": lane.get("origin", "grid"), "width": cfg.model.d_model, "optimizer": cfg.optim.name,
          "matrix": path, "kind": param_kinds.group_kind(path.replace(".", "/"), 2), "elements": elements,
          "norm": float(last), "norm_before": float(before), "rel_change": float(change),
          "decay_timescales": lr * wd * lane.get("steps", cfg.train.steps),
          "steady": bool(change < STEADY_TOL and lr * wd * lane.get("steps", cfg.train.steps) >= MIN_TIMESCALES),
          "study_predictor": math.sqrt(lr / wd) * cfg.model.d_model**0.75 if wd > 0 else math.nan,
          "kosson_prediction": math.sqrt(lr * elements / (2 * wd)) if wd > 0 else math.nan,
        })  # fmt: skip
  return out


def _lstsq(rows, names):
  y = np.log([r["norm"] for r in rows])
  cols = {
    "ln(lr/wd)": [math.log(r["lr"] / r["weight_decay"]) for r in rows],
    "ln width": [math.log(r["width"]) for r in rows],
    "ln B": [math.log(r["batch_size"]) for r in rows],
  }
  x = np.column_stack([np.ones(len(rows))] + [cols[n] for n in names])
  coef, *_ = np.linalg.lstsq(x, y, rcond=None)
  return coef[1:], x, y


def fit(rows: list[dict], alpha_by_kind: dict | None = None, n_boot: int = 500, seed: int = 0) -> dict:
  """Exponents p, q, r per kind with 95% intervals, against the predictions; `alpha_by_kind` maps a kind to the
  measured Hill α (for the batch-size factor)."""
  rng = np.random.default_rng(seed)
  usable = [r for r in rows if r["weight_decay"] > 0 and r["norm"] > 0]
  out = {"steady_tol": STEADY_TOL, "kinds": {}}
  if not usable:
    out["note"] = "no lane with weight decay > 0: η/λ is undefined; add sweep.weight_decays"
    return out
  for kind in sorted({r["kind"] for r in usable}):
    of_kind = [r for r in usable if r["kind"] == kind]
    steady = [r for r in of_kind if r["steady"]]
    use = steady if len(steady) >= 3 else of_kind
    names = [n for n, key in (("ln(lr/wd)", None), ("ln width", "width"), ("ln B", "batch_size"))
             if len({(r["lr"] / r["weight_decay"]) if key is None else r[key] for r in use}) > 1]  # fmt: skip
    entry = {"n": len(of_kind), "n_steady": len(steady), "fitted_on": "steady lanes" if use is steady else
             "all lanes (fewer than 3 steady: norms still moving, the equilibrium rules do not apply yet)"}  # fmt: skip
    if not names or len(use) <= len(names) + 1:
      entry["note"] = "nothing varies enough to fit (need lanes at several lr/wd, widths or batch sizes)"
      out["kinds"][kind] = entry
      continue
    coef, x, y = _lstsq(use, names)
    boots = []
    for _ in range(n_boot):
      pick = rng.integers(0, len(use), len(use))
      if np.linalg.matrix_rank(x[pick]) == x.shape[1]:
        boots.append(np.linalg.lstsq(x[pick], y[pick], rcond=None)[0][1:])
    ci = np.percentile(boots, [2.5, 97.5], axis=0) if len(boots) >= n_boot // 2 else None
    ratios = [r["norm"] / r["kosson_prediction"] for r in use if r["optimizer"] == "adamw"]
    entry["exponents"] = {
      n: {"value": float(coef[j]), "ci": None if ci is None else [float(ci[0, j]), float(ci[1, j])]}
      for j, n in enumerate(names)
    }
    predicted = {"ln(lr/wd)": {"study and Kosson": 0.5}, "ln width": {"study": 0.75, "Kosson (C = d²)": 1.0}}
    alpha = (alpha_by_kind or {}).get(kind)
    if alpha:
      predicted["ln B"] = {f"study: 1/(2α) − 1/2 with measured α = {alpha:.2f}": 1 / (2 * alpha) - 0.5}
    for n, e in entry["exponents"].items():
      e["predictions"] = {
        who: {"value": v, "inside_ci": None if e["ci"] is None else e["ci"][0] <= v <= e["ci"][1]}
        for who, v in predicted.get(n, {}).items()
      }
    if "ln B" in names and not alpha:
      entry["exponents"]["ln B"]["note"] = "no α measured for this kind (set measure.steps) to test B^(1/(2α)−1/2)"
    if ratios:
      entry["adamw_norm_over_kosson"] = {"median": float(np.median(ratios)), "min": float(min(ratios)),
                                         "max": float(max(ratios))}  # fmt: skip
    out["kinds"][kind] = entry
  return out


def alpha_by_kind(alpha_rows: list[dict], mid_ratio: float) -> dict:
  """Median over lanes of the Hill α at the middle k ratio, last measurement, per pooled kind ("all ffn" → ffn)."""
  hill = [r for r in alpha_rows if r["estimator"] == "hill" and r["group"].startswith("all ")
          and float(r["k_ratio"] or 0) == mid_ratio]  # fmt: skip
  if not hill:
    return {}
  last = max(int(r["step"]) for r in hill)
  by = {}
  for r in hill:
    if int(r["step"]) == last and math.isfinite(float(r["value"])):
      by.setdefault(r["group"][4:], []).append(float(r["value"]))
  return {k: float(np.median(v)) for k, v in by.items()}


def plot(path, rows: list[dict], result: dict) -> None:
  import matplotlib.pyplot as plt

  fig = figure(rows, result)
  files.write_figure(path, fig)
  plt.close(fig)


def figure(rows: list[dict], result: dict):
  """weight_norm_scaling.png's figure: final norms against the study's predictor; the exponents only of kinds fitted
  on steady lanes (a fit on moving norms is no steady-state exponent, and the title says when none is steady)."""
  import matplotlib.pyplot as plt

  use = [r for r in rows if r["weight_decay"] > 0]
  fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
  kinds = sorted({r["kind"] for r in use})
  bs = sorted({r["batch_size"] for r in use})
  for i, kind in enumerate(kinds):
    for j, b in enumerate(bs):
      pts = [r for r in use if r["kind"] == kind and r["batch_size"] == b]
      if pts:
        ax.scatter([r["study_predictor"] for r in pts], [r["norm"] for r in pts], s=14, marker="os^vD<>"[i % 7],
                   color=f"C{j % 10}", facecolors="none" if not all(r["steady"] for r in pts) else None,
                   label=f"{kind}, B={b}")  # fmt: skip
  lines, any_steady = [], False
  for kind, e in result.get("kinds", {}).items():
    p = e.get("exponents", {}).get("ln(lr/wd)")
    if e.get("fitted_on") != "steady lanes":  # a fit on moving norms is no steady-state exponent: none is shown
      lines.append(f"{kind}: {e['n_steady']}/{e['n']} matrices × lanes steady, too few for a steady-state fit")
    elif p:
      any_steady = True
      ci = f" [{p['ci'][0]:.2f}, {p['ci'][1]:.2f}]" if p["ci"] else ""
      lines.append(f"{kind}: ‖W‖ ∝ (η/λ)^{p['value']:.2f}{ci} ({e['n_steady']}/{e['n']} steady)")
  ax.set(xscale="log", yscale="log", xlabel="√(η/λ)·d^0.75 (the study's rule)", ylabel="‖W‖ at the end (Frobenius)")
  sweep_plots.plain_log_ticks(ax.xaxis)
  head = "steady-state weight norms" if any_steady else "weight norms at the end: no steady state reached"
  ax.set_title(f"{head} (hollow: not yet steady)\n" + "\n".join(lines), fontsize=8)
  fig.legend(fontsize=6, loc="outside right upper")  # beside the axes: no point hidden under it
  return fig
