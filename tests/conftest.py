"""Shared helpers: tiny configs over configs/base.py, and a one-call row runner."""

import atexit
import gc
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

# Test programs are tiny, so XLA's CPU optimisation passes cost far more than they save: level 0 compiles 2.5x faster.
# Set before jax loads; CLI subprocesses inherit it. (Golden values are recorded under this setting.)
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# One persistent compilation cache for the session, shared with every CLI subprocess: the kill test alone starts seven
# processes that compile the same row program (measured: the CLI tests 64 s -> 50 s from a cold cache).
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _CACHE = tempfile.mkdtemp(prefix="tailjax-test-jit-")
  atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "-1"

import jax  # noqa: E402
import pytest  # noqa: E402

from configs import base  # noqa: E402
from tailjax import tasks  # noqa: E402
from tailjax.data import loader  # noqa: E402
from tailjax.tasks import base as task_base  # noqa: E402
from tailjax.training import engine  # noqa: E402
from tailjax.training.lane_grid import Lanes

REPO = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
  """Frees every compiled program after each test file. Each XLA CPU executable holds about nine memory mappings, and
  a process may hold 65,530 (Linux's vm.max_map_count): the whole suite in one process compiled past that and
  segfaulted inside XLA (measured: 64,915 mappings at the crash). A later file that needs a program again reads it
  from the session's persistent compilation cache."""
  yield
  jax.clear_caches()
  gc.collect()


def tiny_config():
  """A model and sweep small enough that a row of 20 steps runs in about a second on a CPU."""
  c = base.get_config()
  c.data.name = "pydoc"
  c.data.seq_len = 16
  c.model.d_model = 16
  c.model.n_layers = 1
  c.model.n_heads = 2
  c.optim.warmup_steps = 0
  c.optim.clip = 1.0
  c.train.steps = 20
  c.train.log_every = 5
  c.train.stats_window = 5
  c.eval.every = 10
  c.eval.batches = 2
  c.eval.batch_size = 4
  c.checkpoint.every = 0
  c.sweep.batch_sizes = (4,)
  c.sweep.learning_rates = (1e-3,)
  c.output.tensorboard = False
  c.output.plots = False
  c.measure.n_boot = 20  # the verdicts' bootstrap: enough resamples for an interval, few enough for a quick suite
  return c


_CORPORA, _TASKS = {}, {}


def corpus_of(cfg):
  key = (cfg.data.name, cfg.data.seq_len)
  if key not in _CORPORA:
    _CORPORA[key] = loader.load(cfg.data)
  return _CORPORA[key]


def task_of(cfg):
  """The built-in task of `cfg` (`tasks.build`), built once per model and data section."""
  key = task_base.config_identity("", cfg)
  if key not in _TASKS:
    _TASKS[key] = tasks.build(cfg)
  return _TASKS[key]


def run_row(cfg, table, steps, batch_size=4):
  """Trains the lanes of `table` for `steps` steps in one chunk; returns (metrics, val_loss_R, state)."""
  task = task_of(cfg)
  row = engine.Row.create(cfg, task, batch_size)
  lanes = Lanes.from_table(table)
  vb = task.validation_batches(cfg.eval.batches, cfg.eval.batch_size)
  state = row.init_state(lanes)
  state, metrics, val_R = row.run_chunk(state, lanes, jax.device_put(task.train_data), vb, steps)
  return jax.device_get(metrics), jax.device_get(val_R), state


def cli(*args, timeout=300, **popen):
  """Runs `python -m tailjax.main ARGS` from the repo root; returns the CompletedProcess."""
  env = dict(os.environ)
  return subprocess.run(
    [sys.executable, "-m", "tailjax.main", *args],
    cwd=REPO,
    env=env,
    capture_output=True,
    text=True,
    timeout=timeout,
    **popen,
  )


@pytest.fixture
def tiny():
  return tiny_config()


def layout_boxes(fig) -> list:
  """(name, window extent) of what a reader must be able to read beside the data: each axes' title, axis labels and
  tick labels, and each legend's frame (in the axes or the figure)."""
  fig.canvas.draw()
  out = []
  for n, ax in enumerate(fig.axes):
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    ticks = [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]  # labels of ticks in view
    ticks += [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ticks]
    out += [(f"axes {n}: {t.get_text()!r}", t.get_window_extent()) for t in texts if t.get_visible() and t.get_text()]
    if ax.get_legend() is not None:
      out.append((f"axes {n}: legend", ax.get_legend().get_window_extent()))
  out += [(f"figure legend {n}", leg.get_window_extent()) for n, leg in enumerate(fig.legends)]
  return out


def assert_readable(fig) -> None:
  """Every title, axis label, tick label and legend lies inside the figure and overlaps no other one."""
  boxes = layout_boxes(fig)
  frame = fig.bbox.padded(1)
  outside = [name for name, box in boxes if not (frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1))]
  assert not outside, f"outside the figure: {outside}"
  shrunk = [(name, box.padded(-1)) for name, box in boxes]  # touching edges is no overlap
  clashes = [(a, b) for i, (a, ba) in enumerate(shrunk) for b, bb in shrunk[i + 1 :] if ba.overlaps(bb)]
  assert not clashes, f"overlapping: {clashes[:5]}"
