# bc1s-classify on piped stdin: one `LABEL (xx.xx%)` per line without a prompt; --json lines.
#   classify_stdin.sh <bc1s-classify> <vocab.txt>
source "$(dirname "$0")/common.sh"
CLASSIFY=$1 VOCAB=$2
[ -f "$VOCAB" ] || skip "$VOCAB not found"
MODEL=(--synthetic 7 --vocab "$VOCAB" --threads 2 --max-length 64)

printf '%s\n' "a gorgeous, witty, seductive movie." "the plot is nothing but boilerplate" \
  "it 's a charming and often affecting journey . " >"$TMP/plain.in"
run plain "$CLASSIFY" "${MODEL[@]}"
[ "$RC" = 0 ] || fail "plain: exit status $RC"
[ "$(wc -l <"$TMP/plain.out")" = 3 ] || fail "plain: expected 3 lines"
grep -vqE '^(POSITIVE|NEGATIVE) \([0-9]{1,3}\.[0-9]{2}%\)$' "$TMP/plain.out" &&
  fail "plain: a line is not 'POSITIVE (xx.xx%)' or 'NEGATIVE (xx.xx%)'"
grep -q 'Enter text' "$TMP/plain.out" && fail "plain: a prompt without a terminal"
[ -s "$TMP/plain.err" ] && fail "plain: unexpected stderr"

cp "$TMP/plain.in" "$TMP/json.in"
run json "$CLASSIFY" "${MODEL[@]}" --json
[ "$RC" = 0 ] || fail "json: exit status $RC"
check_json_lines "$TMP/json.out" 3
grep -qF '"text":"a gorgeous, witty, seductive movie."' "$TMP/json.out" || fail "json: text not echoed"
# The same labels and percentages as the plain output.
sed -E 's/.*"label":"([A-Z]+)".*"score":([0-9.e-]+).*/\1 \2/' "$TMP/json.out" |
  awk '{ printf "%s (%.2f%%)\n", $1, 100 * $2 }' | diff - "$TMP/plain.out" ||
  fail "json and plain outputs disagree"
echo PASS
