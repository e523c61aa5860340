#!/usr/bin/env python3
"""Side-by-side benchmark of bc1s against ONNX Runtime, OpenVINO and PyTorch on this machine.

Every engine runs the same DistilBERT (distilbert_base shape, random weights from bc1s's seeded
generator, seed 1234 by default) on the same token ids, each in its own long-lived worker
process that is limited to exactly `threads` threads:

  bc1s-fp16, bc1s-fp32   bench/peers/bc1s_peer (fp16 / fp32 weight storage), thread_pool(N)
  bc1s-bf16              the same with --precision bf16, run only where this bc1s_peer accepts
                         that (a dry run at startup; see BC1S_ENGINES)
  onnxruntime-fp32       ONNX Runtime CPU EP, ORT_ENABLE_ALL, intra_op N, inter_op 1, on the
                         torch.onnx.export of the same model
  onnxruntime-int8       the same after onnxruntime.quantization.quantize_dynamic (QInt8)
  openvino-fp32,         OpenVINO's CPU plugin on the same ONNX file as onnxruntime-fp32,
  openvino-bf16          PERFORMANCE_HINT LATENCY, NUM_STREAMS 1, INFERENCE_NUM_THREADS N,
                         INFERENCE_PRECISION_HINT f32 / bf16 (read back after compiling; a
                         mismatch is fatal); a static model compiled per latency shape, outside
                         the timed region, and dynamic shapes for the workload (see
                         --openvino-shapes)
  pytorch-fp32           transformers' DistilBertForSequenceClassification, eager,
                         torch.set_num_threads(N), OMP_WAIT_POLICY=PASSIVE (its GEMMs run on
                         OpenBLAS's own threads; see --torch-omp-wait-policy)

The driver sends one request per line over each worker's stdin and reads one reply line; every
worker times its own forward pass (no parsing, no IPC) and returns the logits. Requests
alternate between engines after warm-up (each round a seeded shuffle), so slow drift of the
machine hits every engine alike, and each timed request waits until no worker process is using
the CPU (the threads of the engine before may still spin). Peak RSS is each worker's VmHWM
(/proc/<pid>/status).

Measured:
  latency   B = 1 with S in {8, 16, 32, 64, 128, 256, 512} and B = 8 with S = 128; random ids
            ([CLS] ... [SEP]), attention mask all ones, no padding for any engine; median and
            minimum of --reps runs; threads 1 and 2.
  workload  the sentences of SST-2 test.tsv one at a time (B = 1), tokenized once with
            transformers' BertTokenizer (the real vocab, lower-cased), every engine gets it
            unpadded: bc1s's (B, C, 1, S) layout already pads each row's storage to 64 bytes and
            its kernels compute only the S valid columns, so a sentence's own bucket is its length
            (--bucket N pads bc1s to multiples of N, masked, to show what padding costs); total
            seconds and p50 / p99 per sentence. Engines take turns in blocks of --workload-block
            sentences (default 50), so that none runs while another's threads still spin.
  parity    the logits of every engine against pytorch-fp32 for one sentence at startup and for
            every latency shape (max abs diff; a warning above 1e-2, or above --int8-tol for
            the int8 engines, --bf16-tol for the bf16 ones).

Writes bench/results/<date>-<host>.json, .md (a table for bench/RESULTS.md) and .png (latency
vs S, log-log, one line per engine, one panel per thread count); `--quick` adds `-quick` to the
names. Usually run through bench/peers/run.sh, which builds bc1s_peer and the models first.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import models  # noqa: E402  (bench/peers/models.py)

# The bc1s engines: bench/peers/bc1s_peer --precision VALUE. One whose precision is not in
# BC1S_BUILTIN runs only where this bc1s_peer accepts it (bc1s_accepts, a dry run at startup):
# it is left out of the default engine list elsewhere, so adding an engine is one line here (and
# a colour in ENGINE_STYLE), before or after bc1s_peer learns the precision.
BC1S_ENGINES = {"bc1s-fp16": "fp16", "bc1s-fp32": "fp32", "bc1s-bf16": "bf16", "bc1s-int8": "int8"}
BC1S_BUILTIN = ("fp16", "fp32")
# The peers (bench/peers/peer_worker.py): engine -> the prepared file it loads (models.py).
PEER_MODELS = {"onnxruntime-fp32": models.ONNX_FP32, "onnxruntime-int8": models.ONNX_INT8,
               "openvino-fp32": models.ONNX_FP32, "openvino-bf16": models.ONNX_FP32,
               "pytorch-fp32": models.WEIGHTS}
PEERS = tuple(PEER_MODELS)
ENGINES = (*BC1S_ENGINES, *PEERS)  # also the order of the tables' columns
REFERENCE_ORDER = ("pytorch-fp32", "onnxruntime-fp32", "openvino-fp32", "bc1s-fp32",
                   "bc1s-fp16", "bc1s-bf16", "openvino-bf16", "bc1s-int8", "onnxruntime-int8")
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
FULL_SHAPES = [(1, s) for s in (8, 16, 32, 64, 128, 256, 512)] + [(8, 128)]
QUICK_SHAPES = [(1, 8), (1, 128)]
SHARED = Path(os.environ.get("BC1S_SHARED_DATA", ROOT.parent / "shared" / "data"))
CLS_ID, SEP_ID = 101, 102
PARITY_TOL = 1e-2


def log(msg: str) -> None:
    """Progress on stderr (stdout stays free for the summary)."""
    print(f"[peers] {msg}", file=sys.stderr, flush=True)


class Worker:
    """One engine in its own process, answering one request line with one reply line."""

    def __init__(self, engine: str, threads: int, argv: list[str], env: dict[str, str]):
        self.engine, self.threads = engine, threads
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, text=True, bufsize=1)
        ready = self._read()
        if not ready.startswith("ready "):
            raise RuntimeError(f"{engine}: expected 'ready', got {ready!r}")
        # ready <weight_bytes> <setup_s> [json: what the engine reports of itself]
        _, weight_bytes, setup_s, *info = ready.split(maxsplit=3)
        self.weight_bytes, self.setup_s = int(weight_bytes), float(setup_s)
        self.info = json.loads(info[0]) if info else None

    def _read(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise RuntimeError(f"{self.engine} (threads {self.threads}) exited with {code}")
        return line.strip()

    def ask(self, request: str) -> tuple[float, int, np.ndarray]:
        """Sends one request; returns (in-engine ms, sequence length run, logits)."""
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        reply = self._read()
        if not reply.startswith("ok "):
            raise RuntimeError(f"{self.engine}: {reply}")
        parts = reply.split()
        return float(parts[1]), int(parts[2]), np.asarray(parts[3:], dtype=np.float64)

    def peak_rss_mb(self) -> float:
        """VmHWM of the worker process, in MiB."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = int(re.search(r"^VmHWM:\s+(\d+)\s+kB", status, re.M).group(1))
        return kb / 1024.0

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def engine_argv(engine: str, threads: int, args, cache: Path) -> list[str]:
    """The command line of one engine's worker."""
    if engine in BC1S_ENGINES:
        return [str(args.bc1s_peer), "--precision", BC1S_ENGINES[engine], "--threads",
                str(threads), "--seed", str(args.seed), "--max-batch", "8", "--max-seq", "512",
                "--bucket", str(args.bucket)]
    argv = [sys.executable, str(HERE / "peer_worker.py"), "--engine", engine, "--model",
            str(cache / PEER_MODELS[engine]), "--threads", str(threads)]
    if engine.startswith("openvino"):
        argv += ["--openvino-shapes", args.openvino_shapes]
    return argv


def bc1s_accepts(peer: Path, precision: str) -> tuple[bool, str]:
    """Whether bc1s_peer runs --precision `precision`: a dry run on the smallest workspace that
    answers 'quit' (an unknown precision exits at once with its usage); returns (accepted, why
    not)."""
    argv = [str(peer), "--precision", precision, "--threads", "1", "--max-batch", "1",
            "--max-seq", "8"]
    try:
        r = subprocess.run(argv, input="quit\n", capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    if r.stdout.startswith("ready ") and r.returncode == 0:
        return True, ""
    return False, (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[0]


def engine_env(engine: str, threads: int, args) -> dict[str, str]:
    """Environment of a worker: every thread-count variable set to `threads`; for PyTorch also
    OMP_WAIT_POLICY (see --torch-omp-wait-policy); then --peer-env for the peers."""
    env = dict(os.environ)
    for var in THREAD_ENV:
        env[var] = str(threads)
    if engine.startswith("pytorch") and args.torch_omp_wait_policy != "default":
        env["OMP_WAIT_POLICY"] = args.torch_omp_wait_policy
    for item in (args.peer_env if engine in PEERS else []):
        key, _, value = item.partition("=")
        env[key] = value
    return env


def round_order(engines: list[str], r: int, prev: str | None) -> list[str]:
    """Engine order of timed round r: a seeded shuffle per round, so each engine follows each
    of the others about equally often (a rotation by one would keep every engine's predecessor
    fixed); the first is never `prev`, the engine that ran last, so none runs twice in a row."""
    order = list(engines)
    if len(order) < 2:
        return order
    random.Random(1000 + r).shuffle(order)
    if order[0] == prev:
        order[0], order[1] = order[1], order[0]
    return order


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of process pid so far, in ns (Linux schedstat); 0 if unknown."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return 0
    return total


class Quiet:
    """Waits, before each timed request, until no worker process uses the CPU: ONNX Runtime's
    threads spin for a while after a run, and OpenBLAS's (under PyTorch) for up to 2^28 cycles,
    so a fixed pause did not always cover them and whichever engine came next lost a core.
    Measured over `window` seconds; gives up after `limit` seconds (counted in `timeouts`)."""

    def __init__(self, window: float = 0.02, busy_ns: int = 1_000_000, limit: float = 3.0):
        self.window, self.busy_ns, self.limit = window, busy_ns, limit
        self.waits, self.waited_s, self.timeouts = 0, 0.0, 0

    def wait(self, workers) -> None:
        pids = [w.proc.pid for w in workers]
        t0 = time.monotonic()
        before = [cpu_ns(p) for p in pids]
        while True:
            time.sleep(self.window)
            after = [cpu_ns(p) for p in pids]
            if all(a - b < self.busy_ns for a, b in zip(after, before)):
                break
            if time.monotonic() - t0 > self.limit:
                self.timeouts += 1
                break
            before = after
        self.waits += 1
        self.waited_s += time.monotonic() - t0

    def summary(self) -> dict:
        return {"window_s": self.window, "busy_ns": self.busy_ns, "limit_s": self.limit,
                "waits": self.waits, "mean_wait_ms": round(1e3 * self.waited_s /
                                                           max(1, self.waits), 2),
                "timeouts": self.timeouts}


def grid_ids(b: int, s: int, seed: int) -> list[int]:
    """Deterministic random ids for one latency shape: [CLS] w ... w [SEP] per row."""
    rng = np.random.default_rng([seed, b, s])
    ids = rng.integers(1000, 30522, size=(b, s), dtype=np.int64)
    ids[:, 0] = CLS_ID
    if s > 1:
        ids[:, -1] = SEP_ID
    return ids.reshape(-1).tolist()


def tokenize_sentences(path: Path, vocab: Path, limit: int | None) -> list[list[int]]:
    """Token ids of the `sentence` column of an SST-2 tsv (BertTokenizer, lower-cased)."""
    import warnings
    warnings.filterwarnings("ignore")
    from transformers import BertTokenizer

    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    col = header.index("sentence")
    sentences = [ln.split("\t")[col] for ln in lines[1:] if ln.strip()]
    if limit is not None:
        sentences = sentences[:limit]
    tok = BertTokenizer(str(vocab), do_lower_case=True)
    return [tok(s, truncation=True, max_length=512)["input_ids"] for s in sentences]


def parity_reference(engines: list[str]) -> str:
    return next((e for e in REFERENCE_ORDER if e in engines), engines[0])


def parity_tolerance(engine: str, args) -> float:
    """Warning threshold of an engine's max |logit diff|: by its precision."""
    if engine.endswith("int8"):
        return args.int8_tol
    if engine.endswith("bf16"):
        return args.bf16_tol
    return PARITY_TOL


def parity_row(engine: str, ref: str, logits: np.ndarray, ref_logits: np.ndarray, what: str,
               threads: int, args) -> dict:
    """Compares one engine's logits with the reference engine's; warns when too far."""
    diff = float(np.max(np.abs(logits - ref_logits)))
    same_argmax = bool(np.array_equal(logits.reshape(-1, 2).argmax(1),
                                      ref_logits.reshape(-1, 2).argmax(1)))
    tol = parity_tolerance(engine, args)
    if engine != ref and diff > tol:
        log(f"WARNING: {engine} vs {ref} ({what}, threads {threads}): max |logit diff| "
            f"{diff:.3g} > {tol:g}")
    return {"engine": engine, "reference": ref, "input": what, "threads": threads,
            "max_abs_diff": diff, "same_argmax": same_argmax, "tolerance": tol}


quiet = Quiet()


def measure_threads(threads: int, engines: list[str], args, cache: Path, shapes, sentences,
                    check_ids: list[int]) -> tuple[list, list, list, list]:
    """Starts one worker per engine with `threads` threads; runs grid and workload."""
    latency, workload, parity, started = [], [], [], []
    workers: dict[str, Worker] = {}
    try:
        for e in engines:
            workers[e] = Worker(e, threads, engine_argv(e, threads, args, cache),
                                engine_env(e, threads, args))
            log(f"threads {threads}: {e} ready (setup {workers[e].setup_s:.1f} s, "
                f"weights {workers[e].weight_bytes / 2**20:.0f} MiB)")
            started.append({"engine": e, "threads": threads, "setup_s": workers[e].setup_s,
                            "weight_bytes": workers[e].weight_bytes,
                            **({"reported": workers[e].info} if workers[e].info else {})})
        ref = parity_reference(engines)

        # Parity at startup: one real sentence; bc1s pads it to its bucket, peers do not.
        check = "sentence " + str(len(check_ids)) + " " + " ".join(map(str, check_ids))
        outs = {e: workers[e].ask(check)[2] for e in engines}
        for e in engines:
            row = parity_row(e, ref, outs[e], outs[ref], f"sentence of {len(check_ids)} tokens",
                             threads, args)
            parity.append(row)
            log(f"parity threads {threads}: {e:17s} logits {np.round(outs[e], 5).tolist()} "
                f"max|diff| vs {ref} {row['max_abs_diff']:.2e}")

        # Latency grid: warm-up rounds, then alternating timed rounds.
        for b, s in shapes:
            req = f"exact {b} {s} " + " ".join(map(str, grid_ids(b, s, args.seed)))
            for _ in range(args.warmup):
                for e in engines:
                    workers[e].ask(req)
                    time.sleep(args.gap_ms / 1e3)
            times: dict[str, list[float]] = {e: [] for e in engines}
            after: dict[str, list[str]] = {e: [] for e in engines}  # the engine run just before
            last: dict[str, np.ndarray] = {}
            prev = engines[-1]  # the last warm-up request
            for r in range(args.reps):
                for e in round_order(engines, r, prev):
                    quiet.wait(workers.values())
                    ms, _, logits = workers[e].ask(req)
                    times[e].append(ms)
                    after[e].append(prev)
                    prev = e
                    last[e] = logits
                    time.sleep(args.gap_ms / 1e3)
            for e in engines:
                latency.append({"engine": e, "B": b, "S": s, "threads": threads,
                                "median_ms": round(statistics.median(times[e]), 4),
                                "min_ms": round(min(times[e]), 4), "reps": args.reps,
                                "runs_ms": [round(t, 4) for t in times[e]],
                                "runs_after": after[e]})
                parity.append(parity_row(e, ref, last[e], last[ref], f"grid B={b} S={s}",
                                         threads, args))
            log(f"threads {threads} B={b} S={s}: " + ", ".join(
                f"{e} {statistics.median(times[e]):.2f}" for e in engines) + " ms (median)")
        rss = {e: workers[e].peak_rss_mb() for e in engines}
        for row in latency:
            row["peak_rss_mb"] = round(rss[row["engine"]], 1)

        # Workload: sentences one at a time (B = 1).
        if sentences:
            reqs = ["sentence " + str(len(ids)) + " " + " ".join(map(str, ids))
                    for ids in sentences]
            for r in reqs[:min(10, len(reqs))]:  # warm-up
                for e in engines:
                    workers[e].ask(r)
            per: dict[str, list[float]] = {e: [] for e in engines}
            tokens: dict[str, int] = {e: 0 for e in engines}
            # Engines alternate in blocks of --workload-block sentences (A's block, B's block,
            # A's next block, ...): each engine serves a stream of requests as a server would,
            # and no request starts while another engine's threads still spin from the request
            # before (ONNX Runtime's workers spin for a while after each run, which took one of
            # the two cores from whichever engine came next when engines alternated per
            # sentence). Drift on the machine still falls on every engine alike.
            t0 = time.time()
            block = max(1, args.workload_block)
            for i0 in range(0, len(reqs), block):
                for e in engines:
                    time.sleep(args.gap_ms / 1e3)
                    quiet.wait(workers.values())  # the previous engine's threads go quiet
                    for r in reqs[i0:i0 + block]:
                        ms, s_run, _ = workers[e].ask(r)
                        per[e].append(ms)
                        tokens[e] += s_run
                        if args.workload_gap_ms > 0:
                            time.sleep(args.workload_gap_ms / 1e3)
                done = min(i0 + block, len(reqs))
                if done % 200 < block or done == len(reqs):
                    log(f"threads {threads} workload: {done}/{len(reqs)} sentences, "
                        f"{time.time() - t0:.0f} s")
            for e in engines:
                a = np.asarray(per[e])
                workload.append({"engine": e, "threads": threads, "sentences": len(a),
                                 "total_s": round(float(a.sum()) / 1e3, 4),
                                 "p50_ms": round(float(np.percentile(a, 50)), 4),
                                 "p99_ms": round(float(np.percentile(a, 99)), 4),
                                 "tokens_run": tokens[e],
                                 "peak_rss_mb": round(workers[e].peak_rss_mb(), 1)})
            log(f"threads {threads} workload: " + ", ".join(
                f"{w['engine']} {w['total_s']:.2f} s" for w in workload))
    finally:
        for w in workers.values():
            w.close()
    return latency, workload, parity, started


def read_cmake_cache(peer: Path) -> dict[str, str]:
    """CMAKE_CXX_COMPILER, CMAKE_BUILD_TYPE, BC1S_ARCH of the build that made bc1s_peer."""
    for d in [peer.parent, *peer.parents]:
        cache = d / "CMakeCache.txt"
        if cache.is_file():
            out = {}
            for line in cache.read_text(errors="replace").splitlines():
                m = re.match(r"(CMAKE_CXX_COMPILER|CMAKE_BUILD_TYPE|BC1S_ARCH):\w+=(.*)", line)
                if m:
                    out[m.group(1)] = m.group(2)
            return out
    return {}


def machine_info(args, manifest: dict) -> dict:
    """What the numbers were measured on and with."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    family = re.search(r"^cpu family\s*:\s*(\d+)", cpuinfo, re.M)
    cpu_model = re.search(r"^model\s*:\s*(\d+)", cpuinfo, re.M)
    flags = set(re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.M).group(1).split())
    mem = re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M)
    os_name = platform.platform()
    try:
        os_name = re.search(r'^PRETTY_NAME="(.*)"', Path("/etc/os-release").read_text(),
                            re.M).group(1)
    except (OSError, AttributeError):
        pass
    cmake = read_cmake_cache(Path(args.bc1s_peer))
    compiler = cmake.get("CMAKE_CXX_COMPILER", "c++")
    try:
        compiler_version = subprocess.run([compiler, "--version"], capture_output=True,
                                          text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        compiler_version = compiler

    def git(*a: str) -> str:
        r = subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True)
        return r.stdout.strip()

    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    return {
        "host": socket.gethostname(),
        "cpu": model.group(1) if model else platform.processor(),
        "cpu_family_model": f"{family.group(1)}/{cpu_model.group(1)}" if family else None,
        "logical_cpus": os.cpu_count(),
        "cpu_flags": sorted(flags & {"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni",
                                     "avx512_bf16", "avx512_fp16", "amx_int8", "amx_bf16",
                                     "avx_vnni"}),
        "hypervisor": "hypervisor" in flags,
        "mem_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("onnxruntime", "openvino", "torch", "transformers",
                                             "numpy", "onnx")},
        "bc1s": {"git_commit": git("rev-parse", "HEAD"),
                 "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
                 "compiler": compiler_version,
                 "build_type": cmake.get("CMAKE_BUILD_TYPE"),
                 "arch": cmake.get("BC1S_ARCH", "native")},
        "models": manifest,
        # The libblas.so.3 PyTorch runs on (bench/peers/run.sh checks it is OpenBLAS).
        "pytorch_blas": os.environ.get("BC1S_PEERS_BLAS") or os.path.realpath(
            "/usr/lib/x86_64-linux-gnu/libblas.so.3"),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


ENGINE_STYLE = {"bc1s-fp16": ("tab:red", "o", "-"), "bc1s-fp32": ("tab:orange", "s", "-"),
                "bc1s-bf16": ("tab:pink", "h", "-"),
                "bc1s-int8": ("tab:olive", "D", "-"),
                "onnxruntime-fp32": ("tab:blue", "^", "--"),
                "onnxruntime-int8": ("tab:cyan", "v", "--"),
                "openvino-fp32": ("tab:purple", "P", "-."),
                "openvino-bf16": ("tab:brown", "X", "-."),
                "pytorch-fp32": ("tab:green", "D", ":")}


def plot(result: dict, path: Path) -> None:
    """Latency (median, B = 1) vs S, log-log, one line per engine, a panel per thread count."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads = sorted({r["threads"] for r in result["latency"]})
    fig, axes = plt.subplots(1, len(threads), figsize=(6.2 * len(threads), 4.8), squeeze=False,
                             sharey=True)
    for ax, t in zip(axes[0], threads):
        for e in result["settings"]["engines"]:
            rows = sorted((r for r in result["latency"]
                           if r["engine"] == e and r["threads"] == t and r["B"] == 1),
                          key=lambda r: r["S"])
            if not rows:
                continue
            color, marker, ls = ENGINE_STYLE.get(e, ("black", "x", "-"))
            ax.plot([r["S"] for r in rows], [r["median_ms"] for r in rows], marker=marker,
                    linestyle=ls, color=color, label=e)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length S (tokens), B = 1")
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
        ax.grid(True, which="both", alpha=0.3)
        sizes = sorted({r["S"] for r in result["latency"] if r["B"] == 1})
        ax.set_xticks(sizes)
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axes[0][0].set_ylabel("latency, median (ms)")
    axes[0][-1].legend(loc="upper left", fontsize=9)
    m = result["machine"]
    fig.suptitle(f"DistilBERT-base forward, {m['cpu']} ({m['logical_cpus']} CPUs), "
                 f"{result['date'][:16].replace('T', ' ')}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fmt_ms(v: float) -> str:
    return f"{v:.2f}" if v < 100 else f"{v:.1f}"


def markdown(result: dict, stem: str) -> str:
    """The results as markdown tables, ready for bench/RESULTS.md."""
    m, st = result["machine"], result["settings"]
    engines = st["engines"]
    peers = [e for e in engines if e in PEERS]
    mine = [e for e in engines if e in BC1S_ENGINES]
    out = [f"## bc1s vs ONNX Runtime, OpenVINO and PyTorch ({result['date'][:10]}, "
           f"{m['host']})", ""]
    out.append(f"Machine: {m['cpu']} (family/model {m['cpu_family_model']}), "
               f"{m['logical_cpus']} logical CPUs{' (VM)' if m['hypervisor'] else ''}, "
               f"{m['mem_gib']} GiB, {m['os']}, kernel {m['kernel']}. bc1s "
               f"{m['bc1s']['git_commit'][:10]}{' (dirty)' if m['bc1s']['git_dirty'] else ''}, "
               f"{m['bc1s']['compiler']}, {m['bc1s']['build_type']}, "
               f"BC1S_ARCH={m['bc1s']['arch']}. Peers: " + ", ".join(
                   f"{k} {v}" for k, v in m["versions"].items() if v) +
               (f"; PyTorch's BLAS: `{m['pytorch_blas']}`" if m.get("pytorch_blas") else "") +
               (f" (OPENBLAS_CORETYPE={m['openblas_coretype']})"
                if m.get("openblas_coretype") else "") + ".")
    out.append("")
    ov_note = ""
    if any(e.startswith("openvino") for e in engines):
        ov_note = ("OpenVINO: a static model compiled for each latency shape outside the "
                   "timing, dynamic shapes in the workload; "
                   if st.get("openvino_shapes", "auto") == "auto"
                   else "OpenVINO: dynamic shapes throughout; ")
    out.append(f"Command: `{st['command']}`. Same weights (synthetic, seed {st['seed']}) and the "
               f"same token ids for every engine; each engine in its own worker process with "
               f"exactly N threads (PyTorch: OMP_WAIT_POLICY={st['torch_omp_wait_policy']}); "
               + ov_note +
               f"per-request time measured inside the worker, without IPC; requests "
               f"alternate between engines (a shuffled order each round) after "
               f"{st['warmup']} warm-up round(s), each once no worker is using the CPU "
               f"(mean wait {st.get('quiet', {}).get('mean_wait_ms', '?')} ms, "
               f"{st.get('quiet', {}).get('timeouts', '?')} timeouts); "
               f"{st['reps']} timed runs per shape. Load average at start / end: "
               f"{st['loadavg_start']} / {st['loadavg_end']}. Raw data: `{stem}.json`; "
               f"plot: `{stem}.png`.")
    out.append("")
    for t in st["threads"]:
        rows = [r for r in result["latency"] if r["threads"] == t]
        if not rows:
            continue
        out.append(f"### Latency, {t} thread{'s' if t > 1 else ''}: median ms (min ms)")
        out.append("")
        head = "| B x S | " + " | ".join(engines) + " |"
        if mine and peers:
            head += " bc1s speed-up (fastest peer ms / fastest bc1s ms; > 1: bc1s faster) |"
        out.append(head)
        out.append("|" + "---|" * (head.count("|") - 1))
        for b, s in st["shapes"]:
            cell = {r["engine"]: r for r in rows if r["B"] == b and r["S"] == s}
            if not cell:
                continue
            line = f"| {b} x {s} | " + " | ".join(
                f"{fmt_ms(cell[e]['median_ms'])} ({fmt_ms(cell[e]['min_ms'])})" if e in cell
                else "-" for e in engines) + " |"
            if mine and peers:
                best_mine = min(cell[e]["median_ms"] for e in mine)
                best_peer = min(peers, key=lambda e: cell[e]["median_ms"])
                line += (f" {cell[best_peer]['median_ms'] / best_mine:.2f}x "
                         f"(vs {best_peer}) |")
            out.append(line)
        out.append("")
    out.append("### Peak RSS of each engine's process (VmHWM, MiB)")
    out.append("")
    out.append("| engine | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}"
                                           for t in st["threads"]) + " |")
    out.append("|---|" + "---|" * len(st["threads"]))
    for e in engines:
        vals = []
        for t in st["threads"]:
            r = next((r for r in result["latency"] if r["engine"] == e and r["threads"] == t),
                     None)
            vals.append(f"{r['peak_rss_mb']:.0f}" if r else "-")
        out.append(f"| {e} | " + " | ".join(vals) + " |")
    out.append("")
    if result["workload"]:
        n = result["workload"][0]["sentences"]
        out.append(f"### Workload: {n} SST-2 test sentences one at a time (B = 1)")
        out.append("")
        out.append("bc1s pads each sentence to the next multiple of "
                   f"{st['bucket']} tokens; the peers run it unpadded. Engines take turns in "
                   f"blocks of {st.get('workload_block', 1)} sentences.")
        out.append("")
        out.append("| engine | threads | total s | p50 ms | p99 ms | tokens run |")
        out.append("|---|---|---|---|---|---|")
        for w in result["workload"]:
            out.append(f"| {w['engine']} | {w['threads']} | {w['total_s']:.2f} | "
                       f"{w['p50_ms']:.2f} | {w['p99_ms']:.2f} | {w['tokens_run']} |")
        out.append("")
    worst: dict[str, float] = {}
    for p in result["parity"]:
        worst[p["engine"]] = max(worst.get(p["engine"], 0.0), p["max_abs_diff"])
    ref = result["parity"][0]["reference"] if result["parity"] else "-"
    out.append(f"Parity (largest max |logit diff| vs {ref} over the startup sentence and every "
               "latency shape): " + ", ".join(f"{e} {v:.1e}" for e, v in worst.items()) + ".")
    out.append("")
    return "\n".join(out)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: S in {8, 128} (B = 1), threads 2, 3 reps, 1 warm-up, "
                         "50 workload sentences; output names end in -quick")
    ap.add_argument("--bc1s-peer", type=Path, default=ROOT / "build-peers" / "bench" / "peers" /
                    "bc1s_peer", help="the bc1s_peer executable")
    ap.add_argument("--cache", type=Path, default=ROOT / "build-peers" / "cache",
                    help="folder of the prepared models (bench/peers/models.py)")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--engines",
                    help="comma-separated subset of " + ", ".join(ENGINES) + " (default: all "
                         "of them, less a bc1s precision this bc1s_peer does not accept)")
    ap.add_argument("--threads", help="comma-separated thread counts (default 1,2; quick 2)")
    ap.add_argument("--shapes", help="comma-separated BxS shapes, e.g. 1x8,8x128 "
                                     "(default: the full grid; quick 1x8,1x128)")
    ap.add_argument("--reps", type=int, help="timed runs per engine and shape "
                                             "(default 20; quick 3)")
    ap.add_argument("--warmup", type=int, help="warm-up rounds per shape (default 2; quick 1)")
    ap.add_argument("--sentences", type=int,
                    help="workload sentences, from the top of test.tsv (default all; quick 50; "
                         "0 skips the workload)")
    ap.add_argument("--test-tsv", type=Path, default=SHARED / "sst2" / "test.tsv")
    ap.add_argument("--vocab", type=Path, default=SHARED / "distilbert-sst2" / "vocab.txt")
    ap.add_argument("--seed", type=int, default=1234, help="synthetic weight seed")
    ap.add_argument("--bucket", type=int, default=1,
                    help="bc1s pads workload sentences to a multiple of this (default 1: none; "
                         "the layout pads row storage itself)")
    ap.add_argument("--gap-ms", type=float, default=150.0,
                    help="pause after each latency request, so no engine's spinning threads "
                         "overlap the next engine's run (default 150: OpenBLAS, under PyTorch, "
                         "busy-waits about 2^28 cycles after a call)")
    ap.add_argument("--workload-block", type=int, default=50,
                    help="workload sentences each engine runs before the next engine's turn "
                         "(default 50)")
    ap.add_argument("--workload-gap-ms", type=float, default=2.0,
                    help="the same pause in the workload (default 2)")
    ap.add_argument("--int8-tol", type=float, default=0.1,
                    help="parity warning threshold for the int8 engines (default 0.1)")
    ap.add_argument("--bf16-tol", type=float, default=0.05,
                    help="parity warning threshold for the bf16 engines (default 0.05)")
    ap.add_argument("--openvino-shapes", choices=("auto", "dynamic"), default="auto",
                    help="OpenVINO: `auto` (default) compiles a static model for each latency "
                         "shape, before its first (warm-up) request, and runs the workload's "
                         "sentences on dynamic shapes; `dynamic` runs all on dynamic shapes")
    ap.add_argument("--peer-env", action="append", default=[], metavar="VAR=VALUE",
                    help="extra environment for the ONNX Runtime / PyTorch workers (repeatable; "
                         "recorded in the results)")
    ap.add_argument("--torch-omp-wait-policy", default="PASSIVE",
                    choices=("PASSIVE", "ACTIVE", "default"),
                    help="OMP_WAIT_POLICY of the PyTorch worker (default PASSIVE: Debian's torch "
                         "runs its GEMMs on OpenBLAS's own threads, and OpenMP threads spinning "
                         "beside them cost it several times its speed at 2 threads; 'default' "
                         "leaves the variable unset)")
    ap.add_argument("--tag", default="", help="appended to the output names")
    args = ap.parse_args(argv)
    q = args.quick
    args.threads = [int(t) for t in (args.threads or ("2" if q else "1,2")).split(",")]
    args.shapes = ([tuple(int(x) for x in sh.split("x")) for sh in args.shapes.split(",")]
                   if args.shapes else (QUICK_SHAPES if q else FULL_SHAPES))
    args.reps = args.reps if args.reps is not None else (3 if q else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if q else 2)
    if args.sentences is None:
        args.sentences = 50 if q else None
    args.engines_default = args.engines is None
    args.engines = [e.strip() for e in (args.engines or ",".join(ENGINES)).split(",")
                    if e.strip()]
    bad = [e for e in args.engines if e not in ENGINES]
    if bad:
        ap.error(f"unknown engine(s) {bad}; choose from {ENGINES}")
    if any(b < 1 or b > 8 or s < 1 or s > 512 for b, s in args.shapes):
        ap.error("shapes must have 1 <= B <= 8 and 1 <= S <= 512")
    if args.reps < 1 or min(args.threads) < 1:
        ap.error("--reps and --threads must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if any(e in BC1S_ENGINES for e in args.engines) and not args.bc1s_peer.is_file():
        log(f"no bc1s_peer at {args.bc1s_peer}: build it first (bench/peers/run.sh does)")
        return 2
    for e in [e for e in args.engines
              if e in BC1S_ENGINES and BC1S_ENGINES[e] not in BC1S_BUILTIN]:
        ok, why = bc1s_accepts(args.bc1s_peer, BC1S_ENGINES[e])
        if ok:
            log(f"{e}: bc1s_peer accepts --precision {BC1S_ENGINES[e]}")
        elif args.engines_default:
            log(f"{e} left out: bc1s_peer does not accept --precision {BC1S_ENGINES[e]} ({why})")
            args.engines.remove(e)
        else:
            log(f"{e}: bc1s_peer does not accept --precision {BC1S_ENGINES[e]} ({why})")
            return 2
    t_start = time.time()
    load_start = loadavg()

    for f in (args.test_tsv, args.vocab):
        if not f.is_file():
            log(f"missing {f} (set BC1S_SHARED_DATA to the folder holding sst2/ and "
                "distilbert-sst2/, or pass --test-tsv / --vocab)")
            return 2
    log(f"preparing models in {args.cache}")
    manifest = models.prepare(args.cache, args.seed)
    all_ids = tokenize_sentences(args.test_tsv, args.vocab,
                                 None if args.sentences is None else max(args.sentences, 1))
    sentences = all_ids if args.sentences != 0 else []
    check_ids = all_ids[0]
    log(f"{len(sentences)} workload sentences; engines {args.engines}; threads {args.threads}; "
        f"shapes {args.shapes}; reps {args.reps}")

    latency, workload, parity, workers = [], [], [], []
    for t in args.threads:
        lat, wl, par, wk = measure_threads(t, args.engines, args, args.cache, args.shapes,
                                           sentences, check_ids)
        latency += lat
        workload += wl
        parity += par
        workers += wk

    now = dt.datetime.now()
    host = socket.gethostname().split(".")[0]
    stem = f"{now:%Y-%m-%d}-{host}" + ("-quick" if args.quick else "") + \
        (f"-{args.tag}" if args.tag else "")
    result = {
        "machine": machine_info(args, manifest),
        "date": now.isoformat(timespec="seconds"),
        "settings": {
            "command": os.environ.get("BC1S_PEERS_COMMAND") or " ".join(
                ["bench/peers/run_peers.py", *(sys.argv[1:] if argv is None else argv)]),
            "engines": args.engines, "threads": args.threads,
            "shapes": [list(s) for s in args.shapes], "reps": args.reps, "warmup": args.warmup,
            "seed": args.seed, "bucket": args.bucket, "gap_ms": args.gap_ms,
            "workload_gap_ms": args.workload_gap_ms, "workload_block": args.workload_block,
            "peer_env": args.peer_env, "openvino_shapes": args.openvino_shapes,
            "parity_tolerance": {e: parity_tolerance(e, args) for e in args.engines},
            "torch_omp_wait_policy": args.torch_omp_wait_policy,
            "order": "warm-up rounds, then timed rounds, each a seeded shuffle of the engines "
                     "(none twice in a row); workload: engines take turns in blocks of "
                     "workload_block sentences",
            "quiet": {"rule": "before each timed request (latency) and each block (workload): "
                              "wait until every worker process used under busy_ns of CPU in "
                              "window_s", **quiet.summary()},
            "thread_env": list(THREAD_ENV), "test_tsv": str(args.test_tsv),
            "vocab": str(args.vocab), "loadavg_start": load_start, "loadavg_end": loadavg(),
            "wall_s": round(time.time() - t_start, 1),
            "timing": "per request, inside each worker: bc1s around padding + forward "
                      "(std::chrono::steady_clock); ONNX Runtime around session.run; OpenVINO "
                      "around InferRequest.infer (compiling a new static shape happens before "
                      "the clock starts); PyTorch around model(...) under inference_mode "
                      "(time.perf_counter); input parsing and IPC excluded",
            "peak_rss": "VmHWM of the worker process: latency rows read after the grid "
                        "(all shapes of that thread count), workload rows after the workload",
        },
        "latency": latency,
        "workload": workload,
        "parity": parity,
        "workers": workers,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    md = markdown(result, stem)
    (args.out_dir / f"{stem}.md").write_text(md)
    plot(result, args.out_dir / f"{stem}.png")
    print(md)
    log(f"wrote {json_path}, {stem}.md, {stem}.png in {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
