// CPU feature report, and the guard that stops a binary built for a newer ISA with a clear
// message instead of SIGILL.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bc1s::runtime {

// True when the CPU has `name`. BC1S_PRETEND_MISSING=<feature> simulates a CPU without it (for
// testing the guard on machines that have everything).
__attribute__((target("arch=x86-64"))) inline bool cpu_has(const char* name) noexcept {
  if (const char* fake = std::getenv("BC1S_PRETEND_MISSING");
      fake && std::strcmp(fake, name) == 0) {
    return false;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (std::strcmp(name, "avx2") == 0) return __builtin_cpu_supports("avx2");
  if (std::strcmp(name, "fma") == 0) return __builtin_cpu_supports("fma");
  if (std::strcmp(name, "avx") == 0) return __builtin_cpu_supports("avx");
  if (std::strcmp(name, "avx512f") == 0) return __builtin_cpu_supports("avx512f");
  if (std::strcmp(name, "avx512bw") == 0) return __builtin_cpu_supports("avx512bw");
  if (std::strcmp(name, "avx512vl") == 0) return __builtin_cpu_supports("avx512vl");
  if (std::strcmp(name, "avx512dq") == 0) return __builtin_cpu_supports("avx512dq");
  if (std::strcmp(name, "f16c") == 0) {
    unsigned a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    return (c >> 29) & 1u;
  }
#endif
  (void)name;
  return true;
}

// Names of instruction-set extensions this binary was compiled for but the CPU lacks ("" if none).
// Plain C strings only: this runs before main(), and library code compiled with the build's own
// flags (std::string included) could already use the instructions being checked for.
struct isa_list {
  char text[128] = {};
};
__attribute__((target("arch=x86-64"))) inline isa_list missing_isa() noexcept {
  isa_list missing;
  auto need = [&missing](const char* n) __attribute__((target("arch=x86-64"))) {
    if (cpu_has(n)) return;
    if (missing.text[0] != 0)
      std::strncat(missing.text, " ", sizeof(missing.text) - std::strlen(missing.text) - 1);
    std::strncat(missing.text, n, sizeof(missing.text) - std::strlen(missing.text) - 1);
  };
  (void)need;
#if defined(__AVX__)
  need("avx");
#endif
#if defined(__AVX2__)
  need("avx2");
#endif
#if defined(__FMA__)
  need("fma");
#endif
#if defined(__F16C__)
  need("f16c");
#endif
#if defined(__AVX512F__)
  need("avx512f");
#endif
#if defined(__AVX512BW__)
  need("avx512bw");
#endif
#if defined(__AVX512VL__)
  need("avx512vl");
#endif
#if defined(__AVX512DQ__)
  need("avx512dq");
#endif
  return missing;
}

namespace detail {
// Runs before main() and before any kernel: a binary built with -mavx2 (or -march=native on a newer
// CPU) prints what is missing and exits instead of dying of SIGILL at the first vector instruction.
__attribute__((constructor(101), target("arch=x86-64"))) inline void check_isa_at_startup() {
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
