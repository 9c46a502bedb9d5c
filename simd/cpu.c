#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdint.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

static void detect(tca_cpu_features *f) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    int fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return;
    uint64_t xcr0 = xgetbv0();
    int ymm_ok = (xcr0 & 0x6) == 0x6;        /* SSE and AVX state saved by the OS */
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;      /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    if (!ymm_ok) return;
    if (__get_cpuid_max(0, 0) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = (b >> 5) & 1;
    f->fma = fma;
    f->f16c = f16c;
    if (zmm_ok) {
        f->avx512f = (b >> 16) & 1;
        f->avx512dq = (b >> 17) & 1;
        f->avx512bw = (b >> 30) & 1;
        f->avx512vl = (b >> 31) & 1;
        f->avx512vnni = (c >> 11) & 1;
        f->avx512fp16 = (d >> 23) & 1;
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        f->avx512bf16 = (a1 >> 5) & 1;
        (void)b1; (void)c1; (void)d1;
    }
}
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
static void detect(tca_cpu_features *f) {
    unsigned long hw = getauxval(AT_HWCAP);
    f->neon = (hw & HWCAP_ASIMD) != 0;
    f->asimddp = (hw & HWCAP_ASIMDDP) != 0;
}
#else
static void detect(tca_cpu_features *f) { (void)f; }
#endif

const tca_cpu_features *tca_cpu_detect(void) {
    static tca_cpu_features features;
    static int done;
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        tca_cpu_features f = {0};
        detect(&f);
        features = f; /* idempotent: racing first callers write the same bytes */
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    return &features;
}
