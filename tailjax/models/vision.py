"""Phase 3c's image classifiers: MLP, CNN and ViT. Each maps images x_BxHxWxC (float32 in [0, 1]) to logits_BxK.

Width is `model.d_model` (hidden units, channels, or the ViT's residual width), depth `model.n_layers`. Parameter
names follow the kinds the gradient-noise measurement groups by: `mlp_{i}` (ffn), `conv_{i}` (conv), `patch_embed`
and `pos_embed` (embedding), the ViT's `block_{i}/attn` and `block_{i}/mlp`, and `head`.
"""

import jax.numpy as jnp
from flax import linen as nn

from tailjax.models.transformer import Block, _init


class MLP(nn.Module):
  n_classes: int
  width: int
  depth: int

  @nn.compact
  def __call__(self, x_BxHxWxC):
    h = x_BxHxWxC.reshape(x_BxHxWxC.shape[0], -1)
    for i in range(self.depth):
      h = nn.gelu(nn.Dense(self.width, kernel_init=_init, name=f"mlp_{i}")(h))
    return nn.Dense(self.n_classes, kernel_init=_init, name="head")(h)


class CNN(nn.Module):
  """3×3 convolutions of `width` channels with GELU, 2×2 average pooling after each while the image is larger than
  4×4, global average pooling, a linear head."""

  n_classes: int
  width: int
  depth: int

  @nn.compact
  def __call__(self, x_BxHxWxC):
    h = x_BxHxWxC
    for i in range(self.depth):
      h = nn.gelu(nn.Conv(self.width, (3, 3), name=f"conv_{i}")(h))
      if h.shape[1] > 4:
        h = nn.avg_pool(h, (2, 2), strides=(2, 2))
    return nn.Dense(self.n_classes, kernel_init=_init, name="head")(h.mean(axis=(1, 2)))


class ViT(nn.Module):
  """Patches → linear embedding + learned positions → pre-LN transformer blocks (no causal mask) → mean → head."""

  n_classes: int
  width: int
  depth: int
  n_heads: int
  mlp_ratio: int
  patch: int

  @nn.compact
  def __call__(self, x_BxHxWxC):
    p = self.patch
    h = nn.Conv(self.width, (p, p), strides=(p, p), padding="VALID", kernel_init=_init, name="patch_embed")(x_BxHxWxC)
    h_BxNxD = h.reshape(h.shape[0], -1, self.width)
    h_BxNxD = h_BxNxD + self.param("pos_embed", _init, h_BxNxD.shape[1:])
    out_init = nn.initializers.normal(stddev=0.02 / (2 * self.depth) ** 0.5)
    for i in range(self.depth):
      h_BxNxD = Block(self.n_heads, self.mlp_ratio, "xla", 64, jnp.float32, out_init, causal=False, name=f"block_{i}")(
        h_BxNxD
      )
    h_BxD = nn.LayerNorm(name="ln_f")(h_BxNxD).mean(axis=1)
    return nn.Dense(self.n_classes, kernel_init=_init, name="head")(h_BxD)
