// Tests for bc1s/io/sha256.hpp: FIPS 180-4 vectors, portable vs SHA-NI, incremental updates,
// files, and throughput.
#include <bc1s/io/sha256.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using bc1s::io::load_error;
using bc1s::io::sha256_hex;
using ::testing::HasSubstr;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // Lengths around the 55/56/64-byte padding edges, checked against the one-shot digest of
  // byte-at-a-time updates.
  for (std::size_t n : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u}) {
    const std::string s(n, 'x');
    bc1s::io::sha256 h;
    for (char c : s) h.update(std::string_view(&c, 1));
    EXPECT_EQ(h.hex_digest(), sha256_hex(s)) << n;
  }
  EXPECT_EQ(sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256, IncrementalMatchesOneShot) {
  std::mt19937 rng(7);
  std::string data(100'000, '\0');
  for (auto& c : data) c = static_cast<char>(rng() & 0xff);
  const std::string want = sha256_hex(data);
  bc1s::io::sha256 h;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t n = std::min<std::size_t>(data.size() - pos, rng() % 300);
    h.update(std::string_view(data).substr(pos, n));
    pos += n;
  }
  EXPECT_EQ(h.hex_digest(), want);
}

TEST(Sha256, PortableAndAcceleratedAgree) {
#if BC1S_SHA256_X86_SHANI
  std::mt19937 rng(11);
  std::vector<unsigned char> data(64 * 300);
  for (auto& c : data) c = static_cast<unsigned char>(rng() & 0xff);
  for (std::size_t blocks : {1u, 2u, 7u, 300u}) {
    std::uint32_t a[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::uint32_t b[8];
    std::copy(a, a + 8, b);
    bc1s::io::detail::sha256_compress_portable(a, data.data(), blocks);
    bc1s::io::detail::sha256_compress_shani(b, data.data(), blocks);
    EXPECT_TRUE(std::equal(a, a + 8, b)) << blocks << " blocks";
  }
#else
  GTEST_SKIP() << "built without the x86 SHA extensions: only the portable path exists";
#endif
}

class Sha256File : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bc1s_sha256_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(Sha256File, HashesAndVerifies) {
  const auto p = dir_ / "abc.bin";
  std::ofstream(p, std::ios::binary) << "abc";
  EXPECT_EQ(bc1s::io::sha256_file(p),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NO_THROW(bc1s::io::verify_sha256(
      p, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  try {
    bc1s::io::verify_sha256(p, "7c3919835e442510166d267fe7cbe847e0c51cd26d9ba07b89a57b952b49b8aa");
    FAIL() << "expected load_error";
  } catch (const load_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("abc.bin: sha256 is ba7816bf"));
    EXPECT_THAT(e.what(), HasSubstr("expected 7c3919835e44"));
  }
}

TEST_F(Sha256File, MissingFileAndDirectory) {
  try {
    (void)bc1s::io::sha256_file(dir_ / "absent.bin");
    FAIL() << "expected load_error";
  } catch (const load_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("absent.bin: cannot open file"));
  }
  EXPECT_THROW((void)bc1s::io::sha256_file(dir_), load_error);
}

TEST_F(Sha256File, Throughput) {
  // 64 MiB; printed, not asserted (debug builds are slow). A 268 MB checkpoint takes
  // size / rate seconds.
  const auto p = dir_ / "big.bin";
  {
    std::vector<char> buf(std::size_t{1} << 20, 'q');
    std::ofstream out(p, std::ios::binary);
    for (int i = 0; i < 64; ++i) out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto hex = bc1s::io::sha256_file(p);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(hex.size(), 64u);
  std::printf("sha256_file: 64 MiB in %.3f s (%.0f MB/s, %s)\n", s, 67.108864 / s,
              BC1S_SHA256_X86_SHANI ? "SHA-NI" : "portable");
}

}  // namespace
