/* Option values of the tca commands, checked the same way everywhere. */
#ifndef TCA_TOOLS_CLI_ARGS_H
#define TCA_TOOLS_CLI_ARGS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* 1 when v is a whole decimal integer in [lo, hi] (stored in *out); otherwise says why on stderr
 * and returns -1. A missing value (v NULL, the option was last) is an error too. */
static inline int cli_long(const char *opt, const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "tca: %s expects an integer in [%ld, %ld], got '%s'\n", opt, lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 1;
}

#endif
