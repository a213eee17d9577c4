"""Typed records of a run, jax-free: what the analysis needs of a run's task and data (`DataFacts`, data.json's
"facts"), written by the task and read back by every table, plot and fit instead of asking which model it was.
"""

import dataclasses
import typing

FORMAT = 2  # data.json's format: 2 adds "facts" (format 1's are read from its two reference keys: `DataFacts.of`)


class Reference(typing.NamedTuple):
  """A named reference loss: `name` ("ln V"), `value`, and what reaching it `means` ("learned nothing")."""

  name: str
  value: float
  means: str


LEGACY = (
  ("ln V", "ln_vocab", "learned nothing"),
  ("unigram entropy", "unigram_entropy", "learned the frequencies only"),
)


@dataclasses.dataclass(frozen=True)
class DataFacts:
  """What the analysis reads of a run's task and data.

  Attributes:
    name: the data's (or task's) name.
    references: the reference losses, the first being the loss of a model that learned nothing (its chance level).
    loss_unit: what the loss is measured in ("nats", "loss L", "the task's units").
    example_unit: what a token budget counts, "tokens" or "examples".
    seed_statistic: how the final losses of a grid point's seeds are averaged, "mean" or "median" (where the loss
      has no mean, e.g. the noisy quadratic model under stable noise).
    validates: False where the task has no validation loss (no optimum, no fit).
    known_answer: the closed form the analysis may compare with ("noisy_quadratic": analysis/nqm.py), or None.
    barely_learned: the name of the reference a final loss above which means "barely learned", or None.
  """

  name: str
  references: tuple[Reference, ...] = ()
  loss_unit: str = "nats"
  example_unit: str = "examples"
  seed_statistic: str = "mean"
  validates: bool = True
  known_answer: str | None = None
  barely_learned: str | None = None

  @property
  def chance(self) -> Reference | None:
    """The learned-nothing reference (None: the task has none)."""
    return self.references[0] if self.references else None

  def reference(self, name: str | None) -> Reference | None:
    return next((r for r in self.references if r.name == name), None)

  def to_json(self) -> dict:
    return {**dataclasses.asdict(self), "references": [r._asdict() for r in self.references]}

  @classmethod
  def from_json(cls, d: dict) -> "DataFacts":
    return cls(**{**d, "references": tuple(Reference(**r) for r in d.get("references", ()))})

  @classmethod
  def of(cls, fingerprint: dict) -> "DataFacts":
    """The facts data.json (a fingerprint) holds. A fingerprint without them (a workdir of format 1, a results
    table's columns) is read by its two reference keys, as text's: ln_vocab the learned-nothing loss, unigram_entropy
    the frequencies-only loss."""
    if "facts" in fingerprint:
      return cls.from_json(fingerprint["facts"])
    refs = [Reference(name, float(fingerprint[key]), means) for name, key, means in LEGACY if
            fingerprint.get(key) is not None]  # fmt: skip
    return cls(name=str(fingerprint.get("name", "")), references=tuple(refs))
