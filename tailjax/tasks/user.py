"""A user's own task (`tailjax.Task`, given from Python to `tailjax.train_rows`): checked on shapes alone before
anything is computed, then completed with the facts the run records (`prepare`)."""

import dataclasses
import functools
import hashlib
import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.errors import UserError
from tailjax.models import param_kinds
from tailjax.noise import per_example
from tailjax.tasks.base import Task


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


def prepare(task: Task, seed: int = 0) -> Task:
  """`task` checked (`check`) and completed with what the run records: the sha256 of its training data (data.json;
  a changed one is refused in the same workdir), its sizes, and its chance loss (given, or L(θ0): the validation loss
  at initialisation of seed `seed`, where a lane that learned nothing stays)."""
  sizes = check(task)
  digest = hashlib.sha256()
  for leaf in jax.tree_util.tree_leaves(task.train_data):
    digest.update(np.ascontiguousarray(leaf).tobytes())
  chance, chance_from = task.chance_loss, "given by the task (chance_loss)"
  if chance is None:
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
  return dataclasses.replace(
    task,
    chance_loss=chance,
    chance_means=f"learned nothing; {chance_from}",
    n_train=sizes["n_train"],
    examples_name=f"training examples of task {task.name}",
    fingerprint=fp,
    describe=(
      f"task {task.name}: {sizes['n_train']} train / {sizes['n_val']} val examples, chance loss {chance:.4g} "
      f"({chance_from}), sha256 {fp['sha256']}"
    ),  # fmt: skip
  )
