// softmax_keys over DistilBERT score tiles: B * H (H = 12 heads) tiles of K = S keys x S_padded
// query columns, fp32, with a key mask, beside a plain scalar baseline. Bytes/s counts each tile
// read and written once (2 * 4 * B * H * S * S_padded).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "bc1s/kernels/softmax.hpp"

namespace {

constexpr std::size_t kHeads = 12;

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "H", "S"});
  for (long batch : {1, 8})
    for (long s : {8, 32, 128, 512}) b->Args({batch, static_cast<long>(kHeads), s});
}

struct tiles {
  std::size_t n, keys, qp;
  std::vector<float> scores, mask;
  explicit tiles(const benchmark::State& state)
      : n(static_cast<std::size_t>(state.range(0)) * kHeads),
        keys(static_cast<std::size_t>(state.range(2))),
        qp((keys + 15) / 16 * 16),
        scores(n * keys * qp),
        mask(keys, 0.f) {
    for (std::size_t i = 0; i < scores.size(); ++i)
      scores[i] = static_cast<float>(i % 31) * 0.3f - 4.f;
    mask.back() = std::numeric_limits<float>::lowest();
  }
};

void BM_softmax_keys(benchmark::State& state) {
  tiles t(state);
  for (auto _ : state) {
    for (std::size_t i = 0; i < t.n; ++i) {
      bc1s::softmax_keys(t.scores.data() + i * t.keys * t.qp, t.keys, t.qp, t.qp, t.mask.data());
    }
    benchmark::DoNotOptimize(t.scores.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * 2 * t.scores.size() * sizeof(float)));
}

void BM_plain_softmax_keys(benchmark::State& state) {
  tiles t(state);
  for (auto _ : state) {
    for (std::size_t i = 0; i < t.n; ++i) {
      float* p = t.scores.data() + i * t.keys * t.qp;
      for (std::size_t q = 0; q < t.qp; ++q) {
        float m = -std::numeric_limits<float>::infinity(), sum = 0;
        for (std::size_t k = 0; k < t.keys; ++k) m = std::max(m, p[k * t.qp + q] + t.mask[k]);
        for (std::size_t k = 0; k < t.keys; ++k) {
          p[k * t.qp + q] = std::exp(p[k * t.qp + q] + t.mask[k] - m);
          sum += p[k * t.qp + q];
        }
        for (std::size_t k = 0; k < t.keys; ++k) p[k * t.qp + q] /= sum;
      }
    }
    benchmark::DoNotOptimize(t.scores.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * 2 * t.scores.size() * sizeof(float)));
}

}  // namespace

BENCHMARK(BM_softmax_keys)->Name("softmax_keys_fp32")->Apply(shapes);
BENCHMARK(BM_plain_softmax_keys)->Name("plain_softmax_keys_fp32")->Apply(shapes);
BENCHMARK_MAIN();
