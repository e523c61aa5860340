// Layer norm over the channels of every (b, s) column, and the fused post-LN residual variant.
//
// Dimension letters: B batch, C channels, S sequence.
//
// In the channels-first layout the reduction over C is a sum of rows, so it vectorises across s:
// each lane is one column. A block of up to 4 vectors of columns goes through all C rows three
// times (mean; sum of squared deviations; normalise), so the block (4 x 16 lanes x C rows) stays
// in L1/L2 between the passes. Statistics are two-pass fp32: mean first, then
// var = sum((x - mean)^2) / C (biased, as torch.nn.LayerNorm), rstd = 1 / sqrt(var + eps), and
// out = gamma * ((x - mean) * rstd) + beta. Each lane keeps two partial sums (even and odd c).
//
// Padding: lanes s >= S are read as 0 (garbage there, even NaN, never reaches a valid column) and
// written as 0.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "bc1s/runtime/thread_pool.hpp"
#include "bc1s/kernels/checks.hpp"
#include "bc1s/kernels/residual.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s {

namespace detail {

inline void check_norm_params(const char* kernel, std::size_t c, std::span<const float> gamma,
                              std::span<const float> beta) {
  if (gamma.size() != c) {
    throw_kernel(kernel, "expected gamma of size C = " + std::to_string(c) + ", got " +
                             std::to_string(gamma.size()) +
                             "; pass the LayerNorm weight of this channel count");
  }
  if (beta.size() != c) {
    throw_kernel(kernel, "expected beta of size C = " + std::to_string(c) + ", got " +
                             std::to_string(beta.size()) +
                             "; pass the LayerNorm bias of this channel count");
  }
}

// One block of NV vectors starting at column s0 of batch b. src(b, c, s) loads the fp32 input
// vector at (b, c, s..s+L); out is the output view. Masked: some lanes of the block are >= S.
template <std::size_t NV, bool Masked, class Src, class OutV>
inline void layer_norm_block(const Src& src, const OutV& out, std::size_t b, std::size_t s0,
                             const float* gamma, const float* beta, float eps) noexcept {
  using simd::fbatch;
  using bbatch = xsimd::batch_bool<float>;
  constexpr std::size_t L = simd::kFloatLanes;
  const std::size_t C = out.c();
  bbatch valid[NV];
  if constexpr (Masked) {
    alignas(64) static constexpr float kIota[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                    8, 9, 10, 11, 12, 13, 14, 15};
    const fbatch iota = fbatch::load_aligned(kIota);
    for (std::size_t v = 0; v < NV; ++v) {
      valid[v] = iota < fbatch(static_cast<float>(out.s()) - static_cast<float>(s0 + v * L));
    }
  }
  auto get = [&](std::size_t c, std::size_t v) {
    const fbatch x = src(b, c, s0 + v * L);
    if constexpr (Masked) {
      return xsimd::select(valid[v], x, fbatch(0.f));
    } else {
      return x;
    }
  };

  // Pass 1: mean.
  fbatch a0[NV], a1[NV], mean[NV], rstd[NV];
  for (std::size_t v = 0; v < NV; ++v) a0[v] = a1[v] = fbatch(0.f);
  std::size_t c = 0;
  for (; c + 2 <= C; c += 2) {
    for (std::size_t v = 0; v < NV; ++v) {
      a0[v] += get(c, v);
      a1[v] += get(c + 1, v);
    }
  }
  if (c < C) {
    for (std::size_t v = 0; v < NV; ++v) a0[v] += get(c, v);
  }
  const fbatch cf(static_cast<float>(C));
  for (std::size_t v = 0; v < NV; ++v) mean[v] = (a0[v] + a1[v]) / cf;

  // Pass 2: variance = mean of squared deviations.
  for (std::size_t v = 0; v < NV; ++v) a0[v] = a1[v] = fbatch(0.f);
  for (c = 0; c + 2 <= C; c += 2) {
    for (std::size_t v = 0; v < NV; ++v) {
      const fbatch d0 = get(c, v) - mean[v];
      const fbatch d1 = get(c + 1, v) - mean[v];
      a0[v] = xsimd::fma(d0, d0, a0[v]);
      a1[v] = xsimd::fma(d1, d1, a1[v]);
    }
  }
  if (c < C) {
    for (std::size_t v = 0; v < NV; ++v) {
      const fbatch d0 = get(c, v) - mean[v];
      a0[v] = xsimd::fma(d0, d0, a0[v]);
    }
  }
  const fbatch epsb(eps);
  for (std::size_t v = 0; v < NV; ++v) {
    rstd[v] = fbatch(1.f) / xsimd::sqrt((a0[v] + a1[v]) / cf + epsb);
  }

  // Pass 3: normalise, scale, shift.
  for (c = 0; c < C; ++c) {
    const fbatch g(gamma[c]);
    const fbatch bt(beta[c]);
    auto* o = out.row(b, c) + s0;
    for (std::size_t v = 0; v < NV; ++v) {
      fbatch y = xsimd::fma((get(c, v) - mean[v]) * rstd[v], g, bt);
      if constexpr (Masked) y = xsimd::select(valid[v], y, fbatch(0.f));
      simd::store(o + v * L, y);
    }
  }
}

template <class Src, class OutV>
void layer_norm_columns(const Src& src, const OutV& out, const column_span& cols,
                        const float* gamma, const float* beta, float eps) {
  constexpr std::size_t L = simd::kFloatLanes;
  constexpr std::size_t kBlock = 4;
  const std::size_t S = out.s();
  const std::size_t tail_from = cols.v_end * L;
  for (std::size_t b = 0; b < out.b(); ++b) {
    std::size_t v = cols.v_begin;
    for (; v + kBlock <= cols.v_end && (v + kBlock) * L <= S; v += kBlock) {
      layer_norm_block<kBlock, false>(src, out, b, v * L, gamma, beta, eps);
    }
    for (; v + 2 <= cols.v_end && (v + 2) * L <= S; v += 2) {
      layer_norm_block<2, false>(src, out, b, v * L, gamma, beta, eps);
    }
    for (; v < cols.v_end; ++v) {
      if ((v + 1) * L <= S) {
        layer_norm_block<1, false>(src, out, b, v * L, gamma, beta, eps);
      } else {
        layer_norm_block<1, true>(src, out, b, v * L, gamma, beta, eps);
      }
    }
    if (cols.to_end) {
      for (std::size_t c = 0; c < out.c(); ++c) {
        zero_lanes(out.row(b, c), tail_from, out.mapping().padded_s());
      }
    }
  }
}

}  // namespace detail

// out (B, C, 1, S) = layer_norm_C(in (B, C, 1, S)) * gamma (C) + beta (C)
// Columns [s_begin, s_end) only (column-range rules in kernels/residual.hpp). out may be in.
template <class In, class Out>
void layer_norm(const In& in, std::span<const float> gamma, std::span<const float> beta, float eps,
                Out&& out, std::size_t s_begin, std::size_t s_end) {
  BC1S_REQUIRE_BC1S_TENSOR("layer_norm", std::remove_cvref_t<In>, "in");
  BC1S_REQUIRE_BC1S_TENSOR("layer_norm", std::remove_cvref_t<Out>, "out");
  using VI = detail::view_t<const In>;
  using VO = detail::view_t<std::remove_reference_t<Out>>;
  BC1S_REQUIRE_MUTABLE("layer_norm", typename VO::element_type, "out");
  BC1S_REQUIRE_SAME_BS("layer_norm", typename VI::layout_type, typename VO::layout_type,
                       "in and out");
  BC1S_REQUIRE_SAME_C("layer_norm", typename VI::layout_type, typename VO::layout_type,
                      "in and out");
  const VI vi = as_view(in);
  const VO vo = as_view(out);
  detail::check_same_bs("layer_norm", vi, vo, "in and out");
  detail::check_same_c("layer_norm", vi, vo, "in and out");
  detail::check_norm_params("layer_norm", vo.c(), gamma, beta);
  const detail::column_span cols = detail::columns_of("layer_norm", vo.s(), s_begin, s_end);
  const auto src = [&vi](std::size_t b, std::size_t c, std::size_t s) {
    return simd::load(vi.row(b, c) + s);
  };
  detail::layer_norm_columns(src, vo, cols, gamma.data(), beta.data(), eps);
}

// out (B, C, 1, S) = layer_norm_C(in (B, C, 1, S)) * gamma (C) + beta (C), all columns.
template <class In, class Out>
void layer_norm(const In& in, std::span<const float> gamma, std::span<const float> beta, float eps,
                Out&& out) {
  layer_norm(in, gamma, beta, eps, std::forward<Out>(out), 0, as_view(in).s());
}

// The same, with the columns split over the pool's threads (ranges of 64 columns; nullptr or a
// short sequence: the calling thread only). Columns are independent, so the result is the same.
template <class In, class Out>
void layer_norm(const In& in, std::span<const float> gamma, std::span<const float> beta, float eps,
                Out&& out, runtime::thread_pool* pool) {
  const std::size_t S = as_view(in).s();
  constexpr std::size_t kGrain = 64;
  if (pool == nullptr || pool->size() == 1 || S < 2 * kGrain) {
    layer_norm(in, gamma, beta, eps, out, 0, S);
    return;
  }
  pool->parallel_ranges(S, kGrain, [&](std::size_t b, std::size_t e) {
    if (b < e) layer_norm(in, gamma, beta, eps, out, b, e);
  });
}

// out (B, C, 1, S) = layer_norm_C(x (B, C, 1, S) + residual (B, C, 1, S)) * gamma (C) + beta (C)
// The post-LN BERT pattern. The sum is formed in fp32 on every pass (never rounded to storage),
// so out may alias x or residual. Columns [s_begin, s_end) only.
template <class X, class R, class Out>
void add_layer_norm(const X& x, const R& residual, std::span<const float> gamma,
                    std::span<const float> beta, float eps, Out&& out, std::size_t s_begin,
                    std::size_t s_end) {
  BC1S_REQUIRE_BC1S_TENSOR("add_layer_norm", std::remove_cvref_t<X>, "x");
  BC1S_REQUIRE_BC1S_TENSOR("add_layer_norm", std::remove_cvref_t<R>, "residual");
  BC1S_REQUIRE_BC1S_TENSOR("add_layer_norm", std::remove_cvref_t<Out>, "out");
  using VX = detail::view_t<const X>;
  using VR = detail::view_t<const R>;
  using VO = detail::view_t<std::remove_reference_t<Out>>;
  using LX = typename VX::layout_type;
  using LR = typename VR::layout_type;
  using LO = typename VO::layout_type;
  BC1S_REQUIRE_MUTABLE("add_layer_norm", typename VO::element_type, "out");
  BC1S_REQUIRE_SAME_BS("add_layer_norm", LX, LR, "x and residual");
  BC1S_REQUIRE_SAME_BS("add_layer_norm", LX, LO, "x and out");
  BC1S_REQUIRE_SAME_C("add_layer_norm", LX, LR, "x and residual");
  BC1S_REQUIRE_SAME_C("add_layer_norm", LX, LO, "x and out");
  const VX vx = as_view(x);
  const VR vr = as_view(residual);
  const VO vo = as_view(out);
  detail::check_same_bs("add_layer_norm", vx, vr, "x and residual");
  detail::check_same_bs("add_layer_norm", vx, vo, "x and out");
  detail::check_same_c("add_layer_norm", vx, vr, "x and residual");
  detail::check_same_c("add_layer_norm", vx, vo, "x and out");
  detail::check_norm_params("add_layer_norm", vo.c(), gamma, beta);
  const detail::column_span cols = detail::columns_of("add_layer_norm", vo.s(), s_begin, s_end);
  const auto src = [&vx, &vr](std::size_t b, std::size_t c, std::size_t s) {
    return simd::load(vx.row(b, c) + s) + simd::load(vr.row(b, c) + s);
  };
  detail::layer_norm_columns(src, vo, cols, gamma.data(), beta.data(), eps);
}

// out (B, C, 1, S) = layer_norm_C(x (B, C, 1, S) + residual (B, C, 1, S)) * gamma (C) + beta (C),
// all columns; out may alias x or residual.
template <class X, class R, class Out>
void add_layer_norm(const X& x, const R& residual, std::span<const float> gamma,
                    std::span<const float> beta, float eps, Out&& out) {
  add_layer_norm(x, residual, gamma, beta, eps, std::forward<Out>(out), 0, as_view(x).s());
}

}  // namespace bc1s
