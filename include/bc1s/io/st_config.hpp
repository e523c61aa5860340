// sentence-transformers folder configuration: which pooling turns the last hidden state into one
// sentence embedding, and whether that embedding is then L2-normalised.
//
// load_st_pooling(dir) reads dir/modules.json and the Pooling module's <path>/config.json:
//
//   modules.json      a JSON array of modules {"idx", "name", "path", "type"}, run in order:
//                     sentence_transformers.models.Transformer   first, path "" (the weights are
//                                                                 in the folder itself)
//                     sentence_transformers.models.Pooling       exactly one, after it
//                     sentence_transformers.models.Normalize     optional, last: normalise then
//                     Any other module type (Dense, LayerNorm, ...) is refused, as bc1s does not
//                     run it and the embedding would silently differ.
//   <path>/config.json
//                     word_embedding_dimension   required positive integer
//                     pooling_mode_cls_token     the first token ([CLS])
//                     pooling_mode_mean_tokens   mean over the tokens (default true, as in
//                                                sentence-transformers' Pooling)
//                     pooling_mode_max_tokens    per-channel maximum over the tokens
//                     pooling_mode               a string "cls" | "mean" | "max" that, as in
//                                                sentence-transformers, overrides the booleans
//                     include_prompt             boolean, type-checked only (no prompts here)
//                     Exactly one mode must be set. pooling_mode_mean_sqrt_len_tokens,
//                     pooling_mode_weightedmean_tokens, pooling_mode_lasttoken and any other
//                     pooling_mode_* key set to true are refused, naming the field; other keys
//                     are ignored.
//
// A folder without modules.json gets the default: mean pooling, then normalise (all-MiniLM-L6-v2's
// configuration). Every failure is a one-line load_error "<file>: <problem>" naming the field or
// module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/io/detail/json.hpp"
#include "bc1s/io/load_error.hpp"

namespace bc1s::io {

enum class pooling_mode { cls, mean, max };

// "cls", "mean", "max".
inline constexpr const char* to_string(pooling_mode m) noexcept {
  switch (m) {
    case pooling_mode::cls:
      return "cls";
    case pooling_mode::max:
      return "max";
    default:
      return "mean";
  }
}

struct st_pooling {
  pooling_mode mode = pooling_mode::mean;
  bool normalize = true;
  std::size_t dimension = 0;           // word_embedding_dimension; 0 when no config was read
  std::filesystem::path modules_file;  // empty: no modules.json, defaults
  std::filesystem::path pooling_file;  // the Pooling module's config.json, when read
};

// One entry of modules.json.
struct st_module {
  std::string type;  // e.g. "sentence_transformers.models.Pooling"
  std::string path;  // relative to the folder; "" for the folder itself
};

inline constexpr std::string_view kStTransformer = "sentence_transformers.models.Transformer";
inline constexpr std::string_view kStPooling = "sentence_transformers.models.Pooling";
inline constexpr std::string_view kStNormalize = "sentence_transformers.models.Normalize";

namespace detail {

inline std::string st_type_of(const nlohmann::json& v) {
  return std::string("is a JSON ") + json_kind(v) + " (" + json_snippet(v) + ")";
}

// A module path must stay inside the folder: relative, without "..".
inline bool st_path_inside(std::string_view p) {
  const std::filesystem::path path{std::string(p)};
  if (path.is_absolute() || path.has_root_name() || path.has_root_directory()) return false;
  for (const auto& part : path) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace detail

// Parse an already-loaded modules.json array; `source` names it in errors.
inline std::vector<st_module> parse_st_modules(const nlohmann::json& j,
                                               const std::filesystem::path& source) {
  using detail::fail;
  if (!j.is_array()) fail(source, detail::st_type_of(j) + ", expected an array of modules");
  std::vector<st_module> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    const std::string where = "module " + std::to_string(i);
    if (!m.is_object()) {
      fail(source, where + " " + detail::st_type_of(m) +
                       ", expected an object {\"idx\", \"name\", \"path\", \"type\"}");
    }
    st_module mod;
    for (const char* key : {"type", "path"}) {
      const auto it = m.find(key);
      if (it == m.end()) fail(source, where + ": field \"" + key + "\" is missing");
      if (!it->is_string()) {
        fail(source,
             where + ": field \"" + key + "\" " + detail::st_type_of(*it) + ", expected a string");
      }
      (std::string_view(key) == "type" ? mod.type : mod.path) = it->get<std::string>();
    }
    if (const auto it = m.find("idx"); it != m.end()) {
      std::uint64_t idx = 0;
      if (!detail::json_to_u64(*it, idx)) {
        fail(source, where + ": field \"idx\" " + detail::st_type_of(*it) +
                         ", expected a non-negative integer");
      }
    }
    if (const auto it = m.find("name"); it != m.end() && !it->is_string()) {
      fail(source, where + ": field \"name\" " + detail::st_type_of(*it) + ", expected a string");
    }
    if (!detail::st_path_inside(mod.path)) {
      fail(source, where + ": field \"path\" is " + detail::quote(mod.path) +
                       ", expected a folder inside the model folder");
    }
    out.push_back(std::move(mod));
  }
  return out;
}

// Parse an already-loaded Pooling config.json object into st_pooling's mode and dimension;
// `source` names it in errors.
inline st_pooling parse_st_pooling_config(const nlohmann::json& j,
                                          const std::filesystem::path& source) {
  using detail::fail;
  if (!j.is_object()) fail(source, detail::st_type_of(j) + ", expected an object");
  auto fail_field = [&](std::string_view key, const std::string& problem) {
    fail(source, "field \"" + std::string(key) + "\" " + problem);
  };
  st_pooling p;
  p.pooling_file = source;
  const auto dim = j.find("word_embedding_dimension");
  if (dim == j.end()) fail_field("word_embedding_dimension", "is missing");
  std::uint64_t d = 0;
  if (!detail::json_to_u64(*dim, d) || d == 0 || d > (std::uint64_t{1} << 28)) {
    fail_field(
        "word_embedding_dimension",
        (dim->is_number_integer() ? "is " + detail::json_snippet(*dim) : detail::st_type_of(*dim)) +
            ", expected a positive integer");
  }
  p.dimension = static_cast<std::size_t>(d);
  if (const auto it = j.find("include_prompt"); it != j.end() && !it->is_boolean()) {
    fail_field("include_prompt", detail::st_type_of(*it) + ", expected true or false");
  }

  struct mode_key {
    std::string_view key, name;
    std::optional<pooling_mode> mode;  // nullopt: not supported
    bool def;
  };
  static constexpr mode_key kModes[] = {
      {"pooling_mode_cls_token", "cls", pooling_mode::cls, false},
      {"pooling_mode_mean_tokens", "mean", pooling_mode::mean, true},
      {"pooling_mode_max_tokens", "max", pooling_mode::max, false},
      {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens", std::nullopt, false},
      {"pooling_mode_weightedmean_tokens", "weightedmean", std::nullopt, false},
      {"pooling_mode_lasttoken", "lasttoken", std::nullopt, false},
  };
  constexpr const char* kSupported = "only cls, mean or max pooling is supported";

  if (const auto it = j.find("pooling_mode"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) {
      fail_field("pooling_mode",
                 detail::st_type_of(*it) + ", expected \"cls\", \"mean\" or \"max\"");
    }
    std::string s = it->get<std::string>();
    for (auto& ch : s) ch = (ch >= 'A' && ch <= 'Z') ? char(ch - 'A' + 'a') : ch;
    for (const auto& m : kModes) {
      if (s != m.name) continue;
      if (!m.mode) fail_field("pooling_mode", "is " + detail::quote(s) + "; " + kSupported);
      p.mode = *m.mode;
      return p;
    }
    fail_field("pooling_mode",
               "is " + detail::quote(s) + ", expected \"cls\", \"mean\" or \"max\"");
  }

  std::vector<const mode_key*> set;
  for (const auto& m : kModes) {
    bool on = m.def;
    if (const auto it = j.find(m.key); it != j.end()) {
      if (!it->is_boolean())
        fail_field(m.key, detail::st_type_of(*it) + ", expected true or false");
      on = it->get<bool>();
    }
    if (!on) continue;
    if (!m.mode) fail_field(m.key, std::string("is true; ") + kSupported);
    set.push_back(&m);
  }
  for (const auto& [key, value] : j.items()) {
    if (key.rfind("pooling_mode_", 0) != 0) continue;
    bool known = false;
    for (const auto& m : kModes) known = known || key == m.key;
    if (!known && !(value.is_boolean() && !value.get<bool>())) {
      fail_field(key, "is an unknown pooling mode set to " + detail::json_snippet(value) + "; " +
                          kSupported);
    }
  }
  if (set.empty()) {
    fail(source,
         "no pooling mode is set; expected one of pooling_mode_cls_token, "
         "pooling_mode_mean_tokens (true when absent) or pooling_mode_max_tokens to be true");
  }
  if (set.size() > 1) {
    std::string names;
    for (const auto* m : set) names += (names.empty() ? "" : " and ") + std::string(m->key);
    fail(source, "fields " + names +
                     " are both true (the modes would be concatenated); expected exactly one");
  }
  p.mode = *set.front()->mode;
  return p;
}

// The pooling and normalisation a sentence-transformers folder configures (see the top of this
// file); a folder without modules.json gets mean pooling and normalisation.
inline st_pooling load_st_pooling(const std::filesystem::path& dir) {
  using detail::fail;
  const auto modules_file = dir / "modules.json";
  std::error_code ec;
  if (!std::filesystem::exists(modules_file, ec)) return {};
  const auto modules = parse_st_modules(
      detail::parse_json(modules_file, detail::read_small_file(modules_file, 1 << 20), "file"),
      modules_file);
  std::optional<std::size_t> pooling_at;
  bool normalize = false;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const auto& m = modules[i];
    const std::string where = "module " + std::to_string(i) + " (" + detail::quote(m.type) + ")";
    if (i == 0) {
      if (m.type != kStTransformer) {
        fail(modules_file, where + " comes first; expected " + std::string(kStTransformer));
      }
      if (!m.path.empty()) {
        fail(modules_file, where + " has path " + detail::quote(m.path) +
                               "; expected \"\" (the weights in the folder itself)");
      }
    } else if (m.type == kStPooling && !pooling_at && !normalize) {
      pooling_at = i;
    } else if (m.type == kStNormalize && pooling_at && !normalize) {
      normalize = true;
    } else if (m.type == kStTransformer || m.type == kStPooling || m.type == kStNormalize) {
      fail(modules_file, where +
                             " is out of place; expected one Transformer, then one Pooling, "
                             "then at most one Normalize");
    } else {
      fail(modules_file, where +
                             " is not supported; bc1s runs only Transformer, Pooling and "
                             "Normalize modules");
    }
  }
  if (modules.empty()) fail(modules_file, "lists no modules; expected Transformer and Pooling");
  if (!pooling_at) fail(modules_file, "has no " + std::string(kStPooling) + " module");
  const auto pooling_file = dir / modules[*pooling_at].path / "config.json";
  st_pooling p = parse_st_pooling_config(
      detail::parse_json(pooling_file, detail::read_small_file(pooling_file, 1 << 20), "file"),
      pooling_file);
  p.normalize = normalize;
  p.modules_file = modules_file;
  return p;
}

}  // namespace bc1s::io
