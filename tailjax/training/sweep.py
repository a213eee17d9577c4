"""A sweep: every row (batch size) trained by the engine, checkpointed, resumed, extended, summarised.

Layout of a workdir:
  config.json            the resolved config (a rerun with a different one is refused: tailjax.workdir)
  data.json              the corpus fingerprint: sha256, V, ln V, unigram entropy, token counts
  rows/B{b}.json         a finished row's results and curves (a rerun skips the row)
  rows/B{b}.ext{k}.json  round k of automatic grid extension of that row (sweep.auto_extend)
  rows/B{b}.done         the row and all its rounds are written (what process 0 waits for in a multi-process run)
  checkpoints/B{b}[.ext{k}]/  orbax checkpoints of the row (or round) in progress
  measure/B{b}/step{s}.json   the gradient-noise measurements (tailjax.noise), gathered into alpha.csv and friends
  tb/                    TensorBoard events (training/writers.py): progress, and per-lane curves under tb/B{b}/<lane>
  throughput.json        per row: model-steps/s, tokens/s, FLOP/s and MFU after its first chunk (row_loop.throughput)
  results.csv, scaling_fit.json, summary.txt, *.png   written when every row is done (tailjax.analysis.summary)

This module only orchestrates: the workdir (`prepare`), which rows this process trains and on which devices, the
extension rounds of each (as the caller's policy asks), and the wait for other processes' rows (`train`). The loop
over one row is `row_loop.train_row`; the checks before and the analysis after are the caller's
(`tailjax.experiment`).
"""

import concurrent.futures
import dataclasses
import json
import pathlib
import shutil

import jax
import numpy as np
from absl import logging

from tailjax import errors, files, records, schedule, workdir
from tailjax.errors import UserError
from tailjax.training import distributed, engine, row_loop, writers
from tailjax.training.lane_grid import batch_devices, lane_devices
from tailjax.training.noise_hook import NoiseHook


@dataclasses.dataclass(frozen=True)
class Prepared:
  """A sweep's workdir, ready to train in: the config, the task, and what data.json holds."""

  cfg: object
  workdir: pathlib.Path
  task: object  # tasks.base.Task
  fingerprint: dict  # what data.json holds: the task's fingerprint and facts


@dataclasses.dataclass(frozen=True)
class _Context(Prepared):
  """What every row of a sweep shares: the prepared workdir, the data on the device, the writers, and the policy
  and position the caller passed to `train`."""

  train_data: object  # the task's training data, on the device
  val_batches: object  # its fixed validation batches
  writers: writers.Writers
  next_lrs: object  # rows -> (learning rates, why) or None: the extension policy; None = no extension rounds
  position: errors.Position


def prepare(cfg, workdir_path, task) -> Prepared:
  """Makes the workdir (`workdir.prepare`: a rerun with another config is refused) and writes data.json; call it
  after every check, so that a refused run writes nothing."""
  wd = workdir.prepare(workdir_path, cfg)
  fp = {**task.fingerprint, "format": records.FORMAT, "facts": task.facts().to_json()}  # data.json
  before = wd / "data.json"
  if before.exists() and json.loads(before.read_text()).get("sha256") != fp.get("sha256"):
    raise UserError(f"workdir {wd} holds a run on other data ({before} has another sha256); use a new workdir")
  files.write_json(wd / "data.json", fp)
  return Prepared(cfg=cfg, workdir=wd, task=task, fingerprint=fp)


def train(prepared: Prepared, row_lrs: dict, *, next_lrs=None, position=None) -> dict | None:
  """Trains (or resumes) every row of the prepared sweep: row B's lanes are `row_lrs[B]` × the config's other lane
  settings. Returns {B: the finished row, its extension rounds joined} on the process that writes the results (every
  row, once the others are on disk); None on the other processes of a multi-process run.

  Args:
    next_lrs: the extension policy, called with a row's results so far; it returns (new learning rates, why) for one
      more round, or None when the row is done. None: no extension rounds.
    position: where the run is and what is on disk (`errors.Position`), kept up to date for the interrupt message.
  """
  cfg, wd, task = prepared.cfg, prepared.workdir, prepared.task
  logging.info("%s", task.describe)
  logging.info("budget: %s", schedule.describe(cfg))
  mine = distributed.my_rows(cfg.sweep.batch_sizes)  # every row, for a single process
  groups = _device_groups(cfg, {b: row_lrs[b] for b in mine})
  done = {}
  with writers.Writers(wd, cfg, sum(schedule.plan(cfg, b).steps for b in mine)) as sweep_writers:
    ctx = _Context(
      **{f.name: getattr(prepared, f.name) for f in dataclasses.fields(Prepared)},
      train_data=jax.device_put(task.train_data),
      val_batches=task.validation_batches(cfg.eval.batches, cfg.eval.batch_size),
      writers=sweep_writers,
      next_lrs=next_lrs,
      position=position or errors.Position(),
    )
    _train_groups(ctx, mine, groups, row_lrs, done)
    if not distributed.is_writer():
      logging.info("process %d: rows %s done; process 0 writes the summary", jax.process_index(), mine)
      return None
    others = [b for b in cfg.sweep.batch_sizes if b not in done]
    distributed.wait_for([wd / "rows" / f"B{b}.done" for b in others])
    for b in others:  # every part is on disk now, so this reads them (and replans the same extension rounds)
      done[b] = _row_and_extensions(ctx, batch_size=b, group=groups[0], lrs=row_lrs[b])
  files.write_json(wd / "throughput.json", _throughput(done))
  return {b: done[b] for b in cfg.sweep.batch_sizes}


def _train_groups(ctx: _Context, mine: list[int], groups: list, row_lrs: dict, done: dict) -> None:
  """This process's rows, one device group after another, or (more devices than a row has lanes) the groups in
  threads, each training every len(groups)-th row; `done` gets each finished row."""

  def train_rows(rows, group):
    for b in rows:
      done[b] = _row_and_extensions(ctx, batch_size=b, group=group, lrs=row_lrs[b])
      files.write_text(ctx.workdir / "rows" / f"B{b}.done", "")

  if len(groups) == 1:
    train_rows(mine, groups[0])
    return
  logging.info("rows train %d at a time, on device groups %s", len(groups), groups)
  with concurrent.futures.ThreadPoolExecutor(len(groups)) as pool:
    running = [pool.submit(train_rows, mine[i :: len(groups)], g) for i, g in enumerate(groups)]
    for r in running:
      r.result()  # re-raises a row's failure


def _throughput(done: dict) -> dict:
  """throughput.json: per row (and extension round), model-steps/s, tokens/s, FLOP/s and MFU after its first chunk, as
  `row_loop.throughput` measured them; null for a row that ran one chunk or was finished by an earlier run."""
  out = {}
  for b, row in sorted(done.items()):
    for k, t in enumerate(row.get("throughput") or [None]):
      out[f"B{b}" + (f".ext{k}" if k else "")] = None if t is None else {k2: v for k2, v in t.items() if k2 != "text"}
  return out


def _batch_devices(cfg, batch_size: int, available: int) -> int:
  return batch_devices(batch_size, cfg.sweep.batch_devices, available, cfg.sweep.devices)


def _device_groups(cfg, row_lrs: dict) -> list[tuple[int, int]]:
  """Disjoint groups (first, count) of local devices, one per row training at the same time: a row gets as many
  devices as it has lanes (at most sweep.devices) times the devices its batch is split over (`batch_devices`), and
  when that leaves whole groups over, more rows run at once."""
  lanes = max((len(row_loop.row_lanes(cfg, lrs, b)[0]) for b, lrs in row_lrs.items()), default=1)
  split = max((_batch_devices(cfg, b, len(jax.local_devices())) for b in row_lrs), default=1)
  per_row = lane_devices(lanes, cfg.sweep.devices, len(jax.local_devices()) // split) * split
  n = min(len(jax.local_devices()) // per_row, max(len(row_lrs), 1))
  return [(i * per_row, per_row) for i in range(n)]


def _train_part(ctx: _Context, *, batch_size: int, group: tuple[int, int], lrs, part: str, origin: str) -> dict:
  """Trains one part of a row (the grid, part "", or extension round k, part ".ext{k}") on the devices of `group`;
  returns what rows/B{b}{part}.json holds. The gradient noise is measured on the grid only.

  The row trains as a fixed-steps run of its budget's length (`schedule.row_config`), evaluated at its plan's points."""
  plan = schedule.plan(ctx.cfg, batch_size)
  cfg = schedule.row_config(ctx.cfg, batch_size)
  table, labels = row_loop.row_lanes(cfg, lrs, batch_size)
  split = _batch_devices(cfg, batch_size, group[1])
  if cfg.sweep.batch_devices > split:
    logging.warning("B=%d: each batch splits over %d devices, not sweep.batch_devices=%d: %d is the largest divisor "
                    "of %d that is at most the %d device(s) this row has", batch_size, split, cfg.sweep.batch_devices,
                    split, batch_size, group[1])  # fmt: skip
  row = engine.Row.create(
    cfg, ctx.task, batch_size, lane_devices(len(table), group[1] // split), group[0], batch_devices=split
  )
  measuring = schedule.measure_steps(cfg) and not part
  hook = (
    NoiseHook(row=row, table=table, labels=labels, train_data=ctx.train_data, workdir=ctx.workdir)
    if measuring
    else None
  )
  name = f"B{batch_size}{part}"
  progress = None if part else ctx.writers.advance  # progress counts grid steps; extension rounds come on top
  with ctx.writers.row(name, labels) as lane_writers:
    trained = row_loop.train_row(
      position=ctx.position,
      row=row,
      table=table,
      labels=labels,
      name=name,
      checkpoint_dir=ctx.workdir / "checkpoints" / name,
      train_data=ctx.train_data,
      val_batches=ctx.val_batches,
      lane_writers=lane_writers,
      on_chunk=hook,
      progress=progress,
      eval_steps=plan.eval_steps,
    )
  return row_loop.finished_part(
    cfg,
    batch_size=batch_size,
    table=table,
    labels=labels,
    trained=trained,
    fingerprint=ctx.fingerprint,
    origin=origin,
    devices=[str(d) for d in row.mesh.devices.flat],
    plan=plan,
  )


def _row_and_extensions(ctx: _Context, *, batch_size: int, group: tuple[int, int], lrs) -> dict:
  """The grid row, then extension rounds while the policy (`ctx.next_lrs`) asks for them, at most
  sweep.max_extensions; each finished part is written to rows/ and skipped on a rerun, so the rounds a resumed run
  plans are the ones it planned before."""
  cfg, b = ctx.cfg, batch_size
  origin, parts = "grid" if not cfg.transfer.fit else "transfer", []
  for k in range(cfg.sweep.max_extensions + 1 if ctx.next_lrs is not None else 1):
    part = f".ext{k}" if k else ""
    row_file = ctx.workdir / "rows" / f"B{b}{part}.json"
    if row_file.exists():
      logging.info("B%d%s: finished earlier, skipped", b, part)
      parts.append(json.loads(row_file.read_text()))
    else:
      parts.append(_train_part(ctx, batch_size=b, group=group, lrs=lrs, part=part, origin=origin))
      files.write_json(row_file, parts[-1])
      shutil.rmtree(ctx.workdir / "checkpoints" / f"B{b}{part}", ignore_errors=True)
    if ctx.next_lrs is None:
      break
    plan = ctx.next_lrs([r for p in parts for r in p["rows"]])
    if plan is None:
      break
    if k == cfg.sweep.max_extensions:
      logging.warning("B=%d: still censored after %d extension rounds (sweep.max_extensions): %s", b, k, plan[1])
      break
    lrs, why = plan
    origin = f"auto-extension round {k + 1}: {why}"
    logging.info("B=%d: %s; adding learning rates %s", b, origin, ", ".join(f"{x:.4g}" for x in lrs))
  return _joined(parts)


def _joined(parts: list[dict]) -> dict:
  """A row's parts (the grid, then each extension round) as one row: results, labels and curves side by side."""
  return {
    "rows": [r for p in parts for r in p["rows"]],
    "lane_rows": [r for p in parts for r in p.get("lane_rows", p["rows"])],
    "labels": [lab for p in parts for lab in p["labels"]],
    "eval_step": parts[0]["eval_step"],
    "val_loss": np.concatenate([np.array(p["val_loss"], float) for p in parts], axis=1).tolist(),
    "matrix_norms": {
      k: np.concatenate([np.array(p["matrix_norms"][k], float) for p in parts], axis=1).tolist()
      for k in parts[0].get("matrix_norms", {})
    },
    "matrix_shapes": parts[0].get("matrix_shapes", {}),
    "throughput": [p.get("throughput") for p in parts],  # per part: the grid, then each extension round
  }
