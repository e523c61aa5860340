// conv1x1 on AMX tiles, for fp16 weights and many columns (B x S >= kMinCols).
//
// AMX multiplies bf16 tiles into fp32 accumulators (TDPBF16PS: 16 x 16 outputs, 32 products
// each, per instruction). bf16 keeps 8 significant bits, so each operand is split in two:
// - an fp16 weight w (11 significant bits) is exactly whi + wlo, both bf16 (whi: w truncated to
//   8 bits, wlo: the 3 bits left);
// - an fp32 activation x is xhi + xlo + e, both bf16 rounded to nearest: |xlo| <= 2^-8 |x|,
//   |e| <= 2^-16 |x|;
// and w * x is taken as whi*xhi + wlo*xhi + whi*xlo: three tile products instead of one. What is
// dropped, wlo*xlo and w*e, is within 3 * 2^-16 of |w x|, a fifth of the fp16 rounding of the
// weights themselves (2^-12). The products accumulate in fp32, as on the FMA path. Three products
// at 512 per cycle still outrun AVX-512's 32 FMAs per cycle: on one core at S = 128 this path is
// 1.6x (Cin = 3072) to 2.4x (Cin = 768) the FMA path (bench/RESULTS.md, BC1S_AMX=0 against 1).
//
// Roles: the activations are the A operand (a tile row is one sequence position, 32 input
// channels), so they are packed and transposed once per call; the weights are the B operand,
// whose VNNI layout (row j: the pairs (k = 2j, 2j + 1) of 16 output channels) is two rows of a
// k-major weight panel interleaved, so the fp16 panels need no other layout and are widened and
// split a chunk of input channels at a time, into L1. The accumulator tiles are (positions x
// output channels): the tile layout the FMA path's epilogue (`finish`) already takes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "bc1s/core/bf16.hpp"
#include "bc1s/core/half.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/kernels/parallel.hpp"
#include "bc1s/arch/amx/tiles.hpp"

// Inputs with fewer columns (B x S) than this take the FMA paths: below it, splitting the
// weights (about 0.2 cycles per weight per call, and with one position tile as much work as the
// tile products) costs more than the tiles win. Whole distilbert forward, 2 threads, medians,
// FMA / AMX (fused_pass): S = 8 2.85 / 3.6 ms, 12 4.05 / 3.47, 16 5.2-6.1 / 3.6, 24 7.4-8.0 /
// 5.2-5.5, 32 10.1-10.8 / 5.7-6.0.
// -DBC1S_AMX_MIN_COLS=N overrides it, for measuring.
#ifndef BC1S_AMX_MIN_COLS
#define BC1S_AMX_MIN_COLS 12
#endif

namespace bc1s::detail::amx {

inline constexpr std::size_t kRows = 16;   // sequence positions per A tile
inline constexpr std::size_t kK = 32;      // input channels per k block (one tile's depth)
inline constexpr std::size_t kGroup = 16;  // output channels per B tile
// Inputs with fewer columns take the FMA paths (BC1S_AMX_MIN_COLS, above).
inline constexpr std::size_t kMinCols = BC1S_AMX_MIN_COLS;
// k blocks per weight chunk (BC1S_AMX_CHUNK_BLOCKS overrides it): 4 (128 input channels) widen
// and split into 16 KiB, so the chunk being multiplied and the next one being split (32 KiB) stay
// in a 48 KiB L1 with the position tiles streaming past. With 8 (64 KiB for the two) the chunk
// fell out of L1 between pairs of position tiles: whole distilbert forward, 2 threads, alternated
// 3x, 8 -> 4: S = 64 11.7-12.5 -> 10.8-11.5 ms, S = 128 19.9-21.7 -> 18.4-19.8, S = 256
// 36.2-38.6 -> 34.6-37.1; 1 thread S = 128 33.6-35.9 -> 31.7-35.3.
#ifndef BC1S_AMX_CHUNK_BLOCKS
#define BC1S_AMX_CHUNK_BLOCKS 4
#endif
inline constexpr std::size_t kChunkBlocks = BC1S_AMX_CHUNK_BLOCKS;
// Position tiles per task block: their partial sums (16 x 32 floats each) wait in 32 KiB per
// panel.
inline constexpr std::size_t kMaxBlockTiles = 16;
// Panels whose chunks interleave (see conv1x1): their partial sums take 128 KiB (L2); for task
// blocks whose packed activations are over kGroupMinBytes (BC1S_AMX_GROUP_MIN_BYTES).
inline constexpr std::size_t kPanelGroup = 4;
#ifndef BC1S_AMX_GROUP_MIN_BYTES
#define BC1S_AMX_GROUP_MIN_BYTES (std::size_t{1} << 20)
#endif
inline constexpr std::size_t kGroupMinBytes = BC1S_AMX_GROUP_MIN_BYTES;
// Software prefetch distance in the weight panels, bytes (BC1S_AMX_PREFETCH overrides it).
#ifndef BC1S_AMX_PREFETCH
#define BC1S_AMX_PREFETCH 4096
#endif
inline constexpr std::size_t kPrefetch = BC1S_AMX_PREFETCH;
// uint16 per B tile (16 rows of 32 bf16).
inline constexpr std::size_t kTile = kK / 2 * kGroup * 2;
// uint16 per packed (position tile, k block): the hi tile, then the lo tile.
inline constexpr std::size_t kActBlock = 2 * kRows * kK;
// uint16 per k block of a converted weight chunk: hi of groups 0 and 1, then lo of both.
inline constexpr std::size_t kWeightBlock = 4 * kTile;

// The tile products (defined below where the build has AMX).
struct split3;
struct bf16x1;

#if BC1S_HAS_AMX

// Words of bf16 pairs: low half a's top 16 bits (even k), high half b's (odd k).
inline __m512i pair_words(__m512 a, __m512 b) noexcept {
  const __m512i hi = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  return _mm512_ternarylogic_epi32(_mm512_castps_si512(b), hi,
                                   _mm512_srli_epi32(_mm512_castps_si512(a), 16), 0xEA);
}
// v minus v truncated to bf16: exact in fp32 (for fp16 weights: exact in bf16 too).
inline __m512 remainder(__m512 v) noexcept {
  const __m512i hi = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  return _mm512_sub_ps(v, _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), hi)));
}
// v rounded to bf16, to nearest even (as an fp32 whose low 16 bits are zero).
inline __m512 round_bf16(__m512 v) noexcept {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
  return _mm512_castsi512_ps(_mm512_and_si512(r, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

template <class AT>
inline __m512 load16(const AT* p, __mmask16 m) noexcept {
  if constexpr (std::is_same_v<AT, float>) {
    return _mm512_maskz_loadu_ps(m, p);
  } else {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
}

// 16 x 16 transpose of 32-bit words: r[i] lane j becomes r[j] lane i. 64 shuffles (unpack 32-bit
// pairs, then 64-bit pairs, then 128-bit lanes twice) instead of 256 scalar moves.
inline void transpose16(__m512i r[16]) noexcept {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  // u[4q + m], 128-bit lane L: rows 4q .. 4q + 3 of column 4L + m.
  __m512i u[16];
  for (int q = 0; q < 16; q += 4) {
    u[q] = _mm512_unpacklo_epi64(t[q], t[q + 2]);
    u[q + 1] = _mm512_unpackhi_epi64(t[q], t[q + 2]);
    u[q + 2] = _mm512_unpacklo_epi64(t[q + 1], t[q + 3]);
    u[q + 3] = _mm512_unpackhi_epi64(t[q + 1], t[q + 3]);
  }
  // Row 4L + m gathers lane L of u[m], u[4 + m], u[8 + m], u[12 + m].
  for (int m = 0; m < 4; ++m) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x44);
    const __m512i v1 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xEE);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x44);
    const __m512i v3 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xEE);
    r[m] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[4 + m] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    r[8 + m] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + m] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
}

// 16 rows of 16 words, src rows src_ld words apart, transposed to dst rows dst_ld words apart.
inline void transpose16(const std::uint32_t* src, std::size_t src_ld, std::uint32_t* dst,
                        std::size_t dst_ld) noexcept {
  __m512i r[16];
  for (std::size_t i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512(src + i * src_ld);
  transpose16(r);
  for (std::size_t i = 0; i < 16; ++i) _mm512_storeu_si512(dst + i * dst_ld, r[i]);
}

// One position tile: columns s0 .. s0 + cols of one batch item (src: row 0, column s0; rows ld
// elements apart), all k blocks, to dst (kActBlock per k block). Rows past cols and channels past
// cin are zeros.
template <std::size_t Planes, class AT>
inline void pack_activations(const AT* src, std::size_t ld, std::size_t cols, std::size_t cin,
                             std::size_t kblocks, std::uint16_t* dst) noexcept {
  static_assert(Planes == 1 || Planes == 2);
  constexpr std::size_t kBlock = Planes * kRows * kK;
  const auto m = static_cast<__mmask16>(cols >= 16 ? 0xFFFFu : (1u << cols) - 1u);
  alignas(64) std::uint32_t hw[kK / 2][kRows];
  alignas(64) std::uint32_t lw[kK / 2][kRows];
  for (std::size_t kb = 0; kb < kblocks; ++kb) {
    for (std::size_t j = 0; j < kK / 2; ++j) {
      const std::size_t k = kb * kK + 2 * j;
      const __m512 a = k < cin ? load16(src + k * ld, m) : _mm512_setzero_ps();
      const __m512 b = k + 1 < cin ? load16(src + (k + 1) * ld, m) : _mm512_setzero_ps();
      // Rounded, not truncated: xlo is then within 2^-8 |x| and x - xhi - xlo within 2^-16 |x|.
      const __m512 ha = round_bf16(a), hb = round_bf16(b);
      _mm512_store_si512(hw[j], pair_words(ha, hb));
      if constexpr (Planes == 2) {
        _mm512_store_si512(
            lw[j], pair_words(round_bf16(_mm512_sub_ps(a, ha)), round_bf16(_mm512_sub_ps(b, hb))));
      }
    }
    // Transpose to rows of positions (A tiles are row-major: position, then channel pairs).
    auto* hi = reinterpret_cast<std::uint32_t*>(dst + kb * kBlock);
    transpose16(&hw[0][0], kRows, hi, kK / 2);
    if constexpr (Planes == 2) transpose16(&lw[0][0], kRows, hi + kRows * kK / 2, kK / 2);
  }
}

// An accumulator tile pair ([16 positions][32 output channels], rows 32 floats apart) to rows of
// output channels: rows[c * 16 + s], the layout of the (C, S) output rows.
inline void tile_to_rows(const float* part, float* rows) noexcept {
  const auto* src = reinterpret_cast<const std::uint32_t*>(part);
  auto* dst = reinterpret_cast<std::uint32_t*>(rows);
  transpose16(src, 2 * kGroup, dst, kRows);
  transpose16(src + kGroup, 2 * kGroup, dst + kGroup * kRows, kRows);
}

// k blocks kb0 .. kb0 + nkb of a 32-row fp16 weight panel (k-major: row k is 32 halves) to dst in
// VNNI B-tile form, kWeightBlock per k block: whi of output channels 0-15, whi of 16-31, wlo of
// 0-15, wlo of 16-31. Channels past cin are zeros.
inline void split_weights(const half* panel, std::size_t cin, std::size_t kb0, std::size_t nkb,
                          std::uint16_t* dst) noexcept {
  for (std::size_t kb = 0; kb < nkb; ++kb) {
    for (std::size_t j = 0; j < kK / 2; ++j) {
      const std::size_t k = (kb0 + kb) * kK + 2 * j;
      // Weights usually come from DRAM (85 MB for distilbert, read once per pass): fetch ahead
      // of the hardware prefetcher, which does not cross 4 KiB pages.
      _mm_prefetch(reinterpret_cast<const char*>(panel + k * 2 * kGroup) + kPrefetch, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(panel + k * 2 * kGroup) + kPrefetch + 64,
                   _MM_HINT_T0);
      const __m512i ra =
          k < cin ? _mm512_loadu_si512(panel + k * 2 * kGroup) : _mm512_setzero_si512();
      const __m512i rb =
          k + 1 < cin ? _mm512_loadu_si512(panel + (k + 1) * 2 * kGroup) : _mm512_setzero_si512();
      const __m512 a0 = _mm512_cvtph_ps(_mm512_castsi512_si256(ra));
      const __m512 a1 = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(ra, 1));
      const __m512 b0 = _mm512_cvtph_ps(_mm512_castsi512_si256(rb));
      const __m512 b1 = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(rb, 1));
      std::uint16_t* t = dst + kb * kWeightBlock + j * 2 * kGroup;
      _mm512_store_si512(t, pair_words(a0, b0));
      _mm512_store_si512(t + kTile, pair_words(a1, b1));
      _mm512_store_si512(t + 2 * kTile, pair_words(remainder(a0), remainder(b0)));
      _mm512_store_si512(t + 3 * kTile, pair_words(remainder(a1), remainder(b1)));
    }
  }
}

// k blocks kb0 .. kb0 + nkb of a 32-row bf16 pair panel (row j: input channels 2j and 2j + 1 of
// the 32 output channels interleaved, 64 bf16; see conv1x1_weights) to dst, 2 * kTile per k
// block. A pair row is a row of both B tiles at once (channels 0-15 in its first 64 bytes, 16-31
// in the next), so the tiles load from the copy with a 128-byte stride and no rearranging: the
// copy only brings the block into L1 ahead of the products. Rows past the panel's cin are zeros.
inline void copy_pairs(const bf16* panel, std::size_t cin, std::size_t kb0, std::size_t nkb,
                       std::uint16_t* dst) noexcept {
  const std::size_t pairs = (cin + 1) / 2;
  for (std::size_t kb = 0; kb < nkb; ++kb) {
    for (std::size_t j = 0; j < kK / 2; ++j) {
      const std::size_t row = (kb0 + kb) * (kK / 2) + j;
      const auto* src = reinterpret_cast<const char*>(panel + row * 4 * kGroup);
      _mm_prefetch(src + kPrefetch, _MM_HINT_T0);
      _mm_prefetch(src + kPrefetch + 64, _MM_HINT_T0);
      std::uint16_t* t = dst + kb * 2 * kTile + j * 4 * kGroup;
      if (row < pairs) {
        _mm512_store_si512(t, _mm512_loadu_si512(src));
        _mm512_store_si512(t + 2 * kGroup, _mm512_loadu_si512(src + 64));
      } else {
        _mm512_store_si512(t, _mm512_setzero_si512());
        _mm512_store_si512(t + 2 * kGroup, _mm512_setzero_si512());
      }
    }
  }
}

// How a weight storage type multiplies on the tiles (chosen by its storage_traits):
// - split3: fp16 weights, fp32-accurate: weights split exactly into whi + wlo, activations into
//   rounded xhi + xlo, three products per block (xhi whi, xlo whi, xhi wlo; see the top).
// - bf16x1: bf16 weights as stored (pair panels: already in B-tile form), activations rounded
//   to bf16 (relative error <= 2^-9), one product per block: each product within 2^-9 |w x| of
//   the exact product of the stored weight.
struct split3 {
  using weight_type = half;
  static constexpr std::size_t kActPlanes = 2;
  static constexpr std::size_t kWeightBlock = 4 * kTile;  // whi g0, whi g1, wlo g0, wlo g1
  static constexpr int kBStride = 64;                     // bytes between B-tile rows
  static constexpr std::size_t kG1 = kTile;               // uint16 to group 1's tile
  static void prepare(const half* panel, std::size_t cin, std::size_t kb0, std::size_t nkb,
                      std::uint16_t* dst) noexcept {
    split_weights(panel, cin, kb0, nkb, dst);
  }
};
struct bf16x1 {
  using weight_type = bf16;
  static constexpr std::size_t kActPlanes = 1;
  static constexpr std::size_t kWeightBlock = 2 * kTile;  // 16 pair rows of g0 | g1
  static constexpr int kBStride = 128;
  static constexpr std::size_t kG1 = 2 * kGroup;
  static void prepare(const bf16* panel, std::size_t cin, std::size_t kb0, std::size_t nkb,
                      std::uint16_t* dst) noexcept {
    copy_pairs(panel, cin, kb0, nkb, dst);
  }
};
// uint16 per packed (position tile, k block) for product Prod.
template <class Prod>
inline constexpr std::size_t kActBlockOf = Prod::kActPlanes* kRows* kK;

// The products of one k block (w: its converted weights) into accumulator tiles 0, 1 (and
// 2, 3 for a second position tile): for split3 xhi * whi, xlo * whi, xhi * wlo; for bf16x1 the
// one product x * w.
template <bool Two, class Prod>
inline void block_products(const std::uint16_t* x0, const std::uint16_t* x1,
                           const std::uint16_t* w) noexcept {
  if constexpr (Prod::kActPlanes == 1) {
    _tile_loadd(4, x0, 64);
    if constexpr (Two) _tile_loadd(5, x1, 64);
    _tile_loadd(6, w, Prod::kBStride);
    _tile_loadd(7, w + Prod::kG1, Prod::kBStride);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    if constexpr (Two) {
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    return;
  }
  // xhi * whi
  _tile_loadd(4, x0, 64);
  if constexpr (Two) _tile_loadd(5, x1, 64);
  _tile_loadd(6, w, 64);
  _tile_loadd(7, w + kTile, 64);
  _tile_dpbf16ps(0, 4, 6);
  _tile_dpbf16ps(1, 4, 7);
  if constexpr (Two) {
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  // xlo * whi
  _tile_loadd(4, x0 + kActBlock / 2, 64);
  if constexpr (Two) _tile_loadd(5, x1 + kActBlock / 2, 64);
  _tile_dpbf16ps(0, 4, 6);
  _tile_dpbf16ps(1, 4, 7);
  if constexpr (Two) {
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  // xhi * wlo
  _tile_loadd(4, x0, 64);
  if constexpr (Two) _tile_loadd(5, x1, 64);
  _tile_loadd(6, w + 2 * kTile, 64);
  _tile_loadd(7, w + 3 * kTile, 64);
  _tile_dpbf16ps(0, 4, 6);
  _tile_dpbf16ps(1, 4, 7);
  if constexpr (Two) {
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
}

// One or two position tiles (a0, a1: their packed k blocks) times one converted weight chunk
// (nkb k blocks) into accumulators laid out [position][32 output channels]: initial values from
// init0 / init1 (rows 128 bytes apart), results to out0 / out1 (the same layout; may equal init).
// after_block(kb) runs after each block's products (the caller's vector work, overlapping the
// tile unit's).
template <bool Two, class Prod, class Hook>
inline void tile_pass(const std::uint16_t* a0, const std::uint16_t* a1, const std::uint16_t* wc,
                      std::size_t nkb, const float* init0, const float* init1, float* out0,
                      float* out1, Hook&& after_block) noexcept {
  constexpr int kStride = 2 * kGroup * sizeof(float);
  _tile_loadd(0, init0, kStride);
  _tile_loadd(1, init0 + kGroup, kStride);
  if constexpr (Two) {
    _tile_loadd(2, init1, kStride);
    _tile_loadd(3, init1 + kGroup, kStride);
  }
  for (std::size_t kb = 0; kb < nkb; ++kb) {
    const std::uint16_t* w = wc + kb * Prod::kWeightBlock;
    const std::uint16_t* x0 = a0 + kb * kActBlockOf<Prod>;
    const std::uint16_t* x1 = a1 + kb * kActBlockOf<Prod>;
    block_products<Two, Prod>(x0, x1, w);
    after_block(kb);
  }
  _tile_stored(0, out0, kStride);
  _tile_stored(1, out0 + kGroup, kStride);
  if constexpr (Two) {
    _tile_stored(2, out1, kStride);
    _tile_stored(3, out1 + kGroup, kStride);
  }
}

// One or two position tiles times a whole weight panel, splitting the weights one k block at a
// time into a small ring, interleaved with the tile products: the vector units split block kb + 1
// while the tile unit multiplies block kb, so a pass costs about the larger of the two instead
// of their sum. For few columns (the weights used by at most two position tiles per call) this
// is what makes AMX pay: the split is then as much work as the products. With one position
// tile, the two correction products go to accumulators of their own (tiles 2, 3), so no
// accumulator waits on a chain of three products per block; they are added at the end.
// Results to out0 / out1 ([position][32 output channels]), bias rows from bias.
template <bool Two, class Prod>
inline void fused_pass(const std::uint16_t* a0, const std::uint16_t* a1,
                       const typename Prod::weight_type* panel, std::size_t cin,
                       std::size_t kblocks, const float* bias, float* out0, float* out1) noexcept {
  constexpr int kStride = 2 * kGroup * sizeof(float);
  constexpr std::size_t kRing = 4;
  constexpr std::size_t kAct = kActBlockOf<Prod>;
  alignas(64) std::uint16_t ring[kRing][Prod::kWeightBlock];
  _tile_loadd(0, bias, kStride);
  _tile_loadd(1, bias + kGroup, kStride);
  if constexpr (Two) {
    _tile_loadd(2, bias, kStride);
    _tile_loadd(3, bias + kGroup, kStride);
  } else {
    _tile_zero(2);
    _tile_zero(3);
  }
  Prod::prepare(panel, cin, 0, 1, ring[0]);
  for (std::size_t kb = 0; kb < kblocks; ++kb) {
    const std::uint16_t* w = ring[kb % kRing];
    const std::uint16_t* x0 = a0 + kb * kAct;
    if constexpr (Two) {
      block_products<true, Prod>(x0, a1 + kb * kAct, w);
    } else if constexpr (Prod::kActPlanes == 1) {
      // Even blocks into tiles 0, 1, odd ones into 2, 3: no accumulator waits on the one before.
      _tile_loadd(4, x0, 64);
      _tile_loadd(6, w, Prod::kBStride);
      _tile_loadd(7, w + Prod::kG1, Prod::kBStride);
      if (kb % 2 == 0) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
      } else {
        _tile_dpbf16ps(2, 4, 6);
        _tile_dpbf16ps(3, 4, 7);
      }
    } else {
      _tile_loadd(4, x0, 64);
      _tile_loadd(5, x0 + kAct / 2, 64);
      _tile_loadd(6, w, 64);
      _tile_loadd(7, w + kTile, 64);
      _tile_dpbf16ps(0, 4, 6);  // xhi * whi
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);  // xlo * whi
      _tile_dpbf16ps(3, 5, 7);
      _tile_loadd(6, w + 2 * kTile, 64);
      _tile_loadd(7, w + 3 * kTile, 64);
      _tile_dpbf16ps(2, 4, 6);  // xhi * wlo
      _tile_dpbf16ps(3, 4, 7);
    }
    if (kb + 1 < kblocks) Prod::prepare(panel, cin, kb + 1, 1, ring[(kb + 1) % kRing]);
  }
  _tile_stored(0, out0, kStride);
  _tile_stored(1, out0 + kGroup, kStride);
  if constexpr (Two) {
    _tile_stored(2, out1, kStride);
    _tile_stored(3, out1 + kGroup, kStride);
  } else {
    alignas(64) float corr[kRows * 2 * kGroup];
    _tile_stored(2, corr, kStride);
    _tile_stored(3, corr + kGroup, kStride);
    for (std::size_t i = 0; i < kRows * 2 * kGroup; i += 16) {
      _mm512_store_ps(out0 + i, _mm512_add_ps(_mm512_load_ps(out0 + i), _mm512_load_ps(corr + i)));
    }
  }
}

// The packed activations of the calling thread's current call, shared read-only with the pool's
// threads during the call.
inline std::uint16_t* activation_buffer(std::size_t n) {
  return thread_buffer<struct activation_tag>(n);
}

// Floats of one thread's partial sums: kPanelGroup panels of kMaxBlockTiles accumulator tile
// pairs (128 KiB).
inline constexpr std::size_t kPartialFloats = kPanelGroup * kMaxBlockTiles * kRows * 2 * kGroup;

// Zeros the four accumulator tiles.
inline void zero_accumulators() noexcept {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

// The whole call: pack the activations (tasks over position tiles), then run tasks of (block of
// position tiles, range of panels). finish(b, p, s0, cols, rows) is the caller's epilogue for
// one position tile of panel p (rows: [output channel][16 positions] floats, bias included).
template <class AT, class Prod, class W, class VX, class RunTasks, class Finish>
void conv1x1(const W& w, const VX& x, std::size_t threads, std::size_t tasks_per_thread,
             RunTasks&& run_tasks, Finish&& finish) {
  constexpr std::size_t kAct = kActBlockOf<Prod>, kWBlock = Prod::kWeightBlock;
  static_assert(W::kPanelRows == 2 * kGroup, "the AMX path takes panels of 32 output channels");
  const std::size_t B = x.b(), S = x.s(), cin = w.cin(), panels = w.num_panels();
  const std::size_t ldi = x.mapping().padded_s();
  const std::size_t tiles_per_b = (S + kRows - 1) / kRows, total_tiles = B * tiles_per_b;
  const std::size_t kblocks = (cin + kK - 1) / kK, tile_u16 = kblocks * kAct;

  std::uint16_t* act = activation_buffer(total_tiles * tile_u16);
  run_tasks(total_tiles, [&](std::size_t t) {
    const std::size_t b = t / tiles_per_b, s0 = t % tiles_per_b * kRows;
    pack_activations<Prod::kActPlanes>(x.row(b, 0) + s0, ldi, std::min(kRows, S - s0), cin, kblocks,
                                       act + t * tile_u16);
  });

  const std::size_t nblocks = (total_tiles + kMaxBlockTiles - 1) / kMaxBlockTiles;
  const panel_split split(panels, nblocks, threads, tasks_per_thread);
  float* partials = per_thread_scratch<struct partial_tag, float>(threads, kPartialFloats);
  run_tasks(split.tasks(), [&](std::size_t task, std::size_t tid) {
    float* part = partials + tid * kPartialFloats;
    const auto [blk, p0, p1] = split(task);
    const std::size_t t0 = total_tiles * blk / nblocks, nt = total_tiles * (blk + 1) / nblocks - t0;
    arch::amx_scope scope;
    constexpr std::size_t kTileFloats = kRows * 2 * kGroup;
    alignas(64) float bias[kPanelGroup][kTileFloats];
    alignas(64) float rows[kTileFloats];
    auto finish_tile = [&](std::size_t t, std::size_t p, const float* tile) {
      const std::size_t b = t / tiles_per_b, s0 = t % tiles_per_b * kRows;
      tile_to_rows(tile, rows);
      finish(b, p, s0, std::min(kRows, S - s0), rows);
    };
    auto fill_bias = [&](std::size_t p, float* dst) {
      for (std::size_t s = 0; s < kRows; ++s) {
        std::copy_n(w.panel_bias(p), 2 * kGroup, dst + s * 2 * kGroup);
      }
    };
    if (nt <= 2) {
      const std::uint16_t* a0 = act + t0 * tile_u16;
      for (std::size_t p = p0; p < p1; ++p) {
        fill_bias(p, bias[0]);
        if (nt == 2) {
          fused_pass<true, Prod>(a0, a0 + tile_u16, w.panel(p), cin, kblocks, bias[0], part,
                                 part + kTileFloats);
        } else {
          fused_pass<false, Prod>(a0, nullptr, w.panel(p), cin, kblocks, bias[0], part, nullptr);
        }
        for (std::size_t i = 0; i < nt; ++i) finish_tile(t0 + i, p, part + i * kTileFloats);
      }
      return;
    }
    // Chunks of kChunkBlocks k blocks. Where the block's packed activations outgrow half of L2
    // (kGroupMinBytes), panels go in groups of kPanelGroup: chunk c of every panel of the group,
    // then chunk c + 1, so the activations of one chunk are read once per group instead of once
    // per panel, from L2 instead of L3 (Cin = 3072: 192 KiB per position tile). The group's
    // partial sums wait in part. Each output still sums its chunks in order. Measured
    // with chunks of 8 k blocks (conv1x1_bench, 768 x 3072, 1 / 2 threads): S = 256 4451 / 2403
    // -> 3285 / 1791 us; B = 8, S = 128 20368 / 9996 -> 15864 / 8110; B = 1, S = 128 (1.5 MiB)
    // unchanged; and smaller blocks a few percent slower grouped (partial sums past L1), so they
    // stay one panel at a time.
    const std::size_t nchunks = (kblocks + kChunkBlocks - 1) / kChunkBlocks;
    const std::size_t items = (p1 - p0) * nchunks;
    const std::size_t group =
        nt * tile_u16 * sizeof(std::uint16_t) > kGroupMinBytes ? kPanelGroup : 1;
    struct chunk_ref {
      std::size_t p, j, kb0, nkb;  // panel, its index in the group, first k block, k blocks
    };
    auto item = [&](std::size_t i) {
      const std::size_t per_group = group * nchunks;
      const std::size_t g0 = p0 + i / per_group * group, in_group = i % per_group;
      const std::size_t gn = std::min(group, p1 - g0), j = in_group % gn;
      const std::size_t kb0 = in_group / gn * kChunkBlocks;
      return chunk_ref{g0 + j, j, kb0, std::min(kChunkBlocks, kblocks - kb0)};
    };
    // A panel's partial sums live in a slot: its index in the group, or, one panel at a time,
    // slots 0 and 1 in turn, so that a finished panel's slot stays intact during the next one.
    auto slot_of = [&](const chunk_ref& c) { return group > 1 ? c.j : (c.p - p0) % 2; };
    // The epilogue of a finished panel is deferred to the next item: one tile after each block
    // of its later pairs' products, while the tile unit multiplies (like the split below), and
    // whatever is left at the end of that item.
    struct pending_finish {
      std::size_t p = 0, next = 0, count = 0;
      const float* tiles = nullptr;
    } pend;
    auto finish_one = [&] {
      finish_tile(t0 + pend.next, pend.p, pend.tiles + pend.next * kTileFloats);
      ++pend.next;
    };
    // Double-buffered: the next item's chunk is split during this one's first pair of position
    // tiles, one block after each block of products, so the vector units split while the tile
    // unit multiplies.
    alignas(64) std::uint16_t wc[2][kChunkBlocks * kWBlock];
    unsigned ring = 0;
    chunk_ref cur = item(0);
    Prod::prepare(w.panel(cur.p), cin, cur.kb0, cur.nkb, wc[ring]);
    for (std::size_t it = 0; it < items; ++it) {
      const bool has_next = it + 1 < items;
      const chunk_ref nx = has_next ? item(it + 1) : chunk_ref{0, 0, 0, 0};
      const std::size_t slot = slot_of(cur);
      if (cur.kb0 == 0) fill_bias(cur.p, bias[slot]);
      const std::uint16_t* wcur = wc[ring];
      std::uint16_t* wnext = wc[ring ^ 1];
      float* pj = part + slot * kMaxBlockTiles * kTileFloats;
      for (std::size_t i = 0; i < nt; i += 2) {
        const std::uint16_t* a0 = act + (t0 + i) * tile_u16 + cur.kb0 * kAct;
        float* c0 = pj + i * kTileFloats;
        float* c1 = c0 + kTileFloats;
        const float* i0 = cur.kb0 == 0 ? bias[slot] : c0;
        const float* i1 = cur.kb0 == 0 ? bias[slot] : c1;
        auto overlap = [&](std::size_t kb) {
          if (i == 0) {
            if (kb < nx.nkb)
              Prod::prepare(w.panel(nx.p), cin, nx.kb0 + kb, 1, wnext + kb * kWBlock);
          } else if (pend.next < pend.count) {
            finish_one();
          }
        };
        if (i + 1 < nt) {
          tile_pass<true, Prod>(a0, a0 + tile_u16, wcur, cur.nkb, i0, i1, c0, c1, overlap);
        } else {
          tile_pass<false, Prod>(a0, nullptr, wcur, cur.nkb, i0, nullptr, c0, nullptr, overlap);
        }
      }
      if (nx.nkb > cur.nkb)  // the next chunk is longer than this one: the rest of it now
        Prod::prepare(w.panel(nx.p), cin, nx.kb0 + cur.nkb, nx.nkb - cur.nkb,
                      wnext + cur.nkb * kWBlock);
      while (pend.next < pend.count) finish_one();
      if (cur.kb0 + cur.nkb == kblocks) pend = {cur.p, 0, nt, pj};  // the panel's last chunk
      ring ^= 1;
      cur = nx;
    }
    while (pend.next < pend.count) finish_one();
  });
}

#else
// Declared only: callers reach it under `if constexpr (arch::kAmx)`, never in this build.
template <class AT, class Prod, class W, class VX, class RunTasks, class Finish>
void conv1x1(const W& w, const VX& x, std::size_t threads, std::size_t tasks_per_thread,
             RunTasks&& run_tasks, Finish&& finish);
#endif  // BC1S_HAS_AMX

}  // namespace bc1s::detail::amx
