// Interop with Eigen: fp32 bc1s tensors seen as row-major Eigen::Map matrices, without a copy.
//
//   as_eigen(t, b)  (C, S)      batch b: row c is the (b, c) row of the tensor
//   as_eigen(t)     (B * C, S)  every batch: row b * C + c is the (b, c) row
//
// The outer stride is S_padded, so the padding lanes [S, S_padded) of each row are skipped, and
// every row starts on a 64-byte boundary (Eigen::Aligned64). The map writes through unless the
// tensor or view is const; the bc1s object must outlive it (an rvalue tensor is rejected).
// Storage must be float: Eigen does no arithmetic on bc1s::half, so widen first
// (bc1s::simd::half_to_float into a float tensor of the same extents).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <Eigen/Core>

#include "bc1s/core/tensor.hpp"
#include "bc1s/layout/layout.hpp"

namespace bc1s {

namespace detail {
template <class T>
using eigen_row_major_t =
    Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
using eigen_map_t = Eigen::Map<
    std::conditional_t<std::is_const_v<T>, const eigen_row_major_t<T>, eigen_row_major_t<T>>,
    Eigen::Aligned64, Eigen::OuterStride<>>;

template <class T, class L>
constexpr void check_eigen_interop() {
  static_assert(
      std::is_same_v<std::remove_const_t<T>, float>,
      "bc1s::as_eigen: expected float storage; Eigen does no arithmetic on bc1s::half, so "
      "widen into a float tensor first (bc1s::simd::half_to_float)");
  static_assert(bc1s_layout<L>,
                "bc1s::as_eigen: expected a channels-first bc1s layout (layout_bc1s with 64-byte "
                "rows); describe the data with layout_bc1s<float, extents<B, C, S>>");
}
}  // namespace detail

// (C, S) map of batch b; throws std::out_of_range when b >= B.
template <class T, class L>
detail::eigen_map_t<T> as_eigen(tensor_view<T, L> v, std::size_t b) {
  detail::check_eigen_interop<T, L>();
  const L& l = v.mapping();
  if (b >= l.b()) {
    throw std::out_of_range("bc1s::as_eigen: expected a batch index below B = " +
                            std::to_string(l.b()) + ", got b = " + std::to_string(b));
  }
  return detail::eigen_map_t<T>(v.row(b, 0), static_cast<Eigen::Index>(l.c()),
                                static_cast<Eigen::Index>(l.s()),
                                Eigen::OuterStride<>(static_cast<Eigen::Index>(l.padded_s())));
}

// (B * C, S) map of the whole tensor.
template <class T, class L>
detail::eigen_map_t<T> as_eigen(tensor_view<T, L> v) {
  detail::check_eigen_interop<T, L>();
  const L& l = v.mapping();
  return detail::eigen_map_t<T>(v.data(), static_cast<Eigen::Index>(l.b() * l.c()),
                                static_cast<Eigen::Index>(l.s()),
                                Eigen::OuterStride<>(static_cast<Eigen::Index>(l.padded_s())));
}

template <class T, class L>
auto as_eigen(tensor<T, L>& t, std::size_t b) {
  return as_eigen(t.view(), b);
}
template <class T, class L>
auto as_eigen(const tensor<T, L>& t, std::size_t b) {
  return as_eigen(t.view(), b);
}
template <class T, class L>
auto as_eigen(tensor<T, L>& t) {
  return as_eigen(t.view());
}
template <class T, class L>
auto as_eigen(const tensor<T, L>& t) {
  return as_eigen(t.view());
}
template <class T, class L>
void as_eigen(tensor<T, L>&& t, std::size_t b) = delete;  // the map would outlive the tensor
template <class T, class L>
void as_eigen(tensor<T, L>&& t) = delete;  // the map would outlive the tensor

}  // namespace bc1s
