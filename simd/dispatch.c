#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernels.h"
#include "tca_config.h"

static const char *const isa_names[TCA_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};

const char *tca_isa_name(tca_isa isa) {
    return (unsigned)isa < TCA_ISA_COUNT ? isa_names[isa] : "?";
}

static int isa_available(tca_isa isa) {
    const tca_cpu_features *f = tca_cpu_detect();
    switch (isa) {
    case TCA_ISA_REF: return 1;
    case TCA_ISA_AVX2: return TCA_HAVE_AVX2 && f->avx2 && f->fma && f->f16c;
    case TCA_ISA_AVX512:
        return TCA_HAVE_AVX512 && f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512bw &&
               f->avx512vl && f->avx512dq;
    case TCA_ISA_NEON: return TCA_HAVE_NEON && f->neon;
    default: return 0;
    }
}

int tca_kernels_fill(tca_isa isa, tca_kernels *k) {
    if (!isa_available(isa)) return -1;
    memset(k, 0, sizeof *k);
    tca_kernels_init_ref(k);
#if TCA_HAVE_AVX2
    if (isa == TCA_ISA_AVX2 || isa == TCA_ISA_AVX512) tca_kernels_upgrade_avx2(k);
#endif
#if TCA_HAVE_AVX512
    if (isa == TCA_ISA_AVX512) tca_kernels_upgrade_avx512(k);
#endif
#if TCA_HAVE_NEON
    if (isa == TCA_ISA_NEON) tca_kernels_upgrade_neon(k);
#endif
    k->isa = isa;
    return 0;
}

static tca_isa best_isa(void) {
    static const tca_isa order[] = {TCA_ISA_AVX512, TCA_ISA_AVX2, TCA_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (isa_available(order[i])) return order[i];
    return TCA_ISA_REF;
}

static tca_kernels active;
static int active_done;
static int forced_ok = 1;

const tca_kernels *tca_kernels_active(void) {
    if (!__atomic_load_n(&active_done, __ATOMIC_ACQUIRE)) {
        tca_isa isa = best_isa();
        const char *env = getenv("TCA_ISA");
        if (env && *env) {
            int found = 0;
            for (int i = 0; i < TCA_ISA_COUNT; i++)
                if (strcmp(env, isa_names[i]) == 0 && isa_available((tca_isa)i)) {
                    isa = (tca_isa)i;
                    found = 1;
                }
            forced_ok = found;
        }
        tca_kernels k;
        tca_kernels_fill(isa, &k);
        active = k;
        __atomic_store_n(&active_done, 1, __ATOMIC_RELEASE);
    }
    return &active;
}

int tca_kernels_isa_forced_ok(void) {
    tca_kernels_active();
    return forced_ok;
}
