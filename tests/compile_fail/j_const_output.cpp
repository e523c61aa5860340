// Compile-fail case (j): conv1x1 writing into a view of const elements.
//   expected: "bc1s::conv1x1: expected a writable tensor as the output (got a view of const
//              elements)"
#include <vector>

#include "bc1s/kernels/conv1x1.hpp"

using L = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 128>>;

int main() {
  const std::vector<float> w(768 * 768, 0.01f);
  const bc1s::conv1x1_weights<float, 768, 768> packed(768, 768, w, {});
  bc1s::tensor<float, L> in, out;
  bc1s::conv1x1(packed, in.cview(), out.view());  // control: const input, writable output

#ifdef BC1S_COMPILE_FAIL
  bc1s::conv1x1(packed, in.view(), out.cview());  // the output is a view of const float
#endif
  return out(0, 0, 0) == 0.0f ? 0 : 1;
}
