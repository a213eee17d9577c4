"""Tail estimators as a library: it imports nothing else from tailjax, so it can be used (and tested) on its own.

  estimators   hill, hill_curve, pickands, moments, stable_alpha, robust_scale_columns, standardize_columns (checked)
  kernels      the same estimators' jitted kernels without checks, for code already inside a jit
  order_stats  kth_largest (selection by counting, no sort), top_desc
  power_law    the Clauset–Shalizi–Newman fit of a tail (continuous or discrete), Vuong's tests between families
  clauset      its jitted x_min search on distinct values with counts, the bootstrap of the whole fit, the
               goodness-of-fit test; discrete: the discrete power law (scipy's Hurwitz zeta)
  bias         Hill's second-order bias: the minimum-variance reduced-bias Hill estimator
  bootstrap    Danielsson et al.'s double bootstrap for Hill's k
  coordinates  the per-coordinate view: Anderson–Darling normality of each coordinate over the examples, at FDR 5%
  verdict      the verdict's categories and rules (plateau, steady drift, examples behind the tail)
  one_sample   estimate: all of the above on one sample, with a verdict in words

docs/science.md says which "α" each returns: a tail index (Hill's α), a pdf exponent (Clauset's and the powerlaw
package's α = 1 + tail index), an extreme-value index ξ = 1/α, or a stable index in (0, 2].
Written here rather than taken from a library: scipy has no Hill/Pickands/moments estimators, and the packages that do
(`powerlaw`, Voitalov's `tail-estimation`) are numpy-only and cannot run inside jit on per-example gradients.
"""

from tailjax.tails.bootstrap import hill_double_bootstrap
from tailjax.tails.coordinates import anderson_darling
from tailjax.tails.coordinates import summarize as per_coordinate
from tailjax.tails.estimators import (
  hill,
  hill_curve,
  moments,
  pickands,
  robust_scale_columns,
  stable_alpha,
  standardize_columns,
)  # fmt: skip
from tailjax.tails.one_sample import WHICH_ALPHA, estimate
from tailjax.tails.order_stats import kth_largest, top_desc
from tailjax.tails.power_law import compare_families, fit_power_law_tail
from tailjax.tails.verdict import CATEGORIES

__all__ = [
  "CATEGORIES", "WHICH_ALPHA", "anderson_darling", "compare_families", "estimate", "fit_power_law_tail", "hill",
  "hill_curve", "hill_double_bootstrap", "kth_largest", "moments", "per_coordinate", "pickands",
  "robust_scale_columns", "stable_alpha", "standardize_columns", "top_desc",
]  # fmt: skip
