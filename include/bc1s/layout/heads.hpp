// Head split (C = H * D) and query chunks (Q columns of the score tile) as types.
#pragma once

#include <cstddef>
#include <string>

#include "bc1s/layout/extents.hpp"
#include "bc1s/layout/layout.hpp"

namespace bc1s {

// head_split<C, H>: C channels split into H heads of D = C / H channels. Heads are contiguous
// channel ranges [h*D, (h+1)*D) of a (B, C, 1, S) tensor, so a head is a view, never a copy.
// Either may be dyn (a model whose sizes come from its config.json): the run-time constructor then
// makes the same check, with the same words, that the static_assert makes for static ones.
template <std::size_t C, std::size_t H>
struct head_split {
  static_assert(H == dyn || H > 0, "bc1s::head_split: expected a head count H > 0 (or dyn)");
  static_assert(C == dyn || H == dyn || C % H == 0,
                "bc1s::head_split: expected C divisible by the number of heads H; choose H that "
                "divides C (DistilBERT: C = 768, H = 12, D = 64)");
  static constexpr std::size_t channels = C;
  static constexpr std::size_t heads = H;
  static constexpr std::size_t head_dim = (C == dyn || H == dyn) ? dyn : C / H;

  constexpr head_split() = default;
  // Run-time twin for dynamic C and H (h = 0: the static H).
  explicit constexpr head_split(std::size_t c, std::size_t h = 0) : c_(c), h_(h == 0 ? H : h) {
    if (h_ == dyn || h_ == 0) {
      detail::throw_shape(
          "bc1s::head_split: expected a head count H > 0; H is dyn in the type and "
          "none was given");
    }
    if (c == 0 || c % h_ != 0) {
      detail::throw_shape("bc1s::head_split: expected C divisible by the number of heads H; C = " +
                          std::to_string(c) + ", H = " + std::to_string(h_) +
                          "; choose H that divides C (DistilBERT: C = 768, H = 12, D = 64)");
    }
    if (C != dyn && c != C) {
      detail::throw_shape("bc1s::head_split: static extents contradict the layout's: C is " +
                          std::to_string(C) + " in the type but " + std::to_string(c) +
                          " was given");
    }
    if (H != dyn && h_ != H) {
      detail::throw_shape("bc1s::head_split: static extents contradict the layout's: H is " +
                          std::to_string(H) + " in the type but " + std::to_string(h_) +
                          " was given");
    }
  }
  constexpr std::size_t c() const noexcept { return C == dyn ? c_ : C; }
  constexpr std::size_t h() const noexcept { return H == dyn ? h_ : H; }
  constexpr std::size_t d() const noexcept { return c() / h(); }

 private:
  std::size_t c_ = C == dyn ? 0 : C;
  std::size_t h_ = H;
};

// query_chunk<T, Q>: attention scores are computed Q query columns at a time. Q * sizeof(T) must
// be a multiple of 64 bytes so each chunk of a (b, c) row starts on a 64-byte boundary.
template <class T, std::size_t Q>
struct query_chunk {
  static_assert(Q > 0 && (Q * sizeof(T)) % kRowAlignBytes == 0,
                "bc1s::query_chunk: expected a chunk of Q columns that is a multiple of 64 bytes "
                "(Q a multiple of 32 for fp16, 16 for fp32); round Q up to such a multiple");
  static constexpr std::size_t size = Q;
};

template <class X>
inline constexpr bool is_head_split_v = false;
template <std::size_t C, std::size_t H>
inline constexpr bool is_head_split_v<head_split<C, H>> = true;

}  // namespace bc1s
