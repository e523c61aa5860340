// The machine's peaks, measured: a register-resident loop of one product instruction on every
// thread at once, in the same process and with the same instruction set as the kernels compared
// with it. One per product a conv1x1 path runs on:
// - fma: fp32 FMA (2 FLOP per lane), the fp32 and fp16 weights' vector paths;
// - bf16_dot: AVX512-BF16 VDPBF16PS (2 products per lane, 4 FLOP), the bf16 vector path;
// - int8_dot: AVX512-VNNI VPDPBUSD (4 byte products per lane, 8 OP), the int8 vector path;
// - amx_bf16: AMX TDPBF16PS (16 x 16 x 32 products, 16384 FLOP), the bf16 tile paths (fp16
//   weights run three of them per product: a third of it is their limit).
// Where the build lacks an instruction, its path runs on FMAs and the FMA peak is returned.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

#include "bc1s/arch/arch.hpp"
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
  }
  fbatch s = acc[0];
  for (int i = 1; i < 12; ++i) s += acc[i];
  return static_cast<double>(xsimd::hadd(s));
}

}  // namespace detail

enum class product { fma, bf16_dot, int8_dot, amx_bf16 };

namespace detail {
// The loop of product p and its FLOP (or OP) per iteration; the FMA loop where p is missing.
inline std::pair<double (*)(std::size_t), double> product_loop(product p) {
  arch::peak_loop l{nullptr, 0};
  if (p == product::bf16_dot) l = arch::kBf16DotPeak;
  if (p == product::int8_dot) l = arch::kInt8DotPeak;
  if (p == product::amx_bf16 && simd::amx_enabled()) l = arch::kBf16TilePeak;
  if (l.loop != nullptr) return {l.loop, l.flop_per_iter};
  return {&fma_loop, 12.0 * simd::kFloatLanes * 2.0};
}
}  // namespace detail

// FLOP/s (OP/s for int8) of product p with `threads` threads running together; the best of
// `repeats` runs of about `seconds` each.
inline double measure_peak(product p, std::size_t threads = 1, double seconds = 0.1,
                           int repeats = 3) {
  // Named, not a structured binding: clang 14 cannot capture one in a lambda.
  const auto product_loop = detail::product_loop(p);
  const auto loop = product_loop.first;
  const double kFlopPerIter = product_loop.second;
  std::size_t iters = 1u << 16;
  // Calibrate so one run lasts about `seconds`.
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    volatile double sink = loop(iters);
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
      ts.emplace_back([iters, loop] {
        volatile double sink = loop(iters);
        (void)sink;
      });
    }
    volatile double sink = loop(iters);
    (void)sink;
    for (auto& t : ts) t.join();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best,
                    kFlopPerIter * static_cast<double>(iters) * static_cast<double>(threads) / dt);
  }
  return best;
}

// FLOP/s of fp32 FMA (2 FLOP per lane per FMA).
inline double measure_fma_peak(std::size_t threads = 1, double seconds = 0.1, int repeats = 3) {
  return measure_peak(product::fma, threads, seconds, repeats);
}

}  // namespace bc1s::runtime
