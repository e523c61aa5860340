// tokenizer_config.json cases shared by the tests of both callers of the one reader:
// tests/text/tokenizer_test.cpp (text::tokenizer::read_tokenizer_config) and
// tests/io/hf_config_test.cpp (io::load_tokenizer_config, which clamps model_max_length to the
// position table and reports errors as load_error). The rules are written in
// bc1s/text/wordpiece.hpp above tokenizer_config_error.
#pragma once

#include <cstddef>
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
      good("strip_accents_same_as_lower", R"({"do_lower_case": false, "strip_accents": false})",
           false, 512),
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
      // ---- rejected: settings this tokenizer cannot honour ----
      bad("no_chinese_chars", R"({"tokenize_chinese_chars": false})",
          "field \"tokenize_chinese_chars\" is false, only true is supported"),
      bad("no_basic_tokenize", R"({"do_basic_tokenize": false})",
          "field \"do_basic_tokenize\" is false, only true is supported"),
      bad("strip_accents_differs", R"({"do_lower_case": true, "strip_accents": false})",
          "field \"strip_accents\" is false with do_lower_case true"),
      bad("strip_accents_string", R"({"strip_accents": "yes"})", "field \"strip_accents\""),
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
