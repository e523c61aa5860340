// bc1s::simd::exp and bc1s::softmax_keys against double-precision references.
//
// Dimension letters: K keys, Q query columns (Q_padded: rounded up to whole vectors), ld the row
// stride of a score tile scores[k * ld + q].
#include <bc1s/kernels/softmax.hpp>

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
#include <vector>

namespace {

using bc1s::simd::fbatch;
constexpr std::size_t L = bc1s::simd::kFloatLanes;
constexpr double kU = 0x1p-24;  // fp32 unit roundoff
constexpr float kLowest = std::numeric_limits<float>::lowest();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::size_t round_up(std::size_t x, std::size_t m) {
  return (x + m - 1) / m * m;
}

// Distance in units in the last place of the float nearest to ref (subnormal ulp = 2^-149).
double ulp_error(float got, double ref) {
  const double aref = std::fabs(ref);
  const double ulp =
      aref < 0x1p-126 ? 0x1p-149 : std::ldexp(1.0, std::ilogb(static_cast<float>(aref)) - 23);
  return std::fabs(static_cast<double>(got) - ref) / ulp;
}

TEST(SimdExp, AtMostTwoUlpOnMinus88To88) {
  std::vector<float> xs;
  for (long i = -880000; i <= 880000; ++i)
    xs.push_back(static_cast<float>(static_cast<double>(i) * 1e-4));
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> u(-88.f, 88.f);
  for (int i = 0; i < 200000; ++i) xs.push_back(u(gen));
  std::uniform_real_distribution<float> sub(-103.9f, -87.4f);  // subnormal results
  for (int i = 0; i < 20000; ++i) xs.push_back(sub(gen));
  xs.resize(round_up(xs.size(), L), 0.f);
  double max_ulp = 0, at = 0, max_ulp_sub = 0;
  for (std::size_t i = 0; i < xs.size(); i += L) {
    alignas(64) float y[16];
    bc1s::simd::exp(fbatch::load_unaligned(&xs[i])).store_unaligned(y);
    for (std::size_t j = 0; j < L; ++j) {
      const double ref = std::exp(static_cast<double>(xs[i + j]));
      const double e = ulp_error(y[j], ref);
      if (ref < 0x1p-126) {
        max_ulp_sub = std::max(max_ulp_sub, e);
      } else if (e > max_ulp) {
        max_ulp = e;
        at = xs[i + j];
      }
    }
  }
  std::printf("exp: %zu points, max error %.3f ulp (at x = %.6g); subnormal results %.3f ulp\n",
              xs.size(), max_ulp, at, max_ulp_sub);
  RecordProperty("exp_max_ulp", std::to_string(max_ulp));
  EXPECT_LE(max_ulp, 2.0);
  // Gradual underflow: one rounding of the subnormal result (<= 1 subnormal ulp, plus the
  // normal-range error of the polynomial, far below one subnormal ulp).
  EXPECT_LE(max_ulp_sub, 1.0);
}

TEST(SimdExp, SpecialValues) {
  // In a vector rather than a constant array: GCC 12 constant-folds the intrinsics and then
  // reports their _mm512_undefined_ps() placeholders as uninitialized (GCC bug 105593).
  const std::vector<float> x = {0.f,     -kInf, kInf, -1e30f, 1e30f, -104.f, 89.f,  std::nanf(""),
                                kLowest, -88.f, 88.f, 1.f,    -1.f,  -200.f, 200.f, 0.5f};
  std::vector<float> y(16);
  for (std::size_t i = 0; i < 16; i += L)
    bc1s::simd::exp(fbatch::load_unaligned(&x[i])).store_unaligned(&y[i]);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_EQ(y[2], kInf);
  EXPECT_EQ(y[3], 0.f);
  EXPECT_EQ(y[4], kInf);
  EXPECT_EQ(y[5], 0.f);
  EXPECT_EQ(y[6], kInf);
  EXPECT_TRUE(std::isnan(y[7]));
  EXPECT_EQ(y[8], 0.f);
  EXPECT_EQ(y[13], 0.f);
  EXPECT_EQ(y[14], kInf);
  for (int i : {9, 10, 11, 12, 15}) {
    EXPECT_LE(ulp_error(y[i], std::exp(static_cast<double>(x[i]))), 2.0) << x[i];
  }
}

// ---- softmax_keys -----------------------------------------------------------------------------

enum class mask_kind { none, partial_lowest, partial_neg_inf, all_lowest, all_neg_inf, all_m1e30 };

struct tile {
  std::size_t keys, queries, qp, ld;
  std::vector<float> scores, mask;
};

// Reference: Hugging Face semantics in double. A masked key (mask value <= -1e29) has its score
// replaced by finfo(float32).min (masked_fill); a column whose every key is masked is therefore
// uniform. With -inf masks the column is all zeros (bc1s's documented choice; HF never uses -inf).
std::vector<double> reference(const tile& t, bool neg_inf_all) {
  std::vector<double> p(t.keys * t.queries);
  for (std::size_t q = 0; q < t.queries; ++q) {
    std::vector<double> z(t.keys);
    double m = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < t.keys; ++k) {
      const bool masked = !t.mask.empty() && t.mask[k] <= -1e29f;
      z[k] = masked ? static_cast<double>(kLowest) : static_cast<double>(t.scores[k * t.ld + q]);
      m = std::max(m, z[k]);
    }
    double sum = 0;
    for (std::size_t k = 0; k < t.keys; ++k) sum += std::exp(z[k] - m);
    for (std::size_t k = 0; k < t.keys; ++k)
      p[k * t.queries + q] = neg_inf_all ? 0.0 : std::exp(z[k] - m) / sum;
  }
  return p;
}

tile make_tile(std::size_t keys, std::size_t queries, std::size_t extra_ld, mask_kind mk,
               std::mt19937& gen) {
  tile t{keys, queries, round_up(queries, L), round_up(queries, L) + extra_ld, {}, {}};
  t.scores.assign(t.keys * t.ld, std::nanf(""));  // columns [qp, ld) stay NaN: never touched
  std::uniform_real_distribution<float> u(-10.f, 10.f);
  for (std::size_t k = 0; k < keys; ++k) {
    for (std::size_t q = 0; q < t.qp; ++q) {
      // Query padding columns hold garbage: NaN, inf or huge values.
      t.scores[k * t.ld + q] = q < queries ? u(gen)
                                           : (q % 3 == 0   ? std::nanf("")
                                              : q % 3 == 1 ? kInf
                                                           : 1e38f);
    }
  }
  std::bernoulli_distribution drop(0.3);
  switch (mk) {
    case mask_kind::none:
      break;
    case mask_kind::partial_lowest:
    case mask_kind::partial_neg_inf:
      t.mask.resize(keys);
      for (std::size_t k = 0; k < keys; ++k) {
        t.mask[k] =
            (k > 0 && drop(gen)) ? (mk == mask_kind::partial_lowest ? kLowest : -kInf) : 0.f;
      }
      break;
    case mask_kind::all_lowest:
      t.mask.assign(keys, kLowest);
      break;
    case mask_kind::all_neg_inf:
      t.mask.assign(keys, -kInf);
      break;
    case mask_kind::all_m1e30:
      t.mask.assign(keys, -1e30f);
      break;
  }
  return t;
}

TEST(SoftmaxKeys, MatchesReferenceWithMasksAndGarbagePadding) {
  std::mt19937 gen(11);
  double max_abs = 0, max_rel = 0, max_ratio = 0;
  int tiles = 0;
  const std::size_t sizes[] = {1, 7, 31, 32, 33, 127, 128, 129, 512};
  for (std::size_t keys : sizes) {
    for (std::size_t queries : sizes) {
      for (mask_kind mk : {mask_kind::none, mask_kind::partial_lowest, mask_kind::partial_neg_inf,
                           mask_kind::all_lowest, mask_kind::all_neg_inf, mask_kind::all_m1e30}) {
        tile t = make_tile(keys, queries, queries % 2 ? 16 : 0, mk, gen);
        const tile before = t;
        bc1s::softmax_keys(t.scores.data(), keys, t.qp, t.ld,
                           t.mask.empty() ? nullptr : t.mask.data());
        const std::vector<double> ref = reference(before, mk == mask_kind::all_neg_inf);
        for (std::size_t q = 0; q < queries; ++q) {
          // Tolerance for column q (u = 2^-24): the exponent z - max is rounded (u |z - max|
          // relative error in exp), exp itself is <= 2 ulp (4u), the fp32 sum of K positive terms
          // is off by <= (K - 1) u relative (and inherits the terms' error), 1 / sum and the
          // product add 2u. |p - ref| <= ref * u * (2 range + K + 16), range = max |z - max| over
          // the unmasked keys; 1e-37 absolute covers results that are subnormal.
          double zmax = -1e300, zmin = 1e300;
          for (std::size_t k = 0; k < keys; ++k) {
            if (!before.mask.empty() && before.mask[k] <= -1e29f) continue;
            zmax = std::max(zmax, static_cast<double>(before.scores[k * t.ld + q]));
            zmin = std::min(zmin, static_cast<double>(before.scores[k * t.ld + q]));
          }
          const double range = zmax >= zmin ? zmax - zmin : 0.0;
          for (std::size_t k = 0; k < keys; ++k) {
            const double r = ref[k * queries + q];
            const double got = t.scores[k * t.ld + q];
            const double err = std::fabs(got - r);
            const double tol = r * kU * (2 * range + static_cast<double>(keys) + 16) + 1e-37;
            max_abs = std::max(max_abs, err);
            if (r > 1e-30) max_rel = std::max(max_rel, err / r);
            max_ratio = std::max(max_ratio, err / tol);
            ASSERT_LE(err, tol) << "keys=" << keys << " queries=" << queries
                                << " mask=" << static_cast<int>(mk) << " k=" << k << " q=" << q
                                << " got=" << got << " ref=" << r;
          }
        }
        // Columns [qp, ld) untouched.
        for (std::size_t k = 0; k < keys; ++k)
          for (std::size_t q = t.qp; q < t.ld; ++q) ASSERT_TRUE(std::isnan(t.scores[k * t.ld + q]));
        ++tiles;
      }
    }
  }
  std::printf(
      "softmax_keys: %d tiles, max abs error %.3g, max rel error %.3g, max error / tolerance "
      "%.3g\n",
      tiles, max_abs, max_rel, max_ratio);
}

TEST(SoftmaxKeys, FullyMaskedColumns) {
  std::mt19937 gen(5);
  for (mask_kind mk : {mask_kind::all_lowest, mask_kind::all_m1e30, mask_kind::all_neg_inf}) {
    tile t = make_tile(33, 20, 0, mk, gen);
    bc1s::softmax_keys(t.scores.data(), t.keys, t.qp, t.ld, t.mask.data());
    const float expect = mk == mask_kind::all_neg_inf ? 0.f : 1.f / 33.f;
    for (std::size_t k = 0; k < t.keys; ++k)
      for (std::size_t q = 0; q < t.queries; ++q) ASSERT_FLOAT_EQ(t.scores[k * t.ld + q], expect);
  }
}

TEST(SoftmaxKeys, ColumnRangesMatchWholeCall) {
  std::mt19937 gen(9);
  tile a = make_tile(129, 100, 16, mask_kind::partial_lowest, gen);
  tile b = a;
  bc1s::softmax_keys(a.scores.data(), a.keys, a.qp, a.ld, a.mask.data());
  for (std::size_t q0 = 0; q0 < b.qp; q0 += L) {
    bc1s::softmax_keys(b.scores.data(), b.keys, q0, q0 + L, b.ld, b.mask.data());
  }
  EXPECT_EQ(0, std::memcmp(a.scores.data(), b.scores.data(), a.scores.size() * sizeof(float)));
}

TEST(SoftmaxKeys, Errors) {
  std::vector<float> s(64 * 64, 0.f);
  if constexpr (L > 1) {
    EXPECT_THROW(bc1s::softmax_keys(s.data(), 4, 17, 64, nullptr), std::invalid_argument);
  }
  EXPECT_THROW(bc1s::softmax_keys(s.data(), 4, 64, 32, nullptr), std::invalid_argument);  // ld < Q
  EXPECT_THROW(bc1s::softmax_keys(nullptr, 4, 32, 32, nullptr), std::invalid_argument);
  EXPECT_NO_THROW(bc1s::softmax_keys(nullptr, 0, 32, 32, nullptr));  // no keys: nothing to do
  try {
    bc1s::softmax_keys(s.data(), 4, 64, 32, nullptr);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bc1s::softmax_keys"), std::string::npos);
  }
}

}  // namespace
