"""Corpora, fingerprints, and batches drawn on the device."""

import hashlib
import math
import time

import jax
import numpy as np
import pytest

from tailjax.data import DATA_ENV, loader, text
from tailjax.errors import UserError
from tests.conftest import tiny_config


def test_pydoc_fingerprint_is_consistent():
  corpus = loader.load(tiny_config().data)
  fp = corpus.fingerprint
  assert fp["vocab_size"] == corpus.vocab_size == len(fp["chars"])
  assert fp["ln_vocab"] == pytest.approx(math.log(corpus.vocab_size))
  assert 0 < fp["unigram_entropy"] < fp["ln_vocab"]
  assert len(fp["sha256"]) == 64
  assert fp["train_tokens"] == len(corpus.train_T) and fp["val_tokens"] == len(corpus.val_T)
  assert abs(len(corpus.val_T) / (len(corpus.train_T) + len(corpus.val_T)) - 0.1) < 1e-3


def test_tinyshakespeare_from_shared_data():
  c = tiny_config().data
  c.name = "tinyshakespeare"
  corpus = loader.load(c)
  assert corpus.vocab_size == 65
  assert (len(corpus.train_T), len(corpus.val_T)) == (1_003_854, 111_540)  # nanoGPT's 90/10 split
  assert corpus.fingerprint["sha256"] == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def test_unigram_entropy_known_answers():
  assert text.unigram_entropy(np.array([0, 1, 2, 3] * 10), 8) == pytest.approx(math.log(4))
  assert text.unigram_entropy(np.zeros(50, np.int32), 3) == 0.0


def _wiki(tmp_path, files):
  for name, content in files.items():
    (tmp_path / name).write_text(content, encoding="utf-8")
  c = tiny_config().data
  c.name, c.path = "wikitext2", str(tmp_path)
  return c


def test_wikitext_ascii_vocabulary_and_unknown_id(tmp_path):
  text = " = Café = \n" * 20
  c = _wiki(tmp_path, {"wiki.train.raw": text, "wiki.valid.raw": text, "wiki.test.raw": text})
  corpus = loader.load(c)
  assert corpus.vocab_size == 128
  assert corpus.train_T[:9].tolist() == [ord(ch) for ch in " = Caf"] + [0, ord(" "), ord("=")]
  assert corpus.fingerprint["warning"] is None
  assert corpus.fingerprint["sha256_train"] == hashlib.sha256(text.encode()).hexdigest()


def test_wikitext_without_train_split_refuses_unless_allowed(tmp_path):
  c = _wiki(tmp_path, {"wiki.valid.raw": "valid text " * 50, "wiki.test.raw": "test text " * 50})
  with pytest.raises(UserError, match="allow_valid_as_train"):
    loader.load(c)
  c.allow_valid_as_train = True
  corpus = loader.load(c)
  assert "TRAINING ON THE VALID SPLIT" in corpus.fingerprint["warning"]
  assert corpus.fingerprint["train_file"] == "wiki.valid.raw"


def test_missing_empty_and_misplaced_data(tmp_path):
  c = tiny_config().data
  c.name, c.path = "tinyshakespeare", str(tmp_path / "nope.txt")
  with pytest.raises(UserError, match="does not exist"):
    loader.load(c)
  (tmp_path / "empty.txt").write_text("  \n")
  c.path = str(tmp_path / "empty.txt")
  with pytest.raises(UserError, match="empty"):
    loader.load(c)
  c.name, c.path = "wikitext2", str(tmp_path / "empty.txt")
  with pytest.raises(UserError, match="not a folder"):
    loader.load(c)


def test_tinyshakespeare_absent_offline_fails_fast(tmp_path, monkeypatch):
  # No input.txt under the data folder and no prepared tfds copy: one clear error, not a download that hangs.
  monkeypatch.setenv(DATA_ENV, str(tmp_path))
  monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
  c = tiny_config().data
  c.name = "tinyshakespeare"
  t0 = time.time()
  with pytest.raises(UserError, match="no input.txt"):
    loader.load(c)
  assert time.time() - t0 < 60


def test_random_tokens_are_uniform():
  c = tiny_config().data
  c.name, c.random_vocab, c.random_length = "random_tokens", 65, 200_000
  corpus = loader.load(c)
  assert corpus.fingerprint["unigram_entropy"] == pytest.approx(math.log(65), abs=2e-3)


def test_sample_batch_draws_contiguous_windows_on_device():
  tokens_N = jax.numpy.arange(1000, dtype=jax.numpy.int32)
  x_BxT, y_BxT = jax.jit(text.sample_windows, static_argnums=(2, 3))(tokens_N, jax.random.key(3), 8, 16)
  x, y = np.asarray(x_BxT), np.asarray(y_BxT)
  assert x.shape == y.shape == (8, 16)
  np.testing.assert_array_equal(x, x[:, :1] + np.arange(16))  # a window of the corpus
  np.testing.assert_array_equal(y, x + 1)  # next-token targets
  assert (y[:, -1] < 1000).all()
  again = jax.jit(text.sample_windows, static_argnums=(2, 3))(tokens_N, jax.random.key(3), 8, 16)
  np.testing.assert_array_equal(np.asarray(again[0]), x)  # same key, same batch


def test_eval_batches_are_fixed_and_cover_the_split():
  val_T = np.arange(10_000, dtype=np.int32)
  x, y = text.eval_windows(val_T, 4, 8, 32)
  assert x.shape == (4, 8, 32)
  assert int(x[0, 0, 0]) == 0 and int(y[-1, -1, -1]) == 9_999
