"""Figures of the gradient-noise measurements (the study's Phase 1 plots, plus the Hill plot that says whether there
is a power-law tail at all): alpha_evolution.png, estimator_comparison.png, alpha_layerwise.png, attention_vs_ffn.png,
early_vs_steady.png, hill_plots.png. Each shows the first batch size's first lane unless it says otherwise;
alpha_evolution and early_vs_steady need two measurement steps or more (one has no evolution to draw)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tailjax import files  # noqa: E402

_MAX_LANE_ROWS = 6  # hill_plots.png: one row per lane, at most this many
_NOTE = "Hill: tail index (k = {r:g}·n); it means something only where the Hill plot has a plateau"


def _select(rows, **match):
  return [r for r in rows if all(r[k] == v for k, v in match.items())]


def all_plots(workdir, found: dict, mid_ratio: float) -> None:
  alpha = found["alpha"]
  first = alpha[0]
  b, lane = first["batch_size"], first["lane"]
  mine = _select(alpha, batch_size=b, lane=lane)
  steps = sorted({r["step"] for r in mine})
  pooled = sorted({r["group"] for r in mine if r["group"].startswith("all ")})
  tensors = sorted({r["group"] for r in mine if not r["group"].startswith(("all ", "raw "))})
  where = "" if b == "" else f"B = {b}, "  # a report outside a sweep has no batch size
  title = f"{where}{lane}"

  def hill(group, step, ratio=mid_ratio):
    got = _select(mine, group=group, step=step, estimator="hill", k_ratio=ratio)
    return got[0]["value"] if got else np.nan

  lanes = sorted({r["lane"] for r in _select(alpha, batch_size=b)})
  if len(steps) > 1:  # over training: one measurement (a single noise_report) has no evolution to draw
    # alpha_evolution: pooled groups' Hill α̂ over training, every lane of the first batch size
    # (the last step's verdict in each label, hollow markers where it found no power law; a y-range of at least one unit
    # of α, so that a drift of 0.05 does not fill the panel)
    verdict_of = {(v["lane"], v["group"]): v["category"] for v in found.get("verdicts", []) if v["batch_size"] == b}
    fig, axes = plt.subplots(1, len(lanes), figsize=(4.5 * len(lanes), 3.9), squeeze=False, sharey=True,
                             layout="constrained")  # fmt: skip
    values = []
    for ax, ln in zip(axes[0], lanes, strict=True):
      rows = _select(alpha, batch_size=b, lane=ln, estimator="hill", k_ratio=mid_ratio)
      for i, g in enumerate(pooled):
        pts = sorted((r["step"], r["value"]) for r in rows if r["group"] == g)
        if pts:
          category = verdict_of.get((ln, g))
          power = category is None or category == "power law"  # a cut-off or no power law: hollow
          label = g if category is None else f"{g} (verdict: {category})"
          ax.plot(*zip(*pts, strict=True), "o-", color=f"C{i}", mfc=None if power else "none", label=label)
          values += [v for _, v in pts if np.isfinite(v)]
      ax.set(xlabel="step", title=f"{where}{ln}")
      ax.title.set_fontsize(9)
      ax.legend(fontsize=6, loc="best")
    if values:
      mid, half = (max(values) + min(values)) / 2, max((max(values) - min(values)) / 2 * 1.15, 0.5)
      axes[0][0].set_ylim(mid - half, mid + half)
    axes[0][0].set_ylabel(f"Hill α̂ (k = {mid_ratio:g}·n)")
    fig.suptitle(
      _NOTE.format(r=mid_ratio)
      + (
        "\nhollow: the verdict (last step) found no pure power law; verdicts.csv quotes α at the k its fit chose, "
        "which may differ from this fixed k"
        if verdict_of
        else "\nno verdict was run (verdict off): these are Hill numbers, not tested tail indices"
      ),
      fontsize=8,
    )
    files.write_figure(workdir / "alpha_evolution.png", fig)
    plt.close(fig)

  # estimator_comparison: at the last step, each estimator's α for each pooled group
  last = steps[-1]
  fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
  kinds = [("hill", mid_ratio, "Hill (tail index)"), ("pickands", mid_ratio, "Pickands (tail index)")]
  kinds.append(("stable_mohammadi", "", "Mohammadi (stable index ≤ 2)"))
  width = 0.8 / len(kinds)
  for i, (est, ratio, label) in enumerate(kinds):
    vals = []
    for g in pooled:
      got = _select(mine, group=g, step=last, estimator=est, k_ratio=ratio)
      vals.append(got[0]["value"] if got else np.nan)
    ax.bar(np.arange(len(pooled)) + i * width, vals, width, label=label)
  ax.set_xticks(np.arange(len(pooled)) + width, pooled, fontsize=8)
  ax.set(ylabel="α̂", title=f"estimators at step {last}, k = {mid_ratio:g}·n ({title})\nthey estimate different α")
  ax.legend(fontsize=7)
  files.write_figure(workdir / "estimator_comparison.png", fig)
  plt.close(fig)

  # alpha_layerwise: Hill α̂ per tensor (rows) and step (columns)
  grid = np.array([[hill(t, s) for s in steps] for t in tensors])
  fig, ax = plt.subplots(figsize=(2.4 + 0.9 * len(steps), 0.25 * len(tensors) + 1.5), layout="constrained")
  finite = grid[np.isfinite(grid)]
  mid = (finite.max() + finite.min()) / 2 if finite.size else 2.0
  half = max((finite.max() - finite.min()) / 2, 0.5) if finite.size else 0.5  # at least one unit of α: see above
  im = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=mid - half, vmax=mid + half)
  ax.set_yticks(range(len(tensors)), tensors, fontsize=6)
  ax.set_xticks(range(len(steps)), steps)
  ax.set(xlabel="step", title=f"Hill α̂ per tensor, k = {mid_ratio:g}·n\n({title})")
  fig.colorbar(im, ax=ax, label=f"Hill α̂ (k = {mid_ratio:g}·n)")
  files.write_figure(workdir / "alpha_layerwise.png", fig)
  plt.close(fig)

  # attention_vs_ffn: at the last step, Hill α̂ against the k ratio for each pooled group (does k decide the answer?)
  fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
  for g in pooled:
    pts = sorted((r["k_ratio"], r["value"]) for r in _select(mine, group=g, step=last, estimator="hill"))
    if pts:
      ax.plot(*zip(*pts, strict=True), "o-", label=g)
  ax.set(xlabel="k / n", ylabel="Hill α̂", xscale="log", title=f"Hill α̂ against k at step {last}\n({title})")
  ax.legend(fontsize=7)
  files.write_figure(workdir / "attention_vs_ffn.png", fig)
  plt.close(fig)

  if len(steps) > 1:  # first against last: nothing to compare in one measurement
    # early_vs_steady: per tensor, first against last measurement
    fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
    early, steady = np.array([hill(t, steps[0]) for t in tensors]), np.array([hill(t, last) for t in tensors])
    ax.scatter(early, steady, s=12)
    both = np.r_[early, steady]
    both = both[np.isfinite(both)] if np.isfinite(both).any() else np.array([1.0, 2.0])
    mid, half = (both.max() + both.min()) / 2, max((both.max() - both.min()) / 2 * 1.2, 0.5)  # ≥ one unit of α
    lim = [mid - half, mid + half]
    ax.plot(lim, lim, "k:", lw=1)
    ax.set(
      xlabel=f"Hill α̂ at step {steps[0]}",
      ylabel=f"Hill α̂ at step {last}",
      title=f"Hill α̂ per tensor, first against last\n({title})",
    )
    files.write_figure(workdir / "early_vs_steady.png", fig)
    plt.close(fig)

  # hill_plots: α̂ against k for each pooled group at each step, one row per lane of the first batch size; the panel
  # of a group with a verdict (last step) names its category and marks the k the verdict read α̂ at
  curves = [c for c in found["hill_curves"] if any(r["lane"] == c["lane"] for r in _select(alpha, batch_size=b))]
  groups = sorted({c["group"] for c in curves})
  rows_lanes = [ln for ln in lanes if any(c["lane"] == ln for c in curves)][:_MAX_LANE_ROWS]
  if groups and rows_lanes:
    height, width = 3.0 * len(rows_lanes) + 0.6, 4 * len(groups)
    fig, axes = plt.subplots(len(rows_lanes), len(groups), figsize=(width, height), squeeze=False, sharey=True,
                             layout="constrained")  # fmt: skip
    verdicts = {(v["lane"], v["group"]): v for v in found["verdicts"] if v["batch_size"] == b}
    for row, ln in zip(axes, rows_lanes, strict=True):
      for ax, g in zip(row, groups, strict=True):
        for c in (c for c in curves if c["group"] == g and c["lane"] == ln):
          ax.plot(c["k"], c["alpha"], label=f"step {c['step']}")
        v = verdicts.get((ln, g))
        label = g if v is None else f"{g}: {v['category']}"
        if v is not None and v["hill_k"] != "":
          ax.plot([float(v["hill_k"])], [float(v["hill_tail_index"])], "kx", ms=7, label="verdict's k, Hill α̂")
        ax.set(xscale="log", xlabel="k", title=f"{label}\n{ln}")
        ax.title.set_fontsize(8)
      row[0].set_ylabel("Hill α̂")
    axes[0][0].legend(fontsize=7)
    more = f" (first {_MAX_LANE_ROWS} of {len(lanes)} lanes)" if len(lanes) > _MAX_LANE_ROWS else ""
    which = f" (B = {b}{more})" if b != "" else more
    fig.suptitle(f"Hill plots{which}: a power-law tail shows a flat stretch; a drift means none", fontsize=9)
    files.write_figure(workdir / "hill_plots.png", fig)
    plt.close(fig)
