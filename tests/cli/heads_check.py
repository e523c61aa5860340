"""Checks a command-line tool's JSON output against a tests/data/heads fixture's expected.json
(the transformers / sentence-transformers reference outputs). Standard library only.

  heads_check.py inputs   EXPECTED [--pairs | --field F]  the inputs, one per line: the single
                                                          texts, the pairs as TSV, or field F
  heads_check.py classify EXPECTED OUT [--pairs] [--key K] [--tol T]
  heads_check.py embed    EXPECTED OUT [--key K] [--cos C]
  heads_check.py rerank   EXPECTED OUT [--tol T]
  heads_check.py ner      EXPECTED OUT [--tol T]

Exit status 0 when everything matches; otherwise each mismatch is printed and the status is 1.
"""
import json
import math
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


bad = []


def check(cond, msg):
    if not cond:
        bad.append(msg)


def inputs(exp):
    pairs = "--pairs" in sys.argv
    field = arg("--field", None)
    for item in exp["inputs"]:
        if field is not None:
            print(item[field])
            continue
        if pairs and "text_pair" in item:
            print(item["text"] + "\t" + item["text_pair"])
        elif not pairs and "text_pair" not in item:
            print(item["text"])


def classify(exp, out):
    pairs = "--pairs" in sys.argv
    key = arg("--key", "logits")
    tol = float(arg("--tol", "1e-3"))
    items = [i for i in exp["inputs"] if ("text_pair" in i) == pairs]
    labels = exp["labels"]
    multi = exp["head"] == "multi_label_classification"
    check(len(out) == len(items), f"{len(out)} output lines for {len(items)} inputs")
    for n, (i, o) in enumerate(zip(items, out), 1):
        where = f"line {n} ({i['text']!r})"
        check(o["text"] == i["text"], f"{where}: text {o['text']!r}")
        if pairs:
            check(o.get("text_pair") == i["text_pair"], f"{where}: text_pair {o.get('text_pair')!r}")
        want = i[key]
        check(len(o["logits"]) == len(want), f"{where}: {len(o['logits'])} logits, expected {len(want)}")
        for k, (a, b) in enumerate(zip(o["logits"], want)):
            check(abs(a - b) <= tol, f"{where}: logit {k} ({labels[k]}) {a} vs {b} ({key})")
        if multi:
            probs = [1 / (1 + math.exp(-x)) for x in want]
        else:
            m = max(want)
            e = [math.exp(x - m) for x in want]
            probs = [x / sum(e) for x in e]
        for k, (a, b) in enumerate(zip(o["probabilities"], probs)):
            check(abs(a - b) <= tol, f"{where}: probability {k} {a} vs {b}")
        best = max(range(len(probs)), key=lambda k: probs[k])
        check(o["label"] == labels[best], f"{where}: label {o['label']!r}, expected {labels[best]!r}")
        check(abs(o["score"] - probs[best]) <= tol, f"{where}: score {o['score']} vs {probs[best]}")
        if multi:
            above = [labels[k] for k, p in enumerate(probs) if p > 0.5]
            check(o.get("labels") == above, f"{where}: labels {o.get('labels')}, expected {above}")
        else:
            check("labels" not in o, f"{where}: a `labels` key for a single-label model")


def embed(exp, out):
    key = arg("--key", "embedding")
    min_cos = float(arg("--cos", "0.9999"))
    items = exp["inputs"]
    check(len(out) == len(items), f"{len(out)} output lines for {len(items)} inputs")
    for n, (i, o) in enumerate(zip(items, out), 1):
        a, b = o["embedding"], i[key]
        check(o["text"] == i["text"], f"line {n}: text {o['text']!r}")
        check(len(a) == len(b), f"line {n}: {len(a)} values, expected {len(b)}")
        dot = sum(x * y for x, y in zip(a, b))
        na = math.sqrt(sum(x * x for x in a))
        nb = math.sqrt(sum(x * x for x in b))
        cos = dot / max(na * nb, 1e-30)
        check(cos >= min_cos, f"line {n}: cosine {cos} < {min_cos}")
        check(abs(na - nb) <= 1e-3 * max(nb, 1.0), f"line {n}: norm {na} vs {nb}")
        print(f"line {n}: cosine {cos:.9f}, norm {na:.6f} (expected {nb:.6f})")


def rerank(exp, out):
    tol = float(arg("--tol", "1e-4"))
    items = exp["inputs"]
    check(len(out) == len(items), f"{len(out)} output lines for {len(items)} passages")
    order = sorted(range(len(items)), key=lambda k: -items[k]["score"])
    for r, o in enumerate(out, 1):
        k = o["index"]
        i = items[k]
        check(o["rank"] == r, f"rank {o['rank']} on line {r}")
        check(k == order[r - 1], f"rank {r}: passage {k}, expected {order[r - 1]}")
        check(o["passage"] == i["text_pair"], f"rank {r}: passage text {o['passage']!r}")
        check(abs(o["score"] - i["score"]) <= tol, f"rank {r}: score {o['score']} vs {i['score']}")
        check(abs(o["logit"] - i["logits"][0]) <= 10 * tol, f"rank {r}: logit {o['logit']} vs {i['logits'][0]}")


def ner(exp, out):
    tol = float(arg("--tol", "1e-3"))
    items = exp["inputs"]
    check(len(out) == len(items), f"{len(out)} output lines for {len(items)} inputs")
    total = 0
    for n, (i, o) in enumerate(zip(items, out), 1):
        text = i["text"]
        raw = text.encode("utf-8")
        check(o["text"] == text, f"line {n}: text {o['text']!r}")
        got, want = o["entities"], i["entities"]
        total += len(want)
        check(len(got) == len(want), f"line {n}: {len(got)} entities, expected {len(want)}: {got}")
        for g, w in zip(got, want):
            where = f"line {n}, {w['entity_group']} {w['word']!r}"
            check(g["entity_group"] == w["entity_group"], f"{where}: group {g['entity_group']}")
            check((g["start"], g["end"]) == (w["byte_start"], w["byte_end"]),
                  f"{where}: bytes {g['start']}-{g['end']}, expected {w['byte_start']}-{w['byte_end']}")
            # The word is the original text of the span (the pipeline's is its decoded tokens:
            # "##s" for "s", "cafe" for "café"), the same span in characters.
            check(g["word"] == text[w["start"]:w["end"]],
                  f"{where}: word {g['word']!r}, expected {text[w['start']:w['end']]!r}")
            check(raw[g["start"]:g["end"]].decode("utf-8") == g["word"], f"{where}: word is not its bytes")
            check(abs(g["score"] - w["score"]) <= tol, f"{where}: score {g['score']} vs {w['score']}")
    print(f"{total} entities compared")


def main():
    mode, exp = sys.argv[1], load(sys.argv[2])
    if mode == "inputs":
        inputs(exp)
        return 0
    out = lines(sys.argv[3])
    {"classify": classify, "embed": embed, "rerank": rerank, "ner": ner}[mode](exp, out)
    for b in bad:
        print("MISMATCH:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
