"""α against model width across finished runs (experiment 1.1's alpha_vs_width.png, or Phase 1.2's d128 / d256).

  python -m tailjax.alpha_vs_width --out=runs/p11 runs/p11/d64 runs/p11/d128 runs/p11/d256 runs/p11/d512

Reads each run's alpha.csv and config.json; writes alpha_vs_width.csv (Hill at the middle k ratio and the stable
index, at each run's last measurement, per pooled group and lane) and alpha_vs_width.png.
"""

import csv
import json
import pathlib

from tailjax import files
from tailjax.errors import UserError


def collect(workdirs) -> list[dict]:
  rows = []
  for wd in map(pathlib.Path, workdirs):
    alpha, config = wd / "alpha.csv", wd / "config.json"
    if not alpha.exists() or not config.exists():
      raise UserError(f"{wd} has no alpha.csv and config.json; pass the workdirs of finished runs with measure.* on")
    width = json.loads(config.read_text())["model"]["d_model"]
    with open(alpha) as f:
      table = list(csv.DictReader(f))
    last = max(int(r["step"]) for r in table)
    ratios = sorted({float(r["k_ratio"]) for r in table if r["k_ratio"]})
    mid = ratios[len(ratios) // 2]
    for r in table:
      if int(r["step"]) != last or not r["group"].startswith("all "):
        continue
      if (r["estimator"] == "hill" and float(r["k_ratio"]) == mid) or r["estimator"] == "stable_mohammadi":
        rows.append({"width": width, "step": last, "lane": r["lane"], "group": r["group"], "estimator": r["estimator"],
                     "k_ratio": r["k_ratio"], "value": float(r["value"]), "which": r["which"]})  # fmt: skip
  return rows


def plot(path, rows) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  estimators = sorted({r["estimator"] for r in rows})
  fig, axes = plt.subplots(1, len(estimators), figsize=(5 * len(estimators), 3.8), squeeze=False)
  for ax, est in zip(axes[0], estimators, strict=True):
    for key in sorted({(r["group"], r["lane"]) for r in rows if r["estimator"] == est}):
      pts = sorted((r["width"], r["value"]) for r in rows if r["estimator"] == est and (r["group"], r["lane"]) == key)
      ax.plot(*zip(*pts, strict=True), "o-", label=f"{key[0]}, {key[1]}")
    which = next(r["which"] for r in rows if r["estimator"] == est)
    ax.set(xscale="log", xlabel="width d", ylabel="α̂", title=f"{est}: {which}")
    ax.legend(fontsize=6)
  files.write_figure(pathlib.Path(path), fig)
  plt.close(fig)


def write(out, workdirs) -> list[str]:
  """Writes alpha_vs_width.csv and .png for the finished runs in `workdirs` to folder `out`; returns the paths."""
  rows = collect(workdirs)
  out = pathlib.Path(out)
  files.write_csv(
    out / "alpha_vs_width.csv", rows, ["width", "step", "lane", "group", "estimator", "k_ratio", "value", "which"]
  )
  plot(out / "alpha_vs_width.png", rows)
  return [out / "alpha_vs_width.csv", out / "alpha_vs_width.png"]
