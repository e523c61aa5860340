// Fuzz target: config.json and tokenizer_config.json (bc1s/io/hf_config.hpp, and the one
// tokenizer_config.json reader in bc1s/text/wordpiece.hpp).
//
// Input: "<config.json bytes>\0<tokenizer_config.json bytes>" (JSON never contains a raw NUL);
// without a NUL the whole input is used for both. config.json goes through load_hf_config(),
// check_matches() against distilbert_base (as distilbert<distilbert_base>::load() does) and
// against a BERT expectation; tokenizer_config.json through tokenizer::read_tokenizer_config()
// and io::load_tokenizer_config(), which must agree: both accept (the same options, io's
// model_max_length clamped to the position limit) or both reject with the same problem. Each
// either succeeds with a consistent result or throws its documented exception with a one-line
// message naming the file.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bc1s/io/hf_config.hpp"
#include "bc1s/nn/distilbert.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "fuzz_util.hpp"

namespace {

using base = bc1s::nn::distilbert_base;

void check_config(const bc1s_fuzz::mem_file& file) {
  const std::string prefix = file.path() + ": ";
  bc1s::io::hf_config cfg;
  try {
    cfg = bc1s::io::load_hf_config(file.path());
  } catch (const bc1s::io::load_error& e) {
    BC1S_FUZZ_ONE_LINE(e, prefix);
    // The model's own check reads the same file: it must fail too.
    try {
      bc1s::nn::distilbert<base>::check_config(file.path());
      BC1S_FUZZ_CHECK(false, "check_config accepted a config.json that load_hf_config rejects");
    } catch (const bc1s::io::load_error& e2) {
      BC1S_FUZZ_ONE_LINE(e2, prefix);
    }
    return;
  }
  // What parse_hf_config promises about a config it accepts.
  BC1S_FUZZ_CHECK(cfg.model_type == "distilbert" || cfg.model_type == "bert", cfg.model_type);
  constexpr std::size_t kMax = std::size_t{1} << 28;
  for (std::size_t v : {cfg.dim, cfg.heads, cfg.hidden, cfg.layers, cfg.vocab, cfg.max_positions}) {
    BC1S_FUZZ_CHECK(v > 0 && v <= kMax, "size field " + std::to_string(v));
  }
  BC1S_FUZZ_CHECK(cfg.dim % cfg.heads == 0, "heads do not divide dim");
  BC1S_FUZZ_CHECK(cfg.pad_token_id < cfg.vocab, "pad_token_id outside the vocabulary");
  BC1S_FUZZ_CHECK(cfg.num_labels == cfg.id2label.size(), "num_labels != id2label.size()");
  BC1S_FUZZ_CHECK(cfg.activation == "gelu", cfg.activation);
  BC1S_FUZZ_CHECK(cfg.layer_norm_eps > 0 && std::isfinite(cfg.layer_norm_eps), "layer_norm_eps");
  BC1S_FUZZ_CHECK(cfg.model_type == "bert" || cfg.type_vocab == 0, "distilbert with token types");

  // check_matches against distilbert_base: throws exactly when compare() finds a difference.
  bc1s::io::hf_config_expect e;
  e.model_type = "distilbert";
  e.dim = base::dim;
  e.heads = base::heads;
  e.hidden = base::hidden;
  e.layers = base::layers;
  e.vocab = base::vocab;
  e.max_positions = base::max_positions;
  e.activation = "gelu";
  const bool differs = !bc1s::io::compare(cfg, e).empty();
  try {
    bc1s::io::check_matches(cfg, e);
    BC1S_FUZZ_CHECK(!differs, "check_matches accepted a differing config");
  } catch (const bc1s::io::load_error& err) {
    BC1S_FUZZ_CHECK(differs, "check_matches threw without a difference");
    BC1S_FUZZ_ONE_LINE(err, prefix);
  }
  // The model's own check (the same expectation, read from the file again).
  try {
    bc1s::nn::distilbert<base>::check_config(file.path());
    BC1S_FUZZ_CHECK(!differs, "distilbert::check_config accepted a differing config");
  } catch (const bc1s::io::load_error& err) {
    BC1S_FUZZ_CHECK(differs, "distilbert::check_config threw without a difference");
    BC1S_FUZZ_ONE_LINE(err, prefix);
  }
  // A BERT expectation with every optional field set.
  bc1s::io::hf_config_expect b;
  b.model_type = "bert";
  b.dim = 384;
  b.heads = 12;
  b.hidden = 1536;
  b.layers = 6;
  b.vocab = 30522;
  b.max_positions = 512;
  b.type_vocab = 2;
  b.num_labels = 2;
  b.activation = "gelu";
  b.layer_norm_eps = 1e-12;
  const auto diffs = bc1s::io::compare(cfg, b);
  for (const auto& d : diffs) BC1S_FUZZ_CHECK(!d.field.empty() && d.in_file != d.compiled, d.field);
  try {
    bc1s::io::check_matches(cfg, b);
    BC1S_FUZZ_CHECK(diffs.empty(), "check_matches accepted a differing BERT config");
  } catch (const bc1s::io::load_error& err) {
    BC1S_FUZZ_CHECK(!diffs.empty(), "check_matches threw without a difference");
    BC1S_FUZZ_ONE_LINE(err, prefix);
  }
}

void check_tokenizer_config(const bc1s_fuzz::mem_file& file, std::size_t limit) {
  // The reader documents tokenizer_config_error (a std::runtime_error) naming the file.
  std::optional<bc1s::text::tokenizer_options> opts;
  std::string problem;
  try {
    opts = bc1s::text::tokenizer::read_tokenizer_config(file.path());
    BC1S_FUZZ_CHECK(opts->model_max_length >= 2, "model_max_length below 2");
  } catch (const bc1s::text::tokenizer_config_error& e) {
    BC1S_FUZZ_ONE_LINE(e, "bc1s::text::tokenizer: " + file.path() + ": ");
    BC1S_FUZZ_CHECK(
        std::string(e.what()) == "bc1s::text::tokenizer: " + file.path() + ": " + e.problem(),
        e.what());
    problem = e.problem();
  }
  // io's loader is the same reader: the same verdict, the same options up to the clamp.
  try {
    const auto t = bc1s::io::load_tokenizer_config(file.path(), limit);
    BC1S_FUZZ_CHECK(opts.has_value(), "load_tokenizer_config accepted what the reader rejects");
    BC1S_FUZZ_CHECK(t.do_lower_case == opts->do_lower_case, "do_lower_case differs");
    BC1S_FUZZ_CHECK(t.model_max_length == std::min(opts->model_max_length, limit),
                    "model_max_length " + std::to_string(t.model_max_length) + " is not min(" +
                        std::to_string(opts->model_max_length) + ", " + std::to_string(limit) +
                        ")");
  } catch (const bc1s::io::load_error& e) {
    BC1S_FUZZ_ONE_LINE(e, file.path() + ": ");
    BC1S_FUZZ_CHECK(!opts.has_value(), "load_tokenizer_config rejected what the reader accepts");
    BC1S_FUZZ_CHECK(std::string(e.what()) == file.path() + ": " + problem,
                    std::string(e.what()) + " | " + problem);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bc1s_fuzz::mem_file config("bc1s-fuzz-config");
  static bc1s_fuzz::mem_file tok("bc1s-fuzz-tokenizer-config");
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = all.find('\0');
  const std::string_view first = nul == std::string_view::npos ? all : all.substr(0, nul);
  const std::string_view second = nul == std::string_view::npos ? all : all.substr(nul + 1);
  config.set(first);
  tok.set(second);
  check_config(config);
  check_tokenizer_config(tok, size % 2 ? 512 : 2 + size % 700);
  return 0;
}
