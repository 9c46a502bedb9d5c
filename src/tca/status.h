/* Status codes, error text and the log callback. The library never prints and never exits:
 * fallible functions return a tca_status, and the message naming the problem is kept per
 * thread for tca_last_error(). */
#ifndef TCA_STATUS_H
#define TCA_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tca_status {
    TCA_OK = 0,
    TCA_ERR_IO,          /* open/read/mmap failed */
    TCA_ERR_FORMAT,      /* malformed input: GGUF, budget file, text */
    TCA_ERR_UNSUPPORTED, /* well-formed but not supported: architecture, tensor type, version */
    TCA_ERR_NOT_FOUND,   /* a key, tensor or file that is not there */
    TCA_ERR_NOMEM,
    TCA_ERR_ARG,         /* bad argument from the caller */
    TCA_ERR_RANGE,       /* a value out of its range, e.g. a prompt longer than the context */
    TCA_ERR_INTERNAL
} tca_status;

/* Short fixed text for a code ("malformed input", ...). */
const char *tca_status_str(tca_status s);

/* The message of the last failure on this thread ("gguf: tensor 'x' data out of bounds ..."),
 * or "" when none. Valid until the next failing call on the same thread. */
const char *tca_last_error(void);

enum { TCA_LOG_ERROR = 0, TCA_LOG_WARN = 1, TCA_LOG_INFO = 2, TCA_LOG_DEBUG = 3 };
typedef void (*tca_log_fn)(int level, const char *msg, void *user);

/* Installs the log callback (NULL: silent, the default). Not thread-safe against logging calls. */
void tca_set_log(tca_log_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
