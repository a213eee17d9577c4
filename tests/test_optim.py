"""Phase 4's optimizers: SGD with momentum, AdamW and Muon each train the row program, lane = single run."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tailjax.training import optim
from tailjax.training.lane_grid import lane_table
from tests.conftest import run_row

LRS = {"adamw": (1e-3, 3e-3), "sgd": (0.03, 0.1), "muon": (0.01, 0.03)}


@pytest.mark.parametrize("name", ["sgd", "muon"])
def test_each_optimizer_lane_equals_single_run_and_learns(tiny, name):
  tiny.optim.name = name
  tiny.sweep.lane_strategy = "vmap"
  table = lane_table(LRS[name], (1.0,), (0.0, 0.1), (0,))
  row_m, row_val, _ = run_row(tiny, table, 20)
  for r in (0, 3):
    one_m, one_val, _ = run_row(tiny, [table[r]], 20)
    np.testing.assert_allclose(row_m["loss"][:, r], one_m["loss"][:, 0], rtol=2e-5)
    np.testing.assert_allclose(row_val[r], one_val[0], rtol=2e-5)
  first, last = row_m["loss"][:3].mean(0), row_m["loss"][-3:].mean(0)
  assert (last < first - 0.2).all(), (first, last)  # every lane learns
  assert not np.allclose(row_m["loss"][-1, 0], row_m["loss"][-1, 1])  # weight decay lanes differ


def _one_update(cfg, params, grads, lr=0.1, wd=0.0):
  tx = optim.make(cfg, 100, lr, optim.NO_CLIP, wd)
  updates, _ = tx.update(grads, tx.init(params), params)
  return updates


def test_muon_orthogonalises_hidden_matrices_and_leaves_the_rest_to_adamw(tiny):
  tiny.optim.name, tiny.optim.warmup_steps, tiny.optim.momentum = "muon", 0, 0.0
  key = jax.random.key(0)
  params = {
    "embed": {"embedding": jnp.zeros((65, 16))},
    "mlp": {"fc": {"kernel": jnp.zeros((16, 64)), "bias": jnp.zeros(64)}},
    "attn": {"qkv": jnp.zeros((16, 3, 2, 8))},
  }
  grads = jax.tree.map(lambda p: jax.random.normal(key, p.shape), params)
  up = _one_update(tiny.optim, params, grads)
  s = np.linalg.svd(np.asarray(up["mlp"]["fc"]["kernel"]), compute_uv=False)
  # Five quintic Newton-Schulz steps leave singular values in about [0.7, 1.2] of their common scale; a Gaussian
  # 16 x 64 gradient's spread from about √64 − √16 to √64 + √16.
  assert s.max() / s.min() < 1.8
  g = np.linalg.svd(np.asarray(grads["mlp"]["fc"]["kernel"]), compute_uv=False)
  assert g.max() / g.min() > 2.5
  for j in range(3):  # q, k and v are each orthogonalised as a D x D matrix
    s_qkv = np.linalg.svd(np.asarray(up["attn"]["qkv"][:, j].reshape(16, 16)), compute_uv=False)
    assert s_qkv.max() / s_qkv.min() < 1.8
  # AdamW part: the first Adam step is lr·ratio·sign(g) on the embedding
  expected = -0.1 * tiny.optim.muon_adam_lr_ratio * np.sign(np.asarray(grads["embed"]["embedding"]))
  np.testing.assert_allclose(up["embed"]["embedding"], expected, rtol=1e-4)


def test_sgd_is_heavy_ball_with_decoupled_decay(tiny):
  tiny.optim.name, tiny.optim.warmup_steps, tiny.optim.momentum = "sgd", 0, 0.9
  params = {"w": jnp.ones((3, 3)), "b": jnp.ones(3)}
  grads = {"w": jnp.full((3, 3), 2.0), "b": jnp.full(3, 2.0)}
  tx = optim.make(tiny.optim, 100, 0.1, optim.NO_CLIP, 0.5)
  state = tx.init(params)
  u1, state = tx.update(grads, state, params)
  u2, _ = tx.update(grads, state, params)
  np.testing.assert_allclose(u1["w"], -0.1 * (2.0 + 0.5 * 1.0))  # matrix: gradient plus λw
  np.testing.assert_allclose(u1["b"], -0.1 * 2.0)  # vector: no decay
  np.testing.assert_allclose(u2["b"], -0.1 * (2.0 + 0.9 * 2.0))  # momentum accumulates
  assert optax.tree.norm(u2) > optax.tree.norm(u1)
