// A user's project: only find_package(bc1s) and the umbrella header.
#include <bc1s/bc1s.hpp>

#include <cstdio>

int main() {
  using layout = bc1s::layout_bc1s<bc1s::half, bc1s::extents<1, 4, 5>>;
  bc1s::tensor<bc1s::half, layout> t;
  t(0, 3, 4) = bc1s::half(1.5f);
  const float back = static_cast<float>(t(0, 3, 4));
  std::printf("bc1s consumer: padded S = %zu, value = %g\n", t.mapping().padded_s(), back);
  return (back == 1.5f && t.mapping().padded_s() == 32) ? 0 : 1;
}
