// What the kernels share to run in parallel without allocating: task_runner (tasks on a pool,
// with or without the running thread's index) and per-thread scratch owned by the calling thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "bc1s/core/tensor.hpp"
#include "bc1s/runtime/thread_pool.hpp"

namespace bc1s::detail {

// tasks tasks, on the pool's threads if there is more than one: body(task), or body(task, thread)
// with the index (< the pool's size) of the thread running it, for per-thread scratch.
inline auto task_runner(runtime::thread_pool* pool) {
  const std::size_t threads = pool == nullptr ? 1 : pool->size();
  return [pool, threads](std::size_t tasks, auto&& body) {
    if constexpr (std::is_invocable_v<decltype(body), std::size_t, std::size_t>) {
      if (threads == 1 || tasks == 1) {
        for (std::size_t t = 0; t < tasks; ++t) body(t, std::size_t{0});
      } else {
        pool->parallel_for_tid(tasks, body);
      }
    } else {
      if (threads == 1 || tasks == 1) {
        for (std::size_t t = 0; t < tasks; ++t) body(t);
      } else {
        pool->parallel_for(tasks, body);
      }
    }
  };
}

// How a conv1x1 call's work is cut into tasks: `blocks` blocks of columns times `ranges` ranges
// of output panels. About tasks_per_thread tasks per thread, taken dynamically (a thread the OS
// preempts then delays one small task, not half of the work), and a multiple of the thread count
// where the panels allow (equal tasks then end together). Task t: block t / ranges, panels
// [p0, p1).
struct panel_split {
  struct part {
    std::size_t block, p0, p1;
  };
  panel_split(std::size_t panels, std::size_t blocks, std::size_t threads,
              std::size_t tasks_per_thread) noexcept
      : panels_(panels), blocks_(blocks) {
    if (threads > 1) {
      ranges_ = std::min(panels, (threads * tasks_per_thread + blocks - 1) / blocks);
      while (ranges_ < panels && (blocks * ranges_) % threads != 0) ++ranges_;
    }
  }
  std::size_t tasks() const noexcept { return blocks_ * ranges_; }
  part operator()(std::size_t task) const noexcept {
    const std::size_t r = task % ranges_;
    return {task / ranges_, panels_ * r / ranges_, panels_ * (r + 1) / ranges_};
  }

 private:
  std::size_t panels_, blocks_, ranges_ = 1;
};

// A grow-only buffer of n T of the calling thread, one per Tag: grown when a call needs more
// (the first call at the largest shape allocates; later ones reuse it).
template <class Tag, class T = std::uint16_t>
inline T* thread_buffer(std::size_t n) {
  struct buffer {
    std::unique_ptr<T[], aligned_delete> data;
    std::size_t size = 0;
  };
  static thread_local buffer buf;
  if (buf.size < n) {
    buf.data.reset();
    buf.data = aligned_zeros<T>(n);
    buf.size = n;
  }
  return buf.data.get();
}

// Scratch for every thread of a parallel call, owned by the calling thread: n T for each of
// `threads` threads, thread tid's at tid * n. Grown on the calling thread, so after one call of
// the largest shape from that thread no call allocates, whichever pool thread ran which task
// (buffers of the pool's own threads, grown by the tasks they happened to run, would).
template <class Tag, class T>
inline T* per_thread_scratch(std::size_t threads, std::size_t n) {
  return thread_buffer<Tag, T>(threads * n);
}

}  // namespace bc1s::detail
