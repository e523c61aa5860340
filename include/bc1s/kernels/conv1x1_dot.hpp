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
// gives the same products (bit-identical int8 sums; bf16 within fp32 rounding). The microkernels
// (pack and tile of each) are in bc1s/arch/: portable/dot.hpp, avx512/dot.hpp.
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
#include <utility>

#include "bc1s/core/bf16.hpp"
#include "bc1s/core/qint8.hpp"
#include "bc1s/kernels/parallel.hpp"
#include "bc1s/arch/arch.hpp"
#include "bc1s/simd/arch.hpp"

namespace bc1s::detail::dot {

// Column tiles per block: their packed words (NR x Cin x 2 or 1 bytes each) stay in L2.
inline constexpr std::size_t kMaxBlockTiles = 32;

// A batch item's last tile may hold fewer than NR columns; it is packed and multiplied at the
// narrowest of these widths that holds them (multiples of 4 below NR, then NR), so at most 3
// padded columns are multiplied where NR - 1 would be: S = 16 takes 12 + 4 columns of products,
// not 24. Every column is computed alone, so the width changes no result.
inline constexpr std::size_t kWidthStep = 4;

// f.template operator()<W>() with W the narrowest width of those that holds cols columns.
template <std::size_t NR, std::size_t W = kWidthStep, class F>
decltype(auto) with_tile_width(std::size_t cols, F&& f) {
  if constexpr (W >= NR) {
    return f.template operator()<NR>();
  } else {
    if (cols <= W) return f.template operator()<W>();
    return with_tile_width<NR, W + kWidthStep>(cols, std::forward<F>(f));
  }
}

template <class WT>
struct dot_for;
template <>
struct dot_for<bf16> {
  using type = arch::bf16_dot;
};
template <>
struct dot_for<qint8> {
  using type = arch::int8_dot;
};

// The whole call: pack the activations (tasks over column tiles), then tasks of (block of
// column tiles, range of panels). finish(b, p, s0, cols, tile) is the caller's epilogue for one
// tile of panel p (tile: [column][P] floats, bias included).
template <std::size_t P, std::size_t NR, class AT, class W, class VX, class RunTasks, class Finish>
void conv1x1(const W& w, const VX& x, std::size_t threads, std::size_t tasks_per_thread,
             RunTasks&& run_tasks, Finish&& finish) {
  using Dot = typename dot_for<typename W::storage_type>::type;
  constexpr bool kQuantized = std::is_same_v<typename Dot::weight_type, qint8>;
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
  // Tile t: its columns at its width TW (words j * TW + n in its slot of tile_u32 words).
  run_tasks(total_tiles, [&](std::size_t t) {
    const std::size_t b = t / tiles_per_b, s0 = t % tiles_per_b * NR, cols = std::min(NR, S - s0);
    with_tile_width<NR>(cols, [&]<std::size_t TW>() {
      Dot::template pack<TW>(x.row(b, 0) + s0, ldi, cols, cin, act + t * tile_u32,
                             kQuantized ? scales + t * tile_scales : nullptr);
    });
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
          const std::size_t t = t0 + i, b = t / tiles_per_b, s0 = t % tiles_per_b * NR;
          const std::size_t cols = std::min(NR, S - s0);
          float* part = partial + i * NR * P;
          const auto* wc = panel + j0 * G * P;
          with_tile_width<NR>(cols, [&]<std::size_t TW>() {
            const std::uint32_t* xp = act + t * tile_u32 + j0 * TW;
            if constexpr (kQuantized) {
              // This chunk's activation groups: scales and the weights' offsets.
              const std::size_t a0 = j0 / Dot::kGroupQuads;
              const float* sx = scales + t * tile_scales + a0 * TW;
              const std::int32_t* off = w.panel_offsets(p) + a0 * P;
              if (streaming) {
                Dot::template tile<P, TW, true>(wc, xp, nj, sx, off, first, part);
              } else {
                Dot::template tile<P, TW, false>(wc, xp, nj, sx, off, first, part);
              }
              if (last) {
                // The weights' per-channel scales, then the bias.
                const float* sw = w.panel_scales(p);
                for (std::size_t n = 0; n < TW; ++n) {
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
                Dot::template tile<P, TW, true>(wc, xp, nj, bias, init, out);
              } else {
                Dot::template tile<P, TW, false>(wc, xp, nj, bias, init, out);
              }
            }
          });
          if (last) finish(b, p, s0, cols, tile);
        }
      }
    }
  });
}

}  // namespace bc1s::detail::dot
