// Compile-fail case (e): conv1x1 with input and output tensors of different S (static extents).
//   expected: "bc1s::conv1x1: expected input and output tensors with the same B and S; give both
//              tensors the same batch and sequence extents"
#include <vector>

#include "bc1s/kernels/conv1x1.hpp"

using L128 = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 128>>;
using L64 = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 64>>;

int main() {
  const std::vector<float> w(768 * 768, 0.01f);
  const bc1s::conv1x1_weights<float, 768, 768> packed(768, 768, w, {});
  bc1s::tensor<float, L128> in, out;
  bc1s::conv1x1(packed, in, out);  // control: S = 128 on both sides

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, L64> out_s64;
  bc1s::conv1x1(packed, in, out_s64);  // S = 128 in, S = 64 out
#endif
  return out(0, 0, 0) == 0.0f ? 0 : 1;
}
