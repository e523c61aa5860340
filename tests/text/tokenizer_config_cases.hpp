// tokenizer_config.json cases shared by the tests of both callers of the one reader:
// tests/text/tokenizer_test.cpp (text::tokenizer::read_tokenizer_config) and
// tests/io/hf_config_test.cpp (io::load_tokenizer_config, which clamps model_max_length to the
// position table and reports errors as load_error). The rules are written in
// bc1s/text/wordpiece.hpp above tokenizer_config_error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bc1s/text/wordpiece.hpp"

namespace bc1s_test {

struct tokenizer_config_case {
  std::string name;
  std::string json;  // the file's bytes
  // Accepted: the options read (model_max_length before any clamp; kNoMaxLength: no limit).
  bool ok = false;
  bool do_lower_case = true;
  std::size_t model_max_length = 512;
  // Rejected: a part of the problem text (the message after "<file>: ").
  std::string error;
  // Accepted: the other options read.
  std::optional<bool> strip_accents = std::nullopt;
  bool tokenize_chinese_chars = true;
};

inline std::vector<tokenizer_config_case> tokenizer_config_cases() {
  constexpr std::size_t kNone = bc1s::text::kNoMaxLength;
  auto good = [](std::string name, std::string json, bool lower, std::size_t n) {
    return tokenizer_config_case{std::move(name), std::move(json), true, lower, n, {}};
  };
  auto bad = [](std::string name, std::string json, std::string error) {
    return tokenizer_config_case{std::move(name), std::move(json), false, true, 0,
                                 std::move(error)};
  };
  // Accepted, with strip_accents and tokenize_chinese_chars as given.
  auto good_opts = [](std::string name, std::string json, bool lower, std::optional<bool> strip,
                      bool chinese) {
    return tokenizer_config_case{std::move(name), std::move(json), true, lower, 512, {},
                                 strip,           chinese};
  };
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  return {
      // ---- accepted ----
      good("real_sst2", R"({"model_max_length": 512, "do_lower_case": true})", true, 512),
      good("empty_object_defaults", "{}", true, 512),
      good(
          "cased_128_added_token_object",
          R"({"do_lower_case": false, "model_max_length": 128, "unk_token": {"content": "[UNK]"}})",
          false, 128),
      good("plain_128", R"({"model_max_length": 128})", true, 128),
      good("minimum_2", R"({"model_max_length": 2})", true, 2),
      good("integral_float", R"({"model_max_length": 512.0})", true, 512),
      // transformers writes int(1e30) for "no limit": beyond uint64, so JSON readers see a float.
      good("hf_sentinel_int",
           R"({"do_lower_case": false, "model_max_length": 1000000000000000019884624838656})",
           false, kNone),
      good("hf_sentinel_float", R"({"model_max_length": 1e30})", true, kNone),
      good("hf_sentinel_threshold_1e18", R"({"model_max_length": 1000000000000000000})", true,
           kNone),
      good("just_below_threshold", R"({"model_max_length": 999999999999999999})", true,
           std::size_t{999999999999999999}),
      good("null_is_no_limit", R"({"model_max_length": null})", true, kNone),
      good("minilm_style",
           R"({"do_lower_case": true, "unk_token": "[UNK]", "sep_token": "[SEP]",
               "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
               "tokenize_chinese_chars": true, "strip_accents": null, "model_max_length": 512,
               "do_basic_tokenize": true, "never_split": null, "tokenizer_class": "BertTokenizer",
               "added_tokens_decoder": {"0": {"content": "[PAD]", "special": true}}})",
           true, 512),
      good("added_token_objects",
           R"({"sep_token": {"content": "[SEP]", "lstrip": false, "__type": "AddedToken"},
               "mask_token": {"content": "[MASK]", "lstrip": true}})",
           true, 512),
      good_opts("strip_accents_same_as_lower",
                R"({"do_lower_case": false, "strip_accents": false})", false, false, true),
      good_opts("strip_accents_null", R"({"strip_accents": null})", true, std::nullopt, true),
      // strip_accents is independent of do_lower_case, as in Hugging Face.
      good_opts("lower_without_stripping", R"({"do_lower_case": true, "strip_accents": false})",
                true, false, true),
      good_opts("strip_without_lowering", R"({"do_lower_case": false, "strip_accents": true})",
                false, true, true),
      good_opts("no_chinese_chars", R"({"tokenize_chinese_chars": false})", true, std::nullopt,
                false),
      good_opts("cased_all_options",
                R"({"do_lower_case": false, "strip_accents": null,
                    "tokenize_chinese_chars": true, "do_basic_tokenize": true})",
                false, std::nullopt, true),
      // ---- rejected: the file ----
      bad("not_json", "{nope", "file is not valid JSON"),
      bad("truncated_json", R"({"do_lower_case": true,)", "file is not valid JSON"),
      bad("empty_file", "", "file is not valid JSON"),
      bad("number_beyond_double", R"({"do_lower_case": true, "model_max_length": 1e400})",
          "file is not valid JSON"),
      bad("duplicate_key", R"({"do_lower_case": true, "do_lower_case": false})",
          "file has the key \"do_lower_case\" more than once"),
      bad("too_deep", R"({"x": )" + deep + "}", "file nests deeper than 64 levels"),
      // A long message with control bytes (nlohmann quotes the raw token): escaped and cut to
      // one line of at most 600 characters, which io's own escaping then leaves as it is
      // (found by fuzz_config).
      bad("long_control_bytes", "{\"" + std::string(300, '\x7f') + "\x01\": 1}",
          "file is not valid JSON"),
      bad("top_level_array_1", "[1]", "is a JSON array, expected an object"),
      bad("top_level_array_2", "[1, 2]", "is a JSON array, expected an object"),
      bad("top_level_string", R"("x")", "is a JSON string, expected an object"),
      // ---- rejected: do_lower_case ----
      bad("lower_string", R"({"do_lower_case": "yes"})",
          "field \"do_lower_case\" is a JSON string (\"yes\"), expected true or false"),
      bad("lower_null", R"({"do_lower_case": null})",
          "field \"do_lower_case\" is a JSON null (null), expected true or false"),
      // ---- rejected: model_max_length ----
      bad("max_negative_5", R"({"model_max_length": -5})",
          "field \"model_max_length\" is a JSON integer (-5), expected an integer of at least 2"),
      bad("max_negative_3", R"({"model_max_length": -3})",
          "field \"model_max_length\" is a JSON integer (-3)"),
      bad("max_zero", R"({"model_max_length": 0})",
          "field \"model_max_length\" is 0, expected at least 2 (room for [CLS] and [SEP])"),
      bad("max_one", R"({"model_max_length": 1})",
          "field \"model_max_length\" is 1, expected at least 2 (room for [CLS] and [SEP])"),
      bad("max_one_float", R"({"model_max_length": 1.0})",
          "field \"model_max_length\" is 1.0, expected at least 2"),
      bad("max_fraction", R"({"model_max_length": 12.5})",
          "field \"model_max_length\" is a JSON number (12.5)"),
      bad("max_negative_sentinel", R"({"model_max_length": -1e30})",
          "field \"model_max_length\" is a JSON number (-1e+30)"),
      bad("max_string", R"({"model_max_length": "512"})",
          "field \"model_max_length\" is a JSON string (\"512\")"),
      bad("max_boolean", R"({"model_max_length": true})",
          "field \"model_max_length\" is a JSON boolean (true)"),
      // ---- rejected: wrong types, settings this tokenizer cannot honour ----
      bad("chinese_chars_string", R"({"tokenize_chinese_chars": "false"})",
          "field \"tokenize_chinese_chars\" is a JSON string (\"false\"), expected true or false"),
      bad("chinese_chars_null", R"({"tokenize_chinese_chars": null})",
          "field \"tokenize_chinese_chars\" is a JSON null (null), expected true or false"),
      bad("no_basic_tokenize", R"({"do_basic_tokenize": false})",
          "field \"do_basic_tokenize\" is false, only true is supported"),
      bad("strip_accents_string", R"({"strip_accents": "yes"})",
          "field \"strip_accents\" is a JSON string (\"yes\"), expected true, false or null"),
      bad("strip_accents_number", R"({"strip_accents": 1})",
          "field \"strip_accents\" is a JSON integer (1), expected true, false or null"),
      bad("unk_token_other", R"({"unk_token": "<unk>"})",
          "field \"unk_token\" is \"<unk>\", only \"[UNK]\" is supported"),
      bad("cls_token_number", R"({"cls_token": 5})",
          "field \"cls_token\" is 5, only \"[CLS]\" is supported"),
      bad("mask_token_object_without_content", R"({"mask_token": {"lstrip": false}})",
          "field \"mask_token\""),
      bad("pad_token_object_other", R"({"pad_token": {"content": "<pad>"}})",
          "field \"pad_token\""),
      bad("sep_token_null", R"({"sep_token": null})", "field \"sep_token\" is null"),
  };
}

}  // namespace bc1s_test
