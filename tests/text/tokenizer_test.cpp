// bc1s::text tokenizer against Hugging Face's slow BertTokenizer (golden ids written by
// tools/make_tokenizer_golden.py: single texts, every tokenizer_config.json setting on an
// uncased and a cased vocab, sentence pairs with truncation), plus unit tests of the vocab
// loader, UTF-8 errors, truncation, padding, sentence pairs and tokenizer_config.json.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bc1s/text/unicode.hpp"
#include "bc1s/text/vocab.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "tokenizer_config_cases.hpp"

namespace fs = std::filesystem;
using bc1s::text::encode_options;
using bc1s::text::tokenizer;
using bc1s::text::utf8_error;
using bc1s::text::vocab;

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

std::vector<std::int32_t> parse_ids(const std::string& line) {
  std::vector<std::int32_t> ids;
  std::istringstream ss(line);
  long v = 0;
  while (ss >> v) ids.push_back(static_cast<std::int32_t>(v));
  return ids;
}

// Id vectors in tests are written as strings: GCC 12.2 with -O2 -mavx512f (-march=native on
// AVX-512 machines) miscompiles some std::vector<std::int32_t>{...} literals next to a fill.
std::vector<std::int32_t> ids(const std::string& s) {
  return parse_ids(s);
}

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// SST-2 sentences exactly as the Python generator reads them.
std::vector<std::string> sst2_sentences(const std::string& file, bool last_column) {
  auto lines = read_lines(kShared / "sst2" / file);
  std::vector<std::string> out;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto fields = split(lines[i], '\t');
    out.push_back(last_column ? fields.back() : fields.front());
  }
  return out;
}

struct stress_case {
  std::string text;
  std::string shown;  // Python ascii() of the text
};

std::vector<stress_case> stress_inputs() {
  std::vector<stress_case> out;
  for (const auto& line : read_lines(kGolden / "stress.txt")) {
    const auto tab = line.find('\t');
    out.push_back(
        {unhex(line.substr(0, tab)), tab == std::string::npos ? "" : line.substr(tab + 1)});
  }
  return out;
}

fs::path temp_dir();
fs::path write_temp(const std::string& name, const std::string& content);

const tokenizer& uncased() {
  static const tokenizer t = tokenizer::from_pretrained(kModel);
  return t;
}

const tokenizer& cased() {
  static const tokenizer t =
      tokenizer::from_vocab_file(kModel / "vocab.txt", {.do_lower_case = false});
  return t;
}

// A model folder as Hugging Face writes one: vocab.txt and a tokenizer_config.json with these
// options, loaded through from_pretrained (so through the config reader).
tokenizer variant(const std::string& vocab_name, bool lower, std::optional<bool> strip,
                  bool chinese) {
  const fs::path vocab_file =
      vocab_name == "cased" ? kGolden / "cased_vocab.txt" : kModel / "vocab.txt";
  const std::string folder = "variant_" + vocab_name + "_" + std::to_string(lower) + "_" +
                             (strip ? std::to_string(*strip) : "null") + "_" +
                             std::to_string(chinese);
  write_temp(folder + "/vocab.txt", read_file(vocab_file));
  write_temp(folder + "/tokenizer_config.json",
             std::string("{\"do_lower_case\": ") + (lower ? "true" : "false") +
                 ", \"strip_accents\": " + (strip ? (*strip ? "true" : "false") : "null") +
                 ", \"tokenize_chinese_chars\": " + (chinese ? "true" : "false") +
                 ", \"model_max_length\": 512}");
  return tokenizer::from_pretrained(temp_dir() / folder);
}

const tokenizer& small_cased() {
  static const tokenizer t =
      tokenizer::from_vocab_file(kGolden / "cased_vocab.txt", {.do_lower_case = false});
  return t;
}

std::string show(const tokenizer& t, const std::vector<std::int32_t>& ids) {
  std::string s;
  for (const auto id : ids) {
    s += std::to_string(id) + "(";
    s += (id >= 0 && static_cast<std::size_t>(id) < t.vocab().size()) ? t.vocab().token(id) : "?";
    s += ") ";
  }
  return s;
}

std::vector<std::int32_t> with_specials(const tokenizer& t, std::string_view text) {
  std::vector<std::int32_t> ids{t.cls_id()};
  t.tokenize_ids(text, ids);
  ids.push_back(t.sep_id());
  return ids;
}

// Compares every text against its golden line; prints the count and the first mismatch.
void expect_golden(const tokenizer& t, const std::vector<std::string>& texts,
                   const std::vector<std::string>& shown, const fs::path& golden_file) {
  const auto golden = read_lines(golden_file);
  ASSERT_EQ(golden.size(), texts.size())
      << golden_file << " has a different number of lines than its inputs";
  std::size_t matched = 0;
  std::size_t first_bad = texts.size();
  std::vector<std::int32_t> first_got;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::vector<std::int32_t> got;
    try {
      got = with_specials(t, texts[i]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << golden_file.filename() << " line " << i + 1 << ": threw " << e.what();
    }
    if (got == parse_ids(golden[i])) {
      ++matched;
    } else if (first_bad == texts.size()) {
      first_bad = i;
      first_got = got;
    }
  }
  std::cout << "[ golden   ] " << golden_file.filename().string() << ": " << matched << "/"
            << texts.size() << " match Hugging Face\n";
  if (first_bad != texts.size()) {
    ADD_FAILURE() << golden_file.filename() << ": " << texts.size() - matched
                  << " mismatches; first at line " << first_bad + 1
                  << "\n  text:     " << shown[first_bad]
                  << "\n  expected: " << show(t, parse_ids(golden[first_bad]))
                  << "\n  got:      " << show(t, first_got);
  }
}

fs::path temp_dir() {
  static const fs::path dir = [] {
    std::random_device rd;
    auto d = fs::temp_directory_path() / ("bc1s_tokenizer_test_" + std::to_string(rd()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

fs::path write_temp(const std::string& name, const std::string& content) {
  const fs::path p = temp_dir() / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

// Expects fn to throw E with a message containing every needle.
template <class E>
void expect_throw_with(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& n : needles)
      EXPECT_NE(what.find(n), std::string::npos) << "message: " << what << "\nlacks: " << n;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "message is not one line: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

}  // namespace

// ---- golden: Hugging Face BertTokenizer (slow), bert-base-uncased vocab ---------------------

TEST(TokenizerGolden, Sst2DevAll872Sentences) {
  const auto s = sst2_sentences("dev.tsv", false);
  ASSERT_EQ(s.size(), 872u);
  expect_golden(uncased(), s, s, kGolden / "sst2_dev.ids");
}

TEST(TokenizerGolden, Sst2TestAll1821Sentences) {
  const auto s = sst2_sentences("test.tsv", true);
  ASSERT_EQ(s.size(), 1821u);
  expect_golden(uncased(), s, s, kGolden / "sst2_test.ids");
}

TEST(TokenizerGolden, StressUncased) {
  std::vector<std::string> texts, shown;
  for (auto& c : stress_inputs()) {
    texts.push_back(c.text);
    shown.push_back(c.shown);
  }
  ASSERT_GT(texts.size(), 50u);
  expect_golden(uncased(), texts, shown, kGolden / "stress.ids");
}

TEST(TokenizerGolden, StressCased) {
  std::vector<std::string> texts, shown;
  for (auto& c : stress_inputs()) {
    texts.push_back(c.text);
    shown.push_back(c.shown);
  }
  expect_golden(cased(), texts, shown, kGolden / "stress_cased.ids");
}

TEST(TokenizerGolden, TruncationAndPaddingTo16) {
  const auto s = sst2_sentences("dev.tsv", false);
  const auto golden = read_lines(kGolden / "dev_trunc16.ids");
  ASSERT_EQ(golden.size(), 100u);
  for (std::size_t i = 0; i < golden.size(); ++i) {
    const auto parts = split(golden[i], '\t');
    ASSERT_EQ(parts.size(), 2u);
    const auto e = uncased().encode(s[i], {.max_length = 16, .truncation = true, .pad_to = 16});
    EXPECT_EQ(e.ids, parse_ids(parts[0])) << "dev sentence " << i + 1 << ": " << s[i];
    EXPECT_EQ(e.attention_mask, parse_ids(parts[1])) << "dev sentence " << i + 1 << ": " << s[i];
  }
}

// Every tokenizer_config.json setting (do_lower_case x strip_accents x tokenize_chinese_chars)
// on the uncased vocab and on a small cased one.
TEST(TokenizerGolden, ConfigVariants) {
  std::vector<std::string> texts, shown;
  for (const auto& line : read_lines(kGolden / "variants.txt")) {
    const auto tab = line.find('\t');
    texts.push_back(unhex(line.substr(0, tab)));
    shown.push_back(tab == std::string::npos ? "" : line.substr(tab + 1));
  }
  ASSERT_GT(texts.size(), 20u);
  const auto lines = read_lines(kGolden / "variants.ids");
  std::size_t settings = 0;
  for (std::size_t i = 0; i < lines.size();) {
    const auto f = split(lines[i], ' ');
    ASSERT_EQ(f.size(), 5u) << "variants.ids line " << i + 1;
    ASSERT_EQ(f[0], "config") << "variants.ids line " << i + 1;
    ASSERT_LE(i + 1 + texts.size(), lines.size()) << "variants.ids ends early";
    const std::optional<bool> strip =
        f[3] == "null" ? std::nullopt : std::optional<bool>(f[3] == "1");
    SCOPED_TRACE(lines[i]);
    const tokenizer t = variant(f[1], f[2] == "1", strip, f[4] == "1");
    EXPECT_EQ(t.options().do_lower_case, f[2] == "1");
    EXPECT_EQ(t.options().strip_accents, strip);
    EXPECT_EQ(t.options().tokenize_chinese_chars, f[4] == "1");
    const fs::path part = write_temp("variants/variants.ids (" + lines[i].substr(7) + ")", [&] {
      std::string out;
      for (std::size_t k = 0; k < texts.size(); ++k) out += lines[i + 1 + k] + "\n";
      return out;
    }());
    expect_golden(t, texts, shown, part);
    // encode() gives the same ids, with token_type_ids all 0.
    for (std::size_t k = 0; k < texts.size(); ++k) {
      const auto e = t.encode(texts[k]);
      EXPECT_EQ(e.ids, parse_ids(lines[i + 1 + k])) << shown[k];
      EXPECT_EQ(e.token_type_ids, std::vector<std::int32_t>(e.ids.size(), 0));
    }
    i += 1 + texts.size();
    ++settings;
  }
  EXPECT_EQ(settings, 24u);
}

// Sentence pairs, without truncation and with longest_first truncation and padding to
// max_length, on the uncased model and the small cased vocab.
TEST(TokenizerGolden, SentencePairs) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::string> shown;
  for (const auto& line : read_lines(kGolden / "pairs.txt")) {
    const auto f = split(line, '\t');
    ASSERT_EQ(f.size(), 3u);
    pairs.emplace_back(unhex(f[0]), unhex(f[1]));
    shown.push_back(f[2]);
  }
  ASSERT_GT(pairs.size(), 10u);
  const auto lines = read_lines(kGolden / "pairs.ids");
  ASSERT_GT(lines.size(), pairs.size() * 8);
  std::size_t matched = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto f = split(lines[i], '\t');
    ASSERT_EQ(f.size(), 6u) << "pairs.ids line " << i + 1;
    const tokenizer& t = f[0] == "cased" ? small_cased() : uncased();
    const auto index = std::stoul(f[1]);
    const auto max_length = std::stoul(f[2]);
    ASSERT_LT(index, pairs.size());
    const auto& [a, b] = pairs[index];
    encode_options o;
    if (max_length != 0) o = {.max_length = max_length, .truncation = true, .pad_to = max_length};
    const auto e = t.encode(a, b, o);
    const bool same = e.ids == parse_ids(f[3]) && e.attention_mask == parse_ids(f[4]) &&
                      e.token_type_ids == parse_ids(f[5]);
    matched += same ? 1 : 0;
    EXPECT_TRUE(same) << "pairs.ids line " << i + 1 << ": " << shown[index] << " (" << f[0]
                      << ", max_length " << max_length
                      << ")\n  expected: " << show(t, parse_ids(f[3])) << "| " << f[5]
                      << "\n  got:      " << show(t, e.ids) << "| " << [&] {
                           std::string s;
                           for (auto v : e.token_type_ids) s += std::to_string(v) + " ";
                           return s;
                         }();
  }
  std::cout << "[ golden   ] pairs.ids: " << matched << "/" << lines.size()
            << " match Hugging Face\n";
}

TEST(TokenizerGolden, Sst2TestSpeed) {
  const auto s = sst2_sentences("test.tsv", true);
  const auto& t = uncased();
  std::size_t n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& x : s) n += t.encode(x).size();
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ speed    ] " << s.size() << " SST-2 test sentences, " << n << " ids in " << ms
            << " ms\n";
  EXPECT_GT(n, s.size() * 2);
  EXPECT_LT(ms, 2000.0)
      << "far slower than expected (target: well under 100 ms in a release build)";
}

// ---- behaviour ----------------------------------------------------------------------------

TEST(Tokenizer, EmptyTextIsClsSep) {
  const auto e = uncased().encode("");
  EXPECT_EQ(e.ids, ids("101 102"));
  EXPECT_EQ(e.attention_mask, ids("1 1"));
  EXPECT_EQ(uncased().encode(" \t\n\u00a0").ids, ids("101 102"));
}

TEST(Tokenizer, WordPieces) {
  EXPECT_EQ(uncased().tokenize("Unaffable hello, WORLD!"),
            (std::vector<std::string>{"una", "##ffa", "##ble", "hello", ",", "world", "!"}));
  // 100 code points is still a word (aaa + 48 x ##aa + ##a, as HF); 101 is [UNK].
  const auto a100 = uncased().tokenize(std::string(100, 'a'));
  ASSERT_EQ(a100.size(), 50u);
  EXPECT_EQ(a100.front(), "aaa");
  EXPECT_EQ(a100.back(), "##a");
  EXPECT_EQ(uncased().tokenize(std::string(101, 'a')), (std::vector<std::string>{"[UNK]"}));
  // A word with no full decomposition is one [UNK], even if a prefix matched.
  EXPECT_EQ(uncased().tokenize("hello\u2603"), (std::vector<std::string>{"[UNK]"}));
}

TEST(Tokenizer, SpecialTokensInText) {
  EXPECT_EQ(uncased().encode("[CLS] hello [SEP]").ids, ids("101 101 7592 102 102"));
  EXPECT_EQ(uncased().encode("hello[SEP]world").ids, ids("101 7592 102 2088 102"));
  EXPECT_EQ(uncased().tokenize("[cls]"), (std::vector<std::string>{"[", "cl", "##s", "]"}));
}

TEST(Tokenizer, TruncationOffThrowsLengthError) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "word ";
  expect_throw_with<std::length_error>([&] { (void)uncased().encode(text, {.max_length = 10}); },
                                       {"22 tokens", "max_length 10", "truncation"});
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  expect_throw_with<std::length_error>([&] { (void)uncased().encode(long_text); },
                                       {"602 tokens", "max_length 512"});
  EXPECT_EQ(uncased().encode(long_text, {.truncation = true}).size(), 512u);
}

TEST(Tokenizer, TruncationOn) {
  const auto e = uncased().encode("a b c d e f", {.max_length = 5, .truncation = true});
  EXPECT_EQ(e.ids, ids("101 1037 1038 1039 102"));
  EXPECT_EQ(e.attention_mask, ids("1 1 1 1 1"));
  // Exactly max_length fits without truncation.
  EXPECT_EQ(uncased().encode("a b c", {.max_length = 5}).size(), 5u);
}

TEST(Tokenizer, PaddingAndMask) {
  const auto e = uncased().encode("hello world", {.max_length = 8, .pad_to = 8});
  EXPECT_EQ(e.ids, ids("101 7592 2088 102 0 0 0 0"));
  EXPECT_EQ(e.attention_mask, ids("1 1 1 1 0 0 0 0"));
  // pad_to shorter than the sequence: no padding, no truncation.
  EXPECT_EQ(uncased().encode("hello world", {.pad_to = 2}).size(), 4u);
  EXPECT_THROW((void)uncased().encode("x", {.max_length = 8, .pad_to = 9}), std::invalid_argument);
  EXPECT_THROW((void)uncased().encode("x", {.max_length = 1}), std::invalid_argument);
}

TEST(Tokenizer, BatchPadsToLongest) {
  const std::vector<std::string> texts = {"hello", "hello world again", ""};
  const auto b = uncased().encode_batch(texts);
  ASSERT_EQ(b.size(), 3u);
  for (const auto& e : b) {
    EXPECT_EQ(e.size(), 5u);
    EXPECT_EQ(e.attention_mask.size(), 5u);
  }
  EXPECT_EQ(b[0].ids, ids("101 7592 102 0 0"));
  EXPECT_EQ(b[0].attention_mask, ids("1 1 1 0 0"));
  EXPECT_EQ(b[2].ids, ids("101 102 0 0 0"));
  const auto b8 = uncased().encode_batch(std::vector<std::string_view>{"a", "b c"}, {.pad_to = 8});
  EXPECT_EQ(b8[1].size(), 8u);
  expect_throw_with<utf8_error>(
      [&] {
        (void)uncased().encode_batch(std::vector<std::string>{"ok", "bad \xff"});
      },
      {"batch item 1", "offset 4"});
}

TEST(Tokenizer, SingleTextTokenTypesAreZero) {
  const auto e = uncased().encode("hello world", {.max_length = 8, .pad_to = 8});
  EXPECT_EQ(e.token_type_ids, ids("0 0 0 0 0 0 0 0"));
}

TEST(TokenizerPair, SegmentsAndTokenTypes) {
  const auto e = uncased().encode("hello", "big world", {.max_length = 9, .pad_to = 9});
  EXPECT_EQ(e.ids, ids("101 7592 102 2502 2088 102 0 0 0"));
  EXPECT_EQ(e.attention_mask, ids("1 1 1 1 1 1 0 0 0"));
  EXPECT_EQ(e.token_type_ids, ids("0 0 0 1 1 1 0 0 0"));
  const auto empty = uncased().encode("", "");
  EXPECT_EQ(empty.ids, ids("101 102 102"));
  EXPECT_EQ(empty.token_type_ids, ids("0 0 1"));
}

TEST(TokenizerPair, LongestFirstTruncation) {
  const auto cut = [](std::string_view a, std::string_view b, std::size_t n) {
    return uncased().encode(a, b, {.max_length = n, .truncation = true}).ids;
  };
  // a b c d / e f g h i (4 + 5 + 3 = 12): one from the longer b, then alternately, b first.
  EXPECT_EQ(cut("a b c d", "e f g h i", 11),
            ids("101 1037 1038 1039 1040 102 1041 1042 1043 1044 102"));
  EXPECT_EQ(cut("a b c d", "e f g h i", 10), ids("101 1037 1038 1039 1040 102 1041 1042 1043 102"));
  EXPECT_EQ(cut("a b c d", "e f g h i", 9), ids("101 1037 1038 1039 102 1041 1042 1043 102"));
  EXPECT_EQ(cut("a b c d", "e f g h i", 4), ids("101 1037 102 102"));
  EXPECT_EQ(cut("a b c d", "e f g h i", 3), ids("101 102 102"));
  // The longer text loses all it needs to when the other is short.
  EXPECT_EQ(cut("a b c d e f", "x", 6), ids("101 1037 1038 102 1060 102"));
  // Exactly max_length: untouched.
  EXPECT_EQ(cut("a b", "c", 6), ids("101 1037 1038 102 1039 102"));
}

TEST(TokenizerPair, BadInputIsAClearError) {
  std::string text;
  for (int i = 0; i < 5; ++i) text += "word ";
  expect_throw_with<std::length_error>(
      [&] { (void)uncased().encode(text, text, {.max_length = 10}); },
      {"the pair is 13 tokens", "max_length 10", "truncation"});
  expect_throw_with<std::invalid_argument>(
      [] { (void)uncased().encode("a", "b", {.max_length = 2, .truncation = true}); },
      {"max_length 2", "[CLS] and two [SEP]", "at least 3"});
  expect_throw_with<std::invalid_argument>(
      [] { (void)uncased().encode("a", "b", {.max_length = 4, .pad_to = 5}); },
      {"pad_to 5", "max_length 4"});
  // Invalid UTF-8 in either text names the text and the byte offset within it.
  expect_throw_with<utf8_error>([] { (void)uncased().encode("ok \xff", "fine"); },
                                {"text_a", "offset 3"});
  expect_throw_with<utf8_error>([] { (void)uncased().encode("fine", "a\xc3"); },
                                {"text_b", "offset 1", "truncated"});
  try {
    (void)uncased().encode("fine", "ab\x80");
  } catch (const utf8_error& e) {
    EXPECT_EQ(e.offset(), 2u);
  }
}

// ---- invalid UTF-8 ------------------------------------------------------------------------

TEST(TokenizerUtf8, InvalidInputNamesProblemAndOffset) {
  const auto check = [](const std::string& text, std::size_t offset, const std::string& problem) {
    SCOPED_TRACE(problem);
    try {
      (void)uncased().encode(text);
      ADD_FAILURE() << "no exception";
    } catch (const utf8_error& e) {
      EXPECT_EQ(e.offset(), offset) << e.what();
      EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("byte offset " + std::to_string(offset)),
                std::string::npos)
          << e.what();
    }
  };
  check("ab\x80", 2, "unexpected continuation byte 0x80");
  check("abc\xc3", 3, "truncated sequence");
  check("x\xe2\x82 y", 1, "truncated sequence");
  check("\xf0\x9f\x98", 0, "truncated sequence");
  check("a\xc0\xaf", 1, "overlong");
  check("a\xe0\x80\xaf", 1, "overlong");
  check("a\xf0\x80\x80\xaf", 1, "overlong");
  check("ok \xed\xa0\x80", 3, "surrogate U+D800");
  check("\xed\xbf\xbf", 0, "surrogate U+DFFF");
  check("\xf4\x90\x80\x80", 0, "above U+10FFFF");
  check("\xff", 0, "byte 0xFF");
  check("\xf8\x88\x80\x80\x80", 0, "byte 0xF8");
  // Valid edge cases pass.
  EXPECT_NO_THROW((void)uncased().encode(
      "\xf4\x8f\xbf\xbf \xef\xbf\xbf \xc2\x80 \xe0\xa0\x80 \xf0\x90\x80\x80"));
  EXPECT_NO_THROW((void)uncased().encode(std::string("nul\0byte", 8)));
}

TEST(TokenizerUtf8, RandomInputNeverCrashes) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 64);
  std::uniform_int_distribution<std::uint32_t> cp(0, 0x10FFFF);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes;
    for (int k = len(rng); k > 0; --k) bytes.push_back(static_cast<char>(byte(rng)));
    try {
      (void)uncased().encode(bytes, {.truncation = true});
      (void)cased().encode(bytes, {.truncation = true});
    } catch (const utf8_error&) {
    }
    std::string valid;
    for (int k = len(rng); k > 0; --k) {
      const char32_t c = cp(rng);
      if (c < 0xD800 || c > 0xDFFF) bc1s::text::append_utf8(valid, c);
      if (k % 7 == 0) valid += "[SEP]";
    }
    EXPECT_NO_THROW((void)uncased().encode(valid, {.truncation = true}));
    EXPECT_NO_THROW((void)cased().encode(valid, {.truncation = true}));
    try {
      const auto e = uncased().encode(bytes, valid, {.max_length = 16, .truncation = true});
      EXPECT_EQ(e.ids.size(), e.token_type_ids.size());
      EXPECT_LE(e.ids.size(), 16u);
    } catch (const utf8_error&) {
    }
    EXPECT_NO_THROW(
        (void)small_cased().encode(valid, valid, {.max_length = 5, .truncation = true}));
  }
}

TEST(TokenizerUtf8, RandomInputEverySettingNeverCrashes) {
  std::mt19937 rng(777);
  std::uniform_int_distribution<int> len(0, 48);
  std::uniform_int_distribution<std::uint32_t> cp(0, 0x10FFFF);
  for (const char* v : {"uncased", "cased"}) {
    for (const bool lower : {true, false}) {
      for (const std::optional<bool> strip :
           {std::optional<bool>(), std::optional<bool>(true), std::optional<bool>(false)}) {
        const tokenizer t = variant(v, lower, strip, !lower);
        for (int i = 0; i < 150; ++i) {
          std::string valid;
          for (int k = len(rng); k > 0; --k) {
            const char32_t c = cp(rng) % (k % 3 == 0 ? 0x3000u : 0x110000u);
            if (c < 0xD800 || c > 0xDFFF) bc1s::text::append_utf8(valid, c);
          }
          EXPECT_NO_THROW((void)t.encode(valid, {.truncation = true}));
          EXPECT_NO_THROW((void)t.encode(valid, valid, {.max_length = 3, .truncation = true}));
        }
      }
    }
  }
}

// ---- vocab loader ---------------------------------------------------------------------------

TEST(Vocab, LoadsBertBaseUncased) {
  const auto v = vocab::load(kModel / "vocab.txt");
  EXPECT_EQ(v.size(), 30522u);
  EXPECT_EQ(v.id("[PAD]"), 0);
  EXPECT_EQ(v.id("[UNK]"), 100);
  EXPECT_EQ(v.id("[CLS]"), 101);
  EXPECT_EQ(v.token(7592), "hello");
  EXPECT_EQ(v.find_continuation("able"), v.find("##able"));
  EXPECT_FALSE(v.find("no-such-token").has_value());
  EXPECT_THROW((void)v.token(30522), std::out_of_range);
  EXPECT_THROW((void)v.token(-1), std::out_of_range);
}

TEST(Vocab, Errors) {
  const auto missing = temp_dir() / "nope" / "vocab.txt";
  expect_throw_with<std::runtime_error>([&] { (void)vocab::load(missing); },
                                        {missing.string(), "not found"});
  const auto empty = write_temp("empty.txt", "");
  expect_throw_with<std::runtime_error>([&] { (void)vocab::load(empty); },
                                        {empty.string(), "empty"});
  const auto no_unk = write_temp("no_unk.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n");
  expect_throw_with<std::runtime_error>([&] { (void)vocab::load(no_unk); },
                                        {no_unk.string(), "[UNK]"});
  const auto bad = write_temp("bad_utf8.txt", "[UNK]\nok\nbad\xff\n");
  expect_throw_with<std::runtime_error>([&] { (void)vocab::load(bad); },
                                        {bad.string(), "line 3", "UTF-8"});
  expect_throw_with<std::runtime_error>([&] { (void)vocab::load(temp_dir()); }, {"directory"});
  const auto no_cls = write_temp("no_cls.txt", "[PAD]\n[UNK]\n[SEP]\n");
  expect_throw_with<std::runtime_error>([&] { (void)tokenizer::from_vocab_file(no_cls); },
                                        {no_cls.string(), "[CLS]"});
}

TEST(Vocab, LineEndingsAndDuplicatesAsHuggingFace) {
  // Python text mode: \r\n and \r end lines too; the last duplicate wins; no final newline is fine.
  const auto p = write_temp("crlf.txt", "[PAD]\r\n[UNK]\r[CLS]\n[SEP]\nhello\n\nhello\nworld");
  const auto v = vocab::load(p);
  EXPECT_EQ(v.size(), 8u);
  EXPECT_EQ(v.id("[UNK]"), 1);
  EXPECT_EQ(v.id("[CLS]"), 2);
  EXPECT_EQ(v.id("hello"), 6);
  EXPECT_EQ(v.id(""), 5);
  EXPECT_EQ(v.id("world"), 7);
  EXPECT_EQ(v.token(4), "hello");
  const tokenizer t(v);
  EXPECT_EQ(t.encode("hello world xyz").ids, ids("2 6 7 1 3"));
}

// ---- model folder / tokenizer_config.json -----------------------------------------------------

// Every case of tokenizer_config_cases.hpp (shared with io::load_tokenizer_config's test) through
// the one reader: the options it gives, or tokenizer_config_error naming the file and the key.
TEST(TokenizerConfig, ReaderEveryCase) {
  for (const auto& c : bc1s_test::tokenizer_config_cases()) {
    SCOPED_TRACE(c.name);
    const auto p = write_temp("config_cases/" + c.name + ".json", c.json);
    if (c.ok) {
      try {
        const auto o = tokenizer::read_tokenizer_config(p);
        EXPECT_EQ(o.do_lower_case, c.do_lower_case);
        EXPECT_EQ(o.model_max_length, c.model_max_length);
        EXPECT_EQ(o.strip_accents, c.strip_accents);
        EXPECT_EQ(o.tokenize_chinese_chars, c.tokenize_chinese_chars);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "rejected: " << e.what();
      }
      continue;
    }
    try {
      (void)tokenizer::read_tokenizer_config(p);
      ADD_FAILURE() << "accepted";
    } catch (const bc1s::text::tokenizer_config_error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what, "bc1s::text::tokenizer: " + p.string() + ": " + e.problem());
      EXPECT_EQ(e.file(), p);
      EXPECT_LE(e.problem().size(), 600u);
      EXPECT_NE(e.problem().find(c.error), std::string::npos)
          << "problem: " << e.problem() << "\nlacks: " << c.error;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(TokenizerConfig, ReaderFileErrors) {
  expect_throw_with<bc1s::text::tokenizer_config_error>(
      [] { (void)tokenizer::read_tokenizer_config(temp_dir() / "absent.json"); },
      {"absent.json: file not found"});
  const auto dir = temp_dir() / "dir_config";
  fs::create_directories(dir);
  expect_throw_with<bc1s::text::tokenizer_config_error>(
      [&] { (void)tokenizer::read_tokenizer_config(dir); },
      {"dir_config: is a directory, expected a file"});
  // A control byte in a key or value stays on one line in the message.
  const auto p = write_temp("control.json", "{\"unk_token\": \"a\\nb\\u0001\"}");
  expect_throw_with<bc1s::text::tokenizer_config_error>(
      [&] { (void)tokenizer::read_tokenizer_config(p); }, {"field \"unk_token\" is \"a\\nb"});
}

TEST(TokenizerConfig, FromPretrainedReadsConfig) {
  EXPECT_TRUE(uncased().options().do_lower_case);
  EXPECT_EQ(uncased().options().model_max_length, 512u);
  const auto vocab_text = read_file(kModel / "vocab.txt");
  const auto dir = temp_dir() / "cased_model";
  write_temp("cased_model/vocab.txt", vocab_text);
  write_temp(
      "cased_model/tokenizer_config.json",
      R"({"do_lower_case": false, "model_max_length": 128, "unk_token": {"content": "[UNK]"}})");
  const auto t = tokenizer::from_pretrained(dir);
  EXPECT_FALSE(t.options().do_lower_case);
  EXPECT_EQ(t.options().model_max_length, 128u);
  EXPECT_EQ(t.tokenize("Hello"),
            (std::vector<std::string>{"[UNK]"}));  // uncased vocab, cased tokenizer
  // No config: defaults.
  const auto dir2 = temp_dir() / "plain_model";
  write_temp("plain_model/vocab.txt", vocab_text);
  EXPECT_TRUE(tokenizer::from_pretrained(dir2).options().do_lower_case);
  EXPECT_EQ(tokenizer::from_pretrained(dir2).options().model_max_length, 512u);
  // HF's "no limit" sentinel: no limit of the tokenizer's own; encode() then takes any length.
  write_temp("plain_model/tokenizer_config.json",
             R"({"model_max_length": 1000000000000000019884624838656})");
  const auto unlimited = tokenizer::from_pretrained(dir2);
  EXPECT_EQ(unlimited.options().model_max_length, bc1s::text::kNoMaxLength);
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "a ";
  EXPECT_EQ(unlimited.encode(long_text).size(), 602u);
}

TEST(TokenizerConfig, MalformedConfigNamesTheFile) {
  const auto vocab_text = read_file(kModel / "vocab.txt");
  write_temp("bad_model/vocab.txt", vocab_text);
  const auto cfg = temp_dir() / "bad_model" / "tokenizer_config.json";
  const auto dir = temp_dir() / "bad_model";
  write_temp("bad_model/tokenizer_config.json", R"({"do_lower_case": true,)");
  expect_throw_with<std::runtime_error>([&] { (void)tokenizer::from_pretrained(dir); },
                                        {cfg.string(), "file is not valid JSON"});
  write_temp("bad_model/tokenizer_config.json", R"({"do_lower_case": "yes"})");
  expect_throw_with<std::runtime_error>([&] { (void)tokenizer::from_pretrained(dir); },
                                        {cfg.string(), "do_lower_case"});
  write_temp("bad_model/tokenizer_config.json", R"({"model_max_length": -3})");
  expect_throw_with<std::runtime_error>([&] { (void)tokenizer::from_pretrained(dir); },
                                        {cfg.string(), "model_max_length"});
  write_temp("bad_model/tokenizer_config.json", R"({"model_max_length": 1})");
  expect_throw_with<std::runtime_error>([&] { (void)tokenizer::from_pretrained(dir); },
                                        {cfg.string(), "model_max_length\" is 1"});
  write_temp("bad_model/tokenizer_config.json", R"([1, 2])");
  expect_throw_with<std::runtime_error>([&] { (void)tokenizer::from_pretrained(dir); },
                                        {cfg.string(), "object"});
  write_temp("bad_model/tokenizer_config.json", R"({"unk_token": "<unk>"})");
  expect_throw_with<std::runtime_error>([&] { (void)tokenizer::from_pretrained(dir); },
                                        {cfg.string(), "unk_token"});
  // A folder where the file should be.
  fs::remove(cfg);
  fs::create_directories(cfg);
  expect_throw_with<bc1s::text::tokenizer_config_error>(
      [&] { (void)tokenizer::from_pretrained(dir); }, {cfg.string(), "is a directory"});
  expect_throw_with<std::runtime_error>(
      [&] { (void)tokenizer::from_pretrained(temp_dir() / "no_model"); },
      {"vocab.txt", "not found"});
}
