// Portable fp16 <-> fp32 conversion and register budgets: the scalar routines of core/half.hpp
// (round to nearest even, NaN kept quiet), which every hardware conversion matches bit for bit.
#pragma once

#include <cstddef>

#include "bc1s/core/half.hpp"
#include "bc1s/arch/batch.hpp"

namespace bc1s::arch::portable {

using arch::fbatch;
using arch::kFloatLanes;

// 8 halves -> 8 floats.
inline void half_to_float8(const half* src, float* dst) noexcept {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<float>(src[i]);
}
// 8 floats -> 8 halves, round to nearest even.
inline void float_to_half8(const float* src, half* dst) noexcept {
  for (int i = 0; i < 8; ++i) dst[i] = half(src[i]);
}

// kFloatLanes halves as a float batch (unaligned allowed), and back.
inline fbatch load(const half* p) noexcept {
  alignas(64) float tmp[kFloatLanes];
  for (std::size_t i = 0; i < kFloatLanes; ++i) tmp[i] = static_cast<float>(p[i]);
  return fbatch::load_aligned(tmp);
}
inline void store(half* p, fbatch v) noexcept {
  alignas(64) float tmp[kFloatLanes];
  v.store_aligned(tmp);
  for (std::size_t i = 0; i < kFloatLanes; ++i) p[i] = half(tmp[i]);
}

// conv1x1's FMA microkernel: output channels per panel and sequence columns per tile (accumulators
// kPanelRows / lanes * kTileCols vectors, plus the weight vectors and a broadcast, in 16
// registers).
inline constexpr std::size_t kPanelRows = 8;
inline constexpr std::size_t kTileCols = 6;
// Attention's score and context tiles: accumulator registers.
inline constexpr std::size_t kAttnAccRegs = 12;

}  // namespace bc1s::arch::portable
