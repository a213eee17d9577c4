"""The study's language model: the NanoTransformer on a character corpus, next-token cross-entropy in nats.

A batch is (x_BxT, y_BxT): windows of T + 1 tokens drawn on the device from the training split, inputs and targets.
Reference losses: ln V (learned nothing) and the training split's unigram entropy (learned the token frequencies
only). A token budget counts T tokens per example.
"""

import math

MODELS = ("transformer",)
DATA = ("pydoc", "tinyshakespeare", "wikitext2", "random_tokens")
WHAT = "the transformer trains on text"
UNIT = "tokens"  # what a token budget counts
CONFIG = "configs/quickstart.py"


def check_model(m) -> None:
  """The transformer's own fields: heads that divide the width, its dtype, attention and matmul kernels."""
  from tailjax import models, value_checks
  from tailjax.errors import UserError

  if m.n_heads <= 0 or m.d_model % m.n_heads:
    raise UserError(f"model.d_model={m.d_model} must be a positive multiple of model.n_heads={m.n_heads}")
  value_checks.choice("model.dtype", m.dtype, models.DTYPES)
  value_checks.choice("model.attention", m.attention, models.ATTENTION)
  value_checks.choice("model.matmul", m.matmul, models.MATMULS)


def tokens_per_example(cfg) -> int:
  return cfg.data.seq_len


def forward_flops_per_token(cfg, vocab_size: int) -> float:
  """Forward matmul FLOPs per token of the NanoTransformer: per block q/k/v and output projections (8D²), the MLP
  (4·r·D²), and attention's scores and weighted sum (4·T·D over the keys computed: every key with XLA's dense
  attention, the causal blocks only with the blocked one); then the output head (2·D·V)."""
  m, t = cfg.model, cfg.data.seq_len
  d = m.d_model
  keys = t
  if m.attention == "blocked":  # query blocks attend to keys up to their own block's end
    nb = math.ceil(t / min(m.attention_block, t))
    keys = t * (nb + 1) / (2 * nb)
  per_block = 8 * d * d + 4 * m.mlp_ratio * d * d + 4 * keys * d
  return m.n_layers * per_block + 2 * d * vocab_size


def build(cfg):
  import jax.numpy as jnp
  import optax

  from tailjax.data import loader, text
  from tailjax.models import param_kinds, registry
  from tailjax.tasks import base

  corpus = loader.load(cfg.data)
  seq_len = cfg.data.seq_len
  model = registry.build(cfg.model, corpus.vocab_size, seq_len)

  def loss(params, batch):
    x_BxT, y_BxT = batch
    logits_BxTxV = model.apply({"params": params}, x_BxT)
    return optax.softmax_cross_entropy_with_integer_labels(logits_BxTxV, y_BxT).mean()

  fp = corpus.fingerprint
  return base.Task(
    name=corpus.name,
    init=lambda key: model.init(key, jnp.zeros((1, seq_len), jnp.int32))["params"],
    loss=loss,
    train_data=corpus.train_T,
    sample=lambda tokens_N, key, n: text.sample_windows(tokens_N, key, n, seq_len),
    val_batches=lambda n_batches, batch_size: text.eval_windows(corpus.val_T, n_batches, batch_size, seq_len),
    chance_loss=fp["ln_vocab"],
    chance_name="ln V",
    references=(base.Reference("unigram entropy", fp["unigram_entropy"], "learned the token frequencies only"),),
    barely_learned="unigram entropy",
    loss_unit="nats",
    tokens_per_example=seq_len,
    example_unit="tokens",
    flops_per_example=3 * forward_flops_per_token(cfg, corpus.vocab_size) * seq_len,
    kind_fn=param_kinds.group_kind,
    gains=base.sown_gains(model),
    n_train=len(corpus.train_T) - seq_len,
    examples_name=f"distinct windows of length {seq_len} in the training split of {corpus.name}",
    more_data="smaller data.seq_len, or more data",
    fingerprint=fp,
    describe=(
      f"data {fp['name']}: V={fp['vocab_size']}, ln V={fp['ln_vocab']:.3f}, unigram entropy="
      f"{fp['unigram_entropy']:.3f} nats, {fp['train_tokens']} train / {fp['val_tokens']} val tokens, "
      f"sha256 {fp['sha256']}"
    ),
    identity=base.config_identity("text", cfg, fp["sha256"]),
  )
