"""The one exception type that means "the user asked for something we cannot do", and how a command line ends on it."""

import contextlib
import sys


class UserError(Exception):
  """Bad input: main prints its message on one line and exits non-zero, without a traceback.

  The message names the problem and the fix.
  """


@contextlib.contextmanager
def one_line_errors(rerun_hint: str = "fix it and rerun"):
  """For a command line: a UserError inside is one line `tailjax: error: ...` on stderr and exit status 2; an
  operating-system failure (disk full, permissions, a file where a folder should be) one line and status 1."""
  try:
    yield
  except UserError as e:
    _fail(f"tailjax: error: {e}", 2)
  except OSError as e:
    where = f" ({e.filename})" if e.filename else ""
    _fail(f"tailjax: error: {e.strerror or e}{where}; {rerun_hint}", 1)


def _fail(line: str, status: int):
  from absl import logging  # absl is what every command line here runs on

  logging.flush()
  print(line, file=sys.stderr)
  sys.exit(status)
