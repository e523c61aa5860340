// BERT: encoder_model (nn/encoder_model.hpp) with BERT's parameter names (word, position and
// token-type embeddings, "bert.encoder.layer.N.*") and the optional pooler, tanh(dense(CLS)), as
// Hugging Face's BertModel; BertForSequenceClassification and BertForTokenClassification load with
// their classifier. Covers bert-base, MiniLM (head dim 32), bge, cross-encoders and the other
// absolute-position BERT checkpoints.
//
// bert<minilm_l6> and bert<bert_base> are compiled shapes; bert<any_shape> takes its sizes from
// the folder's config.json.
#pragma once

#include <cstddef>

#include "bc1s/core/half.hpp"
#include "bc1s/nn/encoder_model.hpp"

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
using bert = encoder_model<bert_family, Config, WT>;

}  // namespace bc1s::nn
