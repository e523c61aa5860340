// Fuzz target: a whole DistilBERT forward pass (bc1s/nn/distilbert.hpp) of a small synthetic
// model, on token ids, lengths, batch shapes, masks, pools and workspaces taken from the input.
//
// Model: dim 64, 4 heads, FFN 128, 2 layers, vocabulary 1000, 128 positions, fp16 or fp32
// weights. Workspace: capacity B = 4, S = 64, 2 threads (or, on a flag, a fresh one of a size
// from the input). The harness decides independently whether the call is valid; a valid call
// must succeed with finite hidden states and logits (and a batch row must match the same row run
// alone), an invalid one must throw std::invalid_argument (sizes, capacity, positions, pool) or
// std::out_of_range (a token id outside the vocabulary), each a one-line message.
//
// Input: byte 0 flags (bit 0 fp32 weights, bit 1 fresh workspace, bits 2-3 pool: none / 1 / 2 /
// 3 threads, bit 4 size mismatch, bit 5 re-run one row alone), byte 1 B (mod 7), byte 2 S
// (mod 150), byte 3 id mode (mod 8: 0-5 valid ids, 6 a few out of range, 7 raw int32), byte 4
// mask mode (mod 4: none, all ones, trailing padding, random bytes), [3 bytes: fresh workspace
// B, S, threads], then 2 bytes (or 4 in raw mode) per token id, then mask bytes, then the row to
// re-run alone.
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bc1s/nn/distilbert.hpp"
#include "fuzz_util.hpp"

namespace {

struct fuzz_config {
  static constexpr std::size_t dim = 64, heads = 4, hidden = 128, layers = 2, vocab = 1000,
                               max_positions = 128, num_labels = 2;
  static constexpr float layer_norm_eps = 1e-12f;
};

constexpr std::size_t kMaxB = 4, kMaxS = 64, kThreads = 2;

template <class WT>
struct fixture {
  using model_t = bc1s::nn::distilbert<fuzz_config, WT>;
  model_t model = model_t::synthetic(11);
  typename model_t::workspace ws{kMaxB, kMaxS, kThreads};
  typename model_t::workspace one{1, fuzz_config::max_positions, 1};  // a row alone
};

bc1s::runtime::thread_pool* pool(std::size_t threads) {
  static bc1s::runtime::thread_pool p1(1), p2(2), p3(3);
  switch (threads) {
    case 1:
      return &p1;
    case 2:
      return &p2;
    case 3:
      return &p3;
    default:
      return nullptr;
  }
}

struct request {
  std::size_t B = 0, S = 0;
  std::vector<std::int32_t> ids, mask;
  bc1s::runtime::thread_pool* pool = nullptr;
  bool fresh = false;  // a fresh workspace of this capacity instead of the fixed one
  std::size_t cap_b = kMaxB, cap_s = kMaxS, cap_threads = kThreads;
};

template <class WT>
void run(bc1s_fuzz::byte_reader& in, const request& r, std::uint8_t flags) {
  static fixture<WT> f;
  using model_t = typename fixture<WT>::model_t;

  // The fresh workspace, if asked for: its own capacity rules.
  std::optional<typename model_t::workspace> fresh;
  const std::size_t cap_b = r.cap_b, cap_s = r.cap_s, cap_threads = r.cap_threads;
  if (r.fresh) {
    try {
      fresh.emplace(cap_b, cap_s, cap_threads);
      BC1S_FUZZ_CHECK(cap_s <= fuzz_config::max_positions, "workspace above max_positions");
    } catch (const std::invalid_argument& e) {
      BC1S_FUZZ_CHECK(cap_s > fuzz_config::max_positions, e.what());
      BC1S_FUZZ_ONE_LINE(e, "bc1s::distilbert: ");
      return;
    }
  }
  auto& ws = fresh ? *fresh : f.ws;

  const bool shape_ok = r.B >= 1 && r.S >= 1 && r.S <= fuzz_config::max_positions && r.B <= cap_b &&
                        r.S <= cap_s && r.ids.size() == r.B * r.S &&
                        (r.mask.empty() || r.mask.size() == r.B * r.S) &&
                        (r.pool == nullptr || r.pool->size() <= cap_threads);
  bool ids_ok = true;
  for (std::int32_t id : r.ids) ids_ok = ids_ok && id >= 0 && id < std::int32_t{fuzz_config::vocab};

  try {
    f.model.forward(ws, r.ids, r.mask, r.B, r.S, r.pool);
  } catch (const std::invalid_argument& e) {
    BC1S_FUZZ_CHECK(!shape_ok, std::string("valid call rejected: ") + e.what());
    BC1S_FUZZ_ONE_LINE(e, "bc1s::");
    return;
  } catch (const std::out_of_range& e) {
    BC1S_FUZZ_CHECK(shape_ok && !ids_ok, std::string("out_of_range: ") + e.what());
    BC1S_FUZZ_ONE_LINE(e, "bc1s::embedding_gather: token id ");
    return;
  }
  BC1S_FUZZ_CHECK(shape_ok && ids_ok, "an invalid call was accepted");
  BC1S_FUZZ_CHECK(ws.b() == r.B && ws.s() == r.S, "workspace b()/s()");

  const auto h = ws.hidden();
  for (std::size_t b = 0; b < r.B; ++b)
    for (std::size_t c = 0; c < fuzz_config::dim; ++c)
      for (std::size_t s = 0; s < r.S; ++s)
        BC1S_FUZZ_CHECK(std::isfinite(h(b, c, s)),
                        "hidden state not finite at (" + std::to_string(b) + ", " +
                            std::to_string(c) + ", " + std::to_string(s) + ")");
  const auto logits = ws.logits();
  BC1S_FUZZ_CHECK(logits.size() == r.B * fuzz_config::num_labels, "logits size");
  for (float x : logits) BC1S_FUZZ_CHECK(std::isfinite(x), "logit not finite");

  // One row of the batch, run alone (no pool, B = 1), gives the same result: rows do not mix.
  if ((flags & 32u) != 0 && r.B > 1) {
    const std::size_t b = in.u8() % r.B;
    const std::vector<std::int32_t> ids(r.ids.begin() + static_cast<std::ptrdiff_t>(b * r.S),
                                        r.ids.begin() + static_cast<std::ptrdiff_t>((b + 1) * r.S));
    std::vector<std::int32_t> mask;
    if (!r.mask.empty()) {
      mask.assign(r.mask.begin() + static_cast<std::ptrdiff_t>(b * r.S),
                  r.mask.begin() + static_cast<std::ptrdiff_t>((b + 1) * r.S));
    }
    const std::vector<float> batched(logits.begin() + static_cast<std::ptrdiff_t>(b * 2),
                                     logits.begin() + static_cast<std::ptrdiff_t>(b * 2 + 2));
    std::vector<float> hb(fuzz_config::dim * r.S);
    for (std::size_t c = 0; c < fuzz_config::dim; ++c)
      for (std::size_t s = 0; s < r.S; ++s) hb[c * r.S + s] = h(b, c, s);
    f.model.forward(f.one, ids, mask, 1, r.S);
    const auto h1 = f.one.hidden();
    // Only the order of fp32 sums over keys differs (see distilbert_test BatchedEqualsOneAtATime).
    for (std::size_t c = 0; c < fuzz_config::dim; ++c)
      for (std::size_t s = 0; s < r.S; ++s)
        BC1S_FUZZ_CHECK(std::fabs(hb[c * r.S + s] - h1(0, c, s)) <= 1e-3f,
                        "row " + std::to_string(b) + " alone differs at (c " + std::to_string(c) +
                            ", s " + std::to_string(s) + ")");
    for (std::size_t l = 0; l < 2; ++l)
      BC1S_FUZZ_CHECK(std::fabs(batched[l] - f.one.logits()[l]) <= 1e-3f, "row logits differ");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bc1s_fuzz::byte_reader in(data, size);
  const std::uint8_t flags = in.u8();
  request r;
  r.B = in.u8() % 7u;
  r.S = in.u8() % 150u;
  const unsigned id_mode = in.u8() % 8u;
  const unsigned mask_mode = in.u8() % 4u;
  r.pool = pool((flags >> 2) & 3u);
  if ((flags & 2u) != 0) {
    r.fresh = true;
    r.cap_b = 1 + in.u8() % 5u;
    r.cap_s = 1 + in.u8() % 150u;
    r.cap_threads = 1 + in.u8() % 3u;
  }

  std::size_t n = r.B * r.S;
  const bool mismatch = (flags & 16u) != 0;
  if (mismatch) n = n + 1 - 2 * (in.u8() & 1u);  // one id too many or too few (wraps at 0)
  if (n > 4096) n = 0;                           // 0 - 1 wrapped: no ids at all
  r.ids.resize(n);
  for (auto& id : r.ids) {
    if (id_mode <= 5) {
      id = static_cast<std::int32_t>(in.u16() % fuzz_config::vocab);
    } else if (id_mode == 6) {
      id = static_cast<std::int32_t>(in.u16() % 1100) - 50;
    } else {
      id = static_cast<std::int32_t>(in.u32());
    }
  }
  if (mask_mode == 1) {
    r.mask.assign(r.B * r.S, 1);
  } else if (mask_mode == 2) {
    r.mask.assign(r.B * r.S, 1);
    for (std::size_t b = 0; b < r.B; ++b) {
      const std::size_t len = r.S == 0 ? 0 : in.u8() % (r.S + 1);  // 0: a fully masked row
      for (std::size_t s = len; s < r.S; ++s) r.mask[b * r.S + s] = 0;
    }
  } else if (mask_mode == 3) {
    r.mask.resize(r.B * r.S);
    for (auto& m : r.mask) m = static_cast<std::int8_t>(in.u8());  // any int: nonzero = token
  }
  if ((flags & 1u) != 0) {
    run<float>(in, r, flags);
  } else {
    run<bc1s::half>(in, r, flags);
  }
  return 0;
}
