"""ruff format and ruff check are part of the suite."""

import subprocess
import sys

from tests.conftest import REPO


def _ruff(*args):
  return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_format():
  r = _ruff("format", "--check", ".")
  assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_check():
  r = _ruff("check", ".")
  assert r.returncode == 0, r.stdout + r.stderr
