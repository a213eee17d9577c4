"""`Task`: the one model interface the engine knows. The study's models (tailjax/tasks/) and a user's own are tasks.

A task is the functions the engine calls inside its compiled row program, the data they read, and the facts the rest
of the tool reads instead of asking which model it is:
  - `init(key) -> params`: the parameters of one lane (each seed's key; lanes of one seed start equal);
  - `loss(params, batch) -> scalar`: the mean loss of a batch (every leaf of `batch` has a leading axis B);
  - `sample(train_data, key, batch_size) -> batch`: a batch drawn on the device (default: B examples uniformly at
    random, with replacement, along the leading axis of `train_data`);
  - `train_data`: a pytree of arrays the sampler reads (it lives on the device); `val_data`: validation examples,
    a pytree of arrays with a leading axis, from which `eval.batches` × `eval.batch_size` examples evenly spaced
    are the fixed validation batches of every lane.
Facts, all optional:
  - `chance_loss`: the loss of a model that learned nothing (None: L(θ0), the validation loss at initialisation),
    `chance_name` what it is called and `chance_means` what reaching it means; `references`: more named reference
    losses (`Reference`), `barely_learned` the name of the one above which a final loss "barely learned";
    `loss_unit`: what the loss is measured in; `seed_statistic`: how seeds' final losses are averaged ("median"
    where the loss has no mean); `known_answer`: the closed form the analysis compares with (e.g. "noisy_quadratic");
  - `tokens_per_example`: what a token budget counts per example (T for a language model; 1: examples), and
    `example_unit` its name ("tokens" or "examples");
    `flops_per_example`: matmul FLOPs of one example's forward and backward (throughput and MFU; None: not counted);
  - `kind_fn(name, ndim) -> str`: the noise pool each parameter tensor joins (default `default_kind`);
    `gains(params, examples)`: {branch: ‖f(x)‖/‖x‖ per example} of the residual branches, for models that sow them;
  - `val_batches(n_batches, batch_size)`: the fixed validation batches, leaves [N, B, ...] (default: from val_data);
    `exact_loss(params)`: the validation loss from the parameters alone, in place of batches (a closed-form loss);
    `validates`: False for a model with no validation loss (its grid is not extended: no optimum to bracket);
  - `n_train`, `examples_name`, `more_data`: how many distinct training examples there are, what they are and how
    to get more (the check that a batch fits in the data; None: examples are drawn fresh, any batch fits);
    `fingerprint`: what data.json records of the data (its sha256 tells that a workdir's data changed); `describe`:
    the line the log prints about the data;
  - `identity`: a hashable that stands for the task when rows compare (a built-in task's config), so that rows of
    equal tasks share their compiled programs; None compares the task by identity.
"""

import dataclasses
import json
import re
from collections.abc import Callable, Hashable

import jax
import numpy as np
from flax import traverse_util

from tailjax import records
from tailjax.models import param_kinds
from tailjax.records import Reference  # noqa: F401  (re-exported: tasks name their references with it)


def uniform_sample(train_data, key, batch_size: int):
  """`batch_size` examples drawn uniformly at random, with replacement, along the leading axis of every leaf."""
  n = jax.tree_util.tree_leaves(train_data)[0].shape[0]
  idx_B = jax.random.randint(key, (batch_size,), 0, n)
  return jax.tree.map(lambda v: v[idx_B], train_data)


def default_kind(name: str, ndim: int) -> str:
  """The pool of a parameter tensor of any model: the study's kinds where its names say one (`param_kinds`:
  "vector" for ≤1-D tensors, attention, ffn, conv, embedding, head), else its top-level module's name without
  flax's trailing index ("Conv_1/kernel" → "Conv", "Dense_0/kernel" → "Dense")."""
  kind = param_kinds.group_kind(name, ndim)
  if kind in param_kinds.STUDY_KINDS:
    return kind
  top = name.split("/")[0]
  return re.sub(r"_\d+$", "", top) or top


def evenly_spaced(val_data, n_batches: int, batch_size: int):
  """`n_batches` × `batch_size` examples evenly spaced over the leading axis of `val_data`, leaves [N, B, ...]."""
  n_val = jax.tree_util.tree_leaves(val_data)[0].shape[0]
  idx = np.linspace(0, n_val - 1, n_batches * batch_size).astype(np.int64)
  return jax.tree.map(lambda v: np.asarray(v)[idx].reshape(n_batches, batch_size, *np.shape(v)[1:]), val_data)


def config_identity(kind: str, cfg, *extra) -> tuple:
  """A built-in task's `identity`: its kind, its model and data sections and `extra` (the data's sha256)."""
  section = lambda c: json.dumps(c.to_dict(), sort_keys=True, default=str)
  return (kind, section(cfg.model), section(cfg.data), *extra)


def sown_gains(model):
  """`gains(params, batch)` for a flax model whose residual blocks sow ‖f(x)‖/‖x‖ under "intermediates" (the
  transformer's and the ViT's): {branch path: per-example gain}; the batch's inputs are its first element."""

  def gains(params, batch):
    _, sown = model.apply({"params": params}, batch[0], mutable=["intermediates"])
    return {k: v[0] for k, v in traverse_util.flatten_dict(sown["intermediates"], sep="/").items()}

  return gains


@dataclasses.dataclass(frozen=True, eq=False)  # compared by `identity` (or by object), see __eq__
class Task:
  """A model and its data, as the engine trains it (module docstring: what each field must do)."""

  name: str
  init: Callable
  loss: Callable
  train_data: object
  val_data: object = None
  sample: Callable = uniform_sample
  chance_loss: float | None = None
  chance_name: str = "chance"
  chance_means: str = "learned nothing"
  references: tuple[records.Reference, ...] = ()
  loss_unit: str = "the task's own units"
  tokens_per_example: int = 1
  example_unit: str = "examples"
  seed_statistic: str = "mean"
  barely_learned: str | None = None
  known_answer: str | None = None
  flops_per_example: float | None = None
  kind_fn: Callable = default_kind
  gains: Callable | None = None
  val_batches: Callable | None = None
  exact_loss: Callable | None = None
  validates: bool = True
  n_train: int | None = None
  examples_name: str = "training examples"
  more_data: str = "more training data"
  fingerprint: dict | None = None
  describe: str = ""
  identity: Hashable | None = None

  def __eq__(self, other):
    if not isinstance(other, Task):
      return NotImplemented
    return self is other or (self.identity is not None and self.identity == other.identity)

  def __hash__(self):
    return hash(self.identity) if self.identity is not None else id(self)

  def facts(self) -> records.DataFacts:
    """What the analysis reads of this task (data.json's "facts")."""
    chance = (
      () if self.chance_loss is None else (records.Reference(self.chance_name, self.chance_loss, self.chance_means),)
    )
    return records.DataFacts(
      name=self.name,
      references=chance + tuple(self.references),
      loss_unit=self.loss_unit,
      example_unit=self.example_unit,
      seed_statistic=self.seed_statistic,
      validates=self.validates,
      known_answer=self.known_answer,
      barely_learned=self.barely_learned,
    )

  def validation_batches(self, n_batches: int, batch_size: int):
    """The fixed validation batches every lane is evaluated on (leaves [N, B, ...]); () where the task needs none."""
    if self.exact_loss is not None or not self.validates:
      return ()
    if self.val_batches is not None:
      return self.val_batches(n_batches, batch_size)
    return jax.tree.map(jax.numpy.asarray, evenly_spaced(self.val_data, n_batches, batch_size))
