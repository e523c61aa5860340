// Interop with xtensor: bc1s tensors seen as xtensor expressions, without a copy.
//
//   as_xtensor(t)        (B, C, 1, S)        the logical tensor; padding lanes hidden
//   as_xtensor_padded(t) (B, C, S_padded)    the whole storage, padding lanes included
//
// Both write through to the bc1s storage (plain `x = expr` included) unless the tensor or view is
// const. The bc1s object must outlive the expression; an rvalue tensor is rejected.
//
// Why a view and not xt::adapt(ptr, size, no_ownership(), shape, strides) (xtensor 0.24.3,
// xadapt.hpp / xcontainer.hpp / xtensor.hpp):
//   - The strided adapt() calls xstrided_container::resize(shape, strides), which resizes the
//     buffer to the product of the shape, B * C * S. A non-owning buffer cannot resize, so `size`
//     must be the LOGICAL element count; passing the real span B * C * S_padded throws
//     std::runtime_error("xbuffer_storage not resizable").
//   - With the logical size, storage() and the linear iterators cover elements [0, B*C*S) of the
//     buffer, which are not the tensor's elements once rows are padded; and `adaptor = expr`
//     (xtensor_adaptor::operator=(temporary_type&&)) replaces the strides by row-major ones and
//     copies the temporary linearly, writing valid data into padding lanes. Only
//     xt::noalias(adaptor) = expr assigns through the strides.
// So as_xtensor() adapts the full, dense (B, C, 1, S_padded) storage (size = required span) and
// returns xt::view(..., all, all, all, range(0, S)): shape (B, C, 1, S), strides
// (C * S_padded, S_padded, 0 for the singleton axis, 1), and view semantics for assignment.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include <xtensor/xadapt.hpp>
#include <xtensor/xslice.hpp>
#include <xtensor/xview.hpp>

#include "bc1s/core/tensor.hpp"
#include "bc1s/layout/layout.hpp"

namespace bc1s {

// (B, C, S_padded) over the whole storage, row-major and dense: the padding lanes included.
template <class T, class L>
auto as_xtensor_padded(tensor_view<T, L> v) {
  static_assert(bc1s_layout<L>,
                "bc1s::as_xtensor_padded: expected a channels-first bc1s layout (layout_bc1s with "
                "64-byte rows); describe the data with layout_bc1s<T, extents<B, C, S>>");
  const L& l = v.mapping();
  return xt::adapt(v.data(), l.required_span_size(), xt::no_ownership(),
                   std::array<std::size_t, 3>{l.b(), l.c(), l.padded_s()});
}

// (B, C, 1, S): the logical tensor, padding lanes hidden.
template <class T, class L>
auto as_xtensor(tensor_view<T, L> v) {
  static_assert(bc1s_layout<L>,
                "bc1s::as_xtensor: expected a channels-first bc1s layout (layout_bc1s with "
                "64-byte rows); describe the data with layout_bc1s<T, extents<B, C, S>>");
  const L& l = v.mapping();
  return xt::view(xt::adapt(v.data(), l.required_span_size(), xt::no_ownership(),
                            std::array<std::size_t, 4>{l.b(), l.c(), std::size_t{1}, l.padded_s()}),
                  xt::all(), xt::all(), xt::all(), xt::range(std::size_t{0}, l.s()));
}

template <class T, class L>
auto as_xtensor(tensor<T, L>& t) {
  return as_xtensor(t.view());
}
template <class T, class L>
auto as_xtensor(const tensor<T, L>& t) {
  return as_xtensor(t.view());
}
template <class T, class L>
void as_xtensor(tensor<T, L>&& t) = delete;  // the expression would outlive the tensor

template <class T, class L>
auto as_xtensor_padded(tensor<T, L>& t) {
  return as_xtensor_padded(t.view());
}
template <class T, class L>
auto as_xtensor_padded(const tensor<T, L>& t) {
  return as_xtensor_padded(t.view());
}
template <class T, class L>
void as_xtensor_padded(tensor<T, L>&& t) = delete;  // the expression would outlive the tensor

}  // namespace bc1s
