/* kl_vs_dense: how far each attention configuration's next-token distributions are from dense
 * attention's on a long real text (docs/tca.md, the calibration check of docs/benchmarks.md).
 *
 *   kl_vs_dense MODEL TEXT [--skip S] [--tokens L] [--last N] [-t THREADS] CONFIG...
 *     CONFIG: dense | keep:X (uniform TCA, solved at L) | keep:same (uniform at the keep the
 *             previous CONFIG achieved: a fair comparison with a budget file) | budget:FILE;
 *             a keep config may end in ":prompt-last" for that scorer (default block-last)
 *
 * Takes the text's tokens [S, S + L + N): prefills the first L, then feeds the next N one at a
 * time (teacher forcing), so that N next-token distributions come from positions where the whole
 * long context matters and the cache is the compressed one decode continues from. Per
 * configuration: mean KL(dense || config) in nats over those N positions, top-1 agreement with
 * dense, perplexity of the true next tokens, and the keep ratio. Prints a markdown table and,
 * with --json FILE, the same as JSON. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tca/tca.h"

typedef struct row {
    const char *config;
    double kl, top1, ppl, keep;
} row;

static int fail(const char *what, tca_status s) {
    fprintf(stderr, "kl_vs_dense: %s: %s: %s\n", what, tca_status_str(s), tca_last_error());
    return 1;
}

/* log-softmax of logits into out (double) */
static void log_softmax(const float *x, int n, double *out) {
    double mx = x[0], sum = 0;
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) sum += exp((double)x[i] - mx);
    const double lse = mx + log(sum);
    for (int i = 0; i < n; i++) out[i] = (double)x[i] - lse;
}

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) b = x[i] > x[b] ? i : b;
    return b;
}

/* Runs one configuration; logits (N x V) out. */
static tca_status run_config(const tca_model *m, const char *cfg, const int32_t *ids, int64_t L, int N, int threads,
                             float *logits, double *keep) {
    const tca_hparams *hp = tca_model_hparams(m);
    tca_budget *b = NULL;
    tca_status s = TCA_OK;
    tca_context_params cp = tca_context_default_params();
    cp.n_ctx = (int)(L + N);
    cp.n_threads = threads;
    const tca_scorer scorer = strstr(cfg, ":prompt-last") ? TCA_SCORER_PROMPT_LAST : TCA_SCORER_BLOCK_LAST;
    if (!strncmp(cfg, "keep:", 5))
        s = tca_budget_uniform_for_keep(m, TCA_DEFAULT_BLOCK, TCA_DEFAULT_SINK, TCA_DEFAULT_WINDOW, scorer, L,
                                        atof(cfg + 5), 1.0, &b);
    else if (!strncmp(cfg, "budget:", 7)) s = tca_budget_load(cfg + 7, m, &b);
    else if (strcmp(cfg, "dense")) return fprintf(stderr, "kl_vs_dense: unknown config '%s'\n", cfg), TCA_ERR_ARG;
    if (s) return s;
    if (b) cp.attn = TCA_ATTN_TCA, cp.budget = b;
    tca_context *c = NULL;
    if (!(s = tca_context_new(m, &cp, &c))) s = tca_eval(c, ids, L, logits, NULL, NULL);
    for (int i = 1; i < N && !s; i++) s = tca_eval(c, ids + L + i - 1, 1, logits + (size_t)i * hp->n_vocab, NULL, NULL);
    if (!s) {
        tca_cache_stats st;
        tca_context_cache_stats(c, &st);
        *keep = st.keep;
    }
    tca_context_free(c);
    tca_budget_free(b);
    return s;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: kl_vs_dense MODEL TEXT [--skip S] [--tokens L] [--last N] [-t T] [--json F] CONFIG...\n");
        return 2;
    }
    long skip = 0, L = 4096;
    int N = 64, threads = 0, n_cfg = 0;
    const char *cfgs[16], *json_path = NULL;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--skip")) skip = atol(v), i++;
        else if (!strcmp(a, "--tokens")) L = atol(v), i++;
        else if (!strcmp(a, "--last")) N = atoi(v), i++;
        else if (!strcmp(a, "-t")) threads = atoi(v), i++;
        else if (!strcmp(a, "--json")) json_path = v, i++;
        else if (n_cfg < 16) cfgs[n_cfg++] = a;
    }
    char path[4096];
    tca_status s = tca_model_resolve(argv[1], path, sizeof path);
    if (s) return fail("model", s);
    tca_model *m;
    if ((s = tca_model_load(path, &m))) return fail("load", s);
    const int V = tca_model_hparams(m)->n_vocab;
    tca_tokenizer *tok;
    if ((s = tca_tokenizer_load(tca_model_gguf(m), &tok))) return fail("tokenizer", s);
    FILE *f = fopen(argv[2], "rb");
    if (!f) return fprintf(stderr, "kl_vs_dense: cannot open %s\n", argv[2]), 1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len);
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) return 1;
    fclose(f);
    tca_token *all;
    size_t n_all;
    if ((s = tca_tokenize_alloc(tok, text, (size_t)len, 0, &all, &n_all))) return fail("tokenize", s);
    if ((long)n_all < skip + L + N) return fprintf(stderr, "kl_vs_dense: the text has %zu tokens\n", n_all), 1;
    const int32_t *ids = all + skip;
    float *dense = malloc((size_t)N * V * sizeof(float)), *cur = malloc((size_t)N * V * sizeof(float));
    double *ld = malloc((size_t)V * sizeof(double)), *lc = malloc((size_t)V * sizeof(double));
    if (!dense || !cur || !ld || !lc) return 1;
    double keep_dense, nll_dense = 0;
    if ((s = run_config(m, "dense", ids, L, N, threads, dense, &keep_dense))) return fail("dense", s);
    for (int i = 0; i < N; i++) {
        log_softmax(dense + (size_t)i * V, V, ld);
        nll_dense -= ld[ids[L + i]];
    }
    row rows[16];
    char same[16][32];
    for (int k = 0; k < n_cfg; k++) {
        row *r = &rows[k];
        r->config = cfgs[k];
        if (!strncmp(cfgs[k], "keep:same", 9) && k > 0) {
            snprintf(same[k], sizeof same[k], "keep:%.6f%s", rows[k - 1].keep, cfgs[k] + 9);
            r->config = same[k];
        }
        if ((s = run_config(m, r->config, ids, L, N, threads, cur, &r->keep))) return fail(r->config, s);
        double kl = 0, nll = 0;
        int agree = 0;
        for (int i = 0; i < N; i++) {
            const float *xd = dense + (size_t)i * V, *xc = cur + (size_t)i * V;
            log_softmax(xd, V, ld);
            log_softmax(xc, V, lc);
            double sum = 0;
            for (int v = 0; v < V; v++) sum += exp(ld[v]) * (ld[v] - lc[v]);
            kl += sum;
            nll -= lc[ids[L + i]];
            agree += argmax(xd, V) == argmax(xc, V);
        }
        r->kl = kl / N;
        r->top1 = (double)agree / N;
        r->ppl = exp(nll / N);
        fprintf(stderr, "%s: KL %.5f nats, top-1 %.3f, ppl %.3f, keep %.3f\n", r->config, r->kl, r->top1, r->ppl, r->keep);
    }
    printf("model %s, text %s, tokens [%ld, %ld) prefilled, next %d fed one at a time\n\n", path, argv[2], skip,
           skip + L, N);
    printf("| config | keep | KL(dense || config), nats | top-1 = dense | perplexity |\n| --- | ---: | ---: | ---: | ---: |\n");
    printf("| dense | 1.000 | 0 | 1.000 | %.3f |\n", exp(nll_dense / N));
    for (int k = 0; k < n_cfg; k++)
        printf("| %s | %.3f | %.5f | %.3f | %.3f |\n", rows[k].config, rows[k].keep, rows[k].kl, rows[k].top1, rows[k].ppl);
    if (json_path) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "text", argv[2]);
        cJSON_AddNumberToObject(o, "skip", (double)skip);
        cJSON_AddNumberToObject(o, "tokens", (double)L);
        cJSON_AddNumberToObject(o, "last", N);
        cJSON *arr = cJSON_AddArrayToObject(o, "results");
        for (int k = 0; k < n_cfg; k++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "config", rows[k].config);
            cJSON_AddNumberToObject(x, "keep", rows[k].keep);
            cJSON_AddNumberToObject(x, "kl", rows[k].kl);
            cJSON_AddNumberToObject(x, "top1", rows[k].top1);
            cJSON_AddNumberToObject(x, "perplexity", rows[k].ppl);
            cJSON_AddItemToArray(arr, x);
        }
        char *js = cJSON_Print(o);
        FILE *jf = fopen(json_path, "w");
        if (jf) fputs(js, jf), fclose(jf);
        free(js);
        cJSON_Delete(o);
    }
    return 0;
}
