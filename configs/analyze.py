"""Re-analyse a results.csv (from tailjax, or hand-made with batch_size, lr, final_val_loss): no training.

    python -m tailjax.main --config=configs/analyze.py --config.analysis.results=PATH/results.csv --workdir=OUT

Writes OUT/scaling_fit.json (optimum per batch size refined between grid points, censored edges as bounds, β with a
bootstrap interval on the bracketed optima, the study's all-argmin fit labelled apart) and OUT/lr_vs_batch.png,
OUT/loss_heatmap.png.
"""

from configs import base


def get_config():
  c = base.get_config()
  c.analysis.results = ""  # required: pass --config.analysis.results=PATH
  return c
