// Layout policies: how (b, c, s) coordinates map to element offsets.
//
// The padding contract (the one place it is written down):
//   Every (b, c) row of a channels-first tensor starts on a kRowAlignBytes (64-byte) boundary, so
//   S is padded to S_padded = round_up(S, 64 / sizeof(T)) lanes (32 for fp16, 16 for fp32).
//   Padding lanes s in [S, S_padded) exist, hold finite values (zero when a tensor is created),
//   and kernels may read them, but a padding lane never reaches a valid output.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "bc1s/layout/extents.hpp"

namespace bc1s {

inline constexpr std::size_t kRowAlignBytes = 64;

// layout_bc1s: the channels-first (B, C, 1, S) layout.
//   offset(b, c, s) = (b * C + c) * S_padded + s
//   strides of the rank-4 view (B, C, 1, S) = (C * S_padded, S_padded, S_padded, 1)
template <class T, class Extents, std::size_t RowAlign = kRowAlignBytes>
class layout_bc1s {
  static_assert(is_extents_v<Extents>,
                "bc1s::layout_bc1s: expected bc1s::extents<B, C, S> as the second argument");
  static_assert(RowAlign % sizeof(T) == 0 && RowAlign >= sizeof(T),
                "bc1s::layout_bc1s: expected a row alignment that is a multiple of sizeof(T)");

 public:
  using element_type = T;
  using extents_type = Extents;
  static constexpr bool is_channels_first = true;
  static constexpr std::size_t row_align_bytes = RowAlign;
  static constexpr std::size_t kLanes = RowAlign / sizeof(T);  // lanes per aligned row unit
  static constexpr std::size_t static_b = Extents::static_b;
  static constexpr std::size_t static_c = Extents::static_c;
  static constexpr std::size_t static_s = Extents::static_s;
  static constexpr std::size_t static_padded_s =
      static_s == dyn ? dyn : detail::round_up(static_s, kLanes);
  static constexpr std::size_t static_span_size =
      Extents::is_static ? static_b * static_c * static_padded_s : dyn;

  constexpr layout_bc1s() requires Extents::is_static = default;
  constexpr explicit layout_bc1s(const Extents& e) : ext_(e) {}
  constexpr layout_bc1s(std::size_t b, std::size_t c, std::size_t s) : ext_(b, c, s) {}

  constexpr const Extents& extents() const noexcept { return ext_; }
  constexpr std::size_t b() const noexcept { return ext_.b(); }
  constexpr std::size_t c() const noexcept { return ext_.c(); }
  constexpr std::size_t s() const noexcept { return ext_.s(); }
  constexpr std::size_t padded_s() const noexcept {
    return static_padded_s != dyn ? static_padded_s : detail::round_up(ext_.s(), kLanes);
  }

  constexpr std::size_t offset(std::size_t b, std::size_t c, std::size_t s) const noexcept {
    return (b * ext_.c() + c) * padded_s() + s;
  }
  constexpr std::size_t required_span_size() const noexcept {
    return ext_.b() * ext_.c() * padded_s();
  }
  // Rank-4 strides of (B, C, 1, S).
  constexpr std::size_t stride(std::size_t r) const noexcept {
    const std::array<std::size_t, 4> st{ext_.c() * padded_s(), padded_s(), padded_s(), 1};
    return st[r];
  }
  static constexpr std::size_t rank() noexcept { return 4; }
  // Exhaustive when there is no padding: every offset below the span is some coordinate.
  constexpr bool is_exhaustive() const noexcept { return padded_s() == ext_.s(); }
  static constexpr bool is_unique() noexcept { return true; }

  friend constexpr bool operator==(const layout_bc1s& x, const layout_bc1s& y) noexcept {
    return x.ext_ == y.ext_;
  }

 private:
  Extents ext_{};
};

// layout_bsc: channels-last (B, S, C), what most frameworks use. bc1s kernels reject it; it exists
// so that data arriving in that order can be described (and so the rejection can be tested).
//   offset(b, c, s) = (b * S + s) * C + c
template <class T, class Extents>
class layout_bsc {
 public:
  using element_type = T;
  using extents_type = Extents;
  static constexpr bool is_channels_first = false;
  static constexpr std::size_t row_align_bytes = alignof(T);
  static constexpr std::size_t static_b = Extents::static_b;
  static constexpr std::size_t static_c = Extents::static_c;
  static constexpr std::size_t static_s = Extents::static_s;

  constexpr layout_bsc() requires Extents::is_static = default;
  constexpr explicit layout_bsc(const Extents& e) : ext_(e) {}
  constexpr layout_bsc(std::size_t b, std::size_t c, std::size_t s) : ext_(b, c, s) {}

  constexpr const Extents& extents() const noexcept { return ext_; }
  constexpr std::size_t b() const noexcept { return ext_.b(); }
  constexpr std::size_t c() const noexcept { return ext_.c(); }
  constexpr std::size_t s() const noexcept { return ext_.s(); }
  constexpr std::size_t offset(std::size_t b, std::size_t c, std::size_t s) const noexcept {
    return (b * ext_.s() + s) * ext_.c() + c;
  }
  constexpr std::size_t required_span_size() const noexcept {
    return ext_.b() * ext_.s() * ext_.c();
  }
  constexpr std::size_t stride(std::size_t r) const noexcept {
    const std::array<std::size_t, 3> st{ext_.s() * ext_.c(), ext_.c(), 1};  // (B, S, C)
    return st[r];
  }
  static constexpr std::size_t rank() noexcept { return 3; }
  constexpr bool is_exhaustive() const noexcept { return true; }
  static constexpr bool is_unique() noexcept { return true; }

 private:
  Extents ext_{};
};

// ---- traits and concepts ---------------------------------------------------------------------

template <class L>
concept bc1s_layout_like = requires(const L& l) {
  typename L::element_type;
  typename L::extents_type;
  { L::is_channels_first } -> std::convertible_to<bool>;
  { l.offset(0, 0, 0) } -> std::convertible_to<std::size_t>;
  { l.required_span_size() } -> std::convertible_to<std::size_t>;
};

template <class L>
inline constexpr bool is_channels_first_v = false;
template <class T, class E, std::size_t A>
inline constexpr bool is_channels_first_v<layout_bc1s<T, E, A>> = true;

// A layout every bc1s kernel accepts: channels-first with 64-byte rows.
template <class L>
concept bc1s_layout = is_channels_first_v<L> && L::row_align_bytes == kRowAlignBytes;

// Two static extents agree when either is dynamic or both are equal.
constexpr bool extents_agree(std::size_t a, std::size_t b) noexcept {
  return a == dyn || b == dyn || a == b;
}

}  // namespace bc1s
