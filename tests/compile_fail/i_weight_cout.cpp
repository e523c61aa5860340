// Compile-fail case (i): conv1x1 whose weight has 3072 output channels writing into an output of
// C = 768 (static extents on both sides).
//   expected: "bc1s::conv1x1: expected a weight whose output channels (Cout) equal the output
//              tensor's C; give the output tensor Cout channels"
#include <vector>

#include "bc1s/kernels/conv1x1.hpp"

using L768 = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 128>>;
using L3072 = bc1s::layout_bc1s<float, bc1s::extents<1, 3072, 128>>;

int main() {
  const std::vector<float> w(3072 * 768, 0.01f);
  const bc1s::conv1x1_weights<float, 3072, 768> ffn_up(3072, 768, w, {});
  bc1s::tensor<float, L768> in;
  bc1s::tensor<float, L3072> hidden;
  bc1s::conv1x1(ffn_up, in, hidden, bc1s::epi::gelu{});  // control: Cout = 3072 = C of the output

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, L768> out768;
  bc1s::conv1x1(ffn_up, in, out768, bc1s::epi::gelu{});  // Cout = 3072, C = 768
#endif
  return hidden(0, 0, 0) == 0.0f ? 0 : 1;
}
