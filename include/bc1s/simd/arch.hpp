// The build's vector target as the kernels see it: xsimd float batches (fbatch, kFloatLanes), the
// target's name, and the AMX switch. Everything target-specific is in bc1s/arch/ (arch.hpp picks).
#pragma once

#include "bc1s/arch/arch.hpp"

namespace bc1s::simd {

using arch::fbatch;
using arch::kFloatLanes;
using arch::kHardwareF16;
using arch::kIsaName;

using arch::amx_enabled;
using arch::set_amx_enabled;

}  // namespace bc1s::simd
