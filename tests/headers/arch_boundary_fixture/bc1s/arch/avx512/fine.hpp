// Inside bc1s/arch/: intrinsics belong here, arch_boundary.cmake accepts them.
#pragma once
#if defined(__AVX512F__)
#include <immintrin.h>
inline __m512 twice(__m512 v) {
  return _mm512_add_ps(v, v);
}
#endif
