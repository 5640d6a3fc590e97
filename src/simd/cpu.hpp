// Which vector width a kernel runs at: the widest this CPU has, chosen once at run time, so one
// binary runs everywhere (x86-64 baseline: SSE2) and uses AVX2 or AVX-512BW where they exist.
// Kernels take a Width so that tests can hold every width the CPU has to the same answers.
#pragma once

namespace dumpguard::simd {

enum class Width { sse2, avx2, avx512 };

inline bool cpu_has(Width width) {
#if defined(__x86_64__)
  switch (width) {
    case Width::sse2: return true;
    case Width::avx2: return __builtin_cpu_supports("avx2");
    case Width::avx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }
#else
  (void)width;
#endif
  return false;
}

inline Width best_width() {
  static const Width best = cpu_has(Width::avx512) ? Width::avx512 : cpu_has(Width::avx2) ? Width::avx2 : Width::sse2;
  return best;
}

}  // namespace dumpguard::simd
