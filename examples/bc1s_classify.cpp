// bc1s-classify: sentiment (or any sequence classification) with a DistilBERT checkpoint.
//
//   bc1s-classify --model DIR                 Hugging Face folder: config.json, model.safetensors,
//                                             vocab.txt, tokenizer_config.json
//   bc1s-classify --synthetic SEED --vocab F  seeded random weights (no checkpoint needed)
//
// With a terminal on stdin: an interactive prompt. Otherwise one result per input line of stdin.
// --input FILE.tsv runs a file (a `sentence` column, and a `label` column for accuracy).
// A rejected line (invalid UTF-8, empty) gets one error line on stderr naming its line number;
// the run goes on and exits with status 1 at the end. See usage() for the exit statuses.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/bc1s.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/text/wordpiece.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

constexpr const char* kPrompt = "Enter text to classify (or Ctrl+D to quit): ";

struct options {
  std::string model_dir, vocab, input;
  std::optional<std::uint64_t> synthetic_seed;
  std::size_t threads = 1, max_length = 512;
  std::string precision = "fp16";
  bool json = false, verbose = false;
};

// A bad command line: exit status 2.
struct usage_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

[[noreturn]] void usage() {
  std::fputs(
      "usage: bc1s-classify (--model DIR | --synthetic SEED --vocab VOCAB.txt) [options]\n"
      "\n"
      "Classifies text with DistilBERT. With a terminal on stdin: an interactive prompt, one\n"
      "answer such as `POSITIVE (95.75%)` per line (an empty line is skipped). Otherwise one\n"
      "result per line of stdin, without a prompt. Lines longer than --max-length tokens are\n"
      "truncated (reported with --verbose).\n"
      "\n"
      "  --model DIR          Hugging Face DistilBERT folder (config.json, model.safetensors,\n"
      "                       vocab.txt, tokenizer_config.json)\n"
      "  --synthetic SEED     seeded random distilbert_base weights instead of a checkpoint\n"
      "  --vocab FILE         vocab.txt (default: DIR/vocab.txt)\n"
      "  --input FILE.tsv     classify a file with a header line: column `sentence`, and\n"
      "                       `label` (0/1 or a label name) for accuracy; progress on stderr,\n"
      "                       then throughput and accuracy (on stderr with --json)\n"
      "  --json               one JSON object per line: text, label, score, probabilities, logits\n"
      "                       (no prompt)\n"
      "  --threads N          threads, 1 to 256 (default 1)\n"
      "  --max-length N       truncate to N tokens with [CLS] and [SEP], 2 to 512 (default 512)\n"
      "  --precision P        weight storage fp16 (default) or fp32\n"
      "  --verbose            log load, tokenize and inference times, and truncations, on stderr\n"
      "  --help               this text\n"
      "\n"
      "A line that cannot be classified (invalid UTF-8, empty or only whitespace, a bad label)\n"
      "gets one error line on stderr naming its line number; the other lines are still\n"
      "classified, and the exit status is then 1.\n"
      "\n"
      "Exit status: 0 if every line was classified; 1 if the model, vocabulary or input file\n"
      "cannot be loaded or any line was rejected; 2 for a bad command line.\n",
      stdout);
  std::exit(0);
}

std::size_t parse_count(const std::string& flag, const std::string& v, std::uint64_t lo,
                        std::uint64_t hi) {
  std::uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n < lo || n > hi) {
    throw usage_error(flag + " expects an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got '" + v + "'");
  }
  return static_cast<std::size_t>(n);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h")
      usage();
    else if (a == "--model")
      o.model_dir = value();
    else if (a == "--vocab")
      o.vocab = value();
    else if (a == "--input")
      o.input = value();
    else if (a == "--synthetic")
      o.synthetic_seed = parse_count(a, value(), 0, ~std::uint64_t{0});
    else if (a == "--threads")
      o.threads = parse_count(a, value(), 1, 256);
    else if (a == "--max-length")
      o.max_length = parse_count(a, value(), 2, 512);
    else if (a == "--precision") {
      o.precision = value();
      if (o.precision != "fp16" && o.precision != "fp32") {
        throw usage_error("--precision expects fp16 or fp32, got '" + o.precision + "'");
      }
    } else if (a == "--json")
      o.json = true;
    else if (a == "--verbose")
      o.verbose = true;
    else
      throw usage_error("unknown option '" + a + "'");
  }
  if (o.model_dir.empty() == !o.synthetic_seed) {
    throw usage_error(
        "give either --model DIR (a Hugging Face DistilBERT folder) or --synthetic SEED");
  }
  if (o.vocab.empty()) {
    if (o.model_dir.empty()) throw usage_error("--synthetic needs --vocab FILE");
    o.vocab = o.model_dir + "/vocab.txt";
  }
  return o;
}

using base = bc1s::nn::distilbert_base;

struct prediction {
  std::vector<float> logits, probs;
  std::size_t label = 0;
};

// The model in either precision, behind one interface.
class classifier {
 public:
  explicit classifier(const options& o) : pool_(o.threads) {
    const auto t0 = clock_type::now();
    if (o.precision == "fp16")
      model_ = make<bc1s::half>(o);
    else
      model_ = make<float>(o);
    if (!o.model_dir.empty()) {
      const auto cfg = bc1s::io::load_hf_config(o.model_dir + "/config.json");
      labels_ = cfg.id2label;
    }
    if (labels_.size() != base::num_labels) labels_ = {"NEGATIVE", "POSITIVE"};
    load_s_ = seconds_since(t0);
  }
  double load_seconds() const { return load_s_; }
  const std::string& label_name(std::size_t i) const { return labels_[i]; }
  const std::vector<std::string>& labels() const { return labels_; }

  prediction run(const bc1s::text::encoding& e) {
    const std::size_t S = e.ids.size();
    prediction p;
    std::visit(
        [&](auto& m) {
          auto& [model, ws] = *m;
          model.forward(ws, e.ids, e.attention_mask, 1, S, &pool_);
          p.logits.assign(ws.logits().begin(), ws.logits().end());
        },
        model_);
    float mx = p.logits[0];
    for (float l : p.logits) mx = std::max(mx, l);
    float sum = 0;
    for (float l : p.logits) sum += std::exp(l - mx);
    for (float l : p.logits) p.probs.push_back(std::exp(l - mx) / sum);
    for (std::size_t k = 1; k < p.probs.size(); ++k)
      if (p.probs[k] > p.probs[p.label]) p.label = k;
    return p;
  }

 private:
  template <class WT>
  struct loaded {
    bc1s::nn::distilbert<base, WT> model;
    typename bc1s::nn::distilbert<base, WT>::workspace ws;
  };
  template <class WT>
  std::unique_ptr<loaded<WT>> make(const options& o) {
    using M = bc1s::nn::distilbert<base, WT>;
    auto m = o.synthetic_seed ? M::synthetic(*o.synthetic_seed) : M::load(o.model_dir);
    return std::make_unique<loaded<WT>>(
        loaded<WT>{std::move(m), typename M::workspace(1, o.max_length, o.threads)});
  }
  bc1s::runtime::thread_pool pool_;
  std::variant<std::unique_ptr<loaded<bc1s::half>>, std::unique_ptr<loaded<float>>> model_;
  std::vector<std::string> labels_;
  double load_s_ = 0;
};

std::string format_result(const classifier& c, const std::string& text, const prediction& p,
                          bool json) {
  if (json) {
    nlohmann::json j;
    j["text"] = text;
    j["label"] = c.label_name(p.label);
    j["score"] = p.probs[p.label];
    j["probabilities"] = p.probs;
    j["logits"] = p.logits;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, " (%.2f%%)", 100.0 * double(p.probs[p.label]));
  return c.label_name(p.label) + buf;
}

// Encodes one line as [CLS] pieces [SEP], truncated to --max-length (logged with --verbose).
// `where` names the line in messages ("stdin line 3"). Throws for invalid UTF-8 and for a line
// without any token (empty, or only whitespace and control characters).
bc1s::text::encoding encode_line(const bc1s::text::tokenizer& tok, std::string_view text,
                                 const options& o, const std::string& where) {
  if (text.empty()) throw std::invalid_argument("empty line, nothing to classify");
  bc1s::text::encoding e;
  try {
    e = tok.encode(text, {.max_length = o.max_length});
  } catch (const std::length_error&) {
    if (o.verbose) {
      const std::size_t n = tok.tokenize_ids(text).size() + 2;
      std::fprintf(stderr,
                   "bc1s-classify: %s: %zu tokens with [CLS] and [SEP], truncated to %zu "
                   "(--max-length)\n",
                   where.c_str(), n, o.max_length);
    }
    e = tok.encode(text, {.max_length = o.max_length, .truncation = true});
  }
  if (e.ids.size() <= 2) {
    throw std::invalid_argument("no tokens (only whitespace or control characters)");
  }
  return e;
}

// Splits a TSV line on tabs.
std::vector<std::string> split_tabs(const std::string& line) {
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

tsv_file read_tsv(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error(path + ": is a directory, expected a TSV file (--input)");
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

// Throughput (and accuracy) go to stdout, or to stderr with --json so stdout stays JSON lines.
int run_file(const options& o, const tsv_file& file, classifier& c,
             const bc1s::text::tokenizer& tok) {
  const auto& rows = file.rows;
  const int col_sentence = file.col_sentence, col_label = file.col_label;
  std::size_t correct = 0, labelled = 0, done = 0, rejected = 0;
  double tok_s = 0, inf_s = 0;
  const bool bar = isatty(STDERR_FILENO) != 0;
  bool bar_shown = false;
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string where = o.input + ":" + std::to_string(rows[i].line_no);
    try {
      const auto f = split_tabs(rows[i].line);
      if (int(f.size()) <= std::max(col_sentence, col_label)) {
        throw std::invalid_argument("expected " + std::to_string(file.columns) +
                                    " tab-separated columns, got " + std::to_string(f.size()));
      }
      const std::string& text = f[std::size_t(col_sentence)];
      int label = -1;
      if (col_label >= 0) {
        const std::string& l = f[std::size_t(col_label)];
        for (std::size_t k = 0; k < c.labels().size(); ++k) {
          if (l == std::to_string(k) || l == c.labels()[k]) label = int(k);
        }
        if (label < 0) throw std::invalid_argument("label '" + l + "' is not 0, 1 or a label name");
      }
      auto t = clock_type::now();
      const auto e = encode_line(tok, text, o, where);
      tok_s += seconds_since(t);
      t = clock_type::now();
      const auto p = c.run(e);
      inf_s += seconds_since(t);
      ++done;
      if (label >= 0) {
        ++labelled;
        if (int(p.label) == label) ++correct;
      }
      if (o.json) std::cout << format_result(c, text, p, true) << '\n';
    } catch (const std::exception& e) {
      if (bar_shown) std::fputc('\n', stderr);
      bar_shown = false;
      std::fprintf(stderr, "bc1s-classify: %s: %s\n", where.c_str(), e.what());
      ++rejected;
    }
    if (bar && (i % 16 == 0 || i + 1 == rows.size())) {
      const std::size_t w = 40, filled = (i + 1) * w / rows.size();
      std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                   std::string(w - filled, ' ').c_str(), i + 1, rows.size());
      bar_shown = true;
    }
  }
  const double total = seconds_since(t0);
  if (bar_shown) std::fputc('\n', stderr);
  std::FILE* summary = o.json ? stderr : stdout;
  std::fflush(stdout);
  std::fprintf(summary,
               "%zu sentences in %.2f s: %.1f sentences/s (tokenize %.3f s, inference %.2f s)\n",
               done, total, double(done) / total, tok_s, inf_s);
  if (labelled > 0) {
    std::fprintf(summary, "accuracy: %.2f%% (%zu/%zu)\n",
                 100.0 * double(correct) / double(labelled), correct, labelled);
  }
  if (rejected > 0) {
    std::fprintf(stderr, "bc1s-classify: %s: %zu of %zu lines rejected\n", o.input.c_str(),
                 rejected, rows.size());
  }
  return rejected > 0 ? 1 : 0;
}

// stdin: interactive with a terminal (not with --json), else one result per line.
int run_stdin(const options& o, classifier& c, const bc1s::text::tokenizer& tok) {
  const bool interactive = isatty(STDIN_FILENO) != 0 && !o.json;
  std::string line;
  std::size_t line_no = 0, rejected = 0;
  for (;;) {
    if (interactive) {
      std::fputs(kPrompt, stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (interactive && line.empty()) continue;
    const std::string where = "stdin line " + std::to_string(line_no);
    try {
      auto t = clock_type::now();
      const auto e = encode_line(tok, line, o, where);
      const double tk = seconds_since(t);
      t = clock_type::now();
      const auto p = c.run(e);
      const double inf = seconds_since(t);
      std::cout << format_result(c, line, p, o.json) << std::endl;
      if (o.verbose) {
        std::fprintf(stderr, "bc1s-classify: %s: %zu tokens, tokenize %.3f ms, inference %.2f ms\n",
                     where.c_str(), e.ids.size(), 1e3 * tk, 1e3 * inf);
      }
    } catch (const std::exception& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "bc1s-classify: %s: %s\n", where.c_str(), e.what());
      ++rejected;
    }
  }
  if (interactive) std::fputc('\n', stdout);
  if (std::cin.bad()) throw std::runtime_error("error reading stdin");
  if (rejected > 0 && !interactive) {
    std::fprintf(stderr, "bc1s-classify: %zu of %zu lines rejected\n", rejected, line_no);
  }
  return rejected > 0 ? 1 : 0;
}

// e.what() on one line (a message should never span lines, but make sure).
std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bc1s-classify: %s (usage: bc1s-classify --help)\n",
                 one_line(e.what()).c_str());
    return 2;
  }
  try {
    const auto t0 = clock_type::now();
    if (!o.model_dir.empty()) {
      std::error_code ec;
      if (!std::filesystem::exists(o.model_dir, ec))
        throw std::runtime_error(o.model_dir + ": no such model folder (--model)");
      if (!std::filesystem::is_directory(o.model_dir, ec))
        throw std::runtime_error(o.model_dir + ": not a folder (--model expects a folder)");
    }
    // A model folder brings its tokenizer_config.json (do_lower_case, model_max_length) too.
    const auto tok = (!o.model_dir.empty() && o.vocab == o.model_dir + "/vocab.txt")
                         ? bc1s::text::tokenizer::from_pretrained(o.model_dir)
                         : bc1s::text::tokenizer::from_vocab_file(o.vocab);
    const double tok_load_s = seconds_since(t0);
    const tsv_file file = o.input.empty() ? tsv_file{} : read_tsv(o.input);
    classifier c(o);
    if (o.verbose) {
      std::fprintf(stderr,
                   "bc1s-classify: loaded %s (%s weights, %s) in %.2f s (vocabulary %.3f s, "
                   "model %.2f s), %zu thread(s)\n",
                   o.model_dir.empty() ? "synthetic weights" : o.model_dir.c_str(),
                   o.precision.c_str(), bc1s::simd::kIsaName, seconds_since(t0), tok_load_s,
                   c.load_seconds(), o.threads);
    }
    const int rc = o.input.empty() ? run_stdin(o, c, tok) : run_file(o, file, c, tok);
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0) {
      std::fprintf(stderr, "bc1s-classify: error writing to stdout\n");
      return 1;
    }
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bc1s-classify: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}
