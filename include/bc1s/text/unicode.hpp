// UTF-8 decoding with precise errors, and the Unicode character classes and normalisation steps
// of Hugging Face's BERT BasicTokenizer, on top of utf8proc (Unicode 15.0 in utf8proc 2.8).
//
// Everything here works on code points (char32_t). Public: utf8_error, decode_utf8,
// append_utf8. The BERT-specific classes (is_control, is_whitespace, is_punctuation,
// is_cjk_ideograph) and the NFC / NFD helpers live in bc1s::text::detail.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <utf8proc.h>

namespace bc1s::text {

// Thrown for text that is not valid UTF-8. offset() is the byte offset of the first bad byte
// (the lead byte of a bad sequence); what() names the problem and the offset.
class utf8_error : public std::runtime_error {
 public:
  utf8_error(const std::string& what, std::size_t offset)
      : std::runtime_error(what), offset_(offset) {}
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

namespace detail {

inline std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(b));
  return buf;
}

inline std::string hex_code_point(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

[[noreturn]] inline void throw_utf8_error(const std::string& problem, std::size_t offset) {
  throw utf8_error(
      "bc1s::text: invalid UTF-8 at byte offset " + std::to_string(offset) + ": " + problem,
      offset);
}

}  // namespace detail

// Decodes strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) and
// appends the code points to out. Throws utf8_error naming the problem and its byte offset.
inline void decode_utf8(std::string_view s, std::vector<char32_t>& out) {
  out.reserve(out.size() + s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b0 = p[i];
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
      cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      cp = b0 & 0x0Fu;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      cp = b0 & 0x07u;
    } else if (b0 >= 0x80 && b0 <= 0xBF) {
      detail::throw_utf8_error(
          "unexpected continuation byte " + detail::hex_byte(b0) + " (no lead byte before it)", i);
    } else if (b0 == 0xC0 || b0 == 0xC1) {
      detail::throw_utf8_error(
          "overlong encoding (lead byte " + detail::hex_byte(b0) + " can only encode ASCII)", i);
    } else {
      detail::throw_utf8_error("byte " + detail::hex_byte(b0) + " never appears in UTF-8", i);
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= n) {
        detail::throw_utf8_error("truncated sequence (lead byte " + detail::hex_byte(b0) +
                                     " expects " + std::to_string(len) +
                                     " bytes, the text ends after " + std::to_string(k) + ")",
                                 i);
      }
      const unsigned char b = p[i + k];
      if ((b & 0xC0u) != 0x80u) {
        detail::throw_utf8_error("truncated sequence (lead byte " + detail::hex_byte(b0) +
                                     " expects " + std::to_string(len) + " bytes, byte " +
                                     detail::hex_byte(b) + " at offset " + std::to_string(i + k) +
                                     " is not a continuation byte)",
                                 i);
      }
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      detail::throw_utf8_error("overlong encoding of " + detail::hex_code_point(cp) + " in " +
                                   std::to_string(len) + " bytes",
                               i);
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      detail::throw_utf8_error(
          "encoded surrogate " + detail::hex_code_point(cp) + " (surrogates are not characters)",
          i);
    }
    if (cp > 0x10FFFF) {
      detail::throw_utf8_error("code point " + detail::hex_code_point(cp) + " is above U+10FFFF",
                               i);
    }
    out.push_back(cp);
    i += len;
  }
}

// Appends the UTF-8 encoding of a valid code point (not a surrogate, at most U+10FFFF).
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0u | (cp >> 6)));
    out.push_back(static_cast<char>(0x80u | (cp & 0x3Fu)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0u | (cp >> 12)));
    out.push_back(static_cast<char>(0x80u | ((cp >> 6) & 0x3Fu)));
    out.push_back(static_cast<char>(0x80u | (cp & 0x3Fu)));
  } else {
    out.push_back(static_cast<char>(0xF0u | (cp >> 18)));
    out.push_back(static_cast<char>(0x80u | ((cp >> 12) & 0x3Fu)));
    out.push_back(static_cast<char>(0x80u | ((cp >> 6) & 0x3Fu)));
    out.push_back(static_cast<char>(0x80u | (cp & 0x3Fu)));
  }
}

namespace detail {

inline utf8proc_category_t category(char32_t cp) noexcept {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

// HF _is_control: any category C* (Cc, Cf, Cs, Co, Cn, i.e. also private use and unassigned),
// except \t \n \r, which count as whitespace.
inline bool is_control(char32_t cp) noexcept {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return false;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

// HF _is_whitespace: space, \t, \n, \r and category Zs.
inline bool is_whitespace(char32_t cp) noexcept {
  if (cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r') return true;
  return cp >= 0x80 && category(cp) == UTF8PROC_CATEGORY_ZS;
}

// What Python's str.split() still splits on once cleaning has turned every other whitespace
// character into U+0020 or dropped it as a control: U+2028 (Zl) and U+2029 (Zp) are not
// "whitespace" for BERT's cleaning, but are str.isspace().
inline bool is_split_space(char32_t cp) noexcept {
  return cp == U' ' || cp == 0x2028 || cp == 0x2029;
}

// HF _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126, and Unicode P* categories.
inline bool is_punctuation(char32_t cp) noexcept {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  if (cp < 0x80) return false;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// HF _is_chinese_char: the CJK Unified Ideographs blocks (not Hangul, not kana).
inline bool is_cjk_ideograph(char32_t cp) noexcept {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

inline bool is_nonspacing_mark(char32_t cp) noexcept {
  return category(cp) == UTF8PROC_CATEGORY_MN;
}

// Simple (one-to-one) lowercase mapping. Python's str.lower() of one character differs only
// for U+0130 (to "i" + U+0307), which the tokenizer handles itself; Hugging Face lowercases one
// character at a time, so there is no final-sigma rule to follow.
inline char32_t to_lower(char32_t cp) noexcept {
  if (cp < 0x80) return (cp >= U'A' && cp <= U'Z') ? cp + 32 : cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

inline bool all_ascii(const char32_t* first, const char32_t* last) noexcept {
  return std::all_of(first, last, [](char32_t c) { return c < 0x80; });
}

// Canonical decomposition (NFD) of [first, last) into out (replacing its contents): each code
// point decomposed by utf8proc, then the canonical ordering of combining marks.
inline void nfd(const char32_t* first, const char32_t* last, std::vector<char32_t>& out) {
  out.clear();
  utf8proc_int32_t tmp[32];  // utf8proc's longest canonical decomposition is 4 code points
  for (const char32_t* it = first; it != last; ++it) {
    if (*it < 0x80) {
      out.push_back(*it);
      continue;
    }
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(
        static_cast<utf8proc_int32_t>(*it), tmp, 32,
        static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_STABLE), &boundclass);
    if (n < 0 || n > 32) {  // cannot happen for valid code points; keep the character unchanged
      out.push_back(*it);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back(static_cast<char32_t>(tmp[k]));
  }
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  const auto ccc = [](char32_t c) -> int {
    return c < 0x300 ? 0 : utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
  };
  std::size_t i = 0;
  while (i < out.size()) {
    if (ccc(out[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < out.size() && ccc(out[j]) != 0) ++j;
    if (j - i > 1) {
      std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(i),
                       out.begin() + static_cast<std::ptrdiff_t>(j),
                       [&](char32_t a, char32_t b) { return ccc(a) < ccc(b); });
    }
    i = j;
  }
}

// nfd() that also writes, for each code point of out, the index in [first, last) of the code
// point it came from (canonical ordering moves the indices along).
inline void nfd_indexed(const char32_t* first, const char32_t* last, std::vector<char32_t>& out,
                        std::vector<std::size_t>& from) {
  out.clear();
  from.clear();
  utf8proc_int32_t tmp[32];
  for (const char32_t* it = first; it != last; ++it) {
    const auto index = static_cast<std::size_t>(it - first);
    if (*it < 0x80) {
      out.push_back(*it);
      from.push_back(index);
      continue;
    }
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(
        static_cast<utf8proc_int32_t>(*it), tmp, 32,
        static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_STABLE), &boundclass);
    if (n < 0 || n > 32) {
      out.push_back(*it);
      from.push_back(index);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      out.push_back(static_cast<char32_t>(tmp[k]));
      from.push_back(index);
    }
  }
  // Canonical ordering as in nfd(): a stable insertion sort of each run of non-starters.
  const auto ccc = [](char32_t c) -> int {
    return c < 0x300 ? 0 : utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
  };
  std::size_t i = 0;
  while (i < out.size()) {
    if (ccc(out[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < out.size() && ccc(out[j]) != 0) ++j;
    for (std::size_t k = i + 1; k < j; ++k) {
      for (std::size_t m = k; m > i && ccc(out[m - 1]) > ccc(out[m]); --m) {
        std::swap(out[m - 1], out[m]);
        std::swap(from[m - 1], from[m]);
      }
    }
    i = j;
  }
}

// The primary composite of a starter and the code point after it, as utf8proc composes them
// (Hangul included); 0 if there is none.
inline char32_t compose_pair(char32_t starter, char32_t next) noexcept {
  if (next < 0x80) return 0;  // no canonical decomposition ends in an ASCII character
  utf8proc_int32_t pair[2] = {static_cast<utf8proc_int32_t>(starter),
                              static_cast<utf8proc_int32_t>(next)};
  const utf8proc_ssize_t n = utf8proc_normalize_utf32(
      pair, 2, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  return n == 1 ? static_cast<char32_t>(pair[0]) : 0;
}

// Canonical composition of d (an NFD sequence, as nfd_indexed() writes it) into out, by the
// same rule as utf8proc: a code point composes with the last starter unless a code point left
// between them has a combining class of 0 or at least its own. For each code point of out,
// [lo, hi) spans the from[] of every code point composed into it.
inline void compose_indexed(const std::vector<char32_t>& d, const std::vector<std::size_t>& from,
                            std::vector<char32_t>& out, std::vector<std::size_t>& lo,
                            std::vector<std::size_t>& hi) {
  out.clear();
  lo.clear();
  hi.clear();
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t starter = kNone;
  int last_ccc = -1;  // highest combining class left since the starter; -1: none
  for (std::size_t i = 0; i < d.size(); ++i) {
    const char32_t c = d[i];
    const int cc =
        c < 0x300 ? 0 : utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
    if (starter != kNone && cc > last_ccc) {
      if (const char32_t composite = compose_pair(out[starter], c)) {
        out[starter] = composite;
        lo[starter] = std::min(lo[starter], from[i]);
        hi[starter] = std::max(hi[starter], from[i] + 1);
        continue;
      }
    }
    if (cc == 0) {
      starter = out.size();
      last_ccc = -1;
    } else {
      last_ccc = std::max(last_ccc, cc);
    }
    out.push_back(c);
    lo.push_back(from[i]);
    hi.push_back(from[i] + 1);
  }
}

// Canonical composition (NFC) of buf in place: NFD into scratch, then utf8proc's composition.
inline void nfc_in_place(std::vector<char32_t>& buf, std::vector<char32_t>& scratch) {
  if (all_ascii(buf.data(), buf.data() + buf.size())) return;
  nfd(buf.data(), buf.data() + buf.size(), scratch);
  static_assert(sizeof(char32_t) == sizeof(utf8proc_int32_t));
  const utf8proc_ssize_t n =
      utf8proc_normalize_utf32(reinterpret_cast<utf8proc_int32_t*>(scratch.data()),
                               static_cast<utf8proc_ssize_t>(scratch.size()),
                               static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  if (n >= 0) scratch.resize(static_cast<std::size_t>(n));
  buf.swap(scratch);
}

}  // namespace detail
}  // namespace bc1s::text
