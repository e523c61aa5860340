// fp16 <-> fp32 conversion for the kernels: eight at a time, n at a time, and a full float batch
// from either storage type. The target's instructions (F16C, AVX-512F, NEON) where the build has
// them (bc1s/arch/), otherwise the scalar routine of core/half.hpp; every path gives the same bits
// (round to nearest even, NaN kept quiet).
#pragma once

#include <cstddef>

#include "bc1s/core/half.hpp"
#include "bc1s/simd/arch.hpp"

namespace bc1s::simd {

// 8 halves -> 8 floats; 8 floats -> 8 halves, round to nearest even.
using arch::float_to_half8;
using arch::half_to_float8;

// n elements, any n (vectorised body, scalar tail with identical rounding).
inline void half_to_float(const half* src, float* dst, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) half_to_float8(src + i, dst + i);
  for (; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}
inline void float_to_half(const float* src, half* dst, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) float_to_half8(src + i, dst + i);
  for (; i < n; ++i) dst[i] = half(src[i]);
}

// ---- full-width batch load/store from either storage type ---------------------------------

// kFloatLanes elements of storage type T as a float batch (unaligned allowed), and back.
inline fbatch load(const float* p) noexcept {
  return fbatch::load_unaligned(p);
}
using arch::load;
using arch::store;
inline void store(float* p, fbatch v) noexcept {
  v.store_unaligned(p);
}

// n stored weights widened to floats (dst: 64-byte aligned when n >= kFloatLanes).
inline void widen(const half* src, float* dst, std::size_t n) noexcept {
  half_to_float(src, dst, n);
}

// Broadcast one stored element as a float batch.
inline fbatch broadcast(float x) noexcept {
  return fbatch(x);
}
inline fbatch broadcast(half x) noexcept {
  return fbatch(static_cast<float>(x));
}

}  // namespace bc1s::simd
