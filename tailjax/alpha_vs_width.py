"""α against model width across finished runs: `python -m tailjax.alpha_vs_width --out=DIR RUN1 RUN2 ...`.

The command line only; what it reads and draws is `tailjax.analysis.alpha_vs_width`.
"""

from absl import app, flags

from tailjax.analysis import alpha_vs_width
from tailjax.errors import one_line_errors

_OUT = flags.DEFINE_string("out", None, "folder for alpha_vs_width.csv and .png")


def main(argv):
  if len(argv) < 2 or not _OUT.value:
    raise app.UsageError("pass --out=DIR and the workdirs of the runs to compare")
  with one_line_errors("pass an --out folder you can write"):
    csv_path, png_path = alpha_vs_width.write(_OUT.value, argv[1:])
  print(f"wrote {csv_path} and {png_path}")


if __name__ == "__main__":
  app.run(main)
