// Every head and family on folders of shapes no compiled Config names, against Hugging Face
// transformers (and sentence-transformers) outputs: tests/data/heads/<case>/expected.json, written
// by tools/make_head_fixtures.py from the folder's own model.safetensors.
//
// fp32: >= 90 dB on logits and probabilities, embedding cosine >= 0.9999.
// fp16: the same bounds against the reference computed with the weights rounded as bc1s's fp16
// storage rounds them ("logits_fp16w", "embedding_fp16w": the same function, so only the fp32
// summation order differs), and against the plain reference no more than 1 dB below what that
// rounding alone costs (the fixtures' weights are scaled up so that outputs differ between inputs,
// which makes fp16 storage cost more here, 55-60 dB on probabilities, than on real checkpoints).
// The tokenizer must give the reference's ids and token types (pairs, truncation).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/io/st_config.hpp"
#include "bc1s/nn/any_encoder.hpp"
#include "bc1s/nn/batching.hpp"
#include "bc1s/nn/bert.hpp"
#include "bc1s/text/wordpiece.hpp"

namespace {

namespace fs = std::filesystem;
using bc1s::nn::any_encoder;
using bc1s::nn::head_kind;
using bc1s::nn::precision;
using json = nlohmann::json;

fs::path case_dir(const std::string& name) {
  return fs::path(BC1S_TEST_DATA) / "heads" / name;
}

json expected(const std::string& name) {
  std::ifstream in(case_dir(name) / "expected.json");
  return json::parse(in);
}

double psnr(const std::vector<double>& ref, const std::vector<double>& got) {
  double peak = 0, se = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    peak = std::max(peak, std::abs(ref[i]));
    se += (ref[i] - got[i]) * (ref[i] - got[i]);
  }
  const double rmse = std::sqrt(se / double(ref.size()));
  return rmse == 0 ? 200.0 : 20.0 * std::log10(peak / rmse);
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// Appends every number of a (possibly nested) JSON array.
void flatten(const json& j, std::vector<double>& out) {
  if (j.is_array()) {
    for (const auto& v : j) flatten(v, out);
  } else {
    out.push_back(j.get<double>());
  }
}

std::vector<double> softmax(std::span<const float> l) {
  double mx = l[0], sum = 0;
  for (float x : l) mx = std::max(mx, double(x));
  std::vector<double> p;
  for (float x : l) sum += std::exp(double(x) - mx);
  for (float x : l) p.push_back(std::exp(double(x) - mx) / sum);
  return p;
}

std::vector<double> sigmoid(std::span<const float> l) {
  std::vector<double> p;
  for (float x : l) p.push_back(1.0 / (1.0 + std::exp(-double(x))));
  return p;
}

constexpr double kLogitsDb = 90, kProbDb = 90, kCos = 0.9999, kFloorSlackDb = 1;

// The tokenizer of the folder gives the reference's ids and token types.
void check_tokenizer(const std::string& name) {
  const json e = expected(name);
  const auto tok = bc1s::text::tokenizer::from_pretrained(case_dir(name));
  const std::size_t max_len = e.contains("max_length") ? e["max_length"].get<std::size_t>() : 0;
  for (const auto& in : e["inputs"]) {
    const std::string a = in["text"];
    const bc1s::text::encode_options o{.max_length = max_len, .truncation = max_len != 0};
    const auto enc = in.contains("text_pair") ? tok.encode(a, in["text_pair"].get<std::string>(), o)
                                              : tok.encode(a, o);
    EXPECT_EQ(enc.ids, in["input_ids"].get<std::vector<std::int32_t>>()) << name << ": " << a;
    if (e["family"] == "bert") {
      EXPECT_EQ(enc.token_type_ids, in["token_type_ids"].get<std::vector<std::int32_t>>())
          << name << ": " << a;
    }
  }
}

// One input at a time (B = 1), then all together padded (run_batched): both against the reference.
void check_case(const std::string& name, precision p) {
  SCOPED_TRACE(name + " at " + bc1s::nn::to_string(p));
  const json e = expected(name);
  const auto m = any_encoder::load(case_dir(name), p);
  const std::string head = e["head"];
  const bool fp16 = p == precision::fp16;
  EXPECT_EQ(m.model_type(), e["family"].get<std::string>());
  if (head != "embedding") {
    EXPECT_EQ(m.labels(), e["labels"].get<std::vector<std::string>>());
  }
  EXPECT_EQ(m.multi_label(), head == "multi_label_classification");
  EXPECT_EQ(m.head(), head == "token_classification" ? head_kind::token_classification
                      : head == "embedding"          ? head_kind::none
                                                     : head_kind::sequence_classification);

  std::vector<std::vector<std::int32_t>> ids, types;
  for (const auto& in : e["inputs"]) {
    ids.push_back(in["input_ids"].get<std::vector<std::int32_t>>());
    types.push_back(in["token_type_ids"].get<std::vector<std::int32_t>>());
  }
  const bool pairs = m.token_types();
  bc1s::runtime::thread_pool pool(2);
  std::size_t longest = 0;
  for (const auto& v : ids) longest = std::max(longest, v.size());
  auto ws = m.make_workspace(ids.size(), longest, pool.size());
  const auto pool_cfg =
      head == "embedding" ? bc1s::io::load_st_pooling(case_dir(name)) : bc1s::io::st_pooling{};

  // What one sentence's outputs give, against its reference.
  std::vector<double> all_ref, all_got, all_pref, all_pgot, all_ref16, all_pref16;
  double min_cos = 1, min_cos16 = 1;
  auto probs = [&](std::span<const float> row) {
    return head == "multi_label_classification" || head == "cross_encoder" ? sigmoid(row)
                                                                           : softmax(row);
  };
  auto check = [&](std::size_t i, const any_encoder::workspace& w, std::size_t b) {
    const json& in = e["inputs"][i];
    const std::size_t L = m.num_labels(), S = w.s(), n = ids[i].size();
    if (head == "embedding") {
      std::vector<float> out(m.dims().dim);
      const auto h = w.hidden();
      using bc1s::io::pooling_mode;
      if (pool_cfg.mode == pooling_mode::cls)
        bc1s::nn::cls_pool(h, b, n, out, pool_cfg.normalize);
      else if (pool_cfg.mode == pooling_mode::max)
        bc1s::nn::max_pool(h, b, n, out, pool_cfg.normalize);
      else
        bc1s::nn::mean_pool(h, b, n, out, pool_cfg.normalize);
      std::vector<double> ref, ref16, got(out.begin(), out.end());
      flatten(in["embedding"], ref);
      flatten(in["embedding_fp16w"], ref16);
      min_cos = std::min(min_cos, cosine(ref, got));
      min_cos16 = std::min(min_cos16, cosine(ref16, got));
      return;
    }
    std::vector<double> ref, ref16;
    flatten(in["logits"], ref);
    flatten(in["logits_fp16w"], ref16);
    const std::vector<float> ref16f(ref16.begin(), ref16.end());
    if (head == "token_classification") {
      for (std::size_t s = 0; s < n; ++s) {
        const auto pr = softmax(std::span(ref16f).subspan(s * L, L));
        all_pref16.insert(all_pref16.end(), pr.begin(), pr.end());
      }
    } else {
      const auto pr = probs(ref16f);
      all_pref16.insert(all_pref16.end(), pr.begin(), pr.end());
    }
    all_ref16.insert(all_ref16.end(), ref16.begin(), ref16.end());
    if (head == "token_classification") {
      ASSERT_EQ(ref.size(), n * L);
      for (std::size_t s = 0; s < n; ++s) {
        const auto row = w.logits().subspan((b * S + s) * L, L);
        all_got.insert(all_got.end(), row.begin(), row.end());
        const auto pr = softmax(row);
        all_pgot.insert(all_pgot.end(), pr.begin(), pr.end());
      }
    } else {
      const auto row = w.logits().subspan(b * L, L);
      all_got.insert(all_got.end(), row.begin(), row.end());
      const auto pr = probs(row);
      all_pgot.insert(all_pgot.end(), pr.begin(), pr.end());
    }
    all_ref.insert(all_ref.end(), ref.begin(), ref.end());
    if (head == "cross_encoder") {
      all_pref.push_back(in["score"].get<double>());
    } else {
      flatten(in["probabilities"], all_pref);
    }
  };
  auto verdict = [&](const char* how) {
    SCOPED_TRACE(how);
    if (head == "embedding") {
      EXPECT_GE(fp16 ? min_cos16 : min_cos, kCos);
      // fp16 against the plain reference: what the storage rounding costs, no more.
      if (fp16) {
        EXPECT_GE(min_cos, 1 - 2 * (1 - kCos));
      }
    } else {
      ASSERT_EQ(all_ref.size(), all_got.size());
      ASSERT_EQ(all_pref.size(), all_pgot.size());
      // The plain reference's probabilities are transformers' own (CrossEncoder's score for the
      // cross-encoder); the fp16-storage one's are computed here from its logits.
      const auto& ref = fp16 ? all_ref16 : all_ref;
      const auto& pref = fp16 ? all_pref16 : all_pref;
      EXPECT_GE(psnr(ref, all_got), kLogitsDb);
      EXPECT_GE(psnr(pref, all_pgot), kProbDb);
      if (fp16) {
        const double floor_db = psnr(all_pref, all_pref16);
        EXPECT_GE(psnr(all_pref, all_pgot), floor_db - kFloorSlackDb)
            << "storage floor " << floor_db;
      }
    }
    for (auto* v : {&all_ref, &all_got, &all_pref, &all_pgot, &all_ref16, &all_pref16}) v->clear();
    min_cos = min_cos16 = 1;
  };

  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::size_t S = ids[i].size();
    const std::vector<std::int32_t> mask(S, 1);
    m.forward(ws, ids[i],
              pairs ? std::span<const std::int32_t>(types[i]) : std::span<const std::int32_t>{},
              mask, 1, S, &pool);
    check(i, ws, 0);
  }
  verdict("one at a time");
  bc1s::nn::run_batched(m, ws, ids,
                        pairs ? std::span(types) : std::span<std::vector<std::int32_t>>{},
                        ids.size(), &pool, check);
  verdict("padded batch");
}

class Heads : public ::testing::TestWithParam<std::string> {};

TEST_P(Heads, TokenizerMatchesTransformers) {
  check_tokenizer(GetParam());
}
TEST_P(Heads, Fp32MatchesTransformers) {
  check_case(GetParam(), precision::fp32);
}
TEST_P(Heads, Fp16MatchesTransformers) {
  check_case(GetParam(), precision::fp16);
}

INSTANTIATE_TEST_SUITE_P(Folders, Heads,
                         ::testing::Values("bert_seqcls3", "distilbert_seqcls6", "bert_multilabel",
                                           "bert_ner", "distilbert_ner", "cross_encoder",
                                           "bge_like_cls", "bert_mean_nonorm"));

// A folder whose sizes contradict each other is refused before any weight is read, naming the
// fields; an unsupported model_type or architecture lists the supported ones.
class BadFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bc1s_heads_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(case_dir("bert_seqcls3"), dir_, fs::copy_options::recursive);
    std::ifstream in(dir_ / "config.json");
    cfg_ = json::parse(in);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string load_error() {
    std::ofstream(dir_ / "config.json") << cfg_.dump(2);
    try {
      (void)any_encoder::load(dir_, precision::fp32);
    } catch (const std::exception& ex) {
      return ex.what();
    }
    return "(no error)";
  }
  fs::path dir_;
  json cfg_;
};

TEST_F(BadFolder, HeadsThatDoNotDivideTheWidth) {
  cfg_["num_attention_heads"] = 7;
  fs::remove(dir_ / "model.safetensors");  // refused before the weights are opened
  const auto msg = load_error();
  EXPECT_NE(msg.find("num_attention_heads"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not divide"), std::string::npos) << msg;
}

TEST_F(BadFolder, UnsupportedModelTypeListsTheSupportedOnes) {
  cfg_["model_type"] = "roberta";
  const auto msg = load_error();
  EXPECT_NE(msg.find("roberta"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"distilbert\" or \"bert\""), std::string::npos) << msg;
}

TEST_F(BadFolder, UnsupportedArchitectureListsTheSupportedOnes) {
  cfg_["architectures"] = {"BertForQuestionAnswering"};
  const auto msg = load_error();
  EXPECT_NE(msg.find("BertForQuestionAnswering"), std::string::npos) << msg;
  EXPECT_NE(msg.find("BertForTokenClassification"), std::string::npos) << msg;
}

TEST_F(BadFolder, LabelCountThatContradictsTheClassifier) {
  cfg_["id2label"] = {{"0", "a"}, {"1", "b"}};
  cfg_["label2id"] = {{"a", 0}, {"b", 1}};
  const auto msg = load_error();
  EXPECT_NE(msg.find("id2label has 2 labels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 rows"), std::string::npos) << msg;
}

TEST_F(BadFolder, WidthThatContradictsTheWeights) {
  cfg_["hidden_size"] = 80;
  cfg_["intermediate_size"] = 64;
  const auto msg = load_error();
  EXPECT_NE(msg.find("word_embeddings"), std::string::npos) << msg;
}

// Sizes the weights contradict are refused from the file's header, before anything of that size
// is allocated (each of these would otherwise ask for gigabytes).
TEST_F(BadFolder, HugeLayerCountIsRefusedBeforeListingTensors) {
  cfg_["num_hidden_layers"] = 100000000;
  const auto msg = load_error();
  EXPECT_NE(msg.find("the number of layers is 100000000"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

TEST_F(BadFolder, HugeVocabularyIsRefusedFromTheHeader) {
  cfg_["vocab_size"] = 200000000;
  const auto msg = load_error();
  EXPECT_NE(msg.find("word_embeddings.weight' has shape"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected [200000000,"), std::string::npos) << msg;
}

TEST_F(BadFolder, HugeFeedForwardWidthIsRefusedFromTheHeader) {
  cfg_["intermediate_size"] = 200000000;
  const auto msg = load_error();
  EXPECT_NE(msg.find("has shape"), std::string::npos) << msg;
  EXPECT_NE(msg.find("200000000"), std::string::npos) << msg;
}

TEST_F(BadFolder, HugeLabelCountWithoutNamesIsRefused) {
  cfg_.erase("id2label");
  cfg_.erase("label2id");
  cfg_["num_labels"] = 100000000;
  const auto msg = load_error();
  EXPECT_NE(msg.find("num_labels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("beyond the 1048576 labels"), std::string::npos) << msg;
}

// A workspace made for one model and used with another of the same width is refused by name.
TEST(Workspace, MadeForAnotherModelIsRefused) {
  using model_t = bc1s::nn::bert<bc1s::nn::any_shape, float>;
  bc1s::nn::encoder_dims d;
  d.dim = 32;
  d.heads = 2;
  d.hidden = 64;
  d.layers = 1;
  d.vocab = 50;
  d.max_positions = 16;
  d.type_vocab = 2;
  const auto a = model_t::synthetic(1, d, {});
  d.hidden = 96;
  const auto b = model_t::synthetic(2, d, {});
  model_t::workspace ws(a, 1, 8);
  const std::vector<std::int32_t> ids(8, 3), mask(8, 1);
  a.forward(ws, ids, mask, 1, 8);  // its own model: fine
  try {
    b.forward(ws, ids, mask, 1, 8);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bc1s::bert: the workspace was made for a model of C = 32, F = 64"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("F = 96"), std::string::npos) << msg;
  }
}

// The real all-MiniLM-L6-v2 cut to 3 layers (tools/make_head_fixtures.py --cut-minilm): a shape
// no compiled Config names, real weights. Skipped without that folder.
TEST(HeldOut, RealMiniLmCutToThreeLayers) {
  const fs::path dir = fs::path(BC1S_TEST_DATA) / "../../build/heldout/minilm_l3";
  if (!fs::exists(dir / "expected.json")) {
    GTEST_SKIP() << "no " << dir.string()
                 << " (tools/fetch_minilm.py, then tools/make_head_fixtures.py --cut-minilm)";
  }
  std::ifstream in(dir / "expected.json");
  const json e = json::parse(in);
  for (const precision p : {precision::fp32, precision::fp16}) {
    const auto m = any_encoder::load(dir, p);
    EXPECT_EQ(m.dims().layers, 3u);
    const auto pool_cfg = bc1s::io::load_st_pooling(dir);
    auto ws = m.make_workspace(1, 128, 1);
    double min_cos = 1;
    for (const auto& input : e["inputs"]) {
      const auto ids = input["input_ids"].get<std::vector<std::int32_t>>();
      const std::vector<std::int32_t> mask(ids.size(), 1);
      m.forward(ws, ids, mask, 1, ids.size());
      std::vector<float> out(m.dims().dim);
      bc1s::nn::mean_pool(ws.hidden(), 0, ids.size(), out, pool_cfg.normalize);
      std::vector<double> ref, got(out.begin(), out.end());
      flatten(input["embedding"], ref);
      min_cos = std::min(min_cos, cosine(ref, got));
    }
    // fp16: the real weights' fp16 rounding costs little (MiniLM: the same bound holds).
    EXPECT_GE(min_cos, kCos) << bc1s::nn::to_string(p);
  }
}

}  // namespace
