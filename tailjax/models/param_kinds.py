"""The one place that knows parameter names: a tensor's group name, its kind, and which tensors are embeddings or the
output head. The noise measurement pools by kind, the weight-norm fit reports per kind, and Muon leaves embeddings,
the head and vectors to its AdamW part: all three read it here. Pure Python.
"""

EMBEDDINGS = ("embed", "pos_embed", "patch_embed")  # top-level module names of the models' embeddings
HEAD = "head"  # the output layer of every model
STUDY_KINDS = ("vector", "attention", "ffn", "conv", "embedding", "head")  # what `group_kind` returns by name


def group_name(path) -> str:
  """'block_0/attn/qkv' for the leaf at ('params', 'block_0', 'attn', 'qkv') (jax key paths or plain strings)."""
  keys = [str(getattr(p, "key", getattr(p, "name", p))) for p in path]
  return "/".join(k for k in keys if k != "params")


def is_embedding_or_head(top: str) -> bool:
  """Whether the tensors under top-level module `top` are an embedding or the output head."""
  return top in EMBEDDINGS or top == HEAD


def group_kind(name: str, ndim: int) -> str:
  """The study's parameter groups: attention, ffn, vector (≤1-D: biases, norms), conv, embedding, head, or the
  tensor's own name (the Phase 1.1 FFN's W_in, W_out)."""
  if ndim <= 1:
    return "vector"
  parts = name.split("/")
  if "attn" in parts:
    return "attention"
  if "mlp" in parts or parts[0].startswith("mlp_"):  # the transformer's block MLPs; the image MLP's layers
    return "ffn"
  if parts[0].startswith("conv_"):
    return "conv"
  if parts[0] in EMBEDDINGS:
    return "embedding"
  if parts[0] == HEAD:
    return "head"
  return parts[-1]
