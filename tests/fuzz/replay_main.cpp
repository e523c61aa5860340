// Replay driver for a fuzz target without libFuzzer: runs LLVMFuzzerTestOneInput once on every
// file given, and on every regular file (sorted by name) of every folder given. Built with the
// normal compiler and flags (gcc, and the ASan/UBSan build), so the regression corpus in
// tests/fuzz/corpus/<target>/ runs in the ordinary test suite: ctest -R fuzz_<target>_replay.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot open %s\n", p.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), bytes.size());
  // A copy of exactly `size` bytes on the heap, as libFuzzer gives it: ASan sees an overread.
  std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  const std::uint8_t* ptr = data.empty() ? nullptr : data.data();
  LLVMFuzzerTestOneInput(ptr, data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
    return 2;
  }
  std::size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(arg)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        std::fprintf(stderr, "replay: %s holds no files\n", arg.c_str());
        return 1;
      }
      for (const auto& f : files) {
        if (!run_file(f)) return 1;
        ++runs;
      }
    } else {
      if (!run_file(arg)) return 1;
      ++runs;
    }
  }
  std::printf("replay: %zu inputs, no crash\n", runs);
  return 0;
}
