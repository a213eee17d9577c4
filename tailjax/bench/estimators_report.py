"""Writes docs/estimators.md: bias and RMSE of every tail estimator on laws with known answers, and the verdicts.

    .venv/bin/python -m tailjax.bench.estimators_report           # about 6 minutes on 2 CPU cores
    .venv/bin/python -m tailjax.bench.estimators_report --quick   # fewer draws, for a look

Each law is drawn with scipy.stats `reps` times at each n; every estimator runs on every draw (`tails.estimate`, Hill
at k = n/10 as the study used it, and Hill with the double-bootstrap k, 100 resamples). A second part draws laws that
are not power laws but look like one over a finite range, and per-example noise of 256 examples whose coordinates
have lognormally spread scales, and counts the verdicts' categories and how often Hill's interval covers the truth.
"""

import argparse
import pathlib
import time

import numpy as np
import scipy.stats as st

from tailjax import tails

LAWS = {  # name: (sampler, tail index (None = no power-law tail), extreme-value index ξ, stable index or None)
  "Pareto(1.5)": (lambda n, r: st.pareto.rvs(1.5, size=n, random_state=r), 1.5, 1 / 1.5, None),
  "Student-t(3)": (lambda n, r: st.t.rvs(3, size=n, random_state=r), 3.0, 1 / 3, None),
  "stable(1.5)": (lambda n, r: st.levy_stable.rvs(1.5, 0.0, size=n, random_state=r), 1.5, 1 / 1.5, 1.5),
  "Laplace": (lambda n, r: st.laplace.rvs(size=n, random_state=r), None, 0.0, None),
  "Gaussian": (lambda n, r: r.standard_normal(n), None, 0.0, 2.0),
}
COLUMNS = [  # (label, function of the report, which truth)
  ("reported α (bias-reduced Hill, k by KS)", lambda r: r["tail_index"]["alpha"], "tail"),
  ("Hill, k by KS", lambda r: r["hill"]["alpha"], "tail"),
  ("Hill, k by double bootstrap", lambda r: r["double_bootstrap"]["alpha"], "tail"),
  ("Hill, k = n/10", lambda r: r["at_k_ratio"][0.1]["hill"], "tail"),
  ("Pickands, k = n/40", lambda r: r["at_k_ratio"][0.1]["pickands"], "tail"),
  ("Clauset tail index", lambda r: r["power_law_fit"]["tail_index"], "tail"),
  ("moments ξ, k by KS", lambda r: r["moments_xi"], "xi"),
  ("stable α, Mohammadi", lambda r: r["stable_alpha"]["mohammadi"], "stable"),
  ("stable α, ECF", lambda r: r["stable_alpha"]["ecf"], "stable"),
]


def _report(x, seed):
  report = tails.estimate(x)
  report["double_bootstrap"] = tails.hill_double_bootstrap(x, n_boot=100, seed=seed)
  return report


M = 256  # examples per coordinate in the scale-mixture draws (per-example noise of a measurement)


def _mixture(base):
  """n values as [M, n/M]: the noise g_i − ḡ of M examples of n/M coordinates, each coordinate scaled by a
  lognormal(0, 1) factor."""

  def draw(n, r):
    d = n // M
    scales_D = r.lognormal(0.0, 1.0, d)
    g_MxD = base(M * d, r).reshape(M, d) * scales_D
    return g_MxD - g_MxD.mean(0)

  return draw


VERDICT_LAWS = {  # name: (sampler, tail index or None, pooling or None)
  "lognormal σ=1": (lambda n, r: r.lognormal(0, 1, n), None, None),
  "lognormal σ=2": (lambda n, r: r.lognormal(0, 2, n), None, None),
  "lognormal σ=3": (lambda n, r: r.lognormal(0, 3, n), None, None),
  "Weibull(0.5)": (lambda n, r: r.weibull(0.5, n), None, None),
  "exponential": (lambda n, r: r.exponential(1.0, n), None, None),
  "Laplace": (lambda n, r: r.laplace(0, 1, n), None, None),
  "Gaussian": (lambda n, r: r.standard_normal(n), None, None),
  "Pareto(1.5)": (lambda n, r: st.pareto.rvs(1.5, size=n, random_state=r), 1.5, None),
  "Student-t(2)": (lambda n, r: st.t.rvs(2, size=n, random_state=r), 2.0, None),
  "Student-t(3)": (lambda n, r: st.t.rvs(3, size=n, random_state=r), 3.0, None),
  "Student-t(4)": (lambda n, r: st.t.rvs(4, size=n, random_state=r), 4.0, None),
  "Student-t(6)": (lambda n, r: st.t.rvs(6, size=n, random_state=r), 6.0, None),
  "stable(1.2)": (lambda n, r: st.levy_stable.rvs(1.2, 0.0, size=n, random_state=r), 1.2, None),
  "stable(1.5)": (lambda n, r: st.levy_stable.rvs(1.5, 0.0, size=n, random_state=r), 1.5, None),
  "Gaussian × scales, raw pool": (_mixture(lambda n, r: r.standard_normal(n)), None, "raw"),
  "Gaussian × scales, robust pool": (_mixture(lambda n, r: r.standard_normal(n)), None, "robust"),
  "Laplace × scales, raw pool": (_mixture(lambda n, r: r.laplace(0, 1, n)), None, "raw"),
  "Laplace × scales, robust pool": (_mixture(lambda n, r: r.laplace(0, 1, n)), None, "robust"),
  "Student-t(3) × scales, robust pool": (_mixture(lambda n, r: st.t.rvs(3, size=n, random_state=r)), 3.0, "robust"),
}
CATEGORIES = ("power law", "cannot tell", "power law with cut-off", "not a power law", "no plateau")


def _covers(interval, truth) -> bool:
  return interval[0] <= truth <= interval[1]


def _verdict_table(plan, mixture_plan, t0) -> list[str]:
  lines = [
    "| law | n (draws) | " + " | ".join(CATEGORIES) + " | reported 95% interval covers the truth | Hill's interval"
    " alone covers | median reported α | median Hill α |",
    "|---" * (len(CATEGORIES) + 6) + "|",
  ]
  for law, (sample, tail, pooling) in VERDICT_LAWS.items():
    for n, reps in mixture_plan if pooling else plan:
      reports = []
      for rep in range(reps):
        x = sample(n, np.random.default_rng(7000 * rep + n % 991))
        reports.append(tails.estimate(x, pooling=pooling) if pooling else tails.estimate(x))
      shares = [np.mean([r["category"] == c for r in reports]) for c in CATEGORIES]
      cover = hill_cover = "–"
      if tail is not None:
        cover = f"{np.mean([_covers(r['tail_index']['ci95'], tail) for r in reports]):.0%}"
        hill_cover = f"{np.mean([_covers(r['tail_index']['hill_ci95'], tail) for r in reports]):.0%}"
      med = np.median([r["tail_index"]["alpha"] for r in reports])
      med_hill = np.median([r["hill"]["alpha"] for r in reports])
      lines.append(
        f"| {law} | {n:.0e} ({reps}) | " + " | ".join(f"{v:.0%}" for v in shares)
        + f" | {cover} | {hill_cover} | {med:.3g} | {med_hill:.3g} |"
      )  # fmt: skip
      print(law, n, f"{time.time() - t0:.0f}s", flush=True)
  return lines


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--quick", action="store_true")
  p.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "docs" / "estimators.md"))
  args = p.parse_args()
  plan = [(10**4, 4), (10**5, 2), (10**6, 1)] if args.quick else [(10**4, 20), (10**5, 10), (10**6, 3)]
  lines, t0 = [], time.time()
  for law, (sample, tail, xi, stable) in LAWS.items():
    truth = {"tail": tail, "xi": xi, "stable": stable}
    lines.append(f"\n### {law}\n")
    lines.append("| n (draws) | " + " | ".join(c[0] for c in COLUMNS) + " | verdict: power-law tail |")
    lines.append("|---" * (len(COLUMNS) + 2) + "|")
    for n, reps in plan:
      reports = [_report(sample(n, np.random.default_rng(1000 * rep + n % 997)), rep) for rep in range(reps)]
      cells = []
      for _, get, which in COLUMNS:
        v = np.array([get(r) for r in reports], float)
        v = v[np.isfinite(v)]
        if not len(v):
          cells.append("NaN")
        elif truth[which] is None:
          cells.append(f"{v.mean():.3g} ± {v.std():.2g}")
        else:
          bias, rmse = v.mean() - truth[which], np.sqrt(np.mean((v - truth[which]) ** 2))
          cells.append(f"{v.mean():.3g} (bias {bias:+.2g}, RMSE {rmse:.2g})")
      share = np.mean([r["verdict"].startswith("power-law tail") for r in reports])
      lines.append(f"| {n:.0e} ({reps}) | " + " | ".join(cells) + f" | {share:.0%} |")
      print(law, n, f"{time.time() - t0:.0f}s", flush=True)
  head = [
    "# Tail estimators on laws with known answers",
    "",
    "Written by `python -m tailjax.bench.estimators_report` (do not edit by hand). Truth: tail index α (Pareto 1.5,",
    "Student-t(3) 3, stable(1.5) 1.5; Laplace and Gaussian have none), extreme-value index ξ = 1/α (0 for Laplace and",
    "Gaussian: both lie in the Gumbel domain), stable index (1.5 for stable(1.5), 2 for the Gaussian; the other laws",
    "are not stable).",
    "Cells give the mean over draws with bias and RMSE against the truth, or mean ± sd where there is no truth.",
    "Draws are seeded: rerunning the script reproduces these tables.",
    "",
    "## What the tables show",
    "",
    "- **Laplace: the study's 'α ≈ 3' is Hill at k = n/10.** Hill at k = n/10 gives 3.1 at every n, while Hill at the",
    "  KS-chosen k climbs with n (about 4.7, 6.0, 7.5 at 1e4, 1e5, 1e6): there is no plateau to read an index from.",
    "  The moments estimator's ξ goes to 0, as it should for an exponential tail. No verdict says 'power-law tail'.",
    "- **No false power laws** (the verdict table at the end): no draw of a lognormal (σ = 1, 2, 3), Weibull(0.5),",
    "  exponential, Laplace or Gaussian law (0 of 33 draws each), nor of Gaussian or Laplace per-example noise with",
    "  lognormally spread coordinate scales pooled robustly (0 of 20 each, 256 examples × 4096 coordinates), is called",
    "  'power-law tail'. Pooled raw, the same noise is a 'power law' in 3 of 20 (Gaussian) and 1 of 20 (Laplace)",
    "  draws and a 'power law with cut-off' in 70–75%: the study's artefact, which the robust pooling removes, while",
    "  Student-t(3) noise pooled robustly stays a power law (20 of 20), its interval covering 3 in 19 of 20. Many",
    "  honest 'cannot tell' answers remain at n ≤ 1e5: a lognormal tail of a few hundred points cannot be told from a",
    "  power law.",
    "- **True power laws are found as n grows**: Pareto 100% at every n; Student-t(2), t(3), t(4) and stable(1.2),",
    "  stable(1.5) 100% at 1e6; t(6) only 33% at 1e6 (its tail reaches its power law slowly), 'cannot tell' otherwise.",
    "- **The reported interval** (the whole Clauset fit bootstrapped, drawn around Hill and around the bias-reduced",
    "  Hill, their hull) covers the true index in ≥ 85% of draws for Pareto (80–100%; 8 of 10 at 1e5), Student-t(2)",
    "  (90–100%), t(3) at 1e5–1e6 (100%), t(4) (85–100%) and stable(1.2) at 1e4 (100%). It falls short for t(3) at",
    "  1e4 (70%), t(6) (40–70%: its ρ = −1/3 makes the bias large and ρ̂ too rough to remove it), stable(1.2) at",
    "  1e5–1e6 (60%, 1 of 3) and stable(1.5) at 1e4–1e5 (5%, 30%): there the KS tail is larger than n/5, where the",
    "  correction is not applied (it would only add noise on a true Pareto, RMSE 0.45 against Hill's 0.014 at 1e4),",
    "  and Hill at that k reads 1.64–1.72. An earlier variant that always corrected covered stable(1.5) in 75–90% of",
    "  draws but made the Pareto headline 30× noisier; which rule to prefer is left open. Hill's own interval covers",
    "  far less (0–70% on Student-t, 0–5% on stable(1.5) below 1e6).",
    "- **The bias-reduced α** (first column of the tables below) removes most of Hill's bias on Student-t(3)",
    "  (−0.33, −0.19, −0.17 become +0.13, +0.04, −0.02 at 1e4, 1e5, 1e6) at the cost of more variance at 1e4",
    "  (RMSE 0.50 against 0.39).",
    "- **Stable estimators cannot tell heavy from Laplace.** On Laplace both give α ≈ 1.65–1.84, a false 'heavy",
    "  tail'; on Gaussians they give 2; on stable(1.5) ECF is the most accurate estimator here (RMSE 0.003–0.015),",
    "  Mohammadi next (0.02–0.05). On Pareto and Student-t they return about 0.93 and 1.6–1.8: those laws are not",
    "  stable, and the number means nothing.",
    "- **Pareto: every tail-index estimator is unbiased** within 1% and its RMSE shrinks like 1/√k.",
    "- **Stable(1.5): Hill is biased high** (1.72 at k = n/10) because the stable tail reaches its power law slowly;",
    "  the KS choice of k reduces that to 1.55 at n = 1e6.",
    "- **The double-bootstrap k** (Danielsson et al., as Voitalov's `tail-estimation` runs it) agrees with the KS k",
    "  on power laws and is a little less biased on Student-t(3) and on stable(1.5) at small n. On Laplace and",
    "  Gaussian samples it also returns large, unstable 'indices' (6–16): no choice of k finds a power law where",
    "  there is none, which is why the verdict rests on the alternatives, the moments ξ and the Hill plot.",
    "- **Pickands has a large variance** at these k (RMSE up to 19 on Student-t at 1e4): report it, do not rely on it.",
  ]
  verdict_plan = [(10**4, 4), (10**5, 2), (2**20, 1)] if args.quick else [(10**4, 20), (10**5, 10), (2**20, 3)]
  mixture_plan = [(2**20, 3)] if args.quick else [(2**20, 20)]  # the tail issue's setting: 256 × 4096, 20 replicates
  verdicts = ["", "## Verdicts and interval coverage", "", VERDICT_NOTE, ""]
  verdicts += _verdict_table(verdict_plan, mixture_plan, t0)
  pathlib.Path(args.out).write_text("\n".join(head + lines + verdicts) + "\n")
  print("wrote", args.out)


VERDICT_NOTE = (
  'Share of draws per verdict category of `tails.estimate` ("power law" is the only one whose verdict begins'
  " 'power-law tail'), how often the reported 95% interval (`tail_index.ci95`: the bootstrap of the whole fit drawn"
  " around Hill and around the bias-reduced Hill, their hull) contains the true tail index, how often Hill's"
  " interval alone (`tail_index.hill_ci95`) does, and the median reported α and Hill α at the KS-chosen k. The"
  " × scales rows are per-example noise of M = 256 examples × 4096 coordinates (n = 2^20), each coordinate scaled by"
  " a lognormal(0, 1) factor, pooled raw or robustly (the default for [M, D] input), 20 replicates each."
)


if __name__ == "__main__":
  main()
