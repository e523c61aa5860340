// Compile-fail case (c): a query chunk of 24 fp32 columns (96 bytes), not a multiple of 64 bytes.
//   expected: "bc1s::query_chunk: expected a chunk of Q columns that is a multiple of 64 bytes
//              (Q a multiple of 32 for fp16, 16 for fp32); round Q up to such a multiple"
#include "bc1s/layout/heads.hpp"

int main() {
  using chunk = bc1s::query_chunk<float, 32>;  // control: 128 bytes
  static_assert(chunk::size == 32);

#ifdef BC1S_COMPILE_FAIL
  using bad_chunk = bc1s::query_chunk<float, 24>;  // 96 bytes
  [[maybe_unused]] constexpr std::size_t q = bad_chunk::size;
#endif
  return 0;
}
