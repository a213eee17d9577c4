"""Atomic writes: a reader (or a killed run) sees the old file or the new one, never half of one."""

import csv
import io
import json
import os
import pathlib
import tempfile

from tailjax.errors import UserError


def write_bytes(path, payload: bytes) -> None:
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(payload)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except OSError as e:  # disk full, quota, read-only: the old file (if any) is untouched
    pathlib.Path(tmp).unlink(missing_ok=True)
    raise UserError(
      f"cannot write {path} ({e.strerror}); free space or fix permissions and rerun: finished rows are kept"
    ) from None
  except BaseException:
    pathlib.Path(tmp).unlink(missing_ok=True)
    raise


def write_text(path, text: str) -> None:
  write_bytes(path, text.encode())


def write_json(path, obj) -> None:
  write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def write_csv(path, rows: list[dict], columns: list[str]) -> None:
  buf = io.StringIO()
  w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
  w.writeheader()
  w.writerows(rows)
  write_text(path, buf.getvalue())


def write_figure(path, fig) -> None:
  buf = io.BytesIO()
  fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
  write_bytes(path, buf.getvalue())


def _jsonable(x):
  if hasattr(x, "item"):  # numpy scalars
    return x.item()
  if hasattr(x, "tolist"):
    return x.tolist()
  raise TypeError(f"not JSON serialisable: {type(x)}")
