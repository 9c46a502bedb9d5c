/* Runs src/select/policy.c functions on cases read from stdin, one per line, and prints one
 * result line per case, for check_policy.py to compare with tests/reference/tca_ref.py.
 * Doubles travel as C99 hex floats (%a, Python's float.hex) so that nothing is lost in decimal;
 * redundancies are floats (strtof of a float's hex form is exact).
 *
 *   lg B MU SIGMA               -> p[0..nc)
 *   core B P..                  -> rho
 *   blocks B S W L              -> first last
 *   wck B S W L P..             -> whole-cache keep
 *   mu B S W L KEEP SIGMA       -> "ok MU P.." (p at that mu) | "refused STATUS"
 *   quota B N P..               -> quota[0..nc)
 *   assign B N P.. RED[0..N)    -> counts[0..N)
 *   thr B N P.. E[0..N)         -> thr[0..nc-1) | counts from thresholds | counts from assign
 *   cft B THR[0..nc-1) E        -> tca_count_from_thresholds */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select/policy.h"

static char *next_tok(void) { return strtok(NULL, " \t\n"); }

static int64_t next_i(void) {
    const char *t = next_tok();
    if (!t) {
        fprintf(stderr, "policy_cli: missing argument\n");
        exit(2);
    }
    return strtoll(t, NULL, 10);
}

static double next_d(void) {
    const char *t = next_tok();
    if (!t) {
        fprintf(stderr, "policy_cli: missing argument\n");
        exit(2);
    }
    return strtod(t, NULL);
}

static float next_f(void) {
    const char *t = next_tok();
    if (!t) {
        fprintf(stderr, "policy_cli: missing argument\n");
        exit(2);
    }
    return strtof(t, NULL);
}

static void print_ds(const double *v, int n) {
    for (int i = 0; i < n; i++) printf("%s%a", i ? " " : "", v[i]);
}

static void print_counts(const int32_t *c, int64_t n) {
    for (int64_t i = 0; i < n; i++) printf(" %d", c[i]);
}

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        const char *cmd = strtok(line, " \t\n");
        if (!cmd) continue;
        const int b = (int)next_i();
        const int nc = tca_n_counts(b);
        double p[TCA_MAX_COUNTS];
        if (!strcmp(cmd, "lg")) {
            const double mu = next_d(), sigma = next_d();
            tca_log_gaussian(b, mu, sigma, p);
            print_ds(p, nc);
        } else if (!strcmp(cmd, "core")) {
            for (int i = 0; i < nc; i++) p[i] = next_d();
            printf("%a", tca_core_ratio(b, p));
        } else if (!strcmp(cmd, "cft")) {
            for (int i = 0; i < nc - 1; i++) p[i] = next_d();
            const float e = next_f();
            printf("%d", tca_count_from_thresholds(b, p, e));
        } else if (!strcmp(cmd, "blocks") || !strcmp(cmd, "wck") || !strcmp(cmd, "mu")) {
            const int s = (int)next_i(), w = (int)next_i();
            const int64_t L = next_i();
            if (!strcmp(cmd, "blocks")) {
                int64_t first, last;
                tca_compressible_blocks(b, s, w, L, &first, &last);
                printf("%" PRId64 " %" PRId64, first, last);
            } else if (!strcmp(cmd, "wck")) {
                for (int i = 0; i < nc; i++) p[i] = next_d();
                printf("%a", tca_whole_cache_keep(b, s, w, L, p));
            } else {
                const double keep = next_d(), sigma = next_d();
                double mu;
                tca_status st = tca_uniform_mu(b, s, w, L, keep, sigma, &mu);
                if (st == TCA_OK) {
                    printf("ok %a ", mu);
                    tca_log_gaussian(b, mu, sigma, p);
                    print_ds(p, nc);
                } else {
                    printf("refused %s", tca_status_str(st));
                }
            }
        } else {
            const int64_t n = next_i();
            for (int i = 0; i < nc; i++) p[i] = next_d();
            if (!strcmp(cmd, "quota")) {
                int64_t q[TCA_MAX_COUNTS];
                tca_count_quota(b, p, n, q);
                for (int i = 0; i < nc; i++) printf("%s%" PRId64, i ? " " : "", q[i]);
            } else {
                float *e = malloc(((size_t)n + 1) * sizeof *e), *sorted = malloc(((size_t)n + 1) * sizeof *sorted);
                int32_t *counts = malloc(((size_t)n + 1) * sizeof *counts);
                int64_t *order = malloc(((size_t)n + 1) * sizeof *order);
                if (!e || !sorted || !counts || !order) return 3;
                for (int64_t j = 0; j < n; j++) e[j] = next_f();
                /* canary: a count written past n would show as a changed sentinel */
                counts[n] = -7;
                tca_assign_counts(b, p, e, n, counts, order);
                if (!strcmp(cmd, "assign")) {
                    printf("counts");
                    print_counts(counts, n);
                } else {
                    double thr[TCA_MAX_COUNTS - 1];
                    tca_thresholds_from(b, p, e, n, thr, sorted);
                    print_ds(thr, nc - 1);
                    printf(" |");
                    for (int64_t j = 0; j < n; j++) printf(" %d", tca_count_from_thresholds(b, thr, e[j]));
                    printf(" |");
                    print_counts(counts, n);
                }
                if (counts[n] != -7) printf(" CANARY");
                free(e);
                free(sorted);
                free(counts);
                free(order);
            }
        }
        printf("\n");
    }
    free(line);
    return 0;
}
