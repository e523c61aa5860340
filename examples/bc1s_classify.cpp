// bc1s-classify: sentiment (or any sequence classification) with a DistilBERT checkpoint.
//
//   bc1s-classify --model DIR                 Hugging Face folder: config.json, model.safetensors,
//                                             vocab.txt, tokenizer_config.json
//   bc1s-classify --synthetic SEED --vocab F  seeded random weights (no checkpoint needed)
//
// With a terminal: an interactive prompt. Otherwise one result per input line of stdin.
// --input FILE.tsv runs a file (a `sentence` column, and a `label` column for accuracy).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
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

struct options {
  std::string model_dir, vocab, input;
  std::optional<std::uint64_t> synthetic_seed;
  std::size_t threads = 1, max_length = 512;
  std::string precision = "fp16";
  bool json = false, verbose = false;
};

[[noreturn]] void usage(int code) {
  std::fprintf(
      code == 0 ? stdout : stderr,
      "usage: bc1s-classify (--model DIR | --synthetic SEED --vocab VOCAB.txt) [options]\n"
      "  --model DIR          Hugging Face DistilBERT folder (config.json, model.safetensors,\n"
      "                       vocab.txt, tokenizer_config.json)\n"
      "  --synthetic SEED     seeded random distilbert_base weights instead of a checkpoint\n"
      "  --vocab FILE         vocab.txt (default: DIR/vocab.txt)\n"
      "  --input FILE.tsv     classify a file (column `sentence`; `label` gives accuracy)\n"
      "  --json               one JSON object per line\n"
      "  --threads N          threads (default 1)\n"
      "  --max-length N       truncate to N tokens (default 512)\n"
      "  --precision P        weight storage fp16 (default) or fp32\n"
      "  --verbose            log load, tokenize and inference times\n");
  std::exit(code);
}

std::size_t parse_count(const std::string& flag, const std::string& v, std::size_t lo,
                        std::size_t hi) {
  std::size_t pos = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(v, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos != v.size() || v.empty() || n < lo || n > hi) {
    throw std::invalid_argument(flag + " expects an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got '" + v + "'");
  }
  return static_cast<std::size_t>(n);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h")
      usage(0);
    else if (a == "--model")
      o.model_dir = value();
    else if (a == "--vocab")
      o.vocab = value();
    else if (a == "--input")
      o.input = value();
    else if (a == "--synthetic")
      o.synthetic_seed = parse_count(a, value(), 0, ~std::size_t{0});
    else if (a == "--threads")
      o.threads = parse_count(a, value(), 1, 256);
    else if (a == "--max-length")
      o.max_length = parse_count(a, value(), 2, 512);
    else if (a == "--precision") {
      o.precision = value();
      if (o.precision != "fp16" && o.precision != "fp32") {
        throw std::invalid_argument("--precision expects fp16 or fp32, got '" + o.precision + "'");
      }
    } else if (a == "--json")
      o.json = true;
    else if (a == "--verbose")
      o.verbose = true;
    else
      throw std::invalid_argument("unknown option '" + a + "' (see --help)");
  }
  if (o.model_dir.empty() && !o.synthetic_seed) {
    throw std::invalid_argument(
        "give --model DIR (a Hugging Face DistilBERT folder) or --synthetic SEED");
  }
  if (o.vocab.empty()) {
    if (o.model_dir.empty()) throw std::invalid_argument("--synthetic needs --vocab FILE");
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
  classifier(const options& o) : threads_(o.threads), pool_(o.threads) {
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
    const float mx = std::max(p.logits[0], p.logits[1]);
    float sum = 0;
    for (float l : p.logits) sum += std::exp(l - mx);
    for (float l : p.logits) p.probs.push_back(std::exp(l - mx) / sum);
    p.label = p.probs[1] > p.probs[0] ? 1 : 0;
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
        loaded<WT>{std::move(m), typename M::workspace(1, 512, o.threads)});
  }
  std::size_t threads_;
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

int run_file(const options& o, classifier& c, const bc1s::text::tokenizer& tok) {
  std::ifstream in(o.input);
  if (!in) throw std::runtime_error(o.input + ": cannot open");
  std::string line;
  if (!std::getline(in, line))
    throw std::runtime_error(o.input + ": empty file (expected a header line)");
  const auto header = split_tabs(line);
  int col_sentence = -1, col_label = -1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "sentence") col_sentence = int(i);
    if (header[i] == "label") col_label = int(i);
  }
  if (col_sentence < 0) throw std::runtime_error(o.input + ": no `sentence` column in the header");
  std::vector<std::pair<std::string, int>> rows;
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto f = split_tabs(line);
    if (int(f.size()) <= std::max(col_sentence, col_label)) {
      throw std::runtime_error(o.input + ":" + std::to_string(n) + ": expected " +
                               std::to_string(header.size()) + " tab-separated columns");
    }
    int label = -1;
    if (col_label >= 0) label = f[std::size_t(col_label)] == "1" ? 1 : 0;
    rows.emplace_back(f[std::size_t(col_sentence)], label);
  }
  std::size_t correct = 0;
  double tok_s = 0, inf_s = 0;
  const bool bar = isatty(STDERR_FILENO) != 0;
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto t = clock_type::now();
    const auto e = tok.encode(rows[i].first, {.max_length = o.max_length, .truncation = true});
    tok_s += seconds_since(t);
    t = clock_type::now();
    const auto p = c.run(e);
    inf_s += seconds_since(t);
    if (rows[i].second >= 0 && int(p.label) == rows[i].second) ++correct;
    if (o.json) std::cout << format_result(c, rows[i].first, p, true) << '\n';
    if (bar && (i % 16 == 0 || i + 1 == rows.size())) {
      const std::size_t w = 40, done = (i + 1) * w / rows.size();
      std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(done, '#').c_str(),
                   std::string(w - done, ' ').c_str(), i + 1, rows.size());
    }
  }
  const double total = seconds_since(t0);
  if (bar) std::fprintf(stderr, "\n");
  std::fprintf(stderr,
               "%zu sentences in %.2f s: %.1f sentences/s (tokenize %.3f s, inference %.2f s)\n",
               rows.size(), total, double(rows.size()) / total, tok_s, inf_s);
  if (col_label >= 0) {
    std::printf("accuracy: %.2f%% (%zu/%zu)\n", 100.0 * double(correct) / double(rows.size()),
                correct, rows.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    const auto t0 = clock_type::now();
    // A model folder brings its tokenizer_config.json (do_lower_case, model_max_length) too.
    const auto tok = (!o.model_dir.empty() && o.vocab == o.model_dir + "/vocab.txt")
                         ? bc1s::text::tokenizer::from_pretrained(o.model_dir)
                         : bc1s::text::tokenizer::from_vocab_file(o.vocab);
    classifier c(o);
    if (o.verbose) {
      std::fprintf(stderr, "bc1s: loaded %s (%s weights, %s) in %.2f s, %zu thread(s)\n",
                   o.model_dir.empty() ? "synthetic weights" : o.model_dir.c_str(),
                   o.precision.c_str(), bc1s::simd::kIsaName, seconds_since(t0), o.threads);
    }
    if (!o.input.empty()) return run_file(o, c, tok);

    const bool interactive = isatty(STDIN_FILENO) != 0 && !o.json;
    std::string line;
    for (;;) {
      if (interactive) {
        std::printf("Enter text to classify (or Ctrl+D to quit): ");
        std::fflush(stdout);
      }
      if (!std::getline(std::cin, line)) break;
      try {
        auto t = clock_type::now();
        const auto e = tok.encode(line, {.max_length = o.max_length, .truncation = true});
        const double tk = seconds_since(t);
        t = clock_type::now();
        const auto p = c.run(e);
        const double inf = seconds_since(t);
        std::cout << format_result(c, line, p, o.json) << std::endl;
        if (o.verbose) {
          std::fprintf(stderr, "bc1s: %zu tokens, tokenize %.3f ms, inference %.2f ms\n",
                       e.ids.size(), 1e3 * tk, 1e3 * inf);
        }
      } catch (const std::exception& e) {
        // A bad line (e.g. invalid UTF-8) is reported and skipped; with a pipe it ends the run.
        std::fprintf(stderr, "bc1s-classify: %s\n", e.what());
        if (!interactive) return 1;
      }
    }
    if (interactive) std::printf("\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bc1s-classify: %s\n", e.what());
    return 1;
  }
}
