"""Training: the engine (one compiled program per row of lanes), the optimizers, checkpoints, writers, processes and
devices, the row loop and the sweep that drives it.

The choice lists below are what `validate` checks before jax loads, so this file imports nothing.
"""

OPTIMIZERS = ("adamw", "sgd", "muon")
LANE_STRATEGIES = ("auto", "vmap", "map")
B2_RULES = ("fixed", "half_life_tokens")
TENSORBOARD_WRITERS = ("events", "clu")  # output.tensorboard_writer: writers.Writers
