/* The arithmetic of TCA selection policy (../shared/docs/tca-spec.md sections 2 and 4.2):
 * log-Gaussian retain-count distributions, which blocks are compressible, keep ratios, the
 * ranking that hands out retain counts at prefill, and the thresholds used in decode.
 * Library-internal; calibration and the selection driver both call these (nothing copied).
 * Every function here matches tests/reference/tca_ref.py (the oracle) exactly where that file
 * defines the same quantity. Retain counts are indexed ci = 0 .. n_counts-1 for k = 1 << ci. */
#ifndef TCA_SELECT_POLICY_H
#define TCA_SELECT_POLICY_H

#include <stdint.h>

#include "tca/budget.h"
#include "tca/status.h"

/* log2(block) + 1. */
int tca_n_counts(int block);

/* p[ci] = phi(ci) / sum phi, phi(x) = exp(-(x - mu)^2 / (2 sigma^2)) (tca_ref.log_gaussian). */
void tca_log_gaussian(int block, double mu, double sigma, double *p);

/* rho(p) = sum_ci p[ci] * (1 << ci) / block. */
double tca_core_ratio(int block, const double *p);

/* Blocks [*first, *last) of a sequence of L tokens lie entirely after the sink (rounded up to
 * whole blocks) and before the final `window` tokens (tca_ref.compressible_blocks);
 * *last == *first when there are none. */
void tca_compressible_blocks(int block, int sink, int window, int64_t L, int64_t *first, int64_t *last);

/* Whole-cache keep ratio at length L when every compressible block follows p's proportions
 * (tca_ref.whole_cache_keep): (L - n * block + sum of assigned counts) / L. */
double tca_whole_cache_keep(int block, int sink, int window, int64_t L, const double *p);

/* mu of the log-Gaussian with this sigma whose whole-cache keep ratio at L equals keep
 * (bisection, tca_ref.uniform_config). TCA_ERR_RANGE with a message when sink + window alone
 * exceed keep at L (or keep is not in (0, 1]). */
tca_status tca_uniform_mu(int block, int sink, int window, int64_t L, double keep, double sigma, double *mu);

/* How many of n blocks get each retain count: round(p[ci] * n) with largest-remainder rounding,
 * ties to the smaller count (tca_ref.assign_counts). quota has n_counts entries summing to n. */
void tca_count_quota(int block, const double *p, int64_t n, int64_t *quota);

/* Retain counts (k = 1, 2, ..., block, not indices) for n blocks with redundancies red[0..n):
 * blocks ranked by red ascending (ties: lower index first) take the quota in order, smallest
 * counts first (tca_ref.assign_counts). order: scratch of n int64. */
void tca_assign_counts(int block, const double *p, const float *red, int64_t n, int32_t *counts, int64_t *order);

/* Decode thresholds from observed redundancies e[0..n) (n >= 1): thr[i] (i < n_counts - 1) is the
 * cut between count indices i and i + 1 such that tca_count_from_thresholds reproduces the
 * ranking of tca_assign_counts on those e (up to ties): with c = the number of blocks that the
 * quota gives indices <= i and s = e sorted ascending, thr[i] = (s[c-1] + s[c]) / 2, 0 when c == 0,
 * block + 1 when c == n. sorted: scratch of n floats. */
void tca_thresholds_from(int block, const double *p, const float *e, int64_t n, double *thr, float *sorted);

/* Retain count (k, not index) for a block of redundancy e: 1 << (number of thr[i] <= e). */
int tca_count_from_thresholds(int block, const double *thr, float e);

#endif
