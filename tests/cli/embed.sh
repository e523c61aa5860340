# bc1s-embed on seeded synthetic MiniLM-shaped weights: JSON lines of unit vectors, the
# similarity matrix, batching, rejected lines, command-line errors and a refused pooling config;
# on the real all-MiniLM-L6-v2 too when its folder exists (models/ or BC1S_MINILM_DIR), also with
# its pooling changed (CLS without Normalize, max with Normalize) in a copy of the folder.
#   embed.sh <bc1s-embed> <vocab.txt> <repository root>
source "$(dirname "$0")/common.sh"
EMBED=$1 VOCAB=$2 ROOT=$3
[ -f "$VOCAB" ] || skip "$VOCAB not found"
MODEL=(--synthetic 3 --vocab "$VOCAB" --threads 2)

# check_unit_vectors <file> <count>: <count> JSON lines, each with 384 numbers of L2 norm 1.
check_unit_vectors() {
  [ "$(wc -l <"$1")" = "$2" ] || fail "$1: $(wc -l <"$1") lines, expected $2"
  sed -E 's/.*"embedding":\[([^]]*)\].*/\1/' "$1" | awk -F, '
    { s = 0; for (i = 1; i <= NF; i++) s += $i * $i
      if (NF != 384) { print "line " NR ": " NF " values"; bad = 1 }
      if (s < 0.9999 || s > 1.0001) { print "line " NR ": squared norm " s; bad = 1 } }
    END { exit bad }' || fail "$1: not unit vectors of 384"
}

run args "$EMBED" "${MODEL[@]}" "a first sentence" "the second one, longer than the first" "3"
[ "$RC" = 0 ] || fail "args: exit status $RC"
check_unit_vectors "$TMP/args.out" 3
grep -q '"text":"the second one, longer than the first"' "$TMP/args.out" || fail "args: texts"

# Batched and one at a time: the same vectors (to 1e-5), in input order.
printf '%s\n' "one" "two words" "a sentence of several more words than the others" "four" \
  "five and six" >"$TMP/b1.in"
cp "$TMP/b1.in" "$TMP/b8.in"
run b1 "$EMBED" "${MODEL[@]}" --batch 1
run b8 "$EMBED" "${MODEL[@]}" --batch 8
[ "$RC" = 0 ] || fail "b8: exit status $RC"
check_unit_vectors "$TMP/b8.out" 5
sed -E 's/.*"text":"([^"]*)".*/\1/' "$TMP/b8.out" | diff - "$TMP/b8.in" || fail "b8: not in input order"
paste -d'|' <(sed -E 's/.*\[(.*)\].*/\1/' "$TMP/b1.out") <(sed -E 's/.*\[(.*)\].*/\1/' "$TMP/b8.out") |
  awk -F'|' '{ n = split($1, a, ","); split($2, b, ",")
               for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > 1e-5) { print NR, i, d; bad = 1 } } }
             END { exit bad }' || fail "batch 8 differs from batch 1"

# --similarity: a symmetric matrix with 1 on the diagonal.
run sim "$EMBED" "${MODEL[@]}" --similarity "red apples" "green apples" "a train timetable"
[ "$RC" = 0 ] || fail "sim: exit status $RC"
grep -q '^\[3\] a train timetable$' "$TMP/sim.out" || fail "sim: sentences not listed"
grep -E '^ +\[[0-9]\] +-?[0-9]' "$TMP/sim.out" | awk '{ for (j = 2; j <= NF; j++) m[NR, j - 1] = $j }
  END { for (i = 1; i <= 3; i++) { d = m[i, i] - 1; if (d < 0) d = -d; if (d > 1e-4) exit 1
          for (j = 1; j <= 3; j++) if (m[i, j] != m[j, i]) exit 1 }
        exit NR != 3 }' || fail "sim: not a symmetric 3x3 matrix with unit diagonal"

# A bad line is named; the others are still embedded; exit status 1.
printf 'fine\n\nalso fine\n\xff\n' >"$TMP/bad.in"
run bad "$EMBED" "${MODEL[@]}"
[ "$RC" = 1 ] || fail "bad: exit status $RC, expected 1"
check_unit_vectors "$TMP/bad.out" 2
grep -q 'stdin line 2: empty line' "$TMP/bad.err" || fail "bad: empty line not named"
grep -q 'stdin line 4: .*invalid UTF-8' "$TMP/bad.err" || fail "bad: invalid UTF-8 not named"

run one "$EMBED" "${MODEL[@]}" --similarity "only one"
expect_error one 2 "--similarity needs at least two sentences"
run unknown "$EMBED" "${MODEL[@]}" --frobnicate
expect_error unknown 2 "unknown option '--frobnicate'"
run nomodel "$EMBED" --model "$TMP/nowhere" "x"
expect_error nomodel 1 "$TMP/nowhere: no such model folder"

# write_pooling <dir> <cls> <mean> <max> <normalize>: modules.json and 1_Pooling/config.json.
write_pooling() {
  local dir=$1 norm=""
  mkdir -p "$dir/1_Pooling"
  [ "$5" = true ] && norm=',{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}'
  printf '[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}%s]\n' \
    "$norm" >"$dir/modules.json"
  printf '{"word_embedding_dimension":384,"pooling_mode_cls_token":%s,"pooling_mode_mean_tokens":%s,"pooling_mode_max_tokens":%s,"pooling_mode_mean_sqrt_len_tokens":false}\n' \
    "$2" "$3" "$4" >"$dir/1_Pooling/config.json"
}

# An unsupported pooling config is refused before the weights are read, naming file and field.
mkdir -p "$TMP/sqrtlen"
write_pooling "$TMP/sqrtlen" false false false true
sed -i 's/"pooling_mode_mean_sqrt_len_tokens":false/"pooling_mode_mean_sqrt_len_tokens":true/' \
  "$TMP/sqrtlen/1_Pooling/config.json"
cp "$VOCAB" "$TMP/sqrtlen/vocab.txt"
run sqrtlen "$EMBED" --model "$TMP/sqrtlen" "x"
expect_error sqrtlen 1 "$TMP/sqrtlen/1_Pooling/config.json: field \"pooling_mode_mean_sqrt_len_tokens\" is true"
mkdir -p "$TMP/twomodes"
write_pooling "$TMP/twomodes" true true false true
cp "$VOCAB" "$TMP/twomodes/vocab.txt"
run twomodes "$EMBED" --model "$TMP/twomodes" "x"
expect_error twomodes 1 "pooling_mode_cls_token and pooling_mode_mean_tokens are both true"
# A Pooling config whose word_embedding_dimension is not the model's width (config.json's, read
# before the weights): a copy of a fixture folder of width 24.
FIXTURE=$ROOT/tests/data/heads/bert_mean_nonorm
if [ -f "$FIXTURE/config.json" ]; then
  cp -r "$FIXTURE" "$TMP/widedim"
  sed -i 's/"word_embedding_dimension": *24/"word_embedding_dimension": 768/' \
    "$TMP/widedim/1_Pooling/config.json"
  grep -q '"word_embedding_dimension": 768' "$TMP/widedim/1_Pooling/config.json" ||
    fail "widedim: could not edit $TMP/widedim/1_Pooling/config.json"
  run widedim "$EMBED" --model "$TMP/widedim" "x"
  expect_error widedim 1 "1_Pooling/config.json: field \"word_embedding_dimension\" is 768 but the model's width is 24"
fi

# squared_norms <file>: the squared L2 norm of each line's embedding, one per line.
squared_norms() {
  sed -E 's/.*"embedding":\[([^]]*)\].*/\1/' "$1" |
    awk -F, '{ s = 0; for (i = 1; i <= NF; i++) s += $i * $i; print s }'
}

# The real model: related sentences score higher than unrelated ones.
REAL=${BC1S_MINILM_DIR:-$ROOT/models/all-MiniLM-L6-v2}
if [ -f "$REAL/model.safetensors" ]; then
  run real "$EMBED" --model "$REAL" --similarity "A man is eating food." \
    "A man is eating a piece of bread." "The stock market fell sharply today."
  [ "$RC" = 0 ] || fail "real: exit status $RC"
  awk '$1 == "[1]" && NF == 4 { exit !($3 > 0.6 && $4 < 0.3) }' "$TMP/real.out" ||
    fail "real: eating food ~ eating bread should be > 0.6, ~ stock market < 0.3"

  # The folder's pooling config, in a copy with the weights linked: the default (mean, then
  # Normalize), CLS without Normalize (not unit vectors, and not the mean's) and max with
  # Normalize (unit vectors, neither of the others).
  SENT=("A man is eating food." "The stock market fell sharply today.")
  run pool_mean "$EMBED" --model "$REAL" --verbose "${SENT[@]}"
  [ "$RC" = 0 ] || fail "pool_mean: exit status $RC"
  grep -q 'pooling: mean, then L2-normalised' "$TMP/pool_mean.err" || fail "pool_mean: --verbose"
  check_unit_vectors "$TMP/pool_mean.out" 2
  for mode in cls max; do
    mkdir -p "$TMP/$mode"
    for f in config.json model.safetensors vocab.txt tokenizer_config.json sentence_bert_config.json; do
      [ -e "$REAL/$f" ] && ln -s "$(cd "$REAL" && pwd)/$f" "$TMP/$mode/$f"
    done
  done
  write_pooling "$TMP/cls" true false false false
  write_pooling "$TMP/max" false false true true
  run pool_cls "$EMBED" --model "$TMP/cls" --verbose "${SENT[@]}"
  [ "$RC" = 0 ] || fail "pool_cls: exit status $RC"
  grep -q "pooling: cls, not normalised ($TMP/cls/1_Pooling/config.json)" "$TMP/pool_cls.err" ||
    fail "pool_cls: --verbose does not name the pooling"
  squared_norms "$TMP/pool_cls.out" | awk '$1 > 0.99 && $1 < 1.01 { bad = 1 } END { exit bad || NR != 2 }' ||
    fail "pool_cls: expected two embeddings of non-unit norm"
  run pool_max "$EMBED" --model "$TMP/max" --verbose "${SENT[@]}"
  [ "$RC" = 0 ] || fail "pool_max: exit status $RC"
  grep -q 'pooling: max, then L2-normalised' "$TMP/pool_max.err" || fail "pool_max: --verbose"
  check_unit_vectors "$TMP/pool_max.out" 2
  cmp -s "$TMP/pool_mean.out" "$TMP/pool_cls.out" && fail "pool_cls: same output as mean pooling"
  cmp -s "$TMP/pool_mean.out" "$TMP/pool_max.out" && fail "pool_max: same output as mean pooling"
  cmp -s "$TMP/pool_cls.out" "$TMP/pool_max.out" && fail "pool_max: same output as cls pooling"
else
  echo "(no all-MiniLM-L6-v2 in $REAL: real-model check skipped)"
fi
echo PASS
