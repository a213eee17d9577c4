"""Where a sweep's numbers go while it runs: TensorBoard events, and progress (steps/s, time left) in the log.

One writer for the sweep (progress over all its steps) and one per lane of each row, so curves overlay in TensorBoard
(`tb/B{b}/<lane>`). `output.tensorboard_writer` picks who writes them: "events" (the default, `events.EventWriter`:
TensorBoard's own record format, no TensorFlow in the process) or "clu" (clu's `SummaryWriter` and `ReportProgress`,
which import TensorFlow: 5.5 s of every run's start-up on 2 cores, BENCHMARKS.md). With output.tensorboard off nothing
is written and progress goes to the log alone.
"""

import contextlib
import threading
import time

from absl import logging

from tailjax.training import distributed, events


class Writers:
  """One writer for the sweep (progress over all its steps), one per lane of each row (curves overlay in
  TensorBoard). Rows may train at the same time on disjoint devices, so each row holds its own lane writers and the
  progress count is kept under a lock."""

  def __init__(self, workdir, cfg, total_steps):
    self._on, self._tb = cfg.output.tensorboard, workdir / "tb"
    self._lock, self._steps = threading.Lock(), 0
    self._clu = self._on and cfg.output.tensorboard_writer == "clu"
    if self._clu:
      from clu import metric_writers, periodic_actions

      self._open = lambda path: metric_writers.SummaryWriter(str(path))
      self.main = metric_writers.create_default_writer(self._tb, just_logging=not distributed.is_writer())
      self._progress = periodic_actions.ReportProgress(num_train_steps=total_steps, writer=self.main, every_secs=20)
    else:
      self._open = events.EventWriter
      self.main = events.EventWriter(self._tb) if self._on and distributed.is_writer() else None
      self._progress = LogProgress(total_steps, every_secs=20, writer=self.main)

  @contextlib.contextmanager
  def row(self, name, labels):
    """One writer per lane of row `name` (an empty list without TensorBoard), closed when the block ends."""
    lane_writers = [self._open(self._tb / name / lab) for lab in labels] if self._on else []
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

  def finish(self) -> None:
    """The last progress report, at the sweep's end (ours: the log line and TensorBoard point every run gets; clu's
    ReportProgress reports only at its own intervals and at num_train_steps)."""
    if isinstance(self._progress, LogProgress):
      with self._lock:
        self._progress(self._steps, time.time(), final=True)

  def __enter__(self) -> "Writers":
    return self

  def __exit__(self, exc_type, *exc) -> None:
    """Reports the end of a sweep that finished, then flushes and closes the sweep's writer however it ends (as
    flax's examples use ensure_flushes)."""
    if exc_type is None:
      self.finish()
    self.close()


class LogProgress:
  """Progress in the log every `every_secs` and once more at the end (`final`: a run shorter than `every_secs`, or a
  resumed one that skips finished rows, still gets its line), and the same points to `writer` when there is one:
  steps_per_sec over the interval since the last report and uptime, as clu's ReportProgress writes them, without
  importing clu.

  A step here is a row step: one step of every lane of the row (a 5-lane row's 300 steps are 300 row steps). The log
  line gives the average since the run started, compiles included, which is what its time-left estimate uses;
  TensorBoard's steps_per_sec is the recent interval's, so the two differ while a run compiles or loads."""

  def __init__(self, total_steps: int, every_secs: float, writer=None):
    self._total, self._every, self._writer = total_steps, every_secs, writer
    self._t0 = self._last = time.time()
    self._last_step = 0

  def __call__(self, step: int, now: float, *, final: bool = False) -> None:
    due = final or now - self._last >= self._every
    if not due or step <= self._last_step:
      return
    rate, recent = step / max(now - self._t0, 1e-9), (step - self._last_step) / max(now - self._last, 1e-9)
    self._last, self._last_step = now, step
    left = (self._total - step) / rate / 60 if self._total > step else 0.0
    logging.info("progress: %d/%d row steps this run (%.0f%%), %.2f row steps/s since start, %.1f min left", step,
                 self._total, 100 * step / max(self._total, 1), rate, left)  # fmt: skip
    if self._writer is not None:
      self._writer.write_scalars(step, {"steps_per_sec": recent, "uptime": now - self._t0})
