#!/usr/bin/env python3
"""Markdown tables from Google Benchmark JSON of bench/conv1x1_bench (median aggregates).

    ./build/bench/conv1x1_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
        --benchmark_out=conv.json --benchmark_out_format=json
    python3 tools/bench_table.py conv.json

With a second file, the same benchmark run with BC1S_AMX=0 (the FMA paths where the first run
used AMX tiles for fp16 weights), the table gets its fp16 column and the AMX / FMA ratio:

    BC1S_AMX=0 ./build/bench/conv1x1_bench --benchmark_filter=conv1x1_fp16w ... \
        --benchmark_out=fma.json --benchmark_out_format=json
    python3 tools/bench_table.py conv.json fma.json

peak_frac for N threads is taken against N x the one-thread FMA peak probed in the same run: on
this 2-vCPU VM the two-thread probe itself reads low whenever the host is busy (it has read
115 GFLOP/s for two threads against 140 for one), which would inflate the fraction. With AMX the
fp16 fraction exceeds 1: AMX is not bound by the FMA peak.
"""
import json
import re
import sys


def read(path):
    d = json.load(open(path))
    rows, peak1 = {}, None
    for b in d["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        m = re.match(r"(\w+)/Cout:(\d+)/Cin:(\d+)/S:(\d+)/B:(\d+)/threads:(\d+)", b["run_name"])
        if not m:
            continue
        eng, co, ci, S, B, t = m.groups()
        rows[(int(co), int(ci), int(S), int(B), int(t), eng)] = b["GFLOPs"]
        if t == "1":
            peak1 = b["peak_GFLOPs"] if peak1 is None else max(peak1, b["peak_GFLOPs"])
    return rows, peak1


def main(path, fma_path=None):
    rows, peak1 = read(path)
    engines = ["conv1x1_fp16w", "conv1x1_fp32w", "eigen_gemm_fp32", "openblas_sgemm"]
    heads = ["fp16 weights", "fp32 weights", "Eigen fp32", "OpenBLAS"]
    if fma_path:
        fma, _ = read(fma_path)
        for k, v in fma.items():
            if k[5] == "conv1x1_fp16w":
                rows[k[:5] + ("fp16_fma",)] = v
        engines.insert(1, "fp16_fma")
        heads.insert(1, "fp16, FMA path")
    print(f"One-thread FMA peak probed in this run: {peak1:.1f} GFLOP/s.\n")
    tail = "fp16 / FMA path" if fma_path else "fp16 / Eigen"
    print("| Cout x Cin | S | B | threads | " + " | ".join(heads) + f" | {tail} |")
    print("|---" * (5 + len(heads)) + "|")
    for k in sorted({k[:5] for k in rows}, key=lambda k: (k[4], k[0], k[1], k[3], k[2])):
        co, ci, S, B, t = k
        cells = []
        for e in engines:
            v = rows.get(k + (e,))
            cells.append(f"{v:.0f} ({v / (peak1 * t):.2f})" if v else "-")
        den = rows.get(k + ("fp16_fma" if fma_path else "eigen_gemm_fp32",))
        num = rows.get(k + ("conv1x1_fp16w",))
        ratio = f"{num / den:.2f}x" if den and num else "-"
        print(f"| {co} x {ci} | {S} | {B} | {t} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
