// bc1s::bf16 — bfloat16 (the top 16 bits of an IEEE binary32) as a weight storage type.
//
// 8 significant bits (relative rounding error <= 2^-9) and fp32's exponent range, so no weight
// overflows or flushes that fp32 holds. As with half, arithmetic is never done in bf16: values
// widen to float exactly (a 16-bit shift) and narrow with round-to-nearest-even; a NaN stays a
// quiet NaN with its sign and top payload bits.
#pragma once

#include <bit>
#include <cstdint>

namespace bc1s {

namespace detail {
// float -> bfloat16 bits, round to nearest, ties to even.
constexpr std::uint16_t float_to_bf16_bits(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) {  // NaN: quiet, top payload bits kept
    return static_cast<std::uint16_t>((x >> 16) | 0x0040u);
  }
  const std::uint32_t rounded = x + 0x7fffu + ((x >> 16) & 1u);  // overflow rounds to Inf
  return static_cast<std::uint16_t>(rounded >> 16);
}
constexpr float bf16_bits_to_float(std::uint16_t b) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}
}  // namespace detail

class bf16 {
 public:
  constexpr bf16() noexcept = default;
  constexpr explicit bf16(float f) noexcept : bits_(detail::float_to_bf16_bits(f)) {}
  constexpr explicit operator float() const noexcept { return detail::bf16_bits_to_float(bits_); }

  static constexpr bf16 from_bits(std::uint16_t b) noexcept {
    bf16 h;
    h.bits_ = b;
    return h;
  }
  constexpr std::uint16_t bits() const noexcept { return bits_; }

  friend constexpr bool operator==(bf16 a, bf16 b) noexcept {
    return static_cast<float>(a) == static_cast<float>(b);
  }

 private:
  std::uint16_t bits_ = 0;
};

static_assert(sizeof(bf16) == 2 && alignof(bf16) == 2, "bc1s::bf16: expected 2-byte storage");

constexpr float to_float(bf16 x) noexcept {
  return static_cast<float>(x);
}

}  // namespace bc1s
