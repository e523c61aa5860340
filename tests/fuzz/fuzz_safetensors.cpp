// Fuzz target: the safetensors reader (bc1s/io/safetensors.hpp).
//
// The input is the whole file. open() must either throw a one-line load_error or return a file
// every tensor of which can be read: read_as_float / read_as_half into a buffer of the declared
// shape, with the bytes checked against the input itself (so a read outside the tensor's bytes,
// which ASan cannot see inside an mmap, shows up as a wrong value).
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bc1s/io/safetensors.hpp"
#include "fuzz_util.hpp"

namespace {

using bc1s::io::dtype;

// Our own reading of one element of a float-convertible tensor, straight from the input.
float reference_element(dtype t, const std::uint8_t* p) {
  if (t == dtype::f32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  std::uint16_t u;
  std::memcpy(&u, p, 2);
  if (t == dtype::bf16) return std::bit_cast<float>(static_cast<std::uint32_t>(u) << 16);
  return bc1s::to_float(bc1s::half::from_bits(u));
}

bool same_float(float a, float b) {
  // Bit-identical, except that NaN payloads may be quietened by a conversion.
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bc1s_fuzz::mem_file file("bc1s-fuzz-safetensors");
  file.set(data, size);

  std::optional<bc1s::io::safetensors_file> st;
  try {
    st.emplace(bc1s::io::safetensors_file::open(file.path()));
  } catch (const bc1s::io::load_error& e) {
    BC1S_FUZZ_ONE_LINE(e, file.path() + ": ");
    return 0;
  }

  // It opened: the input must really be a valid file, and each tensor must lie in it.
  BC1S_FUZZ_CHECK(size >= 8, "opened a file of " + std::to_string(size) + " bytes");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  BC1S_FUZZ_CHECK(n <= size - 8, "header length beyond the file");
  const std::uint8_t* region = data + 8 + n;
  const std::size_t region_size = size - 8 - static_cast<std::size_t>(n);

  BC1S_FUZZ_CHECK(st->names().size() == st->size(), "names() and size() disagree");
  std::vector<float> f;
  std::vector<bc1s::half> h;
  for (const std::string& name : st->names()) {
    BC1S_FUZZ_CHECK(st->contains(name), name);
    const bc1s::io::tensor_info& t = st->info(name);
    std::size_t elements = 1;
    for (std::size_t d : t.shape) elements *= d;  // validated by open(): no overflow
    BC1S_FUZZ_CHECK(elements == t.elements, "elements is not the product of the shape");
    BC1S_FUZZ_CHECK(t.begin <= t.end && t.end <= region_size, "tensor outside the data region");
    BC1S_FUZZ_CHECK(t.end - t.begin == t.elements * bc1s::io::dtype_size(t.type),
                    "byte count is not shape x dtype");
    BC1S_FUZZ_CHECK(t.bytes.size() == t.end - t.begin, "bytes() has the wrong size");
    if (t.bytes.size() != 0) {
      BC1S_FUZZ_CHECK(std::memcmp(t.bytes.data(), region + t.begin, t.bytes.size()) == 0,
                      "bytes() are not the file's bytes at data_offsets");
    }

    f.assign(t.elements, -1.0f);
    h.assign(t.elements, bc1s::half{});
    const std::span<const std::size_t> shape(t.shape);
    if (bc1s::io::is_float_convertible(t.type)) {
      st->read_as_float(name, shape, f);
      st->read_as_half(name, shape, h);
      const std::size_t es = bc1s::io::dtype_size(t.type);
      for (std::size_t i = 0; i < t.elements; ++i) {
        const float want = reference_element(t.type, region + t.begin + i * es);
        BC1S_FUZZ_CHECK(same_float(f[i], want), name + " element " + std::to_string(i));
      }
      if (t.type == dtype::f16) {
        BC1S_FUZZ_CHECK(
            t.elements == 0 || std::memcmp(h.data(), region + t.begin, t.elements * 2) == 0,
            "F16 read_as_half is not a copy");
      }
    } else {
      try {
        st->read_as_float(name, shape, f);
        BC1S_FUZZ_CHECK(
            false, "read_as_float accepted dtype " + std::string(bc1s::io::dtype_name(t.type)));
      } catch (const bc1s::io::load_error& e) {
        BC1S_FUZZ_ONE_LINE(e, file.path() + ": ");
      }
    }
    // A destination of the wrong size, and a wrong expected shape, are errors, not overruns.
    try {
      f.resize(t.elements + 1);
      st->read_as_float(name, f);
      BC1S_FUZZ_CHECK(false, "read_as_float accepted a destination of the wrong size");
    } catch (const bc1s::io::load_error& e) {
      BC1S_FUZZ_ONE_LINE(e, file.path() + ": ");
    }
    try {
      std::vector<std::size_t> other(t.shape);
      other.push_back(1);
      st->check_shape(name, other);
      BC1S_FUZZ_CHECK(false, "check_shape accepted a different shape");
    } catch (const bc1s::io::load_error& e) {
      BC1S_FUZZ_ONE_LINE(e, file.path() + ": ");
    }
  }
  try {
    (void)st->info("\x01no such tensor\n");
    BC1S_FUZZ_CHECK(st->contains("\x01no such tensor\n"), "info() found an absent tensor");
  } catch (const bc1s::io::load_error& e) {
    BC1S_FUZZ_ONE_LINE(e, file.path() + ": ");
  }
  for (const auto& [k, v] : st->metadata()) {
    BC1S_FUZZ_CHECK(k.size() + v.size() <= size, "metadata larger than the file");
  }
  return 0;
}
