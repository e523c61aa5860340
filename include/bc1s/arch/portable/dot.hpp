// Portable dot-product microkernels for bf16 and int8 weights (kernels/conv1x1_dot.hpp has the
// layout and the driver): the packed words unpacked and multiplied in plain C++ and xsimd, on any
// target. Targets with dot-product instructions derive from these and replace the hot steps; every
// target gives the same products (bit-identical int8 sums; bf16 within fp32 rounding).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "bc1s/core/bf16.hpp"
#include "bc1s/core/half.hpp"
#include "bc1s/core/qint8.hpp"
#include "bc1s/arch/batch.hpp"

namespace bc1s::arch::portable {

// bf16 weights: pairs of channels, fp32 accumulators. The pack and the tile loop, around the
// product of one group row (Self::row), which each target gives.
template <class Self>
struct bf16_dot_base {
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
    using arch::fbatch;
    constexpr std::size_t L = arch::kFloatLanes, V = P / L;
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
      Self::template row<V, NR>(acc, w32 + j * P, xj);
    }
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[v][n].store_aligned(out + n * P + v * L);
    }
  }
};

struct bf16_dot : bf16_dot_base<bf16_dot> {
  // acc[v][n] += the products of group row wj (V * L weight words) with the row's activation words
  // xj[n], widened to fp32 (a bf16 is the top half of an fp32).
  template <std::size_t V, std::size_t NR>
  static void row(arch::fbatch (&acc)[V][NR], const std::uint32_t* __restrict wj,
                  const std::uint32_t* __restrict xj) noexcept {
    using arch::fbatch;
    constexpr std::size_t L = arch::kFloatLanes;
    using ubatch = xsimd::batch<std::uint32_t>;
    const ubatch high(0xFFFF0000u);
    fbatch we[V], wo[V];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) {
      const ubatch u = ubatch::load_unaligned(wj + v * L);
      we[v] = xsimd::bitwise_cast<fbatch>(u << 16);
      wo[v] = xsimd::bitwise_cast<fbatch>(u & high);
    }
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
      const fbatch xe(
          bc1s::detail::bf16_bits_to_float(static_cast<std::uint16_t>(xj[n] & 0xFFFFu)));
      const fbatch xo(bc1s::detail::bf16_bits_to_float(static_cast<std::uint16_t>(xj[n] >> 16)));
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) {
        acc[v][n] = xsimd::fma(we[v], xe, acc[v][n]);
        acc[v][n] = xsimd::fma(wo[v], xo, acc[v][n]);
      }
    }
  }
};

// int8 weights: quads of channels, int32 sums per group of kGroupK input channels, scaled into
// fp32 sums at the end of each group. The pack and the tile loop, around the byte dot products of
// one group (Self::group_dots) and their scaling (Self::scale_group), which a target may replace.
template <class Self>
struct int8_dot_base {
  using weight_type = qint8;
  using acc_type = float;
  static constexpr std::size_t kLaneK = 4;
  // Input channels per activation scale: each position's activations are quantised in groups of
  // kGroupK channels, so an outlier channel coarsens the steps of its own group only.
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
      alignas(64) std::int32_t dots[NR * P];
      Self::template group_dots<P, NR, Prefetch>(w32, xp, j0, std::min(nj, j0 + kGroupQuads), dots);
      Self::template scale_group<P, NR>(dots, offsets + a * P, scales + a * NR, sums);
    }
  }

  // dots[n][P] = the int32 dot products of quad rows j0 .. j1: activation bytes unsigned, weight
  // bytes signed.
  template <std::size_t P, std::size_t NR, bool Prefetch>
  static void group_dots(const std::uint32_t* __restrict w32, const std::uint32_t* __restrict xp,
                         std::size_t j0, std::size_t j1, std::int32_t* dots) noexcept {
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
        dots[n * P + r] = s;
      }
    }
  }

  // sums[n][P] += (dots[n][P] - off[P]) * sx[n].
  template <std::size_t P, std::size_t NR>
  static void scale_group(const std::int32_t* dots, const std::int32_t* off, const float* sx,
                          float* sums) noexcept {
    for (std::size_t n = 0; n < NR; ++n) {
      for (std::size_t r = 0; r < P; ++r) {
        sums[n * P + r] += static_cast<float>(dots[n * P + r] - off[r]) * sx[n];
      }
    }
  }
};

struct int8_dot : int8_dot_base<int8_dot> {};

}  // namespace bc1s::arch::portable
