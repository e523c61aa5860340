// conv1x1: a Linear over channels on the (B, C, 1, S) layout.
//
//   out (B, Cout, 1, S) = W (Cout, Cin) * in (B, Cin, 1, S) + bias (Cout)   [+ GELU | + residual]
//
// Weights are packed once, at load, into panels of kPanelRows output channels stored k-major:
//   panel p, input channel k, row r  ->  packed[(p * Cin + k) * kPanelRows + r]
// so one k step of a panel is kPanelRows contiguous weights: whole SIMD vectors over output
// channels, loaded (and converted from fp16 in registers when the storage is half) straight into
// the FMA. The microkernel keeps a kPanelRows x NR tile of fp32 accumulators: vectors over output
// channels times NR sequence columns whose activations are broadcast. Each weight is read once per
// NR columns, so with fp16 storage half the bytes stream in from memory as with fp32.
// Accumulation is fp32 over the whole of Cin; the tile is transposed into the (Cout, S) rows on
// store, where the fused epilogue (bias is the accumulator's initial value; GELU; residual add)
// runs. Only the S valid columns are computed and written; padding lanes are left as they were.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "bc1s/core/half.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/kernels/checks.hpp"
#include "bc1s/kernels/gelu.hpp"
#include "bc1s/runtime/thread_pool.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s {

namespace detail {
// Output channels per panel and sequence columns per microkernel tile, per ISA: the tile's
// accumulators (kPanelRows / lanes * kTileCols vectors) plus the weight vectors and a broadcast
// fit the register file (32 zmm on AVX-512: 24 + 2 + 1; 16 ymm on AVX2: 12 + 2 + 1).
#if defined(__AVX512F__)
inline constexpr std::size_t kPanelRows = 32;
inline constexpr std::size_t kTileCols = 12;
#elif defined(__AVX__)
inline constexpr std::size_t kPanelRows = 16;
inline constexpr std::size_t kTileCols = 6;
#else
inline constexpr std::size_t kPanelRows = 8;
inline constexpr std::size_t kTileCols = 6;
#endif
static_assert(kPanelRows % simd::kFloatLanes == 0);
// fp16 panels are widened to fp32 once per call when there are at least this many columns (S)
// and at most kWidenMaxCin input channels (a 1024 x 32 fp32 panel is a 128 KiB stack buffer of
// the thread running it). At Cin = 3072 a widened panel (384 KiB) competes for L2 with the
// 1.5 MiB of activations at S = 128 and was measured slower than in-register conversion.
inline constexpr std::size_t kWidenMinCols = 3 * kTileCols;
inline constexpr std::size_t kWidenMaxCin = 1024;
// Wide inputs (kWidenMaxCin < Cin <= kPackMaxCin) are packed per column tile (a stack buffer of
// kPackMaxCin x kTileCols floats), and their panels taken in blocks of about kPanelBlockBytes.
inline constexpr std::size_t kPackMaxCin = 4096;
// Software prefetch distance for weight panels, in bytes.
inline constexpr std::size_t kPrefetchBytes = 2048;
inline constexpr std::size_t kPanelBlockBytes = std::size_t{768} << 10;
// Activations per column block: inputs above this are cut into balanced column blocks.
inline constexpr std::size_t kActBlockBytes = std::size_t{1} << 20;
}  // namespace detail

// Packed conv1x1 weights, storage WT (half or float), with static or dynamic channel counts.
template <class WT, std::size_t Cout = dyn, std::size_t Cin = dyn>
class conv1x1_weights {
  static_assert(is_storage_type_v<WT>,
                "bc1s::conv1x1_weights: expected float or bc1s::half weight storage");

 public:
  using storage_type = WT;
  static constexpr std::size_t static_cout = Cout;
  static constexpr std::size_t static_cin = Cin;
  static constexpr std::size_t kPanelRows = detail::kPanelRows;

  conv1x1_weights() = default;

  // w: row-major [cout][cin] fp32 (a PyTorch Linear weight, [out, in]); bias: cout values or empty.
  conv1x1_weights(std::size_t cout, std::size_t cin, std::span<const float> w,
                  std::span<const float> bias)
      : cout_(cout), cin_(cin) {
    if ((Cout != dyn && cout != Cout) || (Cin != dyn && cin != Cin)) {
      throw std::invalid_argument(
          "bc1s::conv1x1_weights: static extents contradict the layout's: "
          "the type says (" +
          dim(Cout) + ", " + dim(Cin) + ") but (" + std::to_string(cout) + ", " +
          std::to_string(cin) + ") was given");
    }
    if (w.size() != cout * cin) {
      throw std::invalid_argument("bc1s::conv1x1_weights: expected " + std::to_string(cout * cin) +
                                  " weights (Cout x Cin = " + std::to_string(cout) + " x " +
                                  std::to_string(cin) + "), got " + std::to_string(w.size()));
    }
    if (!bias.empty() && bias.size() != cout) {
      throw std::invalid_argument("bc1s::conv1x1_weights: expected a bias of " +
                                  std::to_string(cout) + " values, got " +
                                  std::to_string(bias.size()));
    }
    const std::size_t panels = num_panels();
    packed_ = detail::aligned_zeros<WT>(panels * cin * kPanelRows);
    for (std::size_t p = 0; p < panels; ++p) {
      for (std::size_t k = 0; k < cin; ++k) {
        WT* dst = packed_.get() + (p * cin + k) * kPanelRows;
        for (std::size_t r = 0; r < kPanelRows; ++r) {
          const std::size_t m = p * kPanelRows + r;
          dst[r] = from_float<WT>(m < cout ? w[m * cin + k] : 0.0f);
        }
      }
    }
    bias_ = detail::aligned_zeros<float>(panels * kPanelRows);
    for (std::size_t m = 0; m < cout && !bias.empty(); ++m) bias_[m] = bias[m];
  }

  std::size_t cout() const noexcept { return Cout == dyn ? cout_ : Cout; }
  std::size_t cin() const noexcept { return Cin == dyn ? cin_ : Cin; }
  std::size_t num_panels() const noexcept { return (cout() + kPanelRows - 1) / kPanelRows; }
  const WT* panel(std::size_t p) const noexcept { return packed_.get() + p * cin() * kPanelRows; }
  const float* bias() const noexcept { return bias_.get(); }
  std::size_t bytes() const noexcept { return num_panels() * cin() * kPanelRows * sizeof(WT); }
  // The weight W[m][k] back as float (tests).
  float at(std::size_t m, std::size_t k) const noexcept {
    return to_float(packed_[((m / kPanelRows) * cin() + k) * kPanelRows + m % kPanelRows]);
  }

 private:
  static std::string dim(std::size_t d) { return d == dyn ? "dyn" : std::to_string(d); }
  std::size_t cout_ = Cout == dyn ? 0 : Cout;
  std::size_t cin_ = Cin == dyn ? 0 : Cin;
  std::unique_ptr<WT[], detail::aligned_delete> packed_;
  std::unique_ptr<float[], detail::aligned_delete> bias_;
};

template <class X>
inline constexpr bool is_conv1x1_weights_v = false;
template <class WT, std::size_t Co, std::size_t Ci>
inline constexpr bool is_conv1x1_weights_v<conv1x1_weights<WT, Co, Ci>> = true;

// Fused epilogues.
namespace epi {
struct bias_only {};
struct gelu {};
// out = W * in + bias + residual; the residual has out's shape (it may alias out).
template <class View>
struct residual {
  View view;
};
template <class X>
residual(X) -> residual<X>;
}  // namespace epi

namespace detail {

template <class E>
inline constexpr bool is_residual_epi_v = false;
template <class V>
inline constexpr bool is_residual_epi_v<epi::residual<V>> = true;

// One microkernel tile: acc[v][n] = bias + sum_k W[panel rows v][k] * in[k][s0 + n].
// `in` points at column s0 of row 0 of one batch; ld is its row stride (padded S).
template <std::size_t NR, class WT, class AT>
inline void conv1x1_tile(const WT* __restrict wp, const float* __restrict bias,
                         const AT* __restrict in, std::size_t ld, std::size_t cin,
                         float* __restrict tile /* [NR][kPanelRows] */) noexcept {
  using simd::fbatch;
  constexpr std::size_t L = simd::kFloatLanes;
  constexpr std::size_t V = kPanelRows / L;
  fbatch acc[V][NR];
#pragma GCC unroll 4
  for (std::size_t v = 0; v < V; ++v) {
    const fbatch b = fbatch::load_aligned(bias + v * L);
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) acc[v][n] = b;
  }
  for (std::size_t k = 0; k < cin; ++k) {
    // The panel streams from memory when S is small: ask for its lines ~kPrefetchBytes ahead
    // (the hardware prefetcher alone kept one core near 5 GB/s here).
    for (std::size_t o = 0; o < kPanelRows * sizeof(WT); o += 64) {
      __builtin_prefetch(reinterpret_cast<const char*>(wp + k * kPanelRows) + kPrefetchBytes + o);
    }
    fbatch w[V];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) w[v] = simd::load(wp + k * kPanelRows + v * L);
    const AT* a = in + k * ld;
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
      const fbatch x = simd::broadcast(a[n]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[v][n] = xsimd::fma(w[v], x, acc[v][n]);
    }
  }
#pragma GCC unroll 16
  for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) acc[v][n].store_aligned(tile + n * kPanelRows + v * L);
  }
}

template <class WT, class AT>
using tile_fn = void (*)(const WT*, const float*, const AT*, std::size_t, std::size_t, float*);

template <class WT, class AT, std::size_t... N>
constexpr auto make_tile_table(std::index_sequence<N...>) {
  return std::array<tile_fn<WT, AT>, sizeof...(N)>{&conv1x1_tile<N + 1, WT, AT>...};
}

}  // namespace detail

namespace detail {

// The body of conv1x1, instantiated only for arguments that passed its static_asserts.
template <class AT, class OT, class W, class VX, class VY, class Epi>
void conv1x1_run(const W& w, const VX& x, const VY& y, const Epi& epilogue,
                 runtime::thread_pool* pool) {
  if (w.cin() != x.c()) {
    detail::throw_kernel("conv1x1",
                         "expected a weight whose input channels (Cin) equal the input "
                         "tensor's C; Cin = " +
                             std::to_string(w.cin()) + ", C = " + std::to_string(x.c()));
  }
  if (w.cout() != y.c()) {
    detail::throw_kernel("conv1x1",
                         "expected a weight whose output channels (Cout) equal the "
                         "output tensor's C; Cout = " +
                             std::to_string(w.cout()) + ", C = " + std::to_string(y.c()));
  }
  detail::check_same_bs("conv1x1", x, y, "input and output tensors");
  if constexpr (detail::is_residual_epi_v<Epi>) {
    const auto r = as_view(epilogue.view);
    BC1S_REQUIRE_BC1S_TENSOR("conv1x1", decltype(r), "the residual");
    detail::check_same_bs("conv1x1", r, y, "residual and output tensors");
    detail::check_same_c("conv1x1", r, y, "residual and output tensors");
  }

  using WT = typename W::storage_type;
  constexpr std::size_t P = detail::kPanelRows;
  constexpr std::size_t NR = detail::kTileCols;
  static constexpr auto tiles = detail::make_tile_table<WT, AT>(std::make_index_sequence<NR>{});
  static constexpr auto tiles_f32 =
      detail::make_tile_table<float, AT>(std::make_index_sequence<NR>{});
  static constexpr auto tiles_packed =
      detail::make_tile_table<WT, float>(std::make_index_sequence<NR>{});

  const std::size_t B = x.b(), S = x.s(), cin = w.cin(), cout = w.cout();
  const std::size_t ldi = x.mapping().padded_s();

  // Columns [s_begin, s_end) of batch b: every panel p in [p0, p1) (getter(p) -> its weights,
  // fetched once per block), every column tile.
  // The epilogue of one tile (columns s0 .. s0+cols of panel p, batch b): GELU if asked, then
  // the transpose into the output rows, with the residual added if asked.
  auto finish = [&](std::size_t b, std::size_t p, std::size_t s0, std::size_t cols, float* tile) {
    const std::size_t m0 = p * P, rows = std::min(P, cout - m0);
    if constexpr (std::is_same_v<Epi, epi::gelu>) {
      for (std::size_t i = 0; i < cols * P; i += simd::kFloatLanes) {
        simd::gelu(simd::fbatch::load_aligned(tile + i)).store_aligned(tile + i);
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      auto* dst = y.row(b, m0 + r) + s0;
      if constexpr (detail::is_residual_epi_v<Epi>) {
        const auto* res = as_view(epilogue.view).row(b, m0 + r) + s0;
        for (std::size_t n = 0; n < cols; ++n) {
          dst[n] = from_float<OT>(tile[n * P + r] + to_float(res[n]));
        }
      } else {
        for (std::size_t n = 0; n < cols; ++n) dst[n] = from_float<OT>(tile[n * P + r]);
      }
    }
  };
  auto run_block = [&](std::size_t b, std::size_t s_begin, std::size_t s_end, std::size_t p0,
                       std::size_t p1, auto&& getter, const auto& table) {
    alignas(64) float tile[NR * P];
    const AT* xb = x.row(b, 0);
    for (std::size_t p = p0; p < p1; ++p) {
      const auto* wp = getter(p);
      const float* bias = w.bias() + p * P;
      for (std::size_t s0 = s_begin; s0 < s_end; s0 += NR) {
        const std::size_t cols = std::min(NR, s_end - s0);
        table[cols - 1](wp, bias, xb + s0, ldi, cin, tile);
        finish(b, p, s0, cols, tile);
      }
    }
  };
  // Wide inputs (Cin above kWidenMaxCin): pack each column tile's activations contiguously,
  // k-major (NR floats per input channel), once per block of panels whose weights stay in L2,
  // so the microkernel reads two sequential streams instead of Cin rows a padded row apart.
  auto run_packed = [&](std::size_t b, std::size_t p0, std::size_t p1) {
    alignas(64) float apack[kPackMaxCin * NR];
    alignas(64) float tile[NR * P];
    const std::size_t block = std::max<std::size_t>(1, kPanelBlockBytes / (cin * P * sizeof(WT)));
    for (std::size_t pb = p0; pb < p1; pb += block) {
      const std::size_t pe = std::min(p1, pb + block);
      for (std::size_t s0 = 0; s0 < S; s0 += NR) {
        const std::size_t cols = std::min(NR, S - s0);
        for (std::size_t k = 0; k < cin; ++k) {
          const AT* src = x.row(b, k) + s0;
          float* dst = apack + k * NR;
          for (std::size_t n = 0; n < cols; ++n) dst[n] = to_float(src[n]);
        }
        for (std::size_t p = pb; p < pe; ++p) {
          tiles_packed[cols - 1](w.panel(p), w.bias() + p * P, apack, NR, cin, tile);
          finish(b, p, s0, cols, tile);
        }
      }
    }
  };
  // Long sequences are cut into column blocks whose activations (Cin x block values) stay in
  // L2 while every panel of the thread passes over them; otherwise each panel would stream the
  // whole input (1.5 MiB at Cin = 768, S = 512; 6 MiB at Cin = 3072) from L3 or memory again.
  // The blocks are balanced and whole tiles; an input that fits kActBlockBytes stays one block.
  const std::size_t col_bytes = cin * sizeof(AT);
  const std::size_t nblocks =
      std::max<std::size_t>(1, (S * col_bytes + kActBlockBytes - 1) / kActBlockBytes);
  const std::size_t block_cols = ((S + nblocks - 1) / nblocks + NR - 1) / NR * NR;

  const bool packed = cin > kWidenMaxCin && cin <= kPackMaxCin && S >= kWidenMinCols;
  auto run_panels = [&](std::size_t p0, std::size_t p1) {
    for (std::size_t b = 0; b < B; ++b) {
      if (packed) {
        run_packed(b, p0, p1);
        continue;
      }
      for (std::size_t s0 = 0; s0 < S; s0 += block_cols) {
        const std::size_t s1 = std::min(S, s0 + block_cols);
        if constexpr (std::is_same_v<WT, half>) {
          // With several column tiles, widen each fp16 panel to fp32 once (into L2) and run the
          // fp32 microkernel over it: the 512-bit vcvtph2ps shares port 5 with the FMAs on
          // AVX-512 cores, so converting in the inner loop costs ~2 of every 26 FMA-port slots,
          // while widening once costs 1 / (column tiles) of that. Few columns stay with
          // in-register conversion: there streaming half the bytes is what counts.
          if (s1 - s0 >= kWidenMinCols && cin <= kWidenMaxCin) {
            alignas(64) float wide[kWidenMaxCin * P];
            auto widened = [&](std::size_t p) {
              simd::half_to_float(w.panel(p), wide, cin * P);
              return static_cast<const float*>(wide);
            };
            run_block(b, s0, s1, p0, p1, widened, tiles_f32);
            continue;
          }
        }
        run_block(
            b, s0, s1, p0, p1, [&](std::size_t p) { return w.panel(p); }, tiles);
      }
    }
  };
  const std::size_t panels = w.num_panels();
  if (pool == nullptr || pool->size() == 1 || panels == 1) {
    run_panels(0, panels);
  } else {
    // Three ranges of panels per thread, taken dynamically: a thread the OS preempts (another
    // process on the machine) delays one small range, not half of the work. The packed path
    // re-packs activations per range, so it keeps one range per thread.
    const std::size_t tasks = std::min(panels, pool->size() * (packed ? 1 : 3));
    pool->parallel_for(
        tasks, [&](std::size_t t) { run_panels(panels * t / tasks, panels * (t + 1) / tasks); });
  }
}

}  // namespace detail

// out (B, Cout, 1, S) = W (Cout, Cin) * in (B, Cin, 1, S) + bias, then the epilogue.
// pool: splits output-channel panels over threads (nullptr: the calling thread only).
template <class W, class In, class Out, class Epi = epi::bias_only>
void conv1x1(const W& w, const In& in, Out&& out, Epi epilogue = {},
             runtime::thread_pool* pool = nullptr) {
  static_assert(is_conv1x1_weights_v<W>,
                "bc1s::conv1x1: expected bc1s::conv1x1_weights<T, Cout, Cin> as the weights; pack "
                "a [Cout, Cin] Linear weight with conv1x1_weights once, at load");
  BC1S_REQUIRE_BC1S_TENSOR("conv1x1", In, "the input");
  BC1S_REQUIRE_BC1S_TENSOR("conv1x1", Out, "the output");
  using LIn = typename tensor_traits_t<In>::layout_type;
  using LOut = typename tensor_traits_t<Out>::layout_type;
  using AT = typename tensor_traits_t<In>::value_type;
  using OT = typename tensor_traits_t<Out>::value_type;
  BC1S_REQUIRE_MUTABLE("conv1x1", typename tensor_traits_t<Out>::element_type, "the output");
  static_assert(extents_agree(W::static_cin, LIn::static_c),
                "bc1s::conv1x1: expected a weight whose input channels (Cin) equal the input "
                "tensor's C; pack the weight as conv1x1_weights<T, Cout, C> for an input of C "
                "channels");
  static_assert(extents_agree(W::static_cout, LOut::static_c),
                "bc1s::conv1x1: expected a weight whose output channels (Cout) equal the output "
                "tensor's C; give the output tensor Cout channels");
  BC1S_REQUIRE_SAME_BS("conv1x1", LIn, LOut, "input and output tensors");
  // Past a failed static_assert compile nothing more: the user reads one sentence, not a cascade.
  constexpr bool kValid = is_conv1x1_weights_v<W> && bc1s_layout<LIn> && bc1s_layout<LOut> &&
                          !std::is_const_v<typename tensor_traits_t<Out>::element_type>;
  if constexpr (kValid) {
    detail::conv1x1_run<AT, OT>(w, as_view(in), as_view(out), epilogue, pool);
  }
}

}  // namespace bc1s
