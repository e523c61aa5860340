// Shared by the command-line tools in examples/: a model chosen at run time (bc1s::nn::any_encoder
// for a Hugging Face folder of any supported family and shape; a compiled shape for --synthetic),
// run through bc1s::nn::run_batched with a workspace that grows to the largest pass seen.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "bc1s/io/hf_config.hpp"
#include "bc1s/nn/any_encoder.hpp"
#include "bc1s/nn/batching.hpp"
#include "bc1s/runtime/thread_pool.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "cli_common.hpp"

namespace bc1s_cli {

// --precision: fp16 | bf16 | int8 | fp32, else a command-line error naming them.
inline bc1s::nn::precision parse_precision_flag(const std::string& v) {
  try {
    return bc1s::nn::parse_precision(v);
  } catch (const std::invalid_argument&) {
    throw usage_error("--precision expects fp16, bf16, int8 or fp32, got '" + v + "'");
  }
}

// The options every model tool takes: --model, --input, --threads, --batch, --max-length,
// --precision and --verbose. A tool's options derive from it.
struct model_options {
  std::string model_dir, input;
  std::size_t threads = default_threads(), batch = 8;
  std::optional<std::size_t> max_length;
  std::string precision = "fp16";
  bc1s::nn::precision weights = bc1s::nn::precision::fp16;
  bool verbose = false;
};

// When args.arg() is one of model_options' flags: reads it (and its value) into `o`, true; else
// false. min_length: the least --max-length ([CLS], one token, [SEP]).
inline bool read_model_option(arg_list& args, model_options& o, std::uint64_t min_length = 3) {
  const std::string& a = args.arg();
  if (a == "--model")
    o.model_dir = args.value();
  else if (a == "--input")
    o.input = args.value();
  else if (a == "--threads")
    o.threads = parse_count(a, args.value(), 1, 256);
  else if (a == "--batch")
    o.batch = parse_count(a, args.value(), 1, 256);
  else if (a == "--max-length")
    o.max_length = parse_count(a, args.value(), min_length, 8192);
  else if (a == "--precision") {
    o.precision = args.value();
    o.weights = parse_precision_flag(o.precision);
  } else if (a == "--verbose")
    o.verbose = true;
  else
    return false;
  return true;
}

// What the tools need to know about a loaded model, whatever its type.
struct model_info {
  std::string model_type;  // "distilbert" | "bert"
  bc1s::nn::encoder_dims dims;
  bc1s::nn::head_kind head = bc1s::nn::head_kind::none;
  std::size_t num_labels = 0;
  std::vector<std::string> labels;  // id2label, by id
  bool multi_label = false;         // problem_type multi_label_classification
  bool token_types = false;         // the family reads token_type_ids (BERT)
};

template <class Model>
model_info info_of(const Model& m, std::string model_type) {
  model_info i;
  i.model_type = std::move(model_type);
  i.dims = m.dims();
  i.head = m.head();
  i.num_labels = m.num_labels();
  i.labels = m.labels();
  i.multi_label = m.multi_label();
  i.token_types = i.model_type == "bert";
  return i;
}

// One of Models (any_encoder, or compiled encoder_model types), its thread pool and workspace.
template <class... Models>
class model_host {
 public:
  explicit model_host(std::size_t threads) : pool_(threads) {}

  template <class M>
  void set(M&& model, std::string model_type) {
    using T = std::remove_cvref_t<M>;
    info_ = info_of(model, std::move(model_type));
    model_ = std::make_unique<slot<T>>(slot<T>{std::forward<M>(model), nullptr});
  }

  const model_info& info() const noexcept { return info_; }
  std::size_t threads() const noexcept { return pool_.size(); }

  // Runs every sequence (ids, and token types: empty, or one row per sequence) in passes of up
  // to `batch`; on_result(index, workspace, b) once per sequence, right after its pass: row b of
  // workspace.hidden() / .logits() / .pooled() is sequence `index`.
  template <class OnResult>
  void run(std::span<const std::vector<std::int32_t>> ids,
           std::span<const std::vector<std::int32_t>> types, std::size_t batch,
           OnResult&& on_result) {
    if (ids.empty()) return;
    batch = std::max<std::size_t>(1, std::min(batch, ids.size()));
    std::size_t longest = 0;
    for (const auto& v : ids) longest = std::max(longest, v.size());
    if (!info_.token_types) types = {};  // DistilBERT has no token types
    std::visit(
        [&](auto& s) {
          auto& m = *s;
          using M = std::remove_cvref_t<decltype(m.model)>;
          using W = typename M::workspace;
          if (!m.ws || m.ws->max_batch() < batch || m.ws->max_seq() < longest) {
            const std::size_t B = std::max(batch, m.ws ? m.ws->max_batch() : std::size_t{1});
            const std::size_t S = std::max(longest, m.ws ? m.ws->max_seq() : std::size_t{16});
            m.ws.reset();  // free the old one first
            if constexpr (std::is_constructible_v<W, const M&, std::size_t, std::size_t,
                                                  std::size_t>) {
              m.ws = std::make_unique<W>(m.model, B, S, pool_.size());
            } else {
              m.ws = std::make_unique<W>(m.model.make_workspace(B, S, pool_.size()));
            }
          }
          bc1s::nn::run_batched(
              m.model, *m.ws, ids, types, batch, &pool_,
              [&](std::size_t i, const W& w, std::size_t b) { on_result(i, w, b); });
        },
        model_);
  }

 private:
  template <class M>
  struct slot {
    M model;
    std::unique_ptr<typename M::workspace> ws;
  };
  bc1s::runtime::thread_pool pool_;
  std::variant<std::unique_ptr<slot<Models>>...> model_;
  model_info info_;
};

// A model folder opened in the order that names the first problem: the folder, config.json
// (model_type, sizes: an unsupported model_type is refused here, before any weight is read),
// the tokenizer (vocab.txt, tokenizer_config.json; or `vocab`, a vocab.txt given with --vocab,
// alone) and --max-length against the position table.
struct folder {
  bc1s::io::hf_config config;
  bc1s::text::tokenizer tok;
  std::size_t max_length;
};

inline folder open_folder(const std::string& dir, const std::optional<std::size_t>& max_length,
                          const std::string& vocab = {}) {
  check_model_folder(dir);
  auto cfg = bc1s::io::load_hf_config(std::filesystem::path(dir) / "config.json");
  auto tok = vocab.empty() ? bc1s::text::tokenizer::from_pretrained(dir)
                           : bc1s::text::tokenizer::from_vocab_file(vocab);
  const std::size_t n =
      resolve_max_length(max_length, tok.options().model_max_length, cfg.max_positions);
  return folder{std::move(cfg), std::move(tok), n};
}

// Loads the folder's weights with any_encoder into `host`; returns the seconds it took.
template <class Host>
double load_encoder(Host& host, const std::string& dir, bc1s::nn::precision p) {
  const auto t0 = clock_type::now();
  auto m = bc1s::nn::any_encoder::load(dir, p);
  std::string type = m.model_type();
  host.set(std::move(m), std::move(type));
  return seconds_since(t0);
}

// The names of a classifier's `n` labels by id: `labels` (id2label), and LABEL_k (Hugging Face's
// default) where it has none.
inline std::vector<std::string> label_names(std::vector<std::string> labels, std::size_t n) {
  labels.resize(n);
  for (std::size_t k = 0; k < labels.size(); ++k)
    if (labels[k].empty()) labels[k] = "LABEL_" + std::to_string(k);
  return labels;
}

// "BERT, 2 layers, width 40, 5 heads, 64 positions; sequence classification, 3 labels".
inline std::string describe(const model_info& i) {
  std::string s = i.model_type + ", " + std::to_string(i.dims.layers) + " layers, width " +
                  std::to_string(i.dims.dim) + ", " + std::to_string(i.dims.heads) + " heads, " +
                  std::to_string(i.dims.max_positions) + " positions; " +
                  (i.head == bc1s::nn::head_kind::none ? std::string("no classifier")
                                                       : std::string(to_string(i.head)));
  if (i.head != bc1s::nn::head_kind::none) {
    s += ", " + std::to_string(i.num_labels) + " label" + (i.num_labels == 1 ? "" : "s");
    if (i.multi_label) s += " (multi-label)";
  }
  return s;
}

}  // namespace bc1s_cli
