// Compile-fail case (f): conv1x1 given a channels-first tensor whose rows are aligned to 32 bytes;
// every bc1s kernel needs 64-byte rows.
//   expected: "bc1s::conv1x1: expected rows aligned to 64 bytes for the input; use
//              bc1s::layout_bc1s<T, E> with the default row alignment (bc1s::kRowAlignBytes = 64)"
#include <vector>

#include "bc1s/kernels/conv1x1.hpp"

using E = bc1s::extents<1, 768, 128>;

int main() {
  const std::vector<float> w(768 * 768, 0.01f);
  const bc1s::conv1x1_weights<float, 768, 768> packed(768, 768, w, {});
  bc1s::tensor<float, bc1s::layout_bc1s<float, E>> in, out;  // control: default 64-byte rows
  bc1s::conv1x1(packed, in, out);

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, bc1s::layout_bc1s<float, E, 32>> in32;  // 32-byte rows
  bc1s::conv1x1(packed, in32, out);
#endif
  return out(0, 0, 0) == 0.0f ? 0 : 1;
}
