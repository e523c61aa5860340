// A first look at bc1s: a (B, C, 1, S) layout, its padding and strides, and one kernel.
#include <cstdio>
#include <vector>

#include "bc1s/bc1s.hpp"
#include "bc1s/kernels/conv1x1.hpp"

int main() {
  using namespace bc1s;
  // Activations: B = 1 sentence, C = 768 channels, S = 10 tokens, stored as fp16.
  using act = layout_bc1s<half, extents<1, 768, 10>>;
  constexpr act L{};
  std::printf("layout_bc1s<half, extents<1, 768, 10>>\n");
  std::printf("  S = %zu padded to %zu lanes (64 bytes / sizeof(half) = %zu)\n", L.s(),
              L.padded_s(), act::kLanes);
  std::printf("  strides (B, C, 1, S) = (%zu, %zu, %zu, %zu), span %zu elements\n", L.stride(0),
              L.stride(1), L.stride(2), L.stride(3), L.required_span_size());
  std::printf("  offset(0, 3, 4) = %zu, exhaustive: %s\n", L.offset(0, 3, 4),
              L.is_exhaustive() ? "yes" : "no");
  using heads = head_split<768, 12>;
  std::printf("  head_split<768, 12>: %zu heads of D = %zu channels\n", heads::heads,
              heads::head_dim);

  // A Linear 768 -> 4 as a 1x1 convolution with fp16 weights, on fp32 activations.
  std::vector<float> w(4 * 768), bias{0.5f, -0.5f, 1.0f, 0.0f};
  for (std::size_t m = 0; m < 4; ++m)
    for (std::size_t k = 0; k < 768; ++k) w[m * 768 + k] = (k % (m + 2) == 0) ? 0.01f : 0.0f;
  conv1x1_weights<half, 4, 768> packed(4, 768, w, bias);
  tensor<float, layout_bc1s<float, extents<1, 768, 10>>> x;
  tensor<float, layout_bc1s<float, extents<1, 4, 10>>> y;
  for (std::size_t c = 0; c < 768; ++c)
    for (std::size_t s = 0; s < 10; ++s) x(0, c, s) = float(s);
  conv1x1(packed, x, y);
  std::printf("conv1x1 768 -> 4 (%s): y(0, c, s=1..3) =\n", simd::kIsaName);
  for (std::size_t c = 0; c < 4; ++c)
    std::printf("  c=%zu: %.4f %.4f %.4f\n", c, y(0, c, 1), y(0, c, 2), y(0, c, 3));
  return 0;
}
