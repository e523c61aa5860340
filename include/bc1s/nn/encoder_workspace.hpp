// encoder_activations<Config>: the activations of one encoder stack's forward pass (DistilBERT and
// BERT share it), allocated once for (max_batch, max_seq, threads); and the input checks every
// model's forward() makes before it touches them.
//
// Letters: B batch, C = the model width, S sequence, F = the feed-forward width.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "bc1s/core/tensor.hpp"
#include "bc1s/kernels/attention.hpp"
#include "bc1s/nn/encoder_block.hpp"
#include "bc1s/runtime/thread_pool.hpp"

namespace bc1s::nn {

template <class Config>
class encoder_activations {
 public:
  using act_layout = layout_bc1s<float, extents<dyn, Config::dim, dyn>>;
  using ffn_layout = layout_bc1s<float, extents<dyn, Config::hidden, dyn>>;
  using act_view = tensor_view<float, act_layout>;

  // d: the model's sizes (dims_of<Config>() for a static Config).
  encoder_activations(const char* model, const encoder_dims& d, std::size_t max_batch,
                      std::size_t max_seq, std::size_t threads)
      : c_(d.dim),
        f_(d.hidden),
        max_positions_(d.max_positions),
        max_b_(max_batch),
        max_s_(max_seq),
        threads_(threads),
        x_(max_batch, c_, max_seq),
        q_(max_batch, c_, max_seq),
        k_(max_batch, c_, max_seq),
        v_(max_batch, c_, max_seq),
        ctx_(max_batch, c_, max_seq),
        ffn_(max_batch, f_, max_seq),
        scratch_size_(attention_scratch_floats(max_seq, kEncoderChunk, threads)),
        scratch_(detail::aligned_zeros<float>(scratch_size_)),
        mask_(max_batch * max_seq) {
    if (max_seq > max_positions_) {
      throw std::invalid_argument(
          std::string(model) + ": a workspace for S = " + std::to_string(max_seq) +
          " is above the model's " + std::to_string(max_positions_) + " positions");
    }
  }

  // Floats allocated for (max_batch, max_seq, threads) by a model of sizes d: a constant
  // expression.
  static constexpr std::size_t floats(const encoder_dims& d, std::size_t max_batch,
                                      std::size_t max_seq, std::size_t threads) noexcept {
    return 5 * act_layout(max_batch, d.dim, max_seq).required_span_size() +
           ffn_layout(max_batch, d.hidden, max_seq).required_span_size() +
           attention_scratch_floats(max_seq, kEncoderChunk, threads) + max_batch * max_seq;
  }
  std::size_t allocated_floats() const noexcept {
    return x_.mapping().required_span_size() + q_.mapping().required_span_size() +
           k_.mapping().required_span_size() + v_.mapping().required_span_size() +
           ctx_.mapping().required_span_size() + ffn_.mapping().required_span_size() +
           scratch_size_ + mask_.size();
  }

  std::size_t max_batch() const noexcept { return max_b_; }
  std::size_t max_seq() const noexcept { return max_s_; }
  std::size_t threads() const noexcept { return threads_; }
  // The model sizes it was made for.
  std::size_t ffn_width() const noexcept { return f_; }
  std::size_t max_positions() const noexcept { return max_positions_; }
  std::size_t b() const noexcept { return b_; }
  std::size_t s() const noexcept { return s_; }

  // Checks one request against the model and this workspace, then keeps (B, S) and the
  // additive key mask. ids, mask: row-major [B][S]; mask may be empty (all tokens).
  void begin(const char* model, std::span<const std::int32_t> ids,
             std::span<const std::int32_t> mask, std::size_t B, std::size_t S,
             const runtime::thread_pool* pool) {
    // Messages are built only on failure: forward() allocates nothing.
    auto who = [model] { return std::string(model); };
    if (S == 0 || B == 0) throw std::invalid_argument(who() + ": empty batch (B = 0 or S = 0)");
    if (S > max_positions_) {
      throw std::invalid_argument(who() + ": sequence of " + std::to_string(S) +
                                  " tokens is above the model's " + std::to_string(max_positions_) +
                                  " positions; truncate when tokenizing");
    }
    if (B > max_b_ || S > max_s_) {
      throw std::invalid_argument(
          who() + ": batch (B = " + std::to_string(B) + ", S = " + std::to_string(S) +
          ") is over the workspace's capacity (B = " + std::to_string(max_b_) +
          ", S = " + std::to_string(max_s_) + ")");
    }
    if (ids.size() != B * S || (!mask.empty() && mask.size() != B * S)) {
      throw std::invalid_argument(who() + ": expected B * S = " + std::to_string(B * S) +
                                  " ids and mask values, got " + std::to_string(ids.size()) +
                                  " and " + std::to_string(mask.size()));
    }
    if (pool != nullptr && pool->size() > threads_) {
      throw std::invalid_argument(who() + ": the workspace was made for " +
                                  std::to_string(threads_) + " threads, the pool has " +
                                  std::to_string(pool->size()));
    }
    b_ = B;
    s_ = S;
    for (std::size_t i = 0; i < B * S; ++i) {
      mask_[i] = (mask.empty() || mask[i] != 0) ? 0.0f : kMaskedKey;
    }
  }

  // The hidden state (B, C, 1, S) of the current request.
  act_view x() const noexcept { return view_of(x_, b_, s_); }
  // The block buffers of the current request.
  encoder_buffers<Config> buffers() const noexcept {
    using ffn_view = typename encoder_buffers<Config>::ffn_view;
    return {view_of(q_, b_, s_),
            view_of(k_, b_, s_),
            view_of(v_, b_, s_),
            view_of(ctx_, b_, s_),
            ffn_view(const_cast<float*>(ffn_.data()), ffn_layout(b_, f_, s_)),
            std::span<const float>(mask_.data(), b_ * s_),
            std::span<float>(scratch_.get(), scratch_size_)};
  }

 private:
  using buf = tensor<float, act_layout>;
  // A (B, C, S) view over the start of a buffer allocated for (max_b, C, max_s).
  act_view view_of(const buf& t, std::size_t B, std::size_t S) const noexcept {
    return {const_cast<float*>(t.data()), act_layout(B, c_, S)};
  }

  std::size_t c_, f_, max_positions_;
  std::size_t max_b_, max_s_, threads_;
  buf x_, q_, k_, v_, ctx_;
  tensor<float, ffn_layout> ffn_;
  std::size_t scratch_size_;
  std::unique_ptr<float[], detail::aligned_delete> scratch_;
  std::vector<float> mask_;
  std::size_t b_ = 0, s_ = 0;
};

}  // namespace bc1s::nn
