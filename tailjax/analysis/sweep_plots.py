"""The sweep's figures: lr_vs_batch.png, loss_heatmap.png, loss_vs_lr.png, scaling_exponent.png,
convergence_curves.png."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from tailjax import files, records  # noqa: E402
from tailjax.analysis.scaling_fit import ScalingFit  # noqa: E402


def _units(fp) -> str:
  """The unit of a loss axis, as the task names it."""
  return f"({records.DataFacts.of(fp).loss_unit})"


def _refs(ax, fp, within=None) -> str:
  """Draws the task's first two reference losses (ln V and the unigram entropy for text) as horizontal lines; with
  `within` (the plotted y-range), only those inside it, so that a far-off ln V does not flatten the curves. Returns a
  note naming the ones left out."""
  left = []
  styles = (dict(color="k", ls=":"), dict(color="gray", ls="--"))
  for ref, style in zip(records.DataFacts.of(fp).references, styles, strict=False):
    name, value = ref.name, ref.value
    if within is not None and not within[0] <= value <= within[1]:
      left.append(f"{name} = {value:.2f}")
      continue
    ax.axhline(value, lw=1, label=f"{name} = {value:.2f}", **style)
  return f"({', '.join(left)}: outside the plotted range)" if left else ""


def _loss_range(finite) -> tuple[float, float] | None:
  """The y-range of a loss plot: the losses with 6% margins, at least 0.05 nats tall (a model that learned nothing has
  losses equal to 4 decimals, and a tighter axis would draw noise as structure)."""
  if not len(finite):
    return None
  lo, hi = float(np.min(finite)), float(np.max(finite))
  pad = max(0.06 * (hi - lo), (0.05 - (hi - lo)) / 2, 1e-3)
  return lo - pad, hi + pad


def _settings(fit: ScalingFit) -> list[tuple[str, ScalingFit]]:
  """(label, fit) per lane setting (clip thresholds or weight decays as lanes: each its own grid and panel); one
  unlabelled entry for a sweep of one setting."""
  return [(one.setting or "", one) for one in fit.settings()]


def _budget(fit: ScalingFit) -> str:
  """A title's line naming the budget the fit was read at (runs read at fixed tokens, or at two budgets)."""
  return f"\n{fit.budget_label}" if fit.budget_label else ""


def _panels(n: int, width: float, height: float):
  """A figure of n panels, two per row from three on; returns (figure, the n axes)."""
  cols = 1 if n == 1 else 2
  rows = -(-n // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, layout="constrained")
  for ax in axes.ravel()[n:]:
    ax.remove()
  return fig, list(axes.ravel()[:n])


def no_beta(fit: ScalingFit) -> str:
  n = fit.n_bracketed or 0
  return f"no β: {n} bracketed {'optimum' if n == 1 else 'optima'} (a fit needs 3)"


def lr_vs_batch(path, fit: ScalingFit) -> None:
  fig = lr_vs_batch_figure(fit)
  files.write_figure(path, fig)
  plt.close(fig)


def lr_vs_batch_figure(fit: ScalingFit):
  """LR_opt against B, one panel per lane setting: the optimum each batch size's fit uses (the refined one, or the
  grid argmin where the refinement was not trusted), the other reading beside it, bounds as triangles, and the fitted
  line only where there is a β (3 or more bracketed optima). Legend entries only for what is drawn."""
  sets = _settings(fit)
  fig, axes = _panels(len(sets), 5.5, 4)
  for ax, (label, one) in zip(axes, sets, strict=True):
    _lr_vs_batch_panel(ax, one, label)
  drawn = [ax.get_ylim() for ax in axes if ax.get_lines()]
  if len(sets) > 1 and drawn:  # one scale for every setting, so that panels compare
    for ax in axes:
      ax.set_ylim(min(lo for lo, _ in drawn), max(hi for _, hi in drawn))
  return fig


def _lr_vs_batch_panel(ax, fit: ScalingFit, setting: str) -> None:
  labels = set()

  def mark(b, lr, style, label, **kw):
    ax.plot(b, lr, style, label=None if label in labels else label, **kw)
    labels.add(label)

  for o in fit.per_batch_size:
    if o["lr_opt"] is None:
      continue
    b, cen = o["batch_size"], o["censored"]
    if cen is None:
      if o.get("lr_opt_source", "refined") == "refined":
        mark(b, o["lr_opt"], "o", "optimum: refined between grid points", color="C0")
        if o["lr_opt_grid"] != o["lr_opt"]:
          mark(b, o["lr_opt_grid"], ".", "grid argmin", color="0.5")
      else:
        mark(b, o["lr_opt"], "s", "optimum: grid argmin (refinement not trusted)", color="C0", mfc="none")
        if o.get("lr_opt_refined") not in (None, o["lr_opt"]):
          mark(b, o["lr_opt_refined"], "x", "the untrusted refinement (3- and 5-point parabolas disagree)", color="0.5")
    elif cen in ("high", "low"):
      mark(b, o["lr_opt"], "^" if cen == "high" else "v", f"optimum {'above' if cen == 'high' else 'below'} the grid "
           "(a bound)", color="C3", ms=9, mfc="none")  # fmt: skip
    else:  # learned nothing or a single LR: no optimum, so nothing on the LR_opt axis (the title names them)
      continue
  bs = np.array([o["batch_size"] for o in fit.per_batch_size], float)
  exact = fit.exact or {}
  if exact.get("lr_star"):  # the noisy quadratic model's known answer (analysis/nqm.py)
    ax.plot(exact["batch_sizes"], exact["lr_star"], "k--", lw=1, label="exact LR*(B) (SGD's closed form)")
  if fit.beta is not None:  # drawn over the bracketed optima it was fitted on, not out to the bounds
    fitted = [o["batch_size"] for o in fit.per_batch_size if o["censored"] is None and o["lr_opt"] is not None]
    xs = np.geomspace(min(fitted), max(fitted), 20)
    ci = fit.beta_ci
    ci_text = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else " (no interval)"
    ax.plot(xs, fit.c * xs ** fit.beta, "C0-", label=f"fit on {fit.n_bracketed} bracketed: β = "
            f"{fit.beta:.2f}{ci_text}")  # fmt: skip
  ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="LR_opt")
  batch_ticks(ax, bs)
  title = "optimal learning rate against batch size" + _budget(fit) + (f"\n{setting}" if setting else "")
  none = [o["batch_size"] for o in fit.per_batch_size if o["censored"] in ("learned_nothing", "single_point")]
  if none:
    title += f"\nno optimum (learned nothing, or one LR): B = {none}"
  if fit.beta is None:  # said in the title, where no point or legend can cover it
    title += "\n" + no_beta(fit)
  ax.set_title(title, fontsize=10)
  if labels or fit.beta is not None or exact.get("lr_star"):
    ax.legend(fontsize=7, loc="best")


def loss_heatmap(path, fit: ScalingFit, fp: dict) -> None:
  """Seed-mean (or median) final loss per (B, LR) cell, one panel per lane setting on one colour scale; * marks the
  grid argmin; "–" marks an LR not run at that batch size (an extension of another row)."""
  sets = _settings(fit)
  average = fit.seed_average or "mean"
  panels = []
  for label, one in sets:
    opts = [o for o in one.per_batch_size if "grid" in o]
    lrs = sorted({lr for o in opts for lr in o["grid"]})
    grid = np.full((len(opts), len(lrs)), np.nan)
    ran = np.zeros((len(opts), len(lrs)), bool)  # an extension's LRs were run in its own row only: no cell elsewhere
    for i, o in enumerate(opts):
      for lr, loss in zip(o["grid"], o["mean_val_loss"], strict=True):
        grid[i, lrs.index(lr)] = loss if np.isfinite(loss) else np.nan
        ran[i, lrs.index(lr)] = True
    panels.append((label, opts, lrs, np.ma.masked_array(grid, ~ran)))
  finite = np.concatenate([g.data[np.isfinite(g.data)] for *_, g in panels])
  if fp.get("ln_vocab") and len(finite):  # a lane blowing up (finite, far above the start) must not flatten the rest
    cap = 2 * fp["ln_vocab"]
    finite = finite[finite <= cap] if (finite <= cap).any() else finite
  norm = matplotlib.colors.Normalize(*(_loss_range(finite) or (0, 1)), clip=True)
  width = 1.2 + 1.1 * max(len(lrs) for _, _, lrs, _ in panels)
  heights = [1.0 + 0.6 * max(len(opts), 1) for _, opts, _, _ in panels]
  fig, axes = plt.subplots(len(panels), 1, figsize=(width, sum(heights) + 0.6), squeeze=False, layout="constrained",
                           gridspec_kw={"height_ratios": heights})  # fmt: skip
  refs_ = records.DataFacts.of(fp).references
  refs = ""
  if refs_:
    refs = "\n" + ", ".join(f"{r.name} = {r.value:.2f}" for r in refs_[:2])
  for n, (ax, (label, opts, lrs, grid)) in enumerate(zip(axes[:, 0], panels, strict=True)):
    im = ax.imshow(grid, cmap="viridis_r", aspect="auto", norm=norm)
    for i, o in enumerate(opts):
      for j in range(len(lrs)):
        if grid.mask[i, j]:
          txt = "–"  # not run at this batch size
        else:
          v = grid[i, j]
          txt = "div" if np.isnan(v) else (f"{v:.3f}" if v < 1e4 else f"{v:.1e}")
        at = lrs[j] == o.get("lr_opt_grid", o["lr_opt"]) and o["censored"] in (None, "high", "low")
        star = {None: "*", "high": ">", "low": "<"}[o["censored"]] if at else ""
        ax.text(j, i, txt + star, ha="center", va="center", fontsize=7, color=_ink(im, grid.data[i, j]))
    ax.set_xticks(range(len(lrs)), [f"{lr:.3g}" for lr in lrs])
    ax.set_yticks(range(len(opts)), [str(o["batch_size"]) for o in opts])
    ax.set(xlabel="learning rate", ylabel="batch size")
    head = (
      f"final val loss (seed {average}; * = grid argmin, > < = argmin on the grid's edge: a bound; – not run){refs}"
      f"{_budget(fit)}\n"
      if n == 0
      else ""
    )
    ax.set_title(head + label if label else head.rstrip("\n"), fontsize=9)
  fig.colorbar(im, ax=list(axes[:, 0]), label=f"val loss {_units(fp)}")
  files.write_figure(path, fig)
  plt.close(fig)


def _ink(im, value) -> str:
  """Black on a light cell, white on a dark one (white on viridis' yellow end cannot be read)."""
  if not np.isfinite(value):
    return "k"
  r, g, b, _ = im.cmap(im.norm(value))
  return "k" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "w"


def convergence_curves(path, curves: dict, fp: dict) -> None:
  """Validation loss against step, one panel per batch size. curves: batch size -> (eval_step [E], val_loss [E, R],
  labels [R]). Lanes are coloured by learning rate (dark to light, the same in every panel), styled by their other
  fields (seed, clip), and the best lanes are drawn on top, so a crowd of diverged or stalled lanes cannot hide them;
  one legend beside the panels, so that none covers a curve."""
  n = len(curves)
  cols = min(n, 3)
  fig, grid = plt.subplots(-(-n // cols), cols, figsize=(4.2 * cols + 2.2, 3.6 * -(-n // cols)), squeeze=False,
                           sharey=True, layout="constrained")  # fmt: skip
  for ax in grid.ravel()[n:]:
    ax.remove()
  axes = [list(grid.ravel()[:n])]
  span = _loss_range(np.concatenate([v[np.isfinite(v)] for _, v, _ in curves.values()] or [np.zeros(0)]))
  every = [label for _, _, labels in curves.values() for label in labels]
  order = sorted({_lane_lr(label) for label in every}, key=lambda f: float(f[3:]) if f.startswith("lr=") else 0.0)
  rest = list(dict.fromkeys(label.replace(_lane_lr(label), "") for label in every))
  handles = {}
  for ax, (b, (steps, val, labels)) in zip(axes[0], sorted(curves.items()), strict=True):
    last = np.array([v[np.isfinite(v)][-1] if np.isfinite(v).any() else np.inf for v in val.T])
    rank = np.argsort(np.argsort(-last))  # the lowest final loss is drawn last, on top
    for r, label in enumerate(labels):
      lr = _lane_lr(label)
      shade = plt.cm.viridis(0.85 * order.index(lr) / max(len(order) - 1, 1))
      style = ["-", "--", ":", "-."][rest.index(label.replace(lr, "")) % 4]  # seed, clip: the line style
      marker = "o" if len(steps) <= 3 else None  # one or two eval points draw no line: show the points
      (line,) = ax.plot(steps, val[:, r], style, marker=marker, color=shade, lw=1.3, alpha=0.9, zorder=2 + rank[r])
      handles.setdefault(label, line)
    _refs(ax, fp, within=span)
    if span:
      ax.set_ylim(*span)
    ax.set(title=f"B = {b}", xlabel="step", ylabel=f"val loss {_units(fp)}")
  for ax in axes[0]:
    for line in ax.get_lines():
      if line.get_label().startswith(("ln V", "unigram", "ln C", "class entropy", "L(θ0)", "minimum", "chance")):
        handles.setdefault(line.get_label(), line)
  fig.legend(handles.values(), handles.keys(), loc="outside right upper", fontsize=6, ncol=1 + len(handles) // 24)
  files.write_figure(path, fig)
  plt.close(fig)


def _lane_lr(label: str) -> str:
  """The lr=… field of a lane label (its colour); the whole label where it has none."""
  return next((f for f in label.split(",") if f.startswith("lr=")), label)


def loss_vs_lr(path, fit: ScalingFit, fp: dict) -> None:
  """Seed-mean final loss against LR, one curve per batch size and one panel per lane setting, the optimum each row
  reports marked (▶/◀ at an edge: a bound). The y-axis covers the finite losses, not up to ln V (which would flatten
  every valley); ln V and the unigram entropy are drawn where they fall inside it and named in the title where not."""
  sets = _settings(fit)
  fig, axes = _panels(len(sets), 5.5, 4.2)
  for ax, (label, one) in zip(axes, sets, strict=True):
    rows = [o for o in one.per_batch_size if "grid" in o]
    finite = np.array([v for o in rows for v in o["mean_val_loss"] if np.isfinite(v)])
    blown = ""
    if fp.get("ln_vocab") and (finite > 2 * fp["ln_vocab"]).any() and (finite <= 2 * fp["ln_vocab"]).any():
      finite = finite[finite <= 2 * fp["ln_vocab"]]  # a lane blowing up (finite, far above the start) is left off
      blown = "(losses above twice the start are off the axis: blowing up)"
    for i, o in enumerate(rows):
      color = f"C{i % 10}"
      ax.plot(o["grid"], o["mean_val_loss"], "o-", color=color, ms=3, label=f"B = {o['batch_size']}")
      if o["censored"] not in (None, "high", "low"):  # learned nothing, one LR: no optimum to mark
        continue
      marker = {"high": ">", "low": "<"}.get(o["censored"], "*")
      y = min(v for v in o["mean_val_loss"] if np.isfinite(v))
      ax.plot(o["lr_opt"], y, marker, color=color, ms=11, mec="k", mfc="none" if o["censored"] else color)
    span = _loss_range(finite)
    outside = _refs(ax, fp, within=span)
    if span:
      ax.set_ylim(*span)
    ax.set(xscale="log", xlabel="learning rate", ylabel=f"final val loss (seed {fit.seed_average or 'mean'})")
    _lr_ticks(ax, sorted({lr for o in rows for lr in o["grid"]}))
    title = "loss against LR; * optimum reported, > < at the grid edge (bound)" + _budget(fit)
    notes = " ".join(x for x in (outside, blown) if x)
    ax.set_title(title + (f"\n{label}" if label else "") + (f"\n{notes}" if notes else ""), fontsize=9)
    ax.legend(fontsize=7)
  files.write_figure(path, fig)
  plt.close(fig)


def batch_ticks(ax, bs) -> None:
  """The batch sizes themselves as the x ticks of a log axis (not 2×10^1)."""
  bs = sorted({int(b) for b in bs})
  ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(bs))
  ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter([str(b) for b in bs]))
  ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def plain_log_ticks(axis) -> None:
  """Ticks of a log axis at 1, 2 and 5 per decade, written as plain numbers (0.02, 5, 200): the default minor labels
  (3×10^0 4×10^0) run into each other."""
  axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
  axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
  axis.set_minor_locator(matplotlib.ticker.LogLocator(subs="auto"))
  axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _lr_ticks(ax, lrs: list[float]) -> None:
  """The grid's learning rates as the x ticks (every second one past eight), slanted so they cannot overlap."""
  shown = lrs if len(lrs) <= 8 else lrs[:: -(-len(lrs) // 8)]
  ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(shown))
  ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter([f"{lr:.3g}" for lr in shown]))
  ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
  ax.tick_params(axis="x", labelrotation=40, labelsize=8)


def scaling_exponent(path, fit: ScalingFit) -> None:
  """β with its 95% interval against the theories' exponents, one point per lane setting."""
  sets = _settings(fit)
  fig, ax = plt.subplots(figsize=(4.4 + 0.9 * (len(sets) - 1), 3.6), layout="constrained")
  xs = np.arange(1, len(sets) + 1)
  for name, value in (fit.theories or {}).items():
    ax.axhline(value, ls=":", lw=1, color="gray")
    ax.text(1.01, value, name, fontsize=7, va="center", transform=ax.get_yaxis_transform())
  values = list((fit.theories or {}).values()) or [1.0]
  exact = (fit.exact or {}).get("slope_over_bracketed")
  if exact is not None:  # the noisy quadratic model's known answer over the same batch sizes (analysis/nqm.py)
    ax.axhline(exact, ls="--", lw=1, color="k")
    ax.text(1.01, exact, f"exact slope\n(SGD) {exact:.2f}", fontsize=7, va="center", transform=ax.get_yaxis_transform())
    values.append(exact)
  titles = []
  for x, (_, one) in zip(xs, sets, strict=True):
    ci = one.beta_ci
    if one.beta is not None:
      # a percentile interval need not hold its point estimate: a bar never reaches below 0 (matplotlib refuses it)
      err = None if not ci else [[max(one.beta - ci[0], 0.0)], [max(ci[1] - one.beta, 0.0)]]
      ax.errorbar([x], [one.beta], yerr=err, fmt="o", capsize=6, color="C0", mfc=None if ci else "none")
      values += [one.beta, *(ci or [])]
      note = "95% bootstrap interval" if ci else "no interval (too few resamples with 3 bracketed optima)"
      titles.append(f"β = {one.beta:.2f} from {one.n_bracketed} bracketed optima: {note}")
    else:
      ax.text(x, 0.02, "no β", ha="center", fontsize=8, color="C3", transform=ax.get_xaxis_transform())
      titles.append(no_beta(one))
  if len(sets) == 1:
    ax.set_title(titles[0] + _budget(fit), fontsize=9)
  else:
    hollow = any(one.beta is not None and not one.beta_ci for _, one in sets)
    ax.set_title("β per lane setting (95% bootstrap intervals" + ("; hollow: none could be had)" if hollow else ")"),
                 fontsize=9)  # fmt: skip
    ax.set_xticks(xs, [label.replace(", ", "\n") for label, _ in sets], fontsize=7)
  ax.set(xlim=(0.5, xs[-1] + 0.5), ylabel="β in LR_opt ∝ B^β", ylim=(min(0.0, *values) - 0.1, max(values) + 0.15))
  if len(sets) == 1:
    ax.set_xticks([])
  files.write_figure(path, fig)
  plt.close(fig)


def clip_study(path, rows: list[dict]) -> None:
  """Phase 3b: per clip setting, how often each batch size clips and the gradient norm before and after clipping
  (means over training, at each batch size's best LR)."""
  clips = list(dict.fromkeys(r["clip"] for r in rows))
  best = {}
  for r in rows:
    key = (r["clip"], r["batch_size"])
    if np.isfinite(r["final_val_loss"]) and (key not in best or r["final_val_loss"] < best[key]["final_val_loss"]):
      best[key] = r
  fig, (ax_f, ax_n) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
  for i, c in enumerate(clips):
    pts = sorted((b, r) for (cc, b), r in best.items() if cc == c)
    if not pts:
      continue
    bs = [b for b, _ in pts]
    label = "no clip" if c is None else f"clip {c:g}"
    ms = max(9 - 2 * i, 3)  # shrinking markers: settings with equal values (all clipped) stay visible
    ax_f.plot(bs, [r["clip_frequency"] for _, r in pts], "o-", color=f"C{i}", label=label, ms=ms)
    ax_n.plot(bs, [r["mean_grad_norm"] for _, r in pts], "o-", color=f"C{i}", label=f"{label}: before")
    ax_n.plot(bs, [r["mean_post_clip_norm"] for _, r in pts], "s--", color=f"C{i}", label=f"{label}: after")
  ax_f.set(xscale="log", xlabel="batch size B", ylabel="fraction of steps clipped", title="clip frequency (best LR)")
  ax_n.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="mean global gradient norm",
           title="gradient norm before / after clipping")  # fmt: skip
  for ax in (ax_f, ax_n):
    batch_ticks(ax, [b for _, b in best])
  ax_f.legend(fontsize=7)
  ax_n.legend(fontsize=6)
  files.write_figure(path, fig)
  plt.close(fig)


def steps_to_target(path, crit: dict, fp: dict) -> None:
  """Steps (left) and tokens or examples (right) to each target loss against B: the measured points (at the best LR
  per batch size and target) and the fitted S = S_min (1 + B_crit/B), E = E_min (1 + B/B_crit), with B_crit marked
  where it lies inside the swept range; a target without a fit shows its points only."""
  unit = records.DataFacts.of(fp).example_unit
  loss = _units(fp)
  fig, (ax_s, ax_e) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
  colors = plt.cm.viridis(np.linspace(0.05, 0.85, max(len(crit["targets"]), 1)))
  bs_all = set()
  for color, e in zip(colors, crit["targets"], strict=False):
    pts = [p for p in e["per_batch_size"] if p["steps"] is not None]
    bs_all |= {p["batch_size"] for p in e["per_batch_size"]}
    if not pts:
      continue
    b = np.array([p["batch_size"] for p in pts], float)
    f = e.get("fit")
    if f:
      ci = f.get("b_crit_ci")
      where = {"inside": "", "above": " (> swept: a bound)", "below": " (< swept: a bound)"}[f["b_crit_vs_swept"]]
      if f["b_crit_vs_swept"] == "inside" or not ci:
        label = f"target {e['target']:.4g} {loss}: B_crit = {f['b_crit']:.3g}" + (
          f" [{ci[0]:.3g}, {ci[1]:.3g}]" if ci else "") + where  # fmt: skip
      elif f["b_crit_vs_swept"] == "below":
        label = f"target {e['target']:.4g} {loss}: B_crit ≤ {ci[1]:.3g} (fit {f['b_crit']:.3g}, below swept)"
      else:
        label = f"target {e['target']:.4g} {loss}: B_crit ≥ {ci[0]:.3g} (fit {f['b_crit']:.3g}, above swept)"
    else:
      label = f"target {e['target']:.4g} {loss}: no fit ({len(pts)} point{'s' * (len(pts) != 1)})"
    hollow = ["none" if p.get("lr_at_edge") else color for p in pts]
    ax_s.scatter(b, [p["steps"] for p in pts], color=color, facecolors=hollow, label=label, zorder=3)
    ax_e.scatter(b, [p["tokens"] for p in pts], color=color, facecolors=hollow, zorder=3)
    if f:
      bb = np.geomspace(min(bs_all), max(bs_all), 100)
      s_fit = f["s_min"] * (1 + f["b_crit"] / bb)
      ax_s.plot(bb, s_fit, "-", color=color, lw=1.2)
      ax_e.plot(bb, s_fit * bb * (f["e_min_tokens"] / f["e_min"]), "-", color=color, lw=1.2)
      if f["b_crit_vs_swept"] == "inside":
        for ax in (ax_s, ax_e):
          ax.axvline(f["b_crit"], color=color, ls=":", lw=1)
  for ax, what in ((ax_s, "steps to target"), (ax_e, f"{unit} to target")):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_ylabel(what)
    ax.grid(True, which="both", alpha=0.3)
    if bs_all:
      batch_ticks(ax, bs_all)
    plain_log_ticks(ax.yaxis)
    lo, hi = ax.get_ylim()
    if hi / lo < 30:  # under ~a decade and a half: label the minor ticks too, or the axis has one or two numbers
      ax.yaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
      ax.tick_params(axis="y", which="minor", labelsize=7)
  ax_s.set_title("S = S_min (1 + B_crit/B): below B_crit, doubling B halves the steps", fontsize=10)
  ax_e.set_title(f"E = E_min (1 + B/B_crit): above B_crit, doubling B doubles the {unit}", fontsize=10)
  if crit["targets"]:
    fig.legend(*ax_s.get_legend_handles_labels(), fontsize=7, loc="outside lower center", ncols=2)
  dotted = any((e.get("fit") or {}).get("b_crit_vs_swept") == "inside" for e in crit["targets"])
  edge = any(p.get("lr_at_edge") for e in crit["targets"] for p in e["per_batch_size"])
  fig.suptitle(f"steps to target at the best LR per batch size ({'dotted: B_crit; ' if dotted else ''}"
               f"{'hollow: the best LR is at its grid edge, S a bound; ' if edge else ''}curves: {crit['average']})",
               fontsize=10)  # fmt: skip
  files.write_figure(path, fig)
  plt.close(fig)
