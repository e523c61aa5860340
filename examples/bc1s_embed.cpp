// bc1s-embed: sentence embeddings with a BERT checkpoint such as all-MiniLM-L6-v2, as
// sentence-transformers computes them: the last hidden state pooled over the tokens as the
// folder's modules.json and Pooling config.json say (cls, mean or max), divided by its L2 norm
// when a Normalize module is listed. Without modules.json (and with --synthetic): mean pooling,
// then normalisation.
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
#include "bc1s/nn/batching.hpp"
#include "bc1s/nn/bert.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "cli_common.hpp"

namespace {

using namespace bc1s_cli;
using config = bc1s::nn::minilm_l6;
constexpr const char* kTool = "bc1s-embed";

struct options {
  std::string model_dir, vocab, input;
  std::optional<std::uint64_t> synthetic_seed;
  std::vector<std::string> sentences;
  std::size_t threads = 1, batch = 8;
  std::optional<std::size_t> max_length;
  std::string precision = "fp16";
  bool similarity = false, verbose = false;
};

[[noreturn]] void usage() {
  std::fputs(
      "usage: bc1s-embed (--model DIR | --synthetic SEED --vocab VOCAB.txt) [options]\n"
      "                  [SENTENCE ...]\n"
      "\n"
      "Sentence embeddings with a BERT model of all-MiniLM-L6-v2's shape (6 layers, width 384,\n"
      "12 heads), pooled as sentence-transformers does: the pooling (cls, mean or max) of\n"
      "DIR/modules.json and its Pooling config.json, then L2 normalisation when a Normalize\n"
      "module is listed; without modules.json, mean pooling then normalisation.\n"
      "Sentences: the arguments, else --input FILE, else one per line of stdin.\n"
      "\n"
      "  --model DIR          Hugging Face / sentence-transformers folder (config.json,\n"
      "                       model.safetensors, vocab.txt; tokenizer_config.json,\n"
      "                       sentence_bert_config.json and modules.json are read when\n"
      "                       present)\n"
      "  --synthetic SEED     seeded random weights of that shape instead of a checkpoint\n"
      "  --vocab FILE         vocab.txt (default: DIR/vocab.txt)\n"
      "  --input FILE         one sentence per line, or a .tsv file with a `sentence` column\n"
      "  --similarity         print the cosine-similarity matrix of the sentences instead\n"
      "                       of one JSON line {\"text\", \"embedding\"} per sentence\n"
      "  --batch N            up to N sentences of similar length per pass, 1 to 256\n"
      "                       (default 8); output stays in input order\n"
      "  --threads N          threads, 1 to 256 (default 1)\n"
      "  --max-length N       truncate to N tokens with [CLS] and [SEP], 2 to 512 (default:\n"
      "                       max_seq_length of sentence_bert_config.json, else 512)\n"
      "  --precision P        weight storage: fp16 (default; fp32-accurate), bf16 (faster,\n"
      "                       activations rounded to bf16 at each product), int8 (fastest;\n"
      "                       per-channel weight scales, activations quantised per token)\n"
      "                       or fp32\n"
      "  --verbose            pooling, load time, throughput and truncations on stderr\n"
      "  --help               this text\n"
      "\n"
      "Exit status: 0 if every sentence was embedded; 1 if the model, vocabulary or input\n"
      "cannot be loaded or any sentence was rejected; 2 for a bad command line.\n",
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
    else if (a == "--batch")
      o.batch = parse_count(a, value(), 1, 256);
    else if (a == "--max-length")
      o.max_length = parse_count(a, value(), 2, 512);
    else if (a == "--precision") {
      o.precision = value();
      if (o.precision != "fp16" && o.precision != "bf16" && o.precision != "int8" &&
          o.precision != "fp32") {
        throw usage_error("--precision expects fp16, bf16, int8 or fp32, got '" + o.precision +
                          "'");
      }
    } else if (a == "--similarity")
      o.similarity = true;
    else if (a == "--verbose")
      o.verbose = true;
    else if (a == "--")
      while (i + 1 < argc) o.sentences.emplace_back(argv[++i]);
    else if (!a.empty() && a[0] == '-')
      throw usage_error("unknown option '" + a + "'");
    else
      o.sentences.push_back(a);
  }
  if (o.model_dir.empty() == !o.synthetic_seed) {
    throw usage_error("give either --model DIR (a Hugging Face BERT folder) or --synthetic SEED");
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
  return static_cast<std::size_t>(std::min<std::uint64_t>(it->get<std::uint64_t>(), 512));
}

// The model in any precision, behind one interface.
class embedder {
 public:
  embedder(const options& o, const bc1s::io::st_pooling& pooling)
      : pool_(o.threads), pooling_(pooling) {
    if (o.precision == "fp16")
      model_ = make<bc1s::half>(o);
    else if (o.precision == "bf16")
      model_ = make<bc1s::bf16>(o);
    else if (o.precision == "int8")
      model_ = make<bc1s::qint8>(o);
    else
      model_ = make<float>(o);
  }

  // Embeddings [n][C] of the sentences, in input order.
  std::vector<std::vector<float>> run(std::span<const std::vector<std::int32_t>> ids,
                                      std::size_t batch) {
    std::vector<std::vector<float>> out(ids.size(), std::vector<float>(config::dim));
    std::size_t longest = 0;
    for (const auto& v : ids) longest = std::max(longest, v.size());
    std::visit(
        [&](auto& m) {
          using M = std::remove_cvref_t<decltype(*m)>;
          typename M::workspace ws(std::min(batch, ids.size()), longest, pool_.size());
          bc1s::nn::run_batched(*m, ws, ids, std::min(batch, ids.size()), &pool_,
                                [&](std::size_t i, const typename M::workspace& w, std::size_t b) {
                                  pool_one(w.hidden(), b, ids[i].size(), out[i]);
                                });
        },
        model_);
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

  template <class WT>
  static std::unique_ptr<bc1s::nn::bert<config, WT>> make(const options& o) {
    using M = bc1s::nn::bert<config, WT>;
    // The pooler layer is not used by any of the poolings; synthetic weights skip it.
    return std::make_unique<M>(o.synthetic_seed ? M::synthetic(*o.synthetic_seed, false)
                                                : M::load(o.model_dir));
  }
  bc1s::runtime::thread_pool pool_;
  bc1s::io::st_pooling pooling_;
  std::variant<std::unique_ptr<bc1s::nn::bert<config, bc1s::half>>,
               std::unique_ptr<bc1s::nn::bert<config, bc1s::bf16>>,
               std::unique_ptr<bc1s::nn::bert<config, bc1s::qint8>>,
               std::unique_ptr<bc1s::nn::bert<config, float>>>
      model_;
};

// The sentences to embed, with a name for each in error messages.
struct input_line {
  std::string where, text;
};

std::vector<input_line> read_input(const options& o) {
  std::vector<input_line> out;
  if (!o.sentences.empty()) {
    for (std::size_t i = 0; i < o.sentences.size(); ++i)
      out.push_back({"argument " + std::to_string(i + 1), o.sentences[i]});
    return out;
  }
  if (!o.input.empty() && o.input.size() > 4 && o.input.substr(o.input.size() - 4) == ".tsv") {
    const tsv_file t = read_tsv(o.input);
    for (const auto& r : t.rows) {
      const auto f = split_tabs(r.line);
      const std::string where = o.input + ":" + std::to_string(r.line_no);
      out.push_back({where, int(f.size()) > t.col_sentence ? f[std::size_t(t.col_sentence)] : ""});
    }
    return out;
  }
  std::ifstream file;
  if (!o.input.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(o.input, ec))
      throw std::runtime_error(o.input + ": is a directory, expected a file (--input)");
    file.open(o.input, std::ios::binary);
    if (!file) throw std::runtime_error(o.input + ": cannot open the file (--input)");
  }
  std::istream& in = o.input.empty() ? std::cin : file;
  const std::string name = o.input.empty() ? "stdin line " : o.input + ":";
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back({name + std::to_string(n), line});
  }
  if (in.bad()) throw std::runtime_error((o.input.empty() ? "stdin" : o.input) + ": read error");
  return out;
}

int run(const options& o) {
  const auto t0 = clock_type::now();
  if (!o.model_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(o.model_dir, ec))
      throw std::runtime_error(o.model_dir + ": no such model folder (--model)");
    if (!std::filesystem::is_directory(o.model_dir, ec))
      throw std::runtime_error(o.model_dir + ": not a folder (--model expects a folder)");
  }
  const bc1s::io::st_pooling pooling =
      o.model_dir.empty() ? bc1s::io::st_pooling{} : bc1s::io::load_st_pooling(o.model_dir);
  if (pooling.dimension != 0 && pooling.dimension != config::dim) {
    throw bc1s::io::load_error(pooling.pooling_file.string() +
                               ": field \"word_embedding_dimension\" is " +
                               std::to_string(pooling.dimension) + " but the model's width is " +
                               std::to_string(config::dim));
  }
  if (o.verbose) {
    std::fprintf(stderr, "%s: pooling: %s, %s (%s)\n", kTool, bc1s::io::to_string(pooling.mode),
                 pooling.normalize ? "then L2-normalised" : "not normalised",
                 pooling.modules_file.empty() ? "default: no modules.json"
                                              : pooling.pooling_file.string().c_str());
  }
  const auto tok = (!o.model_dir.empty() && o.vocab == o.model_dir + "/vocab.txt")
                       ? bc1s::text::tokenizer::from_pretrained(o.model_dir)
                       : bc1s::text::tokenizer::from_vocab_file(o.vocab);
  const std::size_t max_length =
      o.max_length.value_or(sentence_max_length(o.model_dir).value_or(512));
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
        for (std::size_t c = 0; c < config::dim; ++c) dot += double(emb[i][c]) * emb[j][c];
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
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: error writing to stdout\n", kTool);
    return 1;
  }
  if (rejected > 0) {
    std::fprintf(stderr, "%s: %zu of %zu sentences rejected\n", kTool, rejected, lines.size());
  }
  return rejected > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s (usage: bc1s-embed --help)\n", kTool, one_line(e.what()).c_str());
    return 2;
  }
  try {
    return run(o);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s: %s (usage: bc1s-embed --help)\n", kTool, one_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kTool, one_line(e.what()).c_str());
    return 1;
  }
}
