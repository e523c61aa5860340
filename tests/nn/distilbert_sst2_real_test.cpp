// The real distilbert-base-uncased-finetuned-sst-2-english on the 872 SST-2 dev sentences, when a
// Hugging Face folder with it is given in BC1S_DISTILBERT_SST2_DIR (config.json,
// model.safetensors, vocab.txt, tokenizer_config.json); skipped otherwise. The checkpoint is not
// on any registry this project can reach (docs/real-models.md), so CI skips it.
// Expected: Hugging Face's published dev accuracy for that checkpoint, 91.06% = 794/872.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bc1s/nn/batching.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/text/wordpiece.hpp"

namespace {

struct labelled {
  std::vector<std::vector<std::int32_t>> ids;
  std::vector<int> labels;
};

labelled read_dev(const bc1s::text::tokenizer& tok) {
  std::ifstream in(std::string(BC1S_SHARED_DATA) + "/sst2/dev.tsv");
  labelled out;
  std::string line;
  std::getline(in, line);  // header: sentence \t label
  while (std::getline(in, line)) {
    const auto tab = line.rfind('\t');
    if (tab == std::string::npos) continue;
    out.ids.push_back(tok.encode(line.substr(0, tab), {.max_length = 512, .truncation = true}).ids);
    out.labels.push_back(std::stoi(line.substr(tab + 1)));
  }
  return out;
}

template <class WT>
std::size_t correct(const std::string& dir, const labelled& dev) {
  using M = bc1s::nn::distilbert<bc1s::nn::distilbert_base, WT>;
  const auto m = M::load(dir);
  std::size_t longest = 0;
  for (const auto& v : dev.ids) longest = std::max(longest, v.size());
  typename M::workspace ws(16, longest, 2);
  bc1s::runtime::thread_pool pool(2);
  std::size_t n = 0;
  bc1s::nn::run_batched(m, ws, dev.ids, 16, &pool,
                        [&](std::size_t i, const typename M::workspace& w, std::size_t b) {
                          const int label = w.logits()[2 * b + 1] > w.logits()[2 * b] ? 1 : 0;
                          n += label == dev.labels[i];
                        });
  return n;
}

TEST(DistilBertSst2Real, DevAccuracyIsHuggingFaces) {
  const char* dir = std::getenv("BC1S_DISTILBERT_SST2_DIR");
  if (dir == nullptr || *dir == '\0') {
    GTEST_SKIP() << "set BC1S_DISTILBERT_SST2_DIR to a Hugging Face folder of "
                    "distilbert-base-uncased-finetuned-sst-2-english to run this test";
  }
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / "model.safetensors"))
      << dir << ": no model.safetensors";
  const auto tok = bc1s::text::tokenizer::from_pretrained(dir);
  const auto dev = read_dev(tok);
  ASSERT_EQ(dev.ids.size(), 872u);
  const std::size_t fp32 = correct<float>(dir, dev), fp16 = correct<bc1s::half>(dir, dev);
  std::printf("SST-2 dev accuracy: fp32 %zu/872, fp16 %zu/872 (Hugging Face: 794/872)\n", fp32,
              fp16);
  EXPECT_EQ(fp32, 794u);
  EXPECT_NEAR(double(fp16), 794.0, 2.0) << "fp16 storage may flip a near-tie sentence";
}

}  // namespace
