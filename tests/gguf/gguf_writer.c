/* GGUF writer for tests (see gguf_writer.h). */
#include "gguf_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Value type ids of the format (tca/gguf.h has them too; spelled here so that the writer is
 * independent of the reader it tests). */
enum { U8 = 0, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 };
/* Tensor type ids of the format. */
enum { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12, T_BF16 = 30 };

void gw_free(gw *w) {
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void gw_raw(gw *w, const void *p, size_t n) {
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            fprintf(stderr, "gguf_writer: out of memory\n");
            abort();
        }
        w->buf = b;
        w->cap = cap;
    }
    if (n) memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void gw_u8(gw *w, uint8_t v) { gw_raw(w, &v, 1); }
void gw_u16(gw *w, uint16_t v) { gw_raw(w, &v, 2); }
void gw_u32(gw *w, uint32_t v) { gw_raw(w, &v, 4); }
void gw_u64(gw *w, uint64_t v) { gw_raw(w, &v, 8); }
void gw_f32(gw *w, float v) { gw_raw(w, &v, 4); }
void gw_f64(gw *w, double v) { gw_raw(w, &v, 8); }

void gw_strn(gw *w, const void *s, uint64_t n) {
    gw_u64(w, n);
    gw_raw(w, s, (size_t)n);
}

void gw_str(gw *w, const char *s) { gw_strn(w, s, strlen(s)); }

void gw_pad(gw *w, uint32_t align) {
    while (w->len % align) gw_u8(w, 0);
}

void gw_header(gw *w, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gw_raw(w, "GGUF", 4);
    gw_u32(w, version);
    gw_u64(w, n_tensors);
    gw_u64(w, n_kv);
}

void gw_key(gw *w, const char *key, uint32_t type) {
    gw_str(w, key);
    gw_u32(w, type);
}

void gw_tensor_info(gw *w, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                    uint64_t offset) {
    gw_str(w, name);
    gw_u32(w, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) gw_u64(w, ne[d]);
    gw_u32(w, type);
    gw_u64(w, offset);
}

uint8_t gw_data_byte(uint64_t k) { return (uint8_t)(k * 7 + 1); }

/* Writes the metadata section; returns the number of entries. */
static uint64_t write_kvs(gw *w, gw_fault f) {
    uint64_t n = 0;
#define KEY(k, t) (gw_key(w, (k), (t)), n++)
    if (f == GW_KEY_EMPTY) {
        KEY("", U8);
        gw_u8(w, 1);
    }
    KEY("general.architecture", STRING);
    gw_str(w, "llama");
    if (f == GW_ALIGN_WRONG_TYPE) {
        KEY("general.alignment", U64);
        gw_u64(w, 64);
    } else if (f != GW_OK_NO_ALIGNMENT) {
        KEY("general.alignment", U32);
        gw_u32(w, f == GW_ALIGN_NOT_POW2 ? 48 : f == GW_ALIGN_ZERO ? 0 : 64);
    }
    KEY("t.u8", U8); gw_u8(w, 200);
    KEY("t.i8", I8); gw_u8(w, (uint8_t)(int8_t)-100);
    KEY("t.u16", U16); gw_u16(w, 60000);
    KEY("t.i16", I16); gw_u16(w, (uint16_t)(int16_t)-30000);
    KEY("t.u32", U32); gw_u32(w, 4000000000u);
    KEY("t.i32", I32); gw_u32(w, (uint32_t)(int32_t)-2000000000);
    KEY("t.f32", F32); gw_f32(w, 1.5f);
    KEY("t.bool", BOOL); gw_u8(w, f == GW_BOOL_2 ? 2 : 1);
    KEY("t.str", STRING); gw_str(w, "h\xc3\xa9llo w\xc3\xb6rld");
    KEY("t.u64", U64); gw_u64(w, UINT64_MAX);
    KEY("t.i64", I64); gw_u64(w, (uint64_t)INT64_C(-9000000000000000000));
    KEY("t.f64", F64); gw_f64(w, -2.25e300);
    KEY("t.empty_str", STRING);
    if (f == GW_HUGE_STRING_LEN) gw_u64(w, UINT64_MAX - 3);
    else gw_str(w, "");
    KEY("t.\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", U32); gw_u32(w, 7); /* "t.ключ": UTF-8 key */

    /* one array of every element type */
    KEY("t.arr_u8", ARRAY); gw_u32(w, U8); gw_u64(w, 3); gw_u8(w, 1); gw_u8(w, 2); gw_u8(w, 3);
    KEY("t.arr_i8", ARRAY); gw_u32(w, I8); gw_u64(w, 2); gw_u8(w, 0x80); gw_u8(w, 0x7f);
    KEY("t.arr_u16", ARRAY); gw_u32(w, U16); gw_u64(w, 1); gw_u16(w, 65535);
    KEY("t.arr_i16", ARRAY); gw_u32(w, I16); gw_u64(w, 2); gw_u16(w, (uint16_t)-1); gw_u16(w, 2);
    KEY("t.arr_u32", ARRAY); gw_u32(w, U32); gw_u64(w, 2); gw_u32(w, 0); gw_u32(w, 0xdeadbeef);
    KEY("t.arr_i32", ARRAY); gw_u32(w, I32); gw_u64(w, 1); gw_u32(w, (uint32_t)-5);
    KEY("t.arr_f32", ARRAY); gw_u32(w, F32);
    if (f == GW_HUGE_ARRAY_LEN) gw_u64(w, UINT64_C(1) << 62);
    else gw_u64(w, 3);
    gw_f32(w, 0.5f); gw_f32(w, -1.0f); gw_f32(w, 3e38f);
    KEY("t.arr_bool", ARRAY); gw_u32(w, BOOL); gw_u64(w, 4);
    gw_u8(w, 1); gw_u8(w, 0); gw_u8(w, 1); gw_u8(w, 1);
    KEY("t.arr_str", ARRAY); gw_u32(w, STRING); gw_u64(w, 4);
    gw_str(w, "a"); gw_str(w, ""); gw_str(w, "\xc3\xbcn\xc3\xaf"); gw_str(w, "<|end|>");
    KEY("t.arr_u64", ARRAY); gw_u32(w, U64); gw_u64(w, 1); gw_u64(w, UINT64_C(1) << 63);
    KEY("t.arr_i64", ARRAY); gw_u32(w, I64); gw_u64(w, 2);
    gw_u64(w, (uint64_t)INT64_MIN); gw_u64(w, (uint64_t)INT64_MAX);
    KEY("t.arr_f64", ARRAY); gw_u32(w, F64); gw_u64(w, 1); gw_f64(w, 1e-300);
    KEY("t.arr_empty", ARRAY); gw_u32(w, I32); gw_u64(w, 0);
    /* [[1, 2], ["x", "yz"], []] : an array of arrays of different element types */
    KEY("t.arr_nested", ARRAY); gw_u32(w, ARRAY); gw_u64(w, 3);
    gw_u32(w, I32); gw_u64(w, 2); gw_u32(w, 1); gw_u32(w, 2);
    gw_u32(w, STRING);
    if (f == GW_HUGE_NESTED_ARRAY_LEN) gw_u64(w, UINT64_C(1) << 40);
    else gw_u64(w, 2);
    gw_str(w, "x"); gw_str(w, "yz");
    gw_u32(w, U8); gw_u64(w, 0);
    /* [[[7]]] */
    KEY("t.arr_deep", ARRAY); gw_u32(w, ARRAY); gw_u64(w, 1);
    gw_u32(w, ARRAY); gw_u64(w, 1);
    gw_u32(w, U64); gw_u64(w, 1); gw_u64(w, 7);

    switch (f) {
    case GW_UNKNOWN_VALUE_TYPE: KEY("t.bad_type", 13); gw_u32(w, 0); break;
    case GW_UNKNOWN_ELEM_TYPE: KEY("t.bad_elem", ARRAY); gw_u32(w, 77); gw_u64(w, 1); gw_u32(w, 0); break;
    case GW_TOO_DEEP:
        /* 40 levels of [[...]] around an empty u8 array */
        KEY("t.too_deep", ARRAY);
        for (int i = 0; i < 40; i++) { gw_u32(w, ARRAY); gw_u64(w, 1); }
        gw_u32(w, U8); gw_u64(w, 0);
        break;
    case GW_DUP_KEY: KEY("t.u8", U8); gw_u8(w, 1); break;
    case GW_KEY_NOT_UTF8: KEY("t.\xff\xfe", U8); gw_u8(w, 1); break;
    case GW_KEY_OVERLONG_UTF8: KEY("t.\xc0\xaf", U8); gw_u8(w, 1); break;   /* overlong '/' */
    case GW_KEY_SURROGATE: KEY("t.\xed\xa0\x80", U8); gw_u8(w, 1); break;   /* U+D800 */
    case GW_KEY_NUL: gw_strn(w, "t.a\0b", 5); gw_u32(w, U8); n++; gw_u8(w, 1); break;
    case GW_HUGE_KEY_LEN: gw_u64(w, UINT64_C(1) << 61); n++; break;
    default: break;
    }
#undef KEY
    return n;
}

typedef struct tspec {
    const char *name;
    uint32_t n_dims;
    uint64_t ne[4];
    uint32_t type;
    uint64_t offset;
} tspec;

/* Info order differs from data order on purpose, so that the overlap check must sort. Data
 * offsets are multiples of 64; sizes: 54, 48, 16, 136, 144, 32 bytes. */
static const tspec valid_tensors[] = {
    {"t.q4_0", 3, {32, 1, 3}, T_Q4_0, 576},
    {"tok.f32", 2, {4, 3}, T_F32, 0},
    {"t.f16", 1, {8}, T_F16, 64},
    {"t.q8_0", 2, {64, 2}, T_Q8_0, 128},
    {"t.q4_k", 1, {256}, T_Q4_K, 320},
    {"t.bf16", 4, {2, 2, 2, 2}, T_BF16, 512},
};
#define N_VALID_TENSORS (sizeof valid_tensors / sizeof valid_tensors[0])
#define DATA_BYTES 630 /* 576 + 54 */

static uint64_t write_tensors(gw *w, gw_fault f) {
    if (f == GW_OK_NO_TENSORS) return 0;
    tspec ts[N_VALID_TENSORS];
    memcpy(ts, valid_tensors, sizeof ts);
    tspec *q8 = &ts[3], *f32 = &ts[1];
    switch (f) {
    case GW_NDIMS_5: q8->n_dims = 5; q8->ne[2] = q8->ne[3] = 1; break;
    case GW_NDIMS_0: q8->n_dims = 0; break;
    case GW_DIM_ZERO: q8->ne[1] = 0; break;
    case GW_DIM_NEGATIVE: q8->ne[1] = (uint64_t)-2; break;
    case GW_ELEM_OVERFLOW: /* 2^32 * 2^32 * 2^32 elements */
        f32->n_dims = 3; f32->ne[0] = f32->ne[1] = f32->ne[2] = UINT64_C(1) << 32; break;
    case GW_BYTES_OVERFLOW: /* 2^62 f32 elements fit an int64, their 2^64 bytes do not */
        f32->ne[0] = f32->ne[1] = UINT64_C(1) << 31; break;
    case GW_ROW_BYTES_OVERFLOW: f32->ne[0] = UINT64_C(1) << 62; f32->ne[1] = 1; break;
    case GW_TYPE_REMOVED: q8->type = 4; break;
    case GW_TYPE_UNKNOWN: q8->type = 99; break;
    case GW_NE0_NOT_BLOCK: q8->ne[0] = 48; break;
    case GW_OFFSET_UNALIGNED: q8->offset = 136; break;
    case GW_DATA_OOB: ts[0].offset = 640; break;
    case GW_OFFSET_HUGE: q8->offset = UINT64_MAX - 63; break;
    case GW_OVERLAP: ts[4].offset = 192; break; /* q4_k over the end of q8_0 [128, 264) */
    case GW_DUP_TENSOR: ts[2].name = "tok.f32"; break;
    case GW_TENSOR_NOT_UTF8: ts[2].name = "t.\xe2\x82"; break; /* truncated 3-byte sequence */
    default: break;
    }
    for (size_t i = 0; i < N_VALID_TENSORS; i++)
        gw_tensor_info(w, ts[i].name, ts[i].n_dims, ts[i].ne, ts[i].type, ts[i].offset);
    return N_VALID_TENSORS;
}

void gw_build(gw *w, gw_fault f) {
    gw kvs = {0}, tis = {0};
    uint64_t n_kv = write_kvs(&kvs, f);
    uint64_t n_t = write_tensors(&tis, f);
    if (f == GW_HUGE_N_KV) n_kv = UINT64_C(1) << 60;
    if (f == GW_HUGE_N_TENSORS) n_t = UINT64_MAX;
    uint32_t version = f == GW_OK_V2 ? 2 : f == GW_VERSION_1 ? 1 : f == GW_VERSION_4 ? 4 : 3;
    if (f == GW_BIG_ENDIAN) version = 0x03000000u;
    gw_header(w, version, n_t, n_kv);
    if (f == GW_BAD_MAGIC) memcpy(w->buf, "GGML", 4);
    gw_raw(w, kvs.buf, kvs.len);
    gw_raw(w, tis.buf, tis.len);
    if (n_t > 0 && f != GW_HUGE_N_TENSORS) {
        gw_pad(w, f == GW_OK_NO_ALIGNMENT ? 32 : 64);
        for (uint64_t k = 0; k < DATA_BYTES; k++) gw_u8(w, gw_data_byte(k));
    }
    gw_free(&kvs);
    gw_free(&tis);
}
