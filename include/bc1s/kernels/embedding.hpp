// Embedding gather: token-major tables -> channels-first activations.
//
// Dimension letters: B batch, C channels, S sequence; V vocabulary rows, P position rows,
// T token-type rows.
//
// The tables are row-major [rows, C] (one token's C channels contiguous, as Hugging Face stores
// them) and the output is (B, C, 1, S), so the gather is also a transpose. It runs over tiles of
// 16 tokens x 64 channels: each token's 64-channel slice of every table is summed in fp32 with
// vector loads, the 16 x 64 tile is transposed in a small buffer, and each channel's 16 tokens
// are stored as one 64-byte-aligned unit of an output row (converted to fp16 in registers).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "bc1s/core/half.hpp"
#include "bc1s/kernels/checks.hpp"
#include "bc1s/kernels/residual.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s {

// A row-major embedding table [rows, cols] of float or bc1s::half (non-owning; any alignment).
template <class T>
struct embedding_table {
  static_assert(is_storage_type_v<T>,
                "bc1s::embedding_table: expected float or bc1s::half elements");
  std::span<const T> data;  // rows * cols elements, row r at data[r * cols]
  std::size_t rows = 0;
  std::size_t cols = 0;

  constexpr embedding_table() = default;
  embedding_table(std::span<const T> d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c) {
    if (d.size() != r * c) {
      throw std::invalid_argument(
          "bc1s::embedding_table: expected rows * cols = " + std::to_string(r) + " * " +
          std::to_string(c) + " = " + std::to_string(r * c) + " elements, got " +
          std::to_string(d.size()));
    }
  }
  const T* row(std::size_t r) const noexcept { return data.data() + r * cols; }
};

namespace detail {

inline void check_table(const char* what, std::size_t cols, std::size_t c) {
  if (cols != c) {
    throw_kernel("embedding_gather", std::string("expected the ") + what +
                                         " table with C = " + std::to_string(c) +
                                         " columns (the output's channels), "
                                         "got " +
                                         std::to_string(cols));
  }
}

inline void check_ids(const char* what, std::span<const std::int32_t> ids, std::size_t s,
                      std::size_t rows) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= rows) {
      throw std::out_of_range(
          "bc1s::embedding_gather: " + std::string(what) + " " + std::to_string(ids[i]) +
          " at position (b = " + std::to_string(i / s) + ", s = " + std::to_string(i % s) +
          ") is outside [0, " + std::to_string(rows) + ")");
    }
  }
}

// Adds one table's channels [c0, c0 + n) of row r into acc[0..n).
template <class T>
inline void accumulate_row(float* acc, const T* row, std::size_t n) noexcept {
  constexpr std::size_t L = simd::kFloatLanes;
  const std::size_t nv = n / L * L;
  std::size_t i = 0;
  for (; i < nv; i += L) {
    (simd::fbatch::load_unaligned(acc + i) + simd::load(row + i)).store_unaligned(acc + i);
  }
  for (; i < n; ++i) acc[i] += to_float(row[i]);
}

template <class TW, class TP, class TT, class OutV>
void embedding_gather_impl(const embedding_table<TW>& word, const embedding_table<TP>& pos,
                           std::span<const std::int32_t> ids, const embedding_table<TT>* type,
                           std::span<const std::int32_t> type_ids, const OutV& out) {
  constexpr std::size_t L = simd::kFloatLanes;
  constexpr std::size_t kTok = 16;  // one 64-byte fp32 unit of an output row
  constexpr std::size_t kCh = 64;   // channels per tile
  const std::size_t B = out.b(), C = out.c(), S = out.s(), Sp = out.mapping().padded_s();
  alignas(64) float tile[kTok][kCh];   // [token][channel]
  alignas(64) float tileT[kCh][kTok];  // [channel][token]
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t s0 = 0; s0 < Sp; s0 += kTok) {
      const std::size_t nt = s0 < S ? std::min(kTok, S - s0) : 0;  // valid tokens in the tile
      for (std::size_t c0 = 0; c0 < C; c0 += kCh) {
        const std::size_t nc = std::min(kCh, C - c0);
        for (std::size_t t = 0; t < kTok; ++t) {
          std::fill(tile[t], tile[t] + kCh, 0.f);
          if (t >= nt) continue;  // padding lanes: 0
          const std::size_t s = s0 + t;
          const auto id = static_cast<std::size_t>(ids[b * S + s]);
          accumulate_row(tile[t], word.row(id) + c0, nc);
          accumulate_row(tile[t], pos.row(s) + c0, nc);
          if (type != nullptr) {
            const std::size_t tid =
                type_ids.empty() ? 0 : static_cast<std::size_t>(type_ids[b * S + s]);
            accumulate_row(tile[t], type->row(tid) + c0, nc);
          }
        }
        for (std::size_t c = 0; c < nc; ++c) {
          for (std::size_t t = 0; t < kTok; ++t) tileT[c][t] = tile[t][c];
        }
        for (std::size_t c = 0; c < nc; ++c) {
          auto* o = out.row(b, c0 + c) + s0;
          for (std::size_t v = 0; v < kTok; v += L) {
            simd::store(o + v, simd::fbatch::load_aligned(&tileT[c][v]));
          }
        }
      }
    }
  }
}

template <class TW, class TP, class TT, class Out>
void embedding_gather_checked(const embedding_table<TW>& word, const embedding_table<TP>& pos,
                              std::span<const std::int32_t> ids, const embedding_table<TT>* type,
                              std::span<const std::int32_t> type_ids, Out&& out) {
  BC1S_REQUIRE_BC1S_TENSOR("embedding_gather", std::remove_cvref_t<Out>, "out");
  using VO = view_t<std::remove_reference_t<Out>>;
  BC1S_REQUIRE_MUTABLE("embedding_gather", typename VO::element_type, "out");
  const VO vo = as_view(out);
  const std::size_t B = vo.b(), C = vo.c(), S = vo.s();
  check_table("word", word.cols, C);
  check_table("position", pos.cols, C);
  if (type != nullptr) check_table("token-type", type->cols, C);
  if (ids.size() != B * S) {
    throw_kernel("embedding_gather", "expected B * S = " + std::to_string(B) + " * " +
                                         std::to_string(S) + " = " + std::to_string(B * S) +
                                         " token ids (row-major [B][S]), got " +
                                         std::to_string(ids.size()));
  }
  if (S > pos.rows) {
    throw_kernel("embedding_gather", "expected S <= " + std::to_string(pos.rows) +
                                         " (the position table's rows, max_position_embeddings), "
                                         "got S = " +
                                         std::to_string(S) + "; truncate the sequence");
  }
  if (type != nullptr && !type_ids.empty() && type_ids.size() != B * S) {
    throw_kernel("embedding_gather", "expected B * S = " + std::to_string(B * S) +
                                         " token-type ids (or none, meaning type 0), got " +
                                         std::to_string(type_ids.size()));
  }
  if (type != nullptr && type_ids.empty() && type->rows == 0) {
    throw_kernel("embedding_gather", "expected a token-type table with at least one row");
  }
  check_ids("token id", ids, S, word.rows);
  if (type != nullptr) check_ids("token-type id", type_ids, S, type->rows);
  embedding_gather_impl(word, pos, ids, type, type_ids, vo);
}

}  // namespace detail

// out (B, C, 1, S) = word (V, C)[ids (B, S)]^T + pos (P, C)[0..S)^T
//   out(b, c, s) = word[ids[b * S + s], c] + pos[s, c], fp32 sum; padding lanes written as 0.
// Throws std::out_of_range (naming the id and its position) for an id outside [0, V), and
// std::invalid_argument when S > P or the sizes disagree; nothing is written then.
template <class TW, class TP, class Out>
void embedding_gather(const embedding_table<TW>& word, const embedding_table<TP>& pos,
                      std::span<const std::int32_t> ids, Out&& out) {
  detail::embedding_gather_checked(word, pos, ids,
                                   static_cast<const embedding_table<float>*>(nullptr), {},
                                   std::forward<Out>(out));
}

// out (B, C, 1, S) = word (V, C)[ids (B, S)]^T + pos (P, C)[0..S)^T + type (T, C)[type_ids (B,
// S)]^T BERT's embeddings (DistilBERT has no token types). type_ids may be empty: type 0
// everywhere.
template <class TW, class TP, class TT, class Out>
void embedding_gather(const embedding_table<TW>& word, const embedding_table<TP>& pos,
                      std::span<const std::int32_t> ids, const embedding_table<TT>& type,
                      std::span<const std::int32_t> type_ids, Out&& out) {
  detail::embedding_gather_checked(word, pos, ids, &type, type_ids, std::forward<Out>(out));
}

}  // namespace bc1s
