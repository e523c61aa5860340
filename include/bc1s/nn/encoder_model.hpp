// encoder_model<Family, Config, WT>: one BERT-family encoder on bc1s kernels, for every family and
// every head. DistilBERT and BERT are aliases of it (nn/distilbert.hpp, nn/bert.hpp).
//
//   embeddings   x = layer_norm(word[ids] + position[s] (+ token_type[type_ids]))
//   encoder      N post-LN encoder_blocks (nn/encoder_block.hpp)
//   pooler       p = act(dense(x[:, :, 0]))        BERT's pooler (tanh); DistilBERT's
//                                                  pre_classifier (ReLU), part of its
//                                                  sequence-classification head
//   heads        sequence classification: logits = classifier(p)           [B][L]
//                token classification:    logits = classifier(x) per token  [B][S][L]
//
// Family: a traits type that names the parameters, the config.json keys and what the family has
// (token types, a pooler of its own): distilbert_family, bert_family below. A new family is one
// such struct.
//
// Config: a compiled shape (distilbert_base, minilm_l6, bert_base, or the caller's own struct),
// with every compile-time check it has always had (heads divide the width, ...); or any_shape,
// whose sizes are read from config.json at load and checked there with the same words. Both run the
// same kernels; any_shape passes run-time extents to them.
//
// WT: weight storage (half, bf16, qint8 or float: kernels/weight_storage.hpp).
//
// Letters: B batch, C = width, S sequence, H heads, F feed-forward width, L labels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
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

// What sits above the encoder stack of a checkpoint.
enum class head_kind {
  none,                     // the encoder (and pooler) only: embeddings, hidden states
  sequence_classification,  // one row of L logits per sequence (classifiers, cross-encoders)
  token_classification,     // L logits per token (NER, part-of-speech tagging)
};

inline const char* to_string(head_kind h) noexcept {
  switch (h) {
    case head_kind::sequence_classification:
      return "sequence classification";
    case head_kind::token_classification:
      return "token classification";
    default:
      return "none";
  }
}

struct model_heads {
  bool pooler = false;  // dense + activation on the [CLS] column (see the file comment)
  head_kind head = head_kind::none;
  std::size_t num_labels = 0;  // L; 0 without a classifier
};

// The pooler's activation.
enum class pooler_act { relu, tanh };

// ---- families --------------------------------------------------------------------------------

struct distilbert_family {
  static constexpr const char* name = "DistilBERT";
  static constexpr const char* api = "bc1s::distilbert";  // prefix of errors from API misuse
  static constexpr const char* model_type = "distilbert";
  static constexpr const char* task_prefix = "distilbert.";  // of a task checkpoint's encoder names
  static constexpr const char* default_prefix = "distilbert.";  // of models built from a source
  static constexpr bool token_types = false;
  // The pooler (pre_classifier) exists only as part of the sequence-classification head.
  static constexpr bool own_pooler = false;
  static constexpr pooler_act pooler_activation = pooler_act::relu;

  static block_names layer(const std::string& prefix, std::size_t l) {
    return block_names::distilbert(prefix + "transformer.layer." + std::to_string(l) + ".");
  }
  static std::string pooler(const std::string&) { return "pre_classifier"; }
  // Tensors a checkpoint may hold that no head here reads: the masked-LM head.
  static bool skipped(const std::string& n, const std::string&) {
    return n.rfind("vocab_transform.", 0) == 0 || n.rfind("vocab_layer_norm.", 0) == 0 ||
           n.rfind("vocab_projector.", 0) == 0;
  }
  // Hugging Face classes whose checkpoints load, and the head each has.
  static constexpr std::pair<const char*, head_kind> architectures[] = {
      {"DistilBertModel", head_kind::none},
      {"DistilBertForMaskedLM", head_kind::none},
      {"DistilBertForSequenceClassification", head_kind::sequence_classification},
      {"DistilBertForTokenClassification", head_kind::token_classification},
  };
  // The heads given by the tensors a checkpoint holds (when config.json names no architecture).
  static constexpr model_heads heads_of(bool has_pooler, bool has_classifier) {
    if (!has_classifier) return {};
    return {has_pooler,
            has_pooler ? head_kind::sequence_classification : head_kind::token_classification, 0};
  }
  // The heads of a model built from a bool, as distilbert<> has always taken it: with or without
  // the sequence classifier.
  static constexpr model_heads default_heads(bool with_head, std::size_t num_labels) {
    if (!with_head) return {};
    return {true, head_kind::sequence_classification, num_labels};
  }
};

struct bert_family {
  static constexpr const char* name = "BERT";
  static constexpr const char* api = "bc1s::bert";  // prefix of errors from API misuse
  static constexpr const char* model_type = "bert";
  static constexpr const char* task_prefix = "bert.";
  static constexpr const char* default_prefix = "";
  static constexpr bool token_types = true;
  static constexpr bool own_pooler = true;  // BertModel has it with or without a head
  static constexpr pooler_act pooler_activation = pooler_act::tanh;

  static block_names layer(const std::string& prefix, std::size_t l) {
    return block_names::bert(prefix + "encoder.layer." + std::to_string(l) + ".");
  }
  static std::string pooler(const std::string& prefix) { return prefix + "pooler.dense"; }
  // Buffers (not parameters) and the pre-training heads.
  static bool skipped(const std::string& n, const std::string& prefix) {
    return n == prefix + "embeddings.position_ids" || n == prefix + "embeddings.token_type_ids" ||
           n.rfind("cls.", 0) == 0;
  }
  static constexpr std::pair<const char*, head_kind> architectures[] = {
      {"BertModel", head_kind::none},
      {"BertForMaskedLM", head_kind::none},
      {"BertForPreTraining", head_kind::none},
      {"BertForSequenceClassification", head_kind::sequence_classification},
      {"BertForTokenClassification", head_kind::token_classification},
  };
  static constexpr model_heads heads_of(bool has_pooler, bool has_classifier) {
    if (!has_classifier) return {has_pooler, head_kind::none, 0};
    // BertForTokenClassification is built without the pooler.
    return {has_pooler,
            has_pooler ? head_kind::sequence_classification : head_kind::token_classification, 0};
  }
  // bert<> has always taken a bool for its pooler.
  static constexpr model_heads default_heads(bool with_head, std::size_t) { return {with_head}; }
};

// "DistilBertForSequenceClassification, ..." for messages.
template <class Family>
std::string supported_architectures() {
  std::string s;
  for (const auto& a : Family::architectures) s += (s.empty() ? "" : ", ") + std::string(a.first);
  return s;
}

// ---- the model -------------------------------------------------------------------------------

template <class Family, class Config, class WT = half>
class encoder_model {
  static constexpr bool type_vocab_ok() {
    if constexpr (is_runtime_shape_v<Config> || !Family::token_types) {
      return true;
    } else {
      return Config::type_vocab >= 1;
    }
  }
  static_assert(type_vocab_ok(),
                "bc1s::bert: Config::type_vocab must be at least 1 (BERT's type_vocab_size)");

 public:
  using family = Family;
  using config = Config;
  using block_type = encoder_block<Config, WT>;
  // Embedding tables: stored as weight_storage<WT>::embedding_type (fp16 for bf16 weights).
  using ET = typename weight_storage<WT>::embedding_type;
  using act_layout = typename block_type::act_layout;
  static constexpr std::size_t C = Config::dim;  // dyn for any_shape
  static constexpr std::size_t kChunk = block_type::kChunk;
  static constexpr bool kRuntimeShape = is_runtime_shape_v<Config>;
  using label_layout = layout_bc1s<float, extents<dyn, dyn, dyn>>;
  using pooler_weights = conv1x1_weights<WT, C, C>;
  using classifier_weights = conv1x1_weights<WT, dyn, C>;

  // Parameters by Hugging Face name under `prefix`, from any source, for sizes d and heads h.
  encoder_model(const parameter_source& src, const encoder_dims& d, const std::string& prefix,
                const model_heads& h)
      : dims_(d), heads_(h) {
    check_dims(dims_, heads_, Family::api);
    dims_.num_labels = heads_.num_labels;
    auto get = detail::parameter_getter(src);
    const std::size_t c = dims_.dim;
    const std::string emb = prefix + "embeddings.";
    word_ = detail::to_storage<ET>(get(emb + "word_embeddings.weight", {dims_.vocab, c}));
    pos_ =
        detail::to_storage<ET>(get(emb + "position_embeddings.weight", {dims_.max_positions, c}));
    if constexpr (Family::token_types) {
      type_ =
          detail::to_storage<ET>(get(emb + "token_type_embeddings.weight", {dims_.type_vocab, c}));
    }
    emb_gamma_ = get(emb + "LayerNorm.weight", {c});
    emb_beta_ = get(emb + "LayerNorm.bias", {c});
    blocks_.reserve(dims_.layers);
    for (std::size_t l = 0; l < dims_.layers; ++l) {
      blocks_.emplace_back(get, Family::layer(prefix, l), dims_);
    }
    if (heads_.pooler) {
      const std::string p = Family::pooler(prefix);
      pooler_ = pooler_weights(c, c, get(p + ".weight", {c, c}), get(p + ".bias", {c}));
    }
    if (heads_.head != head_kind::none) {
      const std::size_t L = heads_.num_labels;
      classifier_ =
          classifier_weights(L, c, get("classifier.weight", {L, c}), get("classifier.bias", {L}));
    }
  }

  // A compiled Config: its sizes; `with_head` as each family has always read it (DistilBERT: the
  // sequence classifier of Config::num_labels; BERT: the pooler).
  explicit encoder_model(const parameter_source& src, const std::string& prefix = default_prefix(),
                         bool with_head = true) requires(!kRuntimeShape)
      : encoder_model(src, dims_of<Config>(), prefix,
                      Family::default_heads(with_head, dims_of<Config>().num_labels)) {}

  static std::string default_prefix() { return Family::default_prefix; }

  // The Hugging Face names this model reads, with their shapes.
  static named_shapes parameter_names(const encoder_dims& d, const model_heads& h,
                                      const std::string& prefix) {
    named_shapes out;
    const std::size_t c = d.dim;
    auto add = [&](const std::string& n, std::vector<std::size_t> s) {
      out.emplace_back(n, std::move(s));
    };
    auto lin = [&](const std::string& n, std::size_t o, std::size_t i) {
      add(n + ".weight", {o, i});
      add(n + ".bias", {o});
    };
    auto norm = [&](const std::string& n) {
      add(n + ".weight", {c});
      add(n + ".bias", {c});
    };
    const std::string emb = prefix + "embeddings.";
    add(emb + "word_embeddings.weight", {d.vocab, c});
    add(emb + "position_embeddings.weight", {d.max_positions, c});
    if (Family::token_types) add(emb + "token_type_embeddings.weight", {d.type_vocab, c});
    norm(emb + "LayerNorm");
    for (std::size_t l = 0; l < d.layers; ++l) {
      const auto n = Family::layer(prefix, l);
      lin(n.q, c, c);
      lin(n.k, c, c);
      lin(n.v, c, c);
      lin(n.out, c, c);
      norm(n.attn_norm);
      lin(n.ffn_in, d.hidden, c);
      lin(n.ffn_out, c, d.hidden);
      norm(n.out_norm);
    }
    if (h.pooler) lin(Family::pooler(prefix), c, c);
    if (h.head != head_kind::none) lin("classifier", h.num_labels, c);
    return out;
  }
  static named_shapes parameter_names(
      bool with_head = true,
      const std::string& prefix = default_prefix()) requires(!kRuntimeShape) {
    constexpr encoder_dims d = dims_of<Config>();
    return parameter_names(d, Family::default_heads(with_head, d.num_labels), prefix);
  }

  // Seeded synthetic weights (bc1s/io/synthetic.hpp; tools/synthetic.py makes the same ones).
  static encoder_model synthetic(std::uint64_t seed, const encoder_dims& d, const model_heads& h,
                                 const std::string& prefix = default_prefix()) {
    return encoder_model([seed](const std::string& name, std::span<const std::size_t>,
                                std::span<float> dst) { io::fill_synthetic(name, dst, seed); },
                         d, prefix, h);
  }
  static encoder_model synthetic(std::uint64_t seed,
                                 bool with_head = true) requires(!kRuntimeShape) {
    constexpr encoder_dims d = dims_of<Config>();
    return synthetic(seed, d, Family::default_heads(with_head, d.num_labels));
  }

  // The sizes of a config.json, checked against each other (and, for a compiled Config, against
  // its constants) before any weight is read.
  static encoder_dims dims_from(const io::hf_config& cfg) {
    if (cfg.model_type != Family::model_type) {
      io::detail::fail(cfg.source, "model_type is \"" + cfg.model_type + "\" but this is the " +
                                       Family::name + " model (model_type \"" + Family::model_type +
                                       "\")");
    }
    if constexpr (!kRuntimeShape) {
      io::hf_config_expect e;
      e.model_type = Family::model_type;
      e.dim = Config::dim;
      e.heads = Config::heads;
      e.hidden = Config::hidden;
      e.layers = Config::layers;
      e.vocab = Config::vocab;
      e.max_positions = Config::max_positions;
      if constexpr (Family::token_types) e.type_vocab = dims_of<Config>().type_vocab;
      e.activation = "gelu";
      if constexpr (Family::token_types) e.layer_norm_eps = double(Config::layer_norm_eps);
      io::check_matches(cfg, e);
      return dims_of<Config>();
    } else {
      encoder_dims d;
      d.dim = cfg.dim;
      d.heads = cfg.heads;
      d.hidden = cfg.hidden;
      d.layers = cfg.layers;
      d.vocab = cfg.vocab;
      d.max_positions = cfg.max_positions;
      d.type_vocab = Family::token_types ? cfg.type_vocab : 0;
      d.layer_norm_eps = static_cast<float>(cfg.layer_norm_eps);
      return d;
    }
  }
  static void check_config(const std::filesystem::path& config_json) {
    (void)dims_from(io::load_hf_config(config_json));
  }

  // A Hugging Face model folder: config.json and model.safetensors (names with or without the
  // family's prefix). The heads are those the file holds, cross-checked with config.json's
  // architectures and id2label; every missing or unexpected tensor is named.
  static encoder_model load(const std::filesystem::path& dir) {
    const io::hf_config cfg = io::load_hf_config(dir / "config.json");
    encoder_dims d = dims_from(cfg);
    const auto path = dir / "model.safetensors";
    const auto file = io::safetensors_file::open(path);
    // Every layer has more than one tensor: a layer count above the file's tensor count is
    // refused before the expected names are listed (config.json's sizes are otherwise unbounded).
    if (d.layers > file.names().size()) {
      io::detail::fail(cfg.source, "the number of layers is " + std::to_string(d.layers) + " but " +
                                       path.string() + " holds only " +
                                       std::to_string(file.names().size()) + " tensors");
    }
    const bool prefixed =
        file.contains(std::string(Family::task_prefix) + "embeddings.word_embeddings.weight");
    const std::string prefix = prefixed ? Family::task_prefix : "";
    model_heads h = Family::heads_of(file.contains(Family::pooler(prefix) + ".weight"),
                                     file.contains("classifier.weight"));
    // config.json's architecture, when it names one, decides between the heads a classifier can
    // be (BertForTokenClassification without a pooler is the tensors' own reading).
    if (!cfg.architectures.empty()) {
      const std::string& arch = cfg.architectures.front();
      std::optional<head_kind> named;
      for (const auto& a : Family::architectures)
        if (arch == a.first) named = a.second;
      if (!named) {
        io::detail::fail(cfg.source, "architectures names \"" + arch +
                                         "\", which bc1s does not "
                                         "run; supported " +
                                         Family::name +
                                         " architectures: " + supported_architectures<Family>());
      }
      // Without classifier tensors the folder is read as its encoder (a base checkpoint whose
      // config.json names the task it was made for).
      if (file.contains("classifier.weight")) h.head = *named;
    }
    // A sequence classifier reads the pooler: expect its tensors (a missing one is then named).
    if (h.head == head_kind::sequence_classification) h.pooler = true;
    if (!Family::own_pooler) h.pooler = h.head == head_kind::sequence_classification;
    if (h.head != head_kind::none) {
      h.num_labels = cfg.num_labels;
      std::size_t rows = cfg.num_labels;
      if (file.contains("classifier.weight")) {
        const auto& shape = file.info("classifier.weight").shape;
        if (shape.size() != 2) {
          io::detail::fail(path, "tensor 'classifier.weight' has " + std::to_string(shape.size()) +
                                     " dimensions, expected 2 (labels x width)");
        }
        rows = shape.front();
      }
      if (rows != cfg.num_labels) {
        io::detail::fail(cfg.source, "id2label has " + std::to_string(cfg.num_labels) +
                                         " labels but classifier.weight in " + path.string() +
                                         " has " + std::to_string(rows) + " rows");
      }
    }
    detail::check_tensor_names(
        file, parameter_names(d, h, prefix),
        [&prefix](const std::string& n) { return Family::skipped(n, prefix); }, path, Family::name);
    encoder_model m([&file](const std::string& name, std::span<const std::size_t> shape,
                            std::span<float> dst) { file.read_as_float(name, shape, dst); },
                    d, prefix, h);
    m.labels_ = cfg.id2label;
    m.multi_label_ = cfg.problem_type == "multi_label_classification";
    return m;
  }

  const encoder_dims& dims() const noexcept { return dims_; }
  const model_heads& heads() const noexcept { return heads_; }
  head_kind head() const noexcept { return heads_.head; }
  std::size_t num_labels() const noexcept { return heads_.num_labels; }
  bool has_classifier() const noexcept { return heads_.head != head_kind::none; }
  bool has_pooler() const noexcept { return heads_.pooler; }
  // config.json's id2label (load() only; LABEL_0, ... otherwise).
  const std::vector<std::string>& labels() const noexcept { return labels_; }
  // config.json's problem_type is multi_label_classification: one sigmoid per label.
  bool multi_label() const noexcept { return multi_label_; }

  // Everything one forward pass needs for up to max_batch sequences of up to max_seq tokens,
  // allocated once; forward() allocates nothing.
  class workspace {
   public:
    // For `model`'s sizes and heads.
    workspace(const encoder_model& model, std::size_t max_batch, std::size_t max_seq,
              std::size_t threads = 1)
        : workspace(model.dims_, model.heads_, max_batch, max_seq, threads) {}
    // For a compiled Config and the heads a bool gives (as the model's constructor reads it).
    workspace(std::size_t max_batch, std::size_t max_seq,
              std::size_t threads = 1) requires(!kRuntimeShape)
        : workspace(dims_of<Config>(), static_heads(), max_batch, max_seq, threads) {}

    std::size_t max_batch() const noexcept { return act_.max_batch(); }
    std::size_t max_seq() const noexcept { return act_.max_seq(); }
    std::size_t threads() const noexcept { return act_.threads(); }

    // The floats a workspace for (max_batch, max_seq, threads) allocates: a constant expression,
    // so a caller with static B and S can budget memory at compile time.
    static constexpr std::size_t floats(const encoder_dims& d, const model_heads& h,
                                        std::size_t max_batch, std::size_t max_seq,
                                        std::size_t threads = 1) noexcept {
      const std::size_t L = h.head == head_kind::none ? 0 : h.num_labels;
      const std::size_t token_s = h.head == head_kind::token_classification ? max_seq : 1;
      return encoder_activations<Config>::floats(d, max_batch, max_seq, threads) +
             2 * act_layout(max_batch, d.dim, 1).required_span_size() + max_batch * d.dim +
             (L == 0 ? 0
                     : label_layout(max_batch, L, token_s).required_span_size() +
                           max_batch * token_s * L);
    }
    static constexpr std::size_t floats(std::size_t max_batch, std::size_t max_seq,
                                        std::size_t threads = 1) noexcept requires(!kRuntimeShape) {
      return floats(dims_of<Config>(), static_heads(), max_batch, max_seq, threads);
    }
    // The same for static extents<B, C, S> (C must be the model's).
    template <class Extents>
    static constexpr std::size_t floats_for(std::size_t threads = 1) noexcept
        requires(!kRuntimeShape) {
      static_assert(Extents::static_b != dyn && Extents::static_s != dyn,
                    "bc1s::encoder_model::workspace::floats_for: expected static B and S; use "
                    "floats(max_batch, max_seq) for dynamic ones");
      static_assert(Extents::static_c == dyn || Extents::static_c == C,
                    "bc1s::encoder_model::workspace::floats_for: expected the model's C");
      return floats(Extents::static_b, Extents::static_s, threads);
    }
    // What this workspace allocated (equals floats(...) for its sizes).
    std::size_t allocated_floats() const noexcept {
      return act_.allocated_floats() + cls_.mapping().required_span_size() +
             pooled_.mapping().required_span_size() + pooled_out_.size() +
             (labels_ == 0 ? 0 : logits_.mapping().required_span_size()) + logits_out_.size();
    }

    // After forward(): the last hidden state (B, C, 1, S); with a pooler, its output [B][C];
    // with a sequence classifier, logits [B][L]; with a token classifier, logits [B][S][L]
    // (padding positions hold values that mean nothing).
    tensor_view<const float, act_layout> hidden() const noexcept { return act_.x(); }
    std::span<const float> pooled() const noexcept { return {pooled_out_.data(), b() * dim_}; }
    std::span<const float> logits() const noexcept {
      return {logits_out_.data(), b() * (token_ ? s() : 1) * labels_};
    }
    std::size_t b() const noexcept { return act_.b(); }
    std::size_t s() const noexcept { return act_.s(); }

   private:
    friend class encoder_model;
    static constexpr model_heads static_heads() noexcept {
      if constexpr (kRuntimeShape) {
        return {};
      } else {
        return Family::default_heads(true, dims_of<Config>().num_labels);
      }
    }
    workspace(const encoder_dims& d, const model_heads& h, std::size_t max_batch,
              std::size_t max_seq, std::size_t threads)
        : dim_(d.dim),
          labels_(h.head == head_kind::none ? 0 : h.num_labels),
          token_(h.head == head_kind::token_classification),
          act_(Family::api, d, max_batch, max_seq, threads),
          cls_(max_batch, d.dim, 1),
          pooled_(max_batch, d.dim, 1),
          pooled_out_(max_batch * d.dim),
          logits_(max_batch, labels_ == 0 ? 1 : labels_, token_ ? max_seq : 1),
          logits_out_(max_batch * (token_ ? max_seq : 1) * labels_) {}
    using buf = tensor<float, act_layout>;
    tensor_view<float, act_layout> column_view(const buf& t, std::size_t B) const {
      return {const_cast<float*>(t.data()), act_layout(B, dim_, 1)};
    }
    std::size_t dim_, labels_;
    bool token_;
    encoder_activations<Config> act_;
    buf cls_, pooled_;
    std::vector<float> pooled_out_;
    tensor<float, label_layout> logits_;
    std::vector<float> logits_out_;
  };

  workspace make_workspace(std::size_t max_batch, std::size_t max_seq,
                           std::size_t threads = 1) const {
    return workspace(*this, max_batch, max_seq, threads);
  }

  // ids, mask: row-major [B][S] token ids and attention mask (1 = token, 0 = padding; empty: all
  // tokens). Token type 0 everywhere.
  void forward(workspace& ws, std::span<const std::int32_t> ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    forward(ws, ids, {}, mask, B, S, pool, prof);
  }

  // type_ids: row-major [B][S] token types in [0, type_vocab), or empty (all 0). A family without
  // token types (DistilBERT) ignores them, as Hugging Face's does.
  void forward(workspace& ws, std::span<const std::int32_t> ids,
               std::span<const std::int32_t> type_ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    check_workspace(ws);
    ws.act_.begin(Family::api, ids, mask, B, S, pool);
    const std::size_t c = dims_.dim;
    const auto x = ws.act_.x();
    {
      runtime::stage_timer tm(prof, runtime::stage::embedding);
      const auto word = embedding_table<ET>(word_, dims_.vocab, c);
      const auto pos = embedding_table<ET>(pos_, dims_.max_positions, c);
      if constexpr (Family::token_types) {
        if (!type_ids.empty() && type_ids.size() != B * S) {
          throw std::invalid_argument(
              std::string(Family::api) + ": expected B * S = " + std::to_string(B * S) +
              " token-type ids (or none), got " + std::to_string(type_ids.size()));
        }
        embedding_gather(word, pos, ids, embedding_table<ET>(type_, dims_.type_vocab, c), type_ids,
                         x);
      } else {
        embedding_gather(word, pos, ids, x);
      }
      layer_norm(x, emb_gamma_, emb_beta_, dims_.layer_norm_eps, x, pool);
    }
    const auto bufs = ws.act_.buffers();
    for (const auto& blk : blocks_) blk.forward(x, bufs, pool, prof);
    if (prof) ++prof->passes;
    if (!heads_.pooler && heads_.head == head_kind::none) return;

    runtime::stage_timer tm(prof, runtime::stage::classifier);
    const std::size_t L = heads_.num_labels;
    auto pooled = ws.column_view(ws.pooled_, B);
    if (heads_.pooler) {
      auto cls = ws.column_view(ws.cls_, B);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t i = 0; i < c; ++i) cls(b, i, 0) = x(b, i, 0);
      conv1x1(pooler_, cls, pooled, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b) {
        for (std::size_t i = 0; i < c; ++i) {
          float& p = pooled(b, i, 0);
          p = Family::pooler_activation == pooler_act::tanh ? std::tanh(p) : std::max(p, 0.0f);
          ws.pooled_out_[b * c + i] = p;
        }
      }
    }
    if (heads_.head == head_kind::sequence_classification) {
      tensor_view<float, label_layout> logits(ws.logits_.data(), label_layout(B, L, 1));
      conv1x1(classifier_, pooled, logits, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t l = 0; l < L; ++l) ws.logits_out_[b * L + l] = logits(b, l, 0);
    } else if (heads_.head == head_kind::token_classification) {
      tensor_view<float, label_layout> logits(ws.logits_.data(), label_layout(B, L, S));
      conv1x1(classifier_, x, logits, epi::bias_only{}, pool);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t s = 0; s < S; ++s)
          for (std::size_t l = 0; l < L; ++l) ws.logits_out_[(b * S + s) * L + l] = logits(b, l, s);
    }
  }

  std::size_t weight_bytes() const noexcept {
    std::size_t n = (word_.size() + pos_.size() + type_.size()) * sizeof(ET);
    for (const auto& b : blocks_) n += b.weight_bytes();
    if (heads_.pooler) n += pooler_.bytes();
    if (heads_.head != head_kind::none) n += classifier_.bytes();
    return n;
  }

 private:
  // Sizes that contradict each other are refused before any weight is read, with the words of
  // the compile-time checks (head_split, ...).
  static void check_dims(const encoder_dims& d, const model_heads& h, const char* who) {
    auto fail = [who](const std::string& m) {
      throw std::invalid_argument(std::string(who) + ": " + m);
    };
    if (d.dim == 0 || d.heads == 0 || d.hidden == 0 || d.layers == 0 || d.vocab == 0 ||
        d.max_positions == 0) {
      fail("expected positive sizes (dim, heads, hidden, layers, vocab, max_positions)");
    }
    if (d.dim % d.heads != 0) {
      fail("expected C divisible by the number of heads H; C = " + std::to_string(d.dim) +
           ", H = " + std::to_string(d.heads) + "; choose H that divides C");
    }
    if (Family::token_types && d.type_vocab == 0) {
      fail("expected type_vocab >= 1 (BERT's type_vocab_size)");
    }
    if (h.head != head_kind::none && h.num_labels == 0) {
      fail(std::string("a ") + to_string(h.head) + " head needs at least one label");
    }
    if (h.head == head_kind::sequence_classification && !h.pooler) {
      fail("a sequence-classification head reads the pooler's output; the model has none");
    }
    if (!(d.layer_norm_eps > 0.0f)) fail("expected a positive layer_norm_eps");
  }

  void check_workspace(const workspace& ws) const {
    const std::size_t L = heads_.head == head_kind::none ? 0 : heads_.num_labels;
    const bool token = heads_.head == head_kind::token_classification;
    if (ws.dim_ != dims_.dim || ws.act_.ffn_width() != dims_.hidden ||
        ws.act_.max_positions() != dims_.max_positions ||
        (L != 0 && (ws.labels_ != L || ws.token_ != token))) {
      throw std::invalid_argument(
          std::string(Family::api) + ": the workspace was made for a model of C = " +
          std::to_string(ws.dim_) + ", F = " + std::to_string(ws.act_.ffn_width()) + ", " +
          std::to_string(ws.act_.max_positions()) + " positions, " + std::to_string(ws.labels_) +
          " labels; this one has C = " + std::to_string(dims_.dim) +
          ", F = " + std::to_string(dims_.hidden) + ", " + std::to_string(dims_.max_positions) +
          " positions, " + std::to_string(L) + " labels (make it with workspace(model, ...))");
    }
  }

  encoder_dims dims_;
  model_heads heads_;
  std::vector<std::string> labels_ = default_labels(heads_.num_labels);
  bool multi_label_ = false;
  std::vector<ET> word_, pos_, type_;
  std::vector<float> emb_gamma_, emb_beta_;
  std::vector<block_type> blocks_;
  pooler_weights pooler_;
  classifier_weights classifier_;

  static std::vector<std::string> default_labels(std::size_t n) {
    std::vector<std::string> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back("LABEL_" + std::to_string(i));
    return v;
  }
};

}  // namespace bc1s::nn
