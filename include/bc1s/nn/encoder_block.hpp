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

// The sizes of an encoder, at run time. A compiled Config (distilbert_base, minilm_l6, ...) gives
// them as constants (dims_of<Config>()); any_shape leaves every one to the model folder's
// config.json.
struct encoder_dims {
  std::size_t dim = 0;     // C
  std::size_t heads = 0;   // H
  std::size_t hidden = 0;  // F, the feed-forward width
  std::size_t layers = 0;
  std::size_t vocab = 0;
  std::size_t max_positions = 0;
  std::size_t type_vocab = 0;  // 0: no token-type embeddings (DistilBERT)
  std::size_t num_labels = 0;  // the classification head's outputs; 0: none
  float layer_norm_eps = 1e-12f;
};

// A Config whose every size is dyn: the model reads them from config.json at load. Kernels then
// take run-time extents; every check a static Config makes at compile time is made at load, in
// the same words.
struct any_shape {
  static constexpr std::size_t dim = dyn;
  static constexpr std::size_t heads = dyn;
  static constexpr std::size_t hidden = dyn;
  static constexpr std::size_t layers = dyn;
  static constexpr std::size_t vocab = dyn;
  static constexpr std::size_t max_positions = dyn;
  static constexpr std::size_t type_vocab = dyn;
  static constexpr std::size_t num_labels = dyn;
  static constexpr float layer_norm_eps = 0.0f;  // from config.json
};

// Whether Config's sizes come from config.json (any_shape) rather than from the type.
template <class Config>
inline constexpr bool is_runtime_shape_v = Config::dim == dyn;

// A static Config's sizes (type_vocab and num_labels are 0 where the Config does not name them).
template <class Config>
constexpr encoder_dims dims_of() noexcept {
  static_assert(!is_runtime_shape_v<Config>,
                "bc1s::nn::dims_of: any_shape has no compile-time sizes; read them from "
                "config.json (encoder_model::load)");
  encoder_dims d;
  d.dim = Config::dim;
  d.heads = Config::heads;
  d.hidden = Config::hidden;
  d.layers = Config::layers;
  d.vocab = Config::vocab;
  d.max_positions = Config::max_positions;
  if constexpr (requires { Config::type_vocab; }) d.type_vocab = Config::type_vocab;
  if constexpr (requires { Config::num_labels; }) d.num_labels = Config::num_labels;
  d.layer_norm_eps = Config::layer_norm_eps;
  return d;
}

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
  // C % H is checked here at compile time for a static Config, in the constructor for any_shape.
  using heads = head_split<C, Config::heads>;
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

  // The bytes of one block's packed weights, for width c and feed-forward width f.
  static constexpr std::size_t arena_bytes(std::size_t c, std::size_t f) noexcept {
    return 3 * qkv_weights::arena_bytes(c, c) + out_weights::arena_bytes(c, c) +
           ffn_in_weights::arena_bytes(f, c) + ffn_out_weights::arena_bytes(c, f);
  }

  // get(name, shape) -> std::vector<float>, Hugging Face names of one layer; d: the model's sizes
  // (those of a static Config must equal its constants).
  template <class Get>
  encoder_block(Get&& get, const block_names& n, const encoder_dims& d = static_dims())
      : c_(d.dim), f_(d.hidden), h_(d.heads), eps_(d.layer_norm_eps) {
    [[maybe_unused]] const heads split(c_, h_);  // C % H and agreement with static sizes
    if (F != dyn && f_ != F) {
      bc1s::detail::throw_shape(
          "bc1s::encoder_block: static extents contradict the layout's: F is " + std::to_string(F) +
          " in the type but " + std::to_string(f_) + " was given");
    }
    auto lin = [&](const std::string& name, std::size_t out, std::size_t in) {
      return std::pair{get(name + ".weight", {out, in}), get(name + ".bias", {out})};
    };
    // The six weights side by side, in the order forward() streams them, in one block.
    weight_arena arena(arena_bytes(c_, f_));
    auto [wq, bq] = lin(n.q, c_, c_);
    wq_ = qkv_weights(c_, c_, wq, bq, arena);
    auto [wk, bk] = lin(n.k, c_, c_);
    wk_ = qkv_weights(c_, c_, wk, bk, arena);
    auto [wv, bv] = lin(n.v, c_, c_);
    wv_ = qkv_weights(c_, c_, wv, bv, arena);
    auto [wo, bo] = lin(n.out, c_, c_);
    wo_ = out_weights(c_, c_, wo, bo, arena);
    sa_gamma_ = get(n.attn_norm + ".weight", {c_});
    sa_beta_ = get(n.attn_norm + ".bias", {c_});
    auto [w1, b1] = lin(n.ffn_in, f_, c_);
    w1_ = ffn_in_weights(f_, c_, w1, b1, arena);
    auto [w2, b2] = lin(n.ffn_out, c_, f_);
    w2_ = ffn_out_weights(c_, f_, w2, b2, arena);
    out_gamma_ = get(n.out_norm + ".weight", {c_});
    out_beta_ = get(n.out_norm + ".bias", {c_});
  }
  // DistilBERT names under `prefix` (e.g. "distilbert.transformer.layer.3.").
  template <class Get>
  encoder_block(Get&& get, const std::string& prefix)
      : encoder_block(std::forward<Get>(get), block_names::distilbert(prefix)) {}

  std::size_t dim() const noexcept { return c_; }
  std::size_t hidden() const noexcept { return f_; }
  std::size_t head_count() const noexcept { return h_; }

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
                              {.key_mask_add = t.key_mask_add,
                               .scratch = t.scratch,
                               .pool = pool,
                               .heads = Config::heads == dyn ? h_ : 0});
    }
    {
      timer tm(prof, stage::out_proj);
      conv1x1(wo_, t.ctx, t.q, epi::residual{x}, pool);  // q's buffer is free again
    }
    {
      timer tm(prof, stage::layer_norm);
      layer_norm(t.q, sa_gamma_, sa_beta_, eps_, x, pool);
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
      layer_norm(t.q, out_gamma_, out_beta_, eps_, x, pool);
    }
  }

  std::size_t weight_bytes() const noexcept {
    return wq_.bytes() + wk_.bytes() + wv_.bytes() + wo_.bytes() + w1_.bytes() + w2_.bytes();
  }

 private:
  static constexpr encoder_dims static_dims() noexcept {
    if constexpr (is_runtime_shape_v<Config>) {
      return {};  // any_shape: the caller must give the sizes (the head_split check says so)
    } else {
      return dims_of<Config>();
    }
  }

  std::size_t c_, f_, h_;
  float eps_;
  qkv_weights wq_, wk_, wv_;
  out_weights wo_;
  ffn_in_weights w1_;
  ffn_out_weights w2_;
  std::vector<float> sa_gamma_, sa_beta_, out_gamma_, out_beta_;
};

}  // namespace bc1s::nn
