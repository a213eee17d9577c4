#!/usr/bin/env bash
# Several GPUs on this machine, one process per GPU group: the rows (batch sizes) are divided among the processes, each
# shards its rows' lanes over its own GPUs, and process 0 writes the summary.
#   launch/multi_gpu.sh PROCS configs/phase2_5.py runs/p25 [--config.FIELD=VALUE ...]
# With PROCS=1 one process shards every row's lanes over all visible GPUs (what `python -m tailjax.main` does anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
procs=$1 config=$2 workdir=$3; shift 3
gpus=$(nvidia-smi -L | wc -l); per=$((gpus / procs)); port=$((20000 + RANDOM % 20000))
for ((i = 0; i < procs; i++)); do
  CUDA_VISIBLE_DEVICES=$(seq -s, $((i * per)) $((i * per + per - 1))) .venv/bin/python -m tailjax.main \
    --config="$config" --workdir="$workdir" --config.distributed.coordinator="localhost:$port" \
    --config.distributed.num_processes="$procs" --config.distributed.process_id="$i" "$@" &
done
wait
