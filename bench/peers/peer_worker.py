#!/usr/bin/env python3
"""One ONNX Runtime or PyTorch engine as a long-lived worker of the peer benchmark.

Speaks the same line protocol as bench/peers/bc1s_peer.cpp on stdin/stdout, so the driver
(run_peers.py) treats every engine alike:

  exact B S id_1 .. id_{B*S}   forward on exactly B x S tokens (row-major), mask all ones
  sentence N id_1 .. id_N      one sentence, B = 1, unpadded (dynamic shapes: S = N)
  quit

  ready <weight_bytes> <setup_seconds>        once, at startup
  ok <ms> <S_run> <logit> ...                 per request; ms covers only the engine call
                                              (input arrays are built before the clock starts)
  err <message>

Engines:
  onnxruntime-fp32 / onnxruntime-int8   onnxruntime.InferenceSession on the CPU execution
      provider, graph_optimization_level ORT_ENABLE_ALL, intra_op_num_threads = --threads,
      inter_op_num_threads = 1, sequential execution
  pytorch-fp32   transformers DistilBertForSequenceClassification in eager mode,
      torch.set_num_threads(--threads), set_num_interop_threads(1), torch.inference_mode()

The thread-count environment variables (OMP_NUM_THREADS, MKL_NUM_THREADS, ...) are set from
--threads before torch or onnxruntime is imported.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
ENGINES = ("onnxruntime-fp32", "onnxruntime-int8", "pytorch-fp32")


def limit_threads(n: int) -> None:
    """Pins every threading library's default to n threads; call before importing them."""
    for var in THREAD_ENV:
        os.environ[var] = str(n)


class OrtEngine:
    """An ONNX Runtime CPU session on one .onnx file."""

    def __init__(self, path: str, threads: int):
        import numpy as np
        import onnxruntime as ort

        self.np = np
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        self.session = ort.InferenceSession(path, sess_options=so,
                                            providers=["CPUExecutionProvider"])
        self.weight_bytes = os.path.getsize(path)

    def arrays(self, ids: list[int], b: int, s: int):
        """Inputs in the engine's own format (built outside the timed region)."""
        a = self.np.asarray(ids, dtype=self.np.int64).reshape(b, s)
        return a, self.np.ones_like(a)

    def run(self, inputs) -> list[float]:
        """One forward pass; returns the B x 2 logits, flattened."""
        ids, mask = inputs
        (logits,) = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        return logits.reshape(-1).tolist()


class TorchEngine:
    """transformers' DistilBertForSequenceClassification, eager fp32."""

    def __init__(self, path: str, threads: int):
        import torch
        from safetensors import safe_open

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from models import hf_config
        from transformers import DistilBertForSequenceClassification

        self.torch = torch
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        torch.manual_seed(0)
        model = DistilBertForSequenceClassification(hf_config())
        params = dict(model.named_parameters())
        # One tensor at a time, so setup never holds two copies of the weights.
        with torch.no_grad(), safe_open(path, framework="pt") as f:
            names = set(f.keys())
            if names != set(params):
                raise RuntimeError(f"{path}: tensors do not match the model's parameters")
            for name in names:
                params[name].copy_(f.get_tensor(name))
        self.model = model.eval()
        self.weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        if torch.get_num_threads() != threads:
            raise RuntimeError(f"torch runs {torch.get_num_threads()} threads, not {threads}")

    def arrays(self, ids: list[int], b: int, s: int):
        """Inputs in the engine's own format (built outside the timed region)."""
        t = self.torch.tensor(ids, dtype=self.torch.int64).reshape(b, s)
        return t, self.torch.ones_like(t)

    def run(self, inputs) -> list[float]:
        """One forward pass; returns the B x 2 logits, flattened."""
        ids, mask = inputs
        with self.torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask).logits
        return logits.reshape(-1).tolist()


def serve(engine, stdin, stdout) -> None:
    """Answers requests until 'quit' or end of input."""
    for line in stdin:
        tok = line.split()
        if not tok:
            continue
        if tok[0] == "quit":
            break
        try:
            if tok[0] == "exact" and len(tok) >= 3:
                b, s, first = int(tok[1]), int(tok[2]), 3
            elif tok[0] == "sentence" and len(tok) >= 2:
                b, s, first = 1, int(tok[1]), 2
            else:
                raise ValueError(f"unknown request '{tok[0]}'")
            ids = [int(x) for x in tok[first:]]
            if b <= 0 or s <= 0 or len(ids) != b * s:
                raise ValueError(f"expected {b * s} ids, got {len(ids)}")
            inputs = engine.arrays(ids, b, s)
            t0 = time.perf_counter()
            logits = engine.run(inputs)
            ms = (time.perf_counter() - t0) * 1e3
            stdout.write(f"ok {ms:.6f} {s} " + " ".join(f"{v:.9g}" for v in logits) + "\n")
        except Exception as e:  # noqa: BLE001 - a bad request is answered, not fatal
            stdout.write(f"err {type(e).__name__}: {e}".replace("\n", " ") + "\n")
        stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", required=True, choices=ENGINES)
    ap.add_argument("--model", required=True,
                    help=".onnx file (onnxruntime-*) or weights .safetensors (pytorch-fp32)")
    ap.add_argument("--threads", type=int, required=True, help="exact thread count (>= 1)")
    args = ap.parse_args()
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    limit_threads(args.threads)
    import warnings
    warnings.filterwarnings("ignore")

    t0 = time.perf_counter()
    cls = TorchEngine if args.engine.startswith("pytorch") else OrtEngine
    engine = cls(args.model, args.threads)
    sys.stdout.write(f"ready {engine.weight_bytes} {time.perf_counter() - t0:.3f}\n")
    sys.stdout.flush()
    serve(engine, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
