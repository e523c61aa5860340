// bc1s::half — IEEE 754 binary16 as a storage type.
//
// Arithmetic is never done in half: values are widened to float (exactly), computed in fp32 and
// narrowed back with round-to-nearest-even. Overflow rounds to +-Inf, results below the smallest
// normal become subnormals (or +-0), and a NaN stays a NaN (quiet, sign and top payload bits kept).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace bc1s {

namespace detail {

// float -> binary16 bits, round to nearest, ties to even. Portable; simd/convert.hpp gives
// the same bits with F16C or AVX-512.
constexpr std::uint16_t float_to_half_bits(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // Inf or NaN
    if (abs == 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
    // NaN: keep the top 10 payload bits, force quiet so it never becomes Inf.
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  if (abs >= 0x477ff000u) {  // >= 65520: rounds to Inf
    return static_cast<std::uint16_t>(sign | 0x7c00u);
  }
  if (abs < 0x38800000u) {  // below 2^-14: subnormal half or zero
    if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);  // < 2^-25 rounds to 0
    const std::uint32_t exp = abs >> 23;                             // 102..112
    const std::uint32_t mant = (abs & 0x7fffffu) | 0x800000u;        // implicit one
    const std::uint32_t shift = 126u - exp;                          // 14..24
    std::uint32_t h = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;
    return static_cast<std::uint16_t>(sign | h);
  }
  // Normal: rebias exponent (127 -> 15) and round the 13 dropped bits; a carry out of the
  // mantissa correctly bumps the exponent (up to Inf at the top, excluded above).
  std::uint32_t h = ((abs - 0x38000000u) >> 13);
  const std::uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<std::uint16_t>(sign | h);
}

// binary16 bits -> float, exact for every pattern.
constexpr float half_bits_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exp == 0x1fu) {
    // Inf, or NaN made quiet (as F16C and AVX-512 do), payload kept.
    bits = sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x400000u : 0u);
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    std::uint32_t e = 113u;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

}  // namespace detail

class half {
 public:
  constexpr half() noexcept = default;
  constexpr explicit half(float f) noexcept : bits_(detail::float_to_half_bits(f)) {}
  constexpr explicit operator float() const noexcept { return detail::half_bits_to_float(bits_); }

  static constexpr half from_bits(std::uint16_t b) noexcept {
    half h;
    h.bits_ = b;
    return h;
  }
  constexpr std::uint16_t bits() const noexcept { return bits_; }

  friend constexpr bool operator==(half a, half b) noexcept {
    return static_cast<float>(a) == static_cast<float>(b);
  }

 private:
  std::uint16_t bits_ = 0;
};

static_assert(sizeof(half) == 2 && alignof(half) == 2, "bc1s::half: expected 2-byte storage");

// Widen / narrow between storage types; the identity for float.
constexpr float to_float(float x) noexcept {
  return x;
}
constexpr float to_float(half x) noexcept {
  return static_cast<float>(x);
}
template <class T>
constexpr T from_float(float x) noexcept {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    return T(x);  // half, bf16: round to nearest even
  }
}

// Storage types the kernels accept.
template <class T>
inline constexpr bool is_storage_type_v = std::is_same_v<T, float> || std::is_same_v<T, half>;

}  // namespace bc1s
