"""The tasks: every model the engine trains is a `Task` (tasks/base.py), and this registry builds the study's from the
config. One file per built-in, each naming the models and data it trains on, its config checks and `build(cfg)`:

  text.py       the NanoTransformer on a character corpus (transformer; pydoc, tinyshakespeare, wikitext2,
                random_tokens)
  images.py     Phase 3c's image classifiers (mlp, cnn, vit; digits, mnist, cifar10)
  injected.py   experiment 1.1's FFN trained by an injected upstream gradient (ffn; injected)
  quadratic.py  the noisy quadratic model, with its exact LR*(B) (quadratic; noisy_quadratic)

A task file outside tailjax (the same names, in your own package) joins them by `register("mypkg.my_task")`, called
in your config file: its models and data are then names the command line accepts. A task object of your own is
given from Python (`tailjax.train_rows(task, ...)`, model.name = data.name = "task"). Both go through the same
path. The registry and the task files import no jax at module level (`build` does), so the command line's checks
can ask a task's facts before jax loads.
"""

import importlib

from tailjax.errors import UserError

USER = "task"  # model.name = data.name = "task": a user's own model and data, given from Python
_FILES = {"transformer": "tailjax.tasks.text", "mlp": "tailjax.tasks.images", "cnn": "tailjax.tasks.images",
          "vit": "tailjax.tasks.images", "ffn": "tailjax.tasks.injected",
          "quadratic": "tailjax.tasks.quadratic"}  # fmt: skip
_REGISTERED = {}  # model name → task file, for task files outside tailjax (`register`)
TASK_FILE_NAMES = ("MODELS", "DATA", "WHAT", "CONFIG", "UNIT", "check_model", "build")  # what a task file defines


def register(module_path: str) -> None:
  """Makes the task file `module_path` (an importable module defining TASK_FILE_NAMES, as tasks/quadratic.py does)
  trainable by name: after it, model.name and data.name may name its MODELS and DATA, on the command line too. Call
  it in the config file that sets them; registering one file twice is harmless."""
  try:
    task_file = importlib.import_module(module_path)
  except ImportError as e:
    raise UserError(f"cannot register the task file {module_path!r}: {e}; pass an importable module path "
                    "(its folder on PYTHONPATH, or the current directory)") from None  # fmt: skip
  missing = [name for name in TASK_FILE_NAMES if not hasattr(task_file, name)]
  if missing:
    raise UserError(f"task file {module_path!r} lacks {', '.join(missing)}; a task file defines "
                    f"{', '.join(TASK_FILE_NAMES)} (docs/architecture.md, 'Adding a model')")  # fmt: skip
  clash = [m for m in task_file.MODELS if m in _FILES or m == USER or _REGISTERED.get(m, module_path) != module_path]
  if clash:
    raise UserError(f"task file {module_path!r} names the model {clash[0]!r}, which is taken; give it another name")
  _REGISTERED.update(dict.fromkeys(task_file.MODELS, module_path))


def model_names() -> tuple[str, ...]:
  """Every model.name a config may give: the built-ins, then the registered task files' models."""
  from tailjax import models

  return (*models.NAMES, *_REGISTERED)


def data_names() -> tuple[str, ...]:
  """The data.name values of the registered task files (the built-in ones are data/__init__.py's lists)."""
  return tuple(dict.fromkeys(d for m in _REGISTERED for d in module(m).DATA))


def module(model_name: str):
  """The task file of a model (`tailjax.tasks.text` for the transformer, ..., or a registered one)."""
  return importlib.import_module(_REGISTERED.get(model_name) or _FILES[model_name])


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
    others = sorted(name for name in (*_FILES, *_REGISTERED) if cfg.data.name in module(name).DATA)
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
