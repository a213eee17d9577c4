"""The row loop: one row (or one auto-extension round of it) trained to the end, resuming from its newest checkpoint.

Chunks end at every eval, checkpoint and measurement step; chunk k's metrics are fetched to the host while chunk k+1
runs. What happens at a measurement step is not the loop's business: it calls `on_chunk(step, state)` after every
chunk (and at step 0 of a fresh row), the way init2winit's training loop calls its callbacks.
"""

import concurrent.futures
import dataclasses
import pathlib
import time

import jax
import numpy as np
from absl import logging
from flax import traverse_util

from tailjax import errors, flops, lane_results, schedule
from tailjax.training import checkpoint, engine, optim
from tailjax.training.lane_grid import Lanes, lane_table, pad_lanes


def lane_label(
  lane: dict, *, many_clips: bool, many_seeds: bool, many_wds: bool = False, many_b2s: bool = False
) -> str:
  """A lane's name in logs, TensorBoard and plots: its LR, and whichever of clip, weight decay, β2, seed vary."""
  label = f"lr={lane['lr']:.4g}"
  if many_clips:
    label += ",clip=none" if lane["clip"] is None else f",clip={lane['clip']:g}"
  if many_wds:
    label += f",wd={lane['weight_decay']:g}"
  if many_b2s:
    label += f",b2={lane['b2_ref']:g}"
  if many_seeds:
    label += f",seed={lane['seed']}"
  return label


def row_b2s(cfg, batch_size: int) -> list[tuple]:
  """(β2 named by the config, β2 the row of batch size B trains with) for each of sweep.b2s (or optim.b2); one
  (None, None) for SGD, which has no β2."""
  if cfg.optim.name == "sgd":
    return [(None, None)]
  b_ref = cfg.optim.b2_batch or min(cfg.sweep.batch_sizes)
  return [
    (ref, optim.b2_for_batch(cfg.optim, ref, batch_size, b_ref)) for ref in tuple(cfg.sweep.b2s) or (cfg.optim.b2,)
  ]


def row_lanes(cfg, lrs, batch_size: int) -> tuple[list[dict], list[str]]:
  """(lane table, labels) of row B with learning rates `lrs` × the config's clips, weight decays, β2s and seeds."""
  clips = tuple(cfg.sweep.clips) or (cfg.optim.clip,)
  wds = tuple(cfg.sweep.weight_decays) or (cfg.optim.weight_decay,)
  b2s = row_b2s(cfg, batch_size)
  table = lane_table(lrs, clips, wds, cfg.sweep.seeds, b2s)
  many = {"many_clips": len(clips) > 1, "many_seeds": len(cfg.sweep.seeds) > 1, "many_wds": len(wds) > 1,
          "many_b2s": len(b2s) > 1}  # fmt: skip
  return table, [lane_label(lane, **many) for lane in table]


@dataclasses.dataclass
class _History:
  """Per-chunk pieces of the metric history, concatenated when saved: METRICS [steps, R], eval_step [E],
  val_loss [E, R], and the per-matrix weight norms (NORM_PREFIX + path) [E, R]."""

  parts: dict

  @classmethod
  def fresh(cls) -> "_History":
    return cls({k: [] for k in engine.METRICS} | {"eval_step": [], "val_loss": []})

  @classmethod
  def restored(cls, saved: dict) -> "_History":
    return cls({k: [v] for k, v in saved.items()})

  def append(self, stop: int, metrics: dict, val_R, norms: dict) -> None:
    """One fetched chunk: its per-step metrics [n, R], the validation loss at `stop` [R], the weight norms [R]."""
    for k in engine.METRICS:
      self.parts[k].append(np.asarray(metrics[k], np.float32))
    self.parts["eval_step"].append(np.array([stop]))
    self.parts["val_loss"].append(val_R[None])
    for k, v in norms.items():  # per-matrix weight norms at each eval point (weight_norms.csv)
      self.parts.setdefault(k, []).append(v[None])

  def arrays(self) -> dict:
    return {k: np.concatenate(v) for k, v in self.parts.items()}


@dataclasses.dataclass
class _Recorder:
  """What the loop keeps of each fetched chunk: the history, the clock for the throughput, the TensorBoard scalars,
  the sweep's progress, the position for the interrupt message and a log line."""

  row: engine.Row
  name: str
  n_real: int
  history: _History
  lane_writers: list
  progress: object  # called with the steps each chunk trained, or None
  position: errors.Position
  clock: dict = dataclasses.field(default_factory=dict)  # wall time and step at the first and last fetched chunk

  def take(self, stop: int, n: int, metrics, val_R, norms) -> None:
    """Fetches chunk (stop − n, stop]'s metrics (blocking until it is computed) and records them."""
    cfg = self.row.cfg
    metrics, val_R, norms = jax.device_get((metrics, val_R, norms))
    self.clock.setdefault("first", (time.perf_counter(), stop))
    self.clock["last"] = (time.perf_counter(), stop)
    metrics = {k: np.asarray(v)[:, : self.n_real] for k, v in metrics.items()}
    val_R = np.asarray(val_R)[: self.n_real]
    self.history.append(stop, metrics, val_R, {k: np.asarray(v)[: self.n_real] for k, v in norms.items()})
    _write_scalars(self.lane_writers, metrics, val_R, stop=stop, n=n, log_every=cfg.train.log_every)
    if self.progress is not None:
      self.progress(n)
    self.position.note(where=f"{self.name}, step {stop} of {cfg.train.steps}")
    if not self.row.task.validates:  # no validation loss (experiment 1.1's injected gradients)
      logging.info("%s step %d/%d", self.name, stop, cfg.train.steps)
    else:
      losses = " ".join(f"{v:.3f}" for v in val_R)
      logging.info("%s step %d/%d  val loss per lane: %s", self.name, stop, cfg.train.steps, losses)


def train_row(
  *,
  row: engine.Row,
  table: list[dict],
  labels: list[str],
  name: str,
  checkpoint_dir: pathlib.Path,
  train_data,
  val_batches,
  lane_writers: list,
  on_chunk=None,
  progress=None,
  eval_steps=None,
  position: errors.Position | None = None,
) -> dict:
  """Trains the lanes of `table` on `row` to cfg.train.steps, resuming from the newest checkpoint in
  `checkpoint_dir`; returns the finished row's history and final state.

  Args:
    row: the row program (its devices set); the table is padded to a multiple of them and the padding dropped.
    table, labels: the row's lanes (`row_lanes`).
    name: "B{b}" or "B{b}.ext{k}", for the log.
    lane_writers: one TensorBoard writer per lane (empty without TensorBoard).
    on_chunk: called as on_chunk(step, state) after every chunk, and at step 0 of a fresh row.
    progress: called with the number of steps each chunk trained (the sweep's progress report).
    eval_steps: the steps that end with a validation pass (`schedule.RowPlan.eval_steps`); None = every eval.every.
    position: kept up to date with the step reached and the newest checkpoint (`errors.Position`).

  Returns:
    {"history": arrays [steps or E, n_real], "diverged_at_R": [n_real], "params_R": the final parameters}.
  """
  cfg = row.cfg
  n_real = len(table)
  position = position or errors.Position()
  lanes = row.shard(Lanes.from_table(pad_lanes(table, row.devices)))
  train_data, val_batches = row.replicate((train_data, val_batches))
  ckpt = checkpoint.RowCheckpoints(checkpoint_dir.resolve(), cfg.checkpoint.keep)
  bounds = schedule.chunk_bounds(cfg, eval_steps)
  ahead = _compile_ahead(row, lanes, train_data, val_batches, bounds, start=ckpt.latest_step())
  start, state, history = _start(row, lanes, ckpt, n_real, name)
  kept = f"{name}'s checkpoint at step {start} and every finished row" if start else "every finished row"
  position.note(where=f"{name}, compiling and running its first chunk from step {start}", saved=kept)
  _log_row(row, lanes, n_real, name, labels)
  recorder = _Recorder(
    row=row, name=name, n_real=n_real, history=history, lane_writers=lane_writers, progress=progress, position=position
  )
  if on_chunk is not None and start == 0:
    on_chunk(0, state)
  every = cfg.checkpoint.every
  ckpt_at = set(range(every, cfg.train.steps, every)) if every else set()
  pending, prev = None, start
  for stop in (s for s in bounds if s > start):
    if ahead is not None:
      _wait(ahead, name)
      ahead = None
    state, metrics, val_R = row.run_chunk(state, lanes, train_data, val_batches, stop - prev)
    if pending is not None:  # fetch chunk k while chunk k+1 runs
      recorder.take(*pending)
    pending, prev = (stop, stop - prev, metrics, val_R, engine.matrix_norms(state.params)), stop
    if on_chunk is not None:
      on_chunk(stop, state)
    if stop in ckpt_at:
      recorder.take(*pending)
      pending = None
      ckpt.save(stop, row.real_lanes(state, n_real), history.arrays())
      position.note(saved=f"{name}'s checkpoint at step {stop} and every finished row")
  if pending is not None:
    recorder.take(*pending)
  ckpt.close()
  speed = throughput(row, n_real, recorder.clock)
  if speed:
    logging.info("%s: %s", name, speed["text"])
  diverged_at_R = np.asarray(jax.device_get(state.diverged_at_R))[:n_real]
  for r in np.flatnonzero(diverged_at_R >= 0):
    logging.warning("%s lane %s diverged at step %d (frozen)", name, labels[r], diverged_at_R[r])
  return {"history": history.arrays(), "diverged_at_R": diverged_at_R, "params_R": state.params, "throughput": speed}


def _start(row: engine.Row, lanes, ckpt, n_real: int, name: str) -> tuple:
  """(step, state, history) to start from: the newest checkpoint's, or a fresh row's."""
  restored = ckpt.restore_latest(row.checkpoint_template(lanes, n_real))  # the template costs no computation
  if restored is None:
    return 0, row.init_state(lanes), _History.fresh()
  start, state, saved = restored
  logging.info("%s: resumed from step %d", name, start)
  return start, row.padded_lanes(state, lanes.size), _History.restored(saved)


def _log_row(row: engine.Row, lanes, n_real: int, name: str, labels: list[str]) -> None:
  split = (f", each batch split over {row.batch_devices} devices (the same run to rounding; "
           "--config.sweep.batch_devices=1: one device)") if row.batch_devices > 1 else ""  # fmt: skip
  logging.info("%s: %d lanes (%s), strategy %s, lanes on %d device(s)%s%s", name, n_real, ", ".join(labels),
               row.strategy, row.devices, split,
               f", {lanes.size - n_real} padding lane(s)" if lanes.size > n_real else "")  # fmt: skip


def _compile_ahead(row: engine.Row, lanes, train_data, val_batches, bounds, *, start: int):
  """Starts compiling the first chunk's program in a thread, so that it overlaps the compile and run of the state's
  initialisation (or its restore) and the first measurement (BENCHMARKS.md). Returns the future, or None
  when the row is already finished."""
  first = next((s for s in bounds if s > start), None)
  if first is None:
    return None
  pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="compile-ahead")
  future = pool.submit(row.compile_chunk, lanes, train_data, val_batches, first - start)
  pool.shutdown(wait=False)
  return future


def _wait(future, name: str) -> None:
  """Waits for the compile started ahead. Should it fail, the chunk's own call compiles (and reports) instead."""
  try:
    future.result()
  except Exception as e:  # noqa: BLE001 - the real call below raises whatever is really wrong
    logging.info("%s: compiling ahead failed (%s: %s); compiling at the first chunk", name, type(e).__name__, e)


def throughput(row: engine.Row, n_real: int, clock: dict) -> dict | None:
  """Model-steps/s, tokens (examples)/s, matmul FLOP/s and MFU (where the device's peak is known:
  `flops.PEAK_BF16_DENSE`) of the row after its first fetched chunk (the compile), wall time including evaluations
  and checkpoints; None when the row ran one chunk (or resumed at its end)."""
  if "first" not in clock or clock["last"][1] <= clock["first"][1] or clock["last"][0] <= clock["first"][0]:
    return None
  (t0, s0), (t1, s1) = clock["first"], clock["last"]
  lane_steps = (s1 - s0) * n_real / (t1 - t0)
  unit = schedule.unit_name(row.cfg)
  per_example = row.task.flops_per_example
  per_step = None if per_example is None else per_example * row.batch_size
  kind = row.mesh.devices.flat[0].device_kind
  flop_per_s = None if per_step is None else lane_steps * per_step
  out = {
    "steps": s1 - s0,
    "lanes": n_real,
    "seconds": t1 - t0,
    "model_steps_per_s": lane_steps,
    f"{unit}_per_s": lane_steps * schedule.tokens_per_step(row.cfg, row.batch_size),
    "flops_per_step": per_step,
    "flop_per_s": flop_per_s,
    "device_kind": kind,
    "devices": row.devices * row.batch_devices,
    "lane_devices": row.devices,  # the lanes split over these
    "batch_devices": row.batch_devices,  # and each batch over these
    "peak_flop_per_s": flops.peak_flop_per_s(kind),  # bf16 dense, per device; None on a CPU
    "mfu": flops.mfu(flop_per_s, kind, row.devices * row.batch_devices),
  }
  out["text"] = (
    f"{n_real} lanes × {s1 - s0} steps after the first chunk in {t1 - t0:.1f} s (evaluations included): "
    f"{lane_steps:.3g} model-steps/s, {out[f'{unit}_per_s']:.3g} {unit}/s"
    + (f", {flop_per_s:.3g} FLOP/s (matmul FLOPs, tailjax.flops)" if per_step else "")
    + (f", MFU {out['mfu']:.1%} of {out['devices']}× {kind}'s bf16 dense peak" if out["mfu"] is not None else "")
    + (f"; no MFU: no peak known for {kind}" if out["mfu"] is None and per_step else "")
  )
  return out


def _write_scalars(lane_writers, metrics, val_R, *, stop: int, n: int, log_every: int) -> None:
  """Per lane: each metric's mean over every log window that ends in the chunk (stop − n, stop], and val_loss."""
  start = stop - n
  for end in range(start - start % log_every + log_every, stop + 1, log_every):
    window = slice(max(end - log_every - start, 0), end - start)  # chunk rows of steps (end - log_every, end]
    for r, w in enumerate(lane_writers):
      w.write_scalars(end, {k: float(np.mean(metrics[k][window, r])) for k in engine.METRICS})
  for r, w in enumerate(lane_writers):
    w.write_scalars(stop, {"val_loss": float(val_R[r])})


def finished_part(
  cfg, *, batch_size: int, table, labels, trained: dict, fingerprint: dict, origin: str, devices, plan=None
) -> dict:
  """What rows/B{b}[.ext{k}].json holds: per-lane results (one per lane and budget of the row's `plan`), labels, the
  devices, weight norms and curves."""
  hist = trained["history"]
  hist_eval = {k: v for k, v in hist.items() if not k.startswith(engine.NORM_PREFIX)}
  rows = lane_results.row_results(
    cfg,
    batch_size=batch_size,
    table=table,
    history=hist_eval,
    diverged_at_R=trained["diverged_at_R"],
    fingerprint=fingerprint,
    readouts=None if plan is None else plan.readouts,
    tokens_per_step=None if plan is None else plan.tokens_per_step,
  )
  for r in rows:
    r["origin"] = origin
  norms = {k[len(engine.NORM_PREFIX) :]: v.tolist() for k, v in hist.items() if k.startswith(engine.NORM_PREFIX)}
  shapes = {
    ".".join(path): list(v.shape[1:])
    for path, v in traverse_util.flatten_dict(trained["params_R"]).items()
    if v.ndim >= 3
  }
  full = [r for r in rows if r["steps"] == hist["loss"].shape[0]][: len(table)]  # read at the row's whole length
  return {
    "rows": rows,
    "throughput": trained.get("throughput"),  # model-steps/s, tokens/s, FLOP/s after the first chunk
    "lane_rows": full,  # one per lane, in the order of `labels` and of the curves' columns
    "labels": labels,
    "devices": devices,  # where the row trained
    "matrix_norms": norms,  # {parameter path: [eval point][lane]}
    "matrix_shapes": shapes,
    "eval_step": hist["eval_step"].tolist(),
    "val_loss": np.where(np.isfinite(hist["val_loss"]), hist["val_loss"], np.nan).tolist(),
  }
