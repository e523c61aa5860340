// Compile-fail case (k): attention on fp16 tensors with a query chunk of 16 columns sized for fp32:
// query_chunk<float, 16> is 64 bytes of float, but only 32 bytes of half.
//   expected: "bc1s::attention: expected a query chunk that is a multiple of 64 bytes of the query
//              storage type (Q a multiple of 32 for fp16, 16 for fp32); round Q up"
#include <vector>

#include <xsimd/xsimd.hpp>

#include "bc1s/core/half.hpp"
#include "bc1s/kernels/attention.hpp"

using bc1s::half;
using L = bc1s::layout_bc1s<half, bc1s::extents<1, 768, 128>>;
using heads12 = bc1s::head_split<768, 12>;

int main() {
  std::vector<float, xsimd::aligned_allocator<float, 64>> scratch(
      bc1s::attention_scratch_floats(128, 32, 1));
  bc1s::tensor<half, L> q, k, v, ctx;
  // control: 32 fp16 columns = 64 bytes
  bc1s::attention<heads12, bc1s::query_chunk<half, 32>>(q, k, v, ctx, {.scratch = scratch});

#ifdef BC1S_COMPILE_FAIL
  bc1s::attention<heads12, bc1s::query_chunk<float, 16>>(q, k, v, ctx, {.scratch = scratch});
#endif
  return bc1s::to_float(ctx(0, 0, 0)) == 0.0f ? 0 : 1;
}
