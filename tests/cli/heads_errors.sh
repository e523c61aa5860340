# The folder-driven tools refuse what they cannot run with one line naming the folder and what to
# use instead, exit status 1 for a folder and 2 for a command line: an unsupported model_type, a
# token classifier given to bc1s-classify, an encoder without a classifier given to
# bc1s-classify, bc1s-rerank and bc1s-ner, a three-label classifier given to bc1s-rerank and
# bc1s-ner, a missing --query, --max-length over the position table, a bad --precision.
#   heads_errors.sh <bc1s-classify> <bc1s-embed> <bc1s-rerank> <bc1s-ner> <tests/data/heads>
source "$(dirname "$0")/common.sh"
CLASSIFY=$1 EMBED=$2 RERANK=$3 NER=$4 HEADS=$5
[ -f "$HEADS/bert_seqcls3/model.safetensors" ] || skip "$HEADS: no fixtures"

# A RoBERTa config.json (in a copy of a fixture): refused by the library before any weight is
# read, by every tool, naming the file and the field.
cp -r "$HEADS/bert_seqcls3" "$TMP/roberta"
sed -i 's/"model_type": *"bert"/"model_type": "roberta"/' "$TMP/roberta/config.json"
grep -q '"model_type": "roberta"' "$TMP/roberta/config.json" || fail "could not edit the copy"
printf 'x\n' >"$TMP/roberta_c.in"
run roberta_c "$CLASSIFY" --model "$TMP/roberta" --threads 2
expect_error roberta_c 1 "$TMP/roberta/config.json" "model_type" "roberta"
run roberta_e "$EMBED" --model "$TMP/roberta" --threads 2 "x"
expect_error roberta_e 1 "$TMP/roberta/config.json" "model_type" "roberta"
run roberta_r "$RERANK" --model "$TMP/roberta" --threads 2 --query q "x"
expect_error roberta_r 1 "$TMP/roberta/config.json" "model_type" "roberta"
printf 'x\n' >"$TMP/roberta_n.in"
run roberta_n "$NER" --model "$TMP/roberta" --threads 2
expect_error roberta_n 1 "$TMP/roberta/config.json" "model_type" "roberta"

# Heads the tool does not take.
printf 'John lives in Paris.\n' >"$TMP/tok_c.in"
run tok_c "$CLASSIFY" --model "$HEADS/bert_ner" --threads 2
expect_error tok_c 1 "$HEADS/bert_ner: is a token-classification model" "use bc1s-ner"
printf 'hello\n' >"$TMP/enc_c.in"
run enc_c "$CLASSIFY" --model "$HEADS/bge_like_cls" --threads 2
expect_error enc_c 1 "$HEADS/bge_like_cls: has no classification head" "use bc1s-embed"
run enc_r "$RERANK" --model "$HEADS/bge_like_cls" --threads 2 --query "a question" "a passage"
expect_error enc_r 1 "$HEADS/bge_like_cls: has no classification head" "cross-encoder"
run three_r "$RERANK" --model "$HEADS/bert_seqcls3" --threads 2 --query "a question" "a passage"
expect_error three_r 1 "$HEADS/bert_seqcls3: a sequence classifier with 3 labels" "num_labels 1" \
  "bc1s-classify --pairs"
printf 'hello\n' >"$TMP/enc_n.in"
run enc_n "$NER" --model "$HEADS/bge_like_cls" --threads 2
expect_error enc_n 1 "$HEADS/bge_like_cls: has no classification head" "token classifier"
printf 'hello\n' >"$TMP/seq_n.in"
run seq_n "$NER" --model "$HEADS/bert_seqcls3" --threads 2
expect_error seq_n 1 "$HEADS/bert_seqcls3: is a sequence-classification model" "use bc1s-classify"

# Command lines.
run noquery "$RERANK" --model "$HEADS/cross_encoder" --threads 2 "a passage"
expect_error noquery 2 "--query TEXT is required" "--help"
run emptyquery "$RERANK" --model "$HEADS/cross_encoder" --query "" "a passage"
expect_error emptyquery 2 "--query is empty"
run nomodel_r "$RERANK" --query "q" "a passage"
expect_error nomodel_r 2 "--model DIR is required"
run nomodel_n "$NER" --json
expect_error nomodel_n 2 "--model DIR is required"
run long_c "$CLASSIFY" --model "$HEADS/bert_seqcls3" --threads 2 --max-length 65
expect_error long_c 2 "--max-length expects an integer in [3, 64]" "'65'"
run long_r "$RERANK" --model "$HEADS/cross_encoder" --query q --max-length 100 "x"
expect_error long_r 2 "--max-length expects an integer in [3, 64]" "'100'"
run long_n "$NER" --model "$HEADS/bert_ner" --max-length 65
expect_error long_n 2 "--max-length expects an integer in [3, 64]" "'65'"
run prec_r "$RERANK" --model "$HEADS/cross_encoder" --query q --precision fp8 "x"
expect_error prec_r 2 "--precision expects fp16, bf16, int8 or fp32" "'fp8'"
run prec_n "$NER" --model "$HEADS/bert_ner" --precision int4
expect_error prec_n 2 "--precision" "'int4'"
run unknown_n "$NER" --model "$HEADS/bert_ner" --frobnicate
expect_error unknown_n 2 "unknown option '--frobnicate'"
run nodir_r "$RERANK" --model "$TMP/nowhere" --query q "x"
expect_error nodir_r 1 "$TMP/nowhere: no such model folder"
run nodir_n "$NER" --model "$TMP/nowhere"
expect_error nodir_n 1 "$TMP/nowhere: no such model folder"
run noinput_n "$NER" --model "$HEADS/bert_ner" --input "$TMP/missing.txt"
expect_error noinput_n 1 "$TMP/missing.txt" "cannot open"
run noinput_r "$RERANK" --model "$HEADS/cross_encoder" --query q --input "$TMP/missing.txt"
expect_error noinput_r 1 "$TMP/missing.txt" "cannot open"
run badquery "$RERANK" --model "$HEADS/cross_encoder" --query $'\xff' "x"
expect_error badquery 2 "--query" "UTF-8"
for t in "$RERANK" "$NER"; do
  run help "$t" --help
  [ "$RC" = 0 ] || fail "$t --help: exit status $RC"
  grep -q "^usage: $(basename "$t")" "$TMP/help.out" || fail "$t --help: no usage line"
  grep -qi 'exit status' "$TMP/help.out" || fail "$t --help does not document the exit status"
done
echo PASS
