#!/usr/bin/env bash
# Phase 4: one sweep per optimizer, then the runs side by side (β, LR_opt(B) and α per optimizer).
#   launch/phase4.sh runs/p4 [extra --config.* overrides, e.g. --config.train.steps=500]
set -euo pipefail
out=$(realpath -m "${1:-runs/p4}")  # relative to where you call it from
cd "$(dirname "$0")/.."  # the repository root: run from anywhere
py=${PYTHON:-.venv/bin/python}  # the README's install; PYTHON=python3 for another environment
shift || true
for opt in adamw sgd muon; do
  "$py" -m tailjax.main --config=configs/phase4.py:"$opt" --workdir="$out/$opt" "$@"
done
"$py" -m tailjax.compare_runs --out="$out" "$out"/adamw "$out"/sgd "$out"/muon
