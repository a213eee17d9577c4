"""Your own model: the gradient-noise report in one call or as a training-loop callback (`report`), and a row of
learning rates over batch sizes for a model and data of yours (`task`, `rows`), through the same engine, estimators,
files and plots as the study's models. `settings` gives configs/base.py to library callers.

The public names are re-exported by `tailjax` itself (tailjax/__init__.py).
"""
