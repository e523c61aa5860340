# bc1s-classify with a terminal on stdin: the prompt before each line, then `LABEL (xx.xx%)`.
# The terminal is a pseudo-terminal from script(1) (util-linux), fed from a pipe.
#   classify_interactive.sh <bc1s-classify> <vocab.txt>
source "$(dirname "$0")/common.sh"
CLASSIFY=$1 VOCAB=$2
[ -f "$VOCAB" ] || skip "$VOCAB not found"
command -v script >/dev/null 2>&1 || skip "script (util-linux) not found"
script -qec true /dev/null </dev/null >/dev/null 2>&1 || skip "script cannot open a pseudo-terminal"

printf -v cmd '%q ' "$CLASSIFY" --synthetic 7 --vocab "$VOCAB" --threads 2 --max-length 64
# Two sentences and an empty line (skipped: no answer, just the prompt again), then end of input.
RC=0
printf 'a gorgeous, witty, seductive movie.\n\nthe plot is nothing but boilerplate\n' |
  timeout 300 script -qec "$cmd" /dev/null >"$TMP/tty.out" 2>&1 || RC=$?
tr -d '\r' <"$TMP/tty.out" >"$TMP/tty.txt"
cat "$TMP/tty.txt"
[ "$RC" = 0 ] || fail "exit status $RC"
prompt='Enter text to classify (or Ctrl+D to quit):'
n=$(grep -oF "$prompt" "$TMP/tty.txt" | wc -l)
[ "$n" = 4 ] || fail "$n prompts, expected 4 (one per line read and one before end of input)"
answers=$(grep -oE "$(printf '%s' "$prompt" | sed 's/[()+.]/\\&/g') (POSITIVE|NEGATIVE) \([0-9]{1,3}\.[0-9]{2}%\)" "$TMP/tty.txt" | wc -l)
[ "$answers" = 2 ] || fail "$answers answers after a prompt, expected 2"
grep -qi 'error' "$TMP/tty.txt" && fail "an error in the interactive session"
echo PASS
