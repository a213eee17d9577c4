"""Steps to a target loss and the critical batch size, from the validation curves every sweep records.

Shallue et al. (2019) and McCandlish et al. (2018): the steps S a batch size needs to reach a target loss, at the
learning rate that gets there first (chosen per target and batch size), follow S = S_min (1 + B_crit / B), and the
examples (tokens) E = B·S follow E = E_min (1 + B / B_crit), E_min = S_min·B_crit: below B_crit doubling the batch
halves the steps; above it, it only doubles the data. Merrill et al. (2025) measure B_crit this way and warn that the
gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish) is only a rough proxy for it; both are reported, side by side.

How it is read from the curves:
- a lane's steps to a target are where its validation curve first reaches it, interpolated linearly in ln(step)
  between the two evaluations around the crossing (never extrapolated: a curve already below the target at its
  first evaluation is censored, and the automatic targets are chosen so that none is);
- each (LR, clip, weight decay, β2) candidate's curve is its seeds' average (the median where the loss has no mean),
  and a batch size's S is the smallest over candidates;
- automatic targets (analysis.target_losses = ()) are 4 losses evenly inside (every row's best loss, every curve's
  first evaluation after its row's warmup): each row reaches them, and none before its warmup ends (steps count from
  step 0, warmup included; a given target reached during a row's warmup measures the warmup and is left out);
- a winning LR at its grid's edge is flagged: a faster one may lie beyond it, so that S is an upper bound;
- the fit is least squares on ln S (relative errors) over the batch sizes that reached the target, with S_min in
  closed form for each B_crit and B_crit by a bounded search over ln B_crit; a B_crit outside the swept batch sizes
  is a bound, and is called one;
- the interval resamples each row's seeds (with two or more) and refits; with one seed it resamples the fit's
  residuals in ln S, and says so.

Written by hand: no library fits this model to censored, interpolated crossings. Jax-free.
"""

import math

import numpy as np

from tailjax import files, records, schedule
from tailjax.analysis import scaling

N_AUTO_TARGETS = 4
MIN_POINTS = 3  # a two-parameter curve through two points fits them exactly
_MEDIAN_NOTE = "seed median (the loss has no mean under stable noise)"


def crossing(steps_E, loss_E, target: float) -> float:
  """Steps for a curve to first reach `target`: interpolated in ln(step) between the evaluations around the
  crossing; inf if it never does; nan if it is already there at its first evaluation (censored)."""
  steps_E, loss_E = np.asarray(steps_E, float), np.asarray(loss_E, float)
  hit = np.flatnonzero(np.isfinite(loss_E) & (loss_E <= target))
  if not len(hit):
    return math.inf
  j = int(hit[0])
  if j == 0:
    return math.nan
  l0, l1 = loss_E[j - 1], loss_E[j]
  if not np.isfinite(l0):
    return math.nan
  u0, u1 = math.log(steps_E[j - 1]), math.log(steps_E[j])
  frac = (l0 - target) / (l0 - l1) if l0 > l1 else 1.0
  return float(math.exp(u0 + frac * (u1 - u0)))


def _lanes(row: dict) -> list[dict]:
  """One result per curve column (`lane_rows`; rows written before budgets existed have one row per lane)."""
  return row.get("lane_rows") or row["rows"]


def lane_groups(row: dict) -> dict:
  """{(lr, setting): {seed: the lane's validation curve [E]}} of one finished row (`done[b]`)."""
  val_ExR = np.asarray(row["val_loss"], float)
  groups = {}
  for r, lane in enumerate(_lanes(row)):
    groups.setdefault((lane["lr"], scaling.setting_of(lane)), {})[lane["seed"]] = val_ExR[:, r]
  return groups


def candidate_curves(groups: dict, average: str, seeds_pick=None) -> dict:
  """{(lr, setting): seed-averaged validation curve [E], made non-increasing} from `lane_groups`, over the seeds in
  `seeds_pick` (a list, repeats allowed: a bootstrap resample) or all of them."""
  out = {}
  for key, by_seed in groups.items():
    seeds = list(by_seed) if seeds_pick is None else [s for s in seeds_pick if s in by_seed]
    stack = np.array([by_seed[s] for s in seeds])  # [seeds, E]; a NaN (diverged) spreads to the average
    out[key] = _non_increasing(np.median(stack, axis=0) if average == "median" else stack.mean(axis=0))
  return out


def _non_increasing(loss_E):
  """The closest non-increasing curve (least squares: scipy's isotonic regression) to a curve's finite prefix; the
  rest (a diverged lane's NaN) is kept. Near its best LR a curve meets the target at a shallow angle, where the seeds'
  noise makes a raw curve dip below it early: the first passage of a noisy curve comes before that of its mean (on
  the noisy quadratic model with 8 seeds, 20% early at B = 4). Pooling the dips with their neighbours removes most of
  that bias (tests/test_critical_batch.py)."""
  from scipy.optimize import isotonic_regression

  loss_E = np.array(loss_E, float)
  finite = np.isfinite(loss_E)
  n = len(loss_E) if finite.all() else int(np.argmin(finite))
  if n > 1:
    loss_E[:n] = isotonic_regression(loss_E[:n], increasing=False).x
  return loss_E


def row_steps(row: dict, targets, average: str, seeds_pick=None, groups=None) -> tuple[list, list]:
  """Per target: (S, the (lr, setting) that got there first) for one row; S = inf where no candidate reached it,
  nan where the first one to reach it was already there at its first evaluation."""
  steps_E = row["eval_step"]
  curves = candidate_curves(groups or lane_groups(row), average, seeds_pick)
  best, which = [], []
  for t in targets:
    s_K = {k: crossing(steps_E, c, t) for k, c in curves.items()}
    if any(math.isnan(v) for v in s_K.values()):  # reached before its first evaluation: before any finite crossing
      k = next(k for k, v in s_K.items() if math.isnan(v))
    else:
      k = min(s_K, key=s_K.get)
    best.append(s_K[k])
    which.append(k)
  return best, which


def auto_targets(done: dict, average: str, n: int = N_AUTO_TARGETS, warmup=None) -> tuple[list[float], dict]:
  """n target losses evenly inside (the best loss every row reaches, the lowest value of any curve at its row's first
  evaluation once the warmup is over): every row reaches them, and none before the end of its warmup."""
  firsts, bests = [], []
  for b, row in done.items():
    curves = [c for c in candidate_curves(lane_groups(row), average).values() if np.isfinite(c).any()]
    if not curves:
      continue
    after = [i for i, s in enumerate(row["eval_step"]) if s >= (warmup or {}).get(b, 0)] or [len(row["eval_step"]) - 1]
    firsts += [c[after[0]] for c in curves if np.isfinite(c[after[0]])]
    bests.append(min(float(np.nanmin(c)) for c in curves))
  if not firsts or len(bests) < len(done):
    return [], {"low": None, "high": None}
  lo, hi = max(bests), min(firsts)
  if not hi > lo:
    return [], {"low": lo, "high": hi}
  return [float(hi - (hi - lo) * j / (n + 1)) for j in range(1, n + 1)], {"low": lo, "high": hi}


def fit(bs, steps) -> dict:
  """S = S_min (1 + B_crit / B) by least squares on ln S; B_crit searched over ln B in [ln B_min − 7, ln B_max + 7]
  (a thousand times past the swept range: at the edges the curve is a pure 1/B or a constant, and B_crit a bound)."""
  import scipy.optimize  # the bounded scalar search

  b = np.asarray(bs, float)
  ln_s = np.log(np.asarray(steps, float))

  def sse(u):
    shape = np.log1p(math.exp(u) / b)
    ln_smin = float(np.mean(ln_s - shape))
    return float(np.sum((ln_s - ln_smin - shape) ** 2)), ln_smin

  lo, hi = math.log(b.min()) - 7, math.log(b.max()) + 7
  grid = np.linspace(lo, hi, 141)
  shape_GxB = np.log1p(np.exp(grid)[:, None] / b[None, :])
  resid_GxB = ln_s[None, :] - shape_GxB
  i = int(np.argmin(np.sum((resid_GxB - resid_GxB.mean(axis=1, keepdims=True)) ** 2, axis=1)))
  res = scipy.optimize.minimize_scalar(lambda u: sse(u)[0], bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 140)]),
                                       method="bounded", options={"xatol": 1e-6})  # fmt: skip
  u = float(res.x)
  err, ln_smin = sse(u)
  b_crit, s_min = math.exp(u), math.exp(ln_smin)
  where = "inside" if b.min() <= b_crit <= b.max() else ("above" if b_crit > b.max() else "below")
  return {
    "b_crit": b_crit,
    "s_min": s_min,
    "e_min": s_min * b_crit,  # in examples (× T for tokens)
    "rmse_ln_s": math.sqrt(err / len(b)),
    "b_crit_vs_swept": where,
    "residuals_ln_s": (ln_s - ln_smin - np.log1p(b_crit / b)).tolist(),
  }


def _after_warmup(s: float, warmup: int) -> float:
  """S, or nan where the target was reached before the row's warmup ended."""
  return math.nan if np.isfinite(s) and s <= warmup else s


def _status(s: float, warmup: int) -> str:
  if s == math.inf:
    return "not reached"
  if math.isnan(s):
    return "censored: below the target at its first evaluation"
  if s <= warmup:
    return f"reached during its warmup ({warmup} steps): measures the warmup, left out of the fit"
  return "reached"


def _grid_edges(row: dict) -> dict:
  """{setting: (smallest LR, largest LR)} of a row's lanes."""
  lrs = {}
  for lr, setting in lane_groups(row):
    lrs.setdefault(setting, []).append(lr)
  return {k: (min(v), max(v)) for k, v in lrs.items()}


def _bootstrap(done: dict, target: float, average: str, point: dict, bs, *, n_boot: int, seed: int, warm=None) -> dict:
  """A percentile interval for B_crit: each row's seeds resampled (two or more seeds), else the residuals in ln S."""
  rng = np.random.default_rng(seed)
  groups = {b: lane_groups(done[b]) for b in bs}
  seeds = {b: sorted({lane["seed"] for lane in _lanes(done[b])}) for b in bs}
  by_seeds = min(len(s) for s in seeds.values()) >= 2
  found = []
  for _ in range(n_boot):
    if by_seeds:
      s_B = [
        _after_warmup(
          row_steps(done[b], [target], average, list(rng.choice(seeds[b], len(seeds[b]))), groups[b])[0][0],
          (warm or {}).get(b, 0),
        )
        for b in bs
      ]
    else:
      res = np.asarray(point["residuals_ln_s"]) * math.sqrt(len(bs) / max(len(bs) - 2, 1))
      fitted = np.log(point["s_min"]) + np.log1p(point["b_crit"] / np.asarray(bs, float))
      s_B = np.exp(fitted + rng.choice(res, len(bs))).tolist()
    if all(np.isfinite(s_B)):
      found.append(fit(bs, s_B)["b_crit"])
  if len(found) < n_boot // 2:
    return {"b_crit_ci": None, "n_boot": len(found), "resampled": "seeds" if by_seeds else "residuals in ln S"}
  lo, hi = np.percentile(np.log(found), [2.5, 97.5])
  if by_seeds:  # n seeds resampled have (n−1)/n of the seeds' variance: widen about the estimate by √(n/(n−1))
    n = min(len(s) for s in seeds.values())
    mid, widen = math.log(point["b_crit"]), math.sqrt(n / (n - 1))
    lo, hi = mid + widen * (lo - mid), mid + widen * (hi - mid)
  return {"b_crit_ci": [math.exp(lo), math.exp(hi)], "n_boot": len(found), "resampled": "seeds" if by_seeds else
          "residuals in ln S (one seed: the interval holds the fit's scatter only, not the seeds' noise)"}  # fmt: skip


def analyse(
  done: dict, fingerprint: dict, *, tokens_per_step: dict, targets=(), n_boot: int = 200, warmup=None
) -> dict:
  """critical_batch.json: per target, S and E per batch size, the fit and its interval.

  Args:
    done: {B: finished row} (eval_step, val_loss [E][R], lane_rows).
    tokens_per_step: {B: B·T (or B)}, to turn steps into tokens (examples).
    targets: target losses; () = `auto_targets`.
    warmup: {B: warmup steps}; a target reached before a row's warmup ends measures the warmup, not the batch size,
      and is left out of the fit.
  """
  average = scaling.seed_average(fingerprint)
  bs = sorted(done)
  warm = {b: (warmup or {}).get(b, 0) for b in bs}
  auto = not targets
  chosen, window = auto_targets(done, average, warmup=warm) if auto else (sorted(targets, reverse=True), None)
  out = {"average": _MEDIAN_NOTE if average == "median" else "seed mean", "targets_chosen": "auto" if auto else
         "analysis.target_losses", "target_window": window, "targets": []}  # fmt: skip
  if not chosen:
    out["note"] = (
      "no target loss that every row reaches after its first evaluation: the curves of different batch sizes do not "
      "overlap between evaluations (evaluate more often, eval.every / eval.every_tokens, or train longer)"
    )
    return out
  out["warmup_steps"] = warm
  steps_BxT, which_BxT = zip(*(row_steps(done[b], chosen, average) for b in bs), strict=True)
  edges = {b: _grid_edges(done[b]) for b in bs}
  b2_of = {b: {(r["lr"], scaling.setting_of(r)): r.get("b2") for r in _lanes(done[b])} for b in bs}
  for t_i, target in enumerate(chosen):
    s_B = [_after_warmup(steps_BxT[j][t_i], warm[b]) for j, b in enumerate(bs)]
    use = [j for j, s in enumerate(s_B) if np.isfinite(s)]
    per_b = []
    for j, b in enumerate(bs):
      lr, setting = which_BxT[j][t_i]
      edge = edges[b][setting]
      per_b.append({
        "batch_size": b,
        "steps": s_B[j] if np.isfinite(s_B[j]) else None,
        "tokens": s_B[j] * tokens_per_step[b] if np.isfinite(s_B[j]) else None,
        "lr": lr,
        **dict(zip(scaling.SETTING_KEYS, setting, strict=True)),
        "b2": b2_of[b].get((lr, setting)),  # the β2 the winner trained with (b2_ref names the config's)
        "lr_at_edge": "top" if lr == edge[1] else ("bottom" if lr == edge[0] else None),
        "status": _status(steps_BxT[j][t_i], warm[b]),
      })  # fmt: skip
    entry = {"target": target, "per_batch_size": per_b}
    if len(use) >= MIN_POINTS:
      b_use = [bs[j] for j in use]
      entry["fit"] = fit(b_use, [s_B[j] for j in use])
      entry["fit"] |= _bootstrap(done, target, average, entry["fit"], b_use, n_boot=n_boot, seed=t_i, warm=warm)
      s_use = [s_B[j] for j in use]
      rises = [(b_use[i], b_use[i + 1]) for i in range(len(use) - 1) if s_use[i + 1] > 1.1 * s_use[i]]
      if rises:
        entry["fit"]["warning"] = (
          f"S rises with B (B = {', '.join(f'{a}→{b}' for a, b in rises)}): S_min (1 + B_crit/B) cannot fall and rise, "
          "so this B_crit describes the points poorly"
        )
      tps = [tokens_per_step[b] / b for b in b_use]  # T per example (1 for non-text models)
      entry["fit"]["e_min_tokens"] = entry["fit"]["e_min"] * float(np.mean(tps))
    else:
      entry["note"] = f"{len(use)} batch size{'s' * (len(use) != 1)} reached it; the fit needs {MIN_POINTS}"
    out["targets"].append(entry)
  return out


def b_simple_rows(scale_rows: list[dict]) -> list[dict]:
  """B_simple = tr(Σ)/|G|² per measurement step: the median over the measured lanes of every row, and its range.
  A lane whose |G|² came out ≤ 0 (B_simple = inf: the noise swamps the mean gradient, B_simple is above what m
  examples can resolve) counts as +∞, not as missing: leaving it out would bias the median low. `unresolved` counts
  those lanes."""
  by_step = {}
  for r in scale_rows:
    v = float(r.get("b_simple", math.nan))
    if v == math.inf or (math.isfinite(v) and v > 0):
      by_step.setdefault(int(r["step"]), []).append(v)
  return [
    {
      "step": s,
      "median": float(np.median(v)),
      "min": float(min(v)),
      "max": float(max(v)),
      "lanes": len(v),
      "unresolved": sum(x == math.inf for x in v),
    }  # fmt: skip
    for s, v in sorted(by_step.items())
  ]


def known_answer(cfg, crit: dict, done: dict) -> dict:
  """On the noisy quadratic model with SGD: the exact steps to each target at each batch size (the closed form of
  E[L_N], the LR chosen from the same LRs each row swept), their critical-batch fit, and whether the measured
  interval covers its B_crit; B_simple at the start, exact."""
  from tailjax.analysis import nqm

  why_not = nqm.closed_form_applies(cfg)
  if why_not:
    return {"note": why_not}
  lrs = sorted({lane["lr"] for row in done.values() for lane in _lanes(row)})
  bs = sorted(done)
  exact = nqm.exact_steps_to_target([e["target"] for e in crit["targets"]], bs, d=cfg.model.d_model,
                                    power=cfg.data.spectrum_power, theta0=cfg.model.theta0, lrs=lrs)  # fmt: skip
  for e, x in zip(crit["targets"], exact["targets"], strict=True):
    ok = [j for j, s in enumerate(x["steps"]) if math.isfinite(s)]
    x["fit"] = fit([bs[j] for j in ok], [x["steps"][j] for j in ok]) if len(ok) >= MIN_POINTS else None
    ci = (e.get("fit") or {}).get("b_crit_ci")
    x["measured_ci_covers_it"] = None if not (ci and x["fit"]) else bool(ci[0] <= x["fit"]["b_crit"] <= ci[1])
  return exact


def _b_crit_line(e: dict, unit: str) -> str:
  """One target's B_crit, said as a bound where the fit lies outside the batch sizes swept (and E_min, S_min·B_crit,
  only where it is a value)."""
  f = e["fit"]
  ci = f.get("b_crit_ci")
  bs = [p["batch_size"] for p in e["per_batch_size"] if p["steps"] is not None]
  e_min = f"E_min = {f['e_min_tokens']:.4g} {unit}, "
  if f["b_crit_vs_swept"] == "inside":
    head = f"B_crit = {f['b_crit']:.3g}" + (f" [{ci[0]:.3g}, {ci[1]:.3g}]" if ci else " (no interval)")
  elif f["b_crit_vs_swept"] == "below":  # the interval's low end is the search's floor, not a measurement
    head = f"B_crit ≤ {ci[1]:.3g}" if ci else "B_crit: no interval"
    head += f" (the fit puts it at {f['b_crit']:.3g}, below the smallest batch size swept, {min(bs)}"
    head += (
      "; the upper limit lies inside the swept range, so 'below' is not established)"
      if ci and ci[1] >= min(bs)
      else ")"
    )
    e_min = ""
  else:
    head = f"B_crit ≥ {ci[0]:.3g}" if ci else "B_crit: no interval"
    head += f" (the fit puts it at {f['b_crit']:.3g}, above the largest batch size swept, {max(bs)}"
    head += (
      "; the lower limit lies inside the swept range, so 'above' is not established)"
      if ci and ci[0] <= max(bs)
      else "; steps still fall as B grows)"
    )
    e_min = ""
  return (
    f"  target {e['target']:.4g}: {head}; S_min = {f['s_min']:.4g} steps, {e_min}rms error of ln S "
    f"{f['rmse_ln_s']:.2f}, from {len(bs)} batch sizes"
    + (" (one degree of freedom: the interval means little)" if len(bs) == MIN_POINTS else "")
  )


def text(crit: dict, unit: str = "tokens") -> str:
  """summary.txt's lines on the critical batch size."""
  lines = ["critical batch size (steps to a target loss at the best LR per batch size; S = S_min (1 + B_crit/B)):"]
  if crit.get("note"):
    lines.append(f"  none: {crit['note']}")
  for e in crit.get("targets", []):
    if not e.get("fit"):
      lines.append(f"  target {e['target']:.4g}: no fit ({e['note']})")
    else:
      lines.append(_b_crit_line(e, unit))
    if (e.get("fit") or {}).get("warning"):
      lines.append(f"    CAVEAT: {e['fit']['warning']}")
    edge = [f"B={p['batch_size']} ({p['lr_at_edge']})" for p in e["per_batch_size"] if p.get("lr_at_edge")]
    if edge:
      lines.append(f"    the fastest LR is at its grid's edge for {', '.join(edge)}: a faster one may lie beyond, so "
                   "those S are upper bounds")  # fmt: skip
    warm = [f"B={p['batch_size']}" for p in e["per_batch_size"] if p["status"].startswith("reached during")]
    if warm:
      lines.append(f"    reached during the warmup, left out: {', '.join(warm)}")
  warm = crit.get("warmup_steps", {})
  if crit.get("targets") and any(warm.values()):
    lines.append("  steps count from step 0 and include each row's warmup ("
                 + ", ".join(f"B={b}: {w}" for b, w in warm.items()) + " steps)"
                 + ("; the automatic targets lie below every curve at its first evaluation after the warmup"
                    if crit.get("targets_chosen") == "auto" else ""))  # fmt: skip
  if crit.get("targets"):
    lines.append("  the curves are each row's whole run (under train.budget=both, the longer budget): S and B_crit do "
                 "not depend on the budget a fit is read at")  # fmt: skip
  settings = {
    tuple(p.get(k) for k in scaling.SETTING_KEYS) for e in crit.get("targets", []) for p in e["per_batch_size"]
  }
  if len(settings) > 1:
    lines.append("  each S is the fastest over every lane setting (LR × clip × weight decay × β2), as Shallue et al. "
                 "tune all of them; critical_batch.json names the winner per batch size")  # fmt: skip
  for r in crit.get("b_simple", []):
    spread = (f"median {r['median']:.3g} over {r['lanes']} measured lanes (range {r['min']:.3g}–{r['max']:.3g})"
              if r["min"] != r["max"] else f"{r['median']:.3g} (one value: the {r['lanes']} measured lanes read the "
              "same examples at the same parameters)")  # fmt: skip
    if r.get("unresolved"):
      spread += (f", {r['unresolved']} of them inf (|G|² estimated ≤ 0: the noise swamps the mean gradient, so "
                 "B_simple is above what the measured examples resolve; counted as +∞)")  # fmt: skip
    lines.append(f"  B_simple = tr(Σ)/|G|² at step {r['step']}: {spread}; a rough proxy for B_crit (McCandlish 2018; "
                 "Merrill et al. 2025)")  # fmt: skip
  exact = crit.get("exact", {})
  if exact.get("note"):
    lines.append(f"  known answer: none here ({exact['note']})")
  for x in exact.get("targets", []):
    covers = {True: "the measured interval covers it", False: "the measured interval does NOT cover it",
              None: "no measured interval"}[x["measured_ci_covers_it"]]  # fmt: skip
    got = f"B_crit = {x['fit']['b_crit']:.3g}; {covers}" if x["fit"] else "no fit"
    lines.append(f"  known answer, target {x['target']:.4g}: the exact steps to it (same LRs) give {got}")
  if "b_simple_at_start" in exact:
    at0 = [r for r in crit.get("b_simple", []) if r["step"] == 0]
    vs = (
      f"; measured at step 0: {at0[0]['median']:.3g} ({at0[0]['median'] / exact['b_simple_at_start']:.2f}×)"
      if at0
      else ""
    )
    lines.append(f"  known answer: B_simple at the start = Σh/Σh²θ0² = {exact['b_simple_at_start']:.3g}{vs}")
  if crit.get("targets"):
    lines.append(f"  (curves averaged by {crit['average']}; interval: {_resampled(crit)})")
  return "\n".join(lines)


def _resampled(crit: dict) -> str:
  kinds = {e["fit"]["resampled"] for e in crit["targets"] if e.get("fit")}
  return "; ".join(sorted(kinds)) or "none"


def from_sweep(cfg, done: dict, fp: dict, workdir, scale_rows=()) -> dict:
  """critical_batch.json of a finished sweep (its curves, and B_simple where the noise was measured); returns it with
  its summary lines under "summary"."""
  tps = {b: schedule.tokens_per_step(cfg, b) for b in done}
  warm = {b: schedule.plan(cfg, b).warmup_steps for b in done}
  crit = analyse(done, fp, tokens_per_step=tps, targets=tuple(cfg.analysis.target_losses), warmup=warm)
  crit["b_simple"] = b_simple_rows(list(scale_rows))
  from tailjax.analysis import nqm  # it imports this module

  if records.DataFacts.of(fp).known_answer == nqm.KNOWN_ANSWER and crit["targets"]:
    crit["exact"] = known_answer(cfg, crit, done)
  files.write_json(workdir / "critical_batch.json", crit)
  crit["summary"] = text(crit, schedule.unit_name(cfg))
  return crit
