/* Test driver: runs token ids through the runtime and prints what the Python checks compare
 * against the numpy reference (tests/reference/forward_ref.py).
 *
 *   eval_tokens MODEL logits OUT.f32 ID...      last-position logits, raw f32, to OUT.f32
 *   eval_tokens MODEL greedy N ID...            N greedy tokens, one id per line on stdout
 *
 * Environment: TCA_TEST_BATCH (prefill rows per step, default 512) to exercise batching;
 * TCA_TEST_KV=f32 for the f32 KV cache (--kv-type f32). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tca/tca.h"

static int fail(const char *what, tca_status s) {
    fprintf(stderr, "eval_tokens: %s: %s: %s\n", what, tca_status_str(s), tca_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: eval_tokens MODEL (logits OUT | greedy N) ID...\n");
        return 2;
    }
    char path[4096];
    tca_status s = tca_model_resolve(argv[1], path, sizeof path);
    if (s) return fail("model", s);
    tca_model *m;
    if ((s = tca_model_load(path, &m))) return fail("load", s);
    const tca_hparams *hp = tca_model_hparams(m);
    int n = argc - 4, n_gen = !strcmp(argv[2], "greedy") ? atoi(argv[3]) : 0;
    int32_t *ids = malloc((size_t)(n + n_gen + 1) * sizeof *ids);
    for (int i = 0; i < n; i++) ids[i] = atoi(argv[4 + i]);
    tca_context_params p = tca_context_default_params();
    p.n_ctx = n + n_gen + 1;
    const char *b = getenv("TCA_TEST_BATCH");
    if (b) p.n_batch = atoi(b);
    const char *kv = getenv("TCA_TEST_KV");
    if (kv && !strcmp(kv, "f32")) p.kv_type = TCA_KV_F32;
    tca_context *c;
    if ((s = tca_context_new(m, &p, &c))) return fail("context", s);
    float *logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    if ((s = tca_eval(c, ids, n, logits, NULL, NULL))) return fail("eval", s);
    if (!strcmp(argv[2], "logits")) {
        FILE *f = fopen(argv[3], "wb");
        if (!f || fwrite(logits, sizeof *logits, (size_t)hp->n_vocab, f) != (size_t)hp->n_vocab) return 1;
        fclose(f);
    } else {
        tca_sampler_params sp = tca_sampler_default_params();
        tca_sampler *smp;
        if ((s = tca_sampler_new(&sp, hp->n_vocab, &smp))) return fail("sampler", s);
        for (int i = 0; i < n_gen; i++) {
            int32_t t = tca_sample(smp, logits);
            printf("%d\n", t);
            if (i + 1 < n_gen && (s = tca_eval(c, &t, 1, logits, NULL, NULL))) return fail("decode", s);
        }
        tca_sampler_free(smp);
    }
    free(logits);
    free(ids);
    tca_context_free(c);
    tca_model_free(m);
    return 0;
}
