// Shared by the benchmarks: the measured FMA peak per thread count, and a GFLOP/s + peak_frac
// report.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <map>
#include <utility>

#include "bc1s/runtime/peak.hpp"

namespace bc1s::bench {

// Measured once per process, product and thread count.
inline double peak_of(runtime::product p, std::size_t threads) {
  static std::map<std::pair<runtime::product, std::size_t>, double> cache;
  auto it = cache.find({p, threads});
  if (it == cache.end())
    it = cache.emplace(std::pair{p, threads}, runtime::measure_peak(p, threads, 0.2, 5)).first;
  return it->second;
}
inline double fma_peak(std::size_t threads) {
  return peak_of(runtime::product::fma, threads);
}

// Sets GFLOP/s (as a rate) and peak_frac = achieved FLOP/s / the limit of the path that ran:
// the measured peak of its product for `threads`, divided by the products it runs per
// multiplication (3 for fp16 weights on AMX tiles).
inline void report_flops(benchmark::State& state, double flop_per_iter, std::size_t threads,
                         runtime::product p = runtime::product::fma, double products = 1) {
  const double peak = peak_of(p, threads) / products;
  state.counters["GFLOPs"] =
      benchmark::Counter(flop_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_GFLOPs"] = peak * 1e-9;
  // peak_frac is computed from the mean iteration time by Google Benchmark's rate machinery:
  // kIsIterationInvariantRate divides by elapsed seconds, so scale by 1/peak.
  state.counters["peak_frac"] =
      benchmark::Counter(flop_per_iter / peak, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace bc1s::bench
