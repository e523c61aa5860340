#!/usr/bin/env bash
# Valgrind memcheck of the command-line tools (bc1s-classify, bc1s-tokenize) on good and bad
# inputs: no invalid read or write, no use of uninitialised values, no definite or indirect leak.
#
#   bash tools/memcheck.sh
#
# Builds the two tools in $BUILD (default build-memcheck) with -DBC1S_ARCH=avx2 (valgrind 3.19
# cannot run AVX-512 code) and RelWithDebInfo, then runs each case under
#   valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
# A case passes when valgrind's log says "ERROR SUMMARY: 0 errors" and the tool's exit status is
# the one expected (0 for good input; 1 or 2 for bad input: the tool's own error, not valgrind's).
# Exit status: 0 if every case passed, 1 otherwise (logs in $BUILD/memcheck/).
# Needs ../shared/data/distilbert-sst2/vocab.txt (the classifier runs --synthetic weights).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-memcheck}
SHARED=${BC1S_SHARED_DATA:-../shared/data}
VOCAB=$SHARED/distilbert-sst2/vocab.txt
[ -f "$VOCAB" ] || { echo "memcheck.sh: $VOCAB not found" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "memcheck.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBC1S_ARCH=avx2 -DBC1S_BUILD_TESTS=OFF \
  -DBC1S_BUILD_BENCH=OFF -DBC1S_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bc1s-classify bc1s-tokenize
CLASSIFY=$BUILD/examples/bc1s-classify
TOKENIZE=$BUILD/examples/bc1s-tokenize

LOGS=$BUILD/memcheck
rm -rf "$LOGS"
mkdir -p "$LOGS"
IN=$LOGS/inputs
mkdir -p "$IN"
VG=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --track-origins=yes --num-callers=30)

failed=0
passed=0
# check <name> <expected exit status> <stdin file or -> <command...>
check() {
  local name=$1 want=$2 stdin=$3
  shift 3
  [ "$stdin" = - ] && stdin=/dev/null
  local t0=$SECONDS rc=0
  "${VG[@]}" --log-file="$LOGS/$name.valgrind" "$@" <"$stdin" >"$LOGS/$name.out" 2>"$LOGS/$name.err" || rc=$?
  local summary
  summary=$(grep -h 'ERROR SUMMARY' "$LOGS/$name.valgrind" | tail -n 1 | sed 's/^==[0-9]*== //' || true)
  local leaks
  leaks=$(grep -hE 'in use at exit:' "$LOGS/$name.valgrind" | sed 's/^==[0-9]*== *//' || true)
  if [[ $summary == "ERROR SUMMARY: 0 errors"* && $rc == "$want" ]]; then
    printf 'ok    %-28s exit %s  %4ss  %s\n' "$name" "$rc" "$((SECONDS - t0))" "$leaks"
    passed=$((passed + 1))
  else
    printf 'FAIL  %-26s exit %s (expected %s)  %s  log: %s\n' "$name" "$rc" "$want" "$summary" \
      "$LOGS/$name.valgrind"
    grep -m5 -E 'Invalid|uninitialised|definitely lost in|indirectly lost in' "$LOGS/$name.valgrind" || true
    head -n 3 "$LOGS/$name.err" || true
    failed=$((failed + 1))
  fi
}

# Inputs.
printf 'hello world\nHello, World! caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87\n[CLS] a [SEP]\n' >"$IN/good.txt"
printf 'hello\n\xff\xfe\nok again\n\xc3\x28\n' >"$IN/bad-utf8.txt"
printf 'one two three four five six seven eight nine ten eleven twelve\n' >"$IN/long.txt"
printf 'a gorgeous, witty film\nthe plot is a mess\n' >"$IN/two.txt"
# Good and bad lines together: invalid UTF-8, empty, only whitespace, a line truncated to 8 ids.
printf 'a fine film\n\xff\xfe\n\none two three four five six seven eight nine ten eleven\n \t \nthe end\n' \
  >"$IN/mixed.txt"
printf 'sentence\tlabel\na gorgeous, witty film\t1\nthe plot is a mess\t0\nfine\t1\n' >"$IN/three.tsv"
printf 'text\tlabel\nfine\t1\n' >"$IN/nosentence.tsv"
printf '[PAD]\n[CLS]\n[SEP]\nhello\n' >"$IN/no-unk-vocab.txt"
# safetensors <file> <header JSON> <data bytes>: a file with that header and that many zero bytes.
safetensors() {
  local n=${#2}
  printf "\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8)))\\0\\0\\0\\0\\0\\0" >"$1"
  printf '%s' "$2" >>"$1"
  head -c "$3" /dev/zero >>"$1"
}
# Model folders with a good config.json and vocab.txt: weights cut short (the header promises
# 46,881,792 bytes of data, the file has 100); a valid file of the wrong tensors; no weights.
for d in cut-short wrong-tensors no-weights; do
  mkdir -p "$IN/$d"
  cp "$SHARED/distilbert-sst2/config.json" "$VOCAB" "$IN/$d/"
done
safetensors "$IN/cut-short/model.safetensors" \
  '{"distilbert.embeddings.word_embeddings.weight":{"dtype":"F16","shape":[30522,768],"data_offsets":[0,46881792]}}' 100
safetensors "$IN/wrong-tensors/model.safetensors" \
  '{"classifier.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}' 12

MODEL=(--synthetic 7 --vocab "$VOCAB")
echo "memcheck: valgrind $(valgrind --version | sed 's/valgrind-//') on $CLASSIFY and $TOKENIZE"
# bc1s-tokenize.
check tokenize_good 0 "$IN/good.txt" "$TOKENIZE" --vocab "$VOCAB"
check tokenize_cased_truncate 0 "$IN/long.txt" "$TOKENIZE" --vocab "$VOCAB" --no-lower-case --max-length 6 --truncate
check tokenize_bad_utf8 1 "$IN/bad-utf8.txt" "$TOKENIZE" --vocab "$VOCAB"
check tokenize_too_long 1 "$IN/long.txt" "$TOKENIZE" --vocab "$VOCAB" --max-length 6
check tokenize_missing_vocab 1 "$IN/good.txt" "$TOKENIZE" --vocab "$IN/no-such-vocab.txt"
check tokenize_vocab_no_unk 1 "$IN/good.txt" "$TOKENIZE" --vocab "$IN/no-unk-vocab.txt"
check tokenize_bad_flag 2 - "$TOKENIZE" --vocab "$VOCAB" --bogus
# bc1s-classify: errors before the model is built.
check classify_bad_flag 2 - "$CLASSIFY" "${MODEL[@]}" --frobnicate
check classify_bad_threads 2 - "$CLASSIFY" "${MODEL[@]}" --threads 0
check classify_no_model_dir 1 - "$CLASSIFY" --model "$IN/no such model"
check classify_no_weights 1 - "$CLASSIFY" --model "$IN/no-weights"
check classify_weights_cut_short 1 - "$CLASSIFY" --model "$IN/cut-short"
check classify_wrong_tensors 1 - "$CLASSIFY" --model "$IN/wrong-tensors"
check classify_input_missing 1 - "$CLASSIFY" "${MODEL[@]}" --input "$IN/missing.tsv"
# bc1s-classify with the synthetic distilbert_base (each builds the 66M-parameter model).
check classify_stdin_threads2 0 "$IN/two.txt" "$CLASSIFY" "${MODEL[@]}" --threads 2 --max-length 16
check classify_bad_lines_json 1 "$IN/mixed.txt" "$CLASSIFY" "${MODEL[@]}" --json --verbose --max-length 8
check classify_input_fp32 0 - "$CLASSIFY" "${MODEL[@]}" --precision fp32 --input "$IN/three.tsv" --max-length 16
check classify_input_no_sentence 1 - "$CLASSIFY" "${MODEL[@]}" --input "$IN/nosentence.tsv"

echo "memcheck: $passed passed, $failed failed (logs in $LOGS/)"
((failed == 0))
