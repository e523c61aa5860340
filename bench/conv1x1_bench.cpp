// conv1x1 at DistilBERT shapes, fp16, bf16, int8 and fp32 weights, beside Eigen's fp32 GEMM on the
// same shapes. out (B, Cout, 1, S) = W (Cout, Cin) * in (B, Cin, 1, S) + bias; 2 * B * S * Cout *
// Cin FLOP.
#include <Eigen/Core>

#include <random>
#include <vector>

#include "bc1s/bc1s.hpp"
#include "bc1s/kernels/conv1x1.hpp"
#include "bench_common.hpp"

#ifdef BC1S_BENCH_HAVE_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
#endif

namespace {

// The product the conv1x1 path for weights WT and `columns` columns runs on, and how many of
// them per multiplication (the limit peak_frac is measured against).
template <class WT>
std::pair<bc1s::runtime::product, double> path_product(std::size_t columns) {
  using bc1s::runtime::product;
  if (bc1s::conv1x1_uses_amx<WT>(columns)) {
    return {product::amx_bf16, std::is_same_v<WT, bc1s::half> ? 3.0 : 1.0};
  }
  if constexpr (std::is_same_v<WT, bc1s::bf16>) return {product::bf16_dot, 1.0};
  if constexpr (std::is_same_v<WT, bc1s::qint8>) return {product::int8_dot, 1.0};
  return {product::fma, 1.0};
}

using act_layout = bc1s::layout_bc1s<float, bc1s::extents<bc1s::dyn, bc1s::dyn, bc1s::dyn>>;

std::vector<float> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Args: Cout, Cin, S, B, threads
template <class WT>
void BM_conv1x1(benchmark::State& state) {
  const auto cout = static_cast<std::size_t>(state.range(0));
  const auto cin = static_cast<std::size_t>(state.range(1));
  const auto S = static_cast<std::size_t>(state.range(2));
  const auto B = static_cast<std::size_t>(state.range(3));
  const auto threads = static_cast<std::size_t>(state.range(4));
  const auto w = random_vector(cout * cin, 1);
  const auto bias = random_vector(cout, 2);
  bc1s::conv1x1_weights<WT> packed(cout, cin, w, bias);
  bc1s::tensor<float, act_layout> in(B, cin, S), out(B, cout, S);
  const auto x = random_vector(in.size(), 3);
  std::copy(x.begin(), x.end(), in.data());
  bc1s::runtime::thread_pool pool(threads);
  for (auto _ : state) {
    bc1s::conv1x1(packed, in, out, bc1s::epi::bias_only{}, &pool);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const auto [prod, per] = path_product<WT>(B * S);
  bc1s::bench::report_flops(state, 2.0 * double(B * S * cout * cin), threads, prod, per);
  state.counters["weight_MB"] = double(packed.bytes()) * 1e-6;
}

// The same with cold weights, as in a forward pass: each iteration uses the next of enough packed
// copies (~320 MiB in all) that no cache level holds them between uses (L3 here is 260 MiB).
// At small S this is the measure of weight streaming; the hot-weight benchmark above keeps the
// weights in L2 or L3 from one iteration to the next. S = 128 checks that the blocked path
// (which widens fp16 chunks instead of converting in registers) keeps up with cold weights.
template <class WT>
void BM_conv1x1_cold(benchmark::State& state) {
  const auto cout = static_cast<std::size_t>(state.range(0));
  const auto cin = static_cast<std::size_t>(state.range(1));
  const auto S = static_cast<std::size_t>(state.range(2));
  const auto B = static_cast<std::size_t>(state.range(3));
  const auto threads = static_cast<std::size_t>(state.range(4));
  const auto w = random_vector(cout * cin, 1);
  const auto bias = random_vector(cout, 2);
  const std::size_t copies = (std::size_t{320} << 20) / (cout * cin * sizeof(WT)) + 1;
  std::vector<bc1s::conv1x1_weights<WT>> packed;
  packed.reserve(copies);
  for (std::size_t i = 0; i < copies; ++i) packed.emplace_back(cout, cin, w, bias);
  bc1s::tensor<float, act_layout> in(B, cin, S), out(B, cout, S);
  const auto x = random_vector(in.size(), 3);
  std::copy(x.begin(), x.end(), in.data());
  bc1s::runtime::thread_pool pool(threads);
  std::size_t i = 0;
  for (auto _ : state) {
    bc1s::conv1x1(packed[i], in, out, bc1s::epi::bias_only{}, &pool);
    i = (i + 1) % copies;
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const auto [prod, per] = path_product<WT>(B * S);
  bc1s::bench::report_flops(state, 2.0 * double(B * S * cout * cin), threads, prod, per);
  state.counters["weight_GBps"] = benchmark::Counter(double(packed[0].bytes()) * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

void cold_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"Cout", "Cin", "S", "B", "threads"});
  const int cs[4][2] = {{768, 768}, {2304, 768}, {3072, 768}, {768, 3072}};
  for (int s : {8, 128})
    for (auto& c : cs)
      for (int t : {1, 2}) b->Args({c[0], c[1], s, 1, t});
  b->UseRealTime()->MinTime(0.3)->Unit(benchmark::kMicrosecond);
}

// Eigen fp32 GEMM on the same shapes (single-threaded: Debian's Eigen without OpenMP).
void BM_eigen_gemm_fp32(benchmark::State& state) {
  const auto cout = static_cast<Eigen::Index>(state.range(0));
  const auto cin = static_cast<Eigen::Index>(state.range(1));
  const auto S = static_cast<Eigen::Index>(state.range(2));
  const auto B = static_cast<Eigen::Index>(state.range(3));
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Mat W = Mat::Random(cout, cin);
  Eigen::VectorXf bias = Eigen::VectorXf::Random(cout);
  std::vector<Mat> in(static_cast<std::size_t>(B), Mat::Random(cin, S));
  std::vector<Mat> out(static_cast<std::size_t>(B), Mat(cout, S));
  for (auto _ : state) {
    for (Eigen::Index b = 0; b < B; ++b) {
      auto& o = out[static_cast<std::size_t>(b)];
      o.noalias() = W * in[static_cast<std::size_t>(b)];
      o.colwise() += bias;
    }
    benchmark::DoNotOptimize(out[0].data());
    benchmark::ClobberMemory();
  }
  bc1s::bench::report_flops(state, 2.0 * double(B * S * cout * cin), 1);
}

#ifdef BC1S_BENCH_HAVE_OPENBLAS
// OpenBLAS sgemm on the same shapes, row-major like the (Cout, S) rows: out = W * in, then bias.
void BM_openblas_sgemm(benchmark::State& state) {
  const auto cout = static_cast<int>(state.range(0));
  const auto cin = static_cast<int>(state.range(1));
  const auto S = static_cast<int>(state.range(2));
  const auto B = static_cast<std::size_t>(state.range(3));
  const auto threads = static_cast<int>(state.range(4));
  openblas_set_num_threads(threads);
  const auto w = random_vector(std::size_t(cout) * std::size_t(cin), 1);
  const auto bias = random_vector(std::size_t(cout), 2);
  const auto in = random_vector(B * std::size_t(cin) * std::size_t(S), 3);
  std::vector<float> out(B * std::size_t(cout) * std::size_t(S));
  for (auto _ : state) {
    for (std::size_t b = 0; b < B; ++b) {
      float* o = out.data() + b * std::size_t(cout) * std::size_t(S);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, S, cin, 1.0f, w.data(), cin,
                  in.data() + b * std::size_t(cin) * std::size_t(S), S, 0.0f, o, S);
      for (int m = 0; m < cout; ++m)
        for (int s = 0; s < S; ++s)
          o[std::size_t(m) * std::size_t(S) + std::size_t(s)] += bias[std::size_t(m)];
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  bc1s::bench::report_flops(state, 2.0 * double(B) * double(S) * cout * cin,
                            static_cast<std::size_t>(threads));
  // The kernel set OpenBLAS chose: Debian's 0.3.21 does not know this Xeon and falls back to
  // "Prescott" (SSE3) unless OPENBLAS_CORETYPE=SkylakeX is set.
  state.SetLabel(openblas_get_corename());
}
#endif

void shapes(benchmark::internal::Benchmark* b, bool threaded) {
  b->ArgNames({"Cout", "Cin", "S", "B", "threads"});
  const int cs[4][2] = {{768, 768}, {2304, 768}, {3072, 768}, {768, 3072}};
  for (auto& c : cs) {
    for (int s : {8, 32, 128, 256, 512}) {
      for (int batch : {1, 8}) {
        // 8 x 256 or 512 tokens is beyond DistilBERT's use here
        if (batch == 8 && s >= 256) continue;
        for (int t : {1, 2}) {
          if (t == 2 && !threaded) continue;
          b->Args({c[0], c[1], s, batch, t});
        }
      }
    }
  }
  b->UseRealTime()->MinTime(0.2)->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(BM_conv1x1<bc1s::half>)->Name("conv1x1_fp16w")->Apply([](auto* b) { shapes(b, true); });
BENCHMARK(BM_conv1x1<float>)->Name("conv1x1_fp32w")->Apply([](auto* b) { shapes(b, true); });
BENCHMARK(BM_conv1x1<bc1s::bf16>)->Name("conv1x1_bf16w")->Apply([](auto* b) { shapes(b, true); });
BENCHMARK(BM_conv1x1<bc1s::qint8>)->Name("conv1x1_int8w")->Apply([](auto* b) { shapes(b, true); });
BENCHMARK(BM_conv1x1_cold<bc1s::half>)->Name("conv1x1_cold_fp16w")->Apply(cold_shapes);
BENCHMARK(BM_conv1x1_cold<float>)->Name("conv1x1_cold_fp32w")->Apply(cold_shapes);
BENCHMARK(BM_conv1x1_cold<bc1s::bf16>)->Name("conv1x1_cold_bf16w")->Apply(cold_shapes);
BENCHMARK(BM_conv1x1_cold<bc1s::qint8>)->Name("conv1x1_cold_int8w")->Apply(cold_shapes);
BENCHMARK(BM_eigen_gemm_fp32)->Name("eigen_gemm_fp32")->Apply([](auto* b) { shapes(b, false); });
#ifdef BC1S_BENCH_HAVE_OPENBLAS
BENCHMARK(BM_openblas_sgemm)->Name("openblas_sgemm")->Apply([](auto* b) { shapes(b, true); });
#endif

BENCHMARK_MAIN();
