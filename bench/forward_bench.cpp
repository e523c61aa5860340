// One distilbert_base forward pass (seeded synthetic weights), fp16, bf16, int8 and fp32 weight
// storage, with the time per stage from the model's own timers (runtime::forward_profile) as
// counters: ms_<stage> is milliseconds per pass. FLOPs counted: the blocks' conv1x1s and
// attention matmuls, 2 * B * S * L * (4 C^2 + 2 C F) + 2 * B * L * 2 * S^2 * C.
//
// shape_* compare the compiled Config with any_shape (sizes at run time, as a folder's
// config.json gives them) on the same weights: distilbert_base and all-MiniLM-L6-v2's shape.
// Run them interleaved for a side-by-side ratio:
//   build/bench/forward_bench --benchmark_filter=shape_ --benchmark_repetitions=5
//     --benchmark_enable_random_interleaving=true   (one command line)
#include <cstdint>
#include <string>
#include <vector>

#include "bc1s/nn/bert.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/runtime/profile.hpp"
#include "bench_common.hpp"

namespace {

using cfg = bc1s::nn::distilbert_base;

// Seeded synthetic weights for Model; an any_shape Model gets the sizes of Shape.
template <class Model, class Shape = cfg>
const Model& model() {
  static const Model m = [] {
    if constexpr (Model::kRuntimeShape) {
      constexpr auto d = bc1s::nn::dims_of<Shape>();
      return Model::synthetic(1234, d, Model::family::default_heads(true, d.num_labels));
    } else {
      return Model::synthetic(1234);
    }
  }();
  return m;
}

// Evicts the weights from every cache level between passes: the state a request finds them in
// when other work (another engine, in bench/peers) ran since the last one.
void evict_caches() {
  static std::vector<std::uint64_t> junk(std::size_t{512} << 17);  // 512 MiB
  for (std::size_t i = 0; i < junk.size(); i += 8) junk[i] += i;
  benchmark::DoNotOptimize(junk.data());
}

// Args: S, B, threads
template <class Model, class Shape = cfg, bool Cold = false>
void BM_model(benchmark::State& state) {
  const auto S = static_cast<std::size_t>(state.range(0));
  const auto B = static_cast<std::size_t>(state.range(1));
  const auto threads = static_cast<std::size_t>(state.range(2));
  const auto& m = model<Model, Shape>();
  typename Model::workspace ws(m, B, S, threads);
  bc1s::runtime::thread_pool pool(threads);
  std::vector<std::int32_t> ids(B * S);
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<std::int32_t>(1000 + (i * 7919) % (Shape::vocab - 2522));
  ids[0] = 101;
  bc1s::runtime::forward_profile prof;
  m.forward(ws, ids, {}, B, S, &pool);  // warm-up
  for (auto _ : state) {
    if constexpr (Cold) {
      state.PauseTiming();
      evict_caches();
      state.ResumeTiming();
    }
    m.forward(ws, ids, {}, B, S, &pool, &prof);
    benchmark::DoNotOptimize(ws.logits().data());
  }
  const double C = Shape::dim, F = Shape::hidden, L = Shape::layers;
  const double flop = 2.0 * double(B * S) * L * (4 * C * C + 2 * C * F) +
                      2.0 * double(B) * L * 2.0 * double(S) * double(S) * C;
  bc1s::bench::report_flops(state, flop, threads);
  for (std::size_t i = 0; i < prof.seconds.size(); ++i) {
    state.counters["ms_" + std::string(bc1s::runtime::kStageNames[i])] =
        1e3 * prof.seconds[i] / double(prof.passes);
  }
}

template <class WT, bool Cold = false>
void BM_forward(benchmark::State& state) {
  BM_model<bc1s::nn::distilbert<cfg, WT>, cfg, Cold>(state);
}

void grid(benchmark::internal::Benchmark* b) {
  b->ArgNames({"S", "B", "threads"});
  for (int t : {1, 2}) {
    for (int s : {8, 12, 16, 20, 24, 32, 64, 128, 256, 512}) b->Args({s, 1, t});
    b->Args({128, 8, t});
  }
  b->UseRealTime()->MinTime(0.5)->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(BM_forward<bc1s::half>)->Name("distilbert_forward_fp16w")->Apply(grid);
BENCHMARK(BM_forward<bc1s::bf16>)->Name("distilbert_forward_bf16w")->Apply(grid);
BENCHMARK(BM_forward<bc1s::qint8>)->Name("distilbert_forward_int8w")->Apply(grid);
BENCHMARK(BM_forward<float>)->Name("distilbert_forward_fp32w")->Apply(grid);
// fp16 weights, evicted from the caches before each pass (bench/peers sees them so).
BENCHMARK(BM_forward<bc1s::half, true>)
    ->Name("distilbert_forward_fp16w_cold")
    ->ArgNames({"S", "B", "threads"})
    ->Args({8, 1, 1})
    ->Args({16, 1, 1})
    ->Args({128, 1, 1})
    ->Args({8, 1, 2})
    ->Args({16, 1, 2})
    ->Args({32, 1, 2})
    ->Args({128, 1, 2})
    ->UseRealTime()
    ->MinTime(0.5)
    ->Unit(benchmark::kMillisecond);

// Compiled Config against any_shape, same weights.
void shape_grid(benchmark::internal::Benchmark* b) {
  b->ArgNames({"S", "B", "threads"})->Args({8, 1, 1})->Args({128, 1, 1});
  b->UseRealTime()->MinTime(0.5)->Unit(benchmark::kMillisecond);
}
using bc1s::nn::any_shape;
using bc1s::nn::minilm_l6;
BENCHMARK(BM_model<bc1s::nn::distilbert<cfg, bc1s::half>, cfg>)
    ->Name("shape_distilbert_compiled_fp16w")
    ->Apply(shape_grid);
BENCHMARK(BM_model<bc1s::nn::distilbert<any_shape, bc1s::half>, cfg>)
    ->Name("shape_distilbert_runtime_fp16w")
    ->Apply(shape_grid);
BENCHMARK(BM_model<bc1s::nn::bert<minilm_l6, bc1s::half>, minilm_l6>)
    ->Name("shape_minilm_compiled_fp16w")
    ->Apply(shape_grid);
BENCHMARK(BM_model<bc1s::nn::bert<any_shape, bc1s::half>, minilm_l6>)
    ->Name("shape_minilm_runtime_fp16w")
    ->Apply(shape_grid);

BENCHMARK_MAIN();
