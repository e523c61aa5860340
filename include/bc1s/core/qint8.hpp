// bc1s::qint8 — a symmetric int8 weight with a per-output-channel scale, as a weight storage type.
//
// Storage only: the value is q * scale[m], scale[m] = max_k |W[m][k]| / 127 chosen per output
// channel when conv1x1_weights packs the weights (kernels/weight_storage.hpp), q in [-127, 127]
// rounded to nearest even. Kernels multiply q by int8 activations quantised per position and
// accumulate in int32 (conv1x1_dot.hpp).
#pragma once

#include <cstdint>

namespace bc1s {

struct qint8 {
  std::int8_t q = 0;
};

static_assert(sizeof(qint8) == 1, "bc1s::qint8: expected 1-byte storage");

}  // namespace bc1s
