"""Model registry: `build(model_cfg, vocab_size, seq_len, backend)` returns a flax linen module.

Experiment 1.1's two-layer FFN joins the registry as `ffn` with the Phase 1 work.
"""

import jax
import jax.numpy as jnp

from tailjax.errors import UserError
from tailjax.models.transformer import NanoTransformer

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
_ATTENTION = ("auto", "xla", "blocked", "cudnn")


def resolve_attention(cfg, seq_len: int, backend: str) -> str:
  """`auto`: blocked on the CPU when it saves work (T > block), XLA's fused attention elsewhere."""
  if cfg.attention != "auto":
    return cfg.attention
  return "blocked" if backend == "cpu" and seq_len > cfg.attention_block else "xla"


def build(cfg, vocab_size: int, seq_len: int, backend: str | None = None):
  if cfg.name != "transformer":
    raise UserError(f"unknown model.name {cfg.name!r}; the available model is 'transformer'")
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
