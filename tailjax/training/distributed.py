"""Several processes (one per host, or per GPU): `jax.distributed` joins them, the rows of a sweep are divided among
them, and process 0 writes the summary once every row is on disk.

Each process trains its rows on its own local devices (lanes sharded over them by the engine) and writes each finished
row to the shared workdir (`rows/B{b}.json`, then the marker `rows/B{b}.done`); process 0 waits for the other
processes' markers and then summarises exactly as a single process would, from the same files. A rerun of the same
sweep with any number of processes (one included) skips every finished row.
"""

import os
import pathlib
import time

import jax
from absl import logging


def start_cpu_devices(cfg) -> int:
  """How many XLA devices the CPU backend starts with, set before jax starts (a jax config that cannot change later).

  On a CPU a row splits each batch over the CPU devices (`lanes.batch_devices`): two devices compute the two halves
  of every step at once, each with its own stream of ops, where one device spreads each small op over both cores
  (+9% to +30% model-steps/s on 2 cores, BENCHMARKS.md). Starts max(1, sweep.devices) × the batch devices asked for
  (auto: 2 where the process may use 2 or more cores); a device count the user forced with XLA_FLAGS
  (--xla_force_host_platform_device_count) or jax_num_cpu_devices is left alone, and so is a multi-process run.
  Returns the count set (0 = none). Call before anything touches a device; the command line does."""
  d = cfg.distributed
  forced = "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")
  if forced or jax.config.jax_num_cpu_devices >= 0 or d.coordinator or _slurm_step_with_tasks():
    return 0
  cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
  split = cfg.sweep.batch_devices or (2 if cores >= 2 else 1)
  n = max(1, cfg.sweep.devices) * split
  if n == 1:
    return 0
  if n > cores:
    logging.warning("starting %d CPU devices for %d core(s) (sweep.devices × sweep.batch_devices): more devices than "
                    "cores slows every step; 0 (auto) starts 2", n, cores)  # fmt: skip
  jax.config.update("jax_num_cpu_devices", n)
  return n


def _slurm_step_with_tasks() -> bool:
  """Launched by `srun` with several tasks: jax's own SLURM detection knows the coordinator and the ranks."""
  return "SLURM_STEP_NODELIST" in os.environ and int(os.environ.get("SLURM_NTASKS", "1")) > 1


def initialize(cfg) -> None:
  """Joins the processes of a multi-process run (a no-op for a single process). Call before anything touches a
  device."""
  d = cfg.distributed  # checked by validate.config
  if d.coordinator:
    jax.distributed.initialize(d.coordinator, d.num_processes, d.process_id)
  elif _slurm_step_with_tasks():
    jax.distributed.initialize()  # coordinator, count and rank from SLURM's environment
  else:
    return
  logging.info("process %d of %d, local devices %s", jax.process_index(), jax.process_count(), jax.local_devices())


def my_rows(batch_sizes) -> list:
  """The batch sizes this process trains: every process_count-th row, starting at its index."""
  return list(batch_sizes)[jax.process_index() :: jax.process_count()]


def is_writer() -> bool:
  """Only process 0 writes the sweep-wide files (results.csv, fits, plots, summary)."""
  return jax.process_index() == 0


def wait_for(paths: list[pathlib.Path], poll_s: float = 2.0) -> None:
  """Blocks until every path exists (rows other processes train). If a process dies, jax.distributed's heartbeat
  ends the others; a rerun resumes every row from its checkpoint."""
  last_log = 0.0
  while missing := [p for p in paths if not p.exists()]:
    if time.time() - last_log > 60:
      logging.info(
        "process 0 waits for %d row(s) of other processes: %s", len(missing), ", ".join(p.stem for p in missing)
      )
      last_log = time.time()
    time.sleep(poll_s)
