// AVX + F16C: fp16 <-> fp32 eight lanes at a time (vcvtph2ps / vcvtps2ph, round to nearest even),
// and the register budget of 16 ymm registers.
#pragma once

#include "bc1s/arch/portable/convert.hpp"

#if defined(__AVX__) && defined(__F16C__)
#include <immintrin.h>

namespace bc1s::arch::avx2 {

inline void half_to_float8(const half* src, float* dst) noexcept {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
  _mm256_storeu_ps(dst, _mm256_cvtph_ps(h));
}
inline void float_to_half8(const float* src, half* dst) noexcept {
  const __m128i h =
      _mm256_cvtps_ph(_mm256_loadu_ps(src), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), h);
}

#if !defined(__AVX512F__)  // with AVX-512 the batches are 16 wide: avx512/convert.hpp
static_assert(arch::kFloatLanes == 8);
inline arch::fbatch load(const half* p) noexcept {
  return arch::fbatch(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline void store(half* p, arch::fbatch v) noexcept {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// 16 ymm: 12 accumulators (16 rows = 2 vectors x 6 columns) + 2 weight vectors + a broadcast.
inline constexpr std::size_t kPanelRows = 16;
inline constexpr std::size_t kTileCols = 6;
inline constexpr std::size_t kAttnAccRegs = 12;
#endif

}  // namespace bc1s::arch::avx2

#endif
