// core/xtensor.hpp and core/eigen.hpp: writes through either library land in the bc1s storage at
// offset(b, c, s) and back, and the padding lanes [S, S_padded) of every row are never touched.
// B batch, C channels, S sequence, S_padded padded sequence.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>

#include "bc1s/core/eigen.hpp"
#include "bc1s/core/half.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/core/xtensor.hpp"
#include "bc1s/layout/layout.hpp"

namespace {

using bc1s::dextents;
using bc1s::extents;
using bc1s::half;
using bc1s::layout_bc1s;
using bc1s::tensor;

constexpr float kSentinel = 777.0f;

float value_at(std::size_t b, std::size_t c, std::size_t s) {
  return static_cast<float>(b * 10000 + c * 100 + s) * 0.25f;
}

// Writes kSentinel into every padding lane.
template <class T, class L>
void fill_padding(tensor<T, L>& t) {
  const std::size_t sp = t.mapping().padded_s();
  for (std::size_t off = 0; off < t.size(); ++off) {
    if (off % sp >= t.s()) t.data()[off] = bc1s::from_float<T>(kSentinel);
  }
}

template <class T, class L>
void expect_padding_untouched(const tensor<T, L>& t) {
  const std::size_t sp = t.mapping().padded_s();
  std::size_t lanes = 0;
  for (std::size_t off = 0; off < t.size(); ++off) {
    if (off % sp >= t.s()) {
      ++lanes;
      ASSERT_EQ(bc1s::to_float(t.data()[off]), kSentinel) << "padding lane at offset " << off;
    }
  }
  EXPECT_EQ(lanes, t.b() * t.c() * (sp - t.s()));
}

// ---- xtensor ---------------------------------------------------------------------------------

template <class L>
void xtensor_round_trip(tensor<float, L>& t) {
  const std::size_t B = t.b(), C = t.c(), S = t.s();
  fill_padding(t);
  auto x = bc1s::as_xtensor(t);
  ASSERT_EQ(x.dimension(), 4u);
  EXPECT_EQ(x.shape()[0], B);
  EXPECT_EQ(x.shape()[1], C);
  EXPECT_EQ(x.shape()[2], 1u);
  EXPECT_EQ(x.shape()[3], S);
  EXPECT_EQ(x.size(), B * C * S);

  // xtensor -> bc1s
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) x(b, c, 0, s) = value_at(b, c, s);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) ASSERT_EQ(t(b, c, s), value_at(b, c, s));
  expect_padding_untouched(t);

  // bc1s -> xtensor
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) t(b, c, s) = -value_at(b, c, s);
  double sum = 0;
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) {
        ASSERT_EQ(x(b, c, 0, s), -value_at(b, c, s));
        sum += static_cast<double>(value_at(b, c, s));
      }
  // Reductions go through the strides, never over padding lanes.
  EXPECT_DOUBLE_EQ(static_cast<double>(xt::sum(x)()), -sum);

  // Whole-expression assignment (plain operator=) writes only the valid lanes.
  xt::xtensor<float, 4> src = xt::zeros<float>({B, C, std::size_t{1}, S});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) src(b, c, 0, s) = value_at(b, c, s) + 1.0f;
  x = src;
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) ASSERT_EQ(t(b, c, s), value_at(b, c, s) + 1.0f);
  expect_padding_untouched(t);
  x = 2.0f * src;
  EXPECT_EQ(t(B - 1, C - 1, S - 1), 2.0f * (value_at(B - 1, C - 1, S - 1) + 1.0f));
  expect_padding_untouched(t);

  // The padded view sees the whole storage, padding included.
  auto p = bc1s::as_xtensor_padded(t);
  ASSERT_EQ(p.dimension(), 3u);
  EXPECT_EQ(p.shape()[2], t.mapping().padded_s());
  EXPECT_EQ(p.size(), t.size());
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < t.mapping().padded_s(); ++s) {
        ASSERT_EQ(p(b, c, s), s < S ? t(b, c, s) : kSentinel);
      }
}

TEST(XtensorInterop, StaticExtentsWithPadding) {
  tensor<float, layout_bc1s<float, extents<2, 3, 33>>> t;
  xtensor_round_trip(t);
}

TEST(XtensorInterop, DynamicExtents) {
  for (std::size_t s : {1u, 16u, 17u, 129u}) {
    tensor<float, layout_bc1s<float, dextents>> t(3, 5, s);
    xtensor_round_trip(t);
  }
}

TEST(XtensorInterop, ConstTensorsGiveReadOnlyExpressions) {
  tensor<float, layout_bc1s<float, extents<1, 2, 20>>> t;
  t(0, 1, 19) = 4.5f;
  const auto& ct = t;
  auto x = bc1s::as_xtensor(ct);
  static_assert(std::is_const_v<std::remove_reference_t<decltype(x(0, 0, 0, 0))>>);
  EXPECT_EQ(x(0, 1, 0, 19), 4.5f);
  auto xv = bc1s::as_xtensor(t.cview());
  EXPECT_EQ(xv(0, 1, 0, 19), 4.5f);
}

TEST(XtensorInterop, HalfStorage) {
  tensor<half, layout_bc1s<half, dextents>> t(2, 3, 40);  // S_padded = 64
  fill_padding(t);
  auto x = bc1s::as_xtensor(t);
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t s = 0; s < 40; ++s) x(b, c, 0, s) = half(value_at(b, c, s));
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t s = 0; s < 40; ++s) {
        ASSERT_EQ(t(b, c, s).bits(), half(value_at(b, c, s)).bits());
        t(b, c, s) = half(1.0f);
        ASSERT_EQ(static_cast<float>(x(b, c, 0, s)), 1.0f);
      }
  expect_padding_untouched(t);
}

// ---- Eigen -----------------------------------------------------------------------------------

template <class L>
void eigen_round_trip(tensor<float, L>& t) {
  const std::size_t B = t.b(), C = t.c(), S = t.s();
  fill_padding(t);
  for (std::size_t b = 0; b < B; ++b) {
    auto m = bc1s::as_eigen(t, b);
    ASSERT_EQ(static_cast<std::size_t>(m.rows()), C);
    ASSERT_EQ(static_cast<std::size_t>(m.cols()), S);
    EXPECT_EQ(static_cast<std::size_t>(m.outerStride()), t.mapping().padded_s());
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m.data()) % 64, 0u);
    EXPECT_EQ(m.data(), t.data() + t.mapping().offset(b, 0, 0));
    // Eigen -> bc1s
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s)
        m(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(s)) = value_at(b, c, s);
  }
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) ASSERT_EQ(t(b, c, s), value_at(b, c, s));
  expect_padding_untouched(t);

  // bc1s -> Eigen, batch by batch and through the (B * C, S) map of the whole tensor.
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) t(b, c, s) = -value_at(b, c, s);
  const auto all = bc1s::as_eigen(t);
  ASSERT_EQ(static_cast<std::size_t>(all.rows()), B * C);
  for (std::size_t b = 0; b < B; ++b) {
    const auto m = bc1s::as_eigen(t, b);
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) {
        const auto ci = static_cast<Eigen::Index>(c), si = static_cast<Eigen::Index>(s);
        ASSERT_EQ(m(ci, si), -value_at(b, c, s));
        ASSERT_EQ(all(static_cast<Eigen::Index>(b * C + c), si), -value_at(b, c, s));
      }
  }
  // Whole-matrix expressions write only the valid lanes.
  bc1s::as_eigen(t).setConstant(3.0f);
  expect_padding_untouched(t);
  EXPECT_EQ(t(B - 1, C - 1, S - 1), 3.0f);

  // A 1x1 convolution as a GEMM through the maps: out (C, S) = W (C, C) * in (C, S) per batch.
  tensor<float, L> out(t.mapping());
  fill_padding(out);
  Eigen::MatrixXf w =
      Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(C), static_cast<Eigen::Index>(C));
  for (Eigen::Index i = 0; i < w.rows(); ++i)
    for (Eigen::Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<float>(i + 2 * j) * 0.125f;
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) t(b, c, s) = value_at(b, c, s) * 0.01f;
    bc1s::as_eigen(out, b).noalias() = w * bc1s::as_eigen(t, b);
  }
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t co = 0; co < C; ++co)
      for (std::size_t s = 0; s < S; ++s) {
        float acc = 0;
        for (std::size_t ci = 0; ci < C; ++ci)
          acc += w(static_cast<Eigen::Index>(co), static_cast<Eigen::Index>(ci)) * t(b, ci, s);
        ASSERT_NEAR(out(b, co, s), acc, 1e-3f * (1.0f + std::abs(acc)));
      }
  expect_padding_untouched(out);
}

TEST(EigenInterop, StaticExtentsWithPadding) {
  tensor<float, layout_bc1s<float, extents<2, 3, 33>>> t;
  eigen_round_trip(t);
}

TEST(EigenInterop, DynamicExtents) {
  for (std::size_t s : {1u, 16u, 17u, 129u}) {
    tensor<float, layout_bc1s<float, dextents>> t(3, 5, s);
    eigen_round_trip(t);
  }
}

TEST(EigenInterop, ConstMapsAndBatchRange) {
  tensor<float, layout_bc1s<float, extents<2, 4, 8>>> t;
  t(1, 3, 7) = 9.0f;
  const auto& ct = t;
  const auto m = bc1s::as_eigen(ct, 1);
  static_assert(std::is_const_v<std::remove_pointer_t<decltype(m.data())>>);
  static_assert(std::is_const_v<std::remove_pointer_t<decltype(bc1s::as_eigen(t.cview()).data())>>);
  EXPECT_EQ(m(3, 7), 9.0f);
  EXPECT_THROW((void)bc1s::as_eigen(t, 2), std::out_of_range);
  EXPECT_THROW((void)bc1s::as_eigen(t.view(), 5), std::out_of_range);
}

}  // namespace
