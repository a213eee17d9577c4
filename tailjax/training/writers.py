"""Where a sweep's numbers go while it runs: TensorBoard events through clu's writers, and progress in the log.

One writer for the sweep (progress over all its steps) and one per lane of each row, so curves overlay in TensorBoard
(`tb/B{b}/<lane>`). With output.tensorboard off, clu is not imported at all: its writers package imports TensorFlow,
2.5-4.5 s of every run's start-up, and progress is logged directly.
"""

import contextlib
import threading
import time

from absl import logging

from tailjax.training import distributed


class Writers:
  """clu writers: one for the sweep (progress over all its steps), one per lane of each row (curves overlay in
  TensorBoard). Rows may train at the same time on disjoint devices, so each row holds its own lane writers and the
  progress count is kept under a lock. With output.tensorboard off, clu is not imported: its writers package imports
  TensorFlow (2.5-4.5 s of every run's start-up), and progress goes to the log directly."""

  def __init__(self, workdir, cfg, total_steps):
    self._on, self._tb = cfg.output.tensorboard, workdir / "tb"
    self._lock, self._steps = threading.Lock(), 0
    if self._on:
      from clu import metric_writers, periodic_actions

      self._mw = metric_writers
      self.main = metric_writers.create_default_writer(self._tb, just_logging=not distributed.is_writer())
      self._progress = periodic_actions.ReportProgress(num_train_steps=total_steps, writer=self.main, every_secs=20)
    else:
      self.main, self._progress = None, LogProgress(total_steps, every_secs=20)

  @contextlib.contextmanager
  def row(self, name, labels):
    """One writer per lane of row `name` (an empty list without TensorBoard), closed when the block ends."""
    lane_writers = [self._mw.SummaryWriter(str(self._tb / name / lab)) for lab in labels] if self._on else []
    try:
      yield lane_writers
    finally:
      for w in lane_writers:
        w.close()

  def advance(self, n: int) -> None:
    with self._lock:
      self._steps += n
      self._progress(self._steps, time.time())

  def close(self):
    if self.main is not None:
      self.main.close()

  def __enter__(self) -> "Writers":
    return self

  def __exit__(self, *exc) -> None:
    """Flushes and closes the sweep's writer however the sweep ends (as flax's examples use ensure_flushes)."""
    self.close()


class LogProgress:
  """Steps/s and time left in the log, every `every_secs` (what ReportProgress logs, without its writer)."""

  def __init__(self, total_steps: int, every_secs: float):
    self._total, self._every, self._t0 = total_steps, every_secs, time.time()
    self._last = self._t0

  def __call__(self, step: int, now: float) -> None:
    if now - self._last < self._every or step <= 0:
      return
    self._last, rate = now, step / (now - self._t0)
    left = (self._total - step) / rate / 60 if self._total > step else 0.0
    logging.info("progress: %d/%d steps this run (%.0f%%), %.1f steps/s, %.1f min left", step, self._total,
                 100 * step / max(self._total, 1), rate, left)  # fmt: skip
