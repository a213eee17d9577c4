"""PyTorch eager reference for BENCHMARKS.md: the same NanoTransformer, AdamW + clip, trained one LR after another.

Not part of tailjax and not in requirements.txt: run it in any environment that has torch (CPU build is enough).

    python launch/torch_reference.py --d_model=64 --seq_len=128 --lanes=5 --steps=30

Prints model-steps/s and tokens/s, the numbers `python -m tailjax.bench` is compared with.
"""

import argparse
import os
import pathlib
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
  def __init__(self, d, h):
    super().__init__()
    self.h = h
    self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
    self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
    self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

  def forward(self, x):
    B, T, D = x.shape
    q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.h, D // self.h).permute(2, 0, 3, 1, 4)
    a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, D)
    x = x + self.out(a)
    return x + self.proj(F.gelu(self.fc(self.ln2(x))))


class NanoTransformer(nn.Module):
  def __init__(self, vocab, seq_len, d, layers, heads):
    super().__init__()
    self.embed, self.pos = nn.Embedding(vocab, d), nn.Parameter(torch.randn(seq_len, d) * 0.02)
    self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
    self.ln_f, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

  def forward(self, x):
    h = self.embed(x) + self.pos[: x.shape[1]]
    for b in self.blocks:
      h = b(h)
    return self.head(self.ln_f(h))


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--d_model", type=int, default=64)
  p.add_argument("--layers", type=int, default=4)
  p.add_argument("--heads", type=int, default=4)
  p.add_argument("--seq_len", type=int, default=128)
  p.add_argument("--batch", type=int, default=32)
  p.add_argument("--lanes", type=int, default=5)
  p.add_argument("--steps", type=int, default=30)
  a = p.parse_args()
  data = pathlib.Path(os.environ.get("TAILJAX_DATA_DIR") or pathlib.Path(__file__).resolve().parents[2] / "shared/data")
  text = (data / "tinyshakespeare/input.txt").read_text()
  chars = sorted(set(text))
  tokens = torch.tensor(np.array([chars.index(c) for c in text[:200_000]]), dtype=torch.long)
  total_steps, t0 = 0, None
  for lane in range(a.lanes):  # one LR after another, as a user without tailjax would run them
    torch.manual_seed(0)
    model = NanoTransformer(len(chars), a.seq_len, a.d_model, a.layers, a.heads)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4 * 3**lane, weight_decay=0.01)
    for step in range(a.steps):  # the first 3 steps of the first LR warm up and are not timed
      if lane == 0 and step == 3:
        t0 = time.perf_counter()  # after warm-up
      starts = torch.randint(0, len(tokens) - a.seq_len - 1, (a.batch,))
      win = torch.stack([tokens[s : s + a.seq_len + 1] for s in starts])
      loss = F.cross_entropy(model(win[:, :-1]).flatten(0, 1), win[:, 1:].flatten())
      opt.zero_grad(set_to_none=True)
      loss.backward()
      torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
      opt.step()
      total_steps += lane > 0 or step >= 3
  seconds = time.perf_counter() - t0
  msps = total_steps / seconds
  print(
    f"torch {torch.__version__} eager, {torch.get_num_threads()} threads: d{a.d_model} L{a.layers} H{a.heads} "
    f"B{a.batch} T{a.seq_len}: {msps:.2f} model-steps/s, {msps * a.batch * a.seq_len:.0f} tokens/s"
  )


if __name__ == "__main__":
  main()
