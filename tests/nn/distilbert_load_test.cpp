// distilbert::load() on Hugging Face model folders written here: config.json plus
// model.safetensors with the tensor names of DistilBertForSequenceClassification. The names and
// shapes below are written out from ../shared/data/PROVENANCE.md (the published checkpoint's
// list), not taken from bc1s, so a naming slip in the loader fails here.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <unistd.h>
#include <string>
#include <vector>

#include "bc1s/io/safetensors.hpp"
#include "bc1s/io/synthetic.hpp"
#include "bc1s/nn/distilbert.hpp"

namespace {

namespace fs = std::filesystem;
using bc1s::io::tensor_entry;

struct tiny_config {
  static constexpr std::size_t dim = 64, heads = 4, hidden = 128, layers = 2, vocab = 1000,
                               max_positions = 64, num_labels = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

using shape_t = std::vector<std::size_t>;
using named_shapes = std::vector<std::pair<std::string, shape_t>>;

// PROVENANCE.md's list for a model of these sizes ("distilbert." prefix; classifier optional).
named_shapes hf_names(std::size_t dim, std::size_t hidden, std::size_t layers, std::size_t vocab,
                      std::size_t positions, std::size_t labels, bool classifier,
                      const std::string& prefix = "distilbert.") {
  named_shapes v = {{prefix + "embeddings.word_embeddings.weight", {vocab, dim}},
                    {prefix + "embeddings.position_embeddings.weight", {positions, dim}},
                    {prefix + "embeddings.LayerNorm.weight", {dim}},
                    {prefix + "embeddings.LayerNorm.bias", {dim}}};
  for (std::size_t i = 0; i < layers; ++i) {
    const std::string p = prefix + "transformer.layer." + std::to_string(i) + ".";
    for (const char* lin : {"q_lin", "k_lin", "v_lin", "out_lin"}) {
      v.push_back({p + "attention." + lin + ".weight", {dim, dim}});
      v.push_back({p + "attention." + lin + ".bias", {dim}});
    }
    v.push_back({p + "sa_layer_norm.weight", {dim}});
    v.push_back({p + "sa_layer_norm.bias", {dim}});
    v.push_back({p + "ffn.lin1.weight", {hidden, dim}});
    v.push_back({p + "ffn.lin1.bias", {hidden}});
    v.push_back({p + "ffn.lin2.weight", {dim, hidden}});
    v.push_back({p + "ffn.lin2.bias", {dim}});
    v.push_back({p + "output_layer_norm.weight", {dim}});
    v.push_back({p + "output_layer_norm.bias", {dim}});
  }
  if (classifier) {
    v.push_back({"pre_classifier.weight", {dim, dim}});
    v.push_back({"pre_classifier.bias", {dim}});
    v.push_back({"classifier.weight", {labels, dim}});
    v.push_back({"classifier.bias", {labels}});
  }
  return v;
}

named_shapes tiny_names(bool classifier = true, const std::string& prefix = "distilbert.") {
  return hf_names(64, 128, 2, 1000, 64, 2, classifier, prefix);
}

std::size_t elements(const shape_t& s) {
  std::size_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// A model folder in a fresh temporary directory.
class ModelFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("bc1s_load_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_config(int dim = 64, int layers = 2, int heads = 4, int hidden = 128) {
    std::ofstream(dir_ / "config.json")
        << R"({"activation": "gelu", "architectures": ["DistilBertForSequenceClassification"],)"
        << R"( "dim": )" << dim << R"(, "hidden_dim": )" << hidden
        << R"(, "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},)"
        << R"( "max_position_embeddings": 64, "model_type": "distilbert", "n_heads": )" << heads
        << R"(, "n_layers": )" << layers
        << R"(, "sinusoidal_pos_embds": false, "vocab_size": 1000})";
  }

  // Tensors with the values tools/synthetic.py gives `value_name` (seed 99); `f16` stores them
  // rounded to fp16. `rename` maps a tensor's file name to the name its values come from.
  void write_weights(const named_shapes& names, bool f16 = false,
                     const std::function<std::string(const std::string&)>& value_name = {}) {
    std::vector<tensor_entry> entries;
    for (const auto& [name, shape] : names) {
      std::vector<float> v(elements(shape));
      bc1s::io::fill_synthetic(value_name ? value_name(name) : name, v, 99);
      entries.push_back(f16 ? tensor_entry::f16(name, shape, std::span<const float>(v))
                            : tensor_entry::f32(name, shape, v));
    }
    bc1s::io::write_safetensors(dir_ / "model.safetensors", entries);
  }

  template <class WT>
  static void expect_same_outputs(const bc1s::nn::distilbert<tiny_config, WT>& a,
                                  const bc1s::nn::distilbert<tiny_config, WT>& b) {
    using M = bc1s::nn::distilbert<tiny_config, WT>;
    const std::vector<std::int32_t> ids = {101, 7, 512, 999, 3, 42, 102};
    typename M::workspace wa(1, 16), wb(1, 16);
    a.forward(wa, ids, {}, 1, ids.size());
    b.forward(wb, ids, {}, 1, ids.size());
    std::size_t differ = 0;
    for (std::size_t c = 0; c < tiny_config::dim; ++c)
      for (std::size_t s = 0; s < ids.size(); ++s)
        differ += wa.hidden()(0, c, s) != wb.hidden()(0, c, s);
    EXPECT_EQ(differ, 0u) << "hidden-state values that differ";
    if (a.has_classifier() && b.has_classifier()) {
      EXPECT_EQ(wa.logits()[0], wb.logits()[0]);
      EXPECT_EQ(wa.logits()[1], wb.logits()[1]);
    }
  }

  std::string load_error_of(auto&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no exception";
  }

  fs::path dir_;
};

using tiny_f32 = bc1s::nn::distilbert<tiny_config, float>;
using tiny_f16 = bc1s::nn::distilbert<tiny_config, bc1s::half>;

TEST(DistilBertNames, PublishedCheckpointListIsWhatBaseReads) {
  // The 104 tensors of distilbert-base-uncased-finetuned-sst-2-english (PROVENANCE.md).
  const auto want = hf_names(768, 3072, 6, 30522, 512, 2, true);
  ASSERT_EQ(want.size(), 104u);
  const auto got = bc1s::nn::distilbert<bc1s::nn::distilbert_base, bc1s::half>::parameter_names();
  std::map<std::string, shape_t> got_map(got.begin(), got.end());
  EXPECT_EQ(got_map.size(), got.size()) << "duplicate names";
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [name, shape] : want) {
    auto it = got_map.find(name);
    if (it == got_map.end()) {
      ADD_FAILURE() << "bc1s does not read " << name;
      continue;
    }
    EXPECT_EQ(it->second, shape) << name;
  }
}

TEST_F(ModelFolder, Fp32FileLoadsTheSameWeightsAsSynthetic) {
  write_config();
  write_weights(tiny_names());
  const auto loaded = tiny_f32::load(dir_);
  EXPECT_TRUE(loaded.has_classifier());
  expect_same_outputs(loaded, tiny_f32::synthetic(99));
}

TEST_F(ModelFolder, Fp16FileIntoFp16Storage) {
  // Every tensor (biases and layer-norm parameters too) is fp16 in the file; the reference is the
  // same synthetic values rounded to fp16 (nearest even) before they reach the model.
  write_config();
  write_weights(tiny_names(), /*f16=*/true);
  const tiny_f16 rounded(
      [](const std::string& name, std::span<const std::size_t>, std::span<float> dst) {
        bc1s::io::fill_synthetic(name, dst, 99);
        for (float& x : dst) x = static_cast<float>(bc1s::half(x));
      });
  expect_same_outputs(tiny_f16::load(dir_), rounded);
}

TEST_F(ModelFolder, BaseModelWithoutPrefixOrClassifier) {
  // DistilBertModel checkpoints: no "distilbert." prefix and no classification head.
  write_config();
  write_weights(tiny_names(false, ""), false,
                [](const std::string& n) { return "distilbert." + n; });
  const auto loaded = tiny_f32::load(dir_);
  EXPECT_FALSE(loaded.has_classifier());
  expect_same_outputs(loaded, tiny_f32::synthetic(99));
}

TEST_F(ModelFolder, MissingTensorIsNamed) {
  write_config();
  auto names = tiny_names();
  std::erase_if(names, [](const auto& p) {
    return p.first == "distilbert.transformer.layer.1.ffn.lin2.bias";
  });
  write_weights(names);
  const auto msg = load_error_of([&] { (void)tiny_f32::load(dir_); });
  EXPECT_NE(msg.find("missing tensors: distilbert.transformer.layer.1.ffn.lin2.bias"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

TEST_F(ModelFolder, UnexpectedTensorIsNamed) {
  write_config();
  auto names = tiny_names();
  names.push_back({"distilbert.transformer.layer.2.attention.q_lin.weight", {64, 64}});
  write_weights(names);
  const auto msg = load_error_of([&] { (void)tiny_f32::load(dir_); });
  EXPECT_NE(msg.find("unexpected tensors: distilbert.transformer.layer.2.attention.q_lin.weight"),
            std::string::npos)
      << msg;
}

TEST_F(ModelFolder, WrongShapeIsNamed) {
  write_config();
  auto names = tiny_names();
  for (auto& [n, s] : names)
    if (n == "distilbert.transformer.layer.0.ffn.lin1.weight") s = {64, 128};  // transposed
  write_weights(names);
  const auto msg = load_error_of([&] { (void)tiny_f32::load(dir_); });
  EXPECT_NE(msg.find("distilbert.transformer.layer.0.ffn.lin1.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("128"), std::string::npos) << msg;
}

TEST_F(ModelFolder, ConfigMismatchNamesFieldAndBothValues) {
  write_config(64, /*layers=*/3);
  write_weights(tiny_names());
  const auto msg = load_error_of([&] { (void)tiny_f32::load(dir_); });
  EXPECT_NE(msg.find("n_layers"), std::string::npos) << msg;
  EXPECT_NE(msg.find('3'), std::string::npos) << msg;
  EXPECT_NE(msg.find('2'), std::string::npos) << msg;
}

TEST_F(ModelFolder, MissingFilesAreNamed) {
  auto msg = load_error_of([&] { (void)tiny_f32::load(dir_); });
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
  write_config();
  msg = load_error_of([&] { (void)tiny_f32::load(dir_); });
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  msg = load_error_of([&] { (void)tiny_f32::load(dir_ / "no_such_folder"); });
  EXPECT_NE(msg.find("no_such_folder"), std::string::npos) << msg;
}

TEST_F(ModelFolder, TruncatedWeightsFileIsAnError) {
  write_config();
  write_weights(tiny_names());
  const auto p = dir_ / "model.safetensors";
  fs::resize_file(p, fs::file_size(p) - 100);
  const auto msg = load_error_of([&] { (void)tiny_f32::load(dir_); });
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

}  // namespace
