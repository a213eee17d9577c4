"""tailjax's tail estimators side by side with the references a user would otherwise run, over repeated draws.

  python -m tailjax.bench.compare_references --voitalov=PATH/tail-estimation.py --draws=20

References (not tailjax dependencies; each is skipped, with a note, when absent):
  Voitalov et al.'s `tail-estimation` (Hill with double-bootstrap k): the script Python3/tail-estimation.py from
    github.com/ivanvoitalov/tail-estimation, passed by path (it is not on PyPI).
  `powerlaw` (Clauset–Shalizi–Newman fit, default x_min search): pip install powerlaw.
Laws with a known tail index α: |Student-t(2.5)|, Pareto(1.5), |Cauchy|. Prints one markdown table: method, law, n,
draws, mean α̂, bias, RMSE, median seconds per call (tailjax compiled once per shape beforehand; that compile is
reported separately).
"""

import contextlib
import importlib.util
import io
import math
import time

import numpy as np
from absl import app, flags

from tailjax import tails

_VOITALOV = flags.DEFINE_string("voitalov", None, "path to tail-estimation.py (Voitalov et al.); omit to skip it")
_DRAWS = flags.DEFINE_integer("draws", 20, "draws per law at the smaller n")
_DRAWS_LARGE = flags.DEFINE_integer("draws_large", 5, "draws per law at n = 1e6 (double bootstrap only)")
_RESAMPLES = flags.DEFINE_integer("resamples", 100, "bootstrap resamples for both double-bootstrap implementations")
_ONLY = flags.DEFINE_string("only", "", "run only methods whose name contains this (e.g. tailjax)")
_POWERLAW_N = flags.DEFINE_integer("powerlaw_n", 10_000, "sample size for the Clauset-fit comparison")

LAWS = {  # name: (draw(rng, n), tail index α)
  "|t(2.5)|": (lambda rng, n: np.abs(rng.standard_t(2.5, n)), 2.5),
  "Pareto(1.5)": (lambda rng, n: rng.pareto(1.5, n) + 1.0, 1.5),
  "|Cauchy|": (lambda rng, n: np.abs(rng.standard_cauchy(n)), 1.0),
}


def _load_voitalov(path):
  spec = importlib.util.spec_from_file_location("voitalov_tail_estimation", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _quiet(fn, *args, **kwargs):
  """Both references print progress; keep the table readable."""
  with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    return fn(*args, **kwargs)


def _timed(fn, x):
  t0 = time.perf_counter()
  out = fn(x)
  return out, time.perf_counter() - t0


def _methods():
  """name: (estimate α from |x|, which comparison it belongs to)."""
  r = _RESAMPLES.value
  out = {
    "tailjax hill_double_bootstrap": (
      lambda x: tails.hill_double_bootstrap(x.astype(np.float32), n_boot=r)["alpha"],
      "double bootstrap",
    ),
    "tailjax fit_power_law_tail": (lambda x: tails.fit_power_law_tail(x.astype(np.float32))["tail_index"], "clauset"),
  }
  if _VOITALOV.value:
    ref = _load_voitalov(_VOITALOV.value)

    def voitalov(x):
      ordered = np.sort(x.astype(np.float64))[::-1]
      return 1.0 / _quiet(ref.hill_estimator, ordered, r_bootstrap=r)[3]

    out["Voitalov hill_estimator"] = (voitalov, "double bootstrap")
  try:
    import powerlaw

    out["powerlaw.Fit"] = (lambda x: _quiet(powerlaw.Fit, x.astype(np.float64)).power_law.alpha - 1.0, "clauset")
  except ImportError:
    pass
  return out


def main(argv):
  del argv
  methods = _methods()
  if not _VOITALOV.value:
    print("(Voitalov's tail-estimation not given: --voitalov=PATH/tail-estimation.py)")
  if "powerlaw.Fit" not in methods:
    print("(powerlaw not installed: pip install powerlaw)")
  plan = []  # (method, n, draws)
  for name, (_, kind) in methods.items():
    if _ONLY.value not in name:
      continue
    if kind == "clauset":
      plan.append((name, _POWERLAW_N.value, _DRAWS.value))
    else:
      plan += [(name, 100_000, _DRAWS.value), (name, 1_000_000, _DRAWS_LARGE.value)]
  print("| method | law | n | draws | mean α̂ | bias | RMSE | median s/call | α |")
  print("|---|---|---|---|---|---|---|---|---|")
  for name, n, draws in plan:
    fn = methods[name][0]
    for law, (draw, alpha) in LAWS.items():
      if name.startswith("tailjax"):
        _, compile_s = _timed(fn, draw(np.random.default_rng(10_000), n))
      estimates, seconds = [], []
      for seed in range(draws):
        x = draw(np.random.default_rng(seed), n)
        value, dt = _timed(fn, x)
        estimates.append(value)
        seconds.append(dt)
      est = np.asarray(estimates)
      bias, rmse = est.mean() - alpha, math.sqrt(np.mean((est - alpha) ** 2))
      note = f" (first call {compile_s:.1f} s)" if name.startswith("tailjax") else ""
      print(
        f"| {name} | {law} | {n:.0e} | {draws} | {est.mean():.3f} | {bias:+.3f} | {rmse:.3f} | "
        f"{np.median(seconds):.3f}{note} | {alpha} |",
        flush=True,
      )


if __name__ == "__main__":
  app.run(main)
