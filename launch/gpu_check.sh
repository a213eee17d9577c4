#!/usr/bin/env bash
# The GPU check (issue 17): on a machine with one NVIDIA GPU, install the CUDA jax wheel, then time the Phase 2.5
# shape as a row of 5 lanes (map / vmap, float32 / bfloat16, XLA / cuDNN attention: model-steps/s, tokens/s, MFU),
# run one chunk of each Phase 2.5 grid row and extrapolate the full grid's wall time. At most --budget_s (480 s) of
# timings; everything goes to one JSON file ($OUT/gpu_check.json when $OUT is set, else ./gpu_check.json).
#
#   bash launch/gpu_check.sh                      # installs jax[cuda12] with pip (needs the network)
#   bash launch/gpu_check.sh --wheels=DIR         # installs from wheels in DIR instead (an offline machine)
#   bash launch/gpu_check.sh --cpu                # no install: the same script on the CPU, shrunk (exercises it)
#
# Other arguments go to `python -m tailjax.bench.gpu` (--budget_s, --steps, --out). PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
cpu=0 wheels="" args=()
for a in "$@"; do
  case $a in
    --cpu) cpu=1; args+=(--cpu) ;;
    --wheels=*) wheels=${a#--wheels=} ;;
    *) args+=("$a") ;;
  esac
done
if [[ $cpu == 0 ]]; then
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L; then
    echo "gpu_check: no NVIDIA GPU found (nvidia-smi); run with --cpu to exercise the script on the CPU" >&2
    exit 2
  fi
  if [[ -n $wheels ]]; then
    "$PYTHON" -m pip install -q --no-index --find-links "$wheels" "jax[cuda12]"
  elif ! "$PYTHON" -c 'import jax, sys; sys.exit(jax.default_backend() != "gpu")' 2>/dev/null; then
    "$PYTHON" -m pip install -q -U "jax[cuda12]"
  fi
  "$PYTHON" -c 'import jax; assert jax.default_backend() == "gpu", jax.devices(); print("jax", jax.__version__, jax.devices())'
else
  export JAX_PLATFORMS=cpu
fi
exec "$PYTHON" -m tailjax.bench.gpu "${args[@]}"
