#!/usr/bin/env bash
# Several nodes under SLURM: one task per node; jax.distributed finds the coordinator and ranks in SLURM's environment,
# the rows are divided among the tasks, each shards its lanes over its node's GPUs, task 0 writes the summary.
# The workdir must be on a filesystem every node sees. Resubmitting the same command resumes every unfinished row.
#   sbatch --nodes=4 launch/slurm.sh configs/phase2_5.py runs/p25 [--config.FIELD=VALUE ...]
#SBATCH --job-name=tailjax
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --time=04:00:00
set -euo pipefail
config=$1 workdir=$2; shift 2
srun .venv/bin/python -m tailjax.main --config="$config" --workdir="$workdir" "$@"
