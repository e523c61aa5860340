#!/usr/bin/env python3
"""Accuracy of sentence embeddings on the real all-MiniLM-L6-v2 weights: bc1s and the peers
against transformers fp32, over the 872 SST-2 dev sentences.

Reference: transformers' BertModel loaded from --model (fp32, eval, torch.no_grad, eager
attention), tokenizer AutoTokenizer from the same folder (truncation at --max-length, 256 =
max_seq_length of sentence_bert_config.json); mean of last_hidden_state over the attention mask,
then L2 normalisation: what sentence-transformers does for this model (modules.json:
Transformer, Pooling mean_tokens, Normalize). Every sentence is run alone (B = 1, unpadded).
As a check of that reference, sentence-transformers itself (SentenceTransformer(--model).encode,
its own batching and padding) is one more row, when it imports.

Engines, each fed the same token ids (input_ids, attention_mask, token_type_ids; B = 1,
unpadded), each followed by the same pooling and normalisation:
  onnxruntime-fp32   torch.onnx.export of the same BertModel (opset 17, dynamic batch and
                     sequence axes, output last_hidden_state), the CPU session of
                     bench/peers/peer_worker.py (ORT_ENABLE_ALL, intra_op_num_threads = N)
  onnxruntime-int8   onnxruntime.quantization.quantize_dynamic(weight_type=QInt8) of that
                     export, as bench/peers/models.py quantises DistilBERT (per-tensor
                     weight scales)
  onnxruntime-int8-perchannel   the same with per_channel=True (one scale per output column;
                     not in the speed benchmark, here to show what the quantisation choice costs)
  openvino-fp32 / openvino-bf16   OpenVINO's CPU plugin reading the same model-fp32.onnx, with
                     peer_worker.py's settings (LATENCY, 1 stream, N threads, dynamic shapes) and
                     INFERENCE_PRECISION_HINT f32 / bf16, read back from the compiled model
  bc1s-P             build/examples/bc1s-embed --model DIR --precision P --input FILE.txt
                     --batch 1 --threads N, for every P that `bc1s-embed --help` lists (its own
                     tokenizer; its embeddings are already normalised). The output must have one
                     line per sentence, with the same texts in the same order.

The ONNX files are made once into build-peers/cache/minilm/ (model-fp32.onnx, model-int8.onnx,
model-int8-perchannel.onnx, manifest.json; remade when the versions or the sha256 of the model's
weights or config change), like models.py; the sentences file bc1s-embed reads is written there
too (<data stem>.txt).

Per engine: the cosine of each sentence's embedding with the reference (min, mean, how many
below 0.999 and below 0.99), and top-1 nearest-neighbour agreement: for each sentence, its
nearest other sentence by cosine among all of them under that engine's embeddings, compared
with its nearest under the reference (the fraction that agree). An engine that fails is a row
with its error, never dropped.

Writes bench/results/<YYYY-MM-DD>-<tag>-minilm-accuracy.{json,md}.

Run:  .venv/bin/python bench/peers/minilm_accuracy.py [--tag vm] [--threads 2]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import re
import subprocess
import sys
import time
import traceback
import warnings
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import peer_worker  # noqa: E402  (bench/peers/peer_worker.py: thread limits, ORT/OV engines)

SHARED = Path(os.environ.get("BC1S_SHARED_DATA", ROOT.parent / "shared" / "data"))
ONNX_OPSET = 17
MANIFEST = "manifest.json"
ONNX_FP32 = "model-fp32.onnx"
ONNX_INT8 = "model-int8.onnx"
ONNX_INT8_PC = "model-int8-perchannel.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PEERS = ("onnxruntime-fp32", "onnxruntime-int8", "onnxruntime-int8-perchannel", "openvino-fp32",
         "openvino-bf16")
PEER_ONNX = {"onnxruntime-fp32": ONNX_FP32, "onnxruntime-int8": ONNX_INT8,
             "onnxruntime-int8-perchannel": ONNX_INT8_PC}
REFERENCE = "transformers-fp32"
ST_CHECK = "sentence-transformers-fp32"
THRESHOLDS = (0.999, 0.99)


def log(msg: str) -> None:
    print(f"[minilm-accuracy] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------- inputs

def read_sentences(tsv: Path) -> list[str]:
    """The `sentence` column of an SST-2 .tsv, verbatim (no quoting in these files)."""
    with tsv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    col = rows[0].index("sentence")
    out = [r[col] for r in rows[1:] if r]
    for i, s in enumerate(out):
        if "\n" in s or "\r" in s:
            raise ValueError(f"{tsv}: sentence {i + 1} holds a line break")
    return out


def tokenize(model_dir: Path, sentences: list[str], max_length: int):
    """Token ids (int64 numpy arrays, one row each) from the folder's own tokenizer."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    enc = []
    for s in sentences:
        e = tok(s, truncation=True, max_length=max_length, return_tensors="np")
        enc.append({k: e[k].astype("int64") for k in INPUTS})
    return tok, enc


def mean_pool_normalise(hidden, mask):
    """sentence-transformers' Pooling (mean_tokens) + Normalize, in numpy float64:
    sum(h * mask) / clamp(sum(mask), 1e-9), then divided by max(||.||, 1e-12)."""
    import numpy as np

    h = np.asarray(hidden, dtype=np.float64)
    m = np.asarray(mask, dtype=np.float64)[..., None]
    v = (h * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


# ----------------------------------------------------------------------- reference and ONNX

def load_bert(model_dir: Path):
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(str(model_dir), torch_dtype=torch.float32,
                                      attn_implementation="eager")
    return model.eval()


def reference_embeddings(model, enc):
    import numpy as np
    import torch

    out = []
    with torch.no_grad():
        for e in enc:
            t = {k: torch.from_numpy(e[k]) for k in INPUTS}
            h = model(**t).last_hidden_state
            out.append(mean_pool_normalise(h.numpy(), e["attention_mask"])[0])
    return np.stack(out)


def sentence_transformers_embeddings(model_dir: Path, sentences: list[str]):
    """sentence-transformers itself (its default batching, with padding), as a check of the
    reference; fp32 on the CPU."""
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu")
    return st.encode(sentences, batch_size=32, convert_to_numpy=True, normalize_embeddings=False,
                     show_progress_bar=False)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict:
    import models  # bench/peers/models.py: torch, transformers, onnxruntime, onnx versions

    return {**models.versions(), "onnx_opset": ONNX_OPSET}


def prepare_onnx(cache: Path, model_dir: Path, model, force: bool = False) -> dict:
    """Exports the BertModel to ONNX and quantises it, once; reuses the cache while its manifest
    matches the installed versions and the model's files."""
    source = {f: sha256(model_dir / f) for f in ("model.safetensors", "config.json")}
    try:
        m = json.loads((cache / MANIFEST).read_text())
        if (not force and m.get("versions") == versions() and m.get("source") == source
                and all((cache / f).is_file() for f in (ONNX_FP32, ONNX_INT8, ONNX_INT8_PC))):
            return m
    except (OSError, ValueError):
        pass
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    cache.mkdir(parents=True, exist_ok=True)

    class LastHidden(torch.nn.Module):
        """BertModel with last_hidden_state as its one output."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids, return_dict=False)[0]

    t0 = time.time()
    ids = torch.tensor([[101, 2023, 3185, 2003, 2307, 1012, 102, 0],
                        [101, 1037, 6659, 2143, 102, 0, 0, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHidden(model).eval(), (ids, mask, types), str(cache / ONNX_FP32),
                          input_names=list(INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes={**{k: axes for k in INPUTS}, "last_hidden_state": axes},
                          opset_version=ONNX_OPSET, do_constant_folding=True)
    log(f"torch.onnx.export (opset {ONNX_OPSET}): {time.time() - t0:.1f} s")
    t1 = time.time()
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's pre-processing hint
    try:
        quantize_dynamic(str(cache / ONNX_FP32), str(cache / ONNX_INT8),
                         weight_type=QuantType.QInt8)
        quantize_dynamic(str(cache / ONNX_FP32), str(cache / ONNX_INT8_PC),
                         weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().setLevel(level)
    log(f"quantize_dynamic (QInt8; per tensor and per channel): {time.time() - t1:.1f} s")
    manifest = {
        "versions": versions(),
        "source": source,
        "model": f"transformers BertModel from {model_dir.name} (fp32, eval, eager attention), "
                 "output last_hidden_state",
        "files": {
            ONNX_FP32: f"torch.onnx.export, opset {ONNX_OPSET}, inputs {', '.join(INPUTS)} "
                       "(int64, dynamic batch/sequence), constant folding (onnxruntime-fp32, "
                       "openvino-fp32, openvino-bf16)",
            ONNX_INT8: "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8) of "
                       f"{ONNX_FP32} (onnxruntime-int8)",
            ONNX_INT8_PC: "the same with per_channel=True (onnxruntime-int8-perchannel)",
        },
        "sizes_bytes": {f: (cache / f).stat().st_size
                        for f in (ONNX_FP32, ONNX_INT8, ONNX_INT8_PC)},
        "prepare_seconds": round(time.time() - t0, 1),
    }
    (cache / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


# ---------------------------------------------------------------------------------- engines

def run_peer(engine: str, cache: Path, enc, threads: int):
    """One ONNX Runtime or OpenVINO engine over every sentence; returns (embeddings, info)."""
    import numpy as np

    info: dict = {}
    if engine.startswith("onnxruntime-"):
        path = cache / PEER_ONNX[engine]
        session = peer_worker.OrtEngine(str(path), threads).session
        names = [i.name for i in session.get_inputs()]

        def forward(e):
            return session.run(["last_hidden_state"], {k: e[k] for k in names})[0]
        info["model"] = path.name
    else:
        precision = engine.split("-")[1]  # fp32 / bf16
        ov = peer_worker.OpenVinoEngine(str(cache / ONNX_FP32), threads, precision,
                                        shapes="dynamic")
        info.update(ov.info)
        info["model"] = ONNX_FP32
        request = ov.request

        def forward(e):
            out = request.infer({k: e[k] for k in INPUTS}, share_inputs=False)
            return np.array(out[0], copy=True)
    out = [mean_pool_normalise(forward(e), e["attention_mask"])[0] for e in enc]
    return np.stack(out), info


def bc1s_precisions(binary: Path) -> tuple[list[str], str]:
    """The --precision values that `bc1s-embed --help` lists (the text from the --precision
    line to the next option); falls back to the usage error of an invalid value."""
    r = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=60)
    text = r.stdout + r.stderr
    block, inside = [], False
    for line in text.splitlines():
        if re.match(r"\s*--precision\b", line):
            inside = True
        elif inside and re.match(r"\s*--\w", line):
            break
        if inside:
            block.append(line)
    source = "bc1s-embed --help"
    if not block:
        r = subprocess.run([str(binary), "--precision", "?"], capture_output=True, text=True,
                           timeout=60)
        block, source = [r.stderr], "bc1s-embed --precision ? (usage error)"
    # Names like fp16, bf16, fp32, int8, outside parentheses (remarks) and not "fp32-accurate".
    text = re.sub(r"\([^)]*\)", " ", " ".join(block))
    found = re.findall(r"\b((?:fp|bf|int|uint)\d+)\b(?!-)", text)
    return list(dict.fromkeys(found)), source


def write_sentences(path: Path, sentences: list[str]) -> Path:
    """The sentences, one per line (bc1s-embed --input reads a non-.tsv file that way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(s + "\n" for s in sentences)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def run_bc1s(binary: Path, model_dir: Path, precision: str, sentences: list[str],
             threads: int, txt: Path):
    """bc1s-embed over the sentences in txt (one per line); returns (embeddings, info)."""
    import numpy as np

    argv = [str(binary), "--model", str(model_dir), "--precision", precision, "--input",
            str(txt), "--batch", "1", "--threads", str(threads)]
    t0 = time.time()
    r = subprocess.run(argv, capture_output=True, timeout=3600)
    info = {"argv": [os.path.relpath(a, ROOT) if os.path.isabs(a) and a.startswith(str(ROOT))
                     else a for a in argv], "exit_status": r.returncode,
            "seconds": round(time.time() - t0, 2)}
    err = r.stderr.decode("utf-8", "replace").strip()
    if err:
        info["stderr"] = err[-2000:]
    if r.returncode != 0:
        raise RuntimeError(f"exit status {r.returncode}: {err[-500:] or '(no stderr)'}")
    lines = [json.loads(x) for x in r.stdout.decode("utf-8").splitlines() if x.strip()]
    if len(lines) != len(sentences):
        raise RuntimeError(f"{len(lines)} output lines for {len(sentences)} sentences")
    bad = [i for i, (j, s) in enumerate(zip(lines, sentences)) if j["text"] != s]
    if bad:
        raise RuntimeError(f"{len(bad)} output texts differ from the input (first: line "
                           f"{bad[0] + 1}: {lines[bad[0]]['text']!r} vs {sentences[bad[0]]!r})")
    emb = np.asarray([j["embedding"] for j in lines], dtype=np.float64)
    norms = np.linalg.norm(emb, axis=1)
    info["norm_min_max"] = [float(norms.min()), float(norms.max())]
    return emb, info


# ---------------------------------------------------------------------------------- metrics

def nearest(emb):
    """Index of each row's nearest other row by cosine."""
    import numpy as np

    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sim = e @ e.T
    np.fill_diagonal(sim, -np.inf)
    return sim.argmax(axis=1), sim


def compare(emb, ref, ref_nn, ref_sim, sentences) -> dict:
    import numpy as np

    if emb.shape != ref.shape:
        raise RuntimeError(f"embeddings of shape {emb.shape}, reference {ref.shape}")
    if not np.isfinite(emb).all():
        raise RuntimeError("non-finite values in the embeddings")
    cos = (emb * ref).sum(axis=1) / (np.linalg.norm(emb, axis=1) * np.linalg.norm(ref, axis=1))
    nn, _ = nearest(emb)
    agree = nn == ref_nn
    worst = int(cos.argmin())
    return {
        "n": int(len(cos)),
        "cos_min": float(cos.min()), "cos_mean": float(cos.mean()),
        "cos_median": float(np.median(cos)),
        **{f"below_{t}": int((cos < t).sum()) for t in THRESHOLDS},
        "worst": {"index": worst, "sentence": sentences[worst], "cos": float(cos[worst])},
        "nn_agree": int(agree.sum()), "nn_agreement": float(agree.mean()),
        # Each disagreement: how close the reference's two candidates are under the reference.
        "nn_disagreements": [
            {"index": int(i), "ref_nn": int(ref_nn[i]), "engine_nn": int(nn[i]),
             "ref_cos_to_ref_nn": float(ref_sim[i, ref_nn[i]]),
             "ref_cos_to_engine_nn": float(ref_sim[i, nn[i]])}
            for i in np.flatnonzero(~agree)],
    }


# ---------------------------------------------------------------------------------- reports

def git(*a: str) -> str:
    r = subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True)
    return r.stdout.strip()


def package_versions() -> dict:
    out = {}
    for p in ("torch", "transformers", "onnxruntime", "openvino", "onnx", "numpy",
              "sentence-transformers", "tokenizers"):
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def cpu_name() -> str:
    try:
        m = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
        return m.group(1) if m else platform.processor()
    except OSError:
        return platform.processor()


def short_error(msg: str, n: int = 120) -> str:
    one = " ".join(msg.split()).replace("|", "\\|")
    return one if len(one) <= n else one[: n - 3] + "..."


def markdown(res: dict) -> str:
    s = res["settings"]
    out = [f"## all-MiniLM-L6-v2 embeddings vs transformers fp32, SST-2 dev ({res['date'][:10]})",
           ""]
    out.append(f"Date: {res['date']}. Commit: `{res['git']['commit']}`"
               f"{' (working tree dirty)' if res['git']['dirty'] else ''}. Machine: "
               f"{res['machine']['cpu']}, {res['machine']['logical_cpus']} logical CPUs. "
               "Versions: " + ", ".join(f"{k} {v}" for k, v in res["versions"].items() if v)
               + ".")
    out.append("")
    out.append(f"Command: `{s['command']}`")
    out.append("")
    out.append(f"{s['sentences']} sentences of `{s['data']}`; reference: transformers "
               f"`BertModel` fp32 (eval, no_grad, eager attention) from `{s['model']}`, "
               f"tokenizer from the same folder (truncation at {s['max_length']}, longest "
               f"sentence {s['max_tokens']} tokens), one sentence per forward pass, mean pooling "
               "over the attention mask, then L2 normalisation. Peers get the same token ids "
               f"(B = 1, unpadded); bc1s-embed tokenizes itself (`--batch 1`). Threads: "
               f"{s['threads']} for every engine. Cosine: each sentence's embedding against the "
               "reference. Top-1 NN agreement: for each sentence, its nearest other sentence by "
               "cosine among all of them, under the engine's embeddings vs under the reference.")
    out.append("")
    out.append("| engine | min cosine | mean cosine | < 0.999 | < 0.99 | top-1 NN agreement | "
               "1 - min cosine |")
    out.append("|---|---|---|---|---|---|---|")
    errors = []
    for r in res["engines"]:
        if "error" in r:
            errors.append(r)
            out.append(f"| {r['engine']} | error: {short_error(r['error'])} | - | - | - | - | - |")
            continue
        m = r["metrics"]
        out.append(f"| {r['engine']} | {m['cos_min']:.6f} | {m['cos_mean']:.6f} | "
                   f"{m['below_0.999']} | {m['below_0.99']} | {m['nn_agree']}/{m['n']} "
                   f"({100 * m['nn_agreement']:.2f} %) | {1 - m['cos_min']:.1e} |")
    out.append("")
    margins = []
    for r in res["engines"]:
        d = r.get("metrics", {}).get("nn_disagreements")
        if d:
            gap = max(x["ref_cos_to_ref_nn"] - x["ref_cos_to_engine_nn"] for x in d)
            margins.append(f"{r['engine']} {len(d)}, largest {gap:.2g}")
    if margins:
        out.append("NN disagreements and how far apart the two candidates are under the "
                   "reference (cosine to the reference's nearest minus cosine to the engine's "
                   "pick): " + "; ".join(margins) + ".")
        out.append("")
    if any(r["engine"] == ST_CHECK for r in res["engines"]):
        out.append(f"`{ST_CHECK}`: sentence-transformers' own `SentenceTransformer(...).encode` "
                   "(batches of 32, padded), a check that the reference is what "
                   "sentence-transformers computes.")
        out.append("")
    if any(r["engine"] == "onnxruntime-int8-perchannel" for r in res["engines"]):
        out.append("`onnxruntime-int8` is `quantize_dynamic(weight_type=QInt8)` as in the speed "
                   "benchmark (bench/peers/models.py: one scale per weight tensor); "
                   "`onnxruntime-int8-perchannel` adds `per_channel=True`.")
        out.append("")
    bc1s = [r for r in res["engines"] if r["engine"].startswith("bc1s-")]
    if res.get("bc1s_precisions_source"):
        out.append(f"bc1s precisions {', '.join(res['bc1s_precisions'])} (from "
                   f"`{res['bc1s_precisions_source']}`); command per precision: `"
                   + " ".join(bc1s[0]["info"]["argv"]).replace(
                       f"--precision {bc1s[0]['engine'][5:]}", "--precision P") + "`."
                   if bc1s and "argv" in bc1s[0].get("info", {}) else
                   f"bc1s precisions: {res['bc1s_precisions']}.")
        out.append("")
    for r in errors:
        out.append(f"Error, {r['engine']}: `{' '.join(r['error'].split())[:1500]}`")
        out.append("")
    out.append(f"Raw data (per-engine worst sentence, every NN disagreement, OpenVINO's compiled "
               f"properties, the ONNX cache manifest): `{res['stem']}.json`.")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------- main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "all-MiniLM-L6-v2",
                    help="sentence-transformers folder (default models/all-MiniLM-L6-v2)")
    ap.add_argument("--data", type=Path, default=SHARED / "sst2" / "dev.tsv",
                    help="a .tsv with a `sentence` column (default <shared>/data/sst2/dev.tsv)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every engine (2)")
    ap.add_argument("--max-length", type=int, default=256,
                    help="truncation, tokens (256 = max_seq_length of the model)")
    ap.add_argument("--tag", default="vm", help="results name: <date>-<tag>-minilm-accuracy")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "results",
                    help="where the .json and .md go (default bench/results)")
    ap.add_argument("--cache", type=Path, default=ROOT / "build-peers" / "cache" / "minilm",
                    help="ONNX files and the sentences file (default build-peers/cache/minilm)")
    ap.add_argument("--bc1s-embed", type=Path, default=ROOT / "build" / "examples" / "bc1s-embed",
                    help="the bc1s-embed binary (default build/examples/bc1s-embed)")
    ap.add_argument("--engines", default=None,
                    help="comma-separated subset (default: sentence-transformers check, the five "
                         "peers and bc1s at every precision it lists)")
    ap.add_argument("--limit", type=int, default=None,
                    help="first N sentences only (smoke test; '-firstN' is added to the name)")
    ap.add_argument("--force", action="store_true", help="remake the ONNX files")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    peer_worker.limit_threads(args.threads)  # before torch / onnxruntime are imported
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch on OpenBLAS (see README)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no warning when bc1s forks
    warnings.filterwarnings("ignore")
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    t_start = time.time()
    command = os.environ.get("BC1S_ACCURACY_COMMAND") or " ".join(
        [os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT))
         else sys.executable, "bench/peers/minilm_accuracy.py",
         *(sys.argv[1:] if argv is None else argv)])

    sentences = read_sentences(args.data)
    if args.limit:
        sentences = sentences[: args.limit]
    log(f"{len(sentences)} sentences from {args.data}; threads {args.threads}")
    tok, enc = tokenize(args.model, sentences, args.max_length)
    model = load_bert(args.model)
    t0 = time.time()
    ref = reference_embeddings(model, enc)
    log(f"reference ({REFERENCE}): {time.time() - t0:.1f} s")
    ref_nn, ref_sim = nearest(ref)

    precisions, prec_source = [], None
    if args.bc1s_embed.is_file():
        try:
            precisions, prec_source = bc1s_precisions(args.bc1s_embed)
        except Exception as e:  # noqa: BLE001 - reported as an engine error below
            precisions = []
            prec_source = f"failed: {e}"
    engines = [ST_CHECK, *PEERS, *(f"bc1s-{p}" for p in precisions)]
    if not precisions:
        engines.append("bc1s")  # a row that says why there is no bc1s
    if args.engines:
        wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
        unknown = [e for e in wanted if e not in engines]
        if unknown:
            log(f"unknown engines {unknown}; known: {engines}")
            return 2
        engines = wanted

    manifest, manifest_error = None, None
    if any(e in PEERS for e in engines):
        try:
            manifest = prepare_onnx(args.cache, args.model, model, args.force)
        except Exception:  # noqa: BLE001 - every peer row then carries the error
            manifest_error = traceback.format_exc(limit=3)
            log(f"ONNX export failed:\n{manifest_error}")
    del model

    txt = args.cache / (args.data.stem + (f"-first{args.limit}" if args.limit else "") + ".txt")
    rows = []
    for engine in engines:
        t0 = time.time()
        row: dict = {"engine": engine}
        try:
            if engine == ST_CHECK:
                emb, info = sentence_transformers_embeddings(args.model, sentences), {
                    "batch_size": 32}
            elif engine in PEERS:
                if manifest_error:
                    raise RuntimeError(f"ONNX export failed: {manifest_error}")
                emb, info = run_peer(engine, args.cache, enc, args.threads)
            elif engine == "bc1s":
                raise RuntimeError(
                    f"no bc1s-embed at {args.bc1s_embed} (build it: cmake --build build "
                    "--target bc1s-embed)" if not args.bc1s_embed.is_file() else
                    f"no --precision values found ({prec_source})")
            else:
                emb, info = run_bc1s(args.bc1s_embed, args.model, engine[5:], sentences,
                                     args.threads, write_sentences(txt, sentences))
            row["info"] = info
            row["metrics"] = compare(np.asarray(emb, dtype=np.float64), ref, ref_nn,
                                     ref_sim, sentences)
            m = row["metrics"]
            log(f"{engine}: min cos {m['cos_min']:.6f}, mean {m['cos_mean']:.6f}, "
                f"NN {m['nn_agree']}/{m['n']} ({time.time() - t0:.1f} s)")
        except Exception as e:  # noqa: BLE001 - the row reports it
            row["error"] = f"{type(e).__name__}: {e}"
            log(f"{engine}: ERROR {row['error']}")
        row["seconds"] = round(time.time() - t0, 2)
        rows.append(row)

    now = dt.datetime.now().astimezone()
    stem = f"{now:%Y-%m-%d}-{args.tag}-minilm-accuracy" + (f"-first{args.limit}"
                                                          if args.limit else "")
    result = {
        "date": now.isoformat(timespec="seconds"),
        "stem": stem,
        "git": {"commit": git("rev-parse", "--short", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
        "machine": {"cpu": cpu_name(), "logical_cpus": os.cpu_count(),
                    "host": platform.node(), "kernel": platform.release(),
                    "python": platform.python_version(),
                    "loadavg_end": list(os.getloadavg())},
        "versions": package_versions(),
        "settings": {
            "command": command, "model": os.path.relpath(args.model, ROOT),
            "data": str(args.data), "sentences": len(sentences), "threads": args.threads,
            "max_length": args.max_length,
            "max_tokens": int(max(e["input_ids"].shape[1] for e in enc)),
            "tokenizer": type(tok).__name__,
            "reference": "transformers BertModel fp32, eval, no_grad, eager attention; B = 1 "
                         "unpadded; mean pooling over attention_mask, L2 normalisation",
            "thread_env": {k: os.environ.get(k) for k in (*peer_worker.THREAD_ENV,
                                                          "OMP_WAIT_POLICY")},
            "bc1s_embed": os.path.relpath(args.bc1s_embed, ROOT),
            "wall_s": round(time.time() - t_start, 1),
        },
        "bc1s_precisions": precisions,
        "bc1s_precisions_source": prec_source,
        "onnx_cache": {"dir": os.path.relpath(args.cache, ROOT), "manifest": manifest},
        "engines": rows,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    md = markdown(result)
    (args.out_dir / f"{stem}.md").write_text(md)
    print(md)
    log(f"wrote {args.out_dir / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
