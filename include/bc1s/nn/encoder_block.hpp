// encoder_block<Config, WT>: the post-LN DistilBERT / BERT layer, composed only of bc1s kernels.
// The two families differ only in their parameter names (block_names), not in arithmetic.
//
//   q, k, v (B, C, 1, S) = conv1x1(Wq | Wk | Wv, x)
//   ctx     (B, C, 1, S) = attention<head_split<C, H>, query_chunk<float, 32>>(q, k, v)
//   x       (B, C, 1, S) = layer_norm(conv1x1(Wo, ctx) + x)           residual fused in conv1x1
//   f       (B, F, 1, S) = gelu(conv1x1(W1, x))                       GELU fused in conv1x1
//   x       (B, C, 1, S) = layer_norm(conv1x1(W2, f) + x)             residual fused in conv1x1
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bc1s/core/tensor.hpp"
#include "bc1s/kernels/attention.hpp"
#include "bc1s/kernels/conv1x1.hpp"
#include "bc1s/kernels/layer_norm.hpp"
#include "bc1s/layout/heads.hpp"
#include "bc1s/runtime/profile.hpp"
#include "bc1s/runtime/thread_pool.hpp"

namespace bc1s::nn {

// Hugging Face parameter names of one layer (each a prefix of ".weight" / ".bias").
struct block_names {
  std::string q, k, v, out, attn_norm, ffn_in, ffn_out, out_norm;

  // DistilBERT: prefix "distilbert.transformer.layer.3." (or without "distilbert.").
  static block_names distilbert(const std::string& prefix) {
    const std::string a = prefix + "attention.";
    return {a + "q_lin",
            a + "k_lin",
            a + "v_lin",
            a + "out_lin",
            prefix + "sa_layer_norm",
            prefix + "ffn.lin1",
            prefix + "ffn.lin2",
            prefix + "output_layer_norm"};
  }
  // BERT: prefix "bert.encoder.layer.3." (or without "bert.").
  static block_names bert(const std::string& prefix) {
    const std::string a = prefix + "attention.";
    return {a + "self.query",        a + "self.key",
            a + "self.value",        a + "output.dense",
            a + "output.LayerNorm",  prefix + "intermediate.dense",
            prefix + "output.dense", prefix + "output.LayerNorm"};
  }
};

// Query chunk of every encoder block's attention: 32 fp32 = two 64-byte units.
inline constexpr std::size_t kEncoderChunk = 32;

// Intermediate tensors of one forward pass of an encoder stack (views into a workspace).
template <class Config>
struct encoder_buffers {
  using act_view = tensor_view<float, layout_bc1s<float, extents<dyn, Config::dim, dyn>>>;
  using ffn_view = tensor_view<float, layout_bc1s<float, extents<dyn, Config::hidden, dyn>>>;
  act_view q, k, v, ctx;
  ffn_view ffn;
  std::span<const float> key_mask_add;  // B * S
  std::span<float> scratch;             // attention score tiles
};

template <class Config, class WT = half>
class encoder_block {
 public:
  static constexpr std::size_t C = Config::dim;
  static constexpr std::size_t F = Config::hidden;
  using heads = head_split<C, Config::heads>;  // C % H is checked here, at compile time
  static constexpr std::size_t kChunk = kEncoderChunk;
  using chunk = query_chunk<float, kChunk>;
  using act_layout = layout_bc1s<float, extents<dyn, C, dyn>>;
  using ffn_layout = layout_bc1s<float, extents<dyn, F, dyn>>;
  using act_view = tensor_view<float, act_layout>;
  using ffn_view = tensor_view<float, ffn_layout>;

  using buffers = encoder_buffers<Config>;

  // The storage of each of the block's Linears (weight_storage<WT>::layers: WT everywhere but
  // where a precision keeps a layer wider).
  using layers = typename weight_storage<WT>::layers;
  using qkv_weights = conv1x1_weights<typename layers::qkv, C, C>;
  using out_weights = conv1x1_weights<typename layers::out_proj, C, C>;
  using ffn_in_weights = conv1x1_weights<typename layers::ffn_in, F, C>;
  using ffn_out_weights = conv1x1_weights<typename layers::ffn_out, C, F>;

  static constexpr std::size_t kArenaBytes =
      3 * qkv_weights::arena_bytes(C, C) + out_weights::arena_bytes(C, C) +
      ffn_in_weights::arena_bytes(F, C) + ffn_out_weights::arena_bytes(C, F);

  // get(name, shape) -> std::vector<float>, Hugging Face names of one layer.
  template <class Get>
  encoder_block(Get&& get, const block_names& n) {
    auto lin = [&](const std::string& name, std::size_t out, std::size_t in) {
      return std::pair{get(name + ".weight", {out, in}), get(name + ".bias", {out})};
    };
    // The six weights side by side, in the order forward() streams them, in one block.
    weight_arena arena(kArenaBytes);
    auto [wq, bq] = lin(n.q, C, C);
    wq_ = qkv_weights(C, C, wq, bq, arena);
    auto [wk, bk] = lin(n.k, C, C);
    wk_ = qkv_weights(C, C, wk, bk, arena);
    auto [wv, bv] = lin(n.v, C, C);
    wv_ = qkv_weights(C, C, wv, bv, arena);
    auto [wo, bo] = lin(n.out, C, C);
    wo_ = out_weights(C, C, wo, bo, arena);
    sa_gamma_ = get(n.attn_norm + ".weight", {C});
    sa_beta_ = get(n.attn_norm + ".bias", {C});
    auto [w1, b1] = lin(n.ffn_in, F, C);
    w1_ = ffn_in_weights(F, C, w1, b1, arena);
    auto [w2, b2] = lin(n.ffn_out, C, F);
    w2_ = ffn_out_weights(C, F, w2, b2, arena);
    out_gamma_ = get(n.out_norm + ".weight", {C});
    out_beta_ = get(n.out_norm + ".bias", {C});
  }
  // DistilBERT names under `prefix` (e.g. "distilbert.transformer.layer.3.").
  template <class Get>
  encoder_block(Get&& get, const std::string& prefix)
      : encoder_block(std::forward<Get>(get), block_names::distilbert(prefix)) {}

  // x (B, C, 1, S) -> x, in place.
  // prof: when not null, each stage's time is added to it.
  void forward(act_view x, const buffers& t, runtime::thread_pool* pool,
               runtime::forward_profile* prof = nullptr) const {
    using runtime::stage;
    using timer = runtime::stage_timer;
    {
      timer tm(prof, stage::qkv);
      conv1x1_stacked(std::array{&wq_, &wk_, &wv_}, x, std::array{t.q, t.k, t.v}, pool);
    }
    {
      timer tm(prof, stage::attention);
      attention<heads, chunk>(t.q, t.k, t.v, t.ctx,
                              {.key_mask_add = t.key_mask_add, .scratch = t.scratch, .pool = pool});
    }
    {
      timer tm(prof, stage::out_proj);
      conv1x1(wo_, t.ctx, t.q, epi::residual{x}, pool);  // q's buffer is free again
    }
    {
      timer tm(prof, stage::layer_norm);
      layer_norm(t.q, sa_gamma_, sa_beta_, Config::layer_norm_eps, x, pool);
    }
    {
      timer tm(prof, stage::ffn_in);
      conv1x1(w1_, x, t.ffn, epi::gelu{}, pool);
    }
    {
      timer tm(prof, stage::ffn_out);
      conv1x1(w2_, t.ffn, t.q, epi::residual{x}, pool);
    }
    {
      timer tm(prof, stage::layer_norm);
      layer_norm(t.q, out_gamma_, out_beta_, Config::layer_norm_eps, x, pool);
    }
  }

  std::size_t weight_bytes() const noexcept {
    return wq_.bytes() + wk_.bytes() + wv_.bytes() + wo_.bytes() + w1_.bytes() + w2_.bytes();
  }

 private:
  qkv_weights wq_, wk_, wv_;
  out_weights wo_;
  ffn_in_weights w1_;
  ffn_out_weights w2_;
  std::vector<float> sa_gamma_, sa_beta_, out_gamma_, out_beta_;
};

}  // namespace bc1s::nn
