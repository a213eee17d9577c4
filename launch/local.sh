#!/usr/bin/env bash
# Run one phase on this machine: launch/local.sh configs/phase2_5.py [--config.FIELD=VALUE ...]
# Set up once with the README's first command; on a GPU also: .venv/bin/pip install -U "jax[cuda12]==0.10.2"
set -euo pipefail
cd "$(dirname "$0")/.."
config=$1; shift
exec .venv/bin/python -m tailjax.main --config="$config" --workdir="runs/$(basename "$config" .py)" "$@"
