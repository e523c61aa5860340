# Helpers sourced by the tests/cli/*.sh scripts (bash). Each script gets its paths as arguments.
set -u

# Exit code 77 marks a test as skipped (SKIP_RETURN_CODE in CMakeLists.txt).
skip() {
  echo "SKIP: $*"
  exit 77
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# A fresh temporary folder, removed on exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bc1s-cli.XXXXXX") || fail "mktemp"
trap 'rm -rf "$TMP"' EXIT

# run <name> <command...>: runs with stdin from $TMP/<name>.in when that exists (else /dev/null),
# stdout to $TMP/<name>.out, stderr to $TMP/<name>.err; the exit status goes to $RC.
run() {
  local name=$1
  shift
  local in=/dev/null
  [ -f "$TMP/$name.in" ] && in="$TMP/$name.in"
  RC=0
  "$@" <"$in" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
  echo "--- $name: exit $RC; stdout $(wc -l <"$TMP/$name.out") line(s); stderr:"
  cat "$TMP/$name.err"
}

# expect_error <name> <exit status> <text...>: the last run exited with that status and wrote
# exactly one line on stderr, containing every text (fixed strings), and nothing on stdout.
expect_error() {
  local name=$1 want=$2
  shift 2
  [ "$RC" = "$want" ] || fail "$name: exit status $RC, expected $want"
  [ "$(wc -l <"$TMP/$name.err")" = 1 ] || fail "$name: expected one line on stderr"
  [ -s "$TMP/$name.out" ] && fail "$name: expected nothing on stdout"
  local t
  for t in "$@"; do
    grep -qF -- "$t" "$TMP/$name.err" || fail "$name: stderr does not mention '$t'"
  done
  return 0
}

# check_json_lines <file> <count>: <count> lines, each one JSON object with text, label
# (POSITIVE/NEGATIVE), score, probabilities (summing to 1, score = the largest, softmax of the
# logits) and logits. Checked with grep and awk; also parsed by python3 when there is one.
check_json_lines() {
  local file=$1 count=$2
  [ "$(wc -l <"$file")" = "$count" ] || fail "$file: $(wc -l <"$file") lines, expected $count"
  grep -vqE '^\{.*\}$' "$file" && fail "$file: a line is not a JSON object"
  local key
  for key in text label score probabilities logits; do
    [ "$(grep -c "\"$key\":" "$file")" = "$count" ] || fail "$file: not every line has \"$key\""
  done
  grep -vqE '"label":"(POSITIVE|NEGATIVE)"' "$file" && fail "$file: a label is not POSITIVE/NEGATIVE"
  sed -E 's/.*"label":"([A-Z]+)".*"logits":\[([^],]+),([^],]+)\].*"probabilities":\[([^],]+),([^],]+)\].*"score":([^,}]+).*/\1 \2 \3 \4 \5 \6/' \
    "$file" >"$TMP/fields"
  awk 'function abs(x) { return x < 0 ? -x : x }
       NF != 6 { print "unparsed line " NR ": " $0; bad = 1; next }
       {
         label = $1; l0 = $2; l1 = $3; p0 = $4; p1 = $5; score = $6
         if (abs(p0 + p1 - 1) > 1e-5) { print "line " NR ": probabilities sum to " p0 + p1; bad = 1 }
         if (p0 < 0 || p1 < 0) { print "line " NR ": negative probability"; bad = 1 }
         if (abs(score - (p0 > p1 ? p0 : p1)) > 1e-6) { print "line " NR ": score " score " is not the largest probability"; bad = 1 }
         if (abs(p1 - 1 / (1 + exp(l0 - l1))) > 1e-5) { print "line " NR ": probabilities are not softmax(logits)"; bad = 1 }
         if (label != (p1 > p0 ? "POSITIVE" : "NEGATIVE")) { print "line " NR ": label " label " does not match the probabilities"; bad = 1 }
       }
       END { exit bad }' "$TMP/fields" || fail "$file: inconsistent JSON values"
  if command -v python3 >/dev/null 2>&1; then
    python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    j = json.loads(line)
    assert set(j) == {"text", "label", "score", "probabilities", "logits"}, (n, sorted(j))
    assert isinstance(j["text"], str) and len(j["probabilities"]) == 2 and len(j["logits"]) == 2, n
' "$file" || fail "$file: python3 json.loads rejects it"
  fi
  return 0
}
