// bc1s-classify: sequence classification (sentiment, topics, emotions, toxicity, NLI, ...) with
// any DistilBERT or BERT sequence-classification checkpoint.
//
//   bc1s-classify --model DIR                 Hugging Face folder: config.json, model.safetensors,
//                                             vocab.txt, tokenizer_config.json; any width, depth
//                                             and number of labels (bc1s::nn::any_encoder)
//   bc1s-classify --synthetic SEED --vocab F  seeded random distilbert_base weights (2 labels)
//
// With a terminal on stdin: an interactive prompt. Otherwise one result per input line of stdin.
// --input FILE.tsv runs a file (a `sentence` column, and a `label` column for accuracy).
// --pairs: sentence pairs, `text<TAB>text_pair` per line ([CLS] text [SEP] text_pair [SEP]).
// Scores as Hugging Face's text-classification pipeline: softmax over the labels; one sigmoid per
// label for problem_type multi_label_classification (every label's probability, and the labels
// above 0.5) and for a single label; the raw logits for problem_type regression.
// A rejected line (invalid UTF-8, empty) gets one error line on stderr naming its line number;
// the run goes on and exits with status 1 at the end. See usage() for the exit statuses.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/bc1s.hpp"
#include "bc1s/nn/any_encoder.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "cli_common.hpp"
#include "cli_model.hpp"

namespace {

using namespace bc1s_cli;
constexpr const char* kTool = "bc1s-classify";

struct options : model_options {
  options() { batch = 1; }  // --batch N needs --input FILE
  std::string vocab;
  std::optional<std::uint64_t> synthetic_seed;
  bool json = false, pairs = false;
};

[[noreturn]] void usage() {
  std::printf(
      "usage: bc1s-classify (--model DIR | --synthetic SEED --vocab VOCAB.txt) [options]\n"
      "\n"
      "Classifies text with a DistilBERT or BERT sequence classifier of any size and any\n"
      "number of labels (label names from DIR/config.json's id2label). With a terminal on\n"
      "stdin: an interactive prompt, one answer such as `POSITIVE (95.75%%)` per line (an empty\n"
      "line is skipped). Otherwise one result per line of stdin, without a prompt. Lines\n"
      "longer than --max-length tokens are truncated (reported with --verbose).\n"
      "\n"
      "Scores as Hugging Face's text-classification pipeline: a softmax over the labels; for a\n"
      "multi-label model (problem_type multi_label_classification) one sigmoid per label: every\n"
      "label's probability is printed, and the labels above 0.5; a single-label model: its\n"
      "sigmoid; problem_type regression: the raw outputs.\n"
      "\n"
      "  --model DIR          Hugging Face folder (config.json, model.safetensors, vocab.txt,\n"
      "                       tokenizer_config.json) of a DistilBertForSequenceClassification\n"
      "                       or BertForSequenceClassification model\n"
      "  --synthetic SEED     seeded random distilbert_base weights (NEGATIVE/POSITIVE) instead\n"
      "                       of a checkpoint\n"
      "  --vocab FILE         vocab.txt (default: DIR/vocab.txt)\n"
      "  --pairs              sentence pairs: each line is `text<TAB>text_pair`, encoded as\n"
      "                       [CLS] text [SEP] text_pair [SEP] with token types 0 then 1 (NLI,\n"
      "                       paraphrase, question-answer models); with --input, the header\n"
      "                       names `text` and `text_pair` (or `sentence1` and `sentence2`)\n"
      "  --input FILE.tsv     classify a file with a header line: column `sentence`,\n"
      "                       and `label` (an id or a label name) for accuracy; progress on\n"
      "                       stderr, then throughput and accuracy (on stderr with --json)\n"
      "  --json               one JSON object per line: text (and text_pair), label, score,\n"
      "                       probabilities and logits (in id2label order); multi-label models\n"
      "                       add labels, the names above 0.5 (no prompt)\n"
      "  --threads N          threads, 1 to 256 (default: the machine's cores, %zu here)\n"
      "  --batch N            with --input: run up to N sentences of similar length per pass,\n"
      "                       1 to 256 (default 1); results stay in input order\n"
      "  --max-length N       truncate to N tokens with [CLS] and [SEP] (a pair: longest first,\n"
      "                       as Hugging Face), 2 to the model's max_position_embeddings\n"
      "                       (default: model_max_length of tokenizer_config.json, else 512)\n"
      "  --precision P        weight storage: fp16 (default; fp32-accurate), bf16 (faster,\n"
      "                       activations rounded to bf16 at each product), int8 (fastest;\n"
      "                       per-channel weight scales, activations quantised per token)\n"
      "                       or fp32\n"
      "  --verbose            log the model, load, tokenize and inference times, and\n"
      "                       truncations, on stderr\n"
      "  --help               this text\n"
      "\n"
      "A folder without a sequence classifier is refused: an encoder only (use bc1s-embed), a\n"
      "token classifier (use bc1s-ner).\n"
      "A line that cannot be classified (invalid UTF-8, empty or only whitespace, a bad label)\n"
      "gets one error line on stderr naming its line number; the other lines are still\n"
      "classified, and the exit status is then 1.\n"
      "\n"
      "Exit status: 0 if every line was classified; 1 if the model, vocabulary or input file\n"
      "cannot be loaded or any line was rejected; 2 for a bad command line.\n",
      default_threads());
  std::exit(0);
}

options parse(int argc, char** argv) {
  options o;
  for (arg_list args(argc, argv); args.next();) {
    const std::string& a = args.arg();
    if (a == "--help" || a == "-h")
      usage();
    else if (a == "--vocab")
      o.vocab = args.value();
    else if (a == "--synthetic")
      o.synthetic_seed = parse_count(a, args.value(), 0, ~std::uint64_t{0});
    else if (a == "--json")
      o.json = true;
    else if (a == "--pairs")
      o.pairs = true;
    else if (!read_model_option(args, o))
      args.other();
  }
  if (o.model_dir.empty() == !o.synthetic_seed) {
    throw usage_error(
        "give either --model DIR (a Hugging Face DistilBERT or BERT folder) or --synthetic SEED");
  }
  if (o.batch > 1 && o.input.empty()) throw usage_error("--batch needs --input FILE");
  if (o.vocab.empty()) {
    if (o.model_dir.empty()) throw usage_error("--synthetic needs --vocab FILE");
    o.vocab = o.model_dir + "/vocab.txt";
  }
  return o;
}

using base = bc1s::nn::distilbert_base;
using host_type =
    model_host<bc1s::nn::any_encoder, bc1s::nn::distilbert<base, bc1s::half>,
               bc1s::nn::distilbert<base, bc1s::bf16>, bc1s::nn::distilbert<base, bc1s::qint8>,
               bc1s::nn::distilbert<base, float>>;

// How logits become scores (Hugging Face's text-classification pipeline, function_to_apply).
enum class scoring {
  softmax,      // single-label classification: one probability distribution
  sigmoid,      // one label: its sigmoid
  multi_label,  // problem_type multi_label_classification: a sigmoid per label
  none,         // problem_type regression: the logits themselves
};

const char* to_string(scoring s) {
  switch (s) {
    case scoring::sigmoid:
      return "sigmoid (one label)";
    case scoring::multi_label:
      return "sigmoid per label (multi-label), labels above 0.5";
    case scoring::none:
      return "raw outputs (regression)";
    default:
      return "softmax";
  }
}

struct prediction {
  std::vector<float> logits, probs;  // probs: empty for scoring::none
  std::size_t label = 0;             // the highest score
  std::vector<std::size_t> above;    // multi_label: the labels over 0.5
};

// One text (or pair) to classify, encoded.
struct item {
  std::vector<std::int32_t> ids, types;
};

// The model in any precision and shape, behind one interface.
class classifier {
 public:
  // A folder (any_encoder) or the synthetic distilbert_base.
  classifier(const options& o, const bc1s::io::hf_config* cfg) : host_(o.threads) {
    const auto t0 = clock_type::now();
    if (cfg != nullptr) {
      load_encoder(host_, o.model_dir, o.weights);
      const model_info& i = host_.info();
      if (i.head == bc1s::nn::head_kind::none) {
        throw std::runtime_error(o.model_dir +
                                 ": has no classification head (no classifier.weight in "
                                 "model.safetensors: an encoder only); use bc1s-embed for "
                                 "sentence embeddings");
      }
      if (i.head == bc1s::nn::head_kind::token_classification) {
        throw std::runtime_error(o.model_dir + ": is a token-classification model (" +
                                 std::to_string(i.num_labels) +
                                 " labels per token, not per text); use bc1s-ner");
      }
      labels_ = i.labels;
      if (cfg->problem_type == "regression")
        scoring_ = scoring::none;
      else if (i.multi_label)
        scoring_ = scoring::multi_label;
      else if (i.num_labels == 1)
        scoring_ = scoring::sigmoid;
    } else {
      const std::uint64_t seed = *o.synthetic_seed;
      switch (o.weights) {
        case bc1s::nn::precision::fp32:
          host_.set(bc1s::nn::distilbert<base, float>::synthetic(seed), "distilbert");
          break;
        case bc1s::nn::precision::bf16:
          host_.set(bc1s::nn::distilbert<base, bc1s::bf16>::synthetic(seed), "distilbert");
          break;
        case bc1s::nn::precision::int8:
          host_.set(bc1s::nn::distilbert<base, bc1s::qint8>::synthetic(seed), "distilbert");
          break;
        default:
          host_.set(bc1s::nn::distilbert<base, bc1s::half>::synthetic(seed), "distilbert");
          break;
      }
      labels_ = {"NEGATIVE", "POSITIVE"};
    }
    labels_ = label_names(std::move(labels_), host_.info().num_labels);
    load_s_ = seconds_since(t0);
  }
  double load_seconds() const { return load_s_; }
  const model_info& info() const { return host_.info(); }
  scoring mode() const { return scoring_; }
  const std::string& label_name(std::size_t i) const { return labels_[i]; }
  const std::vector<std::string>& labels() const { return labels_; }
  // Whether a `label` column can be scored: one label per text.
  bool has_accuracy() const { return scoring_ == scoring::softmax || scoring_ == scoring::sigmoid; }

  prediction run(const item& one) {
    prediction p;
    run_all(std::span(&one, 1), 1, [&](std::size_t, prediction q) { p = std::move(q); });
    return p;
  }

  // Every item in passes of up to `batch` (bc1s::nn::run_batched); on_result(index, prediction)
  // once per item.
  template <class OnResult>
  void run_all(std::span<const item> items, std::size_t batch, OnResult&& on_result) {
    std::vector<std::vector<std::int32_t>> ids, types;
    ids.reserve(items.size());
    for (const auto& it : items) {
      ids.push_back(it.ids);
      types.push_back(it.types);
    }
    const std::size_t L = host_.info().num_labels;
    host_.run(ids, types, batch, [&](std::size_t i, const auto& ws, std::size_t b) {
      on_result(i, make_prediction(ws.logits().subspan(b * L, L)));
    });
  }

 private:
  prediction make_prediction(std::span<const float> logits) const {
    prediction p;
    p.logits.assign(logits.begin(), logits.end());
    switch (scoring_) {
      case scoring::softmax: {
        float mx = p.logits[0];
        for (float l : p.logits) mx = std::max(mx, l);
        float sum = 0;
        for (float l : p.logits) sum += std::exp(l - mx);
        for (float l : p.logits) p.probs.push_back(std::exp(l - mx) / sum);
        break;
      }
      case scoring::sigmoid:
      case scoring::multi_label:
        for (float l : p.logits) p.probs.push_back(1.0f / (1.0f + std::exp(-l)));
        break;
      case scoring::none:
        break;
    }
    const auto& s = p.probs.empty() ? p.logits : p.probs;
    for (std::size_t k = 1; k < s.size(); ++k)
      if (s[k] > s[p.label]) p.label = k;
    if (scoring_ == scoring::multi_label) {
      for (std::size_t k = 0; k < s.size(); ++k)
        if (s[k] > 0.5f) p.above.push_back(k);
    }
    return p;
  }

  host_type host_;
  std::vector<std::string> labels_;
  scoring scoring_ = scoring::softmax;
  double load_s_ = 0;
};

std::string percent(float p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * double(p));
  return buf;
}

std::string format_result(const classifier& c, const std::string& text, const std::string* pair,
                          const prediction& p, bool json) {
  const bool multi = c.mode() == scoring::multi_label;
  const float score = p.probs.empty() ? p.logits[p.label] : p.probs[p.label];
  if (json) {
    nlohmann::json j;
    j["text"] = text;
    if (pair != nullptr) j["text_pair"] = *pair;
    j["label"] = c.label_name(p.label);
    j["score"] = score;
    if (!p.probs.empty()) j["probabilities"] = p.probs;
    j["logits"] = p.logits;
    if (multi) {
      j["labels"] = nlohmann::json::array();
      for (std::size_t k : p.above) j["labels"].push_back(c.label_name(k));
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (multi) {
    // "insult, obscene (toxic 6.34%, insult 58.57%, threat 8.32%, obscene 67.64%)"
    std::string s;
    for (std::size_t k : p.above) s += (s.empty() ? "" : ", ") + c.label_name(k);
    if (s.empty()) s = "(none above 50%)";
    s += " (";
    for (std::size_t k = 0; k < p.probs.size(); ++k)
      s += (k == 0 ? "" : ", ") + c.label_name(k) + " " + percent(p.probs[k]);
    return s + ")";
  }
  if (c.mode() == scoring::none) {
    std::string s;
    for (std::size_t k = 0; k < p.logits.size(); ++k) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f", double(p.logits[k]));
      s += (k == 0 ? "" : ", ") + c.label_name(k) + " " + buf;
    }
    return s;
  }
  return c.label_name(p.label) + " (" + percent(score) + ")";
}

// One line of input (or TSV row): its text(s), encoded. Throws with the reason.
item encode_item(const options& o, const bc1s::text::tokenizer& tok, std::size_t max_length,
                 const std::string& text, const std::string* pair, const std::string& where) {
  const auto e = pair != nullptr
                     ? encode_pair(tok, text, *pair, max_length, o.verbose, kTool, where)
                     : encode_line(tok, text, max_length, o.verbose, kTool, where);
  return {e.ids, e.token_type_ids};
}

// A stdin line with --pairs: `text<TAB>text_pair`.
std::pair<std::string, std::string> split_pair(const std::string& line) {
  const auto f = split_tabs(line);
  if (f.size() != 2) {
    throw std::invalid_argument("expected `text<TAB>text_pair` (--pairs), got " +
                                std::to_string(f.size()) + " tab-separated field" +
                                (f.size() == 1 ? "" : "s"));
  }
  return {f[0], f[1]};
}

// Throughput (and accuracy) go to stdout, or to stderr with --json so stdout stays JSON lines.
int run_file(const options& o, const tsv_file& file, classifier& c,
             const bc1s::text::tokenizer& tok, std::size_t max_length) {
  const auto& rows = file.rows;
  const int col_sentence = file.col_sentence, col_pair = file.col_pair;
  const int col_label = c.has_accuracy() ? file.col_label : -1;
  if (file.col_label >= 0 && col_label < 0) {
    std::fprintf(stderr, "%s: %s: the `label` column is not scored (%s)\n", kTool, o.input.c_str(),
                 to_string(c.mode()));
  }
  std::size_t correct = 0, labelled = 0, rejected = 0;
  const auto t0 = clock_type::now();
  // 1. Parse and encode every row; a bad row is reported and left out.
  std::vector<item> items;
  std::vector<std::string> texts, pairs;
  std::vector<int> labels;
  for (const auto& row : rows) {
    const std::string where = o.input + ":" + std::to_string(row.line_no);
    try {
      const auto f = split_tabs(row.line);
      if (int(f.size()) <= std::max({col_sentence, col_pair, col_label})) {
        throw std::invalid_argument("expected " + std::to_string(file.columns) +
                                    " tab-separated columns, got " + std::to_string(f.size()));
      }
      const std::string& text = f[std::size_t(col_sentence)];
      const std::string* pair = col_pair >= 0 ? &f[std::size_t(col_pair)] : nullptr;
      int label = -1;
      if (col_label >= 0) {
        const std::string& l = f[std::size_t(col_label)];
        for (std::size_t k = 0; k < c.labels().size(); ++k) {
          if (l == std::to_string(k) || l == c.labels()[k]) label = int(k);
        }
        if (label < 0) {
          throw std::invalid_argument("label '" + l + "' is not an id 0 to " +
                                      std::to_string(c.labels().size() - 1) + " or a label name");
        }
      }
      items.push_back(encode_item(o, tok, max_length, text, pair, where));
      texts.push_back(text);
      pairs.push_back(pair != nullptr ? *pair : std::string());
      labels.push_back(label);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: %s\n", kTool, where.c_str(), e.what());
      ++rejected;
    }
  }
  const double tok_s = seconds_since(t0);
  // 2. Inference in passes of up to --batch sentences; results printed in input order.
  const auto t1 = clock_type::now();
  std::vector<prediction> preds(items.size());
  const bool bar = isatty(STDERR_FILENO) != 0;
  const std::size_t chunk = std::max<std::size_t>(64, o.batch);
  for (std::size_t first = 0; first < items.size(); first += chunk) {
    const std::size_t n = std::min(chunk, items.size() - first);
    c.run_all(std::span(items).subspan(first, n), o.batch,
              [&](std::size_t i, prediction p) { preds[first + i] = std::move(p); });
    if (bar) {
      const std::size_t w = 40, done = first + n, filled = done * w / items.size();
      std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                   std::string(w - filled, ' ').c_str(), done, items.size());
    }
  }
  if (bar && !items.empty()) std::fputc('\n', stderr);
  const double inf_s = seconds_since(t1), total = seconds_since(t0);
  for (std::size_t i = 0; i < preds.size(); ++i) {
    if (labels[i] >= 0) {
      ++labelled;
      if (int(preds[i].label) == labels[i]) ++correct;
    }
    if (o.json) {
      std::cout << format_result(c, texts[i], o.pairs ? &pairs[i] : nullptr, preds[i], true)
                << '\n';
    }
  }
  const std::size_t done = preds.size();
  std::FILE* summary = o.json ? stderr : stdout;
  std::fflush(stdout);
  std::fprintf(summary,
               "%zu %s in %.2f s: %.1f %s/s (tokenize %.3f s, inference %.2f s, batch %zu)\n", done,
               o.pairs ? "pairs" : "sentences", total, double(done) / total,
               o.pairs ? "pairs" : "sentences", tok_s, inf_s, o.batch);
  if (labelled > 0) {
    std::fprintf(summary, "accuracy: %.2f%% (%zu/%zu)\n",
                 100.0 * double(correct) / double(labelled), correct, labelled);
  }
  if (rejected > 0) {
    std::fprintf(stderr, "%s: %s: %zu of %zu lines rejected\n", kTool, o.input.c_str(), rejected,
                 rows.size());
  }
  return rejected > 0 ? 1 : 0;
}

// stdin: interactive with a terminal (not with --json), else one result per line.
int run_stdin(const options& o, classifier& c, const bc1s::text::tokenizer& tok,
              std::size_t max_length) {
  const bool interactive = isatty(STDIN_FILENO) != 0 && !o.json;
  const char* prompt = o.pairs ? "Enter text<TAB>text_pair to classify (or Ctrl+D to quit): "
                               : "Enter text to classify (or Ctrl+D to quit): ";
  std::string line;
  std::size_t line_no = 0, rejected = 0;
  for (;;) {
    if (interactive) {
      std::fputs(prompt, stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (interactive && line.empty()) continue;
    const std::string where = "stdin line " + std::to_string(line_no);
    try {
      auto t = clock_type::now();
      std::string text = line, pair;
      if (o.pairs) std::tie(text, pair) = split_pair(line);
      const item it = encode_item(o, tok, max_length, text, o.pairs ? &pair : nullptr, where);
      const double tk = seconds_since(t);
      t = clock_type::now();
      const auto p = c.run(it);
      const double inf = seconds_since(t);
      std::cout << format_result(c, text, o.pairs ? &pair : nullptr, p, o.json) << std::endl;
      if (o.verbose) {
        std::fprintf(stderr, "%s: %s: %zu tokens, tokenize %.3f ms, inference %.2f ms\n", kTool,
                     where.c_str(), it.ids.size(), 1e3 * tk, 1e3 * inf);
      }
    } catch (const std::exception& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "%s: %s: %s\n", kTool, where.c_str(), one_line(e.what()).c_str());
      ++rejected;
    }
  }
  if (interactive) std::fputc('\n', stdout);
  if (std::cin.bad()) throw std::runtime_error("error reading stdin");
  if (!interactive) report_rejected(kTool, rejected, line_no, "lines");
  return rejected > 0 ? 1 : 0;
}

int run(const options& o) {
  const auto t0 = clock_type::now();
  // The folder: config.json (model_type, sizes), the tokenizer and --max-length, before any
  // weight is read.
  std::optional<folder> f;
  std::optional<bc1s::text::tokenizer> own_vocab;
  std::size_t max_length = 0;
  if (!o.model_dir.empty()) {
    // --vocab FILE replaces the folder's vocabulary (without its tokenizer_config.json).
    f = open_folder(o.model_dir, o.max_length,
                    o.vocab != o.model_dir + "/vocab.txt" ? o.vocab : std::string());
    max_length = f->max_length;
  } else {
    own_vocab = bc1s::text::tokenizer::from_vocab_file(o.vocab);
    max_length = resolve_max_length(o.max_length, base::max_positions, base::max_positions);
  }
  if (o.pairs && max_length < 3) throw usage_error("--pairs needs --max-length 3 or more");
  const bc1s::text::tokenizer& tok = own_vocab ? *own_vocab : f->tok;
  const double tok_load_s = seconds_since(t0);
  const tsv_file file = o.input.empty() ? tsv_file{} : read_tsv(o.input, o.pairs);
  classifier c(o, f ? &f->config : nullptr);
  if (o.verbose) {
    std::fprintf(stderr,
                 "%s: loaded %s (%s weights, %s) in %.2f s (vocabulary %.3f s, model %.2f s), "
                 "%zu thread(s)\n",
                 kTool, o.model_dir.empty() ? "synthetic weights" : o.model_dir.c_str(),
                 o.precision.c_str(), bc1s::simd::kIsaName, seconds_since(t0), tok_load_s,
                 c.load_seconds(), o.threads);
    std::string names;
    for (const auto& l : c.labels()) names += (names.empty() ? "" : ", ") + l;
    std::fprintf(stderr, "%s: model: %s; labels: %s; scores: %s; max length %zu\n", kTool,
                 describe(c.info()).c_str(), names.c_str(), to_string(c.mode()), max_length);
  }
  const int rc =
      o.input.empty() ? run_stdin(o, c, tok, max_length) : run_file(o, file, c, tok, max_length);
  if (!flush_stdout(kTool)) return 1;
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  return cli_main(kTool, argc, argv, parse, run);
}
