// layer_norm over C of (B, C, 1, S) activations at DistilBERT shapes (C = 768), fp16 and fp32
// storage, beside a plain scalar baseline. Bytes/s counts the activations read and written once
// (2 * B * C * S_padded * sizeof(T)); the kernel makes three passes but the block stays in cache.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "bc1s/kernels/layer_norm.hpp"

namespace {

template <class T>
using dtensor = bc1s::tensor<T, bc1s::layout_bc1s<T, bc1s::dextents>>;

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "C", "S"});
  for (long batch : {1, 8})
    for (long s : {8, 32, 128, 512}) b->Args({batch, 768, s});
}

template <class T>
void BM_layer_norm(benchmark::State& state) {
  const auto B = static_cast<std::size_t>(state.range(0)),
             C = static_cast<std::size_t>(state.range(1)),
             S = static_cast<std::size_t>(state.range(2));
  dtensor<T> in(B, C, S), out(B, C, S);
  for (std::size_t i = 0; i < in.size(); ++i)
    in.data()[i] = bc1s::from_float<T>(static_cast<float>(i % 97) * 0.01f);
  std::vector<float> gamma(C, 1.f), beta(C, 0.f);
  for (auto _ : state) {
    bc1s::layer_norm(in, gamma, beta, 1e-12f, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * 2 * in.size() * sizeof(T)));
}

// Baseline: the textbook scalar loop, one column at a time (strided over C).
void BM_plain_layer_norm_fp32(benchmark::State& state) {
  const auto B = static_cast<std::size_t>(state.range(0)),
             C = static_cast<std::size_t>(state.range(1)),
             S = static_cast<std::size_t>(state.range(2));
  dtensor<float> in(B, C, S), out(B, C, S);
  for (std::size_t i = 0; i < in.size(); ++i) in.data()[i] = static_cast<float>(i % 97) * 0.01f;
  std::vector<float> gamma(C, 1.f), beta(C, 0.f);
  for (auto _ : state) {
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t s = 0; s < S; ++s) {
        float mean = 0, var = 0;
        for (std::size_t c = 0; c < C; ++c) mean += in(b, c, s);
        mean /= static_cast<float>(C);
        for (std::size_t c = 0; c < C; ++c) var += (in(b, c, s) - mean) * (in(b, c, s) - mean);
        const float rstd = 1.f / std::sqrt(var / static_cast<float>(C) + 1e-12f);
        for (std::size_t c = 0; c < C; ++c)
          out(b, c, s) = (in(b, c, s) - mean) * rstd * gamma[c] + beta[c];
      }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * 2 * in.size() * sizeof(float)));
}

}  // namespace

BENCHMARK(BM_layer_norm<bc1s::half>)->Name("layer_norm_fp16")->Apply(shapes);
BENCHMARK(BM_layer_norm<float>)->Name("layer_norm_fp32")->Apply(shapes);
BENCHMARK(BM_plain_layer_norm_fp32)->Name("plain_layer_norm_fp32")->Apply(shapes);
BENCHMARK_MAIN();
