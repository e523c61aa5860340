// Hugging Face model folder configuration: config.json and tokenizer_config.json.
//
// load_hf_config() reads a DistilBERT or BERT config.json into the common hf_config fields
// (the file's own key in parentheses):
//
//   field           distilbert                   bert
//   dim             dim                          hidden_size
//   heads           n_heads                      num_attention_heads
//   hidden          hidden_dim                   intermediate_size
//   layers          n_layers                     num_hidden_layers
//   vocab           vocab_size                   vocab_size
//   max_positions   max_position_embeddings      max_position_embeddings
//   type_vocab      (0: no token types)          type_vocab_size (default 2)
//   activation      activation (default gelu)    hidden_act (default gelu)
//   layer_norm_eps  (1e-12, fixed in HF code)    layer_norm_eps (default 1e-12)
//   id2label        id2label {"0": "NEGATIVE", ...} -> labels ordered by id
//                   (absent: num_labels, default 2, labels LABEL_0, LABEL_1, ...)
//   architectures   architectures (optional list of class names)
//   problem_type    problem_type (optional: single_label_classification,
//                   multi_label_classification or regression)
//
// The six size fields are required; the others take Hugging Face's defaults. Only the erf GELU
// ("gelu") is supported, as that is what the kernels implement. Dropouts, initializer_range,
// label2id (type-checked only) and unknown keys are ignored.
//
// check_matches() compares the file with the values a compiled model was built for and names
// every differing field with both values, e.g.
//   "config.json: n_heads is 8 but the compiled Config has 12".
//
// load_tokenizer_config() reads tokenizer_config.json through the tokenizer's own reader
// (text::tokenizer::read_tokenizer_config in bc1s/text/wordpiece.hpp): one set of rules, and
// text/ needs nothing from io/.
//
// Every failure is a one-line load_error naming the file and the field.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/io/detail/json.hpp"
#include "bc1s/io/load_error.hpp"
#include "bc1s/text/wordpiece.hpp"

namespace bc1s::io {

struct hf_config {
  std::filesystem::path source;  // the config.json it came from
  std::string model_type;        // "distilbert" | "bert"
  std::size_t dim = 0;           // C: model width
  std::size_t heads = 0;         // H
  std::size_t hidden = 0;        // feed-forward width
  std::size_t layers = 0;
  std::size_t vocab = 0;
  std::size_t max_positions = 0;
  std::size_t type_vocab = 0;  // 0 for distilbert
  std::string activation = "gelu";
  double layer_norm_eps = 1e-12;
  std::vector<std::string> id2label;  // ordered by id
  std::size_t num_labels = 0;         // == id2label.size()
  std::size_t pad_token_id = 0;
  bool sinusoidal_pos_embds = false;       // distilbert only
  std::vector<std::string> architectures;  // e.g. {"BertForSequenceClassification"}; may be empty
  std::string problem_type;  // "", "single_label_classification", "multi_label_classification",
                             // "regression"
};

// What a compiled model expects; unset fields are not checked.
struct hf_config_expect {
  std::optional<std::string> model_type;
  std::optional<std::size_t> dim, heads, hidden, layers, vocab, max_positions, type_vocab,
      num_labels;
  std::optional<std::string> activation;
  std::optional<double> layer_norm_eps;
};

// One differing field: the file's key name and both values, printed.
struct field_mismatch {
  std::string field;
  std::string in_file;
  std::string compiled;
};

// What tokenizer_config.json sets: the tokenizer's own options (do_lower_case,
// model_max_length), ready to pass to text::tokenizer.
using tokenizer_config = text::tokenizer_options;

namespace detail {

inline constexpr std::uint64_t kMaxConfigSize = std::uint64_t{1}
                                                << 28;  // sanity bound per size field
// num_labels without id2label: at most this many (each label is then named LABEL_<id>).
inline constexpr std::size_t kMaxDefaultLabels = std::size_t{1} << 20;

// The key `model_type`'s config.json uses for a common field.
inline std::string_view hf_key(std::string_view model_type, std::string_view field) noexcept {
  const bool bert = model_type == "bert";
  if (field == "dim") return bert ? "hidden_size" : "dim";
  if (field == "heads") return bert ? "num_attention_heads" : "n_heads";
  if (field == "hidden") return bert ? "intermediate_size" : "hidden_dim";
  if (field == "layers") return bert ? "num_hidden_layers" : "n_layers";
  if (field == "vocab") return "vocab_size";
  if (field == "max_positions") return "max_position_embeddings";
  if (field == "type_vocab") return bert ? "type_vocab_size" : "type_vocab (none in distilbert)";
  if (field == "activation") return bert ? "hidden_act" : "activation";
  if (field == "layer_norm_eps")
    return bert ? "layer_norm_eps" : "layer_norm_eps (fixed 1e-12 in distilbert)";
  if (field == "num_labels") return "num_labels (size of id2label)";
  return field;
}

class config_reader {
 public:
  config_reader(const std::filesystem::path& file, const nlohmann::json& j) : file_(file), j_(j) {}

  [[noreturn]] void fail_field(std::string_view key, std::string_view problem) const {
    fail(file_, "field \"" + std::string(key) + "\" " + std::string(problem));
  }

  const nlohmann::json* find(std::string_view key) const {
    const auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  std::string type_of(const nlohmann::json& v) const {
    return std::string("is a JSON ") + json_kind(v) + " (" + json_snippet(v) + ")";
  }

  // A positive integer; required unless a default is given.
  std::size_t size(std::string_view key, std::optional<std::size_t> def = std::nullopt,
                   bool allow_zero = false) const {
    const auto* v = find(key);
    if (v == nullptr) {
      if (def) return *def;
      fail_field(key, "is missing (required for model_type " + quote(model_type_) + ")");
    }
    std::uint64_t x = 0;
    if (!json_to_u64(*v, x)) fail_field(key, type_of(*v) + ", expected a non-negative integer");
    if (x == 0 && !allow_zero) fail_field(key, "is 0, expected a positive integer");
    if (x > kMaxConfigSize) {
      fail_field(key, "is " + std::to_string(x) + ", beyond the sanity limit of " +
                          std::to_string(kMaxConfigSize));
    }
    return static_cast<std::size_t>(x);
  }

  std::string string(std::string_view key, std::optional<std::string> def = std::nullopt) const {
    const auto* v = find(key);
    if (v == nullptr) {
      if (def) return *def;
      fail_field(key, "is missing");
    }
    if (!v->is_string()) fail_field(key, type_of(*v) + ", expected a string");
    return v->get<std::string>();
  }

  bool boolean(std::string_view key, bool def) const {
    const auto* v = find(key);
    if (v == nullptr) return def;
    if (!v->is_boolean()) fail_field(key, type_of(*v) + ", expected true or false");
    return v->get<bool>();
  }

  double positive_number(std::string_view key, double def) const {
    const auto* v = find(key);
    if (v == nullptr) return def;
    if (!v->is_number()) fail_field(key, type_of(*v) + ", expected a number");
    const double x = v->get<double>();
    if (!(x > 0.0) || !std::isfinite(x))
      fail_field(key, "is " + json_snippet(*v) + ", expected a positive number");
    return x;
  }

  void set_model_type(std::string m) { model_type_ = std::move(m); }
  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  const std::filesystem::path& file_;
  const nlohmann::json& j_;
  std::string model_type_;
};

inline std::vector<std::string> parse_labels(const config_reader& r) {
  const auto* id2label = r.find("id2label");
  const auto* num = r.find("num_labels");
  std::vector<std::string> labels;
  if (id2label != nullptr) {
    if (!id2label->is_object())
      r.fail_field("id2label",
                   r.type_of(*id2label) + ", expected an object {\"0\": \"LABEL\", ...}");
    const std::size_t n = id2label->size();
    labels.resize(n);
    std::vector<bool> seen(n, false);
    for (const auto& [k, v] : id2label->items()) {
      std::size_t id = 0;
      const auto res = std::from_chars(k.data(), k.data() + k.size(), id);
      if (res.ec != std::errc{} || res.ptr != k.data() + k.size() || id >= n || seen[id]) {
        r.fail_field("id2label", "has the key " + quote(k) + ", expected each of the ids 0.." +
                                     std::to_string(n == 0 ? 0 : n - 1) + " once");
      }
      if (!v.is_string())
        r.fail_field("id2label", "value for id " + k + " " + r.type_of(v) + ", expected a string");
      seen[id] = true;
      labels[id] = v.get<std::string>();
    }
    if (num != nullptr && r.size("num_labels", std::nullopt, true) != n) {
      r.fail_field("num_labels", "is " + json_snippet(*num) + " but id2label has " +
                                     std::to_string(n) + " labels");
    }
  } else {
    const std::size_t n = r.size("num_labels", std::size_t{2}, true);
    // Without id2label each label gets a made-up name; bound what that costs.
    if (n > kMaxDefaultLabels) {
      r.fail_field("num_labels", "is " + std::to_string(n) + ", beyond the " +
                                     std::to_string(kMaxDefaultLabels) +
                                     " labels bc1s names without an id2label");
    }
    for (std::size_t i = 0; i < n; ++i) labels.push_back("LABEL_" + std::to_string(i));
  }
  if (const auto* l2i = r.find("label2id"); l2i != nullptr) {
    if (!l2i->is_object())
      r.fail_field("label2id", r.type_of(*l2i) + ", expected an object {\"LABEL\": 0, ...}");
    for (const auto& [k, v] : l2i->items()) {
      std::uint64_t id = 0;
      if (!json_to_u64(v, id))
        r.fail_field("label2id", "value for " + quote(k) + " " + r.type_of(v) +
                                     ", expected a non-negative integer");
    }
  }
  return labels;
}

inline std::string format_double(double x) {
  std::ostringstream s;
  s.precision(9);
  s << x;
  return s.str();
}

}  // namespace detail

// Parse an already-loaded config.json object; `source` names it in errors.
inline hf_config parse_hf_config(const nlohmann::json& j, const std::filesystem::path& source) {
  if (!j.is_object()) {
    detail::fail(source, std::string("is a JSON ") + detail::json_kind(j) + ", expected an object");
  }
  detail::config_reader r(source, j);
  hf_config c;
  c.source = source;
  c.model_type = r.string("model_type");
  r.set_model_type(c.model_type);
  const bool bert = c.model_type == "bert";
  if (c.model_type != "distilbert" && !bert) {
    r.fail_field("model_type",
                 "is " + detail::quote(c.model_type) + ", expected \"distilbert\" or \"bert\"");
  }
  auto key = [&](std::string_view field) { return detail::hf_key(c.model_type, field); };
  c.dim = r.size(key("dim"));
  c.heads = r.size(key("heads"));
  c.hidden = r.size(key("hidden"));
  c.layers = r.size(key("layers"));
  c.vocab = r.size("vocab_size");
  c.max_positions = r.size("max_position_embeddings");
  c.type_vocab = bert ? r.size("type_vocab_size", std::size_t{2}) : 0;
  c.activation = r.string(key("activation"), std::string("gelu"));
  c.layer_norm_eps = bert ? r.positive_number("layer_norm_eps", 1e-12) : 1e-12;
  c.sinusoidal_pos_embds = bert ? false : r.boolean("sinusoidal_pos_embds", false);
  if (const auto* p = r.find("pad_token_id"); p != nullptr && !p->is_null()) {
    c.pad_token_id = r.size("pad_token_id", std::nullopt, true);
  }
  if (bert) {
    const auto pos = r.string("position_embedding_type", std::string("absolute"));
    if (pos != "absolute") {
      r.fail_field("position_embedding_type",
                   "is " + detail::quote(pos) + ", only \"absolute\" is supported");
    }
  }
  if (c.activation != "gelu") {
    r.fail_field(key("activation"), "is " + detail::quote(c.activation) +
                                        ", only \"gelu\" (the erf form) is supported");
  }
  if (c.dim % c.heads != 0) {
    r.fail_field(key("heads"), "is " + std::to_string(c.heads) + ", which does not divide " +
                                   std::string(key("dim")) + " " + std::to_string(c.dim));
  }
  if (c.pad_token_id >= c.vocab) {
    r.fail_field("pad_token_id", "is " + std::to_string(c.pad_token_id) +
                                     ", outside the vocabulary of " + std::to_string(c.vocab));
  }
  c.id2label = detail::parse_labels(r);
  c.num_labels = c.id2label.size();
  if (const auto* a = r.find("architectures"); a != nullptr && !a->is_null()) {
    if (!a->is_array()) r.fail_field("architectures", r.type_of(*a) + ", expected a list of names");
    for (const auto& v : *a) {
      if (!v.is_string())
        r.fail_field("architectures", "holds " + r.type_of(v) + ", expected class names");
      c.architectures.push_back(v.get<std::string>());
    }
  }
  if (const auto* p = r.find("problem_type"); p != nullptr && !p->is_null()) {
    c.problem_type = r.string("problem_type");
    if (c.problem_type != "single_label_classification" &&
        c.problem_type != "multi_label_classification" && c.problem_type != "regression") {
      r.fail_field("problem_type", "is " + detail::quote(c.problem_type) +
                                       ", expected \"single_label_classification\", "
                                       "\"multi_label_classification\" or \"regression\"");
    }
  }
  return c;
}

// Load `path`, a config.json or a model folder holding one.
inline hf_config load_hf_config(const std::filesystem::path& path) {
  std::error_code ec;
  const auto file = std::filesystem::is_directory(path, ec) ? path / "config.json" : path;
  const std::string text = detail::read_small_file(file);
  return parse_hf_config(detail::parse_json(file, text, "file"), file);
}

// Every field set in `expected` that differs from `file_cfg`.
inline std::vector<field_mismatch> compare(const hf_config& file_cfg,
                                           const hf_config_expect& expected) {
  std::vector<field_mismatch> out;
  const auto& mt = file_cfg.model_type;
  auto check_size = [&](std::string_view field, std::size_t actual,
                        const std::optional<std::size_t>& want) {
    if (want && *want != actual) {
      out.push_back(
          {std::string(detail::hf_key(mt, field)), std::to_string(actual), std::to_string(*want)});
    }
  };
  auto check_string = [&](std::string_view field, const std::string& actual,
                          const std::optional<std::string>& want) {
    if (want && *want != actual) {
      out.push_back(
          {std::string(detail::hf_key(mt, field)), detail::quote(actual), detail::quote(*want)});
    }
  };
  check_string("model_type", file_cfg.model_type, expected.model_type);
  check_size("dim", file_cfg.dim, expected.dim);
  check_size("heads", file_cfg.heads, expected.heads);
  check_size("hidden", file_cfg.hidden, expected.hidden);
  check_size("layers", file_cfg.layers, expected.layers);
  check_size("vocab", file_cfg.vocab, expected.vocab);
  check_size("max_positions", file_cfg.max_positions, expected.max_positions);
  check_size("type_vocab", file_cfg.type_vocab, expected.type_vocab);
  check_size("num_labels", file_cfg.num_labels, expected.num_labels);
  check_string("activation", file_cfg.activation, expected.activation);
  if (expected.layer_norm_eps) {
    // Relative tolerance: the compiled value is often a float (1e-12f != 1e-12).
    const double a = file_cfg.layer_norm_eps, b = *expected.layer_norm_eps;
    if (!(std::fabs(a - b) <= 1e-6 * std::fmax(std::fabs(a), std::fabs(b)))) {
      out.push_back({std::string(detail::hf_key(mt, "layer_norm_eps")), detail::format_double(a),
                     detail::format_double(b)});
    }
  }
  return out;
}

// Throws load_error listing every mismatch on one line:
// "<file>: dim is 512 but the compiled Config has 768; n_heads is 8 but ...".
inline void check_matches(const hf_config& file_cfg, const hf_config_expect& expected) {
  const auto diffs = compare(file_cfg, expected);
  if (diffs.empty()) return;
  std::string msg;
  for (const auto& d : diffs) {
    if (!msg.empty()) msg += "; ";
    msg += d.field + " is " + d.in_file + " but the compiled Config has " + d.compiled;
  }
  detail::fail(file_cfg.source, msg);
}

// Load tokenizer_config.json (`path` is the file or a model folder) with the one reader,
// text::tokenizer::read_tokenizer_config(), whose rules are written in bc1s/text/wordpiece.hpp.
// A missing file gives the defaults. model_max_length is then clamped to `position_limit` (at
// least 2): Hugging Face's "no limit" (1e30 or null) and any larger value become the model's
// position table, the real limit. Errors are load_error "<file>: field "<key>" <problem>", with
// the same problem text as the tokenizer's own error.
inline tokenizer_config load_tokenizer_config(const std::filesystem::path& path,
                                              std::size_t position_limit = 512) {
  if (position_limit < 2) {
    throw std::invalid_argument("bc1s::io::load_tokenizer_config: position_limit " +
                                std::to_string(position_limit) +
                                " leaves no room for [CLS] and [SEP]; pass at least 2");
  }
  std::error_code ec;
  const auto file = std::filesystem::is_directory(path, ec) ? path / "tokenizer_config.json" : path;
  tokenizer_config t;
  if (std::filesystem::exists(file, ec)) {
    try {
      t = text::tokenizer::read_tokenizer_config(file);
    } catch (const text::tokenizer_config_error& e) {
      detail::fail(e.file(), e.problem());
    }
  }
  t.model_max_length = std::min(t.model_max_length, position_limit);
  return t;
}

}  // namespace bc1s::io
