/* Check macros shared by the C unit tests: a failed check prints where and what, counts in
 * `failures` and lets the test go on, so one run lists every failure; main exits non-zero
 * when `failures` is. One translation unit per test, hence the static counter. */
#ifndef TCA_TESTS_CHECK_H
#define TCA_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

#include "tca/tca.h"

static int failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

#define CHECK_OK(expr)                                                                       \
    do {                                                                                     \
        tca_status s_ = (expr);                                                              \
        if (s_ != TCA_OK) {                                                                  \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,              \
                    tca_status_str(s_), tca_last_error());                                   \
            failures++;                                                                      \
        }                                                                                    \
    } while (0)

/* A call expected to fail with `st` and a message containing `sub`. */
#define CHECK_FAIL(expr, st, sub)                                                            \
    do {                                                                                     \
        tca_status s_ = (expr);                                                              \
        if (s_ != (st) || !strstr(tca_last_error(), (sub))) {                                \
            fprintf(stderr, "%s:%d: %s -> %s '%s', expected %s with '%s'\n", __FILE__,       \
                    __LINE__, #expr, tca_status_str(s_), tca_last_error(),                   \
                    tca_status_str(st), (sub));                                              \
            failures++;                                                                      \
        }                                                                                    \
    } while (0)

#endif
