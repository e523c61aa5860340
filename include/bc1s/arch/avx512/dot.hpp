// AVX-512 dot-product microkernels: VDPBF16PS (AVX512-BF16) for bf16 weights, VPDPBUSD
// (AVX512-VNNI) for int8 weights; the packing of fp32 activations sixteen columns at a time. The
// layouts, bounds and the portable steps they replace are in arch/portable/dot.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "bc1s/arch/portable/dot.hpp"

#if defined(__AVX512BW__) && (defined(__AVX512BF16__) || defined(__AVX512VNNI__))
#include <immintrin.h>
#endif

namespace bc1s::arch::avx512 {

#if defined(__AVX512BW__) && defined(__AVX512BF16__)
struct bf16_dot : portable::bf16_dot_base<bf16_dot> {
  template <std::size_t NR, class AT>
  static void pack(const AT* src, std::size_t ld, std::size_t cols, std::size_t cin,
                   std::uint32_t* dst, float* scales) noexcept {
    const std::size_t groups = (cin + 1) / 2;
    if constexpr (std::is_same_v<AT, float> && NR <= 16) {
      const auto m = static_cast<__mmask16>((1u << cols) - 1u);
      const auto store = static_cast<__mmask16>((1u << NR) - 1u);
      for (std::size_t j = 0; j < groups; ++j) {
        const std::size_t k = 2 * j;
        const __m512 a = _mm512_maskz_loadu_ps(m, src + k * ld);
        const __m512 b =
            k + 1 < cin ? _mm512_maskz_loadu_ps(m, src + (k + 1) * ld) : _mm512_setzero_ps();
        // Round to nearest even (VCVTNEPS2BF16), then a's words low, b's high.
        const __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a));
        const __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b));
        _mm512_mask_storeu_epi32(dst + j * NR, store,
                                 _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
      }
      return;
    }
    portable::bf16_dot_base<bf16_dot>::pack<NR>(src, ld, cols, cin, dst, scales);
  }

  template <std::size_t V, std::size_t NR>
  static void row(arch::fbatch (&acc)[V][NR], const std::uint32_t* __restrict wj,
                  const std::uint32_t* __restrict xj) noexcept {
    using arch::fbatch;
    constexpr std::size_t L = arch::kFloatLanes;
    static_assert(L == 16);
    __m512bh w[V];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) w[v] = (__m512bh)_mm512_loadu_si512(wj + v * L);
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32(static_cast<int>(xj[n]));
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) {
        acc[v][n] = fbatch(_mm512_dpbf16_ps(acc[v][n], w[v], x));
      }
    }
  }
};
#endif

#if defined(__AVX512BW__) && defined(__AVX512VNNI__)
struct int8_dot : portable::int8_dot_base<int8_dot> {
  template <std::size_t NR, class AT>
  static void pack(const AT* src, std::size_t ld, std::size_t cols, std::size_t cin,
                   std::uint32_t* dst, float* scales) noexcept {
    const std::size_t quads = (cin + 3) / 4, groups = (cin + kGroupK - 1) / kGroupK;
    if constexpr (std::is_same_v<AT, float> && NR <= 16) {
      const auto m = static_cast<__mmask16>((1u << cols) - 1u);
      const auto store = static_cast<__mmask16>((1u << NR) - 1u);
      const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
      const __m512i off = _mm512_set1_epi32(128);
      for (std::size_t a = 0; a < groups; ++a) {
        const std::size_t k0 = a * kGroupK, k1 = std::min(cin, k0 + kGroupK);
        __m512 amax = _mm512_setzero_ps();
        for (std::size_t k = k0; k < k1; ++k) {
          amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, src + k * ld)));
        }
        const __mmask16 nz = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ);
        const __m512 inv = _mm512_maskz_div_ps(nz, _mm512_set1_ps(127.0f), amax);
        _mm512_mask_storeu_ps(scales + a * NR, store,
                              _mm512_mul_ps(amax, _mm512_set1_ps(1.0f / 127.0f)));
        for (std::size_t j = k0 / 4; j < std::min(quads, (k0 + kGroupK) / 4); ++j) {
          __m512i word = _mm512_setzero_si512();
          for (std::size_t i = 0; i < 4; ++i) {
            const std::size_t k = 4 * j + i;
            const __m512 x = k < cin ? _mm512_maskz_loadu_ps(m, src + k * ld) : _mm512_setzero_ps();
            // Nearest even (the default rounding mode), clamped, offset to unsigned.
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(x, inv));
            q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), off);
            word = _mm512_or_si512(word, _mm512_slli_epi32(q, static_cast<unsigned>(8 * i)));
          }
          _mm512_mask_storeu_epi32(dst + j * NR, store, word);
        }
      }
      return;
    }
    portable::int8_dot_base<int8_dot>::pack<NR>(src, ld, cols, cin, dst, scales);
  }

  // dots[n][P] = the int32 dot products of quad rows j0 .. j1. A function of its own, not
  // inlined, that leaves the scaling into fp32 sums to its caller: inlined into the task loop, or
  // with the scaling inside, GCC 12 kept some of the 24 accumulators on the stack (2-2.5x slower
  // at S = 128).
  template <std::size_t P, std::size_t NR, bool Prefetch>
  [[gnu::noinline]] static void group_dots(const std::uint32_t* __restrict w32,
                                           const std::uint32_t* __restrict xp, std::size_t j0,
                                           std::size_t j1, std::int32_t* dots) noexcept {
    constexpr std::size_t V = P / 16;
    static_assert(P % 16 == 0);
    __m512i acc[V][NR];
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[v][n] = _mm512_setzero_si512();
    }
    for (std::size_t j = j0; j < j1; ++j) {
      if constexpr (Prefetch) {
        for (std::size_t o = 0; o < P * 4; o += 64) {
          __builtin_prefetch(reinterpret_cast<const char*>(w32 + j * P) + 2048 + o);
        }
      }
      const std::uint32_t* xj = xp + j * NR;
      __m512i w[V];
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) w[v] = _mm512_loadu_si512(w32 + j * P + v * 16);
#pragma GCC unroll 16
      for (std::size_t n = 0; n < NR; ++n) {
        const __m512i x = _mm512_set1_epi32(static_cast<int>(xj[n]));
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) acc[v][n] = _mm512_dpbusd_epi32(acc[v][n], x, w[v]);
      }
    }
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) _mm512_store_si512(dots + n * P + v * 16, acc[v][n]);
    }
  }

  // sums[n][P] += (dots[n][P] - off[P]) * sx[n], sixteen rows at a time.
  template <std::size_t P, std::size_t NR>
  static void scale_group(const std::int32_t* dots, const std::int32_t* off, const float* sx,
                          float* sums) noexcept {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < P / 16; ++v) {
      const __m512i o = _mm512_load_si512(off + v * 16);
#pragma GCC unroll 16
      for (std::size_t n = 0; n < NR; ++n) {
        const __m512 d =
            _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(dots + n * P + v * 16), o));
        float* sp = sums + n * P + v * 16;
        _mm512_store_ps(sp, _mm512_fmadd_ps(d, _mm512_set1_ps(sx[n]), _mm512_load_ps(sp)));
      }
    }
  }
};
#endif

}  // namespace bc1s::arch::avx512
