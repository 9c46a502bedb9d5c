/* checkasm-style test of the dequantisation variants against the reference kernels.
 *
 * For every ISA level this build and CPU have (tca_kernels_fill), every type whose entry differs
 * from ref is run on random blocks and compared bit for bit with ref:
 *   - counts of 1, 2, 3, 7, 15, 17, 33, 64 blocks (F16: elements, so vector tails are hit),
 *   - f16 scale fields random finite, 0, -0, the smallest subnormal, the largest finite value,
 *     negative random, or a per-block mix of these,
 *   - src at a random byte offset (0..63) and dst at a random float offset (0..15),
 *   - canary floats before and after dst that must be untouched.
 * NaN outputs (only from F16 inputs that are NaN) compare equal to any NaN: hardware f16
 * converters quieten signalling NaNs, and the contract does not fix NaN payloads.
 * With TCA_ISA set, it also checks that tca_kernels_active() honours it (or reports the
 * fallback through tca_kernels_isa_forced_ok) and tests the active table against ref.
 * Seed: TCA_TEST_SEED (default fixed), printed at the start and with every failure.
 * Needs no files, no Python and no threads, so it runs under qemu-aarch64 too. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"

#define GUARD 16         /* canary floats on each side of dst */
#define MAX_SRC_OFF 64   /* src misalignment in bytes */
#define MAX_DST_OFF 16   /* dst misalignment in floats */
#define CANARY 0x7fc0dea5u

static uint64_t rng_state;
static uint64_t seed;
static int failures;

static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Byte offsets of the f16 scale fields in one block; -1 = none. F16 itself: the element. */
typedef struct { int off[2]; } scale_fields;

static scale_fields fields_of(int type) {
    switch (type) {
    case TCA_TYPE_F16: return (scale_fields){{0, -1}};
    case TCA_TYPE_Q4_0: return (scale_fields){{offsetof(tca_block_q4_0, d), -1}};
    case TCA_TYPE_Q4_1: return (scale_fields){{offsetof(tca_block_q4_1, d), offsetof(tca_block_q4_1, m)}};
    case TCA_TYPE_Q5_0: return (scale_fields){{offsetof(tca_block_q5_0, d), -1}};
    case TCA_TYPE_Q5_1: return (scale_fields){{offsetof(tca_block_q5_1, d), offsetof(tca_block_q5_1, m)}};
    case TCA_TYPE_Q8_0: return (scale_fields){{offsetof(tca_block_q8_0, d), -1}};
    case TCA_TYPE_Q2_K: return (scale_fields){{offsetof(tca_block_q2_K, d), offsetof(tca_block_q2_K, dmin)}};
    case TCA_TYPE_Q3_K: return (scale_fields){{offsetof(tca_block_q3_K, d), -1}};
    case TCA_TYPE_Q4_K: return (scale_fields){{offsetof(tca_block_q4_K, d), offsetof(tca_block_q4_K, dmin)}};
    case TCA_TYPE_Q5_K: return (scale_fields){{offsetof(tca_block_q5_K, d), offsetof(tca_block_q5_K, dmin)}};
    case TCA_TYPE_Q6_K: return (scale_fields){{offsetof(tca_block_q6_K, d), -1}};
    default: return (scale_fields){{-1, -1}}; /* F32, BF16, Q8_K: raw random bits */
    }
}

enum { MODE_RANDOM, MODE_ZERO, MODE_NEG_ZERO, MODE_SUBNORMAL, MODE_MAX, MODE_NEGATIVE, MODE_MIX, MODE_COUNT };
static const char *const mode_names[MODE_COUNT] = {"random", "zero", "-zero", "subnormal", "max", "negative", "mix"};

static uint16_t random_finite_f16(void) {
    uint16_t h = (uint16_t)rnd();
    if ((h & 0x7c00) == 0x7c00) h &= 0xbfff; /* inf/nan -> finite, same sign */
    return h;
}

static uint16_t scale_value(int mode) {
    if (mode == MODE_MIX) mode = (int)(rnd() % MODE_MIX);
    switch (mode) {
    case MODE_ZERO: return 0x0000;
    case MODE_NEG_ZERO: return 0x8000;
    case MODE_SUBNORMAL: return (uint16_t)(0x0001 | (rnd() & 0x8000));
    case MODE_MAX: return (uint16_t)(0x7bff | (rnd() & 0x8000));
    case MODE_NEGATIVE: return (uint16_t)(random_finite_f16() | 0x8000);
    default: return random_finite_f16();
    }
}

/* Random blocks with the scale fields set per mode. F16 in random mode also gets inf and NaN. */
static void fill_blocks(int type, uint8_t *src, int64_t blocks, int block_bytes, int mode) {
    for (int64_t i = 0; i < blocks * block_bytes; i++) src[i] = (uint8_t)rnd();
    const scale_fields f = fields_of(type);
    if (type == TCA_TYPE_F16 && mode == MODE_RANDOM) return;
    for (int64_t b = 0; b < blocks; b++)
        for (int k = 0; k < 2; k++)
            if (f.off[k] >= 0) {
                const uint16_t h = scale_value(mode);
                memcpy(src + b * block_bytes + f.off[k], &h, sizeof h);
            }
}

static int is_nan_bits(uint32_t u) { return (u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu); }

static void report_table(const char *isa, const char *type, const char *what) {
    failures++;
    fprintf(stderr, "FAIL %s %s: %s\n", isa, type, what);
}

static void report(const char *isa, const char *type, int64_t blocks, int mode, int src_off,
                   int dst_off, const char *what) {
    failures++;
    if (failures <= 20)
        fprintf(stderr, "FAIL %s %s: %" PRId64 " blocks, scales %s, src+%d dst+%d: %s (seed %" PRIu64
                        ", replay with TCA_TEST_SEED=%" PRIu64 ")\n",
                isa, type, blocks, mode_names[mode], src_off, dst_off, what, seed, seed);
}

/* Runs ref and the variant on the same blocks; checks canaries, then bits. */
static void check_case(const char *isa, const tca_type_traits *tr, tca_dequant_fn fn,
                       tca_dequant_fn ref_fn, int64_t blocks, int mode, const uint8_t *src,
                       int src_off, int dst_off, uint32_t *want, uint32_t *got) {
    const int64_t n = blocks * tr->block_elems;
    const int64_t total = GUARD + MAX_DST_OFF + n + GUARD;
    for (int64_t i = 0; i < total; i++) want[i] = got[i] = CANARY;
    ref_fn(src, (float *)(want + GUARD), n);
    fn(src, (float *)(got + GUARD + dst_off), n);

    for (int64_t i = 0; i < GUARD + dst_off; i++)
        if (got[i] != CANARY) {
            report(isa, tr->name, blocks, mode, src_off, dst_off, "wrote before dst[0]");
            return;
        }
    for (int64_t i = GUARD + dst_off + n; i < total; i++)
        if (got[i] != CANARY) {
            char msg[96];
            snprintf(msg, sizeof msg, "wrote dst[%" PRId64 "] past the end (n = %" PRId64 ")",
                     i - GUARD - dst_off, n);
            report(isa, tr->name, blocks, mode, src_off, dst_off, msg);
            return;
        }
    const uint32_t *g = got + GUARD + dst_off, *w = want + GUARD;
    for (int64_t i = 0; i < n; i++) {
        if (g[i] == w[i] || (is_nan_bits(g[i]) && is_nan_bits(w[i]))) continue;
        float gf, wf;
        memcpy(&gf, &g[i], 4);
        memcpy(&wf, &w[i], 4);
        char msg[160];
        snprintf(msg, sizeof msg, "dst[%" PRId64 "] (block %" PRId64 ") = %.9g (0x%08x), ref %.9g (0x%08x)",
                 i, i / tr->block_elems, gf, g[i], wf, w[i]);
        report(isa, tr->name, blocks, mode, src_off, dst_off, msg);
        return;
    }
}

/* One case at random src/dst offsets. want/got hold GUARD + MAX_DST_OFF + n + GUARD floats. */
static void run_case(const char *isa, int type, tca_dequant_fn fn, tca_dequant_fn ref_fn,
                     int64_t blocks, int mode, uint32_t *want, uint32_t *got) {
    const tca_type_traits *tr = tca_type_info((uint32_t)type);
    const int src_off = (int)(rnd() % MAX_SRC_OFF), dst_off = (int)(rnd() % MAX_DST_OFF);
    /* src ends exactly at the last block, so a sanitizer build catches reads past it */
    uint8_t *src_buf = malloc((size_t)(src_off + blocks * tr->block_bytes));
    if (!src_buf) {
        report_table(isa, tr->name, "out of memory");
        return;
    }
    uint8_t *src = src_buf + src_off;
    fill_blocks(type, src, blocks, tr->block_bytes, mode);
    check_case(isa, tr, fn, ref_fn, blocks, mode, src, src_off, dst_off, want, got);
    free(src_buf);
}

static const int64_t counts[] = {1, 2, 3, 7, 15, 17, 33, 64};
#define N_COUNTS (sizeof counts / sizeof counts[0])

/* Every type where k differs from ref, all counts and modes. Returns the number of variants. */
static int test_table(const tca_kernels *k, const tca_kernels *ref, uint32_t *want, uint32_t *got) {
    const char *isa = tca_isa_name(k->isa);
    int variants = 0, cases = 0;
    char names[256] = "";
    for (int t = 0; t < TCA_TYPE_COUNT; t++) {
        if (tca_type_info((uint32_t)t) == NULL) continue;
        if (k->dequant[t] == NULL) {
            report_table(isa, tca_type_info((uint32_t)t)->name, "no kernel in the table");
            continue;
        }
        if (k->dequant[t] == ref->dequant[t]) continue;
        variants++;
        snprintf(names + strlen(names), sizeof names - strlen(names), " %s", tca_type_info((uint32_t)t)->name);
        for (size_t c = 0; c < N_COUNTS; c++)
            for (int mode = 0; mode < MODE_COUNT; mode++) {
                run_case(isa, t, k->dequant[t], ref->dequant[t], counts[c], mode, want, got);
                cases++;
            }
    }
    printf("%s: %d variant(s) x %zu counts x %d scale modes = %d cases vs ref:%s\n", isa, variants,
           N_COUNTS, MODE_COUNT, cases, variants ? names : " (none)");
    return variants;
}

int main(void) {
    const char *env_seed = getenv("TCA_TEST_SEED");
    seed = env_seed && *env_seed ? strtoull(env_seed, NULL, 10) : 20251129u;
    rng_state = seed;
    printf("test_dequant: seed %" PRIu64 "\n", seed);

    const int64_t max_blocks = counts[N_COUNTS - 1];
    const size_t nfloat = GUARD + MAX_DST_OFF + (size_t)max_blocks * TCA_QK_K + GUARD;
    uint32_t *want = malloc(nfloat * sizeof *want), *got = malloc(nfloat * sizeof *got);
    if (!want || !got) {
        fprintf(stderr, "FAIL: out of memory\n");
        return 1;
    }

    tca_kernels ref;
    if (tca_kernels_fill(TCA_ISA_REF, &ref) != 0) {
        fprintf(stderr, "FAIL: the ref level is not available\n");
        return 1;
    }
    for (int t = 0; t < TCA_TYPE_COUNT; t++)
        if (tca_type_info((uint32_t)t) && ref.dequant[t] == NULL)
            report_table("ref", tca_type_info((uint32_t)t)->name, "no reference kernel");

    printf("levels tested:");
    for (int isa = TCA_ISA_REF + 1; isa < TCA_ISA_COUNT; isa++) {
        tca_kernels k;
        if (tca_kernels_fill((tca_isa)isa, &k) == 0) printf(" %s", tca_isa_name((tca_isa)isa));
    }
    printf(" (others not built or not on this CPU)\n");
    for (int isa = TCA_ISA_REF + 1; isa < TCA_ISA_COUNT; isa++) {
        tca_kernels k;
        if (tca_kernels_fill((tca_isa)isa, &k) != 0) continue;
        if (k.isa != (tca_isa)isa) report_table(tca_isa_name((tca_isa)isa), "-", "table reports another level");
        test_table(&k, &ref, want, got);
    }

    const char *forced = getenv("TCA_ISA");
    if (forced && *forced) {
        const tca_kernels *active = tca_kernels_active();
        int want_isa = -1;
        for (int isa = 0; isa < TCA_ISA_COUNT; isa++) {
            tca_kernels k;
            if (strcmp(forced, tca_isa_name((tca_isa)isa)) == 0 && tca_kernels_fill((tca_isa)isa, &k) == 0)
                want_isa = isa;
        }
        if (want_isa >= 0 && (active->isa != (tca_isa)want_isa || !tca_kernels_isa_forced_ok()))
            report_table(forced, "-", "TCA_ISA names an available level but the active table differs");
        if (want_isa < 0 && tca_kernels_isa_forced_ok())
            report_table(forced, "-", "TCA_ISA names an unavailable level but forced_ok says 1");
        printf("TCA_ISA=%s: active level %s (%s)\n", forced, tca_isa_name(active->isa),
               want_isa >= 0 ? "as forced" : "fallback: level not available");
        test_table(active, &ref, want, got);
    }

    free(want);
    free(got);
    if (failures) {
        fprintf(stderr, "%d failure(s); seed %" PRIu64 "\n", failures, seed);
        return 1;
    }
    printf("all bit-exact\n");
    return 0;
}
