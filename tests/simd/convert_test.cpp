// simd/convert.hpp against the scalar bc1s::half conversion, bit for bit. In a native build the
// vector paths are F16C / AVX-512F; in a portable build they are the scalar loop, so the same test
// checks both builds.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "bc1s/core/half.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace {

using bc1s::half;
namespace simd = bc1s::simd;

static_assert(simd::kFloatLanes == simd::fbatch::size);
static_assert(simd::kFloatLanes >= 1 && 64 % (simd::kFloatLanes * sizeof(float)) == 0,
              "a batch of floats divides a 64-byte row");

std::uint32_t bits(float f) {
  return std::bit_cast<std::uint32_t>(f);
}
bool is_signalling_nan(std::uint16_t h) {
  return (h & 0x7e00u) == 0x7c00u && (h & 0x1ffu) != 0;
}

// Every half pattern, in order.
std::vector<half> all_halves() {
  std::vector<half> v(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) v[i] = half::from_bits(static_cast<std::uint16_t>(i));
  return v;
}

// Random float bit patterns (NaNs and infinities included), the widened value of every half, and
// the midpoints between adjacent halves (the ties of the narrowing).
std::vector<float> test_floats() {
  std::vector<float> v;
  std::mt19937 rng(0xc0de);
  for (int i = 0; i < 4'000'000; ++i)
    v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng())));
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const float f = static_cast<float>(half::from_bits(static_cast<std::uint16_t>(i)));
    v.push_back(f);
    if ((i & 0x7fffu) < 0x7bffu) {
      const float g = static_cast<float>(half::from_bits(static_cast<std::uint16_t>(i + 1)));
      v.push_back(f / 2 + g / 2);  // exact: both halves are exact in float
    }
  }
  for (float f :
       {0.0f, 65520.0f, 65519.99609375f, 0x1p-25f, 0x1p-24f, 0x1p-14f,
        std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(),
        std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    v.push_back(f);
    v.push_back(-f);
  }
  while (v.size() % 64 != 0) v.push_back(1.0f);  // whole batches of any width
  return v;
}

// Compares widened floats with the scalar conversion; reports the mismatches by kind.
void expect_same_widening(const std::vector<half>& in, const std::vector<float>& got,
                          const char* what) {
  ASSERT_EQ(in.size(), got.size());
  std::size_t bad = 0;
  std::size_t bad_snan = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const float want = static_cast<float>(in[i]);
    if (bits(got[i]) != bits(want)) {
      if (is_signalling_nan(in[i].bits())) ++bad_snan;
      if (++bad <= 5) {
        ADD_FAILURE() << what << ": half 0x" << std::hex << in[i].bits() << " -> 0x" << bits(got[i])
                      << ", scalar 0x" << bits(want);
      }
    }
  }
  EXPECT_EQ(bad, 0u)
      << what << ": " << bad << " mismatches, " << bad_snan
      << " of them signalling NaNs (see SignallingNanWidensToQuietNan in core_half_test)";
}

void expect_same_narrowing(const std::vector<float>& in, const std::vector<half>& got,
                           const char* what) {
  ASSERT_EQ(in.size(), got.size());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::uint16_t want = half(in[i]).bits();
    if (got[i].bits() != want && ++bad <= 5) {
      ADD_FAILURE() << what << ": float 0x" << std::hex << bits(in[i]) << " -> 0x" << got[i].bits()
                    << ", scalar 0x" << want;
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

TEST(Convert, HalfToFloat8OnEveryPattern) {
  const auto in = all_halves();
  std::vector<float> out(in.size());
  for (std::size_t i = 0; i < in.size(); i += 8)
    simd::half_to_float8(in.data() + i, out.data() + i);
  expect_same_widening(in, out, "half_to_float8");
  std::printf("[ info ] isa %s: 65536 patterns through half_to_float8\n", simd::kIsaName);
}

TEST(Convert, HalfToFloatNOnEveryPattern) {
  const auto in = all_halves();
  std::vector<float> out(in.size());
  simd::half_to_float(in.data(), out.data(), in.size());
  expect_same_widening(in, out, "half_to_float(n = 65536)");
}

TEST(Convert, HalfLoadOnEveryPattern) {
  const auto in = all_halves();
  std::vector<float> out(in.size());
  for (std::size_t i = 0; i < in.size(); i += simd::kFloatLanes) {
    simd::store(out.data() + i, simd::load(in.data() + i));
  }
  expect_same_widening(in, out, "simd::load(const half*)");
}

TEST(Convert, FloatToHalf8) {
  const auto in = test_floats();
  std::vector<half> out(in.size());
  for (std::size_t i = 0; i < in.size(); i += 8)
    simd::float_to_half8(in.data() + i, out.data() + i);
  expect_same_narrowing(in, out, "float_to_half8");
  std::printf("[ info ] isa %s: %zu floats through float_to_half8\n", simd::kIsaName, in.size());
}

TEST(Convert, FloatToHalfN) {
  const auto in = test_floats();
  std::vector<half> out(in.size());
  simd::float_to_half(in.data(), out.data(), in.size());
  expect_same_narrowing(in, out, "float_to_half(n)");
}

TEST(Convert, HalfStoreOfBatches) {
  const auto in = test_floats();
  std::vector<half> out(in.size());
  for (std::size_t i = 0; i < in.size(); i += simd::kFloatLanes) {
    simd::store(out.data() + i, simd::load(in.data() + i));  // float load is exact
  }
  expect_same_narrowing(in, out, "simd::store(half*, fbatch)");
}

TEST(Convert, TailsAndUnalignedPointersTouchOnlyTheirElements) {
  // Every n in [0, 40] at every offset in [0, 8): the vector body plus the scalar tail.
  const auto halves = all_halves();
  const auto floats = test_floats();
  const half guard_h = half::from_bits(0x5555);
  const float guard_f = -123.25f;
  for (std::size_t off = 0; off < 8; ++off) {
    for (std::size_t n = 0; n <= 40; ++n) {
      std::vector<float> wide(off + n + 9, guard_f);
      const half* src_h = halves.data() + 0x7be0 + off;  // crosses into Inf and NaN patterns
      simd::half_to_float(src_h, wide.data() + off, n);
      for (std::size_t i = 0; i < wide.size(); ++i) {
        const bool inside = i >= off && i < off + n;
        const float want = inside ? static_cast<float>(src_h[i - off]) : guard_f;
        if (inside && is_signalling_nan(src_h[i - off].bits())) continue;  // covered above
        ASSERT_EQ(bits(wide[i]), bits(want))
            << "half_to_float off " << off << " n " << n << " i " << i;
      }
      std::vector<half> narrow(off + n + 9, guard_h);
      const float* src_f = floats.data() + 1000 + off;
      simd::float_to_half(src_f, narrow.data() + off, n);
      for (std::size_t i = 0; i < narrow.size(); ++i) {
        const bool inside = i >= off && i < off + n;
        const std::uint16_t want = inside ? half(src_f[i - off]).bits() : guard_h.bits();
        ASSERT_EQ(narrow[i].bits(), want)
            << "float_to_half off " << off << " n " << n << " i " << i;
      }
    }
  }
}

TEST(Convert, FloatLoadStoreAndBroadcast) {
  std::vector<float> in(simd::kFloatLanes * 3);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i) * 0.5f - 3.0f;
  std::vector<float> out(in.size() + 1, 0.0f);
  simd::store(out.data() + 1, simd::load(in.data() + 1));  // unaligned both ways
  for (std::size_t i = 1; i <= simd::kFloatLanes; ++i) EXPECT_EQ(out[i], in[i]);
  EXPECT_EQ(out[simd::kFloatLanes + 1], 0.0f);

  alignas(64) float lanes[simd::kFloatLanes];
  simd::broadcast(half(1.5f)).store_aligned(lanes);
  for (float x : lanes) EXPECT_EQ(x, 1.5f);
  simd::broadcast(-2.25f).store_aligned(lanes);
  for (float x : lanes) EXPECT_EQ(x, -2.25f);
}

}  // namespace
