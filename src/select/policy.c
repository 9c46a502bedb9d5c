/* Selection policy arithmetic (policy.h). Every function mirrors tests/reference/tca_ref.py
 * operation by operation, in the same order, so that the integer results (blocks, quotas,
 * retain counts) are identical and the floating-point ones agree to the last bit wherever the
 * C library's exp agrees with numpy's. */
#include "select/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"

int tca_n_counts(int block) {
    int n = 1;
    while ((1 << (n - 1)) < block) n++;
    return n;
}

void tca_log_gaussian(int block, double mu, double sigma, double *p) {
    const int nc = tca_n_counts(block);
    double w[TCA_MAX_COUNTS];
    /* numpy sums arrays shorter than 8 left to right; so do we, for the same rounding */
    double sum = 0.0;
    for (int ci = 0; ci < nc; ci++) {
        const double d = (double)ci - mu;
        w[ci] = exp(-(d * d) / (2 * sigma * sigma));
        sum += w[ci];
    }
    for (int ci = 0; ci < nc; ci++) p[ci] = w[ci] / sum;
}

double tca_core_ratio(int block, const double *p) {
    const int nc = tca_n_counts(block);
    double s = 0.0;
    for (int ci = 0; ci < nc; ci++) s += p[ci] * (double)(1 << ci);
    return s / block;
}

void tca_compressible_blocks(int block, int sink, int window, int64_t L, int64_t *first, int64_t *last) {
    const int64_t f = ((int64_t)sink + block - 1) / block; /* sink >= 0: the sink in whole blocks */
    /* L < window: no block (the oracle floors a negative quotient; any value <= f gives f) */
    const int64_t l = L > window ? (L - window) / block : 0;
    *first = f;
    *last = l > f ? l : f;
}

void tca_count_quota(int block, const double *p, int64_t n, int64_t *quota) {
    const int nc = tca_n_counts(block);
    double frac[TCA_MAX_COUNTS];
    int64_t rest = n;
    for (int ci = 0; ci < nc; ci++) {
        const double q = p[ci] * (double)n;
        const double f = floor(q);
        quota[ci] = (int64_t)f;
        frac[ci] = q - f;
        rest -= quota[ci];
    }
    /* Largest remainder: the `rest` entries with the largest fractional parts get one more,
     * ties to the smaller retain count. For p summing to 1, 0 <= rest < nc. */
    int taken[TCA_MAX_COUNTS] = {0};
    for (int64_t r = 0; r < rest && r < nc; r++) {
        int best = -1;
        for (int ci = 0; ci < nc; ci++)
            if (!taken[ci] && (best < 0 || frac[ci] > frac[best])) best = ci;
        taken[best] = 1;
        quota[best]++;
    }
    /* Only a p that does not sum to 1 (beyond what budget validation lets through) leaves a
     * difference here; it goes to the largest counts, so that every block still gets a count
     * and the selection errs towards keeping tokens. The oracle has no such case. */
    int64_t diff = n;
    for (int ci = 0; ci < nc; ci++) diff -= quota[ci];
    if (diff > 0) quota[nc - 1] += diff;
    for (int ci = nc - 1; ci >= 0 && diff < 0; ci--) {
        const int64_t t = quota[ci] < -diff ? quota[ci] : -diff;
        quota[ci] -= t;
        diff += t;
    }
}

double tca_whole_cache_keep(int block, int sink, int window, int64_t L, const double *p) {
    int64_t first, last, quota[TCA_MAX_COUNTS];
    tca_compressible_blocks(block, sink, window, L, &first, &last);
    const int64_t n = last - first;
    const int nc = tca_n_counts(block);
    tca_count_quota(block, p, n, quota);
    int64_t kept = 0;
    for (int ci = 0; ci < nc; ci++) kept += quota[ci] << ci;
    return (double)(L - n * block + kept) / (double)L;
}

tca_status tca_uniform_mu(int block, int sink, int window, int64_t L, double keep, double sigma, double *mu) {
    if (!(keep > 0.0 && keep <= 1.0))
        return tca_fail(TCA_ERR_RANGE, "uniform budget: keep ratio %g is not in (0, 1]", keep);
    if (!(sigma > 0.0) || !isfinite(sigma))
        return tca_fail(TCA_ERR_RANGE, "uniform budget: sigma %g is not a positive number", sigma);
    if (L < 1) return tca_fail(TCA_ERR_RANGE, "uniform budget: sequence length %lld < 1", (long long)L);
    double p[TCA_MAX_COUNTS];
    double lo = -4.0, hi = log2((double)block) + 4.0;
    tca_log_gaussian(block, lo, sigma, p);
    /* 1e-9: the oracle's slack, so that a request exactly at the floor is accepted */
    const double floor_keep = tca_whole_cache_keep(block, sink, window, L, p);
    if (floor_keep > keep + 1e-9)
        return tca_fail(TCA_ERR_RANGE,
                        "uniform budget: keep %g is below what sink %d + window %d hold at length %lld "
                        "(at least %.4f)", keep, sink, window, (long long)L, floor_keep);
    for (int it = 0; it < 60; it++) {
        const double mid = (lo + hi) / 2;
        tca_log_gaussian(block, mid, sigma, p);
        if (tca_whole_cache_keep(block, sink, window, L, p) < keep)
            lo = mid;
        else
            hi = mid;
    }
    *mu = (lo + hi) / 2;
    return TCA_OK;
}

/* A float's bits mapped to an unsigned integer with the same order (-0 folded onto +0, so that
 * equal values compare equal and fall back to the index, as in Python). */
static uint32_t float_order_key(float x) {
    if (x == 0.0f) x = 0.0f;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static int cmp_u64(const void *a, const void *b) {
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void tca_assign_counts(int block, const double *p, const float *red, int64_t n, int32_t *counts, int64_t *order) {
    if (n <= 0) return;
    const int nc = tca_n_counts(block);
    int64_t quota[TCA_MAX_COUNTS];
    tca_count_quota(block, p, n, quota);
    /* Rank by (redundancy, index) with one integer sort: the key's high half orders by value,
     * the low half by block index (n < 2^32 blocks: 2^37 tokens at b = 32). */
    uint64_t *key = (uint64_t *)order;
    for (int64_t j = 0; j < n; j++) key[j] = ((uint64_t)float_order_key(red[j]) << 32) | (uint64_t)j;
    qsort(key, (size_t)n, sizeof *key, cmp_u64);
    int64_t pos = 0;
    for (int ci = 0; ci < nc; ci++)
        for (int64_t t = 0; t < quota[ci]; t++, pos++) counts[key[pos] & 0xffffffffu] = 1 << ci;
}

static int cmp_float(const void *a, const void *b) {
    const uint32_t x = float_order_key(*(const float *)a), y = float_order_key(*(const float *)b);
    return (x > y) - (x < y);
}

void tca_thresholds_from(int block, const double *p, const float *e, int64_t n, double *thr, float *sorted) {
    const int nc = tca_n_counts(block);
    if (n <= 0) {
        /* nothing observed: every cut at 0, so every block keeps all its tokens */
        for (int i = 0; i < nc - 1; i++) thr[i] = 0.0;
        return;
    }
    int64_t quota[TCA_MAX_COUNTS];
    tca_count_quota(block, p, n, quota);
    memcpy(sorted, e, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_float);
    int64_t c = 0;
    for (int i = 0; i < nc - 1; i++) {
        c += quota[i];
        if (c == 0)
            thr[i] = 0.0;
        else if (c >= n)
            thr[i] = block + 1.0;
        else /* exact: the sum of two floats and its halving are exact in double */
            thr[i] = ((double)sorted[c - 1] + (double)sorted[c]) / 2;
    }
}

int tca_count_from_thresholds(int block, const double *thr, float e) {
    const int nc = tca_n_counts(block);
    int ci = 0;
    for (int i = 0; i < nc - 1; i++) ci += thr[i] <= (double)e;
    return 1 << ci;
}
