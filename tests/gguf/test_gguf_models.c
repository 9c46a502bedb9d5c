/* Integration test: the real model files open and show the values that the gguf Python package
 * reads from them (architecture, hyperparameters, vocab, tensor count, types and shapes).
 * SmolLM2 must be present (tca fetch smollm2); the Qwen files are checked when fetched. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tca/tca.h"

#include "../check.h"

typedef struct expect_tensor {
    const char *name;
    const char *type;
    int64_t ne0, ne1;
} expect_tensor;

typedef struct expect_model {
    const char *name, *arch;
    int required;
    int64_t layers, embd, heads, kv_heads, n_tensors;
    uint64_t vocab;
    int64_t bos;
    const char *bos_text;
    expect_tensor tensors[3];
} expect_model;

static const expect_model models[] = {
    {"smollm2", "llama", 1, 30, 576, 9, 3, 272, 49152, 1, "<|im_start|>",
     {{"token_embd.weight", "Q8_0", 576, 49152},
      {"blk.0.ffn_down.weight", "Q4_1", 1536, 576},
      {"output_norm.weight", "F32", 576, 1}}},
    {"qwen2.5-0.5b", "qwen2", 0, 24, 896, 14, 2, 291, 151936, 151643, "<|endoftext|>",
     {{"token_embd.weight", "Q5_0", 896, 151936},
      {"blk.0.ffn_down.weight", "Q6_K", 4864, 896},
      {"output.weight", "Q8_0", 896, 151936}}},
    {"qwen2.5-1.5b", "qwen2", 0, 28, 1536, 12, 2, 339, 151936, 151643, "<|endoftext|>",
     {{"token_embd.weight", "Q4_K", 1536, 151936},
      {"blk.0.ffn_down.weight", "Q6_K", 8960, 1536},
      {"blk.0.attn_k.bias", "F32", 256, 1}}},
};

static int64_t arch_int(const tca_gguf *g, const char *arch, const char *suffix) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t v = -1;
    if (tca_gguf_get_int(g, key, &v) != TCA_OK)
        fprintf(stderr, "%s: %s\n", key, tca_last_error());
    return v;
}

static void check_model(const expect_model *m, const char *path) {
    tca_gguf *g = NULL;
    if (tca_gguf_open(path, &g) != TCA_OK) {
        fprintf(stderr, "%s: %s\n", m->name, tca_last_error());
        failures++;
        return;
    }
    const char *s;
    size_t len;
    CHECK(tca_gguf_version(g) == 3);
    CHECK(tca_gguf_alignment(g) == 32);
    CHECK(tca_gguf_get_str(g, "general.architecture", &s, &len) == TCA_OK &&
          len == strlen(m->arch) && !memcmp(s, m->arch, len));
    CHECK(arch_int(g, m->arch, "block_count") == m->layers);
    CHECK(arch_int(g, m->arch, "embedding_length") == m->embd);
    CHECK(arch_int(g, m->arch, "attention.head_count") == m->heads);
    CHECK(arch_int(g, m->arch, "attention.head_count_kv") == m->kv_heads);
    CHECK(tca_gguf_tensor_count(g) == m->n_tensors);

    tca_gguf_vtype elem;
    uint64_t n = 0;
    CHECK(tca_gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n) == TCA_OK &&
          elem == TCA_GGUF_STRING);
    CHECK(n == m->vocab);
    int64_t bos = -1;
    CHECK(tca_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &bos) == TCA_OK && bos == m->bos);
    CHECK(tca_gguf_get_arr_str(g, "tokenizer.ggml.tokens", (uint64_t)m->bos, &s, &len) == TCA_OK &&
          len == strlen(m->bos_text) && !memcmp(s, m->bos_text, len));
    /* every string of the vocab and the merges is reachable */
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++)
        if (tca_gguf_get_arr_str(g, "tokenizer.ggml.tokens", i, &s, &len) == TCA_OK) total++;
    CHECK(total == n);
    uint64_t n_merges = 0;
    CHECK(tca_gguf_get_arr(g, "tokenizer.ggml.merges", &elem, &n_merges) == TCA_OK &&
          elem == TCA_GGUF_STRING && n_merges > 1000);
    CHECK(tca_gguf_get_arr_str(g, "tokenizer.ggml.merges", n_merges - 1, &s, &len) == TCA_OK &&
          memchr(s, ' ', len) != NULL); /* a merge is "left right" */

    for (int k = 0; k < 3; k++) {
        const expect_tensor *e = &m->tensors[k];
        const tca_tensor_info *t = tca_gguf_tensor_find(g, e->name);
        CHECK(t != NULL);
        if (!t) {
            fprintf(stderr, "%s: tensor %s missing\n", m->name, e->name);
            continue;
        }
        const char *tn = tca_gguf_type_name(t->type);
        if (!tn || strcmp(tn, e->type) || t->ne[0] != e->ne0 || t->ne[1] != e->ne1) {
            fprintf(stderr, "%s: %s is %s [%" PRId64 ", %" PRId64 "], expected %s [%" PRId64
                            ", %" PRId64 "]\n",
                    m->name, e->name, tn ? tn : "?", t->ne[0], t->ne[1], e->type, e->ne0, e->ne1);
            failures++;
        }
    }
    /* every tensor lies inside the file */
    const uint8_t *lo = NULL, *hi = NULL;
    for (int64_t i = 0; i < tca_gguf_tensor_count(g); i++) {
        const tca_tensor_info *t = tca_gguf_tensor(g, i);
        const uint8_t *a = t->data, *b = a + t->nbytes;
        if (!lo || a < lo) lo = a;
        if (!hi || b > hi) hi = b;
    }
    CHECK(hi && (uint64_t)(hi - lo) <= tca_gguf_file_size(g));
    printf("%s: %s, %" PRId64 " tensors, %" PRIu64 " tokens: ok\n", m->name, path,
           tca_gguf_tensor_count(g), n);
    tca_gguf_free(g);
}

int main(void) {
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char path[4096];
        if (tca_model_resolve(models[i].name, path, sizeof path) != TCA_OK) {
            if (models[i].required) {
                fprintf(stderr, "%s: %s\n(run `tca fetch %s` first)\n", models[i].name,
                        tca_last_error(), models[i].name);
                failures++;
            } else {
                printf("%s: not fetched, not checked\n", models[i].name);
            }
            continue;
        }
        check_model(&models[i], path);
    }
    if (failures) {
        fprintf(stderr, "test_gguf_models: %d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
