// CPU feature report, and the guard that stops a binary built for a newer ISA with a clear
// message instead of SIGILL.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bc1s/arch/cpu.hpp"

namespace bc1s::runtime {

// True when the CPU has `name` (a name of arch::kCompiledFeatures). BC1S_PRETEND_MISSING=<feature>
// simulates a CPU without it (for testing the guard on machines that have everything).
BC1S_BASELINE_CODE inline bool cpu_has(const char* name) noexcept {
  if (const char* fake = std::getenv("BC1S_PRETEND_MISSING");
      fake && std::strcmp(fake, name) == 0) {
    return false;
  }
  return arch::cpu_has_feature(name);
}

// Names of instruction-set extensions this binary was compiled for but the CPU lacks ("" if none).
// Plain C strings only: this runs before main(), and library code compiled with the build's own
// flags (std::string included) could already use the instructions being checked for.
struct isa_list {
  char text[128] = {};
};
BC1S_BASELINE_CODE inline isa_list missing_isa() noexcept {
  isa_list missing;
  for (const char* const* f = arch::kCompiledFeatures; *f != nullptr; ++f) {
    if (cpu_has(*f)) continue;
    if (missing.text[0] != 0)
      std::strncat(missing.text, " ", sizeof(missing.text) - std::strlen(missing.text) - 1);
    std::strncat(missing.text, *f, sizeof(missing.text) - std::strlen(missing.text) - 1);
  }
  return missing;
}

namespace detail {
// Runs before main() and before any kernel: a binary built with -mavx2 (or -march=native on a newer
// CPU) prints what is missing and exits instead of dying of SIGILL at the first vector instruction.
BC1S_BASELINE_CODE __attribute__((constructor(101))) inline void check_isa_at_startup() {
  const isa_list missing = missing_isa();
  if (missing.text[0] != 0) {
    std::fprintf(stderr,
                 "bc1s: this binary was compiled for CPU features this machine lacks: %s.\n"
                 "bc1s: rebuild with -DBC1S_ARCH=portable (or -march=native on this machine).\n",
                 missing.text);
    std::_Exit(70);
  }
}
}  // namespace detail

}  // namespace bc1s::runtime
