// Shared by the command-line tools in examples/: argument parsing, input files, encoding one line.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bc1s/text/wordpiece.hpp"

namespace bc1s_cli {

using clock_type = std::chrono::steady_clock;
inline double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// A bad command line: exit status 2.
struct usage_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

inline std::size_t parse_count(const std::string& flag, const std::string& v, std::uint64_t lo,
                               std::uint64_t hi) {
  std::uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n < lo || n > hi) {
    throw usage_error(flag + " expects an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got '" + v + "'");
  }
  return static_cast<std::size_t>(n);
}

// Encodes one line as [CLS] pieces [SEP], truncated to --max-length (logged with --verbose).
// `where` names the line in messages ("stdin line 3"). Throws for invalid UTF-8 and for a line
// without any token (empty, or only whitespace and control characters).
inline bc1s::text::encoding encode_line(const bc1s::text::tokenizer& tok, std::string_view text,
                                        std::size_t max_length, bool verbose, const char* tool,
                                        const std::string& where) {
  if (text.empty()) throw std::invalid_argument("empty line, no text");
  bc1s::text::encoding e;
  try {
    e = tok.encode(text, {.max_length = max_length});
  } catch (const std::length_error&) {
    if (verbose) {
      const std::size_t n = tok.tokenize_ids(text).size() + 2;
      std::fprintf(stderr,
                   "%s: %s: %zu tokens with [CLS] and [SEP], truncated to %zu "
                   "(--max-length)\n",
                   tool, where.c_str(), n, max_length);
    }
    e = tok.encode(text, {.max_length = max_length, .truncation = true});
  }
  if (e.ids.size() <= 2) {
    throw std::invalid_argument("no tokens (only whitespace or control characters)");
  }
  return e;
}

// Splits a TSV line on tabs.
inline std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : line) {
    if (ch == '\t') {
      out.push_back(cur);
      cur.clear();
    } else if (ch != '\r') {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

// The --input file, read (and its header checked) before the model loads.
struct tsv_file {
  struct row {
    std::size_t line_no;  // 1-based line in the file
    std::string line;
  };
  std::size_t columns = 0;
  int col_sentence = -1, col_label = -1;
  std::vector<row> rows;
};

inline tsv_file read_tsv(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error(path + ": is a directory, expected a file (--input)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file (--input)");
  std::string line;
  if (!std::getline(in, line)) {
    throw std::runtime_error(path + ": empty file (expected a header line with `sentence`)");
  }
  tsv_file t;
  const auto header = split_tabs(line);
  t.columns = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "sentence") t.col_sentence = int(i);
    if (header[i] == "label") t.col_label = int(i);
  }
  if (t.col_sentence < 0) {
    throw std::runtime_error(path + ": no `sentence` column in the header line");
  }
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    t.rows.push_back({n, std::move(line)});
  }
  if (in.bad()) throw std::runtime_error(path + ": read error");
  if (t.rows.empty()) throw std::runtime_error(path + ": no sentences after the header line");
  return t;
}

// e.what() on one line (a message should never span lines, but make sure).
inline std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

}  // namespace bc1s_cli
