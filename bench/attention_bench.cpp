// Per-head chunked attention at DistilBERT shapes (C = 768, H = 12, D = 64, Q = 32).
// FLOP: scores 2 * S * S * C plus context 2 * S * S * C per batch (softmax not counted).
#include <random>
#include <vector>

#include "bc1s/kernels/attention.hpp"
#include "bench_common.hpp"

namespace {

using act_layout = bc1s::layout_bc1s<float, bc1s::extents<bc1s::dyn, 768, bc1s::dyn>>;

void BM_attention(benchmark::State& state) {
  const auto S = static_cast<std::size_t>(state.range(0));
  const auto B = static_cast<std::size_t>(state.range(1));
  const auto threads = static_cast<std::size_t>(state.range(2));
  bc1s::tensor<float, act_layout> q(B, 768, S), k(B, 768, S), v(B, 768, S), ctx(B, 768, S);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto* t : {&q, &k, &v})
    for (std::size_t i = 0; i < t->size(); ++i) t->data()[i] = u(rng);
  std::vector<float, xsimd::aligned_allocator<float, 64>> scratch(
      bc1s::attention_scratch_floats(S, 32, threads));
  bc1s::runtime::thread_pool pool(threads);
  for (auto _ : state) {
    bc1s::attention<bc1s::head_split<768, 12>, bc1s::query_chunk<float, 32>>(
        q, k, v, ctx, {.scratch = scratch, .pool = &pool});
    benchmark::DoNotOptimize(ctx.data());
    benchmark::ClobberMemory();
  }
  bc1s::bench::report_flops(state, 4.0 * double(B * S * S * 768), threads);
}

}  // namespace

BENCHMARK(BM_attention)
    ->Name("attention_C768_H12")
    ->ArgNames({"S", "B", "threads"})
    ->ArgsProduct({{8, 32, 128, 512}, {1, 8}, {1, 2}})
    ->UseRealTime()
    ->MinTime(0.2)
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
