/* GGUF v2/v3 reader: the file is mmapped read-only and fully validated at open (header, every
 * metadata value including nested arrays, tensor infos, alignment, data bounds and overlaps), so
 * that every accessor below is a bounds-safe lookup. A malformed file is refused with
 * TCA_ERR_FORMAT (or TCA_ERR_UNSUPPORTED for a version or tensor type we do not know) and a
 * tca_last_error() message naming the problem and, where it helps, the byte offset.
 *
 * Strings in GGUF are length-prefixed and not NUL-terminated: string accessors return a pointer
 * into the mapping and a length. Keys and tensor names are copied and NUL-terminated. */
#ifndef TCA_GGUF_H
#define TCA_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tca_gguf tca_gguf;

typedef enum tca_gguf_vtype {
    TCA_GGUF_U8 = 0, TCA_GGUF_I8 = 1, TCA_GGUF_U16 = 2, TCA_GGUF_I16 = 3,
    TCA_GGUF_U32 = 4, TCA_GGUF_I32 = 5, TCA_GGUF_F32 = 6, TCA_GGUF_BOOL = 7,
    TCA_GGUF_STRING = 8, TCA_GGUF_ARRAY = 9, TCA_GGUF_U64 = 10, TCA_GGUF_I64 = 11,
    TCA_GGUF_F64 = 12
} tca_gguf_vtype;

typedef struct tca_tensor_info {
    const char *name;     /* NUL-terminated copy */
    uint32_t type;        /* tca_type id (simd/quant.h) */
    int n_dims;           /* 1..4 */
    int64_t ne[4];        /* elements per dimension, ne[0] the contiguous one; unused = 1 */
    uint64_t offset;      /* from the start of the data section */
    uint64_t nbytes;
    const void *data;     /* into the read-only mapping */
} tca_tensor_info;

/* Opens and validates a file. On failure *out is NULL. */
tca_status tca_gguf_open(const char *path, tca_gguf **out);
/* The same over a caller-owned buffer that must outlive the handle (tests, fuzzing). */
tca_status tca_gguf_open_memory(const void *data, size_t size, tca_gguf **out);
void tca_gguf_free(tca_gguf *g);

uint32_t tca_gguf_version(const tca_gguf *g);
uint64_t tca_gguf_file_size(const tca_gguf *g);
uint32_t tca_gguf_alignment(const tca_gguf *g);

/* Metadata, by index or key. */
int64_t tca_gguf_kv_count(const tca_gguf *g);
const char *tca_gguf_kv_key(const tca_gguf *g, int64_t i);
tca_gguf_vtype tca_gguf_kv_type(const tca_gguf *g, int64_t i);
int64_t tca_gguf_kv_find(const tca_gguf *g, const char *key); /* -1 when absent */

/* Typed getters. TCA_ERR_NOT_FOUND when the key is absent, TCA_ERR_FORMAT when its type does
 * not fit (message names the key and both types); *out is untouched on failure. get_int accepts
 * every integer type whose value fits an int64; get_float accepts F32, F64 and the integers. */
tca_status tca_gguf_get_int(const tca_gguf *g, const char *key, int64_t *out);
tca_status tca_gguf_get_float(const tca_gguf *g, const char *key, double *out);
tca_status tca_gguf_get_bool(const tca_gguf *g, const char *key, bool *out);
tca_status tca_gguf_get_str(const tca_gguf *g, const char *key, const char **s, size_t *len);

/* Arrays: element type and count. Nested arrays report TCA_GGUF_ARRAY. */
tca_status tca_gguf_get_arr(const tca_gguf *g, const char *key, tca_gguf_vtype *elem, uint64_t *n);
/* Fixed-width elements: raw little-endian bytes in the file (may be unaligned: read with
 * memcpy). Fails unless the element type is `elem`. */
tca_status tca_gguf_get_arr_data(const tca_gguf *g, const char *key, tca_gguf_vtype elem,
                                 const void **data, uint64_t *n);
/* Element i of a string array, O(1). */
tca_status tca_gguf_get_arr_str(const tca_gguf *g, const char *key, uint64_t i, const char **s,
                                size_t *len);

/* Tensors. */
int64_t tca_gguf_tensor_count(const tca_gguf *g);
const tca_tensor_info *tca_gguf_tensor(const tca_gguf *g, int64_t i);
const tca_tensor_info *tca_gguf_tensor_find(const tca_gguf *g, const char *name); /* NULL if absent */

/* Name of a tensor type id ("Q4_K", ...), or NULL when unknown. */
const char *tca_gguf_type_name(uint32_t type);

/* Name of a metadata value type ("u32", "string", ...). */
const char *tca_gguf_vtype_name(tca_gguf_vtype t);

#ifdef __cplusplus
}
#endif
#endif
