/* Shared loop nest of the qgemm variants (matmul.h): every ISA file supplies register tiles
 * that compute an R x M block of outputs (R weight rows x M activation rows, R <= 4, M <= 4)
 * over the whole row length, and this driver walks the output with them.
 *
 * Order: a chunk of `rchunk` weight rows (sized by the caller to stay in L2) is swept by every
 * group of M activation rows before the next chunk, so each weight byte is read from memory once
 * and from cache m / M times, while the M activation rows of a tile stay in L1/L2 across the
 * chunk's R-row tiles. Tails use the narrower tiles (R = 1, M < Mmax), so every shape is exact. */
#ifndef TCA_SIMD_MATMUL_DRIVE_H
#define TCA_SIMD_MATMUL_DRIVE_H

#include <stddef.h>
#include <stdint.h>

/* y[i * ldy + r] for r < R, i < M; w: R rows at stride ws; x: M rows at stride xs; n elements. */
typedef void (*tca_tile_fn)(const uint8_t *w, size_t ws, const uint8_t *x, size_t xs, float *y,
                            int64_t ldy, int64_t n);

typedef struct tca_tile_set {
    tca_tile_fn t[4][4]; /* [R - 1][M - 1]; t[0][M - 1] and t[rmax[M - 1] - 1][M - 1] must exist */
    int rmax[4];         /* the widest R tile for each M */
    int mmax;            /* the widest M (1..4) */
} tca_tile_set;

static inline void tca_qgemm_drive(const tca_tile_set *ts, int64_t rchunk, const void *w,
                                   size_t ws, const void *xq, size_t xs, float *y, int64_t ldy,
                                   int64_t rows, int64_t m, int64_t n) {
    const uint8_t *wb = w, *xb = xq;
    for (int64_t r0 = 0; r0 < rows; r0 += rchunk) {
        const int64_t rc = rows - r0 < rchunk ? rows - r0 : rchunk;
        for (int64_t i0 = 0; i0 < m; i0 += ts->mmax) {
            const int mt = m - i0 < ts->mmax ? (int)(m - i0) : ts->mmax;
            const int rt = ts->rmax[mt - 1];
            const uint8_t *x = xb + (size_t)i0 * xs;
            float *yt = y + i0 * ldy + r0;
            int64_t r = 0;
            for (; r + rt <= rc; r += rt)
                ts->t[rt - 1][mt - 1](wb + (size_t)(r0 + r) * ws, ws, x, xs, yt + r, ldy, n);
            for (; r < rc; r++) ts->t[0][mt - 1](wb + (size_t)(r0 + r) * ws, ws, x, xs, yt + r, ldy, n);
        }
    }
}

/* Declares the tiles (1, M) for M <= 4, (4, 1), and (RW, M) for 2 <= M <= MMAX of
 * BODY(R, M, w, ws, x, xs, y, ldy, n) (an always-inline function), and a tile set `name` that
 * uses (4, 1) for M = 1 (decode: four weight streams in flight) and RW x M (RW = 1 or 2,
 * MMAX = 3 or 4) otherwise: the register budget decides RW and MMAX per ISA and type. */
#define TCA_TILE_FN(name, BODY, R, M)                                                              \
    static void name##_##R##x##M(const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,         \
                                 float *y, int64_t ldy, int64_t n) {                               \
        BODY(R, M, w, ws, x, xs, y, ldy, n);                                                       \
    }
#define TCA_TILE_SET_RM(name, BODY, RW, MMAX)                                                      \
    TCA_TILE_FN(name, BODY, 1, 1)                                                                  \
    TCA_TILE_FN(name, BODY, 4, 1)                                                                  \
    TCA_TILE_FN(name, BODY, 1, 2)                                                                  \
    TCA_TILE_FN(name, BODY, 1, 3)                                                                  \
    TCA_TILE_FN(name, BODY, 1, 4)                                                                  \
    TCA_TILE_FN(name, BODY, 2, 2)                                                                  \
    TCA_TILE_FN(name, BODY, 2, 3)                                                                  \
    TCA_TILE_FN(name, BODY, 2, 4)                                                                  \
    static const tca_tile_set name = {                                                             \
        .t = {{name##_1x1, name##_1x2, name##_1x3, name##_1x4},                                    \
              {NULL, name##_2x2, name##_2x3, name##_2x4},                                          \
              {NULL, NULL, NULL, NULL},                                                            \
              {name##_4x1, NULL, NULL, NULL}},                                                     \
        .rmax = {4, RW, RW, RW},                                                                   \
        .mmax = MMAX,                                                                              \
    };
#define TCA_TILE_SET(name, BODY) TCA_TILE_SET_RM(name, BODY, 2, 4)

#endif
