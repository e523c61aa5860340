// The one place a build's target is chosen. Each folder of bc1s/arch/ holds what the kernels need
// from one target: portable (any C++20 compiler, xsimd's widest batch), avx2 (AVX + F16C),
// avx512 (AVX-512F, with AVX512-BF16 / VNNI dot products), amx (Intel AMX tiles) and neon (Arm64).
// This header picks among them from the compiler's target macros and gives the kernels one set of
// names, bc1s::arch::*; no header outside bc1s/arch/ names an intrinsic or an ISA macro. (The AMX
// conv1x1 and attention kernels, arch/amx/conv1x1.hpp and attention.hpp, are included by the
// kernels that dispatch to them, under `if constexpr (arch::kAmx)`.)
#pragma once

#include <cstddef>

#include "bc1s/arch/amx/peak.hpp"
#include "bc1s/arch/amx/tiles.hpp"
#include "bc1s/arch/avx2/convert.hpp"
#include "bc1s/arch/avx512/convert.hpp"
#include "bc1s/arch/avx512/dot.hpp"
#include "bc1s/arch/avx512/peak.hpp"
#include "bc1s/arch/cpu.hpp"
#include "bc1s/arch/neon/convert.hpp"
#include "bc1s/arch/neon/dot.hpp"
#include "bc1s/arch/portable/convert.hpp"
#include "bc1s/arch/portable/dot.hpp"

namespace bc1s::arch {

// ---- the vector target: fp16 conversion and register budgets --------------------------------
#if defined(__AVX512F__)
namespace native = avx512;
inline constexpr const char* kIsaName = "avx512f+f16c+fma";
inline constexpr bool kHardwareF16 = true;  // fp16 <-> fp32 in one instruction
#elif defined(__AVX__) && defined(__F16C__)
namespace native = avx2;
inline constexpr bool kHardwareF16 = true;
#if defined(__AVX2__) && defined(__FMA__)
inline constexpr const char* kIsaName = "avx2+fma+f16c";
#else
inline constexpr const char* kIsaName = "avx+f16c";
#endif
#elif defined(__aarch64__) && defined(__ARM_NEON)
namespace native = neon;
inline constexpr bool kHardwareF16 = true;
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
inline constexpr const char* kIsaName = "neon+fp16 (armv8.2-a)";
#else
inline constexpr const char* kIsaName = "neon (armv8-a)";
#endif
#else
namespace native = portable;
inline constexpr bool kHardwareF16 = false;
#if defined(__SSE2__)
inline constexpr const char* kIsaName = "sse2 (portable)";
#else
inline constexpr const char* kIsaName = "scalar (portable)";
#endif
#endif

using native::float_to_half8;
using native::half_to_float8;
using native::kAttnAccRegs;
using native::kPanelRows;
using native::kTileCols;
using native::load;
using native::store;

// ---- dot-product microkernels of the bf16 and int8 weights -------------------------------------
#if defined(__AVX512BW__) && defined(__AVX512BF16__)
using bf16_dot = avx512::bf16_dot;
inline constexpr bool kBf16Dot = true;  // VDPBF16PS
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
using bf16_dot = neon::bf16_dot;
inline constexpr bool kBf16Dot = true;  // BFDOT
#else
using bf16_dot = portable::bf16_dot;
inline constexpr bool kBf16Dot = false;
#endif
#if defined(__AVX512BW__) && defined(__AVX512VNNI__)
using int8_dot = avx512::int8_dot;
inline constexpr bool kInt8Dot = true;  // VPDPBUSD
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_MATMUL_INT8)
using int8_dot = neon::int8_dot;
inline constexpr bool kInt8Dot = true;  // USDOT
#else
using int8_dot = portable::int8_dot;
inline constexpr bool kInt8Dot = false;
#endif

// ---- the peak loops of runtime/peak.hpp: {loop, FLOP per iteration}, loop nullptr if absent
// ------
struct peak_loop {
  double (*loop)(std::size_t iters);
  double flop_per_iter;
};
#if defined(__AVX512F__) && defined(__AVX512BF16__)
inline constexpr peak_loop kBf16DotPeak{&avx512::bf16_dot_loop, avx512::kBf16DotFlop};
#else
inline constexpr peak_loop kBf16DotPeak{nullptr, 0};
#endif
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
inline constexpr peak_loop kInt8DotPeak{&avx512::int8_dot_loop, avx512::kInt8DotOps};
#else
inline constexpr peak_loop kInt8DotPeak{nullptr, 0};
#endif
#if BC1S_HAS_AMX
inline constexpr peak_loop kBf16TilePeak{&amx::bf16_tile_loop, amx::kBf16TileFlop};
#else
inline constexpr peak_loop kBf16TilePeak{nullptr, 0};
#endif

}  // namespace bc1s::arch
