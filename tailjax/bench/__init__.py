"""Benchmark and report scripts, never imported by the library (a test checks it). Each is run as a module:

  python -m tailjax.bench                        engine throughput: one lane, a row, lanes one by one (__main__)
  python -m tailjax.bench.cli_vs_torch           the whole command line against the PyTorch loop, A B A B
  python -m tailjax.bench.gpu                    the GPU check (launch/gpu_check.sh): Phase 2.5 rows, MFU, the grid
  python -m tailjax.bench.measure                one gradient-noise measurement
  python -m tailjax.bench.resume                 checkpoint save / restore / checksum
  python -m tailjax.bench.analysis               the scaling and weight-norm fits, image models
  python -m tailjax.bench.estimator_speed             tail-estimator timings
  python -m tailjax.bench.estimator_accuracy      docs/estimators.md (bias, RMSE, verdict shares; ~6 min)
  python -m tailjax.bench.compare_references     side by side with `powerlaw` and Voitalov's script (optional)

BENCHMARKS.md records what they printed, with the machine.
"""
