// bc1s::embedding_gather against a plain reference.
//
// Dimension letters: B batch, C channels, S sequence; V vocabulary, P positions, T token types.
#include <bc1s/kernels/embedding.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using bc1s::half;
constexpr double kU = 0x1p-24;   // fp32 unit roundoff
constexpr double kUh = 0x1p-11;  // fp16 unit roundoff
constexpr std::size_t kVocab = 1000, kMaxPos = 512, kTypes = 2;

template <class T, bool Static>
struct cfg {
  using value_type = T;
  static constexpr bool is_static = Static;
};
using Configs =
    ::testing::Types<cfg<half, true>, cfg<half, false>, cfg<float, true>, cfg<float, false>>;
struct ConfigNames {
  template <class C>
  static std::string GetName(int) {
    return std::string(std::is_same_v<typename C::value_type, half> ? "half" : "float") +
           (C::is_static ? "_static" : "_dynamic");
  }
};

template <std::size_t B, std::size_t C, std::size_t S>
struct static_shape {
  std::size_t b = B, c = C, s = S;
  template <class T>
  auto make() const {
    return bc1s::tensor<T, bc1s::layout_bc1s<T, bc1s::extents<B, C, S>>>{};
  }
};
struct dyn_shape {
  std::size_t b, c, s;
  template <class T>
  auto make() const {
    return bc1s::tensor<T, bc1s::layout_bc1s<T, bc1s::dextents>>(b, c, s);
  }
};

template <class Cfg, class F>
void for_each_shape(F&& f) {
  if constexpr (Cfg::is_static) {
    f(static_shape<1, 768, 128>{});
    f(static_shape<3, 24, 33>{});
    f(static_shape<1, 5, 7>{});
    f(static_shape<3, 768, 1>{});
    f(static_shape<1, 24, 512>{});
  } else {
    for (std::size_t b : {1, 3}) {
      for (std::size_t s : {1, 7, 31, 32, 33, 127, 128, 129, 512}) {
        for (std::size_t c : {5, 24, 768}) f(dyn_shape{b, c, s});
      }
    }
  }
}

template <class T>
std::vector<T> random_table(std::size_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<T> v(n);
  for (auto& x : v) x = bc1s::from_float<T>(u(gen));
  return v;
}

template <class Tensor>
void poison(Tensor& t) {  // every lane, padding included, to NaN: the kernel must write them all
  using T = typename Tensor::value_type;
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = bc1s::from_float<T>(std::nanf(""));
}

template <class Cfg>
class Embedding : public ::testing::Test {};
TYPED_TEST_SUITE(Embedding, Configs, ConfigNames);

TYPED_TEST(Embedding, GatherMatchesReference) {
  using T = typename TypeParam::value_type;
  constexpr bool kHalf = std::is_same_v<T, half>;
  std::mt19937 gen(41);
  double max_abs = 0, max_rel = 0;
  for_each_shape<TypeParam>([&](auto shape) {
    const std::size_t B = shape.b, C = shape.c, S = shape.s;
    const auto word_v = random_table<T>(kVocab * C, gen);
    const auto pos_v = random_table<T>(kMaxPos * C, gen);
    const auto type_v = random_table<T>(kTypes * C, gen);
    const bc1s::embedding_table<T> word(word_v, kVocab, C), pos(pos_v, kMaxPos, C),
        type(type_v, kTypes, C);
    std::vector<std::int32_t> ids(B * S), tids(B * S);
    std::uniform_int_distribution<std::int32_t> uid(0, kVocab - 1), utid(0, kTypes - 1);
    for (auto& i : ids) i = uid(gen);
    for (auto& i : tids) i = utid(gen);
    for (int with_type = 0; with_type < 2; ++with_type) {
      auto out = shape.template make<T>();
      poison(out);
      if (with_type) {
        bc1s::embedding_gather(word, pos, ids, type, tids, out);
      } else {
        bc1s::embedding_gather(word, pos, ids, out);
      }
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) {
          for (std::size_t s = 0; s < S; ++s) {
            const std::size_t id = static_cast<std::size_t>(ids[b * S + s]);
            double ref = static_cast<double>(bc1s::to_float(word_v[id * C + c])) +
                         bc1s::to_float(pos_v[s * C + c]);
            double mag = std::fabs(bc1s::to_float(word_v[id * C + c])) +
                         std::fabs(bc1s::to_float(pos_v[s * C + c]));
            if (with_type) {
              const float t =
                  bc1s::to_float(type_v[static_cast<std::size_t>(tids[b * S + s]) * C + c]);
              ref += t;
              mag += std::fabs(t);
            }
            // Two fp32 additions (each <= u of the running magnitude), then fp16 storage.
            const double tol = 2 * kU * mag + (kHalf ? kUh * std::fabs(ref) + 0x1p-25 : 0.0);
            const double got = bc1s::to_float(out(b, c, s));
            const double err = std::fabs(got - ref);
            max_abs = std::max(max_abs, err);
            if (std::fabs(ref) > 1e-2) max_rel = std::max(max_rel, err / std::fabs(ref));
            ASSERT_LE(err, tol) << "b=" << b << " c=" << c << " s=" << s;
          }
          for (std::size_t s = S; s < out.mapping().padded_s(); ++s)
            ASSERT_EQ(bc1s::to_float(out(b, c, s)), 0.f);
        }
    }
  });
  std::printf("embedding_gather<%s, %s>: max abs error %.3g, max rel error (|ref| > 0.01) %.3g\n",
              kHalf ? "half" : "float", TypeParam::is_static ? "static" : "dynamic", max_abs,
              max_rel);
}

TEST(EmbeddingMixed, HalfTablesFloatOutAndDefaultTypeIds) {
  const std::size_t B = 2, C = 24, S = 9;
  std::mt19937 gen(8);
  const auto word_v = random_table<half>(50 * C, gen);
  const auto pos_v = random_table<float>(16 * C, gen);
  const auto type_v = random_table<half>(2 * C, gen);
  const bc1s::embedding_table<half> word(word_v, 50, C), type(type_v, 2, C);
  const bc1s::embedding_table<float> pos(pos_v, 16, C);
  std::vector<std::int32_t> ids(B * S);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i % 50);
  bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>> out(B, C, S);
  bc1s::embedding_gather(word, pos, ids, type, {}, out);  // no type ids: type 0 everywhere
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) {
        const double ref = static_cast<double>(bc1s::to_float(
                               word_v[static_cast<std::size_t>(ids[b * S + s]) * C + c])) +
                           pos_v[s * C + c] + bc1s::to_float(type_v[c]);
        EXPECT_NEAR(out(b, c, s), ref, 6 * kU * 3);
      }
}

TEST(EmbeddingErrors, BadIdsAndShapes) {
  const std::size_t C = 8, S = 5;
  const std::vector<float> wv(10 * C, 1.f), pv(4 * C, 1.f), pv8(8 * C, 1.f), tv(2 * C, 1.f),
      wrong_c(10 * 7, 1.f);
  const bc1s::embedding_table<float> word(wv, 10, C), pos4(pv, 4, C), pos(pv8, 8, C),
      type(tv, 2, C), word7(wrong_c, 10, 7);
  bc1s::tensor<float, bc1s::layout_bc1s<float, bc1s::dextents>> out(2, C, S);
  std::vector<std::int32_t> ids(2 * S, 3);
  ids[1 * S + 4] = 10;  // == vocab: out of range, at (b = 1, s = 4)
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = 42.f;
  try {
    bc1s::embedding_gather(word, pos, ids, out);
    ADD_FAILURE() << "bad id accepted";
  } catch (const std::out_of_range& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("10"), std::string::npos) << msg;
    EXPECT_NE(msg.find("b = 1, s = 4"), std::string::npos) << msg;
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    ASSERT_EQ(out.data()[i], 42.f) << "written before the check";
  ids[1 * S + 4] = -1;
  EXPECT_THROW(bc1s::embedding_gather(word, pos, ids, out), std::out_of_range);
  ids[1 * S + 4] = 0;
  EXPECT_NO_THROW(bc1s::embedding_gather(word, pos, ids, out));
  EXPECT_THROW(bc1s::embedding_gather(word, pos4, ids, out), std::invalid_argument);  // S > max_pos
  EXPECT_THROW(bc1s::embedding_gather(word7, pos, ids, out), std::invalid_argument);  // C differs
  std::vector<std::int32_t> short_ids(S, 0);
  EXPECT_THROW(bc1s::embedding_gather(word, pos, short_ids, out), std::invalid_argument);
  std::vector<std::int32_t> tids(2 * S, 0);
  tids[3] = 2;
  EXPECT_THROW(bc1s::embedding_gather(word, pos, ids, type, tids, out), std::out_of_range);
  EXPECT_THROW(bc1s::embedding_table<float>(wv, 10, 9), std::invalid_argument);
}

}  // namespace
