"""Matmul FLOPs of the study's models, from the config: each task's `flops_per_example` (tailjax/tasks/), from which
achieved FLOP/s and MFU are computed.

Counted are the matrix products, 2 FLOPs per multiply-add, forward and backward (backward = 2 × forward, the usual
6·N·tokens rule plus attention, less the input gradient of a first layer that reads the data): elementwise work
(LayerNorm, GELU, softmax, the optimizer) is left out, as MFU conventionally does. tests/test_flops.py checks the
count against XLA's own (`compiled.cost_analysis()`), which does include the elementwise work: XLA counts 1.03–1.06×
ours for the transformer and the image models at the tested shapes. Jax-free.
"""

import math


def transformer_forward_per_token(cfg, vocab_size: int) -> float:
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


def image_forward_per_example(cfg, n_classes: int) -> tuple[float, float]:
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


# Dense bf16 tensor-core peaks in FLOP/s, from the vendors' data sheets (the dense figure, not the 2:4-sparsity one),
# matched as substrings of `jax.Device.device_kind`, most specific first. MFU is the model's matmul FLOP/s over this
# peak, whatever dtype the run computes in (the convention of PaLM's MFU): a float32 run reports how far it is from
# what the chip could do in bf16. CPUs have no entry, so they get no MFU.
PEAK_BF16_DENSE = (
  ("GH200", 989e12),
  ("H200", 989e12),
  ("H100 PCIe", 756e12),
  ("H100 NVL", 835e12),
  ("H100", 989e12),
  ("B200", 2250e12),
  ("A100", 312e12),
  ("L40S", 362e12),
  ("L4", 121e12),
  ("TPU v4", 275e12),
  ("TPU v5 lite", 197e12),
  ("TPU v5p", 459e12),
  ("TPU v6 lite", 918e12),
)


def peak_flop_per_s(device_kind: str) -> float | None:
  """The bf16 dense peak of one device of this kind, or None when the kind is not in the table (every CPU)."""
  return next((peak for name, peak in PEAK_BF16_DENSE if name in device_kind), None)


def mfu(flop_per_s: float | None, device_kind: str, devices: int = 1) -> float | None:
  """Model FLOP utilisation: matmul FLOP/s over the bf16 dense peak of `devices` devices of this kind."""
  peak = peak_flop_per_s(device_kind)
  if flop_per_s is None or peak is None:
    return None
  return flop_per_s / (peak * devices)
