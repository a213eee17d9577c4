"""The engine: one compiled program trains every lane of a row (one batch size).

A lane is one (learning rate, clip, weight decay, β2, seed) combination; every lane-indexed array has a leading axis R.
The model is a `Task` (tailjax/tasks/): the engine calls its init, loss and sampler and knows nothing else of it.
Steps run in `lax.scan` chunks that end with a validation pass; batches are drawn inside the program by the task's
sampler from its training data on the device, with a key derived from (seed, step), so lanes with equal seeds see the
same batches and start from the same parameters. A lane whose loss or gradient goes non-finite is frozen and flagged;
the others go on.

Lanes are laid out by `lane_strategy`: `vmap` batches them into one wide program (what fills an accelerator);
`map` runs them one after another inside the same program (`lax.map`), which on a CPU keeps each lane's working set
in cache and beats vmap (BENCHMARKS.md). Both compute the same function.

On several local devices the row's devices form a two-axis `Mesh` ("lanes", "batch"). The lane axis is split over
"lanes": every lane-indexed array carries a `NamedSharding(mesh, P("lanes"))` (replicated along "batch"), the data are
replicated, and the row program is `shard_map`-ped so each device runs the same per-lane code on its block of lanes
(with either strategy; `lax.map` is a loop GSPMD would not split). A row with fewer lanes than devices uses as many
devices as it has lanes; otherwise the table is padded with copies of its last lane to a multiple of the device count,
and the copies are dropped from every result.

Along "batch" (`batch_devices` > 1; on a CPU the default, over the two XLA CPU devices the command line starts) each
device of a lane draws the lane's whole batch with the lane's key, keeps its own equal share of the examples, and the
loss and gradients are averaged over the shares (`lax.pmean`) before the optimizer: the same run as on one device, to
float rounding (a task's loss is a mean over the batch), with the halves of every step computed at
once on two cores (BENCHMARKS.md). Validation batches are shared the same way.
"""

import copy
import dataclasses
import functools

import flax.struct
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from flax import traverse_util
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from tailjax.training import optim
from tailjax.training.lane_grid import Lanes

METRICS = ("loss", "grad_norm", "clipped", "update_norm", "param_norm")  # per step and lane


@flax.struct.dataclass
class RowState:
  """Training state of a row: `params` and `opt_state` carry a leading lane axis R."""

  params: dict
  opt_state: optax.OptState
  step: jax.Array  # int32 scalar: optimizer steps taken (the same for every lane)
  diverged_at_R: jax.Array  # int32: step at which the lane went non-finite and froze, -1 if it never did

  @property
  def diverged_R(self) -> jax.Array:
    return self.diverged_at_R >= 0


def _over_lanes(fn, strategy: str):
  """Applies `fn` to each lane of its lane-indexed arguments (all leading axis R)."""
  if strategy == "vmap":
    return jax.vmap(fn)
  if strategy == "map":
    return lambda *args: jax.lax.map(lambda a: fn(*a), args)
  raise ValueError(strategy)


def resolve_lane_strategy(strategy: str, backend: str | None = None) -> str:
  if strategy == "auto":
    return "map" if (backend or jax.default_backend()) == "cpu" else "vmap"
  return strategy


@dataclasses.dataclass(frozen=True)
class Row:
  """Everything static about a row: hashable, so equal rows share their compiled programs.

  The lanes are arguments of the programs, not part of the row: rows that differ only in their learning rates, clips
  or seeds (with the same number of lanes) compile once.

  Attributes:
    cfg: the full config, frozen.
    task: the model and its data (`tailjax.tasks.base.Task`); rows of equal tasks share their programs.
    batch_size: B of this row.
    strategy: resolved lane strategy, `map` or `vmap`.
    devices: how many local devices the lane axis is split over.
    first_device: index in `jax.local_devices()` of the first of the row's devices (rows may train at once on
      disjoint devices).
    batch_devices: how many devices each lane's batch is split over (a divisor of batch_size); the row uses
      devices × batch_devices devices.
  """

  cfg: ml_collections.FrozenConfigDict
  task: object
  batch_size: int
  strategy: str
  devices: int = 1
  first_device: int = 0
  batch_devices: int = 1

  @classmethod
  def create(
    cls,
    cfg,
    task,
    batch_size: int,
    devices: int = 1,
    first_device: int = 0,
    *,
    batch_devices: int = 1,
  ) -> "Row":
    # A copy: FrozenConfigDict compares (and hashes) through the ConfigDict it was made from, so a config changed
    # after this row was built would make the two rows equal, and share a compiled program that is not theirs.
    frozen = ml_collections.FrozenConfigDict(copy.deepcopy(cfg))
    strategy = resolve_lane_strategy(cfg.sweep.lane_strategy)
    if batch_size % batch_devices:
      raise ValueError(f"batch size {batch_size} does not split over {batch_devices} devices")
    return cls(frozen, task, batch_size, strategy, devices, first_device, batch_devices)

  # ---------------------------------------------------------------- placement
  @functools.cached_property
  def mesh(self) -> Mesh:
    mine = jax.local_devices()[self.first_device : self.first_device + self.devices * self.batch_devices]
    return Mesh(np.array(mine).reshape(self.devices, self.batch_devices), ("lanes", "batch"))

  def lanes_only(self, tree):
    """`tree` (lane-indexed) on one device per block of lanes: programs that do not split the batch (the noise
    measurement) then run once, not once per batch device."""
    if self.batch_devices == 1:
      return tree
    mesh = Mesh(self.mesh.devices[:, 0], ("lanes",))
    return jax.device_put(tree, NamedSharding(mesh, P("lanes")))

  def sharding(self, ndim: int) -> NamedSharding:
    """Lane-indexed arrays are split along their leading axis; scalars (the step) are replicated."""
    return NamedSharding(self.mesh, P("lanes") if ndim else P())

  def shard(self, tree):
    """Places a pytree of lane-indexed arrays (leading axis a multiple of `devices`) on the row's devices."""
    return jax.tree.map(lambda x: jax.device_put(x, self.sharding(np.ndim(x))), tree)

  def replicate(self, tree):
    """A copy of `tree` on every device of the row (the training data and validation batches)."""
    return jax.device_put(tree, NamedSharding(self.mesh, P()))

  def abstract_state(self, lanes: "Lanes"):
    """Shapes, dtypes and shardings of `init_state(lanes)`, computed without running it (a restore template)."""
    shapes = _init.eval_shape(self, lanes)  # shares its trace with `init_state` and every other template (once)
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=self.sharding(len(s.shape))), shapes)

  def checkpoint_template(self, lanes: "Lanes", n_real: int):
    """The restore template of a checkpoint, which holds the `n_real` real lanes only (so it does not depend on how
    many devices the row is split over): `abstract_state` cut to n_real lanes, replicated if they do not split."""

    def cut(s):
      if not s.shape:
        return s
      sharding = self.sharding(1) if n_real % self.devices == 0 else NamedSharding(self.mesh, P())
      return jax.ShapeDtypeStruct((n_real, *s.shape[1:]), s.dtype, sharding=sharding)

    return jax.tree.map(cut, self.abstract_state(lanes))

  def real_lanes(self, state: RowState, n_real: int) -> RowState:
    """`state` without its padding lanes (what a checkpoint holds)."""
    if state.diverged_at_R.shape[0] == n_real:
      return state
    return jax.tree.map(lambda x: x[:n_real] if x.ndim else x, state)

  def padded_lanes(self, state: RowState, n_padded: int) -> RowState:
    """A state of real lanes padded back with copies of its last lane and placed on the row's devices (lanes never
    interact, and padding lanes' results are dropped, so what they hold does not matter)."""
    if state.diverged_at_R.shape[0] == n_padded:
      return self.shard(state)
    pad = lambda x: np.concatenate([x, np.repeat(x[-1:], n_padded - x.shape[0], axis=0)]) if x.ndim else x
    return self.shard(jax.tree.map(pad, jax.device_get(state)))  # padded on the host: once per resume

  def per_device(self, fn, n_lane_args: int, n_shared_args: int = 0):
    """`fn` of lane-indexed arguments then shared ones, returning lane-indexed outputs: on several devices each
    device applies it to its own block of lanes (`shard_map`); on one it is `fn` itself."""
    if self.devices * self.batch_devices == 1:
      return fn
    specs = (P("lanes"),) * n_lane_args + (P(),) * n_shared_args
    # Split batches average their gradients explicitly (`_share_mean`), so no implicit psum may be added; lanes alone
    # never communicate, and there the check stays on.
    return jax.shard_map(fn, mesh=self.mesh, in_specs=specs, out_specs=P("lanes"), check_vma=self.batch_devices == 1)

  def _my_share(self, tree, axis: int = 0):
    """This device's equal share of the examples along `axis` of every leaf (all of them on one batch device)."""
    if self.batch_devices == 1:
      return tree
    i = jax.lax.axis_index("batch")
    cut = lambda x: jax.lax.dynamic_slice_in_dim(x, i * (x.shape[axis] // self.batch_devices),
                                                 x.shape[axis] // self.batch_devices, axis)  # fmt: skip
    return jax.tree.map(cut, tree)

  def _share_mean(self, tree):
    """The mean over the batch devices of a per-share mean: the mean over the whole batch (equal shares)."""
    return tree if self.batch_devices == 1 else jax.lax.pmean(tree, "batch")

  # ---------------------------------------------------------------- one lane
  def _tx(self, lr, clip, wd, b2):
    return optim.make(self.cfg.optim, self.cfg.train.steps, lr, clip, wd, b2=b2)

  def _init_lane(self, seed, lr, clip, wd, b2):
    params = self.task.init(jax.random.fold_in(jax.random.key(seed), 0))
    return params, self._tx(lr, clip, wd, b2).init(params)

  def _lane_step(self, params, opt_state, diverged, *, lr, clip, wd, b2, seed, step, train_data):
    key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), 1), step)
    batch = self._my_share(self.task.sample(train_data, key, self.batch_size))  # the same batch on any devices
    loss, grads = self._share_mean(jax.value_and_grad(self.task.loss)(params, batch))
    grad_norm = optim.global_norm(grads)
    updates, new_opt_state = self._tx(lr, clip, wd, b2).update(grads, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    now_diverged = diverged | ~jnp.isfinite(loss) | ~jnp.isfinite(grad_norm)
    keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(now_diverged, o, n), new, old)
    params, opt_state = keep(new_params, params), keep(new_opt_state, opt_state)
    nan = jnp.float32(jnp.nan)
    metrics = {
      "loss": jnp.where(now_diverged, nan, loss),
      "grad_norm": jnp.where(now_diverged, nan, grad_norm),
      "clipped": (grad_norm > clip) & ~now_diverged,
      "update_norm": jnp.where(now_diverged, nan, optim.global_norm(updates)),
      "param_norm": optim.global_norm(params),
    }
    return params, opt_state, now_diverged, metrics

  def _lane_eval(self, params, diverged, val_batches):
    """The lane's validation loss: the task's exact loss, or the mean over the fixed validation batches (leaves
    [N, B, ...]), or NaN for a task with no validation loss."""
    if not self.task.validates:
      return jnp.float32(jnp.nan)
    if self.task.exact_loss is not None:
      return jnp.where(diverged, jnp.nan, self.task.exact_loss(params))
    split = all(x.shape[1] % self.batch_devices == 0 for x in jax.tree.leaves(val_batches))
    share = self._my_share(val_batches, axis=1) if split else val_batches
    losses_N = jax.lax.map(lambda batch: self.task.loss(params, batch), share)
    loss = self._share_mean(losses_N.mean()) if split else losses_N.mean()
    return jnp.where(diverged, jnp.nan, loss)

  # ---------------------------------------------------------------- the row
  def init_state(self, lanes: Lanes) -> RowState:
    """Parameters from each lane's seed, fresh optimizer state, nothing diverged."""
    return _init(self, lanes)

  def run_chunk(self, state: RowState, lanes: Lanes, train_data, val_batches, n_steps: int):
    """Trains every lane `n_steps` steps, then evaluates.

    Args:
      state: the row state (donated: do not use it afterwards).
      lanes: the row's `Lanes`.
      train_data: the task's training data on the device (what its sampler reads).
      val_batches: the task's fixed validation batches (`Task.validation_batches`), leaves [N, B, ...].
      n_steps: chunk length (static: each distinct length compiles once).

    Returns:
      (state, metrics, val_loss_R): metrics maps each name in METRICS to an [n_steps, R] array.
    """
    return _chunk(self, state, lanes, train_data, val_batches, n_steps=n_steps)

  def compile_chunk(self, lanes: Lanes, train_data, val_batches, n_steps: int) -> None:
    """Compiles `run_chunk`'s program for `n_steps` from the state's shapes alone, into the same cache the call uses:
    a thread can do it while the state is being initialised or restored (`row_loop.train_row`)."""
    _chunk.lower(self, self.abstract_state(lanes), lanes, train_data, val_batches, n_steps=n_steps).compile()


NORM_PREFIX = "wnorm."  # history keys of per-matrix norms: "wnorm." + the parameter path joined by "."


@jax.jit
def matrix_norms(params) -> dict:
  """Frobenius norm of every weight matrix (every tensor with 2+ axes besides the lane axis), per lane: {key: [R]}."""
  flat = traverse_util.flatten_dict(params)
  return {
    NORM_PREFIX + ".".join(path): jnp.sqrt(jnp.sum(jnp.square(v.astype(jnp.float32)), axis=tuple(range(1, v.ndim))))
    for path, v in flat.items()
    if v.ndim >= 3
  }


def _init_unjitted(row: Row, lanes: Lanes) -> RowState:
  params, opt_state = row.per_device(_over_lanes(row._init_lane, row.strategy), 5)(
    lanes.seed_R, lanes.lr_R, lanes.clip_R, lanes.weight_decay_R, lanes.b2_R
  )
  return RowState(
    params=params,
    opt_state=opt_state,
    step=jnp.zeros((), jnp.int32),
    diverged_at_R=jnp.full(lanes.size, -1, jnp.int32),
  )


# Runs once per row: compiled without LLVM's optimisations, 2 s instead of 4-5 s on a 2-core CPU (BENCHMARKS.md).
_init = jax.jit(_init_unjitted, static_argnums=0, compiler_options={"xla_backend_optimization_level": 0})


@functools.partial(jax.jit, static_argnums=0, static_argnames="n_steps", donate_argnames="state")
def _chunk(row: Row, state: RowState, lanes: Lanes, train_data, val_batches, *, n_steps: int):
  def lane_block(params, opt_state, diverged_at_R, lr_R, clip_R, wd_R, b2_R, seed_R, step0, train_data, val_batches):
    """The lanes of one device (all of them, on one device)."""

    def lane_chunk(params, opt_state, diverged_at, lr, clip, wd, b2, seed):
      """One lane: `n_steps` steps in a scan, then its validation loss."""

      def body(carry, step):
        params, opt_state, diverged_at = carry
        before = diverged_at >= 0
        params, opt_state, now, metrics = row._lane_step(
          params, opt_state, before, lr=lr, clip=clip, wd=wd, b2=b2, seed=seed, step=step, train_data=train_data
        )
        return (params, opt_state, jnp.where(now & ~before, step, diverged_at)), metrics

      steps_L = step0 + jnp.arange(n_steps, dtype=jnp.int32)
      carry, metrics_L = jax.lax.scan(body, (params, opt_state, diverged_at), steps_L)
      val_loss = row._lane_eval(carry[0], carry[2] >= 0, val_batches)
      return carry, metrics_L, val_loss

    # With `map` each lane runs its whole chunk before the next starts (its state stays hot in cache); with `vmap` the
    # lanes advance together, one batched step at a time.
    return _over_lanes(lane_chunk, row.strategy)(params, opt_state, diverged_at_R, lr_R, clip_R, wd_R, b2_R, seed_R)

  (params, opt_state, diverged_at_R), metrics_RxL, val_loss_R = row.per_device(lane_block, 8, 3)(
    state.params,
    state.opt_state,
    state.diverged_at_R,
    lanes.lr_R,
    lanes.clip_R,
    lanes.weight_decay_R,
    lanes.b2_R,
    lanes.seed_R,
    state.step,
    train_data,
    val_batches,
  )
  state = RowState(params, opt_state, state.step + n_steps, diverged_at_R)
  return state, jax.tree.map(lambda m: m.T, metrics_RxL), val_loss_R
