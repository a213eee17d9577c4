"""Estimators against laws with known answers (docs/science.md §2–3), with tolerances from their sampling error.

Hill: sd(α̂) ≈ α/√k for a Pareto tail. Mohammadi's stable estimator: sd ≈ 0.032 at n = 1e5 (K1 = 316), measured over
20 draws, so it is averaged over 5 draws here; Koutrouvelis' ECF regression: sd ≈ 0.004 at n = 1e5.
"""

import math
import warnings

import jax
import numpy as np
import pytest
import scipy.stats as st

from tailjax import tails
from tailjax.tails import bootstrap, kernels, order_stats, power_law

N = 100_000


def draw(law, seed, n=N):
  rng = np.random.default_rng(seed)
  return {
    "pareto1.5": lambda: st.pareto.rvs(1.5, size=n, random_state=rng),
    "laplace": lambda: st.laplace.rvs(size=n, random_state=rng),
    "gauss": lambda: rng.standard_normal(n),
    "stable1.5": lambda: st.levy_stable.rvs(1.5, 0.0, size=n, random_state=rng),
    "student3": lambda: st.t.rvs(3, size=n, random_state=rng),
    "lognormal1": lambda: rng.lognormal(0, 1, n),
    "lognormal2": lambda: rng.lognormal(0, 2, n),
    "lognormal3": lambda: rng.lognormal(0, 3, n),
    "weibull0.5": lambda: rng.weibull(0.5, n),
    "exponential": lambda: rng.exponential(1, n),
  }[law]()


def test_hill_on_pareto_within_its_standard_error():
  k, alpha = 10_000, 1.5
  assert float(tails.hill(draw("pareto1.5", 0), k)) == pytest.approx(alpha, abs=3 * alpha / math.sqrt(k))


def test_hill_on_student_t_recovers_its_tail_index():
  # Student-t(ν) has tail index ν; a small k stays in the power-law regime.
  assert float(tails.hill(draw("student3", 1), 1000)) == pytest.approx(3.0, abs=3 * 3.0 / math.sqrt(1000) + 0.2)


def test_hill_curve_matches_hill_and_drifts_on_laplace():
  x = draw("laplace", 2)
  ks = (100, 1000, 10_000)
  curve = np.asarray(tails.hill_curve(x, ks))
  np.testing.assert_allclose(curve, [float(tails.hill(x, k)) for k in ks], rtol=1e-5)
  # No plateau: "α ≈ 3" is what k = 1e4 says, not what the tail says (docs/science.md §2: about 7.9, 5.6, 3.1).
  assert curve[0] > curve[1] > curve[2]
  for got, want, k in zip(curve, (7.9, 5.6, 3.1), ks, strict=True):
    assert got == pytest.approx(want, abs=3 * want / math.sqrt(k) + 0.3)


def test_hill_curve_has_a_plateau_on_pareto():
  curve = np.asarray(tails.hill_curve(draw("pareto1.5", 3), (100, 1000, 10_000)))
  assert np.all(np.abs(curve - 1.5) < 3 * 1.5 / np.sqrt([100, 1000, 10_000]))


def test_moments_estimator_signs():
  assert float(tails.moments(draw("pareto1.5", 4), 5000)) == pytest.approx(1 / 1.5, abs=0.06)
  assert abs(float(tails.moments(draw("laplace", 5), 1000))) < 0.1  # exponential tail: ξ ≈ 0
  assert float(tails.moments(draw("gauss", 6), 1000)) < 0  # lighter than exponential: ξ < 0


def test_pickands_is_nan_not_negative_where_there_is_no_power_law():
  assert float(tails.pickands(draw("pareto1.5", 7), 2000)) == pytest.approx(1.5, abs=0.3)
  assert math.isnan(float(tails.pickands(draw("gauss", 8), 2000)))


def test_stable_alpha_on_stable_and_gaussian():
  mohammadi = np.mean([float(tails.stable_alpha(draw("stable1.5", 10 + s), "mohammadi")) for s in range(5)])
  assert mohammadi == pytest.approx(1.5, abs=3 * 0.032 / math.sqrt(5))
  assert float(tails.stable_alpha(draw("stable1.5", 20), "ecf")) == pytest.approx(1.5, abs=0.03)
  gauss_raw = np.mean([float(kernels.mohammadi(draw("gauss", 30 + s), 316)) for s in range(5)])
  assert gauss_raw == pytest.approx(2.0, abs=3 * 0.05 / math.sqrt(5))
  assert float(kernels.ecf(draw("gauss", 40))) == pytest.approx(2.0, abs=0.03)
  assert float(tails.stable_alpha(draw("gauss", 41), "ecf")) <= 2.0  # a stable index never exceeds 2


def test_stable_estimators_report_false_heavy_tails_on_laplace():
  # Laplace has every moment, yet both stable estimators say α < 2: a stable index alone proves nothing.
  x = draw("laplace", 50)
  assert float(tails.stable_alpha(x, "mohammadi")) < 1.9
  assert float(tails.stable_alpha(x, "ecf")) < 1.9


def test_standardising_coordinates_removes_the_pooled_scales_artefact():
  rng = np.random.default_rng(60)
  scales_D = np.geomspace(0.01, 100, 100)
  x_NxD = rng.standard_normal((1000, 100)) * scales_D
  assert float(tails.stable_alpha(x_NxD, "mohammadi")) < 1.5  # pooled Gaussians of many scales look heavy-tailed
  assert float(tails.stable_alpha(tails.standardize_columns(x_NxD), "mohammadi")) > 1.85


_GOOD = np.random.default_rng(0).standard_t(3.0, 1000).astype(np.float32)
_NAN = _GOOD.copy()
_NAN[5] = np.nan
_INF = _GOOD.copy()
_INF[7] = -np.inf


@pytest.mark.parametrize(
  "call,match",
  [
    (lambda: tails.hill(np.zeros(0, np.float32), 1), "x has 0 values"),
    (lambda: tails.hill(np.zeros(1000, np.float32), 10), "all zeros"),
    (lambda: tails.hill(_NAN, 10), "NaN or ±inf"),
    (lambda: tails.moments(_INF, 10), "NaN or ±inf"),
    (lambda: tails.hill(_GOOD, 0), "choose 1 ≤ k ≤ 999"),
    (lambda: tails.hill(_GOOD, 1000), "choose 1 ≤ k ≤ 999"),
    (lambda: tails.pickands(_GOOD, 251), "choose 1 ≤ k ≤ 250"),
    (lambda: tails.hill_curve(_GOOD, (10, 5000)), "k = 5000 is out of range"),
    (lambda: tails.hill_curve(_GOOD, ()), "ks is empty"),
    (lambda: tails.hill(np.r_[np.zeros(990), np.ones(10)].astype(np.float32), 50), "include zeros"),
    (lambda: tails.stable_alpha(_GOOD, k1=1), "choose 2 ≤ k1"),
    (lambda: tails.stable_alpha(_NAN, "ecf"), "NaN"),
    (lambda: tails.fit_power_law_tail(np.r_[np.zeros(990), np.ones(10)]), "non-zero"),
    (lambda: tails.compare_families(np.ones(5)), "at least 20"),
    (lambda: tails.estimate(_GOOD[:50]), "at least 100"),
    (lambda: tails.estimate(_GOOD, k_ratios=(0.1, 0.9)), r"\(0, 0.5\]"),
    (lambda: tails.estimate(_GOOD, standardize=True), r"\[N, D\]"),
    (lambda: tails.estimate(_GOOD, pooling="robust"), r"\[N, D\]"),
    (lambda: tails.estimate(_GOOD, pooling="median"), "use 'robust', 'raw' or 'std'"),
    (lambda: tails.hill(_GOOD, 10.0), "must be an integer"),
    (lambda: tails.pickands(_GOOD, 2.5), "must be an integer"),
    (lambda: tails.hill(np.full(500, 3.0), 10), r"every \|x\| equals 3"),
    (lambda: tails.estimate(np.full(500, -2.0)), r"every \|x\| equals 2"),
    (lambda: tails.fit_power_law_tail(np.full(500, 1.5)), "no tail to measure"),
    (lambda: tails.estimate(np.r_[np.zeros(9_950), _GOOD[:50]]), "exact zeros and only 50 remain"),
    (lambda: tails.hill(["a", "b"], 1), "array of numbers, not list"),
    (lambda: tails.estimate(_GOOD.astype(np.complex64)), "x is complex; pass real values"),
    (lambda: tails.fit_power_law_tail([1 + 2j, 3j]), "x is complex"),
  ],
)
def test_bad_input_is_a_clear_value_error(call, match):
  with pytest.raises(ValueError, match=match):
    call()


def test_estimators_run_inside_an_outer_jit():
  # Under jit the value checks cannot run, but shapes and static k are still checked and the estimators compile.
  x = jax.numpy.asarray(draw("pareto1.5", 3)[:20_000])
  calls = (
    lambda x: tails.hill(x, 500),
    lambda x: tails.moments(x, 500),
    lambda x: tails.pickands(x, 100),
    lambda x: tails.hill_curve(x, (50, 500))[1],
    lambda x: tails.stable_alpha(x, "mohammadi"),
    lambda x: tails.stable_alpha(x, "ecf"),
  )
  got = jax.jit(lambda x: [f(x) for f in calls])(x)
  np.testing.assert_allclose([float(v) for v in got], [float(f(x)) for f in calls], rtol=1e-5)
  # k traced: one program for every k, the same answers as with k static
  hill_k = jax.jit(lambda x, k: tails.hill(x, k))
  assert [float(hill_k(x, k)) for k in (100, 700)] == pytest.approx([float(tails.hill(x, k)) for k in (100, 700)])


def test_unknown_method():
  with pytest.raises(ValueError, match="mohammadi"):
    tails.stable_alpha(np.arange(1.0, 11.0), "mle-please")


@pytest.mark.parametrize("n,k", [(1000, 1), (1000, 999), (100_000, 17), (100_000, 60_000), (300_000, 3)])
def test_kth_largest_is_exact(n, k):
  x = np.random.default_rng(n + k).standard_t(2.0, n).astype(np.float32)
  x[::7] = x[3]  # ties
  a = np.abs(x)
  assert float(tails.kth_largest(jax.numpy.asarray(a), k)) == np.sort(a)[::-1][k - 1]
  np.testing.assert_array_equal(np.asarray(tails.top_desc(x, k)), np.sort(a)[::-1][:k])


@pytest.mark.parametrize("law", ["t", "normal", "uniform", "integers"])
def test_kth_largest_search_finds_the_answer_without_the_sort(law):
  rng = np.random.default_rng(5)
  n = 1_000_000
  x = {"t": rng.standard_t(2.5, n), "normal": rng.standard_normal(n), "uniform": rng.uniform(size=n)}.get(law)
  a = np.abs(x if x is not None else rng.integers(1, 8, n)).astype(np.float32)  # integers: ties of ~140,000 each
  want = np.sort(a)[::-1]
  search = jax.jit(order_stats.search_kth_largest, static_argnums=2)
  for k in (1, 10, 1000, 100_000, 500_000, n):
    value, exact = search(jax.numpy.asarray(a), k, 4096)
    assert bool(exact), (law, k)  # found by counting; the sort fallback is not needed
    assert float(value) == want[k - 1], (law, k)


def test_kth_largest_below_the_flush_floor_falls_back_to_the_sort():
  # Half the values 1e30 times smaller than the rest: the answer lies where float32 differences flush to zero, so the
  # counting search declines and the sort answers, exactly.
  rng = np.random.default_rng(6)
  a = np.concatenate([rng.uniform(1, 2, 50_000), rng.uniform(1, 2, 50_000) * 1e-36]).astype(np.float32)
  _, exact = jax.jit(order_stats.search_kth_largest, static_argnums=2)(jax.numpy.asarray(a), 70_000, 4096)
  assert not bool(exact)
  assert float(tails.kth_largest(jax.numpy.asarray(a), 70_000)) == np.sort(a)[::-1][70_000 - 1]


def test_kth_largest_is_exact_beyond_float32_counting():
  # Past 2^24 values a float32 count of 0/1 is no longer exact; the int32 path must be.
  n = (1 << 24) + 5
  a = np.random.default_rng(8).uniform(size=n).astype(np.float32)
  k = (1 << 23) + 1
  assert float(tails.kth_largest(jax.numpy.asarray(a), k)) == -np.partition(-a, k - 1)[k - 1]


def test_estimators_agree_with_a_full_sort():
  x = draw("pareto1.5", 70)
  a = np.sort(np.abs(x).astype(np.float32))[::-1].astype(np.float64)
  k = 5000
  d = np.log(a[:k]) - np.log(a[k])
  assert float(tails.hill(x, k)) == pytest.approx(1 / d.mean(), rel=1e-4)
  m1, m2 = d.mean(), (d**2).mean()
  assert float(tails.moments(x, k)) == pytest.approx(m1 + 1 - 0.5 / (1 - m1**2 / m2), rel=1e-3)
  xi = np.log((a[k - 1] - a[2 * k - 1]) / (a[2 * k - 1] - a[4 * k - 1])) / np.log(2)
  assert float(tails.pickands(x, k)) == pytest.approx(1 / xi, rel=1e-4)


def test_clauset_fit_recovers_pareto_and_student_t():
  f = tails.fit_power_law_tail(draw("pareto1.5", 80))
  assert f["tail_index"] == pytest.approx(1.5, abs=3 * 1.5 / math.sqrt(f["n_tail"]) + 0.01)
  assert f["pdf_exponent"] == pytest.approx(f["tail_index"] + 1.0)  # Clauset's α is the pdf exponent
  assert f["n_tail"] >= 10_000 and f["ks"] < 0.02  # the whole sample is a power law: a large tail fits
  g = tails.fit_power_law_tail(draw("student3", 81))
  assert g["tail_index"] == pytest.approx(3.0, abs=0.45)
  assert g["xmin"] > 1.0  # t(3) is a power law only away from its bulk


def test_clauset_ks_distance_is_the_minimum_over_candidates():
  f = tails.fit_power_law_tail(draw("laplace", 82), n_candidates=50)
  assert f["ks"] == min(f["candidate_ks"]) and f["n_tail"] in f["candidate_k"]
  # On an exponential tail the "best" power law has a worse fit than on a real one: the KS distance says so.
  assert f["ks"] > tails.fit_power_law_tail(draw("pareto1.5", 83), n_candidates=50)["ks"]


def test_compare_families_picks_the_law_that_made_the_data():
  lap = tails.compare_families(draw("laplace", 90))
  assert lap["best"] == "laplace" and lap["vuong"]["gaussian"]["p"] < 1e-6
  assert lap["tail"]["power_law_vs_exponential"]["z"] < 2  # no significant power-law tail
  t3 = tails.compare_families(draw("student3", 91))
  assert t3["best"] == "student_t" and t3["params"]["student_t"][0] == pytest.approx(3.0, abs=0.5)
  assert t3["tail"]["better"] == "power_law" and t3["tail"]["power_law_vs_exponential"]["p"] < 1e-3
  g = tails.compare_families(draw("gauss", 92))
  assert g["vuong"]["laplace"]["p"] < 1e-6 if g["best"] == "gaussian" else g["params"]["student_t"][0] > 30
  pareto = tails.compare_families(draw("pareto1.5", 93))
  assert pareto["tail"]["better"] == "power_law" and pareto["tail"]["power_law_vs_exponential"]["p"] < 1e-6
  assert all(np.isfinite(v["z"]) or v["p"] == 0.0 for v in pareto["vuong"].values())  # never NaN


def test_vuong_sign_and_degenerate_cases():
  rng = np.random.default_rng(94)
  a, b = rng.normal(0.1, 1, 1000), rng.normal(0, 1, 1000)
  assert power_law.vuong(a, b)["z"] > 0 and power_law.vuong(b, a)["z"] < 0
  assert power_law.vuong([0.0, -np.inf], [0.0, 0.0]) == {"z": -math.inf, "p": 0.0}


@pytest.mark.parametrize(
  "law,verdicts,truth",
  [
    ("pareto1.5", ("power-law tail",), 1.5),
    # t(3) is a power law only asymptotically: at 1e5 a lognormal's bend cannot always be ruled out (at 1e6 it is)
    ("student3", ("power-law tail", "power law or lognormal", "power law or stretched exponential"), 3.0),
    ("laplace", ("power law or exponential", "not a power law", "power law with cut-off"), None),
    ("gauss", ("not a power law", "power law with cut-off"), None),
  ],
)
def test_estimate_verdict(law, verdicts, truth):
  r = tails.estimate(draw(law, 100), n_boot=50)  # 50 resamples: enough for a 95% percentile interval here
  assert r["verdict"].startswith(verdicts), r["verdict"]
  if truth is not None:
    lo, hi = r["tail_index"]["ci95"]
    assert lo <= truth <= hi
  if truth is None:  # no power law: the report's α is labelled as no index
    assert r["category"] != "power law" and "no index" in r["tail_index"]["note"]
  if law == "pareto1.5":  # a tail over a fifth of the sample, beyond where bias is estimated: Hill stands, says so
    assert r["tail_index"]["bias"] == "not estimable" and r["tail_index"]["alpha"] == r["hill"]["alpha"]
    assert "beyond where the bias can be estimated" in r["verdict"]
    assert "beyond a tenth" in r["verdict"]  # a tail read from most of the sample says so


@pytest.mark.parametrize(
  "law",
  ["lognormal1", "lognormal2", "lognormal3", "weibull0.5", "exponential", "laplace", "gauss"],
)
def test_no_false_power_laws(law):
  """Laws that are not power laws but look straight on a log-log plot over a finite range (Clauset et al. 2009, §5):
  the verdict may say it cannot tell, never "power-law tail". Three draws at n = 1e5 each."""
  for seed in range(3):
    x = draw(law, 200 + seed)
    r = tails.estimate(x, n_boot=0)
    assert not r["verdict"].startswith("power-law tail"), (seed, r["verdict"])


def test_verdict_names_the_flat_stretch_of_the_hill_plot_it_reports():
  """The Hill plot drawn beside a verdict comes from the same report: where the verdict says Hill is flat, the
  report's curve is flat there, and the chosen k lies on the plotted range."""
  r = tails.estimate(draw("pareto1.5", 120))
  flat, curve = r["hill_flat"], r["hill_curve"]
  assert (
    f"Hill flat at {flat['alpha_lo']:.2f}–{flat['alpha_hi']:.2f} for k = {flat['k_lo']}–{flat['k_hi']}" in r["verdict"]
  )
  inside = [a for k, a in zip(curve["k"], curve["alpha"], strict=True) if flat["k_lo"] <= k <= flat["k_hi"]]
  assert min(inside) == pytest.approx(flat["alpha_lo"]) and max(inside) == pytest.approx(flat["alpha_hi"])
  assert curve["k"][0] <= r["hill"]["k"] <= curve["k"][-1]
  drifting = tails.estimate(draw("gauss", 121))
  assert drifting["hill_flat"] is None and "Hill drifts from" in drifting["verdict"]


def test_the_search_finds_a_tail_beyond_half_the_sample():
  # 80% of the sample a Pareto tail above 1, 20% a body below it: the search reaches the whole sample, so it finds the
  # tail of 80% inside the search (a search capped below, as the old one at n/2, is flagged: test_power_law_fit).
  rng = np.random.default_rng(140)
  x = np.r_[st.pareto.rvs(1.5, size=80_000, random_state=rng), rng.uniform(0.2, 1.0, 20_000)]
  mixed = tails.estimate(x)
  assert not mixed["power_law_fit"]["at_search_limit"] and "search's limit" not in mixed["verdict"]
  assert 60_000 < mixed["power_law_fit"]["n_tail"] <= 80_000 + 1000  # beyond n/2, where the old search stopped


def test_ecf_quartiles_survive_one_extreme_value_in_float32():
  x = draw("gauss", 130)[:20_000].astype(np.float32)
  x[7] = 3e9  # one Cauchy-sized draw: shifting by min(x) would round every quartile to the same float
  assert float(tails.stable_alpha(x, "ecf")) == pytest.approx(2.0, abs=0.05)


def test_mostly_zero_samples_drop_their_zeros_and_say_so():
  x = np.zeros(200_000, np.float32)
  x[:10_000] = draw("pareto1.5", 131)[:10_000]
  r = tails.estimate(x)
  assert r["zeros_dropped"] == 190_000 and r["n"] == 10_000
  assert "190000 exact zeros of 200000 values dropped first" in r["verdict"]
  assert r["hill"]["alpha"] == pytest.approx(1.5, abs=0.1)


def test_lists_are_samples_too():
  x = draw("pareto1.5", 132)[:2000]
  assert float(tails.hill(list(x), 200)) == pytest.approx(float(tails.hill(x, 200)), rel=1e-6)


def test_interval_bootstraps_the_whole_fit_and_keeps_both_readings():
  # Student-t(3) at 1e5: the bootstrap of the whole fit (k chosen again in each resample) is at least as wide as
  # Hill's asymptotic interval at the one k (the choice of k adds spread), and the reported interval spans both Hill's
  # and the bias-reduced reading.
  r = tails.estimate(draw("student3", 101), n_boot=200)
  t = r["tail_index"]
  assert t["ci_method"].startswith("bootstrap of the whole fit") and t["bias"] == "removed"
  lo, hi = t["hill_ci95"]
  assert hi - lo >= 0.8 * 2 * 1.96 * t["hill"] / math.sqrt(r["hill"]["k"])
  assert t["ci95"][0] <= min(t["hill"], t["reduced_bias"]) <= max(t["hill"], t["reduced_bias"]) <= t["ci95"][1]
  # the reported interval is the hull of the fit's and of Hill's at every k of the plateau, k/10 … k
  assert t["ci95"] == [min(t["fit_ci95"][0], t["plateau_ci95"][0]), max(t["fit_ci95"][1], t["plateau_ci95"][1])]
  assert "widened to Hill's 95% interval at every k" in t["ci_method"]
  head = f"power-law tail, tail index α = {t['alpha']:.2f} [{t['ci95'][0]:.2f}, {t['ci95'][1]:.2f}] (pdf exponent"
  assert r["verdict"].startswith(head), r["verdict"]


def test_estimate_standardize_and_families():
  rng = np.random.default_rng(102)
  x_NxD = rng.standard_normal((2000, 50)) * np.geomspace(0.01, 100, 50)
  raw, std = tails.estimate(x_NxD, pooling="raw"), tails.estimate(x_NxD, standardize=True, families=True)
  assert raw["stable_alpha"]["mohammadi"] < 1.5 < std["stable_alpha"]["mohammadi"]
  assert std["families"]["best"] in ("gaussian", "student_t") and "best family" in std["verdict"]


def test_stable_mle_on_a_small_subsample():
  # scipy's levy_stable.fit: exact but slow (~0.25 s per value), so one small check; sd(α̂) ≈ 0.15·√(100/n) ≈ 0.24 at
  # n = 40, so three standard deviations.
  alpha = float(tails.stable_alpha(draw("stable1.5", 110), "mle", mle_subsample=40))
  assert alpha == pytest.approx(1.5, abs=0.7)


def test_moments_of_repeats_equal_those_of_the_built_sample():
  # The double bootstrap never builds its resamples; its Hill moments must equal those of the sample it stands for.
  rng = np.random.default_rng(11)
  top = np.sort(rng.pareto(2.0, 300) + 1)[::-1].astype(np.float32)
  count = rng.poisson(0.7, 300).astype(np.int32)
  logs = np.log(top) - np.log(top[-1])
  m1, m2, complete = bootstrap.moments_of_repeats(jax.numpy.asarray(logs), jax.numpy.asarray(count), 100)
  built = np.repeat(logs.astype(np.float64), count.astype(int))  # descending, value i repeated count[i] times
  k = np.arange(1, 101)
  d = [built[:j] - built[j] for j in k]
  assert bool(complete)
  np.testing.assert_allclose(np.asarray(m1), [v.mean() for v in d], rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(np.asarray(m2), [(v**2).mean() for v in d], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_double_bootstrap_hill_on_pareto(seed):
  x = (np.random.default_rng(seed).pareto(1.5, 20_000) + 1).astype(np.float32)
  got = tails.hill_double_bootstrap(x, n_boot=50, seed=seed)
  assert got["n1"] == 14_142 and got["n2"] == 9_999  # ≈ √½·n and ½·n, as in the reference
  assert 100 < got["k"] < 20_000  # a pure Pareto has no bias: the AMSE-optimal k is large
  assert got["alpha"] == pytest.approx(1.5, abs=3 * 1.5 / math.sqrt(got["k"]))
  assert got["alpha"] == pytest.approx(float(tails.hill(x, got["k"])))


def test_estimate_with_double_bootstrap_k():
  report = tails.estimate(draw("pareto1.5", 12)[:20_000], k_choice="double_bootstrap", n_boot=50)
  assert report["hill"]["k_choice"].startswith("double bootstrap")
  assert report["verdict"].startswith("power-law tail") and "double bootstrap" in report["verdict"]
  with pytest.raises(ValueError, match="k_choice"):
    tails.estimate(draw("pareto1.5", 12)[:20_000], k_choice="eyeball")


def test_hill_curve_takes_integer_ks_only_and_robust_scaling_is_public():
  x = draw("student3", 150)[:2000]
  with pytest.raises(ValueError, match="must be an integer"):
    tails.hill_curve(x, [10.5, 20])
  z_NxD, ok_D = tails.robust_scale_columns(np.random.default_rng(7).standard_normal((64, 8)) * np.arange(1, 9))
  assert np.asarray(ok_D).all() and np.median(np.abs(np.asarray(z_NxD))) == pytest.approx(0.67, abs=0.15)


def test_robust_scale_reads_numpys_median_and_quartiles_off_the_atom():
  # columns with an atom at the median (ReLU-gated), a constant column, a column with too few values off its median
  rng = np.random.default_rng(11)
  x = rng.standard_normal((64, 300))
  x[:, ::3] = np.where(rng.random((64, 100)) < 0.6, 0.0, x[:, ::3])
  x[:, 1], x[:59, 2] = 1.0, 0.0
  x = x.astype(np.float32)
  med = np.median(x, axis=0)
  off = np.where(x == med, np.nan, x)
  with np.errstate(invalid="ignore"), warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # the constant column is all NaN off its median
    iqr = np.nan_to_num((np.nanquantile(off, 0.75, axis=0) - np.nanquantile(off, 0.25, axis=0)) / 1.349)
  ok = (iqr > 0) & (np.sum(~np.isnan(off), axis=0) >= 8)
  z_NxD, ok_D = tails.robust_scale_columns(x)
  np.testing.assert_array_equal(np.asarray(ok_D), ok)
  assert not ok[1] and not ok[2] and ok[0]
  np.testing.assert_allclose(np.asarray(z_NxD)[:, ok], ((x - med) / np.where(ok, iqr, 1))[:, ok], rtol=1e-5, atol=1e-6)


def _noise_of_scaled_coordinates(law: str, seed: int, m: int = 256, d: int = 1024):
  """Per-example noise g_i − ḡ of m examples × d coordinates whose values follow `law`, each coordinate scaled by a
  lognormal(0, 1) factor (as coordinates of a real network differ in scale): pooled raw, a scale mixture."""
  rng = np.random.default_rng(seed)
  draw = {"gauss": rng.standard_normal, "laplace": rng.laplace, "t3": lambda size: rng.standard_t(3, size)}[law]
  g_MxD = draw(size=(m, d)) * rng.lognormal(0, 1, d)
  return (g_MxD - g_MxD.mean(0)).astype(np.float32)


@pytest.mark.parametrize("law", ["gauss", "laplace"])
def test_robust_pooling_invents_no_tail_in_a_scale_mixture(law):
  """The issue's known answer: 256 examples × lognormally scaled coordinates of a light-tailed law, pooled the
  default (robust) way, are called "power-law tail" in at most 1 of 20 replicates (≥ 95% right). Pooled raw, the
  study's way, such noise (4096 coordinates) was a "power law" in 7 (Gaussian) and 8 (Laplace) of 10. Here 1024
  coordinates, to keep the suite short; docs/estimators.md has 20 replicates at 4096 (2^20 values)."""
  verdicts = [tails.estimate(_noise_of_scaled_coordinates(law, seed), n_boot=0)["verdict"] for seed in range(20)]
  assert sum(v.startswith("power-law tail") for v in verdicts) <= 1, verdicts


def test_robust_pooling_keeps_a_true_tail_and_its_index():
  """Student-t(3) per-example values under the same scaling: robust pooling keeps the tail (a scale mixture of
  bounded spread keeps the index). At 2^18 values t(3)'s slow approach to its power law often leaves a lognormal or
  stretched exponential that cannot be ruled out (7 of 16 seeds measured are called a power law); where one is
  claimed, its 95% interval, from resampled examples, covers 3."""
  reports = [tails.estimate(_noise_of_scaled_coordinates("t3", 100 + seed), n_boot=50) for seed in range(8)]
  power = [r for r in reports if r["category"] == "power law"]
  assert len(power) >= 3, [r["verdict"] for r in reports]
  covers = [r["tail_index"]["ci95"][0] <= 3.0 <= r["tail_index"]["ci95"][1] for r in power]
  assert all(covers), [r["verdict"] for r in power]
  assert all(
    r["category"] in ("power law", "cannot tell", "not a power law", "power law with cut-off") for r in reports
  )
  assert all(r["resampled"] == "examples" and r["tail_examples"]["examples"] == 256 for r in reports)


def test_per_example_gradients_of_a_matrix_are_pooled_robustly_by_default():
  # [m, out, in]: m samples of out·in coordinates, the same as the [m, out·in] array
  rng = np.random.default_rng(5)
  x = (rng.standard_t(3, size=(64, 16, 32)) * rng.lognormal(0, 1, (16, 32))).astype(np.float32)
  r, flat = tails.estimate(x, n_boot=0), tails.estimate(x.reshape(64, -1), n_boot=0)
  assert r["pooling"] == flat["pooling"] == "robust"
  assert r["hill"]["alpha"] == flat["hill"]["alpha"] and r["verdict"] == flat["verdict"]


def test_a_significant_nested_alternative_is_its_own_category_whatever_its_bend():
  # Student-t(3) noise (seed 3): the lognormal fits better at p < 0.033 though it bends the index by only ~11%: the
  # tail is then no unambiguous power law, and the verdict says the bend beside the category.
  r = tails.estimate(_noise_of_scaled_coordinates("t3", 3), n_boot=0)
  t = r["alternatives"]["tests"]["lognormal"]
  assert t["p"] < 0.033 and t["bend"] < 0.3
  assert r["category"] == "not a power law" and r["verdict"].startswith("not a power law: lognormal")
  assert f"bending the local tail index by {t['bend']:.0%}" in r["verdict"]
