// conv1x1: a Linear over channels on the (B, C, 1, S) layout.
//
//   out (B, Cout, 1, S) = W (Cout, Cin) * in (B, Cin, 1, S) + bias (Cout)   [+ GELU | + residual]
//
// Weights are packed once, at load, into panels of kPanelRows output channels stored k-major:
//   panel p, input channel k, row r  ->  packed[(p * Cin + k) * kPanelRows + r]
// so one k step of a panel is kPanelRows contiguous weights: whole SIMD vectors over output
// channels. The microkernel keeps a kPanelRows x NR tile of fp32 accumulators: vectors over output
// channels times NR sequence columns whose activations are broadcast. Each weight is read once per
// NR columns, so with fp16 storage half the bytes stream in from memory as with fp32.
//
// The paths, chosen by the weights' storage traits (weight_storage.hpp):
// - fp16 or bf16 weights and B x S >= BC1S_AMX_MIN_COLS (12) columns, on a CPU with AMX that
//   Linux lets this process use: AMX tiles (arch/amx/conv1x1.hpp); fp16 weights split into bf16
//   pairs (a block ahead of the tile products for one or two position tiles, a chunk at a time for
//   more), bf16 weights as stored; fp32 sums.
// - Otherwise bf16 and int8 weights: dot-product instructions over lanes of 2 or 4 input
//   channels (conv1x1_dot.hpp).
// The FMA paths, BLAS-style, for fp32 and fp16 weights otherwise (and with BC1S_AMX=0):
// - Few columns (B x S < 3 tiles): weight streaming is the limit. Each panel is read straight from
//   the packed weights (fp16 converted in registers, prefetched ahead) against the input rows.
// - Otherwise the column tiles of all batch items are cut into blocks that fit a 1 MiB per-thread
//   buffer, each packed once (k-major, fp32: BLAS's packed B) unless the input is small enough to
//   read in place; every panel of the thread then passes over the block kKChunk input channels at
//   a time, the chunk (widened to fp32 once if stored as fp16) staying in L1 while the block's
//   tiles stream from L2 and their partial sums wait in a small buffer. The input is read from
//   memory once per call instead of once per block of panels.
// Accumulation is fp32; the tile is transposed into the (Cout, S) rows on store, where the fused
// epilogue (bias is the accumulator's initial value; GELU; residual add) runs. Only the S valid
// columns are computed and written; padding lanes are left as they were.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bc1s/core/half.hpp"
#include "bc1s/core/tensor.hpp"
#include "bc1s/kernels/checks.hpp"
#include "bc1s/arch/amx/conv1x1.hpp"
#include "bc1s/kernels/conv1x1_dot.hpp"
#include "bc1s/kernels/gelu.hpp"
#include "bc1s/kernels/weight_storage.hpp"
#include "bc1s/runtime/thread_pool.hpp"
#include "bc1s/simd/arch.hpp"
#include "bc1s/simd/convert.hpp"

namespace bc1s {

namespace detail {
// Output channels per panel and sequence columns per microkernel tile, per target: the tile's
// accumulators (kPanelRows / lanes * kTileCols vectors) plus the weight vectors and a broadcast
// fit the register file (bc1s/arch/: 24 + 2 + 1 of 32 zmm on AVX-512, 12 + 2 + 1 of 16 ymm on
// AVX2, 24 + 4 + 1 of 32 q registers on NEON).
inline constexpr std::size_t kPanelRows = arch::kPanelRows;
inline constexpr std::size_t kTileCols = arch::kTileCols;
static_assert(kPanelRows % simd::kFloatLanes == 0);
// Inputs with fewer columns (B x S) than this are weight-streaming bound: they run straight from
// the input rows with fp16 converted in registers and prefetched (widening chunks instead was
// measured 12-18% slower at S = 32 with weights from memory).
inline constexpr std::size_t kPackMinCols = 3 * kTileCols;
// The blocked path. Column tiles (kTileCols columns of one batch item) are taken in blocks of at
// most kMaxBlockTiles whose packed form fits kPackBytes: packed once per call and thread into a
// thread-local buffer (BLAS's packed B), k-major and fp32, each tile one sequential stream (the
// unpacked rows of a long sequence are 2 KiB apart at S = 512: L1 set conflicts, a new page
// every second row). The block stays in L2 while every weight panel of the thread passes over
// it. Tiles lie kPackPad floats more than cin * kTileCols apart, so that their rows, written
// together while packing, do not share one L1 set (cin * kTileCols * 4 bytes is a multiple of
// 4 KiB at Cin = 768 or 3072).
inline constexpr std::size_t kPackBytes = std::size_t{1} << 20;
inline constexpr std::size_t kPackFloats = kPackBytes / sizeof(float);
inline constexpr std::size_t kMaxBlockTiles = 64;
inline constexpr std::size_t kPackPad = 16;
// Input channels per K chunk: a weight panel is applied to the block's tiles kKChunk channels at
// a time, the partial sums waiting in a small buffer, so that the chunk of the panel (24 KiB of
// fp32 on AVX-512; fp16 panels are widened to fp32 a chunk at a time) stays in L1 while the
// tiles stream from L2. Widening once per chunk instead of in the inner loop matters on AVX-512,
// where vcvtph2ps shares port 5 with the FMAs. 192 was the best of 128 .. 1024 measured.
inline constexpr std::size_t kKChunk = 192;
// fp32 inputs this small (Cin <= kDirectMaxCin, rows <= kDirectMaxLd floats apart, in all <=
// kDirectMaxBytes) are read in place by the blocked path: their rows are close and stay in L2,
// and packing them cost 2-6% at S = 128 and 256 (the copy, not repaid), most with two threads,
// each of which packs the whole block.
inline constexpr std::size_t kDirectMaxBytes = std::size_t{1} << 20;
inline constexpr std::size_t kDirectMaxCin = 1024;
inline constexpr std::size_t kDirectMaxLd = 256;
// Software prefetch distance for weight panels, in bytes.
inline constexpr std::size_t kPrefetchBytes = 2048;
// Tasks per thread: several, taken dynamically, so that a thread the OS preempts (another process
// on the machine) delays one small task, not half of the work.
inline constexpr std::size_t kTasksPerThread = 3;

// The packed-block buffer of the calling thread: fixed size, thread-local (no allocation per
// call), tagged with the call and block it holds so that a thread taking several tasks of the
// same block packs it once.
struct conv1x1_pack_buffer {
  alignas(64) float data[kPackFloats];
  std::uint64_t call;
  std::size_t block;
};
inline conv1x1_pack_buffer& conv1x1_thread_buffer() noexcept {
  static thread_local conv1x1_pack_buffer buf;
  return buf;
}
// Call numbers for the tags (0: none).
inline std::atomic<std::uint64_t> conv1x1_calls{0};
}  // namespace detail

// Packed conv1x1 weights, storage WT (float, half, bf16 or qint8: see weight_storage.hpp), with
// static or dynamic channel counts.
template <class WT, std::size_t Cout = dyn, std::size_t Cin = dyn>
class conv1x1_weights {
  static_assert(
      is_weight_storage_v<WT>,
      "bc1s::conv1x1_weights: expected float, bc1s::half, bc1s::bf16 or bc1s::qint8 weight "
      "storage; other types have no weight_storage traits");

 public:
  using storage_type = WT;
  static constexpr std::size_t static_cout = Cout;
  static constexpr std::size_t static_cin = Cin;
  static constexpr std::size_t kPanelRows = detail::kPanelRows;

  conv1x1_weights() = default;

  // w: row-major [cout][cin] fp32 (a PyTorch Linear weight, [out, in]); bias: cout values or empty.
  conv1x1_weights(std::size_t cout, std::size_t cin, std::span<const float> w,
                  std::span<const float> bias)
      : conv1x1_weights(cout, cin, w, bias, nullptr) {}
  // The same, packed into arena (which must have arena_bytes(cout, cin) left), next to the
  // arena's other pieces: one huge-page-backed block for a layer's weights (see weight_arena).
  conv1x1_weights(std::size_t cout, std::size_t cin, std::span<const float> w,
                  std::span<const float> bias, weight_arena& arena)
      : conv1x1_weights(cout, cin, w, bias, &arena) {}

  // What packing a cout x cin weight takes of a weight_arena.
  static constexpr std::size_t arena_bytes(std::size_t cout, std::size_t cin) noexcept {
    const std::size_t rows = (cout + kPanelRows - 1) / kPanelRows * kPanelRows;
    std::size_t bytes = weight_arena::piece_bytes<WT>(rows * panel_cin(cin)) +
                        weight_arena::piece_bytes<float>(rows);
    if constexpr (kQuantized) {
      bytes += weight_arena::piece_bytes<float>(rows) +
               weight_arena::piece_bytes<std::int32_t>(rows * offset_groups(cin));
    }
    return bytes;
  }
  // Input channels a panel holds: cin, rounded up to a multiple of the input channels that share
  // a lane (weight_storage<WT>::lane_k: 2 for bf16, 4 for int8).
  static constexpr std::size_t panel_cin(std::size_t cin) noexcept {
    return (cin + kLaneK - 1) / kLaneK * kLaneK;
  }

  std::size_t cout() const noexcept { return Cout == dyn ? cout_ : Cout; }
  std::size_t cin() const noexcept { return Cin == dyn ? cin_ : Cin; }
  std::size_t num_panels() const noexcept { return (cout() + kPanelRows - 1) / kPanelRows; }
  const WT* panel(std::size_t p) const noexcept {
    return packed_.get() + p * panel_cin(cin()) * kPanelRows;
  }
  const float* bias() const noexcept { return bias_.get(); }
  // The kPanelRows biases of panel p.
  const float* panel_bias(std::size_t p) const noexcept { return bias_.get() + p * kPanelRows; }
  // Quantised storage: the kPanelRows scales of panel p (W[m][k] = q * scale[m]) and offsets
  // [group a of kOffsetGroupK input channels][kPanelRows]: 128 * sum over the group of q[m][k],
  // what unsigned activations add to each group's int32 sums (conv1x1_dot.hpp).
  const float* panel_scales(std::size_t p) const noexcept { return scales_.get() + p * kPanelRows; }
  const std::int32_t* panel_offsets(std::size_t p) const noexcept {
    return offsets_.get() + p * offset_groups(cin()) * kPanelRows;
  }
  std::size_t bytes() const noexcept {
    return num_panels() * panel_cin(cin()) * kPanelRows * sizeof(WT);
  }
  // The weight W[m][k] back as float (tests).
  float at(std::size_t m, std::size_t k) const noexcept {
    if constexpr (kQuantized) {
      return static_cast<float>(packed_[index(m, k, cin())].q) * scales_[m];
    } else {
      return to_float(packed_[index(m, k, cin())]);
    }
  }

 private:
  conv1x1_weights(std::size_t cout, std::size_t cin, std::span<const float> w,
                  std::span<const float> bias, weight_arena* arena)
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
    packed_ = take<WT>(arena, panels * panel_cin(cin) * kPanelRows);  // zeros
    if constexpr (kQuantized) {
      // Symmetric per output channel: scale = max_k |W[m][k]| / 127, q = W / scale rounded to
      // nearest even; offsets for the unsigned activations (conv1x1_dot.hpp).
      const std::size_t groups = offset_groups(cin);
      scales_ = take<float>(arena, panels * kPanelRows);
      offsets_ = take<std::int32_t>(arena, panels * kPanelRows * groups);
      for (std::size_t m = 0; m < cout; ++m) {
        float amax = 0;
        for (std::size_t k = 0; k < cin; ++k) amax = std::max(amax, std::abs(w[m * cin + k]));
        const float scale = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
        const std::size_t p = m / kPanelRows, r = m % kPanelRows;
        for (std::size_t k = 0; k < cin; ++k) {
          const long q = std::clamp(std::lrint(w[m * cin + k] * inv), -127L, 127L);
          packed_[index(m, k, cin)].q = static_cast<std::int8_t>(q);
          offsets_[(p * groups + k / kOffsetGroupK) * kPanelRows + r] +=
              128 * static_cast<std::int32_t>(q);
        }
        scales_[m] = scale;
      }
    } else {
      for (std::size_t m = 0; m < cout; ++m) {
        for (std::size_t k = 0; k < cin; ++k)
          packed_[index(m, k, cin)] = from_float<WT>(w[m * cin + k]);
      }
    }
    bias_ = take<float>(arena, panels * kPanelRows);
    for (std::size_t m = 0; m < cout && !bias.empty(); ++m) bias_[m] = bias[m];
  }
  static constexpr bool kQuantized = weight_storage<WT>::quantized;
  static constexpr std::size_t kLaneK = weight_storage<WT>::lane_k;
  // Input channels per activation scale of the int8 kernels.
  static constexpr std::size_t kOffsetGroupK = arch::int8_dot::kGroupK;
  static constexpr std::size_t offset_groups(std::size_t cin) noexcept {
    return kQuantized ? (cin + kOffsetGroupK - 1) / kOffsetGroupK : 0;
  }

  // Where W[m][k] lies: panel m / P, then rows of P lanes, each lane the kLaneK input channels
  // k - k % kLaneK .. of one output channel (kLaneK = 1: k-major rows of P weights).
  static constexpr std::size_t index(std::size_t m, std::size_t k, std::size_t cin) noexcept {
    const std::size_t p = m / kPanelRows, r = m % kPanelRows;
    return p * panel_cin(cin) * kPanelRows + (k / kLaneK) * kLaneK * kPanelRows + kLaneK * r +
           k % kLaneK;
  }
  template <class T>
  static std::shared_ptr<T[]> take(weight_arena* arena, std::size_t n) {
    if (arena != nullptr) return arena->take<T>(n);
    return std::shared_ptr<T[]>(detail::aligned_zeros<T>(n));
  }
  static std::string dim(std::size_t d) { return d == dyn ? "dyn" : std::to_string(d); }
  std::size_t cout_ = Cout == dyn ? 0 : Cout;
  std::size_t cin_ = Cin == dyn ? 0 : Cin;
  std::shared_ptr<WT[]> packed_;  // immutable once packed: copies share it
  std::shared_ptr<float[]> bias_;
  std::shared_ptr<float[]> scales_;          // quantised storage only
  std::shared_ptr<std::int32_t[]> offsets_;  // quantised storage only
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

// Software prefetch in the microkernel: none, or the weights' own lines kPrefetchBytes ahead (for
// weights that stream from memory).
enum class prefetch { none, ahead };

// One microkernel tile: acc[v][n] = init + sum_k W[panel rows v][k] * in[k][n], where init is the
// bias (init == nullptr) or a tile of partial sums from the previous K chunk. `in` points at
// column 0 of input row 0: a tensor row (ld: its padded S) or a packed tile (ld = kTileCols).
// The result goes to tile[n][kPanelRows], which may be init.
template <std::size_t NR, prefetch PF, class WT, class AT>
inline void conv1x1_tile(const WT* __restrict wp, const float* bias, const float* init,
                         const AT* __restrict in, std::size_t ld, std::size_t cin,
                         float* tile /* [NR][kPanelRows] */) noexcept {
  using simd::fbatch;
  constexpr std::size_t L = simd::kFloatLanes;
  constexpr std::size_t V = kPanelRows / L;
  fbatch acc[V][NR];
  if (init == nullptr) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) {
      const fbatch b = fbatch::load_aligned(bias + v * L);
#pragma GCC unroll 16
      for (std::size_t n = 0; n < NR; ++n) acc[v][n] = b;
    }
  } else {
#pragma GCC unroll 16
    for (std::size_t n = 0; n < NR; ++n) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) {
        acc[v][n] = fbatch::load_aligned(init + n * kPanelRows + v * L);
      }
    }
  }
  for (std::size_t k = 0; k < cin; ++k) {
    if constexpr (PF == prefetch::ahead) {
      // The panel streams from memory when S is small: ask for its lines ~kPrefetchBytes ahead
      // (the hardware prefetcher alone kept one core near 5 GB/s here).
      for (std::size_t o = 0; o < kPanelRows * sizeof(WT); o += 64) {
        __builtin_prefetch(reinterpret_cast<const char*>(wp + k * kPanelRows) + kPrefetchBytes + o);
      }
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
using tile_fn = void (*)(const WT*, const float*, const float*, const AT*, std::size_t, std::size_t,
                         float*);

template <class WT, class AT, prefetch PF, std::size_t... N>
constexpr auto make_tile_table(std::index_sequence<N...>) {
  return std::array<tile_fn<WT, AT>, sizeof...(N)>{&conv1x1_tile<N + 1, PF, WT, AT>...};
}

}  // namespace detail

// Whether conv1x1 with weights stored as WT runs on AMX tiles (arch/amx/conv1x1.hpp) for an input
// of `columns` (B x S) columns in this process. Its products are then within 3 * 2^-16 relative of
// fp32 ones for half weights (split3), within 2^-9 for bf16 (bf16x1), instead of exact.
template <class WT>
bool conv1x1_uses_amx(std::size_t columns) noexcept {
  return arch::kAmx && has_amx_product_v<WT> && columns >= detail::amx::kMinCols &&
         simd::amx_enabled();
}

namespace detail {

// The run-time shape checks of conv1x1 (the static ones passed).
template <class W, class VX, class VY, class Epi>
void conv1x1_check(const W& w, const VX& x, const VY& y, const Epi& epilogue) {
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
}

// The fused epilogue of one finished tile of panel p, for output y (Cout = cout): the value of
// output channel p * kPanelRows + r at column s0 + n is tile[r * RS + n * CS] (RS = 1, CS =
// kPanelRows: the FMA and dot paths' [column][channel] tiles; RS = 16, CS = 1: the AMX path's rows
// of 16 positions). GELU if asked, then the store, with the residual added if asked. GELU runs
// over the first `count` floats of the tile (a multiple of the vector width).
template <std::size_t RS, std::size_t CS, class OT, class VY, class Epi>
void store_tile(std::size_t cout, const VY& y, const Epi& epilogue, std::size_t b, std::size_t p,
                std::size_t s0, std::size_t cols, std::size_t count, float* tile) {
  const std::size_t m0 = p * kPanelRows, nrows = std::min(kPanelRows, cout - m0);
  if constexpr (std::is_same_v<Epi, epi::gelu>) {
    for (std::size_t i = 0; i < count; i += simd::kFloatLanes) {
      simd::gelu(simd::fbatch::load_aligned(tile + i)).store_aligned(tile + i);
    }
  }
  for (std::size_t r = 0; r < nrows; ++r) {
    auto* dst = y.row(b, m0 + r) + s0;
    const float* v = tile + r * RS;
    if constexpr (is_residual_epi_v<Epi>) {
      const auto* res = as_view(epilogue.view).row(b, m0 + r) + s0;
      for (std::size_t n = 0; n < cols; ++n) dst[n] = from_float<OT>(v[n * CS] + to_float(res[n]));
    } else {
      for (std::size_t n = 0; n < cols; ++n) dst[n] = from_float<OT>(v[n * CS]);
    }
  }
}

// The AMX path's epilogue: finish(b, p, s0, cols, rows) gets panel p's tile as rows of output
// channels ([channel][16 positions]), so each output row is one contiguous run.
template <class OT, class VY, class Epi>
auto amx_finish_rows(std::size_t cout, const VY& y, const Epi& epilogue) {
  return [cout, y, &epilogue](std::size_t b, std::size_t p, std::size_t s0, std::size_t cols,
                              float* rows) {
    store_tile<amx::kRows, 1, OT>(cout, y, epilogue, b, p, s0, cols, kPanelRows * amx::kRows, rows);
  };
}

// The FMA paths of conv1x1 (fp32 and fp16 weights): finish(b, p, s0, cols, tile) is the epilogue
// of one tile ([column][kPanelRows] floats).
template <class AT, class W, class VX, class RunTasks, class Finish>
void conv1x1_fma(const W& w, const VX& x, std::size_t threads, RunTasks&& run_tasks,
                 Finish&& finish) {
  using WT = typename W::storage_type;
  constexpr std::size_t P = detail::kPanelRows;
  constexpr std::size_t NR = detail::kTileCols;
  const std::size_t B = x.b(), S = x.s(), cin = w.cin();
  const std::size_t panels = w.num_panels();

  // Column tiles are numbered over the whole input: tile t is columns s0 .. s0 + cols of batch
  // item t / tiles_per_b.
  const std::size_t tiles_per_b = (S + NR - 1) / NR;
  const std::size_t total_tiles = B * tiles_per_b;
  // Packed tiles lie tile_stride floats apart (see kPackPad).
  const std::size_t tile_stride = cin * NR + kPackPad;
  const std::size_t max_tiles = std::min(kMaxBlockTiles, kPackFloats / tile_stride);

  const std::size_t ldi = x.mapping().padded_s();
  if (B * S < kPackMinCols || max_tiles == 0) {
    // Few columns: every panel streams once per batch item (from memory in a forward pass), read
    // once per column tile straight from the input rows, fp16 converted in registers (streaming
    // half the bytes is what counts here).
    static constexpr auto table =
        detail::make_tile_table<WT, AT, prefetch::ahead>(std::make_index_sequence<NR>{});
    auto run_panels = [&](std::size_t p0, std::size_t p1) {
      alignas(64) float tile[NR * P];
      for (std::size_t b = 0; b < B; ++b) {
        const AT* xb = x.row(b, 0);
        for (std::size_t p = p0; p < p1; ++p) {
          for (std::size_t s0 = 0; s0 < S; s0 += NR) {
            const std::size_t cols = std::min(NR, S - s0);
            table[cols - 1](w.panel(p), w.bias() + p * P, nullptr, xb + s0, ldi, cin, tile);
            finish(b, p, s0, cols, tile);
          }
        }
      }
    };
    const std::size_t tasks = std::min(panels, threads * kTasksPerThread);
    run_tasks(tasks,
              [&](std::size_t t) { run_panels(panels * t / tasks, panels * (t + 1) / tasks); });
    return;
  }

  // The blocked path. The tiles are cut into balanced blocks of at most max_tiles (a block may
  // span batch items); a task is one block and a range of panels. The thread running it packs
  // the block into its buffer unless the buffer holds it already (this call, this block), then
  // runs each panel over the block's tiles, kKChunk input channels at a time, the tiles' partial
  // sums kept in `partial` between chunks. Every output sees the same chunks in the same order,
  // whatever the thread count.
  const std::size_t nblocks = (total_tiles + max_tiles - 1) / max_tiles;
  const std::size_t nchunks = (cin + kKChunk - 1) / kKChunk;
  const panel_split split(panels, nblocks, threads, kTasksPerThread);
  const std::uint64_t call = conv1x1_calls.fetch_add(1, std::memory_order_relaxed) + 1;

  // Small fp32 inputs are read in place (see kDirectMaxBytes).
  bool direct = false;
  if constexpr (std::is_same_v<AT, float>) {
    direct = nblocks == 1 && cin <= kDirectMaxCin && ldi <= kDirectMaxLd &&
             B * cin * ldi * sizeof(float) <= kDirectMaxBytes;
  }
  struct tile_ref {
    const AT* src;  // row 0 of the tile's columns
    std::size_t b, s0, cols;
  };
  // dst: tile-major, then kTileCols floats per input channel.
  auto pack = [&](const tile_ref* tl, std::size_t nt, float* dst) {
    for (std::size_t k = 0; k < cin; ++k) {
      for (std::size_t i = 0; i < nt; ++i) {
        const AT* src = tl[i].src + k * ldi;
        float* d = dst + i * tile_stride + k * NR;
        if constexpr (std::is_same_v<AT, float>) {
          if (tl[i].cols == NR) {
            std::memcpy(d, src, NR * sizeof(float));
          } else {
            for (std::size_t n = 0; n < tl[i].cols; ++n) d[n] = src[n];
          }
        } else {
          simd::half_to_float(src, d, tl[i].cols);
        }
      }
    }
  };
  auto run_block = [&](std::size_t blk, std::size_t p0, std::size_t p1) {
    const std::size_t t0 = total_tiles * blk / nblocks, nt = total_tiles * (blk + 1) / nblocks - t0;
    tile_ref tl[kMaxBlockTiles];
    for (std::size_t i = 0; i < nt; ++i) {
      const std::size_t b = (t0 + i) / tiles_per_b, s0 = (t0 + i) % tiles_per_b * NR;
      tl[i] = {x.row(b, 0) + s0, b, s0, std::min(NR, S - s0)};
    }
    const float* xp = nullptr;
    if (!direct) {
      conv1x1_pack_buffer& buf = conv1x1_thread_buffer();
      if (buf.call != call || buf.block != blk) {
        pack(tl, nt, buf.data);
        buf.call = call;
        buf.block = blk;
      }
      xp = buf.data;
    }
    alignas(64) float tile[NR * P];
    alignas(64) float partial[kMaxBlockTiles * NR * P];
    for (std::size_t p = p0; p < p1; ++p) {
      const float* bias = w.bias() + p * P;
      for (std::size_t c = 0; c < nchunks; ++c) {
        const std::size_t k0 = cin * c / nchunks, kc = cin * (c + 1) / nchunks - k0;
        const bool first = c == 0, last = c + 1 == nchunks;
        // The block's tiles over this chunk.
        auto run_tiles = [&](const float* wp, const auto& table) {
          for (std::size_t i = 0; i < nt; ++i) {
            const tile_ref& r = tl[i];
            float* part = partial + i * NR * P;
            const float* in;
            std::size_t ld = NR;
            if constexpr (std::is_same_v<AT, float>) {
              if (direct) {
                in = r.src + k0 * ldi;
                ld = ldi;
              } else {
                in = xp + i * tile_stride + k0 * NR;
              }
            } else {
              in = xp + i * tile_stride + k0 * NR;
            }
            table[r.cols - 1](wp, bias, first ? nullptr : part, in, ld, kc, last ? tile : part);
            if (last) finish(r.b, p, r.s0, r.cols, tile);
          }
        };
        if constexpr (weight_storage<WT>::widen_chunks) {
          // Widen the chunk once for all the block's tiles: the 512-bit vcvtph2ps shares port 5
          // with the FMAs on AVX-512 cores, so converting in the inner loop would cost ~2 of
          // every 26 FMA-port slots.
          static constexpr auto table =
              detail::make_tile_table<float, float, prefetch::none>(std::make_index_sequence<NR>{});
          alignas(64) float wide[kKChunk * P];
          simd::widen(w.panel(p) + k0 * P, wide, kc * P);
          run_tiles(wide, table);
        } else {
          static constexpr auto table = detail::make_tile_table<float, float, prefetch::ahead>(
              std::make_index_sequence<NR>{});
          run_tiles(w.panel(p) + k0 * P, table);
        }
      }
    }
  };
  run_tasks(split.tasks(), [&](std::size_t t) {
    const auto [blk, p0, p1] = split(t);
    run_block(blk, p0, p1);
  });
}

// The body of conv1x1, instantiated only for arguments that passed its static_asserts.
template <class AT, class OT, class W, class VX, class VY, class Epi>
void conv1x1_run(const W& w, const VX& x, const VY& y, const Epi& epilogue,
                 runtime::thread_pool* pool) {
  conv1x1_check(w, x, y, epilogue);

  using WT = typename W::storage_type;
  constexpr std::size_t P = detail::kPanelRows;
  constexpr std::size_t NR = detail::kTileCols;

  const std::size_t cout = w.cout();
  const std::size_t threads = pool == nullptr ? 1 : pool->size();

  // The epilogue of one tile (columns s0 .. s0+cols of panel p, batch b; [column][channel]).
  auto finish = [&](std::size_t b, std::size_t p, std::size_t s0, std::size_t cols, float* tile) {
    store_tile<1, P, OT>(cout, y, epilogue, b, p, s0, cols, cols * P, tile);
  };
  auto run_tasks = task_runner(pool);

  // Weights with a tile product and enough columns: AMX tiles (arch/amx/conv1x1.hpp), where the
  // build has them and the OS grants them.
  if constexpr (arch::kAmx && has_amx_product_v<WT>) {
    if (conv1x1_uses_amx<WT>(x.b() * x.s())) {
      amx::conv1x1<AT, typename weight_storage<WT>::amx_product>(
          w, x, threads, kTasksPerThread, run_tasks, amx_finish_rows<OT>(cout, y, epilogue));
      return;
    }
  }

  if constexpr (weight_storage<WT>::lane_k > 1) {
    // bf16 and int8 panels: one dot product per lane of input channels (conv1x1_dot.hpp).
    dot::conv1x1<P, NR, AT>(w, x, threads, kTasksPerThread, run_tasks, finish);
  } else {
    conv1x1_fma<AT>(w, x, threads, run_tasks, finish);
  }
}

// Whether conv1x1's static checks pass for these argument types.
template <class W, class In, class Out>
constexpr bool conv1x1_args_valid() noexcept {
  using LIn = typename tensor_traits_t<In>::layout_type;
  using LOut = typename tensor_traits_t<Out>::layout_type;
  return is_conv1x1_weights_v<W> && bc1s_layout<LIn> && bc1s_layout<LOut> &&
         !std::is_const_v<typename tensor_traits_t<Out>::element_type>;
}

// N weights of one shape seen by the AMX driver as one weight of N times the panels.
template <class W, std::size_t N>
struct stacked_weights {
  static constexpr std::size_t kPanelRows = W::kPanelRows;
  const std::array<const W*, N>& w;
  std::size_t each;  // panels per weight
  std::size_t cin() const noexcept { return w[0]->cin(); }
  std::size_t num_panels() const noexcept { return N * each; }
  auto panel(std::size_t p) const noexcept { return w[p / each]->panel(p % each); }
  const float* panel_bias(std::size_t p) const noexcept {
    return w[p / each]->panel_bias(p % each);
  }
};
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
  if constexpr (detail::conv1x1_args_valid<W, In, Out>()) {
    detail::conv1x1_run<AT, OT>(w, as_view(in), as_view(out), epilogue, pool);
  }
}

// One input through N weights of one shape: outs[i] = *ws[i] * in + bias_i (the query, key and
// value projections of an attention block). Each output is exactly what
// conv1x1(*ws[i], in, outs[i]) gives. On the AMX path it is one call: the input is packed once
// and the N weights' panels are shared out over the threads as one list (distilbert's q, k, v at
// S = 128 on 2 threads: 3 x 234 us apart, 629 us as one 2304 x 768 conv); elsewhere it is N calls.
template <class W, class In, class Out, std::size_t N>
void conv1x1_stacked(const std::array<const W*, N>& ws, const In& in,
                     const std::array<Out, N>& outs, runtime::thread_pool* pool = nullptr) {
  static_assert(N >= 1, "bc1s::conv1x1_stacked: expected at least one weight");
  if constexpr (arch::kAmx && detail::conv1x1_args_valid<W, In, Out>()) {
    using AT = typename tensor_traits_t<In>::value_type;
    using OT = typename tensor_traits_t<Out>::value_type;
    using WT = typename W::storage_type;
    const auto x = as_view(in);
    if constexpr (has_amx_product_v<WT>) {
      if (N > 1 && conv1x1_uses_amx<WT>(x.b() * x.s())) {
        for (std::size_t i = 0; i < N; ++i) {
          if (ws[i] == nullptr) detail::throw_kernel("conv1x1_stacked", "null weight pointer");
          detail::conv1x1_check(*ws[i], x, as_view(outs[i]), epi::bias_only{});
          if (ws[i]->cout() != ws[0]->cout()) {
            detail::throw_kernel("conv1x1_stacked",
                                 "expected weights of one shape; weight 0 has Cout = " +
                                     std::to_string(ws[0]->cout()) + ", weight " +
                                     std::to_string(i) + " " + std::to_string(ws[i]->cout()));
          }
        }
        const std::size_t cout = ws[0]->cout(), each = ws[0]->num_panels();
        const epi::bias_only epilogue;
        const std::size_t threads = pool == nullptr ? 1 : pool->size();
        // Panel p is panel p % each of output p / each.
        detail::amx::conv1x1<AT, typename weight_storage<WT>::amx_product>(
            detail::stacked_weights<W, N>{ws, each}, x, threads, detail::kTasksPerThread,
            detail::task_runner(pool),
            [&](std::size_t b, std::size_t p, std::size_t s0, std::size_t cols, float* rows) {
              detail::amx_finish_rows<OT>(cout, as_view(outs[p / each]), epilogue)(b, p % each, s0,
                                                                                   cols, rows);
            });
        return;
      }
    }
  }
  for (std::size_t i = 0; i < N; ++i) {
    if (ws[i] == nullptr) detail::throw_kernel("conv1x1_stacked", "null weight pointer");
    conv1x1(*ws[i], in, outs[i], epi::bias_only{}, pool);
  }
}

}  // namespace bc1s
