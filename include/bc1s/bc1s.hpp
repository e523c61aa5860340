// bc1s: header-only C++20 SIMD tensor kernels with channels-first (B, C, 1, S) layouts as types.
#pragma once

#include "bc1s/layout/extents.hpp"
#include "bc1s/layout/heads.hpp"
#include "bc1s/layout/layout.hpp"

#include "bc1s/core/bf16.hpp"
#include "bc1s/core/half.hpp"
#include "bc1s/core/qint8.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/core/eigen.hpp"
#include "bc1s/core/xtensor.hpp"

#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

#include "bc1s/runtime/cpu.hpp"
#include "bc1s/runtime/peak.hpp"
#include "bc1s/kernels/checks.hpp"
#include "bc1s/runtime/thread_pool.hpp"
#include "bc1s/kernels/embedding.hpp"
#include "bc1s/kernels/gelu.hpp"
#include "bc1s/kernels/layer_norm.hpp"
#include "bc1s/kernels/residual.hpp"
#include "bc1s/kernels/softmax.hpp"
#include "bc1s/text/wordpiece.hpp"
