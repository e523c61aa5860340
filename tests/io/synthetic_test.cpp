// The C++ synthetic-weight generator (bc1s/io/synthetic.hpp) against the fixture that the Python
// generator (tools/synthetic.py) wrote: tests/data/parity/synthetic_values.txt, produced by
// tools/make_parity_fixtures.py. Values are compared as exact float32 bits.
#include <bc1s/io/synthetic.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::string kFixture = std::string(BC1S_TEST_DATA) + "/parity/synthetic_values.txt";

struct fixture_line {
  std::string kind;
  std::string name;
  std::vector<std::string> fields;
};

std::vector<fixture_line> read_fixture() {
  std::ifstream in(kFixture);
  EXPECT_TRUE(in.good()) << "cannot open " << kFixture
                         << " (regenerate with tools/make_parity_fixtures.py)";
  std::vector<fixture_line> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    fixture_line f;
    ss >> f.kind >> f.name;
    if (f.name == "-") f.name.clear();
    for (std::string field; ss >> field;) f.fields.push_back(field);
    out.push_back(std::move(f));
  }
  return out;
}

std::uint64_t parse_u64(const std::string& s, int base = 10) {
  return std::stoull(s, nullptr, base);
}

// Same checksum as tools/synthetic.py tensor_checksum.
std::uint64_t tensor_checksum(const std::vector<float>& v) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto bits = static_cast<std::uint64_t>(std::bit_cast<std::uint32_t>(v[i]));
    sum += bc1s::io::detail::splitmix64((bits << 32) ^ static_cast<std::uint64_t>(i));
  }
  return sum;
}

TEST(Synthetic, SplitMix64KnownValues) {
  // Reference outputs of SplitMix64 seeded with 0 (state 0 -> first outputs of the sequence).
  EXPECT_EQ(bc1s::io::detail::splitmix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(bc1s::io::detail::splitmix64(0x9e3779b97f4a7c15ULL), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(bc1s::io::detail::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(bc1s::io::detail::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
}

TEST(Synthetic, FnvMatchesPython) {
  int n = 0;
  for (const auto& f : read_fixture()) {
    if (f.kind != "fnv") continue;
    ASSERT_EQ(f.fields.size(), 1U);
    EXPECT_EQ(bc1s::io::detail::fnv1a64(f.name), parse_u64(f.fields[0], 16)) << f.name;
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(Synthetic, ValuesBitIdenticalToPython) {
  int n = 0;
  for (const auto& f : read_fixture()) {
    if (f.kind != "value") continue;
    ASSERT_EQ(f.fields.size(), 3U);
    const std::uint64_t seed = parse_u64(f.fields[0]);
    const std::uint64_t index = parse_u64(f.fields[1]);
    const auto want = static_cast<std::uint32_t>(parse_u64(f.fields[2], 16));
    const float got = bc1s::io::synthetic_value(f.name, index, seed);
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got), want)
        << "name '" << f.name << "' seed " << seed << " index " << index << ": got " << got
        << ", want " << std::bit_cast<float>(want);
    ++n;
  }
  EXPECT_GE(n, 500);
}

TEST(Synthetic, FillMatchesValue) {
  std::vector<float> buf(300);
  const char* name = "distilbert.transformer.layer.2.ffn.lin2.weight";
  bc1s::io::fill_synthetic(name, buf, 77);
  for (std::size_t i = 0; i < buf.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(buf[i]),
              std::bit_cast<std::uint32_t>(bc1s::io::synthetic_value(name, i, 77)));
  }
}

TEST(Synthetic, RangesFollowTheTable) {
  std::vector<float> buf(4096);
  bc1s::io::fill_synthetic("distilbert.embeddings.LayerNorm.weight", buf, 1234);
  for (const float v : buf) {
    EXPECT_GT(v, 1.0f - 3.0f / 32.0f);
    EXPECT_LT(v, 1.0f + 3.0f / 32.0f);
  }
  bc1s::io::fill_synthetic("pre_classifier.bias", buf, 1234);
  for (const float v : buf) {
    EXPECT_GT(v, -1.0f / 64.0f);
    EXPECT_LT(v, 1.0f / 64.0f);
    EXPECT_NE(v, 0.0f);
  }
}

// Every parameter of the small config: names, shapes and order of distilbert_parameter_shapes
// match the Python list, and fill_synthetic over the whole tensor matches Python's checksum.
TEST(Synthetic, SmallDistilBertTensorsMatchPython) {
  const auto shapes = bc1s::io::distilbert_parameter_shapes(64, 4, 128, 2, 30522, 512, 2);
  std::size_t k = 0;
  for (const auto& f : read_fixture()) {
    if (f.kind != "tensor") continue;
    ASSERT_EQ(f.fields.size(), 3U);
    ASSERT_LT(k, shapes.size()) << "fixture has more tensors than distilbert_parameter_shapes";
    const auto& [name, shape] = shapes[k++];
    EXPECT_EQ(name, f.name);
    std::string dims;
    std::size_t count = 1;
    for (const std::size_t d : shape) {
      dims += (dims.empty() ? "" : "x") + std::to_string(d);
      count *= d;
    }
    EXPECT_EQ(dims, f.fields[1]) << name;
    std::vector<float> values(count);
    bc1s::io::fill_synthetic(name, values, parse_u64(f.fields[0]));
    EXPECT_EQ(tensor_checksum(values), parse_u64(f.fields[2], 16)) << name;
  }
  EXPECT_EQ(k, shapes.size());
  EXPECT_EQ(shapes.size(), 4U + 16U * 2U + 4U);
}

TEST(Synthetic, BaseShapes) {
  const auto shapes = bc1s::io::distilbert_parameter_shapes(768, 12, 3072, 6, 30522, 512, 2);
  ASSERT_EQ(shapes.size(), 104U);  // the real checkpoint has 104 tensors
  std::size_t total = 0;
  for (const auto& [name, shape] : shapes) {
    std::size_t n = 1;
    for (const std::size_t d : shape) n *= d;
    total += n;
  }
  EXPECT_EQ(total, 66955010U);  // parameters of distilbert-base-uncased-finetuned-sst-2-english
  EXPECT_EQ(shapes.front().first, "distilbert.embeddings.word_embeddings.weight");
  EXPECT_EQ(shapes[4].first, "distilbert.transformer.layer.0.attention.q_lin.weight");
  EXPECT_EQ((shapes[4].second), (std::vector<std::size_t>{768, 768}));
  EXPECT_EQ(shapes.back().first, "classifier.bias");
}

}  // namespace
