# bc1s-classify: each bad model folder, argument, input file or input line gives one error line
# naming the problem and a non-zero exit (2 for a bad command line).
#   classify_errors.sh <bc1s-classify> <vocab.txt> <shared data folder>
source "$(dirname "$0")/common.sh"
CLASSIFY=$1 VOCAB=$2 SHARED=$3
[ -f "$VOCAB" ] || skip "$VOCAB not found"
MODEL=(--synthetic 7 --vocab "$VOCAB" --threads 2)

# Model folders: missing; without config.json; config.json but no model.safetensors.
run nodir "$CLASSIFY" --model "$TMP/no such model"
expect_error nodir 1 "$TMP/no such model"
mkdir "$TMP/vocab-only" && cp "$VOCAB" "$TMP/vocab-only/"
run noconfig "$CLASSIFY" --model "$TMP/vocab-only"
expect_error noconfig 1 "$TMP/vocab-only/config.json"
if [ -f "$SHARED/distilbert-sst2/config.json" ] && [ ! -f "$SHARED/distilbert-sst2/model.safetensors" ]; then
  run noweights "$CLASSIFY" --model "$SHARED/distilbert-sst2"
  expect_error noweights 1 "$SHARED/distilbert-sst2/model.safetensors"
fi

# Command lines.
run unknown "$CLASSIFY" "${MODEL[@]}" --frobnicate
expect_error unknown 2 "unknown option '--frobnicate'" "--help"
run threads0 "$CLASSIFY" "${MODEL[@]}" --threads 0
expect_error threads0 2 "--threads" "'0'"
run threadsx "$CLASSIFY" "${MODEL[@]}" --threads two
expect_error threadsx 2 "--threads" "'two'"
run maxlen "$CLASSIFY" "${MODEL[@]}" --max-length 513
expect_error maxlen 2 "--max-length" "'513'"
run precision "$CLASSIFY" "${MODEL[@]}" --precision int4
expect_error precision 2 "--precision" "'int4'"
run nomodel "$CLASSIFY" --threads 2
expect_error nomodel 2 "--model"
run novalue "$CLASSIFY" "${MODEL[@]}" --input
expect_error novalue 2 "--input needs a value"
run help "$CLASSIFY" --help
[ "$RC" = 0 ] || fail "--help: exit status $RC"
grep -q '^usage: bc1s-classify' "$TMP/help.out" || fail "--help: no usage line"
grep -qi 'exit status' "$TMP/help.out" || fail "--help does not document the exit status"

# --input files: unreadable, a folder, no `sentence` column, no rows.
run noinput "$CLASSIFY" "${MODEL[@]}" --input "$TMP/missing.tsv"
expect_error noinput 1 "$TMP/missing.tsv" "cannot open"
run dirinput "$CLASSIFY" "${MODEL[@]}" --input "$TMP"
expect_error dirinput 1 "$TMP" "directory"
printf 'text\tlabel\nfine\t1\n' >"$TMP/nosentence.tsv"
run nosentence "$CLASSIFY" "${MODEL[@]}" --input "$TMP/nosentence.tsv"
expect_error nosentence 1 "$TMP/nosentence.tsv" "sentence"
printf 'sentence\tlabel\n' >"$TMP/header-only.tsv"
run noRows "$CLASSIFY" "${MODEL[@]}" --input "$TMP/header-only.tsv"
expect_error noRows 1 "$TMP/header-only.tsv"

# Bad lines on stdin: an error line naming each, the others still classified, exit status 1.
# Line 4 (12 words) is truncated to --max-length 8, which --verbose reports.
printf 'a fine film\n\xff\xfe\n\none two three four five six seven eight nine ten eleven twelve\n \t \nthe end\n' \
  >"$TMP/lines.in"
run lines "$CLASSIFY" "${MODEL[@]}" --max-length 8 --verbose
[ "$RC" = 1 ] || fail "lines: exit status $RC, expected 1"
[ "$(wc -l <"$TMP/lines.out")" = 3 ] || fail "lines: expected 3 results (lines 1, 4, 6)"
grep -vqE '^(POSITIVE|NEGATIVE) \(' "$TMP/lines.out" && fail "lines: a result is not a label"
grep -qE 'stdin line 2: .*UTF-8' "$TMP/lines.err" || fail "lines: no UTF-8 error for line 2"
grep -qE 'stdin line 3: .*empty' "$TMP/lines.err" || fail "lines: no empty-line error for line 3"
grep -qE 'stdin line 4: 14 tokens .*truncated to 8' "$TMP/lines.err" || fail "lines: no truncation note for line 4"
grep -qE 'stdin line 4: 8 tokens' "$TMP/lines.err" || fail "lines: line 4 not run with 8 tokens"
grep -qE 'stdin line 5: .*no tokens' "$TMP/lines.err" || fail "lines: no error for the blank line 5"
grep -qE '3 of 6 lines rejected' "$TMP/lines.err" || fail "lines: no summary of rejected lines"
grep -qE 'loaded synthetic weights .* in [0-9.]+ s' "$TMP/lines.err" || fail "lines: --verbose load time"
grep -qE 'tokenize [0-9.]+ ms, inference [0-9.]+ ms' "$TMP/lines.err" || fail "lines: --verbose times"

# The same in a --input file: the bad row is named by file and line, the rest are counted.
printf 'sentence\tlabel\na fine film\t1\n\xff\t0\nthe end\tmaybe\nso so\t0\n' >"$TMP/badrows.tsv"
run badrows "$CLASSIFY" "${MODEL[@]}" --input "$TMP/badrows.tsv"
[ "$RC" = 1 ] || fail "badrows: exit status $RC, expected 1"
grep -F "$TMP/badrows.tsv:3: " "$TMP/badrows.err" | grep -q 'UTF-8' ||
  fail "badrows: no UTF-8 error for line 3"
grep -qF "$TMP/badrows.tsv:4: label 'maybe'" "$TMP/badrows.err" || fail "badrows: no label error for line 4"
grep -qE '\([0-9]/2\)' "$TMP/badrows.out" || fail "badrows: accuracy not over the 2 good rows"
echo PASS
