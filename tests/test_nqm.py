"""The noisy quadratic model's closed form: the issue's published numbers, and SGD simulated many times."""

import numpy as np
import pytest

from tailjax.analysis import nqm


def test_the_exact_optimum_rises_and_bends_as_the_issue_states():
  # D = 1000, p = 1, N = 1000: LR* from 0.18 at B = 1 to 1.66 at B = 1024, local slope from 0.64 down to 0.09
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
