/* Seconds on a clock, for the progress lines and timings of the tools and benchmarks. */
#ifndef TCA_TOOLS_WALL_CLOCK_H
#define TCA_TOOLS_WALL_CLOCK_H

#include <time.h>

static inline double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Monotonic wall-clock seconds: differences are elapsed time, unaffected by clock changes. */
static inline double now_s(void) { return clock_seconds(CLOCK_MONOTONIC); }

#endif
