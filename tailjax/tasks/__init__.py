"""The tasks: every model the engine trains is a `Task` (tasks/base.py), and this registry builds the study's from the
config. One file per built-in, each naming the models and data it trains on, its config checks and `build(cfg)`:

  text.py       the NanoTransformer on a character corpus (transformer; pydoc, tinyshakespeare, wikitext2,
                random_tokens)
  images.py     Phase 3c's image classifiers (mlp, cnn, vit; digits, mnist, cifar10)
  injected.py   experiment 1.1's FFN trained by an injected upstream gradient (ffn; injected)
  quadratic.py  the noisy quadratic model, with its exact LR*(B) (quadratic; noisy_quadratic)

A user's own task is given from Python (`tailjax.train_rows(task, ...)`, model.name = data.name = "task") and goes
through the same path. The registry and the task files import no jax at module level (`build` does), so the
command line's checks can ask a task's facts before jax loads.
"""

import importlib

from tailjax.errors import UserError

USER = "task"  # model.name = data.name = "task": a user's own model and data, given from Python
_FILES = {"transformer": "text", "mlp": "images", "cnn": "images", "vit": "images", "ffn": "injected",
          "quadratic": "quadratic"}  # fmt: skip


def module(model_name: str):
  """The task file of a built-in model (`tailjax.tasks.text` for the transformer, ...)."""
  return importlib.import_module(f"tailjax.tasks.{_FILES[model_name]}")


def check(cfg) -> None:
  """The config checks that depend on the model: it trains on its own data, and its own fields are valid."""
  if (cfg.model.name == USER) != (cfg.data.name == USER):
    raise UserError(
      f"model.name={cfg.model.name!r} with data.name={cfg.data.name!r}: a task is your own model and data together; "
      "tailjax.train_rows(task, ...) sets both to 'task'"
    )
  if cfg.model.name == USER:
    return
  task_file = module(cfg.model.name)
  if cfg.data.name not in task_file.DATA:
    others = sorted(name for name in _FILES if cfg.data.name in module(name).DATA)
    raise UserError(
      f"model.name={cfg.model.name!r} with data.name={cfg.data.name!r}: {task_file.WHAT} "
      f"({', '.join(task_file.DATA)})" + (f", and data.name={cfg.data.name} is for model.name={others[0]}" if others
      else "") + f"; set both --config.model.name={cfg.model.name} and --config.data.name={task_file.DATA[0]}, as "
      f"{task_file.CONFIG} does"
    )  # fmt: skip
  getattr(task_file, "check", lambda cfg: None)(cfg)


def tokens_per_example(cfg) -> int:
  """What a token budget counts per example: T for a language model, 1 (examples) for every other."""
  per_example = None if cfg.model.name == USER else getattr(module(cfg.model.name), "tokens_per_example", None)
  return 1 if per_example is None else per_example(cfg)


def unit(cfg) -> str:
  """What a token budget counts: "tokens" for a language model, "examples" for every other."""
  return "examples" if cfg.model.name == USER else module(cfg.model.name).UNIT


def build(cfg):
  """The built-in task the config names, its data loaded (`Task`)."""
  return module(cfg.model.name).build(cfg)
