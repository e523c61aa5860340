#!/usr/bin/env python3
"""Markdown tables from a Google Benchmark JSON of bench/conv1x1_bench (median aggregates).

    ./build/bench/conv1x1_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
        --benchmark_out=conv.json --benchmark_out_format=json
    python3 tools/bench_table.py conv.json

peak_frac for N threads is taken against N x the one-thread FMA peak probed in the same run: on
this 2-vCPU VM the two-thread probe itself reads low whenever the host is busy (it has read
115 GFLOP/s for two threads against 140 for one), which would inflate the fraction.
"""
import json
import re
import sys


def main(path):
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
    engines = ["conv1x1_fp16w", "conv1x1_fp32w", "eigen_gemm_fp32", "openblas_sgemm"]
    print(f"One-thread FMA peak probed in this run: {peak1:.1f} GFLOP/s.\n")
    print("| Cout x Cin | S | B | threads | fp16 weights | fp32 weights | Eigen fp32 | OpenBLAS | "
          "fp16 / Eigen |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k in sorted({k[:5] for k in rows}, key=lambda k: (k[4], k[0], k[1], k[3], k[2])):
        co, ci, S, B, t = k
        cells = []
        for e in engines:
            v = rows.get(k + (e,))
            cells.append(f"{v:.0f} ({v / (peak1 * t):.2f})" if v else "-")
        eig = rows.get(k + ("eigen_gemm_fp32",))
        ratio = f"{rows[k + ('conv1x1_fp16w',)] / eig:.2f}x" if eig else "-"
        print(f"| {co} x {ci} | {S} | {B} | {t} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1])
