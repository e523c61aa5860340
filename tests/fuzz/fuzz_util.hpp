// Helpers shared by the fuzz targets in tests/fuzz/ (not part of the library).
//
//   mem_file      bytes -> a path the library can open (a memfd, /proc/self/fd/N: no disk I/O,
//                 nothing left behind by a crash)
//   byte_reader   takes integers and flags off the front of the input, then the rest
//   fuzz_check()  an invariant the library promises; a violation aborts (a finding)
//   one_line()    the error-message contract: non-empty, one line, starting with a prefix
//
// A target catches only the exception types its library documents, and checks each message.
// Anything else escapes and libFuzzer reports it ("uncaught exception" is a finding too).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace bc1s_fuzz {

[[noreturn]] inline void fuzz_fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

#define BC1S_FUZZ_CHECK(cond, what)                                                            \
  do {                                                                                         \
    if (!(cond)) ::bc1s_fuzz::fuzz_fail(__FILE__, __LINE__, std::string(#cond ": ") + (what)); \
  } while (0)

// The message contract of every bc1s error: non-empty, a single line, starting with `prefix`
// (empty: any start).
inline void one_line(const char* file, int line, std::string_view msg, std::string_view prefix) {
  if (msg.empty()) fuzz_fail(file, line, "empty exception message");
  if (msg.find('\n') != std::string_view::npos || msg.find('\r') != std::string_view::npos) {
    fuzz_fail(file, line, "exception message spans lines: " + std::string(msg));
  }
  if (!msg.starts_with(prefix)) {
    fuzz_fail(
        file, line,
        "exception message does not start with '" + std::string(prefix) + "': " + std::string(msg));
  }
}
#define BC1S_FUZZ_ONE_LINE(e, prefix) ::bc1s_fuzz::one_line(__FILE__, __LINE__, (e).what(), prefix)

// A file whose bytes are set per input: an anonymous memfd, opened by path through /proc.
class mem_file {
 public:
  explicit mem_file(const char* name) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
    if (fd_ < 0) {
      std::perror("bc1s fuzz: memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  mem_file(const mem_file&) = delete;
  mem_file& operator=(const mem_file&) = delete;
  ~mem_file() { ::close(fd_); }

  void set(const void* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0) fail("ftruncate");
    const auto* p = static_cast<const char*>(data);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, p + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("pwrite");
      done += static_cast<std::size_t>(n);
    }
  }
  void set(std::string_view s) { set(s.data(), s.size()); }
  const std::string& path() const noexcept { return path_; }

 private:
  [[noreturn]] static void fail(const char* what) {
    std::perror(what);
    std::abort();
  }
  int fd_;
  std::string path_;
};

// Consumes the input from the front: small integers and flags for the harness's choices.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  std::size_t remaining() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  std::uint8_t u8() noexcept {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint16_t u16() noexcept {
    const auto lo = u8();
    return static_cast<std::uint16_t>(lo | (u8() << 8));
  }
  std::uint32_t u32() noexcept {
    const std::uint32_t lo = u16();
    return lo | (static_cast<std::uint32_t>(u16()) << 16);
  }
  bool flag() noexcept { return (u8() & 1u) != 0; }
  // At most n bytes.
  std::string_view take(std::size_t n) noexcept {
    if (n > n_) n = n_;
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    n_ -= n;
    return s;
  }
  std::string_view rest() noexcept { return take(n_); }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

}  // namespace bc1s_fuzz
