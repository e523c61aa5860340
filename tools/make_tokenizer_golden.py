#!/usr/bin/env python3
"""Writes the golden token ids for tests/text/tokenizer_test.cpp.

Reference: Hugging Face transformers' slow (pure Python) BertTokenizer, loaded the way users do
(`BertTokenizer.from_pretrained(<model folder>)`, i.e. vocab.txt + tokenizer_config.json). The
fast (Rust) tokenizer is run too and every disagreement is reported; the golden ids are always
the slow tokenizer's.

Setup (no torch needed; use Python 3.12, whose unicodedata is Unicode 15.0 like utf8proc 2.8):
    python3.12 -m venv .venv-tok
    .venv-tok/bin/pip install -r tools/requirements-tokenizer.txt
    .venv-tok/bin/python tools/make_tokenizer_golden.py [--sets variants,pairs]

--sets picks the groups of files to write (default: all): sst2, stress, trunc, variants, pairs,
offsets.
Only write a group again with a Python whose unicodedata is the Unicode version its inputs
need (stress has characters of Unicode 15.0; variants and pairs have none newer than 14.0).

Output (tests/data/tokenizer/), plain text, one line per input, ids space-separated, with
[CLS] first and [SEP] last:
    sst2_dev.ids     872 sentences of sst2/dev.tsv
    sst2_test.ids    1821 sentences of sst2/test.tsv
    stress.txt       the stress inputs: hex of the UTF-8 bytes, a tab, then ascii() of the text
    stress.ids       ids of stress.txt, do_lower_case=True
    stress_cased.ids ids of stress.txt, do_lower_case=False (same vocab)
    dev_trunc16.ids  first 100 dev sentences, max_length=16, truncation, padding to 16:
                     ids, a tab, then the attention mask
    cased_vocab.txt  a small cased vocabulary (a few hundred pieces, written here)
    variants.txt     inputs of variants.ids, written as stress.txt
    variants.ids     for each tokenizer_config.json setting, a line
                         config <vocab> <do_lower_case> <strip_accents> <tokenize_chinese_chars>
                     (vocab: uncased = the model's vocab.txt, cased = cased_vocab.txt; the
                     options 0, 1 or null), then the ids of every variants.txt input
    pairs.txt        sentence pairs: hex of text_a, a tab, hex of text_b, a tab, ascii() of both
    pairs.ids        one line per pair and setting: vocab (uncased: the model folder, cased:
                     cased_vocab.txt with do_lower_case=False), pair index (0-based),
                     max_length (0: no truncation, no padding; else truncation=longest_first
                     and padding to max_length), ids, attention mask, token type ids; tabs
                     between the fields
    offsets.ids      token-to-word alignment and character spans (encode_options::offsets),
                     from the fast tokenizer (BertTokenizerFast, return_offsets_mapping=True,
                     word_ids()), for every input of variants.txt (all settings), stress.txt
                     (uncased, uncased vocab with do_lower_case=False, cased_vocab.txt),
                     pairs.txt (both vocabs, every max_length), the first 100 SST-2 dev
                     sentences (uncased) and offsets_random.txt (five settings), where the
                     slow and fast tokenizers give the same ids and the text has no character
                     unassigned in this Python's Unicode (those are left out: a later Unicode
                     may assign them). One line each, tab-separated:
                         set  vocab do_lower_case strip_accents tokenize_chinese_chars
                         index  max_length  ids  word_ids  offsets
                     set: variants, stress, sst2_dev, random or pairs; index: 0-based line of the
                     inputs; max_length as in pairs.ids (0 for single texts); word_ids with -1
                     for None; offsets "begin,end" in UTF-8 bytes of the text (of text_a or
                     text_b for a pair, as token_type_ids says), converted from the code-point
                     offsets Hugging Face gives.
    offsets_random.txt  inputs of offsets.ids's set "random", written as stress.txt: random
                     strings (a fixed seed) of pieces chosen to meet every step: accents composed
                     and not, lone marks, CJK, controls, special tokens, punctuation, Hangul jamo
    VERSIONS         the versions that wrote each group of files
"""

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
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


def cased_vocab():
    """A small cased WordPiece vocabulary: the special tokens, every printable ASCII character
    with its ## form, accented and non-Latin letters, and some whole words in several cases."""
    v = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for c in range(33, 127):
        v.append(chr(c))
    for c in range(33, 127):
        if chr(c).isalnum():
            v.append("##" + chr(c))
    letters = "\u00e9\u00c9\u00e8\u00e0\u00ef\u00f6\u00fc\u00f1\u00e7\u00c5\u00e5\u00df\u0131\u0130" \
        "\u03c3\u03c2\u03a3\u03bf\u03b4\u03b1\u039f\u0394\u0391\u03af\u03c5\u03c6"
    for c in letters:
        v.append(c)
        v.append("##" + c)
    v += ["\u0301", "##\u0301", "##\u0307", "##\u0308"]
    words = [
        "Hello", "hello", "HELLO", "World", "world", "WORLD", "the", "The", "cat", "Cat", "sat",
        "on", "mat", "Caf\u00e9", "caf\u00e9", "Cafe", "cafe", "resume", "r\u00e9sum\u00e9",
        "R\u00e9sum\u00e9", "naive", "na\u00efve", "Istanbul", "istanbul", "Stra\u00dfe",
        "strasse", "STRASSE", "un", "##aff", "##able", "New", "York", "new", "york", "Paris",
        "I", "love", "Beijing", "play", "Play", "##ing", "##ed", "##s", "facade", "fa\u00e7ade",
        "Angstrom", "##ngstrom", "##ngstr\u00f6m", "coop", "##erate",
        "\u4e2d", "\u6587", "##\u6587", "\u4e2d\u6587", "\u5317", "\u4eac", "##\u4eac",
        "\u6211", "\u7231", "\u4e16", "\u754c", "##\u754c", "##\u5b57", "##\u7b26",
        "\ud55c", "##\uad6d", "##\uc5b4", "\uc548", "##\ub155",
    ]
    v += words
    seen = set()
    out = []
    for t in v:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def variant_inputs():
    """Inputs for every tokenizer_config.json setting; no character newer than Unicode 14.0."""
    return [
        "",
        " ",
        "Hello, World! HELLO world",
        "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m fa\u00e7ade co\u00f6perate",
        "\u00c0\u00c9\u00ce\u00d5\u00dc \u00e0\u00e9\u00ee\u00f5\u00fc \u00d1\u00f1 \u00c7\u00e7",
        "e\u0301 a\u0300\u0323 o\u0308\u0304 \u0301alone \u0301",
        "Cafe\u0301 CAFE\u0301 cafe\u0301s",
        "\u0130stanbul \u0131\u0131 \u0130I i\u0307",
        "Stra\u00dfe STRASSE \u1e9e gro\u00df",
        "\u039f\u0394\u039f\u03a3 \u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2 \u03c2 \u03a3\u0391\u03a3.",
        "\u4e2d\u6587\u5b57\u7b26\u6d4b\u8bd5",
        "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8\u3002hello\u4e16\u754cworld",
        "\u4e2d\u6587 \u5317\u4eacabc \u6587 I love Beijing \u5317\u4eac",
        "\U00020000\U00020001 \uf900\uf901 compat",
        "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c \u30ab\u30bf\u30ab\u30ca",
        "\uc548\ub155\ud558\uc138\uc694 \ud55c\uad6d\uc5b4",
        "[CLS] hello [SEP]",
        "[CL\u0301S] [CLS\u0301] [C\u0327LS]x",
        "[cls] [Sep] [unk] hello[SEP]World [MASK]ed",
        "Unaffable Playing played PLAYS",
        "The cat sat on the mat.",
        "New York, Paris & Beijing; new york?",
        "\u216b x\u00b2 \u00bd \ufb01 \u2126hm \u212bngstrom \u01c5 \u01c4",
        "a\x00b zero\u200bwidth co\u00adoperate \ue000 private",
        "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 \u0928\u092e\u0938\u094d\u0924\u0947 Ti\u1ebfng Vi\u1ec7t",
        "e\u0301\u0301" * 60,
        "\u00e9" * 100 + " " + "E\u0301" * 101,
    ]


def variant_settings():
    """(vocab, do_lower_case, strip_accents, tokenize_chinese_chars) for variants.ids."""
    out = []
    for vocab in ("uncased", "cased"):
        for lower in (True, False):
            for strip in (None, True, False):
                for chinese in (True, False):
                    out.append((vocab, lower, strip, chinese))
    return out


def pair_inputs():
    """Sentence pairs: lengths equal and unequal, empty sides, special tokens and accents."""
    return [
        ("Hello, World!", "The cat sat on the mat."),
        ("hello", "world"),
        ("", ""),
        ("", "The cat sat on the mat."),
        ("The cat sat on the mat.", ""),
        ("a b c d e f g h", "a b"),
        ("a b", "a b c d e f g h"),
        ("a b c d", "e f g h"),
        ("a b c d e", "f g h i"),
        ("a b c d", "e f g h i"),
        ("one", "a b c d e f g h i j k l m n o p"),
        ("a b c d e f g h i j k l m n o p q", "x"),
        ("Caf\u00e9 na\u00efve", "r\u00e9sum\u00e9 \u4e2d\u6587 New York"),
        ("[CLS] hello [SEP]", "[SEP] world [MASK]"),
        ("\u6211\u7231\u5317\u4eac", "I love Beijing, Paris & New York"),
        ("it 's a charming and often affecting journey . ",
         "unflinchingly bleak and desperate "),
    ]


def pair_max_lengths():
    return (0, 3, 4, 5, 7, 11, 16)


def write_versions(out_dir, group, line):
    """VERSIONS holds one line per group of files ("<group>: ..."); replaces the group's."""
    path = os.path.join(out_dir, "VERSIONS")
    lines = []
    if os.path.exists(path):
        with open(path, encoding="ascii") as f:
            lines = [x for x in f.read().split("\n") if x and not x.startswith(group + ":")]
    lines.append(f"{group}: {line}")
    order = ["sst2", "stress", "trunc", "variants", "pairs", "offsets"]
    lines.sort(key=lambda x: order.index(x.split(":")[0]) if x.split(":")[0] in order else 99)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def utf8_offsets(text):
    """Byte offset in text's UTF-8 of each code-point index 0..len(text)."""
    out = [0]
    for c in text:
        out.append(out[-1] + len(c.encode("utf-8")))
    return out


def newer_unicode_risk(text):
    """Whether text has a character unassigned in this Python's unicodedata (Cn): a later
    Unicode (the C++ side's) may assign it and tokenize it differently."""
    return any(unicodedata.category(c) == "Cn" for c in text)


def offsets_fields(f_tok, enc, texts):
    """word_ids and UTF-8 byte offsets of a fast-tokenizer encoding of texts (one or two)."""
    byte = [utf8_offsets(t) for t in texts]
    words, spans = [], []
    for k, (w, (b, e), seq) in enumerate(zip(enc.word_ids(), enc["offset_mapping"], enc.sequence_ids())):
        words.append(-1 if w is None else w)
        if seq is None:
            assert (b, e) == (0, 0), (texts, k, b, e)
            spans.append((0, 0))
        else:
            spans.append((byte[seq][b], byte[seq][e]))
    return ids_line(words), " ".join(f"{b},{e}" for b, e in spans)


def random_offset_inputs():
    """offsets_random.txt: 200 strings of 0-12 pieces each, from a fixed seed; no character
    newer than Unicode 14.0."""
    import random
    rng = random.Random(20240611)
    parts = [
        "a", "B", "Hello", "world", "unaffable", "the", "e\u0301", "\u00e9", "\u00c9", "\u0301",
        "\u0323\u0300", "a\u0300\u0323", " ", "  ", "\t", "\n", "\u3000", "\u00a0", "\u200b",
        "\x01", "\u00ad", "\u4e2d", "\u6587", "\u5317\u4eac", "[SEP]", "[CLS]", "[UNK]", "[MASK]",
        "[", "]", "'", ",", "!", "-", ".", "\u2026", "\u201c", "\u00bf", "\u0130", "I", "\u00df",
        "\u03a3", "\u03c2", "\U0001F600", "\u2764\ufe0f", "Caf\u00e9", "na\u00efve", "\u00c5",
        "\u212b", "\uff21", "\ufb01", "\u00bd", "\uac00", "\u110b\u1161", "\u11ab",
        "\u0e2a\u0e35", "\u0928\u092e", "Ti\u1ebfng", "x" * 40, "ab" * 30, "\u00e9" * 30,
    ]
    return ["".join(rng.choice(parts) for _ in range(rng.randint(0, 12))) for _ in range(200)]


def write_offsets(args, load, dev):
    """offsets.ids: see the module docstring."""
    from transformers import BertTokenizer, BertTokenizerFast
    import tokenizers
    import transformers

    lines = []
    skipped = {"slow/fast ids differ": 0, "unassigned characters": 0}

    def setting_name(vocab, lower, strip, chinese):
        def opt(x):
            return "null" if x is None else str(int(x))
        return f"{vocab} {opt(lower)} {opt(strip)} {opt(chinese)}"

    tokenizers_cache = {}

    def get(vocab, lower, strip, chinese):
        key = (vocab, lower, strip, chinese)
        if key not in tokenizers_cache:
            if vocab == "uncased" and lower and strip is None and chinese:
                tokenizers_cache[key] = (BertTokenizer.from_pretrained(args.model),
                                         BertTokenizerFast.from_pretrained(args.model))
            else:
                tokenizers_cache[key] = load(vocab, {"do_lower_case": lower, "strip_accents": strip,
                                                     "tokenize_chinese_chars": chinese})
        return tokenizers_cache[key]

    def single(set_name, setting, index, text):
        s_tok, f_tok = get(*setting)
        if newer_unicode_risk(text):
            skipped["unassigned characters"] += 1
            return
        a = s_tok(text)["input_ids"]
        g = f_tok(text, return_offsets_mapping=True)
        if a != g["input_ids"]:
            skipped["slow/fast ids differ"] += 1
            return
        words, spans = offsets_fields(f_tok, g, [text])
        lines.append("\t".join([set_name, setting_name(*setting), str(index), "0", ids_line(a),
                                 words, spans]))

    for setting in variant_settings():
        for i, t in enumerate(variant_inputs()):
            single("variants", setting, i, t)
    for setting in (("uncased", True, None, True), ("uncased", False, None, True),
                    ("cased", False, None, True)):
        for i, t in enumerate(stress_inputs()):
            single("stress", setting, i, t)
    for i, t in enumerate(dev[:100]):
        single("sst2_dev", ("uncased", True, None, True), i, t)
    random_texts = random_offset_inputs()
    with open(os.path.join(args.out, "offsets_random.txt"), "w", encoding="ascii", newline="\n") as f:
        for t in random_texts:
            assert "\n" not in ascii(t)
            f.write(t.encode("utf-8").hex() + "\t" + ascii(t) + "\n")
    for setting in (("uncased", True, None, True), ("uncased", False, None, True),
                    ("uncased", True, False, True), ("cased", False, None, True),
                    ("cased", False, True, False)):
        for i, t in enumerate(random_texts):
            single("random", setting, i, t)
    for setting in (("uncased", True, None, True), ("cased", False, None, True)):
        s_tok, f_tok = get(*setting)
        for i, (a, b) in enumerate(pair_inputs()):
            for m in pair_max_lengths():
                if newer_unicode_risk(a + b):
                    skipped["unassigned characters"] += 1
                    continue
                kw = {} if m == 0 else {"max_length": m, "truncation": "longest_first",
                                        "padding": "max_length"}
                e = s_tok(a, b, **kw)
                g = f_tok(a, b, return_offsets_mapping=True, **kw)
                if e["input_ids"] != g["input_ids"] or e["token_type_ids"] != g["token_type_ids"]:
                    skipped["slow/fast ids differ"] += 1
                    continue
                words, spans = offsets_fields(f_tok, g, [a, b])
                lines.append("\t".join(["pairs", setting_name(*setting), str(i), str(m),
                                         ids_line(e["input_ids"]), words, spans]))
    with open(os.path.join(args.out, "offsets.ids"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    left_out = ", ".join(f"{k} {v}" for k, v in skipped.items())
    print(f"offsets.ids: {len(lines)} lines (left out: {left_out})")
    write_versions(args.out, "offsets",
                   f"offsets.ids offsets_random.txt: python {platform.python_version()} (unicodedata "
                   f"{unicodedata.unidata_version}), transformers {transformers.__version__} "
                   f"(fast BertTokenizerFast is the reference), tokenizers {tokenizers.__version__}, "
                   f"{len(lines)} lines, left out: {left_out}")


def ids_line(ids):
    return " ".join(str(i) for i in ids)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="/work/shared/data/distilbert-sst2", help="folder with vocab.txt")
    p.add_argument("--sst2", default="/work/shared/data/sst2", help="folder with dev.tsv and test.tsv")
    p.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "tokenizer"))
    p.add_argument("--sets", default="sst2,stress,trunc,variants,pairs,offsets",
                   help="comma-separated groups to write: sst2, stress, trunc, variants, pairs, "
                        "offsets")
    args = p.parse_args()
    sets = set(args.sets.split(","))
    unknown = sets - {"sst2", "stress", "trunc", "variants", "pairs", "offsets"}
    if unknown:
        p.error(f"unknown --sets: {sorted(unknown)}")

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
    versions = (f"python {platform.python_version()} (unicodedata {unicodedata.unidata_version}), "
                f"transformers {transformers.__version__} (slow BertTokenizer is the reference), "
                f"tokenizers {tokenizers.__version__}")

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
        return lines

    def write_inputs(name, texts):
        for t in texts:
            assert "\n" not in ascii(t)
        with open(os.path.join(args.out, name), "w", encoding="ascii", newline="\n") as f:
            for t in texts:
                f.write(t.encode("utf-8").hex() + "\t" + ascii(t) + "\n")

    def versions_line():
        return f"{versions}, slow/fast disagreements {len(disagreements)}"

    dev = read_tsv_sentences(os.path.join(args.sst2, "dev.tsv"), 0)
    test = read_tsv_sentences(os.path.join(args.sst2, "test.tsv"), 1)
    assert len(dev) == 872 and len(test) == 1821, (len(dev), len(test))
    if "sst2" in sets:
        disagreements.clear()
        write("sst2_dev.ids", dev, slow, fast)
        write("sst2_test.ids", test, slow, fast)
        write_versions(args.out, "sst2", "sst2_dev.ids sst2_test.ids: " + versions_line())

    if "stress" in sets:
        disagreements.clear()
        stress = stress_inputs()
        write_inputs("stress.txt", stress)
        write("stress.ids", stress, slow, fast)
        write("stress_cased.ids", stress, slow_cased, fast_cased)
        write_versions(args.out, "stress", "stress.ids stress_cased.ids: " + versions_line())

    if "trunc" in sets:
        with open(os.path.join(args.out, "dev_trunc16.ids"), "w", encoding="ascii", newline="\n") as f:
            for t in dev[:100]:
                e = slow(t, max_length=16, truncation=True, padding="max_length")
                g = fast(t, max_length=16, truncation=True, padding="max_length")
                assert e["input_ids"] == g["input_ids"] and e["attention_mask"] == g["attention_mask"]
                f.write(ids_line(e["input_ids"]) + "\t" + ids_line(e["attention_mask"]) + "\n")
        print("dev_trunc16.ids: 100 lines")
        write_versions(args.out, "trunc", "dev_trunc16.ids: " + versions)

    # A model folder per setting, loaded as users load one: vocab.txt + tokenizer_config.json.
    tmp = tempfile.TemporaryDirectory(prefix="bc1s_tokenizer_golden_")
    cased_vocab_file = os.path.join(args.out, "cased_vocab.txt")
    vocab_files = {"uncased": os.path.join(args.model, "vocab.txt"), "cased": cased_vocab_file}

    def load(vocab, config):
        folder = os.path.join(tmp.name, f"model{len(os.listdir(tmp.name))}")
        os.makedirs(folder)
        with open(vocab_files[vocab], encoding="utf-8") as f:
            vocab_text = f.read()
        with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write(vocab_text)
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(dict(config, model_max_length=512), f)
        return BertTokenizer.from_pretrained(folder), BertTokenizerFast.from_pretrained(folder)

    if "variants" in sets or "pairs" in sets:
        with open(cased_vocab_file, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(cased_vocab()) + "\n")

    def opt(x):
        return "null" if x is None else str(int(x))

    if "variants" in sets:
        disagreements.clear()
        texts = variant_inputs()
        write_inputs("variants.txt", texts)
        lines = []
        for vocab, lower, strip, chinese in variant_settings():
            s_tok, f_tok = load(vocab, {"do_lower_case": lower, "strip_accents": strip,
                                        "tokenize_chinese_chars": chinese})
            assert s_tok.do_lower_case == lower and s_tok.basic_tokenizer.strip_accents == strip
            assert s_tok.basic_tokenizer.tokenize_chinese_chars == chinese
            name = f"variants.ids ({vocab} {opt(lower)} {opt(strip)} {opt(chinese)})"
            lines.append(f"config {vocab} {opt(lower)} {opt(strip)} {opt(chinese)}")
            for i, t in enumerate(texts):
                a = enc(s_tok, t)
                b = enc(f_tok, t)
                if a != b:
                    disagreements.append((name, i, t, s_tok.convert_ids_to_tokens(a), f_tok.convert_ids_to_tokens(b)))
                lines.append(ids_line(a))
        with open(os.path.join(args.out, "variants.ids"), "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print(f"variants.ids: {len(variant_settings())} settings x {len(texts)} inputs")
        write_versions(args.out, "variants", "cased_vocab.txt variants.ids: " + versions_line())

    if "pairs" in sets:
        disagreements.clear()
        pairs = pair_inputs()
        with open(os.path.join(args.out, "pairs.txt"), "w", encoding="ascii", newline="\n") as f:
            for a, b in pairs:
                f.write(a.encode("utf-8").hex() + "\t" + b.encode("utf-8").hex() + "\t" +
                        ascii(a) + " " + ascii(b) + "\n")
        tokenizers_by_vocab = {
            "uncased": (slow, fast),
            "cased": load("cased", {"do_lower_case": False}),
        }
        lines = []
        for vocab, (s_tok, f_tok) in tokenizers_by_vocab.items():
            for i, (a, b) in enumerate(pairs):
                for m in pair_max_lengths():
                    kw = {} if m == 0 else {"max_length": m, "truncation": "longest_first",
                                            "padding": "max_length"}
                    e = s_tok(a, b, **kw)
                    g = f_tok(a, b, **kw)
                    if e["input_ids"] != g["input_ids"] or e["token_type_ids"] != g["token_type_ids"]:
                        disagreements.append((f"pairs.ids ({vocab} max_length {m})", i, (a, b),
                                              s_tok.convert_ids_to_tokens(e["input_ids"]),
                                              f_tok.convert_ids_to_tokens(g["input_ids"])))
                    assert len(e["input_ids"]) == len(e["attention_mask"]) == len(e["token_type_ids"])
                    assert m == 0 or len(e["input_ids"]) == m, (a, b, m, e)
                    lines.append("\t".join([vocab, str(i), str(m), ids_line(e["input_ids"]),
                                             ids_line(e["attention_mask"]), ids_line(e["token_type_ids"])]))
        with open(os.path.join(args.out, "pairs.ids"), "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print(f"pairs.ids: {len(lines)} lines")
        write_versions(args.out, "pairs", "pairs.ids: " + versions_line())

    if "offsets" in sets:
        write_offsets(args, load, dev)

    print(f"slow vs fast disagreements (last group): {len(disagreements)}")
    for name, i, t, a, b in disagreements:
        print(f"  {name} line {i + 1}: {ascii(t)}\n    slow: {a}\n    fast: {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
