"""Phase 3c's image classifiers (MLP, CNN, ViT) on labelled images, cross-entropy in nats.

A batch is (x_BxHxWxC, y_B): images drawn uniformly with replacement on the device. Reference losses: ln C for C
classes (learned nothing) and the class-frequency entropy (learned the class balance only). A token budget counts
examples.
"""

MODELS = ("mlp", "cnn", "vit")
DATA = ("digits", "mnist", "cifar10")
WHAT = "the image models (mlp, cnn, vit) train on images"
UNIT = "examples"
CONFIG = "configs/phase3c.py"


def check_model(m) -> None:
  """The CNN's convolution kernel; the ViT's patch size and heads."""
  from tailjax import models, value_checks
  from tailjax.errors import UserError

  if m.name == "cnn":
    value_checks.choice("model.conv", m.conv, models.CONVS)
  if m.name == "vit":
    value_checks.integer("model.patch_size", m.patch_size)
    if m.n_heads <= 0 or m.d_model % m.n_heads:
      raise UserError(f"model.d_model={m.d_model} must be a positive multiple of model.n_heads={m.n_heads}")


def check(cfg) -> None:
  """The ViT's patches must tile the images."""
  from tailjax import data  # the image shapes (jax-free)
  from tailjax.errors import UserError

  side = data.IMAGE_SHAPES[cfg.data.name][0]
  if cfg.model.name == "vit" and side % cfg.model.patch_size:
    raise UserError(f"model.patch_size={cfg.model.patch_size} does not divide the {side}-pixel images of "
                    f"{cfg.data.name}; pick a divisor")  # fmt: skip


def forward_flops_per_example(cfg, n_classes: int) -> tuple[float, float]:
  """(forward matmul FLOPs per image, those of its first layer) for the Phase 3c models (models/vision.py): the MLP's
  layers; the CNN's 3×3 convolutions (2·9·C_in·C_out per output pixel less the taps on the padding, the image halved
  after each layer while larger than 4×4); the ViT's patch embedding, its blocks over N = HW/p² tokens (no causal
  mask, so every key) and the head. The first layer's input is the data, whose gradient backpropagation does not
  compute."""
  from tailjax import data  # the image shapes (jax-free)

  h, w, c = data.IMAGE_SHAPES[cfg.data.name]
  m = cfg.model
  d, depth = m.d_model, m.n_layers
  if m.name == "mlp":
    return 2 * (h * w * c * d + (depth - 1) * d * d + d * n_classes), 2 * h * w * c * d
  if m.name == "cnn":
    # a 3×3 'SAME' convolution multiplies (3h − 2)(3w − 2) valid (input, output) pixel pairs per channel pair, not 9hw:
    # the taps on the zero padding are no work (XLA's count leaves them out too)
    total, cin, first = 0.0, c, 2 * c * d * (3 * h - 2) * (3 * w - 2)
    for _ in range(depth):
      total += 2 * cin * d * (3 * h - 2) * (3 * w - 2)
      cin = d
      if h > 4:
        h, w = h // 2, w // 2
    return total + 2 * d * n_classes, first
  n = (h // m.patch_size) * (w // m.patch_size)
  block = 8 * d * d + 4 * m.mlp_ratio * d * d + 4 * n * d  # per token
  embed = 2 * m.patch_size**2 * c * d * n
  return embed + depth * block * n + 2 * d * n_classes, embed


def build(cfg):
  import jax.numpy as jnp
  import optax

  from tailjax import data
  from tailjax.data import images
  from tailjax.models import param_kinds, registry
  from tailjax.tasks import base

  imgs = images.load(cfg.data)
  model = registry.build(cfg.model, imgs.n_classes, cfg.data.seq_len)
  shape = data.IMAGE_SHAPES[cfg.data.name]

  def loss(params, batch):
    x, y_B = batch
    return optax.softmax_cross_entropy_with_integer_labels(model.apply({"params": params}, x), y_B).mean()

  total, first = forward_flops_per_example(cfg, imgs.n_classes)
  fp = imgs.fingerprint
  return base.Task(
    name=imgs.name,
    init=lambda key: model.init(key, jnp.zeros((1, *shape), jnp.float32))["params"],
    loss=loss,
    train_data=(imgs.train_x, imgs.train_y),
    val_data=(imgs.val_x, imgs.val_y),
    sample=images.sample_batch,
    chance_loss=fp["ln_vocab"],
    chance_name="ln C",
    chance_means=f"learned nothing: uniform over {imgs.n_classes} classes",
    references=(base.Reference("class entropy", fp["unigram_entropy"], "learned the class frequencies only"),),
    barely_learned="class entropy",
    loss_unit="nats",
    flops_per_example=3 * total - first,  # the weights' gradient everywhere, the inputs' after the first layer
    kind_fn=param_kinds.group_kind,
    gains=base.sown_gains(model) if cfg.model.name == "vit" else None,
    n_train=imgs.n_train,
    examples_name=f"training images of {imgs.name}",
    more_data="more data.image_examples",
    fingerprint=fp,
    describe=(
      f"data {fp['name']}: {imgs.n_classes} classes, ln C={fp['ln_vocab']:.3f}, class entropy="
      f"{fp['unigram_entropy']:.3f} nats, {fp['train_tokens']} train / {fp['val_tokens']} val images, "
      f"sha256 {fp['sha256']}"
    ),  # fmt: skip
    identity=base.config_identity("images", cfg, fp["sha256"]),
  )
