// The preconditions every kernel states, once, as readable compile-time errors
// ("bc1s::<kernel>: expected <what>; <how to fix>") and their run-time twins for dynamic extents
// (std::invalid_argument with the same wording).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "bc1s/core/half.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/layout/layout.hpp"

// KERNEL is a string literal ("conv1x1"); X a tensor or tensor_view type; WHAT names the argument.
#define BC1S_REQUIRE_TENSOR(KERNEL, X, WHAT)                            \
  static_assert(::bc1s::tensor_like<X>, "bc1s::" KERNEL                 \
                                        ": expected a bc1s::tensor or " \
                                        "bc1s::tensor_view as " WHAT)

#define BC1S_REQUIRE_CHANNELS_FIRST(KERNEL, L, WHAT)                                       \
  static_assert(std::type_identity_t<L>::is_channels_first,                                \
                "bc1s::" KERNEL ": expected a channels-first (B, C, 1, S) tensor as " WHAT \
                ", got a channels-last (B, S, C) one; store it as bc1s::layout_bc1s<T, "   \
                "bc1s::extents<B, C, S>> (transpose once where the data enters the model)")

#define BC1S_REQUIRE_ROW_ALIGN_64(KERNEL, L, WHAT)                                      \
  static_assert(!std::type_identity_t<L>::is_channels_first ||                          \
                    std::type_identity_t<L>::row_align_bytes == ::bc1s::kRowAlignBytes, \
                "bc1s::" KERNEL ": expected rows aligned to 64 bytes for " WHAT         \
                "; use bc1s::layout_bc1s<T, E> with the default row alignment "         \
                "(bc1s::kRowAlignBytes = 64)")

#define BC1S_REQUIRE_STORAGE(KERNEL, T, WHAT)                      \
  static_assert(::bc1s::is_storage_type_v<std::remove_const_t<T>>, \
                "bc1s::" KERNEL ": expected float or bc1s::half elements for " WHAT)

#define BC1S_REQUIRE_MUTABLE(KERNEL, T, WHAT)                                                \
  static_assert(!std::is_const_v<T>, "bc1s::" KERNEL ": expected a writable tensor as " WHAT \
                                     " (got a view of const elements)")

// A channels-first, 64-byte-row, float-or-half tensor argument.
#define BC1S_REQUIRE_BC1S_TENSOR(KERNEL, X, WHAT)                                              \
  BC1S_REQUIRE_TENSOR(KERNEL, X, WHAT);                                                        \
  BC1S_REQUIRE_CHANNELS_FIRST(KERNEL, typename ::bc1s::tensor_traits_t<X>::layout_type, WHAT); \
  BC1S_REQUIRE_ROW_ALIGN_64(KERNEL, typename ::bc1s::tensor_traits_t<X>::layout_type, WHAT);   \
  BC1S_REQUIRE_STORAGE(KERNEL, typename ::bc1s::tensor_traits_t<X>::element_type, WHAT)

// Input and output with the same B and S (static extents at compile time).
#define BC1S_REQUIRE_SAME_BS(KERNEL, LA, LB, WHAT)                             \
  static_assert(::bc1s::extents_agree(std::type_identity_t<LA>::static_b,      \
                                      std::type_identity_t<LB>::static_b) &&   \
                    ::bc1s::extents_agree(std::type_identity_t<LA>::static_s,  \
                                          std::type_identity_t<LB>::static_s), \
                "bc1s::" KERNEL ": expected " WHAT                             \
                " with the same B and S; give both tensors "                   \
                "the same batch and sequence extents")

// The same C (static extents at compile time).
#define BC1S_REQUIRE_SAME_C(KERNEL, LA, LB, WHAT)                          \
  static_assert(::bc1s::extents_agree(std::type_identity_t<LA>::static_c,  \
                                      std::type_identity_t<LB>::static_c), \
                "bc1s::" KERNEL ": expected " WHAT                         \
                " with the same C; give both tensors the "                 \
                "same channel count")

namespace bc1s::detail {

[[noreturn]] inline void throw_kernel(const char* kernel, const std::string& what) {
  throw std::invalid_argument(std::string("bc1s::") + kernel + ": " + what);
}

template <class VA, class VB>
void check_same_bs(const char* kernel, const VA& a, const VB& b, const char* what) {
  if (a.b() != b.b() || a.s() != b.s()) {
    throw_kernel(kernel, std::string("expected ") + what + " with the same B and S; got (B=" +
                             std::to_string(a.b()) + ", S=" + std::to_string(a.s()) +
                             ") and (B=" + std::to_string(b.b()) + ", S=" + std::to_string(b.s()) +
                             "); give both tensors the same batch and sequence extents");
  }
}

template <class VA, class VB>
void check_same_c(const char* kernel, const VA& a, const VB& b, const char* what) {
  if (a.c() != b.c()) {
    throw_kernel(kernel, std::string("expected ") + what + " with the same C; got C=" +
                             std::to_string(a.c()) + " and C=" + std::to_string(b.c()) +
                             "; give both tensors the same channel count");
  }
}

}  // namespace bc1s::detail
