// bc1s::io::load_error — the one exception type every loader in io/ throws for bad input.
//
// Contract: the message is ONE line of the form "<file>: <problem>", naming the tensor or field
// where there is one. Text taken from the file (tensor names, JSON snippets) is quoted, escaped
// (control bytes become \n, \xNN) and cut short, so a hostile file cannot forge extra lines or
// blow up a log.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bc1s::io {

class load_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

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

// 'name', escaped and shortened: for names and values read from a file.
inline std::string quote(std::string_view s) {
  return "'" + escape_one_line(s) + "'";
}

// The error for `file`: "<file>: <problem>" on one line.
inline load_error make_error(const std::filesystem::path& file, std::string_view problem) {
  return load_error(escape_one_line(file.string(), 400) + ": " + escape_one_line(problem, 600));
}

[[noreturn]] inline void fail(const std::filesystem::path& file, std::string_view problem) {
  throw make_error(file, problem);
}

}  // namespace detail
}  // namespace bc1s::io
