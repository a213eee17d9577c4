"""The command line end to end: every output, bad input, and a killed run that resumes to identical results."""

import csv
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, cli

TINY = [
  "--config=configs/quickstart.py",
  "--config.data.seq_len=16",
  "--config.model.d_model=16",
  "--config.model.n_layers=1",
  "--config.model.n_heads=2",
  "--config.train.steps=30",
  "--config.train.log_every=5",
  "--config.eval.every=10",
  "--config.eval.batches=2",
  "--config.eval.batch_size=4",
  "--config.checkpoint.every=10",
  "--config.sweep.batch_sizes=(4,8)",
  "--config.sweep.learning_rates=(1e-3,3e-3,1e-2)",
]
OUTPUTS = [
  "config.json",
  "data.json",
  "results.csv",
  "scaling_fit.json",
  "summary.txt",
  "lr_vs_batch.png",
  "loss_heatmap.png",
  "convergence_curves.png",
  "loss_vs_lr.png",
  "scaling_exponent.png",
]


def _read_csv(path):
  with open(path) as f:
    return list(csv.DictReader(f))


def test_end_to_end_writes_every_output(tmp_path):
  wd = tmp_path / "run"
  r = cli(*TINY, f"--workdir={wd}")
  assert r.returncode == 0, r.stderr[-3000:]
  for name in OUTPUTS:
    assert (wd / name).stat().st_size > 0, name
  rows = _read_csv(wd / "results.csv")
  assert len(rows) == 6 and {int(x["batch_size"]) for x in rows} == {4, 8}
  assert {float(x["lr"]) for x in rows} == {1e-3, 3e-3, 1e-2}  # exact config values, not float32 copies
  for col in ("final_train_loss", "final_val_loss", "best_val_loss", "train_loss_std", "clip_frequency"):
    assert all(x[col] not in ("", "nan") for x in rows), col
  assert all(x["converged"] in ("True", "False") and x["diverged"] == "False" for x in rows)
  fp = json.loads((wd / "data.json").read_text())
  assert rows[0]["ln_vocab"] == str(fp["ln_vocab"]) and len(fp["sha256"]) == 64
  fit = json.loads((wd / "scaling_fit.json").read_text())
  assert [o["batch_size"] for o in fit["per_batch_size"]] == [4, 8]
  assert "ln_vocab" in fit and "unigram_entropy" in fit
  assert "unigram entropy" in (wd / "summary.txt").read_text()
  # per-lane TensorBoard curves, one folder per lane
  lanes = sorted(p.name for p in (wd / "tb" / "B4").iterdir())
  assert lanes == ["lr=0.001", "lr=0.003", "lr=0.01"]
  assert all(any((wd / "tb" / "B4" / lane).glob("events.out.tfevents.*")) for lane in lanes)
  assert not (wd / "checkpoints" / "B4").exists()  # a finished row drops its checkpoints
  if len(os.sched_getaffinity(0)) >= 2:  # the command line splits every batch over two CPU devices (engine.py)
    assert (
      "B4: 3 lanes (lr=0.001, lr=0.003, lr=0.01), strategy map, lanes on 1 device(s), each batch split over 2 devices"
      in r.stderr
    )
    speed = json.loads((wd / "throughput.json").read_text())["B4"]
    assert (speed["lane_devices"], speed["batch_devices"], speed["devices"]) == (1, 2, 2)

  before = (wd / "results.csv").read_text()  # (a rerun skipping finished rows: the kill test below)

  # A different config in the same workdir is refused (the CLI prints this UserError as one line, status 2), and
  # nothing there changes; how it runs (devices, processes, outputs) may change.
  from ml_collections import ConfigDict

  from tailjax import workdir
  from tailjax.errors import UserError

  cfg = ConfigDict(json.loads((wd / "config.json").read_text()))
  cfg.sweep.devices, cfg.output.plots = 2, False
  workdir.prepare(wd, cfg)
  cfg.train.steps = 40
  with pytest.raises(UserError, match="different config .differs in train.steps"):
    workdir.prepare(wd, cfg)
  assert (wd / "results.csv").read_text() == before


def _progress(wd, batch_sizes):
  """How far a sweep in `wd` has got: per row 1000 when finished, else its newest checkpoint's step."""
  total = 0
  for b in batch_sizes:
    steps = [int(p.name) for p in (wd / "checkpoints" / f"B{b}").glob("*") if p.name.isdigit()]
    total += 1000 if (wd / "rows" / f"B{b}.json").exists() else max(steps, default=0)
  return total + (1 if (wd / "results.csv").exists() else 0)


def _damage_newest_checkpoint(ckpt_dir):
  """Flips bytes in the middle of the state's data files in the newest checkpoint step (silent corruption on disk;
  orbax keeps both the merged OCDBT data and the per-process copy, so every data file)."""
  newest = max((p for p in ckpt_dir.glob("*") if p.name.isdigit()), key=lambda p: int(p.name))
  for victim in [p for p in (newest / "state").rglob("*") if p.is_file() and p.parent.name == "d"]:
    raw = bytearray(victim.read_bytes())
    for i in range(len(raw) // 2, min(len(raw) // 2 + 16, len(raw))):
      raw[i] ^= 0xFF
    victim.write_bytes(bytes(raw))
  return int(newest.name)


def test_killed_at_random_points_resumes_to_identical_results(tmp_path):
  """kill -9 at least five times at random points of a two-row sweep (in a chunk, mid-save, between rows, in the
  summary), damage a checkpoint on disk once: the final results.csv equals an uninterrupted run's."""
  rng = random.Random()
  seed = rng.randrange(10**6)
  rng.seed(seed)
  rows = (4, 8)  # 3 checkpoints and a finished row each: 8 points the sweep passes
  args = [a for a in TINY if "train.steps" not in a]
  args += ["--config.train.steps=40", "--config.output.plots=False", "--config.output.tensorboard=False"]
  ref = tmp_path / "ref"
  r = cli(*args, f"--workdir={ref}")
  assert r.returncode == 0, r.stderr[-3000:]
  wd = tmp_path / "killed"
  cmd = [sys.executable, "-m", "tailjax.main", *args, f"--workdir={wd}"]
  kills, logs, damaged = [], [], None
  for attempt in range(20):
    log = tmp_path / f"run{attempt}.log"
    before = _progress(wd, rows)
    with open(log, "w") as err:
      proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
      if attempt == 0:  # the first kill once B4 has two checkpoints; then its newest is damaged
        until = lambda: len([p for p in (wd / "checkpoints" / "B4").glob("*") if p.name.isdigit()]) >= 2
        delay = 0.0
      else:  # then: a random moment after the run has made some progress of its own
        until = lambda before=before: _progress(wd, rows) > before
        delay = rng.uniform(0, 0.15)
      while proc.poll() is None and not until():
        time.sleep(0.005)
      time.sleep(delay)
      finished = proc.poll() is not None
      if len(kills) == 5:  # enough: let this run finish
        finished = proc.wait() is not None
      if not finished:
        proc.send_signal(signal.SIGKILL)
        kills.append(_progress(wd, rows))
      proc.wait()
    logs.append(log.read_text())
    if finished:
      break
    if attempt == 0:
      damaged = _damage_newest_checkpoint(wd / "checkpoints" / "B4")
  assert proc.returncode == 0, logs[-1][-3000:]
  assert len(kills) >= 5, f"only {len(kills)} kills (random seed {seed}): {kills}"
  assert f"step {damaged} is damaged" in logs[1] and f"B4: resumed from step {damaged - 10}" in logs[1], logs[1][-3000:]
  assert (wd / "results.csv").read_text() == (ref / "results.csv").read_text(), f"random seed {seed}, kills {kills}"
  assert "B4: finished earlier, skipped" in logs[-1]  # the last run retrained nothing that was done


BAD = {
  "unknown field": (["--config.sweep.learning_ratez=(1e-3,)"], "learning_rates"),
  "zero learning rate": (["--config.sweep.learning_rates=(0.0,1e-3)"], "learning rate must be"),
  "negative learning rate": (["--config.sweep.learning_rates=(-1e-3,)"], "> 0"),
  "empty LR grid": (["--config.sweep.learning_rates=()"], "is empty"),
  "empty batch grid": (["--config.sweep.batch_sizes=()"], "is empty"),
  "zero batch size": (["--config.sweep.batch_sizes=(0,)"], "positive integer"),
  "wrong type": (["--config.train.steps=abc"], "train.steps"),
  "clip set to None": (["--config.optim.clip=None"], "to train without clipping pass --config.sweep.clips='(None,)'"),
  "missing data folder": (["--config.data.name=wikitext2", "--config.data.path=/nonexistent/wiki"], "does not exist"),
  "missing data file": (["--config.data.name=tinyshakespeare", "--config.data.path=/nonexistent/in.txt"], "exist"),
  "batch larger than data": (["--config.sweep.batch_sizes=(10000000,)"], "larger than"),
  "sequence longer than data": (["--config.data.seq_len=10000000"], "seq_len"),
  "bad lane strategy": (["--config.sweep.lane_strategy=threads"], "lane_strategy"),
  "negative clip": (["--config.optim.clip=-1.0"], "clip"),
  "unknown corpus": (["--config.data.name=imagenet"], "data.name"),
  "unknown data source": (["--config.data.source=web"], "data.source"),
  "one measurement example": (["--config.measure.steps=(10,)", "--config.measure.examples=1"], "measure.examples"),
  "negative measurement step": (["--config.measure.steps=(-5,)"], "measure.steps"),
  "k ratio above one half": (["--config.measure.steps=(10,)", "--config.measure.k_ratios=(0.1,0.9)"], "k_ratios"),
  "ffn without injected data": (["--config.model.name=ffn"], "data.name=injected"),
  "unknown estimator": (["--config.measure.steps=(10,)", "--config.measure.estimators=(hill,ml)"], "estimators"),
  "unknown upstream law": (["--config.data.upstream=pareto"], "data.upstream"),
  "unknown optimizer": (["--config.optim.name=adam"], "optim.name"),
  "momentum of one": (["--config.optim.name=sgd", "--config.optim.momentum=1.0"], "optim.momentum"),
  "extension ratio of one": (["--config.sweep.auto_extend=True", "--config.sweep.extend_ratio=1.0"], "extend_ratio"),
  "auto-extension with one LR": (
    ["--config.sweep.auto_extend=True", "--config.sweep.learning_rates=(1e-3,)"],
    "no grid ratio",
  ),
  "negative weight decay lane": (["--config.sweep.weight_decays=(0.1,-0.1)"], "weight_decays"),
  "image model on text": (["--config.model.name=cnn"], "image models"),
  "image data not prepared": (["--config.model.name=mlp", "--config.data.name=mnist"], "not prepared"),
  "missing transfer reference": (["--config.transfer.fit=/nonexistent/scaling_fit.json"], "is not a file"),
}


_FILES = {  # data files the bad-input cases point at, written into the test's tmp_path
  "empty.txt": b"   \n",
  "latin1.txt": "Fa\u00e7ade, na\u00efve \u2014 r\u00e9sum\u00e9\n".encode("latin-1", "replace") * 50,
}
BAD |= {
  "empty data file": (["--config.data.name=tinyshakespeare", "--config.data.path={tmp}/empty.txt"], "is empty"),
  "non-UTF-8 data": (["--config.data.name=tinyshakespeare", "--config.data.path={tmp}/latin1.txt"], "not UTF-8"),
  "data path a file, not a folder": (
    ["--config.data.name=wikitext2", "--config.data.path={tmp}/empty.txt"],
    "not a folder",
  ),  # fmt: skip
  "validation fraction out of range": (["--config.data.val_fraction=1.5"], "val_fraction"),
  "heads do not divide width": (["--config.model.n_heads=3"], "multiple of model.n_heads"),
  "unknown dtype": (["--config.model.dtype=float16"], "model.dtype"),
  "zero layers": (["--config.model.n_layers=0"], "n_layers"),
  "negative warmup": (["--config.optim.warmup_steps=-1"], "warmup_steps"),
  "zero steps": (["--config.train.steps=0"], "train.steps"),
  "zero eval interval": (["--config.eval.every=0"], "eval.every"),
  "negative checkpoint interval": (["--config.checkpoint.every=-1"], "checkpoint.every"),
  "no checkpoints kept": (["--config.checkpoint.keep=0"], "checkpoint.keep"),
  "negative reference batch": (["--config.transfer.b_ref=-1"], "transfer.b_ref"),
  "plots not a bool": (["--config.output.plots=maybe"], "--config.output.plots=maybe is not true or false; pass true"),
  "negative device count": (["--config.sweep.devices=-1"], "sweep.devices"),
  "process id without coordinator": (["--config.distributed.process_id=1"], "coordinator"),
  "process id out of range": (
    [
      "--config.distributed.coordinator=localhost:1",
      "--config.distributed.num_processes=2",
      "--config.distributed.process_id=2",
    ],
    "process_id",
  ),  # fmt: skip
  "mistyped section": (["--config.optimizer.clip=1.0"], "optimizer"),
  "data path the corpus does not read": (["--config.data.path=/nonexistent/file.txt"], "is not read for"),
  "config variant for a file without variants": (["--config=configs/quickstart.py:tiny"], "has no variants; drop"),
  "config variant the file does not name": (["--config=configs/phase3c.py:transformer"], "takes :mlp, :cnn or :vit"),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=str)
def test_bad_input_one_line_nonzero_exit_nothing_written(tmp_path, case):
  args, needle = BAD[case]
  for name, payload in _FILES.items():
    (tmp_path / name).write_bytes(payload)
  wd = tmp_path / "wd"
  config = next((a for a in args if a.startswith("--config=")), "--config=configs/quickstart.py")
  args = [a.format(tmp=tmp_path) for a in args if not a.startswith("--config=")]
  r = cli(config, *args, f"--workdir={wd}")
  status, err = r.returncode, r.stderr
  assert status == 2, err[-2000:]
  assert "Traceback" not in err
  lines = [line for line in err.splitlines() if line.startswith("tailjax: error:")]
  assert len(lines) == 1 and needle in lines[0], err[-2000:]
  assert "Error whilst" not in lines[0] and "Error: " not in lines[0]  # no library or exception prefix
  assert not wd.exists()


def test_workdir_with_results_of_another_run_is_refused_untouched(tmp_path):
  wd = tmp_path / "wd"
  wd.mkdir()
  (wd / "results.csv").write_text("batch_size,lr\n32,0.001\n")
  r = cli("--config=configs/quickstart.py", f"--workdir={wd}")
  status, err = r.returncode, r.stderr
  assert status == 2 and "holds results but no config.json" in err and "Traceback" not in err
  assert sorted(p.name for p in wd.iterdir()) == ["results.csv"]
  assert (wd / "results.csv").read_text() == "batch_size,lr\n32,0.001\n"


@pytest.mark.parametrize("folder", ["tb", "rows", "checkpoints", "measure"])
def test_a_file_where_a_run_keeps_a_folder_is_refused_before_writing(tmp_path, tiny, folder):
  from tailjax import workdir
  from tailjax.errors import UserError

  (tmp_path / folder).write_text("not a folder")
  with pytest.raises(UserError, match=f"{tmp_path / folder} is a file, but a run keeps its {folder}/ folder") as e:
    workdir.prepare(tmp_path, tiny)
  assert "move or delete that file" in str(e.value) and "\n" not in str(e.value)
  assert sorted(p.name for p in tmp_path.iterdir()) == [folder]  # no config.json written


def test_disk_full_while_summarising_loses_no_finished_row(tmp_path, monkeypatch, tiny):
  """The disk fills as results.csv is written: one UserError naming the file and the cause (main prints it as one
  line, status 2), finished rows intact, no partial file; once there is room the same sweep resumes without
  retraining."""
  from tailjax import experiment, files
  from tailjax.errors import UserError
  from tailjax.training import row_loop

  real_fsync = files.os.fsync

  def fsync(fd):
    if "results.csv" in os.readlink(f"/proc/self/fd/{fd}"):
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    real_fsync(fd)

  tiny.sweep.learning_rates = (1e-3, 3e-3)
  wd = tmp_path / "wd"
  monkeypatch.setattr(files.os, "fsync", fsync)
  with pytest.raises(UserError, match="results.csv .No space left on device.; free space") as e:
    experiment.run(tiny, wd)
  assert "\n" not in str(e.value)
  assert len(json.loads((wd / "rows" / "B4.json").read_text())["rows"]) == 2
  assert not (wd / "results.csv").exists() and not list(wd.glob(".results.csv.*"))
  monkeypatch.setattr(files.os, "fsync", real_fsync)
  trained = []
  monkeypatch.setattr(row_loop, "train_row", lambda *a, **k: trained.append(a) or {})
  experiment.run(tiny, wd)
  assert not trained and len(_read_csv(wd / "results.csv")) == 2


def test_missing_config_file_and_unwritable_workdir(tmp_path):
  r = cli("--config=configs/no_such_phase.py")
  assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
  r = cli("--config=configs/quickstart.py", "--workdir=/proc/tailjax_cannot_write_here")
  assert r.returncode == 2 and "not writable" in r.stderr and "Traceback" not in r.stderr
  r = cli("--config=configs/")
  assert r.returncode == 2 and "is a folder; pass one file in it" in r.stderr and "Traceback" not in r.stderr


def test_help_is_no_failure():
  r = cli("--help")
  assert r.returncode == 0 and "--config" in r.stdout + r.stderr


STUDY_PHASE_2_5 = """batch_size,lr,final_train_loss,final_val_loss,train_loss_std,converged,num_steps
32,0.0001,4.7018,4.7026,0.0030,True,10000
32,0.0003,4.5368,4.5475,0.0039,True,10000
32,0.001,4.4270,4.4391,0.0042,True,10000
32,0.003,4.5675,4.5757,0.0032,True,10000
32,0.01,4.4799,4.4825,0.0038,True,10000
64,0.0001,4.7728,4.7697,0.0030,True,10000
64,0.0003,4.5897,4.5987,0.0020,True,10000
64,0.001,4.4883,4.4869,0.0031,True,10000
64,0.003,4.3557,4.3775,0.0034,True,10000
64,0.01,4.3746,4.3904,0.0032,True,10000
128,0.0001,4.6649,4.6681,0.0018,True,10000
128,0.0003,4.4992,4.4978,0.0018,True,10000
128,0.001,4.4562,4.4491,0.0025,True,10000
128,0.003,4.4366,4.4369,0.0020,True,10000
128,0.01,4.3773,4.3819,0.0020,True,10000
256,0.0001,4.6791,4.6739,0.0015,True,10000
256,0.0003,4.5572,4.5561,0.0012,True,10000
256,0.001,4.4988,4.5004,0.0014,True,10000
256,0.003,4.4806,4.4796,0.0014,True,10000
256,0.01,4.3427,4.3459,0.0015,True,10000
"""


def test_analyze_the_studys_table(tmp_path):
  table = tmp_path / "study.csv"
  table.write_text(STUDY_PHASE_2_5)
  r = cli("--config=configs/analyze.py", f"--config.analysis.results={table}", f"--workdir={tmp_path / 'out'}")
  assert r.returncode == 0, r.stderr[-2000:]
  fit = json.loads((tmp_path / "out" / "scaling_fit.json").read_text())
  censored = {o["batch_size"]: o["censored"] for o in fit["per_batch_size"]}
  assert censored == {32: None, 64: None, 128: "high", 256: "high"}
  assert fit["beta_ci"] is None and "not a measurement" in fit["verdict"]  # β = 1.17 is not reported as a finding
  for name in ("lr_vs_batch", "loss_heatmap", "loss_vs_lr", "scaling_exponent"):
    assert (tmp_path / "out" / f"{name}.png").stat().st_size > 0


@pytest.mark.parametrize(
  "content,needle",
  [
    (None, "is not a file"),
    ("batch_size,lr\n32,0.001\n", "lacks the column"),
    ("batch_size,lr,final_val_loss\n32,-1,4.0\n", "> 0"),
    ("batch_size,lr,final_val_loss\n32,nan,4.0\n", "finite"),
    ("batch_size,lr,final_val_loss\nnan,0.001,4.0\n", "must be numbers"),
  ],
)
def test_analyze_bad_input(tmp_path, content, needle):
  table = tmp_path / "t.csv"
  if content is not None:
    table.write_text(content)
  r = cli("--config=configs/analyze.py", f"--config.analysis.results={table}", f"--workdir={tmp_path / 'out'}")
  assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr
  assert not (tmp_path / "out" / "scaling_fit.json").exists()


@pytest.mark.parametrize("moment", ["row program compiling", "training"])
def test_ctrl_c_is_one_line_with_the_resume_command(tmp_path, moment):
  args = [
    "--config=configs/quickstart.py",
    f"--workdir={tmp_path / 'w'}",
    "--config.train.steps=100000",
    "--config.eval.every=20",
  ]
  env = dict(os.environ)
  # As from a terminal: a suite started as a shell's background job has SIGINT ignored, which the child would inherit
  # (and keep ignoring, as tailjax does); the parent's handler is reset to the default in the child.
  previous = signal.signal(signal.SIGINT, signal.default_int_handler)
  try:
    proc = subprocess.Popen([sys.executable, "-m", "tailjax.main", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
  finally:
    signal.signal(signal.SIGINT, previous)
  marker = "strategy" if moment == "row program compiling" else "val loss per lane"  # logged just before each
  seen = []
  for line in proc.stderr:
    seen.append(line)
    if marker in line:
      break
  proc.send_signal(signal.SIGINT)
  try:
    _, rest = proc.communicate(timeout=120)
  except subprocess.TimeoutExpired:
    proc.kill()
    pytest.fail("SIGINT did not end the run within 120 s: " + "".join(seen)[-2000:])
  assert proc.returncode == 130, "".join(seen)[-2000:] + rest[-2000:]
  last = rest.strip().splitlines()[-1]
  assert "Traceback" not in rest and last.startswith("tailjax: interrupted at B")
  assert last.endswith("-m tailjax.main " + " ".join(args))  # the command that resumes it
