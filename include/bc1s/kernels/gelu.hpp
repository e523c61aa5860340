// Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), with a vectorised fp32 erf.
//
// Dimension letters: B batch, C channels, S sequence.
//
// erf: the odd/even rational interpolant erf(x) ~ x P(x^2) / Q(x^2) on [-4, 4] (degree 13/8, the
// coefficients of XLA's and Eigen's generic_fast_erf_float), clamped outside, where
// fl(erf(x)) = +-1 (erf(4) = 1 - 1.5e-8). Measured max abs error vs std::erf on [-10, 10]:
// 3.3e-7 (tests/kernels/gelu_test.cpp checks <= 1e-6 densely and at random points).
// NaN propagates.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "bc1s/kernels/checks.hpp"
#include "bc1s/kernels/residual.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s::simd {

// erf(x), lane-wise, fp32; max abs error 3.3e-7.
inline fbatch erf(fbatch a) noexcept {
  const fbatch x =
      xsimd::select(xsimd::isnan(a), a, xsimd::min(xsimd::max(a, fbatch(-4.f)), fbatch(4.f)));
  const fbatch x2 = x * x;
  // Numerator: odd polynomial x * P(x^2).
  fbatch p = xsimd::fma(x2, fbatch(-2.72614225801306e-10f), fbatch(2.77068142495902e-08f));
  p = xsimd::fma(x2, p, fbatch(-2.10102402082508e-06f));
  p = xsimd::fma(x2, p, fbatch(-5.69250639462346e-05f));
  p = xsimd::fma(x2, p, fbatch(-7.34990630326855e-04f));
  p = xsimd::fma(x2, p, fbatch(-2.95459980854025e-03f));
  p = xsimd::fma(x2, p, fbatch(-1.60960333262415e-02f));
  p = x * p;
  // Denominator: even polynomial Q(x^2).
  fbatch q = xsimd::fma(x2, fbatch(-1.45660718464996e-05f), fbatch(-2.13374055278905e-04f));
  q = xsimd::fma(x2, q, fbatch(-1.68282697438203e-03f));
  q = xsimd::fma(x2, q, fbatch(-7.37332916720468e-03f));
  q = xsimd::fma(x2, q, fbatch(-1.42647390514189e-02f));
  return p / q;
}

// gelu(x) = 0.5 x (1 + erf(x / sqrt 2)), lane-wise, fp32 (the exact GELU of BERT/DistilBERT,
// not the tanh approximation). Abs error <= 0.5 |x| * 3.3e-7 + a few fp32 roundings. Finite x
// only: gelu(-inf) is NaN (-inf * 0); gelu(+inf) = +inf.
inline fbatch gelu(fbatch x) noexcept {
  const fbatch h = fbatch(0.5f) * x;
  return xsimd::fma(h, simd::erf(x * fbatch(0.70710678118654752f)), h);
}

}  // namespace bc1s::simd

namespace bc1s {

// out (B, C, 1, S) = gelu(in (B, C, 1, S)), element-wise, fp32 arithmetic. out may be in
// (in place). Columns [s_begin, s_end) only (column-range rules in kernels/residual.hpp).
template <class In, class Out>
void gelu(const In& in, Out&& out, std::size_t s_begin, std::size_t s_end) {
  BC1S_REQUIRE_BC1S_TENSOR("gelu", std::remove_cvref_t<In>, "in");
  BC1S_REQUIRE_BC1S_TENSOR("gelu", std::remove_cvref_t<Out>, "out");
  using VI = detail::view_t<const In>;
  using VO = detail::view_t<std::remove_reference_t<Out>>;
  BC1S_REQUIRE_MUTABLE("gelu", typename VO::element_type, "out");
  BC1S_REQUIRE_SAME_BS("gelu", typename VI::layout_type, typename VO::layout_type, "in and out");
  BC1S_REQUIRE_SAME_C("gelu", typename VI::layout_type, typename VO::layout_type, "in and out");
  const VI vi = as_view(in);
  const VO vo = as_view(out);
  detail::check_same_bs("gelu", vi, vo, "in and out");
  detail::check_same_c("gelu", vi, vo, "in and out");
  const detail::column_span cols = detail::columns_of("gelu", vo.s(), s_begin, s_end);
  detail::elementwise_rows([](simd::fbatch x) { return simd::gelu(x); }, cols, vo, vi);
}

// out (B, C, 1, S) = gelu(in (B, C, 1, S)), all columns; out may be in.
template <class In, class Out>
void gelu(const In& in, Out&& out) {
  gelu(in, std::forward<Out>(out), 0, as_view(in).s());
}

}  // namespace bc1s
