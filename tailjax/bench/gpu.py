"""The GPU check (`launch/gpu_check.sh` runs it): how well a row of Phase 2.5 lanes uses one device, and how long
Phase 2.5's whole grid would take on it.

  python -m tailjax.bench.gpu [--budget_s=480] [--out=gpu_check.json]   # on a GPU (or TPU)
  python -m tailjax.bench.gpu --cpu                                     # the same script on a CPU, shrunk

1. The Phase 2.5 shape (d128, 4 blocks, 4 heads, T = 256) as a row of 5 LR lanes at B = 32 and B = 256, for each lane
   strategy (map, vmap), compute dtype (float32, bfloat16) and attention (xla, cudnn): model-steps/s, tokens/s,
   matmul FLOP/s (tailjax.flops) and MFU against the device's bf16 dense peak, and the compile time of each program.
2. Phase 2.5's grid (B 32, 64, 128, 256; 5 LRs; configs/phase2_5.py), one chunk of eval.every = 500 steps per row
   with its evaluation, in the fastest float32 setting of step 1, each row's compile timed apart; the full grid's wall
   time is extrapolated as Σ_B (compile + chunks × seconds per chunk).

The data are Python's pydoc texts (no download; the corpus does not change the speed of a step). Timings run compiled
chunks after one warm-up chunk. Settings are timed in order of interest and the script stops starting new ones when
`--budget_s` would be exceeded, listing what it skipped. Everything printed is also written as one JSON file
(`$OUT/gpu_check.json` when $OUT is set).
"""

import json
import os
import pathlib
import platform
import time

import jax
from absl import app, flags

from configs import phase2_5
from tailjax import flops, tasks
from tailjax.training import engine
from tailjax.training.lane_grid import Lanes, lane_table

_CPU = flags.DEFINE_bool("cpu", False, "run on the CPU with a shrunk model and few steps (exercises the script)")
_BUDGET = flags.DEFINE_float("budget_s", 480.0, "stop starting new timings after this many seconds")
_STEPS = flags.DEFINE_integer("steps", 50, "steps per timed chunk (step 1)")
_OUT = flags.DEFINE_string("out", "", "where the JSON goes; default $OUT/gpu_check.json, else ./gpu_check.json")


def _config(*, strategy="auto", dtype="float32", attention="auto"):
  c = phase2_5.get_config()
  c.data.name = "pydoc"
  c.model.dtype, c.model.attention, c.sweep.lane_strategy = dtype, attention, strategy
  c.eval.batches, c.eval.batch_size = 1, 1  # step 1 keeps evaluation out of the timing
  if _CPU.value:
    c.model.d_model, c.model.n_layers, c.data.seq_len = 32, 1, 32
  return c


def _time_row(cfg, task, batch_size: int, steps: int, *, eval_batches=None) -> dict:
  """Compile seconds and seconds per step of a row of the config's learning rates at `batch_size`."""
  row = engine.Row.create(cfg, task, batch_size)
  lanes = row.shard(Lanes.from_table(lane_table(cfg.sweep.learning_rates, (cfg.optim.clip,), 0.01, (0,))))
  train = row.replicate(task.train_data)
  vb = row.replicate(eval_batches or task.validation_batches(1, 1))
  t = time.perf_counter()
  state = row.init_state(lanes)
  row.compile_chunk(lanes, train, vb, steps)
  compile_s = time.perf_counter() - t
  state, _, val = row.run_chunk(state, lanes, train, vb, steps)  # warm-up: the first run after a compile
  jax.block_until_ready(val)
  t = time.perf_counter()
  state, _, val = row.run_chunk(state, lanes, train, vb, steps)
  jax.block_until_ready(val)
  step_s = (time.perf_counter() - t) / steps
  return {"row": row, "lanes": len(cfg.sweep.learning_rates), "compile_s": compile_s, "step_s": step_s}


def _speed(cfg, task, batch_size: int, timed: dict) -> dict:
  n = timed["lanes"]
  msps = n / timed["step_s"]
  per_step = task.flops_per_example * batch_size
  kind = jax.devices()[0].device_kind
  return {
    "batch_size": batch_size,
    "strategy": timed["row"].strategy,
    "dtype": cfg.model.dtype,
    "attention": cfg.model.attention,
    "lanes": n,
    "compile_s": round(timed["compile_s"], 2),
    "model_steps_per_s": msps,
    "tokens_per_s": msps * batch_size * cfg.data.seq_len,
    "flop_per_s": msps * per_step,
    "mfu": flops.mfu(msps * per_step, kind),
  }


def main(argv):
  del argv
  t_start = time.perf_counter()
  left = lambda: _BUDGET.value - (time.perf_counter() - t_start)
  dev = jax.devices()[0]
  report = {
    "device_kind": dev.device_kind,
    "backend": jax.default_backend(),
    "devices": jax.device_count(),
    "jax": jax.__version__,
    "python": platform.python_version(),
    "peak_bf16_dense_flop_per_s": flops.peak_flop_per_s(dev.device_kind),
    "cpu_mode": _CPU.value,
    "settings": [],
    "skipped": [],
  }
  print(f"{dev.device_kind} ({jax.default_backend()}, {jax.device_count()} device(s)), jax {jax.__version__}; "
        f"bf16 dense peak {report['peak_bf16_dense_flop_per_s'] or 'unknown'}")  # fmt: skip
  steps = 4 if _CPU.value else _STEPS.value
  attentions = ("xla",) if _CPU.value or jax.default_backend() != "gpu" else ("xla", "cudnn")
  grid = [(b, s, d, a) for b in (32, 256) for s in ("vmap", "map") for d in ("bfloat16", "float32") for a in attentions]
  if _CPU.value:
    grid = [(b, s, d, a) for b, s, d, a in grid if b == 32 or (s, d) == ("map", "float32")]
  print(f"{'B':>4} {'strategy':>8} {'dtype':>9} {'attention':>9} {'compile s':>9} {'model-steps/s':>13} "
        f"{'tokens/s':>10} {'FLOP/s':>9} {'MFU':>6}")  # fmt: skip
  if _CPU.value:
    print("(--cpu: a shrunk model, d32, 1 block, T = 32, and B = 32 and 256 both run at B = 8)")
  for b, strategy, dtype, attention in grid:
    if left() < 0.45 * _BUDGET.value:  # the rest is the grid's
      report["skipped"].append({"batch_size": b, "strategy": strategy, "dtype": dtype, "attention": attention})
      continue
    cfg = _config(strategy=strategy, dtype=dtype, attention=attention)
    bb = min(b, 8) if _CPU.value else b
    try:
      setting = tasks.build(cfg)
      r = _speed(cfg, setting, bb, _time_row(cfg, setting, bb, steps))
    except Exception as e:  # noqa: BLE001 - e.g. cuDNN attention refusing a shape: recorded, and the rest goes on
      r = {"batch_size": bb, "strategy": strategy, "dtype": dtype, "attention": attention,
           "error": f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"}  # fmt: skip
      print(f"{bb:>4} {strategy:>8} {dtype:>9} {attention:>9}  failed: {r['error']}")
      report["settings"].append(r)
      continue
    report["settings"].append(r)
    mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "-"
    print(f"{bb:>4} {strategy:>8} {dtype:>9} {attention:>9} {r['compile_s']:>9.1f} {r['model_steps_per_s']:>13.2f} "
          f"{r['tokens_per_s']:>10.3g} {r['flop_per_s']:>9.3g} {mfu:>6}", flush=True)  # fmt: skip
  report["grid"] = _grid(report, left)
  out = pathlib.Path(_OUT.value or (pathlib.Path(os.environ["OUT"]) if os.environ.get("OUT") else pathlib.Path()) /
                     "gpu_check.json")  # fmt: skip
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps(report, indent=1, default=float))
  print(f"wrote {out.resolve()} ({time.perf_counter() - t_start:.0f} s in all)")


def _grid(report: dict, left) -> dict:
  """Phase 2.5's grid, one chunk of eval.every steps (and its evaluation) per row with the fastest float32 setting of
  B = 32 (bfloat16 changes the numerics; float32 is what the study ran), extrapolated to its full length."""
  ok = [s for s in report["settings"] if "error" not in s and s["dtype"] == "float32" and s["batch_size"] <= 32]
  best = max(ok, key=lambda s: s["model_steps_per_s"], default=None)
  if best is None:
    return {"skipped": "no float32 setting was timed"}
  cfg = _config(strategy=best["strategy"], dtype="float32", attention=best["attention"])
  full = phase2_5.get_config()
  cfg.eval.batches, cfg.eval.batch_size = full.eval.batches, full.eval.batch_size
  steps = 4 if _CPU.value else full.eval.every
  task = tasks.build(cfg)
  evals = task.validation_batches(cfg.eval.batches, cfg.eval.batch_size)
  rows, total = [], 0.0
  for b in cfg.sweep.batch_sizes:
    bb = min(b, 8) if _CPU.value else b
    guess = best["compile_s"] + steps * best["lanes"] / best["model_steps_per_s"] * bb / 32  # time ∝ B
    if left() < guess:
      rows.append({"batch_size": bb, "skipped": f"out of time (about {guess:.0f} s needed, {left():.0f} s left)"})
      continue
    timed = _time_row(cfg, task, bb, steps, eval_batches=evals)
    row_s = timed["compile_s"] + full.train.steps * timed["step_s"]  # each chunk of `steps` holds one evaluation
    rows.append({"batch_size": bb, "phase_batch_size": b, "compile_s": timed["compile_s"],
                 "seconds_per_step": timed["step_s"], "model_steps_per_s": timed["lanes"] / timed["step_s"],
                 "extrapolated_row_s": row_s})  # fmt: skip
    total += row_s
    shown = f"B={bb}" + (f" (for B={b})" if bb != b else "")
    print(f"grid row {shown}: compile {timed['compile_s']:.1f} s, {timed['lanes'] / timed['step_s']:.1f} "
          f"model-steps/s -> {full.train.steps} steps in {row_s / 60:.1f} min", flush=True)  # fmt: skip
  done = [r for r in rows if "skipped" not in r]
  out = {"setting": {k: best[k] for k in ("strategy", "dtype", "attention")}, "steps_timed": steps,
         "full_steps": full.train.steps, "rows": rows,
         "extrapolated_grid_s": total if len(done) == len(rows) else None}  # fmt: skip
  if _CPU.value:  # a shrunk model at B ≤ 8: exercises the script, estimates nothing about Phase 2.5
    out["shrunk"] = {"d_model": cfg.model.d_model, "n_layers": cfg.model.n_layers, "seq_len": cfg.data.seq_len,
                     "batch_sizes": [min(b, 8) for b in cfg.sweep.batch_sizes]}  # fmt: skip
  if out["extrapolated_grid_s"] is not None:
    what = "Phase 2.5 grid" if not _CPU.value else "the shrunk CPU grid (--cpu: not a Phase 2.5 estimate)"
    print(f"{what} ({len(rows)} rows × 5 LRs × {full.train.steps} steps), extrapolated: "
          f"{total / 60:.1f} min with {out['setting']}")  # fmt: skip
  return out


if __name__ == "__main__":
  app.run(main)
