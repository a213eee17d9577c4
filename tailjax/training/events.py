"""TensorBoard scalars written without TensorFlow: the default writer of a run's `tb/` folder.

Why not clu's writer here: clu's `SummaryWriter` writes through `tf.summary`, so opening one imports TensorFlow, 5.5 s
of every run's start-up on 2 CPU cores, the largest fixed cost of the command line after the compile, with
TensorFlow's runtime then sharing the cores with XLA (BENCHMARKS.md). TensorBoard's own package writes the
format: its `RecordWriter` frames and checksums each record, its protos are the events, and its scalar plugin's metadata
marks a value as a scalar the way `tf.summary.scalar` does. What is ours is the glue: one event file per writer, one
event per (step, tag). `output.tensorboard_writer = "clu"` writes through clu instead (tests/test_writers.py reads
both back and finds the same steps, tags and values).
"""

import itertools
import os
import pathlib
import socket
import time

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

_SERIAL = itertools.count()  # two writers opened in the same second into one folder get different files


class EventWriter:
  """Scalars of one run (one TensorBoard folder) as an event file, with the methods of clu's `MetricWriter` that a
  sweep uses. Each `write_scalars` reaches the disk at once (a few records a chunk), so TensorBoard shows a running
  sweep as it goes."""

  def __init__(self, logdir):
    folder = pathlib.Path(logdir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_SERIAL)}.v2"
    self._records = RecordWriter(open(folder / name, "wb"))  # noqa: SIM115 - closed by close()
    self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
    self._records.flush()

  def _write(self, event) -> None:
    self._records.write(event.SerializeToString())

  def write_scalars(self, step: int, scalars: dict) -> None:
    meta = scalar_metadata.create_summary_metadata(display_name="", description="")
    values = [
      summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor_util.make_tensor_proto(np.float32(v)))
      for tag, v in scalars.items()
    ]
    self._write(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values)))
    self._records.flush()

  def flush(self) -> None:
    if not self._records.closed:
      self._records.flush()

  def close(self) -> None:
    if not self._records.closed:
      self._records.close()
