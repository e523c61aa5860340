# bc1s-classify --input: a 20-sentence TSV cut from SST-2 dev: throughput and accuracy over 20.
#   classify_input.sh <bc1s-classify> <vocab.txt> <dev.tsv>
source "$(dirname "$0")/common.sh"
CLASSIFY=$1 VOCAB=$2 DEV=$3
[ -f "$VOCAB" ] || skip "$VOCAB not found"
[ -f "$DEV" ] || skip "$DEV not found"
# --max-length 16 truncates most sentences: the labels are random anyway, and the test stays
# quick under sanitizers.
MODEL=(--synthetic 7 --vocab "$VOCAB" --threads 2 --max-length 16)
head -n 21 "$DEV" >"$TMP/dev20.tsv"
[ "$(head -n 1 "$TMP/dev20.tsv")" = "$(printf 'sentence\tlabel')" ] || fail "$DEV: unexpected header"

run file "$CLASSIFY" "${MODEL[@]}" --input "$TMP/dev20.tsv"
[ "$RC" = 0 ] || fail "file: exit status $RC"
grep -qE '^20 sentences in [0-9.]+ s: [0-9.]+ sentences/s' "$TMP/file.out" || fail "file: no throughput line"
grep -qE '^accuracy: [0-9]{1,3}\.[0-9]{2}% \([0-9]+/20\)$' "$TMP/file.out" || fail "file: no accuracy over 20"
# The accuracy printed is the count of correct labels over 20.
awk '/^accuracy:/ { split($3, f, /[(\/)]/); pct = substr($2, 1, length($2) - 1)
       d = pct - 100 * f[2] / f[3]; if (d < 0) d = -d; exit !(d < 0.01 && f[2] <= 20) }' \
  "$TMP/file.out" || fail "file: accuracy percentage does not match its count"

# --json (first 5 rows): 5 JSON lines on stdout whose labels give the accuracy, which goes to
# stderr with the throughput.
head -n 6 "$TMP/dev20.tsv" >"$TMP/dev5.tsv"
run json "$CLASSIFY" "${MODEL[@]}" --input "$TMP/dev5.tsv" --json
[ "$RC" = 0 ] || fail "json: exit status $RC"
check_json_lines "$TMP/json.out" 5
grep -qE '^5 sentences in ' "$TMP/json.err" || fail "json: no throughput on stderr"
correct=$(tail -n 5 "$TMP/dev5.tsv" | cut -f2 | paste - <(sed -E 's/.*"label":"([A-Z]+)".*/\1/' "$TMP/json.out") |
  awk '($1 == 1 && $2 == "POSITIVE") || ($1 == 0 && $2 == "NEGATIVE") { n++ } END { print n + 0 }')
grep -qE "^accuracy: [0-9.]+% \($correct/5\)$" "$TMP/json.err" || fail "json: accuracy is not $correct/5"
tail -n 5 "$TMP/dev5.tsv" | cut -f1 | sed 's/ *$//' >"$TMP/texts"
sed -E 's/.*"text":"(.*)"}$/\1/' "$TMP/json.out" | sed 's/ *$//' | diff - "$TMP/texts" ||
  fail "json: texts are not the file's sentences in order"

# --batch 8: the same labels and probabilities (to 1e-5) as one at a time, in file order.
run b1 "$CLASSIFY" "${MODEL[@]}" --input "$TMP/dev20.tsv" --json
run b8 "$CLASSIFY" "${MODEL[@]}" --input "$TMP/dev20.tsv" --json --batch 8
[ "$RC" = 0 ] || fail "b8: exit status $RC"
check_json_lines "$TMP/b8.out" 20
grep -qE '^20 sentences in .*batch 8\)$' "$TMP/b8.err" || fail "b8: no throughput line for batch 8"
paste -d'|' <(sed -E 's/.*"label":"([A-Z]+)".*"probabilities":\[([^]]*)\].*/\1,\2/' "$TMP/b1.out") \
  <(sed -E 's/.*"label":"([A-Z]+)".*"probabilities":\[([^]]*)\].*/\1,\2/' "$TMP/b8.out") |
  awk -F'|' '{ split($1, a, ","); split($2, b, ",")
               if (a[1] != b[1]) { print "line " NR ": " a[1] " vs " b[1]; bad = 1 }
               for (i = 2; i <= 3; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > 1e-5) { print "line " NR ": " d; bad = 1 } } }
             END { exit bad }' || fail "batch 8 differs from batch 1"
sed -E 's/.*"text":"(.*)"}$/\1/' "$TMP/b8.out" | diff - <(sed -E 's/.*"text":"(.*)"}$/\1/' "$TMP/b1.out") ||
  fail "b8: not in file order"
run badbatch "$CLASSIFY" "${MODEL[@]}" --batch 4
expect_error badbatch 2 "--batch needs --input FILE"

# Without a label column: no accuracy line.
cut -f1 "$TMP/dev20.tsv" | head -n 3 >"$TMP/nolabel.tsv"
run nolabel "$CLASSIFY" "${MODEL[@]}" --input "$TMP/nolabel.tsv"
[ "$RC" = 0 ] || fail "nolabel: exit status $RC"
grep -qE '^2 sentences in ' "$TMP/nolabel.out" || fail "nolabel: no throughput line for 2"
grep -q accuracy "$TMP/nolabel.out" && fail "nolabel: accuracy without labels"
echo PASS
