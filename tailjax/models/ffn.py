"""Experiment 1.1's model: y = W_out σ(W_in x), trained by an injected upstream gradient ∇_y L.

The study asks whether heavy-tailed weight gradients come from the architecture rather than the data: x ~ N(0, I) and
∇_y L is drawn from a chosen law (`UPSTREAM`), so ∇W_out = ∇_y L · σ(W_in x)ᵀ and ∇W_in = (W_outᵀ ∇_y L ⊙ σ'(·)) xᵀ
inherit its tails. The surrogate loss ⟨stop_gradient(z), y⟩ has exactly ∇_y = z, so the ordinary optimizer chain
trains on it.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

# Upstream laws: sampler(key, shape), unit scale. Tail index of |z|: Cauchy 1; normal, Laplace, uniform have none.
UPSTREAM = {
  "normal": jax.random.normal,
  "cauchy": jax.random.cauchy,
  "laplace": jax.random.laplace,
  "uniform": lambda key, shape: jax.random.uniform(key, shape, minval=-1.0, maxval=1.0),
}


class FFN(nn.Module):
  width: int  # input and output dimension d
  hidden: int  # hidden units

  @nn.compact
  def __call__(self, x_BxD):
    w_in = self.param("W_in", nn.initializers.lecun_normal(), (self.width, self.hidden))
    w_out = self.param("W_out", nn.initializers.lecun_normal(), (self.hidden, self.width))
    return nn.relu(x_BxD @ w_in) @ w_out


def injected_loss(module: FFN):
  """loss(params, (x, z)) = ⟨z, y(x)⟩ with z held constant: its gradient in y is z. Works for one example or a batch."""

  def loss(params, example):
    x, z = example
    y = module.apply({"params": params}, x)
    return jnp.sum(jax.lax.stop_gradient(z) * y)

  return loss


def draw_example(key, width: int, upstream: str, batch: int):
  """x ~ N(0, I) and z from the named upstream law, each [batch, width]."""
  k_x, k_z = jax.random.split(key)
  return jax.random.normal(k_x, (batch, width)), UPSTREAM[upstream](k_z, (batch, width))
