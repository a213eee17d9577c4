"""A sweep: every row (batch size) trained by the engine, checkpointed, resumed, summarised.

Layout of a workdir:
  config.json            the resolved config (a rerun with a different one is refused)
  data.json              the corpus fingerprint: sha256, V, ln V, unigram entropy, token counts
  rows/B{b}.json         a finished row's results and curves (a rerun skips the row)
  rows/B{b}.ext{k}.json  round k of automatic grid extension of that row (sweep.auto_extend)
  rows/B{b}.done         the row and all its rounds are written (what process 0 waits for in a multi-process run)
  checkpoints/B{b}[.ext{k}]/  orbax checkpoints of the row (or round) in progress
  tb/                    clu / TensorBoard events: progress, and per-lane curves under tb/B{b}/<lane>
  results.csv, scaling_fit.json, summary.txt, *.png   written when every row is done
"""

import concurrent.futures
import json
import shutil
import time

import jax
import numpy as np
from absl import logging
from flax import traverse_util

from tailjax import (
  checkpoint,
  distributed,
  engine,
  extend,
  files,
  measure,
  plots,
  results,
  scaling,
  transfer,
  validate,
  weight_norms,
)
from tailjax import workdir as workdir_lib
from tailjax import writers as writers_lib
from tailjax.data import loader


def chunk_bounds(cfg) -> list[int]:
  """Steps at which a chunk ends: every eval and checkpoint point, and the last step."""
  steps = cfg.train.steps
  ends = set(range(cfg.eval.every, steps, cfg.eval.every)) | {steps}
  if cfg.checkpoint.every:
    ends |= set(range(cfg.checkpoint.every, steps, cfg.checkpoint.every))
  ends |= {s for s in validate.measure_steps(cfg) if s > 0}
  return sorted(ends)


def lane_label(lane: dict, many_clips: bool, many_seeds: bool, many_wds: bool = False) -> str:
  label = f"lr={lane['lr']:.4g}"
  if many_clips:
    label += ",clip=none" if lane["clip"] is None else f",clip={lane['clip']:g}"
  if many_wds:
    label += f",wd={lane['weight_decay']:g}"
  if many_seeds:
    label += f",seed={lane['seed']}"
  return label


def _lanes_of(cfg, lrs) -> tuple[list[dict], tuple, tuple]:
  """(lane table, clips, weight decays) of a row with learning rates `lrs`."""
  clips = tuple(cfg.sweep.clips) or (cfg.optim.clip,)
  wds = tuple(cfg.sweep.weight_decays) or (cfg.optim.weight_decay,)
  return engine.lane_table(lrs, clips, wds, cfg.sweep.seeds), clips, wds


def _train_row(cfg, workdir, corpus, train_data, val_batches, b, group, writers, lrs, part="", origin="grid"):
  """Trains one row to the end (resuming from its latest checkpoint) and returns its results dict.

  `group` = (first, count): the local devices the row may use; `lrs` are the row's learning rates; `part` is "" for
  the grid and ".ext{k}" for round k of auto-extension (its lanes, checkpoints and TensorBoard curves are kept apart;
  the gradient noise is measured on the grid only); `origin` says in results.csv why the lanes exist.
  """
  table, clips, wds = _lanes_of(cfg, lrs)
  n_real = len(table)  # lanes are padded to a multiple of the devices; results keep the first n_real
  row = engine.Row.create(cfg, corpus.vocab_size, b, engine.lane_devices(n_real, group[1]), group[0])
  lanes = row.shard(engine.Lanes.from_table(engine.pad_lanes(table, row.devices)))
  train_data, val_batches = row.replicate((train_data, val_batches))
  labels = [lane_label(lane, len(clips) > 1, len(cfg.sweep.seeds) > 1, len(wds) > 1) for lane in table]
  name = f"B{b}{part}"
  ckpt = checkpoint.RowCheckpoints((workdir / "checkpoints" / name).resolve(), cfg.checkpoint.keep)
  restored = ckpt.restore_latest(row.checkpoint_template(lanes, n_real))  # the template costs no computation
  if restored is None:
    start, state = 0, row.init_state(lanes)
    history = {k: [] for k in engine.METRICS} | {"eval_step": [], "val_loss": []}
  else:
    start, state, saved = restored
    state = row.padded_lanes(state, lanes.size)
    history = {k: [v] for k, v in saved.items()}
    logging.info("%s: resumed from step %d", name, start)
  lane_writers = writers.row(name, labels)
  logging.info("%s: %d lanes (%s), strategy %s, %d device(s)%s", name, n_real, ", ".join(labels), row.strategy,
               row.devices, f", {lanes.size - n_real} padding lane(s)" if lanes.size > n_real else "")  # fmt: skip

  def consume(stop, n, metrics, val_R, norms):
    metrics, val_R, norms = jax.device_get((metrics, val_R, norms))
    metrics = {k: np.asarray(v)[:, :n_real] for k, v in metrics.items()}
    val_R, norms = np.asarray(val_R)[:n_real], {k: np.asarray(v)[:n_real] for k, v in norms.items()}
    for k in engine.METRICS:
      history[k].append(np.asarray(metrics[k], np.float32))
    history["eval_step"].append(np.array([stop]))
    history["val_loss"].append(np.asarray(val_R)[None])
    for k, v in norms.items():  # per-matrix weight norms at each eval point (weight_norms.csv)
      history.setdefault(k, []).append(np.asarray(v)[None])
    start, log_every = stop - n, cfg.train.log_every
    for end in range(start - start % log_every + log_every, stop + 1, log_every):  # log points in (start, stop]
      window = slice(max(end - log_every - start, 0), end - start)  # chunk rows of steps (end - log_every, end]
      for r, w in enumerate(lane_writers):
        w.write_scalars(end, {k: float(np.mean(metrics[k][window, r])) for k in engine.METRICS})
    for r, w in enumerate(lane_writers):
      w.write_scalars(stop, {"val_loss": float(val_R[r])})
    if not part:  # progress counts grid steps; extension rounds come on top
      writers.advance(n)
    shown = " ".join(f"{v:.3f}" for v in val_R)
    logging.info("%s step %d/%d  val loss per lane: %s", name, stop, cfg.train.steps, shown)

  measure_at = validate.measure_steps(cfg) if not part else []
  if measure_at:  # fixed training windows, the same at every measurement: only the parameters change
    key = jax.random.key(cfg.sweep.seeds[0] + 7_919)
    examples = row.draw(key, cfg.measure.examples, train_data)

  def loss_one(params, example):
    return row._loss(params, example[0][None], example[1][None])

  @jax.jit
  def gains(params, examples):  # each residual branch's ‖f(x)‖/‖x‖, sown by the transformer's blocks
    _, sown = row.model.apply({"params": params}, examples[0], mutable=["intermediates"])
    return {k: v[0] for k, v in traverse_util.flatten_dict(sown["intermediates"], sep="/").items()}

  def measure_now(step, state):
    out = workdir / "measure" / f"B{b}" / f"step{step}.json"
    if out.exists():
      return
    diverged_R = (
      np.asarray(jax.device_get(state.diverged_at_R))[:n_real] >= 0
    )  # waits for the chunk: time the measurement only
    t0 = time.time()
    found = measure.measure_lanes(
      loss_one,
      state.params,
      table,
      labels,
      diverged_R,
      step,
      b,
      examples,
      cfg,
      verdict=cfg.measure.verdict and step == max(measure_at),
      gains_fn=gains if cfg.model.name in ("transformer", "vit") else None,  # the models whose blocks sow gains
    )
    files.write_json(out, found)
    logging.info("B=%d step %d: gradient noise measured (%.1f s)", b, step, time.time() - t0)

  if 0 in measure_at and start == 0:
    measure_now(0, state)
  bounds = [s for s in chunk_bounds(cfg) if s > start]
  every = cfg.checkpoint.every
  ckpt_at = set(range(every, cfg.train.steps, every)) if every else set()
  pending, prev = None, start
  for stop in bounds:
    state, metrics, val_R = row.run_chunk(state, lanes, train_data, val_batches, stop - prev)
    if pending is not None:  # fetch chunk k while chunk k+1 runs
      consume(*pending)
    pending = (stop, stop - prev, metrics, val_R, engine.matrix_norms(state.params))
    prev = stop
    if stop in measure_at:
      measure_now(stop, state)
    if stop in ckpt_at:
      consume(*pending)
      pending = None
      ckpt.save(stop, row.real_lanes(state, n_real), {k: np.concatenate(v) for k, v in history.items()})
  if pending is not None:
    consume(*pending)
  ckpt.close()
  for w in lane_writers:
    w.close()
  hist = {k: np.concatenate(v) for k, v in history.items()}
  diverged_at_R = np.asarray(jax.device_get(state.diverged_at_R))[:n_real]
  for r in np.flatnonzero(diverged_at_R >= 0):
    logging.warning("%s lane %s diverged at step %d (frozen)", name, labels[r], diverged_at_R[r])
  rows = results.row_results(cfg, b, table, hist, diverged_at_R, corpus.fingerprint)
  for r in rows:
    r["origin"] = origin
  norms = {k[len(engine.NORM_PREFIX) :]: v.tolist() for k, v in hist.items() if k.startswith(engine.NORM_PREFIX)}
  return {
    "rows": rows,
    "labels": labels,
    "devices": [str(d) for d in row.mesh.devices.flat],  # where the row trained
    "matrix_norms": norms,  # {parameter path: [eval point][lane]}
    "matrix_shapes": {k: list(v.shape[1:]) for k, v in _flat_params(state.params).items()},
    "eval_step": hist["eval_step"].tolist(),
    "val_loss": np.where(np.isfinite(hist["val_loss"]), hist["val_loss"], np.nan).tolist(),
  }


def _flat_params(params) -> dict:
  return {".".join(path): v for path, v in traverse_util.flatten_dict(params).items() if v.ndim >= 3}


def run(cfg, workdir) -> dict:
  """Runs (or resumes) the sweep described by `cfg` in `workdir`; returns the scaling fit."""
  validate.config(cfg)
  distributed.initialize(cfg)
  corpus = loader.load(cfg.data)
  validate.against_data(cfg, corpus)
  if cfg.transfer.fit:  # the transfer test: each row's lanes are the rules' predicted learning rates
    ref_fit = transfer.load_reference(cfg)
    the_plan = transfer.plan(cfg, ref_fit)
    row_lrs = {b: sorted(set(by_rule.values())) for b, by_rule in the_plan["lrs"].items()}
  else:
    row_lrs = {b: list(cfg.sweep.learning_rates) for b in cfg.sweep.batch_sizes}
  workdir = workdir_lib.prepare(workdir, cfg)  # after every check: a refused run writes nothing
  fp = corpus.fingerprint
  files.write_json(workdir / "data.json", fp)
  if fp.get("warning"):
    logging.warning("!!! %s !!!", fp["warning"])
  logging.info(
    "data %s: V=%d, ln V=%.3f, unigram entropy=%.3f nats, %d train / %d val tokens, sha256 %s",
    fp["name"], fp["vocab_size"], fp["ln_vocab"], fp["unigram_entropy"],
    fp["train_tokens"], fp["val_tokens"], fp["sha256"],
  )  # fmt: skip
  train_data = corpus.device_train()  # tokens, or (images, labels)
  val_batches = corpus.eval_batches(cfg.eval.batches, cfg.eval.batch_size, cfg.data.seq_len)
  mine = distributed.my_rows(cfg.sweep.batch_sizes)  # every row, for a single process
  groups = _device_groups(cfg, [row_lrs[b] for b in mine])
  writers = writers_lib.Writers(workdir, cfg, len(mine) * cfg.train.steps)
  done = {}

  def train(rows, group):
    for b in rows:
      done[b] = _train_row_and_extensions(cfg, workdir, corpus, train_data, val_batches, b, group, writers, row_lrs[b])
      files.write_text(workdir / "rows" / f"B{b}.done", "")

  try:
    if len(groups) == 1:
      train(mine, groups[0])
    else:  # more devices than a row has lanes: rows train at once, one per group of devices
      logging.info("rows train %d at a time, on device groups %s", len(groups), groups)
      with concurrent.futures.ThreadPoolExecutor(len(groups)) as pool:
        running = [pool.submit(train, mine[i :: len(groups)], g) for i, g in enumerate(groups)]
        for r in running:
          r.result()  # re-raises a row's failure
    if not distributed.is_writer():
      logging.info("process %d: rows %s done; process 0 writes the summary", jax.process_index(), mine)
      return {}
    others = [b for b in cfg.sweep.batch_sizes if b not in done]
    distributed.wait_for([workdir / "rows" / f"B{b}.done" for b in others])
    for b in others:  # every part is on disk now, so this reads them (and replans the same extension rounds)
      done[b] = _train_row_and_extensions(
        cfg, workdir, corpus, train_data, val_batches, b, groups[0], writers, row_lrs[b]
      )
  finally:
    writers.close()
  if cfg.transfer.fit:
    return _summarise_transfer(cfg, workdir, done, fp, the_plan, ref_fit)
  return summarise(cfg, workdir, done, fp)


def _device_groups(cfg, row_lrs: list) -> list[tuple[int, int]]:
  """Disjoint groups (first, count) of local devices, one per row training at the same time: a row gets as many
  devices as it has lanes (at most sweep.devices), and when that leaves whole groups over, more rows run at once."""
  lanes = max((len(_lanes_of(cfg, lrs)[0]) for lrs in row_lrs), default=1)
  per_row = engine.lane_devices(lanes, cfg.sweep.devices)
  n = min(len(jax.local_devices()) // per_row, max(len(row_lrs), 1))
  return [(i * per_row, per_row) for i in range(n)]


def _summarise_transfer(cfg, workdir, done, fp, the_plan, ref_fit) -> dict:
  all_rows = [r for b in cfg.sweep.batch_sizes for r in done[b]["rows"]]
  files.write_csv(workdir / "results.csv", all_rows, results.COLUMNS)
  rep = transfer.report(the_plan, ref_fit, all_rows)
  files.write_json(workdir / "transfer.json", rep)
  summary = results.table(all_rows, fp) + "\n\n" + transfer.text(rep) + "\n"
  files.write_text(workdir / "summary.txt", summary)
  logging.info("results in %s\n%s", workdir, summary)
  return rep


def _train_row_and_extensions(cfg, workdir, corpus, train_data, val_batches, b, group, writers, lrs) -> dict:
  """The grid row, then (with sweep.auto_extend) extension rounds until its optima are bracketed; each finished part
  is written to rows/ and skipped on a rerun, so the rounds a resumed run plans are the ones it planned before."""
  origin, parts = "grid" if not cfg.transfer.fit else "transfer", []
  for k in range(cfg.sweep.max_extensions + 1 if cfg.sweep.auto_extend else 1):
    part = f".ext{k}" if k else ""
    row_file = workdir / "rows" / f"B{b}{part}.json"
    if row_file.exists():
      logging.info("B%d%s: finished earlier, skipped", b, part)
      parts.append(json.loads(row_file.read_text()))
    else:
      parts.append(_train_row(cfg, workdir, corpus, train_data, val_batches, b, group, writers, lrs, part, origin))
      files.write_json(row_file, parts[-1])
      shutil.rmtree(workdir / "checkpoints" / f"B{b}{part}", ignore_errors=True)
    if not cfg.sweep.auto_extend or cfg.model.name == "ffn":
      break
    plan = extend.next_points([r for p in parts for r in p["rows"]], extend.grid_ratio(cfg), cfg.sweep.extend_points)
    if plan is None:
      break
    if k == cfg.sweep.max_extensions:
      logging.warning("B=%d: still censored after %d extension rounds (sweep.max_extensions): %s", b, k, plan[1])
      break
    lrs, why = plan
    origin = f"auto-extension round {k + 1}: {why}"
    logging.info("B=%d: %s; adding learning rates %s", b, origin, ", ".join(f"{x:.4g}" for x in lrs))
  return {
    "rows": [r for p in parts for r in p["rows"]],
    "labels": [lab for p in parts for lab in p["labels"]],
    "eval_step": parts[0]["eval_step"],
    "val_loss": np.concatenate([np.array(p["val_loss"], float) for p in parts], axis=1).tolist(),
    "matrix_norms": {
      k: np.concatenate([np.array(p["matrix_norms"][k], float) for p in parts], axis=1).tolist()
      for k in parts[0].get("matrix_norms", {})
    },
    "matrix_shapes": parts[0].get("matrix_shapes", {}),
  }


def summarise(cfg, workdir, done: dict, fp: dict) -> dict:
  """Writes results.csv, scaling_fit.json, summary.txt and the plots from finished rows."""
  all_rows = [r for b in cfg.sweep.batch_sizes for r in done[b]["rows"]]
  files.write_csv(workdir / "results.csv", all_rows, results.COLUMNS)
  if cfg.model.name == "ffn":  # experiment 1.1: no loss to optimise, so no optimum and no scaling fit
    if validate.measure_steps(cfg):
      measure.write_outputs(workdir, cfg)
    lines = [
      f"experiment 1.1: the FFN follows an injected upstream gradient (data.upstream = {cfg.data.upstream}); there "
      "is no loss to learn, so no LR optimum. The tails are in alpha.csv and verdicts.csv.",
      "",
      f"{'B':>5} {'lane':>24} {'clip_freq':>9} {'mean |g|':>10}",
    ]
    for r in all_rows:
      lane = f"lr={r['lr']:g},clip={r['clip']}"
      lines.append(f"{r['batch_size']:>5} {lane:>24} {r['clip_frequency']:>9.3f} {r['mean_grad_norm']:>10.4g}")
    files.write_text(workdir / "summary.txt", "\n".join(lines) + "\n")
    logging.info("results in %s\n%s", workdir, "\n".join(lines))
    return {}
  fit = scaling.fit(all_rows, fp)
  files.write_json(workdir / "scaling_fit.json", fit)
  summary = results.table(all_rows, fp) + "\n\n" + fit["verdict"] + "\n"
  files.write_text(workdir / "summary.txt", summary)
  logging.info("results in %s\n%s", workdir, summary)
  found = measure.write_outputs(workdir, cfg) if validate.measure_steps(cfg) else {"alpha": []}
  norms = weight_norms.table(done, cfg)
  if norms:
    mid = sorted(cfg.measure.k_ratios)[len(cfg.measure.k_ratios) // 2]
    norm_fit = weight_norms.fit(norms, weight_norms.alpha_by_kind(found["alpha"], mid))
    files.write_csv(workdir / "weight_norms.csv", norms, weight_norms.COLUMNS)
    files.write_json(workdir / "weight_norm_fit.json", norm_fit)
    if cfg.output.plots:
      weight_norms.plot(workdir / "weight_norm_scaling.png", norms, norm_fit)
  if cfg.output.plots:
    plots.lr_vs_batch(workdir / "lr_vs_batch.png", fit)
    plots.loss_heatmap(workdir / "loss_heatmap.png", fit, fp)
    plots.loss_vs_lr(workdir / "loss_vs_lr.png", fit, fp)
    plots.scaling_exponent(workdir / "scaling_exponent.png", fit)
    if len({r["clip"] for r in all_rows}) > 1:  # clip thresholds as lanes (Phase 3b)
      plots.clip_study(workdir / "clip_study.png", all_rows)
    curves = {b: (np.array(d["eval_step"]), np.array(d["val_loss"], float), d["labels"]) for b, d in done.items()}
    plots.convergence_curves(workdir / "convergence_curves.png", curves, fp)
  return fit
