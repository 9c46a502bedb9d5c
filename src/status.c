#include <stdarg.h>
#include <stdio.h>

#include "status_internal.h"

static _Thread_local char last_error[512];
static tca_log_fn log_fn;
static void *log_user;

const char *tca_status_str(tca_status s) {
    switch (s) {
    case TCA_OK: return "ok";
    case TCA_ERR_IO: return "i/o error";
    case TCA_ERR_FORMAT: return "malformed input";
    case TCA_ERR_UNSUPPORTED: return "unsupported";
    case TCA_ERR_NOT_FOUND: return "not found";
    case TCA_ERR_NOMEM: return "out of memory";
    case TCA_ERR_ARG: return "bad argument";
    case TCA_ERR_RANGE: return "out of range";
    case TCA_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *tca_last_error(void) { return last_error; }

tca_status tca_fail(tca_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

void tca_set_log(tca_log_fn fn, void *user) {
    log_fn = fn;
    log_user = user;
}

void tca_log(int level, const char *fmt, ...) {
    if (!log_fn) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_user);
}
