/* A loaded model: the mmapped GGUF, its hyperparameters and its weights bound by name.
 * Loading refuses what the forward pass cannot run (an unknown architecture, a missing or
 * misshapen tensor, a tensor type without a product kernel) with a message naming it. */
#ifndef TCA_MODEL_H
#define TCA_MODEL_H

#include <stdint.h>

#include "tca/gguf.h"
#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tca_model tca_model;

typedef enum tca_arch { TCA_ARCH_LLAMA = 0, TCA_ARCH_QWEN2 = 1 } tca_arch;

typedef struct tca_hparams {
    tca_arch arch;
    const char *arch_name;
    int n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab;
    int n_ctx_train;        /* context length the model was trained for */
    float rms_eps;
    double rope_base;       /* rope.freq_base */
    double rope_scale;      /* linear position scale: positions are divided by it (1 = none) */
    int rope_neox;          /* 1: pair dimension i with i + d/2 (qwen2); 0: adjacent pairs */
    int has_qkv_bias;
    int tied_output;        /* output head shares token_embd.weight */
} tca_hparams;

/* Opens path (a .gguf file; resolve names first with tca_model_resolve) and binds the weights. */
tca_status tca_model_load(const char *path, tca_model **out);
void tca_model_free(tca_model *m);

const tca_hparams *tca_model_hparams(const tca_model *m);
const tca_gguf *tca_model_gguf(const tca_model *m);
/* Bytes of weights mapped (the tensors the forward pass reads). */
uint64_t tca_model_weight_bytes(const tca_model *m);

#ifdef __cplusplus
}
#endif
#endif
