/* The parsed form of a GGUF file, shared by the parser (gguf.c) and the accessors
 * (gguf_access.c). Everything here points into the validated mapping, so accessors only
 * index and never re-check the file. */
#ifndef TCA_GGUF_INTERNAL_H
#define TCA_GGUF_INTERNAL_H

#include <stdint.h>

#include "tca/gguf.h"

/* One metadata entry. For a scalar, `p` is its value bytes; for a string, `p` is its bytes and
 * `n` its length; for an array, `p` is the first element, `n` the element count and `elem` the
 * element type, and a string array also has `str_off`: n offsets (from the start of the file) of
 * each element's length prefix, so that element i is found in O(1). */
typedef struct tca_gguf_kv {
    char *key;
    tca_gguf_vtype type;
    tca_gguf_vtype elem;
    uint64_t n;
    const uint8_t *p;
    uint64_t *str_off;
    uint64_t at; /* file offset of the entry, for messages */
} tca_gguf_kv;

/* Open-addressing table from a NUL-terminated name to an index (keys, tensor names).
 * slots: cap entries, -1 when empty; cap is a power of two >= 2 * count. */
typedef struct tca_gguf_index {
    int64_t *slots;
    uint64_t cap;
} tca_gguf_index;

struct tca_gguf {
    const uint8_t *base; /* the whole file */
    uint64_t size;       /* bytes */
    int mapped;          /* base is our mmap (unmapped by free) rather than the caller's buffer */
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset; /* file offset of the tensor data section */
    int64_t n_kv;
    tca_gguf_kv *kv;
    tca_gguf_index kv_index;
    int64_t n_tensors;
    tca_tensor_info *tensors;
    tca_gguf_index tensor_index;
};

/* Lookup in an index built over `count` names given by `name_of(ctx, i)`. -1 when absent. */
int64_t tca_gguf_index_find(const tca_gguf_index *ix, const char *name,
                            const char *(*name_of)(const void *ctx, int64_t i), const void *ctx);

/* Bytes of one fixed-width value, 0 for STRING and ARRAY (variable) and unknown types. */
uint64_t tca_gguf_vtype_size(uint32_t t);

#endif
