// bc1s::text tokenizer: token-to-word alignment and byte spans (encode_options::offsets) against
// Hugging Face's fast BertTokenizerFast (word_ids() and offset_mapping, written as UTF-8 byte
// spans to offsets.ids by tools/make_tokenizer_golden.py), plus hand-checked cases, the ids
// being the same with and without offsets, and invariants on random input.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bc1s/text/wordpiece.hpp"

namespace fs = std::filesystem;
using bc1s::text::encode_options;
using bc1s::text::encoding;
using bc1s::text::token_offset;
using bc1s::text::tokenizer;
using bc1s::text::tokenizer_options;

namespace bc1s::text {
// gtest's printer for token_offset: "(begin,end)".
void PrintTo(const token_offset& o, std::ostream* os) {
  *os << "(" << o.begin << "," << o.end << ")";
}
}  // namespace bc1s::text

namespace {

const fs::path kShared = BC1S_SHARED_DATA;
const fs::path kModel = kShared / "distilbert-sst2";
const fs::path kGolden = fs::path(BC1S_TEST_DATA) / "tokenizer";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Lines split on \n; a final empty line (after the last \n) is dropped.
std::vector<std::string> read_lines(const fs::path& p) {
  const std::string all = read_file(p);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos) end = all.size();
    lines.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// Id vectors are written as strings, as in tokenizer_test.cpp (GCC 12.2 with -O2 -mavx512f
// miscompiles some std::vector<std::int32_t>{...} literals).
std::vector<std::int32_t> ints(const std::string& line) {
  std::vector<std::int32_t> out;
  std::istringstream ss(line);
  long v = 0;
  while (ss >> v) out.push_back(static_cast<std::int32_t>(v));
  return out;
}

// "0,0 0,5 6,12" -> {0,0} {0,5} {6,12}
std::vector<token_offset> spans(const std::string& line) {
  std::vector<token_offset> out;
  std::istringstream ss(line);
  std::string item;
  while (ss >> item) {
    const auto comma = item.find(',');
    out.push_back({static_cast<std::size_t>(std::stoull(item.substr(0, comma))),
                   static_cast<std::size_t>(std::stoull(item.substr(comma + 1)))});
  }
  return out;
}

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// stress.txt / variants.txt: hex of the UTF-8 text, a tab, Python's ascii() of it.
std::vector<std::string> hex_inputs(const std::string& file) {
  std::vector<std::string> out;
  for (const auto& line : read_lines(kGolden / file)) out.push_back(unhex(split(line, '\t')[0]));
  return out;
}

std::vector<std::string> sst2_dev() {
  const auto lines = read_lines(kShared / "sst2" / "dev.tsv");
  std::vector<std::string> out;
  for (std::size_t i = 1; i < lines.size(); ++i) out.push_back(split(lines[i], '\t').front());
  return out;
}

const tokenizer& uncased() {
  static const tokenizer t = tokenizer::from_pretrained(kModel);
  return t;
}

// A setting of offsets.ids: "<vocab> <do_lower_case> <strip_accents> <tokenize_chinese_chars>",
// vocab uncased (the model's vocab.txt) or cased (cased_vocab.txt), options 0, 1 or null.
const tokenizer& by_setting(const std::string& setting) {
  static std::map<std::string, tokenizer> cache;
  if (const auto it = cache.find(setting); it != cache.end()) return it->second;
  const auto f = split(setting, ' ');
  if (f.size() != 4) throw std::runtime_error("bad setting " + setting);
  tokenizer_options o;
  o.do_lower_case = f[1] == "1";
  if (f[2] != "null") o.strip_accents = f[2] == "1";
  o.tokenize_chinese_chars = f[3] == "1";
  const fs::path vocab_file = f[0] == "cased" ? kGolden / "cased_vocab.txt" : kModel / "vocab.txt";
  return cache.emplace(setting, tokenizer::from_vocab_file(vocab_file, o)).first->second;
}

std::string show_tokens(const tokenizer& t, const encoding& e) {
  std::string s;
  for (std::size_t i = 0; i < e.size(); ++i) {
    s += t.vocab().token(e.ids[i]);
    if (i < e.word_ids.size()) s += "/w" + std::to_string(e.word_ids[i]);
    if (i < e.offsets.size()) {
      s += "(" + std::to_string(e.offsets[i].begin) + "," + std::to_string(e.offsets[i].end) + ")";
    }
    s += " ";
  }
  return s;
}

encode_options with_offsets() {
  encode_options o;
  o.offsets = true;
  return o;
}

// The tokens' text: each token's span of text.
std::vector<std::string> pieces_of(std::string_view text, const encoding& e) {
  std::vector<std::string> out;
  for (const auto& o : e.offsets) out.emplace_back(text.substr(o.begin, o.end - o.begin));
  return out;
}

}  // namespace

// ---- golden: Hugging Face BertTokenizerFast word_ids() and offset_mapping ------------------

TEST(TokenizerOffsetsGolden, MatchesHuggingFaceFast) {
  const auto lines = read_lines(kGolden / "offsets.ids");
  ASSERT_GT(lines.size(), 1000u);
  const std::map<std::string, std::vector<std::string>> inputs = {
      {"variants", hex_inputs("variants.txt")},
      {"stress", hex_inputs("stress.txt")},
      {"random", hex_inputs("offsets_random.txt")},
      {"sst2_dev", sst2_dev()}};
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& line : read_lines(kGolden / "pairs.txt")) {
    const auto f = split(line, '\t');
    pairs.emplace_back(unhex(f[0]), unhex(f[1]));
  }
  std::map<std::string, std::size_t> per_set;
  std::size_t matched = 0, failures = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto f = split(lines[i], '\t');
    ASSERT_EQ(f.size(), 7u) << "offsets.ids line " << i + 1;
    const std::string& set = f[0];
    const tokenizer& t = by_setting(f[1]);
    const auto index = static_cast<std::size_t>(std::stoull(f[2]));
    const auto max_length = static_cast<std::size_t>(std::stoull(f[3]));
    encoding e;
    std::string shown;
    try {
      if (set == "pairs") {
        ASSERT_LT(index, pairs.size()) << "offsets.ids line " << i + 1;
        encode_options o = with_offsets();
        if (max_length != 0) {
          o.max_length = max_length;
          o.truncation = true;
          o.pad_to = max_length;
        }
        const auto& [a, b] = pairs[index];
        e = t.encode(a, b, o);
        shown = "pair " + std::to_string(index) + " max_length " + std::to_string(max_length);
      } else {
        const auto it = inputs.find(set);
        ASSERT_NE(it, inputs.end()) << "offsets.ids line " << i + 1 << ": set " << set;
        ASSERT_LT(index, it->second.size()) << "offsets.ids line " << i + 1;
        e = t.encode(it->second[index], with_offsets());
        shown = set + " input " + std::to_string(index);
      }
    } catch (const std::exception& ex) {
      ADD_FAILURE() << "offsets.ids line " << i + 1 << ": threw " << ex.what();
      continue;
    }
    ASSERT_EQ(e.word_ids.size(), e.size());
    ASSERT_EQ(e.offsets.size(), e.size());
    const auto want_ids = ints(f[4]);
    const auto want_words = ints(f[5]);
    const auto want_spans = spans(f[6]);
    if (e.ids == want_ids && e.word_ids == want_words && e.offsets == want_spans) {
      ++matched;
      ++per_set[set];
      continue;
    }
    if (++failures <= 5) {
      encoding want;
      want.ids = want_ids;
      want.word_ids = want_words;
      want.offsets = want_spans;
      ADD_FAILURE() << "offsets.ids line " << i + 1 << " (" << f[1] << ", " << shown << ")"
                    << "\n  expected: " << show_tokens(t, want)
                    << "\n  got:      " << show_tokens(t, e);
    }
  }
  std::cout << "[ golden   ] offsets.ids: " << matched << "/" << lines.size()
            << " match Hugging Face (";
  for (const auto& [set, n] : per_set) std::cout << set << " " << n << " ";
  std::cout << ")\n";
  EXPECT_EQ(failures, 0u);
}

// ---- hand-checked cases (the same as BertTokenizerFast gives, in bytes) --------------------

TEST(TokenizerOffsets, OffByDefault) {
  const auto e = uncased().encode("hello world");
  EXPECT_TRUE(e.word_ids.empty());
  EXPECT_TRUE(e.offsets.empty());
  const auto p = uncased().encode("hello", "world", {.pad_to = 8});
  EXPECT_TRUE(p.word_ids.empty());
  EXPECT_TRUE(p.offsets.empty());
}

TEST(TokenizerOffsets, LowercaseAndAccentsKeepOriginalSpans) {
  const std::string text = "Caf\u00e9 Na\u00efve";  // 5 + 1 + 6 bytes
  const auto e = uncased().encode(text, with_offsets());
  EXPECT_EQ(e.ids, ints("101 7668 15743 102"));  // [CLS] cafe naive [SEP]
  EXPECT_EQ(e.word_ids, ints("-1 0 1 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,5 6,12 0,0"));
  EXPECT_EQ(pieces_of(text, e), (std::vector<std::string>{"", "Caf\u00e9", "Na\u00efve", ""}));
  // A decomposed accent: the mark dropped by accent stripping is not part of the span (HF).
  EXPECT_EQ(uncased().encode("e\u0301", with_offsets()).offsets, spans("0,0 0,1 0,0"));
  // Lowercasing U+0130 gives two code points, both from its two bytes.
  const auto i = uncased().encode("\u0130stanbul", with_offsets());
  EXPECT_EQ(i.ids, ints("101 9960 102"));
  EXPECT_EQ(i.offsets, spans("0,0 0,9 0,0"));
  // Crème brûlée: ## pieces inside accented words.
  const std::string b = "Cr\u00e8me br\u00fbl\u00e9e?";
  const auto c = uncased().encode(b, with_offsets());
  EXPECT_EQ(c.ids, ints("101 13675 21382 7987 9307 2063 1029 102"));
  EXPECT_EQ(c.word_ids, ints("-1 0 0 1 1 1 2 -1"));
  EXPECT_EQ(c.offsets, spans("0,0 0,2 2,6 7,9 9,14 14,15 15,16 0,0"));
  EXPECT_EQ(pieces_of(b, c),
            (std::vector<std::string>{"", "Cr", "\u00e8me", "br", "\u00fbl\u00e9", "e", "?", ""}));
}

TEST(TokenizerOffsets, PunctuationIsItsOwnWord) {
  const auto e = uncased().encode("don't", with_offsets());
  EXPECT_EQ(e.ids, ints("101 2123 1005 1056 102"));  // don ' t
  EXPECT_EQ(e.word_ids, ints("-1 0 1 2 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,3 3,4 4,5 0,0"));
  const auto h = uncased().encode("Hello, WORLD!", with_offsets());
  EXPECT_EQ(h.word_ids, ints("-1 0 1 2 3 -1"));
  EXPECT_EQ(h.offsets, spans("0,0 0,5 5,6 7,12 12,13 0,0"));
}

TEST(TokenizerOffsets, CjkIdeographsAreWords) {
  const auto e = uncased().encode("\u4e2d\u6587abc", with_offsets());
  EXPECT_EQ(e.ids, ints("101 1746 1861 5925 102"));  // 中 文 abc
  EXPECT_EQ(e.word_ids, ints("-1 0 1 2 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,3 3,6 6,9 0,0"));
}

TEST(TokenizerOffsets, ContinuationPiecesAndUnk) {
  const auto e = uncased().encode("unaffable", with_offsets());
  EXPECT_EQ(e.ids, ints("101 14477 20961 3468 102"));  // una ##ffa ##ble
  EXPECT_EQ(e.word_ids, ints("-1 0 0 0 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,3 3,6 6,9 0,0"));
  // No full decomposition: one [UNK] for the whole word (the emoji is 4 bytes).
  const auto u = uncased().encode("x\U0001F600y ok", with_offsets());
  EXPECT_EQ(u.ids, ints("101 100 7929 102"));
  EXPECT_EQ(u.word_ids, ints("-1 0 1 -1"));
  EXPECT_EQ(u.offsets, spans("0,0 0,6 7,9 0,0"));
  // Too long: [UNK] for the word up to the punctuation that splits it.
  const auto l = uncased().encode(std::string(101, 'a') + "!b", with_offsets());
  EXPECT_EQ(l.ids, ints("101 100 999 1038 102"));
  EXPECT_EQ(l.offsets, spans("0,0 0,101 101,102 102,103 0,0"));
}

TEST(TokenizerOffsets, ControlCharactersAndWhitespace) {
  // U+200B (3 bytes) is dropped: outside a token before it, inside one between its letters.
  const auto e = uncased().encode("\u200b a\u200bb", with_offsets());
  EXPECT_EQ(e.ids, ints("101 11113 102"));  // ab
  EXPECT_EQ(e.offsets, spans("0,0 4,9 0,0"));
  const auto t = uncased().encode(" \t hello\u3000\n world  ", with_offsets());
  EXPECT_EQ(t.word_ids, ints("-1 0 1 -1"));
  EXPECT_EQ(t.offsets, spans("0,0 3,8 13,18 0,0"));
}

TEST(TokenizerOffsets, SpecialTokensInTextAreWords) {
  const auto e = uncased().encode("hello [SEP] world", with_offsets());
  EXPECT_EQ(e.ids, ints("101 7592 102 2088 102"));
  EXPECT_EQ(e.word_ids, ints("-1 0 1 2 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,5 6,11 12,17 0,0"));
}

TEST(TokenizerOffsets, TruncationAndPadding) {
  const auto e =
      uncased().encode("hello world foo", {.max_length = 4, .truncation = true, .offsets = true});
  EXPECT_EQ(e.ids, ints("101 7592 2088 102"));
  EXPECT_EQ(e.word_ids, ints("-1 0 1 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,5 6,11 0,0"));
  const auto p = uncased().encode("hello world foo", {.pad_to = 7, .offsets = true});
  EXPECT_EQ(p.ids, ints("101 7592 2088 29379 102 0 0"));
  EXPECT_EQ(p.word_ids, ints("-1 0 1 2 -1 -1 -1"));
  EXPECT_EQ(p.offsets, spans("0,0 0,5 6,11 12,15 0,0 0,0 0,0"));
  // Truncation in the middle of a word keeps its first pieces.
  const auto w =
      uncased().encode("unaffable", {.max_length = 4, .truncation = true, .offsets = true});
  EXPECT_EQ(w.ids, ints("101 14477 20961 102"));
  EXPECT_EQ(w.word_ids, ints("-1 0 0 -1"));
  EXPECT_EQ(w.offsets, spans("0,0 0,3 3,6 0,0"));
}

TEST(TokenizerOffsets, PairsRestartWordsAndSpanTheirOwnText) {
  const auto e = uncased().encode("hello world", "foo bar baz", with_offsets());
  EXPECT_EQ(e.ids, ints("101 7592 2088 102 29379 3347 8670 2480 102"));
  EXPECT_EQ(e.word_ids, ints("-1 0 1 -1 0 1 2 2 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,5 6,11 0,0 0,3 4,7 8,10 10,11 0,0"));
  // longest_first truncation as the slow BertTokenizer, one token at a time from the longer
  // text, from text_b on a tie (BertTokenizerFast gives a and b one and two here).
  const auto t = uncased().encode("hello world", "foo bar baz",
                                  {.max_length = 6, .truncation = true, .offsets = true});
  EXPECT_EQ(t.ids, ints("101 7592 2088 102 29379 102"));
  EXPECT_EQ(t.word_ids, ints("-1 0 1 -1 0 -1"));
  EXPECT_EQ(t.offsets, spans("0,0 0,5 6,11 0,0 0,3 0,0"));
  const auto t2 = uncased().encode("hello world", "foo bar baz",
                                   {.max_length = 7, .truncation = true, .offsets = true});
  EXPECT_EQ(t2.ids, ints("101 7592 2088 102 29379 3347 102"));
  EXPECT_EQ(t2.word_ids, ints("-1 0 1 -1 0 1 -1"));
  EXPECT_EQ(t2.offsets, spans("0,0 0,5 6,11 0,0 0,3 4,7 0,0"));
  const auto p = uncased().encode("a", "b", {.pad_to = 6, .offsets = true});
  EXPECT_EQ(p.word_ids, ints("-1 0 -1 0 -1 -1"));
  EXPECT_EQ(p.offsets, spans("0,0 0,1 0,0 0,1 0,0 0,0"));
}

TEST(TokenizerOffsets, BatchPadsOffsetsToo) {
  const std::vector<std::string> texts = {"hello", "hello big world", ""};
  const auto b = uncased().encode_batch(texts, with_offsets());
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].word_ids, ints("-1 0 -1 -1 -1"));
  EXPECT_EQ(b[0].offsets, spans("0,0 0,5 0,0 0,0 0,0"));
  EXPECT_EQ(b[1].offsets, spans("0,0 0,5 6,9 10,15 0,0"));
  EXPECT_EQ(b[2].word_ids, ints("-1 -1 -1 -1 -1"));
}

TEST(TokenizerOffsets, WordStartsForLabelAlignment) {
  // "Crème brûlée in Paris": label each word's first token, ignore its other pieces.
  const std::string text = "Cr\u00e8me br\u00fbl\u00e9e in Paris";
  const auto e = uncased().encode(text, with_offsets());
  const auto starts = bc1s::text::word_starts(e.word_ids);
  ASSERT_EQ(starts.size(), 4u);
  std::vector<std::string> first_pieces;
  for (const std::size_t i : starts) {
    first_pieces.emplace_back(
        std::string_view(text).substr(e.offsets[i].begin, e.offsets[i].end - e.offsets[i].begin));
  }
  EXPECT_EQ(first_pieces, (std::vector<std::string>{"Cr", "br", "in", "Paris"}));
  EXPECT_EQ(starts[0], 1u);
  EXPECT_EQ(starts[1], 3u);
  // A pair: text_a's words, then text_b's.
  const auto p = uncased().encode("hello world", "foo baz", with_offsets());
  const auto ps = bc1s::text::word_starts(p.word_ids);
  EXPECT_EQ(ps, (std::vector<std::size_t>{1, 2, 4, 5}));
  EXPECT_TRUE(bc1s::text::word_starts(std::vector<std::int32_t>{}).empty());
}

TEST(TokenizerOffsets, CasedKeepsSpecialLookalikeWhole) {
  // Without do_lower_case, "[CL\u200bS]" reads "[CLS]" once cleaned and is kept whole (as the
  // slow tokenizer does; Hugging Face's fast tokenizer splits it at the brackets).
  const tokenizer t = tokenizer::from_vocab_file(kModel / "vocab.txt", {.do_lower_case = false});
  const auto e = t.encode("x [CL\u200bS]", with_offsets());
  EXPECT_EQ(e.ids, ints("101 1060 101 102"));
  EXPECT_EQ(e.word_ids, ints("-1 0 1 -1"));
  EXPECT_EQ(e.offsets, spans("0,0 0,1 2,10 0,0"));
}

// ---- the option changes nothing else; invariants on every input -----------------------------

namespace {

// Every span is on code-point boundaries inside the text; words count up from 0 by one; the
// ids, mask and token types are those without the option.
void expect_consistent(const tokenizer& t, std::string_view a, std::optional<std::string_view> b,
                       const encode_options& opts, const std::string& what) {
  encode_options plain = opts;
  plain.offsets = false;
  encode_options with = opts;
  with.offsets = true;
  encoding e0, e;
  try {
    e0 = b ? t.encode(a, *b, plain) : t.encode(a, plain);
  } catch (const std::exception&) {
    EXPECT_ANY_THROW((void)(b ? t.encode(a, *b, with) : t.encode(a, with))) << what;
    return;
  }
  e = b ? t.encode(a, *b, with) : t.encode(a, with);
  ASSERT_EQ(e.ids, e0.ids) << what;
  ASSERT_EQ(e.attention_mask, e0.attention_mask) << what;
  ASSERT_EQ(e.token_type_ids, e0.token_type_ids) << what;
  ASSERT_EQ(e.word_ids.size(), e.size()) << what;
  ASSERT_EQ(e.offsets.size(), e.size()) << what;
  const auto boundary = [](std::string_view s, std::size_t i) {
    return i == s.size() || (static_cast<unsigned char>(s[i]) & 0xC0u) != 0x80u;
  };
  std::int32_t next_word = 0;
  std::size_t last_begin = 0;
  bool second = false;
  for (std::size_t i = 0; i < e.size(); ++i) {
    const bool special = e.ids[i] == t.cls_id() || e.ids[i] == t.pad_id() ||
                         (e.ids[i] == t.sep_id() && e.word_ids[i] < 0);
    if (e.attention_mask[i] == 0 || (special && e.word_ids[i] < 0)) {
      ASSERT_EQ(e.word_ids[i], -1) << what << " token " << i;
      ASSERT_EQ(e.offsets[i], token_offset{}) << what << " token " << i;
      if (b && e.ids[i] == t.sep_id() && !second) {
        second = true;
        next_word = 0;
        last_begin = 0;
      }
      continue;
    }
    const std::string_view text = (b && e.token_type_ids[i] == 1) ? *b : a;
    const auto [begin, end] = e.offsets[i];
    ASSERT_LT(begin, end) << what << " token " << i << ": " << show_tokens(t, e) << " text "
                          << ::testing::PrintToString(std::string(a));
    ASSERT_LE(end, text.size()) << what << " token " << i;
    ASSERT_TRUE(boundary(text, begin) && boundary(text, end)) << what << " token " << i;
    ASSERT_GE(begin, last_begin) << what << " token " << i;
    last_begin = begin;
    const std::int32_t w = e.word_ids[i];
    ASSERT_TRUE(w == next_word || w == next_word - 1) << what << " token " << i;
    if (w == next_word) ++next_word;
  }
}

}  // namespace

TEST(TokenizerOffsets, SameIdsWithAndWithoutOffsets) {
  std::vector<std::string> texts = hex_inputs("stress.txt");
  for (const auto& s : hex_inputs("variants.txt")) texts.push_back(s);
  const auto dev = sst2_dev();
  texts.insert(texts.end(), dev.begin(), dev.end());
  std::vector<const tokenizer*> all = {&uncased()};
  for (const char* v : {"uncased", "cased"}) {
    for (const char* lower : {"0", "1"}) {
      for (const char* strip : {"null", "0", "1"}) {
        for (const char* chinese : {"0", "1"}) {
          all.push_back(&by_setting(std::string(v) + " " + lower + " " + strip + " " + chinese));
        }
      }
    }
  }
  std::size_t n = 0;
  for (const tokenizer* t : all) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (t != &uncased() && i >= 100) break;
      expect_consistent(*t, texts[i], std::nullopt, {}, "text " + std::to_string(i));
      expect_consistent(*t, texts[i], std::nullopt, {.max_length = 8, .truncation = true},
                        "text " + std::to_string(i) + " truncated");
      ++n;
      if (HasFatalFailure()) return;
    }
  }
  for (std::size_t i = 0; i + 1 < 120; ++i) {
    expect_consistent(uncased(), texts[i], texts[i + 1],
                      {.max_length = 12, .truncation = true, .pad_to = 12},
                      "pair " + std::to_string(i));
    if (HasFatalFailure()) return;
  }
  std::cout << "[ offsets  ] " << n << " texts: same ids with and without offsets\n";
}

TEST(TokenizerOffsets, RandomInputInvariants) {
  std::mt19937 rng(20240611);
  // Pieces that exercise every step: accents (composed and not), marks alone, CJK, controls,
  // special tokens, punctuation, Hangul jamo, U+0130, long words.
  const std::vector<std::string> parts = {
      "a",      "B",      "e\u0301",      "\u00e9",       "\u0301", "\u0323\u0300",
      " ",      "\t",     "\u3000",       "\u200b",       "\x01",   "\u4e2d",
      "\u6587", "[SEP]",  "[CLS]",        "[UNK]",        "'",      ",",
      "!",      "-",      "\u2026",       "\u110b\u1161", "\u11ab", "\uac00",
      "\u0130", "I",      "\u00df",       "\U0001F600",   "hello",  "unaffable",
      "\u03a3", "\u1e9e", "\u0e2a\u0e35", "\u212b",       "\u00c5", "\uff21",
      "[",      "]",      "\ufb01",       "\u0345",       "\u0f73", "\u1100\u1161\u11a8"};
  std::vector<const tokenizer*> all = {&uncased()};
  for (const char* s : {"uncased 1 null 1", "uncased 0 null 1", "uncased 1 0 1", "uncased 0 1 0",
                        "cased 0 null 1", "cased 1 1 1"}) {
    all.push_back(&by_setting(s));
  }
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const auto n = std::uniform_int_distribution<int>(0, 24)(rng);
    for (int k = 0; k < n; ++k) {
      text += parts[std::uniform_int_distribution<std::size_t>(0, parts.size() - 1)(rng)];
    }
    const tokenizer& t = *all[static_cast<std::size_t>(round) % all.size()];
    expect_consistent(t, text, std::nullopt, {}, "random " + std::to_string(round));
    expect_consistent(t, text, std::nullopt, {.max_length = 6, .truncation = true, .pad_to = 6},
                      "random truncated " + std::to_string(round));
    if (HasFatalFailure()) return;
  }
}

TEST(TokenizerOffsets, Speed) {
  const auto lines = read_lines(kShared / "sst2" / "test.tsv");
  std::vector<std::string> s;
  for (std::size_t i = 1; i < lines.size(); ++i) s.push_back(split(lines[i], '\t').back());
  const auto& t = uncased();
  const auto time = [&](bool offsets) {
    encode_options o;
    o.offsets = offsets;
    std::size_t n = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& x : s) n += t.encode(x, o).size();
    EXPECT_GT(n, s.size() * 2);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  time(false);  // warm up
  const double plain = time(false);
  const double with = time(true);
  std::cout << "[ speed    ] " << s.size() << " SST-2 test sentences: " << plain << " ms, " << with
            << " ms with offsets\n";
  EXPECT_LT(with, 3000.0) << "far slower than expected";
}
