#!/usr/bin/env bash
# The GPU check (benchmarks/README.md): on a machine with JAX and PyTorch but no TensorFlow, Keras or Keras
# Tuner, installs the wheels `make gpu-check-files` put in build/gpu-wheels, then runs gpu_check.py on the
# copy of Kaggle-sized data in build/gpu-data. Figures: $OUT/gpu-check.json and .md (OUT: default build/).
#   benchmarks/gpu_check.sh [--budget-seconds S] [--backends jax torch] [--dry-run]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-build}
if ! "$PYTHON" -c "import keras, keras_tuner" 2>/dev/null; then
    ls build/gpu-wheels/*.whl >/dev/null 2>&1 || { echo "no wheels in build/gpu-wheels: run make gpu-check-files first" >&2; exit 2; }
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gpu-site build/gpu-wheels/*.whl
    export PYTHONPATH=/tmp/gpu-site
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
exec "$PYTHON" benchmarks/gpu_check.py --data-dir build/gpu-data/mnist-full --out "$OUT/gpu-check.json" "$@"
