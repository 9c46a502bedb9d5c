/* The CUDA dequantisation kernels against the CPU reference kernels (simd/ref), bit for bit.
 *
 * Rows of random blocks (every finite f16 scale, subnormals included, and random quants) of
 * sizes from one block to more than one full grid of the kernel (so the grid-stride loop runs),
 * plus a row of edge blocks (zero, subnormal and extreme scales, extreme quants, inf/nan scales).
 * Outputs must match bitwise; where the reference gives NaN the GPU must give NaN too, but not
 * necessarily the same payload (GPU arithmetic returns a canonical NaN). A canary after each
 * output catches writes past n. The source is placed at an odd address, which the host glue
 * must accept. Exits 77 (skipped) when no CUDA device is usable.
 *
 * TCA_TEST_SEED=N replays a run (the seed is printed). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "tca_cuda.h"

#define CANARY 16         /* floats after each output */
#define CANARY_BITS 0x7fc0dead

static uint64_t rng_state;

static uint64_t rng(void) { /* splitmix64: tiny, good enough, reproducible everywhere */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Random finite f16 bits: any sign, exponent 0..30 (zero and subnormals included), any mantissa. */
static tca_f16 rand_f16_finite(void) {
    uint16_t h = (uint16_t)rng();
    return (h & 0x7c00) == 0x7c00 ? (uint16_t)(h & ~0x4000) : h;
}

static void put_f16(uint8_t *p, tca_f16 h) { memcpy(p, &h, sizeof h); }

/* Fills nb blocks of `type` with random content; edge != 0 cycles through edge scales and quants. */
static void fill_blocks(uint32_t type, uint8_t *src, int64_t nb, int edge) {
    static const tca_f16 edge_scales[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0xbc00,
                                          0x7bff, 0xfbff, 0x1400, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfe00};
    const int nedge = (int)(sizeof edge_scales / sizeof edge_scales[0]);
    const int bsz = tca_type_info(type)->block_bytes;
    for (int64_t i = 0; i < nb; i++) {
        uint8_t *b = src + i * bsz;
        for (int j = 0; j < bsz; j++) b[j] = (uint8_t)rng();
        tca_f16 d = edge ? edge_scales[i % nedge] : rand_f16_finite();
        tca_f16 m = edge ? edge_scales[(i / nedge + 3 * i) % nedge] : rand_f16_finite();
        if (type == TCA_TYPE_Q8_0) {
            put_f16(b + offsetof(tca_block_q8_0, d), d);
            if (edge) { /* the extreme quants -128, -1, 0, 1, 127 in every edge block */
                static const int8_t q[] = {-128, -1, 0, 1, 127};
                for (int j = 0; j < 5; j++) b[offsetof(tca_block_q8_0, qs) + (size_t)j * 7] = (uint8_t)q[j];
            }
        } else {
            put_f16(b + offsetof(tca_block_q4_1, d), d);
            put_f16(b + offsetof(tca_block_q4_1, m), m);
            if (edge) { /* nibbles 0 and 15 in both halves */
                b[offsetof(tca_block_q4_1, qs) + 0] = 0x00;
                b[offsetof(tca_block_q4_1, qs) + 1] = 0xff;
                b[offsetof(tca_block_q4_1, qs) + 2] = 0x0f;
                b[offsetof(tca_block_q4_1, qs) + 3] = 0xf0;
            }
        }
    }
}

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int is_nan_bits(uint32_t u) { return (u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu) != 0; }

/* One row: returns the number of failures (0 = pass). */
static int check_row(const tca_kernels *ref, uint32_t type, int64_t nb, int edge, uint64_t seed) {
    const tca_type_traits *t = tca_type_info(type);
    const int64_t n = nb * t->block_elems;
    const int64_t bytes = tca_type_row_bytes(type, n);
    uint8_t *raw = malloc((size_t)bytes + 1);
    float *want = malloc((size_t)n * sizeof(float));
    float *got = malloc((size_t)(n + CANARY) * sizeof(float));
    if (!raw || !want || !got) {
        fprintf(stderr, "FAIL: out of host memory for %" PRId64 " elements\n", n);
        free(raw), free(want), free(got);
        return 1;
    }
    uint8_t *src = raw + 1; /* odd address: the contract allows any alignment on the host side */
    fill_blocks(type, src, nb, edge);
    ref->dequant[type](src, want, n);
    const uint32_t canary = CANARY_BITS;
    for (int64_t i = 0; i < n + CANARY; i++) memcpy(&got[i], &canary, 4);

    int fails = 0;
    tca_status s = tca_cuda_dequant(type, src, n, got);
    if (s != TCA_OK) {
        fprintf(stderr, "FAIL: %s n=%" PRId64 ": %s: %s\n", t->name, n, tca_status_str(s), tca_last_error());
        free(raw), free(want), free(got);
        return 1;
    }
    for (int64_t i = 0; i < n; i++) {
        uint32_t w = bits_of(want[i]), g = bits_of(got[i]);
        if (w == g || (is_nan_bits(w) && is_nan_bits(g))) continue;
        if (fails++ < 8)
            fprintf(stderr, "FAIL: %s n=%" PRId64 "%s seed=%" PRIu64 ": element %" PRId64
                    " (block %" PRId64 "): gpu %.9g (0x%08x), ref %.9g (0x%08x)\n",
                    t->name, n, edge ? " (edge blocks)" : "", seed, i, i / t->block_elems,
                    (double)got[i], g, (double)want[i], w);
    }
    for (int i = 0; i < CANARY; i++) {
        if (bits_of(got[n + i]) != canary) {
            fprintf(stderr, "FAIL: %s n=%" PRId64 ": wrote past the end (float %d after the row)\n", t->name, n, i);
            fails++;
            break;
        }
    }
    free(raw), free(want), free(got);
    return fails;
}

/* Bad arguments are refused with the documented status, without touching dst. */
static int check_errors(void) {
    int fails = 0;
    uint8_t src[64] = {0};
    float dst[32];
    const uint32_t canary = CANARY_BITS;
    for (int i = 0; i < 32; i++) memcpy(&dst[i], &canary, 4);
    struct { uint32_t type; int64_t n; tca_status want; const char *what; } cases[] = {
        {TCA_TYPE_Q8_0, 31, TCA_ERR_ARG, "n not a multiple of 32"},
        {TCA_TYPE_Q4_1, -32, TCA_ERR_ARG, "negative n"},
        {TCA_TYPE_Q4_K, 256, TCA_ERR_UNSUPPORTED, "a type without a CUDA kernel"},
        {4, 32, TCA_ERR_UNSUPPORTED, "an unknown type id"},
        {TCA_TYPE_Q8_0, 0, TCA_OK, "n == 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tca_status s = tca_cuda_dequant(cases[i].type, src, cases[i].n, dst);
        if (s != cases[i].want) {
            fprintf(stderr, "FAIL: %s: status %s, expected %s (%s)\n", cases[i].what, tca_status_str(s),
                    tca_status_str(cases[i].want), tca_last_error());
            fails++;
        }
    }
    for (int i = 0; i < 32; i++)
        if (bits_of(dst[i]) != canary) {
            fprintf(stderr, "FAIL: a refused call wrote to dst\n");
            return fails + 1;
        }
    return fails;
}

int main(void) {
    int ndev = 0;
    tca_status s = tca_cuda_device_count(&ndev);
    if (s != TCA_OK || ndev == 0) {
        printf("SKIP: no usable CUDA device: %s\n", tca_last_error());
        return 77;
    }
    tca_cuda_device dev;
    if ((s = tca_cuda_device_get(0, &dev)) != TCA_OK) {
        fprintf(stderr, "FAIL: device 0: %s\n", tca_last_error());
        return 1;
    }
    printf("device 0 of %d: %s, compute capability %d.%d, %d SMs, %.1f GiB\n", ndev, dev.name, dev.cc_major,
           dev.cc_minor, dev.sm_count, (double)dev.global_mem / (1u << 30));

    const char *env = getenv("TCA_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 10) : 20261129u;
    rng_state = seed;
    printf("seed %" PRIu64 " (TCA_TEST_SEED replays)\n", seed);

    tca_kernels ref;
    if (tca_kernels_fill(TCA_ISA_REF, &ref) != 0) {
        fprintf(stderr, "FAIL: no reference kernel table\n");
        return 1;
    }
    /* Block counts: tiny and odd sizes, then 625001 blocks = 20000032 elements, more than the
     * kernel's largest grid (65536 blocks x 256 threads), so the grid-stride loop is exercised. */
    static const int64_t nblocks[] = {1, 3, 7, 33, 1025, 625001};
    static const uint32_t types[] = {TCA_TYPE_Q8_0, TCA_TYPE_Q4_1};
    int fails = 0, rows = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        if (ref.dequant[types[ti]] == NULL || !tca_cuda_dequant_supported(types[ti])) {
            fprintf(stderr, "FAIL: %s: missing reference or CUDA kernel\n", tca_type_info(types[ti])->name);
            fails++;
            continue;
        }
        for (size_t i = 0; i < sizeof nblocks / sizeof nblocks[0]; i++, rows++)
            fails += check_row(&ref, types[ti], nblocks[i], 0, seed);
        fails += check_row(&ref, types[ti], 64, 1, seed);
        rows++;
    }
    fails += check_errors();
    if (fails) {
        fprintf(stderr, "%d failure(s)\n", fails);
        return 1;
    }
    printf("ok: %d rows of Q8_0 and Q4_1 bit-identical to the reference, argument checks pass\n", rows);
    return 0;
}
