// bc1s::io synthetic weights — a deterministic, seeded weight generator that C++ and Python
// (tools/synthetic.py) implement bit-identically, so Hugging Face parity can be tested without
// the real fine-tuned weights and without committing a weight file.
//
// SPEC (keep identical to tools/synthetic.py; tests/io/synthetic_test.cpp checks it against a
// fixture that Python wrote):
//
//   For a Hugging Face parameter name `name` (e.g.
//   "distilbert.transformer.layer.0.attention.q_lin.weight"), element index i (row-major over
//   the Hugging Face shape, e.g. [out, in] for a Linear weight) and a 64-bit seed:
//
//     fnv1a64(bytes): h = 0xcbf29ce484222325; for each byte b: h = (h ^ b) * 0x100000001b3
//     splitmix64(s):  z = s + 0x9e3779b97f4a7c15                 (the standard SplitMix64
//                     z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9     output for state s: the gamma
//                     z = (z ^ (z >> 27)) * 0x94d049bb133111eb     step, then the finaliser)
//                     return z ^ (z >> 31)
//     h = fnv1a64(name) ^ seed
//     u = splitmix64(h + i)                  all of the above in uint64, wrapping
//     k = u >> 40                            top 24 bits, 0 .. 2^24-1
//     x = (k + 0.5) / 2^24                   in (0, 1), exact in float64
//     t = 2x - 1 = (2k + 1 - 2^24) / 2^24    in (-1, 1), exact in float64
//     value = float32( offset + scale * t )  arithmetic in float64, ONE rounding to float32
//
//   offset and scale are dyadic (few significant bits), so scale * t is exact in float64 and
//   the only float64 rounding is in `offset + product`; an FMA contraction therefore gives the
//   same bits as a separate multiply and add, and numpy and C++ agree bit for bit.
//
//   Values are uniform on (offset - scale, offset + scale); std = scale / sqrt(3).
//
//   | parameter kind (matched on the name)                         | offset | scale  | std    |
//   |--------------------------------------------------------------|--------|--------|--------|
//   | *word_embeddings.weight                                      | 0      | 1/16   | 0.036  |
//   | *position_embeddings.weight                                  | 0      | 1/32   | 0.018  |
//   | LayerNorm weight (name has "LayerNorm" or "layer_norm", .weight) | 1  | 3/32   | 0.054  |
//   | LayerNorm bias   (same, .bias)                               | 0      | 3/64   | 0.027  |
//   | any other *.weight (Linear: q/k/v/out_lin, ffn.lin1/lin2,    | 0      | 1/16   | 0.036  |
//   |   pre_classifier, classifier)                                |        |        |        |
//   | any other *.bias (Linear biases)                             | 0      | 1/64   | 0.009  |
//   | anything else                                                | 0      | 1/16   | 0.036  |
//
//   Linear std 0.036 (HF init uses 0.02) keeps distilbert-base attention logits at std ~1, so
//   softmax is far from uniform and the logits are non-trivial.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bc1s::io {

namespace detail {

inline constexpr std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<std::uint64_t>(static_cast<unsigned char>(c));
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline constexpr std::uint64_t splitmix64(std::uint64_t s) noexcept {
  std::uint64_t z = s + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct synthetic_kind {
  double offset;
  double scale;
};

inline constexpr bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The table in the spec above.
inline constexpr synthetic_kind synthetic_kind_of(std::string_view name) noexcept {
  const bool is_weight = ends_with(name, ".weight");
  const bool is_bias = ends_with(name, ".bias");
  if (ends_with(name, "word_embeddings.weight")) return {0.0, 1.0 / 16.0};
  if (ends_with(name, "position_embeddings.weight")) return {0.0, 1.0 / 32.0};
  const bool is_norm = name.find("LayerNorm") != std::string_view::npos ||
                       name.find("layer_norm") != std::string_view::npos;
  if (is_norm && is_weight) return {1.0, 3.0 / 32.0};
  if (is_norm && is_bias) return {0.0, 3.0 / 64.0};
  if (is_weight) return {0.0, 1.0 / 16.0};
  if (is_bias) return {0.0, 1.0 / 64.0};
  return {0.0, 1.0 / 16.0};
}

inline float synthetic_from_hash(std::uint64_t h, std::uint64_t i, synthetic_kind kind) noexcept {
  const std::uint64_t k = splitmix64(h + i) >> 40;  // 24 bits
  // t = (2k + 1 - 2^24) / 2^24: the numerator fits in 26 bits, so this is exact.
  const double t = (static_cast<double>(2 * k + 1) - 16777216.0) / 16777216.0;
  const double product = kind.scale * t;  // exact: scale is dyadic
  return static_cast<float>(kind.offset + product);
}

}  // namespace detail

// One element of the synthetic tensor `name` (index i, row-major over the Hugging Face shape).
inline float synthetic_value(std::string_view name, std::uint64_t i, std::uint64_t seed) noexcept {
  return detail::synthetic_from_hash(detail::fnv1a64(name) ^ seed, i,
                                     detail::synthetic_kind_of(name));
}

// dst[i] = synthetic_value(name, i, seed) for every i.
inline void fill_synthetic(std::string_view name, std::span<float> dst,
                           std::uint64_t seed) noexcept {
  const std::uint64_t h = detail::fnv1a64(name) ^ seed;
  const detail::synthetic_kind kind = detail::synthetic_kind_of(name);
  for (std::size_t i = 0; i < dst.size(); ++i) {
    dst[i] = detail::synthetic_from_hash(h, static_cast<std::uint64_t>(i), kind);
  }
}

// Hugging Face parameter names and shapes of DistilBertForSequenceClassification, in the order
// of its state_dict (Linear weights are [out, in]). dim = hidden size, hidden = FFN size
// (`hidden_dim` in config.json). `heads` is not part of any shape; it is taken for symmetry with
// the config and must divide dim (not checked here).
inline std::vector<std::pair<std::string, std::vector<std::size_t>>> distilbert_parameter_shapes(
    std::size_t dim, std::size_t heads, std::size_t hidden, std::size_t layers, std::size_t vocab,
    std::size_t max_positions, std::size_t num_labels) {
  static_cast<void>(heads);
  std::vector<std::pair<std::string, std::vector<std::size_t>>> out;
  out.reserve(5 + 16 * layers + 4);
  const std::string emb = "distilbert.embeddings.";
  out.emplace_back(emb + "word_embeddings.weight", std::vector<std::size_t>{vocab, dim});
  out.emplace_back(emb + "position_embeddings.weight",
                   std::vector<std::size_t>{max_positions, dim});
  out.emplace_back(emb + "LayerNorm.weight", std::vector<std::size_t>{dim});
  out.emplace_back(emb + "LayerNorm.bias", std::vector<std::size_t>{dim});
  for (std::size_t l = 0; l < layers; ++l) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(l) + ".";
    for (const char* lin : {"q_lin", "k_lin", "v_lin", "out_lin"}) {
      out.emplace_back(p + "attention." + lin + ".weight", std::vector<std::size_t>{dim, dim});
      out.emplace_back(p + "attention." + lin + ".bias", std::vector<std::size_t>{dim});
    }
    out.emplace_back(p + "sa_layer_norm.weight", std::vector<std::size_t>{dim});
    out.emplace_back(p + "sa_layer_norm.bias", std::vector<std::size_t>{dim});
    out.emplace_back(p + "ffn.lin1.weight", std::vector<std::size_t>{hidden, dim});
    out.emplace_back(p + "ffn.lin1.bias", std::vector<std::size_t>{hidden});
    out.emplace_back(p + "ffn.lin2.weight", std::vector<std::size_t>{dim, hidden});
    out.emplace_back(p + "ffn.lin2.bias", std::vector<std::size_t>{dim});
    out.emplace_back(p + "output_layer_norm.weight", std::vector<std::size_t>{dim});
    out.emplace_back(p + "output_layer_norm.bias", std::vector<std::size_t>{dim});
  }
  out.emplace_back("pre_classifier.weight", std::vector<std::size_t>{dim, dim});
  out.emplace_back("pre_classifier.bias", std::vector<std::size_t>{dim});
  out.emplace_back("classifier.weight", std::vector<std::size_t>{num_labels, dim});
  out.emplace_back("classifier.bias", std::vector<std::size_t>{num_labels});
  return out;
}

}  // namespace bc1s::io
