#!/usr/bin/env python3
"""Writes tests/data/pooling/golden.json: sentence-transformers' Pooling (cls, mean, max) and
Normalize modules applied to a small seeded hidden state with padding, for
tests/nn/batching_test.cpp to compare bc1s::nn::cls_pool / mean_pool / max_pool against.

  hidden      [B][S][C] token embeddings; columns s >= lengths[b] are padding, set large (+/-4)
              so that a pooling which reads them gives a visibly wrong answer
  lengths     [B] tokens per sentence
  <mode>      [B][C] Pooling output, mode cls | mean | max
  <mode>_normalized  the same through Normalize

Run with the project's venv (torch, sentence-transformers):  .venv/bin/python tools/make_pooling_golden.py
"""
import json
import pathlib

import torch
from sentence_transformers.models import Normalize, Pooling

B, S, C = 3, 7, 6
LENGTHS = [7, 3, 1]


def main() -> None:
    g = torch.Generator().manual_seed(16)
    hidden = torch.randn(B, S, C, generator=g, dtype=torch.float32)
    mask = torch.zeros(B, S, dtype=torch.int64)
    for b, n in enumerate(LENGTHS):
        mask[b, :n] = 1
        hidden[b, n:] = 4.0 * torch.sign(torch.randn(S - n, C, generator=g))
    hidden = hidden.round(decimals=5)  # the JSON text is then exact enough to be the input
    out = {"hidden": hidden.tolist(), "lengths": LENGTHS,
           "generator": "tools/make_pooling_golden.py (sentence-transformers Pooling, Normalize)"}
    for mode in ("cls", "mean", "max"):
        pooling = Pooling(C, pooling_mode=mode)
        feats = pooling({"token_embeddings": hidden.clone(), "attention_mask": mask})
        pooled = feats["sentence_embedding"]
        out[mode] = pooled.tolist()
        out[mode + "_normalized"] = Normalize()({"sentence_embedding": pooled})[
            "sentence_embedding"].tolist()
    path = pathlib.Path(__file__).resolve().parent.parent / "tests/data/pooling/golden.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
