// Compile-fail case (a): conv1x1 given a channels-last (B, S, C) tensor where it expects the
// channels-first (B, C, 1, S) layout.
//   expected: "bc1s::conv1x1: expected a channels-first (B, C, 1, S) tensor as the input, got a
//              channels-last (B, S, C) one; store it as bc1s::layout_bc1s<T, ...>"
// The control (always built) does the same call with a layout_bc1s input; the bad call is compiled
// only with BC1S_COMPILE_FAIL defined (see CMakeLists.txt in this folder).
#include <vector>

#include "bc1s/kernels/conv1x1.hpp"

using E = bc1s::extents<1, 768, 128>;  // (B, C, S)

int main() {
  const std::vector<float> w(768 * 768, 0.01f);
  const bc1s::conv1x1_weights<float, 768, 768> packed(768, 768, w, {});
  bc1s::tensor<float, bc1s::layout_bc1s<float, E>> in, out;
  bc1s::conv1x1(packed, in, out);  // control: channels-first in and out

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, bc1s::layout_bsc<float, E>> in_bsc;  // channels-last (B, S, C)
  bc1s::conv1x1(packed, in_bsc, out);
#endif
  return out(0, 0, 0) == 0.0f ? 0 : 1;
}
