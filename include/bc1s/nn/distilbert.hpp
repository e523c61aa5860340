// DistilBERT on bc1s kernels: embeddings (word + position, layer norm), N post-LN encoder blocks,
// and the sequence-classification head (pre_classifier + ReLU + classifier), as Hugging Face's
// DistilBertForSequenceClassification.
//
// Activations are fp32 (B, C, 1, S) tensors in a workspace; weights are stored as WT (bc1s::half by
// default, bc1s::bf16 or float: kernels/weight_storage.hpp) and packed once at load. Letters:
// B batch, C = Config::dim, S sequence, H heads, D = C / H, F = Config::hidden (feed-forward
// width).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "bc1s/core/tensor.hpp"
#include "bc1s/io/hf_config.hpp"
#include "bc1s/io/safetensors.hpp"
#include "bc1s/io/synthetic.hpp"
#include "bc1s/kernels/attention.hpp"
#include "bc1s/kernels/conv1x1.hpp"
#include "bc1s/kernels/embedding.hpp"
#include "bc1s/kernels/layer_norm.hpp"
#include "bc1s/layout/heads.hpp"
#include "bc1s/nn/encoder_block.hpp"
#include "bc1s/nn/encoder_workspace.hpp"
#include "bc1s/nn/loading.hpp"
#include "bc1s/runtime/profile.hpp"
#include "bc1s/runtime/thread_pool.hpp"

namespace bc1s::nn {

// distilbert-base-uncased (and its SST-2 fine-tune): the compile-time shape of the model.
struct distilbert_base {
  static constexpr std::size_t dim = 768;
  static constexpr std::size_t heads = 12;
  static constexpr std::size_t hidden = 3072;
  static constexpr std::size_t layers = 6;
  static constexpr std::size_t vocab = 30522;
  static constexpr std::size_t max_positions = 512;
  static constexpr std::size_t num_labels = 2;
  static constexpr float layer_norm_eps = 1e-12f;  // fixed in Hugging Face's DistilBERT code
};

template <class Config, class WT = half>
class distilbert {
 public:
  using config = Config;
  using block_type = encoder_block<Config, WT>;
  // Embedding tables: stored as weight_storage<WT>::embedding_type (fp16 for bf16 weights).
  using ET = typename weight_storage<WT>::embedding_type;
  using act_layout = typename block_type::act_layout;
  static constexpr std::size_t C = Config::dim;

  // Parameters by Hugging Face name (DistilBertForSequenceClassification), from any source.
  // `prefix` is "distilbert." for the classification checkpoint.
  explicit distilbert(const parameter_source& src, const std::string& prefix = "distilbert.",
                      bool with_classifier = true)
      : has_classifier_(with_classifier) {
    auto get = detail::parameter_getter(src);
    const std::string emb = prefix + "embeddings.";
    word_ = detail::to_storage<ET>(get(emb + "word_embeddings.weight", {Config::vocab, C}));
    pos_ =
        detail::to_storage<ET>(get(emb + "position_embeddings.weight", {Config::max_positions, C}));
    emb_gamma_ = get(emb + "LayerNorm.weight", {C});
    emb_beta_ = get(emb + "LayerNorm.bias", {C});
    blocks_.reserve(Config::layers);
    for (std::size_t l = 0; l < Config::layers; ++l) {
      blocks_.emplace_back(get, prefix + "transformer.layer." + std::to_string(l) + ".");
    }
    if (with_classifier) {
      pre_ = conv1x1_weights<WT, C, C>(C, C, get("pre_classifier.weight", {C, C}),
                                       get("pre_classifier.bias", {C}));
      cls_ = conv1x1_weights<WT, Config::num_labels, C>(
          Config::num_labels, C, get("classifier.weight", {Config::num_labels, C}),
          get("classifier.bias", {Config::num_labels}));
    }
  }

  // The Hugging Face names this model reads, with their shapes.
  static std::vector<std::pair<std::string, std::vector<std::size_t>>> parameter_names(
      bool with_classifier = true, const std::string& prefix = "distilbert.") {
    auto all =
        io::distilbert_parameter_shapes(C, Config::heads, Config::hidden, Config::layers,
                                        Config::vocab, Config::max_positions, Config::num_labels);
    std::vector<std::pair<std::string, std::vector<std::size_t>>> out;
    for (auto& [name, shape] : all) {
      const bool head = name.rfind("pre_classifier.", 0) == 0 || name.rfind("classifier.", 0) == 0;
      if (head && !with_classifier) continue;
      std::string n = name;
      if (!head && prefix != "distilbert.")
        n = prefix + name.substr(std::string("distilbert.").size());
      out.emplace_back(n, shape);
    }
    return out;
  }

  // Seeded synthetic weights (bc1s/io/synthetic.hpp; tools/synthetic.py makes the same ones).
  static distilbert synthetic(std::uint64_t seed) {
    return distilbert([seed](const std::string& name, std::span<const std::size_t>,
                             std::span<float> dst) { io::fill_synthetic(name, dst, seed); });
  }

  // A Hugging Face model folder: config.json (checked against Config), model.safetensors.
  static distilbert load(const std::filesystem::path& dir) {
    check_config(dir / "config.json");
    const auto file = io::safetensors_file::open(dir / "model.safetensors");
    const bool prefixed = file.contains("distilbert.embeddings.word_embeddings.weight");
    const bool with_classifier = file.contains("classifier.weight");
    const std::string prefix = prefixed ? "distilbert." : "";
    // Exactly the expected names: a missing or unexpected tensor is an error that lists them.
    detail::check_tensor_names(
        file, parameter_names(with_classifier, prefix), [](const std::string&) { return false; },
        dir / "model.safetensors", "DistilBERT");
    return distilbert([&file](const std::string& name, std::span<const std::size_t> shape,
                              std::span<float> dst) { file.read_as_float(name, shape, dst); },
                      prefix, with_classifier);
  }

  static void check_config(const std::filesystem::path& config_json) {
    const io::hf_config cfg = io::load_hf_config(config_json);
    io::hf_config_expect e;
    e.model_type = "distilbert";
    e.dim = Config::dim;
    e.heads = Config::heads;
    e.hidden = Config::hidden;
    e.layers = Config::layers;
    e.vocab = Config::vocab;
    e.max_positions = Config::max_positions;
    e.activation = "gelu";
    io::check_matches(cfg, e);
  }

  bool has_classifier() const noexcept { return has_classifier_; }

  // Everything one forward pass needs for up to max_batch sentences of up to max_seq tokens,
  // allocated once; forward() allocates nothing.
  class workspace {
   public:
    workspace(std::size_t max_batch, std::size_t max_seq, std::size_t threads = 1)
        : act_("bc1s::distilbert", max_batch, max_seq, threads),
          cls_(max_batch, C, 1),
          pre_(max_batch, C, 1),
          logits_(max_batch, Config::num_labels, 1),
          logits_out_(max_batch * Config::num_labels) {}
    std::size_t max_batch() const noexcept { return act_.max_batch(); }
    std::size_t max_seq() const noexcept { return act_.max_seq(); }
    std::size_t threads() const noexcept { return act_.threads(); }

    // The floats a workspace for (max_batch, max_seq, threads) allocates, from the layout types:
    // a constant expression, so a caller with static B and S can budget memory at compile time.
    static constexpr std::size_t floats(std::size_t max_batch, std::size_t max_seq,
                                        std::size_t threads = 1) noexcept {
      using lab_l = layout_bc1s<float, extents<dyn, Config::num_labels, dyn>>;
      return encoder_activations<Config>::floats(max_batch, max_seq, threads) +
             2 * act_layout(max_batch, C, 1).required_span_size() +
             lab_l(max_batch, Config::num_labels, 1).required_span_size() +
             max_batch * Config::num_labels;
    }
    // The same for static extents<B, C, S> (C must be the model's).
    template <class Extents>
    static constexpr std::size_t floats_for(std::size_t threads = 1) noexcept {
      static_assert(Extents::static_b != dyn && Extents::static_s != dyn,
                    "bc1s::distilbert::workspace::floats_for: expected static B and S; use "
                    "floats(max_batch, max_seq) for dynamic ones");
      static_assert(Extents::static_c == dyn || Extents::static_c == C,
                    "bc1s::distilbert::workspace::floats_for: expected the model's C");
      return floats(Extents::static_b, Extents::static_s, threads);
    }
    // What this workspace allocated (equals floats(max_batch(), max_seq(), threads())).
    std::size_t allocated_floats() const noexcept {
      return act_.allocated_floats() + cls_.mapping().required_span_size() +
             pre_.mapping().required_span_size() + logits_.mapping().required_span_size() +
             logits_out_.size();
    }

    // After forward(): the last hidden state (B, C, 1, S) and logits [B][num_labels].
    tensor_view<const float, act_layout> hidden() const noexcept { return act_.x(); }
    std::span<const float> logits() const noexcept {
      return {logits_out_.data(), b() * Config::num_labels};
    }
    std::size_t b() const noexcept { return act_.b(); }
    std::size_t s() const noexcept { return act_.s(); }

   private:
    friend class distilbert;
    using buf = tensor<float, act_layout>;
    static tensor_view<float, act_layout> column_view(const buf& t, std::size_t B) {
      return {const_cast<float*>(t.data()), act_layout(B, C, 1)};
    }
    encoder_activations<Config> act_;
    buf cls_, pre_;
    tensor<float, layout_bc1s<float, extents<dyn, Config::num_labels, dyn>>> logits_;
    std::vector<float> logits_out_;
  };

  static constexpr std::size_t kChunk = block_type::kChunk;

  // ids, mask: row-major [B][S] token ids and attention mask (1 = token, 0 = padding).
  // Fills ws.hidden() and (with a classifier) ws.logits().
  void forward(workspace& ws, std::span<const std::int32_t> ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    ws.act_.begin("bc1s::distilbert", ids, mask, B, S, pool);
    const auto x = ws.act_.x();
    {
      runtime::stage_timer tm(prof, runtime::stage::embedding);
      embedding_gather(embedding_table<ET>(word_, Config::vocab, C),
                       embedding_table<ET>(pos_, Config::max_positions, C), ids, x);
      layer_norm(x, emb_gamma_, emb_beta_, Config::layer_norm_eps, x, pool);
    }

    const auto bufs = ws.act_.buffers();
    for (const auto& blk : blocks_) blk.forward(x, bufs, pool, prof);
    if (prof) ++prof->passes;

    if (has_classifier_) {
      runtime::stage_timer tm(prof, runtime::stage::classifier);
      // CLS column -> pre_classifier -> ReLU -> classifier.
      auto cls = workspace::column_view(ws.cls_, B);
      auto pre = workspace::column_view(ws.pre_, B);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) cls(b, c, 0) = x(b, c, 0);
      conv1x1(pre_, cls, pre, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) pre(b, c, 0) = std::max(pre(b, c, 0), 0.0f);
      using lab_l = layout_bc1s<float, extents<dyn, Config::num_labels, dyn>>;
      tensor_view<float, lab_l> logits(ws.logits_.data(), lab_l(B, Config::num_labels, 1));
      conv1x1(cls_, pre, logits, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t l = 0; l < Config::num_labels; ++l)
          ws.logits_out_[b * Config::num_labels + l] = logits(b, l, 0);
    }
  }

  std::size_t weight_bytes() const noexcept {
    std::size_t n = (word_.size() + pos_.size()) * sizeof(ET);
    for (const auto& b : blocks_) n += b.weight_bytes();
    return n + (has_classifier_ ? pre_.bytes() + cls_.bytes() : 0);
  }

 private:
  std::vector<ET> word_, pos_;
  std::vector<float> emb_gamma_, emb_beta_;
  std::vector<block_type> blocks_;
  bool has_classifier_ = true;
  conv1x1_weights<WT, C, C> pre_;
  conv1x1_weights<WT, Config::num_labels, C> cls_;
};

}  // namespace bc1s::nn
