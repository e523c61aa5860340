// Compile-fail case (g): converting a view of static C = 768 into a view type of static C = 512.
//   expected: "bc1s::extents: static extents contradict the layout's: C differs; make the channel
//              counts equal or declare C as bc1s::dyn"
#include "bc1s/core/tensor.hpp"

using L768 = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 128>>;
using L512 = bc1s::layout_bc1s<float, bc1s::extents<1, 512, 128>>;
using Ldyn_c = bc1s::layout_bc1s<float, bc1s::extents<1, bc1s::dyn, 128>>;

int main() {
  bc1s::tensor<float, L768> t;
  // control: static C = 768 -> dynamic C (checked at run time, here 768 = 768)
  const bc1s::tensor_view<float, Ldyn_c> v_dyn = t.view();

#ifdef BC1S_COMPILE_FAIL
  const bc1s::tensor_view<float, L768> v768 = t.view();
  const bc1s::tensor_view<float, L512> v512 = v768;  // 768 != 512
  (void)v512;
#endif
  return v_dyn.c() == 768 ? 0 : 1;
}
