"""Phase 2's grid read the way the 2024–2026 literature reads it: at a fixed token budget, with Adam's β2
following the batch size, and at the study's fixed step count, from one run.

    python -m tailjax.main --config=configs/phase2_tokens.py --workdir=runs/p2_tokens

TinyShakespeare characters, d_model 64, 4 layers, T = 256, B 8 … 512, 7 LRs 3e-5 … 3e-2 (Phase 2's). Each batch size
trains to the longer of 5,000 steps (the study's budget) and 41M tokens (= 5,000 steps at B = 32) and is read at both:
scaling_fit.json and summary.txt give β at fixed steps and at fixed tokens side by side. The warmup is 819,200 tokens
(100 steps at B = 32) at every batch size; β2 keeps its half-life in tokens, β2(B) = 0.999^(B/32) (Marek et al.
2025: 0.998 at 64, 0.984 at 512, 0.9997 at 8). Evaluations every 250 steps and ten over the token budget give the
curves that steps_to_target.png and critical_batch.json read the critical batch size from.
"""

from configs import phase2


def get_config():
  c = phase2.get_config()
  c.train.budget = "both"
  c.train.tokens = 5_000 * 32 * 256  # 40,960,000: what Phase 2's B = 32 saw
  c.optim.warmup_steps = 0
  c.optim.warmup_tokens = 100 * 32 * 256  # Phase 2's 100 warmup steps at B = 32, in tokens
  c.optim.b2_rule = "half_life_tokens"
  c.optim.b2_batch = 32  # β2 = optim.b2 = 0.999 at B = 32
  c.eval.every = 250
  return c
