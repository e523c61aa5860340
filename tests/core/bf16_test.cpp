// bc1s::bf16 against an independent reference: the nearest bf16 found by searching the
// neighbouring representable values in double, ties to the even significand.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "bc1s/core/bf16.hpp"

namespace {

using bc1s::bf16;

// The float of bf16 bits b (its top 16 bits), for the reference search.
double value_of(std::uint32_t b) {
  return double(std::bit_cast<float>(b << 16));
}

// Round x (finite, |x| below bf16's largest finite + half an ulp) by comparing it with the two
// bf16 values around its truncation.
std::uint16_t reference_round(float x) {
  const std::uint32_t t = std::bit_cast<std::uint32_t>(x) >> 16;  // truncated toward zero
  const double lo = value_of(t), hi = value_of(t + 1), v = double(x);
  const double dl = std::abs(v - lo), dh = std::abs(hi - v);
  if (dl < dh) return static_cast<std::uint16_t>(t);
  if (dh < dl) return static_cast<std::uint16_t>(t + 1);
  return static_cast<std::uint16_t>((t & 1u) == 0 ? t : t + 1);
}

TEST(Bf16, RoundsToNearestEvenLikeTheReference) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0xFFFFFFFFu);
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = std::bit_cast<float>(bits(rng));
    if (!std::isfinite(x) || std::abs(x) >= 3.38e38f) continue;
    ASSERT_EQ(bf16(x).bits(), reference_round(x)) << x;
    ++checked;
  }
  EXPECT_GT(checked, 100000);
  // Exact ties: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 and goes to the even 1.
  EXPECT_EQ(static_cast<float>(bf16(1.0f + 0x1p-8f)), 1.0f);
  EXPECT_EQ(static_cast<float>(bf16(1.0f + 3 * 0x1p-8f)), 1.0f + 0x1p-6f);
}

TEST(Bf16, WidensExactlyAndKeepsSpecials) {
  for (std::uint32_t b = 0; b < 0x10000u; ++b) {
    const bf16 h = bf16::from_bits(static_cast<std::uint16_t>(b));
    const float f = static_cast<float>(h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(static_cast<float>(bf16(f))));
    } else {
      ASSERT_EQ(bf16(f).bits(), b);  // every bf16 is a float, and narrows back to itself
    }
  }
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(static_cast<float>(bf16(inf)), inf);
  EXPECT_EQ(static_cast<float>(bf16(-inf)), -inf);
  EXPECT_EQ(static_cast<float>(bf16(std::numeric_limits<float>::max())), inf);  // rounds up
  const bf16 n = bf16(std::bit_cast<float>(0x7f800001u));  // signalling NaN, low payload only
  EXPECT_TRUE(std::isnan(static_cast<float>(n)));
  EXPECT_EQ(bf16(-0.0f).bits(), 0x8000u);
}

}  // namespace
