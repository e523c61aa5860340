// Tests for bc1s/io/safetensors.hpp (and mapped_file.hpp): every malformed file is generated here
// into a temp dir; each bad input must give a one-line load_error naming the file and the problem.
#include <bc1s/io/safetensors.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using bc1s::half;
using bc1s::io::dtype;
using bc1s::io::load_error;
using bc1s::io::safetensors_file;
using bc1s::io::tensor_entry;
using ::testing::HasSubstr;
using ::testing::Not;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fs::temp_directory_path() / ("bc1s_safetensors_test_" + std::to_string(::getpid()) +
                                        "_" + std::to_string(counter++));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write_raw(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  static std::string le64(std::uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
      s[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
  }

  // A file with the given header text (no padding: data may start unaligned) and data bytes.
  fs::path write_st(const std::string& header, const std::string& data = "",
                    const std::string& name = "t.safetensors") {
    return write_raw(name, le64(header.size()) + header + data);
  }

  // The load_error message of opening `p` (fails the test if it opens).
  static std::string open_error(const fs::path& p) {
    try {
      (void)safetensors_file::open(p);
    } catch (const load_error& e) {
      return e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected bc1s::io::load_error, got another exception: " << e.what();
      return e.what();
    }
    ADD_FAILURE() << "expected " << p << " to fail to open";
    return {};
  }

  // Common checks on every error: one line, names the file.
  static void expect_good_message(const std::string& msg, const fs::path& p) {
    EXPECT_THAT(msg, Not(HasSubstr("\n")));
    EXPECT_THAT(msg, HasSubstr(p.filename().string()));
  }

  std::string expect_open_error(const fs::path& p, const std::string& what) {
    const std::string msg = open_error(p);
    expect_good_message(msg, p);
    EXPECT_THAT(msg, HasSubstr(what));
    return msg;
  }

  fs::path dir_;
};

std::string f32_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// ---- bad input, one test per row -------------------------------------------------------------

TEST_F(SafetensorsTest, MissingFile) {
  const auto p = dir_ / "absent.safetensors";
  const auto msg = expect_open_error(p, "cannot open file");
  EXPECT_THAT(msg, HasSubstr("No such file"));
}

TEST_F(SafetensorsTest, Directory) {
  expect_open_error(dir_, "is a directory");
}

TEST_F(SafetensorsTest, EmptyFile) {
  expect_open_error(write_raw("e.safetensors", ""), "file is empty");
}

TEST_F(SafetensorsTest, FourByteFile) {
  expect_open_error(write_raw("f.safetensors", "abcd"), "file is 4 bytes, too short");
}

TEST_F(SafetensorsTest, HeaderLengthBeyondFile) {
  expect_open_error(write_raw("h.safetensors", le64(1000) + "{}"),
                    "header length 1000 exceeds the file size (10 bytes");
}

TEST_F(SafetensorsTest, HeaderLengthHugeIsBoundedBeforeAllocating) {
  // 2^64 - 1 must be rejected by comparison, not by a failed allocation.
  expect_open_error(write_raw("h.safetensors", le64(~std::uint64_t{0}) + "{}"),
                    "header length 18446744073709551615 exceeds the file size");
}

TEST_F(SafetensorsTest, HeaderNotJson) {
  expect_open_error(write_st("{not json at all"), "header is not valid JSON");
}

TEST_F(SafetensorsTest, HeaderEmpty) {
  expect_open_error(write_st(""), "header is not valid JSON");
}

TEST_F(SafetensorsTest, HeaderJsonArray) {
  expect_open_error(write_st("[1, 2, 3]"), "header is a JSON array, expected an object");
}

TEST_F(SafetensorsTest, HeaderTooDeep) {
  expect_open_error(write_st(std::string(5000, '[') + std::string(5000, ']')),
                    "nests deeper than 8 levels");
}

TEST_F(SafetensorsTest, EntryNotObject) {
  expect_open_error(write_st(R"({"w": [1, 2]})"),
                    "tensor 'w': entry is a JSON array, expected an object");
}

TEST_F(SafetensorsTest, MissingDtype) {
  expect_open_error(write_st(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", "abcd"),
                    "tensor 'w': missing \"dtype\"");
}

TEST_F(SafetensorsTest, UnknownDtype) {
  expect_open_error(
      write_st(R"({"w": {"dtype": "F12", "shape": [1], "data_offsets": [0, 4]}})", "abcd"),
      "tensor 'w': unknown dtype 'F12'");
}

TEST_F(SafetensorsTest, DtypeNotString) {
  expect_open_error(
      write_st(R"({"w": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}})", "abcd"),
      "tensor 'w': dtype is a JSON integer, expected a string");
}

TEST_F(SafetensorsTest, NegativeShape) {
  expect_open_error(write_st(R"({"w": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}})",
                             std::string(8, 'x')),
                    "tensor 'w': shape must be an array of non-negative integers, got [-1,2]");
}

TEST_F(SafetensorsTest, ShapeWithFloat) {
  expect_open_error(
      write_st(R"({"w": {"dtype": "F32", "shape": [2.5, 2], "data_offsets": [0, 20]}})",
               std::string(20, 'x')),
      "tensor 'w': shape must be an array of non-negative integers, got [2.5,2]");
}

TEST_F(SafetensorsTest, ShapeNotArray) {
  expect_open_error(write_st(R"({"w": {"dtype": "F32", "shape": "2x2", "data_offsets": [0, 16]}})",
                             std::string(16, 'x')),
                    "tensor 'w': shape must be an array of non-negative integers, got \"2x2\"");
}

TEST_F(SafetensorsTest, ShapeBeyondUint64) {
  // 2^64 does not fit an integer: nlohmann reads it as a float.
  expect_open_error(
      write_st(
          R"({"w": {"dtype": "F32", "shape": [18446744073709551616], "data_offsets": [0, 4]}})",
          "abcd"),
      "tensor 'w': shape must be an array of non-negative integers");
}

TEST_F(SafetensorsTest, OverflowingShapeElements) {
  expect_open_error(
      write_st(
          R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 2], "data_offsets": [0, 0]}})"),
      "tensor 'w': shape [4294967296,4294967296,2] has more elements than fit in size_t");
}

TEST_F(SafetensorsTest, OverflowingShapeBytes) {
  // 2^62 elements fit in size_t; 2^62 * 4 bytes do not.
  expect_open_error(
      write_st(
          R"({"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 0]}})"),
      "tensor 'w': shape [4611686018427387904] has more bytes than fit in size_t");
}

TEST_F(SafetensorsTest, OverflowWrapsToMatchingSizeIsStillCaught) {
  // 2^32 * 2^32 * 1 wraps to 0 in unchecked arithmetic and would "match" data_offsets [0, 0].
  expect_open_error(
      write_st(
          R"({"w": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})"),
      "more elements than fit in size_t");
}

TEST_F(SafetensorsTest, OffsetsNotTwoIntegers) {
  expect_open_error(
      write_st(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", "abcd"),
      "tensor 'w': data_offsets must be 2 non-negative integers [begin, end], got [0]");
  expect_open_error(
      write_st(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", "abcd"),
      "tensor 'w': data_offsets must be 2 non-negative integers [begin, end], got [-4,0]");
  expect_open_error(write_st(R"({"w": {"dtype": "F32", "shape": [1]}})", "abcd"),
                    "tensor 'w': missing \"data_offsets\"");
}

TEST_F(SafetensorsTest, OffsetsReversed) {
  expect_open_error(
      write_st(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", "abcdefgh"),
      "tensor 'w': data_offsets [4, 0] are reversed (begin > end)");
}

TEST_F(SafetensorsTest, OffsetsOutOfRange) {
  expect_open_error(
      write_st(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "abcd"),
      "tensor 'w': data_offsets [0, 8] end beyond the data region (4 bytes)");
}

TEST_F(SafetensorsTest, OffsetsHugeOutOfRange) {
  expect_open_error(
      write_st(
          R"({"w": {"dtype": "U8", "shape": [4], "data_offsets": [18446744073709551612, 18446744073709551615]}})",
          "abcd"),
      "end beyond the data region");
}

TEST_F(SafetensorsTest, Overlapping) {
  const auto msg = expect_open_error(
      write_st(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
               R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
               std::string(12, 'x')),
      "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
}

TEST_F(SafetensorsTest, OverlappingUnsortedAndContained) {
  // Header order differs from offset order; the small tensor lies inside the big one.
  expect_open_error(write_st(R"({"big": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]},)"
                             R"( "a": {"dtype": "U8", "shape": [2], "data_offsets": [20, 22]},)"
                             R"( "z": {"dtype": "U8", "shape": [2], "data_offsets": [6, 8]}})",
                             std::string(22, 'x')),
                    "overlap");
}

TEST_F(SafetensorsTest, SizeMismatch) {
  expect_open_error(
      write_st(R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})",
               std::string(20, 'x')),
      "tensor 'w': data_offsets [0, 20] span 20 bytes, but shape [2, 3] of F32 needs 24");
}

TEST_F(SafetensorsTest, DuplicateName) {
  expect_open_error(write_st(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                             R"( "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                             "ab"),
                    "header has the key 'w' more than once");
}

TEST_F(SafetensorsTest, MetadataNotStrings) {
  expect_open_error(write_st(R"({"__metadata__": {"format": 3}})"),
                    "__metadata__ value for 'format' is a JSON integer, expected a string");
  expect_open_error(write_st(R"({"__metadata__": [1]})"), "__metadata__ is a JSON array");
}

TEST_F(SafetensorsTest, HostileNameStaysOnOneLine) {
  const auto msg = expect_open_error(
      write_st("{\"evil\\nname\": {\"dtype\": \"Q\", \"shape\": [], \"data_offsets\": [0, 0]}}"),
      "tensor 'evil\\nname': unknown dtype 'Q'");
  EXPECT_THAT(msg, Not(HasSubstr("\n")));
}

TEST_F(SafetensorsTest, MissingTensorRequested) {
  const auto p = dir_ / "ok.safetensors";
  const std::vector<float> v{1, 2};
  bc1s::io::write_safetensors(p, {tensor_entry::f32("w", {2}, v)});
  const auto f = safetensors_file::open(p);
  EXPECT_FALSE(f.contains("nope"));
  try {
    (void)f.info("nope");
    FAIL() << "expected load_error";
  } catch (const load_error& e) {
    expect_good_message(e.what(), p);
    EXPECT_THAT(e.what(), HasSubstr("no tensor named 'nope'"));
  }
  std::vector<float> dst(2);
  EXPECT_THROW(f.read_as_float("nope", dst), load_error);
}

TEST_F(SafetensorsTest, DestinationSizeMismatch) {
  const auto p = dir_ / "ok.safetensors";
  const std::vector<float> v{1, 2, 3, 4, 5, 6};
  bc1s::io::write_safetensors(p, {tensor_entry::f32("w", {2, 3}, v)});
  const auto f = safetensors_file::open(p);
  std::vector<float> dst(5);
  try {
    f.read_as_float("w", dst);
    FAIL() << "expected load_error";
  } catch (const load_error& e) {
    EXPECT_THAT(
        e.what(),
        HasSubstr("tensor 'w' of shape [2, 3] has 6 elements, but the destination holds 5"));
  }
}

TEST_F(SafetensorsTest, WrongShapeExpected) {
  const auto p = dir_ / "ok.safetensors";
  const std::vector<float> v{1, 2, 3, 4, 5, 6};
  bc1s::io::write_safetensors(p, {tensor_entry::f32("w", {2, 3}, v)});
  const auto f = safetensors_file::open(p);
  std::vector<float> dst(6);
  try {
    f.read_as_float("w", {3, 2}, dst);
    FAIL() << "expected load_error";
  } catch (const load_error& e) {
    expect_good_message(e.what(), p);
    EXPECT_THAT(e.what(), HasSubstr("tensor 'w' has shape [2, 3], expected [3, 2]"));
  }
  const std::vector<std::size_t> rank1{6};
  EXPECT_THROW(f.read_as_float("w", rank1, dst), load_error);
  f.read_as_float("w", {2, 3}, dst);  // right shape: fine
  EXPECT_EQ(dst, v);
}

TEST_F(SafetensorsTest, UnsupportedDtypeIsListedButNotConverted) {
  const auto p = write_st(R"({"ids": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}})",
                          std::string(16, '\0'));
  const auto f = safetensors_file::open(p);
  ASSERT_TRUE(f.contains("ids"));
  EXPECT_EQ(f.info("ids").type, dtype::i64);
  std::vector<float> dst(2);
  try {
    f.read_as_float("ids", dst);
    FAIL() << "expected load_error";
  } catch (const load_error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("tensor 'ids' has dtype I64, which cannot be converted to float"));
  }
}

// ---- good input -------------------------------------------------------------------------------

TEST_F(SafetensorsTest, RoundTripF32AndF16WithMetadata) {
  const auto p = dir_ / "rt.safetensors";
  std::vector<float> a(6 * 7), b(33);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(static_cast<float>(i)) * 100.0f;
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<float>(i) * 0.25f - 3.0f;  // exact in fp16
  const std::vector<float> c{};
  bc1s::io::write_safetensors(p,
                              {tensor_entry::f32("layer.a", {6, 7}, a),
                               tensor_entry::f16("b", {33}, std::span<const float>(b)),
                               tensor_entry::f32("empty", {0, 4}, c)},
                              {{"format", "pt"}});
  const auto f = safetensors_file::open(p);
  EXPECT_EQ(f.names(), (std::vector<std::string>{"b", "empty", "layer.a"}));
  EXPECT_EQ(f.info("layer.a").shape, (std::vector<std::size_t>{6, 7}));
  EXPECT_EQ(f.info("b").type, dtype::f16);
  EXPECT_EQ(f.info("b").bytes.size(), 66u);
  EXPECT_EQ(f.metadata().at("format"), "pt");

  EXPECT_EQ(f.read_as_float("layer.a"), a);
  EXPECT_EQ(f.read_as_float("b"), b);
  EXPECT_TRUE(f.read_as_float("empty").empty());

  std::vector<half> h(33);
  f.read_as_half("b", {33}, h);
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(static_cast<float>(h[i]), b[i]);
  std::vector<half> ha(a.size());
  f.read_as_half("layer.a", ha);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(ha[i].bits(), half(a[i]).bits());
}

TEST_F(SafetensorsTest, WriterPadsHeaderToEightBytes) {
  const auto p = dir_ / "pad.safetensors";
  const std::vector<float> v{1.5f};
  bc1s::io::write_safetensors(p, {tensor_entry::f32("x", {1}, v)});
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 4);
  EXPECT_EQ(bytes[8], '{');
  const auto f = safetensors_file::open(p);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.info("x").bytes.data()) % 8, 0u);
}

TEST_F(SafetensorsTest, WriterRejectsBadEntries) {
  const std::vector<float> v{1, 2, 3};
  EXPECT_THROW(
      bc1s::io::write_safetensors(dir_ / "w.safetensors", {tensor_entry::f32("x", {2, 2}, v)}),
      load_error);
  EXPECT_THROW(
      bc1s::io::write_safetensors(dir_ / "w.safetensors",
                                  {tensor_entry::f32("x", {3}, v), tensor_entry::f32("x", {3}, v)}),
      load_error);
}

// BF16 written by hand, with an odd header length so every tensor starts unaligned.
TEST_F(SafetensorsTest, RoundTripBF16HandWrittenUnaligned) {
  const std::vector<float> want{1.0f, -2.5f, 3.140625f, 0.0f, -0.0f, 65536.0f, 0x1p-70f, 0x1p127f};
  std::string data;
  for (float x : want) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &x, 4);
    ASSERT_EQ(bits & 0xffffu, 0u) << x << " must be exact in bf16";
    const auto hi = static_cast<std::uint16_t>(bits >> 16);
    data += static_cast<char>(hi & 0xff);
    data += static_cast<char>(hi >> 8);
  }
  const std::vector<float> f32{0.1f, 0.2f, 0.3f};
  data += f32_bytes(f32);  // at data offset 16: unaligned in the file too
  std::string header = R"({"bf":{"dtype":"BF16","shape":[2,4],"data_offsets":[0,16]},)"
                       R"("f":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}})";
  if (header.size() % 2 == 0) header += ' ';  // odd: data region starts at an odd address
  const auto p = write_st(header, data);
  const auto f = safetensors_file::open(p);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.info("bf").bytes.data()) % 2, 1u);
  EXPECT_EQ(f.info("bf").type, dtype::bf16);
  EXPECT_EQ(f.read_as_float("bf"), want);
  EXPECT_EQ(f.read_as_float("f"), f32);
}

TEST_F(SafetensorsTest, F16UnalignedBeyondOneChunk) {
  // More than one conversion chunk (1024), at an odd address.
  std::vector<half> h(3000);
  for (std::size_t i = 0; i < h.size(); ++i)
    h[i] = half::from_bits(static_cast<std::uint16_t>(i * 21u));
  std::string data(h.size() * 2, '\0');
  std::memcpy(data.data(), h.data(), data.size());
  std::string header = R"({"h":{"dtype":"F16","shape":[3000],"data_offsets":[0,6000]}})";
  if (header.size() % 2 == 0) header += ' ';
  const auto f = safetensors_file::open(write_st(header, data));
  const auto got = f.read_as_float("h");
  for (std::size_t i = 0; i < h.size(); ++i) {
    const float w = static_cast<float>(h[i]);
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(got[i])) << i;
    } else {
      EXPECT_EQ(got[i], w) << i;
    }
  }
}

TEST_F(SafetensorsTest, ScalarAndEmptyHeader) {
  const auto f = safetensors_file::open(
      write_st(R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", f32_bytes({7.0f})));
  EXPECT_TRUE(f.info("s").shape.empty());
  EXPECT_EQ(f.info("s").elements, 1u);
  EXPECT_EQ(f.read_as_float("s"), std::vector<float>{7.0f});
  const auto g = safetensors_file::open(write_st("{}", "", "empty.safetensors"));
  EXPECT_TRUE(g.names().empty());
}

TEST_F(SafetensorsTest, MovedFileKeepsSpansValid) {
  const auto p = dir_ / "mv.safetensors";
  const std::vector<float> v{1, 2, 3};
  bc1s::io::write_safetensors(p, {tensor_entry::f32("v", {3}, v)});
  auto f = safetensors_file::open(p);
  const auto span = f.info("v").bytes;
  safetensors_file g = std::move(f);
  EXPECT_EQ(g.info("v").bytes.data(), span.data());
  EXPECT_EQ(g.read_as_float("v"), v);
  safetensors_file h;
  h = std::move(g);
  EXPECT_EQ(h.read_as_float("v"), v);
}

// ---- robustness: truncations and random corruptions only ever raise load_error -----------------

TEST_F(SafetensorsTest, CorruptedFilesNeverCrash) {
  const auto p = dir_ / "good.safetensors";
  std::vector<float> a(24), b(10);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = -static_cast<float>(i);
  bc1s::io::write_safetensors(
      p,
      {tensor_entry::f32("a", {4, 6}, a), tensor_entry::f16("b", {10}, std::span<const float>(b))},
      {{"k", "v"}});
  std::ifstream in(p, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  auto try_open = [&](const std::string& bytes) {
    const auto q = write_raw("bad.safetensors", bytes);
    try {
      const auto f = safetensors_file::open(q);
      for (const auto& n : f.names()) {
        const auto& t = f.info(n);
        if (bc1s::io::is_float_convertible(t.type)) (void)f.read_as_float(n);
      }
    } catch (const load_error& e) {
      EXPECT_THAT(std::string(e.what()), Not(HasSubstr("\n")));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-load_error exception: " << e.what();
    }
  };
  for (std::size_t len = 0; len < good.size(); ++len) try_open(good.substr(0, len));
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 1500; ++iter) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const std::size_t pos =
          rng() % std::min<std::size_t>(bad.size(), iter % 2 ? 8 + 200 : bad.size());
      bad[pos] = static_cast<char>(rng() & 0xff);
    }
    try_open(bad);
  }
}

// ---- the published checkpoint, when a model folder is available --------------------------------

TEST(SafetensorsRealModel, DistilbertSst2IfPresent) {
  fs::path dir = BC1S_SHARED_DATA "/distilbert-sst2";
  if (const char* env = std::getenv("BC1S_MODEL_DIR")) dir = env;
  const auto p = dir / "model.safetensors";
  if (!fs::exists(p))
    GTEST_SKIP() << "no " << p << " (set BC1S_MODEL_DIR to a folder with the real weights)";
  const auto f = safetensors_file::open(p);
  EXPECT_EQ(f.size(), 104u);
  f.check_shape("distilbert.embeddings.word_embeddings.weight", {30522, 768});
  f.check_shape("classifier.weight", {2, 768});
}

}  // namespace
