"""The sweep's figures: lr_vs_batch.png, loss_heatmap.png, loss_vs_lr.png, scaling_exponent.png,
convergence_curves.png."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tailjax import files  # noqa: E402


def _refs(ax, fp, horizontal=True):
  if fp.get("ln_vocab") is None:  # a hand-made results.csv (analysis only) may not say what the corpus was
    return
  line = ax.axhline if horizontal else ax.axvline
  line(fp["ln_vocab"], color="k", ls=":", lw=1, label=f"ln V = {fp['ln_vocab']:.2f}")
  line(
    fp["unigram_entropy"],
    color="gray",
    ls="--",
    lw=1,
    label=f"unigram H = {fp['unigram_entropy']:.2f}",
  )


def _clip_note(fit: dict) -> str:
  """Names the lane setting when the sweep had several (the figure shows the first; scaling_fit.json has all)."""
  return f" (clip = {fit['clip']}, wd = {fit['weight_decay']})" if "by_setting" in fit else ""


def lr_vs_batch(path, fit: dict) -> None:
  fig = lr_vs_batch_figure(fit)
  files.write_figure(path, fig)
  plt.close(fig)


def lr_vs_batch_figure(fit: dict):
  """LR_opt against B: the optimum each batch size's fit uses (the refined one, or the grid argmin where the
  refinement was not trusted), the other reading beside it, bounds as triangles, and the fitted line only where there
  is a β (3 or more bracketed optima). Legend entries only for what is drawn."""
  fig, ax = plt.subplots(figsize=(5.5, 4))
  labels = set()

  def mark(b, lr, style, label, **kw):
    ax.plot(b, lr, style, label=None if label in labels else label, **kw)
    labels.add(label)

  for o in fit["per_batch_size"]:
    if o["lr_opt"] is None:
      continue
    b, cen = o["batch_size"], o["censored"]
    if cen is None:
      used = o.get("lr_opt_source", "refined")
      reading = "refined" if used == "refined" else "grid argmin"
      mark(b, o["lr_opt"], "o", f"optimum reported ({reading})", color="C0")
      other = o["lr_opt_grid"] if used == "refined" else o.get("lr_opt_refined")
      if other is not None and other != o["lr_opt"]:
        name = "grid argmin" if used == "refined" else "refinement not trusted (3- and 5-point parabolas disagree)"
        mark(b, other, ".", name, color="0.5")
    elif cen in ("high", "low"):
      mark(b, o["lr_opt"], "^" if cen == "high" else "v", f"optimum {'above' if cen == 'high' else 'below'} the grid "
           "(a bound)", color="C3", ms=9, mfc="none")  # fmt: skip
    else:
      mark(b, o["lr_opt"], "x", cen.replace("_", " ") + " (no optimum)", color="0.4", ms=8)
  bs = np.array([o["batch_size"] for o in fit["per_batch_size"]], float)
  if fit["beta"] is not None:
    xs = np.geomspace(bs.min(), bs.max(), 20)
    ci = fit.get("beta_ci")
    ci_text = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else " (no interval)"
    ax.plot(xs, fit["c"] * xs ** fit["beta"], "C0-", label=f"fit on {fit['n_bracketed']} bracketed: β = "
            f"{fit['beta']:.2f}{ci_text}")  # fmt: skip
  else:
    ax.text(0.02, 0.97, f"no β: {fit['n_bracketed']} bracketed optima (a fit needs 3)", transform=ax.transAxes,
            fontsize=8, color="C3", va="top")  # fmt: skip
  ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="LR_opt")
  ax.set_title("optimal learning rate against batch size" + _clip_note(fit), fontsize=10)
  if labels or fit["beta"] is not None:
    ax.legend(fontsize=7, loc="best")
  return fig


def loss_heatmap(path, fit: dict, fp: dict) -> None:
  opts = [o for o in fit["per_batch_size"] if "grid" in o]
  lrs = sorted({lr for o in opts for lr in o["grid"]})
  grid = np.full((len(opts), len(lrs)), np.nan)
  for i, o in enumerate(opts):
    for lr, loss in zip(o["grid"], o["mean_val_loss"], strict=True):
      grid[i, lrs.index(lr)] = loss if np.isfinite(loss) else np.nan
  fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(lrs), 1.2 + 0.6 * len(opts)))
  im = ax.imshow(grid, cmap="viridis_r", aspect="auto")
  for i, o in enumerate(opts):
    for j in range(len(lrs)):
      txt = "div" if np.isnan(grid[i, j]) else f"{grid[i, j]:.3f}"
      star = "*" if lrs[j] == o.get("lr_opt_grid", o["lr_opt"]) else ""
      ax.text(j, i, txt + star, ha="center", va="center", fontsize=7, color=_ink(im, grid[i, j]))
  ax.set_xticks(range(len(lrs)), [f"{lr:.3g}" for lr in lrs])
  ax.set_yticks(range(len(opts)), [str(o["batch_size"]) for o in opts])
  ax.set(xlabel="learning rate", ylabel="batch size")
  refs = f"\nln V = {fp['ln_vocab']:.2f}, unigram H = {fp['unigram_entropy']:.2f}" if fp.get("ln_vocab") else ""
  ax.set_title(f"final val loss (seed mean; * = grid argmin){_clip_note(fit)}{refs}", fontsize=9)
  fig.colorbar(im, ax=ax, label="val loss (nats)")
  files.write_figure(path, fig)
  plt.close(fig)


def _ink(im, value) -> str:
  """Black on a light cell, white on a dark one (white on viridis' yellow end cannot be read)."""
  if not np.isfinite(value):
    return "k"
  r, g, b, _ = im.cmap(im.norm(value))
  return "k" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "w"


def convergence_curves(path, curves: dict, fp: dict) -> None:
  """curves: batch size -> (eval_step [E], val_loss [E, R], labels [R])."""
  n = len(curves)
  fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False, sharey=True)
  for ax, (b, (steps, val, labels)) in zip(axes[0], sorted(curves.items()), strict=True):
    for r, label in enumerate(labels):
      ax.plot(steps, val[:, r], label=label, lw=1.2)
    _refs(ax, fp)
    ax.set(title=f"B = {b}", xlabel="step", ylabel="val loss (nats)")
    ax.legend(fontsize=6)
  files.write_figure(path, fig)
  plt.close(fig)


def loss_vs_lr(path, fit: dict, fp: dict) -> None:
  """Seed-mean final loss against LR, one curve per batch size, the refined optimum marked (▲/▼ at an edge: bound)."""
  fig, ax = plt.subplots(figsize=(5.5, 4))
  for i, o in enumerate(o for o in fit["per_batch_size"] if "grid" in o):
    color = f"C{i % 10}"
    ax.plot(o["grid"], o["mean_val_loss"], "o-", color=color, ms=3, label=f"B = {o['batch_size']}")
    marker = {"high": ">", "low": "<"}.get(o["censored"], "*")
    y = min(v for v in o["mean_val_loss"] if np.isfinite(v))
    ax.plot(o["lr_opt"], y, marker, color=color, ms=11, mec="k")
  _refs(ax, fp)
  ax.set(xscale="log", xlabel="learning rate", ylabel="final val loss (seed mean)")
  ax.set_title("loss against LR; * refined optimum, > < optimum at the grid edge (bound)" + _clip_note(fit), fontsize=9)
  ax.legend(fontsize=7)
  files.write_figure(path, fig)
  plt.close(fig)


def scaling_exponent(path, fit: dict) -> None:
  """β with its 95% interval against the theories' exponents."""
  fig, ax = plt.subplots(figsize=(4.5, 3.6))
  for name, value in fit.get("theories", {}).items():
    ax.axhline(value, ls=":", lw=1, color="gray")
    ax.text(1.35, value, name, fontsize=7, va="center")
  if fit["beta"] is not None:
    ci = fit.get("beta_ci")
    err = None if not ci else [[fit["beta"] - ci[0]], [ci[1] - fit["beta"]]]
    ax.errorbar([1], [fit["beta"]], yerr=err, fmt="o", capsize=6, color="C0")
    note = "95% bootstrap interval" if ci else "no interval (too few resamples with 3 bracketed optima)"
    ax.set_title(f"β = {fit['beta']:.2f} from {fit['n_bracketed']} bracketed optima: {note}", fontsize=9)
  else:
    ax.set_title(f"no β: {fit.get('n_bracketed', 0)} bracketed optima (a fit needs 3)", fontsize=9)
  values = list(fit.get("theories", {}).values()) or [1.0]
  if fit["beta"] is not None:
    values += [fit["beta"], *(fit.get("beta_ci") or [])]
  ax.set(xlim=(0.5, 2.0), xticks=[], ylabel="β in LR_opt ∝ B^β", ylim=(min(0.0, *values) - 0.1, max(values) + 0.15))
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
  fig, (ax_f, ax_n) = plt.subplots(1, 2, figsize=(10, 3.8))
  for i, c in enumerate(clips):
    pts = sorted((b, r) for (cc, b), r in best.items() if cc == c)
    if not pts:
      continue
    bs = [b for b, _ in pts]
    label = "no clip" if c is None else f"clip {c:g}"
    ax_f.plot(bs, [r["clip_frequency"] for _, r in pts], "o-", color=f"C{i}", label=label)
    ax_n.plot(bs, [r["mean_grad_norm"] for _, r in pts], "o-", color=f"C{i}", label=f"{label}: before")
    ax_n.plot(bs, [r["mean_post_clip_norm"] for _, r in pts], "s--", color=f"C{i}", label=f"{label}: after")
  ax_f.set(xscale="log", xlabel="batch size B", ylabel="fraction of steps clipped", title="clip frequency (best LR)")
  ax_n.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="mean global gradient norm",
           title="gradient norm before / after clipping")  # fmt: skip
  ax_f.legend(fontsize=7)
  ax_n.legend(fontsize=6)
  files.write_figure(path, fig)
  plt.close(fig)
