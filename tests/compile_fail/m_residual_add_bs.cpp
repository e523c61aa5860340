// Compile-fail case (m): residual_add of two tensors of different B (static extents).
//   expected: "bc1s::residual_add: expected a and b with the same B and S; give both tensors the
//              same batch and sequence extents"
#include "bc1s/kernels/residual.hpp"

using L1 = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 128>>;
using L2 = bc1s::layout_bc1s<float, bc1s::extents<2, 768, 128>>;

int main() {
  bc1s::tensor<float, L1> x, sublayer, out;
  bc1s::residual_add(x, sublayer, out);  // control: same (B, C, S) everywhere

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, L2> sublayer_b2;
  bc1s::residual_add(x, sublayer_b2, out);  // B = 1 and B = 2
#endif
  return out(0, 0, 0) == 0.0f ? 0 : 1;
}
