// tensor<T, Layout> (owning, 64-byte aligned, padding lanes zero) and tensor_view<T, Layout>
// (non-owning). Both index as t(b, c, s) through the layout's offset().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "bc1s/core/half.hpp"
#include "bc1s/layout/layout.hpp"

namespace bc1s {

namespace detail {

// Buffers this large or larger start on a huge-page boundary (see aligned_zeros).
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

struct aligned_delete {
  std::size_t align = kRowAlignBytes;  // what the buffer was allocated with
  std::size_t mapped = 0;              // bytes mapped for it, when it came from mmap
  void operator()(void* p) const noexcept {
#if defined(__linux__)
    if (mapped != 0) {
      ::munmap(p, mapped);
      return;
    }
#endif
    ::operator delete (p, std::align_val_t{align});
  }
};

// Zero-filled, 64-byte aligned storage for n elements of T (T trivially copyable).
//
// Buffers of 2 MiB or more (packed weights, a layer's weight_arena, large workspaces) start on a
// 2 MiB boundary and, on Linux, ask for transparent huge pages over their whole 2 MiB spans
// (madvise: the default THP mode of many distributions honours only that). A forward pass at
// small S streams every weight from memory once; with 4 KiB pages that is a TLB miss every 4 KiB,
// and on a VM a two-level page walk each. Measured here (2-thread / 1-thread distilbert S = 8
// forward after 150 ms idle gaps, with every weight buffer on huge pages): medians 6.2-6.7 ->
// 5.2-5.6 ms and 11.3-11.7 -> 8.7-9.5 ms. The tail past the last whole span stays on small pages,
// so no memory is added.
//
// On Linux these come straight from mmap, not operator new: the heap hands back pages that earlier
// (freed) buffers already faulted in as 4 KiB pages, which madvise no longer turns into huge ones
// (distilbert_base's load had 40 MiB of its layer weights on huge pages through malloc, 60
// through weight_arena on malloc, 72 on mmap: every whole 2 MiB span of each layer's block). Fresh
// mappings are zero already; munmap gives them back.
template <class T>
std::unique_ptr<T[], aligned_delete> aligned_zeros(std::size_t n) {
  static_assert(std::is_trivially_copyable_v<T>);
  const std::size_t bytes = round_up(n * sizeof(T) + (n == 0 ? 1 : 0), kRowAlignBytes);
#if defined(__linux__)
  if (bytes >= kHugePageBytes) {
    const std::size_t len = round_up(bytes, 4096);
    void* raw = ::mmap(nullptr, len + kHugePageBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    // Keep the 2 MiB aligned len bytes inside; unmap the rest on both sides.
    const auto base = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t start = round_up(base, kHugePageBytes);
    if (start != base) ::munmap(raw, start - base);
    const std::size_t after = base + len + kHugePageBytes - (start + len);
    if (after != 0) ::munmap(reinterpret_cast<void*>(start + len), after);
    void* p = reinterpret_cast<void*>(start);
#if defined(MADV_HUGEPAGE)
    (void)::madvise(p, len / kHugePageBytes * kHugePageBytes, MADV_HUGEPAGE);  // a hint only
#endif
    return std::unique_ptr<T[], aligned_delete>(static_cast<T*>(p),
                                                aligned_delete{kHugePageBytes, len});
  }
#endif
  const std::size_t align = bytes >= kHugePageBytes ? kHugePageBytes : kRowAlignBytes;
  void* p = ::operator new (bytes, std::align_val_t{align});
  std::memset(p, 0, bytes);
  return std::unique_ptr<T[], aligned_delete>(static_cast<T*>(p), aligned_delete{align});
}
}  // namespace detail

// One zeroed, 64-byte aligned block carved into pieces that share its ownership: the weights of a
// model part (an encoder layer) packed side by side. Sized up front (capacity in bytes), it starts
// on a huge-page boundary like any large aligned_zeros buffer, so a layer's six weight matrices
// sit on 2 MiB pages together instead of each 1.2 MB 768 x 768 panel on 4 KiB pages of its own
// (too small for aligned_zeros to round up without adding memory). A piece keeps the block alive.
class weight_arena {
 public:
  explicit weight_arena(std::size_t capacity_bytes)
      : capacity_(detail::round_up(capacity_bytes, kRowAlignBytes)),
        block_(detail::aligned_zeros<std::byte>(capacity_)) {}

  // n zeroed elements of T on a 64-byte boundary, after the pieces taken before.
  template <class T>
  std::shared_ptr<T[]> take(std::size_t n) {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::size_t bytes = piece_bytes<T>(n);
    if (bytes > capacity_ - used_) {
      throw std::length_error("bc1s::weight_arena: a piece of " + std::to_string(bytes) +
                              " bytes does not fit: " + std::to_string(capacity_ - used_) + " of " +
                              std::to_string(capacity_) +
                              " bytes left; size the arena with the sum of its pieces");
    }
    T* p = reinterpret_cast<T*>(block_.get() + used_);
    used_ += bytes;
    return std::shared_ptr<T[]>(block_, p);
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t used() const noexcept { return used_; }

  // What take<T>(n) uses of the capacity.
  template <class T>
  static constexpr std::size_t piece_bytes(std::size_t n) noexcept {
    return detail::round_up(n * sizeof(T), kRowAlignBytes);
  }

 private:
  std::size_t capacity_;
  std::size_t used_ = 0;
  std::shared_ptr<std::byte[]> block_;
};

template <class T, class Layout>
class tensor_view {
  using value_type_ = std::remove_const_t<T>;
  static_assert(std::is_same_v<value_type_, typename Layout::element_type>,
                "bc1s::tensor_view: expected the element type to match the layout's element_type; "
                "use layout_bc1s<T, ...> with the same T as the view");

 public:
  using element_type = T;
  using value_type = value_type_;
  using layout_type = Layout;

  constexpr tensor_view() = default;
  // Wraps external memory. Channels-first layouts need every row on a 64-byte boundary, so the
  // base pointer must be 64-byte aligned.
  tensor_view(T* data, const Layout& layout) : data_(data), layout_(layout) {
    if (data == nullptr && layout.required_span_size() != 0) {
      throw std::invalid_argument("bc1s::tensor_view: null data pointer for a non-empty layout");
    }
    const auto addr = reinterpret_cast<std::uintptr_t>(data);
    if (addr % Layout::row_align_bytes != 0) {
      std::ostringstream os;
      os << "bc1s::tensor_view: expected a pointer aligned to " << Layout::row_align_bytes
         << " bytes, got " << static_cast<const void*>(data) << " (address mod "
         << Layout::row_align_bytes << " = " << addr % Layout::row_align_bytes
         << "); allocate with bc1s::tensor or an aligned allocator";
      throw std::invalid_argument(os.str());
    }
  }

  // tensor_view<T> -> tensor_view<const T>, and between layouts of the same kind whose extents
  // agree (static -> dynamic; a contradicting static extent is a compile error).
  template <class U, class L2>
  requires(std::is_convertible_v<U (*)[], T (*)[]>&& std::is_constructible_v<
           typename Layout::extents_type,
           typename L2::
               extents_type>) constexpr tensor_view(const tensor_view<U, L2>&
                                                        o)  // NOLINT(google-explicit-constructor)
      : data_(o.data()), layout_(typename Layout::extents_type(o.mapping().extents())) {
    static_assert(Layout::is_channels_first == L2::is_channels_first &&
                      Layout::row_align_bytes == L2::row_align_bytes,
                  "bc1s::tensor_view: expected the same layout kind on both sides; a channels-last "
                  "view cannot become a channels-first one without a transpose");
  }

  constexpr T* data() const noexcept { return data_; }
  constexpr const Layout& mapping() const noexcept { return layout_; }
  constexpr std::size_t b() const noexcept { return layout_.b(); }
  constexpr std::size_t c() const noexcept { return layout_.c(); }
  constexpr std::size_t s() const noexcept { return layout_.s(); }
  constexpr std::size_t size() const noexcept { return layout_.required_span_size(); }
  constexpr T& operator()(std::size_t b, std::size_t c, std::size_t s) const noexcept {
    return data_[layout_.offset(b, c, s)];
  }
  // Start of row (b, c) of a channels-first tensor (64-byte aligned).
  constexpr T* row(std::size_t b, std::size_t c) const noexcept {
    return data_ + layout_.offset(b, c, 0);
  }

 private:
  T* data_ = nullptr;
  Layout layout_{};
};

template <class T, class Layout>
class tensor {
  static_assert(std::is_same_v<T, typename Layout::element_type>,
                "bc1s::tensor: expected the element type to match the layout's element_type");

 public:
  using element_type = T;
  using value_type = T;
  using layout_type = Layout;

  tensor() requires Layout::extents_type::is_static : tensor(Layout{}) {}
  explicit tensor(const Layout& layout)
      : layout_(layout), data_(detail::aligned_zeros<T>(layout.required_span_size())) {}
  tensor(std::size_t b, std::size_t c, std::size_t s) : tensor(Layout(b, c, s)) {}

  tensor(tensor&&) noexcept = default;
  tensor& operator=(tensor&&) noexcept = default;
  tensor(const tensor& o) : tensor(o.layout_) {
    std::memcpy(data_.get(), o.data_.get(), size() * sizeof(T));
  }
  tensor& operator=(const tensor& o) {
    if (this != &o) *this = tensor(o);
    return *this;
  }

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  const Layout& mapping() const noexcept { return layout_; }
  std::size_t b() const noexcept { return layout_.b(); }
  std::size_t c() const noexcept { return layout_.c(); }
  std::size_t s() const noexcept { return layout_.s(); }
  std::size_t size() const noexcept { return layout_.required_span_size(); }
  T& operator()(std::size_t b, std::size_t c, std::size_t s) noexcept {
    return data_[layout_.offset(b, c, s)];
  }
  const T& operator()(std::size_t b, std::size_t c, std::size_t s) const noexcept {
    return data_[layout_.offset(b, c, s)];
  }

  tensor_view<T, Layout> view() noexcept { return {data(), layout_}; }
  tensor_view<const T, Layout> view() const noexcept { return {data(), layout_}; }
  tensor_view<const T, Layout> cview() const noexcept { return {data(), layout_}; }
  operator tensor_view<T, Layout>() noexcept { return view(); }              // NOLINT
  operator tensor_view<const T, Layout>() const noexcept { return view(); }  // NOLINT

 private:
  Layout layout_;
  std::unique_ptr<T[], detail::aligned_delete> data_;
};

// ---- traits used by kernels ------------------------------------------------------------------

template <class X>
struct tensor_traits {
  static constexpr bool is_tensor = false;
};
template <class T, class L>
struct tensor_traits<tensor_view<T, L>> {
  static constexpr bool is_tensor = true;
  using element_type = T;
  using value_type = std::remove_const_t<T>;
  using layout_type = L;
};
template <class T, class L>
struct tensor_traits<tensor<T, L>> : tensor_traits<tensor_view<T, L>> {};
template <class T, class L>
struct tensor_traits<const tensor<T, L>> : tensor_traits<tensor_view<const T, L>> {};
template <class T, class L>
struct tensor_traits<const tensor_view<T, L>> : tensor_traits<tensor_view<T, L>> {};

template <class X>
using tensor_traits_t = tensor_traits<std::remove_reference_t<X>>;

// Anything that is a bc1s tensor or tensor view, of any layout (kernels then check the layout
// with a static_assert so the user reads a sentence, not an overload list).
template <class X>
concept tensor_like = tensor_traits_t<X>::is_tensor;

// The view of a tensor or view (mutable when the argument is).
template <class T, class L>
constexpr tensor_view<T, L> as_view(tensor_view<T, L> v) noexcept {
  return v;
}
template <class T, class L>
tensor_view<T, L> as_view(tensor<T, L>& t) noexcept {
  return t.view();
}
template <class T, class L>
tensor_view<const T, L> as_view(const tensor<T, L>& t) noexcept {
  return t.view();
}

}  // namespace bc1s
