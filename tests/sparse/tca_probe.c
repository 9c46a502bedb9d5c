/* Test driver for TCA-Attention: runs a real text through the runtime under a given attention
 * configuration and writes what check_tca.py compares against the numpy oracle
 * (tests/reference/tca_ref.py) and against dense attention, as one JSON object:
 *   logits of the last prompt token, greedy continuation (and each step's top-two margin), per
 *   (layer, KV head) the positions held and the recorded block-last scores (a then e per
 *   block), each head's p, cache stats;
 *   with the prompt-last scorer also "prompt_scores": per ranked block [j, its slice of the
 *   prompt-last softmax (b floats), its ranking key].
 *
 *   tca_probe MODEL TEXT N_TOKENS OUT.json [--dense | --keep X | --onehot K] [--block B]
 *             [--sink S] [--window W] [--scorer block-last|prompt-last] [--feed prefill|decode|split]
 *             [--gen G] [--method streaming|snapkv] [--rows-at P,P,..] [--redundancy entropy|mass]
 *             [--prefill-window W]
 * --onehot K: every head keeps exactly K tokens of every block (K = block: must equal dense).
 * --feed decode: the first token as a prefill, then one token at a time (the decode path);
 *        split: two prefills (half, then the rest: a prefill continuing a compressed cache).
 * --method: a baseline at --keep X (tca_budget_baseline) instead of TCA's uniform configuration.
 * --rows-at: the prompt runs through tca_eval_rows and the logits of these positions are written
 *        too ("rows": one array per position).
 * --prefill-window: the budget's prefill_window (raw tokens a prompt row sees before its block). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tca/tca.h"

static int fail(const char *what, tca_status s) {
    fprintf(stderr, "tca_probe: %s: %s: %s\n", what, tca_status_str(s), tca_last_error());
    return 1;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* --rows-at: the rows asked for, collected by the tca_eval_rows callback (n_vocab is known
 * through the first call's caller: set before the eval). */
static const char *rows_want;
static cJSON *rows_out;
static int rows_vocab;
static int64_t rows_last;
static float *last_row;

static void keep_rows(int64_t pos, int64_t n, const float *logits, void *user) {
    (void)user;
    for (int64_t i = 0; i < n; i++) {
        if (pos + i == rows_last) memcpy(last_row, logits + i * rows_vocab, (size_t)rows_vocab * sizeof(float));
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)(pos + i));
        for (const char *p = rows_want; p && *p;) { /* is pos + i in the list? */
            if (atol(p) == pos + i) cJSON_AddItemToObject(rows_out, key, cJSON_CreateFloatArray(logits + i * rows_vocab, rows_vocab));
            p = strchr(p, ',');
            if (p) p++;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: tca_probe MODEL TEXT N_TOKENS OUT.json [options]\n");
        return 2;
    }
    int dense = 0, onehot = 0, block = 32, sink = 64, window = 512, n_gen = 0, prefill_window = 0;
    double keep = 0;
    const char *feed = "prefill", *rows_at = NULL;
    tca_method method = TCA_METHOD_TCA;
    tca_scorer scorer = TCA_SCORER_BLOCK_LAST;
    int redundancy = -1; /* the library's default for the scorer */
    for (int i = 5; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--dense")) dense = 1;
        else if (!strcmp(a, "--keep")) keep = atof(v), i++;
        else if (!strcmp(a, "--onehot")) onehot = atoi(v), i++;
        else if (!strcmp(a, "--block")) block = atoi(v), i++;
        else if (!strcmp(a, "--sink")) sink = atoi(v), i++;
        else if (!strcmp(a, "--window")) window = atoi(v), i++;
        else if (!strcmp(a, "--prefill-window")) prefill_window = atoi(v), i++;
        else if (!strcmp(a, "--gen")) n_gen = atoi(v), i++;
        else if (!strcmp(a, "--feed")) feed = v, i++;
        else if (!strcmp(a, "--scorer")) scorer = strcmp(v, "prompt-last") ? TCA_SCORER_BLOCK_LAST : TCA_SCORER_PROMPT_LAST, i++;
        else if (!strcmp(a, "--redundancy")) redundancy = strcmp(v, "mass") ? TCA_REDUNDANCY_ENTROPY : TCA_REDUNDANCY_MASS, i++;
        else if (!strcmp(a, "--method")) method = strcmp(v, "streaming") ? TCA_METHOD_SNAPKV : TCA_METHOD_STREAMING, i++;
        else if (!strcmp(a, "--rows-at")) rows_at = v, i++;
        else return fprintf(stderr, "tca_probe: unknown option %s\n", a), 2;
    }
    char path[4096];
    tca_status s = tca_model_resolve(argv[1], path, sizeof path);
    if (s) return fail("model (run `tca fetch` first)", s);
    tca_model *m;
    if ((s = tca_model_load(path, &m))) return fail("load", s);
    const tca_hparams *hp = tca_model_hparams(m);
    tca_tokenizer *tok;
    if ((s = tca_tokenizer_load(tca_model_gguf(m), &tok))) return fail("tokenizer", s);
    size_t len, n_all;
    char *text = slurp(argv[2], &len);
    if (!text) return fprintf(stderr, "tca_probe: cannot read %s\n", argv[2]), 1;
    tca_token *ids;
    if ((s = tca_tokenize_alloc(tok, text, len, 0, &ids, &n_all))) return fail("tokenize", s);
    const int64_t n = atol(argv[3]);
    if ((int64_t)n_all < n) return fprintf(stderr, "tca_probe: the text has only %zu tokens\n", n_all), 1;

    tca_budget *budget = NULL;
    tca_context_params p = tca_context_default_params();
    p.n_ctx = (int)(n + n_gen + 1);
    if (!dense) {
        if (method != TCA_METHOD_TCA)
            s = tca_budget_baseline(m, method, block, sink, window, n, keep, &budget);
        else if (keep > 0)
            s = tca_budget_uniform_for_keep(m, block, sink, window, scorer, n, keep, 1.0, &budget);
        else
            s = tca_budget_new_uniform(m, block, sink, window, scorer, 0.0, 1.0, &budget);
        if (s) return fail("budget", s);
        if (redundancy >= 0) budget->redundancy = (tca_redundancy)redundancy;
        budget->prefill_window = prefill_window;
        if (onehot) {
            int ci = 0;
            while ((1 << ci) < onehot) ci++;
            for (int h = 0; h < hp->n_layer * hp->n_head_kv; h++) {
                memset(budget->heads[h].p, 0, sizeof budget->heads[h].p);
                budget->heads[h].p[ci] = 1.0;
            }
        }
        p.attn = TCA_ATTN_TCA;
        p.budget = budget;
    }
    tca_context *c;
    if ((s = tca_context_new(m, &p, &c))) return fail("context", s);
    float *logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    rows_out = cJSON_CreateObject();
    rows_vocab = hp->n_vocab;
    rows_last = n - 1;
    last_row = malloc((size_t)hp->n_vocab * sizeof *last_row);
    if (!strcmp(feed, "decode")) {
        for (int64_t i = 0; i < n && !s; i++) s = tca_eval(c, ids + i, 1, i == n - 1 ? logits : NULL, NULL, NULL);
    } else if (!strcmp(feed, "split")) {
        if (!(s = tca_eval(c, ids, n / 2, NULL, NULL, NULL))) s = tca_eval(c, ids + n / 2, n - n / 2, logits, NULL, NULL);
    } else if (rows_at) {
        rows_want = rows_at;
        s = tca_eval_rows(c, ids, n, 0, keep_rows, NULL);
        memcpy(logits, last_row, (size_t)hp->n_vocab * sizeof *logits);
    } else {
        s = tca_eval(c, ids, n, logits, NULL, NULL);
    }
    if (s) return fail("eval", s);

    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "n_tokens", (double)n);
    cJSON_AddItemToObject(out, "ids", cJSON_CreateIntArray(ids, (int)n));
    cJSON_AddNumberToObject(out, "n_layer", hp->n_layer);
    cJSON_AddNumberToObject(out, "n_head_kv", hp->n_head_kv);
    cJSON_AddNumberToObject(out, "head_dim", hp->head_dim);
    if (budget) {
        cJSON_AddNumberToObject(out, "block", budget->block);
        cJSON_AddNumberToObject(out, "sink", budget->sink);
        cJSON_AddNumberToObject(out, "window", budget->window);
        cJSON_AddNumberToObject(out, "core_frac", budget->core_frac);
    }
    cJSON_AddItemToObject(out, "logits", cJSON_CreateFloatArray(logits, hp->n_vocab));
    cJSON_AddItemToObject(out, "rows", rows_out);
    tca_cache_stats st;
    tca_context_cache_stats(c, &st);
    cJSON *js = cJSON_AddObjectToObject(out, "stats");
    cJSON_AddNumberToObject(js, "keep", st.keep);
    cJSON_AddNumberToObject(js, "kv_bytes", (double)st.kv_bytes);
    cJSON_AddNumberToObject(js, "kv_bytes_dense", (double)st.kv_bytes_dense);
    cJSON_AddNumberToObject(js, "layer_mean", st.layer_mean);
    cJSON_AddNumberToObject(js, "layer_min", st.layer_min);
    cJSON_AddNumberToObject(js, "layer_max", st.layer_max);
    cJSON_AddNumberToObject(js, "capacity_clamps", (double)st.capacity_clamps);
    cJSON *heads = cJSON_AddArrayToObject(out, "heads");
    int32_t *pos = malloc((size_t)p.n_ctx * sizeof *pos);
    float a[65], e;
    for (int l = 0; l < hp->n_layer; l++)
        for (int g = 0; g < hp->n_head_kv; g++) {
            cJSON *h = cJSON_CreateObject();
            cJSON_AddNumberToObject(h, "layer", l);
            cJSON_AddNumberToObject(h, "kv_head", g);
            int64_t np = tca_context_head_positions(c, l, g, pos, p.n_ctx);
            cJSON_AddItemToObject(h, "positions", cJSON_CreateIntArray(pos, (int)np));
            if (budget) {
                const tca_head_budget *hb = &budget->heads[l * hp->n_head_kv + g];
                cJSON_AddItemToObject(h, "p", cJSON_CreateDoubleArray(hb->p, tca_budget_n_counts(budget)));
                cJSON *sc = cJSON_AddArrayToObject(h, "scores");
                for (int64_t j = 0; tca_context_block_score(c, l, g, j, a, &e) == 0; j++) {
                    a[budget->block] = e;
                    cJSON_AddItemToArray(sc, cJSON_CreateFloatArray(a, budget->block + 1));
                }
                if (budget->scorer == TCA_SCORER_PROMPT_LAST) {
                    cJSON *ps = cJSON_AddArrayToObject(h, "prompt_scores");
                    float row[66];
                    for (int64_t j = 0; j < n / budget->block; j++)
                        if (tca_context_prompt_score(c, l, g, j, row + 1, &row[budget->block + 1]) == 0) {
                            row[0] = (float)j;
                            cJSON_AddItemToArray(ps, cJSON_CreateFloatArray(row, budget->block + 2));
                        }
                }
            }
            cJSON_AddItemToArray(heads, h);
        }
    /* greedy_margin[i]: (top logit - second) / (max - min) at step i, so that a test can tell a
     * divergence at a near tie (float summation order) from a real one */
    cJSON *greedy = cJSON_AddArrayToObject(out, "greedy"), *margin = cJSON_AddArrayToObject(out, "greedy_margin");
    for (int i = 0; i < n_gen; i++) {
        int best = 0, second = -1, lo = 0;
        for (int v = 1; v < hp->n_vocab; v++) {
            if (logits[v] > logits[best]) second = best, best = v;
            else if (second < 0 || logits[v] > logits[second]) second = v;
            if (logits[v] < logits[lo]) lo = v;
        }
        cJSON_AddItemToArray(greedy, cJSON_CreateNumber(best));
        cJSON_AddItemToArray(margin, cJSON_CreateNumber((logits[best] - logits[second]) / (logits[best] - logits[lo])));
        int32_t t = best;
        if (i + 1 < n_gen && (s = tca_eval(c, &t, 1, logits, NULL, NULL))) return fail("decode", s);
    }
    tca_cache_stats st2;
    tca_context_cache_stats(c, &st2);
    cJSON_AddNumberToObject(out, "keep_after_gen", st2.keep);
    char *txt = cJSON_PrintUnformatted(out);
    FILE *f = fopen(argv[4], "w");
    if (!f || fputs(txt, f) < 0) return fprintf(stderr, "tca_probe: cannot write %s\n", argv[4]), 1;
    fclose(f);
    return 0;
}
