// fp16 <-> fp32 batch conversion. F16C (vcvtph2ps / vcvtps2ph) or AVX-512F on x86; otherwise the
// scalar routine of core/half.hpp, which gives identical bits (round to nearest even, NaN quiet).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__F16C__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "bc1s/core/half.hpp"
#include "bc1s/simd/arch.hpp"

namespace bc1s::simd {

// 8 halves -> 8 floats.
inline void half_to_float8(const half* src, float* dst) noexcept {
#if defined(__F16C__)
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
  _mm256_storeu_ps(dst, _mm256_cvtph_ps(h));
#else
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<float>(src[i]);
#endif
}

// 8 floats -> 8 halves, round to nearest even.
inline void float_to_half8(const float* src, half* dst) noexcept {
#if defined(__F16C__)
  const __m128i h =
      _mm256_cvtps_ph(_mm256_loadu_ps(src), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), h);
#else
  for (int i = 0; i < 8; ++i) dst[i] = half(src[i]);
#endif
}

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

// Load kFloatLanes elements of storage type T as a float batch (unaligned allowed).
inline fbatch load(const float* p) noexcept {
  return fbatch::load_unaligned(p);
}

#if defined(__AVX512F__)
static_assert(kFloatLanes == 16);
inline fbatch load(const half* p) noexcept {
  // maskz form: GCC 12 warns (-Wmaybe-uninitialized) on the _mm512_undefined_ps() inside
  // _mm512_cvtph_ps; the zero-masked form with a full mask is the same instruction.
  return fbatch(_mm512_maskz_cvtph_ps(__mmask16(0xFFFF),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}
inline void store(half* p, fbatch v) noexcept {
  _mm256_storeu_si256(
      reinterpret_cast<__m256i*>(p),
      _mm512_maskz_cvtps_ph(__mmask16(0xFFFF), v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#elif defined(__F16C__) && defined(__AVX__)
static_assert(kFloatLanes == 8);
inline fbatch load(const half* p) noexcept {
  return fbatch(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline void store(half* p, fbatch v) noexcept {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#else
// Portable: the scalar conversion of core/half.hpp, bit-identical to F16C.
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
#endif

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
