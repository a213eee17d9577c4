"""`ScalingFit`: one LR_opt ∝ B^β fit, as scaling_fit.json holds it (`to_json`, `from_json`: the file's keys, in
its order). Built once by `scaling.fit`; what the summary adds (the budget it was read at, the plots' label, the
known answer it is compared with) is set by `dataclasses.replace`, never by writing into a shared dict.

Each batch size's optimum (`per_batch_size`) stays the JSON record `scaling.optima` writes: batch_size, lr_opt (the
refined or grid optimum, or the grid point a bound sits at), lr_opt_grid, lr_opt_refined, lr_opt_source ("refined",
"grid" or "bound"), lr_opt_bracket, censored (None, "low", "high", "single_point", "learned_nothing",
"all_diverged"), unimodal, best_loss, grid and mean_val_loss.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ScalingFit:
  """A fit of LR_opt ∝ B^β on one lane setting (or, with `by_setting`, the first of several)."""

  clip: object  # the lane setting fitted: clip threshold (None = no clipping), weight decay, β2 named by the config
  weight_decay: object
  b2_ref: object
  method: str  # how each optimum is found and which enter the fit
  seed_average: str  # "mean" or "median" over a grid point's seeds
  beta: float | None  # None: fewer than scaling.MIN_FOR_BETA bracketed optima
  beta_ci: list | None  # 95% bootstrap interval; None where the resampled grids too rarely kept enough optima
  beta_ci_method: str
  theories_inside_ci: list  # which of 1/2, 2/3, 1 the interval holds
  forms: dict  # power law, McCandlish and surge forms compared by AIC
  theories: dict
  c: float | None  # LR_opt = c · B^β
  r2: float | None
  n_bracketed: int
  per_batch_size: list  # one optimum record per batch size (see the module docstring)
  two_point_slope: dict | None  # the line through exactly two bracketed optima: not a measurement
  naive_fit_all_argmins: dict  # the study's method, edge optima included: not to be reported
  verdict: str  # the fit in words: every number with what it is
  ln_vocab: float | None  # the learned-nothing reference the fit was read against
  unigram_entropy: float | None
  setting: str | None = None  # with several lane settings: this one's label, e.g. "clip = 1"
  top_level_setting: str | None = None  # ... and at the top level, which setting the top-level fields are
  by_setting: tuple | None = None  # ... and one ScalingFit per setting
  budget: str | None = None  # the budget the rows were read at ("steps" or "tokens")
  budget_label: str | None = None  # how the plots say it was read, where that is not the plain fixed-steps study
  exact: dict | None = None  # the known answer it is compared with (the noisy quadratic model under SGD)
  by_budget: dict | None = None  # with train.budget = both: budget → ScalingFit

  def settings(self) -> list["ScalingFit"]:
    """One fit per lane setting: `by_setting`, or this one."""
    return list(self.by_setting) if self.by_setting else [self]

  def to_json(self) -> dict:
    """scaling_fit.json: every field, the optional ones (from `setting` on) only where set."""
    out = {}
    for f in dataclasses.fields(self):
      v = getattr(self, f.name)
      if f.default is not dataclasses.MISSING and v is None:
        continue
      if f.name == "by_setting":
        v = [one.to_json() for one in v]
      elif f.name == "by_budget":
        v = {k: one.to_json() for k, one in v.items()}
      out[f.name] = v
    return out

  @classmethod
  def from_json(cls, d: dict) -> "ScalingFit":
    """The fit a scaling_fit.json holds (keys it does not know are ignored; missing optional ones are None)."""
    names = {f.name for f in dataclasses.fields(cls)}
    kw = {k: v for k, v in d.items() if k in names}
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    kw |= {k: None for k in required if k not in kw}
    if kw.get("by_setting") is not None:
      kw["by_setting"] = tuple(cls.from_json(one) for one in kw["by_setting"])
    if kw.get("by_budget") is not None:
      kw["by_budget"] = {k: cls.from_json(one) for k, one in kw["by_budget"].items()}
    return cls(**kw)
