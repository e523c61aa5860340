// What the CPU has, per target: the instruction-set extensions this binary was compiled for, and
// a query of the running CPU for each (x86: CPUID through the compiler's builtins; Arm64: the
// kernel's HWCAP bits), for the guard in runtime/cpu.hpp. Also the spin-wait hint.
#pragma once

#include <cstring>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

// Functions that run before the CPU has been checked carry this: code generated for the baseline
// of the architecture, whatever the build's flags.
#if defined(__x86_64__) || defined(__i386__)
#define BC1S_BASELINE_CODE __attribute__((target("arch=x86-64")))
#else
#define BC1S_BASELINE_CODE
#endif

namespace bc1s::arch {

// The extensions the build's flags let the compiler use, by the names cpu_has_feature takes.
inline constexpr const char* kCompiledFeatures[] = {
#if defined(__AVX__)
    "avx",
#endif
#if defined(__AVX2__)
    "avx2",
#endif
#if defined(__FMA__)
    "fma",
#endif
#if defined(__F16C__)
    "f16c",
#endif
#if defined(__AVX512F__)
    "avx512f",
#endif
#if defined(__AVX512BW__)
    "avx512bw",
#endif
#if defined(__AVX512VL__)
    "avx512vl",
#endif
#if defined(__AVX512DQ__)
    "avx512dq",
#endif
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
    "asimdhp",
#endif
#if defined(__ARM_FEATURE_DOTPROD)
    "asimddp",
#endif
#if defined(__ARM_FEATURE_FP16_FML)
    "asimdfhm",
#endif
#if defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
    "bf16",
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
    "i8mm",
#endif
    nullptr,  // the end (and an array that is never empty)
};

// True when the running CPU has `name` (a name of kCompiledFeatures); true for names this target
// does not know.
BC1S_BASELINE_CODE inline bool cpu_has_feature(const char* name) noexcept {
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
#elif defined(__aarch64__) && defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  if (std::strcmp(name, "asimdhp") == 0) return (hw & HWCAP_ASIMDHP) != 0;
  if (std::strcmp(name, "asimddp") == 0) return (hw & HWCAP_ASIMDDP) != 0;
  if (std::strcmp(name, "asimdfhm") == 0) return (hw & HWCAP_ASIMDFHM) != 0;
  if (std::strcmp(name, "bf16") == 0) return (hw2 & HWCAP2_BF16) != 0;
  if (std::strcmp(name, "i8mm") == 0) return (hw2 & HWCAP2_I8MM) != 0;
#endif
  (void)name;
  return true;
}

// The spin-wait hint of the thread pool's workers (PAUSE, YIELD; nothing elsewhere).
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace bc1s::arch
