// Arm64 NEON: fp16 <-> fp32 four lanes at a time (FCVTL / FCVTN, round to nearest even under the
// default FPCR, NaN kept quiet: the bits of core/half.hpp), and the register budget of 32 q
// registers.
#pragma once

#include "bc1s/arch/portable/convert.hpp"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

namespace bc1s::arch::neon {

inline void half_to_float8(const half* src, float* dst) noexcept {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(src)));
  vst1q_f32(dst, vcvt_f32_f16(vget_low_f16(h)));
  vst1q_f32(dst + 4, vcvt_high_f32_f16(h));
}
inline void float_to_half8(const float* src, half* dst) noexcept {
  const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(src)), vld1q_f32(src + 4));
  vst1q_u16(reinterpret_cast<uint16_t*>(dst), vreinterpretq_u16_f16(h));
}

static_assert(arch::kFloatLanes == 4);
inline arch::fbatch load(const half* p) noexcept {
  return arch::fbatch(
      vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p)))));
}
inline void store(half* p, arch::fbatch v) noexcept {
  vst1_u16(reinterpret_cast<uint16_t*>(p), vreinterpret_u16_f16(vcvt_f16_f32(v)));
}

// 32 q registers: 24 accumulators (16 rows = 4 vectors x 6 columns) + 4 weight vectors + a
// broadcast.
inline constexpr std::size_t kPanelRows = 16;
inline constexpr std::size_t kTileCols = 6;
inline constexpr std::size_t kAttnAccRegs = 24;

}  // namespace bc1s::arch::neon

#endif
