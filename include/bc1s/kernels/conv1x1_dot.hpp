// conv1x1 on the vector units' dot-product instructions, for bf16 and int8 weights.
//
//   out (B, Cout, 1, S) = W (Cout, Cin) * in (B, Cin, 1, S) + bias (Cout)
//
// Such weights are packed in grouped panels (conv1x1_weights): G = weight_storage<WT>::lane_k
// input channels of one output channel share a 32-bit lane,
//   packed[p * Cin_G * P + (k / G) * G * P + G * r + k % G] = W[p * P + r][k]  (Cin_G: Cin rounded
//   up to a multiple of G)
// and the activations are packed once per call the same way: tile t (NR columns of one batch
// item), group row j, column n is one 32-bit word of x[G j .. G j + G - 1][s]. A dot-product
// instruction then adds the G products of a lane into its accumulator:
// - bf16 (G = 2): AVX512-BF16 VDPBF16PS, fp32 accumulators; activations rounded to bf16 (relative
//   error <= 2^-9); the bf16 products are exact in fp32, so each product is within 2^-9 |w x| of
//   the product of the stored weight with the fp32 activation.
// - int8 (G = 4): AVX512-VNNI VPDPBUSD, int32 accumulators. Weights: q in [-127, 127] with a
//   scale per output channel (qint8). Activations: quantised per position s, scale_s =
//   max_k |x[k][s]| / 127, q rounded to nearest and stored as q + 128 (VPDPBUSD takes unsigned
//   bytes); the 128 * sum_k W[m][k] this adds is taken off once per output in int32, exactly. The
//   int32 sums are exact (|sum| <= Cin * 255 * 127 < 2^31 for Cin < 66000); the error is the
//   activation rounding alone, |x - x'| <= scale_s / 2, so each output is within
//   sum_k |W'[m][k]| * max_k |x[k][s]| / 254 of the product of the stored weights W'.
// Without those instructions the same words are unpacked and multiplied in plain C++: every ISA
// gives the same products (bit-identical int8 sums; bf16 within fp32 rounding).
//
// Work is split as on the FMA path: column tiles in blocks, a task per (block, range of panels),
// each panel applied to the block kChunkGroups group rows at a time (the chunk, 12 KiB of bf16 or
// int8, stays in L1 while the block's tiles stream from L2), the partial sums waiting in a small
// buffer between chunks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if (defined(__AVX512BF16__) || defined(__AVX512VNNI__)) && defined(__AVX512BW__)
#include <immintrin.h>
#endif
#if defined(__AVX512BF16__) && defined(__AVX512BW__)
#define BC1S_HAS_AVX512BF16 1
#else
#define BC1S_HAS_AVX512BF16 0
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define BC1S_HAS_AVX512VNNI 1
#else
#define BC1S_HAS_AVX512VNNI 0
#endif

#include "bc1s/core/bf16.hpp"
#include "bc1s/core/qint8.hpp"
#include "bc1s/kernels/parallel.hpp"
#include "bc1s/simd/arch.hpp"

namespace bc1s::detail::dot {

// Column tiles per block: their packed words (NR x Cin x 2 or 1 bytes each) stay in L2.
inline constexpr std::size_t kMaxBlockTiles = 32;

// bf16 weights: pairs of channels, fp32 accumulators.
struct bf16_dot {
  using weight_type = bf16;
  using acc_type = float;
  static constexpr std::size_t kLaneK = 2;
  static constexpr std::size_t kChunkGroups = 96;  // 192 channels: 12 KiB of a 32-row panel

  static std::uint32_t word(float a, float b) noexcept {
    return static_cast<std::uint32_t>(bf16(a).bits()) |
           (static_cast<std::uint32_t>(bf16(b).bits()) << 16);
  }

  // Tile of columns s0 .. s0 + cols (cols <= NR) of one batch item (src: row 0, column s0; rows
  // ld apart) to dst[j * NR + n]; columns past cols and channels past cin are zeros.
  template <std::size_t NR, class AT>
  static void pack(const AT* src, std::size_t ld, std::size_t cols, std::size_t cin,
                   std::uint32_t* dst, float* /*scales*/) noexcept {
    const std::size_t groups = (cin + 1) / 2;
#if BC1S_HAS_AVX512BF16
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
#endif
    for (std::size_t j = 0; j < groups; ++j) {
      const std::size_t k = 2 * j;
      for (std::size_t n = 0; n < NR; ++n) {
        const float a = n < cols ? to_float(src[k * ld + n]) : 0.0f;
        const float b = n < cols && k + 1 < cin ? to_float(src[(k + 1) * ld + n]) : 0.0f;
        dst[j * NR + n] = word(a, b);
      }
    }
  }

  // acc[n][P] = (part ? part : bias) + sum over group rows j < nj of the lanes' dot products.
  template <std::size_t P, std::size_t NR, bool Prefetch>
  static void tile(const bf16* __restrict wp, const std::uint32_t* __restrict xp, std::size_t nj,
                   const float* bias, const float* part, float* out) noexcept {
    using simd::fbatch;
    constexpr std::size_t L = simd::kFloatLanes, V = P / L;
    static_assert(P % L == 0);
    fbatch acc[V][NR];
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) {
        acc[v][n] = part == nullptr ? fbatch::load_aligned(bias + v * L)
                                    : fbatch::load_aligned(part + n * P + v * L);
      }
    }
    const auto* w32 = reinterpret_cast<const std::uint32_t*>(wp);  // P words per group row
    for (std::size_t j = 0; j < nj; ++j) {
      if constexpr (Prefetch) {
        for (std::size_t o = 0; o < P * 4; o += 64) {
          __builtin_prefetch(reinterpret_cast<const char*>(w32 + j * P) + 2048 + o);
        }
      }
      const std::uint32_t* xj = xp + j * NR;
#if BC1S_HAS_AVX512BF16
      static_assert(L == 16);
      __m512bh w[V];
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) w[v] = (__m512bh)_mm512_loadu_si512(w32 + j * P + v * L);
#pragma GCC unroll 16
      for (std::size_t n = 0; n < NR; ++n) {
        const __m512bh x = (__m512bh)_mm512_set1_epi32(static_cast<int>(xj[n]));
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) {
          acc[v][n] = fbatch(_mm512_dpbf16_ps(acc[v][n], w[v], x));
        }
      }
#else
      using ubatch = xsimd::batch<std::uint32_t>;
      const ubatch high(0xFFFF0000u);
      fbatch we[V], wo[V];
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) {
        const ubatch u = ubatch::load_unaligned(w32 + j * P + v * L);
        we[v] = xsimd::bitwise_cast<fbatch>(u << 16);
        wo[v] = xsimd::bitwise_cast<fbatch>(u & high);
      }
#pragma GCC unroll 16
      for (std::size_t n = 0; n < NR; ++n) {
        const fbatch xe(bf16_bits_to_float(static_cast<std::uint16_t>(xj[n] & 0xFFFFu)));
        const fbatch xo(bf16_bits_to_float(static_cast<std::uint16_t>(xj[n] >> 16)));
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) {
          acc[v][n] = xsimd::fma(we[v], xe, acc[v][n]);
          acc[v][n] = xsimd::fma(wo[v], xo, acc[v][n]);
        }
      }
#endif
    }
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[v][n].store_aligned(out + n * P + v * L);
    }
  }
};

// int8 weights: quads of channels, int32 sums per group of kGroupK input channels, scaled into
// fp32 sums at the end of each group.
struct int8_dot {
  using weight_type = qint8;
  using acc_type = float;
  static constexpr std::size_t kLaneK = 4;
  // Input channels per activation scale: each position's activations are quantised in groups of
  // 64 channels, so an outlier channel coarsens the steps of its own group only.
  static constexpr std::size_t kGroupK = 128;
  static constexpr std::size_t kGroupQuads = kGroupK / kLaneK;
  static constexpr std::size_t kChunkGroups = 96;  // 384 channels: 12 KiB of a 32-row panel
  static_assert(kChunkGroups % kGroupQuads == 0);

  // As bf16_dot::pack, quantised per (group of kGroupK channels a, column n):
  // scales[a * NR + n] = max over the group of |x[k][s0 + n]| / 127 (0 when all are zero), word
  // bytes q + 128 with q = round(x / scale) in [-127, 127].
  template <std::size_t NR, class AT>
  static void pack(const AT* src, std::size_t ld, std::size_t cols, std::size_t cin,
                   std::uint32_t* dst, float* scales) noexcept {
    const std::size_t quads = (cin + 3) / 4, groups = (cin + kGroupK - 1) / kGroupK;
#if BC1S_HAS_AVX512VNNI
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
#endif
    for (std::size_t n = 0; n < NR; ++n) {
      for (std::size_t a = 0; a < groups; ++a) {
        const std::size_t k0 = a * kGroupK, k1 = std::min(cin, k0 + kGroupK);
        float amax = 0;
        for (std::size_t k = k0; k < k1 && n < cols; ++k) {
          amax = std::max(amax, std::abs(to_float(src[k * ld + n])));
        }
        scales[a * NR + n] = amax * (1.0f / 127.0f);
        const float inv = amax > 0 ? 127.0f / amax : 0.0f;
        for (std::size_t j = k0 / 4; j < std::min(quads, (k0 + kGroupK) / 4); ++j) {
          std::uint32_t word = 0;
          for (std::size_t i = 0; i < 4; ++i) {
            const std::size_t k = 4 * j + i;
            const float x = n < cols && k < cin ? to_float(src[k * ld + n]) : 0.0f;
            const long q = std::clamp(std::lrint(x * inv), -127L, 127L);
            word |= static_cast<std::uint32_t>(q + 128) << (8 * i);
          }
          dst[j * NR + n] = word;
        }
      }
    }
  }

#if BC1S_HAS_AVX512VNNI
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
#endif

  // sums[n][P] (+)= for each activation group of the chunk (nj quad rows from its start):
  // (sum of the lanes' byte dot products - offsets[a][m]) * scales[a][n], in fp32; first: sums
  // start at 0. The weights' per-channel scales and the bias come later (finalize).
  template <std::size_t P, std::size_t NR, bool Prefetch>
  static void tile(const qint8* __restrict wp, const std::uint32_t* __restrict xp, std::size_t nj,
                   const float* scales, const std::int32_t* offsets, bool first,
                   float* sums) noexcept {
    const auto* w32 = reinterpret_cast<const std::uint32_t*>(wp);  // P words per quad row
    if (first) std::fill(sums, sums + NR * P, 0.0f);
    for (std::size_t j0 = 0, a = 0; j0 < nj; j0 += kGroupQuads, ++a) {
      const std::size_t j1 = std::min(nj, j0 + kGroupQuads);
      const float* sx = scales + a * NR;
      const std::int32_t* off = offsets + a * P;
#if BC1S_HAS_AVX512VNNI
      alignas(64) std::int32_t dots[NR * P];
      group_dots<P, NR, Prefetch>(w32, xp, j0, j1, dots);
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
#else
      (void)Prefetch;
      for (std::size_t n = 0; n < NR; ++n) {
        for (std::size_t r = 0; r < P; ++r) {
          std::int32_t s = 0;
          for (std::size_t j = j0; j < j1; ++j) {
            const std::uint32_t xw = xp[j * NR + n], ww = w32[j * P + r];
            for (std::size_t i = 0; i < 4; ++i) {
              const auto xb = static_cast<std::int32_t>((xw >> (8 * i)) & 0xFFu);
              const auto wb =
                  static_cast<std::int32_t>(static_cast<std::int8_t>((ww >> (8 * i)) & 0xFFu));
              s += xb * wb;
            }
          }
          sums[n * P + r] += static_cast<float>(s - off[r]) * sx[n];
        }
      }
#endif
    }
  }
};

template <class WT>
struct dot_for;
template <>
struct dot_for<bf16> {
  using type = bf16_dot;
};
template <>
struct dot_for<qint8> {
  using type = int8_dot;
};

// The whole call: pack the activations (tasks over column tiles), then tasks of (block of
// column tiles, range of panels). finish(b, p, s0, cols, tile) is the caller's epilogue for one
// tile of panel p (tile: [column][P] floats, bias included).
template <std::size_t P, std::size_t NR, class AT, class W, class VX, class RunTasks, class Finish>
void conv1x1(const W& w, const VX& x, std::size_t threads, std::size_t tasks_per_thread,
             RunTasks&& run_tasks, Finish&& finish) {
  using Dot = typename dot_for<typename W::storage_type>::type;
  constexpr bool kQuantized = std::is_same_v<Dot, int8_dot>;
  constexpr std::size_t G = Dot::kLaneK;
  static_assert(W::kPanelRows == P, "bc1s::conv1x1 (dot): panel rows differ from the kernel's");
  const std::size_t B = x.b(), S = x.s(), cin = w.cin(), panels = w.num_panels();
  const std::size_t ldi = x.mapping().padded_s();
  const std::size_t tiles_per_b = (S + NR - 1) / NR, total_tiles = B * tiles_per_b;
  const std::size_t lanes = (cin + G - 1) / G, tile_u32 = lanes * NR;
  // int8: the activation scales of each tile, [group of kGroupK channels][NR].
  std::size_t tile_scales = 0;
  if constexpr (kQuantized) tile_scales = (cin + Dot::kGroupK - 1) / Dot::kGroupK * NR;

  std::uint32_t* act =
      thread_buffer<struct dot_activation_tag, std::uint32_t>(total_tiles * tile_u32);
  float* scales =
      kQuantized ? thread_buffer<struct dot_scale_tag, float>(total_tiles * tile_scales) : nullptr;
  run_tasks(total_tiles, [&](std::size_t t) {
    const std::size_t b = t / tiles_per_b, s0 = t % tiles_per_b * NR;
    Dot::template pack<NR>(x.row(b, 0) + s0, ldi, std::min(NR, S - s0), cin, act + t * tile_u32,
                           kQuantized ? scales + t * tile_scales : nullptr);
  });

  const std::size_t nblocks = (total_tiles + kMaxBlockTiles - 1) / kMaxBlockTiles;
  const std::size_t nchunks = (lanes + Dot::kChunkGroups - 1) / Dot::kChunkGroups;
  const panel_split split(panels, nblocks, threads, tasks_per_thread);
  // With fewer than 3 tiles in all each weight is used at most twice a call: it streams from
  // memory, and the microkernel prefetches it.
  const bool streaming = total_tiles < 3;
  run_tasks(split.tasks(), [&](std::size_t task) {
    const auto [blk, p0, p1] = split(task);
    const std::size_t t0 = total_tiles * blk / nblocks, nt = total_tiles * (blk + 1) / nblocks - t0;
    alignas(64) float partial[kMaxBlockTiles * NR * P];
    alignas(64) float tile[NR * P];
    for (std::size_t p = p0; p < p1; ++p) {
      const auto* panel = w.panel(p);
      const float* bias = w.panel_bias(p);
      for (std::size_t c = 0; c < nchunks; ++c) {
        const std::size_t j0 = c * Dot::kChunkGroups, nj = std::min(Dot::kChunkGroups, lanes - j0);
        const bool first = c == 0, last = c + 1 == nchunks;
        for (std::size_t i = 0; i < nt; ++i) {
          float* part = partial + i * NR * P;
          const std::uint32_t* xp = act + (t0 + i) * tile_u32 + j0 * NR;
          const auto* wc = panel + j0 * G * P;
          if constexpr (kQuantized) {
            // This chunk's activation groups: scales and the weights' offsets.
            const std::size_t a0 = j0 / Dot::kGroupQuads;
            const float* sx = scales + (t0 + i) * tile_scales + a0 * NR;
            const std::int32_t* off = w.panel_offsets(p) + a0 * P;
            if (streaming) {
              Dot::template tile<P, NR, true>(wc, xp, nj, sx, off, first, part);
            } else {
              Dot::template tile<P, NR, false>(wc, xp, nj, sx, off, first, part);
            }
            if (last) {
              // The weights' per-channel scales, then the bias.
              const float* sw = w.panel_scales(p);
              for (std::size_t n = 0; n < NR; ++n) {
                for (std::size_t m = 0; m < P; ++m) {
                  tile[n * P + m] = part[n * P + m] * sw[m] + bias[m];
                }
              }
            }
          } else {
            // fp32 sums with the bias: on the last chunk, the epilogue's tile as they are.
            float* out = last ? tile : part;
            const float* init = first ? nullptr : part;
            if (streaming) {
              Dot::template tile<P, NR, true>(wc, xp, nj, bias, init, out);
            } else {
              Dot::template tile<P, NR, false>(wc, xp, nj, bias, init, out);
            }
          }
          if (last) {
            const std::size_t t = t0 + i, b = t / tiles_per_b, s0 = t % tiles_per_b * NR;
            finish(b, p, s0, std::min(NR, S - s0), tile);
          }
        }
      }
    }
  });
}

}  // namespace bc1s::detail::dot
