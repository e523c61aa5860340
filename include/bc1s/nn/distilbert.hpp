// DistilBERT: encoder_model (nn/encoder_model.hpp) with DistilBERT's parameter names (word and
// position embeddings, no token types, "distilbert.transformer.layer.N.*") and, for
// DistilBertForSequenceClassification, pre_classifier + ReLU + classifier.
//
// distilbert<distilbert_base> is the compiled shape of distilbert-base-uncased;
// distilbert<any_shape> takes its sizes from the folder's config.json.
#pragma once

#include <cstddef>

#include "bc1s/core/half.hpp"
#include "bc1s/nn/encoder_model.hpp"

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
using distilbert = encoder_model<distilbert_family, Config, WT>;

}  // namespace bc1s::nn
