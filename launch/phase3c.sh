#!/usr/bin/env bash
# Phase 3c: MLP, CNN and ViT at widths 64 ... 2048 (one sweep each), then the runs side by side.
#   launch/phase3c.sh runs/p3c [extra --config.* overrides]      WIDTHS="64 256" to run fewer
set -euo pipefail
out=$(realpath -m "${1:-runs/p3c}")  # relative to where you call it from
cd "$(dirname "$0")/.."  # the repository root: run from anywhere
py=${PYTHON:-.venv/bin/python}  # the README's install; PYTHON=python3 for another environment
shift || true
runs=()
for arch in mlp cnn vit; do
  for d in ${WIDTHS:-64 128 256 512 1024 2048}; do
    "$py" -m tailjax.main --config=configs/phase3c.py:"$arch" --config.model.d_model="$d" --workdir="$out/${arch}_d$d" "$@"
    runs+=("$out/${arch}_d$d")
  done
done
"$py" -m tailjax.compare_runs --out="$out" "${runs[@]}"
