// Register-resident loops of the AVX-512 dot-product instructions, for runtime/peak.hpp: 12
// independent accumulator chains, enough to cover their latency on two ports.
#pragma once

#include <cstddef>

#if defined(__AVX512F__) && (defined(__AVX512BF16__) || defined(__AVX512VNNI__))
#include <immintrin.h>
#endif

namespace bc1s::arch::avx512 {

#if defined(__AVX512F__) && defined(__AVX512BF16__)
// VDPBF16PS: 16 lanes x 2 products, 64 FLOP per instruction.
inline constexpr double kBf16DotFlop = 12.0 * 16 * 4;
inline double bf16_dot_loop(std::size_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3F803F80),
                 b = (__m512bh)_mm512_set1_epi32(0x33D633D6);
  for (std::size_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  return static_cast<double>(_mm512_reduce_add_ps(s));
}
#endif

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
// VPDPBUSD: 16 lanes x 4 byte products, 128 OP per instruction.
inline constexpr double kInt8DotOps = 12.0 * 16 * 8;
inline double int8_dot_loop(std::size_t iters) {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x01FF01FF);
  for (std::size_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  }
  __m512i s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_epi32(s, acc[i]);
  return static_cast<double>(_mm512_reduce_add_epi32(s));
}
#endif

}  // namespace bc1s::arch::avx512
