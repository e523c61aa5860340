// bc1s::simd::erf, bc1s::simd::gelu and the gelu tensor kernel against double-precision std::erf.
//
// Dimension letters: B batch, C channels, S sequence.
#include <bc1s/kernels/gelu.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using bc1s::half;
using bc1s::simd::fbatch;
constexpr std::size_t L = bc1s::simd::kFloatLanes;
constexpr double kU = 0x1p-24;   // fp32 unit roundoff
constexpr double kUh = 0x1p-11;  // fp16 unit roundoff (relative rounding of a stored output)
// The accuracy erf promises (and this file checks): max abs error on all of [-10, 10].
constexpr double kErfAbs = 1e-6;

double gelu_ref(double x) {
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}

// Tolerance of gelu in fp32 at x (before storage rounding):
//   0.5 |x| * kErfAbs      from erf's abs error (times the factor 0.5 x),
//   0.5 |x| * 2u * |z|     from rounding z = x / sqrt 2 (erf' <= 2/sqrt(pi) < 1.13, so < 2u |z|),
//   3u * (|gelu| + |x|)    from the final h * erf + h with h = 0.5 x (two roundings, fma).
double gelu_tol(double x) {
  const double ax = std::fabs(x);
  return 0.5 * ax * kErfAbs + 0.5 * ax * 2 * kU * ax + 3 * kU * (std::fabs(gelu_ref(x)) + ax);
}

template <class F>
void apply_batches(const std::vector<float>& xs, std::vector<float>& ys, F f) {
  ys.resize(xs.size());
  std::vector<float> in(xs), out;
  in.resize(bc1s::detail::round_up(xs.size(), L), 0.f);
  out.resize(in.size());
  for (std::size_t i = 0; i < in.size(); i += L)
    f(fbatch::load_unaligned(&in[i])).store_unaligned(&out[i]);
  std::copy(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(xs.size()), ys.begin());
}

std::vector<float> erf_points() {
  std::vector<float> xs;
  for (long i = -100000; i <= 100000; ++i)
    xs.push_back(static_cast<float>(static_cast<double>(i) * 1e-4));
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> u(-10.f, 10.f);
  for (int i = 0; i < 200000; ++i) xs.push_back(u(gen));
  std::uniform_real_distribution<float> small(-1e-3f, 1e-3f);
  for (int i = 0; i < 10000; ++i) xs.push_back(small(gen));
  return xs;
}

TEST(SimdErf, MaxAbsErrorBelow1e6OnMinus10To10) {
  const std::vector<float> xs = erf_points();
  std::vector<float> ys;
  apply_batches(xs, ys, [](fbatch x) { return bc1s::simd::erf(x); });
  double max_abs = 0, at = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double err = std::fabs(static_cast<double>(ys[i]) - std::erf(static_cast<double>(xs[i])));
    if (err > max_abs) {
      max_abs = err;
      at = xs[i];
    }
  }
  std::printf("erf: %zu points on [-10, 10], max abs error %.3g at x = %.6g\n", xs.size(), max_abs,
              at);
  RecordProperty("erf_max_abs_error", std::to_string(max_abs));
  EXPECT_LE(max_abs, kErfAbs);
}

TEST(SimdErf, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> xs = {0.f, -0.f, inf, -inf, 1e30f, -1e30f, std::nanf("")};
  std::vector<float> ys;
  apply_batches(xs, ys, [](fbatch x) { return bc1s::simd::erf(x); });
  EXPECT_EQ(ys[0], 0.f);
  EXPECT_EQ(ys[1], 0.f);
  EXPECT_EQ(ys[2], 1.f);
  EXPECT_EQ(ys[3], -1.f);
  EXPECT_EQ(ys[4], 1.f);
  EXPECT_EQ(ys[5], -1.f);
  EXPECT_TRUE(std::isnan(ys[6]));
  apply_batches(xs, ys, [](fbatch x) { return bc1s::simd::gelu(x); });
  EXPECT_EQ(ys[0], 0.f);
  EXPECT_EQ(ys[2], inf);
  // gelu(-inf) is NaN (-inf * 0 in 0.5 x (1 + erf)); activations are finite, so not checked.
  EXPECT_EQ(ys[4], 1e30f);
  EXPECT_EQ(ys[5], 0.f);
  EXPECT_TRUE(std::isnan(ys[6]));
}

TEST(SimdGelu, MatchesExactGelu) {
  const std::vector<float> xs = erf_points();
  std::vector<float> ys;
  apply_batches(xs, ys, [](fbatch x) { return bc1s::simd::gelu(x); });
  double max_abs = 0, max_ratio = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double ref = gelu_ref(xs[i]);
    const double err = std::fabs(static_cast<double>(ys[i]) - ref);
    max_abs = std::max(max_abs, err);
    max_ratio = std::max(max_ratio, err / gelu_tol(xs[i]));
    ASSERT_LE(err, gelu_tol(xs[i])) << "x = " << xs[i];
  }
  std::printf("gelu (fp32 batch): max abs error %.3g, max error / tolerance %.3g\n", max_abs,
              max_ratio);
}

// ---- tensor kernel ----------------------------------------------------------------------------

template <class T, bool Static>
struct cfg {
  using value_type = T;
  static constexpr bool is_static = Static;
};
using Configs =
    ::testing::Types<cfg<half, true>, cfg<half, false>, cfg<float, true>, cfg<float, false>>;
struct ConfigNames {
  template <class C>
  static std::string GetName(int) {
    return std::string(std::is_same_v<typename C::value_type, half> ? "half" : "float") +
           (C::is_static ? "_static" : "_dynamic");
  }
};

template <std::size_t B, std::size_t C, std::size_t S>
struct static_shape {
  std::size_t b = B, c = C, s = S;
  template <class T>
  auto make() const {
    return bc1s::tensor<T, bc1s::layout_bc1s<T, bc1s::extents<B, C, S>>>{};
  }
};
struct dyn_shape {
  std::size_t b, c, s;
  template <class T>
  auto make() const {
    return bc1s::tensor<T, bc1s::layout_bc1s<T, bc1s::dextents>>(b, c, s);
  }
};

template <class Cfg, class F>
void for_each_shape(F&& f) {
  if constexpr (Cfg::is_static) {
    f(static_shape<1, 768, 128>{});
    f(static_shape<3, 24, 33>{});
    f(static_shape<1, 5, 7>{});
    f(static_shape<3, 768, 1>{});
    f(static_shape<1, 24, 512>{});
  } else {
    for (std::size_t b : {1, 3}) {
      for (std::size_t s : {1, 7, 31, 32, 33, 127, 128, 129, 512}) {
        for (std::size_t c : {5, 24, 768}) f(dyn_shape{b, c, s});
      }
    }
  }
}

// Valid lanes uniform in [lo, hi] (stored as T), padding lanes set to `garbage`.
template <class Tensor, class Gen>
void fill(Tensor& t, Gen& gen, float lo, float hi, float garbage) {
  using T = typename Tensor::value_type;
  std::uniform_real_distribution<float> u(lo, hi);
  for (std::size_t b = 0; b < t.b(); ++b) {
    for (std::size_t c = 0; c < t.c(); ++c) {
      T* row = t.view().row(b, c);
      for (std::size_t s = 0; s < t.mapping().padded_s(); ++s) {
        row[s] = bc1s::from_float<T>(s < t.s() ? u(gen) : garbage);
      }
    }
  }
}

template <class Tensor>
bool padding_finite(const Tensor& t) {
  for (std::size_t b = 0; b < t.b(); ++b)
    for (std::size_t c = 0; c < t.c(); ++c)
      for (std::size_t s = t.s(); s < t.mapping().padded_s(); ++s)
        if (!std::isfinite(bc1s::to_float(t(b, c, s)))) return false;
  return true;
}

template <class Cfg>
class GeluKernel : public ::testing::Test {};
TYPED_TEST_SUITE(GeluKernel, Configs, ConfigNames);

TYPED_TEST(GeluKernel, MatchesReferenceAllShapes) {
  using T = typename TypeParam::value_type;
  constexpr bool kHalf = std::is_same_v<T, half>;
  // Stored output: the fp32 result is rounded once more to T (relative 2^-11 for fp16, plus
  // 2^-25 absolute for fp16 subnormals).
  const double store_rel = kHalf ? kUh : 0.0, store_abs = kHalf ? 0x1p-25 : 0.0;
  // Finite garbage in the input padding (representable in fp16).
  const float garbage = kHalf ? 6e4f : 1e30f;
  std::mt19937 gen(7);
  double max_abs = 0, max_rel = 0;
  int shapes = 0;
  for_each_shape<TypeParam>([&](auto shape) {
    auto in = shape.template make<T>();
    auto out = shape.template make<T>();
    fill(in, gen, -6.f, 6.f, garbage);
    bc1s::gelu(in, out);
    for (std::size_t b = 0; b < in.b(); ++b)
      for (std::size_t c = 0; c < in.c(); ++c)
        for (std::size_t s = 0; s < in.s(); ++s) {
          const double x = bc1s::to_float(in(b, c, s));
          const double ref = gelu_ref(x);
          const double got = bc1s::to_float(out(b, c, s));
          const double err = std::fabs(got - ref);
          const double tol = gelu_tol(x) * (1 + store_rel) + store_rel * std::fabs(ref) + store_abs;
          max_abs = std::max(max_abs, err);
          if (std::fabs(ref) > 1e-3) max_rel = std::max(max_rel, err / std::fabs(ref));
          ASSERT_LE(err, tol) << "b=" << b << " c=" << c << " s=" << s << " x=" << x << " shape ("
                              << shape.b << ", " << shape.c << ", " << shape.s << ")";
        }
    EXPECT_TRUE(padding_finite(out));

    // In place gives the same bits.
    auto inplace = in;
    bc1s::gelu(inplace, inplace);
    EXPECT_EQ(0, std::memcmp(inplace.data(), out.data(), out.size() * sizeof(T)));

    // Column ranges of one vector each give the same bits as the whole call.
    auto ranged = shape.template make<T>();
    for (std::size_t s0 = 0; s0 < in.s(); s0 += L)
      bc1s::gelu(in, ranged, s0, std::min(s0 + L, in.s()));
    EXPECT_EQ(0, std::memcmp(ranged.data(), out.data(), out.size() * sizeof(T)));
    ++shapes;
  });
  std::printf("gelu<%s>: %d shapes, max abs error %.3g, max rel error (|ref| > 1e-3) %.3g\n",
              kHalf ? "half" : "float", shapes, max_abs, max_rel);
}

TEST(GeluKernelMixed, FloatInHalfOut) {
  bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>> in(2, 24, 16);  // S_padded 16
  bc1s::tensor<half, bc1s::layout_bc1s<half, bc1s::dextents>> out(2, 24, 16);   // S_padded 32
  std::mt19937 gen(3);
  fill(in, gen, -4.f, 4.f, 0.f);
  fill(out, gen, -4.f, 4.f, std::nanf(""));  // stale output padding must be overwritten
  bc1s::gelu(in, out);
  for (std::size_t c = 0; c < 24; ++c)
    for (std::size_t s = 0; s < 16; ++s) {
      const double ref = gelu_ref(in(1, c, s));
      EXPECT_NEAR(bc1s::to_float(out(1, c, s)), ref,
                  gelu_tol(in(1, c, s)) + kUh * std::fabs(ref) + 0x1p-25);
    }
  EXPECT_TRUE(padding_finite(out));
}

TEST(GeluKernelErrors, MismatchedShapesAndRanges) {
  using DT = bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>>;
  DT a(1, 8, 16), b_s(1, 8, 17), b_b(2, 8, 16), b_c(1, 9, 16);
  EXPECT_THROW(bc1s::gelu(a, b_s), std::invalid_argument);
  EXPECT_THROW(bc1s::gelu(a, b_b), std::invalid_argument);
  EXPECT_THROW(bc1s::gelu(a, b_c), std::invalid_argument);
  DT big(1, 8, 64), big2(1, 8, 64);
  if constexpr (L > 1) {
    EXPECT_THROW(bc1s::gelu(big, big2, 1, 64), std::invalid_argument);
  }
  EXPECT_THROW(bc1s::gelu(big, big2, 32, 16), std::invalid_argument);
  try {
    bc1s::gelu(a, b_s);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bc1s::gelu"), std::string::npos) << e.what();
  }
}

}  // namespace
