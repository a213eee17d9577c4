"""The noisy quadratic model's known answer: the expected final loss of SGD and the learning rate that minimises it.

Zhang et al. (2019, "Which algorithmic choices matter at which batch sizes?"): L(θ) = ½ Σ_i h_i θ_i², h_i = i^(−p),
and one example's gradient is Hθ + √h ⊙ ξ with unit-variance noise ξ. For SGD (no momentum, weight decay, clipping or
warmup) at a constant LR η, the second moments m_i = E[θ_i²] follow

    m_i ← (1 − η h_i)² m_i + η² h_i / B        (the mean of B examples' noise has variance 1/B per coordinate)

so after N steps m_i(N) = a_i^N m_i(0) + c_i (1 − a_i^N)/(1 − a_i), a_i = (1 − η h_i)², c_i = η² h_i / B, and
E[L_N] = ½ Σ_i h_i m_i(N). It depends on the noise law through its variance only, so the same LR*(B) holds for every
finite-variance law. Written by hand: it is a closed form no library ships. Jax-free.
"""

import collections
import math

import numpy as np

KNOWN_ANSWER = "noisy_quadratic"  # a task's `known_answer` naming this module's closed form


def spectrum(d: int, power: float) -> np.ndarray:
  """The curvatures h_i = i^(−power), i = 1…d: [d]."""
  return np.arange(1, d + 1, dtype=np.float64) ** (-float(power))


def expected_loss(lr: float, batch_size: int, *, h_D: np.ndarray, steps: int, theta0: float = 1.0) -> float:
  """E[L(θ_N)] after `steps` SGD steps at constant `lr` from θ_i = theta0, batch `batch_size`, unit noise variance."""
  a_D = (1.0 - lr * h_D) ** 2
  c_D = lr**2 * h_D / batch_size
  with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
    a_n = np.exp(steps * np.log(a_D))  # a = 0 (η h = 1) gives exp(-inf) = 0
    geometric = np.where(np.isclose(a_D, 1.0, rtol=0, atol=1e-12), float(steps), (1.0 - a_n) / (1.0 - a_D))
  return float(0.5 * np.sum(h_D * (a_n * theta0**2 + c_D * geometric)))


def optimal_lr(batch_size: float, *, h_D: np.ndarray, steps: int, theta0: float = 1.0) -> float:
  """argmin over η of `expected_loss`, inside SGD's stable range η < 2 / max h: a scan over ln η, then a bounded
  refinement between the scan's neighbours of its best point (relative accuracy ~1e-8)."""
  import scipy.optimize  # the bounded scalar minimiser

  top = 2.0 / float(np.max(h_D))
  grid = np.geomspace(top * 1e-6, top * (1 - 1e-9), 600)
  losses = [expected_loss(x, batch_size, h_D=h_D, steps=steps, theta0=theta0) for x in grid]
  i = int(np.argmin(losses))
  lo, hi = math.log(grid[max(i - 1, 0)]), math.log(grid[min(i + 1, len(grid) - 1)])
  res = scipy.optimize.minimize_scalar(
    lambda u: expected_loss(math.exp(u), batch_size, h_D=h_D, steps=steps, theta0=theta0),
    bounds=(lo, hi),
    method="bounded",
    options={"xatol": 1e-10},
  )
  return float(math.exp(res.x))


def exact_optima(
  batch_sizes, *, d: int, power: float, steps: int, theta0: float = 1.0, examples: int | None = None
) -> dict:
  """LR*(B) for each batch size, its local slope d ln LR*/d ln B (the derivative itself: a central difference at
  B e^±0.05, not a secant between the swept batch sizes, which would depend on the grid), and the least-squares slope
  of ln LR* on ln B over the whole range (what a fitted β should cover).

  With `examples` (a fixed-data budget) batch size B trains floor(examples / B) steps, and the local slope follows
  N = examples / B along B."""
  h_D = spectrum(d, power)
  bs = sorted(int(b) for b in batch_sizes)
  n_of = (lambda b: steps) if examples is None else (lambda b: examples / b)
  lr_B = [optimal_lr(b, h_D=h_D, steps=steps if examples is None else examples // b, theta0=theta0) for b in bs]
  x, y = np.log(bs), np.log(lr_B)
  step = 0.05
  opt = lambda b: math.log(optimal_lr(b, h_D=h_D, steps=n_of(b), theta0=theta0))
  local = [(opt(b * math.exp(step)) - opt(b * math.exp(-step))) / (2 * step) for b in bs]
  slope = float(np.polyfit(x, y, 1)[0]) if len(bs) > 1 else None
  return {
    "batch_sizes": bs,
    "lr_star": lr_B,
    "local_slope": local,
    "slope_over_range": slope,
    "setting": {
      "d": d,
      "spectrum_power": power,
      "steps": steps if examples is None else None,
      "examples": examples,
      "theta0": theta0,
    },  # fmt: skip
    "method": "closed form of E[L_N] for SGD on the noisy quadratic model (Zhang et al. 2019), minimised over the LR",
  }


def closed_form_applies(cfg) -> str | None:
  """None where the closed form is SGD's exact answer for this config; else why not."""
  o = cfg.optim
  if o.name != "sgd":
    return f"the closed form is for SGD (this run: {o.name})"
  if o.momentum != 0:
    return f"the closed form is for SGD without momentum (this run: momentum {o.momentum:g})"
  if (
    o.weight_decay
    or o.warmup_steps
    or o.warmup_tokens
    or o.clip is not None
    or tuple(cfg.sweep.clips or (None,)) != (None,)
  ):
    return "the closed form is for SGD without weight decay, warmup or clipping"
  if o.schedule != "constant":
    return "the closed form is for a constant learning rate"
  if cfg.data.noise == "stable":
    return "a stable law has no variance: the closed form (which depends on the variance only) does not apply"
  return None


def known_answer(cfg, fit, budget: str = "steps") -> dict:
  """The exact LR*(B) beside the measured optima (scaling_fit.json's `exact`): per batch size the exact optimum and
  the measured one's ratio to it, and the exact slope over the bracketed batch sizes against β's interval; at fixed
  steps (`budget` = "steps") or at fixed examples ("tokens": floor(train.tokens / B) steps)."""
  why_not = closed_form_applies(cfg)
  if why_not:
    return {"note": why_not}
  exact = exact_optima(cfg.sweep.batch_sizes, d=cfg.model.d_model, power=cfg.data.spectrum_power,
                       steps=cfg.train.steps, theta0=cfg.model.theta0,
                       examples=cfg.train.tokens if budget == "tokens" else None)  # fmt: skip
  star = dict(zip(exact["batch_sizes"], exact["lr_star"], strict=True))
  measured = {o["batch_size"]: o for o in fit.per_batch_size if o["censored"] is None}
  exact["measured_over_exact"] = {b: measured[b]["lr_opt"] / star[b] for b in sorted(measured)}
  inside = sorted(measured)
  if len(inside) >= 2:
    x = np.log(inside)
    exact["slope_over_bracketed"] = float(np.polyfit(x, np.log([star[b] for b in inside]), 1)[0])
    ci = fit.beta_ci
    exact["beta_ci_covers_it"] = None if not ci else bool(ci[0] <= exact["slope_over_bracketed"] <= ci[1])
  return exact


def known_answer_text(exact: dict) -> str:
  """summary.txt's lines on the known answer."""
  if "note" in exact:
    return f"known answer: none here ({exact['note']})"
  lines = ["known answer (SGD's exact expected loss, minimised over the LR):"]
  ratio = exact.get("measured_over_exact", {})
  for b, lr, s in zip(exact["batch_sizes"], exact["lr_star"], exact["local_slope"], strict=True):
    got = f"measured/exact = {ratio[b]:.3f}" if b in ratio else "no bracketed optimum measured"
    slope = "" if s is None else f", local slope {s:.3f}"
    lines.append(f"  B = {b:>5}: LR* = {lr:.4g}{slope}; {got}")
  if "slope_over_bracketed" in exact:
    verdicts = {True: "covers it", False: "does NOT cover it", None: "- none here (no β with an interval)"}
    covers = verdicts[exact.get("beta_ci_covers_it")]
    slope = exact["slope_over_bracketed"]
    lines.append(f"  exact slope of ln LR* on ln B over the bracketed batch sizes: {slope:.3f}; β's interval {covers}")
  return "\n".join(lines)


# The rules a measured β is read against: the study's β = 1 − 1/α with α the noise's tail index as the study
# reads it (2 for Gaussian noise, "≈ 3" for its Laplace-like noise; ν for Student-t; α for a stable law), SGD's linear
# rule and Adam's square-root rule.
STUDY_ALPHA = {"normal": 2.0, "laplace": 3.0}
RULES = ("study 1-1/alpha", "linear (SGD)", "square-root (Adam)", "exact slope")


def law_alpha(noise: str, param: float) -> float:
  """The tail index the study's rule is given for a noise law: its own readings for normal and Laplace (a Laplace
  law has no power-law tail at all: the study's "α ≈ 3" is Hill's artefact, SCIENCE.md §6), ν, or the stable α."""
  return STUDY_ALPHA.get(noise, float(param))


def _median_alpha(alpha_rows: list[dict], estimator: str, k_ratio: float | None) -> float | None:
  """The median over lanes of one estimator on the robust pooled noise ("all ..." groups), last measurement."""
  rows = [r for r in alpha_rows if r["estimator"] == estimator and r["group"].startswith("all ")
          and (k_ratio is None or float(r["k_ratio"] or 0) == k_ratio)]  # fmt: skip
  if not rows:
    return None
  last = max(int(r["step"]) for r in rows)
  values = [float(r["value"]) for r in rows if int(r["step"]) == last and math.isfinite(float(r["value"]))]
  return float(np.median(values)) if values else None


def _median(values) -> float | None:
  """The median of the non-empty values of a CSV column (None where there are none)."""
  finite = [float(x) for x in values if x not in (None, "") and math.isfinite(float(x))]
  return float(np.median(finite)) if finite else None


def experiment_row(run: dict) -> dict:
  """One line of the noisy quadratic lab's table for a finished sweep (`compare_runs.load`'s run): β with its
  interval against the rules, the exact slope (SGD, finite variance), and what the tail estimators said of the noise."""
  c, fit = run["config"], run["fit"]
  noise, param = c["data"]["noise"], float(c["data"]["noise_param"])
  exact = fit.exact or {}
  alpha = law_alpha(noise, param)
  rules = {"study 1-1/alpha": 1.0 - 1.0 / alpha, "linear (SGD)": 1.0, "square-root (Adam)": 0.5}
  if exact.get("slope_over_bracketed") is not None:
    rules["exact slope"] = exact["slope_over_bracketed"]
  ci = fit.beta_ci
  ratios = list((exact.get("measured_over_exact") or {}).values())
  last = [v for v in run["verdicts"] if v["group"].startswith("all ")]
  last = [v for v in last if int(v["step"]) == max(int(x["step"]) for x in last)] if last else []
  ratios_k = sorted(float(r) for r in c["measure"]["k_ratios"])
  return {
    "run": run["label"],
    "optimizer": c["optim"]["name"],
    "noise": noise if noise in ("normal", "laplace") else f"{noise} {param:g}",
    "seed_average": fit.seed_average or "mean",
    "beta": fit.beta,
    "beta_ci_low": ci[0] if ci else None,
    "beta_ci_high": ci[1] if ci else None,
    "n_bracketed": fit.n_bracketed,
    **{f"rule {k}": v for k, v in rules.items()},
    "rules_inside_ci": "; ".join(k for k, v in rules.items() if ci and ci[0] <= v <= ci[1]) if ci else "",
    "measured_over_exact_min": min(ratios) if ratios else None,
    "measured_over_exact_max": max(ratios) if ratios else None,
    "verdicts": "; ".join(
      f"{cat} {n}/{len(last)}" for cat, n in collections.Counter(v["category"] for v in last).most_common()
    ),
    "verdict_alpha_median": _median([v["tail_index"] for v in last]),  # the verdict's index: only where a power law
    "verdict_hill_alpha_median": _median([v["hill_tail_index"] for v in last]),  # Hill at the verdict's (KS-chosen) k
    "hill_k_ratio": ratios_k[len(ratios_k) // 2],
    "hill_alpha_median": _median_alpha(run["alpha"], "hill", ratios_k[len(ratios_k) // 2]) if run["alpha"] else None,
    "stable_alpha_median": _median_alpha(run["alpha"], "stable_mohammadi", None) if run["alpha"] else None,
  }


def experiment_text(rows: list[dict]) -> str:
  """The lab's table as Markdown (what README quotes). The tail index is the verdicts' (median over the lanes whose
  verdict is a power law; – where none is); beside it Hill's α at the verdict's KS-chosen k and at k = n/10 (the
  study's reading), neither a tail index where the verdict finds no power law, and the stable-law fit's α (a tail
  index only for a stable law: a finite-variance law has α = 2 and no power-law tail)."""

  def num(x, fmt=".2f"):
    return "–" if x is None else format(x, fmt)

  k = rows[0]["hill_k_ratio"] if rows else 0.1
  head = ("| run | β [95% CI] (n bracketed) | study's 1 − 1/α (the law's α; Laplace: its 3) | exact slope (SGD) "
          "| inside the CI | measured / exact LR* | robust verdicts (lanes) | tail index (verdict) "
          f"| Hill α at the verdict's k | Hill α, k = {k:g} n | stable α |")  # fmt: skip
  lines = [head, "|" + "---|" * 11]
  for r in rows:
    ci = f"[{num(r['beta_ci_low'])}, {num(r['beta_ci_high'])}]" if r["beta_ci_low"] is not None else "no CI"
    beta = f"no β ({r['n_bracketed']} bracketed)"
    if r["beta"] is not None:
      beta = f"{num(r['beta'], '.3f')} {ci} ({r['n_bracketed']})"
    ratio = (f"{num(r['measured_over_exact_min'])}–{num(r['measured_over_exact_max'])}"
             if r["measured_over_exact_min"] is not None else "–")  # fmt: skip
    lines.append(
      f"| {r['optimizer']}, {r['noise']}{' (median)' if r['seed_average'] == 'median' else ''} | {beta} | "
      f"{num(r['rule study 1-1/alpha'])} | {num(r.get('rule exact slope'), '.3f')} | "
      f"{r['rules_inside_ci'] or 'none'} | {ratio} | {r['verdicts']} | {num(r['verdict_alpha_median'])} | "
      f"{num(r['verdict_hill_alpha_median'])} | {num(r['hill_alpha_median'])} | {num(r['stable_alpha_median'])} |"
    )
  return "\n".join(lines)


def steps_to_target(target: float, lr: float, batch_size: int, *, h_D: np.ndarray, theta0: float = 1.0,
                    max_steps: int = 100_000, block: int = 2_000) -> float:  # fmt: skip
  """The first step N at which E[L_N] ≤ target for SGD at `lr` (inf if none up to max_steps), interpolated linearly
  between N − 1 and N. E[L_N] need not fall monotonically (a large LR at a small batch raises the stiff coordinates'
  noise floor above their start), so every N is scanned, in blocks."""
  a_D = (1.0 - lr * h_D) ** 2
  c_D = lr**2 * h_D / batch_size
  if np.any(a_D >= 1.0):
    return math.inf  # outside SGD's stable range
  floor_D = c_D / (1.0 - a_D)
  if np.all(floor_D <= theta0**2) and 0.5 * float(h_D @ floor_D) > target:
    return math.inf  # every coordinate falls monotonically to a floor whose loss is above the target
  prev = 0.5 * float(np.sum(h_D)) * theta0**2
  for start in range(1, max_steps + 1, block):
    n_N = np.arange(start, min(start + block, max_steps + 1), dtype=np.float64)
    with np.errstate(divide="ignore"):  # a = 0 (η h = 1): log 0 = -inf, and a^N = exp(-inf) = 0
      m_DxN = floor_D[:, None] + np.exp(n_N[None, :] * np.log(a_D)[:, None]) * (theta0**2 - floor_D)[:, None]
    loss_N = 0.5 * h_D @ m_DxN
    hit = np.flatnonzero(loss_N <= target)
    if len(hit):
      j = int(hit[0])
      before = prev if j == 0 else float(loss_N[j - 1])
      return float(n_N[j] - 1 + (before - target) / (before - loss_N[j]))
    prev = float(loss_N[-1])
  return math.inf


def exact_steps_to_target(targets, batch_sizes, *, d: int, power: float, theta0: float = 1.0, lrs=None) -> dict:
  """Per target, the exact steps to it at each batch size and the LR that gets there first, chosen from `lrs` (the
  swept grid) or from a fine grid over SGD's stable range (lrs = None); and B_simple at the start, tr(Σ)/|G|² =
  Σ h_i / Σ h_i² θ0² (unit-variance noise ξ scaled by √h). `critical_batch.known_answer` fits them."""
  h_D = spectrum(d, power)
  grid = np.geomspace(1e-3, 2.0 / float(np.max(h_D)) * 0.999, 160) if lrs is None else np.asarray(lrs, float)
  out = []
  for t in targets:
    steps_B, lr_B = [], []
    for b in batch_sizes:
      s_L = [steps_to_target(t, lr, b, h_D=h_D, theta0=theta0) for lr in grid]
      i = int(np.argmin(s_L))
      steps_B.append(s_L[i])
      lr_B.append(float(grid[i]))
    out.append({"target": float(t), "steps": steps_B, "lr": lr_B})
  return {
    "batch_sizes": list(batch_sizes),
    "lrs": "the swept grid" if lrs is not None else "a fine grid over SGD's stable range",
    "targets": out,
    "b_simple_at_start": float(np.sum(h_D) / (np.sum(h_D**2) * theta0**2)),
  }
