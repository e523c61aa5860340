// bert<Config>: loading Hugging Face BertModel folders written here (names written out below from
// transformers' BertModel state_dict, not taken from bc1s), token types, the pooler, head dim 32.
// Arithmetic against transformers is in bert_parity_test.cpp.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bc1s/io/safetensors.hpp"
#include "bc1s/io/synthetic.hpp"
#include "bc1s/nn/bert.hpp"

namespace {

namespace fs = std::filesystem;
using bc1s::io::tensor_entry;

// Head dim 32 (64 / 2), as MiniLM.
struct tiny_bert {
  static constexpr std::size_t dim = 64, heads = 2, hidden = 128, layers = 2, vocab = 1000,
                               max_positions = 64, type_vocab = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

using shape_t = std::vector<std::size_t>;
using named_shapes = std::vector<std::pair<std::string, shape_t>>;

// transformers' BertModel(config).state_dict() parameter names for these sizes.
named_shapes hf_bert_names(const std::string& prefix, bool pooler) {
  const std::size_t d = 64, f = 128;
  named_shapes v = {{prefix + "embeddings.word_embeddings.weight", {1000, d}},
                    {prefix + "embeddings.position_embeddings.weight", {64, d}},
                    {prefix + "embeddings.token_type_embeddings.weight", {2, d}},
                    {prefix + "embeddings.LayerNorm.weight", {d}},
                    {prefix + "embeddings.LayerNorm.bias", {d}}};
  for (int i = 0; i < 2; ++i) {
    const std::string p = prefix + "encoder.layer." + std::to_string(i) + ".";
    for (const char* n : {"attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense"}) {
      v.push_back({p + n + ".weight", {d, d}});
      v.push_back({p + n + ".bias", {d}});
    }
    v.push_back({p + "attention.output.LayerNorm.weight", {d}});
    v.push_back({p + "attention.output.LayerNorm.bias", {d}});
    v.push_back({p + "intermediate.dense.weight", {f, d}});
    v.push_back({p + "intermediate.dense.bias", {f}});
    v.push_back({p + "output.dense.weight", {d, f}});
    v.push_back({p + "output.dense.bias", {d}});
    v.push_back({p + "output.LayerNorm.weight", {d}});
    v.push_back({p + "output.LayerNorm.bias", {d}});
  }
  if (pooler) {
    v.push_back({prefix + "pooler.dense.weight", {d, d}});
    v.push_back({prefix + "pooler.dense.bias", {d}});
  }
  return v;
}

std::size_t elements(const shape_t& s) {
  std::size_t n = 1;
  for (auto x : s) n *= x;
  return n;
}

using M = bc1s::nn::bert<tiny_bert, float>;

const std::vector<std::int32_t> kIds = {101, 7, 512, 999, 3, 102, 42, 17, 102};
const std::vector<std::int32_t> kTypes = {0, 0, 0, 0, 0, 0, 1, 1, 1};

struct outputs {
  std::vector<float> hidden, pooled;
};

template <class Model>
outputs run(const Model& m, std::span<const std::int32_t> types = kTypes) {
  typename Model::workspace ws(1, 16);
  m.forward(ws, kIds, types, {}, 1, kIds.size());
  outputs o;
  const auto h = ws.hidden();
  for (std::size_t c = 0; c < h.c(); ++c)
    for (std::size_t s = 0; s < h.s(); ++s) o.hidden.push_back(h(0, c, s));
  o.pooled.assign(ws.pooled().begin(), ws.pooled().end());
  return o;
}

class BertFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("bc1s_bert_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_config(int type_vocab = 2, const char* act = "gelu") {
    std::ofstream(dir_ / "config.json")
        << R"({"architectures": ["BertModel"], "hidden_act": ")" << act
        << R"(", "hidden_size": 64, "intermediate_size": 128, "layer_norm_eps": 1e-12,)"
        << R"( "max_position_embeddings": 64, "model_type": "bert", "num_attention_heads": 2,)"
        << R"( "num_hidden_layers": 2, "pad_token_id": 0, "position_embedding_type": "absolute",)"
        << R"( "type_vocab_size": )" << type_vocab << R"(, "vocab_size": 1000})";
  }
  // Values as tools/synthetic.py gives the unprefixed name (seed 7); extra entries appended.
  void write_weights(const named_shapes& names, std::vector<tensor_entry> extra = {}) {
    std::vector<tensor_entry> entries = std::move(extra);
    for (const auto& [name, shape] : names) {
      std::vector<float> v(elements(shape));
      const std::string base = name.rfind("bert.", 0) == 0 ? name.substr(5) : name;
      bc1s::io::fill_synthetic(base, v, 7);
      entries.push_back(tensor_entry::f32(name, shape, v));
    }
    bc1s::io::write_safetensors(dir_ / "model.safetensors", entries);
  }
  std::string load_error() {
    try {
      (void)M::load(dir_);
    } catch (const bc1s::io::load_error& e) {
      return e.what();
    }
    return "(no error)";
  }
  fs::path dir_;
};

TEST(Bert, ReadsTheNamesOfTransformersBertModel) {
  auto want = hf_bert_names("", true);
  auto got = M::parameter_names(true, "");
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(M::parameter_names(false, "bert.").size(), hf_bert_names("bert.", false).size());
}

TEST_F(BertFolder, UnprefixedAndPrefixedFoldersGiveTheSyntheticModel) {
  const auto ref = run(M::synthetic(7));
  write_config();
  // A real BertModel file also carries the position_ids buffer (I64): skipped.
  std::vector<tensor_entry> extra;
  {
    tensor_entry pos{"embeddings.position_ids", bc1s::io::dtype::i64, {1, 64}, {}};
    pos.data.resize(64 * 8);
    extra.push_back(pos);
  }
  write_weights(hf_bert_names("", true), extra);
  const auto a = run(M::load(dir_));
  EXPECT_EQ(a.hidden, ref.hidden);
  EXPECT_EQ(a.pooled, ref.pooled);

  write_weights(hf_bert_names("bert.", true));
  const auto b = run(M::load(dir_));
  EXPECT_EQ(b.hidden, ref.hidden);
  EXPECT_EQ(b.pooled, ref.pooled);

  write_weights(hf_bert_names("", false));
  const auto m = M::load(dir_);
  EXPECT_FALSE(m.has_pooler());
  EXPECT_EQ(run(m).hidden, ref.hidden);
}

TEST_F(BertFolder, MissingTensorAndBadConfigAreNamed) {
  write_config();
  auto names = hf_bert_names("", true);
  names.erase(names.begin() + 2);  // token_type_embeddings
  write_weights(names);
  EXPECT_NE(load_error().find("missing tensors: embeddings.token_type_embeddings.weight"),
            std::string::npos)
      << load_error();

  write_config(3);
  write_weights(hf_bert_names("", true));
  EXPECT_NE(load_error().find("type_vocab_size is 3 but the compiled Config has 2"),
            std::string::npos)
      << load_error();

  write_config(2, "relu");
  EXPECT_NE(load_error().find("hidden_act"), std::string::npos) << load_error();

  write_config();
  const std::vector<float> one = {1.0f};
  write_weights(hf_bert_names("", true), {tensor_entry::f32("encoder.extra.weight", {1}, one)});
  EXPECT_NE(load_error().find("unexpected tensors: encoder.extra.weight"), std::string::npos)
      << load_error();
}

TEST(Bert, TokenTypesChangeTheOutputAndAreChecked) {
  const auto m = M::synthetic(7);
  const auto with = run(m);
  const auto without = run(m, {});
  EXPECT_NE(with.hidden, without.hidden);
  // All-zero type ids are the same as none.
  const std::vector<std::int32_t> zeros(kIds.size(), 0);
  EXPECT_EQ(run(m, zeros).hidden, without.hidden);

  M::workspace ws(1, 16);
  const std::vector<std::int32_t> bad = {0, 0, 0, 0, 0, 0, 2, 0, 0};
  EXPECT_THROW(m.forward(ws, kIds, bad, {}, 1, kIds.size()), std::out_of_range);
  const std::vector<std::int32_t> short_types = {0, 1};
  EXPECT_THROW(m.forward(ws, kIds, short_types, {}, 1, kIds.size()), std::invalid_argument);
  EXPECT_THROW(m.forward(ws, kIds, {}, 2, kIds.size()), std::invalid_argument);  // B over
}

TEST(Bert, PoolerIsTanhOfDenseOnCls) {
  const auto m = M::synthetic(7);
  const auto o = run(m);
  // Reference: plain loops over the same synthetic pooler weights and the CLS column.
  std::vector<float> w(64 * 64), b(64);
  bc1s::io::fill_synthetic("pooler.dense.weight", w, 7);
  bc1s::io::fill_synthetic("pooler.dense.bias", b, 7);
  const std::size_t S = kIds.size();
  double max_err = 0;
  for (std::size_t o_ = 0; o_ < 64; ++o_) {
    double acc = b[o_];
    for (std::size_t i = 0; i < 64; ++i) acc += double(w[o_ * 64 + i]) * o.hidden[i * S + 0];
    max_err = std::max(max_err, std::abs(std::tanh(acc) - double(o.pooled[o_])));
  }
  EXPECT_LT(max_err, 1e-5);
}

TEST(Bert, WorkspaceSizeIsExact) {
  M::workspace ws(3, 40, 2);
  EXPECT_EQ(ws.allocated_floats(), M::workspace::floats(3, 40, 2));
  static_assert(M::workspace::floats(1, 16) > 0);
}

}  // namespace
