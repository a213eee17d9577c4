"""The noisy quadratic model's closed form: the issue's published numbers, and SGD simulated many times."""

import numpy as np
import pytest

from tailjax.analysis import nqm


def test_the_exact_optimum_rises_and_bends_as_the_issue_states():
  # D = 1000, p = 1, N = 1000: LR* from 0.18 at B = 1 to 1.66 at B = 1024, local slope from 0.68 down to 0.08 (the
  # issue's 0.64 and 0.09 are secants over its ×4 grid of B; these are the derivatives)
  out = nqm.exact_optima([1, 4, 32, 256, 1024], d=1000, power=1.0, steps=1000)
  assert out["lr_star"][0] == pytest.approx(0.18, abs=0.005) and out["lr_star"][-1] == pytest.approx(1.66, abs=0.01)
  assert np.all(np.diff(out["lr_star"]) > 0)
  assert out["local_slope"][0] > 0.55 and out["local_slope"][-1] < 0.12  # a curved law: no single β
  assert 0.09 < out["slope_over_range"] < 0.64


def test_the_closed_form_is_the_mean_of_simulated_sgd():
  # 4,000 runs of SGD on a 20-coordinate quadratic, vectorised in numpy: the mean final loss agrees with E[L_N]
  # within 4 standard errors, at a small, a middling and a near-unstable learning rate.
  rng = np.random.default_rng(0)
  h = nqm.spectrum(20, 1.0)
  steps, b, runs = 60, 4, 4_000
  for lr in (0.05, 0.5, 1.5):
    theta = np.ones((runs, 20))
    for _ in range(steps):
      noise = rng.standard_normal((runs, b, 20)).mean(1)
      theta = theta - lr * (h * theta + np.sqrt(h) * noise)
    final = 0.5 * (h * theta**2).sum(1)
    exact = nqm.expected_loss(lr, b, h_D=h, steps=steps)
    assert abs(final.mean() - exact) < 4 * final.std() / np.sqrt(runs), (lr, final.mean(), exact)


def test_the_optimum_is_the_minimum_of_the_expected_loss():
  h = nqm.spectrum(50, 1.0)
  lr = nqm.optimal_lr(8, h_D=h, steps=200)
  at = nqm.expected_loss(lr, 8, h_D=h, steps=200)
  assert at <= nqm.expected_loss(lr * 1.01, 8, h_D=h, steps=200)
  assert at <= nqm.expected_loss(lr / 1.01, 8, h_D=h, steps=200)


def quadratic_config(seeds=(0, 1, 2, 3)):
  from configs import nqm as nqm_config

  c = nqm_config.get_config("sgd")
  c.model.d_model = 100
  c.train.steps = 200
  c.eval.every = 100
  c.sweep.batch_sizes = (1, 4, 16, 64)
  c.sweep.seeds = seeds
  c.output.tensorboard = False
  c.output.plots = False
  c.measure.steps = ()  # the tails have their own test
  return c


def test_sgd_lanes_find_the_exact_optimum_end_to_end(tmp_path, monkeypatch):
  """The known answer for the whole β pipeline: real lanes trained by the engine, the optima refined and fitted by the
  analysis, against the closed form. Each measured optimum within 15% of the exact LR*, β's interval covering the
  exact slope over the same batch sizes (measured: ratios 1.01-1.12, β = 0.34 [0.20, 0.42] against 0.355)."""
  import csv
  import json

  from tailjax import experiment
  from tests.conftest import assert_readable

  experiment.run(quadratic_config(), tmp_path / "nqm")
  fit = json.loads((tmp_path / "nqm" / "scaling_fit.json").read_text())
  exact = fit["exact"]
  assert sorted(int(b) for b in exact["measured_over_exact"]) == [1, 4, 16, 64]  # every optimum bracketed
  assert all(0.85 < r < 1.15 for r in exact["measured_over_exact"].values()), exact["measured_over_exact"]
  assert exact["beta_ci_covers_it"] is True, (fit["beta_ci"], exact["slope_over_bracketed"])
  from tailjax.analysis import sweep_plots
  from tailjax.analysis.scaling_fit import ScalingFit

  fig = sweep_plots.lr_vs_batch_figure(ScalingFit.from_json(fit))  # the figure of the fit the file holds
  (curve,) = [line for line in fig.axes[0].get_lines() if line.get_label().startswith("exact LR*(B)")]
  np.testing.assert_allclose(curve.get_ydata(), exact["lr_star"])
  sweep_plots.plt.close(fig)
  figs = {}
  monkeypatch.setattr(sweep_plots.files, "write_figure", lambda path, fig: figs.__setitem__(str(path), fig))
  monkeypatch.setattr(sweep_plots.plt, "close", lambda fig=None: None)  # a closed figure no longer lays itself out
  # β's bar against the exact slope, drawn as a dashed line
  sweep_plots.scaling_exponent("beta.png", ScalingFit.from_json(fit))
  dashed = [line.get_ydata()[0] for line in figs["beta.png"].axes[0].get_lines() if line.get_linestyle() == "--"]
  assert dashed == [pytest.approx(exact["slope_over_bracketed"])]
  assert_readable(figs["beta.png"])
  summary = (tmp_path / "nqm" / "summary.txt").read_text()
  assert "known answer (SGD's exact expected loss" in summary and "reference losses: L(θ0) = " in summary
  from tailjax.analysis import compare_runs

  compare_runs.write(tmp_path / "cmp", [tmp_path / "nqm"])  # the lab's table, as launch/nqm.sh makes it
  (row,) = list(csv.DictReader(open(tmp_path / "cmp" / "nqm_table.csv")))
  assert float(row["rule exact slope"]) == pytest.approx(exact["slope_over_bracketed"])
  assert float(row["rule study 1-1/alpha"]) == pytest.approx(0.5)  # Gaussian noise: the study's α = 2
  assert row["rules_inside_ci"].split("; ")[-1] == "exact slope"
  assert float(row["measured_over_exact_max"]) == pytest.approx(max(exact["measured_over_exact"].values()))
  assert "| sgd, normal | " in (tmp_path / "cmp" / "nqm_table.md").read_text()


def test_stable_noise_averages_seeds_by_their_median():
  """Under stable noise the loss has no mean: one seed's jump must not move the optimum (it would with the mean)."""
  from tailjax.analysis import scaling

  rows = []
  for b in (1, 4, 16):
    for lr, loss in ((0.1, 1.0), (0.2, 0.5), (0.4, 0.8), (0.8, 1.2)):
      for seed in range(5):
        jump = 100.0 if (lr, seed) == (0.2, 0) else 0.0  # one seed at the true optimum jumped far
        rows.append({"batch_size": b, "lr": lr, "seed": seed, "final_val_loss": loss + 0.01 * seed + jump})
  from tailjax import tasks

  def data_json(noise, param):  # what the run writes for the quadratic task under this noise
    c = quadratic_config()
    c.data.noise, c.data.noise_param = noise, param
    return {"facts": tasks.build(c).facts().to_json()}

  stable, normal = data_json("stable", 1.5), data_json("normal", 0.0)
  assert scaling.seed_average(stable) == "median" and scaling.seed_average(normal) == "mean"
  fit = scaling.fit(rows, stable, n_boot=50)
  assert [o["lr_opt_grid"] for o in fit.per_batch_size] == [0.2, 0.2, 0.2]
  assert fit.seed_average == "median" and "median over seeds" in fit.verdict
  by_mean = scaling.fit(rows, normal, n_boot=50)
  assert [o["lr_opt_grid"] for o in by_mean.per_batch_size] == [0.4, 0.4, 0.4]


@pytest.mark.parametrize("law,param", [("normal", 0.0), ("laplace", 0.0), ("student_t", 5.0), ("student_t", 6.5)])
def test_finite_variance_noise_has_unit_variance(law, param):
  import jax

  from tailjax.models import quadratic

  x = np.asarray(quadratic.draw_noise(jax.random.key(0), law, param, (400_000,)), np.float64)
  # the variance's standard error is sqrt((kurtosis - 1) / n): kurtosis 3, 6, 9, 5.4 here; 5 standard errors allowed
  # (ν = 5 is drawn as Z / sqrt(χ²_5 / 5), ν = 6.5 by jax.random.t)
  assert abs(x.var() - 1.0) < 5 * np.sqrt((9 - 1) / x.size) and abs(x.mean()) < 5 / np.sqrt(x.size)


def test_stable_noise_at_known_alphas():
  import jax
  from scipy import stats

  from tailjax.models import quadratic

  cauchy = np.asarray(quadratic.draw_noise(jax.random.key(1), "stable", 1.0, (200_000,)))
  assert np.median(np.abs(cauchy)) == pytest.approx(1.0, abs=0.02)  # α = 1, unit scale: the standard Cauchy
  gauss = np.asarray(quadratic.draw_noise(jax.random.key(2), "stable", 2.0, (200_000,)))
  assert gauss.var() == pytest.approx(2.0, rel=0.03)  # α = 2, unit scale: N(0, 2)
  x = np.asarray(quadratic.draw_noise(jax.random.key(3), "stable", 1.5, (20_000,)))
  assert stats.kstest(x, stats.levy_stable(1.5, 0.0).cdf).pvalue > 0.001


def test_the_quadratic_model_needs_its_data_and_a_finite_variance_for_student_t():
  from tailjax import validate
  from tailjax.errors import UserError

  c = quadratic_config()
  c.data.name = "pydoc"
  with pytest.raises(UserError, match="noisy quadratic model draws its own noise"):
    validate.config(c)
  c = quadratic_config()
  c.data.noise, c.data.noise_param = "student_t", 2.0
  with pytest.raises(UserError, match="needs ν > 2"):
    validate.config(c)
  c.data.noise, c.data.noise_param = "stable", 2.5
  with pytest.raises(UserError, match="α lies in"):
    validate.config(c)


def test_a_quadratic_lane_of_a_vmapped_row_equals_its_single_run_and_the_exact_loss_is_reported():
  from tailjax.training.lane_grid import lane_table
  from tests.conftest import run_row

  c = quadratic_config()
  c.model.d_model = 20
  c.sweep.lane_strategy = "vmap"
  lrs = (0.1, 0.5, 1.0)
  row_m, row_val, state = run_row(c, lane_table(lrs, (None,), 0.0, (0,)), 30)
  for r, lr in enumerate(lrs):
    one_m, one_val, _ = run_row(c, lane_table((lr,), (None,), 0.0, (0,)), 30)
    np.testing.assert_allclose(row_m["loss"][:, r], one_m["loss"][:, 0], rtol=1e-5)
    np.testing.assert_allclose(row_val[r], one_val[0], rtol=1e-5)
  h = nqm.spectrum(20, 1.0)
  theta_R = np.asarray(state.params["theta"])
  np.testing.assert_allclose(row_val, 0.5 * (h * theta_R**2).sum(1), rtol=1e-5)  # validation = the exact L(θ)


@pytest.mark.parametrize("law,param", [("normal", 3.0), ("student_t", 3.0)])
def test_the_tail_verdict_reads_the_noise_law_of_the_measured_seeds(tmp_path, law, param):
  """The lab checks the other half of the tool: the per-example gradient noise of a quadratic lane is √h ⊙ ξ, so the
  measurement's robust verdict must call Gaussian ξ no power law and find t(3)'s tail index near 3. Only the lanes of
  measure.seeds are measured."""
  import csv

  from tailjax import experiment

  c = quadratic_config(seeds=(0, 1))
  c.model.d_model, c.train.steps = 512, 10
  c.sweep.batch_sizes, c.sweep.learning_rates, c.sweep.auto_extend = (4,), (0.1, 0.2), False
  c.data.noise, c.data.noise_param = law, param
  c.measure.steps, c.measure.seeds, c.measure.examples = (10,), (1,), 128
  c.measure.n_boot = 20  # as tiny_config: the verdict's interval from few resamples, its category unchanged
  experiment.run(c, tmp_path / law)
  verdicts = [v for v in csv.DictReader(open(tmp_path / law / "verdicts.csv")) if v["pooling"] == "robust"]
  assert sorted(v["lane"] for v in verdicts) == ["lr=0.1,seed=1", "lr=0.2,seed=1"]  # seed 0 was not measured
  for v in verdicts:
    if law == "normal":
      assert not v["category"].startswith("power"), v["verdict"]
    else:  # a power law (or one a lognormal cannot be ruled out against, on ~1,000 tail points; or one with a cut-off:
      # t(3)'s local tail index rises to 3 from below, a real bend that the cut-off test may find) with Hill's α at the
      # KS-chosen k within ±0.5 of ν = 3 (its standard error α/√k is ~0.1 there)
      assert (
        v["category"] in ("power law", "power law with cut-off", "cannot tell")
        and abs(float(v["hill_tail_index"]) - 3.0) < 0.5
      ), v["verdict"]


@pytest.mark.parametrize("nu", [3.0, 4.0])
def test_student_t_noise_follows_its_law(nu):
  """The loop-free t sampler (odd and even ν) against scipy's t law at unit variance."""
  import jax
  from scipy import stats

  from tailjax.models import quadratic

  x = np.asarray(quadratic.draw_noise(jax.random.key(4), "student_t", nu, (20_000,)), np.float64)
  assert stats.kstest(x, stats.t(nu, scale=np.sqrt((nu - 2) / nu)).cdf).pvalue > 0.001


def test_a_row_worse_than_its_start_at_every_lr_is_a_bound_below_the_grid():
  """Stable noise at B = 1: every LR leaves the loss above L(θ0), the smallest least so. That is no "learned
  nothing" (which is extended towards larger LRs) but an optimum below the grid, extended downwards; a row flat at
  the reference stays "learned nothing"."""
  from tailjax.analysis import extend, scaling

  lrs = (0.125, 0.25, 0.5, 1.0)
  worse = [{"batch_size": 1, "lr": lr, "seed": 0, "final_val_loss": 8.0 * (1 + lr), "ln_vocab": 2.6} for lr in lrs]
  (opt,) = scaling.optima(worse)
  assert opt["censored"] == "low" and opt["lr_opt_bracket"] == [None, 0.125]
  new, why = extend.next_points(worse, 2.0, 2)
  assert max(new) < 0.125 and "bottom edge" in why
  flat = [{**r, "final_val_loss": 2.6 * (0.995 + 0.001 * r["lr"])} for r in worse]
  assert scaling.optima(flat)[0]["censored"] == "learned_nothing"


def test_the_heatmap_marks_learning_rates_not_run_at_a_batch_size(monkeypatch):
  """An extension's LRs are run in its own row only: the other rows show "–", not "div"."""
  from tailjax.analysis import scaling, sweep_plots

  rows = [{"batch_size": b, "lr": lr, "seed": 0, "final_val_loss": (np.log(lr) - np.log(0.3 * b)) ** 2 + 1}
          for b in (1, 4) for lr in (0.1, 0.2, 0.4, 0.8)]  # fmt: skip
  rows += [{"batch_size": 4, "lr": 1.6, "seed": 0, "final_val_loss": float("nan")}]  # B = 4's extension diverged
  fit = scaling.fit(rows, {}, n_boot=20)
  figs = {}
  monkeypatch.setattr(sweep_plots.files, "write_figure", lambda path, fig: figs.__setitem__(str(path), fig))
  monkeypatch.setattr(sweep_plots.plt, "close", lambda fig=None: None)
  sweep_plots.loss_heatmap("heat.png", fit, {})
  texts = figs["heat.png"].axes[0].texts
  cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in texts}
  assert cells[(0, 4)] == "–" and cells[(1, 4)] == "div"  # B = 1 never ran LR 1.6; B = 4 diverged there


def test_stable_noise_is_finite_at_the_ends_of_its_uniform():
  """The stable sampler at u = 0 (V = −π/2 exactly, which jax.random.uniform can return) and W = 0: finite values,
  not the NaN a negative float32 cos(−π/2) to the power 1/α gave, which froze whole lanes as diverged."""
  import jax

  from tailjax.models import quadratic

  zeros = lambda *_, **__: jax.numpy.zeros(3)  # noqa: E731 - every uniform and exponential draw at its lower end
  with pytest.MonkeyPatch.context() as m:
    m.setattr(jax.random, "uniform", zeros)
    m.setattr(jax.random, "exponential", zeros)
    for alpha in (0.8, 1.5, 2.0):
      assert np.isfinite(np.asarray(quadratic.draw_noise(jax.random.key(0), "stable", alpha, (3,)))).all()
