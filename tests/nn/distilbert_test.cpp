// DistilBERT assembly: no heap allocation in forward(), batched == one at a time, and the errors
// a caller can cause. (Numerical parity with Hugging Face is in distilbert_parity_test.cpp.)
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include "bc1s/nn/distilbert.hpp"

// A counting global operator new: the test switches counting on around forward(). (malloc/free
// underneath on purpose; GCC cannot see that the replaced new and delete pair up.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace {

struct tiny_config {
  static constexpr std::size_t dim = 64, heads = 4, hidden = 128, layers = 2, vocab = 30522,
                               max_positions = 512, num_labels = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};
using model_t = bc1s::nn::distilbert<tiny_config, bc1s::half>;
struct tiny_heads32_config : tiny_config {
  static constexpr std::size_t heads = 2;  // D = 32
};

const model_t& model() {
  static const model_t m = model_t::synthetic(7);
  return m;
}

TEST(DistilBert, ForwardMakesNoHeapAllocations) {
  model_t::workspace ws(4, 64, 2);
  bc1s::runtime::thread_pool pool(2);
  std::vector<std::int32_t> ids(3 * 64, 2023), mask(3 * 64, 1);
  for (std::size_t s = 40; s < 64; ++s) mask[2 * 64 + s] = 0;
  model().forward(ws, ids, mask, 3, 64, &pool);  // warm-up
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 3; ++i) model().forward(ws, ids, mask, 3, 64, &pool);
  model().forward(ws, {ids.data(), 2 * 33}, {mask.data(), 2 * 33}, 2, 33, &pool);
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  // Nor on threads that ran none of the warm-up's tasks: per-thread scratch belongs to the
  // calling thread, so which pool thread ran what before does not matter.
  {
    bc1s::runtime::thread_pool fresh(2);
    g_allocations = 0;
    g_counting = true;
    // Back to back: the first pass wakes the worker, the next ones find it spinning for tasks.
    for (int i = 0; i < 200; ++i) model().forward(ws, ids, mask, 3, 64, &fresh);
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0u);
  }
  // Heads of 32 channels: attention on AMX tiles from 64 positions, where the CPU has them.
  {
    using wide_t = bc1s::nn::distilbert<tiny_heads32_config, bc1s::half>;
    const auto m32 = wide_t::synthetic(8);
    wide_t::workspace ws32(3, 64, 2);
    m32.forward(ws32, ids, mask, 3, 64, &pool);  // warm-up
    bc1s::runtime::thread_pool fresh(2);
    g_allocations = 0;
    g_counting = true;
    m32.forward(ws32, ids, mask, 3, 64, &pool);
    for (int i = 0; i < 200; ++i) m32.forward(ws32, ids, mask, 3, 64, &fresh);
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0u);
  }
  // bf16 and int8 weights: their packed activations and scales live in the calling thread's
  // buffers too, grown by the warm-up.
  auto no_allocations = [&](auto tag) {
    using m_t = bc1s::nn::distilbert<tiny_config, decltype(tag)>;
    const auto m = m_t::synthetic(9);
    typename m_t::workspace wsq(4, 64, 2);
    m.forward(wsq, ids, mask, 3, 64, &pool);  // warm-up
    bc1s::runtime::thread_pool fresh(2);
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 20; ++i) m.forward(wsq, ids, mask, 3, 64, &fresh);
    m.forward(wsq, {ids.data(), 2 * 33}, {mask.data(), 2 * 33}, 2, 33, &pool);
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0u) << bc1s::weight_storage<decltype(tag)>::name;
  };
  no_allocations(bc1s::bf16{});
  no_allocations(bc1s::qint8{});
  // And the counter does count: a vector allocates.
  g_counting = true;
  std::vector<int> probe(10);
  g_counting = false;
  EXPECT_GE(g_allocations.load(), 1u);
}

// The workspace's size is a constant expression of the layout types, and is what it allocates.
TEST(DistilBert, WorkspaceSizeIsConstexprAndExact) {
  constexpr std::size_t n = model_t::workspace::floats(4, 64, 2);
  constexpr std::size_t m =
      model_t::workspace::floats_for<bc1s::extents<4, tiny_config::dim, 64>>(2);
  static_assert(n == m && n > 0);
  // By hand: five (4, 64, 1, 64) activations, the FFN (4, 128, 1, 64), CLS and pre-classifier
  // columns (4, 64, 1, 1) padded to 16 floats, the pooled output [4][64], logits (4, 2, 1, 1),
  // two score tiles of 64 x 32, the mask and the logits out.
  constexpr std::size_t by_hand = 5 * 4 * 64 * 64 + 4 * 128 * 64 + 2 * 4 * 64 * 16 + 4 * 64 +
                                  4 * 2 * 16 + 2 * 64 * 32 + 4 * 64 + 4 * 2;
  static_assert(n == by_hand);
  const model_t::workspace ws(4, 64, 2);
  EXPECT_EQ(ws.allocated_floats(), n);
  const model_t::workspace odd(3, 33, 1);
  EXPECT_EQ(odd.allocated_floats(), model_t::workspace::floats(3, 33, 1));
}

TEST(DistilBert, BatchedEqualsOneAtATime) {
  // Three sentences of 5, 17 and 32 tokens padded to one bucket of S = 32.
  const std::size_t S = 32, lens[3] = {5, 17, 32};
  std::vector<std::int32_t> ids(3 * S, 0), mask(3 * S, 0);
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t s = 0; s < lens[b]; ++s) {
      ids[b * S + s] = static_cast<std::int32_t>(1000 + 37 * b + 11 * s);
      mask[b * S + s] = 1;
    }
  model_t::workspace wb(3, S, 2), w1(1, S, 1);
  bc1s::runtime::thread_pool pool(2);
  model().forward(wb, ids, mask, 3, S, &pool);
  for (std::size_t b = 0; b < 3; ++b) {
    const std::size_t n = lens[b];
    model().forward(w1, {ids.data() + b * S, n}, {mask.data() + b * S, n}, 1, n);
    double max_diff = 0;
    for (std::size_t c = 0; c < tiny_config::dim; ++c)
      for (std::size_t s = 0; s < n; ++s)
        max_diff =
            std::max(max_diff, double(std::abs(wb.hidden()(b, c, s) - w1.hidden()(0, c, s))));
    for (std::size_t l = 0; l < 2; ++l)
      max_diff = std::max(max_diff, double(std::abs(wb.logits()[b * 2 + l] - w1.logits()[l])));
    std::printf("sentence %zu (%zu tokens): max |batched - alone| = %.3g\n", b, n, max_diff);
    // Same arithmetic except the order of fp32 sums over keys (masked keys add exact zeros):
    // differences are a few fp32 ulps of O(1) activations.
    EXPECT_LE(max_diff, 1e-4);
  }
}

TEST(DistilBert, CallerErrorsAreClear) {
  model_t::workspace ws(2, 32, 1);
  std::vector<std::int32_t> ids(64, 100), mask(64, 1);
  auto message = [&](auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(
      message([&] { model().forward(ws, ids, mask, 3, 16); }).find("over the workspace's capacity"),
      std::string::npos);
  EXPECT_NE(
      message([&] { model_t::workspace big(1, 513); }).find("above the model's 512 positions"),
      std::string::npos);
  std::vector<std::int32_t> bad(32, 100);
  bad[5] = 40000;
  EXPECT_THROW(model().forward(ws, bad, {}, 1, 32), std::out_of_range);
  EXPECT_THROW(model().forward(ws, ids, mask, 1, 7), std::invalid_argument);  // sizes disagree
  EXPECT_THROW(model().forward(ws, {}, {}, 0, 0), std::invalid_argument);
}

}  // namespace
