/* GGUF v2/v3 parser and validator (see tca/gguf.h). The whole file is checked at open, so that
 * the accessors in gguf_access.c are plain lookups.
 *
 * Defences against hostile input, in one place:
 * - every read goes through rd_need(), which compares against the bytes left, never past them;
 * - every count (n_kv, n_tensors, array and string lengths) is checked against the bytes left
 *   divided by the smallest encoding of one item before anything is allocated or looped over,
 *   so allocations and work are linear in the file size;
 * - nested arrays recurse at most TCA_GGUF_MAX_DEPTH levels (a deep file cannot exhaust the stack);
 * - element counts and byte sizes are multiplied with overflow checks.
 * The file is little-endian, as is every host we build for (x86-64, aarch64). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf_internal.h"
#include "quant.h"
#include "status_internal.h"

#define TCA_GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define TCA_GGUF_DEFAULT_ALIGNMENT 32
#define TCA_GGUF_MAX_DEPTH 16
/* Smallest encodings, for bounding counts by the bytes left. */
#define MIN_STRING 8u      /* u64 length, empty string */
#define MIN_ARRAY 12u      /* u32 element type + u64 count, no elements */
#define MIN_KV (MIN_STRING + 1u + 4u + 1u) /* non-empty key, type, 1-byte value */
#define MIN_TENSOR (MIN_STRING + 1u + 4u + 8u + 4u + 8u) /* name, n_dims, one dim, type, offset */

typedef struct rd {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
} rd;

static uint64_t rd_left(const rd *r) { return r->size - r->pos; }

static tca_status rd_need(const rd *r, uint64_t n, const char *what) {
    if (rd_left(r) < n)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: truncated: %s needs %" PRIu64 " bytes at offset %" PRIu64
                        " but %" PRIu64 " remain",
                        what, n, r->pos, rd_left(r));
    return TCA_OK;
}

static tca_status rd_u32(rd *r, uint32_t *v, const char *what) {
    tca_status s = rd_need(r, 4, what);
    if (s) return s;
    memcpy(v, r->base + r->pos, 4);
    r->pos += 4;
    return TCA_OK;
}

static tca_status rd_u64(rd *r, uint64_t *v, const char *what) {
    tca_status s = rd_need(r, 8, what);
    if (s) return s;
    memcpy(v, r->base + r->pos, 8);
    r->pos += 8;
    return TCA_OK;
}

/* A length-prefixed string: *p points at its bytes in the file, *len is its length. */
static tca_status rd_str(rd *r, const uint8_t **p, uint64_t *len, const char *what) {
    uint64_t at = r->pos;
    tca_status s = rd_u64(r, len, what);
    if (s) return s;
    if (*len > rd_left(r))
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: %s at offset %" PRIu64 " has length %" PRIu64
                        " but only %" PRIu64 " bytes remain",
                        what, at, *len, rd_left(r));
    *p = r->base + r->pos;
    r->pos += *len;
    return TCA_OK;
}

uint64_t tca_gguf_vtype_size(uint32_t t) {
    switch (t) {
    case TCA_GGUF_U8: case TCA_GGUF_I8: case TCA_GGUF_BOOL: return 1;
    case TCA_GGUF_U16: case TCA_GGUF_I16: return 2;
    case TCA_GGUF_U32: case TCA_GGUF_I32: case TCA_GGUF_F32: return 4;
    case TCA_GGUF_U64: case TCA_GGUF_I64: case TCA_GGUF_F64: return 8;
    default: return 0;
    }
}

static int vtype_known(uint32_t t) { return t <= TCA_GGUF_F64; }

static uint64_t vtype_min_size(uint32_t t) {
    if (t == TCA_GGUF_STRING) return MIN_STRING;
    if (t == TCA_GGUF_ARRAY) return MIN_ARRAY;
    return tca_gguf_vtype_size(t);
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) and no NUL, since names are used as
 * C strings. Returns the offset of the first bad byte, or len when the text is valid. */
static uint64_t utf8_bad_at(const uint8_t *s, uint64_t len) {
    uint64_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c == 0) return i;
        if (c < 0x80) { i++; continue; }
        uint64_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; min = 0x10000; }
        else return i;
        if (len - i < n) return i;
        for (uint64_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return i;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += n;
    }
    return len;
}

/* Reads a key or tensor name and returns a NUL-terminated copy in *out. */
static tca_status rd_name(rd *r, char **out, const char *what) {
    uint64_t at = r->pos;
    const uint8_t *p = NULL;
    uint64_t len = 0;
    tca_status s = rd_str(r, &p, &len, what);
    if (s) return s;
    if (len == 0) return tca_fail(TCA_ERR_FORMAT, "gguf: empty %s at offset %" PRIu64, what, at);
    uint64_t bad = utf8_bad_at(p, len);
    if (bad != len)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: %s at offset %" PRIu64 " is not valid UTF-8 (byte 0x%02x at %" PRIu64 ")",
                        what, at, p[bad], at + 8 + bad);
    char *c = malloc(len + 1);
    if (!c) return tca_fail(TCA_ERR_NOMEM, "gguf: out of memory copying a %s", what);
    memcpy(c, p, len);
    c[len] = 0;
    *out = c;
    return TCA_OK;
}

/* ---- name index ----------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

int64_t tca_gguf_index_find(const tca_gguf_index *ix, const char *name,
                            const char *(*name_of)(const void *ctx, int64_t i), const void *ctx) {
    if (ix->cap == 0 || name == NULL) return -1;
    for (uint64_t h = fnv1a(name) & (ix->cap - 1);; h = (h + 1) & (ix->cap - 1)) {
        int64_t i = ix->slots[h];
        if (i < 0) return -1;
        if (!strcmp(name_of(ctx, i), name)) return i;
    }
}

/* Inserts index i; returns the index already holding the same name, or -1 when it is new. */
static int64_t index_insert(tca_gguf_index *ix, int64_t i,
                            const char *(*name_of)(const void *ctx, int64_t i), const void *ctx) {
    const char *name = name_of(ctx, i);
    for (uint64_t h = fnv1a(name) & (ix->cap - 1);; h = (h + 1) & (ix->cap - 1)) {
        int64_t j = ix->slots[h];
        if (j < 0) {
            ix->slots[h] = i;
            return -1;
        }
        if (!strcmp(name_of(ctx, j), name)) return j;
    }
}

static tca_status index_init(tca_gguf_index *ix, int64_t count) {
    uint64_t cap = 16;
    while (cap < 2 * (uint64_t)count) cap *= 2;
    ix->slots = malloc(cap * sizeof *ix->slots);
    if (!ix->slots) return tca_fail(TCA_ERR_NOMEM, "gguf: out of memory for a name index");
    memset(ix->slots, 0xff, cap * sizeof *ix->slots); /* all -1 */
    ix->cap = cap;
    return TCA_OK;
}

static const char *kv_name_of(const void *ctx, int64_t i) {
    return ((const tca_gguf *)ctx)->kv[i].key;
}

static const char *tensor_name_of(const void *ctx, int64_t i) {
    return ((const tca_gguf *)ctx)->tensors[i].name;
}

/* Adds "<what> '<name>': " to the last error unless it already names it, so that every failure
 * inside a key's value or a tensor's info says which one. */
static tca_status name_context(tca_status s, const char *what, const char *name) {
    char quoted[300];
    snprintf(quoted, sizeof quoted, "'%s'", name);
    if (strstr(tca_last_error(), quoted)) return s;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", tca_last_error());
    const char *m = strncmp(msg, "gguf: ", 6) ? msg : msg + 6;
    return tca_fail(s, "gguf: %s %s: %s", what, quoted, m);
}

/* ---- metadata ------------------------------------------------------------------------- */

/* Validates and skips one value of type t (a whole array, recursively, for ARRAY). */
static tca_status skip_value(rd *r, uint32_t t, const char *key, int depth);

/* For a top-level array, the out-parameters (all NULL for nested ones) receive the element type,
 * count, first element and, for strings, the offset index. */
static tca_status skip_array(rd *r, const char *key, int depth, uint32_t *elem_out,
                             uint64_t *n_out, const uint8_t **first_out, uint64_t **str_off_out) {
    if (depth > TCA_GGUF_MAX_DEPTH)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: key '%s': arrays nested deeper than %d levels at offset %" PRIu64,
                        key, TCA_GGUF_MAX_DEPTH, r->pos);
    uint64_t at = r->pos;
    uint32_t elem;
    uint64_t n;
    tca_status s = rd_u32(r, &elem, "array element type");
    if (!s) s = rd_u64(r, &n, "array length");
    if (s) return s;
    if (!vtype_known(elem))
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: key '%s': unknown array element type %u at offset %" PRIu64, key,
                        elem, at);
    uint64_t min = vtype_min_size(elem);
    if (n > rd_left(r) / min)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: key '%s': array length %" PRIu64 " at offset %" PRIu64
                        " exceeds what the remaining %" PRIu64 " bytes can hold",
                        key, n, at + 4, rd_left(r));
    const uint8_t *first = r->base + r->pos;
    uint64_t *str_off = NULL;
    if (elem == TCA_GGUF_STRING && str_off_out && n > 0) {
        str_off = malloc(n * sizeof *str_off); /* n <= file size / 8: bounded */
        if (!str_off) return tca_fail(TCA_ERR_NOMEM, "gguf: key '%s': out of memory", key);
    }
    if (elem != TCA_GGUF_STRING && elem != TCA_GGUF_ARRAY && elem != TCA_GGUF_BOOL) {
        r->pos += n * min; /* checked above */
    } else {
        for (uint64_t i = 0; i < n; i++) {
            if (str_off) str_off[i] = r->pos;
            s = skip_value(r, elem, key, depth + 1);
            if (s) {
                free(str_off);
                return s;
            }
        }
    }
    if (elem_out) *elem_out = elem;
    if (n_out) *n_out = n;
    if (first_out) *first_out = first;
    if (str_off_out) *str_off_out = str_off;
    return TCA_OK;
}

static tca_status skip_value(rd *r, uint32_t t, const char *key, int depth) {
    uint64_t at = r->pos;
    if (t == TCA_GGUF_STRING) {
        const uint8_t *p = NULL;
        uint64_t len = 0;
        return rd_str(r, &p, &len, "string value");
    }
    if (t == TCA_GGUF_ARRAY) return skip_array(r, key, depth, NULL, NULL, NULL, NULL);
    uint64_t size = tca_gguf_vtype_size(t);
    if (size == 0)
        return tca_fail(TCA_ERR_FORMAT, "gguf: key '%s': unknown value type %u at offset %" PRIu64,
                        key, t, at);
    tca_status s = rd_need(r, size, "metadata value");
    if (s) return s;
    if (t == TCA_GGUF_BOOL && r->base[at] > 1)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: key '%s': bool value %u at offset %" PRIu64 " is neither 0 nor 1", key,
                        r->base[at], at);
    r->pos += size;
    return TCA_OK;
}

static tca_status parse_kv(rd *r, tca_gguf_kv *kv) {
    tca_status s = rd_name(r, &kv->key, "metadata key");
    if (s) return s;
    uint32_t t;
    s = rd_u32(r, &t, "metadata value type");
    if (s) return s;
    if (!vtype_known(t))
        return tca_fail(TCA_ERR_FORMAT, "gguf: key '%s': unknown value type %u at offset %" PRIu64,
                        kv->key, t, r->pos - 4);
    kv->type = (tca_gguf_vtype)t;
    if (t == TCA_GGUF_ARRAY) {
        uint32_t elem;
        s = skip_array(r, kv->key, 1, &elem, &kv->n, &kv->p, &kv->str_off);
        if (s) return s;
        kv->elem = (tca_gguf_vtype)elem;
        return TCA_OK;
    }
    uint64_t start = r->pos;
    if (t == TCA_GGUF_STRING) {
        const uint8_t *p = NULL;
        s = rd_str(r, &p, &kv->n, "string value");
        if (s) return s;
        kv->p = p;
        return TCA_OK;
    }
    s = skip_value(r, t, kv->key, 1);
    if (s) return s;
    kv->p = r->base + start;
    kv->n = 1;
    return TCA_OK;
}

/* Makes room for `need` elements of `elem` bytes in *arr (capacity *cap), zeroing new ones.
 * Arrays grow with the entries actually parsed rather than with the counts a header claims, so
 * memory stays proportional to the bytes read. */
static tca_status grow(void **arr, uint64_t *cap, uint64_t need, size_t elem) {
    if (need <= *cap) return TCA_OK;
    uint64_t c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p) return tca_fail(TCA_ERR_NOMEM, "gguf: out of memory for %" PRIu64 " entries", c);
    memset((uint8_t *)p + *cap * elem, 0, (c - *cap) * elem);
    *arr = p;
    *cap = c;
    return TCA_OK;
}

static tca_status parse_metadata(tca_gguf *g, rd *r, uint64_t n_kv) {
    uint64_t cap = 0;
    for (uint64_t i = 0; i < n_kv; i++) {
        tca_status s = grow((void **)&g->kv, &cap, i + 1, sizeof *g->kv);
        if (s) return s;
        g->n_kv = (int64_t)i + 1; /* counted before parsing, so that free() sees a partial entry */
        tca_gguf_kv *kv = &g->kv[i];
        kv->at = r->pos;
        s = parse_kv(r, kv);
        if (s) return kv->key ? name_context(s, "key", kv->key) : s;
    }
    tca_status s = index_init(&g->kv_index, g->n_kv);
    if (s) return s;
    for (int64_t i = 0; i < g->n_kv; i++)
        if (index_insert(&g->kv_index, i, kv_name_of, g) >= 0)
            return tca_fail(TCA_ERR_FORMAT, "gguf: duplicate key '%s' at offset %" PRIu64,
                            g->kv[i].key, g->kv[i].at);
    return TCA_OK;
}

static tca_status read_alignment(tca_gguf *g) {
    g->alignment = TCA_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = tca_gguf_index_find(&g->kv_index, "general.alignment", kv_name_of, g);
    if (i < 0) return TCA_OK;
    const tca_gguf_kv *kv = &g->kv[i];
    if (kv->type != TCA_GGUF_U32)
        return tca_fail(TCA_ERR_FORMAT, "gguf: key 'general.alignment' has type %s, expected u32",
                        tca_gguf_vtype_name(kv->type));
    uint32_t a;
    memcpy(&a, kv->p, 4);
    if (a == 0 || (a & (a - 1)) != 0)
        return tca_fail(TCA_ERR_FORMAT, "gguf: general.alignment %u is not a power of two", a);
    g->alignment = a;
    return TCA_OK;
}

/* ---- tensors -------------------------------------------------------------------------- */

static tca_status parse_tensor_info(rd *r, tca_tensor_info *t) {
    uint64_t at = r->pos;
    char *name = NULL;
    tca_status s = rd_name(r, &name, "tensor name");
    if (s) return s;
    t->name = name;
    uint32_t n_dims;
    s = rd_u32(r, &n_dims, "tensor n_dims");
    if (s) return s;
    if (n_dims < 1 || n_dims > 4)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: tensor '%s' at offset %" PRIu64 ": n_dims %u is not in 1..4", name,
                        at, n_dims);
    t->n_dims = (int)n_dims;
    for (int d = 0; d < 4; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t ne;
        s = rd_u64(r, &ne, "tensor dimension");
        if (s) return s;
        if (ne == 0 || ne > (uint64_t)INT64_MAX)
            return tca_fail(TCA_ERR_FORMAT,
                            "gguf: tensor '%s' at offset %" PRIu64 ": dimension %u is %" PRId64
                            " (must be positive)",
                            name, at, d, (int64_t)ne);
        t->ne[d] = (int64_t)ne;
    }
    s = rd_u32(r, &t->type, "tensor type");
    if (!s) s = rd_u64(r, &t->offset, "tensor offset");
    if (s) return s;

    const tca_type_traits *tr = tca_type_info(t->type);
    if (!tr)
        return tca_fail(TCA_ERR_UNSUPPORTED,
                        "gguf: tensor '%s' at offset %" PRIu64 ": unknown or unsupported type id %u",
                        name, at, t->type);
    int64_t n = 1;
    for (int d = 0; d < 4; d++)
        if (__builtin_mul_overflow(n, t->ne[d], &n))
            return tca_fail(TCA_ERR_FORMAT,
                            "gguf: tensor '%s' at offset %" PRIu64 ": element count overflows",
                            name, at);
    if (t->ne[0] % tr->block_elems != 0)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: tensor '%s': ne[0] = %" PRId64
                        " is not a multiple of the %s block size %d",
                        name, t->ne[0], tr->name, tr->block_elems);
    /* bytes of one row, computed here with an overflow check (ne[0] may be near INT64_MAX) */
    int64_t nbytes;
    if (__builtin_mul_overflow(t->ne[0] / tr->block_elems, (int64_t)tr->block_bytes, &nbytes))
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: tensor '%s' at offset %" PRIu64 ": byte size overflows", name, at);
    for (int d = 1; d < 4; d++)
        if (__builtin_mul_overflow(nbytes, t->ne[d], &nbytes))
            return tca_fail(TCA_ERR_FORMAT,
                            "gguf: tensor '%s' at offset %" PRIu64 ": byte size overflows", name, at);
    t->nbytes = (uint64_t)nbytes;
    return TCA_OK;
}

typedef struct span {
    uint64_t offset;
    int64_t i;
} span;

static int cmp_span(const void *a, const void *b) {
    uint64_t x = ((const span *)a)->offset, y = ((const span *)b)->offset;
    return x < y ? -1 : x > y;
}

/* Bounds, alignment and non-overlap of the tensor data, once the data section is known. */
static tca_status check_tensor_data(tca_gguf *g) {
    uint64_t avail = g->size - g->data_offset;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        tca_tensor_info *t = &g->tensors[i];
        if (t->offset % g->alignment != 0)
            return tca_fail(TCA_ERR_FORMAT,
                            "gguf: tensor '%s': data offset %" PRIu64
                            " is not a multiple of the alignment %u",
                            t->name, t->offset, g->alignment);
        if (t->offset > avail || t->nbytes > avail - t->offset)
            return tca_fail(TCA_ERR_FORMAT,
                            "gguf: tensor '%s': data [%" PRIu64 ", +%" PRIu64
                            ") out of bounds: the data section at file offset %" PRIu64
                            " holds %" PRIu64 " bytes",
                            t->name, t->offset, t->nbytes, g->data_offset, avail);
        t->data = g->base + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2) return TCA_OK;
    span *order = malloc((size_t)g->n_tensors * sizeof *order);
    if (!order) return tca_fail(TCA_ERR_NOMEM, "gguf: out of memory sorting tensors");
    for (int64_t i = 0; i < g->n_tensors; i++) order[i] = (span){g->tensors[i].offset, i};
    qsort(order, (size_t)g->n_tensors, sizeof *order, cmp_span);
    tca_status s = TCA_OK;
    for (int64_t k = 1; k < g->n_tensors; k++) {
        const tca_tensor_info *a = &g->tensors[order[k - 1].i], *b = &g->tensors[order[k].i];
        if (a->offset + a->nbytes > b->offset) {
            s = tca_fail(TCA_ERR_FORMAT,
                         "gguf: tensors '%s' [%" PRIu64 ", +%" PRIu64 ") and '%s' [%" PRIu64
                         ", +%" PRIu64 ") overlap",
                         a->name, a->offset, a->nbytes, b->name, b->offset, b->nbytes);
            break;
        }
    }
    free(order);
    return s;
}

static tca_status parse_tensors(tca_gguf *g, rd *r, uint64_t n_tensors) {
    uint64_t cap = 0, at_cap = 0;
    uint64_t *at = NULL; /* file offset of each tensor info, for messages */
    tca_status s = TCA_OK;
    for (uint64_t i = 0; i < n_tensors && !s; i++) {
        s = grow((void **)&g->tensors, &cap, i + 1, sizeof *g->tensors);
        if (!s) s = grow((void **)&at, &at_cap, i + 1, sizeof *at);
        if (s) break;
        g->n_tensors = (int64_t)i + 1; /* counted before parsing, so that free() sees the name */
        at[i] = r->pos;
        s = parse_tensor_info(r, &g->tensors[i]);
        if (s && g->tensors[i].name) s = name_context(s, "tensor", g->tensors[i].name);
    }
    if (!s) s = index_init(&g->tensor_index, g->n_tensors);
    for (int64_t i = 0; i < g->n_tensors && !s; i++)
        if (index_insert(&g->tensor_index, i, tensor_name_of, g) >= 0)
            s = tca_fail(TCA_ERR_FORMAT, "gguf: duplicate tensor name '%s' at offset %" PRIu64,
                         g->tensors[i].name, at[i]);
    free(at);
    if (s) return s;
    /* the data section starts at the next multiple of the alignment */
    uint64_t pad = (g->alignment - r->pos % g->alignment) % g->alignment;
    g->data_offset = r->pos + pad;
    if (g->data_offset > g->size) {
        if (g->n_tensors > 0)
            return tca_fail(TCA_ERR_FORMAT,
                            "gguf: truncated: the data section would start at offset %" PRIu64
                            " past the end of the file (%" PRIu64 " bytes)",
                            g->data_offset, g->size);
        g->data_offset = g->size; /* no tensors: the padding may be left out */
    }
    return check_tensor_data(g);
}

/* ---- open / free ---------------------------------------------------------------------- */

static tca_status parse(tca_gguf *g) {
    rd r = {g->base, g->size, 0};
    uint32_t magic, version;
    tca_status s = rd_u32(&r, &magic, "magic");
    if (s) return s;
    if (magic != TCA_GGUF_MAGIC)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: bad magic %02x %02x %02x %02x at offset 0 (expected \"GGUF\")",
                        g->base[0], g->base[1], g->base[2], g->base[3]);
    s = rd_u32(&r, &version, "version");
    if (s) return s;
    if (version == 1)
        return tca_fail(TCA_ERR_UNSUPPORTED,
                        "gguf: version 1 is not supported (only GGUF v2 and v3); convert the file "
                        "with a current llama.cpp");
    if (version != 2 && version != 3) {
        /* a byte-swapped 2 or 3 is a big-endian file */
        if (version == 0x02000000u || version == 0x03000000u)
            return tca_fail(TCA_ERR_UNSUPPORTED, "gguf: big-endian files are not supported");
        return tca_fail(TCA_ERR_UNSUPPORTED,
                        "gguf: version %u is not supported (only GGUF v2 and v3)", version);
    }
    g->version = version;
    uint64_t n_tensors, n_kv;
    s = rd_u64(&r, &n_tensors, "tensor count");
    if (!s) s = rd_u64(&r, &n_kv, "metadata count");
    if (s) return s;
    /* both sections follow: each needs its minimal encoding in the remaining bytes */
    if (n_kv > rd_left(&r) / MIN_KV)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: metadata count %" PRIu64 " at offset 16 exceeds what the remaining %"
                        PRIu64 " bytes can hold",
                        n_kv, rd_left(&r));
    if (n_tensors > rd_left(&r) / MIN_TENSOR)
        return tca_fail(TCA_ERR_FORMAT,
                        "gguf: tensor count %" PRIu64 " at offset 8 exceeds what the remaining %"
                        PRIu64 " bytes can hold",
                        n_tensors, rd_left(&r));
    s = parse_metadata(g, &r, n_kv);
    if (!s) s = read_alignment(g);
    if (!s) s = parse_tensors(g, &r, n_tensors);
    return s;
}

void tca_gguf_free(tca_gguf *g) {
    if (!g) return;
    if (g->kv)
        for (int64_t i = 0; i < g->n_kv; i++) {
            free(g->kv[i].key);
            free(g->kv[i].str_off);
        }
    if (g->tensors)
        for (int64_t i = 0; i < g->n_tensors; i++) free((char *)g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    free(g->kv_index.slots);
    free(g->tensor_index.slots);
    if (g->mapped) munmap((void *)g->base, g->size);
    free(g);
}

static tca_status open_over(const uint8_t *base, uint64_t size, int mapped, tca_gguf **out) {
    tca_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        if (mapped) munmap((void *)base, size);
        return tca_fail(TCA_ERR_NOMEM, "gguf: out of memory");
    }
    g->base = base;
    g->size = size;
    g->mapped = mapped;
    tca_status s = parse(g);
    if (s) {
        tca_gguf_free(g);
        return s;
    }
    *out = g;
    return TCA_OK;
}

tca_status tca_gguf_open_memory(const void *data, size_t size, tca_gguf **out) {
    if (!out) return tca_fail(TCA_ERR_ARG, "gguf: out is NULL");
    *out = NULL;
    if (!data && size) return tca_fail(TCA_ERR_ARG, "gguf: data is NULL");
    static const uint8_t empty[1];
    return open_over(data ? data : empty, size, 0, out);
}

tca_status tca_gguf_open(const char *path, tca_gguf **out) {
    if (!out) return tca_fail(TCA_ERR_ARG, "gguf: out is NULL");
    *out = NULL;
    if (!path) return tca_fail(TCA_ERR_ARG, "gguf: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tca_fail(errno == ENOENT ? TCA_ERR_NOT_FOUND : TCA_ERR_IO, "gguf: cannot open %s: %s",
                        path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return tca_fail(TCA_ERR_IO, "gguf: cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tca_fail(TCA_ERR_IO, "gguf: %s is not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    void *base = NULL;
    if (size > 0) {
        base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            int e = errno;
            close(fd);
            return tca_fail(TCA_ERR_IO, "gguf: cannot mmap %s: %s", path, strerror(e));
        }
    }
    close(fd); /* the mapping keeps the file */
    tca_status s;
    if (size == 0) {
        s = tca_fail(TCA_ERR_FORMAT, "gguf: truncated: empty file");
    } else {
        s = open_over(base, size, 1, out);
    }
    if (s) {
        /* prefix the path, so that a message read far from the call names the file */
        char msg[400];
        snprintf(msg, sizeof msg, "%s", tca_last_error());
        const char *m = strncmp(msg, "gguf: ", 6) ? msg : msg + 6;
        return tca_fail(s, "gguf: %s: %s", path, m);
    }
    return TCA_OK;
}
