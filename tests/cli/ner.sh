# bc1s-ner on the tests/data/heads token-classification fixtures (bert_ner: cased, 9 BIO labels;
# distilbert_ner: uncased, accents stripped): the entities of transformers'
# pipeline("token-classification", aggregation_strategy="simple"), the same groups and spans
# (UTF-8 byte offsets), the word as the original text of the span, scores within 1e-3 at fp32.
#   ner.sh <bc1s-ner> <tests/data/heads>
source "$(dirname "$0")/common.sh"
NER=$1 HEADS=$2
CHECK="$(dirname "$0")/heads_check.py"
[ -f "$HEADS/bert_ner/model.safetensors" ] || skip "$HEADS: no fixtures"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (it reads expected.json)"

for c in bert_ner distilbert_ner; do
  python3 "$CHECK" inputs "$HEADS/$c/expected.json" >"$TMP/$c.in"
  run "$c" "$NER" --model "$HEADS/$c" --threads 2 --json --precision fp32
  [ "$RC" = 0 ] || fail "$c: exit status $RC"
  python3 "$CHECK" ner "$HEADS/$c/expected.json" "$TMP/$c.out" || fail "$c: entities differ"
  # --input FILE, batched 2 at a time: the same output.
  run "${c}_file" "$NER" --model "$HEADS/$c" --threads 2 --json --precision fp32 \
    --input "$TMP/$c.in" --batch 2
  [ "$RC" = 0 ] || fail "${c}_file: exit status $RC"
  python3 "$CHECK" ner "$HEADS/$c/expected.json" "$TMP/${c}_file.out" || fail "${c}_file: entities differ"
done

# Plain output: the line, then one entity per line (group, score, byte span, word); the
# non-ASCII "café" keeps its accent and spans bytes 4-9.
printf 'The café near the river is closed.\n\nJohn lives in Paris.\n' >"$TMP/plain.in"
run plain "$NER" --model "$HEADS/distilbert_ner" --threads 2 --precision fp32
[ "$RC" = 0 ] || fail "plain: exit status $RC"
grep -qE '^\[1\] The café near the river is closed\.$' "$TMP/plain.out" || fail "plain: line 1"
grep -qE '^    LOC  0\.88[0-9]{2}  4-9 +café$' "$TMP/plain.out" || fail "plain: café entity"
grep -qE '^\[2\] $' "$TMP/plain.out" || fail "plain: the empty line 2"
grep -qF '    (no entities)' "$TMP/plain.out" || fail "plain: no '(no entities)' for the empty line"
grep -qE '^\[3\] John lives in Paris\.$' "$TMP/plain.out" || fail "plain: line 3"

# Truncation: --max-length 6 keeps 4 word pieces; --verbose says so; invalid UTF-8 is named.
printf 'John Smith works for Google in London.\n\xff\n' >"$TMP/trunc.in"
run trunc "$NER" --model "$HEADS/bert_ner" --threads 2 --json --max-length 6 --verbose
[ "$RC" = 1 ] || fail "trunc: exit status $RC, expected 1 (line 2 is not UTF-8)"
grep -qE 'stdin line 1: 11 tokens with \[CLS\] and \[SEP\], truncated to 6' "$TMP/trunc.err" ||
  fail "trunc: no truncation note"
grep -qE 'stdin line 2: .*UTF-8' "$TMP/trunc.err" || fail "trunc: line 2 not named"
python3 -c '
import json, sys
j = json.loads(open(sys.argv[1], encoding="utf-8").readline())
assert all(e["end"] <= 16 for e in j["entities"]), j
' "$TMP/trunc.out" || fail "trunc: an entity past the 4 kept word pieces"
echo PASS
