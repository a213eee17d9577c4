"""Training budgets and β2 with batch size: each row's steps follow its budget, a row read at S steps
inside a longer run is the run of S steps, β2 per lane follows its rule and reaches the optimizer, and a shortened
Phase 2 run at both budgets writes both fits."""

import csv
import json
import re

import numpy as np
import pytest

from tailjax import schedule, validate
from tailjax.errors import UserError
from tailjax.training import row_loop
from tailjax.training.lane_grid import lane_table
from tests.conftest import run_row


def tokens_config(tiny, kind="tokens"):
  c = tiny
  c.train.budget = kind
  c.train.tokens = 16 * 4 * 40  # T = 16: B = 4 trains 40 steps, B = 8 20, B = 16 10
  c.sweep.batch_sizes = (4, 8, 16)
  return c


def test_steps_per_row_follow_the_budget_exactly(tiny):
  c = tokens_config(tiny)
  for b, steps in ((4, 40), (8, 20), (16, 10)):
    p = schedule.plan(c, b)
    assert p.steps == steps == p.readouts["tokens"] and p.tokens(p.steps) == c.train.tokens
    assert p.eval_steps[-1] == steps and len(p.eval_steps) == 10  # ten evaluations over the budget by default
    assert schedule.row_config(c, b).train.steps == steps
  c.train.tokens = 16 * 4 * 40 + 63  # not a whole number of B = 4 steps: floor, never past the budget
  assert schedule.plan(c, 4).steps == 40
  c.train.budget, c.train.steps = "both", 25  # trains to the longer, read at both
  p = schedule.plan(c, 4)
  assert p.steps == 40 and p.readouts == {"steps": 25, "tokens": 40} and {25, 40} <= set(p.eval_steps)
  assert schedule.plan(c, 16).steps == 25 and schedule.plan(c, 16).readouts["tokens"] == 10
  c.optim.warmup_tokens = 16 * 8 * 5  # the warmup in tokens: 10 steps at B = 4, 5 at 8, 2.5 → 2 at 16 (nearest)
  assert [schedule.plan(c, b).warmup_steps for b in (4, 8, 16)] == [10, 5, 2]
  assert schedule.row_config(c, 4).optim.warmup_steps == 10 and c.optim.warmup_tokens == 640  # the original untouched


def test_a_row_read_inside_a_longer_run_is_the_run_of_that_length(tiny):
  """What makes train.budget=both one run: under a constant schedule the first S steps of a longer run compute what
  a run of S steps computes (batches keyed by (seed, step))."""
  table = lane_table((1e-3, 3e-3), (1.0,), 0.0, (0,))
  short_m, short_val, _ = run_row(tiny, table, 6)
  c = schedule.row_config(tokens_config(tiny, "both"), 4)  # trains 40 steps, of which we compare the first 6
  long_m, _, _ = run_row(c, table, 12)
  np.testing.assert_array_equal(long_m["loss"][:6], short_m["loss"])
  assert not np.array_equal(long_m["loss"][6:], long_m["loss"][:6])


def test_b2_per_lane_follows_its_rule_and_reaches_the_optimizer(tiny):
  c = tiny
  c.sweep.batch_sizes = (4, 8, 32)
  c.sweep.b2s = (0.99, 0.999)
  c.optim.b2_rule = "half_life_tokens"
  for b in c.sweep.batch_sizes:
    table, labels = row_loop.row_lanes(c, (1e-3,), b)
    assert [lane["b2"] for lane in table] == pytest.approx([0.99 ** (b / 4), 0.999 ** (b / 4)])  # b2_batch 0: B = 4
    assert [lane["b2_ref"] for lane in table] == [0.99, 0.999] and labels[1].endswith("b2=0.999")
  half_life = [b * np.log(0.5) / np.log(lane["b2"]) for b in (4, 32) for lane in row_loop.row_lanes(c, (1e-3,), b)[0]]
  assert half_life[0] == pytest.approx(half_life[2]) and half_life[1] == pytest.approx(half_life[3])  # in tokens
  c.optim.b2_rule, c.optim.b2_batch = "fixed", 0
  assert [lane["b2"] for lane in row_loop.row_lanes(c, (1e-3,), 32)[0]] == [0.99, 0.999]
  # a lane's β2 is what the optimizer uses: a lane at β2 = 0.9 is the run whose config says 0.9, and not the default's
  lane_b2, _, _ = run_row(tiny, lane_table((3e-3,), (1.0,), 0.0, (0,), ((0.9, 0.9),)), 8)
  tiny.optim.b2 = 0.9
  cfg_b2, _, _ = run_row(tiny, lane_table((3e-3,), (1.0,), 0.0, (0,)), 8)
  tiny.optim.b2 = 0.999
  default, _, _ = run_row(tiny, lane_table((3e-3,), (1.0,), 0.0, (0,)), 8)
  np.testing.assert_allclose(lane_b2["loss"], cfg_b2["loss"], rtol=1e-6)
  assert not np.allclose(lane_b2["loss"][2:], default["loss"][2:], rtol=1e-4)


@pytest.mark.parametrize(
  "overrides, message",
  [
    ({"train.budget": "tokens"}, "needs train.tokens"),
    ({"train.budget": "tokens", "train.tokens": 10_000, "optim.warmup_steps": 10}, "takes its warmup in tokens"),
    ({"train.budget": "tokens", "train.tokens": 50}, "less than one step of the largest batch"),
    ({"train.budget": "both", "train.tokens": 10_000, "optim.schedule": "cosine"}, "a cosine schedule's shape"),
    ({"optim.warmup_tokens": 100, "optim.warmup_steps": 10}, "both set a warmup"),
    ({"train.budget": "token"}, "did you mean --config.train.budget=tokens"),
    ({"optim.name": "sgd", "sweep.b2s": (0.9, 0.99)}, "which optim.name='sgd' does not have"),
    ({"optim.b2_rule": "half_life"}, "did you mean --config.optim.b2_rule=half_life_tokens"),
    ({"sweep.b2s": (0.9, 1.0)}, "sweep.b2s must lie in [0, 1)"),
    ({"analysis.target_losses": (2.0, -1.0)}, "analysis.target_losses must be losses > 0"),
  ],
)
def test_bad_budget_and_b2_settings_are_one_clear_message(tiny, overrides, message):
  for key, value in overrides.items():
    section, name = key.split(".")
    tiny[section][name] = value
  with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
    validate.config(tiny)


def test_a_shortened_phase2_at_both_budgets_writes_both_fits(tmp_path):
  from configs import phase2_tokens
  from tailjax import experiment

  c = phase2_tokens.get_config()
  c.data.seq_len, c.model.d_model, c.model.n_layers, c.model.n_heads = 16, 16, 1, 2
  c.sweep.batch_sizes, c.sweep.learning_rates = (4, 8, 16), (1e-3, 1e-2, 1e-1)
  c.train.steps, c.train.tokens, c.optim.warmup_tokens = 20, 16 * 4 * 40, 16 * 8 * 2
  c.eval.every, c.eval.every_tokens, c.eval.batches, c.eval.batch_size, c.checkpoint.every = 2, 128, 2, 4, 0
  c.optim.b2_batch = 8
  c.output.tensorboard = False
  experiment.run(c, tmp_path / "p2")
  rows = list(csv.DictReader(open(tmp_path / "p2" / "results.csv")))
  assert len(rows) == 3 * 3 * 2  # lanes × batch sizes × budgets
  for r in rows:
    b, steps = int(r["batch_size"]), int(r["steps"])
    assert steps == (20 if r["budget"] == "steps" else 2560 // (b * 16)) and int(r["tokens"]) == steps * b * 16
    assert float(r["b2"]) == pytest.approx(0.999 ** (b / 8)) and float(r["b2_ref"]) == 0.999
  fit = json.loads((tmp_path / "p2" / "scaling_fit.json").read_text())
  assert fit["budget"] == "steps" and set(fit["by_budget"]) == {"steps", "tokens"}
  assert fit["by_budget"]["tokens"]["budget"] == "tokens"
  summary = (tmp_path / "p2" / "summary.txt").read_text()
  assert "β at each budget" in summary and "protocol: fixed steps" in summary
  assert re.search(r"at fixed steps: +(β =|no fit)", summary) and re.search(r"at fixed tokens: +(β =|no fit)", summary)
  assert "critical batch size" in summary
  for name in ("lr_vs_batch.png", "lr_vs_batch_tokens.png", "critical_batch.json"):
    assert (tmp_path / "p2" / name).exists(), name
  b4 = json.loads((tmp_path / "p2" / "rows" / "B4.json").read_text())
  assert len(b4["val_loss"]) >= 12  # both grids' evaluations
  speed = b4["throughput"]  # the row's throughput after its first chunk, with matmul FLOP/s
  assert speed["model_steps_per_s"] > 0 and speed["steps"] > 0
  assert speed["tokens_per_s"] == pytest.approx(speed["model_steps_per_s"] * 4 * 16)
  assert speed["flop_per_s"] == pytest.approx(speed["model_steps_per_s"] * speed["flops_per_step"])
  assert speed["device_kind"] == "cpu" and speed["mfu"] is None and speed["peak_flop_per_s"] is None  # no CPU peak
  kept = json.loads((tmp_path / "p2" / "throughput.json").read_text())
  assert set(kept) == {"B4", "B8", "B16"} and kept["B4"]["model_steps_per_s"] == speed["model_steps_per_s"]
