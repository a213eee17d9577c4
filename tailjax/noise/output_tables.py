"""A sweep's gradient-noise files: every measurement (measure/B{b}/step{s}.json) gathered into alpha.csv,
noise_scale.csv, param_stats.csv, verdicts.csv, sublayer_gain.csv and hill_curves.json, and the plots.

Jax-free: it reads and writes files only, so the analysis of a finished sweep never loads the training stack.
"""

import json
import pathlib

from tailjax import files
from tailjax.noise import noise_plots

ALPHA_COLUMNS = [
  "step", "batch_size", "lane", "lr", "clip", "seed", "group", "kind", "pooling", "estimator", "k_ratio", "value",
  "ci_low", "ci_high", "n", "which",
]  # fmt: skip
SCALE_COLUMNS = [
  "step", "batch_size", "lane", "lr", "clip", "seed", "m", "b_simple", "trace_sigma", "true_grad_sq",
  "b_simple_two_batch", "b_small",
]  # fmt: skip
PARAM_COLUMNS = ["step", "batch_size", "lane", "group", "kind", "weight_norm", "grad_norm", "top_singular_values"]
GAIN_COLUMNS = ["step", "batch_size", "lane", "branch", "gain"]
VERDICT_COLUMNS = [
  "step", "batch_size", "lane", "group", "pooling", "n", "coords_left_out", "values_left_out", "category", "verdict",
  "hill_k", "hill_tail_index", "tail_index", "tail_index_ci_low", "tail_index_ci_high", "pdf_exponent", "bias",
  "stable_index", "moments_xi", "resampled", "tail_examples_effective", "coords_tested", "coords_rejecting_gaussian",
  "coords_excess_kurtosis_median", "views_disagree", "best",
]  # fmt: skip


def write_outputs(workdir, cfg) -> dict:
  """Gathers every measurement of the sweep into alpha.csv, noise_scale.csv, param_stats.csv, verdicts.csv,
  sublayer_gain.csv (transformer) and hill_curves.json, then draws the plots."""
  workdir = pathlib.Path(workdir)
  measurements = []
  for b in cfg.sweep.batch_sizes:
    folder = workdir / "measure" / f"B{b}"
    measurements += [
      json.loads(p.read_text()) for p in sorted(folder.glob("step*.json"), key=lambda p: int(p.stem[4:]))
    ]
  return write_tables(workdir, measurements, plots=cfg.output.plots, k_ratios=cfg.measure.k_ratios)


def write_tables(workdir, measurements: list[dict], *, plots: bool, k_ratios) -> dict:
  """Writes measurements (each what `noise.measurement.measure_lanes` returns) as the noise files of `workdir` and, with
  `plots`, draws the plots (at the middle of `k_ratios`); returns the gathered rows. Every file is rewritten whole
  and atomically (the sweep, the one-call report and the training-loop callback all write through here)."""
  workdir = pathlib.Path(workdir)
  found = {"alpha": [], "scale": [], "params": [], "verdicts": [], "hill_curves": [], "gains": []}
  for one in measurements:
    for key in found:
      found[key] += one.get(key, [])
  files.write_csv(workdir / "alpha.csv", found["alpha"], ALPHA_COLUMNS)
  files.write_csv(workdir / "noise_scale.csv", found["scale"], SCALE_COLUMNS)
  files.write_csv(workdir / "param_stats.csv", found["params"], PARAM_COLUMNS)
  files.write_csv(workdir / "verdicts.csv", found["verdicts"], VERDICT_COLUMNS)
  if found["gains"]:
    files.write_csv(workdir / "sublayer_gain.csv", found["gains"], GAIN_COLUMNS)
  files.write_json(workdir / "hill_curves.json", found["hill_curves"])
  if plots and any(r["estimator"] == "hill" for r in found["alpha"]):  # the plots show Hill
    noise_plots.all_plots(workdir, found, mid_ratio=sorted(k_ratios)[len(k_ratios) // 2])
  return found
