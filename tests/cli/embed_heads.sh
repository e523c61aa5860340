# bc1s-embed on the tests/data/heads sentence-transformers fixtures (shapes other than MiniLM's):
# bge_like_cls (12 layers, width 16, CLS pooling, Normalize) and bert_mean_nonorm (width 24, mean
# pooling, no Normalize); cosine >= 0.9999 to sentence-transformers' embeddings (and the same
# norm) at fp32, and to its fp16-rounded-weights run at the default fp16. With a third argument,
# the real all-MiniLM-L6-v2 cut to 3 layers (tools/make_head_fixtures.py --cut-minilm) too, when
# that folder exists: cosine >= 0.9999 to sentence-transformers at fp32 and fp16.
#   embed_heads.sh <bc1s-embed> <tests/data/heads> [<build/heldout/minilm_l3>]
source "$(dirname "$0")/common.sh"
EMBED=$1 HEADS=$2 HELDOUT=${3:-}
CHECK="$(dirname "$0")/heads_check.py"
[ -f "$HEADS/bge_like_cls/model.safetensors" ] || skip "$HEADS: no fixtures"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (it reads expected.json)"

for c in bge_like_cls bert_mean_nonorm; do
  python3 "$CHECK" inputs "$HEADS/$c/expected.json" >"$TMP/$c.in"
  run "$c" "$EMBED" --model "$HEADS/$c" --threads 2 --precision fp32 --batch 3
  [ "$RC" = 0 ] || fail "$c: exit status $RC"
  python3 "$CHECK" embed "$HEADS/$c/expected.json" "$TMP/$c.out" || fail "$c: fp32 embeddings differ"
  cp "$TMP/$c.in" "$TMP/${c}_fp16.in"
  run "${c}_fp16" "$EMBED" --model "$HEADS/$c" --threads 2
  [ "$RC" = 0 ] || fail "${c}_fp16: exit status $RC"
  python3 "$CHECK" embed "$HEADS/$c/expected.json" "$TMP/${c}_fp16.out" --key embedding_fp16w ||
    fail "$c: fp16 embeddings differ"
done

if [ -n "$HELDOUT" ] && [ -f "$HELDOUT/expected.json" ]; then
  python3 "$CHECK" inputs "$HELDOUT/expected.json" >"$TMP/heldout.in"
  for p in fp32 fp16; do
    cp "$TMP/heldout.in" "$TMP/heldout_$p.in"
    run "heldout_$p" "$EMBED" --model "$HELDOUT" --threads 2 --precision $p --batch 4
    [ "$RC" = 0 ] || fail "heldout $p: exit status $RC"
    python3 "$CHECK" embed "$HELDOUT/expected.json" "$TMP/heldout_$p.out" ||
      fail "$HELDOUT: $p embeddings differ"
  done
else
  echo "note: ${HELDOUT:-no held-out folder given}: not there (tools/make_head_fixtures.py --cut-minilm)"
fi

# --verbose names the pooling and the model's shape; --max-length over the position table is a
# command-line error.
run verbose "$EMBED" --model "$HEADS/bge_like_cls" --threads 2 --verbose "hello"
[ "$RC" = 0 ] || fail "verbose: exit status $RC"
grep -qF 'pooling: cls, then L2-normalised' "$TMP/verbose.err" || fail "verbose: pooling"
grep -qF 'model: bert, 12 layers, width 16, 2 heads, 128 positions; no classifier; max length 64' \
  "$TMP/verbose.err" || fail "verbose: model (max length from sentence_bert_config.json)"
run toolong "$EMBED" --model "$HEADS/bert_mean_nonorm" --threads 2 --max-length 129 "hello"
expect_error toolong 2 "--max-length" "[3, 128]" "'129'"
echo PASS
