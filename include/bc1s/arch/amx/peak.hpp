// Register-resident loop of AMX TDPBF16PS, for runtime/peak.hpp: four accumulator tiles, each fed
// by its own pair of operand tiles in turn.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bc1s/arch/amx/tiles.hpp"

namespace bc1s::arch::amx {

#if BC1S_HAS_AMX
// 16 x 16 outputs x 32 products each, 4 instructions per iteration.
inline constexpr double kBf16TileFlop = 4.0 * 16 * 16 * 32 * 2;
inline double bf16_tile_loop(std::size_t iters) {
  alignas(64) static const std::uint16_t ones[16 * 32] = {};
  alignas(64) float out[16 * 16];
  amx_scope scope;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, ones, 64);
  _tile_loadd(5, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_loadd(7, ones, 64);
  for (std::size_t it = 0; it < iters; ++it) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  return static_cast<double>(out[0]);
}
#endif

}  // namespace bc1s::arch::amx
