/* The head-budget writer: one function produces the JSON text, deterministically (fixed key
 * order, one head per line, each double in the shortest of %.15g/%.16g/%.17g that reads back to
 * the same bits), so that reader(writer(b)) == b and a re-write is byte-identical. Saving is
 * atomic (temp file in the same directory, then rename) and refuses a budget that the reader
 * would refuse, so a written file always loads. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "budget_internal.h"
#include "status_internal.h"

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->oom = 1;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->oom = 1; /* only short fixed formats come here */
        return;
    }
    sb_put(b, tmp, (size_t)n);
}

/* A JSON string: quote, backslash and control bytes escaped; other bytes (UTF-8) as they are. */
static void sb_str(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            sb_put(b, e, 2);
        } else if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

/* Shortest of %.15g, %.16g, %.17g that strtod reads back to the same double (%.17g always does),
 * so that 0.1 is written "0.1" and every value still round-trips exactly. Non-finite values have
 * no JSON form: null, which the reader refuses with the field's name. */
static void sb_num(sbuf *b, double v) {
    if (!isfinite(v)) {
        sb_put(b, "null", 4);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    /* a caller's locale may use ',' as the decimal point (strtod above agrees with it); JSON
     * needs '.' */
    for (char *c = tmp; *c; c++)
        if (*c == ',') *c = '.';
    sb_put(b, tmp, strlen(tmp));
}

static void sb_nums(sbuf *b, const double *v, int n) {
    sb_put(b, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i) sb_put(b, ", ", 2);
        sb_num(b, v[i]);
    }
    sb_put(b, "]", 1);
}

static const char *scorer_name(tca_scorer s) { return s == TCA_SCORER_PROMPT_LAST ? "prompt-last" : "block-last"; }

char *tca_budget_to_json(const tca_budget *bud) {
    sbuf b = {0};
    const int nc = tca_budget_n_counts(bud);
    sb_printf(&b, "{\n  \"format\": \"tca-budget\",\n  \"version\": 1,\n  \"model\": {\"arch\": ");
    sb_str(&b, bud->arch);
    sb_printf(&b, ", \"name\": ");
    sb_str(&b, bud->name);
    sb_printf(&b, ", \"n_layer\": %d, \"n_head\": %d, \"n_head_kv\": %d, \"head_dim\": %d, \"fingerprint\": ",
              bud->n_layer, bud->n_head, bud->n_head_kv, bud->head_dim);
    sb_str(&b, bud->fingerprint);
    sb_printf(&b, "},\n  \"block_size\": %d,\n  \"sink\": %d,\n  \"window\": %d,\n  \"scorer\": \"%s\",\n"
                  "  \"redundancy\": \"%s\",\n",
              bud->block, bud->sink, bud->window, scorer_name(bud->scorer),
              bud->redundancy == TCA_REDUNDANCY_MASS ? "mass" : "entropy");
    /* calibration: only what is known; the reader puts the same defaults back */
    if (bud->calib_text[0] || bud->calib_mode[0] || bud->calib_tokens || bud->calib_target >= 0) {
        const char *sep = "";
        sb_printf(&b, "  \"calibration\": {");
        if (bud->calib_text[0]) {
            sb_printf(&b, "\"text\": ");
            sb_str(&b, bud->calib_text);
            sep = ", ";
        }
        if (bud->calib_tokens) {
            sb_printf(&b, "%s\"tokens\": %" PRId64, sep, bud->calib_tokens);
            sep = ", ";
        }
        if (bud->calib_mode[0]) {
            sb_printf(&b, "%s\"mode\": ", sep);
            sb_str(&b, bud->calib_mode);
            sep = ", ";
        }
        if (bud->calib_target >= 0) {
            sb_printf(&b, "%s\"target\": ", sep);
            sb_num(&b, bud->calib_target);
        }
        sb_printf(&b, "},\n");
    }
    sb_printf(&b, "  \"heads\": [\n");
    const int n = bud->n_layer * bud->n_head_kv;
    for (int i = 0; i < n; i++) {
        const tca_head_budget *h = &bud->heads[i];
        sb_printf(&b, "    {\"layer\": %d, \"kv_head\": %d, \"mu\": ", h->layer, h->kv_head);
        sb_num(&b, h->mu);
        sb_printf(&b, ", \"sigma\": ");
        sb_num(&b, h->sigma);
        sb_printf(&b, ", \"p\": ");
        sb_nums(&b, h->p, nc);
        if (h->has_thresholds) {
            sb_printf(&b, ", \"thresholds\": ");
            sb_nums(&b, h->thresholds, nc - 1);
        }
        /* negative: not measured (-1 by convention), so not written */
        if (h->keep >= 0) {
            sb_printf(&b, ", \"keep\": ");
            sb_num(&b, h->keep);
        }
        if (h->err >= 0) {
            sb_printf(&b, ", \"err\": ");
            sb_num(&b, h->err);
        }
        sb_printf(&b, "}%s\n", i + 1 < n ? "," : "");
    }
    sb_printf(&b, "  ]\n}\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static tca_status write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return TCA_ERR_IO;
        }
        s += w;
        n -= (size_t)w;
    }
    return TCA_OK;
}

tca_status tca_budget_save(const tca_budget *b, const char *path) {
    if (b->method != TCA_METHOD_TCA)
        return tca_fail(TCA_ERR_ARG, "budget %s: not saved, a baseline (streaming, snapkv) has no file format", path);
    char *json = tca_budget_to_json(b);
    if (!json) return tca_fail(TCA_ERR_NOMEM, "budget %s: out of memory writing the JSON", path);
    const size_t len = strlen(json);
    tca_budget *check = NULL;
    tca_status s = tca_budget_parse(json, len, NULL, &check);
    if (s) {
        char why[400];
        snprintf(why, sizeof why, "%s", tca_last_error());
        free(json);
        return tca_fail(s, "budget %s: not saved, the reader would refuse it: %s", path, why);
    }
    tca_budget_free(check);

    /* the temp file lives next to the target so that rename() is atomic (same file system);
     * O_EXCL + pid + counter: concurrent savers never share one, and umask applies as usual */
    static atomic_uint counter;
    char *tmp = malloc(strlen(path) + 48);
    if (!tmp) {
        free(json);
        return tca_fail(TCA_ERR_NOMEM, "budget %s: out of memory", path);
    }
    sprintf(tmp, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        s = tca_fail(TCA_ERR_IO, "budget %s: cannot create %s: %s", path, tmp, strerror(errno));
        free(tmp);
        free(json);
        return s;
    }
    s = write_all(fd, json, len);
    const char *what = "write";
    if (!s && fsync(fd)) s = TCA_ERR_IO, what = "fsync";
    if (close(fd) && !s) s = TCA_ERR_IO, what = "close";
    if (!s && rename(tmp, path)) s = TCA_ERR_IO, what = "rename";
    if (s) {
        const int e = errno;
        unlink(tmp);
        s = tca_fail(TCA_ERR_IO, "budget %s: %s of %s failed: %s", path, what, tmp, strerror(e));
    }
    free(tmp);
    free(json);
    return s;
}
