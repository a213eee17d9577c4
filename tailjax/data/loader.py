"""`load(data_cfg)`: the corpus or image set a config names, checked against the window length it will be cut into."""

from tailjax.data import IMAGES, text
from tailjax.errors import UserError


def load(cfg):
  """The `text.Corpus` (or, for digits / mnist / cifar10, the `images.Images`) named by the `data` section."""
  if cfg.name in IMAGES:
    from tailjax.data import images  # renders with matplotlib or reads tfds: loaded only for image data

    return images.load(cfg)
  if cfg.name not in text.CORPORA:
    raise UserError(f"unknown data.name {cfg.name!r}; choose one of {', '.join([*text.CORPORA, *IMAGES])}")
  corpus = text.CORPORA[cfg.name](cfg)
  for split, toks in (("training", corpus.train_T), ("validation", corpus.val_T)):
    if len(toks) <= cfg.seq_len + 1:
      raise UserError(
        f"the {split} split of {corpus.name} has {len(toks)} tokens, not more than "
        f"data.seq_len + 1 = {cfg.seq_len + 1}; lower --config.data.seq_len or use more data"
      )
  return corpus
