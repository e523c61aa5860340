// One distilbert_base forward pass (seeded synthetic weights, B = 1) per weight precision, with
// the AMX paths on and off: medians of 10 passes after 2 warm-ups. A plain program (no Google
// Benchmark), so that it links statically and runs on a machine that has nothing installed:
//
//   g++ -std=c++20 -O2 -march=sapphirerapids -static -Iinclude -I/usr/include/eigen3
//       bench/precision_probe.cpp -o precision_probe -lutf8proc -pthread      (one line)
//   taskset -c 0,1 ./precision_probe
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "bc1s/bc1s.hpp"
#include "bc1s/nn/distilbert.hpp"

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
}
