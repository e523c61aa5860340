// Compile-fail case (b): a head split whose head count does not divide C (768 channels, 10 heads).
//   expected: "bc1s::head_split: expected C divisible by the number of heads H; choose H that
//              divides C (DistilBERT: C = 768, H = 12, D = 64)"
#include "bc1s/layout/heads.hpp"

int main() {
  using heads = bc1s::head_split<768, 12>;  // control: D = 64
  static_assert(heads::head_dim == 64);

#ifdef BC1S_COMPILE_FAIL
  using bad_heads = bc1s::head_split<768, 10>;  // 768 / 10 is not whole
  [[maybe_unused]] constexpr std::size_t d = bad_heads::head_dim;
#endif
  return heads{}.d() == 64 ? 0 : 1;
}
