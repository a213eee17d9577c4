#!/usr/bin/env bash
# Phase 4: one sweep per optimizer, then the runs side by side (β, LR_opt(B) and α per optimizer).
#   launch/phase4.sh runs/p4 [extra --config.* overrides, e.g. --config.train.steps=500]
set -euo pipefail
out=${1:-runs/p4}
shift || true
for opt in adamw sgd muon; do
  python -m tailjax.main --config=configs/phase4.py:"$opt" --workdir="$out/$opt" "$@"
done
python -m tailjax.compare_runs --out="$out" "$out"/adamw "$out"/sgd "$out"/muon
