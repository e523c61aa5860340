// Dynamic batching (bc1s/nn/batching.hpp): the plan's buckets, and batched results against the
// same sentences run one at a time (DistilBERT logits, BERT hidden states and pooled embeddings),
// in input order. The poolings (cls_pool, mean_pool, max_pool) against plain loops and against
// sentence-transformers' Pooling and Normalize (tests/data/pooling/golden.json, written by
// tools/make_pooling_golden.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/nn/batching.hpp"
#include "bc1s/nn/bert.hpp"
#include "bc1s/nn/distilbert.hpp"

namespace {

struct tiny_distilbert {
  static constexpr std::size_t dim = 64, heads = 4, hidden = 128, layers = 2, vocab = 1000,
                               max_positions = 96, num_labels = 3;
  static constexpr float layer_norm_eps = 1e-12f;
};
struct tiny_bert {
  static constexpr std::size_t dim = 64, heads = 2, hidden = 128, layers = 2, vocab = 1000,
                               max_positions = 96, type_vocab = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

// 23 sentences of 1..90 tokens, [CLS] ... [SEP].
std::vector<std::vector<std::int32_t>> sentences() {
  std::mt19937 rng(5);
  std::vector<std::vector<std::int32_t>> out;
  for (int i = 0; i < 23; ++i) {
    const std::size_t n = i == 0 ? 1 : 2 + rng() % 89;
    std::vector<std::int32_t> s(n);
    for (auto& t : s) t = std::int32_t(1 + rng() % 999);
    s.front() = 101;
    if (n > 1) s.back() = 102;
    out.push_back(s);
  }
  return out;
}

TEST(Batching, PlanGroupsByBucketAndKeepsEveryIndexOnce) {
  const std::vector<std::size_t> len = {5, 40, 16, 17, 3, 33, 16, 90, 1, 48};
  const auto plan = bc1s::nn::plan_batches(len, 2);
  std::vector<int> seen(len.size(), 0);
  for (const auto& p : plan) {
    ASSERT_GE(p.index.size(), 1u);
    ASSERT_LE(p.index.size(), 2u);
    const std::size_t bucket = (len[p.index[0]] + 15) / 16;
    std::size_t longest = 0;
    for (auto i : p.index) {
      ++seen[i];
      EXPECT_EQ((len[i] + 15) / 16, bucket) << "index " << i;
      longest = std::max(longest, len[i]);
    }
    EXPECT_EQ(p.seq, longest);
  }
  for (std::size_t i = 0; i < len.size(); ++i) EXPECT_EQ(seen[i], 1) << "index " << i;
  // Buckets: {5, 16, 3, 16, 1} -> 3 batches of at most 2, {17} -> 1, {40, 33, 48} -> 2, {90} -> 1.
  EXPECT_EQ(plan.size(), 3u + 1u + 2u + 1u);
  EXPECT_THROW(bc1s::nn::plan_batches(len, 0), std::invalid_argument);
}

TEST(Batching, DistilbertLogitsMatchOneAtATime) {
  using M = bc1s::nn::distilbert<tiny_distilbert, bc1s::half>;
  const auto m = M::synthetic(3);
  const auto sent = sentences();
  bc1s::runtime::thread_pool pool(2);
  M::workspace one(1, 96, 2), many(4, 96, 2);
  std::vector<std::vector<float>> batched(sent.size());
  std::vector<int> calls(sent.size(), 0);
  bc1s::nn::run_batched(m, many, sent, 4, &pool,
                        [&](std::size_t i, const M::workspace& ws, std::size_t b) {
                          ++calls[i];
                          batched[i].assign(ws.logits().begin() + std::ptrdiff_t(b * 3),
                                            ws.logits().begin() + std::ptrdiff_t(b * 3 + 3));
                        });
  double worst = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    ASSERT_EQ(calls[i], 1);
    m.forward(one, sent[i], {}, 1, sent[i].size(), &pool);
    for (std::size_t l = 0; l < 3; ++l)
      worst = std::max(worst, double(std::abs(one.logits()[l] - batched[i][l])));
  }
  EXPECT_LT(worst, 1e-4) << "largest logit difference, batched vs alone";
}

TEST(Batching, BertEmbeddingsMatchOneAtATime) {
  using M = bc1s::nn::bert<tiny_bert, bc1s::half>;
  const auto m = M::synthetic(3, false);
  const auto sent = sentences();
  M::workspace one(1, 96), many(8, 96);
  std::vector<std::vector<float>> batched(sent.size(), std::vector<float>(64)),
      batched_max = batched, batched_cls = batched;
  bc1s::nn::run_batched(m, many, sent, 8, nullptr,
                        [&](std::size_t i, const M::workspace& ws, std::size_t b) {
                          bc1s::nn::mean_pool(ws.hidden(), b, sent[i].size(), batched[i]);
                          bc1s::nn::max_pool(ws.hidden(), b, sent[i].size(), batched_max[i]);
                          bc1s::nn::cls_pool(ws.hidden(), b, sent[i].size(), batched_cls[i]);
                        });
  double worst_cos = 1, worst_other = 1;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    m.forward(one, sent[i], {}, 1, sent[i].size());
    std::vector<float> e(64);
    bc1s::nn::mean_pool(one.hidden(), 0, sent[i].size(), e);
    // Reference mean and norm by hand, in double.
    std::vector<double> ref(64);
    double sq = 0;
    for (std::size_t c = 0; c < 64; ++c) {
      for (std::size_t s = 0; s < sent[i].size(); ++s) ref[c] += one.hidden()(0, c, s);
      ref[c] /= double(sent[i].size());
      sq += ref[c] * ref[c];
    }
    double cos = 0, dot_ref = 0;
    for (std::size_t c = 0; c < 64; ++c) {
      cos += double(batched[i][c]) * e[c];
      dot_ref += ref[c] / std::sqrt(sq) * e[c];
    }
    EXPECT_NEAR(dot_ref, 1.0, 1e-6) << "mean_pool against the hand reference, sentence " << i;
    worst_cos = std::min(worst_cos, cos);
    std::vector<float> mx(64), cl(64);
    bc1s::nn::max_pool(one.hidden(), 0, sent[i].size(), mx);
    bc1s::nn::cls_pool(one.hidden(), 0, sent[i].size(), cl);
    double cos_max = 0, cos_cls = 0;
    for (std::size_t c = 0; c < 64; ++c) {
      cos_max += double(batched_max[i][c]) * mx[c];
      cos_cls += double(batched_cls[i][c]) * cl[c];
    }
    worst_other = std::min({worst_other, cos_max, cos_cls});
  }
  EXPECT_GT(worst_cos, 1.0 - 1e-6) << "lowest cosine, batched vs alone";
  EXPECT_GT(worst_other, 1.0 - 1e-6) << "lowest cosine of max_pool / cls_pool, batched vs alone";
}

// A (B, C, 1, S) hidden state in a plain vector: offset(b, c, s) = (b*C + c) * S + s.
struct plain_hidden {
  std::size_t B = 0, C = 0, S = 0;
  std::vector<float> v;
  plain_hidden(std::size_t b, std::size_t c, std::size_t s) : B(b), C(c), S(s), v(b * c * s) {}
  std::size_t b() const { return B; }
  std::size_t c() const { return C; }
  std::size_t s() const { return S; }
  const float* row(std::size_t b, std::size_t c) const { return v.data() + (b * C + c) * S; }
  float& at(std::size_t b, std::size_t c, std::size_t s) { return v[(b * C + c) * S + s]; }
};

enum class mode { cls, mean, max };

void pool(mode m, const plain_hidden& h, std::size_t b, std::size_t len, std::span<float> out,
          bool normalize) {
  if (m == mode::cls) bc1s::nn::cls_pool(h, b, len, out, normalize);
  if (m == mode::mean) bc1s::nn::mean_pool(h, b, len, out, normalize);
  if (m == mode::max) bc1s::nn::max_pool(h, b, len, out, normalize);
}

// The plain reference, in double: the first token, the mean or the maximum of the first len
// columns, then divided by the L2 norm when normalize.
std::vector<double> reference_pool(mode m, const plain_hidden& h, std::size_t b, std::size_t len,
                                   bool normalize) {
  std::vector<double> out(h.C);
  double sq = 0;
  for (std::size_t c = 0; c < h.C; ++c) {
    const float* row = h.row(b, c);
    double acc = m == mode::mean ? 0.0 : row[0];
    for (std::size_t s = 0; s < len; ++s) {
      if (m == mode::mean) acc += row[s];
      if (m == mode::max && row[s] > acc) acc = row[s];
    }
    out[c] = m == mode::mean ? acc / double(len) : acc;
    sq += out[c] * out[c];
  }
  if (normalize)
    for (auto& x : out) x /= std::max(std::sqrt(sq), 1e-12);
  return out;
}

TEST(Pooling, ClsMeanMaxMatchPlainLoops) {
  // Padding columns hold +-100: a pooling that reads them is far off.
  constexpr std::size_t B = 4, C = 37, S = 29;
  const std::size_t lengths[B] = {29, 1, 13, 2};
  plain_hidden h(B, C, S);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s)
        h.at(b, c, s) = s < lengths[b] ? nd(rng) : ((rng() & 1) ? 100.0f : -100.0f);
  for (const mode m : {mode::cls, mode::mean, mode::max}) {
    for (const bool normalize : {false, true}) {
      double worst = 0;
      for (std::size_t b = 0; b < B; ++b) {
        std::vector<float> out(C);
        pool(m, h, b, lengths[b], out, normalize);
        const auto ref = reference_pool(m, h, b, lengths[b], normalize);
        double sq = 0;
        for (std::size_t c = 0; c < C; ++c) {
          worst = std::max(worst, std::abs(out[c] - ref[c]));
          sq += double(out[c]) * out[c];
        }
        if (normalize) {
          EXPECT_NEAR(sq, 1.0, 1e-5);
        }
      }
      EXPECT_LT(worst, 1e-6) << "mode " << int(m) << (normalize ? ", normalized" : "")
                             << ": largest difference from the plain loop " << worst;
    }
  }
}

TEST(Pooling, MatchSentenceTransformersGolden) {
  const std::string path = std::string(BC1S_TEST_DATA) + "/pooling/golden.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path << " not found (tools/make_pooling_golden.py writes it)";
  const auto j = nlohmann::json::parse(in);
  const auto& hid = j.at("hidden");
  const std::size_t B = hid.size(), S = hid[0].size(), C = hid[0][0].size();
  plain_hidden h(B, C, S);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t s = 0; s < S; ++s)
      for (std::size_t c = 0; c < C; ++c) h.at(b, c, s) = hid[b][s][c].get<float>();
  const auto lengths = j.at("lengths").get<std::vector<std::size_t>>();
  ASSERT_EQ(lengths.size(), B);
  for (const auto& [name, m] :
       {std::pair{"cls", mode::cls}, std::pair{"mean", mode::mean}, std::pair{"max", mode::max}}) {
    for (const bool normalize : {false, true}) {
      const auto& want = j.at(std::string(name) + (normalize ? "_normalized" : ""));
      for (std::size_t b = 0; b < B; ++b) {
        std::vector<float> out(C);
        pool(m, h, b, lengths[b], out, normalize);
        double dot = 0, na = 0, nb = 0, worst = 0;
        for (std::size_t c = 0; c < C; ++c) {
          const double w = want[b][c].get<double>();
          dot += out[c] * w;
          na += double(out[c]) * out[c];
          nb += w * w;
          worst = std::max(worst, std::abs(out[c] - w));
        }
        const double cos = dot / std::sqrt(na * nb);
        EXPECT_GE(cos, 0.9999) << name << (normalize ? "_normalized" : "") << " sentence " << b;
        EXPECT_LT(worst, 1e-5) << name << (normalize ? "_normalized" : "") << " sentence " << b
                               << ": largest difference from sentence-transformers " << worst;
      }
    }
  }
}

TEST(Pooling, BadArgumentsAreErrors) {
  const plain_hidden h(2, 5, 4);
  for (const mode m : {mode::cls, mode::mean, mode::max}) {
    std::vector<float> out(5), short_out(4);
    EXPECT_NO_THROW(pool(m, h, 1, 4, out, true));  // all zeros: normalising divides by 1e-12
    EXPECT_THROW(pool(m, h, 0, 4, short_out, true), std::invalid_argument);
    EXPECT_THROW(pool(m, h, 0, 0, out, true), std::invalid_argument);
    EXPECT_THROW(pool(m, h, 0, 5, out, true), std::invalid_argument);
    EXPECT_THROW(pool(m, h, 2, 1, out, true), std::invalid_argument);
  }
}

TEST(Batching, CapacityAndEmptySentencesAreErrors) {
  using M = bc1s::nn::distilbert<tiny_distilbert, float>;
  const auto m = M::synthetic(3);
  M::workspace ws(2, 32);
  auto ignore = [](std::size_t, const M::workspace&, std::size_t) {};
  const std::vector<std::vector<std::int32_t>> too_long = {std::vector<std::int32_t>(40, 5)};
  EXPECT_THROW(bc1s::nn::run_batched(m, ws, too_long, 2, nullptr, ignore), std::invalid_argument);
  const std::vector<std::vector<std::int32_t>> fine = {{101, 102}};
  EXPECT_THROW(bc1s::nn::run_batched(m, ws, fine, 3, nullptr, ignore), std::invalid_argument);
  const std::vector<std::vector<std::int32_t>> empty = {{101, 102}, {}};
  EXPECT_THROW(bc1s::nn::run_batched(m, ws, empty, 2, nullptr, ignore), std::invalid_argument);
}

}  // namespace
