// Per-head chunked attention against a plain reference: for every (b, h, query), softmax over keys
// of q.k / sqrt(D) with padded keys masked, then the weighted sum of values, in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "bc1s/kernels/attention.hpp"

namespace {

using bc1s::dyn;
using bc1s::half;

template <class T>
using dyn_layout = bc1s::layout_bc1s<T, bc1s::extents<dyn, dyn, dyn>>;

template <class T, std::size_t H, std::size_t Q>
void check(std::size_t B, std::size_t C, std::size_t S, std::size_t threads) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  bc1s::tensor<T, dyn_layout<T>> q(B, C, S), k(B, C, S), v(B, C, S), ctx(B, C, S);
  for (auto* t : {&q, &k, &v})
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t s = 0; s < S; ++s) (*t)(b, c, s) = bc1s::from_float<T>(2.0f * u(rng));
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
  std::printf(
      "attention %s B=%zu C=%zu H=%zu S=%zu Q=%zu threads=%zu: max abs err %.3g (tol %.3g)\n",
      std::is_same_v<T, half> ? "fp16" : "fp32", B, C, H, S, Q, threads, max_abs, tol);
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
TEST(Attention, Fp16Storage) {
  for (std::size_t S : {1, 33, 128}) check<half, 4, 32>(3, 64, S, 2);
}

TEST(Attention, MultiThreadedEqualsSingleThreaded) {
  const std::size_t B = 2, C = 64, S = 70;
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
  bc1s::attention<bc1s::head_split<64, 4>, bc1s::query_chunk<float, 32>>(q, k, v, c1,
                                                                         {.scratch = s1});
  bc1s::attention<bc1s::head_split<64, 4>, bc1s::query_chunk<float, 32>>(
      q, k, v, c2, {.scratch = s2, .pool = &p2});
  for (std::size_t i = 0; i < c1.size(); ++i) ASSERT_EQ(c1.data()[i], c2.data()[i]);
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
