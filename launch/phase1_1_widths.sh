#!/usr/bin/env bash
# Experiment 1.1 at the study's four widths, one run each, then α against width.
#   launch/phase1_1_widths.sh runs/p11 [extra --config.* overrides]
set -euo pipefail
out=${1:-runs/p11}
shift || true
for d in 64 128 256 512; do
  python -m tailjax.main --config=configs/phase1_1.py --config.model.d_model="$d" --workdir="$out/d$d" "$@"
done
python -m tailjax.alpha_vs_width --out="$out" "$out"/d64 "$out"/d128 "$out"/d256 "$out"/d512
