"""Every config file loads through the real flag machinery, accepts overrides, and passes validation."""

import pathlib

import pytest
from absl import flags
from ml_collections import config_flags

from tailjax import schedule, validate
from tests.conftest import REPO

CONFIGS = sorted((REPO / "configs").glob("*.py"))


def _parse(argv):
  """Parses argv with the same flag definition as tailjax.main (overrides are read from argv at definition)."""
  fv = flags.FlagValues()
  config_flags.DEFINE_config_file("config", None, "", flag_values=fv, lock_config=True, sys_argv=argv)
  fv(argv)
  return fv.config


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads_and_accepts_overrides(path: pathlib.Path):
  c = _parse(["prog", f"--config={path}", "--config.train.steps=7", "--config.sweep.learning_rates=(1e-3,3e-3)"])
  assert c.train.steps == 7 and tuple(c.sweep.learning_rates) == (1e-3, 3e-3)
  validate.config(c)


def test_mistyped_field_is_refused():
  with pytest.raises((AttributeError, KeyError), match="learning_rates"):
    _parse(["prog", f"--config={REPO / 'configs' / 'base.py'}", "--config.sweep.learning_ratez=1"])


def test_phase_configs_match_the_study():
  from configs import phase1_1, phase1_2, phase2, phase2_5, phase3a, phase3b

  p25 = phase2_5.get_config()
  assert (p25.model.d_model, p25.model.n_layers, p25.model.n_heads) == (128, 4, 4)
  assert p25.sweep.batch_sizes == (32, 64, 128, 256) and p25.train.steps == 10_000
  assert p25.sweep.learning_rates == (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
  assert (p25.optim.clip, p25.optim.warmup_steps, p25.data.name) == (1.0, 200, "wikitext2")
  p2 = phase2.get_config()
  assert (p2.model.d_model, p2.data.seq_len, p2.train.steps, p2.optim.weight_decay) == (64, 256, 5000, 0.01)
  assert p2.sweep.batch_sizes == (8, 16, 32, 64, 128, 256, 512) and len(p2.sweep.learning_rates) == 7
  p3a = phase3a.get_config()  # Phase 2.5 with automatic extension
  assert p3a.sweep.auto_extend and p3a.sweep.learning_rates == p25.sweep.learning_rates
  assert p3a.sweep.batch_sizes == p25.sweep.batch_sizes
  fixed = phase3a.get_config("fixed")  # the study's hand-extended grid
  assert fixed.sweep.batch_sizes == (128, 256) and fixed.sweep.learning_rates == (0.01, 0.02, 0.03, 0.05, 0.1)
  assert not fixed.sweep.auto_extend and fixed.train.steps == 5000
  p3b = phase3b.get_config()
  assert p3b.sweep.batch_sizes == (32, 256) and p3b.sweep.clips == (None, 1.0, 0.1, 0.01)
  p11 = phase1_1.get_config()
  assert (p11.model.name, p11.data.name, p11.sweep.batch_sizes, p11.sweep.clips) == (
    "ffn",
    "injected",
    (256,),
    (None, 1.0, 0.1),
  )
  assert schedule.measure_steps(p11)[:3] == [0, 100, 200] and p11.measure.k_ratios == (0.05, 0.1, 0.2)
  p12 = phase1_2.get_config()
  assert (p12.model.d_model, p12.model.n_layers, p12.data.name) == (128, 4, "random_tokens")
  assert schedule.measure_steps(p12) == [100, 1000, 10_000]
  p12.train.steps = 500  # shortened by an override: the late measurement moves to the end
  assert schedule.measure_steps(p12) == [100, 500]


def test_a_warmup_as_long_as_the_run_and_training_on_validation_data_are_caveats():
  from configs import phase2_5
  from tailjax.analysis import summary

  c = phase2_5.get_config()
  c.train.steps = 150  # shortened, warmup left at 200: the LR never reaches its nominal value
  fp = {"warning": "wiki.train.raw missing: TRAINING ON THE VALID SPLIT, evaluating on the test split"}
  notes = summary.caveats(c, fp)
  assert notes[0] == fp["warning"]
  assert (
    notes[1].startswith("optim.warmup_steps = 200 is not below train.steps = 150") and "warmup_steps=15)" in notes[1]
  )
  c.train.steps = 300
  assert "more than half of train.steps = 300" in summary.caveats(c, {})[0]
  c.train.steps = 10_000
  assert summary.caveats(c, {}) == []
