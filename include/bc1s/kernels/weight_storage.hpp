// Weight storage traits: what each precision of conv1x1 weights is, and how the kernels pack,
// widen and multiply it. Kernels ask weight_storage<WT>, never which type WT is; a precision is
// one specialisation here plus its tile product in arch/amx/conv1x1.hpp.
//
// | WT    | name | bytes | products                                          | embeddings |
// |-------|------|-------|---------------------------------------------------|------------|
// | float | fp32 | 4     | fp32 FMA                                          | float      |
// | half  | fp16 | 2     | fp32 FMA; AMX split3 (fp32-accurate, 3 products)  | half       |
// | bf16  | bf16 | 2     | bf16 dot products (AVX512-BF16, or widened + FMA);  | half       |
// |       |      |       | AMX bf16x1; activations rounded to bf16            |            |
// | qint8 | int8 | 1     | int8 dot products (AVX512-VNNI, or plain C++),     | half       |
// |       |      |       | weights scaled per output channel, activations     |            |
// |       |      |       | quantised per position; int32 sums                 |            |
//
// Every path accumulates in fp32; layer norm, softmax, GELU and residuals are fp32 whatever WT.
#pragma once

#include <cstddef>
#include <type_traits>

#include "bc1s/core/bf16.hpp"
#include "bc1s/core/half.hpp"
#include "bc1s/core/qint8.hpp"
#include "bc1s/arch/amx/conv1x1.hpp"

namespace bc1s {

namespace detail {
struct no_amx_product {};
}  // namespace detail

// The storage of an encoder block's Linears for a model stored as WT.
template <class Qkv, class OutProj, class FfnIn, class FfnOut>
struct layer_storage {
  using qkv = Qkv;
  using out_proj = OutProj;
  using ffn_in = FfnIn;
  using ffn_out = FfnOut;
};
template <class WT>
using uniform_layers = layer_storage<WT, WT, WT, WT>;

template <class WT>
struct weight_storage {
  static constexpr bool supported = false;
};

template <>
struct weight_storage<float> {
  static constexpr bool supported = true;
  using layers = uniform_layers<float>;
  static constexpr const char* name = "fp32";
  using embedding_type = float;                // embedding tables of a model with these weights
  static constexpr bool widen_chunks = false;  // the FMA path reads the panels as they are
  static constexpr std::size_t lane_k = 1;     // panels k-major, one input channel a row
  static constexpr bool quantized = false;     // no per-channel scales
  using amx_product = detail::no_amx_product;  // no AMX path: fp32 stays exact
};

template <>
struct weight_storage<half> {
  static constexpr bool supported = true;
  using layers = uniform_layers<half>;
  static constexpr const char* name = "fp16";
  using embedding_type = half;
  static constexpr bool widen_chunks = true;  // vcvtph2ps once per chunk, not per FMA
  static constexpr std::size_t lane_k = 1;
  static constexpr bool quantized = false;
  using amx_product = std::conditional_t<arch::kAmx, detail::amx::split3, detail::no_amx_product>;
};

template <>
struct weight_storage<bf16> {
  static constexpr bool supported = true;
  using layers = uniform_layers<bf16>;
  static constexpr const char* name = "bf16";
  // fp16 embeddings: the same bytes as bf16 with 3 more significant bits (the table is gathered,
  // never multiplied, so its width costs nothing per token).
  using embedding_type = half;
  static constexpr bool widen_chunks = false;
  // Panels in pairs of input channels (conv1x1_dot.hpp): a VDPBF16PS operand as they are, and
  // the rows of AMX B tiles.
  static constexpr std::size_t lane_k = 2;
  static constexpr bool quantized = false;
  using amx_product = std::conditional_t<arch::kAmx, detail::amx::bf16x1, detail::no_amx_product>;
};

template <>
struct weight_storage<qint8> {
  static constexpr bool supported = true;
  using layers = layer_storage<qint8, qint8, qint8, qint8>;
  static constexpr const char* name = "int8";
  using embedding_type = half;
  static constexpr bool widen_chunks = false;
  // Panels in quads of input channels (conv1x1_dot.hpp): a VPDPBUSD operand as they are.
  static constexpr std::size_t lane_k = 4;
  // A scale per output channel (max |W[m][k]| / 127) and the int32 offset 128 sum_k q[m][k].
  static constexpr bool quantized = true;
  using amx_product = detail::no_amx_product;
};

// Weight storage types conv1x1_weights accepts.
template <class T>
inline constexpr bool is_weight_storage_v = weight_storage<T>::supported;

// Whether weights of storage WT have an AMX tile product on this build.
template <class WT>
inline constexpr bool has_amx_product_v =
    !std::is_same_v<typename weight_storage<WT>::amx_product, detail::no_amx_product>;

}  // namespace bc1s
