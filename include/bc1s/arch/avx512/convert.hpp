// AVX-512F: fp16 <-> fp32 sixteen lanes at a time, and the register budget of 32 zmm registers.
#pragma once

#include "bc1s/arch/avx2/convert.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace bc1s::arch::avx512 {

#if defined(__F16C__)
using avx2::float_to_half8;
using avx2::half_to_float8;
#else
using portable::float_to_half8;
using portable::half_to_float8;
#endif

static_assert(arch::kFloatLanes == 16);
inline arch::fbatch load(const half* p) noexcept {
  // maskz form: GCC 12 warns (-Wmaybe-uninitialized) on the _mm512_undefined_ps() inside
  // _mm512_cvtph_ps; the zero-masked form with a full mask is the same instruction.
  return arch::fbatch(_mm512_maskz_cvtph_ps(
      __mmask16(0xFFFF), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}
inline void store(half* p, arch::fbatch v) noexcept {
  _mm256_storeu_si256(
      reinterpret_cast<__m256i*>(p),
      _mm512_maskz_cvtps_ph(__mmask16(0xFFFF), v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// 32 zmm: 24 accumulators (32 rows = 2 vectors x 12 columns) + 2 weight vectors + a broadcast.
inline constexpr std::size_t kPanelRows = 32;
inline constexpr std::size_t kTileCols = 12;
inline constexpr std::size_t kAttnAccRegs = 24;

}  // namespace bc1s::arch::avx512

#endif
