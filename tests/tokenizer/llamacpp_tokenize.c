/* llama.cpp's tokenizer as a filter, for compare_llamacpp.py (a manual cross-check, not a meson
 * test: it needs the llama.cpp that tools/bench/build_llamacpp.sh builds outside the repo).
 *
 *   llamacpp_tokenize MODEL.gguf PARSE_SPECIAL < text > ids   (int32 little-endian) */
#include <stdio.h>
#include <stdlib.h>
#include "llama.h"
static void quiet(enum ggml_log_level l, const char *t, void *u) { (void)l; (void)t; (void)u; }
int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: llamacpp_tokenize MODEL.gguf PARSE_SPECIAL < text > ids\n");
        return 2;
    }
    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    struct llama_model *m = llama_model_load_from_file(argv[1], mp);
    if (!m) {
        fprintf(stderr, "llamacpp_tokenize: cannot load %s\n", argv[1]);
        return 1;
    }
    const struct llama_vocab *v = llama_model_get_vocab(m);
    size_t cap = 1 << 20, n = 0; char *buf = malloc(cap);
    for (;;) { n += fread(buf + n, 1, cap - n, stdin); if (n < cap) break; buf = realloc(buf, cap *= 2); }
    int32_t max = (int32_t)n + 16; llama_token *ids = malloc(sizeof *ids * max);
    int32_t k = llama_tokenize(v, buf, (int32_t)n, ids, max, false, atoi(argv[2]) != 0);
    if (k < 0) return 2;
    fwrite(ids, sizeof *ids, k, stdout);
    return 0;
}
