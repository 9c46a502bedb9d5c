/* The head-budget reader: cJSON parses, then every field of spec section 6 is validated before
 * anything is used, and against the model when one is given. A bad file is refused with a
 * message naming the file, the field and (for head records) the head; unknown and duplicate
 * keys are refused too, so that a misspelt optional field is not silently ignored. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget_internal.h"
#include "select/policy.h"
#include "status_internal.h"

#define MAX_FILE_BYTES (64u << 20) /* far above any real budget: ~100 bytes a head */
#define MAX_LAYERS 4096
#define MAX_HEADS 4096
#define MAX_TOKENS_POS (1 << 30) /* sink and window: positions fit an int32 */

/* The context of one read: the file's name for messages. */
typedef struct reader {
    const char *file;
} reader;

static tca_status bad(const reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static tca_status bad(const reader *r, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tca_fail(TCA_ERR_FORMAT, "budget %s: %s", r->file, msg);
}

/* Every key of obj must be in `allowed` (NULL-terminated) and appear once. */
static tca_status check_keys(const reader *r, const cJSON *obj, const char *where, const char *const *allowed) {
    for (const cJSON *c = obj->child; c; c = c->next) {
        int known = 0;
        for (const char *const *a = allowed; *a; a++) known |= strcmp(c->string, *a) == 0;
        if (!known) return bad(r, "%s: unknown key \"%s\"", where, c->string);
        for (const cJSON *d = obj->child; d != c; d = d->next)
            if (strcmp(c->string, d->string) == 0) return bad(r, "%s: key \"%s\" appears twice", where, c->string);
    }
    return TCA_OK;
}

/* A number field; *present = 0 and TCA_OK when absent and optional. */
static tca_status get_num(const reader *r, const cJSON *obj, const char *key, const char *where, int required,
                          double *out, int *present) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (present) *present = v != NULL;
    if (!v) return required ? bad(r, "%s%s is missing", where, key) : TCA_OK;
    if (!cJSON_IsNumber(v)) return bad(r, "%s%s is not a number", where, key);
    if (!isfinite(v->valuedouble)) return bad(r, "%s%s is not a finite number", where, key);
    *out = v->valuedouble;
    return TCA_OK;
}

/* A required integer in [lo, hi]. */
static tca_status get_int(const reader *r, const cJSON *obj, const char *key, const char *where, int64_t lo,
                          int64_t hi, int64_t *out) {
    double d = 0;
    tca_status s = get_num(r, obj, key, where, 1, &d, NULL);
    if (s) return s;
    if (d != floor(d) || d < (double)lo || d > (double)hi)
        return bad(r, "%s%s is %.17g, not an integer in %lld..%lld", where, key, d, (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return TCA_OK;
}

/* A string field copied into buf[cap]; absent and optional leaves buf as it is. */
static tca_status get_str(const reader *r, const cJSON *obj, const char *key, const char *where, int required,
                          char *buf, size_t cap) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return required ? bad(r, "%s%s is missing", where, key) : TCA_OK;
    if (!cJSON_IsString(v)) return bad(r, "%s%s is not a string", where, key);
    if (strlen(v->valuestring) >= cap)
        return bad(r, "%s%s is longer than %zu bytes", where, key, cap - 1);
    strcpy(buf, v->valuestring);
    return TCA_OK;
}

/* A numeric array of exactly n finite entries into out. */
static tca_status get_nums(const reader *r, const cJSON *v, const char *key, const char *where, int n,
                           int block, double *out) {
    if (!cJSON_IsArray(v)) return bad(r, "%s%s is not an array", where, key);
    const int got = cJSON_GetArraySize(v);
    if (got != n) return bad(r, "%s%s has %d entries, block size %d needs %d", where, key, got, block, n);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return bad(r, "%s%s[%d] is not a finite number", where, key, i);
        out[i] = e->valuedouble;
    }
    return TCA_OK;
}

static void line_col(const char *json, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (json[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static tca_status read_model(const reader *r, const cJSON *root, const tca_model *m, tca_budget *b) {
    static const char *const keys[] = {"arch", "name", "n_layer", "n_head", "n_head_kv", "head_dim", "fingerprint", NULL};
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!mo) return bad(r, "model is missing");
    if (!cJSON_IsObject(mo)) return bad(r, "model is not an object");
    tca_status s = check_keys(r, mo, "model", keys);
    int64_t n_layer, n_head, n_head_kv, head_dim;
    if (s || (s = get_str(r, mo, "arch", "model.", 1, b->arch, sizeof b->arch)) ||
        (s = get_str(r, mo, "name", "model.", 0, b->name, sizeof b->name)) ||
        (s = get_int(r, mo, "n_layer", "model.", 1, MAX_LAYERS, &n_layer)) ||
        (s = get_int(r, mo, "n_head", "model.", 1, MAX_HEADS, &n_head)) ||
        (s = get_int(r, mo, "n_head_kv", "model.", 1, MAX_HEADS, &n_head_kv)) ||
        (s = get_int(r, mo, "head_dim", "model.", 1, 1 << 16, &head_dim)) ||
        (s = get_str(r, mo, "fingerprint", "model.", 1, b->fingerprint, sizeof b->fingerprint)))
        return s;
    if (strlen(b->fingerprint) != 16 || strspn(b->fingerprint, "0123456789abcdef") != 16)
        return bad(r, "model.fingerprint \"%s\" is not 16 lowercase hex digits", b->fingerprint);
    if (n_head % n_head_kv)
        return bad(r, "model.n_head %lld is not a multiple of model.n_head_kv %lld", (long long)n_head,
                   (long long)n_head_kv);
    b->n_layer = (int)n_layer;
    b->n_head = (int)n_head;
    b->n_head_kv = (int)n_head_kv;
    b->head_dim = (int)head_dim;
    if (!m) return TCA_OK;

    const tca_hparams *hp = tca_model_hparams(m);
    if (strcmp(b->arch, hp->arch_name))
        return bad(r, "model.arch is \"%s\" but the model is \"%s\"", b->arch, hp->arch_name);
    const struct {
        const char *field;
        int file, model;
    } dims[] = {{"n_layer", b->n_layer, hp->n_layer},
                {"n_head", b->n_head, hp->n_head},
                {"n_head_kv", b->n_head_kv, hp->n_head_kv},
                {"head_dim", b->head_dim, hp->head_dim}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i].file != dims[i].model)
            return bad(r, "model.%s is %d but the model has %d", dims[i].field, dims[i].file, dims[i].model);
    char fp[17];
    tca_model_fingerprint(m, fp);
    if (strcmp(fp, b->fingerprint))
        return bad(r, "model.fingerprint is %s but the model's is %s (the budget is for a file with other "
                      "tensors: another model, size or quantisation)", b->fingerprint, fp);
    return TCA_OK;
}

static tca_status read_selection(const reader *r, const cJSON *root, tca_budget *b) {
    int64_t block, sink, window;
    tca_status s;
    if ((s = get_int(r, root, "block_size", "", 2, 64, &block))) return s;
    if (!tca_budget_block_ok((int)block)) return bad(r, "block_size %lld is not a power of two in 2..64", (long long)block);
    if ((s = get_int(r, root, "sink", "", 0, MAX_TOKENS_POS, &sink)) ||
        (s = get_int(r, root, "window", "", 0, MAX_TOKENS_POS, &window)))
        return s;
    if (window % block)
        return bad(r, "window %lld is not a multiple of block_size %lld", (long long)window, (long long)block);
    b->block = (int)block;
    b->sink = (int)sink;
    b->window = (int)window;

    char name[32] = "";
    if ((s = get_str(r, root, "scorer", "", 1, name, sizeof name))) return s;
    if (!strcmp(name, "block-last"))
        b->scorer = TCA_SCORER_BLOCK_LAST;
    else if (!strcmp(name, "prompt-last"))
        b->scorer = TCA_SCORER_PROMPT_LAST;
    else
        return bad(r, "scorer is \"%s\", not \"block-last\" or \"prompt-last\"", name);
    strcpy(name, "entropy");
    if ((s = get_str(r, root, "redundancy", "", 0, name, sizeof name))) return s;
    if (!strcmp(name, "entropy"))
        b->redundancy = TCA_REDUNDANCY_ENTROPY;
    else if (!strcmp(name, "mass"))
        b->redundancy = TCA_REDUNDANCY_MASS;
    else
        return bad(r, "redundancy is \"%s\", not \"entropy\" or \"mass\"", name);
    /* block mass exists only for the prompt-last scorer (spec 4.2): refuse rather than ignore */
    if (b->redundancy == TCA_REDUNDANCY_MASS && b->scorer != TCA_SCORER_PROMPT_LAST)
        return bad(r, "redundancy \"mass\" needs scorer \"prompt-last\"");
    return TCA_OK;
}

static tca_status read_calibration(const reader *r, const cJSON *root, tca_budget *b) {
    static const char *const keys[] = {"text", "tokens", "mode", "target", NULL};
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "calibration");
    if (!c) return TCA_OK;
    if (!cJSON_IsObject(c)) return bad(r, "calibration is not an object");
    tca_status s = check_keys(r, c, "calibration", keys);
    if (s || (s = get_str(r, c, "text", "calibration.", 0, b->calib_text, sizeof b->calib_text)) ||
        (s = get_str(r, c, "mode", "calibration.", 0, b->calib_mode, sizeof b->calib_mode)))
        return s;
    if (cJSON_GetObjectItemCaseSensitive(c, "tokens") &&
        (s = get_int(r, c, "tokens", "calibration.", 0, INT64_C(1) << 40, &b->calib_tokens)))
        return s;
    int present;
    double target;
    if ((s = get_num(r, c, "target", "calibration.", 0, &target, &present))) return s;
    if (present) {
        if (target < 0) return bad(r, "calibration.target %.17g is negative", target);
        b->calib_target = target;
    }
    return TCA_OK;
}

static tca_status read_head(const reader *r, const cJSON *e, int i, tca_budget *b, int *seen) {
    static const char *const keys[] = {"layer", "kv_head", "mu", "sigma", "p", "thresholds", "keep", "err", NULL};
    char where[96];
    snprintf(where, sizeof where, "heads[%d]", i);
    if (!cJSON_IsObject(e)) return bad(r, "%s is not an object", where);
    tca_status s = check_keys(r, e, where, keys);
    snprintf(where, sizeof where, "heads[%d]: ", i);
    int64_t layer, kv;
    if (s || (s = get_int(r, e, "layer", where, 0, b->n_layer - 1, &layer)) ||
        (s = get_int(r, e, "kv_head", where, 0, b->n_head_kv - 1, &kv)))
        return s;
    const int idx = (int)layer * b->n_head_kv + (int)kv;
    if (seen[idx])
        return bad(r, "heads[%d]: a second record for layer %lld, kv_head %lld (the first is heads[%d])", i,
                   (long long)layer, (long long)kv, seen[idx] - 1);
    seen[idx] = i + 1;
    snprintf(where, sizeof where, "heads[%d] (layer %lld, kv_head %lld): ", i, (long long)layer, (long long)kv);

    tca_head_budget *h = &b->heads[idx];
    h->layer = (int)layer;
    h->kv_head = (int)kv;
    if ((s = get_num(r, e, "mu", where, 1, &h->mu, NULL)) || (s = get_num(r, e, "sigma", where, 1, &h->sigma, NULL)))
        return s;
    if (!(h->sigma > 0)) return bad(r, "%ssigma is %.17g, not > 0", where, h->sigma);

    const int nc = tca_n_counts(b->block);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "p");
    if (!p) return bad(r, "%sp is missing", where);
    if ((s = get_nums(r, p, "p", where, nc, b->block, h->p))) return s;
    double sum = 0;
    for (int c = 0; c < nc; c++) {
        if (!(h->p[c] >= 0 && h->p[c] <= 1)) return bad(r, "%sp[%d] is %.17g, not in [0, 1]", where, c, h->p[c]);
        sum += h->p[c];
    }
    if (fabs(sum - 1) > 1e-6) return bad(r, "%sp sums to %.9g, not 1", where, sum);

    const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "thresholds");
    if (t) {
        if ((s = get_nums(r, t, "thresholds", where, nc - 1, b->block, h->thresholds))) return s;
        for (int c = 0; c < nc - 1; c++) {
            if (h->thresholds[c] < 0 || h->thresholds[c] > b->block + 1)
                return bad(r, "%sthresholds[%d] is %.17g, not in [0, %d]", where, c, h->thresholds[c], b->block + 1);
            if (c && h->thresholds[c] < h->thresholds[c - 1])
                return bad(r, "%sthresholds decrease: thresholds[%d] = %.17g < thresholds[%d] = %.17g", where, c,
                           h->thresholds[c], c - 1, h->thresholds[c - 1]);
        }
        h->has_thresholds = 1;
    }
    int present;
    h->keep = -1;
    h->err = -1;
    if ((s = get_num(r, e, "keep", where, 0, &h->keep, &present))) return s;
    if (present && !(h->keep >= 0 && h->keep <= 1)) return bad(r, "%skeep is %.17g, not in [0, 1]", where, h->keep);
    if ((s = get_num(r, e, "err", where, 0, &h->err, &present))) return s;
    if (present && !(h->err >= 0)) return bad(r, "%serr is %.17g, not >= 0", where, h->err);
    return TCA_OK;
}

static tca_status read_heads(const reader *r, const cJSON *root, tca_budget *b) {
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(root, "heads");
    if (!hs) return bad(r, "heads is missing");
    if (!cJSON_IsArray(hs)) return bad(r, "heads is not an array");
    const int n = b->n_layer * b->n_head_kv;
    int *seen = calloc((size_t)n, sizeof *seen); /* per (layer, kv_head): 1 + its record's index */
    if (!seen) return tca_fail(TCA_ERR_NOMEM, "budget %s: out of memory", r->file);
    tca_status s = TCA_OK;
    int i = 0;
    for (const cJSON *e = hs->child; e && !s; e = e->next, i++) s = read_head(r, e, i, b, seen);
    for (int k = 0; k < n && !s; k++)
        if (!seen[k])
            s = bad(r, "heads: no record for layer %d, kv_head %d (%d records for %d layers x %d kv heads)",
                    k / b->n_head_kv, k % b->n_head_kv, i, b->n_layer, b->n_head_kv);
    free(seen);
    return s;
}

/* Everything after the JSON syntax: root is a parsed object. */
static tca_status read_root(const reader *r, const cJSON *root, const tca_model *m, tca_budget **out) {
    static const char *const keys[] = {"format", "version", "model", "block_size", "sink", "window",
                                       "scorer", "redundancy", "calibration", "heads", NULL};
    tca_status s = check_keys(r, root, "top level", keys);
    if (s) return s;
    char format[32] = "";
    if ((s = get_str(r, root, "format", "", 1, format, sizeof format))) return s;
    if (strcmp(format, "tca-budget")) return bad(r, "format is \"%s\", not \"tca-budget\"", format);
    double version = 0;
    if ((s = get_num(r, root, "version", "", 1, &version, NULL))) return s;
    if (version != 1) return bad(r, "version is %.17g; this reader knows version 1 only", version);

    tca_budget hdr = {0};
    if ((s = read_model(r, root, m, &hdr))) return s;
    tca_budget *b = tca_budget_alloc(hdr.n_layer, hdr.n_head_kv);
    if (!b)
        return tca_fail(TCA_ERR_NOMEM, "budget %s: out of memory for %d x %d heads", r->file, hdr.n_layer,
                        hdr.n_head_kv);
    tca_head_budget *heads = b->heads;
    *b = hdr;
    b->heads = heads;
    b->calib_target = -1;
    if ((s = read_selection(r, root, b)) || (s = read_calibration(r, root, b)) || (s = read_heads(r, root, b))) {
        tca_budget_free(b);
        return s;
    }
    *out = b;
    return TCA_OK;
}

static tca_status parse(const reader *r, const char *json, size_t len, const tca_model *m, tca_budget **out) {
    *out = NULL;
    if (len == 0) return bad(r, "empty file, not a budget");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    int line, col;
    if (!root) {
        const size_t off = end ? (size_t)(end - json) : 0;
        line_col(json, off, &line, &col);
        return bad(r, "not valid JSON: parse error at byte %zu (line %d, column %d)%s", off, line, col,
                   off + 1 >= len ? ", where the text ends (truncated?)" : "");
    }
    size_t off = (size_t)(end - json);
    while (off < len && json[off] && strchr(" \t\r\n", json[off])) off++;
    tca_status s;
    if (off < len) {
        line_col(json, off, &line, &col);
        s = bad(r, "not valid JSON: more text after the top-level value at byte %zu (line %d, column %d)", off,
                line, col);
    } else if (!cJSON_IsObject(root)) {
        s = bad(r, "the top-level JSON value is not an object");
    } else {
        s = read_root(r, root, m, out);
    }
    cJSON_Delete(root);
    return s;
}

tca_status tca_budget_parse(const char *json, size_t len, const tca_model *m, tca_budget **out) {
    const reader r = {"(in memory)"};
    return parse(&r, json, len, m, out);
}

tca_status tca_budget_load(const char *path, const tca_model *m, tca_budget **out) {
    *out = NULL;
    const reader r = {path};
    FILE *f = fopen(path, "rb");
    if (!f) return tca_fail(TCA_ERR_IO, "budget %s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    tca_status s = TCA_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_FILE_BYTES) {
                s = bad(&r, "larger than %u MiB, not a budget file", MAX_FILE_BYTES >> 20);
                break;
            }
            cap = cap ? cap * 2 : 65536;
            char *t = realloc(buf, cap);
            if (!t) {
                s = tca_fail(TCA_ERR_NOMEM, "budget %s: out of memory reading it", path);
                break;
            }
            buf = t;
        }
        const size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) s = tca_fail(TCA_ERR_IO, "budget %s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!s) s = parse(&r, buf, len, m, out);
    free(buf);
    return s;
}
