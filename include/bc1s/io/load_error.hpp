// bc1s::io::load_error — the one exception type every loader in io/ throws for bad input.
//
// Contract: the message is ONE line of the form "<file>: <problem>", naming the tensor or field
// where there is one. Text taken from the file (tensor names, JSON snippets) is quoted, escaped
// (control bytes become \n, \xNN) and cut short, so a hostile file cannot forge extra lines or
// blow up a log.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "bc1s/detail/json_read.hpp"

namespace bc1s::io {

class load_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// Control bytes as \n, \xNN, cut to kMaxQuotedChars unless told: bc1s/detail/json_read.hpp, where
// text/ finds it too.
using bc1s::detail::escape_one_line;
using bc1s::detail::kMaxQuotedChars;

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
