"""Experiment 1.1: the FFN y = W_out relu(W_in x) trained by an injected upstream gradient (models/ffn.py).

There is no corpus: a batch is (x, z), x ~ N(0, I) and the upstream gradient z from data.upstream, drawn on the
device; the surrogate loss ⟨z, y(x)⟩ has no meaning as a loss, so there is no validation loss, no reference loss and
no optimum to bracket (the grid is never extended).
"""

MODELS = ("ffn",)
DATA = ("injected",)
WHAT = "the FFN of experiment 1.1 trains on injected gradients only"
UNIT = "examples"
CONFIG = "configs/phase1_1.py"


def check_model(m) -> None:
  """The hidden width's ratio."""
  from tailjax import value_checks

  value_checks.positive("model.mlp_ratio", m.mlp_ratio, "ratio")


def build(cfg):
  import jax
  import jax.numpy as jnp
  import numpy as np

  from tailjax.models import ffn, param_kinds, registry
  from tailjax.tasks import base

  d = cfg.model.d_model
  model = registry.build(cfg.model, 1, cfg.data.seq_len)
  one = ffn.injected_loss(model)
  hidden = int(cfg.model.mlp_ratio * d)
  fp = {
    "name": "injected", "source": "no corpus: x ~ N(0, I), upstream gradient injected", "sha256": None,
    "vocab_size": 1, "ln_vocab": 0.0, "unigram_entropy": 0.0, "train_tokens": 0, "val_tokens": 0,
    "note": "experiment 1.1: there is no loss to learn; training follows the injected gradient",
  }  # fmt: skip
  return base.Task(
    name="injected",
    init=lambda key: model.init(key, jnp.zeros((1, d), jnp.float32))["params"],
    loss=lambda params, batch: jax.vmap(one, in_axes=(None, 0))(params, batch).mean(),
    train_data=np.zeros((1,), np.float32),  # nothing: the sampler draws every example
    sample=lambda _, key, n: ffn.draw_example(key, d, cfg.data.upstream, n),
    chance_loss=None,
    loss_unit="the surrogate ⟨z, y⟩",
    flops_per_example=5 * 2 * d * hidden,  # two d × hidden products, backward without the input's gradient
    kind_fn=param_kinds.group_kind,
    validates=False,
    n_train=None,
    fingerprint=fp,
    describe=f"data injected: {fp['note']} (data.upstream = {cfg.data.upstream})",
    identity=base.config_identity("injected", cfg),
  )
