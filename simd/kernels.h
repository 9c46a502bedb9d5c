/* The kernel dispatch table.
 *
 * One table, filled with the `_ref` kernels first and then upgraded with the variants of the
 * best ISA that was both built and reported by the CPU (dav1d's scheme). TCA_ISA=ref|avx2|
 * avx512|neon in the environment forces a level (tests use it; an ISA this CPU or build lacks
 * falls back to the best available one, and tca_kernels_isa_forced_ok() says so).
 *
 * Each kernel family has its own header (dequant.h, ...) giving shapes, strides and tail rules. */
#ifndef TCA_SIMD_KERNELS_H
#define TCA_SIMD_KERNELS_H

#include "attention.h"
#include "dequant.h"
#include "elementwise.h"
#include "matmul.h"
#include "quant.h"
#include "select.h"

typedef enum tca_isa { TCA_ISA_REF = 0, TCA_ISA_AVX2, TCA_ISA_AVX512, TCA_ISA_NEON, TCA_ISA_COUNT } tca_isa;

typedef struct tca_kernels {
    tca_isa isa;
    /* dequant.h: src holds n elements of the type (n a multiple of its block size) -> f32 */
    tca_dequant_fn dequant[TCA_TYPE_COUNT];
    /* matmul.h: indexed by the weight type; NULL where the type has no product kernel */
    tca_quantize_act_fn quantize_act[TCA_TYPE_COUNT];
    tca_qgemm_fn qgemm[TCA_TYPE_COUNT];
    /* attention.h */
    tca_attn_accum_fn attn_accum;
    tca_attn_accum_f32_fn attn_accum_f32; /* the same over an f32 KV cache (--kv-type f32) */
    tca_attn_merge_fn attn_merge;
    tca_attn_finish_fn attn_finish;
    /* elementwise.h */
    tca_rmsnorm_fn rmsnorm;
    tca_rope_fn rope;
    tca_silu_mul_fn silu_mul;
    tca_softmax_fn softmax;
    tca_f32_to_f16_fn f32_to_f16;
    /* select.h: TCA token selection */
    tca_score_dot_fn score_dot;
    tca_group_softmax_mean_fn group_softmax_mean;
    tca_eff_count_fn eff_count;
    tca_topk_fn topk;
    tca_gather_rows_fn gather_rows;
} tca_kernels;

/* The table used by the library: chosen once on first call. */
const tca_kernels *tca_kernels_active(void);

/* Fill *k for one ISA level (ref entries where the level has no variant). Returns 0, or -1 when
 * that level was not built or this CPU lacks it. Tests use it to compare each level to ref. */
int tca_kernels_fill(tca_isa isa, tca_kernels *k);

const char *tca_isa_name(tca_isa isa);

/* 0 when TCA_ISA asked for a level that this build or CPU lacks (the best level is used instead). */
int tca_kernels_isa_forced_ok(void);

/* Per-level upgrade hooks, each defined in its own ISA file (simd/x86, simd/arm). */
void tca_kernels_init_ref(tca_kernels *k);
void tca_kernels_upgrade_avx2(tca_kernels *k);
void tca_kernels_upgrade_avx512(tca_kernels *k);
void tca_kernels_upgrade_neon(tca_kernels *k);

#endif
