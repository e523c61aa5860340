#!/usr/bin/env bash
# Fuzz the loaders, the tokenizer and the forward pass with libFuzzer (clang, ASan + UBSan).
#
#   bash tools/fuzz.sh [--time SECONDS] [--jobs N] [target...]
#
# Targets (tests/fuzz/fuzz_<target>.cpp): safetensors config vocab tokenizer forward (default:
# all). Configures build-fuzz with clang++ and -DBC1S_FUZZ=ON (only the fuzz test area, no
# benchmarks or tools), builds the targets, and runs each for SECONDS (default 30) starting from
# a copy of tests/fuzz/corpus/<target>/ in build-fuzz/corpus/<target>/ (new inputs go there,
# never into tests/). --jobs N runs N targets at once (default 1).
#
# Exit status: 0 if no target found anything; 1 if one did: the input is left in
# build-fuzz/<target>-crash-<sha1> (or -leak-, -timeout-, -oom-), with the log in
# build-fuzz/logs/<target>.log. To keep it as a regression test, copy it to
# tests/fuzz/corpus/<target>/crash-<what> after the fix.
# Environment: BUILD (default build-fuzz), CXX (default clang++), BC1S_FUZZ_VOCAB (the
# tokenizer's vocab.txt; default ../shared/data/distilbert-sst2/vocab.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

TIME=30
JOBS=1
ALL=(safetensors config vocab tokenizer forward)
targets=()
while (($#)); do
  case $1 in
    --time)
      [ $# -ge 2 ] || { echo "fuzz.sh: --time needs a number of seconds" >&2; exit 2; }
      TIME=$2
      shift 2
      ;;
    --jobs)
      [ $# -ge 2 ] || { echo "fuzz.sh: --jobs needs a number" >&2; exit 2; }
      JOBS=$2
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "fuzz.sh: unknown option '$1' (see --help)" >&2
      exit 2
      ;;
    *)
      [[ " ${ALL[*]} " == *" $1 "* ]] || {
        echo "fuzz.sh: unknown target '$1' (targets: ${ALL[*]})" >&2
        exit 2
      }
      targets+=("$1")
      shift
      ;;
  esac
done
[[ $TIME =~ ^[0-9]+$ && $TIME -ge 1 ]] || { echo "fuzz.sh: --time must be a positive integer, got '$TIME'" >&2; exit 2; }
[[ $JOBS =~ ^[0-9]+$ && $JOBS -ge 1 ]] || { echo "fuzz.sh: --jobs must be a positive integer, got '$JOBS'" >&2; exit 2; }
((${#targets[@]})) || targets=("${ALL[@]}")

BUILD=${BUILD:-build-fuzz}
CXX=${CXX:-clang++}
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

# Input size limits: whole files for the loaders, a few KB of text, a batch of ids and masks.
max_len() {
  case $1 in
    safetensors) echo 4096 ;;
    config) echo 4096 ;;
    vocab) echo 8192 ;;
    tokenizer) echo 4096 ;;
    forward) echo 1200 ;;
  esac
}

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$CXX" -DBC1S_FUZZ=ON \
  -DBC1S_BUILD_BENCH=OFF -DBC1S_BUILD_EXAMPLES=OFF -DBC1S_TEST_AREAS=fuzz -DBC1S_SANITIZE= >/dev/null
# Every target (the build's only executables) in parallel, or the ones named, one at a time.
if ((${#targets[@]} == ${#ALL[@]})); then
  cmake --build "$BUILD" -j"$(nproc)"
else
  cmake --build "$BUILD" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
fi

mkdir -p "$BUILD/logs" "$BUILD/corpus"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1
  local corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  cp -f tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  local rc=0
  "$BUILD/tests/fuzz/fuzz_$t" "$corpus" -max_total_time="$TIME" -max_len="$(max_len "$t")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/$t-" \
    >"$BUILD/logs/$t.log" 2>&1 || rc=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  if [ "$rc" = 0 ]; then
    printf 'fuzz_%-12s ok      %10s runs in %ss, corpus %s files\n' "$t" "$execs" "$TIME" \
      "$(find "$corpus" -type f | wc -l)"
  else
    printf 'fuzz_%-12s FAILED  (exit %s) after %s runs; see %s and %s\n' "$t" "$rc" "$execs" \
      "$BUILD/logs/$t.log" "$(ls "$BUILD/$t"-* 2>/dev/null | tr '\n' ' ')"
    grep -m3 -E 'ERROR:|fuzz invariant|runtime error|deadly signal' "$BUILD/logs/$t.log" || true
  fi
  return "$rc"
}

echo "fuzzing ${targets[*]} for ${TIME}s each, $JOBS at a time"
failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  names+=("$t")
  if ((${#pids[@]} >= JOBS)); then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
if ((failed)); then
  echo "fuzz.sh: a target found a problem (inputs in $BUILD/, logs in $BUILD/logs/)" >&2
  exit 1
fi
echo "fuzz.sh: no crash, no invariant violation, no leak, no timeout"
