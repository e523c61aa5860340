// Compile-fail case (h): attention declared with head_split<768, 12> on (B, C, 1, S) tensors of
// C = 512.
//   expected: "bc1s::attention: expected the head split's C to equal the tensors' C; declare
//              head_split<C, H> with the C of the (B, C, 1, S) tensors"
#include <vector>

#include <xsimd/xsimd.hpp>

#include "bc1s/kernels/attention.hpp"

using L768 = bc1s::layout_bc1s<float, bc1s::extents<1, 768, 128>>;
using L512 = bc1s::layout_bc1s<float, bc1s::extents<1, 512, 128>>;
using chunk32 = bc1s::query_chunk<float, 32>;

int main() {
  std::vector<float, xsimd::aligned_allocator<float, 64>> scratch(
      bc1s::attention_scratch_floats(128, chunk32::size, 1));
  bc1s::tensor<float, L768> q, k, v, ctx;
  // control: C = 768 = 12 heads of 64
  bc1s::attention<bc1s::head_split<768, 12>, chunk32>(q, k, v, ctx, {.scratch = scratch});

#ifdef BC1S_COMPILE_FAIL
  bc1s::tensor<float, L512> q5, k5, v5, ctx5;
  bc1s::attention<bc1s::head_split<768, 12>, chunk32>(q5, k5, v5, ctx5, {.scratch = scratch});
#endif
  return ctx(0, 0, 0) == 0.0f ? 0 : 1;
}
