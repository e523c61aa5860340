// WordPiece vocabulary: vocab.txt, one token per line, id = 0-based line index.
//
// Reading follows Hugging Face's load_vocab (Python text mode): lines end at "\n", "\r\n" or
// "\r"; a final line without a newline counts; an empty line is the token "" with its id; a
// token that appears twice maps to its LAST line (the earlier id stays a valid id that decodes
// to that token, as in HF where it is simply never produced). Nothing else is stripped (a UTF-8
// byte-order mark stays part of the first token, as in HF).
//
// Errors (std::runtime_error, one line naming the file): missing or unreadable file, empty
// file, a line that is not UTF-8, no "[UNK]" token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bc1s/text/unicode.hpp"

namespace bc1s::text {

namespace detail {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// Token -> id with lookup by string_view; keys view into vocab_data::tokens, which never
// changes after construction (vocab_data is immutable and shared).
using token_map = std::unordered_map<std::string_view, std::int32_t, string_hash, std::equal_to<>>;

struct vocab_data {
  std::string source;               // the file it came from, for messages
  std::vector<std::string> tokens;  // by id
  token_map ids;                    // token -> id (last duplicate wins)
  token_map continuation_ids;       // "##piece" -> id, keyed by "piece"
};

}  // namespace detail

class vocab {
 public:
  static constexpr std::string_view kUnkToken = "[UNK]";

  // Builds a vocabulary from tokens in id order. source names it in error messages.
  explicit vocab(std::vector<std::string> tokens, std::string source = "<memory>") {
    if (tokens.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      throw std::runtime_error("bc1s::text::vocab: " + source + ": too many tokens (" +
                               std::to_string(tokens.size()) + ")");
    }
    if (tokens.empty())
      throw std::runtime_error("bc1s::text::vocab: " + source + ": the vocabulary is empty");
    auto d = std::make_shared<detail::vocab_data>();
    d->source = std::move(source);
    d->tokens = std::move(tokens);
    d->ids.reserve(d->tokens.size());
    for (std::size_t i = 0; i < d->tokens.size(); ++i) {
      const std::string_view t = d->tokens[i];
      const auto id = static_cast<std::int32_t>(i);
      d->ids.insert_or_assign(t, id);
      if (t.size() > 2 && t.starts_with("##"))
        d->continuation_ids.insert_or_assign(t.substr(2), id);
    }
    if (!d->ids.contains(kUnkToken)) {
      throw std::runtime_error("bc1s::text::vocab: " + d->source + ": no \"[UNK]\" token (" +
                               std::to_string(d->tokens.size()) +
                               " tokens read); is this a BERT WordPiece vocab.txt?");
    }
    data_ = std::move(d);
  }

  // Reads vocab.txt. Throws std::runtime_error naming the file and the problem.
  static vocab load(const std::filesystem::path& file) {
    const std::string name = file.string();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      throw std::runtime_error("bc1s::text::vocab: " + name + ": file not found");
    }
    if (std::filesystem::is_directory(file, ec)) {
      throw std::runtime_error("bc1s::text::vocab: " + name +
                               ": is a directory, expected vocab.txt");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("bc1s::text::vocab: " + name + ": cannot open the file");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error("bc1s::text::vocab: " + name + ": read error");
    if (bytes.empty())
      throw std::runtime_error("bc1s::text::vocab: " + name + ": the file is empty");
    return vocab(split_lines(bytes, name), name);
  }

  [[nodiscard]] std::size_t size() const noexcept { return data_->tokens.size(); }
  [[nodiscard]] const std::string& source() const noexcept { return data_->source; }

  // The id of token, if present (the last line holding it).
  [[nodiscard]] std::optional<std::int32_t> find(std::string_view token) const noexcept {
    const auto it = data_->ids.find(token);
    if (it == data_->ids.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] bool contains(std::string_view token) const noexcept {
    return data_->ids.contains(token);
  }

  // The id of "##" + piece, if present (a WordPiece continuation).
  [[nodiscard]] std::optional<std::int32_t> find_continuation(
      std::string_view piece) const noexcept {
    const auto it = data_->continuation_ids.find(piece);
    if (it == data_->continuation_ids.end()) return std::nullopt;
    return it->second;
  }

  // The id of token; throws std::out_of_range naming the token if it is absent.
  [[nodiscard]] std::int32_t id(std::string_view token) const {
    if (auto i = find(token)) return *i;
    throw std::out_of_range("bc1s::text::vocab: " + data_->source + ": no token \"" +
                            std::string(token) + "\"");
  }

  [[nodiscard]] std::int32_t unk_id() const noexcept { return *find(kUnkToken); }

  // The token with this id; throws std::out_of_range for an id outside [0, size()).
  [[nodiscard]] const std::string& token(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= data_->tokens.size()) {
      throw std::out_of_range("bc1s::text::vocab: id " + std::to_string(id) + " is outside [0, " +
                              std::to_string(data_->tokens.size()) + ")");
    }
    return data_->tokens[static_cast<std::size_t>(id)];
  }

 private:
  static std::vector<std::string> split_lines(std::string_view bytes, const std::string& name) {
    std::vector<std::string> lines;
    lines.reserve(bytes.size() / 8 + 1);
    std::vector<char32_t> scratch;
    std::size_t start = 0;
    const auto add = [&](std::size_t end) {
      const std::string_view line = bytes.substr(start, end - start);
      scratch.clear();
      try {
        decode_utf8(line, scratch);
      } catch (const utf8_error& e) {
        throw std::runtime_error("bc1s::text::vocab: " + name + ": line " +
                                 std::to_string(lines.size() + 1) + " is not valid UTF-8 (byte " +
                                 std::to_string(e.offset()) + " of the line)");
      }
      lines.emplace_back(line);
    };
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] == '\n') {
        add(i);
        start = i + 1;
      } else if (bytes[i] == '\r') {
        add(i);
        if (i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
        start = i + 1;
      }
    }
    if (start < bytes.size()) add(bytes.size());
    return lines;
  }

  std::shared_ptr<const detail::vocab_data> data_;
};

}  // namespace bc1s::text
