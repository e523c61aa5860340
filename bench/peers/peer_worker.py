#!/usr/bin/env python3
"""One ONNX Runtime, OpenVINO or PyTorch engine as a long-lived worker of the peer benchmark.

Speaks the same line protocol as bench/peers/bc1s_peer.cpp on stdin/stdout, so the driver
(run_peers.py) treats every engine alike:

  exact B S id_1 .. id_{B*S}   forward on exactly B x S tokens (row-major), mask all ones
  sentence N id_1 .. id_N      one sentence, B = 1, unpadded (dynamic shapes: S = N)
  quit

  ready <weight_bytes> <setup_seconds> [json]  once, at startup (json: what the engine
                                              reports of itself, e.g. OpenVINO's compiled
                                              properties; recorded with the results)
  ok <ms> <S_run> <logit> ...                 per request; ms covers only the engine call
                                              (input arrays are built before the clock starts)
  err <message>

Engines:
  onnxruntime-fp32 / onnxruntime-int8   onnxruntime.InferenceSession on the CPU execution
      provider, graph_optimization_level ORT_ENABLE_ALL, intra_op_num_threads = --threads,
      inter_op_num_threads = 1, sequential execution
  openvino-fp32 / openvino-bf16   OpenVINO (openvino.Core) on the CPU device, reading the same
      model-fp32.onnx as onnxruntime-fp32; compiled with PERFORMANCE_HINT LATENCY, NUM_STREAMS 1,
      INFERENCE_NUM_THREADS = --threads and INFERENCE_PRECISION_HINT f32 / bf16, which is read
      back from every compiled model (a mismatch is fatal: on a CPU without bf16 the plugin
      would silently run f32, and on one with it the default is bf16, not f32). Shapes
      (--openvino-shapes): `auto` compiles a static copy of the model for each `exact` B x S
      request shape (model.reshape, as benchmark_app -shape does; the fastest here, by 10-20 %
      at small S) and `sentence` requests (the workload, lengths all different) run on the
      model compiled with its dynamic batch and sequence dimensions; `dynamic` runs everything
      on that one. One compiled model is held at a time: a request that needs another compiles
      it (once per grid shape, once more for the workload) before the clock starts.
  pytorch-fp32   transformers DistilBertForSequenceClassification in eager mode,
      torch.set_num_threads(--threads), set_num_interop_threads(1), torch.inference_mode()

The thread-count environment variables (OMP_NUM_THREADS, MKL_NUM_THREADS, ...) are set from
--threads before torch or onnxruntime is imported.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
ENGINES = ("onnxruntime-fp32", "onnxruntime-int8", "openvino-fp32", "openvino-bf16",
           "pytorch-fp32")


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

    def arrays(self, ids: list[int], b: int, s: int, exact: bool = True):
        """Inputs in the engine's own format (built outside the timed region)."""
        a = self.np.asarray(ids, dtype=self.np.int64).reshape(b, s)
        return a, self.np.ones_like(a)

    def run(self, inputs) -> list[float]:
        """One forward pass; returns the B x 2 logits, flattened."""
        ids, mask = inputs
        (logits,) = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        return logits.reshape(-1).tolist()


class OpenVinoEngine:
    """OpenVINO's CPU plugin on the ONNX file, at INFERENCE_PRECISION_HINT f32 or bf16."""

    def __init__(self, path: str, threads: int, precision: str, shapes: str = "auto"):
        import numpy as np
        import openvino as ov
        import openvino.properties as props
        import openvino.properties.hint as hints

        self.np, self.ov, self.hints = np, ov, hints
        self.path, self.threads, self.shapes = path, threads, shapes
        self.precision = {"fp32": ov.Type.f32, "bf16": ov.Type.bf16}[precision]
        self.config = {hints.performance_mode: hints.PerformanceMode.LATENCY,
                       props.streams.num: 1,
                       props.inference_num_threads: threads,
                       hints.inference_precision: self.precision}
        self.core = ov.Core()
        self.model = self.core.read_model(path)  # dynamic [batch, sequence] inputs
        # One compiled model at a time: the dynamic one, or a static one for shape self.shape.
        self.shape: tuple[int, int] | None = None
        self.compiled = self._compile(self.model)
        self.request = self.compiled.create_infer_request()
        self.weight_bytes = os.path.getsize(path)
        self.info = {"openvino": ov.__version__, "device": "CPU", "shapes": shapes,
                     "properties": self._properties(self.compiled)}

    def _compile(self, model):
        """Compiles for the CPU; fails unless the compiled model runs the asked precision,
        one stream and --threads threads."""
        compiled = self.core.compile_model(model, "CPU", self.config)
        got = compiled.get_property(self.hints.inference_precision)
        if got != self.precision:
            raise RuntimeError(f"OpenVINO compiled INFERENCE_PRECISION_HINT {got}, asked for "
                               f"{self.precision} (does this CPU support it?)")
        streams = int(compiled.get_property("NUM_STREAMS"))
        threads = int(compiled.get_property("INFERENCE_NUM_THREADS"))
        if streams != 1 or threads != self.threads:
            raise RuntimeError(f"OpenVINO compiled NUM_STREAMS {streams}, INFERENCE_NUM_THREADS "
                               f"{threads}; asked for 1 and {self.threads}")
        return compiled

    @staticmethod
    def _properties(compiled) -> dict:
        keys = ("INFERENCE_PRECISION_HINT", "PERFORMANCE_HINT", "NUM_STREAMS",
                "INFERENCE_NUM_THREADS", "ENABLE_CPU_PINNING", "SCHEDULING_CORE_TYPE",
                "ENABLE_HYPER_THREADING", "EXECUTION_MODE_HINT")
        out = {}
        for k in keys:
            try:
                out[k] = str(compiled.get_property(k))
            except Exception:  # noqa: BLE001 - a property this version does not have
                pass
        return out

    def arrays(self, ids: list[int], b: int, s: int, exact: bool = True):
        """Inputs, and the infer request to run them on (both made outside the timed region:
        a change between static shapes, or to or from dynamic ones, compiles here, before the
        clock starts)."""
        a = self.np.asarray(ids, dtype=self.np.int64).reshape(b, s)
        inputs = {"input_ids": a, "attention_mask": self.np.ones_like(a)}
        shape = (b, s) if exact and self.shapes == "auto" else None
        if shape != self.shape:
            self.request = self.compiled = None  # release the old one first (peak memory)
            model = self.model
            if shape is not None:
                model = self.model.clone()
                model.reshape({"input_ids": list(shape), "attention_mask": list(shape)})
            self.compiled = self._compile(model)
            self.request = self.compiled.create_infer_request()
            self.shape = shape
        return self.request, inputs

    def run(self, inputs) -> list[float]:
        """One forward pass; returns the B x 2 logits, flattened."""
        request, feed = inputs
        out = request.infer(feed, share_inputs=True)
        return out[0].reshape(-1).tolist()


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

    def arrays(self, ids: list[int], b: int, s: int, exact: bool = True):
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
            inputs = engine.arrays(ids, b, s, exact=tok[0] == "exact")
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
    ap.add_argument("--openvino-shapes", choices=("auto", "dynamic"), default="auto",
                    help="openvino-*: `auto` (default) compiles a static model per `exact` "
                         "request shape (outside the timed region) and runs sentences on the "
                         "dynamic one; `dynamic` runs everything on the dynamic one")
    args = ap.parse_args()
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    limit_threads(args.threads)
    import warnings
    warnings.filterwarnings("ignore")

    t0 = time.perf_counter()
    if args.engine.startswith("pytorch"):
        engine = TorchEngine(args.model, args.threads)
    elif args.engine.startswith("openvino"):
        engine = OpenVinoEngine(args.model, args.threads, args.engine.split("-")[1],
                                args.openvino_shapes)
    else:
        engine = OrtEngine(args.model, args.threads)
    info = getattr(engine, "info", None)
    sys.stdout.write(f"ready {engine.weight_bytes} {time.perf_counter() - t0:.3f}"
                     + (" " + json.dumps(info, separators=(",", ":")) if info else "") + "\n")
    sys.stdout.flush()
    serve(engine, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
