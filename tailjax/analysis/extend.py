"""Automatic LR-grid extension: what the study's Phase 3a did by hand.

After a row (one batch size) is trained, its optimum is looked up per lane setting (clip, weight decay). Where it sits
on the grid's top edge the row gets `extend_points` new learning rates above the largest, each one grid ratio further
(below the smallest where it sits on the bottom edge, or where every lane diverged). The new lanes train as one more
call of the row's program; every round has the same number of lanes, so all rounds share one compiled program. The
rounds stop when every setting's optimum is bracketed (a diverged point brackets it too: its loss counts as +inf),
or after `max_extensions` rounds, when the optimum stays a bound and the fit says so. A row that learned nothing at
any LR (every loss at ln V, `scaling.LEARNED_NOTHING`) has no optimum to chase: its argmin is noise, so it is
extended upwards (too small a step to learn in time) unless its top LR already diverged.
"""

import math

from tailjax import schedule
from tailjax.analysis import scaling


def grid_ratio(cfg) -> float:
  """`sweep.extend_ratio`, or where that is 0 the geometric mean ratio of neighbouring grid learning rates."""
  if cfg.sweep.extend_ratio:
    return float(cfg.sweep.extend_ratio)
  lrs = sorted(set(cfg.sweep.learning_rates))
  return math.exp((math.log(lrs[-1]) - math.log(lrs[0])) / (len(lrs) - 1))


def settings(rows: list[dict]) -> list[tuple]:
  """The distinct (clip, weight decay, β2) lane settings, in order of appearance: each is its own LR grid."""
  return list(dict.fromkeys(scaling.setting_of(r) for r in rows))


def next_points(rows: list[dict], ratio: float, n_points: int, average: str = "mean") -> tuple[list[float], str] | None:
  """New learning rates for one row, and why; None when every setting's optimum is bracketed.

  Args:
    rows: the row's results so far (grid and earlier rounds), as `lane_results.row_results` gives them.
    ratio: step between new points (> 1).
    n_points: new learning rates per round.
    average: how a grid point's seeds are averaged (`scaling.seed_average`).
  """
  lrs = sorted({r["lr"] for r in rows})
  sides = set()
  for setting in settings(rows):
    (opt,) = scaling.optima([r for r in rows if scaling.setting_of(r) == setting], average=average)
    if opt["censored"] == "high":
      sides.add("high")
    elif opt["censored"] in ("low", "all_diverged"):
      sides.add("low")
    elif opt["censored"] == "single_point":
      sides |= {"low", "high"}
    elif opt["censored"] == "learned_nothing" and math.isfinite(opt["mean_val_loss"][-1]):
      sides.add("nothing")  # chance-level loss everywhere, the top LR still finite: too small to learn in time
  if not sides:
    return None
  new, why = [], []
  if sides & {"high", "nothing"}:
    new += [lrs[-1] * ratio**j for j in range(1, n_points + 1)]
    if "high" in sides:
      why.append(f"optimum at the top edge ({lrs[-1]:.3g})")
    if "nothing" in sides:
      why.append(f"learned nothing up to {lrs[-1]:.3g} (loss at chance level, or at the start): trying larger LRs")
  if "low" in sides:
    new += [lrs[0] / ratio**j for j in range(1, n_points + 1)]
    why.append(f"optimum at the bottom edge or every lane diverged ({lrs[0]:.3g})")
  return [float(f"{x:.4g}") for x in sorted(new)], "; ".join(why)  # 4 digits: readable in results.csv


def planner(cfg, fingerprint: dict):
  """The sweep's extension policy (`training.sweep.train`'s next_lrs): given a row's results so far, the learning
  rates of its next round and why, or None when every budget's optimum is bracketed. Each budget's grid is extended
  where its own optimum is censored; the new points of all budgets train as one round."""
  ratio, average = grid_ratio(cfg), scaling.seed_average(fingerprint)

  def next_lrs(rows: list[dict]) -> tuple[list[float], str] | None:
    plans = [next_points([r for r in rows if r.get("budget", "steps") == k], ratio, cfg.sweep.extend_points,
                         average=average) for k in schedule.kinds(cfg)]  # fmt: skip
    plans = [p for p in plans if p is not None]
    return (sorted({x for p in plans for x in p[0]}), "; ".join(p[1] for p in plans)) if plans else None

  return next_lrs
