// bc1s::io::safetensors_file — a validated, memory-mapped reader of Hugging Face .safetensors.
//
// File format (all integers little-endian):
//   [0, 8)           u64 N: byte length of the JSON header
//   [8, 8 + N)       JSON header: {"<name>": {"dtype": "F32", "shape": [d0, d1, ...],
//                                             "data_offsets": [begin, end]}, ...,
//                                  "__metadata__": {"<key>": "<value>", ...}}
//   [8 + N, size)    data region; [begin, end) is relative to its start
//
// open() checks everything before any tensor is touched, so a file that opens is safe to read:
// header length within the file (and at most 100 MB, the reference limit), header valid JSON,
// an object, no duplicate keys, each entry an object with a known dtype, a shape of
// non-negative integers whose element and byte counts do not overflow, data_offsets of two
// non-negative integers with begin <= end <= data region size, end - begin == bytes of the
// shape, and no two tensors overlapping. Every failure is a one-line load_error naming the file
// (and the tensor). Holes between tensors are allowed (the reference writer never makes them).
//
// Only F32, F16 and BF16 convert to float; the other safetensors dtypes are listed and
// validated, and read_as_float() names them in its error.
//
// The data region has no alignment guarantee (N need not be a multiple of 8), so every read
// goes through memcpy. Byte order: little-endian hosts only.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bc1s/core/half.hpp"
#include "bc1s/io/detail/json.hpp"
#include "bc1s/io/load_error.hpp"
#include "bc1s/io/mapped_file.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s::io {

static_assert(std::endian::native == std::endian::little,
              "bc1s::io::safetensors: expected a little-endian host; safetensors data is "
              "little-endian and this reader does not byte-swap");

// ---- dtypes -------------------------------------------------------------------------------

enum class dtype : std::uint8_t {
  f32,
  f16,
  bf16,  // convertible to float
  f64,
  i64,
  i32,
  i16,
  i8,
  u8,
  boolean,  // listed and validated, not converted
  u64,
  u32,
  u16,
  f8_e4m3,
  f8_e5m2,
};

namespace detail {

struct dtype_row {
  dtype type;
  std::string_view name;  // as written in the header
  std::size_t size;       // bytes per element
};

inline constexpr std::array<dtype_row, 15> kDtypes{{
    {dtype::f32, "F32", 4},
    {dtype::f16, "F16", 2},
    {dtype::bf16, "BF16", 2},
    {dtype::f64, "F64", 8},
    {dtype::i64, "I64", 8},
    {dtype::i32, "I32", 4},
    {dtype::i16, "I16", 2},
    {dtype::i8, "I8", 1},
    {dtype::u8, "U8", 1},
    {dtype::boolean, "BOOL", 1},
    {dtype::u64, "U64", 8},
    {dtype::u32, "U32", 4},
    {dtype::u16, "U16", 2},
    {dtype::f8_e4m3, "F8_E4M3", 1},
    {dtype::f8_e5m2, "F8_E5M2", 1},
}};

inline std::optional<dtype> parse_dtype(std::string_view s) noexcept {
  for (const auto& r : kDtypes) {
    if (r.name == s) return r.type;
  }
  return std::nullopt;
}

}  // namespace detail

inline constexpr std::string_view dtype_name(dtype t) noexcept {
  for (const auto& r : detail::kDtypes) {
    if (r.type == t) return r.name;
  }
  return "?";
}
inline constexpr std::size_t dtype_size(dtype t) noexcept {
  for (const auto& r : detail::kDtypes) {
    if (r.type == t) return r.size;
  }
  return 0;
}
inline constexpr bool is_float_convertible(dtype t) noexcept {
  return t == dtype::f32 || t == dtype::f16 || t == dtype::bf16;
}

// "[768, 3072]"
inline std::string shape_string(std::span<const std::size_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// ---- tensor info --------------------------------------------------------------------------

struct tensor_info {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::size_t> shape;    // empty for a scalar
  std::size_t elements = 0;          // product of shape (1 for a scalar)
  std::size_t begin = 0, end = 0;    // data_offsets, relative to the data region
  std::span<const std::byte> bytes;  // [begin, end) inside the mapping; any alignment
};

// ---- reader -------------------------------------------------------------------------------

class safetensors_file {
 public:
  // The reference implementation's limit on N.
  static constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

  // Map and validate `path`. Throws load_error (one line, naming the file) on any problem.
  static safetensors_file open(const std::filesystem::path& path) {
    safetensors_file f;
    f.file_ = mapped_file::open(path);
    f.parse();
    return f;
  }

  const std::filesystem::path& path() const noexcept { return file_.path(); }

  // Tensor names, sorted.
  const std::vector<std::string>& names() const noexcept { return names_; }
  std::size_t size() const noexcept { return tensors_.size(); }
  bool contains(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }

  // Throws load_error "<file>: no tensor named 'x'" if absent.
  const tensor_info& info(std::string_view name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) {
      detail::fail(path(), "no tensor named " + detail::quote(name) + " (the file has " +
                               std::to_string(tensors_.size()) + " tensors)");
    }
    return it->second;
  }

  // "__metadata__" (string -> string); empty if absent.
  const std::map<std::string, std::string, std::less<>>& metadata() const noexcept {
    return metadata_;
  }

  // Throws "tensor 'x' has shape [a, b], expected [c, d]".
  void check_shape(std::string_view name, std::span<const std::size_t> expected) const {
    const auto& t = info(name);
    if (!std::equal(t.shape.begin(), t.shape.end(), expected.begin(), expected.end())) {
      detail::fail(path(), "tensor " + detail::quote(name) + " has shape " + shape_string(t.shape) +
                               ", expected " + shape_string(expected));
    }
  }
  void check_shape(std::string_view name, std::initializer_list<std::size_t> expected) const {
    check_shape(name, std::span<const std::size_t>(expected.begin(), expected.size()));
  }

  // Convert tensor `name` (F32, F16 or BF16) to float into `dst`, which must hold exactly its
  // element count.
  void read_as_float(std::string_view name, std::span<float> dst) const {
    const auto& t = checked_dst(name, dst.size(), "float");
    const std::byte* src = t.bytes.data();
    const std::size_t n = t.elements;
    switch (t.type) {
      case dtype::f32:
        if (n) std::memcpy(dst.data(), src, n * sizeof(float));
        break;
      case dtype::f16:
        for_chunks(n, [&](std::size_t i, std::size_t m) {
          half tmp[kChunk];
          std::memcpy(tmp, src + i * 2, m * 2);
          simd::half_to_float(tmp, dst.data() + i, m);
        });
        break;
      case dtype::bf16:
        for_chunks(n, [&](std::size_t i, std::size_t m) {
          std::uint16_t tmp[kChunk];
          std::memcpy(tmp, src + i * 2, m * 2);
          bf16_to_float(tmp, dst.data() + i, m);
        });
        break;
      default:
        break;  // rejected by checked_dst
    }
  }
  // The same, after checking the shape.
  void read_as_float(std::string_view name, std::span<const std::size_t> expected_shape,
                     std::span<float> dst) const {
    check_shape(name, expected_shape);
    read_as_float(name, dst);
  }
  void read_as_float(std::string_view name, std::initializer_list<std::size_t> expected_shape,
                     std::span<float> dst) const {
    check_shape(name, expected_shape);
    read_as_float(name, dst);
  }
  // Convenience: a new vector of the tensor's elements.
  std::vector<float> read_as_float(std::string_view name) const {
    std::vector<float> v(info(name).elements);
    read_as_float(name, v);
    return v;
  }

  // Convert tensor `name` to fp16 storage (F16 copied bit for bit; F32 and BF16 rounded to
  // nearest even, values beyond the half range become +-Inf).
  void read_as_half(std::string_view name, std::span<half> dst) const {
    const auto& t = checked_dst(name, dst.size(), "half");
    const std::byte* src = t.bytes.data();
    const std::size_t n = t.elements;
    switch (t.type) {
      case dtype::f16:
        if (n) std::memcpy(static_cast<void*>(dst.data()), src, n * 2);
        break;
      case dtype::f32:
        for_chunks(n, [&](std::size_t i, std::size_t m) {
          float tmp[kChunk];
          std::memcpy(tmp, src + i * 4, m * 4);
          simd::float_to_half(tmp, dst.data() + i, m);
        });
        break;
      case dtype::bf16:
        for_chunks(n, [&](std::size_t i, std::size_t m) {
          std::uint16_t raw[kChunk];
          float tmp[kChunk];
          std::memcpy(raw, src + i * 2, m * 2);
          bf16_to_float(raw, tmp, m);
          simd::float_to_half(tmp, dst.data() + i, m);
        });
        break;
      default:
        break;
    }
  }
  void read_as_half(std::string_view name, std::initializer_list<std::size_t> expected_shape,
                    std::span<half> dst) const {
    check_shape(name, expected_shape);
    read_as_half(name, dst);
  }
  void read_as_half(std::string_view name, std::span<const std::size_t> expected_shape,
                    std::span<half> dst) const {
    check_shape(name, expected_shape);
    read_as_half(name, dst);
  }

 private:
  static constexpr std::size_t kChunk = 1024;

  template <class F>
  static void for_chunks(std::size_t n, F&& f) {
    for (std::size_t i = 0; i < n; i += kChunk) f(i, std::min(kChunk, n - i));
  }
  static void bf16_to_float(const std::uint16_t* src, float* dst, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      dst[i] = std::bit_cast<float>(static_cast<std::uint32_t>(src[i]) << 16);
    }
  }

  const tensor_info& checked_dst(std::string_view name, std::size_t dst_size,
                                 const char* to) const {
    const auto& t = info(name);
    if (!is_float_convertible(t.type)) {
      detail::fail(path(), "tensor " + detail::quote(name) + " has dtype " +
                               std::string(dtype_name(t.type)) + ", which cannot be converted to " +
                               to + " (supported: F32, F16, BF16)");
    }
    if (dst_size != t.elements) {
      detail::fail(path(), "tensor " + detail::quote(name) + " of shape " + shape_string(t.shape) +
                               " has " + std::to_string(t.elements) +
                               " elements, but the destination holds " + std::to_string(dst_size));
    }
    return t;
  }

  [[noreturn]] void fail(std::string_view problem) const { detail::fail(path(), problem); }
  [[noreturn]] void fail_tensor(std::string_view name, std::string_view problem) const {
    detail::fail(path(), "tensor " + detail::quote(name) + ": " + std::string(problem));
  }

  void parse() {
    const std::size_t size = file_.size();
    if (size == 0) fail("file is empty, not a safetensors file");
    if (size < 8) {
      fail("file is " + std::to_string(size) +
           " bytes, too short for a safetensors file (the header length alone is 8 bytes)");
    }
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) {
      n = (n << 8) | static_cast<std::uint64_t>(file_.data()[static_cast<std::size_t>(i)]);
    }
    if (n > size - 8) {
      fail("header length " + std::to_string(n) + " exceeds the file size (" +
           std::to_string(size) + " bytes, so at most " + std::to_string(size - 8) +
           " for the header)");
    }
    if (n > kMaxHeaderBytes) {
      fail("header length " + std::to_string(n) + " exceeds the limit of " +
           std::to_string(kMaxHeaderBytes) + " bytes");
    }
    const auto header_len = static_cast<std::size_t>(n);
    const std::string_view text(reinterpret_cast<const char*>(file_.data() + 8), header_len);
    const nlohmann::json header = detail::parse_json(path(), text, "header", /*max_depth=*/8);
    if (!header.is_object()) {
      fail(std::string("header is a JSON ") + detail::json_kind(header) + ", expected an object");
    }

    const std::size_t data_size = size - 8 - header_len;
    const std::byte* data = file_.data() + 8 + header_len;
    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        parse_metadata(value);
        continue;
      }
      tensor_info t = parse_entry(key, value, data_size);
      t.bytes = {data + t.begin, t.end - t.begin};
      tensors_.emplace(key, std::move(t));
    }

    // No two tensors may share a byte: sort by begin, each must start at or after the
    // previous end (empty tensors overlap nothing).
    std::vector<const tensor_info*> by_offset;
    by_offset.reserve(tensors_.size());
    for (const auto& kv : tensors_) {
      if (kv.second.end > kv.second.begin) by_offset.push_back(&kv.second);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const tensor_info* a, const tensor_info* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < by_offset.size(); ++i) {
      const auto& a = *by_offset[i - 1];
      const auto& b = *by_offset[i];
      if (b.begin < a.end) {
        fail("tensors " + detail::quote(a.name) + " [" + std::to_string(a.begin) + ", " +
             std::to_string(a.end) + ") and " + detail::quote(b.name) + " [" +
             std::to_string(b.begin) + ", " + std::to_string(b.end) + ") overlap");
      }
    }

    names_.reserve(tensors_.size());
    for (const auto& kv : tensors_) names_.push_back(kv.first);  // std::map: already sorted
  }

  void parse_metadata(const nlohmann::json& value) {
    if (!value.is_object()) {
      fail(std::string("__metadata__ is a JSON ") + detail::json_kind(value) +
           ", expected an object of strings");
    }
    for (const auto& [k, v] : value.items()) {
      if (!v.is_string()) {
        fail("__metadata__ value for " + detail::quote(k) + " is a JSON " + detail::json_kind(v) +
             ", expected a string");
      }
      metadata_.emplace(k, v.get<std::string>());
    }
  }

  tensor_info parse_entry(const std::string& name, const nlohmann::json& e,
                          std::size_t data_size) const {
    if (!e.is_object()) {
      fail_tensor(name,
                  std::string("entry is a JSON ") + detail::json_kind(e) + ", expected an object");
    }
    tensor_info t;
    t.name = name;

    const auto dt = e.find("dtype");
    if (dt == e.end()) fail_tensor(name, "missing \"dtype\"");
    if (!dt->is_string()) {
      fail_tensor(name,
                  std::string("dtype is a JSON ") + detail::json_kind(*dt) + ", expected a string");
    }
    const auto& dts = dt->get_ref<const std::string&>();
    const auto type = detail::parse_dtype(dts);
    if (!type) fail_tensor(name, "unknown dtype " + detail::quote(dts));
    t.type = *type;

    const auto sh = e.find("shape");
    if (sh == e.end()) fail_tensor(name, "missing \"shape\"");
    if (!sh->is_array()) {
      fail_tensor(name, "shape must be an array of non-negative integers, got " +
                            detail::json_snippet(*sh));
    }
    t.elements = 1;
    t.shape.reserve(sh->size());
    for (const auto& d : *sh) {
      std::uint64_t v = 0;
      if (!detail::json_to_u64(d, v)) {
        fail_tensor(name, "shape must be an array of non-negative integers, got " +
                              detail::json_snippet(*sh));
      }
      const auto dim = static_cast<std::size_t>(v);
      if (!detail::checked_mul(t.elements, dim, t.elements)) {
        fail_tensor(name,
                    "shape " + detail::json_snippet(*sh) + " has more elements than fit in size_t");
      }
      t.shape.push_back(dim);
    }
    std::size_t nbytes = 0;
    if (!detail::checked_mul(t.elements, dtype_size(t.type), nbytes)) {
      fail_tensor(name,
                  "shape " + detail::json_snippet(*sh) + " has more bytes than fit in size_t");
    }

    const auto off = e.find("data_offsets");
    if (off == e.end()) fail_tensor(name, "missing \"data_offsets\"");
    std::uint64_t b = 0, en = 0;
    if (!off->is_array() || off->size() != 2 || !detail::json_to_u64((*off)[0], b) ||
        !detail::json_to_u64((*off)[1], en)) {
      fail_tensor(name, "data_offsets must be 2 non-negative integers [begin, end], got " +
                            detail::json_snippet(*off));
    }
    if (b > en) {
      fail_tensor(name, "data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                            "] are reversed (begin > end)");
    }
    if (en > data_size) {
      fail_tensor(name, "data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                            "] end beyond the data region (" + std::to_string(data_size) +
                            " bytes)");
    }
    t.begin = static_cast<std::size_t>(b);
    t.end = static_cast<std::size_t>(en);
    if (t.end - t.begin != nbytes) {
      fail_tensor(name, "data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                            "] span " + std::to_string(t.end - t.begin) + " bytes, but shape " +
                            shape_string(t.shape) + " of " + std::string(dtype_name(t.type)) +
                            " needs " + std::to_string(nbytes));
    }
    return t;
  }

  mapped_file file_;
  std::map<std::string, tensor_info, std::less<>> tensors_;
  std::vector<std::string> names_;
  std::map<std::string, std::string, std::less<>> metadata_;
};

// ---- writer -------------------------------------------------------------------------------

// One tensor to write: raw little-endian bytes of `type`.
struct tensor_entry {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::size_t> shape;
  std::vector<std::byte> data;

  static tensor_entry f32(std::string name, std::vector<std::size_t> shape,
                          std::span<const float> values) {
    tensor_entry e{std::move(name), dtype::f32, std::move(shape), {}};
    e.data.resize(values.size_bytes());
    if (!values.empty()) std::memcpy(e.data.data(), values.data(), values.size_bytes());
    return e;
  }
  static tensor_entry f16(std::string name, std::vector<std::size_t> shape,
                          std::span<const half> values) {
    tensor_entry e{std::move(name), dtype::f16, std::move(shape), {}};
    e.data.resize(values.size_bytes());
    if (!values.empty()) std::memcpy(e.data.data(), values.data(), values.size_bytes());
    return e;
  }
  // Floats rounded to fp16 (nearest even).
  static tensor_entry f16(std::string name, std::vector<std::size_t> shape,
                          std::span<const float> values) {
    std::vector<half> h(values.size());
    simd::float_to_half(values.data(), h.data(), values.size());
    return f16(std::move(name), std::move(shape), std::span<const half>(h));
  }
};

// Write a .safetensors file as the reference implementation does: the header is compact JSON
// (keys sorted), padded with spaces so the data region starts on an 8-byte boundary; tensors
// are laid out back to back in name order. Throws load_error on a bad entry or an I/O error.
inline void write_safetensors(
    const std::filesystem::path& path, std::span<const tensor_entry> entries,
    const std::map<std::string, std::string, std::less<>>& metadata = {}) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<const tensor_entry*> order;
  for (const auto& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::size_t offset = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& e = *order[i];
    if (e.name == "__metadata__") detail::fail(path, "cannot write a tensor named '__metadata__'");
    if (i && order[i - 1]->name == e.name)
      detail::fail(path, "tensor " + detail::quote(e.name) + " given twice");
    std::size_t n = 1;
    for (auto d : e.shape) {
      if (!detail::checked_mul(n, d, n))
        detail::fail(path, "tensor " + detail::quote(e.name) + ": shape overflows");
    }
    if (!detail::checked_mul(n, dtype_size(e.type), n) || n != e.data.size()) {
      detail::fail(path, "tensor " + detail::quote(e.name) + ": " + std::to_string(e.data.size()) +
                             " bytes of data do not match shape " + shape_string(e.shape) + " of " +
                             std::string(dtype_name(e.type)));
    }
    header[e.name] = {{"dtype", std::string(dtype_name(e.type))},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.data.size()}}};
    offset += e.data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::array<char, 8> len{};
  for (std::size_t i = 0; i < 8; ++i) {
    len[i] = static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xffu);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) detail::fail(path, "cannot open file for writing");
  out.write(len.data(), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto* e : order) {
    out.write(reinterpret_cast<const char*>(e->data.data()),
              static_cast<std::streamsize>(e->data.size()));
  }
  out.close();
  if (!out) detail::fail(path, "write failed");
}

inline void write_safetensors(
    const std::filesystem::path& path, std::initializer_list<tensor_entry> entries,
    const std::map<std::string, std::string, std::less<>>& metadata = {}) {
  write_safetensors(path, std::span<const tensor_entry>(entries.begin(), entries.size()), metadata);
}

}  // namespace bc1s::io
