// Tests for bc1s/io/hf_config.hpp: the real DistilBERT SST-2 config.json, a BERT config, every bad
// input with its one-line message, check_matches(), and tokenizer_config.json.
#include <bc1s/io/hf_config.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "../text/tokenizer_config_cases.hpp"

namespace {

namespace fs = std::filesystem;
using bc1s::io::hf_config;
using bc1s::io::hf_config_expect;
using bc1s::io::load_error;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kModelDir = BC1S_SHARED_DATA "/distilbert-sst2";

class HfConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("bc1s_hf_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
    std::ifstream in(kModelDir / "config.json");
    real_ = nlohmann::json::parse(in);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& text, const std::string& name = "config.json") {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path write_json(const nlohmann::json& j, const std::string& name = "config.json") {
    return write(j.dump(2), name);
  }

  // The message of loading `p` as a config.json, checked for one line and the file name.
  static std::string config_error(const fs::path& p) {
    try {
      (void)bc1s::io::load_hf_config(p);
    } catch (const load_error& e) {
      const std::string msg = e.what();
      EXPECT_THAT(msg, Not(HasSubstr("\n")));
      EXPECT_THAT(msg, HasSubstr(p.filename().string()));
      return msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected bc1s::io::load_error, got: " << e.what();
      return e.what();
    }
    ADD_FAILURE() << "expected " << p << " to be rejected";
    return {};
  }

  static nlohmann::json bert() {
    return nlohmann::json{{"model_type", "bert"},           {"hidden_size", 256},
                          {"num_attention_heads", 4},       {"intermediate_size", 1024},
                          {"num_hidden_layers", 4},         {"vocab_size", 30522},
                          {"max_position_embeddings", 512}, {"type_vocab_size", 2},
                          {"hidden_act", "gelu"},           {"layer_norm_eps", 1e-12}};
  }

  fs::path dir_;
  nlohmann::json real_;
};

// ---- good input -------------------------------------------------------------------------------

TEST_F(HfConfigTest, RealDistilbertSst2) {
  for (const fs::path& p : {kModelDir / "config.json", kModelDir}) {  // the file or the folder
    const hf_config c = bc1s::io::load_hf_config(p);
    EXPECT_EQ(c.model_type, "distilbert");
    EXPECT_EQ(c.dim, 768u);
    EXPECT_EQ(c.heads, 12u);
    EXPECT_EQ(c.hidden, 3072u);
    EXPECT_EQ(c.layers, 6u);
    EXPECT_EQ(c.vocab, 30522u);
    EXPECT_EQ(c.max_positions, 512u);
    EXPECT_EQ(c.type_vocab, 0u);
    EXPECT_EQ(c.activation, "gelu");
    EXPECT_EQ(c.layer_norm_eps, 1e-12);
    EXPECT_EQ(c.pad_token_id, 0u);
    EXPECT_FALSE(c.sinusoidal_pos_embds);
    EXPECT_EQ(c.num_labels, 2u);
    EXPECT_EQ(c.id2label, (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));
    EXPECT_EQ(c.source.filename(), "config.json");
  }
}

TEST_F(HfConfigTest, Bert) {
  auto j = bert();
  j["layer_norm_eps"] = 1e-5;
  j["id2label"] = {{"1", "b"}, {"0", "a"}, {"2", "c"}};
  const hf_config c = bc1s::io::load_hf_config(write_json(j));
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.dim, 256u);
  EXPECT_EQ(c.heads, 4u);
  EXPECT_EQ(c.hidden, 1024u);
  EXPECT_EQ(c.layers, 4u);
  EXPECT_EQ(c.type_vocab, 2u);
  EXPECT_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_EQ(c.id2label, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.num_labels, 3u);
}

TEST_F(HfConfigTest, DefaultsForOptionalFields) {
  auto j = bert();
  j.erase("hidden_act");
  j.erase("layer_norm_eps");
  j.erase("type_vocab_size");
  j["num_labels"] = 3;
  const hf_config c = bc1s::io::load_hf_config(write_json(j));
  EXPECT_EQ(c.activation, "gelu");
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.type_vocab, 2u);
  EXPECT_EQ(c.id2label, (std::vector<std::string>{"LABEL_0", "LABEL_1", "LABEL_2"}));
}

// ---- bad input, one test per row --------------------------------------------------------------

TEST_F(HfConfigTest, MissingFile) {
  EXPECT_THAT(config_error(dir_ / "nothere.json"), HasSubstr("file not found"));
  EXPECT_THAT(config_error(dir_),
              HasSubstr("config.json: file not found"));  // a folder without one
}

TEST_F(HfConfigTest, NotJson) {
  EXPECT_THAT(config_error(write("{\"dim\": 768,,}")), HasSubstr("file is not valid JSON"));
  EXPECT_THAT(config_error(write("")), HasSubstr("file is not valid JSON"));
}

TEST_F(HfConfigTest, NotAnObject) {
  EXPECT_THAT(config_error(write("[768, 12]")), HasSubstr("is a JSON array, expected an object"));
}

TEST_F(HfConfigTest, WrongFieldType) {
  real_["dim"] = "768";
  EXPECT_THAT(
      config_error(write_json(real_)),
      HasSubstr("field \"dim\" is a JSON string (\"768\"), expected a non-negative integer"));
}

TEST_F(HfConfigTest, FloatWhereIntegerExpected) {
  real_["n_heads"] = 12.5;
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"n_heads\" is a JSON number (12.5)"));
}

TEST_F(HfConfigTest, NegativeAndZeroSizes) {
  real_["n_layers"] = -6;
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"n_layers\" is a JSON integer (-6)"));
  real_["n_layers"] = 0;
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"n_layers\" is 0, expected a positive integer"));
  real_["n_layers"] = 1e300;
  EXPECT_THAT(config_error(write_json(real_)), HasSubstr("field \"n_layers\""));
  real_["n_layers"] = 1ull << 40;
  EXPECT_THAT(config_error(write_json(real_)), HasSubstr("beyond the sanity limit"));
}

TEST_F(HfConfigTest, MissingRequiredField) {
  real_.erase("n_layers");
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"n_layers\" is missing (required for model_type 'distilbert')"));
  auto j = bert();
  j.erase("hidden_size");
  EXPECT_THAT(config_error(write_json(j)), HasSubstr("field \"hidden_size\" is missing"));
}

TEST_F(HfConfigTest, MissingModelType) {
  real_.erase("model_type");
  EXPECT_THAT(config_error(write_json(real_)), HasSubstr("field \"model_type\" is missing"));
}

TEST_F(HfConfigTest, UnsupportedModelType) {
  real_["model_type"] = "gpt2";
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"model_type\" is 'gpt2', expected \"distilbert\" or \"bert\""));
}

TEST_F(HfConfigTest, UnsupportedActivation) {
  real_["activation"] = "relu";
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"activation\" is 'relu', only \"gelu\""));
  auto j = bert();
  j["hidden_act"] = "gelu_new";
  EXPECT_THAT(config_error(write_json(j)), HasSubstr("field \"hidden_act\" is 'gelu_new'"));
}

TEST_F(HfConfigTest, HeadsMustDivideDim) {
  real_["n_heads"] = 7;
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"n_heads\" is 7, which does not divide dim 768"));
}

TEST_F(HfConfigTest, BadLabels) {
  real_["id2label"] = {{"0", "NEGATIVE"}, {"2", "POSITIVE"}};
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"id2label\" has the key '2', expected each of the ids 0..1 once"));
  real_["id2label"] = {{"0", "NEGATIVE"}, {"1", 1}};
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"id2label\" value for id 1 is a JSON integer"));
  real_["id2label"] = {"NEGATIVE", "POSITIVE"};
  EXPECT_THAT(config_error(write_json(real_)), HasSubstr("field \"id2label\" is a JSON array"));
  real_["id2label"] = {{"0", "NEGATIVE"}, {"1", "POSITIVE"}};
  real_["label2id"] = {{"NEGATIVE", "zero"}};
  EXPECT_THAT(config_error(write_json(real_)),
              HasSubstr("field \"label2id\" value for 'NEGATIVE' is a JSON string"));
}

TEST_F(HfConfigTest, BadLayerNormEps) {
  auto j = bert();
  j["layer_norm_eps"] = "1e-12";
  EXPECT_THAT(config_error(write_json(j)), HasSubstr("field \"layer_norm_eps\" is a JSON string"));
  j["layer_norm_eps"] = -1.0;
  EXPECT_THAT(config_error(write_json(j)),
              HasSubstr("field \"layer_norm_eps\" is -1.0, expected a positive number"));
}

TEST_F(HfConfigTest, DuplicateKey) {
  EXPECT_THAT(config_error(write(R"({"model_type": "distilbert", "dim": 768, "dim": 512})")),
              HasSubstr("has the key 'dim' more than once"));
}

TEST_F(HfConfigTest, UnsupportedPositionEmbedding) {
  auto j = bert();
  j["position_embedding_type"] = "relative_key";
  EXPECT_THAT(config_error(write_json(j)),
              HasSubstr("field \"position_embedding_type\" is 'relative_key'"));
}

// ---- check_matches ----------------------------------------------------------------------------

hf_config_expect distilbert_sst2_expect() {
  hf_config_expect e;
  e.model_type = "distilbert";
  e.dim = 768;
  e.heads = 12;
  e.hidden = 3072;
  e.layers = 6;
  e.vocab = 30522;
  e.max_positions = 512;
  e.type_vocab = 0;
  e.num_labels = 2;
  e.activation = "gelu";
  e.layer_norm_eps =
      static_cast<double>(1e-12f);  // a float in the compiled Config: within tolerance
  return e;
}

TEST_F(HfConfigTest, CheckMatchesAccepts) {
  const auto c = bc1s::io::load_hf_config(kModelDir);
  EXPECT_NO_THROW(bc1s::io::check_matches(c, distilbert_sst2_expect()));
  EXPECT_NO_THROW(bc1s::io::check_matches(c, hf_config_expect{}));  // nothing to check
  EXPECT_TRUE(bc1s::io::compare(c, distilbert_sst2_expect()).empty());
}

TEST_F(HfConfigTest, CheckMatchesNamesFieldAndBothValues) {
  real_["dim"] = 512;
  real_["n_heads"] = 8;
  const auto c = bc1s::io::load_hf_config(write_json(real_));
  const auto diffs = bc1s::io::compare(c, distilbert_sst2_expect());
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].field, "dim");
  EXPECT_EQ(diffs[0].in_file, "512");
  EXPECT_EQ(diffs[0].compiled, "768");
  try {
    bc1s::io::check_matches(c, distilbert_sst2_expect());
    FAIL() << "expected load_error";
  } catch (const load_error& e) {
    const std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("config.json: dim is 512 but the compiled Config has 768"));
    EXPECT_THAT(msg, HasSubstr("; n_heads is 8 but the compiled Config has 12"));
    EXPECT_THAT(msg, Not(HasSubstr("\n")));
  }
}

TEST_F(HfConfigTest, CheckMatchesUsesTheFilesKeyNames) {
  const auto c = bc1s::io::load_hf_config(write_json(bert()));
  hf_config_expect e;
  e.model_type = "bert";
  e.dim = 768;
  e.layer_norm_eps = 1e-5;
  try {
    bc1s::io::check_matches(c, e);
    FAIL() << "expected load_error";
  } catch (const load_error& err) {
    EXPECT_THAT(err.what(), HasSubstr("hidden_size is 256 but the compiled Config has 768"));
    EXPECT_THAT(err.what(), HasSubstr("layer_norm_eps is 1e-12 but the compiled Config has 1e-05"));
  }
  e = {};
  e.model_type = "distilbert";
  EXPECT_THROW(bc1s::io::check_matches(c, e), load_error);
}

// ---- tokenizer_config.json --------------------------------------------------------------------
// load_tokenizer_config() goes through text::tokenizer::read_tokenizer_config(); here: the folder
// or file argument, a missing file, the clamp to the position table, load_error, and every case
// of tests/text/tokenizer_config_cases.hpp giving the same result as the tokenizer's reader.

TEST_F(HfConfigTest, TokenizerConfigReal) {
  const auto t = bc1s::io::load_tokenizer_config(kModelDir);
  EXPECT_TRUE(t.do_lower_case);
  EXPECT_EQ(t.model_max_length, 512u);
}

TEST_F(HfConfigTest, TokenizerConfigMissingGivesDefaults) {
  const auto t = bc1s::io::load_tokenizer_config(dir_);  // folder without the file
  EXPECT_TRUE(t.do_lower_case);
  EXPECT_EQ(t.model_max_length, 512u);
  EXPECT_EQ(bc1s::io::load_tokenizer_config(dir_ / "absent.json", 128).model_max_length, 128u);
}

TEST_F(HfConfigTest, TokenizerConfigNoLimitIsClamped) {
  // transformers writes int(1e30) for "no limit": too big for uint64, so JSON readers see a float.
  auto p = write(R"({"do_lower_case": false, "model_max_length": 1000000000000000019884624838656})",
                 "tokenizer_config.json");
  auto t = bc1s::io::load_tokenizer_config(p);
  EXPECT_FALSE(t.do_lower_case);
  EXPECT_EQ(t.model_max_length, 512u);
  EXPECT_EQ(bc1s::io::load_tokenizer_config(dir_).model_max_length, 512u);  // folder with it
  p = write(R"({"model_max_length": 1e30})", "tokenizer_config.json");
  EXPECT_EQ(bc1s::io::load_tokenizer_config(p, 1024).model_max_length, 1024u);
  p = write(R"({"model_max_length": null})", "tokenizer_config.json");
  EXPECT_EQ(bc1s::io::load_tokenizer_config(p, 1024).model_max_length, 1024u);
  p = write(R"({"model_max_length": 128})", "tokenizer_config.json");
  EXPECT_EQ(bc1s::io::load_tokenizer_config(p).model_max_length, 128u);
  EXPECT_EQ(bc1s::io::load_tokenizer_config(p, 100).model_max_length, 100u);
  EXPECT_EQ(bc1s::io::load_tokenizer_config(p, 2).model_max_length, 2u);
  // The result goes straight to the tokenizer.
  const bc1s::text::tokenizer_options o = bc1s::io::load_tokenizer_config(p);
  EXPECT_EQ(o.model_max_length, 128u);
}

TEST_F(HfConfigTest, TokenizerConfigPositionLimitBelowTwo) {
  const auto p = write(R"({"model_max_length": 128})", "tokenizer_config.json");
  for (std::size_t limit : {0u, 1u}) {
    try {
      (void)bc1s::io::load_tokenizer_config(p, limit);
      ADD_FAILURE() << "position_limit " << limit << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("position_limit " + std::to_string(limit) +
                                      " leaves no room for [CLS] and [SEP]"));
    }
  }
}

TEST_F(HfConfigTest, TokenizerConfigEveryCaseAsTheTokenizer) {
  for (const auto& c : bc1s_test::tokenizer_config_cases()) {
    SCOPED_TRACE(c.name);
    const auto p = write(c.json, c.name + ".json");
    for (std::size_t limit : {std::size_t{512}, std::size_t{1024}}) {
      if (c.ok) {
        try {
          const auto t = bc1s::io::load_tokenizer_config(p, limit);
          EXPECT_EQ(t.do_lower_case, c.do_lower_case);
          EXPECT_EQ(t.model_max_length, std::min(c.model_max_length, limit));
        } catch (const std::exception& e) {
          ADD_FAILURE() << "rejected: " << e.what();
        }
        continue;
      }
      std::string text_problem;
      try {
        (void)bc1s::text::tokenizer::read_tokenizer_config(p);
      } catch (const bc1s::text::tokenizer_config_error& e) {
        text_problem = e.problem();
      }
      try {
        (void)bc1s::io::load_tokenizer_config(p, limit);
        ADD_FAILURE() << "accepted";
      } catch (const load_error& e) {
        // "<file>: <problem>", the problem word for word the tokenizer's.
        EXPECT_EQ(std::string(e.what()), p.string() + ": " + text_problem);
        EXPECT_THAT(e.what(), HasSubstr(c.error));
        EXPECT_THAT(e.what(), Not(HasSubstr("\n")));
      }
    }
  }
}

}  // namespace
