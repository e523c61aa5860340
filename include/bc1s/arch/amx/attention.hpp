// Attention's two matmuls on AMX tiles, for fp32 q, k, v and context, heads of a multiple of 32
// channels and query chunks of 32 (two 16-query tiles).
//
// The same arithmetic as arch/amx/conv1x1.hpp: every fp32 operand is split into bf16 hi + lo (both
// rounded to nearest), each product taken as hi*hi + lo*hi + hi*lo in fp32 accumulators, so
// each is within 3 * 2^-16 of the exact one (the FMA path rounds at 2^-24; both are far inside
// what the fp16 weights already change). The roles, per (batch item, head) task:
//   scores (keys x queries) = K_h^T * Q_h: A = K_h^T, 16 keys x 32 channels a tile: the one
//     transpose of the keys, packed once per head by pack_activations (the conv's own packer);
//     B = Q_h (scaled), whose VNNI rows are two channel rows interleaved: no transpose.
//   ctx (channels x queries) = V_h * P: A = V_h, rows of 32 consecutive keys: no transpose;
//     B = P, whose VNNI rows are two key rows of the score tile interleaved: no transpose.
// The accumulators come out as rows of keys (the layout softmax_keys takes) and rows of head
// channels (the (C, S) context rows): no transpose on the way out either. The softmax between
// the two stays on the vector units (softmax_keys).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "bc1s/arch/amx/conv1x1.hpp"
#include "bc1s/kernels/softmax.hpp"

namespace bc1s::detail::amx {

// Sequences shorter than this run attention on the FMA path: the packing then costs as much as the
// tiles save (distilbert forward, 2 threads, attention stage: S = 32 0.17 ms FMA / 0.19 AMX;
// S = 64 0.62 / 0.50; S = 128 2.05 / 1.50; S = 512 27 / 16).
#ifndef BC1S_AMX_ATTENTION_MIN_KEYS
#define BC1S_AMX_ATTENTION_MIN_KEYS 64
#endif
inline constexpr std::size_t kAttnMinKeys = BC1S_AMX_ATTENTION_MIN_KEYS;
inline constexpr std::size_t kAttnChunk = 2 * kGroup;  // queries per chunk: two B tiles

#if BC1S_HAS_AMX

// 16 floats (masked) as the low 16 bits of 16 words -> 16 bf16 at dst.
inline void store_bf16x16(std::uint16_t* dst, __m512 v) noexcept {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst),
                      _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(v), 16)));
}

// Rows of a (rows x n) fp32 matrix as B tiles for the groups g = 0, 1 of 16 columns each: VNNI
// row j of a k block holds rows 2j and 2j + 1 interleaved. src(r) gives row r's first column
// (rows past `rows` are zeros), cols (<= 32) columns are read, the rest are zeros; every value is
// multiplied by scale. dst: kWeightBlock per k block of 32 rows (hi g0, hi g1, lo g0, lo g1).
template <class RowFn>
inline void pack_b_rows(RowFn&& src, std::size_t rows, std::size_t cols, float scale,
                        std::size_t kblocks, std::uint16_t* dst) noexcept {
  const __m512 sc = _mm512_set1_ps(scale);
  const __mmask16 m0 = static_cast<__mmask16>(cols >= 16 ? 0xFFFFu : (1u << cols) - 1u);
  const __mmask16 m1 = static_cast<__mmask16>(cols >= 32   ? 0xFFFFu
                                              : cols <= 16 ? 0u
                                                           : (1u << (cols - 16)) - 1u);
  for (std::size_t kb = 0; kb < kblocks; ++kb) {
    for (std::size_t j = 0; j < kK / 2; ++j) {
      const std::size_t r = kb * kK + 2 * j;
      std::uint16_t* t = dst + kb * kWeightBlock + j * 2 * kGroup;
      for (std::size_t g = 0; g < 2; ++g) {
        const __mmask16 m = g == 0 ? m0 : m1;
        const __m512 a = r < rows ? _mm512_mul_ps(_mm512_maskz_loadu_ps(m, src(r) + g * kGroup), sc)
                                  : _mm512_setzero_ps();
        const __m512 b = r + 1 < rows
                             ? _mm512_mul_ps(_mm512_maskz_loadu_ps(m, src(r + 1) + g * kGroup), sc)
                             : _mm512_setzero_ps();
        const __m512 ha = round_bf16(a), hb = round_bf16(b);
        _mm512_store_si512(t + g * kTile, pair_words(ha, hb));
        _mm512_store_si512(t + (2 + g) * kTile, pair_words(round_bf16(_mm512_sub_ps(a, ha)),
                                                           round_bf16(_mm512_sub_ps(b, hb))));
      }
    }
  }
}

// V_h as A tiles: for each 16-channel tile dt and k block of 32 keys kb, kActBlock u16 (hi tile,
// lo tile; row r: keys kb*32 .. +32 of channel dt*16 + r, keys past `keys` zero).
inline void pack_a_rows(const float* v, std::size_t ld, std::size_t channels, std::size_t keys,
                        std::size_t kblocks, std::uint16_t* dst) noexcept {
  for (std::size_t dt = 0; dt < channels / kRows; ++dt) {
    for (std::size_t kb = 0; kb < kblocks; ++kb) {
      std::uint16_t* hi = dst + (dt * kblocks + kb) * kActBlock;
      std::uint16_t* lo = hi + kActBlock / 2;
      const std::size_t k0 = kb * kK;
      const std::size_t n = keys > k0 ? std::min(kK, keys - k0) : 0;
      const auto m0 = static_cast<__mmask16>(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
      const auto m1 = static_cast<__mmask16>(n >= 32   ? 0xFFFFu
                                             : n <= 16 ? 0u
                                                       : (1u << (n - 16)) - 1u);
      for (std::size_t r = 0; r < kRows; ++r) {
        const float* row = v + (dt * kRows + r) * ld + k0;
        const __m512 x0 = _mm512_maskz_loadu_ps(m0, row);
        const __m512 x1 = _mm512_maskz_loadu_ps(m1, row + 16);
        const __m512 h0 = round_bf16(x0), h1 = round_bf16(x1);
        store_bf16x16(hi + r * kK, h0);
        store_bf16x16(hi + r * kK + 16, h1);
        store_bf16x16(lo + r * kK, round_bf16(_mm512_sub_ps(x0, h0)));
        store_bf16x16(lo + r * kK + 16, round_bf16(_mm512_sub_ps(x1, h1)));
      }
    }
  }
}

// The packed operands of one head with D channels and up to `keys` keys, in uint16.
inline std::size_t attention_head_u16(std::size_t D, std::size_t keys) noexcept {
  const std::size_t dblocks = D / kK;
  const std::size_t key_tiles = (keys + kRows - 1) / kRows;
  const std::size_t key_blocks = (keys + kK - 1) / kK;
  return key_tiles * dblocks * kActBlock + (D / kRows) * key_blocks * kActBlock +
         dblocks * kWeightBlock + key_blocks * kWeightBlock;
}

// One (batch item, head): q, k, v, o point at row 0 (the head's first channel), column 0; rows
// ld floats apart (S padded). D channels (a multiple of 32), S columns, keys (<= S) real keys,
// mask: keys additive values or nullptr. scores: round_up(S, 16) x 32 floats of scratch; buf:
// attention_head_u16(D, keys) uint16 of scratch (64-byte aligned) for the packed operands.
inline void attention_head(const float* q, const float* k, const float* v, float* o, std::size_t ld,
                           std::size_t D, std::size_t S, std::size_t keys, float scale,
                           const float* mask, float* scores, std::uint16_t* buf) {
  const std::size_t dblocks = D / kK;
  const std::size_t key_tiles = (keys + kRows - 1) / kRows;
  const std::size_t key_blocks = (keys + kK - 1) / kK;
  const std::size_t k_u16 = key_tiles * dblocks * kActBlock;
  const std::size_t v_u16 = (D / kRows) * key_blocks * kActBlock;
  const std::size_t q_u16 = dblocks * kWeightBlock;
  std::uint16_t* kp = buf;
  std::uint16_t* vp = kp + k_u16;
  std::uint16_t* qp = vp + v_u16;
  std::uint16_t* pp = qp + q_u16;

  for (std::size_t t = 0; t < key_tiles; ++t) {
    pack_activations<2>(k + t * kRows, ld, std::min(kRows, keys - t * kRows), D, dblocks,
                        kp + t * dblocks * kActBlock);
  }
  pack_a_rows(v, ld, D, keys, key_blocks, vp);

  constexpr int kScoreStride = kAttnChunk * sizeof(float);
  arch::amx_scope scope;
  for (std::size_t q0 = 0; q0 < S; q0 += kAttnChunk) {
    const std::size_t nq = std::min(kAttnChunk, S - q0);
    const std::size_t qtiles = (nq + kGroup - 1) / kGroup;
    pack_b_rows([&](std::size_t r) { return q + r * ld + q0; }, D, nq, scale, dblocks, qp);

    // scores[key][query] = sum over channels of K^T (A) times Q (B), two key tiles at a time.
    for (std::size_t t = 0; t < key_tiles; t += 2) {
      const bool two = t + 1 < key_tiles;
      zero_accumulators();
      for (std::size_t kb = 0; kb < dblocks; ++kb) {
        const std::uint16_t* x0 = kp + (t * dblocks + kb) * kActBlock;
        if (two) {
          block_products<true, split3>(x0, x0 + dblocks * kActBlock, qp + kb * kWeightBlock);
        } else {
          block_products<false, split3>(x0, nullptr, qp + kb * kWeightBlock);
        }
      }
      float* s0 = scores + t * kRows * kAttnChunk;
      _tile_stored(0, s0, kScoreStride);
      _tile_stored(1, s0 + kGroup, kScoreStride);
      if (two) {
        _tile_stored(2, s0 + kRows * kAttnChunk, kScoreStride);
        _tile_stored(3, s0 + kRows * kAttnChunk + kGroup, kScoreStride);
      }
    }
    softmax_keys(scores, keys, 0, qtiles * kGroup, kAttnChunk, mask);

    // ctx[channel][query] = sum over keys of V (A) times P (B), two channel tiles at a time.
    pack_b_rows([&](std::size_t r) { return scores + r * kAttnChunk; }, keys, qtiles * kGroup, 1.0f,
                key_blocks, pp);
    for (std::size_t dt = 0; dt < D / kRows; dt += 2) {
      zero_accumulators();
      for (std::size_t kb = 0; kb < key_blocks; ++kb) {
        const std::uint16_t* x0 = vp + (dt * key_blocks + kb) * kActBlock;
        block_products<true, split3>(x0, x0 + key_blocks * kActBlock, pp + kb * kWeightBlock);
      }
      const int stride = static_cast<int>(ld * sizeof(float));
      float* c0 = o + dt * kRows * ld + q0;
      _tile_stored(0, c0, stride);
      _tile_stored(2, c0 + kRows * ld, stride);
      if (qtiles == 2) {
        _tile_stored(1, c0 + kGroup, stride);
        _tile_stored(3, c0 + kRows * ld + kGroup, stride);
      }
    }
  }
}

#else
// Declared only: callers reach them under `if constexpr (arch::kAmx)`, never in this build.
std::size_t attention_head_u16(std::size_t D, std::size_t keys) noexcept;
void attention_head(const float* q, const float* k, const float* v, float* o, std::size_t ld,
                    std::size_t D, std::size_t S, std::size_t keys, float scale, const float* mask,
                    float* scores, std::uint16_t* buf);
#endif  // BC1S_HAS_AMX

}  // namespace bc1s::detail::amx
