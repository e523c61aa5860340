// conv1x1 against a plain fp32 reference (double accumulation over the same fp16-rounded inputs).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "bc1s/kernels/conv1x1.hpp"

namespace {

using bc1s::bf16;
using bc1s::dyn;
using bc1s::half;
using bc1s::qint8;

template <class T>
using dyn_layout = bc1s::layout_bc1s<T, bc1s::extents<dyn, dyn, dyn>>;

struct shape {
  std::size_t B, cout, cin, S;
};

std::vector<float> random_vector(std::size_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

template <class T>
float round_to(float x) {
  return bc1s::to_float(bc1s::from_float<T>(x));
}

// The stored weight W'[m][k]: rounded to WT here, independently of the packing; for int8 the
// packed value (its quantisation is checked on its own,
// QuantisedWeightsMatchAnIndependentRounding).
template <class WT, class W>
double stored_weight(const W& packed, const std::vector<float>& w, std::size_t m, std::size_t k,
                     std::size_t cin) {
  if constexpr (std::is_same_v<WT, qint8>) {
    return packed.at(m, k);
  } else {
    return round_to<WT>(w[m * cin + k]);
  }
}

enum class mode { bias, gelu, residual };

// Runs conv1x1 with weight storage WT and activation storage AT against the reference, returns
// max abs error over valid outputs and checks the padding lanes are untouched (finite).
template <class WT, class AT>
void check(const shape& sh, mode md, std::size_t threads) {
  const auto w = random_vector(sh.cout * sh.cin, 11, 0.1f);
  const auto bias = random_vector(sh.cout, 12, 0.5f);
  bc1s::conv1x1_weights<WT> packed(sh.cout, sh.cin, w, bias);
  bc1s::tensor<AT, dyn_layout<AT>> in(sh.B, sh.cin, sh.S), out(sh.B, sh.cout, sh.S),
      res(sh.B, sh.cout, sh.S);
  const auto x = random_vector(sh.B * sh.cin * sh.S, 13, 1.0f);
  const auto r = random_vector(sh.B * sh.cout * sh.S, 14, 1.0f);
  for (std::size_t b = 0; b < sh.B; ++b)
    for (std::size_t c = 0; c < sh.cin; ++c)
      for (std::size_t s = 0; s < sh.S; ++s)
        in(b, c, s) = bc1s::from_float<AT>(x[(b * sh.cin + c) * sh.S + s]);
  for (std::size_t b = 0; b < sh.B; ++b)
    for (std::size_t c = 0; c < sh.cout; ++c)
      for (std::size_t s = 0; s < sh.S; ++s)
        res(b, c, s) = bc1s::from_float<AT>(r[(b * sh.cout + c) * sh.S + s]);

  bc1s::runtime::thread_pool pool(threads);
  switch (md) {
    case mode::bias:
      bc1s::conv1x1(packed, in, out, bc1s::epi::bias_only{}, &pool);
      break;
    case mode::gelu:
      bc1s::conv1x1(packed, in, out, bc1s::epi::gelu{}, &pool);
      break;
    case mode::residual:
      bc1s::conv1x1(packed, in, out, bc1s::epi::residual{res.cview()}, &pool);
      break;
  }

  // int8: the activations of position s are quantised with step max_k |x[k][s]| / 127, so each
  // is within half a step, and output (m, s) within sum_k |W'[m][k]| * max_k |x[k][s]| / 254
  // (times GELU's largest slope, 1.13, after GELU). max_quant_excess: the largest error beyond
  // that bound.
  double max_abs = 0, max_ref = 0, max_sum_abs = 0, max_quant_excess = -1;
  for (std::size_t b = 0; b < sh.B; ++b) {
    for (std::size_t m = 0; m < sh.cout; ++m) {
      double w_abs = 0;
      for (std::size_t k = 0; k < sh.cin; ++k)
        w_abs += std::abs(stored_weight<WT>(packed, w, m, k, sh.cin));
      for (std::size_t s = 0; s < sh.S; ++s) {
        double acc = bias[m], sum_abs = 0, x_max = 0;
        for (std::size_t k = 0; k < sh.cin; ++k) {
          const double xk = double(bc1s::to_float(in(b, k, s)));
          const double term = stored_weight<WT>(packed, w, m, k, sh.cin) * xk;
          acc += term;
          sum_abs += std::abs(term);
          x_max = std::max(x_max, std::abs(xk));
        }
        max_sum_abs = std::max(max_sum_abs, sum_abs);
        if (md == mode::gelu) acc = 0.5 * acc * (1.0 + std::erf(acc / std::sqrt(2.0)));
        if (md == mode::residual) acc += double(bc1s::to_float(res(b, m, s)));
        const double got = bc1s::to_float(out(b, m, s));
        const double err = std::abs(got - acc);
        if constexpr (std::is_same_v<WT, qint8>) {
          const double bound = w_abs * x_max / 254.0 * (md == mode::gelu ? 1.13 : 1.0);
          max_quant_excess = std::max(max_quant_excess, err - bound);
        } else {
          max_abs = std::max(max_abs, err);
        }
        max_ref = std::max(max_ref, std::abs(acc));
      }
      for (std::size_t s = sh.S; s < out.mapping().padded_s(); ++s) {
        ASSERT_TRUE(std::isfinite(bc1s::to_float(out(b, m, s))));
      }
    }
  }
  // Tolerance. The reference uses the same stored (rounded) weights and inputs, so what remains is
  // (1) fp32 accumulation over Cin products of magnitude <= 0.1 * 1: error <= Cin * 2^-24 *
  // sum|terms|,
  //     bounded by Cin * 2^-24 * (Cin * 0.1 + 0.5); and
  // (2) when the output is stored as fp16, one rounding of the result: 2^-11 * |out| (+ the
  // residual
  //     add done in fp32 before that rounding).
  const double sum_terms = 0.1 * double(sh.cin) + 0.5 + 1.0;
  double tol = double(sh.cin) * std::ldexp(1.0, -24) * sum_terms + 1e-6;
  if constexpr (std::is_same_v<AT, half>) tol += std::ldexp(1.0, -11) * max_ref;
  // (3) fp16 weights on AMX tiles (enough columns, where the CPU and OS allow): each product
  //     within 3 * 2^-16 of the exact one (arch/amx/conv1x1.hpp: the dropped terms wlo * xlo <=
  //     2^-8 * 2^-8 and w * e <= 2^-16).
  // (4) bf16 weights, on every path: the weight is used as stored and the activation rounded to
  //     bf16 (8 significant bits, round to nearest: relative error <= 2^-9), so each product is
  //     within 2^-9 of the exact one.
  const bool amx = bc1s::conv1x1_uses_amx<WT>(sh.B * sh.S);
  if constexpr (std::is_same_v<WT, bf16>) {
    tol += std::ldexp(1.0, -9) * max_sum_abs;
  } else if (amx) {
    tol += 3 * std::ldexp(1.0, -16) * max_sum_abs;
  }
  if constexpr (std::is_same_v<WT, qint8>) max_abs = std::max(0.0, max_quant_excess);
  std::printf(
      "conv1x1 %s weights, %s acts, B=%zu Cout=%zu Cin=%zu S=%zu mode=%d threads=%zu%s: "
      "max abs err %.3g (max |ref| %.3g, tol %.3g)%s\n",
      bc1s::weight_storage<WT>::name, bc1s::weight_storage<AT>::name, sh.B, sh.cout, sh.cin, sh.S,
      int(md), threads, amx ? " (amx)" : "", max_abs, max_ref, tol,
      std::is_same_v<WT, qint8> ? " beyond the quantisation bound" : "");
  EXPECT_LE(max_abs, tol);
}

class Conv1x1Shapes : public ::testing::TestWithParam<shape> {};

TEST_P(Conv1x1Shapes, Fp16WeightsFp32ActsMatchReference) {
  check<half, float>(GetParam(), mode::bias, 1);
}
TEST_P(Conv1x1Shapes, Fp32WeightsFp32ActsMatchReference) {
  check<float, float>(GetParam(), mode::bias, 1);
}
TEST_P(Conv1x1Shapes, Fp16WeightsFp16ActsMatchReference) {
  check<half, half>(GetParam(), mode::bias, 2);
}
TEST_P(Conv1x1Shapes, GeluEpilogueMatchesReference) {
  check<half, float>(GetParam(), mode::gelu, 2);
}
TEST_P(Conv1x1Shapes, ResidualEpilogueMatchesReference) {
  check<half, float>(GetParam(), mode::residual, 2);
}
// The FMA paths for fp16 weights, which AMX takes over where the CPU has it (the tests above then
// check the AMX path): turned off for these, so that both are checked on such a machine.
struct amx_off {
  amx_off() { bc1s::simd::set_amx_enabled(false); }
  ~amx_off() { bc1s::simd::set_amx_enabled(true); }
};
TEST_P(Conv1x1Shapes, Fp16WeightsFmaPathMatchesReference) {
  amx_off off;
  check<half, float>(GetParam(), mode::bias, 1);
  check<half, half>(GetParam(), mode::gelu, 2);
  check<half, float>(GetParam(), mode::residual, 2);
}
TEST_P(Conv1x1Shapes, Bf16WeightsMatchReference) {
  check<bf16, float>(GetParam(), mode::bias, 1);
  check<bf16, half>(GetParam(), mode::gelu, 2);
  check<bf16, float>(GetParam(), mode::residual, 2);
}
TEST_P(Conv1x1Shapes, Bf16WeightsFmaPathMatchesReference) {
  amx_off off;
  check<bf16, float>(GetParam(), mode::bias, 1);
  check<bf16, float>(GetParam(), mode::residual, 2);
}
TEST_P(Conv1x1Shapes, Int8WeightsMatchReference) {
  check<qint8, float>(GetParam(), mode::bias, 1);
  check<qint8, half>(GetParam(), mode::gelu, 2);
  check<qint8, float>(GetParam(), mode::residual, 2);
}
TEST_P(Conv1x1Shapes, Fp32WeightsGeluTwoThreadsMatchesReference) {
  check<float, float>(GetParam(), mode::gelu, 2);
}
TEST_P(Conv1x1Shapes, Fp32WeightsResidualTwoThreadsMatchesReference) {
  check<float, float>(GetParam(), mode::residual, 2);
}

// The paths: on a CPU with AMX (and Linux granting it), fp16 weights with B x S >= 12 run on AMX
// tiles: tasks of one or two position tiles split each weight block as they go (fused_pass: B = 1,
// S = 13 and 31; B = 2, S = 6, a pair of tiles from two batch items; Cin = 50 ends on a part
// block); more tiles share weights split 256 input channels a chunk (Cin = 17 .. 96: one chunk,
// zero-padded to 32; 768: 3; 3072: 12; 5000: 20; 22000: 86), in blocks of up to 16 position tiles
// of 16 (B = 3, S = 512: 96 tiles, 6 blocks), odd tile counts ending on a single-tile pass.
// Otherwise: fewer than 3 tiles of columns in all (B x S < 36 on AVX-512) run straight from the
// input rows. The others run kKChunk = 192 input channels at a time (Cin = 17 .. 96: one chunk;
// 768: 4; 3072: 16; 5000: 27) over blocks of tiles, read in place when the fp32 input is small (Cin
// <= 1024, rows <= 256 floats apart, <= 1 MiB in all) and packed otherwise (and always for fp16
// activations): a block may span batch items, and at Cin = 3072 holds at most 7 tiles of 12 columns
// on AVX-512 (14 of 6 on AVX2). Cin = 22000 is too wide for one packed tile and runs straight from
// the rows at any S.
INSTANTIATE_TEST_SUITE_P(Shapes, Conv1x1Shapes,
                         ::testing::Values(shape{1, 7, 5, 1}, shape{3, 33, 24, 7},
                                           shape{1, 2, 768, 31}, shape{3, 40, 17, 32},
                                           shape{1, 96, 64, 33}, shape{3, 64, 96, 127},
                                           shape{1, 768, 768, 128}, shape{1, 3072, 768, 129},
                                           shape{1, 768, 3072, 33}, shape{3, 8, 768, 512},
                                           shape{1, 100, 768, 13}, shape{2, 64, 3072, 6},
                                           shape{1, 45, 50, 16},
                                           // B > 1 with S below one tile: tiles of 8 columns.
                                           shape{8, 70, 200, 8},
                                           // Rows over 1 KiB apart: packed, in 2 blocks of up to
                                           // 64 tiles spanning batch items.
                                           shape{4, 50, 300, 260},
                                           // Cin = 3072, S not a multiple of the tile, blocks
                                           // spanning batch items.
                                           shape{3, 40, 3072, 101}, shape{1, 33, 3072, 250},
                                           // Cin not a multiple of the chunk, 4 tiles a block.
                                           shape{2, 35, 5000, 50},
                                           // AMX: 1.15 MiB of packed activations, panels in
                                           // a group of 4 and one of 3 (1 thread).
                                           shape{1, 200, 3072, 96},
                                           // Too wide to pack: straight from the rows.
                                           shape{1, 3, 22000, 40}));

// int8 weights: per output channel, scale = max_k |W[m][k]| / 127 and q = W / scale rounded to
// the nearest integer (ties here are measure-zero for random floats), recomputed in double.
TEST(Conv1x1, QuantisedWeightsMatchAnIndependentRounding) {
  const std::size_t cout = 70, cin = 45;
  auto w = random_vector(cout * cin, 11, 0.3f);
  for (std::size_t k = 0; k < cin; ++k) w[5 * cin + k] = 0.0f;  // an all-zero row
  const bc1s::conv1x1_weights<qint8> packed(cout, cin, w, {});
  for (std::size_t m = 0; m < cout; ++m) {
    double amax = 0;
    for (std::size_t k = 0; k < cin; ++k) amax = std::max(amax, std::abs(double(w[m * cin + k])));
    const double scale = amax / 127.0;
    for (std::size_t k = 0; k < cin; ++k) {
      const double q = amax > 0 ? std::round(double(w[m * cin + k]) / scale) : 0.0;
      ASSERT_NEAR(packed.at(m, k), q * scale, 1e-6 * amax + 1e-30) << m << ", " << k;
      ASSERT_LE(std::abs(packed.at(m, k) - w[m * cin + k]), scale / 2 * (1 + 1e-5) + 1e-30);
    }
  }
  // Whole panels of kPanelRows rows (32 on AVX-512, 8 portable), cin rounded up to 48.
  constexpr std::size_t P = bc1s::conv1x1_weights<qint8>::kPanelRows;
  EXPECT_EQ(packed.bytes(), (cout + P - 1) / P * P * 48u);
}

// Weights packed into a shared weight_arena: the same packing as on their own, both weights
// side by side in the arena, and the arena sized by arena_bytes exactly.
TEST(Conv1x1, WeightsPackedInAnArenaMatchTheirOwnPacking) {
  const std::size_t cout = 70, cin = 40;
  const auto w = random_vector(cout * cin, 11, 0.5f);
  const auto bias = random_vector(cout, 12, 0.5f);
  using W = bc1s::conv1x1_weights<half>;
  bc1s::weight_arena arena(2 * W::arena_bytes(cout, cin));
  const W own(cout, cin, w, bias);
  const W first(cout, cin, w, bias, arena);
  const W second(cout, cin, w, {}, arena);
  EXPECT_EQ(arena.used(), arena.capacity());
  EXPECT_THROW(W(cout, cin, w, bias, arena), std::length_error);
  for (std::size_t m = 0; m < cout; ++m) {
    for (std::size_t k = 0; k < cin; ++k) {
      ASSERT_EQ(first.at(m, k), own.at(m, k)) << m << ", " << k;
      ASSERT_EQ(second.at(m, k), own.at(m, k)) << m << ", " << k;
    }
    ASSERT_EQ(first.bias()[m], own.bias()[m]);
    ASSERT_EQ(second.bias()[m], 0.0f);
  }
  EXPECT_LT(first.panel(0), second.panel(0));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(second.panel(0)) % 64, 0u);
}

// conv1x1_stacked: each output exactly what its own conv1x1 call gives, on the AMX path (one
// call over all the weights' panels, where the CPU has AMX) and the FMA paths, 1 and 2 threads.
TEST(Conv1x1, StackedEqualsSeparateCalls) {
  // a partial last panel in every weight; two weight chunks (256 + 44 input channels) per panel
  const std::size_t cout = 70, cin = 300;
  using W = bc1s::conv1x1_weights<half>;
  std::vector<W> w;
  for (std::size_t i = 0; i < 3; ++i) {
    w.emplace_back(cout, cin, random_vector(cout * cin, 20 + unsigned(i), 0.1f),
                   random_vector(cout, 30 + unsigned(i), 0.1f));
  }
  const std::array<const W*, 3> ws{&w[0], &w[1], &w[2]};
  bc1s::runtime::thread_pool p1(1), p2(2);
  for (const auto& [B, S] :
       {std::pair<std::size_t, std::size_t>{1, 5}, {1, 40}, {2, 77}, {3, 16}}) {
    for (bc1s::runtime::thread_pool* pool : {&p1, &p2}) {
      bc1s::tensor<float, dyn_layout<float>> in(B, cin, S);
      const auto x = random_vector(B * cin * S, 4, 1.0f);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t k = 0; k < cin; ++k)
          for (std::size_t s = 0; s < S; ++s) in(b, k, s) = x[(b * cin + k) * S + s];
      using T = bc1s::tensor<float, dyn_layout<float>>;
      std::vector<T> sep, st;
      for (std::size_t i = 0; i < 3; ++i) {
        sep.emplace_back(B, cout, S);
        st.emplace_back(B, cout, S);
        bc1s::conv1x1(w[i], in, sep[i], bc1s::epi::bias_only{}, pool);
      }
      bc1s::conv1x1_stacked(ws, in, std::array{st[0].view(), st[1].view(), st[2].view()}, pool);
      for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < sep[i].size(); ++j) {
          ASSERT_EQ(st[i].data()[j], sep[i].data()[j])
              << "weight " << i << " at " << j << " (B " << B << ", S " << S << ", " << pool->size()
              << " threads)";
        }
      }
      // and against the plain reference, so that equal-but-wrong cannot pass
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t m = 0; m < cout; ++m)
          for (std::size_t s = 0; s < S; ++s) {
            double ref = w[2].bias()[m];
            for (std::size_t k = 0; k < cin; ++k)
              ref += double(w[2].at(m, k)) * double(x[(b * cin + k) * S + s]);
            ASSERT_NEAR(st[2](b, m, s), ref, 1e-3) << b << ", " << m << ", " << s;
          }
    }
  }
  // a weight of another shape, or an output of another S, is an error naming the kernel
  const W other(cout + 32, cin, random_vector((cout + 32) * cin, 5, 0.1f), {});
  bc1s::tensor<float, dyn_layout<float>> in(1, cin, 40), o(1, cout, 40), o2(1, cout, 40),
      o3(1, cout, 41);
  EXPECT_THROW(bc1s::conv1x1_stacked(std::array<const W*, 2>{&w[0], &other}, in,
                                     std::array{o.view(), o2.view()}),
               std::invalid_argument);
  EXPECT_THROW(bc1s::conv1x1_stacked(std::array<const W*, 2>{&w[0], &w[1]}, in,
                                     std::array{o.view(), o3.view()}),
               std::invalid_argument);
}

// bf16 and int8 weights: a batch item's last tile is multiplied at the narrowest width of 4, 8 or
// 12 columns that holds it. Each column is computed on its own, so a column gives the same bits at
// every width: the first S' columns of an S = 24 input (two full tiles) against the same columns
// given alone, where they end on a tile of another width. cin = 500: two chunks of input channels
// and four activation groups, the last partial; cout = 70: a partial last panel.
template <class WT>
void check_widths_agree() {
  const std::size_t cout = 70, cin = 500, S = 24;
  if (bc1s::conv1x1_uses_amx<WT>(S)) {
    GTEST_SKIP() << "S = 24 runs on AMX tiles here, not on the dot-product path";
  }
  const auto w = random_vector(cout * cin, 11, 0.1f);
  const auto bias = random_vector(cout, 12, 0.1f);
  const bc1s::conv1x1_weights<WT> packed(cout, cin, w, bias);
  const auto x = random_vector(cin * S, 13, 1.0f);
  bc1s::tensor<float, dyn_layout<float>> in(1, cin, S), full(1, cout, S);
  for (std::size_t k = 0; k < cin; ++k)
    for (std::size_t s = 0; s < S; ++s) in(0, k, s) = x[k * S + s];
  bc1s::conv1x1(packed, in, full, bc1s::epi::bias_only{});
  bc1s::tensor<float, dyn_layout<float>> other(1, cin, S), other_out(1, cout, S);
  const auto y = random_vector(cin * S, 14, 3.0f);
  std::copy(y.begin(), y.end(), other.data());
  // Against the stored weights in double: each weight and activation is rounded by at most half a
  // step of 1/127 (int8) or 2^-9 relative (bf16) of its row's or group's largest magnitude.
  float wmax = 0;
  for (float v : w) wmax = std::max(wmax, std::abs(v));
  const double bound = 2.1 * double(cin) * wmax * 1.0 / 254;
  for (std::size_t m = 0; m < cout; ++m)
    for (std::size_t s = 0; s < S; ++s) {
      double ref = bias[m];
      for (std::size_t k = 0; k < cin; ++k) ref += double(w[m * cin + k]) * x[k * S + s];
      ASSERT_NEAR(full(0, m, s), ref, bound) << m << ", " << s;
    }
  for (std::size_t sp : {1u, 4u, 5u, 8u, 9u, 13u, 16u, 20u, 23u}) {
    bc1s::tensor<float, dyn_layout<float>> part_in(1, cin, sp), part(1, cout, sp);
    for (std::size_t k = 0; k < cin; ++k)
      for (std::size_t s = 0; s < sp; ++s) part_in(0, k, s) = x[k * S + s];
    // another input first, so that no packed word or scale of the full call is left to reuse
    bc1s::conv1x1(packed, other, other_out, bc1s::epi::bias_only{});
    bc1s::conv1x1(packed, part_in, part, bc1s::epi::bias_only{});
    for (std::size_t m = 0; m < cout; ++m)
      for (std::size_t s = 0; s < sp; ++s)
        ASSERT_EQ(part(0, m, s), full(0, m, s)) << "S' = " << sp << " at " << m << ", " << s;
  }
}
TEST(Conv1x1, DotPathColumnsAgreeAtEveryTileWidthBf16) {
  check_widths_agree<bf16>();
}
TEST(Conv1x1, DotPathColumnsAgreeAtEveryTileWidthInt8) {
  check_widths_agree<qint8>();
}

TEST(Conv1x1, MultiThreadedEqualsSingleThreaded) {
  const std::size_t cout = 200, cin = 96, S = 45, B = 3;
  const auto w = random_vector(cout * cin, 1, 0.1f);
  const auto bias = random_vector(cout, 2, 0.1f);
  bc1s::conv1x1_weights<half> packed(cout, cin, w, bias);
  bc1s::tensor<float, dyn_layout<float>> in(B, cin, S), o1(B, cout, S), o2(B, cout, S);
  const auto x = random_vector(in.size(), 3, 1.0f);
  std::copy(x.begin(), x.end(), in.data());
  bc1s::runtime::thread_pool p1(1), p2(2);
  bc1s::conv1x1(packed, in, o1, bc1s::epi::gelu{}, &p1);
  bc1s::conv1x1(packed, in, o2, bc1s::epi::gelu{}, &p2);
  for (std::size_t i = 0; i < o1.size(); ++i) ASSERT_EQ(o1.data()[i], o2.data()[i]) << "at " << i;
}

// The packed path splits (block, panel range) tasks over the threads; every output is still summed
// in the same order, so any thread count gives the same bits. Cin = 3072, S = 200, B = 2: 2 x 17
// tiles in 5 blocks (AVX-512) and 7 panels of 32 output channels.
template <class WT>
void check_threads_agree(std::size_t B, std::size_t cout, std::size_t cin, std::size_t S) {
  const auto w = random_vector(cout * cin, 1, 0.1f);
  const auto bias = random_vector(cout, 2, 0.1f);
  bc1s::conv1x1_weights<WT> packed(cout, cin, w, bias);
  bc1s::tensor<float, dyn_layout<float>> in(B, cin, S), res(B, cout, S), o1(B, cout, S),
      o2(B, cout, S), o3(B, cout, S);
  const auto x = random_vector(in.size(), 3, 1.0f);
  std::copy(x.begin(), x.end(), in.data());
  const auto r = random_vector(res.size(), 4, 1.0f);
  std::copy(r.begin(), r.end(), res.data());
  bc1s::runtime::thread_pool p2(2), p3(3);
  bc1s::conv1x1(packed, in, o1, bc1s::epi::residual{res.cview()});
  bc1s::conv1x1(packed, in, o2, bc1s::epi::residual{res.cview()}, &p2);
  bc1s::conv1x1(packed, in, o3, bc1s::epi::residual{res.cview()}, &p3);
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t m = 0; m < cout; ++m) {
      for (std::size_t s = 0; s < S; ++s) {
        ASSERT_EQ(o1(b, m, s), o2(b, m, s)) << "at " << b << ", " << m << ", " << s;
        ASSERT_EQ(o1(b, m, s), o3(b, m, s)) << "at " << b << ", " << m << ", " << s;
      }
    }
  }
}
TEST(Conv1x1, PackedPathThreadCountsAgreeFp16) {
  check_threads_agree<half>(2, 200, 3072, 200);
}
TEST(Conv1x1, PackedPathThreadCountsAgreeFp32) {
  check_threads_agree<float>(2, 200, 3072, 200);
}

// Back-to-back calls with different inputs of the same shape: the per-thread packed block must
// not be reused from the previous call.
TEST(Conv1x1, PackedBlockIsNotReusedAcrossCalls) {
  const std::size_t cout = 64, cin = 768, S = 40;
  const auto w = random_vector(cout * cin, 1, 0.1f);
  bc1s::conv1x1_weights<half> packed(cout, cin, w, {});
  bc1s::tensor<float, dyn_layout<float>> a(1, cin, S), b(1, cin, S), oa(1, cout, S), ob(1, cout, S),
      oa2(1, cout, S);
  const auto xa = random_vector(a.size(), 3, 1.0f), xb = random_vector(b.size(), 4, 1.0f);
  std::copy(xa.begin(), xa.end(), a.data());
  std::copy(xb.begin(), xb.end(), b.data());
  bc1s::runtime::thread_pool pool(2);
  bc1s::conv1x1(packed, a, oa, bc1s::epi::bias_only{}, &pool);
  bc1s::conv1x1(packed, b, ob, bc1s::epi::bias_only{}, &pool);
  bc1s::conv1x1(packed, a, oa2, bc1s::epi::bias_only{}, &pool);
  for (std::size_t i = 0; i < oa.size(); ++i) ASSERT_EQ(oa.data()[i], oa2.data()[i]) << i;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < oa.size(); ++i) differ += oa.data()[i] != ob.data()[i];
  EXPECT_GT(differ, oa.size() / 2);
}

TEST(Conv1x1, StaticExtentsCompileAndRun) {
  using L_in = bc1s::layout_bc1s<float, bc1s::extents<1, 24, 16>>;
  using L_out = bc1s::layout_bc1s<float, bc1s::extents<1, 8, 16>>;
  const auto w = random_vector(8 * 24, 1, 0.1f);
  bc1s::conv1x1_weights<half, 8, 24> packed(8, 24, w, {});
  bc1s::tensor<float, L_in> in;
  bc1s::tensor<float, L_out> out;
  for (std::size_t c = 0; c < 24; ++c) in(0, c, 3) = 1.0f;
  bc1s::conv1x1(packed, in, out);
  float expect = 0;
  for (std::size_t k = 0; k < 24; ++k) expect += packed.at(5, k);
  EXPECT_FLOAT_EQ(out(0, 5, 3), expect);
  EXPECT_EQ(out(0, 5, 2), 0.0f);
}

TEST(Conv1x1, RuntimeShapeErrorsNameTheKernel) {
  const auto w = random_vector(8 * 24, 1, 0.1f);
  bc1s::conv1x1_weights<float> packed(8, 24, w, {});
  bc1s::tensor<float, dyn_layout<float>> in(1, 20, 16), out(1, 8, 16), out_s(1, 8, 15);
  try {
    bc1s::conv1x1(packed, in, out);
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bc1s::conv1x1: expected a weight whose input channels"),
              std::string::npos)
        << e.what();
  }
  bc1s::tensor<float, dyn_layout<float>> in24(1, 24, 16);
  try {
    bc1s::conv1x1(packed, in24, out_s);
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("with the same B and S"), std::string::npos) << e.what();
  }
  EXPECT_THROW(bc1s::conv1x1_weights<float>(8, 24, std::vector<float>(10), {}),
               std::invalid_argument);
}

}  // namespace

// Which path runs: AMX for fp16 weights from kMinCols (12) columns, where the CPU and OS allow;
// never for fp32 weights (whose FMA path is the exact reference users ask for) or when turned off.
TEST(Conv1x1, AmxPathIsChosenByStorageAndColumns) {
  EXPECT_FALSE(bc1s::conv1x1_uses_amx<float>(512));
  constexpr std::size_t kMin = BC1S_AMX_MIN_COLS;
  EXPECT_FALSE(bc1s::conv1x1_uses_amx<half>(kMin - 1));
  {
    amx_off off;
    EXPECT_FALSE(bc1s::conv1x1_uses_amx<half>(512));
  }
  if (!bc1s::simd::amx_enabled()) {
    GTEST_SKIP() << "no AMX in this build or process (arch::kAmx = " << bc1s::arch::kAmx
                 << "): the FMA paths ran every case";
  }
  EXPECT_TRUE(bc1s::conv1x1_uses_amx<half>(kMin));
  EXPECT_TRUE(bc1s::conv1x1_uses_amx<half>(512));
  EXPECT_TRUE(bc1s::conv1x1_uses_amx<bf16>(kMin));
  EXPECT_FALSE(bc1s::conv1x1_uses_amx<bf16>(kMin - 1));
}
