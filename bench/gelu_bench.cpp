// gelu (exact, erf) over (B, C, 1, S) activations at DistilBERT FFN shapes (C = 3072) and the
// hidden size (C = 768), fp16 and fp32 storage, beside a scalar std::erf baseline. Bytes/s counts
// the activations read and written (2 * B * C * S_padded * sizeof(T)).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>

#include "bc1s/kernels/gelu.hpp"

namespace {

template <class T>
using dtensor = bc1s::tensor<T, bc1s::layout_bc1s<T, bc1s::dextents>>;

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "C", "S"});
  for (long c : {768, 3072})
    for (long batch : {1, 8})
      for (long s : {8, 32, 128, 512}) b->Args({batch, c, s});
}

template <class T>
void BM_gelu(benchmark::State& state) {
  const auto B = static_cast<std::size_t>(state.range(0)),
             C = static_cast<std::size_t>(state.range(1)),
             S = static_cast<std::size_t>(state.range(2));
  dtensor<T> in(B, C, S), out(B, C, S);
  for (std::size_t i = 0; i < in.size(); ++i)
    in.data()[i] = bc1s::from_float<T>(static_cast<float>(i % 97) * 0.1f - 5.f);
  for (auto _ : state) {
    bc1s::gelu(in, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * 2 * in.size() * sizeof(T)));
}

void BM_plain_gelu_fp32(benchmark::State& state) {
  const auto B = static_cast<std::size_t>(state.range(0)),
             C = static_cast<std::size_t>(state.range(1)),
             S = static_cast<std::size_t>(state.range(2));
  dtensor<float> in(B, C, S), out(B, C, S);
  for (std::size_t i = 0; i < in.size(); ++i)
    in.data()[i] = static_cast<float>(i % 97) * 0.1f - 5.f;
  for (auto _ : state) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const float x = in.data()[i];
      out.data()[i] = 0.5f * x * (1.f + std::erf(x * 0.70710678f));
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * 2 * in.size() * sizeof(float)));
}

}  // namespace

BENCHMARK(BM_gelu<bc1s::half>)->Name("gelu_fp16")->Apply(shapes);
BENCHMARK(BM_gelu<float>)->Name("gelu_fp32")->Apply(shapes);
BENCHMARK(BM_plain_gelu_fp32)->Name("plain_gelu_fp32")->Apply(shapes);
BENCHMARK_MAIN();
