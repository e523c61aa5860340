// embedding_gather (word + position, DistilBERT: V = 30522, P = 512, C = 768) into (B, C, 1, S),
// fp16 and fp32 tables and output, beside a plain scalar transpose. Bytes/s counts two table rows
// read per token and the output written (B * S * 2 * C * sizeof(T) + B * C * S_padded * sizeof(T)).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bc1s/kernels/embedding.hpp"

namespace {

constexpr std::size_t kVocab = 30522, kMaxPos = 512, kC = 768;

template <class T>
using dtensor = bc1s::tensor<T, bc1s::layout_bc1s<T, bc1s::dextents>>;

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "C", "S"});
  for (long batch : {1, 8})
    for (long s : {8, 32, 128, 512}) b->Args({batch, static_cast<long>(kC), s});
}

template <class T>
struct fixture {
  std::vector<T> word, pos;
  std::vector<std::int32_t> ids;
  dtensor<T> out;
  fixture(std::size_t B, std::size_t S)
      : word(kVocab * kC, bc1s::from_float<T>(0.25f)),
        pos(kMaxPos * kC, bc1s::from_float<T>(0.5f)),
        ids(B * S),
        out(B, kC, S) {
    for (std::size_t i = 0; i < ids.size(); ++i)
      ids[i] = static_cast<std::int32_t>((i * 7919) % kVocab);
  }
  std::int64_t bytes(std::size_t B, std::size_t S) const {
    return static_cast<std::int64_t>((B * S * 2 * kC + out.size()) * sizeof(T));
  }
};

template <class T>
void BM_embedding_gather(benchmark::State& state) {
  const auto B = static_cast<std::size_t>(state.range(0)),
             S = static_cast<std::size_t>(state.range(2));
  fixture<T> f(B, S);
  const bc1s::embedding_table<T> word(f.word, kVocab, kC), pos(f.pos, kMaxPos, kC);
  for (auto _ : state) {
    bc1s::embedding_gather(word, pos, f.ids, f.out);
    benchmark::DoNotOptimize(f.out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * f.bytes(B, S));
}

void BM_plain_embedding_fp32(benchmark::State& state) {
  const auto B = static_cast<std::size_t>(state.range(0)),
             S = static_cast<std::size_t>(state.range(2));
  fixture<float> f(B, S);
  for (auto _ : state) {
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t s = 0; s < S; ++s) {
        const float* w = f.word.data() + static_cast<std::size_t>(f.ids[b * S + s]) * kC;
        const float* p = f.pos.data() + s * kC;
        for (std::size_t c = 0; c < kC; ++c) f.out(b, c, s) = w[c] + p[c];
      }
    benchmark::DoNotOptimize(f.out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * f.bytes(B, S));
}

}  // namespace

BENCHMARK(BM_embedding_gather<bc1s::half>)->Name("embedding_gather_fp16")->Apply(shapes);
BENCHMARK(BM_embedding_gather<float>)->Name("embedding_gather_fp32")->Apply(shapes);
BENCHMARK(BM_plain_embedding_fp32)->Name("plain_embedding_gather_fp32")->Apply(shapes);
BENCHMARK_MAIN();
