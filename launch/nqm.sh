#!/usr/bin/env bash
# The noisy quadratic lab: beta for {SGD, AdamW} x {normal, laplace, student_t nu=3, stable alpha=1.5},
# then the runs side by side with the table README quotes (nqm_table.md).
#   launch/nqm.sh runs/nqm [extra --config.* overrides, e.g. --config.train.steps=500]
set -euo pipefail
out=$(realpath -m "${1:-runs/nqm}")  # relative to where you call it from
cd "$(dirname "$0")/.."  # the repository root: run from anywhere
py=${PYTHON:-.venv/bin/python}  # the README's install; PYTHON=python3 for another environment
shift || true
runs=()
for opt in sgd adamw; do
  for law in normal:3 laplace:3 student_t:3 stable:1.5; do
    noise=${law%%:*} param=${law##*:}
    "$py" -m tailjax.main --config=configs/nqm.py:"$opt" --workdir="$out/${opt}_$noise" \
      --config.data.noise="$noise" --config.data.noise_param="$param" "$@"
    runs+=("$out/${opt}_$noise")
  done
done
"$py" -m tailjax.compare_runs --out="$out" "${runs[@]}"
