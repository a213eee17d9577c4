"""LR_opt per batch size from a results grid, and the log-log fit LR_opt = C·B^β.

An optimum on the first or last learning rate of a row is censored: the true optimum lies beyond the grid, so that
point is a one-sided bound and does not enter the fit (docs/science.md §4). The study's own method, a fit through every
grid argmin, is reported beside it under a name that says what it is.
"""

import dataclasses
import math
from collections import defaultdict

import numpy as np

from tailjax import records
from tailjax.analysis.scaling_fit import ScalingFit

LEARNED_NOTHING = 0.99  # a best loss above this fraction of ln V is chance level: the row has no optimum


def seed_average(fingerprint: dict) -> str:
  """How the final losses of a grid point's seeds are averaged: their mean, or the median where the task says its
  loss has no mean (`records.DataFacts.seed_statistic`)."""
  return records.DataFacts.of(fingerprint).seed_statistic


def optima(rows: list[dict], half_width: int = 1, check: bool = True, average: str = "mean") -> list[dict]:
  """Grid argmin of the seed-averaged (`average`: mean or median) final validation loss, per batch size, refined by
  `_vertex`; with `check`, the refinement only where `_refinement_trusted` (`lr_opt_source` says which the row
  reports: "refined", "grid" or "bound" for a censored one; `lr_opt_refined` keeps the parabola's value either way).

  All rows must share one clip setting (see `fit`). Diverged lanes count as +inf. Where the rows carry `ln_vocab`
  and even the best loss is within 1% of it, nothing was learned at any LR: the argmin is noise, and the row is
  censored as "learned_nothing" (docs/science.md §5). Returns one dict per
  batch size, ascending.
  """
  ln_v = next((float(r["ln_vocab"]) for r in rows if r.get("ln_vocab") not in (None, "")), None)
  by_b = defaultdict(lambda: defaultdict(list))
  for r in rows:
    loss = r["final_val_loss"]
    by_b[r["batch_size"]][r["lr"]].append(loss if np.isfinite(loss) else math.inf)
  out = []
  for b in sorted(by_b):
    lrs = sorted(by_b[b])
    loss_L = np.array([(np.median if average == "median" else np.mean)(by_b[b][lr]) for lr in lrs])
    if not np.isfinite(loss_L).any():
      out.append({"batch_size": b, "lr_opt": None, "censored": "all_diverged", "best_loss": None})
      continue
    i = int(np.argmin(loss_L))
    lr_refined = _vertex(lrs, loss_L, i, half_width)
    # the check compares the 3- and 5-point vertices whichever is used: with the 5-point one it would compare it with
    # itself, and the bootstrap's 5-point resamples refined where the estimate kept the grid point
    three = lr_refined if half_width == 1 else _vertex(lrs, loss_L, i, 1)
    refine_ok = not check or _refinement_trusted(lrs, loss_L, i, three)
    censored = None
    if len(lrs) == 1:
      censored = "single_point"
    elif i == 0:
      censored = "low"
    elif i == len(lrs) - 1:
      censored = "high"
    if ln_v is not None and loss_L[i] >= LEARNED_NOTHING * ln_v:
      censored = "learned_nothing"
      if i == 0 and len(lrs) > 1 and loss_L[0] > ln_v / LEARNED_NOTHING:
        # worse than the start (or chance) even at the smallest LR, and worse still above it: the steps are too
        # large, not too small (the quadratic model under stable noise): the optimum lies below the grid
        censored = "low"
    # A censored optimum's bracket is one-sided: above the grid's last LR (high) or below its first (low).
    bracket = [lrs[max(i - 1, 0)], lrs[min(i + 1, len(lrs) - 1)]]
    if censored == "high":
      bracket = [lrs[i], None]
    elif censored == "low":
      bracket = [None, lrs[i]]
    elif censored is not None:
      bracket = [None, None]
    refined = censored is None and refine_ok
    out.append(
      {
        "batch_size": b,
        "lr_opt": lr_refined if refined else lrs[i],
        "lr_opt_grid": lrs[i],
        "lr_opt_refined": lr_refined if censored is None else None,
        "lr_opt_source": "refined" if refined else "grid" if censored is None else "bound",
        "lr_opt_bracket": bracket,
        "censored": censored,
        "unimodal": _unimodal(loss_L),
        "best_loss": float(loss_L[i]),
        "grid": lrs,
        "mean_val_loss": [float(x) for x in loss_L],
      }
    )
  return out


def _unimodal(loss_L) -> bool:
  """Whether the finite losses against LR fall to one minimum and rise after it (a second dip means the grid's
  argmin may be noise, or the loss has two basins: the row is flagged)."""
  finite = np.asarray([v for v in loss_L if np.isfinite(v)])
  if finite.size < 3:
    return True
  minima = [j for j in range(finite.size) if (j == 0 or finite[j] < finite[j - 1]) and (j == finite.size - 1 or
            finite[j] < finite[j + 1])]  # fmt: skip
  return len(minima) <= 1


def _refinement_trusted(lrs, loss_L, i: int, lr_refined: float) -> bool:
  """Whether the parabola's minimum may replace the grid argmin. A 3-point parabola always predicts an improvement,
  so it cannot check itself; where a fourth or fifth finite point is at hand (two each side at most), the
  least-squares parabola through them must put its minimum within a quarter of a grid step (in ln LR) of the 3-point
  one. When they disagree the loss is not a parabola around its minimum (an asymmetric valley, a noisy neighbour) and
  the grid point stands."""
  more = [j for j in (i - 2, i + 2) if 0 <= j < len(lrs) and np.isfinite(loss_L[j])]
  if lr_refined == lrs[i] or not more:
    return True
  five = _vertex(lrs, loss_L, i, half_width=2)
  step = min(math.log(lrs[i] / lrs[i - 1]), math.log(lrs[i + 1] / lrs[i]))
  return abs(math.log(five) - math.log(lr_refined)) <= 0.25 * step


def _vertex(lrs, loss_L, i: int, half_width: int = 1) -> float:
  """The minimum of the parabola in ln LR through the best grid point and its two neighbours, kept inside them; the
  grid point itself where it has no two finite neighbours or the parabola opens downwards.

  With half_width = 2 the parabola is the least-squares one through up to two finite points each side (a second
  refinement the bootstrap draws from, so β's interval covers the choice of refinement too)."""
  if i == 0 or i == len(lrs) - 1 or not np.isfinite(loss_L[i - 1 : i + 2]).all():
    return lrs[i]
  lo, hi = i - 1, i + 2
  while half_width > 1 and lo > i - half_width and lo > 0 and np.isfinite(loss_L[lo - 1]):
    lo -= 1
  while half_width > 1 and hi < i + half_width + 1 and hi < len(lrs) and np.isfinite(loss_L[hi]):
    hi += 1
  u = np.log(lrs[i - 1 : i + 2])
  a, b, _ = np.polyfit(np.log(lrs[lo:hi]), loss_L[lo:hi], 2)
  if a <= 0:
    return lrs[i]
  return float(np.exp(np.clip(-b / (2 * a), u[0], u[2])))


THEORIES = {"square-root rule": 0.5, "'Laplace' 2/3": 2 / 3, "linear": 1.0}
MIN_FOR_BETA = 3  # bracketed optima a β is fitted from: through two, any line fits exactly


def bootstrap_beta(rows: list[dict], n_boot: int = 1000, seed: int = 0, average: str = "mean") -> dict:
  """A 95% interval for β: the optima are refined and refitted on resampled losses. With several seeds the seeds
  are resampled per grid point; with one seed each loss is redrawn from N(loss, train_loss_std²) (its noise over the
  last steps; 0.005 where the column is missing). Each resample also draws its refinement (3-point or 5-point
  parabola), so the interval covers that choice, and applies the point estimate's own check (`_refinement_trusted`):
  without it the resamples refined where the estimate kept the grid point, and the interval could miss the estimate
  (measured on the noisy quadratic model: β = 0.359 with an interval [0.20, 0.36]). Resamples with fewer than
  MIN_FOR_BETA bracketed optima are left out."""
  rng = np.random.default_rng(seed)
  by_point = defaultdict(list)
  for r in rows:
    by_point[(r["batch_size"], r["lr"])].append(r)
  betas = []
  for _ in range(n_boot):
    fake = []
    for (b, lr), rs in by_point.items():
      if len(rs) > 1:
        picks = [rs[j] for j in rng.integers(0, len(rs), len(rs))]
        fake += [{"batch_size": b, "lr": lr, "final_val_loss": p["final_val_loss"], "ln_vocab": p.get("ln_vocab")}
                 for p in picks]  # fmt: skip
      else:
        sd = rs[0].get("train_loss_std")
        sd = float(sd) if sd not in (None, "") and np.isfinite(float(sd)) else 0.005
        loss = rs[0]["final_val_loss"] + rng.normal(0, sd)
        fake.append({"batch_size": b, "lr": lr, "final_val_loss": loss, "ln_vocab": rs[0].get("ln_vocab")})
    resampled = optima(fake, half_width=int(rng.integers(1, 3)), average=average)  # the estimator's own check
    opts = [o for o in resampled if o["censored"] is None]
    if len(opts) >= MIN_FOR_BETA:
      betas.append(power_law([o["batch_size"] for o in opts], [o["lr_opt"] for o in opts])["beta"])
  if len(betas) < n_boot // 2:
    return {"beta_ci": None, "n_boot": len(betas)}
  lo, hi = np.percentile(betas, [2.5, 97.5])
  return {"beta_ci": [float(lo), float(hi)], "n_boot": len(betas)}


def mccandlish(b, eps_max, b_noise):
  """McCandlish et al. (2018): ε_opt(B) = ε_max / (1 + B_noise/B) (SGD; saturates above B_noise)."""
  return eps_max / (1.0 + b_noise / np.asarray(b, float))


def surge(b, eps_max, b_noise):
  """The Adam 'surge' form (Li et al. 2024): ε_opt(B) = 2 ε_max / (√(B_noise/B) + √(B/B_noise)); peaks at B_noise."""
  r = np.asarray(b, float) / b_noise
  return 2.0 * eps_max / (np.sqrt(1.0 / r) + np.sqrt(r))


def noisy_quadratic_optimum(g_sq: float, ghg: float, tr_h_sigma: float, b) -> np.ndarray:
  """The ε minimising ΔL(ε) = −ε|G|² + ½ε²(GᵀHG + tr(HΣ)/B): ε_max/(1 + B_noise/B) with ε_max = |G|²/GᵀHG and
  B_noise = tr(HΣ)/GᵀHG (McCandlish et al. 2018, §2.2)."""
  return g_sq / (ghg + tr_h_sigma / np.asarray(b, float))


def compare_forms(bs, lrs) -> dict:
  """Power law, McCandlish and surge fitted to the bracketed optima in ln LR (least squares, 2 parameters each),
  compared by AIC = n ln(RSS/n) + 2k; with equal k that ranks by residual. Needs 3+ points."""
  import scipy.optimize  # the least-squares fits

  x, y = np.asarray(bs, float), np.log(np.asarray(lrs, float))
  if len(set(bs)) < 3:
    return {"note": "fewer than 3 bracketed optima: the forms cannot be told apart"}
  out = {}
  pl = np.polyfit(np.log(x), y, 1)
  forms = {"power_law": (lambda b, c, beta: np.log(c) + beta * np.log(b), (math.exp(pl[1]), pl[0]))}
  lr0 = float(np.exp(y.max()))
  forms["mccandlish"] = (lambda b, e, bn: np.log(mccandlish(b, e, bn)), (2 * lr0, float(np.median(x))))
  forms["surge"] = (lambda b, e, bn: np.log(surge(b, e, bn)), (lr0, float(np.median(x))))
  for name, (f, p0) in forms.items():
    try:
      params, _ = scipy.optimize.curve_fit(
        f, x, y, p0=p0, bounds=([1e-12, -10 if name == "power_law" else 1e-6], [1e3, 1e9]), maxfev=20_000
      )
      rss = float(np.sum((y - f(x, *params)) ** 2))
      out[name] = {
        "params": [float(v) for v in params],
        "rss": rss,
        "aic": len(x) * math.log(max(rss, 1e-300) / len(x)) + 4,
      }
    except (RuntimeError, ValueError) as e:
      out[name] = {"error": str(e)}
  fitted = {k: v["aic"] for k, v in out.items() if "aic" in v}
  if fitted:
    out["best_by_aic"] = min(fitted, key=fitted.get)
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


def fit(rows: list[dict], fingerprint: dict, n_boot: int = 1000) -> ScalingFit:
  """The fit written to scaling_fit.json (`ScalingFit.to_json`).

  With clip thresholds or weight decays as lanes (Phases 3b, weight norms) each (clip, weight decay) setting is its
  own grid: `by_setting` holds one fit per setting, each named by its `setting` label; the top-level fields are those
  of the first (`top_level_setting` names it) and the top-level `verdict` has one line per setting.
  """
  keys = list(dict.fromkeys(setting_of(r) for r in rows))
  fits = [
    ScalingFit(**dict(zip(SETTING_KEYS, key, strict=True)),
               **fit_one([r for r in rows if setting_of(r) == key], fingerprint, n_boot))
    for key in keys
  ]  # fmt: skip
  if len(fits) == 1:
    return fits[0]
  vary = [k for k in SETTING_KEYS if len({setting_value(getattr(f, k)) for f in fits}) > 1]
  short = {"weight_decay": "wd", "b2_ref": "b2"}
  fits = [
    dataclasses.replace(f, setting=", ".join(f"{short.get(k, k)} = {setting_value(getattr(f, k))}" for k in vary))
    for f in fits
  ]
  verdict = "\n".join(f"{f.setting}: {f.verdict}" for f in fits)
  return dataclasses.replace(fits[0], verdict=verdict, top_level_setting=fits[0].setting, by_setting=tuple(fits))


SETTING_KEYS = ("clip", "weight_decay", "b2_ref")  # lane axes besides the LR and the seed: each value its own grid


def setting_of(r: dict) -> tuple:
  """A result's (clip, weight decay, β2 named by the config) setting; the LR grid of each setting is fitted apart."""
  return tuple(r.get(k) for k in SETTING_KEYS)


def setting_value(x) -> str:
  """A clip threshold or weight decay as a label: "none" for no clipping (None, or "None"/"" read from a table)."""
  if x is None or str(x).strip().lower() in ("", "none"):
    return "none"
  try:
    return f"{float(x):g}"
  except ValueError:
    return str(x)


def fit_one(rows: list[dict], fingerprint: dict, n_boot: int = 1000) -> dict:
  """The fit for rows that share one lane setting: ScalingFit's fields from `method` to `unigram_entropy`."""
  average = seed_average(fingerprint)
  opts = optima(rows, average=average)
  ref = records.DataFacts.of(fingerprint).chance
  chance = "the chance level" if ref is None else f"{ref.name} ({ref.means})"
  bracketed = [o for o in opts if o["censored"] is None]
  have_opt = [o for o in opts if o["lr_opt"] is not None]
  slope = power_law([o["batch_size"] for o in bracketed], [o["lr_opt"] for o in bracketed])
  # A line through two points fits them exactly: their slope is no measurement of β, and is kept only under its name.
  main = slope if len(bracketed) >= MIN_FOR_BETA else {"beta": None, "c": None, "r2": None, "n": len(bracketed)}
  naive = power_law([o["batch_size"] for o in have_opt], [o["lr_opt_grid"] for o in have_opt])
  nothing = [o["batch_size"] for o in opts if o["censored"] == "learned_nothing"]
  diverged = [o["batch_size"] for o in opts if o["censored"] == "all_diverged"]
  censored = [o["batch_size"] for o in opts if o["censored"] in ("low", "high", "single_point")]
  # With two points the bootstrap sees only the noise of those two optima, not whether a power law holds: no interval.
  boot = {"beta_ci": None, "n_boot": 0}
  if len(bracketed) >= MIN_FOR_BETA:
    boot = bootstrap_beta(rows, n_boot, average=average)
  ci = boot["beta_ci"]
  inside = [name for name, v in THEORIES.items() if ci and ci[0] <= v <= ci[1]]
  forms = compare_forms([o["batch_size"] for o in bracketed], [o["lr_opt"] for o in bracketed])
  two_dips = [o["batch_size"] for o in opts if not o.get("unimodal", True)]
  grid_used = [o["batch_size"] for o in bracketed if o.get("lr_opt_source") == "grid"]
  if main["beta"] is None:
    n = len(bracketed)
    verdict = f"no fit: {n} batch size{' has' if n == 1 else 's have'} an optimum inside the LR grid" + (
      f" (B = {[o['batch_size'] for o in bracketed]}); a β needs {MIN_FOR_BETA}: two points fix any line, so their "
      "slope (two_point_slope in scaling_fit.json) is not a measurement: add batch sizes or widen the grid"
      if n == 2
      else f"; a β needs {MIN_FOR_BETA} batch sizes with an optimum inside the grid"
    )
    verdict += f"; extend the grid for B = {censored}" if censored else ""
    if nothing:
      verdict += f"; B = {nothing} learned nothing at any LR (best loss within 1% of {chance}): no optimum there"
    if diverged:
      verdict += f"; every lane of B = {diverged} diverged: lower the learning rates there"
  else:
    n_refined = sum(o.get("lr_opt_source") == "refined" for o in bracketed)
    interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
    verdict = f"beta = {main['beta']:.3f}{interval} from {len(bracketed)} bracketed optima ({n_refined} refined)"
    if not ci:
      verdict += (
        f"; no interval: only {boot['n_boot']} of {n_boot} resampled grids kept {MIN_FOR_BETA} optima inside the "
        "grid, so the optima are too uncertain for one (widen the grid or add seeds)"
      )
    if ci and len(inside) == len(THEORIES):
      verdict += "; the interval holds 1/2, 2/3 and 1 alike: it cannot tell the theories apart"
    elif ci:
      verdict += "; inside the interval: " + (", ".join(inside) if inside else "none of 1/2, 2/3, 1")
    if main["beta"] < 0 and ci and ci[1] < 0:
      verdict += "; β < 0: the optimal LR falls as the batch grows"
    elif main["beta"] < 0:
      verdict += "; β < 0, but its interval reaches above 0: whether the optimal LR falls with B is not settled"
    if "best_by_aic" in forms:
      verdict += f"; of power law, McCandlish and surge forms the AIC prefers {forms['best_by_aic']}"
    if censored:
      verdict += f"; B = {censored}: optimum at the grid's edge (a bound, not a point; not in the fit)"
    if nothing:
      verdict += f"; B = {nothing} learned nothing at any LR (best loss within 1% of {chance}): no optimum there"
    if diverged:
      verdict += f"; every lane of B = {diverged} diverged: lower the learning rates there"
  if grid_used:
    verdict += f"; B = {grid_used}: the 3- and 5-point parabolas disagree, so the grid point is used, not a refinement"
  if average == "median":
    verdict += "; each grid point's loss is the median over seeds (under stable noise the loss has no mean)"
  if two_dips:
    verdict += f"; B = {two_dips}: the loss dips twice against LR (not unimodal), so that optimum may be noise"
  return {
    "method": (
      f"parabola in ln LR through the seed-{average} grid argmin and its neighbours (the grid point where the 3- and "
      f"5-point parabolas disagree); fit on bracketed optima only, from {MIN_FOR_BETA} of them"
    ),
    "seed_average": average,
    "beta": main["beta"],
    "beta_ci": ci,
    "beta_ci_method": (
      "95% percentile bootstrap: seeds resampled, or losses redrawn with their train_loss_std; "
      "the refinement (3- or 5-point parabola) drawn per resample"
    ),
    "theories_inside_ci": inside,
    "forms": forms,
    "theories": THEORIES,
    "c": main["c"],
    "r2": main["r2"],
    "n_bracketed": len(bracketed),
    "per_batch_size": opts,
    "two_point_slope": (
      {**slope, "note": "the line through the only two bracketed optima: two points fix any line; not a measurement"}
      if len(bracketed) == 2
      else None
    ),
    "naive_fit_all_argmins": {
      **naive,
      "note": "the study's method (grid argmins, edge optima included, which are bounds); do not report",
    },
    "verdict": verdict,
    "ln_vocab": fingerprint.get("ln_vocab"),
    "unigram_entropy": fingerprint.get("unigram_entropy"),
  }


def optima_table(fit: ScalingFit) -> str:
  """Per batch size: the grid argmin, the parabola's refinement, which of them is the row's optimum ("used": refined,
  grid, or none for a bound), the bracket (one-sided for a censored optimum) and any flag; for a fit of several lane
  settings, one block per setting."""
  blocks = []
  for one in fit.settings():
    head = f"optima ({one.setting})" if fit.by_setting else "optima"
    lines = [
      f"{head}: {'B':>5} {'grid argmin':>11} {'refined':>9} {'used':>8}  bracket / note",
    ]
    for o in one.per_batch_size:
      if o["lr_opt"] is None:
        lines.append(f"{'':>{len(head) + 1}} {o['batch_size']:>5} {'-':>11} {'-':>9} {'-':>8}  {o['censored']}")
        continue
      lo, hi = o["lr_opt_bracket"]
      if o["censored"] == "high":
        where = f"≥ {lo:.3g} (optimum beyond the grid's largest LR: a bound)"
      elif o["censored"] == "low":
        where = f"≤ {hi:.3g} (optimum below the grid's smallest LR: a bound)"
      elif o["censored"]:
        where = o["censored"].replace("_", " ")
      else:
        where = f"[{lo:.3g}, {hi:.3g}]"
      refined = "-" if o.get("lr_opt_refined") is None else f"{o['lr_opt_refined']:.3g}"
      grid = f"{o['lr_opt_grid']:.3g}" if o["censored"] in (None, "high", "low") else "-"  # no optimum: no argmin
      uses = {"refined": "refined", "grid": "grid", "bound": "none"}[o.get("lr_opt_source", "refined")]
      flag = "" if o.get("unimodal", True) else "; the loss dips twice against LR"
      lines.append(f"{'':>{len(head) + 1}} {o['batch_size']:>5} {grid:>11} {refined:>9} {uses:>8}  {where}{flag}")
    blocks.append("\n".join(lines))
  return "\n\n".join(blocks)
