/* Model loading: hyperparameters from GGUF metadata, weights bound by tensor name and checked
 * against the shapes the forward pass assumes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "model_internal.h"
#include "status_internal.h"

static const struct {
    const char *name;
    tca_arch arch;
    int neox, qkv_bias;
} archs[] = {
    {"llama", TCA_ARCH_LLAMA, 0, 0},
    {"qwen2", TCA_ARCH_QWEN2, 1, 1},
};

/* Reads "<arch>.<suffix>" as an int; required keys fail with the key's name. */
static tca_status arch_int(const tca_gguf *g, const char *arch, const char *suffix, int required,
                           int64_t dflt, int64_t lo, int64_t hi, int *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t v = dflt;
    tca_status s = tca_gguf_get_int(g, key, &v);
    if (s == TCA_ERR_NOT_FOUND && !required) {
        v = dflt;
    } else if (s != TCA_OK) {
        if (s == TCA_ERR_NOT_FOUND) return tca_fail(s, "model: metadata key '%s' is missing", key);
        return s;
    }
    if (v < lo || v > hi)
        return tca_fail(TCA_ERR_FORMAT, "model: %s = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                        key, v, lo, hi);
    *out = (int)v;
    return TCA_OK;
}

static tca_status arch_float(const tca_gguf *g, const char *arch, const char *suffix, double dflt,
                             double *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    double v = dflt;
    tca_status s = tca_gguf_get_float(g, key, &v);
    if (s != TCA_OK && s != TCA_ERR_NOT_FOUND) return s;
    if (s == TCA_ERR_NOT_FOUND) v = dflt;
    if (!(v > 0) || v > 1e12)
        return tca_fail(TCA_ERR_FORMAT, "model: %s = %g is out of range", key, v);
    *out = v;
    return TCA_OK;
}

static tca_status read_hparams(const tca_gguf *g, tca_hparams *hp) {
    const char *arch;
    size_t len;
    tca_status s = tca_gguf_get_str(g, "general.architecture", &arch, &len);
    if (s != TCA_OK) return tca_fail(TCA_ERR_FORMAT, "model: general.architecture is missing or not a string");
    int found = -1;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (strlen(archs[i].name) == len && memcmp(archs[i].name, arch, len) == 0) found = (int)i;
    if (found < 0)
        return tca_fail(TCA_ERR_UNSUPPORTED, "model: architecture '%.*s' is not supported (supported: llama, qwen2)",
                        (int)(len > 64 ? 64 : len), arch);
    const char *a = archs[found].name;
    hp->arch = archs[found].arch;
    hp->arch_name = a;
    hp->rope_neox = archs[found].neox;
    if ((s = arch_int(g, a, "block_count", 1, 0, 1, 1024, &hp->n_layer)) ||
        (s = arch_int(g, a, "embedding_length", 1, 0, 16, 1 << 16, &hp->n_embd)) ||
        (s = arch_int(g, a, "feed_forward_length", 1, 0, 16, 1 << 18, &hp->n_ff)) ||
        (s = arch_int(g, a, "attention.head_count", 1, 0, 1, 1024, &hp->n_head)) ||
        (s = arch_int(g, a, "attention.head_count_kv", 0, hp->n_head, 1, 1024, &hp->n_head_kv)) ||
        (s = arch_int(g, a, "context_length", 1, 0, 1, 1 << 24, &hp->n_ctx_train)))
        return s;
    if (hp->n_embd % hp->n_head || hp->n_head % hp->n_head_kv)
        return tca_fail(TCA_ERR_FORMAT, "model: %d heads / %d KV heads do not divide embedding %d",
                        hp->n_head, hp->n_head_kv, hp->n_embd);
    hp->head_dim = hp->n_embd / hp->n_head;
    int rope_dim = hp->head_dim;
    if ((s = arch_int(g, a, "rope.dimension_count", 0, hp->head_dim, 1, 1 << 16, &rope_dim))) return s;
    if (rope_dim != hp->head_dim || hp->head_dim % 16)
        return tca_fail(TCA_ERR_UNSUPPORTED, "model: rope over %d of %d head dims (partial rope, or a head dim "
                        "not a multiple of 16) is not supported", rope_dim, hp->head_dim);
    double eps, base;
    if ((s = arch_float(g, a, "attention.layer_norm_rms_epsilon", 1e-5, &eps)) ||
        (s = arch_float(g, a, "rope.freq_base", 10000.0, &base)))
        return s;
    hp->rms_eps = (float)eps;
    hp->rope_base = base;
    hp->rope_scale = 1.0;
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", a);
    const char *st;
    size_t stlen;
    if (tca_gguf_get_str(g, key, &st, &stlen) == TCA_OK && !(stlen == 4 && !memcmp(st, "none", 4))) {
        if (!(stlen == 6 && !memcmp(st, "linear", 6)))
            return tca_fail(TCA_ERR_UNSUPPORTED, "model: %s '%.*s' is not supported (only linear)", key,
                            (int)(stlen > 32 ? 32 : stlen), st);
        if ((s = arch_float(g, a, "rope.scaling.factor", 1.0, &hp->rope_scale))) return s;
    }
    hp->has_qkv_bias = archs[found].qkv_bias;
    return TCA_OK;
}

/* Binds tensor `name` as a rows x cols matrix (cols the contiguous dimension). kind: 'n' norm
 * vector (F32, rows == 1), 'm' matrix with a product kernel, 'e' embedding (any dequantisable type). */
static tca_status bind(const tca_gguf *g, const char *name, int64_t rows, int64_t cols, char kind,
                       int optional, tca_weight *w, uint64_t *bytes) {
    memset(w, 0, sizeof *w);
    const tca_tensor_info *t = tca_gguf_tensor_find(g, name);
    if (t == NULL) {
        if (optional) return TCA_OK;
        return tca_fail(TCA_ERR_FORMAT, "model: tensor '%s' is missing", name);
    }
    int64_t t_rows = t->n_dims >= 2 ? t->ne[1] : 1;
    int extra = (t->n_dims > 2) && (t->ne[2] != 1 || t->ne[3] != 1);
    if (t->ne[0] != cols || t_rows != rows || extra)
        return tca_fail(TCA_ERR_FORMAT, "model: tensor '%s' has shape [%" PRId64 ", %" PRId64 "], expected [%" PRId64
                        ", %" PRId64 "]", name, t->ne[0], t_rows, cols, rows);
    const char *tn = tca_gguf_type_name(t->type);
    if (kind == 'n' && t->type != TCA_TYPE_F32)
        return tca_fail(TCA_ERR_UNSUPPORTED, "model: tensor '%s' has type %s; norms and biases must be F32", name,
                        tn ? tn : "?");
    if (kind == 'm' && tca_act_type((int)t->type) < 0)
        return tca_fail(TCA_ERR_UNSUPPORTED, "model: tensor '%s' has type %s, which has no matrix product kernel",
                        name, tn ? tn : "?");
    if (kind == 'e' && tca_kernels_active()->dequant[t->type] == NULL)
        return tca_fail(TCA_ERR_UNSUPPORTED, "model: tensor '%s' has type %s, which cannot be dequantised", name,
                        tn ? tn : "?");
    w->data = t->data;
    w->type = t->type;
    w->rows = rows;
    w->cols = cols;
    w->row_bytes = (size_t)tca_type_row_bytes(t->type, cols);
    w->name = t->name;
    *bytes += t->nbytes;
    return TCA_OK;
}

static tca_status bind_layer(const tca_gguf *g, const tca_hparams *hp, int l, tca_layer *L, uint64_t *bytes) {
    const int64_t e = hp->n_embd, q = (int64_t)hp->n_head * hp->head_dim;
    const int64_t kv = (int64_t)hp->n_head_kv * hp->head_dim, ff = hp->n_ff;
    const struct {
        const char *suffix;
        tca_weight *w;
        int64_t rows, cols;
        char kind;
        int optional;
    } spec[] = {
        {"attn_norm.weight", &L->attn_norm, 1, e, 'n', 0},
        {"attn_q.weight", &L->wq, q, e, 'm', 0},
        {"attn_k.weight", &L->wk, kv, e, 'm', 0},
        {"attn_v.weight", &L->wv, kv, e, 'm', 0},
        {"attn_q.bias", &L->bq, 1, q, 'n', !hp->has_qkv_bias},
        {"attn_k.bias", &L->bk, 1, kv, 'n', !hp->has_qkv_bias},
        {"attn_v.bias", &L->bv, 1, kv, 'n', !hp->has_qkv_bias},
        {"attn_output.weight", &L->wo, e, q, 'm', 0},
        {"ffn_norm.weight", &L->ffn_norm, 1, e, 'n', 0},
        {"ffn_gate.weight", &L->w_gate, ff, e, 'm', 0},
        {"ffn_up.weight", &L->w_up, ff, e, 'm', 0},
        {"ffn_down.weight", &L->w_down, e, ff, 'm', 0},
    };
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "blk.%d.%s", l, spec[i].suffix);
        tca_status s = bind(g, name, spec[i].rows, spec[i].cols, spec[i].kind, spec[i].optional, spec[i].w, bytes);
        if (s != TCA_OK) return s;
    }
    return TCA_OK;
}

static tca_status bind_all(tca_model *m) {
    const tca_gguf *g = m->gguf;
    tca_hparams *hp = &m->hp;
    uint64_t n_vocab = 0;
    tca_gguf_vtype et;
    if (tca_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n_vocab) != TCA_OK || n_vocab == 0 ||
        n_vocab > (1u << 24))
        return tca_fail(TCA_ERR_FORMAT, "model: tokenizer.ggml.tokens is missing or empty");
    hp->n_vocab = (int)n_vocab;
    tca_status s;
    if ((s = bind(g, "token_embd.weight", hp->n_vocab, hp->n_embd, 'e', 0, &m->tok_embd, &m->weight_bytes)) ||
        (s = bind(g, "output_norm.weight", 1, hp->n_embd, 'n', 0, &m->output_norm, &m->weight_bytes)) ||
        (s = bind(g, "output.weight", hp->n_vocab, hp->n_embd, 'm', 1, &m->output, &m->weight_bytes)))
        return s;
    if (m->output.data == NULL) { /* tied embeddings: the head reads the embedding matrix */
        if (tca_act_type((int)m->tok_embd.type) < 0)
            return tca_fail(TCA_ERR_UNSUPPORTED, "model: tied output head of type %s has no matrix product kernel",
                            tca_gguf_type_name(m->tok_embd.type));
        m->output = m->tok_embd;
        hp->tied_output = 1;
    }
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (m->layers == NULL) return tca_fail(TCA_ERR_NOMEM, "model: out of memory");
    for (int l = 0; l < hp->n_layer; l++)
        if ((s = bind_layer(g, hp, l, &m->layers[l], &m->weight_bytes))) return s;
    return TCA_OK;
}

tca_status tca_model_load(const char *path, tca_model **out) {
    *out = NULL;
    tca_model *m = calloc(1, sizeof *m);
    if (m == NULL) return tca_fail(TCA_ERR_NOMEM, "model: out of memory");
    tca_status s = tca_gguf_open(path, &m->gguf);
    if (s == TCA_OK) s = read_hparams(m->gguf, &m->hp);
    if (s == TCA_OK) s = bind_all(m);
    if (s != TCA_OK) {
        tca_model_free(m);
        return s;
    }
    *out = m;
    return TCA_OK;
}

void tca_model_free(tca_model *m) {
    if (m == NULL) return;
    tca_gguf_free(m->gguf);
    free(m->layers);
    free(m);
}

const tca_hparams *tca_model_hparams(const tca_model *m) { return &m->hp; }
const tca_gguf *tca_model_gguf(const tca_model *m) { return m->gguf; }
uint64_t tca_model_weight_bytes(const tca_model *m) { return m->weight_bytes; }
