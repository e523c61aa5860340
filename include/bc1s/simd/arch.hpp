// Architecture selection: kernels are written once against xsimd batches of float; the batch width
// is whatever the build targets (-march=native -> AVX-512 or AVX2, no flag -> SSE2).
#pragma once

#include <xsimd/xsimd.hpp>

#include <cstddef>

namespace bc1s::simd {

using fbatch = xsimd::batch<float>;
inline constexpr std::size_t kFloatLanes = fbatch::size;

#if defined(__AVX512F__)
inline constexpr const char* kIsaName = "avx512f+f16c+fma";
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
inline constexpr const char* kIsaName = "avx2+fma+f16c";
#elif defined(__AVX__)
inline constexpr const char* kIsaName = "avx";
#elif defined(__SSE2__)
inline constexpr const char* kIsaName = "sse2 (portable)";
#else
inline constexpr const char* kIsaName = "scalar (portable)";
#endif

#if defined(__F16C__) || defined(__AVX512F__)
inline constexpr bool kHardwareF16 = true;
#else
inline constexpr bool kHardwareF16 = false;
#endif

}  // namespace bc1s::simd
