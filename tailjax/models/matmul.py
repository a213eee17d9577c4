"""The dense layers' matmul with a weight gradient that XLA:CPU computes at the speed of the forward pass.

Written by hand because no library lays this out: in the backward pass of y = x·W the weight gradient is xᵀ·g, a dot
that contracts the batch·time axis of both operands. XLA:CPU's layout assignment hands it a transposed copy of g and
runs it in Eigen, where it took 2.7× the time of the forward matmul of the same size (4.6 ms against 1.7 ms for the
feed-forward layer at d = 64, B·T = 4,096, one core; profile in BENCHMARKS.md). Passing x and g through
`lax.optimization_barrier` keeps both in the row-major layout they were produced in, which the fast kernel takes.
The math is the same (dx = g·Wᵀ, dW = xᵀ·g); only the layout XLA may choose changes. `model.matmul = auto` uses it on
the CPU only: elsewhere the barrier buys nothing and could keep XLA from fusing.
"""

import jax
from jax import lax


@jax.custom_vjp
def _matmul(x, w):
  return lax.dot_general(x, w, (((x.ndim - 1,), (0,)), ((), ())))


def _matmul_fwd(x, w):
  return _matmul(x, w), (x, w)


def _matmul_bwd(res, g):
  x, w = res
  dx = lax.dot_general(g, w, (((g.ndim - 1,), (1,)), ((), ())))
  x_MxK, g_MxN = lax.optimization_barrier((x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])))
  dw_KxN = lax.dot_general(x_MxK, g_MxN, (((0,), (0,)), ((), ())))
  return dx, dw_KxN.astype(w.dtype)


_matmul.defvjp(_matmul_fwd, _matmul_bwd)


def cpu_dot_general(lhs, rhs, dimension_numbers, *, precision=None, preferred_element_type=None, **kwargs):
  """`lax.dot_general` for `nn.Dense(dot_general=...)`: x[..., K]·W[K, N] goes through `_matmul`; any other
  contraction (or a precision, an output type) is passed on unchanged."""
  (lhs_c, rhs_c), (lhs_b, _) = dimension_numbers
  plain = tuple(lhs_c) == (lhs.ndim - 1,) and tuple(rhs_c) == (0,) and not lhs_b and rhs.ndim == 2
  if plain and precision is None and preferred_element_type is None and not kwargs:
    return _matmul(lhs, rhs)
  return lax.dot_general(
    lhs, rhs, dimension_numbers, precision=precision, preferred_element_type=preferred_element_type, **kwargs
  )


def resolve(matmul: str, backend: str) -> str:
  """`auto`: `cpu` on the CPU, `xla` elsewhere."""
  if matmul != "auto":
    return matmul
  return "cpu" if backend == "cpu" else "xla"


def dot_general_for(matmul: str):
  """The `dot_general` an `nn.Dense` is given: ours for `cpu`, flax's default (None) for `xla`."""
  return cpu_dot_general if matmul == "cpu" else None
