// A small persistent thread pool with a parallel-for. Workers are created once (the caller sets
// the count) and reused by every call; the calling thread takes part in the work.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstddef>
#include <type_traits>
#include <thread>
#include <vector>

namespace bc1s::runtime {

class thread_pool {
 public:
  // threads = total threads doing work, the caller included (1 = run inline, no workers).
  explicit thread_pool(std::size_t threads = 1) : threads_(std::max<std::size_t>(1, threads)) {
    workers_.reserve(threads_ - 1);
    for (std::size_t i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& w : workers_) w.join();
  }

  std::size_t size() const noexcept { return threads_; }

  // Calls fn(task) for task in [0, tasks), spread over the threads; returns when all are done.
  // fn must not throw. Not reentrant: one parallel_for at a time per pool.
  template <class Fn>
  void parallel_for(std::size_t tasks, Fn&& fn) {
    parallel_for_tid(tasks, [&fn](std::size_t t, std::size_t) { fn(t); });
  }

  // As parallel_for, but fn(task, thread) also gets the index (< size()) of the thread running it,
  // for per-thread scratch.
  template <class Fn>
  void parallel_for_tid(std::size_t tasks, Fn&& fn) {
    if (tasks == 0) return;
    if (threads_ == 1 || tasks == 1) {
      for (std::size_t t = 0; t < tasks; ++t) fn(t, std::size_t{0});
      return;
    }
    using F = std::remove_reference_t<Fn>;
    ctx_ = const_cast<void*>(static_cast<const void*>(&fn));
    call_ = [](void* ctx, std::size_t t, std::size_t tid) { (*static_cast<F*>(ctx))(t, tid); };
    tasks_ = tasks;
    next_.store(0, std::memory_order_relaxed);
    pending_.store(static_cast<std::uint32_t>(threads_ - 1), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    drain(0);
    // Wait for the workers: spin briefly (they are usually nearly done), then sleep on the
    // counter. Never spin long: on an oversubscribed or CPU-quota-limited machine a spinning
    // waiter takes the time slice the thread it waits for needs.
    spin_while([&] { return pending_.load(std::memory_order_acquire) != 0; });
    for (std::uint32_t p; (p = pending_.load(std::memory_order_acquire)) != 0;) {
      pending_.wait(p, std::memory_order_acquire);
    }
  }

  // Splits [0, n) into contiguous ranges, about `tasks_per_thread` per thread, each a multiple of
  // `grain`: fn(begin, end).
  template <class Fn>
  void parallel_ranges(std::size_t n, std::size_t grain, Fn&& fn) {
    if (n == 0) return;
    grain = std::max<std::size_t>(1, grain);
    const std::size_t units = (n + grain - 1) / grain;
    const std::size_t tasks = std::min(units, threads_);
    parallel_for(tasks, [&](std::size_t t) {
      const std::size_t u0 = units * t / tasks, u1 = units * (t + 1) / tasks;
      fn(std::min(n, u0 * grain), std::min(n, u1 * grain));
    });
  }

 private:
  void drain(std::size_t tid) {
    for (;;) {
      const std::size_t t = next_.fetch_add(1, std::memory_order_relaxed);
      if (t >= tasks_) return;
      call_(ctx_, t, tid);
    }
  }

  // Spins (with pause) while cond() holds, for at most kSpinTime.
  template <class Cond>
  static void spin_while(Cond&& cond) noexcept {
    const auto until = std::chrono::steady_clock::now() + kSpinTime;
    for (unsigned i = 1; cond(); ++i) {
      pause();
      if (i % 64 == 0 && std::chrono::steady_clock::now() > until) return;
    }
  }

  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  void worker_loop(std::size_t tid) {
    std::uint32_t seen = 0;
    for (;;) {
      // Spin a little before sleeping (back-to-back regions, one per kernel, are the norm), then
      // sleep on the generation counter (a futex on Linux).
      spin_while([&] { return generation_.load(std::memory_order_acquire) == seen; });
      generation_.wait(seen, std::memory_order_acquire);
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) return;
      drain(tid);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
  }

  std::size_t threads_;
  std::vector<std::thread> workers_;
  // How long a waiting thread spins before it sleeps. Long enough to bridge the serial gaps
  // between the kernels of a forward pass even on a VM, where a sleeping vCPU takes 100 us or
  // more to wake (measured here: a 2-thread S = 8 forward took 13 ms after idle gaps with a
  // 50 us spin, 6.9 ms back to back); short enough that a thread that waits on a busy or
  // CPU-quota-limited machine gives its time slice back soon.
  static constexpr std::chrono::microseconds kSpinTime{1000};
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<bool> stop_{false};
  void* ctx_ = nullptr;  // the current region's callable (no std::function: no allocation)
  void (*call_)(void*, std::size_t, std::size_t) = nullptr;
  std::size_t tasks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint32_t> pending_{0};
};

}  // namespace bc1s::runtime
