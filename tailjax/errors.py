"""The one exception type that means "the user asked for something we cannot do", and how a command line ends on it."""

import contextlib
import dataclasses
import os
import shlex
import signal
import sys
import threading


@dataclasses.dataclass
class Position:
  """Where a run is (e.g. "B=64, step 120 of 1000") and what is on disk (e.g. "B64's checkpoint at step 100"): the
  row loop keeps it up to date, a command line's interrupt message says it."""

  where: str = ""
  saved: str = ""

  def note(self, where: str | None = None, saved: str | None = None) -> None:
    if where is not None:
      self.where = where
    if saved is not None:
      self.saved = saved


class UserError(ValueError):
  """Bad input: main prints its message on one line and exits non-zero, without a traceback.

  The message names the problem and the fix. A ValueError, so that a library caller (`tailjax.noise_report`,
  `tailjax.train_rows`) catches bad input the way Python code usually does.
  """


@contextlib.contextmanager
def one_line_errors(rerun_hint: str = "fix it and rerun"):
  """For a command line: a UserError inside is one line `tailjax: error: ...` on stderr and exit status 2; an
  operating-system failure (disk full, permissions, a file where a folder should be) one line and status 1; Ctrl-C
  one line and status 130 (`_interrupted`), saying where the run was: the block gets a `Position` to pass to it."""
  # Ctrl-C ends the process from a signal handler rather than by a KeyboardInterrupt, which library code that catches
  # BaseException could swallow. Where SIGINT is ignored (a shell script's background job) it stays ignored.
  main = threading.current_thread() is threading.main_thread()  # only the main thread may set a handler
  previous = signal.getsignal(signal.SIGINT) if main else signal.SIG_IGN
  position = Position()
  if previous is not signal.SIG_IGN:
    signal.signal(signal.SIGINT, lambda *_: _interrupted(position))
  try:
    yield position
  except UserError as e:
    _fail(f"tailjax: error: {e}", 2)
  except OSError as e:
    where = f" ({e.filename})" if e.filename else ""
    _fail(f"tailjax: error: {e.strerror or e}{where}; {rerun_hint}", 1)
  except KeyboardInterrupt:  # raised by code that had set its own handler
    _interrupted(position)
  finally:
    if previous is not signal.SIG_IGN:
      signal.signal(signal.SIGINT, previous)


def _interrupted(position: Position):
  """Ctrl-C: one line saying where the run stopped and the command that resumes it, status 130. The process ends at
  once (os._exit): unwinding the interpreter while XLA's threads compile or run has crashed it (status 139)."""
  from absl import logging

  at = f" at {position.where}" if position.where else ""
  kept = position.saved or "finished rows"
  python = os.path.relpath(sys.executable)  # the interpreter that ran it (.venv/bin/python), as the user would type it
  python = python if not python.startswith("..") else sys.executable
  command = " ".join(shlex.quote(a) for a in [python, "-m", "tailjax.main", *sys.argv[1:]])
  with contextlib.suppress(Exception):
    logging.flush()
  print(f"tailjax: interrupted{at}; kept on disk: {kept}; resume with: {command}", file=sys.stderr, flush=True)
  with contextlib.suppress(Exception):
    sys.stdout.flush()
  os._exit(130)


def _fail(line: str, status: int):
  from absl import logging  # absl is what every command line here runs on

  logging.flush()
  print(line, file=sys.stderr)
  sys.exit(status)
