#!/usr/bin/env bash
# SST-2 throughput of the command-line tools, one sentence per pass (--batch 1) against dynamic
# batching (--batch N), side by side: all 872 dev and 1821 test sentences through bc1s-classify
# (distilbert_base: the real checkpoint with BC1S_DISTILBERT_SST2_DIR, else seeded synthetic
# weights, which cost the same time) and bc1s-embed (all-MiniLM-L6-v2 when models/ has it, else
# synthetic weights of its shape). Prints one table row per run; quote medians of --reps runs.
#   bash bench/sst2_throughput.sh [--build DIR] [--threads N] [--batch N] [--reps N]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build THREADS=2 BATCH=16 REPS=1
while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DATA=../shared/data
VOCAB=$DATA/distilbert-sst2/vocab.txt
cmake --build "$BUILD" --target bc1s-classify bc1s-embed -j"$(nproc)" >/dev/null
if [ -n "${BC1S_DISTILBERT_SST2_DIR:-}" ]; then CLS=(--model "$BC1S_DISTILBERT_SST2_DIR"); else CLS=(--synthetic 1 --vocab "$VOCAB"); fi
MINILM=${BC1S_MINILM_DIR:-models/all-MiniLM-L6-v2}
if [ -f "$MINILM/model.safetensors" ]; then EMB=(--model "$MINILM"); else EMB=(--synthetic 1 --vocab "$VOCAB"); fi
echo "tool | weights | split | sentences | batch | threads | seconds | sentences/s"
echo "---|---|---|---|---|---|---|---"
for rep in $(seq "$REPS"); do
  for split in dev test; do
    for b in 1 "$BATCH"; do
      line=$("$BUILD/examples/bc1s-classify" "${CLS[@]}" --input "$DATA/sst2/$split.tsv" \
        --threads "$THREADS" --batch "$b" | grep ' sentences in ')
      n=$(awk '{print $1}' <<<"$line"); s=$(awk '{print $4}' <<<"$line"); r=$(awk '{print $6}' <<<"$line")
      echo "bc1s-classify | ${CLS[0]#--} | $split | $n | $b | $THREADS | $s | $r"
      line=$("$BUILD/examples/bc1s-embed" "${EMB[@]}" --input "$DATA/sst2/$split.tsv" \
        --threads "$THREADS" --batch "$b" --verbose 2>&1 >/dev/null | grep ' sentences in ')
      n=$(sed -E 's/.*; ([0-9]+) sentences in.*/\1/' <<<"$line")
      s=$(sed -E 's/.* sentences in ([0-9.]+) s.*/\1/' <<<"$line")
      r=$(sed -E 's/.* s: ([0-9.]+) sentences\/s.*/\1/' <<<"$line")
      echo "bc1s-embed | ${EMB[0]#--} | $split | $n | $b | $THREADS | $s | $r"
    done
  done
done
