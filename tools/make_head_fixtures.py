#!/usr/bin/env python3
"""Writes the "any checkpoint" fixtures of bc1s into tests/data/heads/<case>/.

Each case is a small, complete Hugging Face model folder (config.json, model.safetensors in
float32, vocab.txt, tokenizer_config.json, special_tokens_map.json; plus modules.json,
sentence_bert_config.json and 1_Pooling/config.json for the sentence-transformers folders) with
randomly initialised weights (torch.manual_seed(<fixed per case>), config initializer_range 0.2
instead of 0.02 so that outputs differ between inputs by O(1)), and expected.json: the
reference outputs computed by the real `transformers` / `sentence-transformers` packages, which
are the independent reference bc1s is checked against (bc1s reads the folder, never this script).

Cases (every model: eval, fp32, eager attention, "gelu", absolute positions; exact configs are in
each config.json and repeated in expected.json["config"]):
  bert_seqcls3        BertForSequenceClassification, 3 sentiment labels; 5 sentences + 3 pairs
  distilbert_seqcls6  DistilBertForSequenceClassification, 6 emotion labels; 5 sentences
  bert_multilabel     BertForSequenceClassification, problem_type multi_label_classification,
                      4 labels; probabilities = sigmoid(logits)
  bert_ner            BertForTokenClassification (no pooler), CASED vocab (do_lower_case false),
                      9 CoNLL labels; per-token logits, word_ids, offsets, and the entity spans of
                      pipeline("token-classification", aggregation_strategy="simple")
  distilbert_ner      DistilBertForTokenClassification, uncased, 5 labels; same outputs
  cross_encoder       BertForSequenceClassification with 1 label, loaded by
                      sentence_transformers.CrossEncoder; 1 query x 6 passages, max_length 32
  bge_like_cls        sentence-transformers folder shaped like bge-small: BertModel (12 layers,
                      with pooler), CLS pooling, Normalize
  bert_mean_nonorm    sentence-transformers folder: BertModel, MEAN pooling, no Normalize

Weights: transformers' own init under torch.manual_seed(seed) (initializer_range 0.2), then,
from the same generator, query/key weights * 3 (sharper, input-dependent attention), every Linear
bias ~ N(0, 0.05), every LayerNorm gamma ~ N(1, 0.1) and beta ~ N(0, 0.05) (transformers inits
them to 0 / 1 / 0, which would hide a kernel that drops them), classifier.weight * 3 (5 for token
heads), and for token heads classifier.bias[O] raised so about half the tokens are tagged O. The
seed is the first one from the case's base seed whose outputs are not degenerate (different
argmax across inputs; cross-encoder logits of both signs spread >= 1; embedding cosine between
inputs <= 0.95; >= min_entity_groups pipeline entities); expected.json records it.

Vocabularies are tiny WordPiece lists built here ([PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, so
NOT the usual 0/100/101/102/103), with single characters and "##x" pieces so that every ASCII
word tokenizes; non-ASCII letters outside the list give [UNK]. Token ids come from the SLOW
BertTokenizer / DistilBertTokenizer built from the folder's vocab.txt; the fast tokenizer of
the same folder (what pipeline / sentence-transformers / CrossEncoder use) must give identical
ids for every fixture text (asserted), and supplies word_ids and offsets.

Every input is run alone (batch 1, no padding) so each reference is unambiguous; for
bert_seqcls3 and bert_mean_nonorm the padded batch is also run and must match within 1e-5
(bert_seqcls3: 1e-5 * max(1, max |logit|), as its logits reach ~3.7).

expected.json (floats are the exact float32 values, written as JSON doubles):
  case, architecture, family ("bert" | "distilbert"), head ("sequence_classification" |
  "multi_label_classification" | "token_classification" | "cross_encoder" | "embedding"),
  labels (ordered by id), config (the model config values that matter), seed, tokenizer
  {class, do_lower_case, model_max_length, vocab_size, special ids}, versions, generator,
  inputs: one object per input with
    text, [text_pair], input_ids, token_type_ids (all 0 for DistilBERT, which has no segment
    embeddings and is not given them), attention_mask (all 1: unpadded)
    sequence heads: logits [num_labels], probabilities (softmax; sigmoid for multi-label)
    token heads: tokens, logits [n_tokens][num_labels], probabilities (softmax per token),
      word_ids (null for [CLS]/[SEP]), offsets [[start, end]] in Python str code points
      (special tokens [0, 0]), byte_offsets (the same in UTF-8 bytes), entities (pipeline
      "simple" aggregation: entity_group, score, word, start, end, byte_start, byte_end)
    cross_encoder: logits [1], score (CrossEncoder.predict), untruncated_length; top level:
      max_length (32), truncation ("longest_first"), activation ("Sigmoid"), activation_note
    embedding: embedding [hidden] (SentenceTransformer.encode); top level: modules, pooling
      ("cls" | "mean"), normalize, max_seq_length (sentence_bert_config.json)

--cut-minilm SRC [OUT] --layers N (NOT for committing): writes OUT (default
build/heldout/minilm_l<N>, N default 3) = the real all-MiniLM-L6-v2 folder SRC
(tools/fetch_minilm.py) cut to its first N encoder layers (config num_hidden_layers = N,
encoder.layer.K.* for K >= N dropped from model.safetensors; tokenizer and sentence-transformers
files copied), plus expected.json with
SentenceTransformer(OUT) embeddings of the first 32 SST-2 dev sentences (shared/data/sst2/dev.tsv).

Run:  .venv/bin/python tools/make_head_fixtures.py [--out tests/data/heads] [--cases a,b]
      (~3 s; rewrites each case folder from scratch)
      .venv/bin/python tools/make_head_fixtures.py --cut-minilm models/all-MiniLM-L6-v2 \\
          [build/heldout/minilm_l3] [--layers 3]
      (after tools/setup_python.sh). Deterministic: a rerun rewrites identical bytes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("BC1S_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEV_TSV = SHARED / "sst2" / "dev.tsv"
GENERATOR = "tools/make_head_fixtures.py"

# ----------------------------------------------------------------------------------------------
# Vocabularies

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = [".", ",", "!", "?", "'", "-", ":", ";", "(", ")"]
DIGITS = [str(d) for d in range(10)]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
SUFFIXES = ["##s", "##ed", "##ing", "##ly", "##er", "##d", "##n"] + \
           ["##" + c for c in LETTERS if c not in ("s", "d", "n")]
WORDS = """
the an and so to of in on at by for with from about
up near around without because when how what
there really much many more every no not
nothing anything nobody all two nine million year today yesterday time
moment home world city capital population people person man children friend family
you he she it we they him her its our this that is are was
has did will
movie film story plot music book guitar football cat dog mat park river station office
meeting food weather thing comment sense
good great nice wonderful charming happy okay normal new last dark
terrible stupid dumb ugly angry afraid surprise love hate idiot
play like eat work live move study visit open cancel end act sit read run find hurt say feel
made got went left met grown expect shut hello hi
john mary tom paris london berlin france apple cafe
""".split()
CASED_EXTRA = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + """
The A He She We It What How John Smith Mary Anna Tom Paris London Berlin France Google Apple
New York Dr Mr ##son ##rich ##ü
""".split()


def make_vocab(cased: bool) -> list[str]:
    toks = SPECIALS + PUNCT + DIGITS + LETTERS + SUFFIXES + WORDS
    if cased:
        toks = toks + [t for i, t in enumerate(CASED_EXTRA)
                       if t not in toks and t not in CASED_EXTRA[:i]]
    assert len(set(toks)) == len(toks), [t for t in toks if toks.count(t) > 1]
    return toks


# ----------------------------------------------------------------------------------------------
# Cases. Config values are deliberately unusual (no shape of a compiled-in model).

COMMON_BERT = dict(hidden_act="gelu", position_embedding_type="absolute", pad_token_id=0,
                   layer_norm_eps=1e-12, initializer_range=0.2, hidden_dropout_prob=0.1,
                   attention_probs_dropout_prob=0.1)
COMMON_DISTILBERT = dict(activation="gelu", sinusoidal_pos_embds=False, pad_token_id=0,
                         initializer_range=0.2)

NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]

CASES = [
    dict(name="bert_seqcls3", family="bert", arch="BertForSequenceClassification",
         head="sequence_classification", seed=1001, cased=False, max_len=64,
         config=dict(hidden_size=40, num_attention_heads=5, intermediate_size=64,
                     num_hidden_layers=2, type_vocab_size=2, max_position_embeddings=64),
         labels=["negative", "neutral", "positive"], classifier_scale=3.0,
         texts=["The movie was great!",
                "I really hated the ending.",
                "It is an okay film, nothing more.",
                "What a wonderful, charming story about friends and family!",
                "The acting was terrible and the plot made no sense."],
         pairs=[("Is the food good?", "The food was really good."),
                ("He played football.", "She likes playing music."),
                ("A man is eating.", "Nobody is eating anything at the moment.")]),
    dict(name="distilbert_seqcls6", family="distilbert", arch="DistilBertForSequenceClassification",
         head="sequence_classification", seed=1002, cased=False, max_len=64,
         config=dict(dim=32, n_heads=2, hidden_dim=48, n_layers=3, max_position_embeddings=64),
         labels=["sadness", "joy", "love", "anger", "fear", "surprise"], classifier_scale=3.0,
         texts=["I feel so happy today!",
                "She was afraid of the dark.",
                "He got angry when they left without him.",
                "We love our new home so much.",
                "What a surprise, I didn't expect that!"]),
    dict(name="bert_multilabel", family="bert", arch="BertForSequenceClassification",
         head="multi_label_classification", seed=1003, cased=False, max_len=64,
         config=dict(hidden_size=32, num_attention_heads=2, intermediate_size=64,
                     num_hidden_layers=2, type_vocab_size=2, max_position_embeddings=64,
                     problem_type="multi_label_classification"),
         labels=["toxic", "insult", "threat", "obscene"], classifier_scale=3.0,
         texts=["You are a nice person.",
                "Shut up, you stupid idiot!",
                "I will find you and hurt you.",
                "This is a normal comment about the weather.",
                "What a dumb and ugly thing to say."]),
    dict(name="bert_ner", family="bert", arch="BertForTokenClassification",
         head="token_classification", seed=1004, cased=True, max_len=64,
         config=dict(hidden_size=32, num_attention_heads=4, intermediate_size=64,
                     num_hidden_layers=2, type_vocab_size=2, max_position_embeddings=64),
         labels=NER_LABELS, classifier_scale=5.0, min_entity_groups=3,
         texts=["John Smith works for Google in London.",
                "Mary went to Paris with her friend Anna.",
                "Apple opened a new office in Berlin last year.",
                "The meeting in Z\u00fcrich was canceled by Johnson.",
                "Dr. Smith flew from Krak\u00f3w to New York."]),
    dict(name="distilbert_ner", family="distilbert", arch="DistilBertForTokenClassification",
         head="token_classification", seed=1005, cased=False, max_len=128,
         config=dict(dim=24, n_heads=2, hidden_dim=40, n_layers=2, max_position_embeddings=128),
         labels=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], classifier_scale=5.0,
         min_entity_groups=2,
         texts=["John lives in Paris.",
                "The caf\u00e9 near the river is closed.",
                "Mary and Tom visited London.",
                "We met at the station in Berlin yesterday."]),
    dict(name="cross_encoder", family="bert", arch="BertForSequenceClassification",
         head="cross_encoder", seed=1006, cased=False, max_len=64, pair_max_length=32,
         config=dict(hidden_size=24, num_attention_heads=2, intermediate_size=48,
                     num_hidden_layers=2, type_vocab_size=2, max_position_embeddings=64),
         labels=["LABEL_0"], classifier_scale=3.0,
         query="How many people live in London?",
         passages=["London has a population of about nine million people.",
                   "Paris is the capital of France.",
                   "The city of London is home to many people from around the world, and its "
                   "population has grown every year for a long time because people move there "
                   "for work, study and family.",
                   "I like to eat apples.",
                   "Around nine million people live in London.",
                   "London is a city."]),
    dict(name="bge_like_cls", family="bert", arch="BertModel", head="embedding", seed=1007,
         cased=False, max_len=128, pooling="cls", normalize=True, max_seq_length=64,
         pooling_style="full",
         config=dict(hidden_size=16, num_attention_heads=2, intermediate_size=32,
                     num_hidden_layers=12, type_vocab_size=2, max_position_embeddings=128),
         labels=[],
         texts=["A man is playing a guitar.",
                "The cat sits on the mat.",
                "Dogs are running in the park.",
                "How is the weather today?",
                "hello"]),
    dict(name="bert_mean_nonorm", family="bert", arch="BertModel", head="embedding", seed=1008,
         cased=False, max_len=128, pooling="mean", normalize=False, max_seq_length=128,
         pooling_style="minilm",
         config=dict(hidden_size=24, num_attention_heads=3, intermediate_size=48,
                     num_hidden_layers=3, type_vocab_size=2, max_position_embeddings=128),
         labels=[],
         texts=["Hi!",
                "The weather is nice today.",
                "Two children are playing football in the park near the river.",
                "She reads a book."]),
]


# ----------------------------------------------------------------------------------------------
# JSON: objects indented, lists of scalars on one line; floats as Python repr (exact doubles).


def dumps(obj, level: int = 0) -> str:
    pad, pad1 = " " * level, " " * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, level + 1)}"
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(x, (dict, list, tuple)) for x in obj):
            return "[" + ", ".join(dumps(x, level + 1) for x in obj) + "]"
        return "[\n" + ",\n".join(pad1 + dumps(x, level + 1) for x in obj) + "\n" + pad + "]"
    if isinstance(obj, float):
        assert math.isfinite(obj), obj
        return repr(obj)
    return json.dumps(obj, ensure_ascii=False)


def write_json(path: Path, obj) -> None:
    path.write_text(dumps(obj) + "\n", encoding="utf-8")


def write_json_std(path: Path, obj) -> None:
    """Plain json.dumps (indent 2, sorted keys) for the small model-folder files."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def floats(a) -> list:
    return [float(x) for x in np.asarray(a, np.float32).reshape(-1)]


def versions() -> dict:
    import sentence_transformers
    import tokenizers
    import torch
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "sentence_transformers": sentence_transformers.__version__}


# ----------------------------------------------------------------------------------------------
# Folder writing


def write_tokenizer_files(d: Path, vocab: list[str], do_lower_case: bool, max_len: int,
                          tokenizer_class: str) -> None:
    (d / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
    special = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
               "sep_token": "[SEP]", "unk_token": "[UNK]"}
    write_json_std(d / "special_tokens_map.json", special)
    write_json_std(d / "tokenizer_config.json", {
        **special, "clean_up_tokenization_spaces": True, "do_basic_tokenize": True,
        "do_lower_case": do_lower_case, "model_max_length": max_len, "never_split": None,
        "strip_accents": None, "tokenize_chinese_chars": True, "tokenizer_class": tokenizer_class})


def write_st_files(d: Path, case: dict, hidden: int) -> list[dict]:
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if case["normalize"]:
        # Like the published bge-small / MiniLM folders; Normalize has no files, and an empty
        # 2_Normalize/ would not survive git, so the folder is not created.
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    (d / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")
    (d / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": case["max_seq_length"], "do_lower_case": False}, indent=2) + "\n",
        encoding="utf-8")
    pool = {"word_embedding_dimension": hidden,
            "pooling_mode_cls_token": case["pooling"] == "cls",
            "pooling_mode_mean_tokens": case["pooling"] == "mean",
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False}
    if case["pooling_style"] == "full":  # what sentence-transformers >= 2.3 writes
        pool.update(pooling_mode_weightedmean_tokens=False, pooling_mode_lasttoken=False,
                    include_prompt=True)
    (d / "1_Pooling").mkdir(exist_ok=True)
    (d / "1_Pooling" / "config.json").write_text(json.dumps(pool, indent=2) + "\n", encoding="utf-8")
    return modules


QK_SCALE = 3.0        # query / key weights: sharper, input-dependent attention
BIAS_STD = 0.05       # every Linear bias and LayerNorm beta: N(0, 0.05) instead of 0
GAMMA_STD = 0.1       # every LayerNorm gamma: N(1, 0.1) instead of 1


def shape_weights(model, case: dict) -> None:
    """After transformers' own init (initializer_range 0.2), in this order, drawing from the same
    seeded torch generator: query/key weights * QK_SCALE; every nn.Linear bias ~ N(0, BIAS_STD);
    every nn.LayerNorm weight ~ N(1, GAMMA_STD), bias ~ N(0, BIAS_STD) (so a kernel that drops a
    bias or a LayerNorm affine is caught); classifier.weight * case["classifier_scale"]."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("query.weight", "key.weight", "q_lin.weight", "k_lin.weight")):
                p.mul_(QK_SCALE)
        for _, mod in model.named_modules():
            if isinstance(mod, torch.nn.LayerNorm):
                mod.weight.normal_(1.0, GAMMA_STD)
                mod.bias.normal_(0.0, BIAS_STD)
            elif isinstance(mod, torch.nn.Linear) and mod.bias is not None:
                mod.bias.normal_(0.0, BIAS_STD)
        if case.get("classifier_scale"):
            model.classifier.weight.mul_(case["classifier_scale"])


def build_model(case: dict, vocab_size: int, seed: int):
    import torch
    import transformers

    cfg = dict(case["config"])
    if case["family"] == "bert":
        cfg = {**COMMON_BERT, **cfg}
        config_cls = transformers.BertConfig
    else:
        cfg = {**COMMON_DISTILBERT, **cfg}
        config_cls = transformers.DistilBertConfig
    cfg["vocab_size"] = vocab_size
    if case["labels"]:
        cfg["id2label"] = dict(enumerate(case["labels"]))
        cfg["label2id"] = {lab: i for i, lab in enumerate(case["labels"])}
    config = config_cls(**cfg, attn_implementation="eager")
    torch.manual_seed(seed)
    model = getattr(transformers, case["arch"])(config)
    shape_weights(model, case)
    model.eval()
    assert model.config._attn_implementation == "eager"
    for p in model.parameters():
        assert p.dtype == torch.float32
    return model


def load_model(case: dict, d: Path):
    import transformers

    model = getattr(transformers, case["arch"]).from_pretrained(str(d), attn_implementation="eager")
    model.eval()
    assert model.config._attn_implementation == "eager"
    return model


def tokenizers_for(case: dict, d: Path, vocab_file: Path):
    import transformers

    lower = not case["cased"]
    if case["family"] == "bert":
        slow_cls, fast_cls = transformers.BertTokenizer, transformers.BertTokenizerFast
    else:
        slow_cls, fast_cls = transformers.DistilBertTokenizer, transformers.DistilBertTokenizerFast
    slow = slow_cls(str(vocab_file), do_lower_case=lower)
    slow_dir = slow_cls.from_pretrained(str(d))  # what the folder itself says
    fast = fast_cls.from_pretrained(str(d))
    assert type(fast).__name__ == fast_cls.__name__
    assert slow_dir.do_lower_case == lower and slow_dir.vocab == slow.vocab
    return slow, slow_dir, fast


def encode(case, slow, slow_dir, fast, text, pair=None, **kw) -> dict:
    """Slow-tokenizer ids (the reference), checked against the folder's slow and fast ones."""
    args = (text,) if pair is None else (text, pair)
    e = slow(*args, return_token_type_ids=True, **kw)
    e2 = slow_dir(*args, return_token_type_ids=True, **kw)
    f = fast(*args, return_token_type_ids=True, return_offsets_mapping=True, **kw)
    ids = list(e["input_ids"])
    assert ids == list(e2["input_ids"]), (text, pair, ids, e2["input_ids"])
    assert ids == list(f["input_ids"]), ("slow/fast disagree", text, pair,
                                         slow.convert_ids_to_tokens(ids),
                                         fast.convert_ids_to_tokens(f["input_ids"]))
    types = list(e["token_type_ids"])
    assert types == list(f["token_type_ids"])
    if case["family"] == "distilbert":
        assert not any(types)
    item = {"text": text}
    if pair is not None:
        item["text_pair"] = pair
    item.update(input_ids=ids, token_type_ids=types, attention_mask=[1] * len(ids))
    return item, f


def forward(case, model, ids, types, mask):
    import torch

    kw = dict(input_ids=torch.tensor([ids]), attention_mask=torch.tensor([mask]))
    if case["family"] == "bert":
        kw["token_type_ids"] = torch.tensor([types])
    with torch.no_grad():
        return model(**kw)


def byte_offset(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-8"))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


# ----------------------------------------------------------------------------------------------
# Per-head references


def run_sequence(case, d, model, toks, exp):
    import torch

    slow, slow_dir, fast = toks
    multi = case["head"] == "multi_label_classification"
    inputs = [(t, None) for t in case["texts"]] + list(case.get("pairs", []))
    items = []
    for text, pair in inputs:
        item, _ = encode(case, slow, slow_dir, fast, text, pair)
        logits = forward(case, model, item["input_ids"], item["token_type_ids"],
                         item["attention_mask"]).logits[0].numpy()
        item["logits"] = floats(logits)
        # probabilities from the float32 logits, in torch (what a user of transformers gets)
        lt = torch.from_numpy(logits)
        item["probabilities"] = floats(torch.sigmoid(lt) if multi else torch.softmax(lt, -1))
        items.append(item)
    if case["name"] == "bert_seqcls3":  # padded batch == unpadded runs
        for group in (case["texts"], case["pairs"]):
            args = (list(group),) if isinstance(group[0], str) else \
                ([a for a, _ in group], [b for _, b in group])
            enc = slow(*args, padding=True, return_tensors="pt", return_token_type_ids=True)
            assert int(enc["attention_mask"].min()) == 0  # really padded
            with torch.no_grad():
                batch = model(**enc).logits.numpy()
            want = [it["logits"] for it in items
                    if (it["text"], it.get("text_pair")) in
                    [(g, None) if isinstance(g, str) else tuple(g) for g in group]]
            want = np.asarray(want, np.float32)
            diff = float(np.abs(batch - want).max())
            # 1e-5 relative to the logit scale (float32 summation-order noise; logits reach ~5)
            assert diff <= 1e-5 * max(1.0, float(np.abs(want).max())), diff
            print(f"    padded batch of {len(group)} vs unpadded: max |diff| {diff:.2e} "
                  f"(max |logit| {np.abs(want).max():.2f})")
    exp["inputs"] = items
    spread = np.asarray([it["logits"] for it in items])
    print(f"    logits range [{spread.min():.3f}, {spread.max():.3f}], std over inputs "
          f"{spread.std(axis=0).mean():.3f}, argmax {spread.argmax(axis=1).tolist()}")


def ner_pipeline(model, fast):
    from transformers import pipeline

    return pipeline("token-classification", model=model, tokenizer=fast,
                    aggregation_strategy="simple", device=-1, framework="pt")


def token_items(case, model, toks):
    slow, slow_dir, fast = toks
    items = []
    for text in case["texts"]:
        item, f = encode(case, slow, slow_dir, fast, text)
        logits = forward(case, model, item["input_ids"], item["token_type_ids"],
                         item["attention_mask"]).logits[0].numpy()
        import torch
        item["tokens"] = slow.convert_ids_to_tokens(item["input_ids"])
        item["logits"] = [floats(r) for r in logits]
        item["probabilities"] = [floats(r) for r in torch.softmax(torch.from_numpy(logits), -1).numpy()]
        item["word_ids"] = f.word_ids()
        item["offsets"] = [list(o) for o in f["offset_mapping"]]
        item["byte_offsets"] = [[byte_offset(text, a), byte_offset(text, b)] for a, b in f["offset_mapping"]]
        items.append(item)
    return items


def entities(case, model, fast, text) -> list[dict]:
    out = []
    for e in ner_pipeline(model, fast)(text):
        out.append({"entity_group": e["entity_group"], "score": float(e["score"]), "word": e["word"],
                    "start": int(e["start"]), "end": int(e["end"]),
                    "byte_start": byte_offset(text, e["start"]), "byte_end": byte_offset(text, e["end"])})
    return out


def run_token(case, d, model, toks, exp):
    slow, slow_dir, fast = toks
    items = token_items(case, model, toks)
    n_groups = 0
    for item in items:
        item["entities"] = entities(case, model, fast, item["text"])
        n_groups += len(item["entities"])
    exp["inputs"] = items
    for it in items:
        tags = [case["labels"][int(np.argmax(r))] for r in it["logits"]]
        print(f"    {' '.join(f'{t}/{g}' for t, g in zip(it['tokens'], tags))}")
        spans = [(e['entity_group'], e['word'], e['start'], e['end']) for e in it['entities']]
        print(f"      entities: {spans}")
    return n_groups


def run_cross_encoder(case, d, model, toks, exp):
    from sentence_transformers import CrossEncoder

    slow, slow_dir, fast = toks
    ml = case["pair_max_length"]
    ce = CrossEncoder(str(d), max_length=ml, device="cpu",
                      automodel_args={"attn_implementation": "eager"})
    act = ce.default_activation_function
    pairs = [(case["query"], p) for p in case["passages"]]
    scores = ce.predict(pairs, batch_size=len(pairs), show_progress_bar=False, convert_to_numpy=True)
    items = []
    for (q, p), s in zip(pairs, scores):
        item, _ = encode(case, slow, slow_dir, fast, q, p, truncation="longest_first", max_length=ml)
        full = len(slow(q, p)["input_ids"])
        item["untruncated_length"] = full
        logit = forward(case, model, item["input_ids"], item["token_type_ids"],
                        item["attention_mask"]).logits[0].numpy()
        item["logits"] = floats(logit)
        item["score"] = float(s)
        assert abs(float(sigmoid(logit[0])) - float(s)) < 1e-6, (logit, s)
        items.append(item)
    assert any(it["untruncated_length"] > ml for it in items)
    exp["max_length"] = ml
    exp["truncation"] = "longest_first"
    exp["activation"] = type(act).__name__
    exp["activation_note"] = ("sentence_transformers.CrossEncoder default_activation_function "
                              "(num_labels 1 and no sbert_ce_default_activation_function in config "
                              "-> torch.nn.Sigmoid); score = activation(logit)")
    exp["inputs"] = items
    print(f"    CrossEncoder activation {type(act).__name__}; logits "
          f"{[round(it['logits'][0], 4) for it in items]}; lengths "
          f"{[len(it['input_ids']) for it in items]} "
          f"(untruncated {[it['untruncated_length'] for it in items]})")


def run_embedding(case, d, model, toks, exp):
    import torch
    from sentence_transformers import SentenceTransformer

    slow, slow_dir, fast = toks
    st = SentenceTransformer(str(d), device="cpu", model_kwargs={"attn_implementation": "eager"})
    st.eval()
    mods = [type(m).__name__ for m in st]
    assert mods == ["Transformer", "Pooling"] + (["Normalize"] if case["normalize"] else []), mods
    assert st.max_seq_length == case["max_seq_length"], st.max_seq_length
    items = []
    for text in case["texts"]:
        item, _ = encode(case, slow, slow_dir, fast, text)
        emb = st.encode([text], batch_size=1, convert_to_numpy=True, show_progress_bar=False)[0]
        # the same by hand from transformers' BertModel
        h = forward(case, model, item["input_ids"], item["token_type_ids"],
                    item["attention_mask"]).last_hidden_state[0]
        ref = h[0] if case["pooling"] == "cls" else h.mean(0)
        if case["normalize"]:
            ref = torch.nn.functional.normalize(ref, dim=0)
        diff = float(np.abs(ref.numpy() - emb).max())
        assert diff < 1e-5, diff
        item["embedding"] = floats(emb)
        items.append(item)
    if case["name"] == "bert_mean_nonorm":  # padded batch == unpadded runs
        batch = st.encode(case["texts"], batch_size=len(case["texts"]), convert_to_numpy=True,
                          show_progress_bar=False)
        diff = float(np.abs(batch - np.asarray([it["embedding"] for it in items], np.float32)).max())
        assert diff < 1e-5, diff
        print(f"    padded batch of {len(case['texts'])} vs unpadded: max |diff| {diff:.2e}")
    exp["modules"] = mods
    exp["pooling"] = case["pooling"]
    exp["normalize"] = case["normalize"]
    exp["max_seq_length"] = case["max_seq_length"]
    exp["inputs"] = items
    e = np.asarray([it["embedding"] for it in items])
    cos = (e / np.linalg.norm(e, axis=1, keepdims=True)) @ (e / np.linalg.norm(e, axis=1, keepdims=True)).T
    print(f"    modules {mods}; norms {np.round(np.linalg.norm(e, axis=1), 4).tolist()}; "
          f"max off-diagonal cosine {np.max(cos - 2 * np.eye(len(e))):.4f}")


def add_fp16_storage_reference(case, model, exp) -> None:
    """Each input's outputs again, from a copy of the model whose weights are rounded as bc1s's
    fp16 storage rounds them (every Linear weight and embedding table to IEEE half, round to
    nearest even; biases and LayerNorm parameters stay fp32), computed in fp32: "logits_fp16w" /
    "embedding_fp16w". bc1s at fp16 computes the same function up to fp32 summation order, so it
    is held to fp32-level PSNR against these, while the plain "logits" show what fp16 storage
    itself costs."""
    import copy

    import torch

    m16 = copy.deepcopy(model).eval()
    with torch.no_grad():
        for mod in m16.modules():
            if isinstance(mod, (torch.nn.Linear, torch.nn.Embedding)):
                mod.weight.copy_(mod.weight.half().float())
    for item in exp["inputs"]:
        out = forward(case, m16, item["input_ids"], item["token_type_ids"], item["attention_mask"])
        if "embedding" in item:
            h = out.last_hidden_state[0]
            ref = h[0] if case["pooling"] == "cls" else h.mean(0)
            if case["normalize"]:
                ref = torch.nn.functional.normalize(ref, dim=0)
            item["embedding_fp16w"] = floats(ref.numpy())
        elif case["head"] == "token_classification":
            item["logits_fp16w"] = [floats(r) for r in out.logits[0].numpy()]
        else:
            item["logits_fp16w"] = floats(out.logits[0].numpy())
    exp["fp16_storage_reference"] = add_fp16_storage_reference.__doc__.split("\n\n")[0].replace(
        "\n", " ").replace("    ", " ")


# ----------------------------------------------------------------------------------------------


def config_summary(model) -> dict:
    keys = ("model_type", "vocab_size", "hidden_size", "num_attention_heads", "intermediate_size",
            "num_hidden_layers", "type_vocab_size", "max_position_embeddings", "hidden_act",
            "layer_norm_eps", "position_embedding_type", "problem_type", "dim", "n_heads",
            "hidden_dim", "n_layers", "activation", "sinusoidal_pos_embds", "pad_token_id",
            "initializer_range")
    c = model.config.to_dict()
    return {k: c[k] for k in keys if k in c and c[k] is not None}


def balance_o(case: dict, model, toks) -> None:
    """Token heads: add to classifier.bias[O] the median, over the fixture tokens, of
    (best non-O logit - O logit), so that about half the tokens are tagged O and the entities
    the pipeline finds are separated by O tokens, as in a real tagger."""
    import torch

    margins = []
    for t in case["texts"]:
        e = toks[0](t, return_token_type_ids=True)
        lg = forward(case, model, e["input_ids"], e["token_type_ids"], e["attention_mask"]).logits[0].numpy()
        margins += (lg[:, 1:].max(1) - lg[:, 0]).tolist()
    assert case["labels"][0] == "O"
    with torch.no_grad():
        model.classifier.bias[0] += float(np.float32(np.median(margins)))


def degenerate(case: dict, model, toks) -> str:
    """Why the outputs of this random model would make a weak test ('' when they are fine):
    classification heads must not predict the same label for every input (multi-label: not all
    the same 0.5-decisions either); token heads must yield min_entity_groups pipeline entities."""
    slow = toks[0]
    if case["head"] in ("sequence_classification", "multi_label_classification"):
        enc = [slow(t) if isinstance(t, str) else slow(*t)
               for t in list(case["texts"]) + list(case.get("pairs", []))]
        logits = np.stack([forward(case, model, e["input_ids"],
                                   e.get("token_type_ids", [0] * len(e["input_ids"])),
                                   e["attention_mask"]).logits[0].numpy() for e in enc])
        if len(set(logits.argmax(1).tolist())) < 2:
            return f"argmax {logits.argmax(1).tolist()} is constant"
        if case["head"] == "multi_label_classification":
            dec = logits > 0
            if dec.all() or not dec.any() or all(len(set(col)) == 1 for col in dec.T.tolist()):
                return "sigmoid decisions do not vary"
    if case["head"] == "cross_encoder":
        lg = [forward(case, model, e["input_ids"], e["token_type_ids"],
                      e["attention_mask"]).logits[0, 0].item()
              for e in (slow(case["query"], p, truncation="longest_first", max_length=case["pair_max_length"])
                        for p in case["passages"])]
        if max(lg) - min(lg) < 1.0 or max(lg) < 0 or min(lg) > 0:
            return f"logits {np.round(lg, 3).tolist()} spread < 1 or all one sign"
    if case["head"] == "embedding":
        v = []
        for t in case["texts"]:
            e = slow(t)
            h = forward(case, model, e["input_ids"], e["token_type_ids"],
                        e["attention_mask"]).last_hidden_state[0]
            v.append((h[0] if case["pooling"] == "cls" else h.mean(0)).numpy())
        v = np.asarray(v) / np.linalg.norm(v, axis=1, keepdims=True)
        cos = float(np.max(v @ v.T - 2 * np.eye(len(v))))
        if cos > 0.95:
            return f"max cosine between inputs {cos:.3f} > 0.95"
    if case["head"] == "token_classification":
        n = sum(len(entities(case, model, toks[2], t)) for t in case["texts"])
        if n < case["min_entity_groups"]:
            return f"only {n} entity groups"
    return ""


def make_case(case: dict, out: Path, vers: dict) -> None:
    t0 = time.time()
    d = out / case["name"]
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    vocab = make_vocab(case["cased"])
    tok_class = "BertTokenizer" if case["family"] == "bert" else "DistilBertTokenizer"
    write_tokenizer_files(d, vocab, not case["cased"], case["max_len"], tok_class)
    toks = tokenizers_for(case, d, d / "vocab.txt")

    seed = case["seed"]
    while True:  # the first seed from case["seed"] on whose outputs are not degenerate
        model = build_model(case, len(vocab), seed)
        if case["head"] == "token_classification":
            balance_o(case, model, toks)
        why = degenerate(case, model, toks)
        if not why:
            break
        print(f"    seed {seed}: {why}; trying {seed + 1}")
        seed += 1
    model.save_pretrained(str(d), safe_serialization=True)
    for extra in ("generation_config.json",):
        assert not (d / extra).exists(), extra
    model = load_model(case, d)  # the reference is what the saved folder gives
    from safetensors.numpy import load_file
    sd = load_file(str(d / "model.safetensors"))
    assert all(v.dtype == np.float32 for v in sd.values()), {k: v.dtype for k, v in sd.items()}

    exp = {"case": case["name"], "architecture": case["arch"], "family": case["family"],
           "head": case["head"], "labels": list(case["labels"]), "config": config_summary(model),
           "seed": seed,
           "weights": ("transformers' own random init under torch.manual_seed(seed) with "
                       "initializer_range 0.2, then (same generator) query/key weights * "
                       f"{QK_SCALE}, every Linear bias ~ N(0, {BIAS_STD}), every LayerNorm "
                       f"gamma ~ N(1, {GAMMA_STD}) and beta ~ N(0, {BIAS_STD})"
                       + (f", classifier.weight * {case['classifier_scale']}"
                          if case.get("classifier_scale") else "")
                       + (", classifier.bias[O] += median over the fixture tokens of (best "
                          "non-O logit - O logit)" if case["head"] == "token_classification" else "")
                       + "; seed = the first from the case's base seed whose outputs are not "
                         "degenerate (see degenerate() in the generator)"),
           "tokenizer": {"class": tok_class + " (slow; ids), " + tok_class + "Fast (offsets, "
                                  "word_ids, pipeline)",
                         "do_lower_case": not case["cased"], "model_max_length": case["max_len"],
                         "vocab_size": len(vocab),
                         "special_ids": {t: vocab.index(t) for t in SPECIALS}},
           "reference": "", "versions": vers, "generator": GENERATOR}
    if case["head"] in ("sequence_classification", "multi_label_classification"):
        exp["reference"] = (f"transformers {case['arch']}.from_pretrained(folder), eval, fp32, eager; "
                            "each input alone (batch 1, no padding); probabilities = "
                            + ("sigmoid(logits)" if case["head"] == "multi_label_classification"
                               else "softmax(logits)"))
        run_sequence(case, d, model, toks, exp)
    elif case["head"] == "token_classification":
        exp["reference"] = (f"transformers {case['arch']}.from_pretrained(folder), eval, fp32, eager; "
                            "each input alone; word_ids / offset_mapping from the fast tokenizer "
                            "(offsets in str code points, byte_offsets in UTF-8 bytes, [0, 0] for "
                            "special tokens); entities = pipeline('token-classification', "
                            "aggregation_strategy='simple') with the fast tokenizer")
        n = run_token(case, d, model, toks, exp)
        assert n >= case["min_entity_groups"], n
    elif case["head"] == "cross_encoder":
        exp["reference"] = ("sentence_transformers.CrossEncoder(folder, max_length=32).predict(pairs) "
                            "for score; transformers BertForSequenceClassification for logits (each "
                            "pair alone, tokenizer(q, p, truncation='longest_first', max_length=32))")
        run_cross_encoder(case, d, model, toks, exp)
    else:
        write_st_files(d, case, model.config.hidden_size)
        exp["reference"] = ("sentence_transformers.SentenceTransformer(folder).encode([text]) per "
                            "text (batch 1, no padding); checked against transformers BertModel + "
                            "pooling by hand")
        run_embedding(case, d, model, toks, exp)
    add_fp16_storage_reference(case, model, exp)
    write_json(d / "expected.json", exp)
    size = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
    print(f"  {case['name']}: {size} bytes, {time.time() - t0:.1f} s")


# ----------------------------------------------------------------------------------------------
# --cut-minilm


def read_dev(n: int) -> list[str]:
    lines = DEV_TSV.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["sentence", "label"], lines[0]
    return [ln.split("\t")[0].strip() for ln in lines[1:] if ln.strip()][:n]


def cut_minilm(src: Path, out: Path, layers: int) -> int:
    import torch
    from safetensors.numpy import load_file, save_file
    from sentence_transformers import SentenceTransformer
    from transformers import BertModel, BertTokenizer

    t0 = time.time()
    if not (src / "model.safetensors").exists():
        print(f"{src}/model.safetensors not found (run tools/fetch_minilm.py)", file=sys.stderr)
        return 1
    cfg = json.loads((src / "config.json").read_text(encoding="utf-8"))
    n_src = cfg["num_hidden_layers"]
    assert 1 <= layers <= n_src, (layers, n_src)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    cfg["num_hidden_layers"] = layers
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    sd = load_file(str(src / "model.safetensors"))
    kept, dropped = {}, []
    for k in sorted(sd):
        parts = k.split(".")
        if "layer" in parts and parts[parts.index("layer") - 1] == "encoder" and \
                int(parts[parts.index("layer") + 1]) >= layers:
            dropped.append(k)
        else:
            kept[k] = sd[k]
    save_file(kept, str(out / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(out / "model.safetensors", 0o644)
    copied = []
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
                 "sentence_bert_config.json", "tokenizer.json"):
        if (src / name).exists():
            shutil.copy2(src / name, out / name)
            copied.append(name)
    modules = json.loads((src / "modules.json").read_text(encoding="utf-8"))
    for m in modules:
        if m["path"] and (src / m["path"]).is_dir():
            shutil.copytree(src / m["path"], out / m["path"])
            copied.append(m["path"] + "/")
    texts = read_dev(32)
    tok = BertTokenizer.from_pretrained(str(out))
    st = SentenceTransformer(str(out), device="cpu", model_kwargs={"attn_implementation": "eager"})
    st.eval()
    assert sum(1 for _ in st[0].auto_model.encoder.layer) == layers
    model = BertModel.from_pretrained(str(out), attn_implementation="eager").eval()
    max_len = st.max_seq_length
    normalize = any(type(m).__name__ == "Normalize" for m in st)
    items = []
    for text in texts:
        e = tok(text, truncation=True, max_length=max_len, return_token_type_ids=True)
        ids = list(e["input_ids"])
        assert ids == list(st.tokenizer(text, truncation=True, max_length=max_len)["input_ids"])
        emb = st.encode([text], batch_size=1, convert_to_numpy=True, show_progress_bar=False)[0]
        with torch.no_grad():
            h = model(input_ids=torch.tensor([ids])).last_hidden_state[0]
        ref = h.mean(0)
        if normalize:
            ref = torch.nn.functional.normalize(ref, dim=0)
        assert float(np.abs(ref.numpy() - emb).max()) < 1e-5
        items.append({"text": text, "input_ids": ids, "token_type_ids": list(e["token_type_ids"]),
                      "attention_mask": [1] * len(ids), "embedding": floats(emb)})
    write_json(out / "expected.json", {
        "case": out.name, "architecture": "BertModel", "family": "bert", "head": "embedding",
        "labels": [], "config": {k: cfg[k] for k in ("vocab_size", "hidden_size", "num_attention_heads",
                                                   "intermediate_size", "num_hidden_layers",
                                                   "max_position_embeddings", "type_vocab_size",
                                                   "hidden_act", "layer_norm_eps")},
        "source": str(src), "layers_kept": layers, "layers_in_source": n_src,
        "dropped_tensors": len(dropped), "copied": copied,
        "modules": [type(m).__name__ for m in st], "pooling": "mean", "normalize": normalize,
        "max_seq_length": max_len,
        "texts_source": "first 32 sentences of shared/data/sst2/dev.tsv (stripped)",
        "reference": "sentence_transformers.SentenceTransformer(folder).encode([text]) per text",
        "inputs": items, "versions": versions(), "generator": GENERATOR})
    print(f"wrote {out}: {layers}/{n_src} layers, {len(kept)} tensors kept, {len(dropped)} dropped, "
          f"{len(items)} embeddings, {time.time() - t0:.1f} s")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "heads"))
    ap.add_argument("--cases", default="", help="comma-separated subset of the case names")
    ap.add_argument("--cut-minilm", nargs="+", metavar=("SRC", "OUT"),
                    help="cut the real MiniLM folder SRC to --layers layers into OUT "
                         "(default build/heldout/minilm_l<layers>); nothing else is written")
    ap.add_argument("--layers", type=int, default=3)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)  # same summation order on every run
    if args.cut_minilm:
        if len(args.cut_minilm) > 2:
            ap.error("--cut-minilm takes SRC [OUT]")
        src = Path(args.cut_minilm[0])
        out = Path(args.cut_minilm[1]) if len(args.cut_minilm) == 2 else \
            ROOT / "build" / "heldout" / f"minilm_l{args.layers}"
        return cut_minilm(src, out, args.layers)

    t0 = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    vers = versions()
    want = [c for c in args.cases.split(",") if c]
    for case in CASES:
        if want and case["name"] not in want:
            continue
        print(f"{case['name']}:")
        make_case(case, out, vers)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"total {total} bytes ({total / 1e6:.3f} MB) in {out}; {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
