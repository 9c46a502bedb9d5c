/* Accessors over a validated tca_gguf (see tca/gguf.h). The parser has checked every size and
 * offset, so these only index; they still check their own arguments (index ranges, NULL). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gguf_internal.h"
#include "quant.h"
#include "status_internal.h"

static const char *kv_name_of(const void *ctx, int64_t i) {
    return ((const tca_gguf *)ctx)->kv[i].key;
}

static const char *tensor_name_of(const void *ctx, int64_t i) {
    return ((const tca_gguf *)ctx)->tensors[i].name;
}

uint32_t tca_gguf_version(const tca_gguf *g) { return g ? g->version : 0; }
uint64_t tca_gguf_file_size(const tca_gguf *g) { return g ? g->size : 0; }
uint32_t tca_gguf_alignment(const tca_gguf *g) { return g ? g->alignment : 0; }

int64_t tca_gguf_kv_count(const tca_gguf *g) { return g ? g->n_kv : 0; }

const char *tca_gguf_kv_key(const tca_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kv[i].key : NULL;
}

tca_gguf_vtype tca_gguf_kv_type(const tca_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kv[i].type : (tca_gguf_vtype)-1;
}

int64_t tca_gguf_kv_find(const tca_gguf *g, const char *key) {
    if (!g || !key) return -1;
    return tca_gguf_index_find(&g->kv_index, key, kv_name_of, g);
}

static tca_status find(const tca_gguf *g, const char *key, const tca_gguf_kv **kv) {
    if (!g || !key) return tca_fail(TCA_ERR_ARG, "gguf: NULL handle or key");
    int64_t i = tca_gguf_index_find(&g->kv_index, key, kv_name_of, g);
    if (i < 0) return tca_fail(TCA_ERR_NOT_FOUND, "gguf: key '%s' not found", key);
    *kv = &g->kv[i];
    return TCA_OK;
}

static tca_status wrong_type(const tca_gguf_kv *kv, const char *expected) {
    if (kv->type == TCA_GGUF_ARRAY)
        return tca_fail(TCA_ERR_FORMAT, "gguf: key '%s' is an array of %s, expected %s", kv->key,
                        tca_gguf_vtype_name(kv->elem), expected);
    return tca_fail(TCA_ERR_FORMAT, "gguf: key '%s' has type %s, expected %s", kv->key,
                    tca_gguf_vtype_name(kv->type), expected);
}

/* Loads an integer of any width; returns 0 for a non-integer type. *big is set for a u64 above
 * INT64_MAX (which does not fit). */
static int load_int(const tca_gguf_kv *kv, int64_t *v, int *big) {
    const uint8_t *p = kv->p;
    *big = 0;
    switch (kv->type) {
    case TCA_GGUF_U8: *v = p[0]; return 1;
    case TCA_GGUF_I8: *v = (int8_t)p[0]; return 1;
    case TCA_GGUF_U16: { uint16_t x; memcpy(&x, p, 2); *v = x; return 1; }
    case TCA_GGUF_I16: { int16_t x; memcpy(&x, p, 2); *v = x; return 1; }
    case TCA_GGUF_U32: { uint32_t x; memcpy(&x, p, 4); *v = x; return 1; }
    case TCA_GGUF_I32: { int32_t x; memcpy(&x, p, 4); *v = x; return 1; }
    case TCA_GGUF_I64: { int64_t x; memcpy(&x, p, 8); *v = x; return 1; }
    case TCA_GGUF_U64: {
        uint64_t x;
        memcpy(&x, p, 8);
        *big = x > (uint64_t)INT64_MAX;
        *v = (int64_t)(x & (uint64_t)INT64_MAX);
        return 1;
    }
    default: return 0;
    }
}

tca_status tca_gguf_get_int(const tca_gguf *g, const char *key, int64_t *out) {
    const tca_gguf_kv *kv = NULL;
    tca_status s = find(g, key, &kv);
    if (s) return s;
    int64_t v;
    int big;
    if (!load_int(kv, &v, &big)) return wrong_type(kv, "an integer");
    if (big) return tca_fail(TCA_ERR_FORMAT, "gguf: key '%s': u64 value does not fit an int64", key);
    *out = v;
    return TCA_OK;
}

tca_status tca_gguf_get_float(const tca_gguf *g, const char *key, double *out) {
    const tca_gguf_kv *kv = NULL;
    tca_status s = find(g, key, &kv);
    if (s) return s;
    if (kv->type == TCA_GGUF_F32) {
        float f;
        memcpy(&f, kv->p, 4);
        *out = f;
        return TCA_OK;
    }
    if (kv->type == TCA_GGUF_F64) {
        memcpy(out, kv->p, 8);
        return TCA_OK;
    }
    int64_t v;
    int big;
    if (!load_int(kv, &v, &big)) return wrong_type(kv, "a number");
    if (big) {
        uint64_t u;
        memcpy(&u, kv->p, 8);
        *out = (double)u;
    } else {
        *out = (double)v;
    }
    return TCA_OK;
}

tca_status tca_gguf_get_bool(const tca_gguf *g, const char *key, bool *out) {
    const tca_gguf_kv *kv = NULL;
    tca_status s = find(g, key, &kv);
    if (s) return s;
    if (kv->type != TCA_GGUF_BOOL) return wrong_type(kv, "bool");
    *out = kv->p[0] != 0;
    return TCA_OK;
}

tca_status tca_gguf_get_str(const tca_gguf *g, const char *key, const char **str, size_t *len) {
    const tca_gguf_kv *kv = NULL;
    tca_status s = find(g, key, &kv);
    if (s) return s;
    if (kv->type != TCA_GGUF_STRING) return wrong_type(kv, "string");
    *str = (const char *)kv->p;
    *len = (size_t)kv->n;
    return TCA_OK;
}

tca_status tca_gguf_get_arr(const tca_gguf *g, const char *key, tca_gguf_vtype *elem, uint64_t *n) {
    const tca_gguf_kv *kv = NULL;
    tca_status s = find(g, key, &kv);
    if (s) return s;
    if (kv->type != TCA_GGUF_ARRAY) return wrong_type(kv, "array");
    if (elem) *elem = kv->elem;
    if (n) *n = kv->n;
    return TCA_OK;
}

tca_status tca_gguf_get_arr_data(const tca_gguf *g, const char *key, tca_gguf_vtype elem,
                                 const void **data, uint64_t *n) {
    const tca_gguf_kv *kv = NULL;
    tca_status s = find(g, key, &kv);
    if (s) return s;
    if (tca_gguf_vtype_size(elem) == 0)
        return tca_fail(TCA_ERR_ARG, "gguf: key '%s': %s is not a fixed-width element type", key,
                        tca_gguf_vtype_name(elem));
    if (kv->type != TCA_GGUF_ARRAY || kv->elem != elem) {
        char want[40];
        snprintf(want, sizeof want, "an array of %s", tca_gguf_vtype_name(elem));
        return wrong_type(kv, want);
    }
    *data = kv->p;
    *n = kv->n;
    return TCA_OK;
}

tca_status tca_gguf_get_arr_str(const tca_gguf *g, const char *key, uint64_t i, const char **str,
                                size_t *len) {
    const tca_gguf_kv *kv = NULL;
    tca_status s = find(g, key, &kv);
    if (s) return s;
    if (kv->type != TCA_GGUF_ARRAY || kv->elem != TCA_GGUF_STRING)
        return wrong_type(kv, "an array of string");
    if (i >= kv->n)
        return tca_fail(TCA_ERR_RANGE,
                        "gguf: key '%s': index %" PRIu64 " out of range (%" PRIu64 " strings)", key,
                        i, kv->n);
    uint64_t l;
    memcpy(&l, g->base + kv->str_off[i], 8);
    *str = (const char *)g->base + kv->str_off[i] + 8;
    *len = (size_t)l;
    return TCA_OK;
}

int64_t tca_gguf_tensor_count(const tca_gguf *g) { return g ? g->n_tensors : 0; }

const tca_tensor_info *tca_gguf_tensor(const tca_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const tca_tensor_info *tca_gguf_tensor_find(const tca_gguf *g, const char *name) {
    if (!g || !name) return NULL;
    int64_t i = tca_gguf_index_find(&g->tensor_index, name, tensor_name_of, g);
    return i < 0 ? NULL : &g->tensors[i];
}

const char *tca_gguf_type_name(uint32_t type) {
    const tca_type_traits *t = tca_type_info(type);
    return t ? t->name : NULL;
}

const char *tca_gguf_vtype_name(tca_gguf_vtype t) {
    static const char *const names[] = {"u8",  "i8",   "u16",    "i16",   "u32", "i32", "f32",
                                        "bool", "string", "array", "u64", "i64", "f64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}
