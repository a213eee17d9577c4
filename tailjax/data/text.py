"""Character-level corpora, their fingerprints, and sampling windows of them on the device.

A corpus is two int32 token arrays (train, val) plus what a reader of the losses needs beside them: the vocabulary
size V with ln V (the loss of a model that learned nothing), the unigram entropy of the training split (the loss of a
model that learned only character frequencies), and the sha256 of the text it came from.
"""

import dataclasses
import hashlib
import math
import os
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from tailjax.data import DATA_ENV
from tailjax.errors import UserError

_REPO = pathlib.Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Corpus:
  """Tokens of one corpus. `train_T` and `val_T` are 1-D int32 numpy arrays of token ids in [0, vocab_size)."""

  name: str
  train_T: np.ndarray
  val_T: np.ndarray
  vocab_size: int
  fingerprint: dict

  @property
  def ln_vocab(self) -> float:
    return math.log(self.vocab_size)

  def device_train(self):
    return jax.device_put(self.train_T)

  def eval_batches(self, n_batches: int, batch_size: int, seq_len: int):
    return eval_windows(self.val_T, n_batches, batch_size, seq_len)


def data_root() -> pathlib.Path:
  """$TAILJAX_DATA_DIR, else the shared data folder beside the repository."""
  return pathlib.Path(os.environ.get(DATA_ENV) or _REPO.parent / "shared" / "data")


def unigram_entropy(tokens: np.ndarray, vocab_size: int) -> float:
  """Entropy in nats of the empirical token distribution."""
  p = np.bincount(tokens, minlength=vocab_size) / len(tokens)
  p = p[p > 0]
  return float(-(p * np.log(p)).sum())


def _fingerprint(name, source, text_bytes, train_T, val_T, *, vocab_size, **extra):
  return {
    "name": name,
    "source": source,
    "sha256": hashlib.sha256(text_bytes).hexdigest() if text_bytes is not None else None,
    "vocab_size": vocab_size,
    "ln_vocab": math.log(vocab_size),
    "unigram_entropy": unigram_entropy(train_T, vocab_size),
    "train_tokens": len(train_T),
    "val_tokens": len(val_T),
    **extra,
  }


def _char_split(text: str, val_fraction: float):
  """Sorted-character vocabulary; the first (1 - val_fraction) of the text trains, the rest validates."""
  chars = sorted(set(text))
  table = {c: i for i, c in enumerate(chars)}
  ids_T = np.fromiter((table[c] for c in text), dtype=np.int32, count=len(text))
  n_train = int(len(ids_T) * (1 - val_fraction))
  return ids_T[:n_train], ids_T[n_train:], chars


def _read_text(path: pathlib.Path) -> bytes:
  if path.is_dir():
    raise UserError(f"data file {path} is a folder; point data.path at the text file itself")
  if not path.exists():
    raise UserError(f"data file {path} does not exist; set --config.data.path or ${DATA_ENV} to where it is")
  raw = path.read_bytes()
  if not raw.strip():
    raise UserError(f"data file {path} is empty; point data.path at a file with text in it")
  try:
    raw.decode("utf-8")
  except UnicodeDecodeError as e:
    raise UserError(
      f"data file {path} is not UTF-8 text (byte {raw[e.start]:#04x} at offset {e.start}); "
      "convert it (iconv -t utf-8) or point data.path at a text file"
    ) from None
  return raw


def _pydoc(cfg) -> Corpus:
  """Python's own pydoc topic texts (module pydoc_data): ~465k characters, present wherever Python is."""
  from pydoc_data.topics import topics

  text = "".join(topics[k] for k in sorted(topics))
  train_T, val_T, chars = _char_split(text, cfg.val_fraction)
  fp = _fingerprint(
    "pydoc", "pydoc_data.topics", text.encode(), train_T, val_T, vocab_size=len(chars), chars="".join(chars)
  )
  return Corpus("pydoc", train_T, val_T, len(chars), fp)


def _tinyshakespeare(cfg) -> Corpus:
  path = pathlib.Path(cfg.path) if cfg.path else data_root() / "tinyshakespeare"
  if path.is_dir():
    path = path / "input.txt"
  if cfg.source == "tfds" or (cfg.source == "auto" and not path.exists() and not cfg.path):
    return _tinyshakespeare_tfds(cfg)
  raw = _read_text(path)
  text = raw.decode("utf-8")
  train_T, val_T, chars = _char_split(text, cfg.val_fraction)
  fp = _fingerprint("tinyshakespeare", str(path), raw, train_T, val_T, vocab_size=len(chars), chars="".join(chars))
  return Corpus("tinyshakespeare", train_T, val_T, len(chars), fp)


def _tinyshakespeare_tfds(cfg) -> Corpus:
  """tfds's catalogued `tiny_shakespeare` (train and validation splits). With source=auto only an already prepared
  copy is used (offline, a download attempt can hang for minutes); source=tfds may download it."""
  try:
    import tensorflow_datasets as tfds

    download = cfg.source == "tfds"
    splits = tfds.load("tiny_shakespeare", split=["train", "validation"], batch_size=-1, download=download)
    train_text, val_text = (tfds.as_numpy(s)["text"][0].decode("utf-8") for s in splits)
  except Exception as e:  # tfds raises many kinds; all mean "not available here"
    raise UserError(
      f"tinyshakespeare: no input.txt in {data_root() / 'tinyshakespeare'} and no prepared tfds copy "
      f"({type(e).__name__}); put input.txt there, set ${DATA_ENV}, pass --config.data.path=/path/to/input.txt, "
      "or --config.data.source=tfds to download it"
    ) from None
  chars = sorted(set(train_text + val_text))
  table = {c: i for i, c in enumerate(chars)}
  enc = lambda s: np.array([table[c] for c in s], dtype=np.int32)
  train_T, val_T = enc(train_text), enc(val_text)
  raw = (train_text + val_text).encode()
  fp = _fingerprint("tinyshakespeare", "tfds:tiny_shakespeare", raw, train_T, val_T, vocab_size=len(chars))
  return Corpus("tinyshakespeare", train_T, val_T, len(chars), fp)


_WIKI_VOCAB = 128  # the study's vocabulary: ASCII codes; every other character becomes id 0 (NUL never occurs)


def _ascii_ids(text: str) -> np.ndarray:
  codes_T = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
  return np.where(codes_T < _WIKI_VOCAB, codes_T, 0).astype(np.int32)


def _wikitext2(cfg) -> Corpus:
  folder = pathlib.Path(cfg.path) if cfg.path else data_root() / "wikitext-2"
  if not folder.is_dir():
    raise UserError(
      f"WikiText-2 folder {folder} does not exist or is not a folder; point --config.data.path "
      f"(or ${DATA_ENV}) at the folder holding wiki.{{train,valid,test}}.raw"
    )
  train_file, val_file, note = "wiki.train.raw", "wiki.valid.raw", None
  if not (folder / train_file).exists():
    if not cfg.allow_valid_as_train:
      raise UserError(
        f"{folder / train_file} is missing; add it, or pass --config.data.allow_valid_as_train=True "
        "to train on wiki.valid.raw and evaluate on wiki.test.raw"
      )
    train_file, val_file = "wiki.valid.raw", "wiki.test.raw"
    note = "wiki.train.raw missing: TRAINING ON THE VALID SPLIT, evaluating on the test split"
  train_raw, val_raw = _read_text(folder / train_file), _read_text(folder / val_file)
  train_T, val_T = _ascii_ids(train_raw.decode("utf-8")), _ascii_ids(val_raw.decode("utf-8"))
  fp = _fingerprint(
    "wikitext2",
    str(folder),
    train_raw + val_raw,
    train_T,
    val_T,
    vocab_size=_WIKI_VOCAB,
    train_file=train_file,
    val_file=val_file,
    sha256_train=hashlib.sha256(train_raw).hexdigest(),
    sha256_val=hashlib.sha256(val_raw).hexdigest(),
    non_ascii_fraction=float(np.mean(train_T == 0)),
    warning=note,
  )
  return Corpus("wikitext2", train_T, val_T, _WIKI_VOCAB, fp)


def _random_tokens(cfg) -> Corpus:
  """Uniform i.i.d. tokens: nothing is learnable, the best loss is ln V (the study's first Phase 2 task)."""
  rng = np.random.default_rng(0)
  ids_T = rng.integers(0, cfg.random_vocab, size=cfg.random_length, dtype=np.int32)
  n_train = int(len(ids_T) * (1 - cfg.val_fraction))
  train_T, val_T = ids_T[:n_train], ids_T[n_train:]
  fp = _fingerprint(
    "random_tokens", "numpy default_rng(0)", ids_T.tobytes(), train_T, val_T, vocab_size=cfg.random_vocab
  )
  return Corpus("random_tokens", train_T, val_T, cfg.random_vocab, fp)


def sample_windows(tokens_N: jax.Array, key: jax.Array, batch_size: int, seq_len: int):
  """Draws `batch_size` random windows of seq_len + 1 tokens inside a jitted program.

  Returns:
    (x_BxT, y_BxT): inputs and next-token targets.
  """
  starts_B = jax.random.randint(key, (batch_size,), 0, tokens_N.shape[0] - seq_len)
  win_BxT1 = jax.vmap(lambda s: jax.lax.dynamic_slice(tokens_N, (s,), (seq_len + 1,)))(starts_B)
  return win_BxT1[:, :-1], win_BxT1[:, 1:]


def eval_windows(val_T: np.ndarray, n_batches: int, batch_size: int, seq_len: int):
  """Fixed validation windows, evenly spaced over the split (they overlap only when the split is short).

  Returns:
    (x_NxBxT, y_NxBxT) int32 arrays, N = n_batches.
  """
  n = n_batches * batch_size
  starts = np.linspace(0, len(val_T) - seq_len - 1, n).astype(np.int64)
  win = np.stack([val_T[s : s + seq_len + 1] for s in starts]).reshape(n_batches, batch_size, seq_len + 1)
  return jnp.asarray(win[..., :-1]), jnp.asarray(win[..., 1:])


CORPORA = {
  "pydoc": _pydoc,
  "tinyshakespeare": _tinyshakespeare,
  "wikitext2": _wikitext2,
  "random_tokens": _random_tokens,
}  # keys: data.TEXT
