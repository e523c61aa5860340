// bc1s::residual_add against an fp32/double reference.
//
// Dimension letters: B batch, C channels, S sequence.
#include <bc1s/kernels/residual.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using bc1s::half;
constexpr std::size_t L = bc1s::simd::kFloatLanes;
constexpr double kU = 0x1p-24;   // fp32 unit roundoff
constexpr double kUh = 0x1p-11;  // fp16 unit roundoff

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

// Valid lanes uniform in [-4, 4]; padding lanes `garbage` (finite: the contract).
template <class Tensor, class Gen>
void fill(Tensor& t, Gen& gen, float garbage) {
  using T = typename Tensor::value_type;
  std::uniform_real_distribution<float> u(-4.f, 4.f);
  for (std::size_t b = 0; b < t.b(); ++b)
    for (std::size_t c = 0; c < t.c(); ++c) {
      T* row = t.view().row(b, c);
      for (std::size_t s = 0; s < t.mapping().padded_s(); ++s)
        row[s] = bc1s::from_float<T>(s < t.s() ? u(gen) : garbage);
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
class ResidualAdd : public ::testing::Test {};
TYPED_TEST_SUITE(ResidualAdd, Configs, ConfigNames);

TYPED_TEST(ResidualAdd, MatchesReferenceAndMayAlias) {
  using T = typename TypeParam::value_type;
  constexpr bool kHalf = std::is_same_v<T, half>;
  std::mt19937 gen(31);
  double max_abs = 0, max_rel = 0;
  for_each_shape<TypeParam>([&](auto shape) {
    auto a = shape.template make<T>();
    auto b = shape.template make<T>();
    auto out = shape.template make<T>();
    fill(a, gen, kHalf ? 3e4f : 1e30f);
    fill(b, gen, kHalf ? 3e4f : 1e30f);
    bc1s::residual_add(a, b, out);
    for (std::size_t i = 0; i < a.b(); ++i)
      for (std::size_t c = 0; c < a.c(); ++c)
        for (std::size_t s = 0; s < a.s(); ++s) {
          const double ref =
              static_cast<double>(bc1s::to_float(a(i, c, s))) + bc1s::to_float(b(i, c, s));
          const double got = bc1s::to_float(out(i, c, s));
          // One fp32 rounding of the sum (u |ref|), then for fp16 one more (2^-11 |ref| + 2^-25).
          const double tol = kU * std::fabs(ref) + (kHalf ? kUh * std::fabs(ref) + 0x1p-25 : 0.0);
          const double err = std::fabs(got - ref);
          max_abs = std::max(max_abs, err);
          if (std::fabs(ref) > 1e-2) max_rel = std::max(max_rel, err / std::fabs(ref));
          ASSERT_LE(err, tol) << "b=" << i << " c=" << c << " s=" << s;
        }
    EXPECT_TRUE(padding_finite(out));
    auto a2 = a;
    bc1s::residual_add(a2, b, a2);
    EXPECT_EQ(0, std::memcmp(a2.data(), out.data(), out.size() * sizeof(T)));
    auto b2 = b;
    bc1s::residual_add(a, b2, b2);
    EXPECT_EQ(0, std::memcmp(b2.data(), out.data(), out.size() * sizeof(T)));
    auto ranged = shape.template make<T>();
    for (std::size_t s0 = 0; s0 < a.s(); s0 += L)
      bc1s::residual_add(a, b, ranged, s0, std::min(s0 + L, a.s()));
    EXPECT_EQ(0, std::memcmp(ranged.data(), out.data(), out.size() * sizeof(T)));
  });
  std::printf("residual_add<%s, %s>: max abs error %.3g, max rel error (|ref| > 0.01) %.3g\n",
              kHalf ? "half" : "float", TypeParam::is_static ? "static" : "dynamic", max_abs,
              max_rel);
}

TEST(ResidualAddMixed, HalfAndFloat) {
  bc1s::tensor<half, bc1s::layout_bc1s<half, bc1s::dextents>> a(1, 5, 16);
  bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>> b(1, 5, 16);
  bc1s::tensor<half, bc1s::layout_bc1s<half, bc1s::dextents>> out(1, 5, 16);
  std::mt19937 gen(4);
  fill(a, gen, 0.f);
  fill(b, gen, 0.f);
  fill(out, gen, std::nanf(""));  // stale output padding (lanes 16..31) must be overwritten
  bc1s::residual_add(a, b, out);
  for (std::size_t c = 0; c < 5; ++c)
    for (std::size_t s = 0; s < 16; ++s) {
      const double ref = static_cast<double>(bc1s::to_float(a(0, c, s))) + b(0, c, s);
      EXPECT_NEAR(bc1s::to_float(out(0, c, s)), ref, (kU + kUh) * std::fabs(ref) + 0x1p-25);
    }
  EXPECT_TRUE(padding_finite(out));
}

TEST(ResidualAddErrors, MismatchedShapes) {
  using DT = bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>>;
  DT a(2, 8, 16), b(2, 8, 16), o(2, 8, 16), bad_s(2, 8, 15), bad_b(3, 8, 16), bad_c(2, 7, 16);
  EXPECT_THROW(bc1s::residual_add(a, bad_s, o), std::invalid_argument);
  EXPECT_THROW(bc1s::residual_add(a, b, bad_b), std::invalid_argument);
  EXPECT_THROW(bc1s::residual_add(bad_c, b, o), std::invalid_argument);
  try {
    bc1s::residual_add(a, b, bad_s);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bc1s::residual_add"), std::string::npos) << e.what();
  }
}

}  // namespace
