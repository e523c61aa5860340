#!/usr/bin/env bash
# Creates the Python environment for bc1s's tools (fixture generation, parity, peer benchmarks):
#   <repo>/.venv  — a venv of Debian's /usr/bin/python3 with --system-site-packages, so it sees
#                   Debian's python3-torch (1.13.1, CPU); everything else comes from PyPI
#                   (tools/requirements.txt).
#
# Why Debian's torch: PyPI's Linux `torch` pulls ~3-4 GB of CUDA wheels; `--no-deps` gives a torch
# that does not import; no other torch index is reachable here. python3-torch is ~200 MB and
# installs in ~35 s. See tools/README.md.
#
# Usage:  tools/setup_python.sh [--force]      (idempotent: a no-op, ~2 s, when up to date)
#   env BC1S_VENV=/path   venv location (default <repo>/.venv)
# Needs root (or sudo) only the first time on a machine, for apt-get. Safe to call from CI.
# Ends by running a DistilBertForSequenceClassification forward pass; exits non-zero on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BC1S_VENV:-$ROOT/.venv}"
REQ="$ROOT/tools/requirements.txt"
STAMP="$VENV/.bc1s-requirements.sha256"
SYS_PY=/usr/bin/python3
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[setup_python] %s\n' "$*" >&2; }
t0=$SECONDS

# apt-get install of Debian packages, as root or through sudo; updates the package lists first
# only when the install cannot find a package without it.
apt_install() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { log "need root or sudo for apt-get"; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# 1. Debian's torch (and venv support) for the system python.
if ! "$SYS_PY" -c 'import torch, ensurepip' >/dev/null 2>&1; then
  log "installing Debian python3-torch python3-venv (apt-get)"
  apt_install python3-torch python3-venv python3-pip
fi

# 1b. A real BLAS for Debian's torch. It calls whatever libblas.so.3 the Debian alternatives
# system selects; with only the reference BLAS (libblas3, what python3-torch pulls without
# recommends) a 128 x 768 x 3072 matmul takes 118 ms instead of 3-4 ms, which would make PyTorch a
# straw man in bench/peers. OpenBLAS (pthreads build) registers itself with a higher priority.
if ! ls /usr/lib/*/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then
  log "installing Debian libopenblas0-pthread (PyTorch's BLAS)"
  apt_install libopenblas0-pthread
fi

# 2. The venv + PyPI packages, redone only when requirements.txt changed (or --force).
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ $FORCE -eq 1 || "$want" != "$have" || ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV and installing tools/requirements.txt"
  rm -rf "$VENV"
  "$SYS_PY" -m venv --system-site-packages "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$REQ"
  echo "$want" > "$STAMP"
else
  log "$VENV is up to date"
fi

# 3. Check: imports and a DistilBertForSequenceClassification forward pass (tiny random config).
"$VENV/bin/python" - <<'EOF'
import warnings
warnings.filterwarnings("ignore")
import numpy, torch, transformers, safetensors, onnxruntime, matplotlib  # noqa: F401
from transformers import DistilBertConfig, DistilBertForSequenceClassification
from transformers.utils import is_torch_available
assert is_torch_available(), "transformers does not see torch"
cfg = DistilBertConfig(dim=64, n_heads=4, hidden_dim=128, n_layers=2, num_labels=2)
model = DistilBertForSequenceClassification(cfg).eval()
with torch.no_grad():
    logits = model(input_ids=torch.tensor([[101, 7592, 102]])).logits
assert logits.shape == (1, 2) and torch.isfinite(logits).all()
print(f"[setup_python] ok: torch {torch.__version__}, transformers {transformers.__version__}, "
      f"numpy {numpy.__version__}, onnxruntime {onnxruntime.__version__}")
EOF
log "done in $((SECONDS - t0)) s; use $VENV/bin/python"
