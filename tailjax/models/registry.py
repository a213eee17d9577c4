"""`build(model_cfg, vocab_size, seq_len, backend)`: the flax linen module a config names.

`transformer`: the study's NanoTransformer (token model). `mlp`, `cnn`, `vit`: Phase 3c's image classifiers
(models/vision.py). `ffn`: experiment 1.1's y = W_out σ(W_in x) of width
d_model and mlp_ratio · d_model hidden units, trained by an injected upstream gradient (models/ffn.py).
"""

import jax
import jax.numpy as jnp

from tailjax.models import matmul, vision
from tailjax.models.ffn import FFN
from tailjax.models.transformer import NanoTransformer

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}  # keys: models.DTYPES


def resolve_attention(cfg, seq_len: int, backend: str) -> str:
  """`auto`: blocked on the CPU when it saves work (T > block), XLA's fused attention elsewhere."""
  if cfg.attention != "auto":
    return cfg.attention
  return "blocked" if backend == "cpu" and seq_len > cfg.attention_block else "xla"


def build(cfg, vocab_size: int, seq_len: int, backend: str | None = None):
  """The model named by `cfg.name`; for the image models `vocab_size` is the number of classes. The section is
  checked by `validate.config` (the entry points call it first), not here."""
  if cfg.name == "mlp":
    return vision.MLP(vocab_size, cfg.d_model, cfg.n_layers)
  if cfg.name == "cnn":
    return vision.CNN(
      vocab_size, cfg.d_model, cfg.n_layers, vision.resolve_conv(cfg.conv, backend or jax.default_backend())
    )
  if cfg.name == "vit":
    return vision.ViT(vocab_size, cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.mlp_ratio, cfg.patch_size)
  if cfg.name == "ffn":
    return FFN(width=cfg.d_model, hidden=int(cfg.mlp_ratio * cfg.d_model))
  return NanoTransformer(
    vocab_size=vocab_size,
    seq_len=seq_len,
    d_model=cfg.d_model,
    n_layers=cfg.n_layers,
    n_heads=cfg.n_heads,
    mlp_ratio=cfg.mlp_ratio,
    dtype=_DTYPES[cfg.dtype],
    attention=resolve_attention(cfg, seq_len, backend or jax.default_backend()),
    attention_block=cfg.attention_block,
    tie_embeddings=cfg.tie_embeddings,
    matmul=matmul.resolve(cfg.matmul, backend or jax.default_backend()),
  )
