// bc1s::io::mapped_file — a whole regular file mapped read-only (POSIX mmap), RAII and movable.
//
// The bytes stay at the same address for the life of the mapping, also across moves, so spans
// into bytes() remain valid as long as some mapped_file owns the mapping. An empty file maps to
// an empty span (no mapping is made). Caveat of every mmap reader: if another process truncates
// the file while it is mapped, touching the lost pages raises SIGBUS; treat model files as
// immutable while loaded.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include "bc1s/io/load_error.hpp"

namespace bc1s::io {

class mapped_file {
 public:
  mapped_file() noexcept = default;

  // Map `path` read-only. Throws load_error if it is missing, unreadable, not a regular file, or
  // cannot be mapped.
  static mapped_file open(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      const int err = errno;
      detail::fail(path, "cannot open file (" + std::generic_category().message(err) + ")");
    }
    struct fd_closer {
      int fd;
      ~fd_closer() { ::close(fd); }
    } closer{fd};

    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      detail::fail(path, "cannot stat file (" + std::generic_category().message(err) + ")");
    }
    if (!S_ISREG(st.st_mode)) {
      detail::fail(
          path, S_ISDIR(st.st_mode) ? "is a directory, expected a file" : "is not a regular file");
    }
    mapped_file f;
    f.path_ = path;
    if (st.st_size <= 0) return f;  // empty: nothing to map
    const auto size = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      detail::fail(path, "cannot map file (" + std::generic_category().message(err) + ")");
    }
    f.data_ = static_cast<const std::byte*>(p);
    f.size_ = size;
    return f;
  }

  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  mapped_file(mapped_file&& o) noexcept
      : path_(std::move(o.path_)),
        data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)) {}
  mapped_file& operator=(mapped_file&& o) noexcept {
    if (this != &o) {
      unmap();
      path_ = std::move(o.path_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~mapped_file() { unmap(); }

  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void unmap() noexcept {
    if (data_ != nullptr) {
      ::munmap(const_cast<std::byte*>(data_), size_);
      data_ = nullptr;
      size_ = 0;
    }
  }

  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bc1s::io
