// A kernel header that names an intrinsic outside bc1s/arch/: arch_boundary.cmake must reject it.
#pragma once
#if defined(__AVX512F__)
#include <immintrin.h>
inline __m512 twice(__m512 v) {
  return _mm512_add_ps(v, v);
}
#endif
