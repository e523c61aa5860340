// BERT on bc1s kernels: embeddings (word + position + token type, layer norm), N post-LN encoder
// blocks (the same encoder_block as DistilBERT, with BERT's parameter names) and the optional
// pooler (tanh(dense(CLS))), as Hugging Face's BertModel. Covers bert-base, MiniLM (head dim 32)
// and the other absolute-position BERT checkpoints.
//
// Letters: B batch, C = Config::dim, S sequence, H heads, F = Config::hidden.
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
#include <utility>
#include <vector>

#include "bc1s/core/tensor.hpp"
#include "bc1s/io/hf_config.hpp"
#include "bc1s/io/safetensors.hpp"
#include "bc1s/io/synthetic.hpp"
#include "bc1s/kernels/conv1x1.hpp"
#include "bc1s/kernels/embedding.hpp"
#include "bc1s/kernels/layer_norm.hpp"
#include "bc1s/nn/encoder_block.hpp"
#include "bc1s/nn/encoder_workspace.hpp"
#include "bc1s/nn/loading.hpp"
#include "bc1s/runtime/profile.hpp"
#include "bc1s/runtime/thread_pool.hpp"

namespace bc1s::nn {

// sentence-transformers/all-MiniLM-L6-v2: 6 layers of width 384, 12 heads of 32.
struct minilm_l6 {
  static constexpr std::size_t dim = 384;
  static constexpr std::size_t heads = 12;
  static constexpr std::size_t hidden = 1536;
  static constexpr std::size_t layers = 6;
  static constexpr std::size_t vocab = 30522;
  static constexpr std::size_t max_positions = 512;
  static constexpr std::size_t type_vocab = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

// bert-base-uncased.
struct bert_base {
  static constexpr std::size_t dim = 768;
  static constexpr std::size_t heads = 12;
  static constexpr std::size_t hidden = 3072;
  static constexpr std::size_t layers = 12;
  static constexpr std::size_t vocab = 30522;
  static constexpr std::size_t max_positions = 512;
  static constexpr std::size_t type_vocab = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

template <class Config, class WT = half>
class bert {
  static_assert(Config::type_vocab >= 1,
                "bc1s::bert: Config::type_vocab must be at least 1 (BERT's type_vocab_size)");

 public:
  using config = Config;
  using block_type = encoder_block<Config, WT>;
  // Embedding tables: stored as weight_storage<WT>::embedding_type (fp16 for bf16 weights).
  using ET = typename weight_storage<WT>::embedding_type;
  using act_layout = typename block_type::act_layout;
  static constexpr std::size_t C = Config::dim;

  // Parameters by Hugging Face BertModel name under `prefix` ("" or "bert."), from any source.
  explicit bert(const parameter_source& src, const std::string& prefix = "",
                bool with_pooler = true)
      : has_pooler_(with_pooler) {
    auto get = detail::parameter_getter(src);
    const std::string emb = prefix + "embeddings.";
    word_ = detail::to_storage<ET>(get(emb + "word_embeddings.weight", {Config::vocab, C}));
    pos_ =
        detail::to_storage<ET>(get(emb + "position_embeddings.weight", {Config::max_positions, C}));
    type_ =
        detail::to_storage<ET>(get(emb + "token_type_embeddings.weight", {Config::type_vocab, C}));
    emb_gamma_ = get(emb + "LayerNorm.weight", {C});
    emb_beta_ = get(emb + "LayerNorm.bias", {C});
    blocks_.reserve(Config::layers);
    for (std::size_t l = 0; l < Config::layers; ++l) {
      blocks_.emplace_back(get,
                           block_names::bert(prefix + "encoder.layer." + std::to_string(l) + "."));
    }
    if (with_pooler) {
      pooler_ = conv1x1_weights<WT, C, C>(C, C, get(prefix + "pooler.dense.weight", {C, C}),
                                          get(prefix + "pooler.dense.bias", {C}));
    }
  }

  // The Hugging Face names this model reads, with their shapes.
  static std::vector<std::pair<std::string, std::vector<std::size_t>>> parameter_names(
      bool with_pooler = true, const std::string& prefix = "") {
    std::vector<std::pair<std::string, std::vector<std::size_t>>> out;
    auto add = [&](const std::string& n, std::vector<std::size_t> s) {
      out.emplace_back(prefix + n, std::move(s));
    };
    auto lin = [&](const std::string& n, std::size_t o, std::size_t i) {
      add(n + ".weight", {o, i});
      add(n + ".bias", {o});
    };
    auto norm = [&](const std::string& n) {
      add(n + ".weight", {C});
      add(n + ".bias", {C});
    };
    add("embeddings.word_embeddings.weight", {Config::vocab, C});
    add("embeddings.position_embeddings.weight", {Config::max_positions, C});
    add("embeddings.token_type_embeddings.weight", {Config::type_vocab, C});
    norm("embeddings.LayerNorm");
    for (std::size_t l = 0; l < Config::layers; ++l) {
      const auto n = block_names::bert("encoder.layer." + std::to_string(l) + ".");
      lin(n.q, C, C);
      lin(n.k, C, C);
      lin(n.v, C, C);
      lin(n.out, C, C);
      norm(n.attn_norm);
      lin(n.ffn_in, Config::hidden, C);
      lin(n.ffn_out, C, Config::hidden);
      norm(n.out_norm);
    }
    if (with_pooler) lin("pooler.dense", C, C);
    return out;
  }

  // Seeded synthetic weights (bc1s/io/synthetic.hpp; tools/synthetic.py makes the same ones).
  static bert synthetic(std::uint64_t seed, bool with_pooler = true) {
    return bert([seed](const std::string& name, std::span<const std::size_t>,
                       std::span<float> dst) { io::fill_synthetic(name, dst, seed); },
                "", with_pooler);
  }

  // A Hugging Face BertModel folder: config.json (checked against Config), model.safetensors
  // with unprefixed or "bert."-prefixed names. Buffers (position_ids, token_type_ids) and the
  // pre-training heads ("cls.*") are skipped; any other unknown tensor is an error.
  static bert load(const std::filesystem::path& dir) {
    check_config(dir / "config.json");
    const auto file = io::safetensors_file::open(dir / "model.safetensors");
    const bool prefixed = file.contains("bert.embeddings.word_embeddings.weight");
    const std::string prefix = prefixed ? "bert." : "";
    const bool with_pooler = file.contains(prefix + "pooler.dense.weight");
    auto skipped = [&](const std::string& n) {
      return n == prefix + "embeddings.position_ids" || n == prefix + "embeddings.token_type_ids" ||
             n.rfind("cls.", 0) == 0;
    };
    detail::check_tensor_names(file, parameter_names(with_pooler, prefix), skipped,
                               dir / "model.safetensors", "BERT");
    return bert([&file](const std::string& name, std::span<const std::size_t> shape,
                        std::span<float> dst) { file.read_as_float(name, shape, dst); },
                prefix, with_pooler);
  }

  static void check_config(const std::filesystem::path& config_json) {
    const io::hf_config cfg = io::load_hf_config(config_json);
    io::hf_config_expect e;
    e.model_type = "bert";
    e.dim = Config::dim;
    e.heads = Config::heads;
    e.hidden = Config::hidden;
    e.layers = Config::layers;
    e.vocab = Config::vocab;
    e.max_positions = Config::max_positions;
    e.type_vocab = Config::type_vocab;
    e.activation = "gelu";
    e.layer_norm_eps = double(Config::layer_norm_eps);
    io::check_matches(cfg, e);
  }

  bool has_pooler() const noexcept { return has_pooler_; }

  // Everything one forward pass needs for up to max_batch sentences of up to max_seq tokens,
  // allocated once; forward() allocates nothing.
  class workspace {
   public:
    workspace(std::size_t max_batch, std::size_t max_seq, std::size_t threads = 1)
        : act_("bc1s::bert", max_batch, max_seq, threads),
          cls_(max_batch, C, 1),
          pooled_(max_batch, C, 1),
          pooled_out_(max_batch * C) {}
    std::size_t max_batch() const noexcept { return act_.max_batch(); }
    std::size_t max_seq() const noexcept { return act_.max_seq(); }
    std::size_t threads() const noexcept { return act_.threads(); }

    static constexpr std::size_t floats(std::size_t max_batch, std::size_t max_seq,
                                        std::size_t threads = 1) noexcept {
      return encoder_activations<Config>::floats(max_batch, max_seq, threads) +
             2 * act_layout(max_batch, C, 1).required_span_size() + max_batch * C;
    }
    std::size_t allocated_floats() const noexcept {
      return act_.allocated_floats() + cls_.mapping().required_span_size() +
             pooled_.mapping().required_span_size() + pooled_out_.size();
    }

    // After forward(): the last hidden state (B, C, 1, S) and (with a pooler) the pooled
    // output [B][C], tanh(W * hidden(:, :, 0) + b).
    tensor_view<const float, act_layout> hidden() const noexcept { return act_.x(); }
    std::span<const float> pooled() const noexcept { return {pooled_out_.data(), b() * C}; }
    std::size_t b() const noexcept { return act_.b(); }
    std::size_t s() const noexcept { return act_.s(); }

   private:
    friend class bert;
    using buf = tensor<float, act_layout>;
    static tensor_view<float, act_layout> column_view(const buf& t, std::size_t B) {
      return {const_cast<float*>(t.data()), act_layout(B, C, 1)};
    }
    encoder_activations<Config> act_;
    buf cls_, pooled_;
    std::vector<float> pooled_out_;
  };

  // ids, mask: row-major [B][S] token ids and attention mask (1 = token, 0 = padding; empty:
  // all tokens). Token type 0 everywhere; see the overload with type_ids for sentence pairs.
  void forward(workspace& ws, std::span<const std::int32_t> ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    forward(ws, ids, {}, mask, B, S, pool, prof);
  }

  // type_ids: row-major [B][S] token types in [0, Config::type_vocab), or empty (all 0).
  void forward(workspace& ws, std::span<const std::int32_t> ids,
               std::span<const std::int32_t> type_ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    ws.act_.begin("bc1s::bert", ids, mask, B, S, pool);
    if (!type_ids.empty() && type_ids.size() != B * S) {
      throw std::invalid_argument("bc1s::bert: expected B * S = " + std::to_string(B * S) +
                                  " token-type ids (or none), got " +
                                  std::to_string(type_ids.size()));
    }
    const auto x = ws.act_.x();
    {
      runtime::stage_timer tm(prof, runtime::stage::embedding);
      embedding_gather(embedding_table<ET>(word_, Config::vocab, C),
                       embedding_table<ET>(pos_, Config::max_positions, C), ids,
                       embedding_table<ET>(type_, Config::type_vocab, C), type_ids, x);
      layer_norm(x, emb_gamma_, emb_beta_, Config::layer_norm_eps, x, pool);
    }
    const auto bufs = ws.act_.buffers();
    for (const auto& blk : blocks_) blk.forward(x, bufs, pool, prof);
    if (prof) ++prof->passes;

    if (has_pooler_) {
      runtime::stage_timer tm(prof, runtime::stage::classifier);
      auto cls = workspace::column_view(ws.cls_, B);
      auto pooled = workspace::column_view(ws.pooled_, B);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) cls(b, c, 0) = x(b, c, 0);
      conv1x1(pooler_, cls, pooled, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) ws.pooled_out_[b * C + c] = std::tanh(pooled(b, c, 0));
    }
  }

  std::size_t weight_bytes() const noexcept {
    std::size_t n = (word_.size() + pos_.size() + type_.size()) * sizeof(ET);
    for (const auto& b : blocks_) n += b.weight_bytes();
    return n + (has_pooler_ ? pooler_.bytes() : 0);
  }

 private:
  std::vector<ET> word_, pos_, type_;
  std::vector<float> emb_gamma_, emb_beta_;
  std::vector<block_type> blocks_;
  bool has_pooler_ = true;
  conv1x1_weights<WT, C, C> pooler_;
};

}  // namespace bc1s::nn
