// BERT WordPiece tokenizer with the semantics of Hugging Face's (slow, Python) BertTokenizer:
// special-token split, BasicTokenizer, then WordpieceTokenizer.
//
//   text (UTF-8)        -> [CLS] a... [SEP]            -> padded to a length with [PAD]
//   text_a, text_b      -> [CLS] a... [SEP] b... [SEP]   (a sentence pair)
//   attention_mask 1 for real ids, 0 for [PAD]; token_type_ids 0 for [CLS] a [SEP], 1 for b [SEP]
//   (and 0 for [PAD], as Hugging Face pads them).
//
// Steps, in Hugging Face's order:
//  1. The text is split around the literal special tokens "[CLS]" "[SEP]" "[PAD]" "[MASK]"
//     "[UNK]" (case-sensitive, anywhere, even inside a word: "a[SEP]b" is a, [SEP], b). Each
//     becomes its own id. "[cls]" is ordinary text: [ cl ##s ].
//  2. Cleaning: U+0000, U+FFFD and every C* character (control, format such as U+200B/U+200D/
//     U+00AD, private use, unassigned) are dropped; \t \n \r and Zs become a space.
//  3. With tokenize_chinese_chars, CJK ideographs (HF _is_chinese_char ranges) are surrounded
//     by spaces; then NFC.
//  4. Split on whitespace (space, U+2028, U+2029). Without do_lower_case, a piece equal to a
//     special token is kept whole. Otherwise: with do_lower_case each character is lowercased
//     on its own (Python's str.lower() of one character: U+0130 becomes "i" U+0307, no
//     final-sigma rule); with strip_accents (null: the same as do_lower_case) the piece is
//     NFD-decomposed and stripped of Mn marks. A piece that is a special token by then is kept
//     whole too. Then punctuation (P* and ASCII 33-47, 58-64, 91-96, 123-126) is split off.
//  5. WordPiece: greedy longest match first, "##" continuations; a word of more than 100 code
//     points, or one with no full decomposition, is a single [UNK].
//
// Invalid UTF-8 throws bc1s::text::utf8_error (byte offset in the message; for a pair, which
// text). A sequence longer than max_length throws std::length_error unless truncation is asked
// for (HF only warns). Truncation of a pair is HF's "longest_first": one token at a time from
// the end of the longer text, from text_b when both are as long.
// A model folder's tokenizer_config.json is read by the rules written above
// tokenizer_config_error, the same for tokenizer::from_pretrained and io::load_tokenizer_config.
//
// encode_options::offsets adds each token's word index and byte span in the original text, as
// BertTokenizerFast's word_ids() and offset_mapping (see encoding). Where the slow and fast
// tokenizers give different ids (NFC, which only the slow one applies, changed a word: decomposed
// accents without accent stripping; a pair cut to an odd number of tokens when text_b is the
// longer: the fast one keeps the odd token in text_b, the slow one in text_a), the ids here are
// the slow tokenizer's, and a token spans the original characters of the code points it was
// made of.
//
// Known differences from Hugging Face: a special token missing from vocab.txt is ordinary text
// here (HF appends it as a new id past the vocab); character classes come from utf8proc's
// Unicode version (15.0 for utf8proc 2.8, the same as Python 3.12's unicodedata; under another
// Python, characters assigned in between are "unassigned" there and dropped).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/detail/json_read.hpp"
#include "bc1s/text/unicode.hpp"
#include "bc1s/text/vocab.hpp"

namespace bc1s::text {

struct tokenizer_options {
  bool do_lower_case = true;  // lowercase (uncased models)
  // Strip accents (NFD, then drop Mn marks); nullopt: the same as do_lower_case.
  std::optional<bool> strip_accents = std::nullopt;
  bool tokenize_chinese_chars = true;          // surround CJK ideographs with spaces
  std::size_t model_max_length = 512;          // default encode_options::max_length
                                               // (kNoMaxLength: no limit)
  std::size_t max_input_chars_per_word = 100;  // longer words become [UNK]
};

struct encode_options {
  std::size_t max_length =
      0;  // limit on ids incl. [CLS] and [SEP]; 0: the tokenizer's model_max_length
  bool truncation = false;  // drop trailing word pieces to fit max_length (else std::length_error);
                            // a pair: longest_first
  std::size_t pad_to = 0;   // pad with [PAD] (mask 0) up to this length; 0: no padding
  bool offsets = false;     // also fill encoding::word_ids and encoding::offsets
};

// Bytes [begin, end) of the original UTF-8 text a token came from; {0, 0} for [CLS], [SEP] and
// [PAD].
struct token_offset {
  std::size_t begin = 0;
  std::size_t end = 0;
  friend bool operator==(const token_offset&, const token_offset&) = default;
};

// One encoded sequence: ids = [CLS] pieces... [SEP] [PAD]... (a pair: [CLS] a... [SEP] b...
// [SEP] [PAD]...); attention_mask 1 for real ids; token_type_ids 1 for b... [SEP] of a pair,
// else 0. All three have the same length.
//
// With encode_options::offsets (else both are empty), also one entry per id of
//   word_ids  the index of the word the token came from, -1 for [CLS], [SEP] and [PAD]. Words
//             are those of Hugging Face's BertPreTokenizer, numbered from 0 in each text (in a
//             pair, again from 0 in text_b, as BertTokenizerFast's word_ids()): the text split
//             at whitespace, with each punctuation character, each CJK ideograph (with
//             tokenize_chinese_chars) and each special token written in the text a word of its
//             own. "don't" is three words: don ' t. Every word has at least one token.
//   offsets   the token's bytes in the original text (text_a, or text_b where token_type_ids
//             is 1), as BertTokenizerFast's offset_mapping (return_offsets_mapping=True) in
//             UTF-8 bytes instead of code points: the span from the first to the last original
//             character the token's normalized characters came from. Lowercasing and accent
//             stripping do not move spans ("Café" -> cafe is bytes 0-5); a "##" piece is its
//             part of the word; [UNK] is the whole word (after punctuation splitting); removed
//             control characters lie outside every span except inside a token ("a\u200bb" -> ab
//             is bytes 0-5); combining marks dropped by accent stripping after a letter are not
//             part of its span ("e\u0301" -> e is byte 0-1, as Hugging Face).
// Truncation drops them with their ids; padding adds -1 and {0, 0}.
struct encoding {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> attention_mask;
  std::vector<std::int32_t> token_type_ids;
  std::vector<std::int32_t> word_ids;  // with encode_options::offsets
  std::vector<token_offset> offsets;   // with encode_options::offsets
  [[nodiscard]] std::size_t size() const noexcept { return ids.size(); }
};

// For token classification (NER), from encoding::word_ids: the index of the first token of each
// word, in order. For one text, result[w] is the first token of word w, for the words left after
// truncation; label it with word w's label and ignore the other tokens of the word (Hugging
// Face's -100). For a pair: text_a's words, then text_b's.
[[nodiscard]] inline std::vector<std::size_t> word_starts(std::span<const std::int32_t> word_ids) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < word_ids.size(); ++i) {
    if (word_ids[i] >= 0 && (i == 0 || word_ids[i - 1] != word_ids[i])) out.push_back(i);
  }
  return out;
}

// ---- tokenizer_config.json -------------------------------------------------------------------
//
// tokenizer::read_tokenizer_config() is the one reader of tokenizer_config.json: from_pretrained()
// and bc1s::io::load_tokenizer_config() both go through it, so the rules below hold for both.
//
//   the file          a regular file of at most 16 MiB holding one JSON object; invalid JSON, a key
//                     repeated in one object (Python's json would keep the last) and nesting deeper
//                     than 64 levels are errors. Unknown keys are ignored (tokenizer_class,
//                     added_tokens_decoder, name_or_path, ...).
//   do_lower_case     true or false; absent: true.
//   strip_accents     true, false or null; absent: null (follow do_lower_case).
//   tokenize_chinese_chars   true or false; absent: true.
//   model_max_length  absent: 512 (the BERT position table). An integer >= 2 (written 512 or
//                     512.0): that value. 1e18 or more (transformers writes int(1e30) for "no
//                     limit", a number beyond uint64 that JSON readers see as 1e30) or null
//                     (transformers reads None as the same): kNoMaxLength, no limit of the
//                     tokenizer's own (io::load_tokenizer_config clamps it to the position table).
//                     0 and 1 are errors: no room for [CLS] and [SEP], so every encode() would
//                     fail. Negative, fractional or non-numeric values are errors.
//   do_basic_tokenize absent or true (what this tokenizer does).
//   unk_token, sep_token, pad_token, cls_token, mask_token   absent, or "[UNK]", "[SEP]", "[PAD]",
//                     "[CLS]", "[MASK]" as a string or an AddedToken object {"content": ...}.
//
// Every failure throws tokenizer_config_error, one line naming the file and the key:
//   bc1s::text::tokenizer: <file>: field "model_max_length" is 1, expected at least 2 (...)

// "no limit": model_max_length as read from HF's sentinel (or null).
inline constexpr std::size_t kNoMaxLength = std::numeric_limits<std::size_t>::max();

namespace detail {

inline constexpr std::size_t kMaxTokenizerConfigBytes = std::size_t{16} << 20;
inline constexpr int kMaxTokenizerConfigDepth = 64;
inline constexpr std::uint64_t kNoMaxLengthFrom = 1'000'000'000'000'000'000;  // HF's sentinel

// Control bytes as \n, \xNN; cut to at most max_chars (>= 3) characters in all, ending "..."
// when cut: text from a file kept to one short line. The result has no control bytes and is
// within the bound, so escape_one_line() with the same bound (io's load_error) leaves it unchanged.
inline std::string one_line(std::string_view s, std::size_t max_chars) {
  // With the bound max_chars + 1, escape_one_line() stops at the first point past max_chars (and
  // adds "..."): the same text, cut back below, as escaping all of s.
  std::string out = bc1s::detail::escape_one_line(s, max_chars + 1);
  if (out.size() > max_chars) {
    out.resize(max_chars - 3);
    out += "...";
  }
  return out;
}

}  // namespace detail

// A tokenizer_config.json that is unreadable, malformed or asks for what this tokenizer cannot
// do. what() is "bc1s::text::tokenizer: <file>: <problem>"; file() and problem() are the parts.
class tokenizer_config_error : public std::runtime_error {
 public:
  tokenizer_config_error(const std::filesystem::path& file, const std::string& problem)
      : std::runtime_error("bc1s::text::tokenizer: " + detail::one_line(file.string(), 400) + ": " +
                           detail::one_line(problem, 600)),
        file_(file),
        problem_(detail::one_line(problem, 600)) {}
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

 private:
  std::filesystem::path file_;
  std::string problem_;
};

namespace detail {

class tokenizer_config_reader {
 public:
  explicit tokenizer_config_reader(const std::filesystem::path& file) : file_(file) {}

  tokenizer_options read() {
    const nlohmann::json j = parse(read_file());
    if (!j.is_object())
      fail(std::string("is a JSON ") + bc1s::detail::json_kind(j) + ", expected an object");
    j_ = &j;
    tokenizer_options opts;
    if (const auto* v = find("do_lower_case")) {
      if (!v->is_boolean()) fail_field("do_lower_case", type_of(*v) + ", expected true or false");
      opts.do_lower_case = v->get<bool>();
    }
    if (const auto* v = find("model_max_length")) opts.model_max_length = max_length(*v);
    if (const auto* v = find("strip_accents"); v != nullptr && !v->is_null()) {
      if (!v->is_boolean()) {
        fail_field("strip_accents", type_of(*v) + ", expected true, false or null");
      }
      opts.strip_accents = v->get<bool>();
    }
    if (const auto* v = find("tokenize_chinese_chars")) {
      if (!v->is_boolean()) {
        fail_field("tokenize_chinese_chars", type_of(*v) + ", expected true or false");
      }
      opts.tokenize_chinese_chars = v->get<bool>();
    }
    if (const auto* v = find("do_basic_tokenize");
        v != nullptr && !(v->is_boolean() && v->get<bool>())) {
      fail_field("do_basic_tokenize", "is " + snippet(*v) + ", only true is supported");
    }
    static constexpr std::array<std::pair<const char*, std::string_view>, 5> kSpecials = {
        {{"unk_token", "[UNK]"},
         {"sep_token", "[SEP]"},
         {"pad_token", "[PAD]"},
         {"cls_token", "[CLS]"},
         {"mask_token", "[MASK]"}}};
    for (const auto& [key, expected] : kSpecials) {
      const auto* v = find(key);
      if (v == nullptr) continue;
      const nlohmann::json* content = v;
      if (v->is_object()) {
        const auto it = v->find("content");
        content = it == v->end() ? nullptr : &*it;
      }
      if (content == nullptr || !content->is_string() ||
          content->get_ref<const std::string&>() != expected) {
        fail_field(key,
                   "is " + snippet(*v) + ", only \"" + std::string(expected) + "\" is supported");
      }
    }
    return opts;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw tokenizer_config_error(file_, problem);
  }
  [[noreturn]] void fail_field(std::string_view key, const std::string& problem) const {
    fail("field \"" + std::string(key) + "\" " + problem);
  }

  std::string read_file() const {
    std::error_code ec;
    const auto status = std::filesystem::status(file_, ec);
    if (ec || !std::filesystem::exists(status)) fail("file not found");
    if (std::filesystem::is_directory(status)) fail("is a directory, expected a file");
    if (!std::filesystem::is_regular_file(status)) fail("is not a regular file");
    const auto size = std::filesystem::file_size(file_, ec);
    if (ec) fail("cannot read the file size (" + ec.message() + ")");
    if (size > kMaxTokenizerConfigBytes) {
      fail("file is " + std::to_string(size) + " bytes, more than the " +
           std::to_string(kMaxTokenizerConfigBytes) + " allowed");
    }
    std::ifstream in(file_, std::ios::binary);
    if (!in) fail("cannot open the file");
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.gcount() != static_cast<std::streamsize>(text.size())) fail("cannot read the file");
    return text;
  }

  // JSON, with the checks nlohmann does not make: no key twice in one object, bounded nesting.
  nlohmann::json parse(std::string_view text) const {
    auto r = bc1s::detail::parse_json_strict(
        text, "file", kMaxTokenizerConfigDepth,
        [](std::string_view key) { return snippet(nlohmann::json(std::string(key))); });
    if (!r.problem.empty()) fail(r.problem);
    return std::move(r.value);
  }

  // model_max_length: see the rules above.
  std::size_t max_length(const nlohmann::json& v) const {
    if (v.is_null()) return kNoMaxLength;
    std::uint64_t n = 0;
    if (v.is_number_unsigned()) {
      n = v.get<std::uint64_t>();
    } else if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
      n = static_cast<std::uint64_t>(v.get<std::int64_t>());
    } else if (v.is_number_float() && v.get<double>() >= 0 &&
               std::floor(v.get<double>()) == v.get<double>()) {
      if (v.get<double>() >= static_cast<double>(kNoMaxLengthFrom)) return kNoMaxLength;
      n = static_cast<std::uint64_t>(v.get<double>());
    } else {
      fail_field("model_max_length",
                 type_of(v) + ", expected an integer of at least 2 (1e30 or null: no limit)");
    }
    if (n >= kNoMaxLengthFrom) return kNoMaxLength;
    if (n < 2) {
      fail_field("model_max_length",
                 "is " + snippet(v) + ", expected at least 2 (room for [CLS] and [SEP])");
    }
    return static_cast<std::size_t>(std::min<std::uint64_t>(n, kNoMaxLength));
  }

  const nlohmann::json* find(std::string_view key) const {
    const auto it = j_->find(key);
    return it == j_->end() ? nullptr : &*it;
  }

  // A value as JSON text, ASCII and on one line, cut short.
  static std::string snippet(const nlohmann::json& v) {
    return one_line(
        v.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace), 80);
  }
  static std::string type_of(const nlohmann::json& v) {
    return std::string("is a JSON ") + bc1s::detail::json_kind(v) + " (" + snippet(v) + ")";
  }

  const std::filesystem::path& file_;
  const nlohmann::json* j_ = nullptr;
};

}  // namespace detail

class tokenizer {
 public:
  static constexpr std::array<std::string_view, 5> kSpecialTokens = {"[UNK]", "[SEP]", "[PAD]",
                                                                     "[CLS]", "[MASK]"};

  // Throws std::runtime_error if the vocab lacks [CLS], [SEP] or [PAD] ([UNK] is checked by vocab).
  explicit tokenizer(text::vocab v, tokenizer_options opts = {})
      : vocab_(std::move(v)), opts_(opts) {
    const auto need = [&](std::string_view t) {
      if (auto id = vocab_.find(t)) return *id;
      throw std::runtime_error("bc1s::text::tokenizer: " + vocab_.source() + ": no \"" +
                               std::string(t) +
                               "\" token; BERT inputs need [CLS], [SEP], [PAD] and [UNK]");
    };
    unk_id_ = need("[UNK]");
    cls_id_ = need("[CLS]");
    sep_id_ = need("[SEP]");
    pad_id_ = need("[PAD]");
    for (std::size_t i = 0; i < kSpecialTokens.size(); ++i)
      special_ids_[i] = vocab_.find(kSpecialTokens[i]);
  }

  static tokenizer from_vocab_file(const std::filesystem::path& vocab_txt,
                                   tokenizer_options opts = {}) {
    return tokenizer(text::vocab::load(vocab_txt), opts);
  }

  // A Hugging Face model folder: vocab.txt and, if present, tokenizer_config.json (read by
  // read_tokenizer_config(); settings this tokenizer cannot honour are an error).
  static tokenizer from_pretrained(const std::filesystem::path& model_dir) {
    tokenizer_options opts;
    const auto config = model_dir / "tokenizer_config.json";
    std::error_code ec;
    if (std::filesystem::exists(config, ec)) opts = read_tokenizer_config(config);
    return from_vocab_file(model_dir / "vocab.txt", opts);
  }

  // Reads tokenizer_config.json by the rules above (the file must exist); throws
  // tokenizer_config_error naming the file and the key.
  static tokenizer_options read_tokenizer_config(const std::filesystem::path& file) {
    return detail::tokenizer_config_reader(file).read();
  }

  [[nodiscard]] const text::vocab& vocab() const noexcept { return vocab_; }
  [[nodiscard]] const tokenizer_options& options() const noexcept { return opts_; }
  [[nodiscard]] std::int32_t cls_id() const noexcept { return cls_id_; }
  [[nodiscard]] std::int32_t sep_id() const noexcept { return sep_id_; }
  [[nodiscard]] std::int32_t pad_id() const noexcept { return pad_id_; }
  [[nodiscard]] std::int32_t unk_id() const noexcept { return unk_id_; }

  // Word-piece ids of text, without [CLS]/[SEP], appended to out.
  void tokenize_ids(std::string_view text, std::vector<std::int32_t>& out) const {
    tokenize<false>(text, out, nullptr);
  }

  [[nodiscard]] std::vector<std::int32_t> tokenize_ids(std::string_view text) const {
    std::vector<std::int32_t> out;
    tokenize_ids(text, out);
    return out;
  }

  // Word-piece strings of text, without [CLS]/[SEP] (for inspection).
  [[nodiscard]] std::vector<std::string> tokenize(std::string_view text) const {
    std::vector<std::string> out;
    for (const std::int32_t id : tokenize_ids(text)) out.push_back(vocab_.token(id));
    return out;
  }

  // [CLS] pieces [SEP], truncated / padded as asked. Throws utf8_error, std::length_error
  // (too long without truncation) or std::invalid_argument (bad options).
  [[nodiscard]] encoding encode(std::string_view text, const encode_options& opts = {}) const {
    const std::size_t max_length = check_options(opts, 2);
    if (opts.offsets) return encode_with_offsets(text, opts, max_length);
    encoding e;
    e.ids.push_back(cls_id_);
    tokenize_ids(text, e.ids);
    if (e.ids.size() + 1 > max_length) {
      if (!opts.truncation) throw_too_long(e.ids.size() + 1, max_length);
      e.ids.resize(max_length - 1);
    }
    e.ids.push_back(sep_id_);
    e.attention_mask.assign(e.ids.size(), 1);
    e.token_type_ids.assign(e.ids.size(), 0);
    pad(e, opts.pad_to);
    return e;
  }

  // A sentence pair: [CLS] a... [SEP] b... [SEP], token_type_ids 0 up to the first [SEP], then 1;
  // truncated (longest_first, as Hugging Face) and padded as asked. Throws utf8_error (naming
  // text_a or text_b; offset() within that text), std::length_error (too long without
  // truncation) or std::invalid_argument (bad options; a pair needs max_length >= 3).
  [[nodiscard]] encoding encode(std::string_view text_a, std::string_view text_b,
                                const encode_options& opts = {}) const {
    const std::size_t max_length = check_options(opts, 3);
    std::vector<std::int32_t> a, b;
    std::vector<std::int32_t> words_a, words_b;  // with opts.offsets only
    std::vector<token_offset> offsets_a, offsets_b;
    if (opts.offsets) {
      tracker ta{offsets_a, words_a};
      tracker tb{offsets_b, words_b};
      tokenize_named<true>(text_a, "text_a", a, &ta);
      tokenize_named<true>(text_b, "text_b", b, &tb);
    } else {
      tokenize_named<false>(text_a, "text_a", a, nullptr);
      tokenize_named<false>(text_b, "text_b", b, nullptr);
    }
    const std::size_t total = a.size() + b.size() + 3;
    if (total > max_length) {
      if (!opts.truncation) {
        throw std::length_error(
            "bc1s::text::tokenizer::encode: the pair is " + std::to_string(total) +
            " tokens with [CLS] and two [SEP], more than max_length " + std::to_string(max_length) +
            "; shorten it or set truncation = true");
      }
      // longest_first: one token at a time from the longer, from b on a tie.
      std::size_t remove = total - max_length;
      const std::size_t first =
          std::min(remove, a.size() > b.size() ? a.size() - b.size() : b.size() - a.size());
      remove -= first;
      std::size_t from_a = remove / 2;
      std::size_t from_b = remove - remove / 2;
      (a.size() > b.size() ? from_a : from_b) += first;
      a.resize(a.size() - from_a);
      b.resize(b.size() - from_b);
      if (opts.offsets) {
        offsets_a.resize(a.size());
        words_a.resize(a.size());
        offsets_b.resize(b.size());
        words_b.resize(b.size());
      }
    }
    encoding e;
    e.ids.reserve(a.size() + b.size() + 3);
    e.ids.push_back(cls_id_);
    e.ids.insert(e.ids.end(), a.begin(), a.end());
    e.ids.push_back(sep_id_);
    const std::size_t first_segment = e.ids.size();
    e.ids.insert(e.ids.end(), b.begin(), b.end());
    e.ids.push_back(sep_id_);
    if (opts.offsets) {
      e.word_ids.reserve(e.ids.size());
      e.word_ids.push_back(-1);
      e.word_ids.insert(e.word_ids.end(), words_a.begin(), words_a.end());
      e.word_ids.push_back(-1);
      e.word_ids.insert(e.word_ids.end(), words_b.begin(), words_b.end());
      e.word_ids.push_back(-1);
      e.offsets.reserve(e.ids.size());
      e.offsets.emplace_back();
      e.offsets.insert(e.offsets.end(), offsets_a.begin(), offsets_a.end());
      e.offsets.emplace_back();
      e.offsets.insert(e.offsets.end(), offsets_b.begin(), offsets_b.end());
      e.offsets.emplace_back();
    }
    e.attention_mask.assign(e.ids.size(), 1);
    e.token_type_ids.assign(e.ids.size(), 1);
    std::fill_n(e.token_type_ids.begin(), first_segment, 0);
    pad(e, opts.pad_to);
    return e;
  }

  // Encodes every text with opts, then pads all to the same length: the longest in the batch,
  // or opts.pad_to if that is larger. An error names the index of the text.
  template <std::ranges::input_range R>
  requires std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>
  [[nodiscard]] std::vector<encoding> encode_batch(R&& texts,
                                                   const encode_options& opts = {}) const {
    std::vector<encoding> out;
    if constexpr (std::ranges::sized_range<R>) out.reserve(std::ranges::size(texts));
    std::size_t longest = 0;
    encode_options one = opts;
    one.pad_to = 0;
    for (auto&& t : texts) {
      const std::size_t index = out.size();
      try {
        out.push_back(encode(std::string_view(t), one));
      } catch (const utf8_error& e) {
        throw utf8_error("batch item " + std::to_string(index) + ": " + e.what(), e.offset());
      } catch (const std::length_error& e) {
        throw std::length_error("batch item " + std::to_string(index) + ": " + e.what());
      }
      longest = std::max(longest, out.back().size());
    }
    const std::size_t target = std::max(longest, opts.pad_to);
    for (auto& e : out) pad(e, target);
    return out;
  }

 private:
  struct scratch {
    std::vector<char32_t> cps;   // decoded input
    std::vector<char32_t> buf;   // cleaned segment
    std::vector<char32_t> tmp;   // normalisation scratch
    std::vector<char32_t> word;  // one whitespace token after lowercasing / accent stripping
    std::string utf8;            // one word in UTF-8 for vocab lookups
    std::vector<std::size_t>
        offs;  // byte offset of each code point of the word in utf8, plus the end
  };

  // What encode_options::offsets adds to a tokenize() call: where the word spans go, and the
  // scratch to find them. Invariant: offsets and word_ids have as many entries as the ids.
  struct tracker {
    std::vector<token_offset>& offsets;
    std::vector<std::int32_t>& word_ids;
    std::int32_t word = 0;                    // index of the next word
    std::vector<std::size_t> cp_byte;         // byte offset of each input code point, plus the end
    std::vector<char32_t> pre;                // a cleaned segment before NFC
    std::vector<token_offset> pre_span;       // bytes of each code point of pre
    bool nfc_identity = true;                 // pre is s.buf (the segment is ASCII)
    std::vector<std::size_t> nfc_lo, nfc_hi;  // code points of pre composed into s.buf[j]
    std::vector<char32_t> h, h2;              // a word renormalized, with where each came from
    std::vector<std::size_t> from, from2;
    std::vector<token_offset> word_span;  // bytes of each code point of the word tokenized

    tracker(std::vector<token_offset>& o, std::vector<std::int32_t>& w) : offsets(o), word_ids(w) {}

    void push(token_offset span) {
      offsets.push_back(span);
      word_ids.push_back(word);
    }
  };

  [[noreturn]] static void throw_too_long(std::size_t tokens, std::size_t max_length) {
    throw std::length_error("bc1s::text::tokenizer::encode: the text is " + std::to_string(tokens) +
                            " tokens with [CLS] and [SEP], more than max_length " +
                            std::to_string(max_length) + "; shorten it or set truncation = true");
  }

  // encode() with encode_options::offsets.
  encoding encode_with_offsets(std::string_view text, const encode_options& opts,
                               std::size_t max_length) const {
    encoding e;
    e.ids.push_back(cls_id_);
    e.offsets.emplace_back();
    e.word_ids.push_back(-1);
    tracker t{e.offsets, e.word_ids};
    tokenize<true>(text, e.ids, &t);
    if (e.ids.size() + 1 > max_length) {
      if (!opts.truncation) throw_too_long(e.ids.size() + 1, max_length);
      e.ids.resize(max_length - 1);
      e.offsets.resize(max_length - 1);
      e.word_ids.resize(max_length - 1);
    }
    e.ids.push_back(sep_id_);
    e.offsets.emplace_back();
    e.word_ids.push_back(-1);
    e.attention_mask.assign(e.ids.size(), 1);
    e.token_type_ids.assign(e.ids.size(), 0);
    pad(e, opts.pad_to);
    return e;
  }

  // The effective max_length; specials is 2 for one text, 3 for a pair.
  std::size_t check_options(const encode_options& opts, std::size_t specials) const {
    const std::size_t max_length = opts.max_length == 0 ? opts_.model_max_length : opts.max_length;
    if (max_length < specials) {
      throw std::invalid_argument(
          "bc1s::text::tokenizer::encode: max_length " + std::to_string(max_length) +
          (specials == 2 ? " leaves no room for [CLS] and [SEP]; use at least 2"
                         : " leaves no room for a pair's [CLS] and two [SEP]; use at least 3"));
    }
    if (opts.pad_to > max_length) {
      throw std::invalid_argument("bc1s::text::tokenizer::encode: pad_to " +
                                  std::to_string(opts.pad_to) + " is more than max_length " +
                                  std::to_string(max_length));
    }
    return max_length;
  }

  void pad(encoding& e, std::size_t length) const {
    if (e.ids.size() >= length) return;
    e.ids.resize(length, pad_id_);
    e.attention_mask.resize(length, 0);
    e.token_type_ids.resize(length, 0);
    if (!e.word_ids.empty()) {  // encode_options::offsets
      e.word_ids.resize(length, -1);
      e.offsets.resize(length);
    }
  }

  // tokenize(), with a utf8_error naming which text of a pair is bad.
  template <bool Track>
  void tokenize_named(std::string_view text, std::string_view name, std::vector<std::int32_t>& out,
                      tracker* t) const {
    try {
      tokenize<Track>(text, out, t);
    } catch (const utf8_error& e) {
      throw utf8_error(std::string(name) + ": " + e.what(), e.offset());
    }
  }

  // (length in code points, id) of the special token starting at p, if any.
  [[nodiscard]] std::optional<std::pair<std::size_t, std::int32_t>> match_special(
      const char32_t* p, const char32_t* end) const {
    for (std::size_t k = 0; k < kSpecialTokens.size(); ++k) {
      if (!special_ids_[k]) continue;
      const std::string_view t = kSpecialTokens[k];
      if (static_cast<std::size_t>(end - p) < t.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < t.size() && same; ++i) same = p[i] == static_cast<char32_t>(t[i]);
      if (same) return std::pair{t.size(), *special_ids_[k]};
    }
    return std::nullopt;
  }

  // Word-piece ids of text appended to out; with Track, their words and spans too.
  template <bool Track>
  void tokenize(std::string_view text, std::vector<std::int32_t>& out, tracker* t) const {
    scratch s;
    decode_utf8(text, s.cps);
    if constexpr (Track) {
      t->cp_byte.resize(s.cps.size() + 1);
      std::size_t byte = 0;
      for (std::size_t i = 0; i < s.cps.size(); ++i) {
        t->cp_byte[i] = byte;
        const char32_t c = s.cps[i];
        byte += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      }
      t->cp_byte[s.cps.size()] = byte;
    }
    const char32_t* p = s.cps.data();
    const char32_t* const end = p + s.cps.size();
    const char32_t* segment = p;
    while (p != end) {
      if (*p == U'[') {
        if (auto m = match_special(p, end)) {
          run_basic<Track>(segment, p, s, out, t);
          out.push_back(m->second);
          if constexpr (Track) {
            const auto i = static_cast<std::size_t>(p - s.cps.data());
            t->push({t->cp_byte[i], t->cp_byte[i + m->first]});
            ++t->word;
          }
          p += m->first;
          segment = p;
          continue;
        }
      }
      ++p;
    }
    run_basic<Track>(segment, end, s, out, t);
  }

  // BasicTokenizer + WordPiece over the code points [first, last) of s.cps.
  template <bool Track>
  void run_basic(const char32_t* first, const char32_t* last, scratch& s,
                 std::vector<std::int32_t>& out, tracker* t) const {
    if (first == last) return;
    // Clean, space out CJK ideographs.
    s.buf.clear();
    if constexpr (Track) t->pre_span.clear();
    // The code point at it becomes c in s.buf (with Track, one span per code point of s.buf).
    const auto put = [&](const char32_t* it, char32_t c) {
      s.buf.push_back(c);
      if constexpr (Track) {
        const auto i = static_cast<std::size_t>(it - s.cps.data());
        t->pre_span.push_back({t->cp_byte[i], t->cp_byte[i + 1]});
      }
    };
    bool ascii = true;
    for (const char32_t* it = first; it != last; ++it) {
      const char32_t c = *it;
      if (c < 0x80) {
        if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') {
          put(it, U' ');
        } else if (c < 0x20 || c == 0x7F) {
          // control: dropped
        } else {
          put(it, c);
        }
        continue;
      }
      ascii = false;
      if (c == 0xFFFD || detail::is_control(c)) continue;
      if (detail::is_whitespace(c)) {
        put(it, U' ');
      } else if (opts_.tokenize_chinese_chars && detail::is_cjk_ideograph(c)) {
        put(it, U' ');
        put(it, c);
        put(it, U' ');
      } else {
        put(it, c);
      }
    }
    if constexpr (Track) {
      t->nfc_identity = ascii || detail::all_ascii(s.buf.data(), s.buf.data() + s.buf.size());
      if (!t->nfc_identity) t->pre.assign(s.buf.begin(), s.buf.end());
    }
    if (!ascii) detail::nfc_in_place(s.buf, s.tmp);
    if constexpr (Track) {
      if (!t->nfc_identity) map_nfc(s, *t);
    }
    // Whitespace tokens.
    const char32_t* p = s.buf.data();
    const char32_t* const end = p + s.buf.size();
    while (p != end) {
      while (p != end && detail::is_split_space(*p)) ++p;
      const char32_t* q = p;
      while (q != end && !detail::is_split_space(*q)) ++q;
      if (p != q) run_token<Track>(p, q, s, out, t);
      p = q;
    }
  }

  // One whitespace-delimited token: special token kept whole (HF never_split), else lowercase
  // and / or strip accents, then punctuation split.
  template <bool Track>
  void run_token(const char32_t* first, const char32_t* last, scratch& s,
                 std::vector<std::int32_t>& out, tracker* t) const {
    const bool lower = opts_.do_lower_case;
    [[maybe_unused]] const char32_t* const token = first;  // in s.buf
    [[maybe_unused]] const char32_t* const token_end = last;
    // With do_lower_case, Hugging Face lowercases the text before this step, so a token that
    // reads "[CLS]" only once cleaned ("[CL\u200bS]") is lowercased and split.
    if (!lower && is_special_text(first, last)) {
      if constexpr (Track) word_spans(token, token_end, first, last, false, false, s, *t);
      run_wordpiece<Track>(first, last, s, out, t, 0);  // no punctuation split
      return;
    }
    const bool strip = opts_.strip_accents.value_or(lower);
    if (lower || strip) {
      s.word.clear();
      if (detail::all_ascii(first, last)) {
        for (const char32_t* it = first; it != last; ++it)
          s.word.push_back(lower ? detail::to_lower(*it) : *it);
      } else {
        s.tmp.clear();
        for (const char32_t* it = first; it != last; ++it) {
          if (!lower) {
            s.tmp.push_back(*it);
          } else if (*it == 0x130) {  // Python: "\u0130".lower() == "i\u0307"
            s.tmp.push_back(U'i');
            s.tmp.push_back(0x307);
          } else {
            s.tmp.push_back(detail::to_lower(*it));
          }
        }
        if (strip) {
          detail::nfd(s.tmp.data(), s.tmp.data() + s.tmp.size(), s.word);
          std::erase_if(s.word,
                        [](char32_t c) { return c >= 0x300 && detail::is_nonspacing_mark(c); });
        } else {
          s.word.swap(s.tmp);
        }
      }
      first = s.word.data();
      last = first + s.word.size();
      if constexpr (Track) word_spans(token, token_end, first, last, lower, strip, s, *t);
      if (is_special_text(first, last)) {
        run_wordpiece<Track>(first, last, s, out, t, 0);  // "[CLS]" once its accents are stripped
        return;
      }
    } else if constexpr (Track) {
      word_spans(token, token_end, first, last, false, false, s, *t);
    }
    const char32_t* word = first;
    for (const char32_t* it = first; it != last; ++it) {
      if (detail::is_punctuation(*it)) {
        if (word != it) {
          run_wordpiece<Track>(word, it, s, out, t, static_cast<std::size_t>(word - first));
        }
        run_wordpiece<Track>(it, it + 1, s, out, t, static_cast<std::size_t>(it - first));
        word = it + 1;
      }
    }
    if (word != last) {
      run_wordpiece<Track>(word, last, s, out, t, static_cast<std::size_t>(word - first));
    }
  }

  [[nodiscard]] static bool is_special_text(const char32_t* first, const char32_t* last) {
    const auto n = static_cast<std::size_t>(last - first);
    // std::any_of, not std::ranges::any_of: libc++ 14 has no ranges algorithms.
    return std::any_of(
        std::begin(kSpecialTokens), std::end(kSpecialTokens), [&](std::string_view t) {
          return t.size() == n && std::equal(t.begin(), t.end(), first, [](char a, char32_t b) {
                   return static_cast<char32_t>(static_cast<unsigned char>(a)) == b;
                 });
        });
  }

  // Greedy longest-match-first WordPiece of one word. With Track, the word is
  // t->word_span[at...] and is one word of encoding::word_ids.
  template <bool Track>
  void run_wordpiece(const char32_t* first, const char32_t* last, scratch& s,
                     std::vector<std::int32_t>& out, tracker* t,
                     [[maybe_unused]] std::size_t at) const {
    const auto n = static_cast<std::size_t>(last - first);
    [[maybe_unused]] const token_offset* span = nullptr;
    if constexpr (Track) span = t->word_span.data() + at;
    if (n > opts_.max_input_chars_per_word) {
      out.push_back(unk_id_);
      if constexpr (Track) {
        t->push({span[0].begin, span[n - 1].end});
        ++t->word;
      }
      return;
    }
    s.utf8.clear();
    s.offs.clear();
    for (const char32_t* it = first; it != last; ++it) {
      s.offs.push_back(s.utf8.size());
      append_utf8(s.utf8, *it);
    }
    s.offs.push_back(s.utf8.size());
    const std::string_view w = s.utf8;
    const std::size_t mark = out.size();
    std::size_t start = 0;
    while (start < n) {
      std::size_t end = n;
      std::optional<std::int32_t> id;
      while (start < end) {
        const std::string_view sub = w.substr(s.offs[start], s.offs[end] - s.offs[start]);
        id = start == 0 ? vocab_.find(sub) : vocab_.find_continuation(sub);
        if (id) break;
        --end;
      }
      if (!id) {
        out.resize(mark);
        out.push_back(unk_id_);
        if constexpr (Track) {
          t->offsets.resize(mark);
          t->word_ids.resize(mark);
          t->push({span[0].begin, span[n - 1].end});
          ++t->word;
        }
        return;
      }
      out.push_back(*id);
      if constexpr (Track) t->push({span[start].begin, span[end - 1].end});
      start = end;
    }
    if constexpr (Track) ++t->word;
  }

  // ---- encode_options::offsets: where each code point of a word came from ------------------
  //
  // Hugging Face's fast tokenizer keeps, for each normalized character, the original character
  // it came from, and a token spans its first to its last character's originals. Its normalizer
  // differs from the slow tokenizer's steps followed here: no NFC, and accents are stripped
  // (NFD, drop Mn) before lowercasing. So a word's spans are found by redoing Hugging Face's
  // normalization on the original code points the word came from; where that gives the word
  // tokenized here (nearly always), each code point takes the span Hugging Face gives it. Where
  // it does not (NFC changed the word, so Hugging Face's tokens differ anyway), each takes the
  // span of the code points NFC composed into the one it came from.

  // t.nfc_lo[j], t.nfc_hi[j]: the code points of t.pre that NFC composed into s.buf[j].
  static void map_nfc(const scratch& s, tracker& t) {
    detail::nfd_indexed(t.pre.data(), t.pre.data() + t.pre.size(), t.h, t.from);
    detail::compose_indexed(t.h, t.from, t.h2, t.nfc_lo, t.nfc_hi);
    if (t.h2 != s.buf) {  // not expected: then every code point spans the segment
      t.nfc_lo.assign(s.buf.size(), 0);
      t.nfc_hi.assign(s.buf.size(), t.pre.size());
    }
  }

  // t.word_span: the span of each code point of [first, last), the word as tokenized, made
  // from the code points [token, token_end) of s.buf by lowercasing (lowered) and NFD + dropping
  // Mn (stripped).
  void word_spans(const char32_t* token, const char32_t* token_end, const char32_t* first,
                  const char32_t* last, bool lowered, bool stripped, const scratch& s,
                  tracker& t) const {
    const auto j0 = static_cast<std::size_t>(token - s.buf.data());
    const auto j1 = static_cast<std::size_t>(token_end - s.buf.data());
    const auto n = static_cast<std::size_t>(last - first);
    t.word_span.clear();
    if (n == 0) return;    // every code point was a mark, stripped
    if (t.nfc_identity) {  // ASCII: one code point of the word per code point of s.buf
      t.word_span.assign(t.pre_span.begin() + static_cast<std::ptrdiff_t>(j0),
                         t.pre_span.begin() + static_cast<std::ptrdiff_t>(j0 + n));
      return;
    }
    std::size_t k0 = t.nfc_lo[j0], k1 = t.nfc_hi[j0];
    for (std::size_t j = j0; j < j1; ++j) {
      k0 = std::min(k0, t.nfc_lo[j]);
      k1 = std::max(k1, t.nfc_hi[j]);
    }
    // Hugging Face's BertNormalizer on t.pre[k0, k1): strip accents, then lowercase.
    const bool lower = opts_.do_lower_case;
    const bool strip = opts_.strip_accents.value_or(lower);
    normalize_indexed(t.pre.data() + k0, t.pre.data() + k1, false, strip, false, t);
    if (lower) normalize_indexed(t.h.data(), t.h.data() + t.h.size(), true, false, true, t);
    if (t.h.size() == n && std::equal(t.h.begin(), t.h.end(), first)) {
      for (const std::size_t k : t.from) t.word_span.push_back(t.pre_span[k0 + k]);
      return;
    }
    // The steps of run_token, from s.buf[j0, j1).
    normalize_indexed(token, token_end, lowered, false, false, t);
    if (stripped) normalize_indexed(t.h.data(), t.h.data() + t.h.size(), false, true, true, t);
    if (t.h.size() == n) {
      for (const std::size_t j : t.from) {
        t.word_span.push_back(
            {t.pre_span[t.nfc_lo[j0 + j]].begin, t.pre_span[t.nfc_hi[j0 + j] - 1].end});
      }
      // Canonical reordering may have put them out of order: make begins and ends
      // non-decreasing, widening spans (so a token still covers every code point it came from).
      for (std::size_t i = n - 1; i-- > 0;) {
        t.word_span[i].begin = std::min(t.word_span[i].begin, t.word_span[i + 1].begin);
      }
      for (std::size_t i = 1; i < n; ++i) {
        t.word_span[i].end = std::max(t.word_span[i].end, t.word_span[i - 1].end);
      }
    } else {  // not expected
      t.word_span.assign(n, {t.pre_span[k0].begin, t.pre_span[k1 - 1].end});
    }
  }

  // [first, last) lowercased (as run_token), or NFD'd without Mn, into t.h; t.from[i]: the
  // index in [first, last) of the code point t.h[i] came from, or with chained ([first, last)
  // is t.h itself), the t.from of that code point.
  static void normalize_indexed(const char32_t* first, const char32_t* last, bool lower, bool strip,
                                bool chained, tracker& t) {
    t.h2.clear();
    t.from2.clear();
    if (strip) {
      detail::nfd_indexed(first, last, t.h2, t.from2);
      std::size_t kept = 0;
      for (std::size_t i = 0; i < t.h2.size(); ++i) {
        if (t.h2[i] >= 0x300 && detail::is_nonspacing_mark(t.h2[i])) continue;
        t.h2[kept] = t.h2[i];
        t.from2[kept] = t.from2[i];
        ++kept;
      }
      t.h2.resize(kept);
      t.from2.resize(kept);
    } else {
      for (const char32_t* it = first; it != last; ++it) {
        const auto i = static_cast<std::size_t>(it - first);
        if (lower && *it == 0x130) {
          t.h2.push_back(U'i');
          t.h2.push_back(0x307);
          t.from2.push_back(i);
          t.from2.push_back(i);
        } else {
          t.h2.push_back(lower ? detail::to_lower(*it) : *it);
          t.from2.push_back(i);
        }
      }
    }
    if (chained) {
      for (std::size_t& f : t.from2) f = t.from[f];
    }
    t.h.swap(t.h2);
    t.from.swap(t.from2);
  }

  text::vocab vocab_;
  tokenizer_options opts_;
  std::int32_t unk_id_ = 0, cls_id_ = 0, sep_id_ = 0, pad_id_ = 0;
  std::array<std::optional<std::int32_t>, kSpecialTokens.size()> special_ids_{};
};

}  // namespace bc1s::text
