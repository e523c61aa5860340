#!/usr/bin/env bash
# Side-by-side benchmark: bc1s (fp16, fp32 weights) vs ONNX Runtime (fp32, int8) vs OpenVINO
# (fp32, bf16) vs PyTorch eager.
#
#   bash bench/peers/run.sh [--quick] [any option of bench/peers/run_peers.py]
#
# 1. builds bc1s_peer (Release) in build-peers/  (through the bc1s tree when bench/CMakeLists.txt
#    has `add_subdirectory(peers)`, otherwise bench/peers/ as a standalone CMake project); skipped
#    when --engines names no bc1s engine;
# 2. makes sure the Python side is there: <repo>/.venv (tools/setup_python.sh) plus `onnx`,
#    which onnxruntime.quantization needs, and `openvino` (both pinned in tools/requirements.txt);
# 3. exports the models once into build-peers/cache (bench/peers/models.py);
# 4. runs bench/peers/run_peers.py: results in bench/results/<date>-<host>[-quick].{json,md,png}.
#
# The full grid takes about 20-25 minutes on 2 cores; run it on a quiet machine (nothing else
# running: the load average is recorded with the results). --quick takes about a minute.
#   env BC1S_VENV=/path   the Python venv (default <repo>/.venv)
#   env BUILD=/path       the build folder (default <repo>/build-peers)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${BC1S_VENV:-$ROOT/.venv}"
BUILD="${BUILD:-$ROOT/build-peers}"
PY="$VENV/bin/python"
ONNX_REQ="onnx==1.23.2"   # onnxruntime.quantization imports onnx; numpy must stay 1.x (torch 1.13)
OV_REQ="$(grep -E '^openvino==' "$ROOT/tools/requirements.txt" || echo openvino)"  # openvino-*

log() { printf '[peers] %s\n' "$*" >&2; }

# --engines without a bc1s engine needs no bc1s_peer (run_peers.py does not look for it then).
engines=""
prev=""
for a in "$@"; do
  case "$a" in
    --engines=*) engines="${a#--engines=}" ;;
    *) [[ "$prev" == "--engines" ]] && engines="$a" ;;
  esac
  prev="$a"
done

# 1. bc1s_peer
if [[ -n "$engines" && ",${engines// /}," != *,bc1s-* ]]; then
  log "no bc1s engine in --engines: not building bc1s_peer"
  PEER="$BUILD/bench/peers/bc1s_peer"
elif grep -Eq '^[[:space:]]*add_subdirectory\(peers\)' "$ROOT/bench/CMakeLists.txt"; then
  log "building bc1s_peer in $BUILD (bc1s tree)"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target bc1s_peer >/dev/null
  PEER="$BUILD/bench/peers/bc1s_peer"
else
  log "building bc1s_peer in $BUILD/standalone (bench/peers as its own CMake project)"
  cmake -S "$ROOT/bench/peers" -B "$BUILD/standalone" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD/standalone" -j2 --target bc1s_peer >/dev/null
  PEER="$BUILD/standalone/bc1s_peer"
fi

# 2. Python: the project's venv, plus onnx for the int8 quantisation and openvino (a venv made
#    before openvino was in tools/requirements.txt lacks it).
if [[ ! -x "$PY" ]]; then
  log "no venv at $VENV: running tools/setup_python.sh"
  BC1S_VENV="$VENV" bash "$ROOT/tools/setup_python.sh"
fi
if ! "$PY" -c 'import onnx, onnxruntime, openvino, torch, transformers, matplotlib' >/dev/null 2>&1; then
  log "installing $ONNX_REQ $OV_REQ into $VENV"
  "$PY" -m pip install -q --disable-pip-version-check --no-input "$ONNX_REQ" "$OV_REQ" \
    'numpy>=1.24,<2'
fi

# PyTorch's BLAS is whatever libblas.so.3 Debian's alternatives select: make sure it is OpenBLAS
# (tools/setup_python.sh installs it), not the reference BLAS, 30x slower on PyTorch's matmuls.
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
if [[ "$blas" != *openblas* ]]; then
  log "libblas.so.3 is '${blas:-missing}', not OpenBLAS: running tools/setup_python.sh"
  BC1S_VENV="$VENV" bash "$ROOT/tools/setup_python.sh"
  blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
  [[ "$blas" == *openblas* ]] || { log "PyTorch would run on '$blas'; install OpenBLAS first"; exit 1; }
fi
export BC1S_PEERS_BLAS="$blas"

# Debian's OpenBLAS 0.3.21 (PyTorch's BLAS here) does not recognise newer Xeons and falls back to
# its "Prescott" SSE3 kernels, several times slower: name the closest kernel set it has.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
  log "OPENBLAS_CORETYPE=SkylakeX (for PyTorch's OpenBLAS)"
fi

# 3 + 4. Models (cached) and the run.
cd "$ROOT"
export BC1S_PEERS_COMMAND="bash bench/peers/run.sh${*:+ $*}"
"$PY" "$ROOT/bench/peers/models.py" --cache "$BUILD/cache" >/dev/null
exec "$PY" "$ROOT/bench/peers/run_peers.py" --bc1s-peer "$PEER" --cache "$BUILD/cache" "$@"
