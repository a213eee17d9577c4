"""The house rules of the package, checked from its source with `ast` (nothing is imported):

- no import cycles between tailjax modules;
- tails/ imports nothing else from tailjax (it is a library of its own);
- analysis/ never imports training/ (an analysis of finished results needs no training stack), and training/ never
  imports analysis/ (the entry points hand the analysis the finished rows, and training its policies);
- tasks/ import neither training/ nor analysis/ (a task is what the engine trains, not a user of it);
- only the entry points (main, experiment, the Python API in custom/) import validate, the command-line checker;
- schedule, validate, records, lane_results and the tasks' registry load no jax (nor flax, optax, orbax) when
  imported: they answer before the libraries load;
- no two modules share a file name (a task file may share its data's or model's; a command at the top its
  analysis module's), so that every name says what is inside;
- no module outside tasks/, models/ (the registry and the models themselves) and bench/ names a built-in model
  ("transformer", "quadratic", ...) as a string: the rest of the tool reads the task's facts;
- nothing outside bench/ imports bench/ (scripts, never library);
- no module imports another module's `_private` name, nor reaches one through a module it imported;
- a module-level function or method with more than 5 parameters takes the rest keyword-only.

Each checker is also run on a small package written for the purpose, to show it fails on what it forbids.
"""

import ast
import pathlib

import pytest

from tests.conftest import REPO

MAX_POSITIONAL = 5  # beyond this, parameters are keyword-only (self and cls not counted)


def _modules(root: pathlib.Path, package: str) -> dict[str, ast.Module]:
  """Dotted module name → parsed source, for every .py file of the package under `root`."""
  out = {}
  for path in sorted((root / package).rglob("*.py")):
    parts = path.relative_to(root).with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    out[name] = ast.parse(path.read_text(), filename=str(path))
  return out


def _imports(name: str, tree: ast.Module, modules: dict) -> list[tuple[str, str | None, int]]:
  """(imported module, imported name or None, line) for every import in the module, at any depth; relative imports
  (`from . import x`, `from ..pkg import y`) resolved against the module's package."""
  is_package = any(other.startswith(name + ".") for other in modules)
  here = name.split(".") if is_package else name.split(".")[:-1]
  out = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      out += [(a.name, None, node.lineno) for a in node.names]
    elif isinstance(node, ast.ImportFrom):
      if node.level:
        parts = here[: len(here) - (node.level - 1)] if node.level > 1 else here
        base = ".".join(parts + ([node.module] if node.module else []))
      else:
        base = node.module
      for a in node.names:
        sub = f"{base}.{a.name}"
        out.append((sub, None, node.lineno) if sub in modules else (base, a.name, node.lineno))
  return out


def _graph(modules: dict, package: str) -> dict[str, set[str]]:
  return {
    name: {m for m, _, _ in _imports(name, tree, modules) if m == package or m.startswith(package + ".")}
    for name, tree in modules.items()
  }


def find_cycles(modules: dict, package: str) -> list[list[str]]:
  """Every elementary cycle reachable by depth-first search (one representative per back edge)."""
  graph, state, stack, cycles = _graph(modules, package), {}, [], []

  def visit(m):
    state[m] = "open"
    stack.append(m)
    for nxt in sorted(graph.get(m, ())):
      if state.get(nxt) == "open":
        cycles.append(stack[stack.index(nxt) :] + [nxt])
      elif nxt not in state:
        visit(nxt)
    stack.pop()
    state[m] = "done"

  for m in sorted(graph):
    if m not in state:
      visit(m)
  return cycles


def forbidden_imports(modules: dict, package: str) -> list[str]:
  """Imports across the layers the rules forbid."""
  out = []
  for name, tree in modules.items():
    for m, _, line in _imports(name, tree, modules):
      if not m.startswith(package):
        continue
      inside = lambda pkg, mod: mod == f"{package}.{pkg}" or mod.startswith(f"{package}.{pkg}.")
      if inside("tails", name) and not inside("tails", m):
        out.append(f"{name}:{line} imports {m}: tails/ imports nothing else from {package}")
      if inside("analysis", name) and inside("training", m):
        out.append(f"{name}:{line} imports {m}: analysis/ does not import training/")
      if inside("training", name) and inside("analysis", m):
        out.append(f"{name}:{line} imports {m}: training/ does not import analysis/ (the entry points call it)")
      if m == f"{package}.validate" and not any(inside(e, name) for e in ENTRY_POINTS):
        out.append(f"{name}:{line} imports {m}: only the entry points {ENTRY_POINTS} import validate")
      if inside("bench", m) and not inside("bench", name):
        out.append(f"{name}:{line} imports {m}: only bench/ imports bench/")
      if inside("tasks", name) and (inside("training", m) or inside("analysis", m)):
        out.append(f"{name}:{line} imports {m}: tasks/ import neither training/ nor analysis/ (the engine calls them)")
  return out


ENTRY_POINTS = ("main", "experiment", "custom")  # the command line, what it runs, the Python API
JAX_FREE = ("schedule", "validate", "records", "lane_results", "tasks")
HEAVY = ("jax", "jaxlib", "flax", "optax", "orbax")


def _top_level_imports(name: str, tree: ast.Module, modules: dict) -> set[str]:
  """Modules an import of `name` loads at once: its module-level imports (not those inside functions)."""
  body = ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[])
  return {m for m, _, _ in _imports(name, body, modules)}


def jax_on_import(modules: dict, package: str) -> list[str]:
  """For each JAX_FREE module: the chain through which importing it loads one of HEAVY."""
  out = []
  for start in (f"{package}.{m}" for m in JAX_FREE):
    seen, todo = {start: [start]}, [start]
    while todo:
      m = todo.pop()
      parts = m.split(".")
      for nxt in [".".join(parts[:i]) for i in range(1, len(parts))] + sorted(
        _top_level_imports(m, modules[m], modules) if m in modules else ()
      ):
        if nxt.split(".")[0] in HEAVY:
          out.append(f"importing {start} loads {nxt}: " + " -> ".join(seen[m] + [nxt]))
        elif nxt in modules and nxt not in seen:
          seen[nxt] = seen[m] + [nxt]
          todo.append(nxt)
  return out


def shared_file_names(modules: dict, package: str) -> list[str]:
  """Modules in different folders with one file name, but for a task file beside its data's or model's and a
  command at the top (`python -m package.X`) beside the analysis module it runs."""
  is_package = lambda n: any(other.startswith(n + ".") for other in modules)
  by_name = {}
  for name in modules:
    if "." in name and not is_package(name):  # files, not folders' __init__
      by_name.setdefault(name.split(".")[-1], []).append(name)
  allowed = lambda a, b: (
    (a.startswith(f"{package}.tasks.") and b.startswith((f"{package}.data.", f"{package}.models.")))
    or (a.count(".") == 1 and b.startswith(f"{package}.analysis."))
  )
  out = []
  for base, names in sorted(by_name.items()):
    names = sorted(names)
    for i, a in enumerate(names):
      for b in names[i + 1 :]:
        if not (allowed(a, b) or allowed(b, a)):
          out.append(f"{a} and {b} share the file name {base}.py: rename one to say what is inside")
  return out


MODEL_NAMES = ("transformer", "quadratic", "ffn", "mlp", "cnn", "vit")  # the built-in models (models.NAMES)
MAY_NAME_MODELS = (
  "tasks",
  "models",
  "bench",
)  # the task files and registry, the models and their choice lists, scripts


def model_names(modules: dict, package: str) -> list[str]:
  """String constants equal to a built-in model's name outside tasks/, models/ and bench/ (docstrings aside)."""
  out = []
  for name, tree in modules.items():
    if any(name == f"{package}.{p}" or name.startswith(f"{package}.{p}.") for p in MAY_NAME_MODELS):
      continue
    for node in ast.walk(tree):
      if isinstance(node, ast.Constant) and node.value in MODEL_NAMES:
        out.append(f"{name}:{node.lineno} names the model {node.value!r}: read the task's facts instead")
  return out


def _dotted(node) -> str | None:
  """'a.b.c' for the expression a.b.c, None for anything else."""
  if isinstance(node, ast.Name):
    return node.id
  if isinstance(node, ast.Attribute):
    base = _dotted(node.value)
    return f"{base}.{node.attr}" if base else None
  return None


def private_uses(modules: dict, package: str) -> list[str]:
  """`from x import _y`, `alias._y` (alias an imported module of the package) and `pkg.mod._y` outside the module
  defining _y."""
  private = lambda n: n.startswith("_") and not n.startswith("__")
  out = []
  for name, tree in modules.items():
    aliases = {}  # local name → module
    for m, what, line in _imports(name, tree, modules):
      if what is not None and private(what) and m.startswith(package):
        out.append(f"{name}:{line} imports {what} from {m}")
    for node in ast.walk(tree):
      if isinstance(node, ast.ImportFrom):
        for m, what, _ in _imports(name, ast.Module(body=[node], type_ignores=[]), modules):
          if what is None:
            aliases[next(a.asname or a.name for a in node.names if m.endswith("." + a.name))] = m
      elif isinstance(node, ast.Import):
        aliases |= {a.asname: a.name for a in node.names if a.asname and a.name in modules}
    for node in ast.walk(tree):
      if isinstance(node, ast.Attribute) and private(node.attr):
        target = _dotted(node.value)
        if target in aliases or (target in modules and target != name):
          out.append(f"{name}:{node.lineno} uses {target}.{node.attr}")
  return out


def long_positional(modules: dict) -> list[str]:
  """Module-level functions and methods with more than MAX_POSITIONAL positional parameters."""
  out = []
  for name, tree in modules.items():
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    defs = [n for n in tree.body if isinstance(n, functions)]
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
      defs += [n for n in cls.body if isinstance(n, functions)]
    for fn in defs:
      args = [a.arg for a in fn.args.posonlyargs + fn.args.args if a.arg not in ("self", "cls")]
      if len(args) > MAX_POSITIONAL:
        out.append(f"{name}.{fn.name}({', '.join(args)}): make parameters after the {MAX_POSITIONAL}th keyword-only")
  return out


@pytest.fixture(scope="module")
def tailjax_modules():
  return _modules(REPO, "tailjax")


def _none(found: list) -> None:
  assert not found, "\n".join(map(str, found))  # every breach, not only the first


def test_no_import_cycles(tailjax_modules):
  _none(find_cycles(tailjax_modules, "tailjax"))


def test_layers(tailjax_modules):
  _none(forbidden_imports(tailjax_modules, "tailjax"))


def test_no_private_names_across_modules(tailjax_modules):
  _none(private_uses({**tailjax_modules, **_modules(REPO, "tests")}, "tailjax"))  # the tests keep them too


def test_long_signatures_are_keyword_only(tailjax_modules):
  _none(long_positional(tailjax_modules))


def test_the_checkers_load_no_jax(tailjax_modules):
  _none(jax_on_import(tailjax_modules, "tailjax"))


def test_every_file_name_says_what_is_inside(tailjax_modules):
  _none(shared_file_names(tailjax_modules, "tailjax"))


def test_only_the_tasks_name_a_model(tailjax_modules):
  _none(model_names(tailjax_modules, "tailjax"))


def test_every_module_says_what_it_is_for(tailjax_modules):
  missing = [name for name, tree in tailjax_modules.items() if not ast.get_docstring(tree)]
  assert missing == []


def test_the_checkers_catch_what_they_forbid(tmp_path):
  """A package that breaks every rule once: each checker must name the breach."""
  files = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from pkg import b\n",
    "pkg/b.py": "from pkg.c import helper\n",
    "pkg/c.py": "from pkg import a\ndef helper(): pass\n",
    "pkg/tails/__init__.py": "from pkg import a\n",
    "pkg/analysis/__init__.py": "",
    "pkg/analysis/fit.py": "from pkg.training import loop\nfrom pkg.bench import timing\n",
    "pkg/training/__init__.py": "",
    "pkg/training/loop.py": "def run(a, b, c, d, e, f):\n  pass\n\ndef _secret():\n  pass\n",
    "pkg/bench/__init__.py": "",
    "pkg/bench/timing.py": "from pkg.training import loop\nloop._secret()\n",
    "pkg/user.py": "from pkg.training.loop import _secret\n",
    "pkg/analysis/relative.py": "from ..training import loop\nfrom . import fit as f\nf._x\n",
    "pkg/dotted.py": "import pkg.training.loop\npkg.training.loop._secret()\n",
    "pkg/asynchronous.py": "async def go(a, b, c, d, e, f):\n  pass\n",
    "pkg/tasks/__init__.py": "def build(cfg):\n  from pkg.training import loop\n  return 'quadratic'\n",
    "pkg/engine.py": "def loss(cfg):\n  return cfg.model.name == 'quadratic'\n",
    "pkg/training/sweep.py": "from pkg.analysis import fit\nfrom pkg import validate\n",
    "pkg/validate.py": "",
    "pkg/main.py": "from pkg import validate\n",
    "pkg/schedule.py": "from pkg import steps\n",
    "pkg/steps.py": "import numpy\nimport jax.numpy as jnp\n",
    "pkg/records.py": "def later():\n  import jax\n",
    "pkg/lane_results.py": "",
    "pkg/tasks/images.py": "",
    "pkg/data/images.py": "",
    "pkg/analysis/loop.py": "",
  }
  for path, text in files.items():
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(text)
  mods = _modules(tmp_path, "pkg")
  assert find_cycles(mods, "pkg") == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
  breaches = "\n".join(forbidden_imports(mods, "pkg"))
  assert "pkg.tails:1 imports pkg.a" in breaches
  assert "pkg.analysis.fit:1 imports pkg.training.loop" in breaches
  assert "pkg.analysis.fit:2 imports pkg.bench.timing" in breaches
  assert "pkg.analysis.relative:1 imports pkg.training.loop" in breaches  # relative imports resolved
  assert "pkg.tasks:2 imports pkg.training.loop" in breaches  # an import inside a function counts too
  assert "pkg.training.sweep:1 imports pkg.analysis.fit" in breaches
  assert "pkg.training.sweep:2 imports pkg.validate: only the entry points" in breaches  # main may
  assert len(breaches.splitlines()) == 7
  assert jax_on_import(mods, "pkg") == [
    "importing pkg.schedule loads jax.numpy: pkg.schedule -> pkg.steps -> jax.numpy"
  ]
  assert shared_file_names(mods, "pkg") == [
    "pkg.analysis.loop and pkg.training.loop share the file name loop.py: rename one to say what is inside"
  ]  # tasks/images.py beside data/images.py is a task beside its data
  assert sorted(private_uses(mods, "pkg")) == [
    "pkg.analysis.relative:3 uses f._x",
    "pkg.bench.timing:2 uses loop._secret",
    "pkg.dotted:2 uses pkg.training.loop._secret",
    "pkg.user:1 imports _secret from pkg.training.loop",
  ]
  assert model_names(mods, "pkg") == ["pkg.engine:2 names the model 'quadratic': read the task's facts instead"]
  assert sorted(s.split("(")[0] for s in long_positional(mods)) == ["pkg.asynchronous.go", "pkg.training.loop.run"]
