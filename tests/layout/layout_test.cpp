// Property tests for layout/{extents,layout,heads}.hpp: every coordinate of every layout is
// visited. B batch, C channels, S sequence, S_padded padded sequence, H heads, D head dim.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bc1s/core/half.hpp"
#include "bc1s/layout/extents.hpp"
#include "bc1s/layout/heads.hpp"
#include "bc1s/layout/layout.hpp"

namespace {

using bc1s::dextents;
using bc1s::dyn;
using bc1s::extents;
using bc1s::half;
using bc1s::head_split;
using bc1s::layout_bc1s;
using bc1s::layout_bsc;

// ---- compile-time contracts ------------------------------------------------------------------

// Every (b, c) row is padded to a whole number of 64-byte units:
// S_padded = round_up(S, 32) for fp16 and round_up(S, 16) for fp32.
static_assert(layout_bc1s<half, extents<1, 768, 1>>::static_padded_s == 32);
static_assert(layout_bc1s<half, extents<1, 768, 32>>::static_padded_s == 32);
static_assert(layout_bc1s<half, extents<1, 768, 33>>::static_padded_s == 64);
static_assert(layout_bc1s<float, extents<1, 768, 1>>::static_padded_s == 16);
static_assert(layout_bc1s<float, extents<1, 768, 16>>::static_padded_s == 16);
static_assert(layout_bc1s<float, extents<1, 768, 33>>::static_padded_s == 48);
static_assert(layout_bc1s<half, extents<1, 768, 1>>::kLanes == 32);
static_assert(layout_bc1s<float, extents<1, 768, 1>>::kLanes == 16);

// With all extents static, the span is a compile-time constant B * C * S_padded (the DistilBERT
// bucket S = 128 needs no padding); with any dynamic extent it is bc1s::dyn.
static_assert(layout_bc1s<half, extents<1, 768, 128>>::static_span_size == 768 * 128);
static_assert(layout_bc1s<float, extents<3, 5, 33>>::static_span_size == 3 * 5 * 48);
static_assert(layout_bc1s<half, extents<dyn, 768, 128>>::static_span_size == dyn);
static_assert(layout_bc1s<half, extents<1, 768, dyn>>::static_padded_s == dyn);

// offset(b, c, s) = (b * C + c) * S_padded + s, usable in constant expressions.
static_assert(layout_bc1s<half, extents<2, 3, 33>>{}.offset(1, 2, 5) == (1 * 3 + 2) * 64 + 5);
static_assert(layout_bc1s<float, extents<2, 3, 33>>{}.offset(1, 2, 5) == (1 * 3 + 2) * 48 + 5);
static_assert(layout_bc1s<half, extents<2, 3, 33>>{}.stride(0) == 3 * 64);
static_assert(layout_bc1s<half, extents<2, 3, 33>>{}.stride(3) == 1);

// A layout is exhaustive exactly when there are no padding lanes (S == S_padded).
static_assert(layout_bc1s<half, extents<1, 4, 64>>{}.is_exhaustive());
static_assert(!layout_bc1s<half, extents<1, 4, 63>>{}.is_exhaustive());
static_assert(layout_bc1s<float, extents<1, 4, 16>>{}.is_exhaustive());
static_assert(!layout_bc1s<float, extents<1, 4, 17>>{}.is_exhaustive());

// Kernels accept channels-first layouts with 64-byte rows only.
static_assert(bc1s::bc1s_layout<layout_bc1s<half, extents<1, 768, 128>>>);
static_assert(bc1s::bc1s_layout<layout_bc1s<float, dextents>>);
static_assert(!bc1s::bc1s_layout<layout_bsc<half, extents<1, 768, 128>>>);
static_assert(!bc1s::bc1s_layout<layout_bc1s<half, extents<1, 768, 128>, 32>>);
static_assert(bc1s::bc1s_layout_like<layout_bsc<float, dextents>>);

// Static extents convert to dynamic ones (and dynamic ones to static ones, checked at run time).
static_assert(std::is_convertible_v<extents<1, 768, 128>, dextents>);
static_assert(std::is_convertible_v<dextents, extents<1, 768, 128>>);
static_assert(extents<1, 768, 128>::is_static && !dextents::is_static);
static_assert(dextents(extents<1, 768, 128>{}) == dextents(1, 768, 128));

// C = H * D: heads are contiguous channel ranges of D channels (DistilBERT: 768 = 12 * 64).
static_assert(head_split<768, 12>::head_dim == 64);
static_assert(head_split<768, 12>{}.d() == 64);
static_assert(head_split<dyn, 12>::head_dim == dyn);
static_assert(bc1s::is_head_split_v<head_split<768, 12>> && !bc1s::is_head_split_v<int>);

// A query chunk of Q columns keeps each chunk of a row on a 64-byte boundary.
static_assert(bc1s::query_chunk<half, 32>::size == 32);
static_assert(bc1s::query_chunk<float, 16>::size == 16);

// ---- the property check ----------------------------------------------------------------------

// Smallest multiple of m that is >= x, by counting (independent of detail::round_up).
std::size_t smallest_multiple_at_least(std::size_t x, std::size_t m) {
  std::size_t r = 0;
  while (r < x) r += m;
  return r == 0 ? 0 : r;
}

template <class L>
void check_every_coordinate(const L& l, std::size_t B, std::size_t C, std::size_t S) {
  using T = typename L::element_type;
  SCOPED_TRACE("sizeof(T) = " + std::to_string(sizeof(T)) + ", B = " + std::to_string(B) +
               ", C = " + std::to_string(C) + ", S = " + std::to_string(S));
  ASSERT_EQ(l.b(), B);
  ASSERT_EQ(l.c(), C);
  ASSERT_EQ(l.s(), S);
  const std::size_t lanes = 64 / sizeof(T);
  const std::size_t sp = l.padded_s();
  ASSERT_EQ(sp, smallest_multiple_at_least(S, lanes));
  ASSERT_EQ(sp % lanes, 0u);
  const std::size_t span = l.required_span_size();
  ASSERT_EQ(span, B * C * sp);
  ASSERT_EQ(L::rank(), 4u);
  EXPECT_EQ(l.stride(0), C * sp);
  EXPECT_EQ(l.stride(1), sp);
  EXPECT_EQ(l.stride(2), sp);
  EXPECT_EQ(l.stride(3), 1u);

  std::vector<unsigned char> seen(span, 0);
  std::size_t visited = 0;
  std::size_t failures = 0;
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t c = 0; c < C; ++c) {
      for (std::size_t s = 0; s < S; ++s) {
        const std::size_t off = l.offset(b, c, s);
        const std::size_t by_strides =
            b * l.stride(0) + c * l.stride(1) + 0 * l.stride(2) + s * l.stride(3);
        bool ok = off < span && off == by_strides && seen[off] == 0;
        if (s == 0) ok = ok && (off * sizeof(T)) % 64 == 0;
        if (s > 0) ok = ok && off == l.offset(b, c, s - 1) + 1;  // rows are contiguous
        if (!ok) {
          if (++failures <= 5) {
            ADD_FAILURE() << "coordinate (" << b << ", " << c << ", " << s << ") -> offset " << off
                          << " (strides give " << by_strides << ", span " << span << ")";
          }
          continue;
        }
        seen[off] = 1;
        ++visited;
      }
    }
  }
  ASSERT_EQ(failures, 0u);
  EXPECT_EQ(visited, B * C * S);
  // The offsets never visited are exactly the padding lanes [S, S_padded) of each row.
  for (std::size_t off = 0; off < span; ++off) {
    if ((seen[off] != 0) != (off % sp < S)) {
      ADD_FAILURE() << "offset " << off << " visited = " << int(seen[off]);
      break;
    }
  }
  EXPECT_EQ(l.is_exhaustive(), S == sp);
  EXPECT_EQ(l.is_exhaustive(), visited == span);
  EXPECT_TRUE(L::is_unique());
}

template <std::size_t N, class F>
constexpr void static_for(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
  }
  (std::make_index_sequence<N>{});
}

constexpr std::array<std::size_t, 6> kS{1, 31, 32, 33, 128, 129};
constexpr std::array<std::size_t, 2> kB{1, 3};
constexpr std::array<std::size_t, 3> kC{1, 5, 64};

// One (B, C, S) under every mix of static and dynamic extents.
template <class T, std::size_t B, std::size_t C, std::size_t S>
void check_shape() {
  using fully_static = layout_bc1s<T, extents<B, C, S>>;
  static_assert(fully_static::static_padded_s ==
                (S + 64 / sizeof(T) - 1) / (64 / sizeof(T)) * (64 / sizeof(T)));
  static_assert(fully_static::static_span_size == B * C * fully_static::static_padded_s);
  check_every_coordinate(fully_static{}, B, C, S);
  check_every_coordinate(layout_bc1s<T, dextents>(B, C, S), B, C, S);
  check_every_coordinate(layout_bc1s<T, extents<dyn, C, S>>(B, C, S), B, C, S);
  check_every_coordinate(layout_bc1s<T, extents<B, C, dyn>>(B, C, S), B, C, S);
  check_every_coordinate(layout_bc1s<T, extents<dyn, dyn, S>>(dextents(B, C, S)), B, C, S);
  // Static and dynamic twins agree offset for offset.
  const fully_static st{};
  const layout_bc1s<T, dextents> dy(B, C, S);
  EXPECT_EQ(st.padded_s(), dy.padded_s());
  EXPECT_EQ(st.required_span_size(), dy.required_span_size());
  EXPECT_EQ(st.offset(B - 1, C - 1, S - 1), dy.offset(B - 1, C - 1, S - 1));
}

template <class T>
class LayoutTest : public ::testing::Test {};
using StorageTypes = ::testing::Types<half, float>;
TYPED_TEST_SUITE(LayoutTest, StorageTypes);

TYPED_TEST(LayoutTest, EveryCoordinateOfEveryShape) {
  using T = TypeParam;
  static_for<kS.size()>([](auto si) {
    static_for<kB.size()>([](auto bi) {
      static_for<kC.size()>([](auto ci) {
        check_shape<T, kB[decltype(bi)::value], kC[decltype(ci)::value], kS[decltype(si)::value]>();
      });
    });
  });
}

TYPED_TEST(LayoutTest, DynamicOnlyShapes) {
  // Shapes that are not instantiated statically, including empty extents.
  using T = TypeParam;
  for (std::size_t s : {2u, 15u, 16u, 17u, 63u, 64u, 65u, 200u}) {
    for (std::size_t c : {2u, 7u, 12u})
      check_every_coordinate(layout_bc1s<T, dextents>(2, c, s), 2, c, s);
  }
  const layout_bc1s<T, dextents> empty(0, 4, 10);
  EXPECT_EQ(empty.required_span_size(), 0u);
  const layout_bc1s<T, dextents> no_seq(2, 4, 0);
  EXPECT_EQ(no_seq.padded_s(), 0u);
  EXPECT_EQ(no_seq.required_span_size(), 0u);
}

TEST(LayoutBsc, EveryCoordinate) {
  // Channels-last: offset(b, c, s) = (b * S + s) * C + c, dense.
  const layout_bsc<float, dextents> l(3, 5, 33);
  std::vector<unsigned char> seen(l.required_span_size(), 0);
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t c = 0; c < 5; ++c)
      for (std::size_t s = 0; s < 33; ++s) {
        const std::size_t off = l.offset(b, c, s);
        ASSERT_LT(off, seen.size());
        ASSERT_EQ(seen[off], 0);
        ASSERT_EQ(off, b * l.stride(0) + s * l.stride(1) + c * l.stride(2));
        seen[off] = 1;
      }
  EXPECT_TRUE(l.is_exhaustive());
}

// ---- run-time twins of the compile-time checks -----------------------------------------------

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

constexpr const char* kContradict = "static extents contradict the layout's";
constexpr const char* kHeads = "expected C divisible by the number of heads";

TEST(Extents, RuntimeContradictionOfAStaticExtentThrows) {
  for (const std::string& msg : {
           invalid_argument_message([] {
             extents<1, dyn, dyn> e(2, 768, 128);
             (void)e;
           }),
           invalid_argument_message([] {
             extents<dyn, 768, dyn> e(1, 767, 128);
             (void)e;
           }),
           invalid_argument_message([] {
             extents<dyn, dyn, 128> e(1, 768, 127);
             (void)e;
           }),
           invalid_argument_message([] {
             extents<1, 768, 128> e(1, 768, 129);
             (void)e;
           }),
           invalid_argument_message([] {
             layout_bc1s<half, extents<1, 768, dyn>> l(1, 767, 5);
             (void)l;
           }),
           invalid_argument_message([] {
             const dextents d(2, 768, 5);
             const extents<1, 768, dyn> e(d);  // dynamic source, checked at run time
             (void)e;
           }),
       }) {
    EXPECT_NE(msg.find(kContradict), std::string::npos) << msg;
    EXPECT_NE(msg.find("bc1s::extents"), std::string::npos) << msg;
  }
  const std::string msg = invalid_argument_message([] {
    extents<1, dyn, dyn> e(2, 768, 128);
    (void)e;
  });
  EXPECT_NE(msg.find("B is 1 in the type but 2 was given"), std::string::npos) << msg;
}

TEST(Extents, AgreeingValuesAreAccepted) {
  const extents<1, dyn, 128> e(1, 768, 128);
  EXPECT_EQ(e.b(), 1u);
  EXPECT_EQ(e.c(), 768u);
  EXPECT_EQ(e.s(), 128u);
  const dextents d = e;
  EXPECT_EQ(d, dextents(1, 768, 128));
  const extents<1, 768, 128> back(d);
  EXPECT_EQ(dextents(back), d);
}

TEST(HeadSplit, HeadDimIsChannelsOverHeads) {
  EXPECT_EQ((head_split<768, 12>{}.d()), 64u);
  EXPECT_EQ((head_split<768, 12>{}.c()), 768u);
  EXPECT_EQ((head_split<dyn, 12>(768).d()), 64u);
  EXPECT_EQ((head_split<dyn, 12>(768).c()), 768u);
  EXPECT_EQ((head_split<768, 12>(768).d()), 64u);
  for (std::size_t h_times : {1u, 2u, 7u}) {
    EXPECT_EQ((head_split<dyn, 4>(4 * h_times).d()), h_times);
  }
  EXPECT_EQ((head_split<dyn, 1>(5).d()), 5u);
}

TEST(HeadSplit, RuntimeTwinThrowsOnIndivisibleC) {
  for (const std::string& msg : {
           invalid_argument_message([] {
             head_split<dyn, 12> h(770);
             (void)h;
           }),
           invalid_argument_message([] {
             head_split<dyn, 12> h(0);
             (void)h;
           }),
           invalid_argument_message([] {
             head_split<dyn, 5> h(64);
             (void)h;
           }),
           invalid_argument_message([] {
             head_split<768, 12> h(760);
             (void)h;
           }),
       }) {
    EXPECT_NE(msg.find(kHeads), std::string::npos) << msg;
    EXPECT_NE(msg.find("bc1s::head_split"), std::string::npos) << msg;
  }
  const std::string msg = invalid_argument_message([] {
    head_split<dyn, 12> h(770);
    (void)h;
  });
  EXPECT_NE(msg.find("C = 770, H = 12"), std::string::npos) << msg;
}

TEST(HeadSplit, RuntimeValueContradictingStaticC) {
  const std::string msg = invalid_argument_message([] {
    head_split<768, 12> h(384);
    (void)h;
  });
  EXPECT_NE(msg.find(kContradict), std::string::npos) << msg;
}

}  // namespace
