// One distilbert_base forward pass (seeded synthetic weights, B = 1) per weight precision, with
// the AMX paths on and off: medians of 10 passes after 2 warm-ups. Then each product's measured
// peak (runtime/peak.hpp) and a 768 x 768 and a 3072 x 768 conv1x1 at S = 128 on one thread per
// precision, as a fraction of the peak of the product its path runs (a third of the AMX peak for
// fp16 weights, which take three tile products per weight). A plain program (no Google
// Benchmark), so that it links statically and runs on a machine that has nothing installed:
//
//   g++ -std=c++20 -O3 -DNDEBUG -march=sapphirerapids -static -Iinclude -I/usr/include/eigen3
//       bench/precision_probe.cpp -o precision_probe -lutf8proc -pthread      (one line)
//   taskset -c 0,1 ./precision_probe
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include "bc1s/bc1s.hpp"
#include "bc1s/kernels/conv1x1.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/runtime/peak.hpp"

namespace {

template <class WT>
void run(std::size_t S, std::size_t threads) {
  using M = bc1s::nn::distilbert<bc1s::nn::distilbert_base, WT>;
  static const M m = M::synthetic(1234);
  typename M::workspace ws(1, S, threads);
  bc1s::runtime::thread_pool pool(threads);
  const std::vector<std::int32_t> ids(S, 1000), mask(S, 1);
  std::vector<double> ms;
  for (int i = 0; i < 12; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    m.forward(ws, ids, mask, 1, S, &pool);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin() + 2, ms.end());
  std::printf("%s S=%zu threads=%zu amx=%d: median %.2f ms min %.2f\n",
              bc1s::weight_storage<WT>::name, S, threads, int(bc1s::simd::amx_enabled()), ms[7],
              ms[2]);
}

template <class WT>
void conv(std::size_t cout, std::size_t cin, double peak, double products) {
  using L = bc1s::layout_bc1s<float, bc1s::extents<bc1s::dyn, bc1s::dyn, bc1s::dyn>>;
  constexpr std::size_t S = 128;
  std::vector<float> w(cout * cin), b(cout);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 13) * 0.01f - 0.06f;
  const bc1s::conv1x1_weights<WT> packed(cout, cin, w, b);
  bc1s::tensor<float, L> in(1, cin, S), out(1, cout, S);
  for (std::size_t i = 0; i < in.size(); ++i) in.data()[i] = static_cast<float>(i % 7) * 0.1f;
  std::vector<double> us;
  for (int i = 0; i < 22; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    bc1s::conv1x1(packed, in, out);
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin() + 2, us.end());
  const double med = us[12], flop = 2.0 * double(cout * cin * S);
  std::printf("conv1x1 %s %zu x %zu S=128 1 thread amx=%d: median %.0f us, %.2f of its peak\n",
              bc1s::weight_storage<WT>::name, cout, cin, int(bc1s::conv1x1_uses_amx<WT>(S)), med,
              flop / (med * 1e-6) / (peak / products));
}

}  // namespace

int main() {
  for (const bool amx : {true, false}) {
    bc1s::simd::set_amx_enabled(amx);
    for (const std::size_t S : {8, 128}) {
      for (const std::size_t threads : {1, 2}) {
        run<bc1s::half>(S, threads);
        run<bc1s::bf16>(S, threads);
        run<bc1s::qint8>(S, threads);
      }
    }
  }
  bc1s::simd::set_amx_enabled(true);
  using bc1s::runtime::product;
  const double fma = bc1s::runtime::measure_peak(product::fma);
  const double dot16 = bc1s::runtime::measure_peak(product::bf16_dot);
  const double dot8 = bc1s::runtime::measure_peak(product::int8_dot);
  const double amx = bc1s::runtime::measure_peak(product::amx_bf16);
  const bool tiles = bc1s::conv1x1_uses_amx<bc1s::half>(128);
  // Without tiles measure_peak(amx_bf16) returns the FMA peak: not printed as the tiles'.
  std::printf("peaks, 1 thread: FMA %.0f, VDPBF16PS %.0f, VPDPBUSD %.0f G/s", fma * 1e-9,
              dot16 * 1e-9, dot8 * 1e-9);
  if (tiles) std::printf(", AMX bf16 %.0f G/s", amx * 1e-9);
  std::printf("\n");
  for (const auto& [cout, cin] : {std::pair<std::size_t, std::size_t>{768, 768}, {3072, 768}}) {
    conv<bc1s::half>(cout, cin, tiles ? amx : fma, tiles ? 3.0 : 1.0);
    conv<bc1s::bf16>(cout, cin, tiles ? amx : dot16, 1.0);
    conv<bc1s::qint8>(cout, cin, dot8, 1.0);
  }
}
