// Fuzz target: the WordPiece vocabulary loader (bc1s/text/vocab.hpp), and a tokenizer built on
// whatever vocabulary it accepts.
//
// The input is the whole vocab.txt. vocab::load() either throws its documented
// std::runtime_error ("bc1s::text::vocab: <file>: ...", one line) or returns a vocabulary whose
// ids follow Hugging Face's load_vocab (line index; a duplicate maps to its last line), checked
// here against an independent split of the input. A vocabulary with [CLS], [SEP] and [PAD] then
// tokenizes its own tokens and a few fixed strings.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bc1s/text/vocab.hpp"
#include "bc1s/text/wordpiece.hpp"
#include "fuzz_util.hpp"

namespace {

// Hugging Face's line split: "\n", "\r\n" or "\r" end a line; a last line without one counts.
std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      out.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

void check_encoding(const bc1s::text::tokenizer& tok, const bc1s::text::encoding& e,
                    std::size_t max_length) {
  const auto n = static_cast<std::int32_t>(tok.vocab().size());
  BC1S_FUZZ_CHECK(e.ids.size() >= 2 && e.ids.size() <= max_length, "encoding length");
  BC1S_FUZZ_CHECK(e.ids.front() == tok.cls_id() && e.ids.back() == tok.sep_id(),
                  "encoding is not [CLS] ... [SEP]");
  BC1S_FUZZ_CHECK(e.attention_mask.size() == e.ids.size(), "mask length");
  for (std::int32_t id : e.ids) BC1S_FUZZ_CHECK(id >= 0 && id < n, "id " + std::to_string(id));
}

void use_tokenizer(const bc1s::text::tokenizer& tok, const std::vector<std::string_view>& lines) {
  std::vector<std::string_view> texts = {"", "Hello, World!", "[CLS]a[SEP]b [UNK]",
                                         "caf\xc3\xa9 ##x", "\xe4\xb8\xad\xe6\x96\x87 text"};
  for (std::size_t i = 0; i < lines.size() && i < 64; ++i) texts.push_back(lines[i]);
  bc1s::text::encode_options opts;
  opts.max_length = 16;
  opts.truncation = true;
  for (std::string_view t : texts) {
    const auto e = tok.encode(t, opts);  // vocab lines are valid UTF-8: no exception
    check_encoding(tok, e, opts.max_length);
    for (const std::string& piece : tok.tokenize(t)) (void)piece;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bc1s_fuzz::mem_file file("bc1s-fuzz-vocab");
  file.set(data, size);
  const std::string prefix = "bc1s::text::vocab: " + file.path() + ": ";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  std::optional<bc1s::text::vocab> v;
  try {
    v.emplace(bc1s::text::vocab::load(file.path()));
  } catch (const std::runtime_error& e) {
    BC1S_FUZZ_ONE_LINE(e, prefix);
    return 0;
  }

  const auto lines = split_lines(bytes);
  BC1S_FUZZ_CHECK(v->size() == lines.size(), std::to_string(v->size()) + " tokens for " +
                                                 std::to_string(lines.size()) + " lines");
  std::unordered_map<std::string_view, std::int32_t> last;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto id = static_cast<std::int32_t>(i);
    BC1S_FUZZ_CHECK(v->token(id) == lines[i], "token(" + std::to_string(i) + ")");
    last[lines[i]] = id;
  }
  for (const auto& [token, id] : last) {
    BC1S_FUZZ_CHECK(v->find(token) == id, "find() is not the last line holding the token");
    BC1S_FUZZ_CHECK(v->contains(token) && v->id(token) == id, "id()");
    if (token.size() > 2 && token.starts_with("##")) {
      BC1S_FUZZ_CHECK(v->find_continuation(token.substr(2)) == id, "find_continuation()");
    }
  }
  BC1S_FUZZ_CHECK(v->contains("[UNK]") && v->token(v->unk_id()) == "[UNK]", "[UNK]");
  for (std::int32_t bad : {-1, static_cast<std::int32_t>(v->size())}) {
    try {
      (void)v->token(bad);
      BC1S_FUZZ_CHECK(false, "token() accepted id " + std::to_string(bad));
    } catch (const std::out_of_range& e) {
      BC1S_FUZZ_ONE_LINE(e, "bc1s::text::vocab: ");
    }
  }

  // A tokenizer needs [CLS], [SEP] and [PAD] besides [UNK].
  const bool complete = v->contains("[CLS]") && v->contains("[SEP]") && v->contains("[PAD]");
  try {
    const bc1s::text::tokenizer tok(*v);
    BC1S_FUZZ_CHECK(complete, "tokenizer accepted a vocabulary without [CLS], [SEP] or [PAD]");
    use_tokenizer(tok, lines);
  } catch (const std::runtime_error& e) {
    BC1S_FUZZ_CHECK(!complete,
                    std::string("tokenizer rejected a complete vocabulary: ") + e.what());
    BC1S_FUZZ_ONE_LINE(e, "bc1s::text::tokenizer: " + file.path() + ": ");
  }
  return 0;
}
