"""FLOPs of one training step of one lane, from the config (issue 17): what achieved FLOP/s and MFU are computed from.

Counted are the matrix products, 2 FLOPs per multiply-add, forward and backward (backward = 2 × forward, the usual
6·N·tokens rule plus attention): elementwise work (LayerNorm, GELU, softmax, the optimizer) is left out, as MFU
conventionally does. tests/test_flops.py checks the count against XLA's own (`compiled.cost_analysis()`), which does
include the elementwise work: XLA counts 3–11% more at d32–d128. Models without a count (the image models and the
injected FFN, so far) give None, and their runs report no FLOP/s. Jax-free.
"""

import math


def transformer_forward_per_token(cfg, vocab_size: int) -> float:
  """Forward matmul FLOPs per token of the NanoTransformer: per block q/k/v and output projections (8D²), the MLP
  (4·r·D²), and attention's scores and weighted sum (4·T·D over the keys computed: every key with XLA's dense
  attention, the causal blocks only with the blocked one); then the output head (2·D·V)."""
  m, t = cfg.model, cfg.data.seq_len
  d = m.d_model
  keys = t
  if m.attention == "blocked":  # query blocks attend to keys up to their own block's end
    nb = math.ceil(t / min(m.attention_block, t))
    keys = t * (nb + 1) / (2 * nb)
  per_block = 8 * d * d + 4 * m.mlp_ratio * d * d + 4 * keys * d
  return m.n_layers * per_block + 2 * d * vocab_size


def train_step(cfg, vocab_size: int, batch_size: int) -> float | None:
  """FLOPs of one optimizer step of one lane (forward + backward over B examples); None for a model not counted."""
  name = cfg.model.name
  if name == "transformer":
    return 3 * transformer_forward_per_token(cfg, vocab_size) * batch_size * cfg.data.seq_len
  if name == "quadratic":  # per example: the gradient Hθ + √h ⊙ ξ and the loss, a few FLOPs per coordinate
    return 6 * cfg.model.d_model * batch_size
  return None
