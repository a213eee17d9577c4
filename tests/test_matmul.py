"""models/matmul.py: the CPU layout of the dense layers' weight gradient changes the speed, not the numbers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import base
from tailjax.models import matmul, registry


def _loss_and_model(name: str):
  c = base.get_config().model
  c.d_model, c.n_layers, c.matmul = 32, 2, name
  model = registry.build(c, vocab_size=17, seq_len=16, backend="cpu")

  def loss(params, x_BxT):
    logits = model.apply({"params": params}, x_BxT[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, x_BxT[:, 1:]).mean()

  return model, loss


def test_auto_resolves_by_backend():
  assert matmul.resolve("auto", "cpu") == "cpu"
  assert matmul.resolve("auto", "gpu") == "xla"
  assert matmul.resolve("xla", "cpu") == "xla"


def test_gradients_equal_xla_s_batch_and_per_example():
  x_BxT = jax.random.randint(jax.random.key(1), (4, 16), 0, 17)
  model_cpu, loss_cpu = _loss_and_model("cpu")
  model_xla, loss_xla = _loss_and_model("xla")
  assert model_cpu.matmul == "cpu" and model_xla.matmul == "xla"
  params = model_xla.init(jax.random.key(0), x_BxT[:, :-1])["params"]
  g_cpu, g_xla = jax.jit(jax.grad(loss_cpu))(params, x_BxT), jax.jit(jax.grad(loss_xla))(params, x_BxT)
  # per-example gradients (the noise measurement's vmap of grad) go through the custom rule too
  per_ex = lambda loss: jax.jit(jax.vmap(jax.grad(lambda p, x: loss(p, x[None])), in_axes=(None, 0)))
  pe_cpu, pe_xla = per_ex(loss_cpu)(params, x_BxT), per_ex(loss_xla)(params, x_BxT)
  for a, b in ((g_cpu, g_xla), (pe_cpu, pe_xla)):
    flat_a, flat_b = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(flat_a) == len(flat_b)
    for u, v in zip(flat_a, flat_b, strict=True):
      np.testing.assert_allclose(u, v, rtol=2e-5, atol=1e-7)
  kernel = g_cpu["block_0"]["mlp"]["fc"]["kernel"]
  assert float(jnp.abs(kernel).max()) > 0  # a weight gradient that is there to compare


def test_other_contractions_pass_through():
  x, w = jnp.ones((3, 4)), jnp.ones((3, 5))
  out = matmul.cpu_dot_general(x, w, (((0,), (0,)), ((), ())))  # not x·W: lax's own
  np.testing.assert_allclose(out, jnp.full((4, 5), 3.0))
  with pytest.raises(TypeError):
    matmul.cpu_dot_general(x, w)  # no dimension numbers
