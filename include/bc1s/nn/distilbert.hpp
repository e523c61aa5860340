// DistilBERT on bc1s kernels: embeddings (word + position, layer norm), N post-LN encoder blocks,
// and the sequence-classification head (pre_classifier + ReLU + classifier), as Hugging Face's
// DistilBertForSequenceClassification.
//
// Activations are fp32 (B, C, 1, S) tensors in a workspace; weights are stored as WT (bc1s::half by
// default, or float) and packed once at load. Letters: B batch, C = Config::dim, S sequence,
// H heads, D = C / H, F = Config::hidden (feed-forward width).
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

// Where parameters come from: fill `dst` (row-major, Hugging Face shape `shape`) for `name`.
using parameter_source = std::function<void(
    const std::string& name, std::span<const std::size_t> shape, std::span<float> dst)>;

template <class Config, class WT = half>
class distilbert {
 public:
  using config = Config;
  using block_type = encoder_block<Config, WT>;
  using act_layout = typename block_type::act_layout;
  static constexpr std::size_t C = Config::dim;

  // Parameters by Hugging Face name (DistilBertForSequenceClassification), from any source.
  // `prefix` is "distilbert." for the classification checkpoint.
  explicit distilbert(const parameter_source& src, const std::string& prefix = "distilbert.",
                      bool with_classifier = true)
      : has_classifier_(with_classifier) {
    auto get = [&](const std::string& name, std::vector<std::size_t> shape) {
      std::size_t n = 1;
      for (auto d : shape) n *= d;
      std::vector<float> v(n);
      src(name, shape, v);
      return v;
    };
    const std::string emb = prefix + "embeddings.";
    word_ = to_storage(get(emb + "word_embeddings.weight", {Config::vocab, C}));
    pos_ = to_storage(get(emb + "position_embeddings.weight", {Config::max_positions, C}));
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
    std::set<std::string> expected;
    for (auto& [n, s] : parameter_names(with_classifier, prefix)) expected.insert(n);
    std::vector<std::string> missing, unexpected;
    for (const auto& n : expected)
      if (!file.contains(n)) missing.push_back(n);
    for (const auto& n : file.names())
      if (!expected.count(n)) unexpected.push_back(n);
    if (!missing.empty() || !unexpected.empty()) {
      auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (std::size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
        if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
        return s;
      };
      std::string msg =
          (dir / "model.safetensors").string() + ": not a DistilBERT checkpoint of this shape;";
      if (!missing.empty()) msg += " missing tensors: " + list(missing) + ";";
      if (!unexpected.empty()) msg += " unexpected tensors: " + list(unexpected) + ";";
      throw io::load_error(msg);
    }
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
        : max_b_(max_batch),
          max_s_(max_seq),
          x_(max_batch, C, max_seq),
          q_(max_batch, C, max_seq),
          k_(max_batch, C, max_seq),
          v_(max_batch, C, max_seq),
          ctx_(max_batch, C, max_seq),
          ffn_(max_batch, Config::hidden, max_seq),
          cls_(max_batch, C, 1),
          pre_(max_batch, C, 1),
          logits_(max_batch, Config::num_labels, 1),
          scratch_(
              detail::aligned_zeros<float>(attention_scratch_floats(max_seq, kChunk, threads))),
          scratch_size_(attention_scratch_floats(max_seq, kChunk, threads)),
          mask_(max_batch * max_seq),
          logits_out_(max_batch * Config::num_labels),
          threads_(threads) {
      if (max_seq > Config::max_positions) {
        throw std::invalid_argument(
            "bc1s::distilbert: a workspace for S = " + std::to_string(max_seq) +
            " is above the model's " + std::to_string(Config::max_positions) + " positions");
      }
    }
    std::size_t max_batch() const noexcept { return max_b_; }
    std::size_t max_seq() const noexcept { return max_s_; }
    std::size_t threads() const noexcept { return threads_; }

    // The floats a workspace for (max_batch, max_seq, threads) allocates, from the layout types:
    // a constant expression, so a caller with static B and S can budget memory at compile time.
    static constexpr std::size_t floats(std::size_t max_batch, std::size_t max_seq,
                                        std::size_t threads = 1) noexcept {
      using ffn_l = layout_bc1s<float, extents<dyn, Config::hidden, dyn>>;
      using lab_l = layout_bc1s<float, extents<dyn, Config::num_labels, dyn>>;
      return 5 * act_layout(max_batch, C, max_seq).required_span_size() +
             ffn_l(max_batch, Config::hidden, max_seq).required_span_size() +
             2 * act_layout(max_batch, C, 1).required_span_size() +
             lab_l(max_batch, Config::num_labels, 1).required_span_size() +
             attention_scratch_floats(max_seq, kChunk, threads) + max_batch * max_seq +
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
      return x_.mapping().required_span_size() + q_.mapping().required_span_size() +
             k_.mapping().required_span_size() + v_.mapping().required_span_size() +
             ctx_.mapping().required_span_size() + ffn_.mapping().required_span_size() +
             cls_.mapping().required_span_size() + pre_.mapping().required_span_size() +
             logits_.mapping().required_span_size() + scratch_size_ + mask_.size() +
             logits_out_.size();
    }

    // After forward(): the last hidden state (B, C, 1, S) and logits [B][num_labels].
    tensor_view<const float, act_layout> hidden() const noexcept { return view_of(x_, b_, s_); }
    std::span<const float> logits() const noexcept {
      return {logits_out_.data(), b_ * Config::num_labels};
    }
    std::size_t b() const noexcept { return b_; }
    std::size_t s() const noexcept { return s_; }

   private:
    friend class distilbert;
    using buf = tensor<float, act_layout>;
    // A (B, rows, S) view over the start of a buffer allocated for (max_b, rows, max_s).
    static tensor_view<float, act_layout> view_of(const buf& t, std::size_t B, std::size_t S) {
      return {const_cast<float*>(t.data()), act_layout(B, t.c(), S)};
    }
    template <std::size_t Rows>
    static auto view_rows(const tensor<float, layout_bc1s<float, extents<dyn, Rows, dyn>>>& t,
                          std::size_t B, std::size_t S) {
      using L = layout_bc1s<float, extents<dyn, Rows, dyn>>;
      return tensor_view<float, L>(const_cast<float*>(t.data()), L(B, Rows, S));
    }
    std::size_t max_b_, max_s_;
    buf x_, q_, k_, v_, ctx_;
    tensor<float, layout_bc1s<float, extents<dyn, Config::hidden, dyn>>> ffn_;
    buf cls_, pre_;
    tensor<float, layout_bc1s<float, extents<dyn, Config::num_labels, dyn>>> logits_;
    std::unique_ptr<float[], detail::aligned_delete> scratch_;
    std::size_t scratch_size_;
    std::vector<float> mask_;
    std::vector<float> logits_out_;
    std::size_t threads_;
    std::size_t b_ = 0, s_ = 0;
  };

  static constexpr std::size_t kChunk = block_type::kChunk;

  // ids, mask: row-major [B][S] token ids and attention mask (1 = token, 0 = padding).
  // Fills ws.hidden() and (with a classifier) ws.logits().
  void forward(workspace& ws, std::span<const std::int32_t> ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    if (S == 0 || B == 0)
      throw std::invalid_argument("bc1s::distilbert: empty batch (B = 0 or S = 0)");
    if (S > Config::max_positions) {
      throw std::invalid_argument(
          "bc1s::distilbert: sequence of " + std::to_string(S) + " tokens is above the model's " +
          std::to_string(Config::max_positions) + " positions; truncate when tokenizing");
    }
    if (B > ws.max_b_ || S > ws.max_s_) {
      throw std::invalid_argument(
          "bc1s::distilbert: batch (B = " + std::to_string(B) + ", S = " + std::to_string(S) +
          ") is over the workspace's capacity (B = " + std::to_string(ws.max_b_) +
          ", S = " + std::to_string(ws.max_s_) + ")");
    }
    if (ids.size() != B * S || (!mask.empty() && mask.size() != B * S)) {
      throw std::invalid_argument("bc1s::distilbert: expected B * S = " + std::to_string(B * S) +
                                  " ids and mask values, got " + std::to_string(ids.size()) +
                                  " and " + std::to_string(mask.size()));
    }
    if (pool != nullptr && pool->size() > ws.threads_) {
      throw std::invalid_argument("bc1s::distilbert: the workspace was made for " +
                                  std::to_string(ws.threads_) + " threads, the pool has " +
                                  std::to_string(pool->size()));
    }
    ws.b_ = B;
    ws.s_ = S;
    for (std::size_t i = 0; i < B * S; ++i) {
      ws.mask_[i] = (mask.empty() || mask[i] != 0) ? 0.0f : kMaskedKey;
    }
    auto x = workspace::view_of(ws.x_, B, S);
    {
      runtime::stage_timer tm(prof, runtime::stage::embedding);
      embedding_gather(embedding_table<WT>(word_, Config::vocab, C),
                       embedding_table<WT>(pos_, Config::max_positions, C), ids, x);
      layer_norm(x, emb_gamma_, emb_beta_, Config::layer_norm_eps, x, pool);
    }

    typename block_type::buffers bufs{workspace::view_of(ws.q_, B, S),
                                      workspace::view_of(ws.k_, B, S),
                                      workspace::view_of(ws.v_, B, S),
                                      workspace::view_of(ws.ctx_, B, S),
                                      workspace::template view_rows<Config::hidden>(ws.ffn_, B, S),
                                      std::span<const float>(ws.mask_.data(), B * S),
                                      std::span<float>(ws.scratch_.get(), ws.scratch_size_)};
    for (const auto& blk : blocks_) blk.forward(x, bufs, pool, prof);
    if (prof) ++prof->passes;

    if (has_classifier_) {
      runtime::stage_timer tm(prof, runtime::stage::classifier);
      // CLS column -> pre_classifier -> ReLU -> classifier.
      auto cls = workspace::view_of(ws.cls_, B, 1);
      auto pre = workspace::view_of(ws.pre_, B, 1);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) cls(b, c, 0) = x(b, c, 0);
      conv1x1(pre_, cls, pre, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) pre(b, c, 0) = std::max(pre(b, c, 0), 0.0f);
      auto logits = workspace::template view_rows<Config::num_labels>(ws.logits_, B, 1);
      conv1x1(cls_, pre, logits, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t l = 0; l < Config::num_labels; ++l)
          ws.logits_out_[b * Config::num_labels + l] = logits(b, l, 0);
    }
  }

  std::size_t weight_bytes() const noexcept {
    std::size_t n = (word_.size() + pos_.size()) * sizeof(WT);
    for (const auto& b : blocks_) n += b.weight_bytes();
    return n + (has_classifier_ ? pre_.bytes() + cls_.bytes() : 0);
  }

 private:
  static std::vector<WT> to_storage(const std::vector<float>& v) {
    std::vector<WT> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = from_float<WT>(v[i]);
    return out;
  }

  std::vector<WT> word_, pos_;
  std::vector<float> emb_gamma_, emb_beta_;
  std::vector<block_type> blocks_;
  bool has_classifier_ = true;
  conv1x1_weights<WT, C, C> pre_;
  conv1x1_weights<WT, Config::num_labels, C> cls_;
};

}  // namespace bc1s::nn
