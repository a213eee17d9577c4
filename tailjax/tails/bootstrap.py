"""The double bootstrap of Danielsson et al. (2001) that chooses Hill's k (as Voitalov et al.'s `tail-estimation`
runs it), without ever building a resample. The bootstrap of the whole Clauset fit behind `estimate`'s interval is
in `clauset`.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.tails import kernels
from tailjax.tails.input_checks import as_array, check_sample
from tailjax.tails.order_stats import top_desc


def moments_of_repeats(logs_M, count_M, k_max: int):
  """Hill's M1(k), M2(k) for k = 1 … k_max of the sample holding logs_M[i] (descending) count_M[i] times: its top
  k_max + 1 are the values repeated by their counts, so nothing is sorted.

  Returns (m1_K, m2_K, complete); complete is False if the counts hold fewer than k_max + 1 values.
  """
  top_K = logs_M[jnp.repeat(jnp.arange(logs_M.shape[0]), count_M, total_repeat_length=k_max + 1)]
  k_K = jnp.arange(1, k_max + 1, dtype=jnp.float32)
  s1, s2, nxt = jnp.cumsum(top_K[:-1]), jnp.cumsum(top_K[:-1] ** 2), top_K[1:]  # nxt = ln X(k+1)
  m1 = s1 / k_K - nxt
  return m1, s2 / k_K - 2 * nxt * s1 / k_K + nxt**2, jnp.sum(count_M) >= k_max + 1


@jax.jit(static_argnames=("n", "n_sub", "k_max", "n_boot"))
def _amse_curve(top_M, key, *, n: int, n_sub: int, k_max: int, n_boot: int):
  """Danielsson et al.'s bootstrap AMSE criterion mean_b (M2 − 2·M1²)² of Hill at k = 1 … k_max, over `n_boot`
  resamples of size n_sub from the n values whose top M are `top_M` (descending).

  A resample is drawn as a count per value, and only for the top M, which is where its top k_max + 1 come from: the
  number of its n_sub draws landing there is Binomial(n_sub, M/n), each uniform over them. Its order statistics are
  then the data's, repeated by their counts, so no resample is ever sorted. One whose draws do not reach rank
  k_max + 1 within the top M is left out (NaN), as the reference leaves out undefined estimates.
  """
  M = top_M.shape[0]
  logs_M = jnp.log(top_M) - jnp.log(top_M[-1])  # centred: the prefix sums below stay well-conditioned
  cap = min(int(n_sub * M / n + 8 * math.sqrt(n_sub * M / n) + 16), n_sub)

  def one(key):
    k_count, k_pick = jax.random.split(key)
    landed = jax.random.binomial(k_count, n_sub, M / n)  # how many of the n_sub draws land in the top M
    pick_C = jax.random.randint(k_pick, (cap,), 0, M)
    count_M = jnp.zeros(M, jnp.int32).at[pick_C].add(jnp.where(jnp.arange(cap) < landed, 1, 0))
    m1, m2, complete = moments_of_repeats(logs_M, count_M, k_max)
    return jnp.where(complete, (m2 - 2 * m1**2) ** 2, jnp.nan)

  return jnp.nanmean(jax.lax.map(one, jax.random.split(key, n_boot), batch_size=10), axis=0)


def hill_double_bootstrap(x, n_boot: int = 500, t: float = 0.5, k_max: int = 1 << 15, seed: int = 0) -> dict:
  """Hill with k chosen by the double bootstrap of Danielsson, de Haan, Peng & de Vries (2001), with Qi's (2008)
  constant, as Voitalov et al.'s `tail-estimation` runs it (and with its defaults: 500 resamples, t = ½).

  The bootstrap AMSE of Hill, mean (M2 − 2·M1²)², is minimised at k1 on resamples of size
  n1 = n^((1 + ln(t·n)/ln n)/2) (≈ √t·n) and at k2 on resamples of size n2 = n1²/n (≈ t·n); then
  k* = k1²/k2 · (2 (ln n1/ln k1 − 1))^(ln k1/ln n1 − 1).
  If k2 ≥ k1 (a false minimum) both searches start 0.005·n higher, as in the reference. Unlike the reference, which
  draws and sorts every resample in full, resamples are counts on the data's top values (`_amse_curve`: nothing is
  sorted), and k1, k2 are searched up to `k_max` rather than n1; `at_k_max` flags a minimum on that edge.

  Returns:
    dict: `k` (k*), `alpha` (Hill at k*), `k1`, `k2`, `n1`, `n2`, `at_k_max`.
  """
  x = as_array(x, "hill_double_bootstrap")
  n = check_sample(x, "hill_double_bootstrap", at_least=100)
  if not 0 < t < 1:
    raise ValueError(f"hill_double_bootstrap: t = {t}; the second resample size t·n needs 0 < t < 1 (default 0.5)")
  n1 = int(n ** (0.5 * (1 + math.log(int(t * n)) / math.log(n))))
  n2 = max(int(n1 * n1 / n), 4)
  k_max = min(k_max, n2 - 2)
  # Top values enough for the smaller resample (n2) to find its top k_max + 1 among them, with margin.
  M = min(n, int((k_max + 1) * n / n2 * 1.25 + 10 * math.sqrt((k_max + 1) * n / n2) + 64))
  top = top_desc(x, M)
  key1, key2 = jax.random.split(jax.random.key(seed))
  amse1, amse2 = (
    np.asarray(_amse_curve(top, key, n=n, n_sub=m, k_max=k_max, n_boot=n_boot)) for m, key in ((n1, key1), (n2, key2))
  )
  start = 1  # k ≥ 2, as in the reference
  while True:
    k1 = int(np.nanargmin(amse1[start:])) + start + 1
    k2 = int(np.nanargmin(amse2[start:])) + start + 1
    if k2 < k1 or start + int(0.005 * n) >= k_max - 1:
      break
    start += max(int(0.005 * n), 1)
  qi = (2 * (math.log(n1) / math.log(k1) - 1)) ** (math.log(k1) / math.log(n1) - 1)
  k = int(min(max(round(k1 * k1 / k2 * qi), 1), n - 1))
  return {
    "k": k,
    "alpha": float(kernels.hill(x, k)),
    "k1": k1,
    "k2": k2,
    "n1": n1,
    "n2": n2,
    "at_k_max": max(k1, k2) >= k_max,
  }
