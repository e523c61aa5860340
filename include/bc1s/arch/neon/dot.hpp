// Arm64 dot-product microkernels, where the target has them: BFDOT (ARMv8.6 BF16, two bf16
// products per fp32 lane, as VDPBF16PS) for bf16 weights, USDOT (ARMv8.6 I8MM, four unsigned x
// signed byte products per int32 lane, as VPDPBUSD) for int8 weights. The layouts, bounds and
// the portable steps they replace are in arch/portable/dot.hpp; the int32 sums are the same bits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "bc1s/arch/portable/dot.hpp"

#if defined(__aarch64__) && defined(__ARM_NEON) && \
    (defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC) || defined(__ARM_FEATURE_MATMUL_INT8))
#include <arm_neon.h>
#endif

namespace bc1s::arch::neon {

#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
struct bf16_dot : portable::bf16_dot_base<bf16_dot> {
  // acc[v][n] += BFDOT of weight words wj[v * 4 ..] with the activation word xj[n] in every lane.
  template <std::size_t V, std::size_t NR>
  static void row(arch::fbatch (&acc)[V][NR], const std::uint32_t* __restrict wj,
                  const std::uint32_t* __restrict xj) noexcept {
    static_assert(arch::kFloatLanes == 4);
    bfloat16x8_t w[V];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) w[v] = vreinterpretq_bf16_u32(vld1q_u32(wj + v * 4));
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
      const bfloat16x8_t x = vreinterpretq_bf16_u32(vdupq_n_u32(xj[n]));
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[v][n] = arch::fbatch(vbfdotq_f32(acc[v][n], w[v], x));
    }
  }
};
#endif

#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_MATMUL_INT8)
struct int8_dot : portable::int8_dot_base<int8_dot> {
  // dots[n][P] = the int32 dot products of quad rows j0 .. j1 (USDOT: activation bytes unsigned,
  // weight bytes signed).
  template <std::size_t P, std::size_t NR, bool Prefetch>
  static void group_dots(const std::uint32_t* __restrict w32, const std::uint32_t* __restrict xp,
                         std::size_t j0, std::size_t j1, std::int32_t* dots) noexcept {
    constexpr std::size_t V = P / 4;
    static_assert(P % 4 == 0);
    int32x4_t acc[V][NR];
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 8
      for (std::size_t v = 0; v < V; ++v) acc[v][n] = vdupq_n_s32(0);
    }
    for (std::size_t j = j0; j < j1; ++j) {
      const std::uint32_t* xj = xp + j * NR;
      int8x16_t w[V];
#pragma GCC unroll 8
      for (std::size_t v = 0; v < V; ++v)
        w[v] = vreinterpretq_s8_u32(vld1q_u32(w32 + j * P + v * 4));
#pragma GCC unroll 16
      for (std::size_t n = 0; n < NR; ++n) {
        const uint8x16_t x = vreinterpretq_u8_u32(vdupq_n_u32(xj[n]));
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) acc[v][n] = vusdotq_s32(acc[v][n], x, w[v]);
      }
    }
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 8
      for (std::size_t v = 0; v < V; ++v) vst1q_s32(dots + n * P + v * 4, acc[v][n]);
    }
  }
};
#endif

}  // namespace bc1s::arch::neon
