// Hardened JSON helpers shared by the io/ loaders (internal).
//
// parse_json() never lets a nlohmann exception escape: every failure becomes a one-line
// load_error naming the file. It also rejects what nlohmann accepts silently but a loader must
// not: duplicate keys in one object (nlohmann keeps the last one) and nesting deeper than
// `max_depth`.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/io/load_error.hpp"

namespace bc1s::io::detail {

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

// A short, one-line rendering of a JSON value for error messages.
inline std::string json_snippet(const nlohmann::json& j) {
  return escape_one_line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 80);
}

// Parse `text` as JSON. `what` names the text in messages ("header", "file").
inline nlohmann::json parse_json(const std::filesystem::path& file, std::string_view text,
                                 std::string_view what, int max_depth = 64) {
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
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true,
                              /*ignore_comments=*/false);
  } catch (const nlohmann::json::exception& e) {
    fail(file, std::string(what) + " is not valid JSON (" + e.what() + ")");
  }
  if (too_deep) {
    fail(file, std::string(what) + " nests deeper than " + std::to_string(max_depth) + " levels");
  }
  if (!duplicate.empty()) {
    fail(file, std::string(what) + " has the key " + quote(duplicate) + " more than once");
  }
  return j;
}

// Read a whole small file (config files) into a string, refusing files over `max_bytes`.
inline std::string read_small_file(const std::filesystem::path& file,
                                   std::size_t max_bytes = std::size_t{16} << 20) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) fail(file, "file not found");
  if (std::filesystem::is_directory(status)) fail(file, "is a directory, expected a file");
  if (!std::filesystem::is_regular_file(status)) fail(file, "is not a regular file");
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) fail(file, "cannot read file size (" + ec.message() + ")");
  if (size > max_bytes) {
    fail(file, "file is " + std::to_string(size) + " bytes, more than the " +
                   std::to_string(max_bytes) + " allowed for a config file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open file for reading");
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.gcount() != static_cast<std::streamsize>(text.size())) fail(file, "cannot read file");
  return text;
}

// A JSON value as a non-negative integer that fits in uint64, or false.
inline bool json_to_u64(const nlohmann::json& j, std::uint64_t& out) noexcept {
  if (j.is_number_unsigned()) {
    out = j.get<std::uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v < 0) return false;
    out = static_cast<std::uint64_t>(v);
    return true;
  }
  return false;
}

// a * b, or false on overflow.
inline bool checked_mul(std::size_t a, std::size_t b, std::size_t& out) noexcept {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace bc1s::io::detail
