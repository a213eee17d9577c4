"""`Task`: a user's own model and data, trained by the engine in place of the config's model and data.

A task is four things the engine calls inside its compiled row program, plus the data they read:
  - `init(key) -> params`: the parameters of one lane (each seed's key; lanes of one seed start equal);
  - `loss(params, batch) -> scalar`: the mean loss of a batch (every leaf of `batch` has a leading axis B);
  - `sample(train_data, key, batch_size) -> batch`: a batch drawn on the device (default: B examples uniformly at
    random, with replacement, along the leading axis of `train_data`, as the engine draws images);
  - `train_data` / `val_data`: pytrees of arrays whose leaves share a leading axis (examples). The training split
    lives on the device; validation batches are `eval.batches` × `eval.batch_size` examples evenly spaced over
    `val_data` (fixed, the same for every lane).
Optional: `chance_loss`, the loss of a model that learned nothing (ln C for C classes); by default the validation
loss at initialisation, L(θ0). `kind_fn(name, ndim) -> str` names the pool each parameter tensor joins in the
noise measurement (default `default_kind`, also the default of `tailjax.noise_report`).

`TaskData` adapts a task to what the sweep reads of a corpus: its fingerprint, the training data on the device,
the validation batches. Jax is imported: this is a library room, not the jax-free CLI's checks.
"""

import dataclasses
import functools
import hashlib
import math
import re
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.errors import UserError
from tailjax.models import param_kinds
from tailjax.noise import per_example


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


@dataclasses.dataclass(frozen=True, eq=False)  # compared by identity: the engine caches its programs per task
class Task:
  """A user's model and data for `tailjax.train_rows` (module docstring: what each field must do).

  Attributes:
    name: what the run's files and logs call the task.
    init: init(key) -> params.
    loss: loss(params, batch) -> scalar, the mean over the batch's leading axis.
    train_data: pytree of arrays, leading axis N (training examples).
    val_data: pytree of arrays, leading axis N_val (validation examples).
    sample: sample(train_data, key, batch_size) -> batch (default `uniform_sample`).
    chance_loss: the loss of a model that learned nothing (None: L(θ0), the validation loss at initialisation).
    kind_fn: kind_fn(name, ndim) -> the noise pool of a tensor (default `default_kind`).
  """

  name: str
  init: Callable
  loss: Callable
  train_data: object
  val_data: object
  sample: Callable = uniform_sample
  chance_loss: float | None = None
  kind_fn: Callable = default_kind


def _examples(tree, what: str) -> int:
  """The common leading axis of a pytree's leaves, or one UserError (a ValueError) naming the Task's field."""
  try:
    return per_example.leading_axis(tree, f"Task.{what}")
  except ValueError as e:
    raise UserError(str(e)) from None


def check(task: Task) -> dict:
  """Checks a task on shapes alone (nothing is computed) and returns {"n_train", "n_val"}: the splits hold examples
  along one leading axis, `init` gives parameters, `sample` a batch of the size asked, and `loss` a scalar of it."""
  if not isinstance(task, Task):
    raise UserError(f"expected a tailjax.Task, got {type(task).__name__}")
  n_train, n_val = _examples(task.train_data, "train_data"), _examples(task.val_data, "val_data")
  params = _shapes_of("init(key)", task.init, jax.random.key(0))
  if not jax.tree_util.tree_leaves(params):
    raise UserError("Task.init(key) returned no arrays; it must return the parameters (a pytree of arrays)")
  batch = _shapes_of("sample(train_data, key, 2)", lambda d, k: task.sample(d, k, 2), task.train_data,
                     jax.random.key(0))  # fmt: skip
  if _examples(batch, "sample(train_data, key, 2)") != 2:
    raise UserError("Task.sample(train_data, key, batch_size) must return batch_size examples (leading axis)")
  val = jax.tree.map(lambda v: v[:2], task.val_data)
  if jax.tree_util.tree_structure(val) != jax.tree_util.tree_structure(batch):
    raise UserError("Task.val_data must have the structure of a training batch (the same pytree of arrays: a tuple "
                    "for a tuple, a dict with the same keys for a dict)")  # fmt: skip
  for what, b in (("a training batch", batch), ("a batch of val_data", val)):
    out = _shapes_of(f"loss(params, {what})", task.loss, params, b)
    if getattr(out, "shape", None) != () or not jnp.issubdtype(out.dtype, jnp.floating):
      got = f"{getattr(out, 'dtype', '')}{list(getattr(out, 'shape', [type(out).__name__]))}"
      raise UserError(
        f"Task.loss(params, batch) must return a float scalar (the batch's mean loss), got {got} on {what}"
      )
  for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
    name = param_kinds.group_name(path)
    kind = _shapes_of(f"kind_fn({name!r}, {leaf.ndim})", functools.partial(task.kind_fn, name, leaf.ndim))
    if not isinstance(kind, str) or not kind:
      raise UserError(f"Task.kind_fn(name, ndim) must return a non-empty string (the tensor's pool), got {kind!r}")
  if task.chance_loss is not None and not (isinstance(task.chance_loss, (int, float)) and task.chance_loss > 0):
    raise UserError(f"Task.chance_loss must be a positive number or None, got {task.chance_loss!r}")
  return {"n_train": n_train, "n_val": n_val}


def _shapes_of(what: str, fn, *args):
  """`jax.eval_shape(fn, *args)` (a plain call for kind_fn), with a failure of the user's function as one UserError."""
  try:
    return jax.eval_shape(fn, *args) if args else fn()
  except Exception as e:  # noqa: BLE001 - any failure inside the user's code: name it in one line
    first = str(e).splitlines()[0] if str(e) else ""
    raise UserError(
      f"Task.{what} fails: {type(e).__name__}: {first}; see tailjax.Task for what each function takes and returns"
    ) from None


@dataclasses.dataclass
class TaskData:
  """A task seen as the sweep sees a corpus: `fingerprint`, `vocab_size` (0: no vocabulary), `n_train`,
  `device_train()` and `eval_batches(n, b, seq_len)`."""

  task: Task
  n_train: int
  n_val: int
  fingerprint: dict
  vocab_size: int = 0

  @classmethod
  def create(cls, task: Task, seed: int = 0) -> "TaskData":
    sizes = check(task)
    digest = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(task.train_data):
      digest.update(np.ascontiguousarray(leaf).tobytes())
    chance, chance_from = task.chance_loss, "given by the task (chance_loss)"
    if chance is None:  # L(θ0): where a lane that learned nothing stays
      params = jax.jit(task.init)(jax.random.fold_in(jax.random.key(seed), 0))
      val = jax.tree.map(lambda v: v[: min(v.shape[0], 1024)], task.val_data)
      chance = float(jax.jit(task.loss)(params, val))
      chance_from = f"L(θ0): the validation loss at initialisation (seed {seed})"
      if not math.isfinite(chance):
        raise UserError(f"Task.loss at initialisation is {chance} on the validation data; check init and loss")
    fp = {
      "name": task.name,
      "kind": "task",
      "source": "tailjax.Task (your model and data)",
      "sha256": digest.hexdigest(),
      "vocab_size": 0,
      "ln_vocab": chance,  # the learned-nothing reference every table, plot and fit reads under this key
      "chance_from": chance_from,
      "unigram_entropy": None,  # no second reference for a task
      "train_tokens": sizes["n_train"],  # examples
      "val_tokens": sizes["n_val"],
    }
    return cls(task, sizes["n_train"], sizes["n_val"], fp)

  @property
  def name(self) -> str:
    return self.task.name

  def device_train(self):
    return jax.device_put(self.task.train_data)

  def eval_batches(self, n_batches: int, batch_size: int, seq_len: int | None = None):
    """Fixed validation examples evenly spaced over the split, as (batches [N, B, ...], None); `seq_len` is unused
    (the same call as a corpus's)."""
    idx = np.linspace(0, self.n_val - 1, n_batches * batch_size).astype(np.int64)
    batches = jax.tree.map(
      lambda v: jnp.asarray(np.asarray(v)[idx]).reshape(n_batches, batch_size, *np.shape(v)[1:]), self.task.val_data
    )
    return batches, None
