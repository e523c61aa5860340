// Per-head, query-chunked attention on the (B, C, 1, S) layout, without reshapes.
//
// C = H * D: head h is the channel rows [h*D, (h+1)*D) of q, k and v (a view, never a copy).
// For every batch b, head h and chunk of Q query columns [q0, q0 + Q):
//   scores (S_k, Q) = K_h^T (S_k, D) * Q_h (D, Q) * scale          (the only transpose: of the
//   keys) P      (S_k, Q) = softmax over keys (rows) of scores + key mask, per query column ctx_h
//   (D, Q)   = V_h (D, S_k) * P (S_k, Q)                      written straight into ctx rows
// The score tile of one chunk (S_k x Q fp32, 64 KB at S = 512, Q = 32) stays in cache between the
// three steps. K_h^T is never materialised: the score microkernel broadcasts K[d][key] across a run
// of keys of row d, which is contiguous, and multiplies it with vectors of Q_h[d][q0 ...].
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "bc1s/core/tensor.hpp"
#include "bc1s/arch/amx/attention.hpp"
#include "bc1s/kernels/parallel.hpp"
#include "bc1s/kernels/checks.hpp"
#include "bc1s/kernels/softmax.hpp"
#include "bc1s/layout/heads.hpp"
#include "bc1s/runtime/thread_pool.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s {

// The additive value of a masked key (Hugging Face fills masked scores with finfo(float32).min).
inline constexpr float kMaskedKey = std::numeric_limits<float>::lowest();

struct attention_args {
  // B * S additive key masks: 0 for a real token, kMaskedKey for padding; empty: no mask.
  std::span<const float> key_mask_add = {};
  // Score tiles, attention_scratch_floats(S, Q, threads) floats (64-byte aligned).
  std::span<float> scratch = {};
  runtime::thread_pool* pool = nullptr;
  float scale = 0.0f;  // 0: 1 / sqrt(D)
  // The head count, for head_split<C, dyn> (a model whose sizes come from config.json); 0 with a
  // static H. A value that contradicts a static H is an error.
  std::size_t heads = 0;
};

// Floats of scratch attention needs for sequences of S keys, chunks of Q queries, `threads`
// threads (one score tile per thread).
constexpr std::size_t attention_scratch_floats(std::size_t S, std::size_t Q,
                                               std::size_t threads) noexcept {
  return detail::round_up(S, 16) * Q * (threads == 0 ? 1 : threads);
}

// Whether attention on fp32 tensors with heads of D channels, S positions and query chunks of Q
// runs on AMX tiles here (arch/amx/attention.hpp): the CPU has them, Linux grants them, BC1S_AMX is
// not 0, D is a multiple of 32, Q is 32 and S is at least BC1S_AMX_ATTENTION_MIN_KEYS (64).
inline bool attention_uses_amx(std::size_t D, std::size_t S, std::size_t Q) noexcept {
  return arch::kAmx && simd::amx_enabled() && D % detail::amx::kK == 0 &&
         Q == detail::amx::kAttnChunk && S >= detail::amx::kAttnMinKeys;
}

namespace detail {

// The keys up to the last real one (at least 1): trailing masked keys, the padding of a bucket,
// cost nothing. mask: S additive key masks, or nullptr (every key real).
inline std::size_t real_keys(const float* mask, std::size_t S) noexcept {
  std::size_t keys = S;
  while (mask != nullptr && keys > 1 && mask[keys - 1] == kMaskedKey) --keys;
  return keys;
}

inline constexpr std::size_t kAttnAccRegs = arch::kAttnAccRegs;

// scores[r * Q + v*L ...] = scale * sum_d K[d][key0 + r] * Qm[d][q0 + v*L ...], r < R, v < NV.
// k, q point at (row 0 of the head, column key0 / q0); ld* are row strides.
template <std::size_t R, std::size_t NV, class KT, class QT>
void attn_scores_tile(const KT* __restrict k, std::size_t ldk, const QT* __restrict q,
                      std::size_t ldq, std::size_t D, float scale, float* __restrict out,
                      std::size_t ldo) noexcept {
  using simd::fbatch;
  constexpr std::size_t L = simd::kFloatLanes;
  fbatch acc[R][NV];
#pragma GCC unroll 24
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = fbatch(0.0f);
  for (std::size_t d = 0; d < D; ++d) {
    fbatch qv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) qv[v] = simd::load(q + d * ldq + v * L);
    const KT* kr = k + d * ldk;
#pragma GCC unroll 24
    for (std::size_t r = 0; r < R; ++r) {
      const fbatch kb = simd::broadcast(kr[r]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(kb, qv[v], acc[r][v]);
    }
  }
  const fbatch sc(scale);
#pragma GCC unroll 24
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) (acc[r][v] * sc).store_aligned(out + r * ldo + v * L);
}

// ctx[r][q0 + v*L ...] = sum_key V[d0 + r][key] * P[key][v*L ...], r < R, v < NV.
template <std::size_t R, std::size_t NV, class VT, class OT>
void attn_context_tile(const VT* __restrict vrow, std::size_t ldv, const float* __restrict p,
                       std::size_t ldp, std::size_t keys, OT* __restrict out,
                       std::size_t ldo) noexcept {
  using simd::fbatch;
  constexpr std::size_t L = simd::kFloatLanes;
  fbatch acc[R][NV];
#pragma GCC unroll 24
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = fbatch(0.0f);
  for (std::size_t key = 0; key < keys; ++key) {
    fbatch pv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) pv[v] = fbatch::load_aligned(p + key * ldp + v * L);
#pragma GCC unroll 24
    for (std::size_t r = 0; r < R; ++r) {
      const fbatch vb = simd::broadcast(vrow[r * ldv + key]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(vb, pv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 24
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) simd::store(out + r * ldo + v * L, acc[r][v]);
}

template <class KT, class QT>
using scores_fn = void (*)(const KT*, std::size_t, const QT*, std::size_t, std::size_t, float,
                           float*, std::size_t);
template <class VT, class OT>
using context_fn = void (*)(const VT*, std::size_t, const float*, std::size_t, std::size_t, OT*,
                            std::size_t);

// Tables of tile functions indexed by [nv - 1][r - 1], so edge tiles are fully unrolled too.
template <std::size_t NV, class KT, class QT, std::size_t... R>
constexpr auto scores_row(std::index_sequence<R...>) {
  return std::array<scores_fn<KT, QT>, sizeof...(R)>{&attn_scores_tile<R + 1, NV, KT, QT>...};
}
template <std::size_t NV, class VT, class OT, std::size_t... R>
constexpr auto context_row(std::index_sequence<R...>) {
  return std::array<context_fn<VT, OT>, sizeof...(R)>{&attn_context_tile<R + 1, NV, VT, OT>...};
}
template <std::size_t NV>
inline constexpr std::size_t kAttnRows = kAttnAccRegs / NV > 0 ? kAttnAccRegs / NV : 1;

}  // namespace detail

// ctx (B, C, 1, S) = attention(q, k, v (B, C, 1, S)) with C split as Heads = head_split<C, H> and
// query chunks Chunk = query_chunk<T, Q>.
template <class Heads, class Chunk, class QX, class KX, class VX, class OX>
void attention(const QX& qx, const KX& kx, const VX& vx, OX&& ox, const attention_args& args) {
  static_assert(is_head_split_v<Heads>,
                "bc1s::attention: expected bc1s::head_split<C, H> as the first template argument; "
                "e.g. attention<head_split<768, 12>, query_chunk<float, 32>>(q, k, v, ctx, args)");
  BC1S_REQUIRE_BC1S_TENSOR("attention", QX, "the queries");
  BC1S_REQUIRE_BC1S_TENSOR("attention", KX, "the keys");
  BC1S_REQUIRE_BC1S_TENSOR("attention", VX, "the values");
  BC1S_REQUIRE_BC1S_TENSOR("attention", OX, "the context (output)");
  BC1S_REQUIRE_MUTABLE("attention", typename tensor_traits_t<OX>::element_type, "the context");
  using LQ = typename tensor_traits_t<QX>::layout_type;
  using LK = typename tensor_traits_t<KX>::layout_type;
  using LV = typename tensor_traits_t<VX>::layout_type;
  using LO = typename tensor_traits_t<OX>::layout_type;
  using QT = typename tensor_traits_t<QX>::value_type;
  using KT = typename tensor_traits_t<KX>::value_type;
  using VT = typename tensor_traits_t<VX>::value_type;
  using OT = typename tensor_traits_t<OX>::value_type;
  BC1S_REQUIRE_SAME_BS("attention", LQ, LK, "queries and keys");
  BC1S_REQUIRE_SAME_BS("attention", LQ, LV, "queries and values");
  BC1S_REQUIRE_SAME_BS("attention", LQ, LO, "queries and context");
  BC1S_REQUIRE_SAME_C("attention", LQ, LK, "queries and keys");
  BC1S_REQUIRE_SAME_C("attention", LQ, LV, "queries and values");
  BC1S_REQUIRE_SAME_C("attention", LQ, LO, "queries and context");
  static_assert(extents_agree(Heads::channels, LQ::static_c),
                "bc1s::attention: expected the head split's C to equal the tensors' C; declare "
                "head_split<C, H> with the C of the (B, C, 1, S) tensors");
  constexpr std::size_t Q = Chunk::size;
  static_assert((Q * sizeof(QT)) % kRowAlignBytes == 0,
                "bc1s::attention: expected a query chunk that is a multiple of 64 bytes of the "
                "query storage type (Q a multiple of 32 for fp16, 16 for fp32); round Q up");
  constexpr std::size_t L = simd::kFloatLanes;
  static_assert(Q % L == 0);
  constexpr std::size_t NV = Q / L;

  const auto q = as_view(qx);
  const auto k = as_view(kx);
  const auto v = as_view(vx);
  const auto o = as_view(ox);
  detail::check_same_bs("attention", q, k, "queries and keys");
  detail::check_same_bs("attention", q, v, "queries and values");
  detail::check_same_bs("attention", q, o, "queries and context");
  detail::check_same_c("attention", q, k, "queries and keys");
  detail::check_same_c("attention", q, v, "queries and values");
  detail::check_same_c("attention", q, o, "queries and context");
  const Heads heads(q.c(), args.heads);  // run-time divisibility check for dynamic C or H
  const std::size_t B = q.b(), S = q.s(), D = heads.d(), H = heads.h();
  const std::size_t Sp = q.mapping().padded_s();
  const std::size_t threads = args.pool ? args.pool->size() : 1;
  const std::size_t tile_floats = detail::round_up(S, 16) * Q;
  if (args.scratch.size() < tile_floats * threads) {
    detail::throw_kernel("attention",
                         "expected a scratch of at least " + std::to_string(tile_floats * threads) +
                             " floats (attention_scratch_floats(S, Q, threads)); got " +
                             std::to_string(args.scratch.size()));
  }
  if (!args.key_mask_add.empty() && args.key_mask_add.size() != B * S) {
    detail::throw_kernel("attention", "expected a key mask of B * S = " + std::to_string(B * S) +
                                          " values; got " +
                                          std::to_string(args.key_mask_add.size()));
  }
  const float scale = args.scale != 0.0f ? args.scale : 1.0f / std::sqrt(static_cast<float>(D));

  // Batch item b's additive key mask (nullptr: none).
  auto batch_mask = [&args, stride = std::size_t{S}](std::size_t b) -> const float* {
    return args.key_mask_add.empty() ? nullptr : args.key_mask_add.data() + b * stride;
  };

  // fp32 activations, heads of a multiple of 32 channels, chunks of 32 queries and enough keys:
  // both matmuls on AMX tiles (arch/amx/attention.hpp), one task per (batch item, head).
  if constexpr (arch::kAmx && std::is_same_v<QT, float> && std::is_same_v<KT, float> &&
                std::is_same_v<VT, float> && std::is_same_v<OT, float> &&
                Q == detail::amx::kAttnChunk) {
    if (attention_uses_amx(D, S, Q)) {
      // Each thread's packed operands, in a buffer of the calling thread (no allocation after a
      // first call of this size from it, whichever pool thread runs which head).
      const std::size_t pack_u16 = detail::round_up(detail::amx::attention_head_u16(D, S), 32);
      std::uint16_t* packs =
          detail::per_thread_scratch<struct attention_tag, std::uint16_t>(threads, pack_u16);
      auto head_task = [&](std::size_t t, std::size_t tid) {
        const std::size_t h = t % H, b = t / H;
        const float* mask = batch_mask(b);
        const std::size_t keys = detail::real_keys(mask, S);
        const std::size_t c0 = h * D;
        detail::amx::attention_head(q.row(b, c0), k.row(b, c0), v.row(b, c0), o.row(b, c0), Sp, D,
                                    S, keys, scale, mask, args.scratch.data() + tid * tile_floats,
                                    packs + tid * pack_u16);
      };
      if (args.pool == nullptr) {
        for (std::size_t t = 0; t < B * H; ++t) head_task(t, 0);
      } else {
        args.pool->parallel_for_tid(B * H, head_task);
      }
      return;
    }
  }

  // Tiles of up to RS rows (keys for the scores, head channels for the context) by nv <= NV
  // vectors of queries; the table holds every (nv, rows) combination, fully unrolled.
  constexpr std::size_t RS = detail::kAttnRows<NV>;
  static constexpr auto score_tiles = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::array<detail::scores_fn<KT, QT>, RS>, NV>{
        detail::scores_row<I + 1, KT, QT>(std::make_index_sequence<RS>{})...};
  }
  (std::make_index_sequence<NV>{});
  static constexpr auto context_tiles = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::array<detail::context_fn<VT, OT>, RS>, NV>{
        detail::context_row<I + 1, VT, OT>(std::make_index_sequence<RS>{})...};
  }
  (std::make_index_sequence<NV>{});

  const std::size_t chunks = (Sp + Q - 1) / Q;
  auto task = [&](std::size_t t, std::size_t tid) {
    const std::size_t chunk_index = t % chunks, h = (t / chunks) % H, b = t / (chunks * H);
    const std::size_t q0 = chunk_index * Q;
    const std::size_t nv = std::min(NV, (Sp - q0) / L);
    float* scores = args.scratch.data() + tid * tile_floats;
    const float* mask = batch_mask(b);
    const std::size_t keys = detail::real_keys(mask, S);

    const std::size_t c0 = h * D;
    const KT* kh = k.row(b, c0);
    const QT* qh = q.row(b, c0) + q0;
    for (std::size_t key0 = 0; key0 < keys; key0 += RS) {
      const std::size_t rr = std::min(RS, keys - key0);
      score_tiles[nv - 1][rr - 1](kh + key0, Sp, qh, Sp, D, scale, scores + key0 * Q, Q);
    }
    softmax_keys(scores, keys, 0, nv * L, Q, mask);
    const VT* vh = v.row(b, c0);
    for (std::size_t d0 = 0; d0 < D; d0 += RS) {
      const std::size_t rr = std::min(RS, D - d0);
      context_tiles[nv - 1][rr - 1](vh + d0 * Sp, Sp, scores, Q, keys, o.row(b, c0 + d0) + q0, Sp);
    }
  };
  const std::size_t tasks = B * H * chunks;
  if (args.pool == nullptr) {
    for (std::size_t t = 0; t < tasks; ++t) task(t, 0);
  } else {
    args.pool->parallel_for_tid(tasks, task);
  }
}

}  // namespace bc1s
