# bc1s-classify on the tests/data/heads fixtures (tiny random models made by transformers, with
# its outputs in expected.json): any number of labels, label names from id2label, multi-label
# sigmoids, sentence pairs (--pairs, on stdin and in a TSV), fp32 logits within 1e-3 of
# transformers' and the default fp16 within 1e-3 of transformers' run on fp16-rounded weights.
#   classify_heads.sh <bc1s-classify> <tests/data/heads>
source "$(dirname "$0")/common.sh"
CLASSIFY=$1 HEADS=$2
CHECK="$(dirname "$0")/heads_check.py"
[ -f "$HEADS/bert_seqcls3/model.safetensors" ] || skip "$HEADS: no fixtures"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (it reads expected.json)"

# classify_case <case> <name> [--pairs] [options...]: runs the case's inputs through
# bc1s-classify --json and compares with expected.json (fp32: "logits"; fp16: "logits_fp16w").
classify_case() {
  local c=$1 name=$2 pairs=()
  shift 2
  if [ "${1:-}" = --pairs ]; then pairs=(--pairs); shift; fi
  python3 "$CHECK" inputs "$HEADS/$c/expected.json" "${pairs[@]}" >"$TMP/$name.in"
  run "$name" "$CLASSIFY" --model "$HEADS/$c" --threads 2 --json "${pairs[@]}" "$@"
  [ "$RC" = 0 ] || fail "$name: exit status $RC"
  [ -s "$TMP/$name.err" ] && fail "$name: unexpected stderr"
  local key=logits
  [[ " $* " == *" --precision fp32 "* ]] || key=logits_fp16w
  python3 "$CHECK" classify "$HEADS/$c/expected.json" "$TMP/$name.out" "${pairs[@]}" --key "$key" ||
    fail "$name: output differs from $c/expected.json ($key)"
}

classify_case bert_seqcls3 seqcls3 --precision fp32
classify_case bert_seqcls3 seqcls3_fp16
classify_case bert_seqcls3 seqcls3_pairs --pairs --precision fp32
classify_case distilbert_seqcls6 seqcls6 --precision fp32
classify_case bert_multilabel multilabel --precision fp32
classify_case bert_multilabel multilabel_fp16

# Plain output: the id2label names; a multi-label model lists every label's probability.
printf 'The movie was great!\n' >"$TMP/plain.in"
run plain "$CLASSIFY" --model "$HEADS/bert_seqcls3" --threads 2
[ "$RC" = 0 ] || fail "plain: exit status $RC"
grep -qE '^positive \([0-9]{1,3}\.[0-9]{2}%\)$' "$TMP/plain.out" || fail "plain: expected 'positive (xx.xx%)'"
printf 'I will find you and hurt you.\n' >"$TMP/multi.in"
run multi "$CLASSIFY" --model "$HEADS/bert_multilabel" --threads 2
[ "$RC" = 0 ] || fail "multi: exit status $RC"
grep -qE '\(toxic [0-9.]+%, insult [0-9.]+%, threat [0-9.]+%, obscene [0-9.]+%\)$' "$TMP/multi.out" ||
  fail "multi: not every label's probability"

# --input with --pairs: a TSV with text, text_pair and label (names or ids) columns; batched.
python3 - "$HEADS/bert_seqcls3/expected.json" >"$TMP/pairs.tsv" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1], encoding="utf-8"))
print("text\ttext_pair\tlabel")
for n, i in enumerate(i for i in exp["inputs"] if "text_pair" in i):
    best = max(range(3), key=lambda k: i["logits"][k])
    print(f"{i['text']}\t{i['text_pair']}\t{exp['labels'][best] if n % 2 else best}")
PY
run tsv "$CLASSIFY" --model "$HEADS/bert_seqcls3" --threads 2 --pairs --input "$TMP/pairs.tsv" \
  --json --batch 2 --precision fp32
[ "$RC" = 0 ] || fail "tsv: exit status $RC"
python3 "$CHECK" classify "$HEADS/bert_seqcls3/expected.json" "$TMP/tsv.out" --pairs ||
  fail "tsv: output differs from expected.json"
grep -qE '^accuracy: 100\.00% \(3/3\)$' "$TMP/tsv.err" || fail "tsv: accuracy is not 3/3"

# A pair line without a tab: named, the others still classified, exit status 1.
printf 'Is the food good?\tThe food was really good.\nno tab here\n' >"$TMP/notab.in"
run notab "$CLASSIFY" --model "$HEADS/bert_seqcls3" --threads 2 --pairs
[ "$RC" = 1 ] || fail "notab: exit status $RC, expected 1"
[ "$(wc -l <"$TMP/notab.out")" = 1 ] || fail "notab: expected one result"
grep -qF 'stdin line 2: expected `text<TAB>text_pair` (--pairs)' "$TMP/notab.err" ||
  fail "notab: line 2 not named"

# A long pair is truncated longest first to --max-length, and --verbose says so.
printf 'Is the food good?\tThe food was really good, and the service was quick and the room was quiet and warm.\n' \
  >"$TMP/trunc.in"
run trunc "$CLASSIFY" --model "$HEADS/bert_seqcls3" --threads 2 --pairs --max-length 12 --verbose
[ "$RC" = 0 ] || fail "trunc: exit status $RC"
grep -qE 'stdin line 1: [0-9]+ tokens with \[CLS\] and two \[SEP\] .*truncated to 12, longest first' \
  "$TMP/trunc.err" || fail "trunc: no truncation note"
grep -qE 'stdin line 1: 12 tokens' "$TMP/trunc.err" || fail "trunc: not run with 12 tokens"
grep -qF 'labels: negative, neutral, positive; scores: softmax' "$TMP/trunc.err" ||
  fail "trunc: --verbose does not list the labels"
echo PASS
