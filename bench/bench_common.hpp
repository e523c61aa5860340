// Shared by the benchmarks: the measured FMA peak per thread count, and a GFLOP/s + peak_frac
// report.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <map>

#include "bc1s/runtime/peak.hpp"

namespace bc1s::bench {

// Measured once per process and thread count.
inline double fma_peak(std::size_t threads) {
  static std::map<std::size_t, double> cache;
  auto it = cache.find(threads);
  if (it == cache.end())
    it = cache.emplace(threads, runtime::measure_fma_peak(threads, 0.2, 5)).first;
  return it->second;
}

// Sets GFLOP/s (as a rate) and peak_frac = achieved FLOP/s / measured FMA peak for `threads`.
inline void report_flops(benchmark::State& state, double flop_per_iter, std::size_t threads) {
  const double peak = fma_peak(threads);
  state.counters["GFLOPs"] =
      benchmark::Counter(flop_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_GFLOPs"] = peak * 1e-9;
  // peak_frac is computed from the mean iteration time by Google Benchmark's rate machinery:
  // kIsIterationInvariantRate divides by elapsed seconds, so scale by 1/peak.
  state.counters["peak_frac"] =
      benchmark::Counter(flop_per_iter / peak, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace bc1s::bench
