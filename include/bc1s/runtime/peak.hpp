// The machine's FMA peak, measured: a register-resident FMA loop on every thread at once, in the
// same process and with the same instruction set as the kernels being compared with it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

#include "bc1s/simd/arch.hpp"

namespace bc1s::runtime {

namespace detail {
// 12 independent accumulator chains: enough to cover FMA latency (4) x 2 ports with room to spare.
inline double fma_loop(std::size_t iters) {
  using simd::fbatch;
  fbatch acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = fbatch(1.0f + 0.001f * static_cast<float>(i));
  const fbatch a(0.999999f), b(1e-7f);
  for (std::size_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = xsimd::fma(acc[i], a, b);
    __asm__ volatile("" : : : "memory");
  }
  fbatch s = acc[0];
  for (int i = 1; i < 12; ++i) s += acc[i];
  return static_cast<double>(xsimd::hadd(s));
}
}  // namespace detail

// FLOP/s of fp32 FMA (2 FLOP per lane per FMA) with `threads` threads running together; the best
// of `repeats` runs of about `seconds` each.
inline double measure_fma_peak(std::size_t threads = 1, double seconds = 0.1, int repeats = 3) {
  constexpr double kFlopPerIter = 12.0 * simd::kFloatLanes * 2.0;
  std::size_t iters = 1u << 20;
  // Calibrate so one run lasts about `seconds`.
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    volatile double sink = detail::fma_loop(iters);
    (void)sink;
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > seconds / 4 || iters > (std::size_t{1} << 34)) {
      iters = static_cast<std::size_t>(static_cast<double>(iters) * seconds / dt) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    std::vector<std::thread> ts;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t t = 1; t < threads; ++t) {
      ts.emplace_back([iters] {
        volatile double sink = detail::fma_loop(iters);
        (void)sink;
      });
    }
    volatile double sink = detail::fma_loop(iters);
    (void)sink;
    for (auto& t : ts) t.join();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best,
                    kFlopPerIter * static_cast<double>(iters) * static_cast<double>(threads) / dt);
  }
  return best;
}

}  // namespace bc1s::runtime
