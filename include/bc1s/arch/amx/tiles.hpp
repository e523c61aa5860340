// Intel AMX (Advanced Matrix Extensions): whether this build and this process may use it.
//
// A build gets AMX code when the compiler targets it (-march=native on a Sapphire Rapids or later
// Xeon: __AMX_TILE__ and __AMX_BF16__). A process may then use it once Linux (5.16 or later) has
// granted it the tile state, which is asked for once, on first use. Where either is missing, or
// BC1S_AMX=0 is set in the environment, or set_amx_enabled(false) was called, the kernels take
// their AVX-512 / AVX2 paths, which give the same results to within fp32 rounding.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512F__) && \
    defined(__AVX512BW__) && defined(__linux__) && defined(__x86_64__)
#define BC1S_HAS_AMX 1
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#define BC1S_HAS_AMX 0
#endif

namespace bc1s::arch {

// Whether this build has the AMX paths (their use is then up to amx_enabled()).
inline constexpr bool kAmx = BC1S_HAS_AMX != 0;

namespace detail {
inline std::atomic<bool>& amx_switch() noexcept {
  static std::atomic<bool> on{true};
  return on;
}
}  // namespace detail

// Turns the AMX paths off (false) or back on (true) for the whole process; for A/B measurements
// and tests. Calls already running finish on the path they took.
inline void set_amx_enabled(bool on) noexcept {
  detail::amx_switch().store(on, std::memory_order_relaxed);
}

// True when the AMX paths will run: compiled in, granted by the OS, not turned off.
inline bool amx_enabled() noexcept {
#if BC1S_HAS_AMX
  static const bool granted = [] {
    if (const char* e = std::getenv("BC1S_AMX"); e != nullptr && std::strcmp(e, "0") == 0) {
      return false;
    }
    constexpr long kReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM
    constexpr long kXtileData = 18;         // XFEATURE_XTILEDATA
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
  }();
  return granted && detail::amx_switch().load(std::memory_order_relaxed);
#else
  return false;
#endif
}

#if BC1S_HAS_AMX
// Palette 1 with all eight tiles at their largest: 16 rows of 64 bytes.
struct alignas(64) amx_tile_config {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  std::uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// Loads the tile configuration on construction and releases the tile state on destruction (so
// that a thread done with AMX does not carry 8 KiB of tile state through context switches).
class amx_scope {
 public:
  amx_scope() noexcept {
    static const amx_tile_config cfg{};
    _tile_loadconfig(&cfg);
  }
  ~amx_scope() { _tile_release(); }
  amx_scope(const amx_scope&) = delete;
  amx_scope& operator=(const amx_scope&) = delete;
};
#endif

}  // namespace bc1s::arch
