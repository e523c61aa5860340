// Hardened JSON helpers shared by the io/ loaders (internal).
//
// parse_json() never lets a nlohmann exception escape: every failure becomes a one-line
// load_error naming the file. It also rejects what nlohmann accepts silently but a loader must
// not: duplicate keys in one object (nlohmann keeps the last one) and nesting deeper than
// `max_depth`. Those checks, json_kind() and escape_one_line() are bc1s/detail/json_read.hpp's,
// shared with text/.
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
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/detail/json_read.hpp"
#include "bc1s/io/load_error.hpp"

namespace bc1s::io::detail {

using bc1s::detail::json_kind;  // "object", "array", "string", "integer", "number", ...

// A short, one-line rendering of a JSON value for error messages.
inline std::string json_snippet(const nlohmann::json& j) {
  return escape_one_line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 80);
}

// Parse `text` as JSON (bc1s::detail::parse_json_strict). `what` names the text in messages
// ("header", "file"); a repeated key is quoted as quote() does.
inline nlohmann::json parse_json(const std::filesystem::path& file, std::string_view text,
                                 std::string_view what, int max_depth = 64) {
  auto r = bc1s::detail::parse_json_strict(text, what, max_depth, quote);
  if (!r.problem.empty()) fail(file, r.problem);
  return std::move(r.value);
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
