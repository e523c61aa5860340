#!/usr/bin/env python3
"""Writes the Hugging Face parity fixtures of bc1s into tests/data/parity/.

The reference is transformers' DistilBertForSequenceClassification (eval mode, fp32, eager
attention) whose every parameter is filled by the deterministic generator of tools/synthetic.py
(bit-identical to include/bc1s/io/synthetic.hpp), so the C++ side can rebuild the same model
from (config, seed) alone and no weight file is committed.

Run:  .venv/bin/python tools/make_parity_fixtures.py [--out tests/data/parity] [--seed 1234]
      (after tools/setup_python.sh; ~2-4 minutes on 2 idle cores)

Writes (all .npy are little-endian, C order, float32 or int32, readable by xt::load_npy):
  cases.json                     describes everything below (configs, seed, cases, files)
  synthetic_values.txt           generator fixture for tests/io/synthetic_test.cpp
  <config>/<case>.input_ids.npy        int32  [B, S]
  <config>/<case>.attention_mask.npy   int32  [B, S]   1 = token, 0 = padding
  <config>/<case>.last_hidden_state.npy float32 [B, S, dim]  HF layout (NOT bc1s (B, C, 1, S));
                                        rows where attention_mask == 0 are padding: HF still
                                        computes them, but they are not meaningful; compare only
                                        rows with mask 1
  <config>/<case>.logits.npy           float32 [B, num_labels]
  dev_input_ids.txt              the 872 SST-2 dev sentences tokenized (BertTokenizer, uncased,
                                 max_length 512, with [CLS]/[SEP], no padding): one sentence per
                                 line, ids separated by single spaces, in dev.tsv order
  <config>/dev_logits.npy        float32 [872, num_labels], each sentence unpadded (equal-length
                                 sentences batched together, mask all ones)

Comparison metric (Apple's reference tests, DESIGN.md):
  psnr = 20 * log10(max|ref| / rmse),  rmse = sqrt(mean((ref - out)^2))   (over valid elements)
"""
from __future__ import annotations

import argparse
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

CONFIGS = {
    "small": dict(dim=64, n_heads=4, hidden_dim=128, n_layers=2, vocab_size=30522,
                  max_position_embeddings=512, num_labels=2),
    "base": dict(dim=768, n_heads=12, hidden_dim=3072, n_layers=6, vocab_size=30522,
                 max_position_embeddings=512, num_labels=2),
}


def psnr(ref: np.ndarray, out: np.ndarray) -> float:
    """20*log10(max|ref| / rmse); inf when identical."""
    ref = np.asarray(ref, np.float64)
    out = np.asarray(out, np.float64)
    rmse = float(np.sqrt(np.mean((ref - out) ** 2)))
    return float("inf") if rmse == 0.0 else 20.0 * np.log10(float(np.max(np.abs(ref))) / rmse)


def read_dev() -> list[str]:
    lines = DEV_TSV.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["sentence", "label"], lines[0]
    return [ln.split("\t")[0] for ln in lines[1:] if ln.strip()]


def pick_texts(tok, dev: list[str]) -> dict[str, str]:
    """Deterministic texts for the single-sentence cases."""
    n_tok = lambda s: len(tok(s)["input_ids"])  # noqa: E731
    lens = [n_tok(s) for s in dev]
    # The dev sentence whose token count is closest to the target (first one on ties).
    closest = lambda target: dev[min(range(len(dev)), key=lambda i: (abs(lens[i] - target), i))]  # noqa: E731
    # Concatenate dev sentences in order until the token count reaches `target` tokens or more.
    def concat(target: int) -> str:
        parts, i = [], 0
        while n_tok(" ".join(parts)) < target:
            parts.append(dev[i].strip())
            i += 1
        return " ".join(parts)
    # near 128: concatenate, then drop trailing words until <= 128 tokens.
    words = concat(128).split()
    while n_tok(" ".join(words)) > 128:
        words.pop()
    return {
        "one_word": "great",
        "ten_tokens": closest(10),
        "sixty_tokens": closest(60),
        "near_128": " ".join(words),
        "unicode": "Caf\u00e9 na\u00efve fa\u00e7ade \u2014 \u00dcber-cool!! \U0001F600 ok\u2026",
        "truncated_512": concat(700),
    }


BATCH_TEXTS = [  # three lengths, padded to 32
    "a gorgeous , witty , seductive movie .",
    "it 's a charming and often affecting journey .",
    "the film is strictly routine , with lame jokes and a plot that drags on far too long "
    "before its flat ending .",
]

# Which cases each config gets, and whether last_hidden_state is stored.
CASES = {
    "small": [("one_word", True), ("ten_tokens", True), ("sixty_tokens", True), ("near_128", True),
              ("unicode", True), ("truncated_512", True), ("batch3_pad32", True)],
    # base: hidden states only for three short cases (~3 KB per token), the rest logits only.
    "base": [("one_word", True), ("ten_tokens", True), ("unicode", True),
             ("sixty_tokens", False), ("near_128", False), ("batch3_pad32", False)],
}


def build_model(cfg: dict, seed: int):
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(**cfg, sinusoidal_pos_embds=False, activation="gelu",
                              attn_implementation="eager")
    torch.manual_seed(0)
    model = DistilBertForSequenceClassification(config)
    synthetic.load_into(model, seed)
    model.eval()
    return model


def run(model, ids: np.ndarray, mask: np.ndarray):
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids.astype(np.int64)),
                    attention_mask=torch.from_numpy(mask.astype(np.int64)),
                    output_hidden_states=True)
    return (out.hidden_states[-1].numpy().astype(np.float32, copy=False),
            out.logits.numpy().astype(np.float32, copy=False))


def write_generator_fixture(path: Path) -> dict:
    """synthetic_values.txt: lines of
         fnv    NAME HASH16                           fnv1a64(NAME)
         value  NAME SEED INDEX BITS8                 float32 bits of synthetic_value
         tensor NAME SEED D0xD1x.. SUM16              synthetic.tensor_checksum of the whole
                                                      tensor: sum_i splitmix64((bits_i << 32) ^ i)
                                                      mod 2^64 (small config, every parameter,
                                                      state_dict order)
    """
    names = [
        "distilbert.embeddings.word_embeddings.weight",
        "distilbert.embeddings.position_embeddings.weight",
        "distilbert.embeddings.LayerNorm.weight",
        "distilbert.embeddings.LayerNorm.bias",
        "distilbert.transformer.layer.0.attention.q_lin.weight",
        "distilbert.transformer.layer.0.attention.q_lin.bias",
        "distilbert.transformer.layer.1.sa_layer_norm.weight",
        "distilbert.transformer.layer.5.output_layer_norm.bias",
        "distilbert.transformer.layer.3.ffn.lin1.weight",
        "classifier.bias",
        "distilbert.embeddings.position_ids",  # 'anything else' row of the table
        "",  # empty name
    ]
    scattered = [64, 100, 1000, 12345, 65535, 65536, (1 << 24) - 1, 1 << 24, 23440895,
                 (1 << 32) + 7, (1 << 63) + 1, (1 << 64) - 1]
    seeds = [1234, 0, (1 << 64) - 1, 0x0123456789ABCDEF]
    lines = []
    for name in names:
        lines.append(f"fnv {name or '-'} {synthetic.fnv1a64(name):016x}")
    for name in names:
        for seed in seeds:
            idx = (list(range(64)) if seed == 1234 else list(range(4))) + scattered
            vals = synthetic.synthetic_values(name, np.array(idx, dtype=np.uint64), seed)
            for i, v in zip(idx, vals.view(np.uint32)):
                lines.append(f"value {name or '-'} {seed} {i} {int(v):08x}")
    cfg = CONFIGS["small"]
    shapes = synthetic.distilbert_parameter_shapes(
        cfg["dim"], cfg["n_heads"], cfg["hidden_dim"], cfg["n_layers"], cfg["vocab_size"],
        cfg["max_position_embeddings"], cfg["num_labels"])
    for name, shape in shapes:
        t = synthetic.synthetic_tensor(name, shape, 1234)
        h = synthetic.tensor_checksum(t)
        lines.append(f"tensor {name} 1234 {'x'.join(map(str, shape))} {h:016x}")
    path.write_text("# bc1s synthetic-weight generator fixture, written by tools/make_parity_fixtures.py\n"
                    "# name '-' means the empty string. See the docstring of write_generator_fixture.\n"
                    + "\n".join(lines) + "\n")
    return {"file": path.name, "lines": len(lines)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "parity"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--configs", default="small,base")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    import torch
    import transformers
    from transformers import BertTokenizer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()

    tok = BertTokenizer(str(VOCAB), do_lower_case=True)
    dev = read_dev()
    texts = pick_texts(tok, dev)

    meta = {
        "about": "Hugging Face parity fixtures for bc1s; written by tools/make_parity_fixtures.py",
        "reference": "transformers DistilBertForSequenceClassification, eval, fp32, eager attention",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "seed": args.seed,
        "weights": "every parameter = synthetic_value(hf_name, flat_index, seed); "
                   "spec in include/bc1s/io/synthetic.hpp and tools/synthetic.py",
        "tokenizer": "transformers BertTokenizer(vocab.txt of distilbert-sst2, do_lower_case=True), "
                     "[CLS] ... [SEP], truncation at 512",
        "layout": "last_hidden_state is Hugging Face layout [B, S, dim] (bc1s uses (B, C, 1, S)); "
                  "rows with attention_mask 0 are padding and not meaningful",
        "npy": "little-endian, C order; input_ids/attention_mask int32, outputs float32",
        "psnr": "20*log10(max|ref| / rmse) over valid elements",
        "generator_fixture": write_generator_fixture(out / "synthetic_values.txt"),
        "configs": {},
    }

    # SST-2 dev ids, shared by all configs.
    dev_ids = [tok(s, truncation=True, max_length=512)["input_ids"] for s in dev]
    (out / "dev_input_ids.txt").write_text("\n".join(" ".join(map(str, ids)) for ids in dev_ids) + "\n")
    meta["dev"] = {"source": "sst2/dev.tsv", "input_ids": "dev_input_ids.txt", "count": len(dev_ids),
                   "format": "one sentence per line, token ids separated by spaces, dev.tsv order"}

    for cname in args.configs.split(","):
        cfg = CONFIGS[cname]
        t0 = time.time()
        model = build_model(cfg, args.seed)
        (out / cname).mkdir(exist_ok=True)
        cmeta = {**cfg, "activation": "gelu", "sinusoidal_pos_embds": False, "cases": []}
        for case, keep_hidden in CASES[cname]:
            if case == "batch3_pad32":
                enc = tok(BATCH_TEXTS, padding="max_length", max_length=32, truncation=True)
                case_texts = BATCH_TEXTS
            else:
                enc = tok([texts[case]], truncation=True, max_length=512)
                case_texts = [texts[case]]
            ids = np.asarray(enc["input_ids"], dtype=np.int32)
            mask = np.asarray(enc["attention_mask"], dtype=np.int32)
            hidden, logits = run(model, ids, mask)
            files = {"input_ids": f"{cname}/{case}.input_ids.npy",
                     "attention_mask": f"{cname}/{case}.attention_mask.npy",
                     "logits": f"{cname}/{case}.logits.npy"}
            np.save(out / files["input_ids"], np.ascontiguousarray(ids))
            np.save(out / files["attention_mask"], np.ascontiguousarray(mask))
            np.save(out / files["logits"], np.ascontiguousarray(logits))
            if keep_hidden:
                files["last_hidden_state"] = f"{cname}/{case}.last_hidden_state.npy"
                np.save(out / files["last_hidden_state"], np.ascontiguousarray(hidden))
            cmeta["cases"].append({
                "name": case, "texts": case_texts, "batch": int(ids.shape[0]), "seq_len": int(ids.shape[1]),
                "lengths": [int(x) for x in mask.sum(axis=1)], "files": files,
                "logits_values": logits.tolist(),
            })
            print(f"  {cname}/{case}: ids {ids.shape} lengths {mask.sum(axis=1).tolist()} "
                  f"logits {np.round(logits, 4).tolist()}")

        # Every dev sentence unpadded: sentences of equal length are stacked into one batch
        # (all-ones mask), which is the same computation as running each alone (B=1), only faster.
        dev_logits = np.zeros((len(dev_ids), cfg["num_labels"]), np.float32)
        by_len: dict[int, list[int]] = {}
        for i, ids in enumerate(dev_ids):
            by_len.setdefault(len(ids), []).append(i)
        for length, rows in sorted(by_len.items()):
            for at in range(0, len(rows), 64):
                chunk = rows[at:at + 64]
                ids = np.asarray([dev_ids[i] for i in chunk], np.int32)
                dev_logits[chunk] = run(model, ids, np.ones_like(ids))[1]
        np.save(out / cname / "dev_logits.npy", dev_logits)
        cmeta["dev_logits"] = f"{cname}/dev_logits.npy"
        pos = int((dev_logits.argmax(1) == 1).sum())
        print(f"  {cname}/dev_logits: {dev_logits.shape}, mean {dev_logits.mean(0)}, std {dev_logits.std(0)}, "
              f"argmax=1 for {pos}/{len(dev_logits)}; {time.time() - t0:.1f} s")
        meta["configs"][cname] = cmeta

    (out / "cases.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    # Self-check: everything reloads, and sizes.
    total = 0
    for p in sorted(out.rglob("*")):
        if p.is_file():
            if p.suffix == ".npy":
                a = np.load(p)
                assert a.dtype in (np.float32, np.int32) and a.flags.c_contiguous and np.isfinite(a).all(), p
            total += p.stat().st_size
            print(f"  {p.stat().st_size:>9}  {p.relative_to(out)}")
    print(f"total {total} bytes ({total / 1e6:.2f} MB) in {out}; {time.time() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
