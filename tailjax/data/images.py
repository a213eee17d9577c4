"""Image datasets for Phase 3c: `digits` (offline, rendered from the fonts matplotlib ships), tfds `mnist`, `cifar10`.

`digits`: 16×16 grey images of the ten digits, each glyph drawn from one of matplotlib's bundled fonts (DejaVu,
STIX, Computer Modern) and put through a random rotation, scale, shear and shift, plus pixel noise; a fixed seed, so
every machine builds the same set. It needs no download, which is why it is the default for tests and quickstarts;
it is an easy problem, not a benchmark.

`mnist` / `cifar10`: read with tensorflow-datasets from an already prepared copy only (download=False): offline, a
missing copy is one clear error.
"""

import dataclasses
import hashlib
import math

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.errors import UserError

_FONTS = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "STIXGeneral", "cmr10", "cmss10", "cmtt10")
_CANVAS = 48  # glyphs are rasterised at 3× and block-averaged down to 16×16 (anti-aliasing)


@dataclasses.dataclass
class Images:
  """A labelled image set: x float32 [N, H, W, C] in [0, 1], y int32 [N] in [0, n_classes)."""

  name: str
  train_x: np.ndarray
  train_y: np.ndarray
  val_x: np.ndarray
  val_y: np.ndarray
  n_classes: int
  fingerprint: dict

  @property
  def vocab_size(self) -> int:  # what the engine and the reference losses read: ln(classes) = learned nothing
    return self.n_classes

  @property
  def n_train(self) -> int:
    return len(self.train_x)

  def device_train(self):
    return jax.device_put(self.train_x), jax.device_put(self.train_y)

  def eval_batches(self, n_batches: int, batch_size: int, seq_len: int | None = None):
    """Fixed validation images, evenly spaced over the split: (x_NxBxHxWxC, y_NxB). `seq_len` is unused (the same
    call as `text.Corpus.eval_batches`)."""
    idx = np.linspace(0, len(self.val_x) - 1, n_batches * batch_size).astype(np.int64)
    x, y = self.val_x[idx], self.val_y[idx]
    return jnp.asarray(x.reshape(n_batches, batch_size, *x.shape[1:])), jnp.asarray(y.reshape(n_batches, batch_size))


def sample_batch(train, key, batch_size: int):
  """`batch_size` random training images inside a jitted program."""
  x_NxHxWxC, y_N = train
  idx_B = jax.random.randint(key, (batch_size,), 0, y_N.shape[0])
  return x_NxHxWxC[idx_B], y_N[idx_B]


def _glyphs() -> np.ndarray:
  """[fonts, 10, 48, 48] masks of the digits 0-9, each centred and scaled to the same height."""
  from matplotlib.font_manager import FontProperties
  from matplotlib.path import Path
  from matplotlib.textpath import TextPath

  centres = (np.arange(_CANVAS) + 0.5) / _CANVAS
  grid = np.stack(np.meshgrid(centres, 1 - centres), -1).reshape(-1, 2)  # row 0 at the top
  out = np.zeros((len(_FONTS), 10, _CANVAS, _CANVAS), np.float32)
  for f, family in enumerate(_FONTS):
    for d in range(10):
      path = TextPath((0, 0), str(d), size=1, prop=FontProperties(family=family))
      v = path.vertices
      lo, hi = v.min(0), v.max(0)
      scale = 0.7 / (hi[1] - lo[1])
      v = (v - (lo + hi) / 2) * scale + 0.5
      mask = np.zeros(len(grid), bool)
      for ring in Path(v, path.codes).to_polygons(closed_only=False):  # even-odd: a ring inside a ring is a hole
        mask ^= Path(ring).contains_points(grid)
      out[f, d] = mask.reshape(_CANVAS, _CANVAS)
  return out


def rendered_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """n images [n, 16, 16, 1] and labels [n], balanced over the ten digits."""
  import scipy.ndimage  # the affine warps

  glyphs = _glyphs()
  rng = np.random.default_rng(seed)
  y = np.arange(n) % 10
  rng.shuffle(y)
  x = np.empty((n, 16, 16, 1), np.float32)
  c = (_CANVAS - 1) / 2
  for i in range(n):
    a, s, sh = rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.15), rng.uniform(-0.25, 0.25)
    m = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.array([[1, sh], [0, 1]]) / s
    shift = rng.uniform(-4, 4, 2)
    img = scipy.ndimage.affine_transform(
      glyphs[rng.integers(len(_FONTS)), y[i]], m, offset=c - m @ (np.array([c, c]) + shift), order=1
    )
    img = img.reshape(16, 3, 16, 3).mean((1, 3)) + rng.normal(0, 0.08, (16, 16))
    x[i, :, :, 0] = np.clip(img, 0, 1)
  return x, y.astype(np.int32)


def _fingerprint(name, source, *, train_x, train_y, val_x, n_classes):
  p = np.bincount(train_y, minlength=n_classes) / len(train_y)
  p = p[p > 0]
  return {
    "name": name,
    "source": source,
    "kind": "images",
    "sha256": hashlib.sha256(train_x.tobytes()).hexdigest(),
    "vocab_size": n_classes,
    "ln_vocab": math.log(n_classes),  # ln(classes): the loss of a model that learned nothing
    "unigram_entropy": float(-(p * np.log(p)).sum()),  # class-frequency entropy: learned the class balance only
    "train_tokens": len(train_x),  # images
    "val_tokens": len(val_x),
    "image_shape": list(train_x.shape[1:]),
  }


def load(cfg) -> Images:
  if cfg.name == "digits":
    x, y = rendered_digits(cfg.image_examples)
    n_val = max(int(len(x) * cfg.val_fraction), 1)
    tx, ty, vx, vy = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    source = f"rendered from matplotlib's fonts, seed 0, {cfg.image_examples} images"
    return Images(
      "digits", tx, ty, vx, vy, 10, _fingerprint("digits", source, train_x=tx, train_y=ty, val_x=vx, n_classes=10)
    )
  import tensorflow_datasets as tfds  # only for the prepared tfds sets

  try:
    splits = tfds.load(cfg.name, split=["train", "test"], batch_size=-1, as_supervised=True, download=False)
  except Exception as e:  # tfds raises several types for a missing copy  # noqa: BLE001
    raise UserError(
      f"tfds {cfg.name} is not prepared on this machine ({type(e).__name__}); prepare it once online with "
      f"python -c \"import tensorflow_datasets as tfds; tfds.load('{cfg.name}')\", or use data.name=digits (offline)"
    ) from None
  (tx, ty), (vx, vy) = tfds.as_numpy(splits)
  tx, vx = tx.astype(np.float32) / 255.0, vx.astype(np.float32) / 255.0
  ty, vy = ty.astype(np.int32), vy.astype(np.int32)
  return Images(
    cfg.name,
    tx,
    ty,
    vx,
    vy,
    10,
    _fingerprint(cfg.name, "tfds (prepared copy)", train_x=tx, train_y=ty, val_x=vx, n_classes=10),
  )
