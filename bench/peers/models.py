#!/usr/bin/env python3
"""Prepares the peer models of the side-by-side benchmark from bc1s's synthetic weights.

Every parameter of transformers' DistilBertForSequenceClassification (distilbert_base: dim 768,
12 heads, FFN 3072, 6 layers, vocab 30522, 512 positions, 2 labels) is filled by
tools/synthetic.py, which is bit-identical to include/bc1s/io/synthetic.hpp, so bc1s's
`distilbert<distilbert_base, WT>::synthetic(seed)` holds the same values.

Writes into --cache (skipped when its manifest already matches the seed and versions):
  weights.safetensors   the fp32 state_dict (Hugging Face names); pytorch-fp32 loads it
  model-fp32.onnx       torch.onnx.export of the eval-mode model; inputs input_ids and
                        attention_mask (int64, dynamic batch and sequence), output logits;
                        onnxruntime-fp32 runs it, and openvino-fp32 / openvino-bf16 read it
                        (OpenVINO's own ONNX frontend; no separate OpenVINO IR is made)
  model-int8.onnx       onnxruntime.quantization.quantize_dynamic of model-fp32.onnx
                        (QInt8 weights, dynamically quantised uint8 activations)
  manifest.json         what was made, from what, with which versions

Run:  .venv/bin/python bench/peers/models.py --cache build-peers/cache [--seed 1234] [--force]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tools"))

MANIFEST = "manifest.json"
WEIGHTS = "weights.safetensors"
ONNX_FP32 = "model-fp32.onnx"
ONNX_INT8 = "model-int8.onnx"
ONNX_OPSET = 14


def hf_config():
    """The distilbert_base DistilBertConfig (eager attention, learned positions, 2 labels)."""
    from transformers import DistilBertConfig

    return DistilBertConfig(dim=768, n_heads=12, hidden_dim=3072, n_layers=6, vocab_size=30522,
                            max_position_embeddings=512, num_labels=2, sinusoidal_pos_embds=False,
                            activation="gelu", attn_implementation="eager")


def versions() -> dict:
    """Versions of everything that shapes the prepared files."""
    import onnx
    import onnxruntime
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__,
            "onnx_opset": ONNX_OPSET}


def is_current(cache: Path, seed: int) -> bool:
    """True when cache holds all files for this seed, made with the installed versions."""
    try:
        m = json.loads((cache / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    files_ok = all((cache / f).is_file() for f in (WEIGHTS, ONNX_FP32, ONNX_INT8))
    return files_ok and m.get("seed") == seed and m.get("versions") == versions()


def prepare(cache: Path, seed: int, force: bool = False) -> dict:
    """Makes (or reuses) the weights file and both ONNX models; returns the manifest."""
    if not force and is_current(cache, seed):
        return json.loads((cache / MANIFEST).read_text())
    warnings.filterwarnings("ignore")
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.torch import save_file
    from transformers import DistilBertForSequenceClassification

    import synthetic  # tools/synthetic.py

    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    torch.manual_seed(0)
    model = DistilBertForSequenceClassification(hf_config())
    synthetic.load_into(model, seed)
    model.eval()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()
               if k != "distilbert.embeddings.position_ids"}, str(cache / WEIGHTS))
    print(f"[models] synthetic weights (seed {seed}): {time.time() - t0:.1f} s", file=sys.stderr)

    t1 = time.time()
    ids = torch.tensor([[101, 2023, 3185, 2003, 2307, 1012, 102, 0],
                        [101, 1037, 6659, 2143, 102, 0, 0, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), str(cache / ONNX_FP32),
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "logits": {0: "batch"}},
                          opset_version=ONNX_OPSET, do_constant_folding=True)
    print(f"[models] torch.onnx.export: {time.time() - t1:.1f} s", file=sys.stderr)

    t2 = time.time()
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's pre-processing hint
    quantize_dynamic(str(cache / ONNX_FP32), str(cache / ONNX_INT8), weight_type=QuantType.QInt8)
    print(f"[models] quantize_dynamic (QInt8): {time.time() - t2:.1f} s", file=sys.stderr)

    manifest = {
        "seed": seed,
        "versions": versions(),
        "model": "transformers DistilBertForSequenceClassification, distilbert_base shape, eval, "
                 "eager attention; weights tools/synthetic.py (== bc1s io::fill_synthetic)",
        "files": {
            WEIGHTS: "fp32 state_dict (pytorch-fp32)",
            ONNX_FP32: f"torch.onnx.export, opset {ONNX_OPSET}, dynamic batch/sequence, "
                       "constant folding (onnxruntime-fp32, openvino-fp32, openvino-bf16)",
            ONNX_INT8: "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8) of "
                       f"{ONNX_FP32} (onnxruntime-int8)",
        },
        "sizes_bytes": {f: (cache / f).stat().st_size for f in (WEIGHTS, ONNX_FP32, ONNX_INT8)},
        "prepare_seconds": round(time.time() - t0, 1),
    }
    (cache / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=ROOT / "build-peers" / "cache",
                    help="output folder (default: build-peers/cache)")
    ap.add_argument("--seed", type=int, default=1234, help="synthetic weight seed (default 1234)")
    ap.add_argument("--force", action="store_true", help="remake even if the cache is current")
    args = ap.parse_args()
    # Preparation is not measured; let torch use every core.
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    manifest = prepare(args.cache, args.seed, args.force)
    print(json.dumps(manifest, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
