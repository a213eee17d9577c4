"""The sweep's figures as a reader sees them: every lane setting gets its panel, only what is drawn is in a legend,
axes cover the data rather than far-off references, and no label lies outside the figure or on another."""

import pathlib

import numpy as np
import pytest

from tailjax.analysis import compare_runs, scaling, sweep_plots
from tests.conftest import assert_readable
from tests.test_scaling import FP, GRID, rows_with_optimum


@pytest.fixture
def captured(monkeypatch):
  """The figures the plot functions would write, instead of PNG files (left open until the test ends: a closed
  figure no longer lays itself out)."""
  figs = {}
  monkeypatch.setattr(sweep_plots.files, "write_figure", lambda path, fig: figs.__setitem__(str(path), fig))
  monkeypatch.setattr(sweep_plots.plt, "close", lambda fig=None: None)
  yield figs
  monkeypatch.undo()
  for fig in figs.values():
    sweep_plots.plt.close(fig)


def clip_sweep_fit():
  rows = []
  for clip, scale in ((None, 1.0), (0.01, 1.5)):
    for b, lr in ((16, 1e-4 * 3), (48, 1e-3), (144, 3e-3)):
      rows += [{**r, "clip": clip} for r in rows_with_optimum(b, lr * scale)]
  return scaling.fit(rows, FP, n_boot=50)


def test_each_clip_setting_gets_its_verdict_table_and_panels(captured):
  fit = clip_sweep_fit()
  assert fit.verdict.splitlines()[0].startswith("clip = none: beta = ")
  assert fit.verdict.splitlines()[1].startswith("clip = 0.01: ")
  assert fit.top_level_setting == "clip = none"
  assert "optima (clip = none)" in scaling.optima_table(fit) and "optima (clip = 0.01)" in scaling.optima_table(fit)
  sweep_plots.lr_vs_batch("lr.png", fit)
  sweep_plots.loss_heatmap("heat.png", fit, FP)
  sweep_plots.loss_vs_lr("loss.png", fit, FP)
  sweep_plots.scaling_exponent("beta.png", fit)
  for name in ("lr.png", "loss.png"):
    titles = [ax.get_title() for ax in captured[name].axes if ax.get_title()]
    assert [t.splitlines()[1] for t in titles] == ["clip = none", "clip = 0.01"], name
  heat_titles = [ax.get_title() for ax in captured["heat.png"].axes if ax.get_title()]
  assert heat_titles[0].endswith("clip = none") and heat_titles[1] == "clip = 0.01"
  beta_ax = captured["beta.png"].axes[0]
  assert [t.get_text() for t in beta_ax.get_xticklabels()] == ["clip = none", "clip = 0.01"]
  assert len(beta_ax.containers) == 2  # one β with its interval per setting
  for name, fig in captured.items():
    assert_readable(fig), name


def test_loss_axis_covers_the_losses_not_a_far_off_ln_v(captured):
  rows = rows_with_optimum(16, 3e-4) + rows_with_optimum(48, 1e-3) + rows_with_optimum(144, 3e-3)
  fp = {"ln_vocab": 30.0, "unigram_entropy": 3.3}  # far above every loss (2.0 ... 14.3)
  fit = scaling.fit(rows, fp, n_boot=50)
  sweep_plots.loss_vs_lr("loss.png", fit, fp)
  (ax,) = captured["loss.png"].axes
  losses = [v for o in fit.per_batch_size for v in o["mean_val_loss"]]
  lo, hi = ax.get_ylim()
  pad = 0.06 * (max(losses) - min(losses))
  assert lo == pytest.approx(min(losses) - pad) and hi == pytest.approx(max(losses) + pad) and hi < 30
  assert "ln V = 30.00: outside the plotted range" in ax.get_title()
  legend = [t.get_text() for t in ax.get_legend().get_texts()]
  assert "unigram entropy = 3.30" in legend and not any(t.startswith("ln V") for t in legend)
  ticks = [t.get_text() for t in ax.get_xticklabels()]
  assert ticks == [f"{lr:.3g}" for lr in GRID]
  assert_readable(captured["loss.png"])


def test_convergence_curves_one_colour_per_lr_best_lane_on_top_legend_outside(captured):
  steps = np.array([10, 20, 30])
  labels = ["lr=0.001,seed=0", "lr=0.001,seed=1", "lr=0.01,seed=0", "lr=0.01,seed=1"]
  val = np.array([[4.0, 4.0, 3.5, 3.6], [3.5, 3.4, 3.0, 2.9], [3.2, 3.1, 2.6, 2.5]])
  sweep_plots.convergence_curves("curves.png", {32: (steps, val, labels), 64: (steps, val - 0.1, labels)}, FP)
  fig = captured["curves.png"]
  for ax in fig.axes:
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 3]
    colours = [line.get_color() for line in lines]
    assert colours[0] == colours[1] != colours[2] == colours[3]  # the LR sets the colour, the seed the style
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    assert max(lines, key=lambda line: line.get_zorder()) is lines[3]  # the lowest final loss drawn last
    assert ax.get_legend() is None
  (legend,) = fig.legends
  assert [t.get_text() for t in legend.get_texts()][:4] == labels
  assert_readable(fig)


def test_compare_runs_names_runs_briefly_and_keeps_the_legend_off_the_axes(tmp_path, captured):
  figs = captured
  per_b = []
  for i, name in enumerate(("adamw", "sgd", "muon")):
    run = f"name={name}, b1=0.9, learning_rates=(0.0001 0.0003 … 0.3; 9), weight_decay=0.1, warmup_steps={i * 100}"
    per_b += [{"run": run, "batch_size": b, "lr_opt": 1e-3 * b / 32, "censored": "", "best_loss": 2.0}
              for b in (32, 64, 128)]  # fmt: skip
  compare_runs.plot(tmp_path / "lr_opt_by_run.png", per_b)
  assert_readable(figs[str(tmp_path / "lr_opt_by_run.png")])
  assert compare_runs.compact_value([1e-4, 3e-4, 1e-3, 3e-3, 1e-2]) == "(0.0001 0.0003 … 0.01; 5)"


def test_alpha_evolution_names_each_verdict_and_does_not_magnify_a_small_drift(monkeypatch):
  from tailjax.noise import noise_plots

  figs = {}
  monkeypatch.setattr(noise_plots.files, "write_figure", lambda path, fig: figs.__setitem__(path.name, fig))
  monkeypatch.setattr(noise_plots.plt, "close", lambda fig=None: None)
  alpha, curves = [], []
  for step, drift in ((0, 0.0), (100, 0.03), (200, 0.05)):
    for group, base in (("all W_in", 2.35), ("all W_out", 2.39), ("W_in", 2.35)):
      for ratio in (0.05, 0.1, 0.2):
        alpha.append({"step": step, "batch_size": 256, "lane": "lr=0.001", "group": group, "estimator": "hill",
                      "k_ratio": ratio, "value": base + drift + 0.1 * ratio})  # fmt: skip
    curves += [{"step": step, "lane": "lr=0.001", "group": g, "k": [10, 100], "alpha": [3.0, 2.4]}
               for g in ("all W_in", "all W_out")]  # fmt: skip
  verdicts = [
    {"batch_size": 256, "lane": "lr=0.001", "group": "all W_in", "category": "cannot tell", "hill_k": "",
     "hill_tail_index": ""},
    {"batch_size": 256, "lane": "lr=0.001", "group": "all W_out", "category": "power law", "hill_k": "100",
     "hill_tail_index": "2.4"},
  ]  # fmt: skip
  noise_plots.all_plots(pathlib.Path("."), {"alpha": alpha, "verdicts": verdicts, "hill_curves": curves}, 0.1)
  fig = figs["alpha_evolution.png"]
  (ax,) = fig.axes
  lines = {line.get_label(): line for line in ax.get_lines()}
  assert lines["all W_in (verdict: cannot tell)"].get_markerfacecolor() == "none"  # hollow: no power law
  assert lines["all W_out (verdict: power law)"].get_markerfacecolor() != "none"
  lo, hi = ax.get_ylim()
  assert hi - lo >= 1.0  # a drift of 0.05 is drawn as small as it is
  for name, one in figs.items():
    assert_readable(one), name
    noise_plots.plt.close(one)
