/* A tiny GGUF writer for tests and fuzz seeds: appends little-endian fields to a growing buffer,
 * so that a test can build valid files and, by writing wrong fields on purpose, malformed ones.
 * Aborts on out of memory (test code only). */
#ifndef TCA_TESTS_GGUF_WRITER_H
#define TCA_TESTS_GGUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw {
    uint8_t *buf;
    size_t len, cap;
} gw;

void gw_free(gw *w);
void gw_raw(gw *w, const void *p, size_t n);
void gw_u8(gw *w, uint8_t v);
void gw_u16(gw *w, uint16_t v);
void gw_u32(gw *w, uint32_t v);
void gw_u64(gw *w, uint64_t v);
void gw_f32(gw *w, float v);
void gw_f64(gw *w, double v);
/* u64 length + bytes (no NUL) */
void gw_str(gw *w, const char *s);
void gw_strn(gw *w, const void *s, uint64_t n);
/* Zero bytes up to the next multiple of `align`. */
void gw_pad(gw *w, uint32_t align);

/* Header: magic "GGUF", version, tensor count, metadata count. */
void gw_header(gw *w, uint32_t version, uint64_t n_tensors, uint64_t n_kv);
/* A key and its value type; the caller writes the value. */
void gw_key(gw *w, const char *key, uint32_t type);
/* Tensor info: name, n_dims, ne[0..n_dims), type, offset. */
void gw_tensor_info(gw *w, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                    uint64_t offset);

/* What gw_build() gets wrong on purpose; GW_OK (and the other *_OK variants) build valid files. */
typedef enum gw_fault {
    GW_OK = 0,
    GW_OK_V2,            /* the same content as GGUF v2 */
    GW_OK_NO_ALIGNMENT,  /* no general.alignment: the default 32 applies */
    GW_OK_NO_TENSORS,    /* metadata only, file ends right after it (no data padding) */
    GW_BAD_MAGIC,
    GW_VERSION_1,
    GW_VERSION_4,
    GW_BIG_ENDIAN,
    GW_HUGE_N_KV,
    GW_HUGE_N_TENSORS,
    GW_HUGE_KEY_LEN,
    GW_HUGE_STRING_LEN,
    GW_HUGE_ARRAY_LEN,
    GW_HUGE_NESTED_ARRAY_LEN,
    GW_UNKNOWN_VALUE_TYPE,
    GW_UNKNOWN_ELEM_TYPE,
    GW_TOO_DEEP,
    GW_DUP_KEY,
    GW_KEY_NOT_UTF8,
    GW_KEY_OVERLONG_UTF8,
    GW_KEY_SURROGATE,
    GW_KEY_NUL,
    GW_KEY_EMPTY,
    GW_BOOL_2,
    GW_ALIGN_NOT_POW2,
    GW_ALIGN_ZERO,
    GW_ALIGN_WRONG_TYPE,
    GW_NDIMS_5,
    GW_NDIMS_0,
    GW_DIM_ZERO,
    GW_DIM_NEGATIVE,
    GW_ELEM_OVERFLOW,
    GW_BYTES_OVERFLOW,
    GW_ROW_BYTES_OVERFLOW, /* one row of 2^62 f32: found by the fuzzer (UB in the row size) */
    GW_TYPE_REMOVED,     /* id 4 (Q4_2, removed from GGUF) */
    GW_TYPE_UNKNOWN,     /* id 99 */
    GW_NE0_NOT_BLOCK,
    GW_OFFSET_UNALIGNED,
    GW_DATA_OOB,
    GW_OFFSET_HUGE,
    GW_OVERLAP,
    GW_DUP_TENSOR,
    GW_TENSOR_NOT_UTF8,
    GW_FAULT_COUNT
} gw_fault;

/* The test file: every metadata value type (nested arrays included), alignment 64 and six
 * tensors of different types and ranks, with `fault` introduced. The unit test checks every
 * value written here. */
void gw_build(gw *w, gw_fault fault);

/* Tensor data bytes of the valid file: data section byte k holds gw_data_byte(k). */
uint8_t gw_data_byte(uint64_t k);

#endif
