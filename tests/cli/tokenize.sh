# bc1s-tokenize: Hugging Face bert-base-uncased ids for one line per input line; UTF-8 errors.
#   tokenize.sh <bc1s-tokenize> <vocab.txt>
source "$(dirname "$0")/common.sh"
TOKENIZE=$1 VOCAB=$2
[ -f "$VOCAB" ] || skip "$VOCAB not found"

# hello=7592, world=2088 (bert-base-uncased); [CLS]=101, [SEP]=102; lowercased; one line each.
printf 'hello world\nHello, World!\n' >"$TMP/ids.in"
run ids "$TOKENIZE" --vocab "$VOCAB"
[ "$RC" = 0 ] || fail "exit status $RC"
printf '101 7592 2088 102\n101 7592 1010 2088 999 102\n' | diff - "$TMP/ids.out" || fail "ids differ"

printf 'hello\n\xff\xfe\n' >"$TMP/utf8.in"
run utf8 "$TOKENIZE" --vocab "$VOCAB"
[ "$RC" != 0 ] || fail "invalid UTF-8: exit status 0"
grep -qF 'UTF-8' "$TMP/utf8.err" || fail "invalid UTF-8: stderr does not mention UTF-8"
grep -qF 'line 2' "$TMP/utf8.err" || fail "invalid UTF-8: stderr does not name line 2"

run flag "$TOKENIZE" --vocab "$VOCAB" --bogus
expect_error flag 2 "--bogus"
echo PASS
