#!/usr/bin/env python3
"""Writes the golden token ids for tests/text/tokenizer_test.cpp.

Reference: Hugging Face transformers' slow (pure Python) BertTokenizer, loaded the way users do
(`BertTokenizer.from_pretrained(<model folder>)`, i.e. vocab.txt + tokenizer_config.json with
do_lower_case=True). The fast (Rust) tokenizer is run too and every disagreement is reported;
the golden ids are always the slow tokenizer's.

Setup (no torch needed; use Python 3.12, whose unicodedata is Unicode 15.0 like utf8proc 2.8):
    python3.12 -m venv .venv-tok
    .venv-tok/bin/pip install -r tools/requirements-tokenizer.txt
    .venv-tok/bin/python tools/make_tokenizer_golden.py

Output (tests/data/tokenizer/), plain text, one line per input, ids space-separated, with
[CLS] first and [SEP] last:
    sst2_dev.ids     872 sentences of sst2/dev.tsv
    sst2_test.ids    1821 sentences of sst2/test.tsv
    stress.txt       the stress inputs: hex of the UTF-8 bytes, a tab, then ascii() of the text
    stress.ids       ids of stress.txt, do_lower_case=True
    stress_cased.ids ids of stress.txt, do_lower_case=False (same vocab)
    dev_trunc16.ids  first 100 dev sentences, max_length=16, truncation, padding to 16:
                     ids, a tab, then the attention mask
    VERSIONS         the versions that wrote these files
"""

import argparse
import logging
import os
import platform
import sys
import unicodedata
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def read_tsv_sentences(path, column):
    """Sentences of an SST-2 tsv, exactly as the C++ test reads them: split on \\n, skip the
    header, field `column` of the tab-separated fields (0 = first, -1 = last)."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.split("\t")[column] for line in lines[1:]]


def stress_inputs():
    long_a = "a" * 101
    s = [
        "",
        " ",
        " \t\n  \r\n ",
        "\u3000\u00a0\u2003",
        "Hello, World!",
        "don't stop-believing... U.S.A. e-mail C++ 3.14 #hashtag @user",
        "http://example.com/path?x=1&y=2#frag",
        "$100 ^caret^ `tick` ~tilde~ |pipe| {brace} <angle> \\back\\",
        "!!!???... --- ''' \"\"\" ((( )))",
        "\u2026 \u201cquoted\u201d \u2018single\u2019 \u00abguillemets\u00bb \u00bfqu\u00e9? \u00a1hola! \u2014dash\u2013",
        "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m fa\u00e7ade co\u00f6perate",
        "\u00c0\u00c9\u00ce\u00d5\u00dc \u00e0\u00e9\u00ee\u00f5\u00fc \u00d1\u00f1 \u00c7\u00e7",
        "e\u0301 a\u0300\u0323 o\u0308\u0304 \u0301alone \u0301",
        "Z\u0324\u0354\u0367\u0311\u0313a\u0308\u0356\u032d\u0308\u0307l\u036e\u0312\u036bg\u030c\u0317\u035a\u031ao\u0319\u0314\u036e\u0307\u0350\u0307",
        "\u0130stanbul \u0131\u0131 \u0130I Diyarbak\u0131r D\u0130YARBAKIR",
        "Stra\u00dfe STRASSE \u1e9e gro\u00df",
        "\u039f\u0394\u039f\u03a3 \u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2 \u03c2 \u03a3\u0391\u03a3.",
        "\u4e2d\u6587\u5b57\u7b26\u6d4b\u8bd5",
        "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8\u3002hello\u4e16\u754cworld",
        "\U00020000\U00020001 \U0002a700 \U0002b820 \U00030000",
        "\uf900\uf901 \U0002f800 compat",
        "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c \u30ab\u30bf\u30ab\u30ca \uff76\uff80\uff76\uff85",
        "\uc548\ub155\ud558\uc138\uc694 \ud55c\uad6d\uc5b4",
        "\u110b\u1161\u11ab\u1102\u1167\u11bc",  # decomposed Hangul jamo, composed by NFC
        "I \u2764\ufe0f NY \U0001f600\U0001f44d\U0001f3fd",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family",
        "\U0001f1fa\U0001f1f8 \U0001f3f3\ufe0f\u200d\U0001f308 1\ufe0f\u20e3",
        "\U0001fae8 shaking face (Unicode 15.0)",
        "a\x00b\x01c\x7fd\x1b[0m e\x0bf\x0cg\x85h",
        "zero\u200bwidth\u200cnon\u200djoiner\u2060wj\ufeffbom",
        "co\u00adoperate soft\u00ad hy\u00adphen",
        "a\tb\nc\r\nd\re",
        "a\u00a0b\u2003c\u3000d\u2028e\u2029f\u1680g\u202fh\u205fi",
        "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
        "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
        "\u200fright\u200e \u202eabc\u202c",
        "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 \u0928\u092e\u0938\u094d\u0924\u0947 Ti\u1ebfng Vi\u1ec7t",
        "\uff21\uff22\uff23\uff11\uff12\uff13 \U0001d407\U0001d41e\U0001d425\U0001d425\U0001d428 \ufb01 \u216b x\u00b2 \u00bd",
        "\u2126hm \u212bngstrom \u01c5 \u01c4",
        "\ue000 private \uffff nonchar \ufffd replacement",
        "\u2ffc unassigned in 15.0",
        long_a,
        "a" * 100,
        "b" * 99 + "\u00e9",
        "\u00e9" * 100,
        "\u00e9" * 101,
        "e\u0301" * 100,
        "a" * 150 + "." + "b" * 50,
        "supercalifragilisticexpialidocious antidisestablishmentarianism",
        "xyzzyqwv zzzzzzzzzzzzzzzzzzzz qqqqqqqqqqqq",
        "[CLS] hello [SEP]",
        "[UNK]",
        "[cls] [Sep] [unk]",
        "hello[SEP]world",
        "[MASK]ed [PAD][PAD]",
        "[CL\u200bS] [[CLS]] [UNK]unknown[UNK]",
        "[CLS]",
        "the [MASK] sat on the mat",
        "it 's a charming and often affecting journey . ",
        "UPPER lower MiXeD 123 4,567.89",
    ]
    return s


def ids_line(ids):
    return " ".join(str(i) for i in ids)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="/work/shared/data/distilbert-sst2", help="folder with vocab.txt")
    p.add_argument("--sst2", default="/work/shared/data/sst2", help="folder with dev.tsv and test.tsv")
    p.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "tokenizer"))
    args = p.parse_args()

    logging.getLogger("transformers").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    import tokenizers
    import transformers
    from transformers import BertTokenizer, BertTokenizerFast

    transformers.logging.set_verbosity_error()
    slow = BertTokenizer.from_pretrained(args.model)
    fast = BertTokenizerFast.from_pretrained(args.model)
    slow_cased = BertTokenizer(os.path.join(args.model, "vocab.txt"), do_lower_case=False)
    fast_cased = BertTokenizerFast(os.path.join(args.model, "vocab.txt"), do_lower_case=False)
    assert slow.do_lower_case and slow.model_max_length == 512

    def enc(tok, text, **kw):
        return tok(text, add_special_tokens=True, **kw)["input_ids"]

    os.makedirs(args.out, exist_ok=True)
    disagreements = []

    def write(name, texts, s_tok, f_tok):
        lines = []
        for i, t in enumerate(texts):
            a = enc(s_tok, t)
            b = enc(f_tok, t)
            if a != b:
                disagreements.append((name, i, t, s_tok.convert_ids_to_tokens(a), f_tok.convert_ids_to_tokens(b)))
            lines.append(ids_line(a))
        with open(os.path.join(args.out, name), "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{name}: {len(lines)} lines")

    dev = read_tsv_sentences(os.path.join(args.sst2, "dev.tsv"), 0)
    test = read_tsv_sentences(os.path.join(args.sst2, "test.tsv"), 1)
    assert len(dev) == 872 and len(test) == 1821, (len(dev), len(test))
    write("sst2_dev.ids", dev, slow, fast)
    write("sst2_test.ids", test, slow, fast)

    stress = stress_inputs()
    for t in stress:
        assert "\n" not in ascii(t)
    with open(os.path.join(args.out, "stress.txt"), "w", encoding="ascii", newline="\n") as f:
        for t in stress:
            f.write(t.encode("utf-8").hex() + "\t" + ascii(t) + "\n")
    write("stress.ids", stress, slow, fast)
    write("stress_cased.ids", stress, slow_cased, fast_cased)

    with open(os.path.join(args.out, "dev_trunc16.ids"), "w", encoding="ascii", newline="\n") as f:
        for t in dev[:100]:
            e = slow(t, max_length=16, truncation=True, padding="max_length")
            g = fast(t, max_length=16, truncation=True, padding="max_length")
            assert e["input_ids"] == g["input_ids"] and e["attention_mask"] == g["attention_mask"]
            f.write(ids_line(e["input_ids"]) + "\t" + ids_line(e["attention_mask"]) + "\n")
    print("dev_trunc16.ids: 100 lines")

    with open(os.path.join(args.out, "VERSIONS"), "w", encoding="ascii", newline="\n") as f:
        f.write(f"python {platform.python_version()} (unicodedata {unicodedata.unidata_version})\n")
        f.write(f"transformers {transformers.__version__} (slow BertTokenizer is the reference)\n")
        f.write(f"tokenizers {tokenizers.__version__}\n")
        f.write(f"slow/fast disagreements: {len(disagreements)} (see tools/make_tokenizer_golden.py output)\n")

    print(f"slow vs fast disagreements: {len(disagreements)}")
    for name, i, t, a, b in disagreements:
        print(f"  {name} line {i + 1}: {ascii(t)}\n    slow: {a}\n    fast: {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
