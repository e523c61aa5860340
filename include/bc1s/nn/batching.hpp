// Dynamic batching: many sentences of different lengths through one model, in few passes.
//
// Sentences are sorted by length into S buckets (lengths rounded up to a multiple of kBucket = 16
// tokens, one 64-byte unit of an fp32 row: the layout pads every row to that anyway), and each
// bucket is cut into batches of at most max_batch sentences, run as one (B, C, 1, S) pass with S
// the longest sentence of the batch and the others padded and masked. Results come back by input
// index, so the caller sees them in input order. A padded sentence gives the same result as the
// same sentence alone, up to fp32 rounding (tests/nn/batching_test.cpp measures it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bc1s/runtime/thread_pool.hpp"

namespace bc1s::nn {

inline constexpr std::size_t kBucket = 64 / sizeof(float);

// One pass: the input indices it runs (all in one length bucket) and its sequence length.
struct batch_plan {
  std::size_t seq = 0;
  std::vector<std::size_t> index;
};

// Groups sentences of the given lengths into batches of at most max_batch, within a bucket,
// shortest first (equal lengths keep their input order).
inline std::vector<batch_plan> plan_batches(std::span<const std::size_t> lengths,
                                            std::size_t max_batch) {
  if (max_batch == 0) throw std::invalid_argument("bc1s::plan_batches: max_batch is 0");
  auto bucket = [](std::size_t n) { return (n + kBucket - 1) / kBucket; };
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // By length: a batch then pads little (its sentences differ by a few tokens at most).
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
  std::vector<batch_plan> out;
  for (std::size_t i = 0; i < order.size();) {
    batch_plan p;
    const std::size_t bk = bucket(lengths[order[i]]);
    while (i < order.size() && p.index.size() < max_batch && bucket(lengths[order[i]]) == bk) {
      p.seq = std::max(p.seq, lengths[order[i]]);
      p.index.push_back(order[i++]);
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Runs every sentence (token ids, e.g. [CLS] ... [SEP]) through `model` in batches of at most
// max_batch, and calls on_result(index, ws, b) once per sentence, right after the pass that
// computed it: row b of ws.hidden() / ws.logits() / ws.pooled() is sentence `index`, whose
// length is sentences[index].size() (columns beyond it are padding).
// type_ids: empty, or one vector per sentence of its length (sentence pairs: 0 then 1).
// ws must hold max_batch sentences of the longest sentence's length.
template <class Model, class OnResult>
void run_batched(const Model& model, typename Model::workspace& ws,
                 std::span<const std::vector<std::int32_t>> sentences,
                 std::span<const std::vector<std::int32_t>> type_ids, std::size_t max_batch,
                 runtime::thread_pool* pool, OnResult&& on_result) {
  std::vector<std::size_t> lengths(sentences.size());
  std::size_t longest = 0;
  if (!type_ids.empty() && type_ids.size() != sentences.size()) {
    throw std::invalid_argument("bc1s::run_batched: " + std::to_string(type_ids.size()) +
                                " token-type rows for " + std::to_string(sentences.size()) +
                                " sentences");
  }
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    lengths[i] = sentences[i].size();
    if (lengths[i] == 0) {
      throw std::invalid_argument("bc1s::run_batched: sentence " + std::to_string(i) +
                                  " has no tokens");
    }
    if (!type_ids.empty() && type_ids[i].size() != lengths[i]) {
      throw std::invalid_argument("bc1s::run_batched: sentence " + std::to_string(i) + " has " +
                                  std::to_string(lengths[i]) + " tokens but " +
                                  std::to_string(type_ids[i].size()) + " token types");
    }
    longest = std::max(longest, lengths[i]);
  }
  if (max_batch > ws.max_batch() || longest > ws.max_seq()) {
    throw std::invalid_argument(
        "bc1s::run_batched: batches of " + std::to_string(max_batch) + " sentences of up to " +
        std::to_string(longest) + " tokens are over the workspace's capacity (B = " +
        std::to_string(ws.max_batch()) + ", S = " + std::to_string(ws.max_seq()) + ")");
  }
  std::vector<std::int32_t> ids, types, mask;
  for (const auto& p : plan_batches(lengths, max_batch)) {
    const std::size_t B = p.index.size(), S = p.seq;
    ids.assign(B * S, 0);  // padding id 0 ([PAD] in BERT vocabularies), masked
    mask.assign(B * S, 0);
    types.assign(type_ids.empty() ? 0 : B * S, 0);
    for (std::size_t b = 0; b < B; ++b) {
      const auto& s = sentences[p.index[b]];
      std::copy(s.begin(), s.end(), ids.begin() + std::ptrdiff_t(b * S));
      std::fill_n(mask.begin() + std::ptrdiff_t(b * S), s.size(), 1);
      if (!type_ids.empty()) {
        const auto& t = type_ids[p.index[b]];
        std::copy(t.begin(), t.end(), types.begin() + std::ptrdiff_t(b * S));
      }
    }
    if (type_ids.empty()) {
      model.forward(ws, ids, mask, B, S, pool);
    } else {
      model.forward(ws, ids, types, mask, B, S, pool);
    }
    for (std::size_t b = 0; b < B; ++b) on_result(p.index[b], std::as_const(ws), b);
  }
}

template <class Model, class OnResult>
void run_batched(const Model& model, typename Model::workspace& ws,
                 std::span<const std::vector<std::int32_t>> sentences, std::size_t max_batch,
                 runtime::thread_pool* pool, OnResult&& on_result) {
  run_batched(model, ws, sentences, {}, max_batch, pool, std::forward<OnResult>(on_result));
}

}  // namespace bc1s::nn

// The arguments every pooling checks (internal).
namespace bc1s::detail {

template <class HiddenView>
void check_pool_args(const char* name, const HiddenView& h, std::size_t b, std::size_t len,
                     std::span<const float> out) {
  if (out.size() != h.c() || len == 0 || len > h.s() || b >= h.b()) {
    throw std::invalid_argument(
        std::string("bc1s::") + name + ": expected C = " + std::to_string(h.c()) +
        " outputs and 0 < len <= S = " + std::to_string(h.s()) +
        " for b < B = " + std::to_string(h.b()) + "; got " + std::to_string(out.size()) +
        " outputs, len " + std::to_string(len) + ", b " + std::to_string(b));
  }
}

}  // namespace bc1s::detail

namespace bc1s::nn {

// Sentence embeddings of row b of a (B, C, 1, S) hidden state, as sentence-transformers' Pooling
// module computes them from its first `len` columns (the tokens; the rest is padding), then
// divided by their L2 norm when `normalize`, as its Normalize module does. out: C floats.
//   cls_pool   out[c] = h(b, c, 0)                            (the [CLS] token)
//   mean_pool  out[c] = sum_{s < len} h(b, c, s) / len
//   max_pool   out[c] = max_{s < len} h(b, c, s)              (padding columns never count)

// Divides `v` by its L2 norm (at least 1e-12, as torch.nn.functional.normalize).
inline void l2_normalize(std::span<float> v) {
  double sq = 0;
  for (const float x : v) sq += double(x) * x;
  const float inv = 1.0f / std::max(float(std::sqrt(sq)), 1e-12f);
  for (auto& x : v) x *= inv;
}

template <class HiddenView>
void mean_pool(const HiddenView& h, std::size_t b, std::size_t len, std::span<float> out,
               bool normalize = true) {
  bc1s::detail::check_pool_args("mean_pool", h, b, len, out);
  for (std::size_t c = 0; c < out.size(); ++c) {
    const auto* row = h.row(b, c);
    float sum = 0;
    for (std::size_t s = 0; s < len; ++s) sum += row[s];
    out[c] = sum / float(len);
  }
  if (normalize) l2_normalize(out);
}

template <class HiddenView>
void cls_pool(const HiddenView& h, std::size_t b, std::size_t len, std::span<float> out,
              bool normalize = true) {
  bc1s::detail::check_pool_args("cls_pool", h, b, len, out);
  for (std::size_t c = 0; c < out.size(); ++c) out[c] = h.row(b, c)[0];
  if (normalize) l2_normalize(out);
}

template <class HiddenView>
void max_pool(const HiddenView& h, std::size_t b, std::size_t len, std::span<float> out,
              bool normalize = true) {
  bc1s::detail::check_pool_args("max_pool", h, b, len, out);
  for (std::size_t c = 0; c < out.size(); ++c) {
    const auto* row = h.row(b, c);
    float m = row[0];
    for (std::size_t s = 1; s < len; ++s) m = std::max(m, row[s]);
    out[c] = m;
  }
  if (normalize) l2_normalize(out);
}

}  // namespace bc1s::nn
