"""The gradient-noise report of your own model in one call (`noise_report`), and the same as a callback that your own
training loop calls every N steps (`NoiseCallback`).

Both run the sweep's own measurement (`noise.measurement.measure_lanes`: the compiled per-example gradients, the robust
and raw pools, the estimators, the verdict with its alternatives and interval, the noise scale) on one set of
parameters, and write the sweep's files (`noise.reports.write_tables`): there is no second code path, so a model of
yours gets the same numbers, files and plots as the study's models.
"""

import dataclasses
import hashlib
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from tailjax import files
from tailjax.custom import settings
from tailjax.errors import UserError
from tailjax.models import param_kinds
from tailjax.noise import measurement, output_tables, per_example
from tailjax.tasks import base as task_base
from tailjax.workdir import make as make_folder

_FIELDS = ("alpha", "scale", "params", "verdicts", "hill_curves", "gains")


def _coordinates(v) -> str:
  """The per-coordinate view of a verdict row in words (what the verdict says at more length)."""
  if v["coords_tested"] == "":
    return "no per-coordinate view"
  clause = (
    f"per coordinate, {v['coords_rejecting_gaussian']:.0%} of {v['coords_tested']} coordinates reject a Gaussian "
    f"(Anderson–Darling, FDR 5%)"
  )
  return clause + (": the pooled and per-coordinate views disagree" if v["views_disagree"] is True else "")


@dataclasses.dataclass(frozen=True)
class NoiseReport:
  """One measurement: the rows of the sweep's files (alpha.csv, noise_scale.csv, param_stats.csv, verdicts.csv,
  hill_curves.json), each a list of dicts with those files' columns.

  `verdicts` has one row per pooled group and view ("all <kind>": coordinates scaled robustly, what every plot
  reads; "raw <kind>": as they are): category (power law, lognormal-like, exponential-like, ...), the verdict's
  text, the tail index with its 95% interval where the verdict is a power law, Hill's α̂ at its chosen k, the
  moments ξ and the best-fitting family. `alpha` has every estimator per tensor and per pool, `noise_scale` B_simple
  and McCandlish's two-batch estimate.
  """

  alpha: list
  noise_scale: list
  param_stats: list
  verdicts: list
  hill_curves: list

  def summary(self) -> str:
    """One line per robust pool (its verdict, and the tail index with its interval where there is one; without
    verdicts, Hill's α̂ at the middle k/n with what it is), then the noise scale: what a reader may quote, each
    number with what it is."""
    lines = []
    pool_n = {r["group"]: r["n"] for r in self.alpha}  # every value of the pool (the verdict reads a subset)
    for v in (v for v in self.verdicts if v["pooling"] == "robust"):
      of = pool_n.get(v["group"], v["n"])
      n = f"n = {v['n']}" + (f" of its {of} values, a random power-of-two subset" if of != v["n"] else "")
      if v["tail_index"] != "":
        lines.append(
          f"{v['group']} ({n}): {v['category']}: tail index α = {v['tail_index']:.2f}, 95% interval "
          f"[{v['tail_index_ci_low']:.2f}, {v['tail_index_ci_high']:.2f}] (Hill's α; pdf exponent "
          f"{v['pdf_exponent']:.2f}, Clauset's and the powerlaw package's α; stable index {v['stable_index']:.2f} by "
          f"ECF, in (0, 2]); {_coordinates(v)}"
        )
      else:
        lines.append(f"{v['group']} ({n}): {v['verdict']} (so no tail index: a Hill α there is not one)")
    if not self.verdicts:  # verdict=False: the Hill estimates are there, but no verdict says whether they mean a tail
      ratios = sorted({r["k_ratio"] for r in self.alpha if r["estimator"] == "hill"})
      mid = ratios[len(ratios) // 2] if ratios else None
      for r in self.alpha:
        if r["estimator"] == "hill" and r["k_ratio"] == mid and r["group"].startswith("all "):
          lines.append(f"{r['group']} (n = {r['n']}): Hill α̂ = {r['value']:.2f} at k = {mid:g}·n, no verdict run "
                       "(verdict=False): a tail index only if the Hill plot has a plateau")  # fmt: skip
    for s in self.noise_scale:
      if s["b_simple"] == float("inf"):
        lines.append(
          f"noise scale B_simple = tr(Σ)/|G|²: not resolved from m = {s['m']} examples (|G|² estimated "
          f"{s['true_grad_sq']:.3g} ≤ 0: the noise swamps the mean gradient, so B_simple is larger than these examples "
          "can measure; use more examples, or parameters further from an optimum)"
        )
        continue
      two = s["b_simple_two_batch"]
      lines.append(
        f"noise scale B_simple = tr(Σ)/|G|² = {s['b_simple']:.4g} from m = {s['m']} examples; McCandlish's two-batch "
        f"estimate {two:.4g} (batches of {s['b_small']} against all m)"
        + (" (inf: its |G|² came out ≤ 0)" if two == float("inf") else "")
      )
    return "\n".join(lines)


# the measure fields a report reads; the others (steps, every, examples, seeds) say when and what a sweep measures
REPORT_FIELDS = ("coords_per_group", "k_ratios", "n_boot", "budget_mb", "estimators", "verdict")


def _measure_settings(overrides: dict):
  """The measure section: configs/base.py's defaults with `overrides` (measure's own field names) set and checked."""
  for k in overrides:
    if k in settings.default_config().measure and k not in REPORT_FIELDS:
      raise UserError(
        f"measure.{k} says when or what a sweep measures, nothing for a report of the parameters and examples you "
        f"pass (they are measured as given); a report takes {', '.join(REPORT_FIELDS)}"
      )
  return settings.with_overrides(settings.default_config(), {f"measure.{k}": v for k, v in overrides.items()}).measure


def _measure(loss_fn, params, examples, *, kind_fn, step: int, label: str, batch_size, measure_cfg) -> dict:
  """The sweep's measurement of one set of parameters (a row of one lane), or one clear ValueError."""
  per_example.check_examples(loss_fn, params, examples)
  kind_fn = kind_fn or task_base.default_kind
  for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
    name = param_kinds.group_name(path)
    try:
      kind = kind_fn(name, np.ndim(leaf))
    except Exception as e:  # noqa: BLE001 - the user's function failed: one line naming it
      raise UserError(f"kind_fn({name!r}, {np.ndim(leaf)}) fails: {type(e).__name__}: {e}; it takes a tensor's "
                      "name and its number of axes and returns the name of its pool") from None  # fmt: skip
    if not isinstance(kind, str) or not kind:
      raise UserError(f"kind_fn({name!r}, {np.ndim(leaf)}) returned {kind!r}; it must return a non-empty string")
  params_R = jax.tree.map(lambda v: jnp.asarray(v)[None], params)
  found = measurement.measure_lanes(
    loss_one=loss_fn,
    params_R=params_R,
    table=[{"lr": "", "clip": "", "seed": ""}],  # not a lane of a sweep: no learning rate, clip or seed to name
    labels=[label],
    diverged_R=np.zeros(1, bool),
    step=step,
    batch_size=batch_size,
    examples=examples,
    measure_cfg=measure_cfg,
    verdict=measure_cfg.verdict,
    kind_fn=kind_fn,
  )
  if found["non_finite"]:
    raise UserError(
      "some per-example gradients are not finite (NaN or inf): check the loss at these parameters and examples "
      "(a log of 0, an overflow), or measure at parameters where training has not diverged"
    )
  return found


def _report(found: dict) -> NoiseReport:
  return NoiseReport(
    alpha=found["alpha"],
    noise_scale=found["scale"],
    param_stats=found["params"],
    verdicts=found["verdicts"],
    hill_curves=found["hill_curves"],
  )


def noise_report(
  loss_fn,
  params,
  examples,
  *,
  workdir: str | pathlib.Path | None = None,
  kind_fn=None,
  label: str = "model",
  step: int = 0,
  batch_size: int | str = "",
  plots: bool = True,
  **measure,
) -> NoiseReport:
  """The gradient-noise report of `loss_fn` at `params` over the m examples of `examples`.

  Args:
    loss_fn: loss_fn(params, example) -> scalar, the loss of ONE example (no batch axis). Pass the same function
      object each time: its programs are compiled once per function.
    params: the parameters (a pytree of arrays).
    examples: a pytree whose leaves share a leading axis m ≥ 2 (m = 64 to 256 is usual).
    workdir: if given, alpha.csv, noise_scale.csv, param_stats.csv, verdicts.csv, hill_curves.json and (with
      `plots`) the plots are written there, as a sweep writes them.
    kind_fn: kind_fn(name, ndim) -> str, the pool of each parameter tensor (name: "Dense_0/kernel"); default
      `tailjax.tasks.base.default_kind`: the study's kinds where the names say one (attention, ffn, conv,
      embedding, head, vector), else the top-level module without flax's index ("Conv", "Dense").
    label, step, batch_size: what the rows' lane, step and batch_size columns say.
    plots: draw the plots into `workdir`.
    **measure: fields of the config's measure section (configs/base.py): coords_per_group, k_ratios, n_boot,
      budget_mb, estimators, verdict.

  Returns:
    A `NoiseReport` (its `summary()` is the quotable part).

  Raises:
    ValueError: a loss that is not a scalar, m < 2, leaves of `examples` that disagree on m, non-finite
      gradients, an unknown measure field, an unwritable workdir.
  """
  measure_cfg = _measure_settings(measure)
  out = None if workdir is None else make_folder(workdir)
  found = _measure(loss_fn, params, examples, kind_fn=kind_fn, step=step, label=label, batch_size=batch_size,
                   measure_cfg=measure_cfg)  # fmt: skip
  if out is not None:
    output_tables.write_tables(out, [found], plots=plots, k_ratios=measure_cfg.k_ratios)
  return _report(found)


class NoiseCallback:
  """`callback(step, params)` from your own training loop: at every `every`-th step it measures (`noise_report`) and
  rewrites the folder's alpha.csv, verdicts.csv, noise_scale.csv, param_stats.csv, hill_curves.json and plots with
  every measurement so far. Each measurement is kept as measure/step{s}.json, so a loop restarted on the same
  folder appends to what is there (a step measured again replaces its rows).

  The m examples are fixed (the same at every measurement: only the parameters change), as in the sweep.
  """

  def __init__(
    self,
    loss_fn,
    examples,
    workdir: str | pathlib.Path,
    *,
    every: int = 100,
    kind_fn=None,
    label: str = "model",
    batch_size: int | str = "",
    plots: bool = True,
    **measure,
  ):
    """Args: as `noise_report`; `every`: measure at steps divisible by it (step 0 included)."""
    if not isinstance(every, int) or every < 1:
      raise UserError(f"every must be a positive integer (measure every that many steps), got {every!r}")
    self._loss_fn, self._examples, self._every = loss_fn, examples, every
    self._kind_fn, self._label, self._batch_size, self._plots = kind_fn, label, batch_size, plots
    self._measure_cfg = _measure_settings(measure)
    m = per_example.leading_axis(examples, "examples")  # at construction, not at the first measured step
    if m < 2:
      raise UserError(f"m = {m} example(s); the noise needs at least 2 (a mean and a deviation), e.g. 64")
    leaves = jax.tree_util.tree_leaves(examples)
    self.workdir = make_folder(workdir)
    self._folder = self.workdir / "measure"
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(v).tobytes() for v in leaves)).hexdigest()
    pinned = self._folder / "examples.sha256"
    if pinned.exists() and pinned.read_text().strip() != digest:
      raise UserError(f"{self.workdir} holds measurements of other examples; the series must read the same m "
                      "examples at every step: pass those, or use a new folder")  # fmt: skip
    files.write_text(pinned, digest)

  def __call__(self, step: int, params) -> NoiseReport | None:
    """Measures at `params` if `step` is a measurement step; returns its report, or None."""
    if step % self._every:
      return None
    found = _measure(self._loss_fn, params, self._examples, kind_fn=self._kind_fn, step=int(step),
                     label=self._label, batch_size=self._batch_size, measure_cfg=self._measure_cfg)  # fmt: skip
    found = {k: found[k] for k in _FIELDS}
    files.write_json(self._folder / f"step{int(step)}.json", found)
    kept = sorted(self._folder.glob("step*.json"), key=lambda p: int(p.stem[4:]))
    output_tables.write_tables(
      self.workdir, [json.loads(p.read_text()) for p in kept], plots=self._plots, k_ratios=self._measure_cfg.k_ratios
    )
    return _report(found)
