// runtime::thread_pool: every task of every region runs exactly once, on a thread index below
// size(), whatever the pool's placement; regions follow one another without losing or repeating
// tasks, also when a worker is slow to come back and when a region has more tasks than one claim
// word holds.
#include "bc1s/runtime/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace {

using bc1s::runtime::placement;
using bc1s::runtime::thread_pool;

void expect_each_task_once(thread_pool& pool, std::size_t tasks) {
  const auto hits = std::make_unique<std::atomic<int>[]>(tasks);
  std::atomic<bool> bad_tid{false};
  pool.parallel_for_tid(tasks, [&](std::size_t t, std::size_t tid) {
    hits[t].fetch_add(1, std::memory_order_relaxed);
    if (tid >= pool.size()) bad_tid = true;
  });
  std::size_t wrong = 0;
  for (std::size_t t = 0; t < tasks; ++t) wrong += hits[t].load() != 1;
  EXPECT_EQ(wrong, 0u) << tasks << " tasks on " << pool.size() << " threads";
  EXPECT_FALSE(bad_tid);
}

TEST(ThreadPool, EveryTaskRunsOnceInManyRegions) {
  for (const placement where : {placement::pinned, placement::floating}) {
    for (const std::size_t threads : {1u, 2u, 3u, 5u}) {
      thread_pool pool(threads, where);
      ASSERT_EQ(pool.size(), threads);
      for (std::size_t r = 0; r < 300; ++r) expect_each_task_once(pool, r % 17);
    }
  }
}

TEST(ThreadPool, RegionsAfterIdleGapsAndUnevenTasks) {
  // Workers fall asleep in the gaps; the caller must not wait for them to wake, and a task a
  // worker claims late must still be counted in its own region.
  thread_pool pool(3);
  for (int r = 0; r < 20; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(r % 3 == 0 ? 3 : 0));
    std::vector<int> out(7, 0);
    pool.parallel_for(out.size(), [&](std::size_t t) {
      if (t == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
      out[t] = static_cast<int>(t) + r;
    });
    for (std::size_t t = 0; t < out.size(); ++t) ASSERT_EQ(out[t], static_cast<int>(t) + r);
  }
}

TEST(ThreadPool, MoreTasksThanOneClaimWordHolds) {
  thread_pool pool(2);
  expect_each_task_once(pool, (std::size_t{1} << 20) + 5);
}

TEST(ThreadPool, RangesCoverEveryUnitOnce) {
  thread_pool pool(2);
  for (const std::size_t n : {1u, 15u, 16u, 17u, 100u, 1000u}) {
    std::vector<int> hit(n, 0);
    pool.parallel_ranges(n, 16, [&](std::size_t b, std::size_t e) {
      EXPECT_EQ(b % 16, 0u);
      for (std::size_t i = b; i < e; ++i) ++hit[i];
    });
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(hit[i], 1) << "n " << n << " i " << i;
  }
}

TEST(ThreadPool, ManyPoolsSideBySide) {
  // More pinned workers than CPUs: pools still work (workers share CPUs or float).
  std::vector<std::unique_ptr<thread_pool>> pools;
  for (int i = 0; i < 6; ++i) pools.push_back(std::make_unique<thread_pool>(2));
  std::vector<std::thread> callers;
  for (auto& p : pools)
    callers.emplace_back([&p] {
      for (int r = 0; r < 50; ++r) expect_each_task_once(*p, 9);
    });
  for (auto& c : callers) c.join();
}

}  // namespace
