// core/tensor.hpp: owning tensors and non-owning views. B batch, C channels, S sequence.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bc1s/core/half.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/layout/layout.hpp"

namespace {

using bc1s::dextents;
using bc1s::dyn;
using bc1s::extents;
using bc1s::half;
using bc1s::layout_bc1s;
using bc1s::tensor;
using bc1s::tensor_view;

template <class T>
using static_layout = layout_bc1s<T, extents<2, 3, 33>>;
template <class T>
using dynamic_layout = layout_bc1s<T, dextents>;

// ---- compile-time contracts ------------------------------------------------------------------

// A view of T converts to a view of const T, never the other way round.
static_assert(std::is_convertible_v<tensor_view<float, static_layout<float>>,
                                    tensor_view<const float, static_layout<float>>>);
static_assert(!std::is_convertible_v<tensor_view<const float, static_layout<float>>,
                                     tensor_view<float, static_layout<float>>>);
// Static extents convert to dynamic ones (and back, checked at run time).
static_assert(std::is_convertible_v<tensor_view<half, static_layout<half>>,
                                    tensor_view<const half, dynamic_layout<half>>>);
static_assert(std::is_convertible_v<tensor_view<half, dynamic_layout<half>>,
                                    tensor_view<half, static_layout<half>>>);
// Element types never convert into each other.
static_assert(!std::is_convertible_v<tensor_view<float, dynamic_layout<float>>,
                                     tensor_view<const half, dynamic_layout<half>>>);
// Tensors convert to views of themselves; traits see through both.
static_assert(std::is_convertible_v<tensor<float, static_layout<float>>&,
                                    tensor_view<float, static_layout<float>>>);
static_assert(bc1s::tensor_like<tensor<float, static_layout<float>>&>);
static_assert(bc1s::tensor_like<const tensor_view<const half, dynamic_layout<half>>&>);
static_assert(!bc1s::tensor_like<std::vector<float>>);
static_assert(
    std::is_same_v<bc1s::tensor_traits_t<const tensor<half, static_layout<half>>&>::element_type,
                   const half>);
static_assert(
    std::is_same_v<bc1s::tensor_traits_t<tensor<half, static_layout<half>>>::value_type, half>);

// ---- owning tensors --------------------------------------------------------------------------

template <class T>
class TensorTest : public ::testing::Test {};
using StorageTypes = ::testing::Types<half, float>;
TYPED_TEST_SUITE(TensorTest, StorageTypes);

template <class T>
std::vector<unsigned char> bytes_of(const T* p, std::size_t n) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return std::vector<unsigned char>(b, b + n * sizeof(T));
}

TYPED_TEST(TensorTest, ZeroInitialisedPaddingIncludedAndAligned) {
  using T = TypeParam;
  for (std::size_t s : {1u, 31u, 32u, 33u, 129u}) {
    tensor<T, dynamic_layout<T>> t(3, 5, s);
    ASSERT_EQ(t.size(), 3 * 5 * t.mapping().padded_s());
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u);
    const auto bytes = bytes_of(t.data(), t.size());
    for (std::size_t i = 0; i < bytes.size(); ++i)
      ASSERT_EQ(bytes[i], 0) << "byte " << i << ", S = " << s;
    for (std::size_t b = 0; b < 3; ++b)
      for (std::size_t c = 0; c < 5; ++c) {
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.view().row(b, c)) % 64, 0u);
        EXPECT_EQ(t.view().row(b, c), &t(b, c, 0));
      }
  }
  tensor<T, static_layout<T>> st;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(st.data()) % 64, 0u);
  EXPECT_EQ(st.size(), static_layout<T>::static_span_size);
  for (std::size_t i = 0; i < st.size(); ++i) ASSERT_EQ(bc1s::to_float(st.data()[i]), 0.0f);
  tensor<T, dynamic_layout<T>> empty(0, 5, 7);  // an empty tensor still has a valid pointer
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_NE(empty.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(empty.data()) % 64, 0u);
}

TYPED_TEST(TensorTest, IndexingFollowsTheLayout) {
  using T = TypeParam;
  tensor<T, static_layout<T>> t;
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t s = 0; s < 33; ++s)
        t(b, c, s) = bc1s::from_float<T>(static_cast<float>(b * 100 + c * 40 + s));
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t s = 0; s < 33; ++s) {
        const float want = static_cast<float>(b * 100 + c * 40 + s);
        ASSERT_EQ(bc1s::to_float(t.data()[t.mapping().offset(b, c, s)]), want);
        ASSERT_EQ(bc1s::to_float(t.view()(b, c, s)), want);
        ASSERT_EQ(bc1s::to_float(std::as_const(t)(b, c, s)), want);
      }
}

TYPED_TEST(TensorTest, CopyIsDeepAndMoveKeepsTheBuffer) {
  using T = TypeParam;
  tensor<T, dynamic_layout<T>> a(2, 3, 20);
  for (std::size_t i = 0; i < a.size(); ++i)
    a.data()[i] = bc1s::from_float<T>(static_cast<float>(i % 97));
  // Copy: same bytes (padding lanes included), different buffer, independent afterwards.
  tensor<T, dynamic_layout<T>> b(a);
  ASSERT_NE(b.data(), a.data());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
  EXPECT_EQ(b.mapping(), a.mapping());
  EXPECT_EQ(bytes_of(b.data(), b.size()), bytes_of(a.data(), a.size()));
  b(1, 2, 19) = bc1s::from_float<T>(-1.0f);
  EXPECT_NE(bc1s::to_float(a(1, 2, 19)), -1.0f);

  // Copy assignment, to a tensor of another shape, and to itself.
  tensor<T, dynamic_layout<T>> c(1, 1, 1);
  c = a;
  EXPECT_EQ(c.mapping(), a.mapping());
  EXPECT_EQ(bytes_of(c.data(), c.size()), bytes_of(a.data(), a.size()));
  const auto before = bytes_of(c.data(), c.size());
  auto& c_alias = c;
  c = c_alias;
  EXPECT_EQ(bytes_of(c.data(), c.size()), before);

  // Move: the buffer changes hands.
  const T* buffer = a.data();
  tensor<T, dynamic_layout<T>> d(std::move(a));
  EXPECT_EQ(d.data(), buffer);
  EXPECT_EQ(d.size(), 2u * 3u * d.mapping().padded_s());
  tensor<T, dynamic_layout<T>> e(1, 1, 1);
  e = std::move(d);
  EXPECT_EQ(e.data(), buffer);
  EXPECT_EQ(bytes_of(e.data(), e.size()), bytes_of(c.data(), c.size()));
}

TYPED_TEST(TensorTest, StaticTensorCopies) {
  using T = TypeParam;
  tensor<T, static_layout<T>> a;
  a(1, 2, 32) = bc1s::from_float<T>(5.0f);
  const tensor<T, static_layout<T>> b = a;
  EXPECT_EQ(bc1s::to_float(b(1, 2, 32)), 5.0f);
  tensor<T, static_layout<T>> moved = std::move(a);
  EXPECT_EQ(bc1s::to_float(moved(1, 2, 32)), 5.0f);
}

TEST(Tensor, ContradictingRuntimeExtentsThrow) {
  using L = layout_bc1s<float, extents<1, dyn, 16>>;
  EXPECT_NO_THROW((tensor<float, L>(1, 8, 16)));
  try {
    tensor<float, L> t(1, 8, 17);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("static extents contradict the layout's"),
              std::string::npos)
        << e.what();
  }
}

// ---- views -----------------------------------------------------------------------------------

template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (...) {
    return "<an exception other than std::invalid_argument>";
  }
  return "<no exception>";
}

TYPED_TEST(TensorTest, ViewOfUnalignedPointerThrows) {
  using T = TypeParam;
  tensor<T, dynamic_layout<T>> t(1, 2, 40);
  const dynamic_layout<T> l(1, 1, 8);
  for (std::size_t shift = 1; shift < 64 / sizeof(T); ++shift) {
    const std::string msg = invalid_argument_message([&] {
      tensor_view<T, dynamic_layout<T>> v(t.data() + shift, l);
      (void)v;
    });
    EXPECT_NE(msg.find("aligned to 64 bytes"), std::string::npos)
        << "shift " << shift << ": " << msg;
  }
  // 64 bytes further is aligned again.
  EXPECT_NO_THROW((tensor_view<T, dynamic_layout<T>>(t.data() + 64 / sizeof(T), l)));
  // const views check the same way
  const std::string msg = invalid_argument_message([&] {
    tensor_view<const T, dynamic_layout<T>> v(std::as_const(t).data() + 1, l);
    (void)v;
  });
  EXPECT_NE(msg.find("aligned to 64 bytes"), std::string::npos) << msg;
}

TEST(TensorView, NullPointer) {
  const dynamic_layout<float> l(1, 1, 8);
  EXPECT_THROW((tensor_view<float, dynamic_layout<float>>(nullptr, l)), std::invalid_argument);
  EXPECT_NO_THROW(
      (tensor_view<float, dynamic_layout<float>>(nullptr, dynamic_layout<float>(0, 4, 8))));
}

TEST(TensorView, WrapsExternalAlignedMemory) {
  struct alignas(64) block {
    float x[16 * 6];
  };
  std::vector<block> storage(1);
  tensor_view<float, layout_bc1s<float, extents<2, 3, 10>>> v(storage[0].x, {});
  v(1, 2, 9) = 3.0f;
  EXPECT_EQ(storage[0].x[(1 * 3 + 2) * 16 + 9], 3.0f);
  EXPECT_EQ(v.size(), 96u);
}

TYPED_TEST(TensorTest, ViewConversionStaticToDynamicAndBack) {
  using T = TypeParam;
  tensor<T, static_layout<T>> t;
  tensor_view<T, static_layout<T>> sv = t;
  const tensor_view<T, dynamic_layout<T>> dv = sv;  // static -> dynamic
  EXPECT_EQ(dv.data(), t.data());
  EXPECT_EQ(dv.b(), 2u);
  EXPECT_EQ(dv.c(), 3u);
  EXPECT_EQ(dv.s(), 33u);
  EXPECT_EQ(dv.size(), t.size());
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t s = 0; s < 33; ++s) ASSERT_EQ(&dv(b, c, s), &sv(b, c, s));
  // Mixed extents, and dynamic -> static when the values agree.
  const tensor_view<T, layout_bc1s<T, extents<dyn, 3, dyn>>> mixed = sv;
  EXPECT_EQ(&mixed(1, 2, 32), &t(1, 2, 32));
  const tensor_view<T, static_layout<T>> back = dv;
  EXPECT_EQ(&back(1, 2, 32), &t(1, 2, 32));
  // dynamic -> static with other values: checked at run time.
  tensor<T, dynamic_layout<T>> other(2, 3, 34);
  const std::string msg = invalid_argument_message([&] {
    tensor_view<T, static_layout<T>> v = other.view();
    (void)v;
  });
  EXPECT_NE(msg.find("static extents contradict the layout's"), std::string::npos) << msg;
}

TYPED_TEST(TensorTest, ViewOfConst) {
  using T = TypeParam;
  tensor<T, static_layout<T>> t;
  t(0, 1, 2) = bc1s::from_float<T>(7.0f);
  const tensor_view<const T, static_layout<T>> cv = t.view();
  static_assert(std::is_same_v<decltype(cv(0, 0, 0)), const T&>);
  static_assert(std::is_same_v<decltype(cv.data()), const T*>);
  static_assert(
      std::is_same_v<decltype(std::as_const(t).view()), tensor_view<const T, static_layout<T>>>);
  static_assert(std::is_same_v<decltype(t.cview()), tensor_view<const T, static_layout<T>>>);
  static_assert(std::is_same_v<decltype(bc1s::as_view(std::as_const(t))),
                               tensor_view<const T, static_layout<T>>>);
  static_assert(std::is_same_v<decltype(bc1s::as_view(t)), tensor_view<T, static_layout<T>>>);
  EXPECT_EQ(bc1s::to_float(cv(0, 1, 2)), 7.0f);
  // const + static -> dynamic in one conversion
  const tensor_view<const T, dynamic_layout<T>> cdv = t.view();
  EXPECT_EQ(bc1s::to_float(cdv(0, 1, 2)), 7.0f);
  EXPECT_EQ(cdv.row(0, 1), cv.row(0, 1));
  const tensor_view<const T, static_layout<T>> from_const_tensor = std::as_const(t);
  EXPECT_EQ(from_const_tensor.data(), t.data());
}

// Large buffers come from their own 2 MiB aligned mapping (huge pages): zeroed, writable to the
// last element, and given back by the deleter.
TEST(AlignedZeros, LargeBuffersAreZeroedAndHugePageAligned) {
  for (std::size_t n : {std::size_t{1} << 19, (std::size_t{3} << 19) + 17}) {  // 2 MiB, 6 MiB+
    auto p = bc1s::detail::aligned_zeros<float>(n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p.get()) % bc1s::detail::kHugePageBytes, 0u);
    for (std::size_t i = 0; i < n; i += 997) ASSERT_EQ(p[i], 0.0f) << "at " << i;
    EXPECT_EQ(p[n - 1], 0.0f);
    p[n - 1] = 1.0f;
    p[0] = 2.0f;
  }
  auto small = bc1s::detail::aligned_zeros<half>(1000);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.get()) % 64, 0u);
  for (std::size_t i = 0; i < 1000; ++i) ASSERT_EQ(bc1s::to_float(small[i]), 0.0f);
}

TEST(WeightArena, PiecesAreAlignedZeroedAndDisjoint) {
  bc1s::weight_arena arena(bc1s::weight_arena::piece_bytes<half>(100) +
                           bc1s::weight_arena::piece_bytes<float>(3) +
                           bc1s::weight_arena::piece_bytes<float>(16));
  EXPECT_EQ(arena.capacity(), 256u + 64u + 64u);  // 200, 12 and 64 bytes, each rounded to 64
  auto a = arena.take<half>(100);
  auto b = arena.take<float>(3);
  auto c = arena.take<float>(16);
  EXPECT_EQ(arena.used(), arena.capacity());
  for (const void* p : {static_cast<const void*>(a.get()), static_cast<const void*>(b.get()),
                        static_cast<const void*>(c.get())}) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
  }
  EXPECT_EQ(reinterpret_cast<const char*>(b.get()) - reinterpret_cast<const char*>(a.get()), 256);
  EXPECT_EQ(reinterpret_cast<const char*>(c.get()) - reinterpret_cast<const char*>(b.get()), 64);
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(bc1s::to_float(a[i]), 0.0f);
  for (std::size_t i = 0; i < 16; ++i) ASSERT_EQ(c[i], 0.0f);
  for (std::size_t i = 0; i < 3; ++i) b[i] = 1.0f;  // stays inside its piece
  for (std::size_t i = 0; i < 16; ++i) ASSERT_EQ(c[i], 0.0f);
}

TEST(WeightArena, AFullArenaThrowsAndPiecesOutliveIt) {
  std::shared_ptr<float[]> kept;
  {
    bc1s::weight_arena arena(128);
    kept = arena.take<float>(16);
    kept[15] = 3.0f;
    EXPECT_NO_THROW((void)arena.take<float>(16));
    try {
      (void)arena.take<float>(1);
      FAIL() << "expected std::length_error";
    } catch (const std::length_error& e) {
      EXPECT_NE(std::string(e.what()).find("0 of 128 bytes left"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(kept[15], 3.0f);  // the block lives while a piece does (ASan checks this run)
}

}  // namespace
