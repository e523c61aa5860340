// bc1s::half against references that share no code with core/half.hpp:
//   - widening: sign * ldexp(mantissa, exponent) in double;
//   - narrowing: the nearest entry of a sorted table of every finite half value (found by binary
//     search, compared in exact double arithmetic, ties to the even bit pattern);
//   - F16C (vcvtph2ps / vcvtps2ph) when the CPU has it, compiled with a target attribute so the
//     test also builds and runs in a portable build.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define BC1S_TEST_X86 1
#else
#define BC1S_TEST_X86 0
#endif

#include "bc1s/core/half.hpp"

namespace {

using bc1s::half;

// ---- compile-time contracts ------------------------------------------------------------------

// Conversions are constexpr and round to nearest, ties to even.
static_assert(half(1.0f).bits() == 0x3c00);
static_assert(half(-2.0f).bits() == 0xc000);
static_assert(half(65504.0f).bits() == 0x7bff);
static_assert(half(1.0f + 0x1p-11f).bits() == 0x3c00);                   // tie -> even (down)
static_assert(half(1.0f + 3 * 0x1p-11f).bits() == 0x3c02);               // tie -> even (up)
static_assert(static_cast<float>(half::from_bits(0x0001)) == 0x1p-24f);  // smallest subnormal
static_assert(static_cast<float>(half::from_bits(0x7bff)) == 65504.0f);
// Overflow rounds to infinity; signed zero is kept.
static_assert(half(65520.0f).bits() == 0x7c00);
static_assert(half(-65520.0f).bits() == 0xfc00);
static_assert(half(-0.0f).bits() == 0x8000);
static_assert(sizeof(half) == 2 && alignof(half) == 2);
static_assert(bc1s::is_storage_type_v<half> && bc1s::is_storage_type_v<float> &&
              !bc1s::is_storage_type_v<double>);

// ---- independent references ------------------------------------------------------------------

bool is_nan_bits(std::uint16_t h) {
  return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
}
bool is_nan_bits32(std::uint32_t x) {
  return (x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu) != 0;
}

// Value of a non-NaN half as a double: (-1)^sign * 2^(e-15) * (1 + m/1024), or 2^-24 * m when e =
// 0.
double ref_half_value(std::uint16_t h) {
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  double v = 0;
  if (e == 0x1f) {
    v = std::numeric_limits<double>::infinity();
  } else if (e == 0) {
    v = std::ldexp(static_cast<double>(m), -24);
  } else {
    v = std::ldexp(static_cast<double>(1024 + m), e - 25);
  }
  return (h & 0x8000u) ? -v : v;
}

// Float bits of a half per IEEE 754 and F16C: exact for numbers, NaN quiet with sign and payload
// kept (payload in the top mantissa bits).
std::uint32_t ref_half_to_float_bits(std::uint16_t h) {
  if (is_nan_bits(h)) {
    return (static_cast<std::uint32_t>(h & 0x8000u) << 16) | 0x7fc00000u |
           (static_cast<std::uint32_t>(h & 0x3ffu) << 13);
  }
  return std::bit_cast<std::uint32_t>(static_cast<float>(ref_half_value(h)));
}

// Every non-negative finite half value in bit order (which is value order), plus 65536 standing
// in for 0x7c00: with an unbounded exponent the next value after 65504 would be 65536, whose bit
// pattern 0x7c00 is "even", so ties at 65520 go to infinity as IEEE 754 requires.
const std::vector<double>& half_value_table() {
  static const std::vector<double> table = [] {
    std::vector<double> t(0x7c01);
    for (std::uint16_t h = 0; h < 0x7c00; ++h) t[h] = ref_half_value(h);
    t[0x7c00] = 65536.0;
    return t;
  }();
  return table;
}

// Nearest half to a non-NaN float, ties to even, found by search in the value table.
std::uint16_t ref_float_to_half(float f) {
  const std::uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  const auto& t = half_value_table();
  if (a >= 65536.0) return static_cast<std::uint16_t>(sign | 0x7c00);
  // t[i] <= a < t[i + 1]
  const auto i = static_cast<std::size_t>(std::upper_bound(t.begin(), t.end(), a) - t.begin() - 1);
  std::size_t pick = i;
  if (t[i] != a) {
    const double below = a - t[i];  // exact: both are multiples of a's ulp, far below 2^53 ulps
    const double above = t[i + 1] - a;
    if (above < below || (above == below && (i & 1u) != 0)) pick = i + 1;
  }
  return static_cast<std::uint16_t>(sign | pick);
}

// ---- F16C ------------------------------------------------------------------------------------

bool cpu_has_f16c() {
#if BC1S_TEST_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool f16c = (c >> 29) & 1u;
  __builtin_cpu_init();
  return f16c && __builtin_cpu_supports("avx");  // the 256-bit forms need OS support for YMM
#else
  return false;
#endif
}

#if BC1S_TEST_X86
__attribute__((target("f16c"))) std::uint32_t f16c_half_to_float_bits(std::uint16_t h) {
  return std::bit_cast<std::uint32_t>(_cvtsh_ss(h));
}
__attribute__((target("f16c"))) std::uint16_t f16c_float_to_half(float f) {
  return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
// n floats -> n halves, 8 at a time with vcvtps2ph ymm.
__attribute__((target("avx,f16c"))) void f16c_float_to_half(const float* in, std::uint16_t* out,
                                                            std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h =
        _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = f16c_float_to_half(in[i]);
}
#endif

std::string hex(std::uint32_t x) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", x);
  return buf;
}

// ---- half -> float ---------------------------------------------------------------------------

TEST(Half, WideningIsExactForEveryNonNanPattern) {
  std::size_t checked = 0;
  std::size_t bad = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    if (is_nan_bits(h)) continue;
    const float lib = static_cast<float>(half::from_bits(h));
    const std::uint32_t got = std::bit_cast<std::uint32_t>(lib);
    const std::uint32_t want = ref_half_to_float_bits(h);
    ++checked;
    if (got != want && ++bad <= 10) {
      ADD_FAILURE() << "half " << hex(h) << " -> " << hex(got) << ", expected " << hex(want);
    }
    ASSERT_EQ(std::bit_cast<std::uint32_t>(bc1s::to_float(half::from_bits(h))), got);
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(checked, 65536u - 2u * 1023u);
  std::printf("[ info ] %zu non-NaN half patterns widened exactly\n", checked);
}

TEST(Half, NanPatternsWidenToNan) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    if (!is_nan_bits(h)) continue;
    const std::uint32_t got = std::bit_cast<std::uint32_t>(static_cast<float>(half::from_bits(h)));
    ASSERT_TRUE(is_nan_bits32(got)) << hex(h) << " -> " << hex(got);
    ASSERT_EQ(got >> 31, static_cast<std::uint32_t>(h >> 15)) << "sign of " << hex(h);
    ASSERT_EQ((got >> 13) & 0x1ffu, h & 0x1ffu) << "payload of " << hex(h);
  }
}

// half.hpp promises "a NaN stays a NaN (quiet, ...)", and F16C's vcvtph2ps (used by
// simd/convert.hpp) quiets signalling NaNs, so scalar and vector widening must agree here too.
TEST(Half, SignallingNanWidensToQuietNan) {
  std::size_t bad = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    if (!is_nan_bits(h)) continue;
    const std::uint32_t got = std::bit_cast<std::uint32_t>(static_cast<float>(half::from_bits(h)));
    const std::uint32_t want = ref_half_to_float_bits(h);
    if (got != want && ++bad <= 3) {
      ADD_FAILURE() << "NaN half " << hex(h) << " -> " << hex(got) << ", expected quiet "
                    << hex(want);
    }
  }
  EXPECT_EQ(bad, 0u) << "NaN patterns widened to a signalling NaN";
}

TEST(Half, RoundTripHalfFloatHalfKeepsBits) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const half back(static_cast<float>(half::from_bits(h)));
    if (is_nan_bits(h)) {
      ASSERT_TRUE(is_nan_bits(back.bits())) << hex(h) << " -> " << hex(back.bits());
      ASSERT_EQ(back.bits() & 0x8000u, h & 0x8000u) << "sign of " << hex(h);
    } else {
      ASSERT_EQ(back.bits(), h) << hex(h) << " -> " << hex(back.bits());
    }
  }
}

TEST(Half, WideningMatchesF16cBitForBit) {
  if (!cpu_has_f16c()) GTEST_SKIP() << "CPU without F16C";
#if BC1S_TEST_X86
  std::size_t bad = 0;
  std::size_t bad_non_nan = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const std::uint32_t got = std::bit_cast<std::uint32_t>(static_cast<float>(half::from_bits(h)));
    const std::uint32_t hw = f16c_half_to_float_bits(h);
    // The independent reference and the hardware agree on every pattern, NaNs included.
    ASSERT_EQ(ref_half_to_float_bits(h), hw) << hex(h);
    if (got != hw) {
      if (!is_nan_bits(h)) ++bad_non_nan;
      if (++bad <= 3)
        ADD_FAILURE() << "half " << hex(h) << ": bc1s " << hex(got) << ", F16C " << hex(hw);
    }
  }
  EXPECT_EQ(bad_non_nan, 0u);
  EXPECT_EQ(bad, 0u) << "patterns where bc1s and F16C widen differently";
#endif
}

// ---- float -> half ---------------------------------------------------------------------------

float next_up(float f, int k) {
  for (int i = 0; i < k; ++i) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}
float next_down(float f, int k) {
  for (int i = 0; i < k; ++i) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

// Every float from lo to hi (same sign, lo <= hi), both signs.
void append_range(std::vector<float>& out, float lo, float hi) {
  for (std::uint32_t x = std::bit_cast<std::uint32_t>(lo); x <= std::bit_cast<std::uint32_t>(hi);
       ++x) {
    out.push_back(std::bit_cast<float>(x));
    out.push_back(-std::bit_cast<float>(x));
  }
}

// Floats around each midpoint of two adjacent halves, ties included.
std::vector<float> midpoint_sweep() {
  const auto& t = half_value_table();
  std::vector<float> out;
  out.reserve(0x7c00 * 2 * 18);
  for (std::size_t h = 0; h < 0x7c00; ++h) {
    const float exact = static_cast<float>(t[h]);
    const auto mid = static_cast<float>((t[h] + t[h + 1]) / 2);
    if (static_cast<double>(mid) != (t[h] + t[h + 1]) / 2) std::abort();  // midpoints are floats
    for (float f : {exact, mid}) {
      out.push_back(f);
      out.push_back(-f);
    }
    for (int k = 1; k <= 8; ++k) {
      for (float f : {next_up(mid, k), next_down(mid, k)}) {
        out.push_back(f);
        out.push_back(-f);
      }
    }
  }
  return out;
}

std::vector<float> boundary_sweep() {
  std::vector<float> out;
  append_range(out, 65504.0f, 65536.0f);  // largest half to the first float that is not rounded
  // +- 2^16 float steps around the smallest subnormal (2^-24), the round-to-zero tie (2^-25), the
  // largest subnormal / smallest normal boundary (2^-14) and the 2^-15 exponent step.
  for (float centre : {0x1p-24f, 0x1p-25f, 0x1p-14f, 0x1p-15f}) {
    const std::uint32_t c = std::bit_cast<std::uint32_t>(centre);
    append_range(out, std::bit_cast<float>(c - 65536u), std::bit_cast<float>(c + 65536u));
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float f : {0.0f, inf, std::numeric_limits<float>::max(), std::numeric_limits<float>::min(),
                  std::numeric_limits<float>::denorm_min(), 65519.99609375f, 65520.0f, 1e30f,
                  0x1p-26f, 0x1.000002p-25f}) {
    out.push_back(f);
    out.push_back(-f);
  }
  return out;
}

std::vector<float> random_floats(std::size_t n) {
  std::mt19937 rng(0xb1c5u);
  std::vector<float> out(n);
  for (auto& f : out) f = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
  return out;
}

// Library vs reference (and vs F16C when present); returns the number of floats checked.
std::size_t check_narrowing(const std::vector<float>& in, const char* what) {
  std::vector<std::uint16_t> hw;
#if BC1S_TEST_X86
  const bool have_f16c = cpu_has_f16c();
  if (have_f16c) {
    hw.resize(in.size());
    f16c_float_to_half(in.data(), hw.data(), in.size());
  }
#endif
  std::size_t bad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const float f = in[i];
    const std::uint16_t got = half(f).bits();
    bool ok = true;
    std::uint16_t want = 0;
    if (std::isnan(f)) {
      // A NaN stays a NaN, sign kept, quiet (so it can never turn into an infinity).
      ok = is_nan_bits(got) && (got & 0x200u) != 0 &&
           static_cast<std::uint32_t>(got >> 15) == (std::bit_cast<std::uint32_t>(f) >> 31);
      want = static_cast<std::uint16_t>(got | 0x200u);
    } else {
      want = ref_float_to_half(f);
      ok = got == want;
    }
    if (!hw.empty() && hw[i] != got) ok = false;
    if (!ok && ++bad <= 10) {
      ADD_FAILURE() << what << ": float " << hex(std::bit_cast<std::uint32_t>(f)) << " (" << f
                    << ") -> " << hex(got) << ", reference " << hex(want)
                    << (hw.empty() ? std::string() : ", F16C " + hex(hw[i]));
    }
  }
  EXPECT_EQ(bad, 0u) << what;
  std::printf("[ info ] %s: %zu floats narrowed%s\n", what, in.size(),
              hw.empty() ? " (no F16C: reference only)" : " and compared with F16C bit for bit");
  return in.size();
}

TEST(Half, ReferenceNarrowingSelfCheck) {
  // The reference itself, on cases worked by hand.
  EXPECT_EQ(ref_float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(ref_float_to_half(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(ref_float_to_half(1.0f + 3 * 0x1p-11f), 0x3c02);
  EXPECT_EQ(ref_float_to_half(65519.99609375f), 0x7bff);
  EXPECT_EQ(ref_float_to_half(65520.0f), 0x7c00);
  EXPECT_EQ(ref_float_to_half(0x1p-25f), 0x0000);
  EXPECT_EQ(ref_float_to_half(0x1.000002p-25f), 0x0001);
  EXPECT_EQ(ref_float_to_half(3 * 0x1p-25f), 0x0002);
  EXPECT_EQ(ref_float_to_half(-0.0f), 0x8000);
}

TEST(Half, NarrowingAroundEveryMidpoint) {
  const std::size_t n = check_narrowing(midpoint_sweep(), "midpoints +-8 floats");
  EXPECT_EQ(n, 0x7c00u * 2u * 18u);
}

TEST(Half, NarrowingAtBoundaries) {
  check_narrowing(boundary_sweep(), "overflow/subnormal boundaries");
}

TEST(Half, NarrowingRandomBitPatterns) {
  EXPECT_EQ(check_narrowing(random_floats(10'000'000), "random float bit patterns"), 10'000'000u);
}

TEST(Half, OverflowSubnormalsAndSignedZero) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(half(inf).bits(), 0x7c00);
  EXPECT_EQ(half(-inf).bits(), 0xfc00);
  EXPECT_EQ(half(65520.0f).bits(), 0x7c00);
  EXPECT_EQ(half(1e30f).bits(), 0x7c00);
  EXPECT_EQ(half(-std::numeric_limits<float>::max()).bits(), 0xfc00);
  EXPECT_EQ(half(65519.99609375f).bits(), 0x7bff);
  EXPECT_EQ(half(0x1p-24f).bits(), 0x0001);
  EXPECT_EQ(half(0x1p-14f).bits(), 0x0400);
  EXPECT_EQ(half(0x1p-14f - 0x1p-24f).bits(), 0x03ff);
  EXPECT_EQ(half(-0x1p-24f).bits(), 0x8001);
  EXPECT_EQ(half(0.0f).bits(), 0x0000);
  EXPECT_EQ(half(-0.0f).bits(), 0x8000);
  EXPECT_EQ(half(-1e-30f).bits(), 0x8000);
  EXPECT_EQ(half(-std::numeric_limits<float>::denorm_min()).bits(), 0x8000);
  EXPECT_TRUE(std::signbit(static_cast<float>(half(-0.0f))));
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(static_cast<float>(half(qnan))));
  EXPECT_TRUE(std::isnan(static_cast<float>(half(-qnan))));
  EXPECT_TRUE(std::isnan(static_cast<float>(half(std::numeric_limits<float>::signaling_NaN()))));
  // A NaN whose payload lives only in the low 13 bits must not become an infinity.
  EXPECT_TRUE(is_nan_bits(half(std::bit_cast<float>(0x7f800001u)).bits()));
}

TEST(Half, ClassSemantics) {
  EXPECT_EQ(half().bits(), 0);
  EXPECT_EQ(half::from_bits(0x1234).bits(), 0x1234);
  EXPECT_TRUE(half(0.0f) == half(-0.0f));  // compares values
  const half nan = half::from_bits(0x7e00);
  EXPECT_FALSE(nan == nan);
  EXPECT_EQ(bc1s::from_float<half>(1.5f).bits(), 0x3e00);
  EXPECT_EQ(bc1s::from_float<float>(1.5f), 1.5f);
  EXPECT_EQ(bc1s::to_float(1.5f), 1.5f);
}

}  // namespace
