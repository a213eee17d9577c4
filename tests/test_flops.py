"""FLOPs per example of each task against XLA's own count of the compiled step."""

import jax
import pytest

from configs import base
from tailjax import flops, tasks


def _xla_over_ours(c, batch: int) -> float:
  """XLA's FLOP count of one lane's step (value and gradient of the task's loss on a batch) over the task's own."""
  task = tasks.build(c)
  params = task.init(jax.random.key(0))
  examples = task.sample(jax.device_put(task.train_data), jax.random.key(1), batch)
  cost = jax.jit(jax.value_and_grad(task.loss)).lower(params, examples).compile().cost_analysis()
  return (cost[0] if isinstance(cost, list) else cost)["flops"] / (task.flops_per_example * batch)


@pytest.mark.parametrize(
  "d, layers, seq_len, batch, attention",
  [(64, 2, 64, 8, "xla"), (128, 2, 128, 4, "xla"), (64, 2, 128, 4, "blocked")],
)
def test_the_transformer_step_count_matches_xla_within_its_elementwise_share(d, layers, seq_len, batch, attention):
  """XLA's count includes LayerNorm, GELU, softmax and the loss, which the matmul count leaves out: it must lie
  between 0.97× and 1.15× of ours (measured: 1.05× at d64, 1.03× at d128, 1.05× with blocked attention, whose
  skipped causal blocks are left out of both counts)."""
  c = base.get_config()
  c.data.name = "pydoc"
  c.model.d_model, c.model.n_layers, c.data.seq_len, c.model.attention = d, layers, seq_len, attention
  c.model.attention_block = 32
  ratio = _xla_over_ours(c, batch)
  assert 0.97 <= ratio <= 1.15, ratio


@pytest.mark.parametrize("arch", ["mlp", "cnn", "vit"])
def test_the_image_models_count_matches_xla(arch):
  """The Phase 3c models on 16×16 digits (width 32, depth 3, XLA's convolution): within the same band (measured
  1.06× for the MLP; the CNN's count leaves out the taps on the zero padding, as XLA's does)."""
  from configs import phase3c

  c = phase3c.get_config(arch)
  c.data.name, c.model.d_model, c.model.n_layers, c.model.conv = "digits", 32, 3, "xla"
  c.data.image_examples = 200
  ratio = _xla_over_ours(c, 8)
  assert 0.97 <= ratio <= 1.15, ratio


@pytest.mark.parametrize(
  "kind, peak",
  [("NVIDIA H100 80GB HBM3", 989e12), ("NVIDIA H100 PCIe", 756e12), ("NVIDIA H200", 989e12),
   ("NVIDIA GH200 480GB", 989e12), ("NVIDIA A100-SXM4-80GB", 312e12), ("NVIDIA L4", 121e12),
   ("NVIDIA L40S", 362e12), ("TPU v5 lite", 197e12),
   ("cpu", None), ("NVIDIA GeForce GTX 1080", None)],
)  # fmt: skip
def test_peaks_match_device_kinds_most_specific_first(kind, peak):
  assert flops.peak_flop_per_s(kind) == peak


def test_mfu_is_achieved_over_the_peak_of_every_device():
  assert flops.mfu(98.9e12, "NVIDIA H100 80GB HBM3") == pytest.approx(0.1)
  assert flops.mfu(98.9e12, "NVIDIA H100 80GB HBM3", devices=2) == pytest.approx(0.05)
  assert flops.mfu(1e12, "cpu") is None and flops.mfu(None, "NVIDIA H200") is None
