# bc1s-classify: fp32 and fp16 weights give the same label on a decisive sentence, with close
# probabilities; fp16 is the default.
#   classify_precision.sh <bc1s-classify> <vocab.txt>
source "$(dirname "$0")/common.sh"
CLASSIFY=$1 VOCAB=$2
[ -f "$VOCAB" ] || skip "$VOCAB not found"
MODEL=(--synthetic 7 --vocab "$VOCAB" --threads 2 --max-length 64 --json)

# P(NEGATIVE) is about 0.71 with --synthetic 7: far from 0.5 next to fp16 rounding.
echo "in exactly 89 minutes , most of which passed as slowly as if i 'd been sitting naked on an igloo , formula 51 sank from quirky to jerky to utter turkey ." >"$TMP/s.in"
for p in fp16 fp32 default; do
  cp "$TMP/s.in" "$TMP/$p.in"
  if [ $p = default ]; then run $p "$CLASSIFY" "${MODEL[@]}"; else run $p "$CLASSIFY" "${MODEL[@]}" --precision $p; fi
  [ "$RC" = 0 ] || fail "$p: exit status $RC"
  check_json_lines "$TMP/$p.out" 1
done
cmp -s "$TMP/fp16.out" "$TMP/default.out" || fail "the default is not fp16"
cmp -s "$TMP/fp16.out" "$TMP/fp32.out" && fail "fp16 and fp32 give bit-identical logits (fp16 not used?)"
p16=$(sed -E 's/.*"probabilities":\[([^],]+),.*/\1/' "$TMP/fp16.out")
p32=$(sed -E 's/.*"probabilities":\[([^],]+),.*/\1/' "$TMP/fp32.out")
echo "P(label 0): fp16 $p16, fp32 $p32"
awk -v a="$p16" -v b="$p32" 'BEGIN {
  if (a - 0.5 < 0.15 && 0.5 - a < 0.15) { print "not a decisive sentence for this seed"; exit 1 }
  d = a - b; if (d < 0) d = -d
  if (d > 0.01) { print "fp16 and fp32 probabilities differ by " d; exit 1 }
}' || fail "fp16 vs fp32"
label() { sed -E 's/.*"label":"([A-Z]+)".*/\1/' "$1"; }
[ "$(label "$TMP/fp16.out")" = "$(label "$TMP/fp32.out")" ] || fail "fp16 and fp32 labels differ"
echo PASS
