// Reading untrusted JSON and naming what it holds in one-line messages (internal): the pieces
// text/ (tokenizer_config.json) and io/ (config.json, the safetensors header) share. It needs
// only std and nlohmann-json, so every layer may include it; each caller words its own errors
// around these results.
//
//   escape_one_line()    control bytes as \n, \xNN, cut short: text from a file kept to one line
//   json_kind()          "object", "array", "string", "integer", "number", "boolean", "null"
//   parse_json_strict()  nlohmann's parse without its exceptions, rejecting what it accepts
//                        silently but a loader must not: a key repeated in one object (nlohmann
//                        keeps the last one) and nesting deeper than a bound
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace bc1s::detail {

inline constexpr std::size_t kMaxQuotedChars = 120;

// Escape control bytes and cut to `max_chars` (marking the cut with "...").
inline std::string escape_one_line(std::string_view s, std::size_t max_chars = kMaxQuotedChars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() < max_chars ? s.size() : max_chars + 3);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// "object", "array", "string", "integer", "number", "boolean", "null".
inline const char* json_kind(const nlohmann::json& j) noexcept {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return "binary";
  }
}

// What parse_json_strict() read: the value, or (problem not empty) why the text was refused.
struct json_parse_result {
  nlohmann::json value;
  std::string problem;
};

// Parse `text` as JSON; `what` names the text in the problem ("file", "header"), `quote_key`
// renders a repeated key in it. The problem, the first that applies:
//   "<what> is not valid JSON (<nlohmann's message>)"   (also a number beyond double: 1e400)
//   "<what> nests deeper than <max_depth> levels"
//   "<what> has the key <quote_key(key)> more than once"
template <class QuoteKey>
json_parse_result parse_json_strict(std::string_view text, std::string_view what, int max_depth,
                                    QuoteKey&& quote_key) {
  std::vector<std::set<std::string, std::less<>>> keys;  // one set per open object
  std::string duplicate;
  bool too_deep = false;
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) -> bool {
    using ev_t = nlohmann::json::parse_event_t;
    if (depth > max_depth) too_deep = true;
    if (ev == ev_t::object_start) {
      keys.emplace_back();
    } else if (ev == ev_t::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (ev == ev_t::key && !keys.empty() && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  json_parse_result r;
  try {
    r.value = nlohmann::json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true,
                                    /*ignore_comments=*/false);
  } catch (const nlohmann::json::exception& e) {
    r.problem = std::string(what) + " is not valid JSON (" + e.what() + ")";
  }
  if (r.problem.empty() && too_deep) {
    r.problem = std::string(what) + " nests deeper than " + std::to_string(max_depth) + " levels";
  }
  if (r.problem.empty() && !duplicate.empty()) {
    r.problem = std::string(what) + " has the key " +
                std::invoke(std::forward<QuoteKey>(quote_key), std::string_view(duplicate)) +
                " more than once";
  }
  return r;
}

}  // namespace bc1s::detail
