"""The Clauset–Shalizi–Newman fit in full: x_min over the whole sample, ties kept, the discrete law for integer data,
the bootstrap of the whole fit, the goodness-of-fit p-value, and fits of data built to Clauset et al.'s Table 6.1."""

import math

import numpy as np
import pytest
import scipy.stats as st

from tailjax import tails
from tailjax.tails import bias, clauset


def _exact_ks(a, xmin, tail_index):
  """Tie-correct KS distance of the tail {a ≥ xmin} from the continuous power law, by brute force."""
  tail = np.sort(a[a >= xmin])
  values, counts = np.unique(tail, return_counts=True)
  at_most = np.cumsum(counts) / tail.size  # empirical CDF at each distinct value
  below = at_most - counts / tail.size
  fitted = 1 - (values / xmin) ** -tail_index
  return max(np.max(np.abs(at_most - fitted)), np.max(np.abs(below - fitted)))


def _zipf_tail(a, xmin, n, rng):
  """n draws of the discrete power law p(x) ∝ x^(−a) on x ≥ xmin (scipy's zipf, kept above xmin)."""
  out = np.empty(0)
  while out.size < n:
    d = st.zipf.rvs(a, size=20 * n, random_state=rng)
    out = np.r_[out, d[d >= xmin]]
  return out[:n]


def test_ks_on_the_grid_is_within_one_grid_step_of_the_exact_distance():
  a = np.abs(np.random.default_rng(0).standard_t(3, 20_000))
  f = tails.fit_power_law_tail(a, n_candidates=40)
  for k, c in zip(f["candidate_k"][::6], f["candidate_tail_index"][::6], strict=False):
    xmin = np.sort(a)[::-1][k - 1]
    got = f["candidate_ks"][f["candidate_k"].index(k)]
    assert got == pytest.approx(_exact_ks(a, xmin, c), abs=1 / clauset.GRID + 1e-5)


def test_ties_stay_together_and_ks_counts_them():
  # Values rounded to 0.05: many ties. The tail is every value ≥ x_min, and its KS is the tie-correct one.
  a = np.round(np.abs(np.random.default_rng(1).standard_t(2, 30_000)), 2)
  a = a[a > 0]
  f = tails.fit_power_law_tail(a)
  assert f["n_tail"] == int(np.sum(a >= f["xmin"])) and f["n_distinct"] == np.unique(a).size
  assert f["ks"] == pytest.approx(_exact_ks(a, f["xmin"], f["tail_index"]), abs=1 / clauset.GRID + 1e-5)
  assert not f["discrete"]  # rounded, not integer


def test_xmin_is_searched_over_the_whole_sample():
  """Built to Clauset et al.'s quake intensities (Table 6.1: n = 19302, x_min = 0.794, α = 1.64(4), a tail of
  11697 = 61% of the data): a continuous power law above x_min over a uniform body. The fit must find a tail beyond
  n/2 (the old search stopped there) and its exponent within 3 standard errors (α − 1)/√n_tail."""
  rng = np.random.default_rng(2)
  xmin, n_tail, n = 0.794, 11697, 19302
  x = np.r_[xmin * (1 - rng.random(n_tail)) ** (-1 / 0.64), rng.uniform(0.1 * xmin, xmin, n - n_tail)]
  f = tails.fit_power_law_tail(x)
  assert f["n_tail"] > n / 2 and not f["at_search_limit"]
  assert f["pdf_exponent"] == pytest.approx(1.64, abs=3 * 0.64 / math.sqrt(f["n_tail"]))
  assert f["xmin"] == pytest.approx(xmin, rel=0.2)
  capped = tails.fit_power_law_tail(x, k_max=n // 2)  # the old search's limit: its minimum is a bound, and says so
  assert capped["at_search_limit"] and capped["n_tail"] >= 0.9 * (n // 2)


def test_integer_data_get_the_discrete_power_law():
  """Built to Clauset et al.'s word counts (Table 6.1: n = 18855, x_min = 7, α = 1.95(2), n_tail = 2958): a discrete
  power law above 7 over a body uniform on 1…6. The discrete fit recovers x_min and α (3 standard errors); the
  continuous law on the same integers does not."""
  rng = np.random.default_rng(3)
  x = np.r_[_zipf_tail(1.95, 7, 2958, rng), rng.integers(1, 7, 18855 - 2958)]
  f = tails.fit_power_law_tail(x)
  assert f["discrete"] and f["xmin"] == 7 and f["n_tail"] == int(np.sum(x >= 7))
  assert f["pdf_exponent"] == pytest.approx(1.95, abs=3 * 0.95 / math.sqrt(2958))
  continuous = tails.fit_power_law_tail(x, discrete=False)
  assert abs(continuous["pdf_exponent"] - 1.95) > 3 * 0.95 / math.sqrt(2958) or continuous["xmin"] != 7
  # Internet degrees (x_min = 21 ± 9, α = 2.12(9), n_tail = 770 of 22688): a small tail, so loose.
  y = np.r_[_zipf_tail(2.12, 21, 770, rng), rng.integers(1, 21, 22688 - 770)]
  g = tails.fit_power_law_tail(y)
  assert abs(g["xmin"] - 21) <= 27 and g["pdf_exponent"] == pytest.approx(2.12, abs=3 * 0.09)


def test_bootstrap_of_the_whole_fit_covers_pareto():
  """The percentile interval of 100 resamples (x_min chosen again in each) covers the true index in ~95% of draws:
  at least 12 of 15 (a binomial 95% gives 11 or fewer with probability 0.5%)."""
  hits = 0
  for seed in range(15):
    x = st.pareto.rvs(2.0, size=2000, random_state=np.random.default_rng(100 + seed))
    lo, hi = tails.fit_power_law_tail(x, n_boot=100, seed=seed)["tail_index_ci95"]
    hits += lo <= 2.0 <= hi
  assert hits >= 12


def test_goodness_of_fit_rules_out_an_exponential_and_keeps_a_power_law():
  rng = np.random.default_rng(4)
  assert tails.fit_power_law_tail(rng.exponential(1.0, 20_000), gof=50)["gof_p"] <= 0.1
  # Under a true power law p is uniform; over four draws at least one p > 0.1 fails with probability 1e-4.
  ps = [tails.fit_power_law_tail(st.pareto.rvs(1.5, size=2000, random_state=rng), gof=50)["gof_p"] for _ in range(4)]
  assert max(ps) > 0.1 and min(ps) >= 0.0


def test_bias_reduction_moves_hill_towards_the_truth_on_a_hall_class_law():
  """Burr XII with c = 1, d = 2: tail index c·d = 2, second-order ρ = −1/d = −0.5, so Hill at large k is biased
  high in γ (low in α). ρ̂ is a rough estimate at 5e4 values (spread ~0.2 over draws), and the reduced-bias value
  lies closer to 2 than Hill's on each of 3 draws."""
  for seed in range(3):
    x = st.burr12.rvs(1, 2, size=50_000, random_state=seed)
    logs = np.log(np.sort(x)[::-1])
    second = bias.second_order(logs, x.size)
    k = 5000
    hill = float(tails.hill(x.astype(np.float32), k))
    assert second["valid"] and -1.0 < second["rho"] < -0.25  # read at k1 = n/5: −0.82, −0.51, −0.48 on these draws
    assert abs(hill / bias.correction(x.size, k, second) - 2.0) < abs(hill - 2.0)


@pytest.mark.parametrize("name", ["uniform", "exponential", "ties", "t3"])
def test_second_order_estimate_never_raises(name):
  """(ρ̂, β̂) on any sample is a number or flagged invalid, and an invalid one leaves Hill uncorrected."""
  rng = np.random.default_rng(5)
  x = {
    "uniform": rng.uniform(1, 2, 10_000),
    "exponential": rng.exponential(1, 10_000),
    "ties": np.round(rng.pareto(2, 10_000) + 1, 1),
    "t3": np.abs(rng.standard_t(3, 10_000)),
  }[name]
  second = bias.second_order(np.log(np.sort(x)[::-1]), x.size)
  factor = bias.correction(x.size, 500, second)
  assert factor > 0 and (second["valid"] or factor == 1.0)


def test_integer_data_quote_the_discrete_fit():
  # Zipf(2): tail index 1. Hill on integers reads their ties (1.77 here); the report's α is the discrete fit's.
  z = st.zipf.rvs(2.0, size=100_000, random_state=np.random.default_rng(2))
  r = tails.estimate(z)
  t = r["tail_index"]
  assert t["bias"] == "discrete fit" and t["alpha"] == pytest.approx(
    1.0, abs=3 / math.sqrt(r["power_law_fit"]["n_tail"])
  )
  assert t["ci95"][0] <= 1.0 <= t["ci95"][1] or abs(t["alpha"] - 1.0) < 0.01
  assert "integer data" in r["verdict"] or "discrete power-law fit" in r["verdict"]


@pytest.mark.parametrize(
  "call,match",
  [
    (lambda x: tails.estimate(np.where(np.arange(x.size) == 7, np.nan, x)), "NaN or ±inf"),
    (lambda x: tails.fit_power_law_tail(np.where(np.arange(x.size) == 7, np.nan, x)), "NaN or ±inf"),
    (lambda x: tails.estimate(np.r_[np.ones(10_000), 2 * np.ones(10_000)]), "only 2 distinct values"),
    (lambda x: tails.estimate(np.round(np.abs(x)).clip(1, 6)), "only 6 distinct values"),
    (lambda x: tails.fit_power_law_tail(x, n_boot=-1), "n_boot = -1"),
    (lambda x: tails.fit_power_law_tail(x, gof=1.5), "gof = 1.5"),
  ],
)
def test_bad_input_to_the_fit_is_one_clear_error(call, match):
  x = np.random.default_rng(6).standard_t(3, 20_000)  # large enough for the vectorised reductions (NaN once hid there)
  with pytest.raises(ValueError, match=match):
    call(x)


def test_kth_largest_takes_whole_k_and_the_fit_counts_zeros():
  a = np.abs(np.random.default_rng(8).standard_t(3, 20_000)).astype(np.float32)
  with pytest.raises(ValueError, match="must be an integer"):
    tails.kth_largest(a, 3.5)
  assert float(tails.kth_largest(a, 3)) == np.sort(a)[-3]
  z = np.zeros(20_000)
  z[:500] = a[:500]
  assert tails.fit_power_law_tail(z)["zeros_dropped"] == 19_500
