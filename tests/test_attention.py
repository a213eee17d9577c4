"""models/attention.py: the blocked causal attention equals XLA's attention, in output and gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import base
from tailjax.models import attention, registry


def _reference(q_BxHxTxE, k_BxHxTxE, v_BxHxTxE):
  heads_last = lambda a: a.transpose(0, 2, 1, 3)
  o_BxTxHxE = jax.nn.dot_product_attention(*map(heads_last, (q_BxHxTxE, k_BxHxTxE, v_BxHxTxE)), is_causal=True)
  return heads_last(o_BxTxHxE)


@pytest.mark.parametrize("seq_len, block", [(128, 64), (100, 32), (48, 64)])  # even blocks, a short last one, one
def test_output_and_gradients_equal_xla_attention(seq_len, block):
  q, k, v, do = (3 * jax.random.normal(key, (2, 3, seq_len, 8)) for key in jax.random.split(jax.random.key(seq_len), 4))
  o_ours, vjp_ours = jax.vjp(lambda *a: attention.blocked_causal_attention(*a, block), q, k, v)
  o_ref, vjp_ref = jax.vjp(_reference, q, k, v)
  np.testing.assert_allclose(o_ours, o_ref, atol=2e-5)
  for name, g_ours, g_ref in zip("qkv", vjp_ours(do), vjp_ref(do), strict=True):
    scale = float(jnp.max(jnp.abs(g_ref)))
    np.testing.assert_allclose(g_ours, g_ref, atol=2e-5 * scale, err_msg=f"d{name}")


def test_per_example_gradients_under_vmap():
  q, k, v = (jax.random.normal(key, (4, 2, 96, 8)) for key in jax.random.split(jax.random.key(0), 3))
  loss = lambda f: lambda q, k, v: jnp.sum(jnp.sin(f(q[None], k[None], v[None])))
  ours = jax.vmap(jax.grad(loss(lambda *a: attention.blocked_causal_attention(*a, 32)), argnums=(0, 1, 2)))(q, k, v)
  ref = jax.vmap(jax.grad(loss(_reference), argnums=(0, 1, 2)))(q, k, v)
  for g_ours, g_ref in zip(ours, ref, strict=True):
    np.testing.assert_allclose(g_ours, g_ref, atol=2e-5)


def test_bfloat16_stays_close_and_finite():
  q, k, v = (jax.random.normal(key, (2, 2, 128, 16)) for key in jax.random.split(jax.random.key(1), 3))
  bf = [a.astype(jnp.bfloat16) for a in (q, k, v)]
  o, vjp = jax.vjp(lambda *a: attention.blocked_causal_attention(*a, 64), *bf)
  assert o.dtype == jnp.bfloat16
  np.testing.assert_allclose(o.astype(jnp.float32), _reference(q, k, v), atol=3e-2)
  assert all(bool(jnp.isfinite(g.astype(jnp.float32)).all()) and g.dtype == jnp.bfloat16 for g in vjp(o))


def test_transformer_with_cpu_kernels_equals_xla_loss_and_gradients():
  """The CPU path (blocked attention, the dense layers through models/matmul.py) against XLA's attention and dots."""

  def loss_for(attn, mm):
    c = base.get_config().model
    c.d_model, c.n_layers, c.attention, c.attention_block, c.matmul = 32, 2, attn, 16, mm
    model = registry.build(c, vocab_size=17, seq_len=40, backend="cpu")
    assert (model.attention, model.matmul) == (attn, mm)
    logits = lambda p, x_BxT: model.apply({"params": p}, x_BxT[:, :-1])
    return model, lambda p, x: optax.softmax_cross_entropy_with_integer_labels(logits(p, x), x[:, 1:]).mean()

  x_BxT = jax.random.randint(jax.random.key(2), (3, 41), 0, 17)
  model, loss_xla = loss_for("xla", "xla")
  _, loss_cpu = loss_for("blocked", "cpu")
  params = model.init(jax.random.key(0), x_BxT[:, :-1])["params"]
  (l_xla, g_xla), (l_cpu, g_cpu) = (jax.jit(jax.value_and_grad(f))(params, x_BxT) for f in (loss_xla, loss_cpu))
  np.testing.assert_allclose(l_cpu, l_xla, rtol=1e-6)
  for path, a in jax.tree_util.tree_leaves_with_path(g_xla):
    b = g_cpu
    for key in path:
      b = b[key.key]
    np.testing.assert_allclose(b, a, rtol=2e-4, atol=1e-6, err_msg=jax.tree_util.keystr(path))
