// Dynamic batching (bc1s/nn/batching.hpp): the plan's buckets, and batched results against the
// same sentences run one at a time (DistilBERT logits, BERT hidden states and mean-pooled
// embeddings), in input order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

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
  std::vector<std::vector<float>> batched(sent.size(), std::vector<float>(64));
  bc1s::nn::run_batched(m, many, sent, 8, nullptr,
                        [&](std::size_t i, const M::workspace& ws, std::size_t b) {
                          bc1s::nn::mean_pool(ws.hidden(), b, sent[i].size(), batched[i]);
                        });
  double worst_cos = 1;
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
  }
  EXPECT_GT(worst_cos, 1.0 - 1e-6) << "lowest cosine, batched vs alone";
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
