/* Tensor element types and quantisation block layouts, as stored in GGUF files.
 *
 * Plain structs shared by the C kernels, the GGUF loader and the CUDA kernels (the same role as
 * ggml-common.h). Type ids are the GGUF on-disk ids. Every block is packed with no padding; the
 * static asserts below pin the sizes to the GGUF format. */
#ifndef TCA_SIMD_QUANT_H
#define TCA_SIMD_QUANT_H

#include <stdint.h>
#include <stddef.h>

typedef uint16_t tca_f16;   /* IEEE binary16 bits */
typedef uint16_t tca_bf16;  /* bfloat16 bits (upper half of an f32) */

typedef enum tca_type {
    TCA_TYPE_F32 = 0,
    TCA_TYPE_F16 = 1,
    TCA_TYPE_Q4_0 = 2,
    TCA_TYPE_Q4_1 = 3,
    TCA_TYPE_Q5_0 = 6,
    TCA_TYPE_Q5_1 = 7,
    TCA_TYPE_Q8_0 = 8,
    TCA_TYPE_Q8_1 = 9,
    TCA_TYPE_Q2_K = 10,
    TCA_TYPE_Q3_K = 11,
    TCA_TYPE_Q4_K = 12,
    TCA_TYPE_Q5_K = 13,
    TCA_TYPE_Q6_K = 14,
    TCA_TYPE_Q8_K = 15,
    TCA_TYPE_BF16 = 30,
    TCA_TYPE_COUNT = 31 /* one past the largest id; ids in between are unsupported */
} tca_type;

#define TCA_QK 32   /* elements per block of the legacy types (Q4_0 ... Q8_1) */
#define TCA_QK_K 256 /* elements per super-block of the K types */
#define TCA_K_SCALE_SIZE 12

typedef struct { tca_f16 d; uint8_t qs[TCA_QK / 2]; } tca_block_q4_0;              /* 18 B */
typedef struct { tca_f16 d, m; uint8_t qs[TCA_QK / 2]; } tca_block_q4_1;           /* 20 B */
typedef struct { tca_f16 d; uint8_t qh[4]; uint8_t qs[TCA_QK / 2]; } tca_block_q5_0; /* 22 B */
typedef struct { tca_f16 d, m; uint8_t qh[4]; uint8_t qs[TCA_QK / 2]; } tca_block_q5_1; /* 24 B */
typedef struct { tca_f16 d; int8_t qs[TCA_QK]; } tca_block_q8_0;                   /* 34 B */
typedef struct { tca_f16 d, s; int8_t qs[TCA_QK]; } tca_block_q8_1;                /* 36 B */
typedef struct { uint8_t scales[TCA_QK_K / 16]; uint8_t qs[TCA_QK_K / 4]; tca_f16 d, dmin; } tca_block_q2_K; /* 84 B */
typedef struct { uint8_t hmask[TCA_QK_K / 8]; uint8_t qs[TCA_QK_K / 4]; uint8_t scales[12]; tca_f16 d; } tca_block_q3_K; /* 110 B */
typedef struct { tca_f16 d, dmin; uint8_t scales[TCA_K_SCALE_SIZE]; uint8_t qs[TCA_QK_K / 2]; } tca_block_q4_K; /* 144 B */
typedef struct { tca_f16 d, dmin; uint8_t scales[TCA_K_SCALE_SIZE]; uint8_t qh[TCA_QK_K / 8]; uint8_t qs[TCA_QK_K / 2]; } tca_block_q5_K; /* 176 B */
typedef struct { uint8_t ql[TCA_QK_K / 2]; uint8_t qh[TCA_QK_K / 4]; int8_t scales[TCA_QK_K / 16]; tca_f16 d; } tca_block_q6_K; /* 210 B */
typedef struct { float d; int8_t qs[TCA_QK_K]; int16_t bsums[TCA_QK_K / 16]; } tca_block_q8_K; /* 292 B */

_Static_assert(sizeof(tca_block_q4_0) == 18, "q4_0");
_Static_assert(sizeof(tca_block_q4_1) == 20, "q4_1");
_Static_assert(sizeof(tca_block_q5_0) == 22, "q5_0");
_Static_assert(sizeof(tca_block_q5_1) == 24, "q5_1");
_Static_assert(sizeof(tca_block_q8_0) == 34, "q8_0");
_Static_assert(sizeof(tca_block_q8_1) == 36, "q8_1");
_Static_assert(sizeof(tca_block_q2_K) == 84, "q2_K");
_Static_assert(sizeof(tca_block_q3_K) == 110, "q3_K");
_Static_assert(sizeof(tca_block_q4_K) == 144, "q4_K");
_Static_assert(sizeof(tca_block_q5_K) == 176, "q5_K");
_Static_assert(sizeof(tca_block_q6_K) == 210, "q6_K");
_Static_assert(sizeof(tca_block_q8_K) == 292, "q8_K");

/* Layout of one type: `block_elems` elements are stored in `block_bytes` bytes. A row of n
 * elements must have n % block_elems == 0. name is NULL for ids this runtime does not know. */
typedef struct tca_type_traits {
    const char *name;
    int block_elems;
    int block_bytes;
} tca_type_traits;

/* Traits of a type id; returns NULL for an unknown or unsupported id (never crashes). */
const tca_type_traits *tca_type_info(uint32_t type);

/* Bytes needed for n elements of type t, or -1 when n is not a whole number of blocks, the type
 * is unknown or the size does not fit an int64. */
int64_t tca_type_row_bytes(uint32_t type, int64_t n);

/* Exact IEEE conversions (round to nearest even for f32 -> f16/bf16). */
float tca_f16_to_f32(tca_f16 h);
tca_f16 tca_f32_to_f16(float f);
float tca_bf16_to_f32(tca_bf16 h);

#endif
