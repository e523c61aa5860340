// DistilBERT against Hugging Face transformers: the fixtures in tests/data/parity were written by
// tools/make_parity_fixtures.py, which ran DistilBertForSequenceClassification (PyTorch, fp32) on
// the same seeded synthetic weights (tools/synthetic.py == bc1s/io/synthetic.hpp, bit for bit).
// Metric, as Apple's reference tests: PSNR = 20 log10(max|ref| / rmse).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "bc1s/nn/distilbert.hpp"

namespace {

constexpr std::uint64_t kSeed = 1234;  // tools/make_parity_fixtures.py --seed (cases.json)

struct small_config {
  static constexpr std::size_t dim = 64, heads = 4, hidden = 128, layers = 2, vocab = 30522,
                               max_positions = 512, num_labels = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

double psnr(const std::vector<double>& ref, const std::vector<double>& got) {
  double peak = 0, se = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    peak = std::max(peak, std::abs(ref[i]));
    se += (ref[i] - got[i]) * (ref[i] - got[i]);
  }
  const double rmse = std::sqrt(se / double(ref.size()));
  return rmse == 0 ? 200.0 : 20.0 * std::log10(peak / rmse);
}

std::vector<double> softmax_rows(const std::vector<double>& logits, std::size_t n) {
  std::vector<double> p(logits.size());
  for (std::size_t r = 0; r < logits.size() / n; ++r) {
    double mx = -1e300, sum = 0;
    for (std::size_t j = 0; j < n; ++j) mx = std::max(mx, logits[r * n + j]);
    for (std::size_t j = 0; j < n; ++j) sum += p[r * n + j] = std::exp(logits[r * n + j] - mx);
    for (std::size_t j = 0; j < n; ++j) p[r * n + j] /= sum;
  }
  return p;
}

template <class Model>
const Model& model() {
  static const Model m = Model::synthetic(kSeed);
  return m;
}

struct result {
  double hidden_psnr = -1, logits_psnr = 0, prob_psnr = 0;
};

template <class Config, class WT>
result run_case(const std::string& dir, const std::string& name) {
  using M = bc1s::nn::distilbert<Config, WT>;
  const std::string base = std::string(BC1S_TEST_DATA) + "/parity/" + dir + "/" + name;
  const auto ids = xt::load_npy<std::int32_t>(base + ".input_ids.npy");
  const auto mask = xt::load_npy<std::int32_t>(base + ".attention_mask.npy");
  const auto logits_ref = xt::load_npy<float>(base + ".logits.npy");
  const std::size_t B = ids.shape()[0], S = ids.shape()[1];
  typename M::workspace ws(B, S, 2);
  bc1s::runtime::thread_pool pool(2);
  model<M>().forward(ws, {ids.data(), B * S}, {mask.data(), B * S}, B, S, &pool);

  result r;
  std::vector<double> lr(logits_ref.begin(), logits_ref.end());
  std::vector<double> lg(ws.logits().begin(), ws.logits().end());
  r.logits_psnr = psnr(lr, lg);
  r.prob_psnr = psnr(softmax_rows(lr, Config::num_labels), softmax_rows(lg, Config::num_labels));
  std::ifstream probe(base + ".last_hidden_state.npy");
  if (probe.good()) {
    const auto hs = xt::load_npy<float>(base + ".last_hidden_state.npy");  // HF layout [B, S, C]
    std::vector<double> ref, got;
    const auto h = ws.hidden();
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t s = 0; s < S; ++s)
        for (std::size_t c = 0; c < Config::dim; ++c) {
          ref.push_back(hs(b, s, c));
          got.push_back(h(b, c, s));
        }
    r.hidden_psnr = psnr(ref, got);
  }
  std::printf(
      "%-5s %-14s %s weights: hidden PSNR %6.1f dB, logits %6.1f dB, probabilities %6.1f dB\n",
      dir.c_str(), name.c_str(), bc1s::weight_storage<WT>::name, r.hidden_psnr, r.logits_psnr,
      r.prob_psnr);
  return r;
}

const char* kSmallCases[] = {"one_word",      "ten_tokens", "sixty_tokens", "near_128",
                             "truncated_512", "unicode",    "batch3_pad32"};
const char* kBaseCases[] = {"one_word", "ten_tokens", "sixty_tokens",
                            "near_128", "unicode",    "batch3_pad32"};

TEST(DistilBertParity, SmallFp32MatchesHuggingFace) {
  for (const char* c : kSmallCases) {
    const auto r = run_case<small_config, float>("small", c);
    if (r.hidden_psnr >= 0) {
      EXPECT_GE(r.hidden_psnr, 90.0) << c;
    }
    EXPECT_GE(r.logits_psnr, 90.0) << c;
  }
}
TEST(DistilBertParity, SmallFp16MatchesHuggingFace) {
  for (const char* c : kSmallCases)
    EXPECT_GE((run_case<small_config, bc1s::half>("small", c).prob_psnr), 60.0) << c;
}
// Every case of one size at least min_db on the probabilities and (where stored) hidden states.
template <class Config, class WT, std::size_t N>
void expect_psnr(const char* dir, const char* const (&cases)[N], double min_db) {
  for (const char* c : cases) {
    const auto r = run_case<Config, WT>(dir, c);
    if (r.hidden_psnr >= 0) {
      EXPECT_GE(r.hidden_psnr, min_db) << c;
    }
    EXPECT_GE(r.prob_psnr, min_db) << c;
  }
}
// bf16 weights (8 significant bits) and activations rounded to bf16 at every product: each
// product carries a relative error up to 2^-9 where fp16 storage with fp32 products carries 2^-12
// on the weight alone, so the bound is 20 log10(2^3) = 18 dB below fp16's: 60 - 18 = 42 dB on
// the probabilities and hidden states.
TEST(DistilBertParity, SmallBf16MatchesHuggingFace) {
  expect_psnr<small_config, bc1s::bf16>("small", kSmallCases, 42.0);
}
TEST(DistilBertParity, BaseBf16MatchesHuggingFace) {
  expect_psnr<bc1s::nn::distilbert_base, bc1s::bf16>("base", kBaseCases, 42.0);
}
// int8: weights with 8 bits per output channel, activations quantised per position to 8 bits
// (step max|x| / 127): each product's relative error is up to about 2^-7 of the largest term,
// 12 dB above bf16's 2^-9: 42 - 12 = 30 dB.
TEST(DistilBertParity, SmallInt8MatchesHuggingFace) {
  expect_psnr<small_config, bc1s::qint8>("small", kSmallCases, 30.0);
}
TEST(DistilBertParity, BaseInt8MatchesHuggingFace) {
  expect_psnr<bc1s::nn::distilbert_base, bc1s::qint8>("base", kBaseCases, 30.0);
}
TEST(DistilBertParity, BaseFp32MatchesHuggingFace) {
  for (const char* c : kBaseCases) {
    const auto r = run_case<bc1s::nn::distilbert_base, float>("base", c);
    if (r.hidden_psnr >= 0) {
      EXPECT_GE(r.hidden_psnr, 90.0) << c;
    }
    EXPECT_GE(r.logits_psnr, 90.0) << c;
  }
}
TEST(DistilBertParity, BaseFp16MatchesHuggingFace) {
  for (const char* c : kBaseCases) {
    EXPECT_GE((run_case<bc1s::nn::distilbert_base, bc1s::half>("base", c).prob_psnr), 60.0) << c;
  }
}

}  // namespace
