#!/usr/bin/env bash
# Accuracy of all-MiniLM-L6-v2 sentence embeddings (bc1s-embed at every precision it lists,
# ONNX Runtime fp32 / int8, OpenVINO fp32 / bf16) against transformers fp32 on the 872 SST-2
# dev sentences: bench/peers/minilm_accuracy.py, after bringing build/examples/bc1s-embed up
# to date.
#
#   bash bench/peers/minilm_accuracy.sh [any option of minilm_accuracy.py, e.g. --tag vm]
#
#   env BC1S_VENV=/path   the Python venv (default <repo>/.venv, made by tools/setup_python.sh)
#   env BUILD=/path       the configured bc1s build folder (default <repo>/build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${BC1S_VENV:-$ROOT/.venv}"
BUILD="${BUILD:-$ROOT/build}"

log() { printf '[minilm-accuracy] %s\n' "$*" >&2; }

if [[ ! -x "$VENV/bin/python" ]]; then
  log "no Python venv at $VENV: run tools/setup_python.sh"
  exit 2
fi
if [[ ! -f "$ROOT/models/all-MiniLM-L6-v2/model.safetensors" ]]; then
  log "no models/all-MiniLM-L6-v2: run $VENV/bin/python tools/fetch_minilm.py"
  exit 2
fi
if [[ -f "$BUILD/CMakeCache.txt" ]]; then
  log "building bc1s-embed in $BUILD"
  cmake --build "$BUILD" --target bc1s-embed
else
  log "no configured build in $BUILD: the bc1s rows will report the missing bc1s-embed"
fi

export BC1S_ACCURACY_COMMAND="bash bench/peers/minilm_accuracy.sh${*:+ $*}"
exec "$VENV/bin/python" "$ROOT/bench/peers/minilm_accuracy.py" \
  --bc1s-embed "$BUILD/examples/bc1s-embed" "$@"
