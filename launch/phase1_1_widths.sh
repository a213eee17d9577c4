#!/usr/bin/env bash
# Experiment 1.1 at the study's four widths, one run each, then α against width.
#   launch/phase1_1_widths.sh runs/p11 [extra --config.* overrides]
set -euo pipefail
out=$(realpath -m "${1:-runs/p11}")  # relative to where you call it from
cd "$(dirname "$0")/.."  # the repository root: run from anywhere
py=${PYTHON:-.venv/bin/python}  # the README's install; PYTHON=python3 for another environment
shift || true
for d in 64 128 256 512; do
  "$py" -m tailjax.main --config=configs/phase1_1.py --config.model.d_model="$d" --workdir="$out/d$d" "$@"
done
"$py" -m tailjax.alpha_vs_width --out="$out" "$out"/d64 "$out"/d128 "$out"/d256 "$out"/d512
