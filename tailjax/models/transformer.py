"""NanoTransformer: the study's character-level decoder in flax linen.

Pre-LayerNorm blocks, learned positional embeddings, causal multi-head attention, GELU MLP, biases everywhere (as in
the study's PyTorch model), untied output head by default. Parameters are float32; `dtype` sets the compute dtype and
logits come back in float32.

Parameter names are what the per-layer tail measurements group by: `block_i/attn/{qkv,out}` (attention),
`block_i/mlp/{fc,proj}` (FFN), and vectors (`*/bias`, `ln*`, `embed`, `pos_embed`).
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from tailjax.models import attention, matmul

init_normal = nn.initializers.normal(stddev=0.02)  # GPT-2's initialisation of weights and embeddings


class Attention(nn.Module):
  n_heads: int
  attention: str  # xla | blocked | cudnn
  block: int
  dtype: jnp.dtype
  out_init: nn.initializers.Initializer
  causal: bool = True  # False: every position reads every other (the ViT's patches)

  @nn.compact
  def __call__(self, x_BxTxD):
    D = x_BxTxD.shape[-1]
    H, E = self.n_heads, D // self.n_heads
    w_Dx3xHxE = self.param("qkv", init_normal, (D, 3, H, E))
    b_3xHxE = self.param("qkv_bias", nn.initializers.zeros, (3, H, E))
    w_HxExD = self.param("out", self.out_init, (H, E, D))
    b_D = self.param("out_bias", nn.initializers.zeros, (D,))
    x = x_BxTxD.astype(self.dtype)
    if self.attention == "blocked" and self.causal:
      # q, k, v come out heads-major, the layout the blocked kernel reads.
      qkv_3xBxHxTxE = jnp.einsum("btd,dshe->sbhte", x, w_Dx3xHxE.astype(self.dtype))
      qkv_3xBxHxTxE += b_3xHxE.astype(self.dtype)[:, None, :, None, :]
      o_BxHxTxE = attention.blocked_causal_attention(*qkv_3xBxHxTxE, block=self.block)
      y = jnp.einsum("bhte,hed->btd", o_BxHxTxE, w_HxExD.astype(self.dtype))
    else:
      qkv_3xBxTxHxE = jnp.einsum("btd,dshe->sbthe", x, w_Dx3xHxE.astype(self.dtype))
      qkv_3xBxTxHxE += b_3xHxE.astype(self.dtype)[:, None, None]
      impl = "cudnn" if self.attention == "cudnn" else "xla"
      o_BxTxHxE = jax.nn.dot_product_attention(*qkv_3xBxTxHxE, is_causal=self.causal, implementation=impl)
      y = jnp.einsum("bthe,hed->btd", o_BxTxHxE, w_HxExD.astype(self.dtype))
    return y + b_D.astype(self.dtype)


class Mlp(nn.Module):
  hidden: int
  dtype: jnp.dtype
  out_init: nn.initializers.Initializer
  matmul: str = "xla"  # models/matmul.py

  @nn.compact
  def __call__(self, x_BxTxD):
    D = x_BxTxD.shape[-1]
    dense = functools.partial(nn.Dense, dtype=self.dtype, dot_general=matmul.dot_general_for(self.matmul))
    h = dense(self.hidden, kernel_init=init_normal, name="fc")(x_BxTxD)
    return dense(D, kernel_init=self.out_init, name="proj")(nn.gelu(h))


class Block(nn.Module):
  """Pre-LayerNorm residual block: h + attn(ln1(h)), then h + mlp(ln2(h))."""

  n_heads: int
  mlp_ratio: int
  attention: str
  attention_block: int
  dtype: jnp.dtype
  out_init: nn.initializers.Initializer
  causal: bool = True
  matmul: str = "xla"

  @nn.compact
  def __call__(self, h_BxTxD):
    D = h_BxTxD.shape[-1]
    ln = functools.partial(nn.LayerNorm, dtype=self.dtype)
    attn = Attention(
      self.n_heads, self.attention, self.attention_block, self.dtype, self.out_init, self.causal, name="attn"
    )
    a_BxTxD = attn(ln(name="ln1")(h_BxTxD))
    self.sow("intermediates", "attn_gain", _gain(a_BxTxD, h_BxTxD))  # ‖f(x)‖/‖x‖ of each residual branch
    h_BxTxD = h_BxTxD + a_BxTxD
    mlp = Mlp(self.mlp_ratio * D, self.dtype, self.out_init, self.matmul, name="mlp")
    m_BxTxD = mlp(ln(name="ln2")(h_BxTxD))
    self.sow("intermediates", "mlp_gain", _gain(m_BxTxD, h_BxTxD))
    return h_BxTxD + m_BxTxD


def _gain(branch, residual):
  """Mean over positions of ‖f(x)‖/‖x‖ (computed only when "intermediates" are asked for: sow is a no-op otherwise)."""
  norm = lambda v: jnp.linalg.norm(v.astype(jnp.float32), axis=-1)
  return jnp.mean(norm(branch) / (norm(residual) + 1e-12))


class NanoTransformer(nn.Module):
  """Decoder-only character model.

  Call with int tokens x_BxT; returns float32 logits_BxTxV.
  """

  vocab_size: int
  seq_len: int
  d_model: int = 64
  n_layers: int = 4
  n_heads: int = 4
  mlp_ratio: int = 4
  dtype: jnp.dtype = jnp.float32
  attention: str = "xla"
  attention_block: int = 32
  tie_embeddings: bool = False
  matmul: str = "xla"  # xla | cpu: the dense layers' weight-gradient layout (models/matmul.py)

  @nn.compact
  def __call__(self, x_BxT):
    T = x_BxT.shape[1]
    embed = nn.Embed(self.vocab_size, self.d_model, embedding_init=init_normal, name="embed")
    pos_TxD = self.param("pos_embed", init_normal, (self.seq_len, self.d_model))
    h_BxTxD = embed(x_BxT) + pos_TxD[:T]
    # GPT-2's scaled init of the projections that write into the residual stream.
    out_init = nn.initializers.normal(stddev=0.02 / (2 * self.n_layers) ** 0.5)
    for i in range(self.n_layers):
      h_BxTxD = Block(
        self.n_heads,
        self.mlp_ratio,
        self.attention,
        self.attention_block,
        self.dtype,
        out_init,
        matmul=self.matmul,
        name=f"block_{i}",
      )(h_BxTxD)
    h_BxTxD = nn.LayerNorm(dtype=self.dtype, name="ln_f")(h_BxTxD)
    if self.tie_embeddings:
      return embed.attend(h_BxTxD.astype(jnp.float32))
    head = nn.Dense(self.vocab_size, dtype=self.dtype, kernel_init=init_normal, name="head",
                    dot_general=matmul.dot_general_for(self.matmul))  # fmt: skip
    logits = head(h_BxTxD)
    return logits.astype(jnp.float32)
