// Compile-fail case (d): conv1x1 with a weight packed for 512 input channels applied to an input of
// C = 768 (static extents on both sides).
//   expected: "bc1s::conv1x1: expected a weight whose input channels (Cin) equal the input
//              tensor's C; pack the weight as conv1x1_weights<T, Cout, C> for an input of C
//              channels"
#include <vector>

#include "bc1s/core/half.hpp"
#include "bc1s/kernels/conv1x1.hpp"

using L768 = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 128>>;
using L512 = bc1s::layout_bc1s<float, bc1s::extents<1, 512, 128>>;

int main() {
  const std::vector<float> w(768 * 512, 0.01f);
  bc1s::tensor<float, L768> in768;
  bc1s::tensor<float, L512> out512;
  // control: W (Cout = 512, Cin = 768) * in (1, 768, 1, 128) -> out (1, 512, 1, 128)
  const bc1s::conv1x1_weights<bc1s::half, 512, 768> down(512, 768, w, {});
  bc1s::conv1x1(down, in768, out512);

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, L768> out768;
  const bc1s::conv1x1_weights<bc1s::half, 768, 512> up(768, 512, w, {});  // Cin = 512
  bc1s::conv1x1(up, in768, out768);                                       // but C = 768
#endif
  return out512(0, 0, 0) == 0.0f ? 0 : 1;
}
