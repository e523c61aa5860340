// Fuzz target: the BERT WordPiece tokenizer (bc1s/text/wordpiece.hpp) on arbitrary bytes,
// invalid UTF-8 included, with the real bert-base-uncased vocabulary.
//
// The vocabulary is loaded once: $BC1S_FUZZ_VOCAB, else the path compiled in as
// BC1S_FUZZ_VOCAB (../shared/data/distilbert-sst2/vocab.txt). Without it the target exits with
// status 77 (a skipped CTest test).
//
// Input: byte 0 flags (bit 0 cased tokenizer, bit 1 truncation, bit 2 pad, bit 3 batch of the
// '\n'-separated lines), bytes 1-2 max_length (little-endian, mod 600; 0: the default 512),
// byte 3 pad_to, then the text. Oracles: invalid UTF-8 <=> utf8_error at the offset an
// independent validator finds; bad options <=> invalid_argument; too long <=> length_error
// (without truncation); otherwise [CLS] + tokenize_ids(text) (cut to max_length) + [SEP] + [PAD]s,
// every id in the vocabulary.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bc1s/text/wordpiece.hpp"
#include "fuzz_util.hpp"

#ifndef BC1S_FUZZ_VOCAB
#define BC1S_FUZZ_VOCAB "../shared/data/distilbert-sst2/vocab.txt"
#endif

namespace {

struct tokenizers {
  bc1s::text::tokenizer uncased, cased;
};

const tokenizers& get() {
  static const tokenizers t = [] {
    const char* env = std::getenv("BC1S_FUZZ_VOCAB");
    const std::filesystem::path path = env != nullptr && *env != '\0' ? env : BC1S_FUZZ_VOCAB;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      std::fprintf(stderr, "fuzz_tokenizer: SKIP: vocabulary %s not found (set BC1S_FUZZ_VOCAB)\n",
                   path.c_str());
      std::exit(77);
    }
    auto v = bc1s::text::vocab::load(path);
    bc1s::text::tokenizer_options cased;
    cased.do_lower_case = false;
    return tokenizers{bc1s::text::tokenizer(v), bc1s::text::tokenizer(v, cased)};
  }();
  return t;
}

// Offset of the first byte that is not strict UTF-8 (the lead byte of a bad sequence), if any.
// Written from RFC 3629's table, independently of bc1s::text::decode_utf8.
std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned c = p[i];
    std::size_t len;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
      len = 3;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else {
      return i;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= s.size()) return i;
      const unsigned b = p[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return i;
    }
    i += len;
  }
  return std::nullopt;
}

void check_one(const bc1s::text::tokenizer& tok, std::string_view text,
               const bc1s::text::encode_options& opts) {
  const std::size_t max_length = opts.max_length == 0 ? 512 : opts.max_length;
  const bool bad_options = max_length < 2 || opts.pad_to > max_length;
  const auto invalid = first_invalid_utf8(text);

  std::optional<bc1s::text::encoding> e;
  try {
    e = tok.encode(text, opts);
  } catch (const std::invalid_argument& x) {
    BC1S_FUZZ_CHECK(bad_options, x.what());
    BC1S_FUZZ_ONE_LINE(x, "bc1s::text::tokenizer::encode: ");
    return;
  } catch (const bc1s::text::utf8_error& x) {
    BC1S_FUZZ_CHECK(!bad_options, "options are checked first");
    BC1S_FUZZ_CHECK(invalid.has_value(), std::string("utf8_error on valid UTF-8: ") + x.what());
    BC1S_FUZZ_CHECK(x.offset() == *invalid, "utf8_error at offset " + std::to_string(x.offset()) +
                                                ", the first bad byte is at " +
                                                std::to_string(*invalid));
    BC1S_FUZZ_ONE_LINE(x, "bc1s::text: invalid UTF-8 at byte offset " + std::to_string(*invalid));
    return;
  } catch (const std::length_error& x) {
    BC1S_FUZZ_CHECK(!bad_options && !invalid && !opts.truncation, x.what());
    BC1S_FUZZ_ONE_LINE(x, "bc1s::text::tokenizer::encode: ");
    BC1S_FUZZ_CHECK(tok.tokenize_ids(text).size() + 2 > max_length, "length_error but it fits");
    return;
  }
  BC1S_FUZZ_CHECK(!bad_options, "bad options accepted");
  BC1S_FUZZ_CHECK(!invalid, "invalid UTF-8 accepted at offset " + std::to_string(*invalid));

  // [CLS] + pieces (cut to fit) + [SEP] + padding.
  const std::vector<std::int32_t> pieces = tok.tokenize_ids(text);
  const std::size_t kept = std::min(pieces.size(), max_length - 2);
  BC1S_FUZZ_CHECK(opts.truncation || kept == pieces.size(), "truncated without truncation");
  const std::size_t real = kept + 2;
  const std::size_t total = std::max(real, opts.pad_to);
  BC1S_FUZZ_CHECK(
      e->ids.size() == total && e->attention_mask.size() == total,
      "length " + std::to_string(e->ids.size()) + ", expected " + std::to_string(total));
  BC1S_FUZZ_CHECK(e->ids[0] == tok.cls_id() && e->ids[real - 1] == tok.sep_id(), "[CLS]/[SEP]");
  const auto vocab_size = static_cast<std::int32_t>(tok.vocab().size());
  for (std::size_t i = 0; i < total; ++i) {
    const std::int32_t id = e->ids[i];
    BC1S_FUZZ_CHECK(id >= 0 && id < vocab_size, "id " + std::to_string(id) + " outside the vocab");
    if (i > 0 && i + 1 < real) BC1S_FUZZ_CHECK(id == pieces[i - 1], "piece " + std::to_string(i));
    if (i >= real) BC1S_FUZZ_CHECK(id == tok.pad_id(), "padding is not [PAD]");
    BC1S_FUZZ_CHECK(e->attention_mask[i] == (i < real ? 1 : 0), "attention mask");
  }
  const auto strings = tok.tokenize(text);
  BC1S_FUZZ_CHECK(strings.size() == pieces.size(), "tokenize() and tokenize_ids() disagree");
  for (std::size_t i = 0; i < strings.size(); ++i) {
    BC1S_FUZZ_CHECK(strings[i] == tok.vocab().token(pieces[i]), "tokenize() string");
  }
}

void check_batch(const bc1s::text::tokenizer& tok, std::string_view text,
                 const bc1s::text::encode_options& opts) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0;;) {
    const std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  try {
    const auto out = tok.encode_batch(lines, opts);
    BC1S_FUZZ_CHECK(out.size() == lines.size(), "batch size");
    std::size_t longest = opts.pad_to;
    for (const auto& e : out) longest = std::max(longest, e.size());
    bc1s::text::encode_options one = opts;
    for (std::size_t i = 0; i < out.size(); ++i) {
      BC1S_FUZZ_CHECK(out[i].size() == longest, "batch items padded to different lengths");
      one.pad_to = longest;
      const auto alone = tok.encode(lines[i], one);
      BC1S_FUZZ_CHECK(alone.ids == out[i].ids && alone.attention_mask == out[i].attention_mask,
                      "batch item " + std::to_string(i) + " differs from encoding it alone");
    }
  } catch (const std::invalid_argument& x) {
    BC1S_FUZZ_ONE_LINE(x, "bc1s::text::tokenizer::encode: ");
  } catch (const bc1s::text::utf8_error& x) {
    BC1S_FUZZ_ONE_LINE(x, "batch item ");
  } catch (const std::length_error& x) {
    BC1S_FUZZ_CHECK(!opts.truncation, x.what());
    BC1S_FUZZ_ONE_LINE(x, "batch item ");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const tokenizers& t = get();
  bc1s_fuzz::byte_reader in(data, size);
  const std::uint8_t flags = in.u8();
  bc1s::text::encode_options opts;
  opts.max_length = in.u16() % 600u;
  const std::uint8_t pad = in.u8();
  opts.truncation = (flags & 2u) != 0;
  opts.pad_to = (flags & 4u) != 0 ? pad : 0;
  const std::string_view text = in.rest();
  const bc1s::text::tokenizer& tok = (flags & 1u) != 0 ? t.cased : t.uncased;
  if ((flags & 8u) != 0) {
    check_batch(tok, text, opts);
  } else {
    check_one(tok, text, opts);
  }
  return 0;
}
