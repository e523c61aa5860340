// Per-head chunked attention against a plain reference: for every (b, h, query), softmax over keys
// of q.k / sqrt(D) with padded keys masked, then the weighted sum of values, in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "bc1s/kernels/attention.hpp"

namespace {

using bc1s::dyn;
using bc1s::half;

template <class T>
using dyn_layout = bc1s::layout_bc1s<T, bc1s::extents<dyn, dyn, dyn>>;

// x rounded to `bits` significant bits (0: unchanged).
float round_bits(float x, int bits) {
  if (bits == 0 || x == 0.0f) return x;
  int e = 0;
  const double m = std::frexp(double(x), &e);  // |m| in [0.5, 1)
  return float(std::ldexp(std::nearbyint(std::ldexp(m, bits)), e - bits));
}

// Significant bits of the inputs (0: all 24) and, when given, the tolerance to check against.
struct operand_bits {
  int q = 0, k = 0, v = 0;
  double tol = 0;
};

template <class T, std::size_t H, std::size_t Q>
void check(std::size_t B, std::size_t C, std::size_t S, std::size_t threads,
           operand_bits bits = {}) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  bc1s::tensor<T, dyn_layout<T>> q(B, C, S), k(B, C, S), v(B, C, S), ctx(B, C, S);
  for (auto [t, nb] : {std::pair{&q, bits.q}, std::pair{&k, bits.k}, std::pair{&v, bits.v}})
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t s = 0; s < S; ++s)
          (*t)(b, c, s) = bc1s::from_float<T>(round_bits(2.0f * u(rng), nb));
  // Batch b has S - 3*b real tokens (at least 1); the rest is padding.
  std::vector<float> mask(B * S, 0.0f);
  std::vector<std::size_t> valid(B);
  for (std::size_t b = 0; b < B; ++b) {
    valid[b] = S > 3 * b ? S - 3 * b : 1;
    for (std::size_t s = valid[b]; s < S; ++s) mask[b * S + s] = bc1s::kMaskedKey;
  }
  bc1s::runtime::thread_pool pool(threads);
  std::vector<float, xsimd::aligned_allocator<float, 64>> scratch(
      bc1s::attention_scratch_floats(S, Q, threads));
  bc1s::attention<bc1s::head_split<dyn, H>, bc1s::query_chunk<T, Q>>(
      q, k, v, ctx, {.key_mask_add = mask, .scratch = scratch, .pool = &pool});

  const std::size_t D = C / H;
  double max_abs = 0;
  std::vector<double> p(S);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t h = 0; h < H; ++h)
      for (std::size_t qi = 0; qi < S; ++qi) {
        double mx = -1e300;
        for (std::size_t ki = 0; ki < valid[b]; ++ki) {
          double dot = 0;
          for (std::size_t d = 0; d < D; ++d)
            dot += double(bc1s::to_float(q(b, h * D + d, qi))) *
                   double(bc1s::to_float(k(b, h * D + d, ki)));
          p[ki] = dot / std::sqrt(double(D));
          mx = std::max(mx, p[ki]);
        }
        double sum = 0;
        for (std::size_t ki = 0; ki < valid[b]; ++ki) sum += (p[ki] = std::exp(p[ki] - mx));
        for (std::size_t d = 0; d < D; ++d) {
          double acc = 0;
          for (std::size_t ki = 0; ki < valid[b]; ++ki)
            acc += p[ki] / sum * double(bc1s::to_float(v(b, h * D + d, ki)));
          max_abs =
              std::max(max_abs, std::abs(acc - double(bc1s::to_float(ctx(b, h * D + d, qi)))));
        }
      }
  // Tolerance: the context is a convex combination of values |v| <= 2. Errors: the scores' fp32
  // dot products (D terms of |q k| <= 4: D * 4 * 2^-24 absolute, amplified by at most 2 * |v| = 4
  // through the softmax), exp's ~2 ulp, and the fp32 weighted sum over S keys (S * 2^-24 * 2); an
  // fp16 context adds one rounding of 2^-11 * 2.
  double tol =
      4.0 * double(D) * 4.0 * std::ldexp(1.0, -24) + double(S) * 2.0 * std::ldexp(1.0, -22) + 1e-6;
  if constexpr (std::is_same_v<T, half>) tol += 2.0 * std::ldexp(1.0, -11);
  // On AMX tiles each product is within 3 * 2^-16 of the exact one (bf16 hi + lo operands): the
  // scores, scaled by 1 / sqrt(D), are within 3 * 2^-16 * D * 4 / sqrt(D), amplified by 4 through
  // the softmax as above; the context sum adds 3 * 2^-16 * 2.
  const bool amx = std::is_same_v<T, float> && bc1s::attention_uses_amx(D, S, Q);
  if (amx) {
    tol = 4.0 * 3.0 * std::ldexp(1.0, -16) * double(D) * 4.0 / std::sqrt(double(D)) +
          2.0 * 3.0 * std::ldexp(1.0, -16) + 1e-6;
  }
  if (bits.tol > 0) tol = bits.tol;
  std::printf(
      "attention %s B=%zu C=%zu H=%zu S=%zu Q=%zu threads=%zu%s: max abs err %.3g (tol %.3g)\n",
      std::is_same_v<T, half> ? "fp16" : "fp32", B, C, H, S, Q, threads, amx ? " (AMX)" : "",
      max_abs, tol);
  EXPECT_LE(max_abs, tol);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = S; s < ctx.mapping().padded_s(); ++s)
        ASSERT_TRUE(std::isfinite(bc1s::to_float(ctx(b, c, s))));
}

TEST(Attention, Fp32SmallOddShapes) {
  for (std::size_t S : {1, 7, 31, 32, 33, 127}) {
    check<float, 3, 32>(3, 24, S, 1);
    check<float, 2, 16>(1, 10, S, 2);
  }
}
TEST(Attention, Fp32DistilBertShapes) {
  for (std::size_t S : {8, 128, 129}) check<float, 12, 32>(1, 768, S, 2);
  check<float, 12, 32>(3, 768, 33, 2);
}
TEST(Attention, Fp32Long) {
  check<float, 12, 32>(1, 768, 512, 2);
}
TEST(Attention, HeadDim32) {
  check<float, 12, 32>(3, 384, 65, 2);
}
// The AMX path (where the machine has it) against the reference, with the FMA path's check too:
// key counts that end inside a tile and a k block, queries that end inside a chunk, masks.
TEST(Attention, AmxShapes) {
  for (std::size_t S : {64, 65, 79, 96, 100}) {
    check<float, 2, 32>(2, 128, S, 1);
    check<float, 4, 32>(3, 128, S, 2);
  }
  bc1s::simd::set_amx_enabled(false);  // the same shapes on the FMA path
  check<float, 2, 32>(2, 128, 79, 2);
  bc1s::simd::set_amx_enabled(true);
}

// The bound above is a worst case, loose enough that it would pass with one of the two correction
// products missing (measured: errors of 3e-3 .. 6e-3 then). Operands that split exactly make a
// tight one: with one of q, k of 8 significant bits (exactly bf16: its lo part is 0) and the other
// of 16 (exactly hi + lo), the three products are the exact scores, and the only error left in
// them is fp32 accumulation, as on the FMA path; the context's products then err only by the
// split of the fp32 probabilities, 2 * 2^-16 * sum p |v| <= 2^-14. Dropping any correction
// product costs about 2^-9 relative: far outside.
TEST(Attention, AmxCorrectionProducts) {
  const std::size_t D = 64, S = 70;
  const double tol = 4.0 * double(D) * 4.0 * std::ldexp(1.0, -24) +
                     double(S) * 2.0 * std::ldexp(1.0, -22) + std::ldexp(1.0, -14) + 1e-6;
  check<float, 2, 32>(2, 2 * D, S, 2, {.q = 8, .k = 16, .v = 8, .tol = tol});
  check<float, 2, 32>(2, 2 * D, S, 2, {.q = 16, .k = 8, .v = 16, .tol = tol});
}

TEST(Attention, Fp16Storage) {
  for (std::size_t S : {1, 33, 128}) check<half, 4, 32>(3, 64, S, 2);
}

TEST(Attention, MultiThreadedEqualsSingleThreaded) {
  // D = 32: the AMX path where the machine has it, then the FMA path.
  const std::size_t B = 2, C = 128, S = 70;
  bc1s::tensor<float, dyn_layout<float>> q(B, C, S), k(B, C, S), v(B, C, S), c1(B, C, S),
      c2(B, C, S);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto* t : {&q, &k, &v})
    for (std::size_t i = 0; i < t->size(); ++i) t->data()[i] = u(rng);
  std::vector<float, xsimd::aligned_allocator<float, 64>> s1(
      bc1s::attention_scratch_floats(S, 32, 1)),
      s2(bc1s::attention_scratch_floats(S, 32, 2));
  bc1s::runtime::thread_pool p2(2);
  for (const bool amx : {true, false}) {
    bc1s::simd::set_amx_enabled(amx);
    bc1s::attention<bc1s::head_split<128, 4>, bc1s::query_chunk<float, 32>>(q, k, v, c1,
                                                                            {.scratch = s1});
    bc1s::attention<bc1s::head_split<128, 4>, bc1s::query_chunk<float, 32>>(
        q, k, v, c2, {.scratch = s2, .pool = &p2});
    for (std::size_t i = 0; i < c1.size(); ++i) ASSERT_EQ(c1.data()[i], c2.data()[i]) << amx;
  }
  bc1s::simd::set_amx_enabled(true);
}

TEST(Attention, RuntimeErrors) {
  bc1s::tensor<float, dyn_layout<float>> q(1, 30, 8), k(1, 30, 8), v(1, 30, 8), c(1, 30, 8);
  std::vector<float, xsimd::aligned_allocator<float, 64>> s(
      bc1s::attention_scratch_floats(8, 32, 1));
  try {
    bc1s::attention<bc1s::head_split<dyn, 4>, bc1s::query_chunk<float, 32>>(q, k, v, c,
                                                                            {.scratch = s});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected C divisible by the number of heads"),
              std::string::npos)
        << e.what();
  }
  bc1s::tensor<float, dyn_layout<float>> q2(1, 32, 8), k2(1, 32, 9), v2(1, 32, 8), c2(1, 32, 8);
  EXPECT_THROW((bc1s::attention<bc1s::head_split<dyn, 4>, bc1s::query_chunk<float, 32>>(
                   q2, k2, v2, c2, {.scratch = s})),
               std::invalid_argument);
  EXPECT_THROW(
      (bc1s::attention<bc1s::head_split<dyn, 4>, bc1s::query_chunk<float, 32>>(q2, q2, v2, c2, {})),
      std::invalid_argument);
}

}  // namespace
