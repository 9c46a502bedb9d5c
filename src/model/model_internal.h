/* The bound weights of a model, for the forward pass (library-internal). */
#ifndef TCA_MODEL_INTERNAL_H
#define TCA_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tca/model.h"

/* One weight matrix of `rows` rows by `cols` elements (GGUF ne[1] x ne[0]), used in place. */
typedef struct tca_weight {
    const void *data;     /* NULL when the tensor is absent (optional biases) */
    uint32_t type;        /* tca_type */
    int64_t rows, cols;
    size_t row_bytes;
    const char *name;
} tca_weight;

typedef struct tca_layer {
    tca_weight attn_norm;        /* (n_embd) F32 */
    tca_weight wq, wk, wv, wo;   /* (n_head*d | n_head_kv*d) x n_embd; wo: n_embd x n_head*d */
    tca_weight bq, bk, bv;       /* qwen2 biases, F32 */
    tca_weight ffn_norm;         /* (n_embd) F32 */
    tca_weight w_gate, w_up;     /* n_ff x n_embd */
    tca_weight w_down;           /* n_embd x n_ff */
} tca_layer;

struct tca_model {
    tca_gguf *gguf;
    tca_hparams hp;
    tca_weight tok_embd;         /* n_vocab x n_embd */
    tca_weight output_norm;      /* (n_embd) F32 */
    tca_weight output;           /* n_vocab x n_embd (== tok_embd when tied) */
    tca_layer *layers;           /* n_layer */
    uint64_t weight_bytes;
};

#endif
