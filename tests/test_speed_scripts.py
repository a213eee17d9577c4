"""The whole-process A/B bench reads its phases from the CLI's own log lines."""

import datetime

import pytest

from tailjax.bench import cli_vs_torch


def test_phases_are_read_from_the_log_time_stamps():
  t0 = datetime.datetime(2026, 12, 2, 5, 29, 50, tzinfo=datetime.UTC).timestamp()
  log = "\n".join([
    "I1202 05:29:55.422142 1 sweep.py:75] data pydoc: V=103",
    "I1202 05:30:04.404182 1 row_loop.py:135] B32: 5 lanes (lr=0.0001, lr=0.01), strategy map, 1 device(s)",
    "I1202 05:31:07.966879 1 row_loop.py:159] B32 step 100/300  val loss per lane: 3.668 2.274",
    "I1202 05:32:03.998458 1 row_loop.py:159] B32 step 200/300  val loss per lane: 3.152 2.167",
    "I1202 05:32:58.306787 1 row_loop.py:159] B32 step 300/300  val loss per lane: 2.877 1.959",
    "I1202 05:32:58.365088 1 summary.py:64] results in /tmp/ab1",
  ])  # fmt: skip
  got = cli_vs_torch.phases(log, t0, t0 + 190.0)
  assert got["start-up"] == pytest.approx(14.404182)
  assert got["first chunk"] == pytest.approx(63.562697)
  assert got["other chunks"] == pytest.approx(110.339908)
  assert got["end"] == pytest.approx(190.0 - (14.404182 + 63.562697 + 110.339908), abs=1e-5)
  assert sum(got[k] for k in ("start-up", "first chunk", "other chunks", "end")) == pytest.approx(190.0)
  assert cli_vs_torch.phases("no time stamps here", t0, t0 + 1) == {}
