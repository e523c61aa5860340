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
#include <span>
#include <type_traits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/bc1s.hpp"
#include "bc1s/nn/batching.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "cli_common.hpp"

namespace {

using namespace bc1s_cli;

constexpr const char* kPrompt = "Enter text to classify (or Ctrl+D to quit): ";

struct options {
  std::string model_dir, vocab, input;
  std::optional<std::uint64_t> synthetic_seed;
  std::size_t threads = 1, max_length = 512, batch = 1;
  std::string precision = "fp16";
  bool json = false, verbose = false;
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
      "  --batch N            with --input: run up to N sentences of similar length per pass,\n"
      "                       1 to 256 (default 1); results stay in input order\n"
      "  --max-length N       truncate to N tokens with [CLS] and [SEP], 2 to 512 (default 512)\n"
      "  --precision P        weight storage: fp16 (default; fp32-accurate), bf16 (faster,\n"
      "                       activations rounded to bf16 at each product), int8 (fastest;\n"
      "                       per-channel weight scales, activations quantised per token)\n"
      "                       or fp32\n"
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
    else if (a == "--batch")
      o.batch = parse_count(a, value(), 1, 256);
    else if (a == "--precision") {
      o.precision = value();
      if (o.precision != "fp16" && o.precision != "bf16" && o.precision != "int8" &&
          o.precision != "fp32") {
        throw usage_error("--precision expects fp16, bf16, int8 or fp32, got '" + o.precision +
                          "'");
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
  if (o.batch > 1 && o.input.empty()) throw usage_error("--batch needs --input FILE");
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

// The model in any precision, behind one interface.
class classifier {
 public:
  explicit classifier(const options& o) : pool_(o.threads) {
    const auto t0 = clock_type::now();
    if (o.precision == "fp16")
      model_ = make<bc1s::half>(o);
    else if (o.precision == "bf16")
      model_ = make<bc1s::bf16>(o);
    else if (o.precision == "int8")
      model_ = make<bc1s::qint8>(o);
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
    prediction p;
    const std::vector<std::vector<std::int32_t>> one = {e.ids};
    run_all(one, 1, [&](std::size_t, prediction q) { p = std::move(q); });
    return p;
  }

  // Every sentence in passes of up to `batch` (bc1s::nn::run_batched); on_result(index,
  // prediction) once per sentence. The workspace grows to the largest pass seen.
  template <class OnResult>
  void run_all(std::span<const std::vector<std::int32_t>> ids, std::size_t batch,
               OnResult&& on_result) {
    std::size_t longest = 0;
    for (const auto& v : ids) longest = std::max(longest, v.size());
    std::visit(
        [&](auto& m) {
          using M = std::remove_cvref_t<decltype(m->model)>;
          if (!m->ws || m->ws->max_batch() < batch || m->ws->max_seq() < longest) {
            m->ws.reset();  // free the old one first
            m->ws = std::make_unique<typename M::workspace>(
                std::max(batch, m->ws_b), std::max(longest, m->ws_s), pool_.size());
            m->ws_b = m->ws->max_batch();
            m->ws_s = m->ws->max_seq();
          }
          bc1s::nn::run_batched(m->model, *m->ws, ids, batch, &pool_,
                                [&](std::size_t i, const typename M::workspace& ws, std::size_t b) {
                                  const auto l =
                                      ws.logits().subspan(b * base::num_labels, base::num_labels);
                                  on_result(i, make_prediction(l));
                                });
        },
        model_);
  }

 private:
  static prediction make_prediction(std::span<const float> logits) {
    prediction p;
    p.logits.assign(logits.begin(), logits.end());
    float mx = p.logits[0];
    for (float l : p.logits) mx = std::max(mx, l);
    float sum = 0;
    for (float l : p.logits) sum += std::exp(l - mx);
    for (float l : p.logits) p.probs.push_back(std::exp(l - mx) / sum);
    for (std::size_t k = 1; k < p.probs.size(); ++k)
      if (p.probs[k] > p.probs[p.label]) p.label = k;
    return p;
  }
  template <class WT>
  struct loaded {
    bc1s::nn::distilbert<base, WT> model;
    std::unique_ptr<typename bc1s::nn::distilbert<base, WT>::workspace> ws;
    std::size_t ws_b = 1, ws_s = 16;
  };
  template <class WT>
  std::unique_ptr<loaded<WT>> make(const options& o) {
    using M = bc1s::nn::distilbert<base, WT>;
    auto m = o.synthetic_seed ? M::synthetic(*o.synthetic_seed) : M::load(o.model_dir);
    return std::make_unique<loaded<WT>>(loaded<WT>{std::move(m), nullptr});
  }
  bc1s::runtime::thread_pool pool_;
  std::variant<std::unique_ptr<loaded<bc1s::half>>, std::unique_ptr<loaded<bc1s::bf16>>,
               std::unique_ptr<loaded<bc1s::qint8>>, std::unique_ptr<loaded<float>>>
      model_;
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

// Throughput (and accuracy) go to stdout, or to stderr with --json so stdout stays JSON lines.
int run_file(const options& o, const tsv_file& file, classifier& c,
             const bc1s::text::tokenizer& tok) {
  const auto& rows = file.rows;
  const int col_sentence = file.col_sentence, col_label = file.col_label;
  std::size_t correct = 0, labelled = 0, rejected = 0;
  const auto t0 = clock_type::now();
  // 1. Parse and encode every row; a bad row is reported and left out.
  std::vector<std::vector<std::int32_t>> ids;
  std::vector<std::string> texts;
  std::vector<int> labels;
  for (const auto& row : rows) {
    const std::string where = o.input + ":" + std::to_string(row.line_no);
    try {
      const auto f = split_tabs(row.line);
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
      ids.push_back(encode_line(tok, text, o.max_length, o.verbose, "bc1s-classify", where).ids);
      texts.push_back(text);
      labels.push_back(label);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bc1s-classify: %s: %s\n", where.c_str(), e.what());
      ++rejected;
    }
  }
  const double tok_s = seconds_since(t0);
  // 2. Inference in passes of up to --batch sentences; results printed in input order.
  const auto t1 = clock_type::now();
  std::vector<prediction> preds(ids.size());
  const bool bar = isatty(STDERR_FILENO) != 0;
  const std::size_t chunk = std::max<std::size_t>(64, o.batch);
  for (std::size_t first = 0; first < ids.size(); first += chunk) {
    const std::size_t n = std::min(chunk, ids.size() - first);
    c.run_all(std::span(ids).subspan(first, n), o.batch,
              [&](std::size_t i, prediction p) { preds[first + i] = std::move(p); });
    if (bar) {
      const std::size_t w = 40, done = first + n, filled = done * w / ids.size();
      std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                   std::string(w - filled, ' ').c_str(), done, ids.size());
    }
  }
  if (bar && !ids.empty()) std::fputc('\n', stderr);
  const double inf_s = seconds_since(t1), total = seconds_since(t0);
  for (std::size_t i = 0; i < preds.size(); ++i) {
    if (labels[i] >= 0) {
      ++labelled;
      if (int(preds[i].label) == labels[i]) ++correct;
    }
    if (o.json) std::cout << format_result(c, texts[i], preds[i], true) << '\n';
  }
  const std::size_t done = preds.size();
  std::FILE* summary = o.json ? stderr : stdout;
  std::fflush(stdout);
  std::fprintf(summary,
               "%zu sentences in %.2f s: %.1f sentences/s (tokenize %.3f s, inference %.2f s, "
               "batch %zu)\n",
               done, total, double(done) / total, tok_s, inf_s, o.batch);
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
      const auto e = encode_line(tok, line, o.max_length, o.verbose, "bc1s-classify", where);
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
