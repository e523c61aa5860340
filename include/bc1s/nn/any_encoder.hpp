// any_encoder: a model folder of any supported family, any shape and any weight precision, chosen
// at run time, behind one interface (what the command-line tools use).
//
//   auto m = bc1s::nn::any_encoder::load("models/all-MiniLM-L6-v2", bc1s::nn::precision::fp16);
//   auto ws = m.make_workspace(8, 128, pool.size());
//   m.forward(ws, ids, type_ids, mask, B, S, &pool);
//   ws.hidden(), ws.pooled(), ws.logits()                  as encoder_model's workspace
//
// The folder's config.json picks the family (model_type: distilbert or bert; anything else is
// refused with the list of supported ones) and the sizes (encoder_model<Family, any_shape, WT>);
// its model.safetensors picks the head. A compiled Config (distilbert<distilbert_base>, ...) is
// the faster path when the shape is known when compiling: see bench/RESULTS.md for the ratio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "bc1s/core/bf16.hpp"
#include "bc1s/core/half.hpp"
#include "bc1s/core/qint8.hpp"
#include "bc1s/io/hf_config.hpp"
#include "bc1s/nn/bert.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/nn/encoder_model.hpp"

namespace bc1s::nn {

// Weight storage chosen at run time.
enum class precision { fp32, fp16, bf16, int8 };

inline const char* to_string(precision p) noexcept {
  switch (p) {
    case precision::fp32:
      return "fp32";
    case precision::bf16:
      return "bf16";
    case precision::int8:
      return "int8";
    default:
      return "fp16";
  }
}

// "fp32" | "fp16" | "bf16" | "int8"; anything else is std::invalid_argument naming them.
inline precision parse_precision(std::string_view s) {
  if (s == "fp32") return precision::fp32;
  if (s == "fp16") return precision::fp16;
  if (s == "bf16") return precision::bf16;
  if (s == "int8") return precision::int8;
  throw std::invalid_argument("precision expects fp32, fp16, bf16 or int8, got '" + std::string(s) +
                              "'");
}

// The model_type values any_encoder loads.
inline constexpr const char* kSupportedModelTypes = "\"distilbert\", \"bert\"";

class any_encoder {
  template <class WT>
  using distil = distilbert<any_shape, WT>;
  template <class WT>
  using bert_m = bert<any_shape, WT>;
  using models = std::variant<std::unique_ptr<distil<half>>, std::unique_ptr<distil<bf16>>,
                              std::unique_ptr<distil<qint8>>, std::unique_ptr<distil<float>>,
                              std::unique_ptr<bert_m<half>>, std::unique_ptr<bert_m<bf16>>,
                              std::unique_ptr<bert_m<qint8>>, std::unique_ptr<bert_m<float>>>;

 public:
  using act_layout = layout_bc1s<float, extents<dyn, dyn, dyn>>;

  // The folder's config.json and model.safetensors, weights stored as `p`.
  static any_encoder load(const std::filesystem::path& dir, precision p = precision::fp16) {
    const io::hf_config cfg = io::load_hf_config(dir / "config.json");
    any_encoder e;
    e.model_type_ = cfg.model_type;
    e.precision_ = p;
    if (cfg.model_type == "distilbert") {
      e.model_ = make<distilbert_family>(dir, p);
    } else if (cfg.model_type == "bert") {
      e.model_ = make<bert_family>(dir, p);
    } else {
      // load_hf_config refuses other model types already; kept for a future reader that won't.
      throw io::load_error((dir / "config.json").string() + ": model_type \"" + cfg.model_type +
                           "\" is not supported; supported: " + kSupportedModelTypes);
    }
    return e;
  }

  const std::string& model_type() const noexcept { return model_type_; }
  precision weight_precision() const noexcept { return precision_; }
  const encoder_dims& dims() const {
    return std::visit([](const auto& m) -> const encoder_dims& { return m->dims(); }, model_);
  }
  const model_heads& heads() const {
    return std::visit([](const auto& m) -> const model_heads& { return m->heads(); }, model_);
  }
  head_kind head() const { return heads().head; }
  std::size_t num_labels() const { return heads().num_labels; }
  bool has_pooler() const { return heads().pooler; }
  const std::vector<std::string>& labels() const {
    return std::visit([](const auto& m) -> const std::vector<std::string>& { return m->labels(); },
                      model_);
  }
  bool multi_label() const {
    return std::visit([](const auto& m) { return m->multi_label(); }, model_);
  }
  bool token_types() const { return model_type_ == "bert"; }
  std::size_t weight_bytes() const {
    return std::visit([](const auto& m) { return m->weight_bytes(); }, model_);
  }

  class workspace {
   public:
    std::size_t max_batch() const {
      return std::visit([](const auto& w) { return w->max_batch(); }, ws_);
    }
    std::size_t max_seq() const {
      return std::visit([](const auto& w) { return w->max_seq(); }, ws_);
    }
    std::size_t b() const {
      return std::visit([](const auto& w) { return w->b(); }, ws_);
    }
    std::size_t s() const {
      return std::visit([](const auto& w) { return w->s(); }, ws_);
    }
    tensor_view<const float, act_layout> hidden() const {
      return std::visit([](const auto& w) { return w->hidden(); }, ws_);
    }
    std::span<const float> pooled() const {
      return std::visit([](const auto& w) { return w->pooled(); }, ws_);
    }
    std::span<const float> logits() const {
      return std::visit([](const auto& w) { return w->logits(); }, ws_);
    }

   private:
    friend class any_encoder;
    template <class M>
    using ws_ptr = std::unique_ptr<typename M::workspace>;
    std::variant<ws_ptr<distil<half>>, ws_ptr<distil<bf16>>, ws_ptr<distil<qint8>>,
                 ws_ptr<distil<float>>, ws_ptr<bert_m<half>>, ws_ptr<bert_m<bf16>>,
                 ws_ptr<bert_m<qint8>>, ws_ptr<bert_m<float>>>
        ws_;
  };

  workspace make_workspace(std::size_t max_batch, std::size_t max_seq,
                           std::size_t threads = 1) const {
    workspace w;
    std::visit(
        [&](const auto& m) {
          using M = std::remove_cvref_t<decltype(*m)>;
          w.ws_ = std::make_unique<typename M::workspace>(*m, max_batch, max_seq, threads);
        },
        model_);
    return w;
  }

  // As encoder_model::forward (type_ids may be empty; DistilBERT ignores them).
  void forward(workspace& ws, std::span<const std::int32_t> ids,
               std::span<const std::int32_t> type_ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    if (ws.ws_.index() != model_.index()) {
      throw std::invalid_argument("bc1s::any_encoder: the workspace was made by another model");
    }
    std::visit(
        [&](const auto& m) {
          using M = std::remove_cvref_t<decltype(*m)>;
          auto& w = *std::get<workspace::template ws_ptr<M>>(ws.ws_);
          m->forward(w, ids, type_ids, mask, B, S, pool, prof);
        },
        model_);
  }
  void forward(workspace& ws, std::span<const std::int32_t> ids, std::span<const std::int32_t> mask,
               std::size_t B, std::size_t S, runtime::thread_pool* pool = nullptr,
               runtime::forward_profile* prof = nullptr) const {
    forward(ws, ids, {}, mask, B, S, pool, prof);
  }

 private:
  any_encoder() = default;

  template <class Family>
  static models make(const std::filesystem::path& dir, precision p) {
    auto one = [&]<class WT>() -> models {
      using M = encoder_model<Family, any_shape, WT>;
      return std::make_unique<M>(M::load(dir));
    };
    switch (p) {
      case precision::fp32:
        return one.template operator()<float>();
      case precision::bf16:
        return one.template operator()<bf16>();
      case precision::int8:
        return one.template operator()<qint8>();
      default:
        return one.template operator()<half>();
    }
  }

  std::string model_type_;
  precision precision_ = precision::fp16;
  models model_;
};

}  // namespace bc1s::nn
