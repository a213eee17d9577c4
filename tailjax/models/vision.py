"""Phase 3c's image classifiers: MLP, CNN and ViT. Each maps images x_BxHxWxC (float32 in [0, 1]) to logits_BxK.

Width is `model.d_model` (hidden units, channels, or the ViT's residual width), depth `model.n_layers`. Parameter
names follow the kinds the gradient-noise measurement groups by: `mlp_{i}` (ffn), `conv_{i}` (conv), `patch_embed`
and `pos_embed` (embedding), the ViT's `block_{i}/attn` and `block_{i}/mlp`, and `head`.
"""

import jax
import jax.numpy as jnp
from flax import linen as nn

from tailjax.models.transformer import Block, init_normal


class Conv(nn.Module):
  """A 'SAME' k×k convolution (stride 1) with nn.Conv's parameters (kernel [k, k, C_in, C_out], bias).

  `impl="xla"` is `lax.conv_general_dilated`. `impl="im2col"` stacks the k² shifted copies of the padded input and
  does one matmul: the same function, written by hand because XLA's CPU backend runs a convolution inside a
  `lax.scan` body (where every training step lives) 25-100× slower than at top level (10.4 s against 0.10 s for
  the gradient of a 64×16×16×128 layer; BENCHMARKS.md), while a matmul stays fast.
  """

  features: int
  k: int = 3
  impl: str = "xla"

  @nn.compact
  def __call__(self, x_BxHxWxC):
    cin = x_BxHxWxC.shape[-1]
    kernel = self.param("kernel", nn.initializers.lecun_normal(), (self.k, self.k, cin, self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    if self.impl == "xla":
      y = jax.lax.conv_general_dilated(x_BxHxWxC, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
      return y + bias
    lo = (self.k - 1) // 2
    H, W = x_BxHxWxC.shape[1:3]
    xp = jnp.pad(x_BxHxWxC, ((0, 0), (lo, self.k - 1 - lo), (lo, self.k - 1 - lo), (0, 0)))
    cols = jnp.concatenate([xp[:, i : i + H, j : j + W] for i in range(self.k) for j in range(self.k)], axis=-1)
    return cols @ kernel.reshape(self.k * self.k * cin, self.features) + bias


def resolve_conv(impl: str, backend: str) -> str:
  """`auto`: im2col on the CPU (see `Conv`), XLA's convolution (cuDNN on a GPU) elsewhere."""
  if impl != "auto":
    return impl
  return "im2col" if backend == "cpu" else "xla"


class MLP(nn.Module):
  n_classes: int
  width: int
  depth: int

  @nn.compact
  def __call__(self, x_BxHxWxC):
    h = x_BxHxWxC.reshape(x_BxHxWxC.shape[0], -1)
    for i in range(self.depth):
      h = nn.gelu(nn.Dense(self.width, kernel_init=init_normal, name=f"mlp_{i}")(h))
    return nn.Dense(self.n_classes, kernel_init=init_normal, name="head")(h)


class CNN(nn.Module):
  """3×3 convolutions of `width` channels with GELU, 2×2 average pooling after each while the image is larger than
  4×4, global average pooling, a linear head."""

  n_classes: int
  width: int
  depth: int
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x_BxHxWxC):
    h = x_BxHxWxC
    for i in range(self.depth):
      h = nn.gelu(Conv(self.width, 3, self.conv_impl, name=f"conv_{i}")(h))
      if h.shape[1] > 4:  # 2×2 average pooling, as a reshape (no reduce_window)
        B, H, W, C = h.shape
        h = h[:, : H // 2 * 2, : W // 2 * 2].reshape(B, H // 2, 2, W // 2, 2, C).mean(axis=(2, 4))
    return nn.Dense(self.n_classes, kernel_init=init_normal, name="head")(h.mean(axis=(1, 2)))


class PatchEmbed(nn.Module):
  """A p×p, stride-p convolution, written as the matmul it is on non-overlapping patches (kernel [p, p, C, D])."""

  width: int
  patch: int

  @nn.compact
  def __call__(self, x_BxHxWxC):
    p, (B, H, W, C) = self.patch, x_BxHxWxC.shape
    patches = x_BxHxWxC.reshape(B, H // p, p, W // p, p, C).transpose(0, 1, 3, 2, 4, 5).reshape(B, -1, p * p * C)
    kernel = self.param("kernel", init_normal, (p, p, C, self.width))
    bias = self.param("bias", nn.initializers.zeros, (self.width,))
    return patches @ kernel.reshape(p * p * C, self.width) + bias


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
    h_BxNxD = PatchEmbed(self.width, self.patch, name="patch_embed")(x_BxHxWxC)
    h_BxNxD = h_BxNxD + self.param("pos_embed", init_normal, h_BxNxD.shape[1:])
    out_init = nn.initializers.normal(stddev=0.02 / (2 * self.depth) ** 0.5)
    for i in range(self.depth):
      h_BxNxD = Block(self.n_heads, self.mlp_ratio, "xla", 64, jnp.float32, out_init, causal=False, name=f"block_{i}")(
        h_BxNxD
      )
    h_BxD = nn.LayerNorm(name="ln_f")(h_BxNxD).mean(axis=1)
    return nn.Dense(self.n_classes, kernel_init=init_normal, name="head")(h_BxD)
