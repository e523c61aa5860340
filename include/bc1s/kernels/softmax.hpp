// Softmax over the key axis of an attention score tile, with an additive per-key mask, and a
// vectorised fp32 exp.
//
// Dimension letters: B batch, S sequence, K keys, Q query columns (of one head's score tile).
//
// Score tiles in bc1s attention are keys x queries: scores[k * ld + q], row k = one key,
// contiguous over the query columns q. The softmax runs down each column (over k), so it
// vectorises across q: every lane is one query, and max and sum are fp32 per lane.
//
// Masks follow Hugging Face DistilBERT, which fills masked scores with torch.finfo(float32).min:
// pass key_mask_add[k] = 0 for a key to keep and std::numeric_limits<float>::lowest() (or any
// large negative finite value, e.g. -1e30f) for a key to drop. Adding that value swamps the
// score, so a column whose keys are ALL masked this way comes out uniform (1 / K), exactly as in
// HF. -inf masks work too: masked keys get exactly 0, and a column with every key at -inf comes
// out all zeros (never NaN).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "bc1s/simd/arch.hpp"

namespace bc1s::simd {

// exp(x), lane-wise, fp32, <= 2 ulp on [-88, 88] (subnormal results included: the scale 2^n is
// applied as two normal factors so gradual underflow rounds once). exp(x) = 0 for
// x < -103.97 (where the true value is below half the smallest subnormal) and for -inf,
// +inf for x > 88.72, NaN stays NaN. Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, and
// Cephes' degree-6 polynomial for exp(r).
inline fbatch exp(fbatch x) noexcept {
  const fbatch hi(88.72283935546875f);  // just below ln(FLT_MAX) = 88.7228391
  const fbatch lo(-103.972084045410f);  // ln(2^-150)
  const fbatch xc = xsimd::min(xsimd::max(x, lo), hi);
  const fbatch n = xsimd::nearbyint(xc * fbatch(1.44269504088896341f));
  fbatch r = xsimd::fnma(n, fbatch(0.693359375f), xc);  // ln2 = 0.693359375 - 2.12194440e-4
  r = xsimd::fnma(n, fbatch(-2.12194440e-4f), r);
  fbatch p = xsimd::fma(fbatch(1.9875691500e-4f), r, fbatch(1.3981999507e-3f));
  p = xsimd::fma(p, r, fbatch(8.3334519073e-3f));
  p = xsimd::fma(p, r, fbatch(4.1665795894e-2f));
  p = xsimd::fma(p, r, fbatch(1.6666665459e-1f));
  p = xsimd::fma(p, r, fbatch(5.0000001201e-1f));
  p = xsimd::fma(p, r * r, r + fbatch(1.f));
  // 2^n = 2^n1 * 2^n2 with n1 = floor(n / 2): both factors are normal for n in [-150, 128].
  using ibatch = xsimd::batch<std::int32_t>;
  const fbatch n1 = xsimd::floor(n * fbatch(0.5f));
  const fbatch n2 = n - n1;
  const fbatch s1 = xsimd::bitwise_cast<fbatch>((xsimd::to_int(n1) + ibatch(127)) << 23);
  const fbatch s2 = xsimd::bitwise_cast<fbatch>((xsimd::to_int(n2) + ibatch(127)) << 23);
  fbatch y = (p * s1) * s2;
  y = xsimd::select(x < lo, fbatch(0.f), y);
  y = xsimd::select(x > hi, fbatch(std::numeric_limits<float>::infinity()), y);
  return xsimd::select(xsimd::isnan(x), x, y);
}

}  // namespace bc1s::simd

namespace bc1s {

namespace detail {

// Softmax down NV adjacent vectors of query columns (NV * kFloatLanes queries), all keys.
template <std::size_t NV, bool HasMask>
inline void softmax_keys_block(float* col, std::size_t keys, std::size_t ld,
                               const float* mask) noexcept {
  using simd::fbatch;
  constexpr std::size_t L = simd::kFloatLanes;
  const fbatch neg_inf(-std::numeric_limits<float>::infinity());
  auto masked = [&](std::size_t k, std::size_t v) {
    const fbatch x = fbatch::load_unaligned(col + k * ld + v * L);
    if constexpr (HasMask) {
      return x + fbatch(mask[k]);
    } else {
      return x;
    }
  };
  fbatch m[NV];
  for (std::size_t v = 0; v < NV; ++v) m[v] = neg_inf;
  for (std::size_t k = 0; k < keys; ++k) {
    for (std::size_t v = 0; v < NV; ++v) m[v] = xsimd::max(m[v], masked(k, v));
  }
  // A column whose keys are all -inf: exp(-inf - 0) = 0 everywhere instead of NaN.
  for (std::size_t v = 0; v < NV; ++v) m[v] = xsimd::select(m[v] == neg_inf, fbatch(0.f), m[v]);
  fbatch sum[NV];
  for (std::size_t v = 0; v < NV; ++v) sum[v] = fbatch(0.f);
  for (std::size_t k = 0; k < keys; ++k) {
    for (std::size_t v = 0; v < NV; ++v) {
      const fbatch e = simd::exp(masked(k, v) - m[v]);
      sum[v] += e;
      e.store_unaligned(col + k * ld + v * L);
    }
  }
  fbatch inv[NV];
  for (std::size_t v = 0; v < NV; ++v) {
    inv[v] = xsimd::select(sum[v] > fbatch(0.f), fbatch(1.f) / sum[v], fbatch(0.f));
  }
  for (std::size_t k = 0; k < keys; ++k) {
    float* row = col + k * ld;
    for (std::size_t v = 0; v < NV; ++v) {
      (fbatch::load_unaligned(row + v * L) * inv[v]).store_unaligned(row + v * L);
    }
  }
}

template <bool HasMask>
inline void softmax_keys_columns(float* scores, std::size_t keys, std::size_t q_begin,
                                 std::size_t q_end, std::size_t ld, const float* mask) noexcept {
  constexpr std::size_t L = simd::kFloatLanes;
  constexpr std::size_t kBlock = 4;  // vectors of queries per pass down the keys
  std::size_t q = q_begin;
  for (; q + kBlock * L <= q_end; q += kBlock * L) {
    softmax_keys_block<kBlock, HasMask>(scores + q, keys, ld, mask);
  }
  for (; q + 2 * L <= q_end; q += 2 * L) softmax_keys_block<2, HasMask>(scores + q, keys, ld, mask);
  for (; q < q_end; q += L) softmax_keys_block<1, HasMask>(scores + q, keys, ld, mask);
}

}  // namespace detail

// scores (K, Q_padded; row stride ld) = softmax_K(scores + key_mask_add (K)), in place.
// For every query column q in [q_begin, q_end): p[k, q] = exp(z[k, q] - max_k z) / sum_k exp(...),
// z[k, q] = scores[k * ld + q] + key_mask_add[k] (key_mask_add may be nullptr: no mask). fp32 max
// and sum. Columns are independent: garbage in one column (e.g. query padding) never reaches
// another. q_begin and q_end must be multiples of simd::kFloatLanes (split query chunks over
// threads with parallel_ranges(queries_padded, simd::kFloatLanes, ...)).
inline void softmax_keys(float* scores, std::size_t keys, std::size_t q_begin, std::size_t q_end,
                         std::size_t ld, const float* key_mask_add) {
  constexpr std::size_t L = simd::kFloatLanes;
  if (q_begin % L != 0 || q_end % L != 0 || q_begin > q_end || q_end > ld) {
    throw std::invalid_argument(
        "bc1s::softmax_keys: expected query columns [q_begin, q_end) with q_begin <= q_end <= ld, "
        "both multiples of " +
        std::to_string(L) + " lanes; got [" + std::to_string(q_begin) + ", " +
        std::to_string(q_end) + ") with ld = " + std::to_string(ld) +
        "; pad the score rows to whole vectors (S_padded)");
  }
  if (keys == 0 || q_begin == q_end) return;
  if (scores == nullptr) {
    throw std::invalid_argument("bc1s::softmax_keys: expected a score tile, got a null pointer");
  }
  if (key_mask_add != nullptr) {
    detail::softmax_keys_columns<true>(scores, keys, q_begin, q_end, ld, key_mask_add);
  } else {
    detail::softmax_keys_columns<false>(scores, keys, q_begin, q_end, ld, nullptr);
  }
}

// scores (K, Q_padded; row stride ld) = softmax_K(scores + key_mask_add (K)), all query columns
// [0, queries_padded), in place. queries_padded must be a multiple of simd::kFloatLanes (any
// S_padded is) and <= ld.
inline void softmax_keys(float* scores, std::size_t keys, std::size_t queries_padded,
                         std::size_t ld, const float* key_mask_add) {
  softmax_keys(scores, keys, 0, queries_padded, ld, key_mask_add);
}

}  // namespace bc1s
