"""The whole command line against the study's PyTorch loop, as a user waits for them: A B A B ... wall times.

  python -m tailjax.bench.cli_vs_torch --torch_python=/path/to/venv-with-torch/bin/python [--pairs=3] [--steps=300]

A is `python -m tailjax.main` training one row of `--lrs` (quickstart config; d64, 4 blocks, 4 heads, T = 128,
B = 32 by default) with its evaluations, TensorBoard events, checkpoints, summary and plots, in a fresh workdir and
with a fresh compilation cache (what a first run of a new shape pays), or with `--warm_cache` one cache filled by an
untimed run first (what a rerun pays: other learning rates, seeds or lengths reuse the programs, since lanes are
arguments). B is `launch/torch_reference.py` training the
same model, AdamW + clip_grad_norm_, one learning rate after another, for the same steps. The two alternate so that a
slow stretch of a shared machine hits both; the ratio is torch's wall time over tailjax's (> 1 = tailjax faster).

For each tailjax run the log is split into phases: start-up (imports, data) until the row starts, the first chunk
(its compile and first steps), the remaining chunks, and the end (summary, plots) until the process exits.
"""

import datetime
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

_PAIRS = flags.DEFINE_integer("pairs", 3, "A B pairs")
_STEPS = flags.DEFINE_integer("steps", 300, "steps per learning rate")
_LRS = flags.DEFINE_list("lrs", ["1e-4", "3e-4", "1e-3", "3e-3", "1e-2"], "the row's learning rates")
_TORCH = flags.DEFINE_string("torch_python", "", "a python with torch installed; '' = skip the torch side")
_SHAPE = flags.DEFINE_string("shape", "d64_l4_h4_t128_b32", "d{D}_l{layers}_h{heads}_t{T}_b{B}")
_WARM = flags.DEFINE_bool(
  "warm_cache",
  False,
  "share one compilation cache, filled by an untimed first run: a rerun of the shape (other "
  "learning rates, seeds or steps compile the same programs); default: a fresh cache per run, as a first run pays",
)
_EXTRA = flags.DEFINE_list(
  "overrides", [], "more --config.FIELD=VALUE for the tailjax side, e.g. output.tensorboard=False"
)

REPO = pathlib.Path(__file__).resolve().parents[2]


def _shape() -> dict:
  d, layers, heads, t, b = (int(v[1:]) for v in _SHAPE.value.split("_"))
  return {"d": d, "layers": layers, "heads": heads, "t": t, "b": b}


def tailjax_command(workdir: str) -> list[str]:
  s = _shape()
  overrides = {
    "model.d_model": s["d"],
    "model.n_layers": s["layers"],
    "model.n_heads": s["heads"],
    "data.seq_len": s["t"],
    "sweep.batch_sizes": f"({s['b']},)",
    "train.steps": _STEPS.value,
    "sweep.learning_rates": "(" + ",".join(_LRS.value) + ",)",
  }
  extra = dict(o.split("=", 1) for o in _EXTRA.value)
  args = [f"--config.{k}={v}" for k, v in (overrides | extra).items()]
  return [sys.executable, "-m", "tailjax.main", "--config=configs/quickstart.py", f"--workdir={workdir}", *args]


def torch_command() -> list[str]:
  s = _shape()
  return [_TORCH.value, str(REPO / "launch" / "torch_reference.py"), f"--d_model={s['d']}", f"--layers={s['layers']}",
          f"--heads={s['heads']}", f"--seq_len={s['t']}", f"--batch={s['b']}", f"--lanes={len(_LRS.value)}",
          f"--steps={_STEPS.value}"]  # fmt: skip


def _stamp(line: str, day: datetime.date) -> float | None:
  """Seconds since the epoch of an absl log line (I1202 05:30:04.404182 ...)."""
  m = re.match(r"^[IWE](\d\d)(\d\d) (\d\d):(\d\d):(\d\d\.\d+)", line)
  if not m:
    return None
  mo, dd, hh, mi, ss = m.groups()
  t = datetime.datetime(day.year, int(mo), int(dd), int(hh), int(mi), tzinfo=datetime.UTC)
  return t.timestamp() + float(ss)


def phases(log: str, t_start: float, t_end: float) -> dict:
  """Start-up, first chunk, the other chunks and the end of one tailjax run, from its log's time stamps."""
  day = datetime.datetime.fromtimestamp(t_start, datetime.UTC).date()
  row_start, chunks, results = None, [], None
  for line in log.splitlines():
    t = _stamp(line, day)
    if t is None:
      continue
    if row_start is None and re.search(r"B\d+: \d+ lanes \(", line):
      row_start = t
    elif re.search(r"B\d+ step \d+/\d+", line):
      chunks.append(t)
    elif "results in" in line:
      results = t
  if row_start is None or not chunks:
    return {}
  return {
    "start-up": row_start - t_start,
    "first chunk": chunks[0] - row_start,
    "other chunks": chunks[-1] - chunks[0],
    "end": t_end - chunks[-1],
    "of which summary": (results or t_end) - chunks[-1],
  }


def _run(cmd, *, cwd, env=None) -> tuple[float, float, float, str]:
  t0 = time.time()
  p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
  t1 = time.time()
  if p.returncode:
    sys.exit(f"{cmd[:3]} failed ({p.returncode}):\n{p.stderr[-3000:]}")
  return t0, t1, t1 - t0, p.stdout + p.stderr


def main(argv):
  del argv
  import os

  cache = "one warm compilation cache" if _WARM.value else "a fresh compilation cache per run"
  print(f"shape {_SHAPE.value}, {len(_LRS.value)} LRs × {_STEPS.value} steps, {os.cpu_count()} CPUs, {cache}")
  print("tailjax: " + " ".join(tailjax_command("WORKDIR")[1:]))
  if _TORCH.value:
    print("torch:   " + " ".join(torch_command()[1:]))
  ours, theirs, parts = [], [], []
  shared = tempfile.mkdtemp(prefix="tailjax-xla-")
  if _WARM.value:
    with tempfile.TemporaryDirectory() as tmp:
      env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=shared)
      *_, wall, _ = _run(tailjax_command(str(pathlib.Path(tmp) / "run")), cwd=REPO, env=env)
    print(f"untimed run filling the compilation cache: {wall:.1f} s")
  for pair in range(_PAIRS.value):
    with tempfile.TemporaryDirectory() as tmp:
      cache = shared if _WARM.value else str(pathlib.Path(tmp) / "xla")
      env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=cache)
      t0, t1, wall, log = _run(tailjax_command(str(pathlib.Path(tmp) / "run")), cwd=REPO, env=env)
    ours.append(wall)
    parts.append(phases(log, t0, t1))
    speed = re.findall(r"after the first chunk in [^:]*: ([\d.]+) model-steps/s", log)
    line = f"pair {pair + 1}: tailjax {wall:6.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in parts[-1].items())}"
    line += f"; {speed[-1]} model-steps/s after the first chunk)" if speed else ")"
    if _TORCH.value:
      *_, twall, tlog = _run(torch_command(), cwd=REPO)
      theirs.append(twall)
      rate = re.findall(r"([\d.]+) model-steps/s", tlog)
      line += f"   torch {twall:6.1f} s ({rate[-1] if rate else '?'} model-steps/s)   ratio {twall / wall:.2f}×"
    print(line, flush=True)
  print(f"tailjax wall: median {statistics.median(ours):.1f} s (min {min(ours):.1f}, max {max(ours):.1f})")
  if theirs:
    ratios = [b / a for a, b in zip(ours, theirs, strict=True)]
    print(f"torch wall:   median {statistics.median(theirs):.1f} s (min {min(theirs):.1f}, max {max(theirs):.1f})")
    print(
      f"ratio torch/tailjax per pair: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}×"
    )
  for k in parts[0]:
    print(f"  tailjax {k}: median {statistics.median(p.get(k, float('nan')) for p in parts):.1f} s")
  shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
  app.run(main)
