# bc1s-rerank on the tests/data/heads/cross_encoder fixture (a one-label BERT cross-encoder):
# sigmoid scores within 1e-4 of sentence-transformers' CrossEncoder.predict at fp32 (max_length
# 32: one pair is truncated longest first), passages best first, --top, the plain output,
# passages as arguments, and the default fp16 against the fp16-rounded-weights reference.
#   rerank.sh <bc1s-rerank> <tests/data/heads>
source "$(dirname "$0")/common.sh"
RERANK=$1 HEADS=$2
CHECK="$(dirname "$0")/heads_check.py"
EXP=$HEADS/cross_encoder/expected.json
[ -f "$HEADS/cross_encoder/model.safetensors" ] || skip "$HEADS: no fixtures"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (it reads expected.json)"
QUERY=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["inputs"][0]["text"])' "$EXP")
python3 "$CHECK" inputs "$EXP" --field text_pair >"$TMP/passages.txt"
MODEL=(--model "$HEADS/cross_encoder" --query "$QUERY" --threads 2 --max-length 32)

run json "$RERANK" "${MODEL[@]}" --input "$TMP/passages.txt" --json --precision fp32 --verbose
[ "$RC" = 0 ] || fail "json: exit status $RC"
python3 "$CHECK" rerank "$EXP" "$TMP/json.out" || fail "json: scores or order differ from expected.json"
grep -qE 'passages.txt:3: 49 tokens with \[CLS\] and two \[SEP\] \(query 7, passage 39\), truncated to 32, longest first' \
  "$TMP/json.err" || fail "json: --verbose does not report the truncated pair"
grep -qF 'score: sigmoid' "$TMP/json.err" || fail "json: --verbose does not name the activation"

# stdin, batched 4 at a time: the same; --top 2: the first two lines of it.
cp "$TMP/passages.txt" "$TMP/stdin.in"
run stdin "$RERANK" "${MODEL[@]}" --json --precision fp32 --batch 4
[ "$RC" = 0 ] || fail "stdin: exit status $RC"
python3 "$CHECK" rerank "$EXP" "$TMP/stdin.out" || fail "stdin: differs from expected.json"
cp "$TMP/passages.txt" "$TMP/top.in"
run top "$RERANK" "${MODEL[@]}" --json --precision fp32 --top 2
[ "$RC" = 0 ] || fail "top: exit status $RC"
head -n 2 "$TMP/stdin.out" | cmp -s - "$TMP/top.out" || fail "top: not the two best"

# Plain output, passages as arguments: "rank  score  passage", best first.
mapfile -t PASSAGES <"$TMP/passages.txt"
run plain "$RERANK" "${MODEL[@]}" --precision fp32 "${PASSAGES[@]}"
[ "$RC" = 0 ] || fail "plain: exit status $RC"
[ "$(wc -l <"$TMP/plain.out")" = 6 ] || fail "plain: expected 6 lines"
grep -qE '^1  0\.7249  I like to eat apples\.$' "$TMP/plain.out" || fail "plain: first line"
grep -qE '^6  0\.2351  London has a population of about nine million people\.$' "$TMP/plain.out" ||
  fail "plain: last line"

# The default precision (fp16): against transformers on fp16-rounded weights.
python3 - "$EXP" "$TMP/fp16.ref" <<'PY'
import json, math, sys
exp = json.load(open(sys.argv[1], encoding="utf-8"))
for i in exp["inputs"]:
    i["logits"] = i["logits_fp16w"]
    i["score"] = 1 / (1 + math.exp(-i["logits"][0]))
json.dump(exp, open(sys.argv[2], "w", encoding="utf-8"))
PY
cp "$TMP/passages.txt" "$TMP/fp16.in"
run fp16 "$RERANK" "${MODEL[@]}" --json
[ "$RC" = 0 ] || fail "fp16: exit status $RC"
python3 "$CHECK" rerank "$TMP/fp16.ref" "$TMP/fp16.out" --tol 1e-3 || fail "fp16: differs"

# An empty passage is named and left out; exit status 1.
printf 'London is a city.\n\nParis is the capital of France.\n' >"$TMP/empty.in"
run empty "$RERANK" "${MODEL[@]}"
[ "$RC" = 1 ] || fail "empty: exit status $RC, expected 1"
[ "$(wc -l <"$TMP/empty.out")" = 2 ] || fail "empty: expected 2 ranked passages"
grep -qF 'stdin line 2: empty passage' "$TMP/empty.err" || fail "empty: line 2 not named"
echo PASS
