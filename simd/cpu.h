/* CPU feature detection. x86: CPUID plus XGETBV, so that AVX/AVX-512 count only when the OS
 * saves the YMM/ZMM state on context switches. aarch64: getauxval(AT_HWCAP). */
#ifndef TCA_SIMD_CPU_H
#define TCA_SIMD_CPU_H

typedef struct tca_cpu_features {
    int avx2, fma, f16c;                  /* AVX2 level needs all three */
    int avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16, avx512fp16;
    int neon, asimddp;                    /* aarch64: NEON, SDOT/UDOT */
} tca_cpu_features;

/* Detected once, then cached; thread-safe after the first call returns. */
const tca_cpu_features *tca_cpu_detect(void);

#endif
