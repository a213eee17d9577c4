"""Phase 4 of the study: does the optimizer change the tails and the LR scaling? One sweep per optimizer.

    python -m tailjax.main --config=configs/phase4.py:sgd --workdir=runs/p4/sgd     # :adamw (default), :sgd, :muon
    launch/phase4.sh runs/p4        # all three, then python -m tailjax.compare_runs

Phase 2.5's model and data, 5,000 steps, B 32 … 256, α measured at steps 100, 1000 and the end, and the LR grid
auto-extended until every optimum is bracketed. Each optimizer gets a grid around its usual learning rates (×3
apart): AdamW 1e-4 … 1e-2, SGD with momentum 0.9 1e-3 … 0.3, Muon (momentum 0.95; its AdamW part at 0.1× the lane's
LR) 1e-3 … 0.1.
"""

from configs import phase2_5

GRIDS = {
  "adamw": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
  "sgd": (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3),
  "muon": (1e-3, 3e-3, 1e-2, 3e-2, 0.1),
}


def get_config(optimizer: str = "adamw"):
  if optimizer not in GRIDS:
    raise ValueError(f"configs/phase4.py takes :adamw, :sgd or :muon, not {optimizer!r}")
  c = phase2_5.get_config()
  c.train.steps = 5_000
  c.optim.name = optimizer
  c.optim.momentum = 0.95 if optimizer == "muon" else 0.9
  c.sweep.learning_rates = GRIDS[optimizer]
  c.sweep.auto_extend = True
  c.measure.steps = (100, 1000, 5000)
  return c
