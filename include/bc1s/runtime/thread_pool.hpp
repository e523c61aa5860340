// A small persistent thread pool with a parallel-for. Workers are created once (the caller sets
// the count) and reused by every call; the calling thread takes part in the work.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "bc1s/arch/cpu.hpp"

namespace bc1s::runtime {

// Where a pool's workers run.
enum class placement {
  // Each worker bound to a CPU of its own (Linux; elsewhere, or when the process may use fewer
  // CPUs than the pool has threads, as floating). The default, unless the environment sets
  // BC1S_PIN=0.
  pinned,
  // Wherever the OS scheduler puts them.
  floating,
};

namespace detail {

// Pinned workers per CPU, over every pool of the process: a new worker takes the least used CPU,
// so pools made side by side spread out rather than stack.
class cpu_slots {
 public:
  static cpu_slots& instance() {
    static cpu_slots slots;
    return slots;
  }

  // The CPUs for `workers` new workers (-1 each where none can be given), avoiding `avoid` (the
  // CPU the caller runs on) while others are as free.
  std::vector<int> take(std::size_t workers, int avoid) {
    std::vector<int> cpus(workers, -1);
#if defined(__linux__)
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return cpus;
    std::vector<int> usable;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &allowed)) usable.push_back(c);
    if (usable.size() < workers + 1) return cpus;  // no CPU each for the workers and the caller
    std::lock_guard lock(mutex_);
    if (live_.size() < CPU_SETSIZE) live_.resize(CPU_SETSIZE, 0);
    for (auto& cpu : cpus) {
      int best = -1;
      for (int c : usable) {
        if (std::find(cpus.begin(), cpus.end(), c) != cpus.end()) continue;
        const auto load = [&](int x) { return 2 * live_[x] + (x == avoid ? 1 : 0); };
        if (best < 0 || load(c) < load(best)) best = c;
      }
      cpu = best;
      ++live_[best];
    }
#else
    (void)avoid;
#endif
    return cpus;
  }

  void give_back(int cpu) {
    if (cpu < 0) return;
    std::lock_guard lock(mutex_);
    --live_[static_cast<std::size_t>(cpu)];
  }

 private:
  std::mutex mutex_;
  std::vector<int> live_;
};

inline placement default_placement() {
  const char* env = std::getenv("BC1S_PIN");
  return env != nullptr && std::string_view(env) == "0" ? placement::floating : placement::pinned;
}

}  // namespace detail

class thread_pool {
 public:
  // threads = total threads doing work, the caller included (1 = run inline, no workers).
  //
  // Pinned workers (the default) matter on VMs: a vCPU that has idled for a while is treated as
  // unavailable when a thread wakes, so the woken worker lands on the caller's CPU and the two
  // share it until the load balancer splits them. Measured here (2 vCPUs, a DistilBERT S = 8
  // forward after 150 ms idle gaps, 30 passes): floating, the worker shared the caller's CPU or
  // moved in 21-26 of 30 passes, median 12.4-13.1 ms; pinned, 0-1 of 30, median 7.5-7.7 ms.
  explicit thread_pool(std::size_t threads = 1, placement where = detail::default_placement())
      : threads_(std::max<std::size_t>(1, threads)) {
    if (where == placement::pinned && threads_ > 1) {
      int here = -1;
#if defined(__linux__)
      here = sched_getcpu();
#endif
      cpus_ = detail::cpu_slots::instance().take(threads_ - 1, here);
    } else {
      cpus_.assign(threads_ - 1, -1);
    }
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
    for (int cpu : cpus_) detail::cpu_slots::instance().give_back(cpu);
  }

  std::size_t size() const noexcept {
    return threads_;
  }

  // Calls fn(task) for task in [0, tasks), spread over the threads; returns when all are done.
  // fn must not throw. Not reentrant: one parallel_for at a time per pool.
  template <class Fn>
  void parallel_for(std::size_t tasks, Fn&& fn) {
    parallel_for_tid(tasks, [&fn](std::size_t t, std::size_t) { fn(t); });
  }

  // As parallel_for, but fn(task, thread) also gets the index (< size()) of the thread running it,
  // for per-thread scratch.
  //
  // The caller waits for the region's tasks, not for the workers: a worker that wakes late (a
  // sleeping vCPU of a VM can take a millisecond or more to come back) finds every task already
  // claimed and costs nothing, because the calling thread has run them itself. A task is claimed
  // by one compare-and-swap on a word that holds the region's number, its task count and the
  // next index together, so a worker still looking at an older region cannot claim in a newer one
  // by mistake.
  template <class Fn>
  void parallel_for_tid(std::size_t tasks, Fn&& fn) {
    if (tasks == 0) return;
    if (threads_ == 1 || tasks == 1) {
      for (std::size_t t = 0; t < tasks; ++t) fn(t, std::size_t{0});
      return;
    }
    // More tasks than the claim word holds: run them as several regions.
    for (std::size_t first = 0; first < tasks; first += kMaxTasks) {
      const std::size_t n = std::min<std::size_t>(kMaxTasks, tasks - first);
      auto shifted = [&fn, first](std::size_t t, std::size_t tid) { fn(first + t, tid); };
      run_region(n, shifted);
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
  // The claim word: region number (24 bits) | task count (20 bits) | next task index (20 bits).
  static constexpr unsigned kIndexBits = 20, kCountShift = kIndexBits,
                            kRegionShift = 2 * kIndexBits;
  static constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kIndexBits) - 1;
  static constexpr std::uint64_t kRegionMask = (std::uint64_t{1} << (64 - kRegionShift)) - 1;
  static constexpr std::size_t kMaxTasks = kIndexMask;

  template <class Fn>
  void run_region(std::size_t tasks, Fn& fn) {
    using F = std::remove_reference_t<Fn>;
    ctx_ = const_cast<void*>(static_cast<const void*>(&fn));
    call_ = [](void* ctx, std::size_t t, std::size_t tid) { (*static_cast<F*>(ctx))(t, tid); };
    done_.store(0, std::memory_order_relaxed);
    region_ = (region_ + 1) & kRegionMask;
    // Release: a worker whose claim reads this word also sees ctx_, call_ and done_ = 0.
    claim_.store(region_ << kRegionShift | std::uint64_t{tasks} << kCountShift,
                 std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    drain(0);
    // Wait for tasks a worker claimed and is still running: spin briefly (it is usually nearly
    // done), then sleep on the counter. Never spin long: on an oversubscribed or
    // CPU-quota-limited machine a spinning waiter takes the time slice the thread it waits for
    // needs.
    const auto all = static_cast<std::uint32_t>(tasks);
    spin_while([&] { return done_.load(std::memory_order_acquire) != all; });
    for (std::uint32_t d; (d = done_.load(std::memory_order_acquire)) != all;) {
      done_.wait(d, std::memory_order_acquire);
    }
  }

  // Claims and runs tasks of the current region until none is left.
  void drain(std::size_t tid) {
    std::uint64_t word = claim_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint64_t index = word & kIndexMask, count = (word >> kCountShift) & kIndexMask;
      if (index >= count) return;
      if (!claim_.compare_exchange_weak(word, word + 1, std::memory_order_acquire,
                                        std::memory_order_acquire))
        continue;
      // The region cannot end (and ctx_ cannot change) before this task is counted done.
      call_(ctx_, static_cast<std::size_t>(index), tid);
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == count) done_.notify_one();
      word = claim_.load(std::memory_order_acquire);
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
    arch::spin_pause();
  }

  void worker_loop(std::size_t tid) {
#if defined(__linux__)
    if (const int cpu = cpus_[tid - 1]; cpu >= 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);  // best effort
    }
#endif
    std::uint32_t seen = 0;
    for (;;) {
      // Spin a little before sleeping (back-to-back regions, one per kernel, are the norm), then
      // sleep on the generation counter (a futex on Linux).
      spin_while([&] { return generation_.load(std::memory_order_acquire) == seen; });
      generation_.wait(seen, std::memory_order_acquire);
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) return;
      drain(tid);
    }
  }

  std::size_t threads_;
  std::vector<int> cpus_;  // worker i's CPU at cpus_[i - 1]; -1: floating
  std::vector<std::thread> workers_;
  // How long a waiting thread spins before it sleeps. Long enough to bridge the serial gaps
  // between the kernels of a forward pass even on a VM, where a sleeping vCPU takes 100 us to
  // over a millisecond to wake; short enough that a thread that waits on a busy or
  // CPU-quota-limited machine gives its time slice back soon.
  static constexpr std::chrono::microseconds kSpinTime{1000};
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<bool> stop_{false};
  void* ctx_ = nullptr;  // the current region's callable (no std::function: no allocation)
  void (*call_)(void*, std::size_t, std::size_t) = nullptr;
  std::uint64_t region_ = 0;             // the current region's number (caller only)
  std::atomic<std::uint64_t> claim_{0};  // region | task count | next index
  std::atomic<std::uint32_t> done_{0};   // tasks of the current region finished
};

}  // namespace bc1s::runtime
