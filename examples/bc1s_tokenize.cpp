// bc1s-tokenize: BERT WordPiece ids for each line of stdin, [CLS] ... [SEP], space-separated.
//
//   bc1s-tokenize --vocab models/distilbert-sst2/vocab.txt < sentences.txt
//
// Errors (bad arguments, bad vocab, invalid UTF-8, a line too long without --truncate) print one
// line on stderr and exit with status 2 (usage) or 1 (data).
#include <charconv>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "bc1s/text/wordpiece.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: bc1s-tokenize --vocab FILE [--no-lower-case] [--max-length N] [--truncate]\n"
    "\n"
    "Reads UTF-8 text from stdin, one sentence per line, and prints one line per input: the\n"
    "BERT WordPiece ids, [CLS] first and [SEP] last, separated by spaces (Hugging Face\n"
    "BertTokenizer semantics).\n"
    "\n"
    "  --vocab FILE       vocab.txt, one token per line (id = line index)\n"
    "  --no-lower-case    keep case and accents (cased models); default: lowercase, strip accents\n"
    "  --max-length N     at most N ids per line, [CLS] and [SEP] included (default 512)\n"
    "  --truncate         drop trailing word pieces of longer lines instead of failing\n"
    "  --help             this text\n";

int usage_error(const std::string& msg) {
  std::cerr << "bc1s-tokenize: " << msg << " (see --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string vocab_path;
  bc1s::text::tokenizer_options topts;
  bc1s::text::encode_options eopts;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--vocab") {
      if (i + 1 >= argc) return usage_error("--vocab needs a file");
      vocab_path = argv[++i];
    } else if (a == "--no-lower-case") {
      topts.do_lower_case = false;
    } else if (a == "--truncate") {
      eopts.truncation = true;
    } else if (a == "--max-length") {
      if (i + 1 >= argc) return usage_error("--max-length needs a number");
      const std::string_view v = argv[++i];
      std::size_t n = 0;
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || ptr != v.data() + v.size() || n < 2) {
        return usage_error("--max-length must be an integer >= 2, got '" + std::string(v) + "'");
      }
      eopts.max_length = n;
    } else {
      return usage_error("unknown argument '" + std::string(a) + "'");
    }
  }
  if (vocab_path.empty()) return usage_error("--vocab FILE is required");

  try {
    const auto tok = bc1s::text::tokenizer::from_vocab_file(vocab_path, topts);
    std::string line;
    std::string out;
    std::size_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      bc1s::text::encoding e;
      try {
        e = tok.encode(line, eopts);
      } catch (const std::length_error& ex) {
        std::cerr << "bc1s-tokenize: stdin line " << line_no << ": " << ex.what()
                  << " (--truncate)\n";
        return 1;
      } catch (const std::exception& ex) {
        std::cerr << "bc1s-tokenize: stdin line " << line_no << ": " << ex.what() << "\n";
        return 1;
      }
      out.clear();
      for (std::size_t k = 0; k < e.ids.size(); ++k) {
        if (k) out.push_back(' ');
        out += std::to_string(e.ids[k]);
      }
      out.push_back('\n');
      std::cout << out;
    }
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "bc1s-tokenize: error writing to stdout\n";
      return 1;
    }
  } catch (const std::exception& ex) {
    std::cerr << "bc1s-tokenize: " << ex.what() << "\n";
    return 1;
  }
  return 0;
}
