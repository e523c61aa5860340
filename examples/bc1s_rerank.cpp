// bc1s-rerank: scores passages against a query with a cross-encoder (a BERT or DistilBERT
// sequence classifier with one output, such as cross-encoder/ms-marco-MiniLM-L-6-v2) and prints
// them best first, as sentence-transformers' CrossEncoder.rank does.
//
//   bc1s-rerank --model DIR --query TEXT PASSAGE ...      passages from the arguments
//   bc1s-rerank --model DIR --query TEXT --input FILE     one passage per line (else stdin)
//
// Each (query, passage) pair is encoded as [CLS] query [SEP] passage [SEP] with token types 0
// then 1, truncated longest first to --max-length as Hugging Face does; score = activation(logit)
// with CrossEncoder's default activation: sigmoid, unless config.json names another
// (sbert_ce_default_activation_function, or sentence_transformers.activation_fn: Identity,
// Sigmoid or Tanh). A model with more than one label is refused (use bc1s-classify --pairs).
#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/bc1s.hpp"
#include "bc1s/nn/any_encoder.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "cli_common.hpp"
#include "cli_model.hpp"

namespace {

using namespace bc1s_cli;
constexpr const char* kTool = "bc1s-rerank";

struct options : model_options {
  std::optional<std::string> query;
  std::vector<std::string> passages;
  std::optional<std::size_t> top;
  bool json = false;
};

[[noreturn]] void usage() {
  std::printf(
      "usage: bc1s-rerank --model DIR --query TEXT [--input FILE | PASSAGE ...] [options]\n"
      "\n"
      "Scores each passage against the query with a cross-encoder (a BERT or DistilBERT\n"
      "sequence classifier with one output, e.g. cross-encoder/ms-marco-MiniLM-L-6-v2) and\n"
      "prints the passages best first: rank, score, passage. Each pair is encoded as\n"
      "[CLS] query [SEP] passage [SEP] (token types 0, then 1) and truncated longest first,\n"
      "as Hugging Face does. score = sigmoid(logit), sentence-transformers CrossEncoder's\n"
      "default for one label, unless config.json names another activation\n"
      "(sbert_ce_default_activation_function or sentence_transformers.activation_fn: Identity,\n"
      "Sigmoid or Tanh). A model with more than one label is refused: bc1s-classify --pairs\n"
      "gives all its labels' probabilities.\n"
      "Passages: the arguments, else --input FILE, else one per line of stdin.\n"
      "\n"
      "  --model DIR          Hugging Face folder (config.json, model.safetensors, vocab.txt,\n"
      "                       tokenizer_config.json)\n"
      "  --query TEXT         the query (required)\n"
      "  --input FILE         one passage per line\n"
      "  --top K              print the K best passages only (default: all)\n"
      "  --json               one JSON object per passage, best first: rank (from 1), index\n"
      "                       (the passage's position in the input, from 0), score, logit,\n"
      "                       passage\n"
      "  --batch N            up to N pairs of similar length per pass, 1 to 256 (default 8)\n"
      "  --threads N          threads, 1 to 256 (default: the machine's cores, %zu here)\n"
      "  --max-length N       truncate each pair to N tokens with [CLS] and two [SEP], longest\n"
      "                       first, 3 to the model's max_position_embeddings (default:\n"
      "                       model_max_length of tokenizer_config.json, else 512)\n"
      "  --precision P        weight storage: fp16 (default), bf16, int8 or fp32\n"
      "  --verbose            the model, load and inference times and each truncation, on\n"
      "                       stderr\n"
      "  --help               this text\n"
      "\n"
      "A passage that cannot be scored (empty, invalid UTF-8) gets one error line on stderr\n"
      "naming it; the others are still ranked, and the exit status is then 1.\n"
      "\n"
      "Exit status: 0 if every passage was scored; 1 if the model or input cannot be loaded,\n"
      "the model is not a one-output cross-encoder, or a passage was rejected; 2 for a bad\n"
      "command line.\n",
      default_threads());
  std::exit(0);
}

options parse(int argc, char** argv) {
  options o;
  for (arg_list args(argc, argv); args.next();) {
    const std::string& a = args.arg();
    if (a == "--help" || a == "-h")
      usage();
    else if (a == "--query")
      o.query = args.value();
    else if (a == "--top")
      o.top = parse_count(a, args.value(), 1, std::uint64_t{1} << 40);
    else if (a == "--json")
      o.json = true;
    else if (!read_model_option(args, o))
      args.other(&o.passages);
  }
  if (o.model_dir.empty()) throw usage_error("--model DIR is required (a cross-encoder folder)");
  if (!o.query) throw usage_error("--query TEXT is required");
  if (o.query->empty()) throw usage_error("--query is empty");
  if (!o.input.empty() && !o.passages.empty()) {
    throw usage_error("give passages either as arguments or with --input, not both");
  }
  return o;
}

// The score's activation, as sentence-transformers' CrossEncoder chooses it.
enum class activation { sigmoid, identity, tanh };

const char* to_string(activation a) {
  switch (a) {
    case activation::identity:
      return "identity (score = logit)";
    case activation::tanh:
      return "tanh";
    default:
      return "sigmoid";
  }
}

float apply(activation a, float x) {
  switch (a) {
    case activation::identity:
      return x;
    case activation::tanh:
      return std::tanh(x);
    default:
      return 1.0f / (1.0f + std::exp(-x));
  }
}

// config.json's sbert_ce_default_activation_function (sentence-transformers 2 and 3) or
// sentence_transformers.activation_fn (4); absent: sigmoid (one label).
activation read_activation(const std::filesystem::path& config_json) {
  std::ifstream in(config_json, std::ios::binary);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return activation::sigmoid;  // load_hf_config read it
  const nlohmann::json* v = nullptr;
  std::string key;
  if (const auto it = j.find("sbert_ce_default_activation_function"); it != j.end()) {
    v = &*it;
    key = "sbert_ce_default_activation_function";
  }
  if (const auto st = j.find("sentence_transformers"); st != j.end() && st->is_object()) {
    if (const auto it = st->find("activation_fn"); it != st->end()) {
      v = &*it;
      key = "sentence_transformers.activation_fn";
    }
  }
  if (v == nullptr || v->is_null()) return activation::sigmoid;
  const std::string name = v->is_string() ? v->get<std::string>() : v->dump();
  const std::string_view last = std::string_view(name).substr(name.rfind('.') + 1);
  if (last == "Sigmoid") return activation::sigmoid;
  if (last == "Identity") return activation::identity;
  if (last == "Tanh") return activation::tanh;
  throw bc1s::io::load_error(config_json.string() + ": field \"" + key + "\" is \"" + name +
                             "\"; bc1s-rerank applies Identity, Sigmoid or Tanh");
}

// The passages: the arguments, else the lines of --input FILE or stdin.
std::vector<input_text> read_passages(const options& o) {
  if (!o.passages.empty()) return texts_of_args(o.passages, "passage");
  return read_lines(o.input);
}

using host_type = model_host<bc1s::nn::any_encoder>;

int run(const options& o) {
  const auto t0 = clock_type::now();
  const folder f = open_folder(o.model_dir, o.max_length);
  if (f.max_length < 3) throw usage_error("a pair needs --max-length 3 or more");
  const activation act = read_activation(std::filesystem::path(o.model_dir) / "config.json");
  // The query alone must be valid text with tokens (a command-line error otherwise).
  try {
    if (f.tok.tokenize_ids(*o.query).empty())
      throw std::invalid_argument("no tokens (only whitespace or control characters)");
  } catch (const std::exception& e) {
    throw usage_error(std::string("--query: ") + e.what());
  }
  const auto input = read_passages(o);
  host_type host(o.threads);
  const double load_model_s = load_encoder(host, o.model_dir, o.weights);
  const model_info& info = host.info();
  if (info.head == bc1s::nn::head_kind::none) {
    throw std::runtime_error(o.model_dir +
                             ": has no classification head (no classifier.weight in "
                             "model.safetensors: an encoder only), so it cannot score pairs; "
                             "bc1s-rerank needs a cross-encoder (a sequence classifier with one "
                             "output)");
  }
  if (info.head == bc1s::nn::head_kind::token_classification) {
    throw std::runtime_error(o.model_dir +
                             ": is a token-classification model (use bc1s-ner); bc1s-rerank "
                             "needs a cross-encoder (a sequence classifier with one output)");
  }
  if (info.num_labels != 1) {
    throw std::runtime_error(o.model_dir + ": a sequence classifier with " +
                             std::to_string(info.num_labels) +
                             " labels; bc1s-rerank needs a cross-encoder with one output "
                             "(num_labels 1); bc1s-classify --pairs gives every label's "
                             "probability");
  }
  if (o.verbose) {
    std::fprintf(stderr,
                 "%s: loaded %s (%s weights, %s) in %.2f s (model %.2f s), %zu thread(s)\n"
                 "%s: model: %s; score: %s; max length %zu\n",
                 kTool, o.model_dir.c_str(), o.precision.c_str(), bc1s::simd::kIsaName,
                 seconds_since(t0), load_model_s, o.threads, kTool, describe(info).c_str(),
                 to_string(act), f.max_length);
  }
  // Encode every pair; a bad passage is reported and left out.
  std::vector<std::vector<std::int32_t>> ids, types;
  std::vector<std::size_t> kept;  // index into input
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    try {
      auto e = encode_pair(f.tok, *o.query, input[i].text, f.max_length, o.verbose, kTool,
                           input[i].where, "query", "passage");
      ids.push_back(std::move(e.ids));
      types.push_back(std::move(e.token_type_ids));
      kept.push_back(i);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: %s\n", kTool, input[i].where.c_str(),
                   one_line(e.what()).c_str());
      ++rejected;
    }
  }
  const auto t1 = clock_type::now();
  std::vector<float> logits(ids.size()), scores(ids.size());
  host.run(ids, types, o.batch, [&](std::size_t i, const auto& ws, std::size_t b) {
    logits[i] = ws.logits()[b];
    scores[i] = apply(act, logits[i]);
  });
  const double inf_s = seconds_since(t1);
  if (o.verbose) {
    std::fprintf(stderr, "%s: %zu pairs in %.3f s (batch %zu)\n", kTool, ids.size(), inf_s,
                 o.batch);
  }
  // Best first; equal scores keep the input order; a NaN score (from NaN weights) ranks last, so
  // the order stays a strict weak ordering.
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto key = [&](std::size_t i) {
    return std::isnan(scores[i]) ? -std::numeric_limits<double>::infinity() : double(scores[i]);
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
  const std::size_t shown = std::min(order.size(), o.top.value_or(order.size()));
  // Plain output: the ranks and the scores right-aligned in their columns.
  const int rank_width = int(std::to_string(std::max<std::size_t>(shown, 1)).size());
  int score_width = 1;
  for (std::size_t r = 0; r < shown; ++r) {
    score_width =
        std::max(score_width, std::snprintf(nullptr, 0, "%.4f", double(scores[order[r]])));
  }
  for (std::size_t r = 0; r < shown; ++r) {
    const std::size_t k = order[r];
    const input_text& p = input[kept[k]];
    if (o.json) {
      nlohmann::json j;
      j["rank"] = r + 1;
      j["index"] = kept[k];
      j["score"] = scores[k];
      j["logit"] = logits[k];
      j["passage"] = p.text;
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::printf("%*zu  %*.4f  %s\n", rank_width, r + 1, score_width, double(scores[k]),
                  p.text.c_str());
    }
  }
  if (!flush_stdout(kTool)) return 1;
  report_rejected(kTool, rejected, input.size(), "passages");
  if (input.empty()) std::fprintf(stderr, "%s: no passages to rank\n", kTool);
  return rejected > 0 || input.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return cli_main(kTool, argc, argv, parse, run);
}
