/* Library-internal helpers for errors and logging (not part of the public API). */
#ifndef TCA_STATUS_INTERNAL_H
#define TCA_STATUS_INTERNAL_H

#include "tca/status.h"

/* Records a formatted message as this thread's last error and returns `s`, so that callers
 * write `return tca_fail(TCA_ERR_FORMAT, "gguf: bad magic %08x", m);`. */
tca_status tca_fail(tca_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void tca_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
