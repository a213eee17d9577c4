"""One measurement of every lane of a row: per-example noise, its tails per tensor and pooled by kind, the noise
scale, per-tensor weight statistics and (at the last measurement) the verdicts: the rows of the sweep's noise files.
"""

import jax
import jax.numpy as jnp
import numpy as np

from tailjax import tails
from tailjax.noise import per_example, pool_estimates
from tailjax.tails import coordinates


@jax.jit
def _lane(params_R, r):
  """Lane r's parameters (one program for every tensor, not one slice per tensor shape)."""
  return jax.tree.map(lambda v: v[r], params_R)


@jax.jit
def _param_stats(params):
  """Per tensor (tree_leaves order): its Frobenius norm and, for a matrix (leading axes flattened), its three largest
  singular values (empty for a vector)."""
  leaves = jax.tree_util.tree_leaves(params)
  norms = jnp.stack([jnp.linalg.norm(w.ravel().astype(jnp.float32)) for w in leaves])
  top = [
    jnp.linalg.svd(w.reshape(-1, w.shape[-1]).astype(jnp.float32), compute_uv=False)[:3] if w.ndim >= 2 else None
    for w in leaves
  ]
  return norms, top


def is_measured(lane: dict, measure_cfg) -> bool:
  """Whether a lane's seed is among `measure.seeds` (all are when it is empty)."""
  return not measure_cfg.seeds or lane["seed"] in measure_cfg.seeds


def measure_lanes(
  *,
  loss_one,
  params_R,
  table: list[dict],
  labels: list[str],
  diverged_R,
  step: int,
  batch_size: int,
  examples,
  measure_cfg,
  verdict: bool,
  gains_fn=None,
  kind_fn=None,
) -> dict:
  """One measurement of every lane of a row: rows for alpha.csv, noise_scale.csv, param_stats.csv, verdicts.csv
  (`measure_cfg` is the config's measure section).

  `loss_one(params, example)` is the loss of one example; `params_R` carries the lane axis; `gains_fn(params,
  examples)`, if given, returns each residual branch's ‖f(x)‖/‖x‖ (sublayer_gain.csv); `kind_fn(name, ndim)` names
  the pool of each tensor (`per_example.per_example_noise`). A diverged lane is skipped (its parameters are frozen at
  the last finite step and say nothing about the noise), and so is a lane whose seed `measure_cfg.seeds` leaves out
  (every file then has rows for the measured seeds only), and a lane whose per-example gradients are not all finite
  (its label is listed under "non_finite")."""
  out = {"alpha": [], "scale": [], "params": [], "verdicts": [], "hill_curves": [], "gains": [], "non_finite": []}
  shapes = jax.tree.map(lambda v: jax.ShapeDtypeStruct(v.shape[1:], v.dtype), params_R)
  coords = per_example.coordinates(shapes, measure_cfg.coords_per_group)
  # One lane at a time, not vmapped: the memory budget holds one lane's chunk of per-example gradients.
  for r, lane in enumerate(table):
    if diverged_R[r] or not is_measured(lane, measure_cfg):
      continue
    params = _lane(params_R, r)
    noise = per_example.per_example_noise(
      loss_one, params, examples, budget_bytes=measure_cfg.budget_mb * 2**20, coords=coords, kind_fn=kind_fn
    )
    if not all(map(np.isfinite, (noise.trace_sigma, noise.mean_grad_sq))):  # a NaN or inf in some g_i
      out["non_finite"].append(labels[r])
      continue
    head = {"step": step, "batch_size": batch_size, "lane": labels[r], "lr": lane["lr"], "clip": lane["clip"],
            "seed": lane["seed"]}  # fmt: skip
    short = {k: head[k] for k in ("step", "batch_size", "lane")}
    found = _tails(noise, measure_cfg, verdict)
    out["alpha"] += _alpha_rows(head, found["alpha_rows"], measure_cfg.estimators)
    out["hill_curves"] += _hill_curve_rows({"step": step, "lane": labels[r]}, found)
    out["scale"].append(_scale_row(head, noise))
    out["params"] += _param_rows(short, params, noise)
    if gains_fn is not None:
      out["gains"] += [{**short, "branch": branch, "gain": float(gain)}
                       for branch, gain in gains_fn(params, examples).items()]  # fmt: skip
    for group, (rep, left_out, pooling, values_left_out) in found["reports"].items():
      out["verdicts"].append({**short, "group": group, **verdict_row(rep, left_out, pooling, values_left_out)})
  return out


def _tails(noise, measure_cfg, verdict: bool) -> dict:
  """The tail estimates of one lane's noise: each tensor and each pool (robust and raw) at measure.k_ratios, with
  Hill plots ("groups", "alpha_rows", "curves"), and with `verdict` every pool's full verdict ("reports")."""
  tensor_views, left_out = pool_estimates.views(noise)
  pools = {p: pool_estimates.pooled_by_kind(noise, tensor_views, left_out, p) for p in pool_estimates.POOLINGS}
  groups = [({"group": name, "kind": noise.kind[name], "pooling": "robust"}, tensor_views[name]["robust"], False)
            for name in noise.noise_MxS]  # fmt: skip
  groups += [  # pools, with their Hill plots (the raw one too: one program for both views)
    ({"group": pool_estimates.group_name(kind, pooling), "kind": kind, "pooling": pooling}, sample, True)
    for pooling, by_kind in pools.items()
    for kind, (sample, _) in by_kind.items()
  ]
  alpha_rows, curves = pool_estimates.estimate_rows(groups, tuple(measure_cfg.k_ratios))  # one call per size
  reports = {}
  if verdict:
    reports = pool_verdicts(pools, n_boot=measure_cfg.n_boot, per_coordinate=pool_estimates.per_coordinate(noise))
  robust_pools = {pool_estimates.group_name(kind, "robust") for kind in pools["robust"]}
  return {"groups": groups, "alpha_rows": alpha_rows, "curves": curves, "reports": reports, "robust": robust_pools}


def _alpha_rows(head: dict, alpha_rows: list[dict], estimators) -> list[dict]:
  """alpha.csv: the estimators measure.estimators names, Hill's with its iid asymptotic interval."""
  out = []
  for row in (row for row in alpha_rows if row["estimator"] in set(estimators)):
    ci = ("", "")
    if row["estimator"] == "hill":
      ci = pool_estimates.hill_interval(row["value"], max(int(row["k_ratio"] * row["n"]), 1))
    out.append({**head, **row, "ci_low": ci[0], "ci_high": ci[1]})
  return out


def _hill_curve_rows(where: dict, found: dict) -> list[dict]:
  """The Hill plots of the robust pools (does α̂ settle as k grows?): the verdict's curve on the sample it read where
  there is one, else the measurement's for a pool of at least 1,000 values."""
  out = []
  for (meta, (_, n, _), _), (ks, alphas) in zip(found["groups"], found["curves"], strict=True):
    group = meta["group"]
    if group not in found["robust"]:
      continue
    if group in found["reports"]:  # n: the size of the sample the verdict read
      rep = found["reports"][group][0]
      out.append({**where, "group": group, "k": rep["hill_curve"]["k"], "alpha": rep["hill_curve"]["alpha"],
                  "n": rep["n"], "from": "verdict"})  # fmt: skip
    elif ks is not None and int(n) >= 1000:
      out.append({**where, "group": group, "k": ks, "alpha": alphas, "n": int(n), "from": "measurement"})
  return out


def _scale_row(head: dict, noise) -> dict:
  """noise_scale.csv: B_simple (and its two-batch and small-batch forms), tr Σ and |G|²."""
  return {**head, "m": noise.m, "b_simple": noise.b_simple, "trace_sigma": noise.trace_sigma,
          "true_grad_sq": noise.true_grad_sq, "b_simple_two_batch": noise.b_simple_two_batch,
          "b_small": noise.b_small}  # fmt: skip


def _param_rows(short: dict, params, noise) -> list[dict]:
  """param_stats.csv: per tensor its weight norm, mean per-example gradient norm and three largest singular values."""
  norms, tops = jax.device_get(_param_stats(params))
  return [
    {**short, "group": name, "kind": noise.kind[name], "weight_norm": float(w_norm), "grad_norm": g,
     "top_singular_values": "" if top is None else " ".join(f"{float(v):.4g}" for v in top)}
    for w_norm, top, (name, g) in zip(norms, tops, noise.mean_grad_norm.items(), strict=True)
  ]  # fmt: skip


def pool_verdicts(pools: dict, *, n_boot: int, per_coordinate: dict | None = None) -> dict:
  """The full `tails.estimate` verdict of every pooled group (`pools`: pooling → kind → ((padded sample, n, padded
  examples), coordinates left out)), its interval from resampled examples; `per_coordinate`: kind → the
  per-coordinate view reported beside it. Returns group name → (report, coordinates left out, pooling, values left
  out). Its Hill plot is the one drawn, so verdict and plot agree."""
  reports = {}
  for pooling, by_kind in pools.items():
    for kind, (padded_sample, left) in by_kind.items():
      sample, examples = pool_estimates.sample_of(padded_sample)
      # exact zeros (a raw pool's ReLU atoms; the robust pool has none left) are dropped before the power-of-two
      # subset, so `estimate` sees a power-of-two size and compiles once per size, not once per pool
      nonzero = sample != 0
      sample, examples = sample[nonzero], examples[nonzero]
      if sample.size >= 100:
        # the family fits (scipy, ~1 s a group) and the bootstrap of the whole fit are for the view every plot
        # reads; the raw view is a comparison, its interval Hill's asymptotic one (widened by the plateau)
        robust = pooling == "robust"
        keep = _power_of_two_subset(sample.size)
        rep = tails.estimate(
          sample[keep], examples=examples[keep], families=robust, n_boot=n_boot if robust else 0,
          per_coordinate=(per_coordinate or {}).get(kind),
        )  # fmt: skip
        dropped = int(pools["raw"][kind][0][1]) - sample.size  # atoms, zeros, flat coordinates' values
        reports[pool_estimates.group_name(kind, pooling)] = (rep, left, pooling, dropped)
  return reports


def verdict_row(rep: dict, coords_left_out: int, pooling: str, values_left_out: int) -> dict:
  """A row of verdicts.csv (without step, batch size, lane and group) from a `tails.estimate` report. The tail index
  columns hold a number only where the verdict is a power law: for another law Hill's number is no index. Each
  "α" says which it is: `tail_index` (Hill's α, P(|X| > x) ~ x^(−α)), `pdf_exponent` (= 1 + tail index, Clauset's
  and the powerlaw package's α), `stable_index` (Koutrouvelis' ECF, in (0, 2]: the best-fitting stable law's)."""
  t, ex, view = rep["tail_index"], rep["tail_examples"] or {}, rep["per_coordinate"] or {}
  index = rep["category"] == "power law"
  kurtosis = view.get("excess_kurtosis") or {}
  return {
    "pooling": pooling, "n": rep["n"], "coords_left_out": coords_left_out, "values_left_out": values_left_out,
    "category": rep["category"], "verdict": rep["verdict"], "hill_k": rep["hill"]["k"],
    "hill_tail_index": rep["hill"]["alpha"],
    "tail_index": t["alpha"] if index else "", "tail_index_ci_low": t["ci95"][0] if index else "",
    "tail_index_ci_high": t["ci95"][1] if index else "", "pdf_exponent": t["alpha"] + 1 if index else "",
    "bias": t["bias"] if index else "", "stable_index": rep["stable_alpha"]["ecf"],
    "moments_xi": rep["moments_xi"], "resampled": rep["resampled"],
    "tail_examples_effective": ex.get("effective", ""),
    "coords_tested": view.get("coordinates", ""), "coords_rejecting_gaussian": view.get("share_rejecting", ""),
    "coords_excess_kurtosis_median": kurtosis.get(0.5, ""),
    "views_disagree": bool(coordinates.disagreement(rep["category"], view)) if view else "",
    "best": rep["families"]["best"] if "families" in rep else "",
  }  # fmt: skip


def _power_of_two_subset(n: int):
  """2^⌊log2 n⌋ of n values (at least half of them), evenly spread, as indices (a slice where it is all of them):
  `tails.estimate` compiles its programs per sample size, and pools of every lane and kind differ in size by a few
  values, so without this each verdict would compile anew (~2 s each on a CPU). The pool's coordinates are already a
  random subset of each tensor's, laid out example by example, so an even spread keeps every tensor's and every
  example's share: a sample of the same law."""
  size = 1 << (n.bit_length() - 1)
  if size == n:
    return slice(None)
  return (np.arange(size, dtype=np.int64) * n) // size
