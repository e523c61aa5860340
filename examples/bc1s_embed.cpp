// bc1s-embed: sentence embeddings with a BERT or DistilBERT checkpoint of any size (such as
// all-MiniLM-L6-v2, or a BGE-style CLS model), as sentence-transformers computes them: the last
// hidden state pooled over the tokens as the folder's modules.json and Pooling config.json say
// (cls, mean or max), divided by its L2 norm when a Normalize module is listed. Without
// modules.json (and with --synthetic): mean pooling, then normalisation.
//
//   bc1s-embed --model DIR [SENTENCE ...]           one JSON line per sentence
//   bc1s-embed --model DIR --similarity A B C        cosine-similarity matrix
//   bc1s-embed --synthetic SEED --vocab F ...        seeded random MiniLM-shaped weights
//
// Sentences come from the arguments, else from --input FILE (one per line, or a .tsv with a
// `sentence` column), else from stdin (one per line). A rejected line (invalid UTF-8, empty) gets
// one error line on stderr naming it; the others are still embedded, and the exit status is 1.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/bc1s.hpp"
#include "bc1s/io/st_config.hpp"
#include "bc1s/nn/any_encoder.hpp"
#include "bc1s/nn/batching.hpp"
#include "bc1s/nn/bert.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "cli_common.hpp"
#include "cli_model.hpp"

namespace {

using namespace bc1s_cli;
using config = bc1s::nn::minilm_l6;
constexpr const char* kTool = "bc1s-embed";

struct options : model_options {
  std::string vocab;
  std::optional<std::uint64_t> synthetic_seed;
  std::vector<std::string> sentences;
  bool similarity = false;
};

[[noreturn]] void usage() {
  std::printf(
      "usage: bc1s-embed (--model DIR | --synthetic SEED --vocab VOCAB.txt) [options]\n"
      "                  [SENTENCE ...]\n"
      "\n"
      "Sentence embeddings with a BERT or DistilBERT model of any size, pooled as\n"
      "sentence-transformers does: the pooling (cls, mean or max) of DIR/modules.json and its\n"
      "Pooling config.json, then L2 normalisation when a Normalize module is listed; without\n"
      "modules.json, mean pooling then normalisation.\n"
      "Sentences: the arguments, else --input FILE, else one per line of stdin.\n"
      "\n"
      "  --model DIR          Hugging Face / sentence-transformers folder (config.json,\n"
      "                       model.safetensors, vocab.txt; tokenizer_config.json,\n"
      "                       sentence_bert_config.json and modules.json are read when\n"
      "                       present)\n"
      "  --synthetic SEED     seeded random weights of all-MiniLM-L6-v2's shape (6 layers,\n"
      "                       width 384) instead of a checkpoint\n"
      "  --vocab FILE         vocab.txt (default: DIR/vocab.txt)\n"
      "  --input FILE         one sentence per line, or a .tsv file with a `sentence` column\n"
      "  --similarity         print the cosine-similarity matrix of the sentences instead\n"
      "                       of one JSON line {\"text\", \"embedding\"} per sentence\n"
      "  --batch N            up to N sentences of similar length per pass, 1 to 256\n"
      "                       (default 8); output stays in input order\n"
      "  --threads N          threads, 1 to 256 (default: the machine's cores, %zu here)\n"
      "  --max-length N       truncate to N tokens with [CLS] and [SEP], 2 to the model's\n"
      "                       max_position_embeddings (default: max_seq_length of\n"
      "                       sentence_bert_config.json, else model_max_length of\n"
      "                       tokenizer_config.json, else 512)\n"
      "  --precision P        weight storage: fp16 (default; fp32-accurate), bf16 (faster,\n"
      "                       activations rounded to bf16 at each product), int8 (fastest;\n"
      "                       per-channel weight scales, activations quantised per token)\n"
      "                       or fp32\n"
      "  --verbose            model, pooling, load time, throughput and truncations on stderr\n"
      "  --help               this text\n"
      "\n"
      "Exit status: 0 if every sentence was embedded; 1 if the model, vocabulary or input\n"
      "cannot be loaded or any sentence was rejected; 2 for a bad command line.\n",
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
    else if (a == "--similarity")
      o.similarity = true;
    else if (!read_model_option(args, o))
      args.other(&o.sentences);
  }
  if (o.model_dir.empty() == !o.synthetic_seed) {
    throw usage_error(
        "give either --model DIR (a Hugging Face BERT or DistilBERT folder) or --synthetic SEED");
  }
  if (!o.input.empty() && !o.sentences.empty()) {
    throw usage_error("give sentences either as arguments or with --input, not both");
  }
  if (o.vocab.empty()) {
    if (o.model_dir.empty()) throw usage_error("--synthetic needs --vocab FILE");
    o.vocab = o.model_dir + "/vocab.txt";
  }
  return o;
}

// sentence_bert_config.json's max_seq_length (256 for all-MiniLM-L6-v2), when the folder has one.
std::optional<std::size_t> sentence_max_length(const std::string& dir) {
  const auto path = std::filesystem::path(dir) / "sentence_bert_config.json";
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw std::runtime_error(path.string() + ": not a JSON object");
  }
  const auto it = j.find("max_seq_length");
  if (it == j.end()) return std::nullopt;
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() < 2) {
    throw std::runtime_error(path.string() + ": max_seq_length is not an integer >= 2");
  }
  return static_cast<std::size_t>(std::min<std::uint64_t>(it->get<std::uint64_t>(), 1u << 20));
}

using host_type = model_host<bc1s::nn::any_encoder, bc1s::nn::bert<config, bc1s::half>,
                             bc1s::nn::bert<config, bc1s::bf16>,
                             bc1s::nn::bert<config, bc1s::qint8>, bc1s::nn::bert<config, float>>;

// The model in any precision and shape, behind one interface.
class embedder {
 public:
  embedder(const options& o, const bc1s::io::st_pooling& pooling)
      : host_(o.threads), pooling_(pooling) {
    if (!o.model_dir.empty()) {
      load_encoder(host_, o.model_dir, o.weights);
      return;
    }
    // The pooler layer is not used by any of the poolings; synthetic weights skip it.
    const std::uint64_t seed = *o.synthetic_seed;
    switch (o.weights) {
      case bc1s::nn::precision::fp32:
        host_.set(bc1s::nn::bert<config, float>::synthetic(seed, false), "bert");
        break;
      case bc1s::nn::precision::bf16:
        host_.set(bc1s::nn::bert<config, bc1s::bf16>::synthetic(seed, false), "bert");
        break;
      case bc1s::nn::precision::int8:
        host_.set(bc1s::nn::bert<config, bc1s::qint8>::synthetic(seed, false), "bert");
        break;
      default:
        host_.set(bc1s::nn::bert<config, bc1s::half>::synthetic(seed, false), "bert");
        break;
    }
  }
  const model_info& info() const { return host_.info(); }

  // Embeddings [n][C] of the sentences, in input order.
  std::vector<std::vector<float>> run(std::span<const std::vector<std::int32_t>> ids,
                                      std::size_t batch) {
    const std::size_t dim = host_.info().dims.dim;
    std::vector<std::vector<float>> out(ids.size(), std::vector<float>(dim));
    host_.run(ids, {}, batch, [&](std::size_t i, const auto& w, std::size_t b) {
      pool_one(w.hidden(), b, ids[i].size(), out[i]);
    });
    return out;
  }

 private:
  template <class HiddenView>
  void pool_one(const HiddenView& h, std::size_t b, std::size_t len, std::span<float> out) const {
    switch (pooling_.mode) {
      case bc1s::io::pooling_mode::cls:
        bc1s::nn::cls_pool(h, b, len, out, pooling_.normalize);
        break;
      case bc1s::io::pooling_mode::max:
        bc1s::nn::max_pool(h, b, len, out, pooling_.normalize);
        break;
      case bc1s::io::pooling_mode::mean:
        bc1s::nn::mean_pool(h, b, len, out, pooling_.normalize);
        break;
    }
  }

  host_type host_;
  bc1s::io::st_pooling pooling_;
};

// The sentences to embed, with a name for each in error messages: the arguments, else the
// `sentence` column of --input FILE.tsv, else the lines of --input FILE or stdin.
std::vector<input_text> read_input(const options& o) {
  if (!o.sentences.empty()) return texts_of_args(o.sentences, "argument");
  if (!o.input.empty() && o.input.size() > 4 && o.input.substr(o.input.size() - 4) == ".tsv") {
    std::vector<input_text> out;
    const tsv_file t = read_tsv(o.input);
    for (const auto& r : t.rows) {
      const auto f = split_tabs(r.line);
      const std::string where = o.input + ":" + std::to_string(r.line_no);
      out.push_back({where, int(f.size()) > t.col_sentence ? f[std::size_t(t.col_sentence)] : ""});
    }
    return out;
  }
  return read_lines(o.input);
}

int run(const options& o) {
  const auto t0 = clock_type::now();
  if (!o.model_dir.empty()) check_model_folder(o.model_dir);
  // The pooling first (its errors name the sentence-transformers files), then config.json (the
  // family and sizes), the tokenizer and --max-length, all before any weight is read.
  const bc1s::io::st_pooling pooling =
      o.model_dir.empty() ? bc1s::io::st_pooling{} : bc1s::io::load_st_pooling(o.model_dir);
  std::optional<folder> f;
  std::optional<bc1s::text::tokenizer> own_vocab;
  std::size_t width = config::dim, max_length = 0;
  if (!o.model_dir.empty()) {
    // sentence_bert_config.json's max_seq_length, else the tokenizer's model_max_length.
    // --vocab FILE replaces the folder's vocabulary (without its tokenizer_config.json).
    f = open_folder(o.model_dir, o.max_length,
                    o.vocab != o.model_dir + "/vocab.txt" ? o.vocab : std::string());
    width = f->config.dim;
    max_length =
        o.max_length
            ? *o.max_length
            : resolve_max_length(
                  std::nullopt,
                  sentence_max_length(o.model_dir).value_or(f->tok.options().model_max_length),
                  f->config.max_positions);
  } else {
    own_vocab = bc1s::text::tokenizer::from_vocab_file(o.vocab);
    max_length = resolve_max_length(o.max_length, 512, config::max_positions);
  }
  if (pooling.dimension != 0 && pooling.dimension != width) {
    throw bc1s::io::load_error(
        pooling.pooling_file.string() + ": field \"word_embedding_dimension\" is " +
        std::to_string(pooling.dimension) + " but the model's width is " + std::to_string(width));
  }
  if (o.verbose) {
    std::fprintf(stderr, "%s: pooling: %s, %s (%s)\n", kTool, bc1s::io::to_string(pooling.mode),
                 pooling.normalize ? "then L2-normalised" : "not normalised",
                 pooling.modules_file.empty() ? "default: no modules.json"
                                              : pooling.pooling_file.string().c_str());
  }
  const bc1s::text::tokenizer& tok = own_vocab ? *own_vocab : f->tok;
  const auto lines = read_input(o);
  std::vector<std::vector<std::int32_t>> ids;
  std::vector<std::size_t> kept;  // index into lines
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    try {
      ids.push_back(
          encode_line(tok, lines[i].text, max_length, o.verbose, kTool, lines[i].where).ids);
      kept.push_back(i);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: %s\n", kTool, lines[i].where.c_str(), e.what());
      ++rejected;
    }
  }
  if (o.similarity && ids.size() < 2 && rejected == 0) {
    throw usage_error("--similarity needs at least two sentences");
  }
  embedder model(o, pooling);
  const double load_s = seconds_since(t0);
  const auto t1 = clock_type::now();
  const auto emb = ids.empty() ? std::vector<std::vector<float>>{} : model.run(ids, o.batch);
  const double inf_s = seconds_since(t1);
  if (o.verbose) {
    std::fprintf(stderr, "%s: model: %s; max length %zu\n", kTool, describe(model.info()).c_str(),
                 max_length);
    std::fprintf(stderr,
                 "%s: loaded %s (%s weights, %s) in %.2f s; %zu sentences in %.3f s: %.1f "
                 "sentences/s (batch %zu, %zu thread(s))\n",
                 kTool, o.model_dir.empty() ? "synthetic weights" : o.model_dir.c_str(),
                 o.precision.c_str(), bc1s::simd::kIsaName, load_s, emb.size(), inf_s,
                 inf_s > 0 ? double(emb.size()) / inf_s : 0.0, o.batch, o.threads);
  }
  if (o.similarity) {
    // Rows and columns in input order, numbered; the sentences are listed first. Cosines: the
    // embeddings are unit vectors only when the folder lists a Normalize module.
    std::vector<double> norm(emb.size());
    for (std::size_t i = 0; i < emb.size(); ++i) {
      double sq = 0;
      for (const float v : emb[i]) sq += double(v) * v;
      norm[i] = std::max(std::sqrt(sq), 1e-12);
    }
    for (std::size_t i = 0; i < emb.size(); ++i)
      std::printf("[%zu] %s\n", i + 1, lines[kept[i]].text.c_str());
    std::printf("%6s", "");
    for (std::size_t j = 0; j < emb.size(); ++j)
      std::printf(" %7s", ("[" + std::to_string(j + 1) + "]").c_str());
    std::printf("\n");
    for (std::size_t i = 0; i < emb.size(); ++i) {
      std::printf("%6s", ("[" + std::to_string(i + 1) + "]").c_str());
      for (std::size_t j = 0; j < emb.size(); ++j) {
        double dot = 0;
        for (std::size_t c = 0; c < emb[i].size(); ++c) dot += double(emb[i][c]) * emb[j][c];
        std::printf(" %7.4f", dot / (norm[i] * norm[j]));
      }
      std::printf("\n");
    }
  } else {
    for (std::size_t i = 0; i < emb.size(); ++i) {
      nlohmann::json j;
      j["text"] = lines[kept[i]].text;
      j["embedding"] = emb[i];
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
  }
  if (!flush_stdout(kTool)) return 1;
  report_rejected(kTool, rejected, lines.size(), "sentences");
  return rejected > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return cli_main(kTool, argc, argv, parse, run);
}
