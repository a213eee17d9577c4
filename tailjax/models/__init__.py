"""Model registry: `build(model_cfg, vocab_size, seq_len, backend)` returns a flax linen module.

`transformer`: the study's NanoTransformer (token model). `mlp`, `cnn`, `vit`: Phase 3c's image classifiers
(models/vision.py). `ffn`: experiment 1.1's y = W_out σ(W_in x) of width
d_model and mlp_ratio · d_model hidden units, trained by an injected upstream gradient (models/ffn.py).
"""

import jax
import jax.numpy as jnp

from tailjax.errors import UserError
from tailjax.models import vision
from tailjax.models.ffn import FFN
from tailjax.models.transformer import NanoTransformer

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
_ATTENTION = ("auto", "xla", "blocked", "cudnn")


def resolve_attention(cfg, seq_len: int, backend: str) -> str:
  """`auto`: blocked on the CPU when it saves work (T > block), XLA's fused attention elsewhere."""
  if cfg.attention != "auto":
    return cfg.attention
  return "blocked" if backend == "cpu" and seq_len > cfg.attention_block else "xla"


def build(cfg, vocab_size: int, seq_len: int, backend: str | None = None):
  """The model named by `cfg.name`; for the image models `vocab_size` is the number of classes."""
  if cfg.name not in ("transformer", "ffn", "mlp", "cnn", "vit"):
    raise UserError(f"unknown model.name {cfg.name!r}; choose transformer, ffn, mlp, cnn or vit")
  if cfg.d_model <= 0 or cfg.n_layers <= 0:
    raise UserError(f"model.d_model={cfg.d_model} and model.n_layers={cfg.n_layers} must be positive")
  if cfg.name == "mlp":
    return vision.MLP(vocab_size, cfg.d_model, cfg.n_layers)
  if cfg.name == "cnn":
    if cfg.conv not in ("auto", "xla", "im2col"):
      raise UserError(f"model.conv must be auto, xla or im2col, not {cfg.conv!r}")
    return vision.CNN(
      vocab_size, cfg.d_model, cfg.n_layers, vision.resolve_conv(cfg.conv, backend or jax.default_backend())
    )
  if cfg.name == "vit":
    if cfg.n_heads <= 0 or cfg.d_model % cfg.n_heads or cfg.patch_size <= 0:
      raise UserError(f"vit: model.d_model={cfg.d_model} must be a multiple of model.n_heads={cfg.n_heads}, "
                      f"and model.patch_size={cfg.patch_size} positive")  # fmt: skip
    return vision.ViT(vocab_size, cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.mlp_ratio, cfg.patch_size)
  if cfg.name == "ffn":
    if cfg.d_model <= 0 or cfg.mlp_ratio <= 0:
      raise UserError(f"model.d_model={cfg.d_model} and model.mlp_ratio={cfg.mlp_ratio} must be positive")
    return FFN(width=cfg.d_model, hidden=int(cfg.mlp_ratio * cfg.d_model))
  if cfg.dtype not in _DTYPES:
    raise UserError(f"model.dtype must be one of {', '.join(_DTYPES)}, not {cfg.dtype!r}")
  if cfg.attention not in _ATTENTION:
    raise UserError(f"model.attention must be one of {', '.join(_ATTENTION)}, not {cfg.attention!r}")
  if cfg.d_model <= 0 or cfg.n_layers <= 0 or cfg.n_heads <= 0 or cfg.d_model % cfg.n_heads:
    raise UserError(
      f"model.d_model={cfg.d_model} must be a positive multiple of model.n_heads={cfg.n_heads}, "
      f"and model.n_layers={cfg.n_layers} positive"
    )
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
  )
