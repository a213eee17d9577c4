"""Causal softmax attention for the CPU: query blocks, and a backward pass written out by hand.

`blocked_causal_attention(q, k, v, block)` computes softmax(q·kᵀ/√E + causal mask)·v one block of queries at a time:
query block i reads only keys [0, (i+1)·block), so fully masked key blocks are never computed (half the work at
T = 2·block) and each block's scores (B·H·block·T) stay in the CPU cache.

Its VJP is written by hand (the FlashAttention-2 backward, keeping the probabilities instead of recomputing them)
because no library offers one for XLA:CPU, and autodiff of the forward costs 1.6× more there: it differentiates the
mask's `select`, the max and the normalising division separately. With P the normalised probabilities of a block,
dO its output gradient and D = rowsum(dO ∘ O):

    dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ∘ (dP − D),  dQ = dS·K/√E,  dK = dSᵀ·Q/√E.

Masked entries have P = 0, so dS is 0 there without a mask in the backward pass. (Profile and timings: BENCHMARKS.md,
issue 17.)
"""

import functools

import jax
import jax.numpy as jnp


def _forward(q_BxHxTxE, k_BxHxTxE, v_BxHxTxE, block: int):
  """The output and, per query block, its normalised probabilities (float32)."""
  T, E = q_BxHxTxE.shape[2], q_BxHxTxE.shape[3]
  scale = E**-0.5
  outs, probs = [], []
  for start in range(0, T, block):
    stop = min(start + block, T)
    q = q_BxHxTxE[:, :, start:stop] * scale
    s_BxHxQxK = jnp.einsum("bhqe,bhke->bhqk", q, k_BxHxTxE[:, :, :stop]).astype(jnp.float32)
    causal_QxK = jnp.arange(start, stop)[:, None] >= jnp.arange(stop)[None, :]
    s_BxHxQxK = jnp.where(causal_QxK, s_BxHxQxK, -jnp.inf)  # every row keeps its diagonal: the max is finite
    p_BxHxQxK = jnp.exp(s_BxHxQxK - jnp.max(s_BxHxQxK, axis=-1, keepdims=True))
    p_BxHxQxK = p_BxHxQxK / jnp.sum(p_BxHxQxK, axis=-1, keepdims=True)
    probs.append(p_BxHxQxK)
    outs.append(jnp.einsum("bhqk,bhke->bhqe", p_BxHxQxK.astype(v_BxHxTxE.dtype), v_BxHxTxE[:, :, :stop]))
  return jnp.concatenate(outs, axis=2), probs


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def blocked_causal_attention(q_BxHxTxE, k_BxHxTxE, v_BxHxTxE, block: int):
  """softmax(q·kᵀ/√E, causal)·v for heads-major q, k, v (B, H, T, E), computed `block` queries at a time."""
  return _forward(q_BxHxTxE, k_BxHxTxE, v_BxHxTxE, block)[0]


def _fwd(q, k, v, block):
  o, probs = _forward(q, k, v, block)
  return o, (q, k, v, o, probs)


def _bwd(block, res, do_BxHxTxE):
  q_BxHxTxE, k_BxHxTxE, v_BxHxTxE, o_BxHxTxE, probs = res
  T, E = q_BxHxTxE.shape[2], q_BxHxTxE.shape[3]
  scale = E**-0.5
  dtype = q_BxHxTxE.dtype
  # D = rowsum(dO ∘ O), once for all blocks.
  d_BxHxT = jnp.sum(do_BxHxTxE.astype(jnp.float32) * o_BxHxTxE.astype(jnp.float32), axis=-1)
  dq_blocks, dk, dv = [], jnp.zeros(k_BxHxTxE.shape, jnp.float32), jnp.zeros(v_BxHxTxE.shape, jnp.float32)
  for i, start in enumerate(range(0, T, block)):
    stop = min(start + block, T)
    p_BxHxQxK, do = probs[i], do_BxHxTxE[:, :, start:stop]
    k, v = k_BxHxTxE[:, :, :stop], v_BxHxTxE[:, :, :stop]
    dv_i = jnp.einsum("bhqk,bhqe->bhke", p_BxHxQxK.astype(dtype), do, preferred_element_type=jnp.float32)
    dp_BxHxQxK = jnp.einsum("bhqe,bhke->bhqk", do, v, preferred_element_type=jnp.float32)
    ds_BxHxQxK = (p_BxHxQxK * (dp_BxHxQxK - d_BxHxT[:, :, start:stop, None]) * scale).astype(dtype)
    dq_blocks.append(jnp.einsum("bhqk,bhke->bhqe", ds_BxHxQxK, k, preferred_element_type=jnp.float32))
    dk_i = jnp.einsum("bhqk,bhqe->bhke", ds_BxHxQxK, q_BxHxTxE[:, :, start:stop], preferred_element_type=jnp.float32)
    pad = ((0, 0), (0, 0), (0, T - stop), (0, 0))
    dk, dv = dk + jnp.pad(dk_i, pad), dv + jnp.pad(dv_i, pad)
  dq = jnp.concatenate(dq_blocks, axis=2)
  return dq.astype(dtype), dk.astype(k_BxHxTxE.dtype), dv.astype(v_BxHxTxE.dtype)


blocked_causal_attention.defvjp(_fwd, _bwd)
