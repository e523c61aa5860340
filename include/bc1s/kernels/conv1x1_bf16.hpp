// conv1x1 for bf16 weights on the vector units: one bf16 dot product per pair of input channels.
//
//   out (B, Cout, 1, S) = W (Cout, Cin) * in (B, Cin, 1, S) + bias (Cout)
//
// bf16 weights are packed in pair panels (conv1x1_weights): panel p, pair row j holds input
// channels 2j and 2j + 1 of the panel's P output channels interleaved,
//   packed[(p * Cin2 + 2j) * P + 2r + i] = W[p * P + r][2j + i]   (Cin2: Cin rounded up to even)
// so that one 32-bit lane is one output channel's pair of weights. The activations are rounded to
// bf16 once per call and packed the same way: tile t (NR columns of one batch item), pair row j,
// column n is the 32-bit word (x[2j][s], x[2j + 1][s]). One AVX512-BF16 VDPBF16PS then adds
// w[2j] x[2j] + w[2j+1] x[2j+1] into 16 fp32 accumulators: two k steps per instruction where the
// FMA path takes one. Without AVX512-BF16 the same words are widened (a 16-bit shift, exact)
// and multiplied with two FMAs, so every ISA computes the same products.
//
// Error: the weight is used as stored; the activation is rounded to nearest bf16 (relative
// error <= 2^-9), and the bf16 products are exact in fp32, so each product is within
// 2^-9 |w x| of the product of the stored weight with the fp32 activation. Sums are fp32.
//
// Work is split as on the FMA path: column tiles in blocks, a task per (block, range of panels),
// each panel applied to the block kChunkPairs pair rows at a time (the chunk, 12 KiB, stays in
// L1 while the block's tiles stream from L2), partial sums waiting in a small buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#if defined(__AVX512BF16__) && defined(__AVX512BW__)
#include <immintrin.h>
#define BC1S_HAS_AVX512BF16 1
#else
#define BC1S_HAS_AVX512BF16 0
#endif

#include "bc1s/core/bf16.hpp"
#include "bc1s/kernels/parallel.hpp"
#include "bc1s/simd/arch.hpp"

namespace bc1s::detail::bf16dp {

// Pair rows per K chunk: 96 (192 input channels, 12 KiB of a 32-row panel).
inline constexpr std::size_t kChunkPairs = 96;
// Column tiles per block: their packed pairs (NR x Cin x 2 bytes each) stay in L2.
inline constexpr std::size_t kMaxBlockTiles = 32;

// The 32-bit word of two activations rounded to bf16: a (even channel) low, b high.
inline std::uint32_t pair_word(float a, float b) noexcept {
  return static_cast<std::uint32_t>(bf16(a).bits()) |
         (static_cast<std::uint32_t>(bf16(b).bits()) << 16);
}

// Tile of columns s0 .. s0 + cols (cols <= NR) of one batch item (src: row 0, column s0; rows ld
// apart) to dst[j * NR + n]: pair rows of all cin channels; columns past cols and channels past
// cin are zeros.
template <std::size_t NR, class AT>
inline void pack_tile(const AT* src, std::size_t ld, std::size_t cols, std::size_t cin,
                      std::uint32_t* dst) noexcept {
  const std::size_t pairs = (cin + 1) / 2;
#if BC1S_HAS_AVX512BF16
  if constexpr (std::is_same_v<AT, float> && NR <= 16) {
    const auto m = static_cast<__mmask16>((1u << cols) - 1u);
    const auto store = static_cast<__mmask16>((1u << NR) - 1u);
    for (std::size_t j = 0; j < pairs; ++j) {
      const std::size_t k = 2 * j;
      const __m512 a = _mm512_maskz_loadu_ps(m, src + k * ld);
      const __m512 b =
          k + 1 < cin ? _mm512_maskz_loadu_ps(m, src + (k + 1) * ld) : _mm512_setzero_ps();
      // Round to nearest even (VCVTNEPS2BF16), then a's words low, b's high.
      const __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a));
      const __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b));
      _mm512_mask_storeu_epi32(dst + j * NR, store, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
    return;
  }
#endif
  for (std::size_t j = 0; j < pairs; ++j) {
    const std::size_t k = 2 * j;
    for (std::size_t n = 0; n < NR; ++n) {
      const float a = n < cols ? to_float(src[k * ld + n]) : 0.0f;
      const float b = n < cols && k + 1 < cin ? to_float(src[(k + 1) * ld + n]) : 0.0f;
      dst[j * NR + n] = pair_word(a, b);
    }
  }
}

// One tile: tile[n][P] = init + sum over pair rows j < nj of W pairs (wp: pair row 0 of the
// chunk) . x pairs (xp: [j][NR]); init is the bias (part == nullptr) or the partial sums in part
// ([n][P], from the chunk before). tile may be part.
template <std::size_t P, std::size_t NR, bool Prefetch>
inline void dot_tile(const bf16* __restrict wp, const std::uint32_t* __restrict xp, std::size_t nj,
                     const float* bias, const float* part, float* tile) noexcept {
  using simd::fbatch;
  constexpr std::size_t L = simd::kFloatLanes, V = P / L;
  static_assert(P % L == 0);
  fbatch acc[V][NR];
  for (std::size_t n = 0; n < NR; ++n) {
    for (std::size_t v = 0; v < V; ++v) {
      acc[v][n] = part == nullptr ? fbatch::load_aligned(bias + v * L)
                                  : fbatch::load_aligned(part + n * P + v * L);
    }
  }
  const auto* w32 = reinterpret_cast<const std::uint32_t*>(wp);  // P words per pair row
  for (std::size_t j = 0; j < nj; ++j) {
    if constexpr (Prefetch) {
      // Few columns: the weights stream from memory; ask for them ahead of the prefetcher.
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
      for (std::size_t v = 0; v < V; ++v) acc[v][n] = fbatch(_mm512_dpbf16_ps(acc[v][n], w[v], x));
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
      const fbatch xe(detail::bf16_bits_to_float(static_cast<std::uint16_t>(xj[n] & 0xFFFFu)));
      const fbatch xo(detail::bf16_bits_to_float(static_cast<std::uint16_t>(xj[n] >> 16)));
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) {
        acc[v][n] = xsimd::fma(we[v], xe, acc[v][n]);
        acc[v][n] = xsimd::fma(wo[v], xo, acc[v][n]);
      }
    }
#endif
  }
  for (std::size_t n = 0; n < NR; ++n) {
    for (std::size_t v = 0; v < V; ++v) acc[v][n].store_aligned(tile + n * P + v * L);
  }
}

// The whole call: pack the activations (tasks over column tiles), then tasks of (block of
// column tiles, range of panels). finish(b, p, s0, cols, tile) is the caller's epilogue for one
// tile of panel p (tile: [column][P] floats, bias included).
template <std::size_t P, std::size_t NR, class AT, class W, class VX, class RunTasks, class Finish>
void conv1x1(const W& w, const VX& x, std::size_t threads, std::size_t tasks_per_thread,
             RunTasks&& run_tasks, Finish&& finish) {
  static_assert(W::kPanelRows == P, "bc1s::conv1x1 (bf16): panel rows differ from the kernel's");
  const std::size_t B = x.b(), S = x.s(), cin = w.cin(), panels = w.num_panels();
  const std::size_t ldi = x.mapping().padded_s();
  const std::size_t tiles_per_b = (S + NR - 1) / NR, total_tiles = B * tiles_per_b;
  const std::size_t pairs = (cin + 1) / 2, tile_u32 = pairs * NR;

  std::uint32_t* act =
      thread_buffer<struct bf16_activation_tag, std::uint32_t>(total_tiles * tile_u32);
  run_tasks(total_tiles, [&](std::size_t t) {
    const std::size_t b = t / tiles_per_b, s0 = t % tiles_per_b * NR;
    pack_tile<NR>(x.row(b, 0) + s0, ldi, std::min(NR, S - s0), cin, act + t * tile_u32);
  });

  const std::size_t nblocks = (total_tiles + kMaxBlockTiles - 1) / kMaxBlockTiles;
  const std::size_t nchunks = (pairs + kChunkPairs - 1) / kChunkPairs;
  std::size_t ranges = 1;
  if (threads > 1) {
    ranges = std::min(panels, (threads * tasks_per_thread + nblocks - 1) / nblocks);
    while (ranges < panels && (nblocks * ranges) % threads != 0) ++ranges;
  }
  // With fewer than 3 tiles in all, each weight is used at most twice a call: it streams from
  // memory, and the microkernel prefetches it.
  const bool streaming = total_tiles < 3;
  run_tasks(nblocks * ranges, [&](std::size_t task) {
    const std::size_t blk = task / ranges, r = task % ranges;
    const std::size_t p0 = panels * r / ranges, p1 = panels * (r + 1) / ranges;
    const std::size_t t0 = total_tiles * blk / nblocks, nt = total_tiles * (blk + 1) / nblocks - t0;
    alignas(64) float partial[kMaxBlockTiles * NR * P];
    alignas(64) float tile[NR * P];
    for (std::size_t p = p0; p < p1; ++p) {
      const bf16* panel = w.panel(p);
      const float* bias = w.panel_bias(p);
      for (std::size_t c = 0; c < nchunks; ++c) {
        const std::size_t j0 = c * kChunkPairs, nj = std::min(kChunkPairs, pairs - j0);
        const bool first = c == 0, last = c + 1 == nchunks;
        for (std::size_t i = 0; i < nt; ++i) {
          float* part = partial + i * NR * P;
          const std::uint32_t* xp = act + (t0 + i) * tile_u32 + j0 * NR;
          float* out = last ? tile : part;
          if (streaming) {
            dot_tile<P, NR, true>(panel + j0 * 2 * P, xp, nj, bias, first ? nullptr : part, out);
          } else {
            dot_tile<P, NR, false>(panel + j0 * 2 * P, xp, nj, bias, first ? nullptr : part, out);
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

}  // namespace bc1s::detail::bf16dp
