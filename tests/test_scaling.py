"""LR_opt per batch size and the power-law fit, with edge optima treated as bounds."""

import math

import pytest

from tailjax.analysis import scaling

FP = {"ln_vocab": math.log(65), "unigram_entropy": 3.3}
GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def rows_with_optimum(b, lr_opt, seeds=(0,), diverge_above=None):
  out = []
  for lr in GRID:
    for s in seeds:
      loss = 2.0 + (math.log(lr) - math.log(lr_opt)) ** 2 + 0.01 * s
      if diverge_above is not None and lr > diverge_above:
        loss = float("nan")
      out.append({"batch_size": b, "lr": lr, "seed": s, "final_val_loss": loss})
  return out


def test_recovers_exponent_from_bracketed_optima():
  beta = math.log(10) / math.log(9)  # ratio 9 in B, 10 in LR; the middle optimum on the same line
  rows = rows_with_optimum(16, 3e-4) + rows_with_optimum(48, 3e-4 * 3**beta) + rows_with_optimum(144, 3e-3)
  fit = scaling.fit(rows, FP)
  assert fit.n_bracketed == 3 and fit.two_point_slope is None
  assert fit.beta == pytest.approx(beta, rel=1e-6) and fit.verdict.startswith(f"beta = {beta:.3f}")
  assert [o["censored"] for o in fit.per_batch_size] == [None, None, None]
  assert all(o["lr_opt_source"] == "refined" for o in fit.per_batch_size)


def test_two_bracketed_optima_give_no_beta_only_their_slope_by_name():
  # Through two points any line fits exactly (the study's Phase 2.5 table: "beta = 2.463", r2 = 1.0).
  rows = rows_with_optimum(16, 3e-4) + rows_with_optimum(144, 3e-3)
  fit = scaling.fit(rows, FP)
  assert fit.beta is None and fit.r2 is None and fit.beta_ci is None and fit.c is None
  assert fit.two_point_slope["beta"] == pytest.approx(math.log(10) / math.log(9), rel=1e-6)
  assert fit.verdict.startswith("no fit: 2 batch sizes have") and "not a measurement" in fit.verdict
  assert "beta =" not in fit.verdict


def test_edge_optimum_is_a_bound_and_leaves_the_fit():
  rows = rows_with_optimum(32, 3e-4, seeds=(0, 1)) + rows_with_optimum(64, 1e-3) + rows_with_optimum(128, 2e-3)
  rows += rows_with_optimum(256, 1e-1) + rows_with_optimum(512, 1e-5)
  fit = scaling.fit(rows, FP)
  by_b = {o["batch_size"]: o for o in fit.per_batch_size}
  assert by_b[256]["censored"] == "high" and by_b[256]["lr_opt"] == 1e-2
  assert by_b[256]["lr_opt_bracket"] == [1e-2, None] and by_b[256]["lr_opt_source"] == "bound"  # ≥ 0.01, one-sided
  assert by_b[512]["censored"] == "low" and by_b[512]["lr_opt_bracket"] == [None, 1e-4]
  assert by_b[64]["lr_opt_bracket"] == [3e-4, 3e-3]
  assert fit.n_bracketed == 3 and fit.beta is not None
  assert fit.naive_fit_all_argmins["n"] == 5  # the study's method, kept apart and labelled
  assert "B = [256, 512]: optimum at the grid's edge (a bound, not a point; not in the fit)" in fit.verdict


def test_a_loss_that_dips_twice_is_flagged():
  rows = rows_with_optimum(32, 1e-3)
  for r in rows:
    if r["lr"] == 1e-4:
      r["final_val_loss"] = 2.0  # a second dip at the grid's low end, as B = 32 in the study's table
  (opt,) = scaling.optima(rows)
  assert not opt["unimodal"]
  assert scaling.optima(rows_with_optimum(32, 1e-3))[0]["unimodal"]
  fit = scaling.fit(rows + rows_with_optimum(64, 2e-3) + rows_with_optimum(128, 3e-3), FP)
  assert "B = [32]: the loss dips twice" in fit.verdict


def test_untrusted_refinement_falls_back_to_the_grid_point():
  # A valley much steeper on one side: the 3-point parabola puts its minimum far from where the 5-point one does,
  # so neither shape is the loss's and the grid argmin is reported (the refinement is kept under its name).
  losses = {1e-4: 3.0, 3e-4: 2.9, 1e-3: 2.5, 3e-3: 2.45, 1e-2: 4.5}
  rows = [{"batch_size": 32, "lr": lr, "seed": 0, "final_val_loss": v} for lr, v in losses.items()]
  (opt,) = scaling.optima(rows)
  assert opt["lr_opt_source"] == "grid" and opt["lr_opt"] == 3e-3 and opt["lr_opt_refined"] != 3e-3
  (unchecked,) = scaling.optima(rows, check=False)  # what the bootstrap draws from
  assert unchecked["lr_opt"] == opt["lr_opt_refined"]


def test_low_edge_diverged_and_too_few_points():
  rows = rows_with_optimum(8, 1e-5) + rows_with_optimum(16, 1e-3, diverge_above=0)
  fit = scaling.fit(rows, FP)
  by_b = {o["batch_size"]: o for o in fit.per_batch_size}
  assert by_b[8]["censored"] == "low"
  assert by_b[16]["censored"] == "all_diverged"
  assert fit.beta is None and "no fit" in fit.verdict


def test_diverged_lane_never_wins():
  rows = rows_with_optimum(32, 1e-3, diverge_above=2e-3)
  (opt,) = scaling.optima(rows)
  assert opt["lr_opt"] == pytest.approx(1e-3) and opt["censored"] is None


def test_clip_lanes_are_separate_grids():
  low_clip = [{**r, "clip": 0.01} for r in rows_with_optimum(32, 1e-2 * 3) + rows_with_optimum(64, 1e-3)]
  no_clip = [{**r, "clip": None} for r in rows_with_optimum(32, 3e-4) + rows_with_optimum(64, 1e-3)]
  fit = scaling.fit(no_clip + low_clip, FP)
  assert [f.clip for f in fit.by_setting] == [None, 0.01]
  none_fit, low_fit = fit.by_setting
  assert [o["lr_opt_grid"] for o in none_fit.per_batch_size] == [3e-4, 1e-3]
  assert low_fit.per_batch_size[0]["censored"] == "high"  # not averaged with the other clip's losses
  assert fit.beta == none_fit.beta


def test_refinement_finds_an_optimum_between_grid_points():
  # An exact parabola in ln LR with its minimum at 2e-3 (between 1e-3 and 3e-3) is recovered, not snapped to 3e-3,
  # by the 3-point parabola and by the 5-point least-squares one the bootstrap also draws.
  rows = rows_with_optimum(32, 2e-3)
  for half_width in (1, 2):
    (opt,) = scaling.optima(rows, half_width=half_width)
    assert opt["lr_opt_grid"] == 3e-3 and opt["lr_opt"] == pytest.approx(2e-3, rel=1e-6)
  # a loss that is not a parabola: the two refinements disagree, which the interval then covers
  bent = [{**r, "final_val_loss": abs(math.log(r["lr"]) - math.log(2e-3)) ** 1.2} for r in rows]
  (three,), (five,) = scaling.optima(bent, check=False), scaling.optima(bent, half_width=2, check=False)
  assert three["lr_opt"] != pytest.approx(five["lr_opt"], rel=1e-3)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0])
def test_interval_covers_the_true_exponent_on_noisy_surfaces(beta):
  # LR_opt(B) = 1e-3·(B/32)^β on a ×3 grid wide enough to bracket every optimum; loss noise sd 0.01.
  grid = [1e-4 * 3**j for j in range(9)]  # 1e-4 … 0.66
  covered = 0
  for rep in range(10):
    rng = __import__("numpy").random.default_rng(rep)
    rows = []
    for b in (32, 64, 128, 256, 512):
      lr_opt = 1e-3 * (b / 32) ** beta
      for lr in grid:
        loss = 3.0 + 0.2 * (math.log(lr) - math.log(lr_opt)) ** 2 + rng.normal(0, 0.01)
        rows.append({"batch_size": b, "lr": lr, "final_val_loss": loss, "train_loss_std": 0.01})
    fit = scaling.fit(rows, FP, n_boot=200)
    assert fit.n_bracketed == 5
    lo, hi = fit.beta_ci
    covered += lo <= beta <= hi
  assert covered >= 8  # a 95% interval: at least 8 of 10


def test_the_studys_phase_2_5_table_is_not_a_finding():
  # ../shared/seeds/001: B = 128 and 256 have their best loss at LR = 0.01, the grid's top: bounds, not points.
  table = """32,0.0001,4.7026,0.0030
32,0.0003,4.5475,0.0039
32,0.001,4.4391,0.0042
32,0.003,4.5757,0.0032
32,0.01,4.4825,0.0038
64,0.0001,4.7697,0.0030
64,0.0003,4.5987,0.0020
64,0.001,4.4869,0.0031
64,0.003,4.3775,0.0034
64,0.01,4.3904,0.0032
128,0.0001,4.6681,0.0018
128,0.0003,4.4978,0.0018
128,0.001,4.4491,0.0025
128,0.003,4.4369,0.0020
128,0.01,4.3819,0.0020
256,0.0001,4.6739,0.0015
256,0.0003,4.5561,0.0012
256,0.001,4.5004,0.0014
256,0.003,4.4796,0.0014
256,0.01,4.3459,0.0015"""
  rows = []
  for line in table.splitlines():
    b, lr, loss, sd = line.split(",")
    rows.append({"batch_size": int(b), "lr": float(lr), "final_val_loss": float(loss), "train_loss_std": float(sd)})
  fit = scaling.fit(rows, {}, n_boot=200)
  by_b = {o["batch_size"]: o for o in fit.per_batch_size}
  assert by_b[128]["censored"] == "high" and by_b[256]["censored"] == "high"
  assert fit.n_bracketed == 2 and "not a measurement" in fit.verdict
  assert fit.beta is None and fit.r2 is None and fit.verdict.startswith("no fit")  # no β from two points
  two = [o for o in fit.per_batch_size if o["censored"] is None]  # the slope through them is kept, by its name
  assert fit.two_point_slope["beta"] == pytest.approx(math.log(two[1]["lr_opt"] / two[0]["lr_opt"]) / math.log(2))
  assert fit.naive_fit_all_argmins["beta"] == pytest.approx(1.17, abs=0.01)  # the study's number, labelled
  assert "do not report" in fit.naive_fit_all_argmins["note"]
  assert by_b[128]["lr_opt_bracket"] == [0.01, None]  # ≥ 0.01: one-sided, not [0.003, 0.01]
  assert not by_b[32]["unimodal"] and "B = [32]: the loss dips twice" in fit.verdict  # 4.44 at 0.001, 4.48 at 0.01
  table = scaling.optima_table(fit)
  assert "≥ 0.01 (optimum beyond the grid's largest LR: a bound)" in table and "dips twice" in table


def test_noisy_quadratic_model_optimum_is_mccandlish():
  # ΔL(ε) = −ε|G|² + ½ε²(GᵀHG + tr(HΣ)/B): its grid minimiser is ε_max/(1 + B_noise/B).
  np = __import__("numpy")
  g_sq, ghg, tr_h_sigma = 2.0, 5.0, 400.0
  eps_max, b_noise = g_sq / ghg, tr_h_sigma / ghg
  eps_grid = np.geomspace(1e-4, 1.0, 200_001)
  for b in (1, 8, 80, 800, 8000):
    delta = -eps_grid * g_sq + 0.5 * eps_grid**2 * (ghg + tr_h_sigma / b)
    grid_min = eps_grid[np.argmin(delta)]
    assert grid_min == pytest.approx(float(scaling.noisy_quadratic_optimum(g_sq, ghg, tr_h_sigma, b)), rel=1e-4)
    assert grid_min == pytest.approx(float(scaling.mccandlish(b, eps_max, b_noise)), rel=1e-4)


@pytest.mark.parametrize("truth", ["mccandlish", "power_law"])
def test_the_information_criterion_picks_the_form_that_made_the_optima(truth):
  bs = [8, 16, 32, 64, 128, 256, 512, 1024]
  lrs = scaling.mccandlish(bs, 0.02, 100.0) if truth == "mccandlish" else 1e-4 * (__import__("numpy").array(bs) ** 0.7)
  forms = scaling.compare_forms(bs, list(lrs))
  assert forms["best_by_aic"] == truth


def test_clip_lanes_record_norms_before_and_after_clipping(tmp_path):
  from tailjax import experiment
  from tests.conftest import tiny_config

  cfg = tiny_config()
  cfg.sweep.batch_sizes = (4, 8)
  cfg.sweep.learning_rates = (1e-3, 1e-2)
  cfg.sweep.clips = (None, 0.01)
  cfg.output.plots = True
  experiment.run(cfg, tmp_path / "p3b")
  import csv

  with open(tmp_path / "p3b" / "results.csv") as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 8
  for r in rows:
    before, after = float(r["mean_grad_norm"]), float(r["mean_post_clip_norm"])
    if r["clip"] == "":
      assert after == pytest.approx(before) and float(r["clip_frequency"]) == 0.0
    else:
      assert after <= 0.01 + 1e-9 < before  # every step's norm is above 0.01 here, so every step clips
      assert float(r["clip_frequency"]) == 1.0
  assert (tmp_path / "p3b" / "clip_study.png").stat().st_size > 0


def test_a_row_where_every_lane_diverged_is_reported_not_called_an_edge():
  nan = float("nan")
  rows = rows_with_optimum(16, 3e-4) + rows_with_optimum(144, 3e-3)
  rows += [{"batch_size": 512, "lr": lr, "seed": 0, "final_val_loss": nan} for lr in GRID]
  fit = scaling.fit(rows, FP, n_boot=20)
  assert [o["censored"] for o in fit.per_batch_size] == [None, None, "all_diverged"]
  assert "every lane of B = [512] diverged" in fit.verdict and "grid's edge" not in fit.verdict
  assert fit.n_bracketed == 2


def test_lr_vs_batch_draws_a_beta_only_from_three_bracketed_optima():
  import matplotlib.pyplot as plt

  from tailjax.analysis import sweep_plots

  two = scaling.fit(rows_with_optimum(16, 3e-4) + rows_with_optimum(144, 3e-3) + rows_with_optimum(256, 1.0), FP)
  fig = sweep_plots.lr_vs_batch_figure(two)
  (ax,) = fig.axes
  legend = [t.get_text() for t in ax.get_legend().get_texts()]
  assert not any("β =" in t for t in legend) and any("above the grid (a bound)" in t for t in legend)
  assert not any("below the grid" in t for t in legend)  # only what is drawn gets an entry
  assert ax.get_title().endswith("\nno β: 2 bracketed optima (a fit needs 3)")
  plt.close(fig)
  three = scaling.fit(rows_with_optimum(16, 3e-4) + rows_with_optimum(48, 1e-3) + rows_with_optimum(144, 3e-3), FP)
  fig = sweep_plots.lr_vs_batch_figure(three)
  legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
  assert any(t.startswith("fit on 3 bracketed: β = ") for t in legend) and not any("bound" in t for t in legend)
  plt.close(fig)
  edge = scaling.fit(rows_with_optimum(16, 3e-4) + rows_with_optimum(48, 1e-3) + rows_with_optimum(144, 3e-3)
                     + rows_with_optimum(512, 1.0), FP)  # fmt: skip
  fig = sweep_plots.lr_vs_batch_figure(edge)
  (line,) = [x for x in fig.axes[0].get_lines() if x.get_label().startswith("fit on")]
  assert min(line.get_xdata()) == pytest.approx(16) and max(line.get_xdata()) == pytest.approx(144)  # not to 512
  assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["16", "48", "144", "512"]
  plt.close(fig)


@pytest.mark.parametrize(
  "content,needle",
  [
    (b"batch_size,lr,final_val_loss\n32,0.001,nan\n", "final_val_loss is NaN in a row not marked diverged"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "is not a CSV table"),
  ],
)
def test_analysed_tables_refuse_an_unmarked_nan_and_a_binary_file(tmp_path, content, needle):
  from tailjax.analysis import analyze
  from tailjax.errors import UserError

  table = tmp_path / "t.csv"
  table.write_bytes(content)
  with pytest.raises(UserError, match=needle):
    analyze.read_results(table)
  table.write_text("batch_size,lr,final_val_loss,diverged\n32,0.001,nan,True\n32,0.003,4.0,False\n")
  rows, _ = analyze.read_results(table)  # a lane marked diverged may have a NaN loss: it counts as +inf
  assert math.isnan(rows[0]["final_val_loss"]) and scaling.optima(rows)[0]["lr_opt_grid"] == 0.003


def test_an_interval_holding_every_theory_says_it_cannot_tell_them_apart():
  rows = rows_with_optimum(16, 3e-4) + rows_with_optimum(48, 1e-3) + rows_with_optimum(144, 3e-3)
  noisy = [{**r, "train_loss_std": 2.0} for r in rows]  # loss noise as deep as the valley: any optimum can win
  fit = scaling.fit(noisy, FP, n_boot=200)
  lo, hi = fit.beta_ci
  assert lo < 0.5 and hi > 1.0
  assert "it cannot tell the theories apart" in fit.verdict and "inside the interval" not in fit.verdict
