/* tca bench: prompt-processing and generation throughput, modelled on llama.cpp's llama-bench so
 * that rows can be compared side by side (same test names: pp512, tg64 @ d8192). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "commands.h"
#include "tca/tca.h"
#include "tca_config.h"
#include "version.h"

#define MAX_LIST 16

static void help(FILE *f) {
    fprintf(f,
            "usage: tca bench [-m MODEL] [options]\n\n"
            "Measures prompt processing (ppN: N prompt tokens from an empty cache) and generation\n"
            "(tgN @ dD: N tokens one at a time after a D-token context) in tokens/s, mean and\n"
            "standard deviation over repetitions, with the share of time in attention, weight\n"
            "products and everything else. Prompts are random token ids (seeded), as in llama-bench.\n\n"
            "  -m, --model MODEL    .gguf path or fetched model name (default " TCA_DEFAULT_MODEL ")\n"
            "  -p, --n-prompt LIST  prompt lengths, comma-separated (default 512); 0 for none\n"
            "  -n, --n-gen N        tokens per generation test (default 64); 0 for none\n"
            "  -d, --depth LIST     context depths for generation tests (default 0)\n"
            "  -r, --reps N         repetitions per test (default 3)\n"
            "  -t, --threads N      threads (default: all cores)\n"
            "  -b, --batch N        prompt rows per forward step (default 512)\n"
            "  -o, --output FMT     md (default) or json\n");
}

static int parse_list(const char *s, long *out, int *n) {
    *n = 0;
    char *end;
    for (const char *p = s; *p;) {
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v < 0 || v > (1L << 24) || *n == MAX_LIST) return -1;
        out[(*n)++] = v;
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return *n ? 0 : -1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct result {
    char test[48];
    int n_prompt, n_gen, depth;
    double mean, sd;            /* tokens/s */
    double attn, matmul, other; /* shares of the timed forward time */
    uint64_t kv_bytes;
} result;

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static int32_t random_token(int n_vocab) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (int32_t)(rng_state % (uint64_t)n_vocab);
}

/* One test, reps times: prefill `depth` untimed tokens, then time either a prompt of n_prompt
 * tokens (one eval) or n_gen single-token evals. */
static tca_status run_test(tca_context *ctx, int n_vocab, int n_prompt, int n_gen, int depth, int reps, result *r,
                           int32_t *toks) {
    double sum = 0, sum2 = 0, attn = 0, mm = 0, other = 0;
    tca_status s = TCA_OK;
    /* Warm-up, unmeasured (as llama-bench does): pages the weights in and wakes the threads. */
    tca_context_reset(ctx);
    for (int i = 0; i < 16; i++) toks[i] = random_token(n_vocab);
    if ((s = tca_eval(ctx, toks, 16, NULL, NULL, NULL)) != TCA_OK || (s = tca_eval(ctx, toks, 1, NULL, NULL, NULL)) != TCA_OK)
        return s;
    for (int rep = 0; rep < reps; rep++) {
        tca_context_reset(ctx);
        int total = depth + (n_prompt ? n_prompt : n_gen);
        for (int i = 0; i < total; i++) toks[i] = random_token(n_vocab);
        if (depth && (s = tca_eval(ctx, toks, depth, NULL, NULL, NULL)) != TCA_OK) return s;
        tca_timings before = *tca_context_timings(ctx);
        double t0 = now_s();
        if (n_prompt) {
            s = tca_eval(ctx, toks + depth, n_prompt, NULL, NULL, NULL);
        } else {
            for (int i = 0; i < n_gen && s == TCA_OK; i++) s = tca_eval(ctx, toks + depth + i, 1, NULL, NULL, NULL);
        }
        double dt = now_s() - t0;
        if (s != TCA_OK) return s;
        const tca_timings *after = tca_context_timings(ctx);
        attn += after->attn - before.attn;
        mm += after->matmul - before.matmul;
        other += after->other - before.other;
        double tps = (n_prompt ? n_prompt : n_gen) / dt;
        sum += tps;
        sum2 += tps * tps;
        r->kv_bytes = tca_context_kv_bytes(ctx);
    }
    r->mean = sum / reps;
    r->sd = reps > 1 ? sqrt(fmax(0, (sum2 - sum * sum / reps) / (reps - 1))) : 0;
    double tot = attn + mm + other;
    r->attn = tot > 0 ? attn / tot : 0;
    r->matmul = tot > 0 ? mm / tot : 0;
    r->other = tot > 0 ? other / tot : 0;
    return TCA_OK;
}

int tca_cmd_bench(int argc, char **argv) {
    const char *model_arg = TCA_DEFAULT_MODEL, *fmt = "md";
    long pp[MAX_LIST] = {512}, depths[MAX_LIST] = {0};
    int n_pp = 1, n_depth = 1, n_gen = 64, reps = 3, threads = 0, batch = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        char *end;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "tca bench: unknown or incomplete option '%s'\n\n", a);
            help(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model_arg = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) fmt = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--n-prompt")) {
            if (parse_list(v, pp, &n_pp)) return fprintf(stderr, "tca bench: bad -p list '%s'\n", v), 2;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--depth")) {
            if (parse_list(v, depths, &n_depth)) return fprintf(stderr, "tca bench: bad -d list '%s'\n", v), 2;
        } else {
            errno = 0;
            x = strtol(v, &end, 10);
            if (errno || *end || x < 0 || x > (1L << 24))
                return fprintf(stderr, "tca bench: %s expects a non-negative integer, got '%s'\n", a, v), 2;
            if (!strcmp(a, "-n") || !strcmp(a, "--n-gen")) n_gen = (int)x;
            else if ((!strcmp(a, "-r") || !strcmp(a, "--reps")) && x >= 1) reps = (int)x;
            else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && x >= 1) threads = (int)x;
            else if ((!strcmp(a, "-b") || !strcmp(a, "--batch")) && x >= 1) batch = (int)x;
            else {
                fprintf(stderr, "tca bench: unknown option or bad value '%s %s'\n\n", a, v);
                help(stderr);
                return 2;
            }
        }
    }
    if (strcmp(fmt, "md") && strcmp(fmt, "json")) return fprintf(stderr, "tca bench: -o md or json\n"), 2;

    char path[4096];
    tca_status s = tca_model_resolve(model_arg, path, sizeof path);
    if (s != TCA_OK) return tca_tool_fail("model", s);
    tca_model *model = NULL;
    if ((s = tca_model_load(path, &model)) != TCA_OK) return tca_tool_fail("loading the model", s);
    const tca_hparams *hp = tca_model_hparams(model);
    long need = 17; /* the warm-up's 16 + 1 tokens */
    for (int i = 0; i < n_pp; i++) need = pp[i] > need ? pp[i] : need;
    for (int i = 0; i < n_depth && n_gen; i++) need = depths[i] + n_gen > need ? depths[i] + n_gen : need;
    if (need > hp->n_ctx_train) {
        fprintf(stderr, "tca bench: tests need %ld tokens of context; the model has %d\n", need, hp->n_ctx_train);
        tca_model_free(model);
        return 2;
    }
    tca_context_params cp = tca_context_default_params();
    cp.n_ctx = (int)need;
    cp.n_threads = threads;
    cp.n_batch = batch;
    tca_context *ctx = NULL;
    int32_t *toks = malloc((size_t)need * sizeof *toks);
    if ((s = tca_context_new(model, &cp, &ctx)) != TCA_OK || !toks) {
        free(toks);
        tca_model_free(model);
        return tca_tool_fail("context", s);
    }
    result res[2 * MAX_LIST] = {0};
    int n_res = 0;
    for (int i = 0; i < n_pp; i++) {
        if (!pp[i]) continue;
        result *r = &res[n_res++];
        snprintf(r->test, sizeof r->test, "pp%ld", pp[i]);
        r->n_prompt = (int)pp[i];
        if ((s = run_test(ctx, hp->n_vocab, (int)pp[i], 0, 0, reps, r, toks)) != TCA_OK) break;
        fprintf(stderr, "%s: %.2f tok/s\n", r->test, r->mean);
    }
    for (int i = 0; i < n_depth && n_gen && s == TCA_OK; i++) {
        result *r = &res[n_res++];
        snprintf(r->test, sizeof r->test, depths[i] ? "tg%d @ d%ld" : "tg%d", n_gen, depths[i]);
        r->n_gen = n_gen;
        r->depth = (int)depths[i];
        if ((s = run_test(ctx, hp->n_vocab, 0, n_gen, (int)depths[i], reps, r, toks)) != TCA_OK) break;
        fprintf(stderr, "%s: %.2f tok/s\n", r->test, r->mean);
    }
    int rc = 0;
    if (s != TCA_OK) {
        rc = tca_tool_fail("bench", s);
    } else {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double peak_mib = (double)ru.ru_maxrss / 1024.0;
        const char *name;
        size_t name_len;
        if (tca_gguf_get_str(tca_model_gguf(model), "general.name", &name, &name_len) != TCA_OK) name = "?", name_len = 1;
        double size_gib = (double)tca_model_weight_bytes(model) / (1 << 30);
        const char *isa = tca_isa_active_name();
        int nt = tca_context_n_threads(ctx);
        if (!strcmp(fmt, "json")) {
            cJSON *root = cJSON_CreateObject();
            cJSON_AddStringToObject(root, "commit", TCA_COMMIT);
            cJSON_AddStringToObject(root, "model", path);
            cJSON_AddStringToObject(root, "arch", hp->arch_name);
            cJSON_AddNumberToObject(root, "model_bytes", (double)tca_model_weight_bytes(model));
            cJSON_AddStringToObject(root, "isa", isa);
            cJSON_AddNumberToObject(root, "threads", nt);
            cJSON_AddNumberToObject(root, "peak_memory_bytes", peak_mib * (1 << 20));
            cJSON *rows = cJSON_AddArrayToObject(root, "results");
            for (int i = 0; i < n_res; i++) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "test", res[i].test);
                cJSON_AddNumberToObject(o, "n_prompt", res[i].n_prompt);
                cJSON_AddNumberToObject(o, "n_gen", res[i].n_gen);
                cJSON_AddNumberToObject(o, "depth", res[i].depth);
                cJSON_AddNumberToObject(o, "tokens_per_s", res[i].mean);
                cJSON_AddNumberToObject(o, "tokens_per_s_sd", res[i].sd);
                cJSON_AddNumberToObject(o, "attention_share", res[i].attn);
                cJSON_AddNumberToObject(o, "matmul_share", res[i].matmul);
                cJSON_AddNumberToObject(o, "other_share", res[i].other);
                cJSON_AddNumberToObject(o, "kv_bytes", (double)res[i].kv_bytes);
                cJSON_AddItemToArray(rows, o);
            }
            char *js = cJSON_Print(root);
            puts(js);
            free(js);
            cJSON_Delete(root);
        } else {
            printf("model: %.*s (%s), %.2f GiB of weights; isa %s; %d threads; commit %s; peak memory %.1f MiB\n\n",
                   (int)name_len, name, hp->arch_name, size_gib, isa, nt, TCA_COMMIT, peak_mib);
            printf("| test | t/s | attention | matmul | other | KV MiB |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
            for (int i = 0; i < n_res; i++)
                printf("| %s | %.2f ± %.2f | %.1f%% | %.1f%% | %.1f%% | %.1f |\n", res[i].test, res[i].mean, res[i].sd,
                       100 * res[i].attn, 100 * res[i].matmul, 100 * res[i].other,
                       (double)res[i].kv_bytes / (1 << 20));
        }
    }
    free(toks);
    tca_context_free(ctx);
    tca_model_free(model);
    return rc;
}
