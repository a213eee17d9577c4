"""Time per tail estimator at n = 1e5, 1e6, 1e7 on |Student-t(2.5)| samples, next to numpy's selection.

  python -m tailjax.bench.estimator_speed                        # all estimators, n = 1e5, 1e6, 1e7 (~3 min, 2 cores)
  python -m tailjax.bench.estimator_speed --ns=1e6 --levy_n=100  # also scipy.stats.levy_stable.fit on 100 values

Each cell is the best of `--repeats` calls after one warm-up call (compilation excluded; k is traced, so a new k does
not recompile). k = n/10 for Hill and moments, n/40 for Pickands, Hill curve at k/100, k/10, k. Prints a markdown
table (seconds).
"""

import time

import jax
import numpy as np
from absl import app, flags

from tailjax import tails

_NS = flags.DEFINE_list("ns", ["1e5", "1e6", "1e7"], "sample sizes")
_REPEATS = flags.DEFINE_integer("repeats", 3, "timed calls per cell (best is kept)")
_LEVY_N = flags.DEFINE_integer("levy_n", 0, "if > 0, also time scipy.stats.levy_stable.fit on this many values")
_SLOW_UP_TO = flags.DEFINE_float("slow_up_to", 1e6, "largest n for estimate() and the double bootstrap")


FIRST_CALLS = {}  # name: seconds of the first (compiling) call, printed after the table


def chunk_seconds(row, lanes, train, val_batches, steps: int) -> float:
  """Wall seconds of one compiled chunk of `steps` steps of a fresh row, after a first chunk that compiles it."""
  state = row.init_state(lanes)
  state, *_ = row.run_chunk(state, lanes, train, val_batches, steps)  # compile
  jax.block_until_ready(state)
  t0 = time.perf_counter()
  state, m, _ = row.run_chunk(state, lanes, train, val_batches, steps)
  jax.block_until_ready(m)
  return time.perf_counter() - t0


def best_time(fn, repeats: int, name: str = "") -> float:
  """Seconds of the fastest of `repeats` calls of `fn`, after one warm-up call (compilation, kept in FIRST_CALLS)."""
  t0 = time.perf_counter()
  jax.block_until_ready(fn())
  FIRST_CALLS[name] = time.perf_counter() - t0
  best = float("inf")
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - t0)
  return best


def _cells(n: int) -> dict:
  """name: a call to time, on one |Student-t(2.5)| draw of n values."""
  x_np = np.random.default_rng(0).standard_t(2.5, n).astype(np.float32)
  x = jax.numpy.asarray(x_np)
  k = n // 10

  def numpy_hill():
    a = np.abs(x_np)
    top = np.partition(a, n - k - 1)[n - k - 1 :]
    return k / np.sum(np.log(top[1:] / top[0]))

  cells = {
    "numpy partition of |x| (selection only)": lambda: np.partition(np.abs(x_np), n - k - 1),
    "numpy Hill (abs, partition, log-sum)": numpy_hill,
    "hill": lambda: tails.hill(x, k),
    "moments": lambda: tails.moments(x, k),
    "pickands (3 selections)": lambda: tails.pickands(x, k // 4),
    "hill_curve (3 k)": lambda: tails.hill_curve(x, (k // 100, k // 10, k)),
    'stable_alpha "mohammadi"': lambda: tails.stable_alpha(x, "mohammadi"),
    'stable_alpha "ecf"': lambda: tails.stable_alpha(x, "ecf"),
    "fit_power_law_tail (Clauset)": lambda: tails.fit_power_law_tail(x)["tail_index"],
  }
  if n <= _SLOW_UP_TO.value:
    cells["fit_power_law_tail, bootstrap of the whole fit (200)"] = lambda: tails.fit_power_law_tail(x, n_boot=200)
    cells["fit_power_law_tail, goodness of fit (100 sets)"] = lambda: tails.fit_power_law_tail(x, gof=100)
  if n <= _SLOW_UP_TO.value:
    cells["hill_double_bootstrap (100 resamples)"] = lambda: tails.hill_double_bootstrap(x, n_boot=100)["alpha"]
    cells["estimate() (KS k, interval, moments, stable)"] = lambda: tails.estimate(x)["hill"]["alpha"]
  return cells


def main(argv):
  del argv
  ns = [int(float(v)) for v in _NS.value]
  rows = {}
  for n in ns:
    for name, fn in _cells(n).items():
      rows.setdefault(name, {})[n] = best_time(fn, _REPEATS.value, f"{name} n={n:.0e}")
      print(f"{name} n={n:.0e}: {rows[name][n]:.4f} s", flush=True)
  print("\n| estimator | " + " | ".join(f"n = {n:.0e}" for n in ns) + " |")
  print("|---" * (len(ns) + 1) + "|")
  for name, by_n in rows.items():
    print(f"| {name} | " + " | ".join(f"{by_n[n]:.4f}" if n in by_n else "–" for n in ns) + " |")
  print("\nfirst (compiling) calls, s: " + "; ".join(f"{k} {v:.2f}" for k, v in FIRST_CALLS.items()))
  if _LEVY_N.value:
    import scipy.stats as st  # the reference stable likelihood

    sub = st.levy_stable.rvs(1.5, 0.0, size=_LEVY_N.value, random_state=np.random.default_rng(0))
    t0 = time.perf_counter()
    alpha = st.levy_stable.fit(sub)[0]
    print(f"\nscipy.stats.levy_stable.fit, n = {_LEVY_N.value}: {time.perf_counter() - t0:.1f} s (α̂ = {alpha:.2f})")


if __name__ == "__main__":
  app.run(main)
