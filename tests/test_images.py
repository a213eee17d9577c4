"""Phase 3c: the offline digits, and the MLP / CNN / ViT in the row program."""

import math

import jax
import numpy as np
import pytest

from tailjax import tasks, validate
from tailjax.analysis import results_table
from tailjax.data import images
from tailjax.errors import UserError
from tailjax.models import param_kinds
from tailjax.training import engine
from tailjax.training.lane_grid import Lanes, lane_table
from tests.conftest import tiny_config


def image_config(arch):
  c = tiny_config()
  c.data.name = "digits"
  c.data.image_examples = 600
  c.model.name = arch
  c.model.d_model = 16
  c.model.n_layers = 1
  c.eval.batch_size = 20
  c.eval.batches = 3
  return c


def test_digits_are_deterministic_balanced_and_tell_the_digits_apart():
  x, y = images.rendered_digits(400)
  x2, y2 = images.rendered_digits(400)
  np.testing.assert_array_equal(x, x2)
  np.testing.assert_array_equal(y, y2)
  assert x.shape == (400, 16, 16, 1) and 0 <= x.min() and x.max() <= 1
  assert np.bincount(y).tolist() == [40] * 10
  mean_0, mean_1 = x[y == 0].mean(0)[..., 0], x[y == 1].mean(0)[..., 0]
  assert mean_0[8, 8] < mean_1[8, 8]  # a 0 has a hole where a 1 has its stroke (holes are not filled)
  assert mean_0[8, 4] > mean_1[8, 4]


def test_an_image_summary_names_classes_not_characters():
  c = image_config("mlp")
  c.data.image_examples = 200
  line = results_table.reference_losses({"facts": tasks.build(c).facts().to_json()})
  assert line.startswith("reference losses: ln C = 2.303 (learned nothing: uniform over 10 classes)")
  assert "class entropy = 2.30" in line and "(learned the class frequencies only)" in line and "token" not in line


def _run(cfg, table, steps):
  task = tasks.build(cfg)
  row = engine.Row.create(cfg, task, 8)
  lanes = Lanes.from_table(table)
  state = row.init_state(lanes)
  vb = task.validation_batches(cfg.eval.batches, cfg.eval.batch_size)
  _, m, val = row.run_chunk(state, lanes, jax.device_put(task.train_data), vb, steps)
  return m, val


@pytest.mark.parametrize("arch", ["mlp", "cnn", "vit"])
def test_each_architecture_lane_equals_single_run(arch):
  cfg = image_config(arch)
  cfg.sweep.lane_strategy = "vmap"
  table = lane_table((1e-3, 1e-2), (1.0,), 0.01, (0,))
  m, val = _run(cfg, table, 6)
  one_m, one_val = _run(cfg, table[1:], 6)
  np.testing.assert_allclose(m["loss"][:, 1], one_m["loss"][:, 0], rtol=2e-5)
  np.testing.assert_allclose(val[1], one_val[0], rtol=2e-5)
  assert abs(float(m["loss"][0, 0]) - math.log(10)) < 0.3  # starts at chance: ln(classes)


def test_mlp_learns_the_digits():
  cfg = image_config("mlp")
  cfg.model.d_model = 64
  m, val = _run(cfg, lane_table((1e-2,), (1.0,), 0.01, (0,)), 150)
  assert float(val[0]) < math.log(10) - 1.0, val


def test_image_parameters_have_the_study_kinds():
  assert param_kinds.group_kind("mlp_0/kernel", 2) == "ffn"
  assert param_kinds.group_kind("conv_1/kernel", 4) == "conv"
  assert param_kinds.group_kind("patch_embed/kernel", 4) == "embedding"
  assert param_kinds.group_kind("block_0/attn/qkv", 4) == "attention"


def test_image_model_on_text_is_refused():
  cfg = image_config("cnn")
  cfg.data.name = "pydoc"
  with pytest.raises(UserError, match="image models"):
    validate.config(cfg)
  cfg = image_config("vit")
  cfg.model.patch_size = 5
  with pytest.raises(UserError, match="patch_size=5 does not divide"):
    validate.config(cfg)  # before any image is rendered


def test_im2col_convolution_is_the_xla_convolution():
  import jax
  import jax.numpy as jnp

  from tailjax.models import vision

  x = jax.random.normal(jax.random.key(0), (2, 7, 6, 3))
  fast, ref = vision.CNN(10, 8, 2, "im2col"), vision.CNN(10, 8, 2, "xla")
  params = ref.init(jax.random.key(1), x)["params"]
  loss = lambda m: lambda p: jnp.sum(jnp.tanh(m.apply({"params": p}, x)))
  np.testing.assert_allclose(fast.apply({"params": params}, x), ref.apply({"params": params}, x), atol=1e-5)
  g_fast, g_ref = jax.grad(loss(fast))(params), jax.grad(loss(ref))(params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6), g_fast, g_ref)
