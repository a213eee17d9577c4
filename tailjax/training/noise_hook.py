"""The gradient-noise measurement as a row-loop callback: at the configured steps it measures every live lane of the
row (tailjax.noise) without touching training, and writes measure/B{b}/step{s}.json, which a rerun skips."""

import pathlib
import time

import jax
import numpy as np
from absl import logging

from tailjax import compiling, files, schedule
from tailjax.noise import measurement
from tailjax.training import engine


class NoiseHook:
  """Called as hook(step, state) by the row loop; measures at `schedule.measure_steps(cfg)` only.

  The m measurement examples are fixed training windows drawn once (the same at every measurement: only the
  parameters change), from a key apart from every lane's batch keys.
  """

  def __init__(self, *, row: engine.Row, table: list[dict], labels: list[str], train_data, workdir: pathlib.Path):
    cfg = row.cfg
    self._row, self._table, self._labels = row, table, labels
    self._steps = schedule.measure_steps(cfg)
    self._last = max(self._steps)
    self._folder = pathlib.Path(workdir) / "measure" / f"B{row.batch_size}"
    task = row.task
    self._examples = task.sample(train_data, jax.random.key(cfg.sweep.seeds[0] + 7_919), cfg.measure.examples)
    self._gains_fn = jax.jit(task.gains) if task.gains is not None else None  # compiled once per row

  def _loss_one(self, params, example):
    return self._row.task.loss(params, jax.tree.map(lambda v: v[None], example))  # a batch of one

  def __call__(self, step: int, state: engine.RowState) -> None:
    out = self._folder / f"step{step}.json"
    if step not in self._steps or out.exists():
      return
    n_real = len(self._table)
    diverged_R = np.asarray(jax.device_get(state.diverged_at_R))[:n_real] >= 0  # waits for the chunk
    t0, compiled0 = time.time(), compiling.seconds()
    cfg = self._row.cfg
    first = not any(self._folder.glob("step*.json"))
    live = zip(diverged_R, self._table, strict=True)
    logging.info(
      "B=%d step %d: measuring gradient noise (%d lanes, m = %d examples)%s", self._row.batch_size, step,
      sum(not d and measurement.is_measured(lane, cfg.measure) for d, lane in live), cfg.measure.examples,
      "; the first measurement compiles its programs" if first else "",
    )  # fmt: skip
    found = measurement.measure_lanes(
      loss_one=self._loss_one,
      params_R=self._row.lanes_only(state.params),  # not once per batch device
      table=self._table,
      labels=self._labels,
      diverged_R=diverged_R,
      step=step,
      batch_size=self._row.batch_size,
      examples=self._examples,
      measure_cfg=cfg.measure,
      verdict=cfg.measure.verdict and step == self._last,
      gains_fn=self._gains_fn,
      kind_fn=self._row.task.kind_fn,
    )
    for label in found["non_finite"]:
      logging.warning("B=%d step %d %s: some per-example gradients are not finite; this lane is not measured",
                      self._row.batch_size, step, label)  # fmt: skip
    files.write_json(out, found)
    logging.info(
      "B=%d step %d: gradient noise measured (%.1f s, of which compiling %.1f s)",
      self._row.batch_size, step, time.time() - t0, compiling.seconds() - compiled0,
    )  # fmt: skip
    for v in (v for v in found["verdicts"] if v["pooling"] == "robust"):  # the headline of each robust verdict
      index = (
        f", tail index {v['tail_index']:.2f} [{v['tail_index_ci_low']:.2f}, {v['tail_index_ci_high']:.2f}]"
        if v["tail_index"] != ""
        else ""
      )
      logging.info("B=%d step %d %s, %s: %s%s", self._row.batch_size, step, v["lane"], v["group"], v["category"], index)
