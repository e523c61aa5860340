// Compile-fail case (l): converting a channels-last (B, S, C) view into a channels-first
// (B, C, 1, S) view type of the same extents; the data would be read in the wrong order.
//   expected: "bc1s::tensor_view: expected the same layout kind on both sides; a channels-last
//              view cannot become a channels-first one without a transpose"
#include "bc1s/core/tensor.hpp"

using E = bc1s::extents<1, 768, 128>;
using Ldyn = bc1s::layout_bc1s<float, bc1s::dextents>;

int main() {
  bc1s::tensor<float, bc1s::layout_bc1s<float, E>> t;
  const bc1s::tensor_view<const float, Ldyn> v = t.cview();  // control: static -> dynamic, const

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, bc1s::layout_bsc<float, E>> t_bsc;
  const bc1s::tensor_view<const float, Ldyn> v_bad = t_bsc.cview();
  (void)v_bad;
#endif
  return v.s() == 128 ? 0 : 1;
}
