// bc1s-ner: named entities (or any token labels) with a BERT or DistilBERT token classifier
// (BertForTokenClassification, DistilBertForTokenClassification), grouped into entity spans as
// Hugging Face's token-classification pipeline does with aggregation_strategy="simple".
//
//   bc1s-ner --model DIR [--input FILE]     one line of text per input line (else stdin)
//
// Per token: a softmax over the labels, the best label and its probability. Tokens are then
// grouped in order: a token joins the previous group when its entity type (the label without its
// B- / I- prefix) is the same and it is not a B- label; each group's entity_group is that type,
// its score the mean of its tokens' probabilities, its span from the first token's start to the
// last token's end in the original line (UTF-8 byte offsets), word the original text of that
// span. Groups of the label O are left out. [CLS], [SEP] and special tokens written in the text
// are not labelled.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/bc1s.hpp"
#include "bc1s/nn/any_encoder.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "cli_common.hpp"
#include "cli_model.hpp"

namespace {

using namespace bc1s_cli;
constexpr const char* kTool = "bc1s-ner";

struct options : model_options {
  bool json = false;
};

[[noreturn]] void usage() {
  std::printf(
      "usage: bc1s-ner --model DIR [--input FILE] [options]\n"
      "\n"
      "Named entities in each line of text (stdin, or --input FILE) with a BERT or DistilBERT\n"
      "token classifier (BertForTokenClassification, DistilBertForTokenClassification), as\n"
      "Hugging Face's pipeline(\"token-classification\", aggregation_strategy=\"simple\"): a\n"
      "softmax per token; consecutive tokens of the same entity type (B-X then I-X, or I-X\n"
      "again) form one entity, scored by the mean of its tokens' probabilities; O is left out.\n"
      "Each entity: entity_group, score, word (the original text of its span), start and end\n"
      "(UTF-8 byte offsets in the line; Python's offsets count characters: they differ after a\n"
      "non-ASCII character).\n"
      "\n"
      "  --model DIR          Hugging Face folder (config.json, model.safetensors, vocab.txt,\n"
      "                       tokenizer_config.json)\n"
      "  --input FILE         one text per line (default: stdin)\n"
      "  --json               one JSON object per line: {\"text\", \"entities\": [{entity_group,\n"
      "                       score, word, start, end}, ...]}\n"
      "  --batch N            up to N lines of similar length per pass, 1 to 256 (default 8);\n"
      "                       output stays in input order\n"
      "  --threads N          threads, 1 to 256 (default: the machine's cores, %zu here)\n"
      "  --max-length N       truncate each line to N tokens with [CLS] and [SEP] (the rest\n"
      "                       gets no labels), 2 to the model's max_position_embeddings\n"
      "                       (default: model_max_length of tokenizer_config.json, else 512)\n"
      "  --precision P        weight storage: fp16 (default), bf16, int8 or fp32\n"
      "  --verbose            the model, load and inference times and each truncation, on\n"
      "                       stderr\n"
      "  --help               this text\n"
      "\n"
      "An empty line (or one of whitespace only) has no entities. A line that cannot be read\n"
      "(invalid UTF-8) gets one error line on stderr naming it; the other lines are still\n"
      "labelled, and the exit status is then 1.\n"
      "\n"
      "Exit status: 0 if every line was labelled; 1 if the model or input cannot be loaded,\n"
      "the model is not a token classifier, or a line was rejected; 2 for a bad command line.\n",
      default_threads());
  std::exit(0);
}

options parse(int argc, char** argv) {
  options o;
  for (arg_list args(argc, argv); args.next();) {
    const std::string& a = args.arg();
    if (a == "--help" || a == "-h")
      usage();
    else if (a == "--json")
      o.json = true;
    else if (!read_model_option(args, o))
      args.other();
  }
  if (o.model_dir.empty()) throw usage_error("--model DIR is required (a token-classifier folder)");
  return o;
}

struct entity {
  std::string group, word;
  double score = 0;
  std::size_t start = 0, end = 0;  // bytes in the line
};

// One token's best label.
struct token_label {
  std::size_t label = 0;
  float score = 0;
  bc1s::text::token_offset span;
};

// Hugging Face's get_tag(): "B-X" -> (B, X), "I-X" -> (I, X), anything else -> (I, itself).
std::pair<bool, std::string_view> tag_of(std::string_view label) {
  if (label.starts_with("B-")) return {true, label.substr(2)};
  if (label.starts_with("I-")) return {false, label.substr(2)};
  return {false, label};
}

// Hugging Face's group_entities() and group_sub_entities(), then the O groups left out.
std::vector<entity> group(std::span<const token_label> tokens,
                          const std::vector<std::string>& labels, std::string_view text) {
  std::vector<entity> out;
  std::size_t first = 0;
  auto close = [&](std::size_t end) {  // tokens [first, end) are one group
    if (end == first) return;
    const std::string& l = labels[tokens[first].label];
    const auto dash = l.find('-');
    std::string name = dash == std::string::npos ? l : l.substr(dash + 1);
    if (name == "O") return;
    double sum = 0;
    for (std::size_t i = first; i < end; ++i) sum += double(tokens[i].score);
    entity e;
    e.group = std::move(name);
    e.score = sum / double(end - first);
    e.start = tokens[first].span.begin;
    e.end = std::max(tokens[end - 1].span.end, e.start);
    e.word = std::string(text.substr(e.start, e.end - e.start));
    out.push_back(std::move(e));
  };
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const auto [b, tag] = tag_of(labels[tokens[i].label]);
    const auto [last_b, last_tag] = tag_of(labels[tokens[i - 1].label]);
    (void)last_b;
    if (!(tag == last_tag && !b)) {
      close(i);
      first = i;
    }
  }
  close(tokens.size());
  return out;
}

using host_type = model_host<bc1s::nn::any_encoder>;

int run(const options& o) {
  const auto t0 = clock_type::now();
  const folder f = open_folder(o.model_dir, o.max_length);
  const auto lines = read_lines(o.input);
  host_type host(o.threads);
  const double load_model_s = load_encoder(host, o.model_dir, o.weights);
  const model_info& info = host.info();
  if (info.head == bc1s::nn::head_kind::none) {
    throw std::runtime_error(o.model_dir +
                             ": has no classification head (no classifier.weight in "
                             "model.safetensors: an encoder only); bc1s-ner needs a token "
                             "classifier (BertForTokenClassification or "
                             "DistilBertForTokenClassification); use bc1s-embed for embeddings");
  }
  if (info.head == bc1s::nn::head_kind::sequence_classification) {
    throw std::runtime_error(o.model_dir +
                             ": is a sequence-classification model (one label per text, not per "
                             "token); use bc1s-classify (or bc1s-rerank for a cross-encoder)");
  }
  const std::vector<std::string> labels = label_names(info.labels, info.num_labels);
  if (o.verbose) {
    std::string names;
    for (const auto& l : labels) names += (names.empty() ? "" : ", ") + l;
    std::fprintf(stderr,
                 "%s: loaded %s (%s weights, %s) in %.2f s (model %.2f s), %zu thread(s)\n"
                 "%s: model: %s; labels: %s; max length %zu\n",
                 kTool, o.model_dir.c_str(), o.precision.c_str(), bc1s::simd::kIsaName,
                 seconds_since(t0), load_model_s, o.threads, kTool, describe(info).c_str(),
                 names.c_str(), f.max_length);
  }
  // Encode every line with word offsets; a bad line is reported and left out; a line without
  // tokens has no entities.
  std::vector<bc1s::text::encoding> enc;
  std::vector<std::size_t> seq_of(lines.size(), SIZE_MAX);  // line -> index into enc
  std::vector<bool> ok(lines.size(), false);
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    try {
      if (f.tok.tokenize_ids(lines[i].text).empty()) {  // also checks the UTF-8
        ok[i] = true;
        continue;
      }
      enc.push_back(
          encode_line(f.tok, lines[i].text, f.max_length, o.verbose, kTool, lines[i].where, true));
      seq_of[i] = enc.size() - 1;
      ok[i] = true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: %s\n", kTool, lines[i].where.c_str(),
                   one_line(e.what()).c_str());
      ++rejected;
    }
  }
  // Per token: the best label and its probability (softmax), skipping special tokens.
  const auto& tok = f.tok;
  auto is_special = [&](const bc1s::text::encoding& e, std::size_t t, std::string_view text) {
    if (e.word_ids[t] < 0) return true;  // [CLS], [SEP], [PAD]
    const std::int32_t id = e.ids[t];
    if (id != tok.cls_id() && id != tok.sep_id() && id != tok.pad_id() && id != tok.unk_id() &&
        tok.vocab().token(id) != "[MASK]") {
      return false;
    }
    // A special token written in the text (Hugging Face's special_tokens_mask), not a word
    // WordPiece could not split ([UNK] for an unknown word).
    const auto& sp = e.offsets[t];
    return text.substr(sp.begin, sp.end - sp.begin) == tok.vocab().token(id);
  };
  std::vector<std::vector<token_label>> tagged(enc.size());
  std::vector<std::vector<std::int32_t>> ids(enc.size());
  std::vector<std::size_t> line_of(enc.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (seq_of[i] != SIZE_MAX) line_of[seq_of[i]] = i;
  for (std::size_t k = 0; k < enc.size(); ++k) ids[k] = enc[k].ids;
  const std::size_t L = labels.size();
  const auto t1 = clock_type::now();
  host.run(ids, {}, o.batch, [&](std::size_t k, const auto& ws, std::size_t b) {
    const std::size_t S = ws.s();
    const auto logits = ws.logits();
    const auto& e = enc[k];
    const std::string_view text = lines[line_of[k]].text;
    for (std::size_t t = 0; t < e.ids.size(); ++t) {
      if (is_special(e, t, text)) continue;
      const auto row = logits.subspan((b * S + t) * L, L);
      std::size_t best = 0;
      for (std::size_t l = 1; l < L; ++l)
        if (row[l] > row[best]) best = l;
      double sum = 0;
      for (std::size_t l = 0; l < L; ++l) sum += std::exp(double(row[l]) - double(row[best]));
      tagged[k].push_back({best, float(1.0 / sum), e.offsets[t]});
    }
  });
  const double inf_s = seconds_since(t1);
  if (o.verbose) {
    std::fprintf(stderr, "%s: %zu lines in %.3f s (batch %zu)\n", kTool, enc.size(), inf_s,
                 o.batch);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!ok[i]) continue;
    const std::vector<entity> ents = seq_of[i] == SIZE_MAX
                                         ? std::vector<entity>{}
                                         : group(tagged[seq_of[i]], labels, lines[i].text);
    if (o.json) {
      nlohmann::json j;
      j["text"] = lines[i].text;
      j["entities"] = nlohmann::json::array();
      for (const auto& e : ents) {
        j["entities"].push_back({{"entity_group", e.group},
                                 {"score", e.score},
                                 {"word", e.word},
                                 {"start", e.start},
                                 {"end", e.end}});
      }
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::printf("[%zu] %s\n", i + 1, lines[i].text.c_str());
      std::size_t width = 0;
      for (const auto& e : ents) width = std::max(width, e.group.size());
      for (const auto& e : ents) {
        const std::string span = std::to_string(e.start) + "-" + std::to_string(e.end);
        std::printf("    %-*s  %.4f  %-7s  %s\n", int(width), e.group.c_str(), e.score,
                    span.c_str(), e.word.c_str());
      }
      if (ents.empty()) std::printf("    (no entities)\n");
    }
  }
  if (!flush_stdout(kTool)) return 1;
  report_rejected(kTool, rejected, lines.size(), "lines");
  return rejected > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return cli_main(kTool, argc, argv, parse, run);
}
