// BERT WordPiece tokenizer with the semantics of Hugging Face's (slow, Python) BertTokenizer:
// special-token split, BasicTokenizer, then WordpieceTokenizer.
//
//   text (UTF-8) -> [CLS] ids... [SEP] -> padded to a length with [PAD], attention mask 1/0
//
// Steps, in Hugging Face's order:
//  1. The text is split around the literal special tokens "[CLS]" "[SEP]" "[PAD]" "[MASK]"
//     "[UNK]" (case-sensitive, anywhere, even inside a word: "a[SEP]b" is a, [SEP], b). Each
//     becomes its own id. "[cls]" is ordinary text: [ cl ##s ].
//  2. Cleaning: U+0000, U+FFFD and every C* character (control, format such as U+200B/U+200D/
//     U+00AD, private use, unassigned) are dropped; \t \n \r and Zs become a space.
//  3. CJK ideographs (HF _is_chinese_char ranges) are surrounded by spaces; then NFC.
//  4. Split on whitespace (space, U+2028, U+2029). With do_lower_case each piece is lowercased,
//     NFD-decomposed and stripped of Mn marks; without it, a piece equal to a special token is
//     kept whole. Then punctuation (P* and ASCII 33-47, 58-64, 91-96, 123-126) is split off.
//  5. WordPiece: greedy longest match first, "##" continuations; a word of more than 100 code
//     points, or one with no full decomposition, is a single [UNK].
//
// Invalid UTF-8 throws bc1s::text::utf8_error (byte offset in the message). A sequence longer
// than max_length throws std::length_error unless truncation is asked for (HF only warns).
//
// Known differences from Hugging Face: a special token missing from vocab.txt is ordinary text
// here (HF appends it as a new id past the vocab); character classes come from utf8proc's
// Unicode version (15.0 for utf8proc 2.8, the same as Python 3.12's unicodedata; under another
// Python, characters assigned in between are "unassigned" there and dropped).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/text/unicode.hpp"
#include "bc1s/text/vocab.hpp"

namespace bc1s::text {

struct tokenizer_options {
  bool do_lower_case = true;                   // lowercase + strip accents (uncased models)
  std::size_t model_max_length = 512;          // default encode_options::max_length
  std::size_t max_input_chars_per_word = 100;  // longer words become [UNK]
};

struct encode_options {
  std::size_t max_length =
      0;  // limit on ids incl. [CLS] and [SEP]; 0: the tokenizer's model_max_length
  bool truncation = false;  // drop trailing word pieces to fit max_length (else std::length_error)
  std::size_t pad_to = 0;   // pad with [PAD] (mask 0) up to this length; 0: no padding
};

// One encoded sequence: ids = [CLS] pieces... [SEP] [PAD]...; attention_mask 1 for real ids.
struct encoding {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> attention_mask;
  [[nodiscard]] std::size_t size() const noexcept { return ids.size(); }
};

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

  // A Hugging Face model folder: vocab.txt and, if present, tokenizer_config.json
  // (do_lower_case, model_max_length; settings this tokenizer cannot honour are an error).
  static tokenizer from_pretrained(const std::filesystem::path& model_dir) {
    tokenizer_options opts;
    const auto config = model_dir / "tokenizer_config.json";
    std::error_code ec;
    if (std::filesystem::exists(config, ec)) opts = read_tokenizer_config(config);
    return from_vocab_file(model_dir / "vocab.txt", opts);
  }

  // Parses tokenizer_config.json into options; throws std::runtime_error naming the file.
  static tokenizer_options read_tokenizer_config(const std::filesystem::path& file) {
    const std::string name = file.string();
    const auto fail = [&](const std::string& what) -> void {
      throw std::runtime_error("bc1s::text::tokenizer: " + name + ": " + what);
    };
    std::ifstream in(file, std::ios::binary);
    if (!in) fail("cannot open the file");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      // parse_error, and out_of_range for a number beyond double (e.g. 1e400).
      fail(std::string("malformed JSON (") + e.what() + ")");
    }
    if (!j.is_object()) fail("expected a JSON object at the top level");
    tokenizer_options opts;
    if (auto it = j.find("do_lower_case"); it != j.end()) {
      if (!it->is_boolean()) fail("\"do_lower_case\" must be true or false");
      opts.do_lower_case = it->get<bool>();
    }
    if (auto it = j.find("model_max_length"); it != j.end()) {
      if (it->is_number_unsigned() || (it->is_number_integer() && it->get<std::int64_t>() > 0)) {
        opts.model_max_length = static_cast<std::size_t>(it->get<std::uint64_t>());
      } else if (it->is_number_float() && it->get<double>() >= 1e18) {
        opts.model_max_length =
            std::numeric_limits<std::size_t>::max();  // HF's "no limit" sentinel
      } else {
        fail("\"model_max_length\" must be a positive integer");
      }
      if (opts.model_max_length < 2)
        fail("\"model_max_length\" must be at least 2 ([CLS] and [SEP])");
    }
    if (auto it = j.find("tokenize_chinese_chars");
        it != j.end() && !(it->is_boolean() && it->get<bool>())) {
      fail("\"tokenize_chinese_chars\" other than true is not supported");
    }
    if (auto it = j.find("strip_accents"); it != j.end() && !it->is_null()) {
      if (!it->is_boolean() || it->get<bool>() != opts.do_lower_case) {
        fail("\"strip_accents\" other than null (or equal to do_lower_case) is not supported");
      }
    }
    if (auto it = j.find("do_basic_tokenize");
        it != j.end() && !(it->is_boolean() && it->get<bool>())) {
      fail("\"do_basic_tokenize\" other than true is not supported");
    }
    const std::array<std::pair<const char*, std::string_view>, 5> specials = {
        {{"unk_token", "[UNK]"},
         {"sep_token", "[SEP]"},
         {"pad_token", "[PAD]"},
         {"cls_token", "[CLS]"},
         {"mask_token", "[MASK]"}}};
    for (const auto& [key, expected] : specials) {
      auto it = j.find(key);
      if (it == j.end()) continue;
      const nlohmann::json* v = &*it;
      if (v->is_object() && v->contains("content")) v = &(*v)["content"];
      if (!v->is_string() || v->get<std::string>() != expected) {
        fail(std::string("\"") + key + "\" other than \"" + std::string(expected) +
             "\" is not supported");
      }
    }
    return opts;
  }

  [[nodiscard]] const text::vocab& vocab() const noexcept { return vocab_; }
  [[nodiscard]] const tokenizer_options& options() const noexcept { return opts_; }
  [[nodiscard]] std::int32_t cls_id() const noexcept { return cls_id_; }
  [[nodiscard]] std::int32_t sep_id() const noexcept { return sep_id_; }
  [[nodiscard]] std::int32_t pad_id() const noexcept { return pad_id_; }
  [[nodiscard]] std::int32_t unk_id() const noexcept { return unk_id_; }

  // Word-piece ids of text, without [CLS]/[SEP], appended to out.
  void tokenize_ids(std::string_view text, std::vector<std::int32_t>& out) const {
    scratch s;
    decode_utf8(text, s.cps);
    const char32_t* p = s.cps.data();
    const char32_t* const end = p + s.cps.size();
    const char32_t* segment = p;
    while (p != end) {
      if (*p == U'[') {
        if (auto m = match_special(p, end)) {
          run_basic(segment, p, s, out);
          out.push_back(m->second);
          p += m->first;
          segment = p;
          continue;
        }
      }
      ++p;
    }
    run_basic(segment, end, s, out);
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
    const std::size_t max_length = check_options(opts);
    encoding e;
    e.ids.push_back(cls_id_);
    tokenize_ids(text, e.ids);
    if (e.ids.size() + 1 > max_length) {
      if (!opts.truncation) {
        throw std::length_error(
            "bc1s::text::tokenizer::encode: the text is " + std::to_string(e.ids.size() + 1) +
            " tokens with [CLS] and [SEP], more than max_length " + std::to_string(max_length) +
            "; shorten it or set truncation = true");
      }
      e.ids.resize(max_length - 1);
    }
    e.ids.push_back(sep_id_);
    e.attention_mask.assign(e.ids.size(), 1);
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

  std::size_t check_options(const encode_options& opts) const {
    const std::size_t max_length = opts.max_length == 0 ? opts_.model_max_length : opts.max_length;
    if (max_length < 2) {
      throw std::invalid_argument("bc1s::text::tokenizer::encode: max_length " +
                                  std::to_string(max_length) +
                                  " leaves no room for [CLS] and [SEP]; use at least 2");
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

  // BasicTokenizer + WordPiece over the code points [first, last).
  void run_basic(const char32_t* first, const char32_t* last, scratch& s,
                 std::vector<std::int32_t>& out) const {
    if (first == last) return;
    // Clean, space out CJK ideographs.
    s.buf.clear();
    bool ascii = true;
    for (const char32_t* it = first; it != last; ++it) {
      const char32_t c = *it;
      if (c < 0x80) {
        if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') {
          s.buf.push_back(U' ');
        } else if (c < 0x20 || c == 0x7F) {
          // control: dropped
        } else {
          s.buf.push_back(c);
        }
        continue;
      }
      ascii = false;
      if (c == 0xFFFD || detail::is_control(c)) continue;
      if (detail::is_whitespace(c)) {
        s.buf.push_back(U' ');
      } else if (detail::is_cjk_ideograph(c)) {
        s.buf.push_back(U' ');
        s.buf.push_back(c);
        s.buf.push_back(U' ');
      } else {
        s.buf.push_back(c);
      }
    }
    if (!ascii) detail::nfc_in_place(s.buf, s.tmp);
    // Whitespace tokens.
    const char32_t* p = s.buf.data();
    const char32_t* const end = p + s.buf.size();
    while (p != end) {
      while (p != end && detail::is_split_space(*p)) ++p;
      const char32_t* q = p;
      while (q != end && !detail::is_split_space(*q)) ++q;
      if (p != q) run_token(p, q, s, out);
      p = q;
    }
  }

  // One whitespace-delimited token: lowercase + strip accents (or never_split), punctuation split.
  void run_token(const char32_t* first, const char32_t* last, scratch& s,
                 std::vector<std::int32_t>& out) const {
    if (opts_.do_lower_case) {
      s.word.clear();
      if (detail::all_ascii(first, last)) {
        for (const char32_t* it = first; it != last; ++it) s.word.push_back(detail::to_lower(*it));
      } else {
        s.tmp.clear();
        for (const char32_t* it = first; it != last; ++it) s.tmp.push_back(detail::to_lower(*it));
        detail::nfd(s.tmp.data(), s.tmp.data() + s.tmp.size(), s.word);
        std::erase_if(s.word,
                      [](char32_t c) { return c >= 0x300 && detail::is_nonspacing_mark(c); });
      }
      first = s.word.data();
      last = first + s.word.size();
    } else if (is_special_text(first, last)) {
      run_wordpiece(first, last, s, out);  // HF never_split: no punctuation split
      return;
    }
    const char32_t* word = first;
    for (const char32_t* it = first; it != last; ++it) {
      if (detail::is_punctuation(*it)) {
        if (word != it) run_wordpiece(word, it, s, out);
        run_wordpiece(it, it + 1, s, out);
        word = it + 1;
      }
    }
    if (word != last) run_wordpiece(word, last, s, out);
  }

  [[nodiscard]] static bool is_special_text(const char32_t* first, const char32_t* last) {
    const auto n = static_cast<std::size_t>(last - first);
    return std::ranges::any_of(kSpecialTokens, [&](std::string_view t) {
      return t.size() == n && std::equal(t.begin(), t.end(), first, [](char a, char32_t b) {
               return static_cast<char32_t>(static_cast<unsigned char>(a)) == b;
             });
    });
  }

  // Greedy longest-match-first WordPiece of one word.
  void run_wordpiece(const char32_t* first, const char32_t* last, scratch& s,
                     std::vector<std::int32_t>& out) const {
    const auto n = static_cast<std::size_t>(last - first);
    if (n > opts_.max_input_chars_per_word) {
      out.push_back(unk_id_);
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
        return;
      }
      out.push_back(*id);
      start = end;
    }
  }

  text::vocab vocab_;
  tokenizer_options opts_;
  std::int32_t unk_id_ = 0, cls_id_ = 0, sep_id_ = 0, pad_id_ = 0;
  std::array<std::optional<std::int32_t>, kSpecialTokens.size()> special_ids_{};
};

}  // namespace bc1s::text
