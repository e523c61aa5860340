// One loaded model shared by several threads, each with its own workspace (and its own pool or
// none): every result equals the serial run bit for bit. .ci/run also runs this test under
// ThreadSanitizer.
//
// Thread safety, as documented in the README: a model is immutable after construction, so
// forward() may run on it from any number of threads at once, provided each call has its own
// workspace and, if it uses one, its own thread_pool (a pool runs one parallel region at a time).
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "bc1s/nn/distilbert.hpp"

namespace {

struct tiny_config {
  static constexpr std::size_t dim = 64, heads = 4, hidden = 128, layers = 2, vocab = 1000,
                               max_positions = 64, num_labels = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};
using model_t = bc1s::nn::distilbert<tiny_config, bc1s::half>;

struct request {
  std::size_t B, S;
  std::vector<std::int32_t> ids, mask;
};

std::vector<request> make_requests(std::size_t n) {
  std::vector<request> out;
  std::uint64_t x = 12345;
  auto next = [&x] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::size_t>(x >> 33);
  };
  for (std::size_t i = 0; i < n; ++i) {
    request r;
    r.B = 1 + next() % 3;
    r.S = 1 + next() % 48;
    r.ids.resize(r.B * r.S);
    r.mask.assign(r.B * r.S, 1);
    for (auto& id : r.ids) id = static_cast<std::int32_t>(next() % tiny_config::vocab);
    for (std::size_t b = 0; b < r.B; ++b) {
      const std::size_t len = 1 + next() % r.S;
      for (std::size_t s = len; s < r.S; ++s) r.mask[b * r.S + s] = 0;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Logits and the hidden state of every valid column, flattened.
std::vector<float> run(const model_t& m, model_t::workspace& ws, const request& r,
                       bc1s::runtime::thread_pool* pool) {
  m.forward(ws, r.ids, r.mask, r.B, r.S, pool);
  std::vector<float> out(ws.logits().begin(), ws.logits().end());
  const auto h = ws.hidden();
  for (std::size_t b = 0; b < r.B; ++b)
    for (std::size_t c = 0; c < tiny_config::dim; ++c)
      for (std::size_t s = 0; s < r.S; ++s)
        if (r.mask[b * r.S + s]) out.push_back(h(b, c, s));
  return out;
}

TEST(DistilBertConcurrency, SharedModelOwnWorkspacesEqualsSerial) {
  const model_t m = model_t::synthetic(5);
  const auto requests = make_requests(24);
  std::vector<std::vector<float>> serial;
  {
    model_t::workspace ws(3, 48);
    for (const auto& r : requests) serial.push_back(run(m, ws, r, nullptr));
  }
  constexpr std::size_t kThreads = 4;
  std::vector<std::vector<std::vector<float>>> got(kThreads);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Half the threads also split their own work over a private pool of 2.
      model_t::workspace ws(3, 48, 2);
      bc1s::runtime::thread_pool pool(2);
      for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[(i + t * 5) % requests.size()];
        got[t].push_back(run(m, ws, r, t % 2 ? &pool : nullptr));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < kThreads; ++t) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const auto& want = serial[(i + t * 5) % requests.size()];
      ASSERT_EQ(got[t][i].size(), want.size());
      std::size_t differ = 0;
      for (std::size_t j = 0; j < want.size(); ++j) differ += got[t][i][j] != want[j];
      EXPECT_EQ(differ, 0u) << "thread " << t << ", request " << i;
    }
  }
}

}  // namespace
