"""Gradient noise during training: per-example gradients and their noise (`per_example`), the tail estimators on it
(`estimates`), one measurement of a row's lanes (`lanes`), the files and plots of a sweep (`reports`, `plots`).

The measured object is per-example noise g_i − ḡ across m examples at fixed parameters (docs/science.md says how it
differs from minibatch noise across steps).
"""

ESTIMATORS = ("hill", "pickands", "moments_xi", "stable_mohammadi")  # what alpha.csv may hold (measure.estimators)
