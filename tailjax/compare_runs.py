"""Finished sweeps side by side: `python -m tailjax.compare_runs --out=DIR RUN1 RUN2 ...`.

The command line only; what it writes and how is `tailjax.analysis.compare_runs`.
"""

from absl import app, flags

from tailjax.analysis import compare_runs
from tailjax.errors import one_line_errors

_OUT = flags.DEFINE_string("out", None, "folder for the comparison")


def main(argv):
  if len(argv) < 2 or not _OUT.value:
    raise app.UsageError("pass --out=DIR and the workdirs of the runs to compare")
  with one_line_errors("pass an --out folder you can write"):
    lines = compare_runs.write(_OUT.value, argv[1:])
  print("\n".join(lines))


if __name__ == "__main__":
  app.run(main)
