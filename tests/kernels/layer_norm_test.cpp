// bc1s::layer_norm and bc1s::add_layer_norm against a double-precision reference.
//
// Dimension letters: B batch, C channels, S sequence.
#include <bc1s/kernels/layer_norm.hpp>

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
constexpr std::size_t L = bc1s::simd::kFloatLanes;
constexpr double kU = 0x1p-24;   // fp32 unit roundoff
constexpr double kUh = 0x1p-11;  // fp16 unit roundoff
constexpr float kEps = 1e-12f;   // DistilBERT's layer_norm_eps

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

// Valid lanes: uniform in [-2, 2] plus a per-channel offset in [2, 4] (a nonzero mean, as real
// activations have, exercising the two-pass variance); padding lanes set to `garbage`.
template <class Tensor, class Gen>
void fill(Tensor& t, Gen& gen, float garbage) {
  using T = typename Tensor::value_type;
  std::uniform_real_distribution<float> u(-2.f, 2.f), off(2.f, 4.f);
  for (std::size_t b = 0; b < t.b(); ++b) {
    for (std::size_t c = 0; c < t.c(); ++c) {
      const float o = off(gen);
      T* row = t.view().row(b, c);
      for (std::size_t s = 0; s < t.mapping().padded_s(); ++s) {
        row[s] = bc1s::from_float<T>(s < t.s() ? o + u(gen) : garbage);
      }
    }
  }
}

template <class Tensor>
void set_padding(Tensor& t, float v) {
  using T = typename Tensor::value_type;
  for (std::size_t b = 0; b < t.b(); ++b)
    for (std::size_t c = 0; c < t.c(); ++c)
      for (std::size_t s = t.s(); s < t.mapping().padded_s(); ++s)
        t(b, c, s) = bc1s::from_float<T>(v);
}

template <class Tensor>
bool padding_is_zero(const Tensor& t) {
  for (std::size_t b = 0; b < t.b(); ++b)
    for (std::size_t c = 0; c < t.c(); ++c)
      for (std::size_t s = t.s(); s < t.mapping().padded_s(); ++s)
        if (bc1s::to_float(t(b, c, s)) != 0.f) return false;
  return true;
}

struct errors {
  double max_abs = 0, max_rel = 0, max_ratio = 0;
};

// Checks out against layer_norm of x (+ r) in double. Tolerance per element, derived for the
// fp32 algorithm (worst case, u = 2^-24, M = max |x| of the column, n = C):
//   mean:   the fp32 sum is off by <= (n - 1) u sum|x|, so |dmean| <= n u M; expressed in units of
//           the standard deviation: delta = n u M rstd (plus u M rstd when x + r is formed in fp32,
//           which perturbs every input by <= u M).
//   rstd:   sum of squared deviations relative error <= (n + 3) u, and the shifted mean adds
//           <= 2 delta (mean|x - mean| <= sigma); sqrt halves it, 1/sqrt adds 2u.
//   xhat:   |dxhat| <= delta + |xhat| ((n + 3) u / 2 + delta + 3u)
//   out:    |gamma| |dxhat| + 2u (|out| + |beta|) (product and fma), and for fp16 storage one more
//           rounding: 2^-11 |out| + 2^-25.
template <class Tensor, class Tx>
void check_against_reference(const Tensor& out, const Tx& x, const Tx* r,
                             const std::vector<float>& gamma, const std::vector<float>& beta,
                             errors& e) {
  using T = typename Tensor::value_type;
  constexpr bool kHalf = std::is_same_v<T, half>;
  const std::size_t C = x.c();
  const double n = static_cast<double>(C);
  std::vector<double> col(C);
  for (std::size_t b = 0; b < x.b(); ++b) {
    for (std::size_t s = 0; s < x.s(); ++s) {
      double mean = 0, mx = 0;
      for (std::size_t c = 0; c < C; ++c) {
        col[c] = bc1s::to_float(x(b, c, s)) +
                 (r ? static_cast<double>(bc1s::to_float((*r)(b, c, s))) : 0.0);
        mean += col[c];
        mx = std::max(mx, std::fabs(col[c]));
      }
      mean /= n;
      double var = 0;
      for (std::size_t c = 0; c < C; ++c) var += (col[c] - mean) * (col[c] - mean);
      var /= n;
      const double rstd = 1.0 / std::sqrt(var + static_cast<double>(kEps));
      const double delta = (n + (r ? 1 : 0)) * kU * mx * rstd;
      for (std::size_t c = 0; c < C; ++c) {
        const double xhat = (col[c] - mean) * rstd;
        const double ref = xhat * gamma[c] + beta[c];
        const double got = bc1s::to_float(out(b, c, s));
        const double dxhat = delta + std::fabs(xhat) * ((n + 3) * kU / 2 + delta + 3 * kU);
        double tol = std::fabs(gamma[c]) * dxhat + 2 * kU * (std::fabs(ref) + std::fabs(beta[c]));
        if (kHalf) tol += kUh * std::fabs(ref) + 0x1p-25;
        const double err = std::fabs(got - ref);
        e.max_abs = std::max(e.max_abs, err);
        if (std::fabs(ref) > 1e-2) e.max_rel = std::max(e.max_rel, err / std::fabs(ref));
        e.max_ratio = std::max(e.max_ratio, err / tol);
        ASSERT_LE(err, tol) << "b=" << b << " c=" << c << " s=" << s << " (B, C, S) = (" << x.b()
                            << ", " << C << ", " << x.s() << ") got " << got << " ref " << ref;
      }
    }
  }
}

std::vector<float> random_vec(std::size_t n, float lo, float hi, std::mt19937& gen) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(gen);
  return v;
}

template <class Cfg>
class LayerNorm : public ::testing::Test {};
TYPED_TEST_SUITE(LayerNorm, Configs, ConfigNames);

TYPED_TEST(LayerNorm, MatchesReferenceAndIgnoresGarbagePadding) {
  using T = typename TypeParam::value_type;
  std::mt19937 gen(17);
  errors e;
  int shapes = 0;
  for_each_shape<TypeParam>([&](auto shape) {
    auto in = shape.template make<T>();
    auto out = shape.template make<T>();
    fill(in, gen, 0.f);
    const auto gamma = random_vec(shape.c, 0.5f, 1.5f, gen);
    const auto beta = random_vec(shape.c, -0.5f, 0.5f, gen);
    set_padding(out, std::nanf(""));  // stale output padding must be overwritten
    bc1s::layer_norm(in, gamma, beta, kEps, out);
    check_against_reference(out, in, static_cast<const decltype(in)*>(nullptr), gamma, beta, e);
    EXPECT_TRUE(padding_is_zero(out));

    // Garbage (NaN, inf, huge) in the input padding changes no bit of the output.
    for (float g : {std::nanf(""), std::numeric_limits<float>::infinity(), -6e4f}) {
      auto dirty = in;
      set_padding(dirty, g);
      auto out2 = shape.template make<T>();
      bc1s::layer_norm(dirty, gamma, beta, kEps, out2);
      ASSERT_EQ(0, std::memcmp(out.data(), out2.data(), out.size() * sizeof(T))) << "garbage " << g;
    }
    // In place, and column ranges of one vector, give the same bits.
    auto inplace = in;
    bc1s::layer_norm(inplace, gamma, beta, kEps, inplace);
    EXPECT_EQ(0, std::memcmp(inplace.data(), out.data(), out.size() * sizeof(T)));
    auto ranged = shape.template make<T>();
    for (std::size_t s0 = 0; s0 < in.s(); s0 += L) {
      bc1s::layer_norm(in, gamma, beta, kEps, ranged, s0, std::min(s0 + L, in.s()));
    }
    EXPECT_EQ(0, std::memcmp(ranged.data(), out.data(), out.size() * sizeof(T)));
    ++shapes;
  });
  std::printf(
      "layer_norm<%s, %s>: %d shapes, max abs error %.3g, max rel error (|ref| > 0.01) %.3g, "
      "max error / tolerance %.3g\n",
      std::is_same_v<T, half> ? "half" : "float", TypeParam::is_static ? "static" : "dynamic",
      shapes, e.max_abs, e.max_rel, e.max_ratio);
}

TYPED_TEST(LayerNorm, AddLayerNormMatchesReferenceAndMayAlias) {
  using T = typename TypeParam::value_type;
  std::mt19937 gen(23);
  errors e;
  for_each_shape<TypeParam>([&](auto shape) {
    auto x = shape.template make<T>();
    auto r = shape.template make<T>();
    auto out = shape.template make<T>();
    fill(x, gen, std::nanf(""));
    fill(r, gen, std::numeric_limits<float>::infinity());
    const auto gamma = random_vec(shape.c, 0.5f, 1.5f, gen);
    const auto beta = random_vec(shape.c, -0.5f, 0.5f, gen);
    bc1s::add_layer_norm(x, r, gamma, beta, kEps, out);
    check_against_reference(out, x, &r, gamma, beta, e);
    EXPECT_TRUE(padding_is_zero(out));
    auto x2 = x;
    bc1s::add_layer_norm(x2, r, gamma, beta, kEps, x2);  // out aliases x
    EXPECT_EQ(0, std::memcmp(x2.data(), out.data(), out.size() * sizeof(T)));
    auto r2 = r;
    bc1s::add_layer_norm(x, r2, gamma, beta, kEps, r2);  // out aliases residual
    EXPECT_EQ(0, std::memcmp(r2.data(), out.data(), out.size() * sizeof(T)));
    auto ranged = shape.template make<T>();
    for (std::size_t s0 = 0; s0 < x.s(); s0 += 2 * L) {
      bc1s::add_layer_norm(x, r, gamma, beta, kEps, ranged, s0, std::min(s0 + 2 * L, x.s()));
    }
    EXPECT_EQ(0, std::memcmp(ranged.data(), out.data(), out.size() * sizeof(T)));
  });
  std::printf(
      "add_layer_norm<%s, %s>: max abs error %.3g, max rel error (|ref| > 0.01) %.3g, "
      "max error / tolerance %.3g\n",
      std::is_same_v<T, half> ? "half" : "float", TypeParam::is_static ? "static" : "dynamic",
      e.max_abs, e.max_rel, e.max_ratio);
}

TEST(LayerNormMixed, HalfInFloatOut) {
  bc1s::tensor<half, bc1s::layout_bc1s<half, bc1s::dextents>> in(2, 24, 16);
  bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>> out(2, 24, 16);
  std::mt19937 gen(2);
  fill(in, gen, std::nanf(""));
  const auto gamma = random_vec(24, 0.5f, 1.5f, gen);
  const auto beta = random_vec(24, -0.5f, 0.5f, gen);
  bc1s::layer_norm(in, gamma, beta, kEps, out);
  errors e;
  check_against_reference(out, in, static_cast<const decltype(in)*>(nullptr), gamma, beta, e);
}

// Columns split over threads give the same bits as one thread (each column is one thread's).
TEST(LayerNormThreads, TwoThreadsEqualOne) {
  bc1s::runtime::thread_pool pool(2);
  for (std::size_t S : {127u, 128u, 129u, 512u}) {
    bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>> in(3, 768, S), one(3, 768, S),
        two(3, 768, S);
    std::mt19937 gen(static_cast<unsigned>(S));
    fill(in, gen, 0.0f);
    const auto gamma = random_vec(768, 0.5f, 1.5f, gen);
    const auto beta = random_vec(768, -0.5f, 0.5f, gen);
    bc1s::layer_norm(in, gamma, beta, kEps, one);
    bc1s::layer_norm(in, gamma, beta, kEps, two, &pool);
    std::size_t differ = 0;
    for (std::size_t b = 0; b < 3; ++b)
      for (std::size_t c = 0; c < 768; ++c)
        for (std::size_t s = 0; s < S; ++s) differ += one(b, c, s) != two(b, c, s);
    EXPECT_EQ(differ, 0u) << "S = " << S;
    errors e;
    check_against_reference(two, in, static_cast<const decltype(in)*>(nullptr), gamma, beta, e);
  }
}

TEST(LayerNormErrors, ParameterSizesShapesAndRanges) {
  using DT = bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>>;
  DT a(2, 8, 16), o(2, 8, 16), o_s(2, 8, 17), o_b(1, 8, 16), o_c(2, 9, 16);
  const std::vector<float> g8(8, 1.f), b8(8, 0.f), g7(7, 1.f);
  try {
    bc1s::layer_norm(a, g7, b8, kEps, o);
    ADD_FAILURE() << "wrong gamma size accepted";
  } catch (const std::invalid_argument& ex) {
    const std::string msg = ex.what();
    EXPECT_NE(msg.find("bc1s::layer_norm"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gamma"), std::string::npos) << msg;
  }
  EXPECT_THROW(bc1s::layer_norm(a, g8, g7, kEps, o), std::invalid_argument);
  EXPECT_THROW(bc1s::add_layer_norm(a, a, g7, b8, kEps, o), std::invalid_argument);
  EXPECT_THROW(bc1s::layer_norm(a, g8, b8, kEps, o_s), std::invalid_argument);
  EXPECT_THROW(bc1s::layer_norm(a, g8, b8, kEps, o_b), std::invalid_argument);
  EXPECT_THROW(bc1s::layer_norm(a, g8, b8, kEps, o_c), std::invalid_argument);
  EXPECT_THROW(bc1s::add_layer_norm(a, o_s, g8, b8, kEps, o), std::invalid_argument);
  if constexpr (L > 1) {
    EXPECT_THROW(bc1s::layer_norm(a, g8, b8, kEps, o, 1, 16), std::invalid_argument);
  }
  EXPECT_THROW(bc1s::layer_norm(a, g8, b8, kEps, o, 16, 0), std::invalid_argument);
}

}  // namespace
