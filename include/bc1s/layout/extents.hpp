// Extents of a (B, C, 1, S) tensor: each of B, C, S is a compile-time value or bc1s::dyn.
//
// Letters used throughout bc1s: B batch, C channels, S sequence, H heads, D head dim (C = H * D),
// Q query chunk.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

namespace bc1s {

inline constexpr std::size_t dyn = std::dynamic_extent;

namespace detail {
constexpr std::size_t round_up(std::size_t x, std::size_t m) noexcept {
  return (x + m - 1) / m * m;
}

[[noreturn]] inline void throw_shape(const std::string& msg) {
  throw std::invalid_argument(msg);
}
}  // namespace detail

// extents<B, C, S>: static values are stored in the type, dynamic ones (bc1s::dyn) in the object.
template <std::size_t B_, std::size_t C_, std::size_t S_>
class extents {
 public:
  static constexpr std::size_t static_b = B_;
  static constexpr std::size_t static_c = C_;
  static constexpr std::size_t static_s = S_;
  static constexpr bool is_static = B_ != dyn && C_ != dyn && S_ != dyn;

  constexpr extents() noexcept requires is_static = default;

  // Runtime extents; a value that contradicts a static extent is rejected (the run-time twin of
  // the compile-time check in the converting constructor below).
  constexpr extents(std::size_t b, std::size_t c, std::size_t s)
      : b_(B_ == dyn ? b : B_), c_(C_ == dyn ? c : C_), s_(S_ == dyn ? s : S_) {
    check_one('B', B_, b);
    check_one('C', C_, c);
    check_one('S', S_, s);
  }

  // Conversion between extents of the same shape, e.g. static -> dynamic. Static extents that
  // disagree are a compile error; a dynamic source is checked at run time.
  template <std::size_t B2, std::size_t C2, std::size_t S2>
  constexpr extents(const extents<B2, C2, S2>& o)  // NOLINT(google-explicit-constructor)
      : extents(o.b(), o.c(), o.s()) {
    static_assert(B_ == dyn || B2 == dyn || B_ == B2,
                  "bc1s::extents: static extents contradict the layout's: B differs; "
                  "make the batch sizes equal or declare B as bc1s::dyn");
    static_assert(C_ == dyn || C2 == dyn || C_ == C2,
                  "bc1s::extents: static extents contradict the layout's: C differs; "
                  "make the channel counts equal or declare C as bc1s::dyn");
    static_assert(S_ == dyn || S2 == dyn || S_ == S2,
                  "bc1s::extents: static extents contradict the layout's: S differs; "
                  "make the sequence lengths equal or declare S as bc1s::dyn");
  }

  constexpr std::size_t b() const noexcept { return B_ == dyn ? b_ : B_; }
  constexpr std::size_t c() const noexcept { return C_ == dyn ? c_ : C_; }
  constexpr std::size_t s() const noexcept { return S_ == dyn ? s_ : S_; }

  friend constexpr bool operator==(const extents& x, const extents& y) noexcept {
    return x.b() == y.b() && x.c() == y.c() && x.s() == y.s();
  }

 private:
  static constexpr void check_one(char name, std::size_t static_value, std::size_t value) {
    if (static_value != dyn && static_value != value) {
      detail::throw_shape(std::string("bc1s::extents: static extents contradict the layout's: ") +
                          name + " is " + std::to_string(static_value) + " in the type but " +
                          std::to_string(value) + " was given; pass " +
                          std::to_string(static_value) + " or declare " + name + " as bc1s::dyn");
    }
  }

  std::size_t b_ = B_ == dyn ? 0 : B_;
  std::size_t c_ = C_ == dyn ? 0 : C_;
  std::size_t s_ = S_ == dyn ? 0 : S_;
};

using dextents = extents<dyn, dyn, dyn>;

template <class T>
inline constexpr bool is_extents_v = false;
template <std::size_t B, std::size_t C, std::size_t S>
inline constexpr bool is_extents_v<extents<B, C, S>> = true;

}  // namespace bc1s
