// The vector type the kernels are written against: xsimd batches of float, as wide as the build's
// target (16 lanes with AVX-512, 8 with AVX2, 4 with SSE2 or NEON).
#pragma once

#include <xsimd/xsimd.hpp>

#include <cstddef>

namespace bc1s::arch {

using fbatch = xsimd::batch<float>;
inline constexpr std::size_t kFloatLanes = fbatch::size;

}  // namespace bc1s::arch
