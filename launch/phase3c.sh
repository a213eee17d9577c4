#!/usr/bin/env bash
# Phase 3c: MLP, CNN and ViT at widths 64 ... 2048 (one sweep each), then the runs side by side.
#   launch/phase3c.sh runs/p3c [extra --config.* overrides]      WIDTHS="64 256" to run fewer
set -euo pipefail
out=${1:-runs/p3c}
shift || true
runs=()
for arch in mlp cnn vit; do
  for d in ${WIDTHS:-64 128 256 512 1024 2048}; do
    python -m tailjax.main --config=configs/phase3c.py:"$arch" --config.model.d_model="$d" --workdir="$out/${arch}_d$d" "$@"
    runs+=("$out/${arch}_d$d")
  done
done
python -m tailjax.compare_runs --out="$out" "${runs[@]}"
