"""Where a sweep's numbers go while it runs: TensorBoard events through clu's writers, and progress in the log.

One writer for the sweep (progress over all its steps) and one per lane of each row, so curves overlay in TensorBoard
(`tb/B{b}/<lane>`). With output.tensorboard off, clu is not imported at all: its writers package imports TensorFlow,
2.5-4.5 s of every run's start-up, and progress is logged directly.
"""

import collections.abc
import concurrent.futures
import contextlib
import threading
import time

from absl import logging

from tailjax.training import distributed


class Writers:
  """clu writers: one for the sweep (progress over all its steps), one per lane of each row (curves overlay in
  TensorBoard). Rows may train at the same time on disjoint devices, so each row holds its own lane writers and the
  progress count is kept under a lock. With output.tensorboard off, clu is not imported: its writers package imports
  TensorFlow, and progress goes to the log directly.

  With TensorBoard on, clu (and TensorFlow, 2.5-4.5 s) is imported and the writers are opened in a thread, while the
  first row initialises and compiles; they are waited for when first written to (BENCHMARKS.md, issue 17)."""

  def __init__(self, workdir, cfg, total_steps):
    self._on, self._tb = cfg.output.tensorboard, workdir / "tb"
    self._lock, self._steps = threading.Lock(), 0
    if self._on:
      self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="writers")
      self._opened = self._pool.submit(self._open, total_steps)
    else:
      self._pool, self._opened = None, None
      self._progress = LogProgress(total_steps, every_secs=20)

  def _open(self, total_steps):
    from clu import metric_writers, periodic_actions

    main = metric_writers.create_default_writer(self._tb, just_logging=not distributed.is_writer())
    return (
      metric_writers,
      main,
      periodic_actions.ReportProgress(num_train_steps=total_steps, writer=main, every_secs=20),
    )

  @property
  def main(self):
    """The sweep's writer (None without TensorBoard)."""
    return self._opened.result()[1] if self._on else None

  @contextlib.contextmanager
  def row(self, name, labels):
    """One writer per lane of row `name` (an empty list without TensorBoard), opened in the writers' thread and
    waited for at the first write; closed when the block ends."""
    if not self._on:
      yield []
      return
    opening = self._pool.submit(lambda: [self._opened.result()[0].SummaryWriter(str(self._tb / name / lab))
                                         for lab in labels])  # fmt: skip
    lane_writers = _Later(opening)
    try:
      yield lane_writers
    finally:
      for w in lane_writers:
        w.close()

  def advance(self, n: int) -> None:
    with self._lock:
      self._steps += n
      progress = self._opened.result()[2] if self._on else self._progress
      progress(self._steps, time.time())

  def close(self):
    if self._on:
      self.main.close()
      self._pool.shutdown()

  def __enter__(self) -> "Writers":
    return self

  def __exit__(self, *exc) -> None:
    """Flushes and closes the sweep's writer however the sweep ends (as flax's examples use ensure_flushes)."""
    self.close()


class _Later(collections.abc.Sequence):
  """A list that a future fills: reading it waits for the future (and re-raises its failure)."""

  def __init__(self, future):
    self._future = future

  def __getitem__(self, i):
    return self._future.result()[i]

  def __len__(self) -> int:
    return len(self._future.result())


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
