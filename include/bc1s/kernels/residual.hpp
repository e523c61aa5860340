// Residual add, and the column-range helpers the element-wise and per-column kernels share.
//
// Dimension letters: B batch, C channels, S sequence (S_padded: S rounded up to whole 64-byte
// rows).
//
// Column ranges. Every tensor kernel here has a twin taking [s_begin, s_end): it processes only
// those columns of every (b, c) row, so a model can split the sequence over threads with
// runtime::thread_pool::parallel_ranges(S, simd::kFloatLanes, ...). s_begin must be a multiple of
// simd::kFloatLanes; s_end a multiple of it or >= S (clamped to S). The range that reaches S also
// writes the output's padding lanes [round_up(S, lanes), S_padded) (zeros), so a split over the
// whole of [0, S) leaves the output exactly as the unsplit call does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "bc1s/core/half.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/kernels/checks.hpp"
#include "bc1s/layout/layout.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s {

namespace detail {

static_assert(simd::kFloatLanes <= 16 && 16 % simd::kFloatLanes == 0,
              "bc1s kernels: expected at most 16 float lanes per batch (one 64-byte fp32 row unit) "
              "so that padded rows need no scalar tail");

// The view type of a kernel argument (tensor or tensor_view; const tensor -> view of const T).
template <class X>
using view_t = decltype(::bc1s::as_view(std::declval<X&>()));

// The vectors of kFloatLanes lanes a column range covers, and whether it reaches the end of S.
struct column_span {
  std::size_t v_begin = 0;  // first vector (lane s = v * kFloatLanes)
  std::size_t v_end = 0;    // one past the last vector; covers [s_begin, round_up(min(s_end, S)))
  bool to_end = false;      // the range reaches S: also write the output's padding tail
};

inline column_span columns_of(const char* kernel, std::size_t s, std::size_t s_begin,
                              std::size_t s_end) {
  constexpr std::size_t L = simd::kFloatLanes;
  if (s_begin % L != 0 || s_begin > s_end || (s_end % L != 0 && s_end < s) || s_begin > s) {
    throw_kernel(kernel,
                 "expected a column range [s_begin, s_end) with s_begin <= s_end, s_begin <= S "
                 "and both multiples of " +
                     std::to_string(L) + " lanes (s_end may also be >= S); got [" +
                     std::to_string(s_begin) + ", " + std::to_string(s_end) +
                     ") with S = " + std::to_string(s) +
                     "; split with thread_pool::parallel_ranges(S, simd::kFloatLanes, fn)");
  }
  const std::size_t end = std::min(s_end, s);
  return {s_begin / L, round_up(end, L) / L, s_end >= s};
}

// Zero lanes [from, to) of an output row (its padding tail beyond the last computed vector).
template <class T>
inline void zero_lanes(T* row, std::size_t from, std::size_t to) noexcept {
  for (std::size_t i = from; i < to; ++i) row[i] = T{};
}

// out(b, c, s) = f(in(b, c, s)...) for the vectors of `cols` in every row; then the padding tail.
// Padding lanes inside the last vector are computed from the inputs' padding lanes (finite in,
// finite out), never mixed with valid lanes.
template <class F, class OutV, class... InV>
void elementwise_rows(const F& f, const column_span& cols, const OutV& out, const InV&... in) {
  constexpr std::size_t L = simd::kFloatLanes;
  const std::size_t tail_from = cols.v_end * L;
  for (std::size_t b = 0; b < out.b(); ++b) {
    for (std::size_t c = 0; c < out.c(); ++c) {
      auto* o = out.row(b, c);
      const auto rows = std::make_tuple(in.row(b, c)...);
      std::size_t v = cols.v_begin;
      for (; v + 2 <= cols.v_end; v += 2) {
        const std::size_t s0 = v * L, s1 = s0 + L;
        const simd::fbatch y0 =
            std::apply([&](auto*... p) { return f(simd::load(p + s0)...); }, rows);
        const simd::fbatch y1 =
            std::apply([&](auto*... p) { return f(simd::load(p + s1)...); }, rows);
        simd::store(o + s0, y0);
        simd::store(o + s1, y1);
      }
      if (v < cols.v_end) {
        const std::size_t s0 = v * L;
        simd::store(o + s0, std::apply([&](auto*... p) { return f(simd::load(p + s0)...); }, rows));
      }
      if (cols.to_end) zero_lanes(o, tail_from, out.mapping().padded_s());
    }
  }
}

}  // namespace detail

// out (B, C, 1, S) = a (B, C, 1, S) + b (B, C, 1, S), fp32 arithmetic; out may alias a or b.
// Columns [s_begin, s_end) only (see the column-range rules above).
template <class A, class Bt, class Out>
void residual_add(const A& a, const Bt& b, Out&& out, std::size_t s_begin, std::size_t s_end) {
  BC1S_REQUIRE_BC1S_TENSOR("residual_add", std::remove_cvref_t<A>, "a");
  BC1S_REQUIRE_BC1S_TENSOR("residual_add", std::remove_cvref_t<Bt>, "b");
  BC1S_REQUIRE_BC1S_TENSOR("residual_add", std::remove_cvref_t<Out>, "out");
  using VA = detail::view_t<const A>;
  using VB = detail::view_t<const Bt>;
  using VO = detail::view_t<std::remove_reference_t<Out>>;
  using LA = typename VA::layout_type;
  using LB = typename VB::layout_type;
  using LO = typename VO::layout_type;
  BC1S_REQUIRE_MUTABLE("residual_add", typename VO::element_type, "out");
  BC1S_REQUIRE_SAME_BS("residual_add", LA, LB, "a and b");
  BC1S_REQUIRE_SAME_BS("residual_add", LA, LO, "a and out");
  BC1S_REQUIRE_SAME_C("residual_add", LA, LB, "a and b");
  BC1S_REQUIRE_SAME_C("residual_add", LA, LO, "a and out");
  const VA va = as_view(a);
  const VB vb = as_view(b);
  const VO vo = as_view(out);
  detail::check_same_bs("residual_add", va, vb, "a and b");
  detail::check_same_bs("residual_add", va, vo, "a and out");
  detail::check_same_c("residual_add", va, vb, "a and b");
  detail::check_same_c("residual_add", va, vo, "a and out");
  const detail::column_span cols = detail::columns_of("residual_add", vo.s(), s_begin, s_end);
  detail::elementwise_rows([](simd::fbatch x, simd::fbatch y) { return x + y; }, cols, vo, va, vb);
}

// out (B, C, 1, S) = a (B, C, 1, S) + b (B, C, 1, S), all columns.
template <class A, class Bt, class Out>
void residual_add(const A& a, const Bt& b, Out&& out) {
  residual_add(a, b, std::forward<Out>(out), 0, as_view(a).s());
}

}  // namespace bc1s
