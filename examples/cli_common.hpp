// Shared by the command-line tools in examples/: argument parsing, input files, encoding one line,
// main().
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
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

// --threads default: the machine's cores (std::thread::hardware_concurrency), 1 to 256.
inline std::size_t default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : std::min<std::size_t>(n, 256);
}

// Encodes one line as [CLS] pieces [SEP], truncated to --max-length (logged with --verbose).
// `where` names the line in messages ("stdin line 3"). Throws for invalid UTF-8 and for a line
// without any token (empty, or only whitespace and control characters). With `offsets`, also
// fills the encoding's word_ids and byte offsets.
inline bc1s::text::encoding encode_line(const bc1s::text::tokenizer& tok, std::string_view text,
                                        std::size_t max_length, bool verbose, const char* tool,
                                        const std::string& where, bool offsets = false) {
  if (text.empty()) throw std::invalid_argument("empty line, no text");
  bc1s::text::encoding e;
  try {
    e = tok.encode(text, {.max_length = max_length, .offsets = offsets});
  } catch (const std::length_error&) {
    if (verbose) {
      const std::size_t n = tok.tokenize_ids(text).size() + 2;
      std::fprintf(stderr,
                   "%s: %s: %zu tokens with [CLS] and [SEP], truncated to %zu "
                   "(--max-length)\n",
                   tool, where.c_str(), n, max_length);
    }
    e = tok.encode(text, {.max_length = max_length, .truncation = true, .offsets = offsets});
  }
  if (e.ids.size() <= 2) {
    throw std::invalid_argument("no tokens (only whitespace or control characters)");
  }
  return e;
}

// Encodes a pair as [CLS] a [SEP] b [SEP] with token types 0 then 1, truncated to --max-length
// as Hugging Face's longest_first does (logged with --verbose). `name_a` / `name_b` name the two
// texts in messages ("text", "text_pair"; "query", "passage").
inline bc1s::text::encoding encode_pair(const bc1s::text::tokenizer& tok, std::string_view a,
                                        std::string_view b, std::size_t max_length, bool verbose,
                                        const char* tool, const std::string& where,
                                        const char* name_a = "text",
                                        const char* name_b = "text_pair") {
  if (a.empty()) throw std::invalid_argument(std::string("empty ") + name_a);
  if (b.empty()) throw std::invalid_argument(std::string("empty ") + name_b);
  bc1s::text::encoding e;
  try {
    e = tok.encode(a, b, {.max_length = max_length});
  } catch (const std::length_error&) {
    if (verbose) {
      const std::size_t na = tok.tokenize_ids(a).size(), nb = tok.tokenize_ids(b).size();
      std::fprintf(stderr,
                   "%s: %s: %zu tokens with [CLS] and two [SEP] (%s %zu, %s %zu), truncated to "
                   "%zu, longest first (--max-length)\n",
                   tool, where.c_str(), na + nb + 3, name_a, na, name_b, nb, max_length);
    }
    e = tok.encode(a, b, {.max_length = max_length, .truncation = true});
  }
  // Token types: 0 for [CLS] a [SEP], 1 for b [SEP].
  const auto n_b = std::size_t(std::count(e.token_type_ids.begin(), e.token_type_ids.end(), 1));
  if (e.ids.size() - n_b <= 2) {
    throw std::invalid_argument(std::string("no tokens in the ") + name_a +
                                " (only whitespace or control characters)");
  }
  if (n_b <= 1) {
    throw std::invalid_argument(std::string("no tokens in the ") + name_b +
                                " (only whitespace or control characters)");
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

// The --input file, read (and its header checked) before the model loads. col_sentence is the
// `sentence` column; with pairs, col_pair is the second text's column: the header
// names `text` and `text_pair`, or `sentence1` and `sentence2` (GLUE's names; col_sentence is then
// `sentence1`). col_label: a `label` column, or -1.
struct tsv_file {
  struct row {
    std::size_t line_no;  // 1-based line in the file
    std::string line;
  };
  std::size_t columns = 0;
  int col_sentence = -1, col_pair = -1, col_label = -1;
  std::vector<row> rows;
};

inline tsv_file read_tsv(const std::string& path, bool pairs = false) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error(path + ": is a directory, expected a file (--input)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file (--input)");
  std::string line;
  if (!std::getline(in, line)) {
    throw std::runtime_error(path + (pairs ? ": empty file (expected a header line with `text` "
                                             "and `text_pair`)"
                                           : ": empty file (expected a header line with "
                                             "`sentence`)"));
  }
  tsv_file t;
  const auto header = split_tabs(line);
  t.columns = header.size();
  auto find = [&](std::string_view name) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return int(i);
    return -1;
  };
  t.col_label = find("label");
  if (pairs) {
    t.col_sentence = find("text");
    t.col_pair = find("text_pair");
    if (t.col_sentence < 0 || t.col_pair < 0) {
      t.col_sentence = find("sentence1");
      t.col_pair = find("sentence2");
    }
    if (t.col_sentence < 0 || t.col_pair < 0) {
      throw std::runtime_error(path +
                               ": no `text` and `text_pair` (or `sentence1` and `sentence2`) "
                               "columns in the header line (--pairs)");
    }
  } else {
    t.col_sentence = find("sentence");
    if (t.col_sentence < 0) {
      throw std::runtime_error(path + ": no `sentence` column in the header line");
    }
  }
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    t.rows.push_back({n, std::move(line)});
  }
  if (in.bad()) throw std::runtime_error(path + ": read error");
  if (t.rows.empty()) throw std::runtime_error(path + ": no sentences after the header line");
  return t;
}

// A model folder given with --model: it must exist and be a folder.
inline void check_model_folder(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec))
    throw std::runtime_error(dir + ": no such model folder (--model)");
  if (!std::filesystem::is_directory(dir, ec))
    throw std::runtime_error(dir + ": not a folder (--model expects a folder)");
}

// --max-length: the user's value (it must fit the model's position table: `positions`, its
// max_position_embeddings), else the default: the tokenizer's model_max_length, capped there.
inline std::size_t resolve_max_length(const std::optional<std::size_t>& flag,
                                      std::size_t default_length, std::size_t positions) {
  if (flag) {
    if (*flag > positions) {
      throw usage_error("--max-length expects an integer in [3, " + std::to_string(positions) +
                        "] (the model's max_position_embeddings), got '" + std::to_string(*flag) +
                        "'");
    }
    return *flag;
  }
  return std::max<std::size_t>(2, std::min(default_length, positions));
}

// e.what() on one line (a message should never span lines, but make sure).
inline std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

// The command line, one argument at a time:
//   for (arg_list args(argc, argv); args.next();) { const std::string& a = args.arg(); ... }
class arg_list {
 public:
  arg_list(int argc, char** argv) : argc_(argc), argv_(argv) {}

  // Moves to the next argument; false after the last.
  bool next() {
    if (i_ + 1 >= argc_) return false;
    arg_ = argv_[++i_];
    return true;
  }
  const std::string& arg() const noexcept { return arg_; }

  // The value of the option arg(): the next argument (a usage error when there is none).
  std::string value() {
    if (i_ + 1 >= argc_) throw usage_error(arg_ + " needs a value");
    return argv_[++i_];
  }

  // arg(), none of the tool's options. A tool that takes texts as arguments passes `texts`: the
  // argument is appended to it, and after "--" every argument left is, even one starting with
  // '-'. Otherwise, and for any other argument starting with '-': "unknown option", a usage error.
  void other(std::vector<std::string>* texts = nullptr) {
    if (texts != nullptr && arg_ == "--") {
      while (next()) texts->push_back(arg_);
    } else if (texts == nullptr || (!arg_.empty() && arg_[0] == '-')) {
      throw usage_error("unknown option '" + arg_ + "'");
    } else {
      texts->push_back(arg_);
    }
  }

 private:
  int argc_;
  char** argv_;
  int i_ = 0;
  std::string arg_;
};

// One text to process, with `where` naming it in messages ("stdin line 3", "FILE:3").
struct input_text {
  std::string where, text;
};

// Texts given as arguments, named "NOUN 1", "NOUN 2", ... ("argument", "passage").
inline std::vector<input_text> texts_of_args(const std::vector<std::string>& args,
                                             const std::string& noun) {
  std::vector<input_text> out;
  for (std::size_t i = 0; i < args.size(); ++i)
    out.push_back({noun + " " + std::to_string(i + 1), args[i]});
  return out;
}

// Every line of `input` (--input FILE), else of stdin, without a trailing CR; named "FILE:N" or
// "stdin line N".
inline std::vector<input_text> read_lines(const std::string& input) {
  std::vector<input_text> out;
  std::ifstream file;
  if (!input.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec))
      throw std::runtime_error(input + ": is a directory, expected a file (--input)");
    file.open(input, std::ios::binary);
    if (!file) throw std::runtime_error(input + ": cannot open the file (--input)");
  }
  std::istream& in = input.empty() ? std::cin : file;
  const std::string name = input.empty() ? "stdin line " : input + ":";
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back({name + std::to_string(n), line});
  }
  if (in.bad()) throw std::runtime_error((input.empty() ? "stdin" : input) + ": read error");
  return out;
}

// Flushes std::cout and stdout; false, with "TOOL: error writing to stdout" on stderr, when the
// output could not be written (the exit status is then 1).
inline bool flush_stdout(const char* tool) {
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: error writing to stdout\n", tool);
    return false;
  }
  return true;
}

// "TOOL: R of N NOUN rejected" on stderr when R (texts left out after an error line) is not 0.
inline void report_rejected(const char* tool, std::size_t rejected, std::size_t total,
                            const char* noun) {
  if (rejected > 0)
    std::fprintf(stderr, "%s: %zu of %zu %s rejected\n", tool, rejected, total, noun);
}

// A tool's main(): options = parse_args(argc, argv), then run_tool(options) returns the exit
// status. A bad command line (any exception from parse_args, a usage_error from run_tool) exits
// with status 2 and "TOOL: MESSAGE (usage: TOOL --help)"; any other exception with status 1 and
// "TOOL: MESSAGE".
template <class Parse, class Run>
int cli_main(const char* tool, int argc, char** argv, Parse parse_args, Run run_tool) {
  std::remove_cvref_t<decltype(parse_args(argc, argv))> o;
  try {
    o = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s (usage: %s --help)\n", tool, one_line(e.what()).c_str(), tool);
    return 2;
  }
  try {
    return run_tool(o);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s: %s (usage: %s --help)\n", tool, one_line(e.what()).c_str(), tool);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool, one_line(e.what()).c_str());
    return 1;
  }
}

}  // namespace bc1s_cli
