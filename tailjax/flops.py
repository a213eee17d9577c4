"""Achieved FLOP/s and MFU: the devices' peaks. Each task counts its own matmul FLOPs per example
(`Task.flops_per_example`, in its file under tailjax/tasks/), by one convention:

Counted are the matrix products, 2 FLOPs per multiply-add, forward and backward (backward = 2 × forward, the usual
6·N·tokens rule plus attention, less the input gradient of a first layer that reads the data): elementwise work
(LayerNorm, GELU, softmax, the optimizer) is left out, as MFU conventionally does. tests/test_flops.py checks the
count against XLA's own (`compiled.cost_analysis()`), which does include the elementwise work: XLA counts 1.03–1.06×
ours for the transformer and the image models at the tested shapes. Jax-free.
"""

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
