"""Entry point: parse the config and workdir, hand them to `experiment.run`. The logic lives in the library.

python -m tailjax.main --config=configs/quickstart.py [--workdir=runs/quickstart] [--config.FIELD=VALUE ...]
"""

import functools
import logging as pylogging
import os
import pathlib
import sys

# TensorFlow (clu's writers with output.tensorboard_writer=clu, tfds) chatters at start-up; keep our own lines visible.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging
from ml_collections import config_flags

from tailjax.errors import UserError, one_line_errors

_CONFIG = config_flags.DEFINE_config_file("config", None, "a file in configs/", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "where the run writes; default runs/<config name>")


def _quiet_libraries():
  """Orbax and etils log every file they touch at INFO; keep their warnings, drop the rest."""
  noisy = ("orbax", "etils", "tensorstore", "xla_bridge")
  keep = lambda rec: rec.levelno >= pylogging.WARNING or not any(n in rec.pathname for n in noisy)
  logging.get_absl_logger().addFilter(keep)
  logging.get_absl_handler().addFilter(keep)  # jax's own loggers (xla_bridge's "Unable to initialize backend 'tpu'")


def main(argv, position=None):
  _quiet_libraries()
  if len(argv) > 1:
    raise UserError(f"unexpected arguments {argv[1:]}; settings go in --config.FIELD=VALUE")
  config = _load_config()
  if config.analysis.results:  # re-analyse a results.csv; no training
    from tailjax.analysis import analyze

    analyze.run(config, _workdir())
    return
  if pathlib.Path(config_flags.get_config_filename(flags.FLAGS["config"])).stem == "analyze":
    raise UserError("configs/analyze.py needs --config.analysis.results=PATH/results.csv (the file to re-analyse)")
  from tailjax import validate

  validate.config(config)  # before jax and the libraries load (a second or two): bad input answers at once
  from tailjax import compiling, experiment
  from tailjax.training import distributed

  distributed.start_cpu_devices(config)  # on a CPU, a batch splits over two devices (README, "Speed")
  compiling.default_cache()  # a rerun or resume loads its programs instead of compiling them (README, "Speed")
  experiment.run(config, _workdir(), position=position)


def _one_line(e: Exception) -> str:
  text = str(e).replace("\\n", " ").replace("\\'", "'")
  return " ".join(text.split()).strip("'\"").replace("' Did you mean", ": did you mean")


def _load_config():
  """The config with its overrides applied (config_flags loads it lazily, so failures can surface here)."""
  if not flags.FLAGS["config"].present:
    raise UserError("no config given; pass --config=configs/quickstart.py (or another file in configs/)")
  path = (config_flags.get_config_filename(flags.FLAGS["config"]) or "").split(":")[0]
  if path and pathlib.Path(path).is_dir():
    raise UserError(f"--config={path} is a folder; pass one file in it, e.g. --config=configs/quickstart.py")
  if path and not pathlib.Path(path).is_file():
    raise UserError(f"config file {path} does not exist; pick one of the files in configs/")
  try:
    config = _CONFIG.value
  except (AttributeError, KeyError, OSError, TypeError, ValueError) as e:
    raise UserError(f"cannot load the config: {_one_line(e)}; check the --config path") from None
  if config is None:
    raise UserError("no config given; pass --config=configs/quickstart.py (or another file in configs/)")
  return config


def _workdir() -> str:
  config_file = config_flags.get_config_filename(flags.FLAGS["config"])
  return _WORKDIR.value or f"runs/{pathlib.Path(config_file).stem}"


def _parse_flags(argv):
  """absl's parser, with every failure (bad value, unknown or mistyped config field, missing file) one line."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    text = str(e)
    if "Traceback" in text:  # a config file that failed to load: its last line says why
      last = [line for line in text.splitlines() if line.strip()][-1]
      why = last.split(": ", 1)[-1] if last.split(":", 1)[0].isidentifier() else last  # drop "ValueError: "
      given = next((a for a in (argv or [])[1:] if a.startswith("--config=")), "--config")
      if "positional argument" in why and ":" in given:  # get_config() without a parameter, given a variant
        file, variant = given.split("=", 1)[1].split(":", 1)
        why = f"{file} has no variants; drop ':{variant}'"
      raise UserError(f"cannot load {given}: {why}") from None
    if "Non-boolean argument" in text:  # absl's text is a repr'd tuple: "flag --x=maybe: ('Non-boolean ...', 'maybe')"
      given = text.split(": (", 1)[0].removeprefix("flag ")
      raise UserError(f"{given} is not true or false; pass true or false (or 1 or 0)") from None
    if "could not convert" in text and "'None'" in text:  # a placeholder field (optim.clip) set to None
      raise UserError(
        f"{text}: a field cannot be set to None from the command line; to train without clipping pass "
        "--config.sweep.clips='(None,)' (or compare settings as lanes: --config.sweep.clips='(None,1.0)')"
      ) from None
    raise UserError(f"{text}; see --helpfull, and configs/base.py for every config field") from None
  except KeyError as e:  # a field (or section) the config does not have
    raise UserError(
      f"cannot load the config: no field {_one_line(e)}; every field and its meaning is in configs/base.py"
    ) from None
  except (AttributeError, OSError, TypeError, ValueError) as e:
    raise UserError(
      f"cannot load the config: {_one_line(e)}; every field and its meaning is in configs/base.py"
    ) from None


def run(argv=None):
  """The command line (`argv` = sys.argv by default): bad input is one line on stderr and exit status 2; an
  operating-system failure (disk full, permissions) one line and status 1. Finished rows are on disk either way."""
  with one_line_errors("free space or fix permissions and rerun: it resumes") as position:
    try:
      app.run(functools.partial(main, position=position), argv=argv, flags_parser=_parse_flags)
    except SystemExit as e:  # absl ends --help with status 1; help asked for is no failure
      asked = any(a in _HELP for a in (argv if argv is not None else sys.argv)[1:])
      raise SystemExit(0 if asked and e.code == 1 else e.code) from None


_HELP = ("--help", "-h", "-?", "--helpshort", "--helpfull", "--helpxml")


if __name__ == "__main__":
  run()
