#!/usr/bin/env bash
# The GPU check: on a machine with one NVIDIA GPU, install the CUDA jax wheel, then time the Phase 2.5
# shape as a row of 5 lanes (map / vmap, float32 / bfloat16, XLA / cuDNN attention: model-steps/s, tokens/s, MFU),
# run one chunk of each Phase 2.5 grid row and extrapolate the full grid's wall time. At most --budget_s (480 s) of
# timings; everything goes to one JSON file ($OUT/gpu_check.json when $OUT is set, else ./gpu_check.json).
#
#   bash launch/gpu_check.sh                      # installs jax[cuda12] with pip (needs the network)
#   bash launch/gpu_check.sh --wheels=DIR         # installs from wheels in DIR instead (an offline machine)
#   bash launch/gpu_check.sh --cpu                # no install: the same script on the CPU, shrunk (exercises it)
#
# Other arguments go to `python -m tailjax.bench.gpu` (--budget_s, --steps, --out). PYTHON picks the interpreter
# (default: the README's .venv when there is one, else python3).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"  # the package and configs/, from any folder
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $repo/.venv/bin/python ]]; then PYTHON=$repo/.venv/bin/python; else PYTHON=python3; fi
fi
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
  # the jax already installed (requirements.txt pins 0.10.2), with its CUDA plugin of the same version
  ver=$("$PYTHON" -c 'import jax; print(jax.__version__)' 2>/dev/null || echo 0.10.2)
  if [[ -n $wheels ]]; then
    "$PYTHON" -m pip install -q --no-index --find-links "$wheels" "jax[cuda12]==$ver"
  elif ! "$PYTHON" -c 'import jax, sys; sys.exit(jax.default_backend() != "gpu")' 2>/dev/null; then
    "$PYTHON" -m pip install -q "jax[cuda12]==$ver"
  fi
  "$PYTHON" -c 'import jax; assert jax.default_backend() == "gpu", jax.devices(); print("jax", jax.__version__, jax.devices())'
else
  export JAX_PLATFORMS=cpu
fi
exec "$PYTHON" -m tailjax.bench.gpu "${args[@]}"
