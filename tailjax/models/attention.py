"""Causal softmax attention for the CPU, one block of queries at a time.

Query block i reads only keys [0, (i+1)·block): fully masked key blocks are never computed (half the work at
T = 2·block), and each block's scores (B·H·block·T) stay in the CPU cache. The backward pass is JAX's autodiff: a
hand-written FlashAttention-2-style VJP and the projections as (B·T)×D matmuls through models/matmul.py were tried
and measured level with it (BENCHMARKS.md).
"""

import jax
import jax.numpy as jnp


def blocked_causal_attention(q_BxHxTxE, k_BxHxTxE, v_BxHxTxE, block: int):
  """softmax(q·kᵀ/√E, causal)·v for heads-major q, k, v (B, H, T, E), computed `block` queries at a time."""
  T, E = q_BxHxTxE.shape[2], q_BxHxTxE.shape[3]
  scale = E**-0.5
  outs = []
  for start in range(0, T, block):
    stop = min(start + block, T)
    q = q_BxHxTxE[:, :, start:stop] * scale
    k, v = k_BxHxTxE[:, :, :stop], v_BxHxTxE[:, :, :stop]
    s_BxHxQxK = jnp.einsum("bhqe,bhke->bhqk", q, k).astype(jnp.float32)
    causal_QxK = jnp.arange(start, stop)[:, None] >= jnp.arange(stop)[None, :]
    s_BxHxQxK = jnp.where(causal_QxK, s_BxHxQxK, -1e30)
    p = jax.nn.softmax(s_BxHxQxK, axis=-1).astype(v.dtype)
    outs.append(jnp.einsum("bhqk,bhke->bhqe", p, v))
  return jnp.concatenate(outs, axis=2)
