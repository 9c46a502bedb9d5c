/* tca bench: prompt-processing and generation throughput, modelled on llama.cpp's llama-bench so
 * that rows can be compared side by side (same test names: pp512, tg64 @ d8192). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "attn_opts.h"
#include "commands.h"
#include "tca/tca.h"
#include "tca_config.h"
#include "version.h"
#include "wall_clock.h"

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
            "  -o, --output FMT     md (default) or json\n"
            "      --time-depth     also report each generation test's depth prefill as a ppD row\n"
            "                       (one prefill of D tokens instead of two at long context)\n"
            "      --attn LIST      attention modes to run, comma-separated: dense, tca (default dense,\n"
            "                       or tca alone when a TCA option is given); with both, every test runs\n"
            "                       under each and a second table gives the ratios tca/dense measured in\n"
            "                       this run: throughput, attention time, and Amdahl's bound\n"
            "TCA options (a uniform --tca-keep is solved at each test's length: depth + prompt for ppN,\n"
            "the depth for tgN):\n%s",
            attn_help + strcspn(attn_help, "\n") + 1);
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

typedef struct result {
    char test[48];
    int mode; /* 0 dense, 1 tca */
    double keep_req; /* tca with a uniform --tca-keep: the requested keep */
    int n_prompt, n_gen, depth;
    bool skipped;               /* the TCA configuration cannot be met at this length */
    double mean, sd;            /* tokens/s */
    double attn, select, matmul, other; /* shares of the timed forward time */
    double attn_s, select_s;    /* seconds per repetition */
    uint64_t kv_bytes, kv_bytes_dense;
    double keep;
} result;

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static int32_t random_token(int n_vocab) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (int32_t)(rng_state % (uint64_t)n_vocab);
}

/* Sums of one test's repetitions. */
typedef struct accum {
    double sum, sum2, attn, sel, mm, other;
} accum;

static void accum_add(accum *a, const tca_timings *before, const tca_context *ctx, int tokens, double dt, result *r) {
    const tca_timings *after = tca_context_timings(ctx);
    a->attn += after->attn - before->attn;
    a->sel += after->select - before->select;
    a->mm += after->matmul - before->matmul;
    a->other += after->other - before->other;
    double tps = tokens / dt;
    a->sum += tps;
    a->sum2 += tps * tps;
    tca_cache_stats cs;
    tca_context_cache_stats(ctx, &cs);
    r->kv_bytes = cs.kv_bytes;
    r->kv_bytes_dense = cs.kv_bytes_dense;
    r->keep = cs.keep;
}

static void accum_finish(const accum *a, int reps, result *r) {
    r->mean = a->sum / reps;
    r->sd = reps > 1 ? sqrt(fmax(0, (a->sum2 - a->sum * a->sum / reps) / (reps - 1))) : 0;
    double tot = a->attn + a->sel + a->mm + a->other;
    r->attn_s = a->attn / reps;
    r->select_s = a->sel / reps;
    r->attn = tot > 0 ? a->attn / tot : 0;
    r->select = tot > 0 ? a->sel / tot : 0;
    r->matmul = tot > 0 ? a->mm / tot : 0;
    r->other = tot > 0 ? a->other / tot : 0;
}

/* One test, reps times: prefill `depth` tokens (timed into r_depth when given: the ppD row of
 * --time-depth, which saves a second prefill of D tokens), then time either a prompt of n_prompt
 * tokens (one eval) or n_gen single-token evals. */
static tca_status run_test(tca_context *ctx, int n_vocab, int n_prompt, int n_gen, int depth, int reps, result *r,
                           result *r_depth, int32_t *toks) {
    accum a = {0}, ad = {0};
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
        tca_timings before = *tca_context_timings(ctx);
        double t0 = now_s();
        if (depth && (s = tca_eval(ctx, toks, depth, NULL, NULL, NULL)) != TCA_OK) return s;
        if (r_depth) accum_add(&ad, &before, ctx, depth, now_s() - t0, r_depth);
        before = *tca_context_timings(ctx);
        t0 = now_s();
        if (n_prompt) {
            s = tca_eval(ctx, toks + depth, n_prompt, NULL, NULL, NULL);
        } else {
            for (int i = 0; i < n_gen && s == TCA_OK; i++) s = tca_eval(ctx, toks + depth + i, 1, NULL, NULL, NULL);
        }
        double dt = now_s() - t0;
        if (s != TCA_OK) return s;
        accum_add(&a, &before, ctx, n_prompt ? n_prompt : n_gen, dt, r);
    }
    accum_finish(&a, reps, r);
    if (r_depth) accum_finish(&ad, reps, r_depth);
    return TCA_OK;
}

/* Runs one test under one attention mode in a context of its own (a uniform TCA configuration
 * is solved at the test's length). */
static tca_status bench_one(const tca_model *model, const attn_options *ao, int mode, long need, int threads, int batch,
                            int reps, result *r, result *r_depth, int32_t *toks) {
    attn_options a = *ao;
    a.mode = mode;
    if (mode == 0) a.budget_path = NULL, a.keep = 0;
    else if (r->keep_req > 0) a.keep = r->keep_req;
    tca_context_params cp = tca_context_default_params();
    cp.n_ctx = (int)need;
    cp.n_threads = threads;
    cp.n_batch = batch;
    tca_budget *budget = NULL;
    long L = r->n_prompt ? r->depth + r->n_prompt : r->depth;
    if (attn_configure(&a, model, L, &cp, &budget) != 0) {
        r->skipped = true;
        return TCA_OK;
    }
    tca_context *ctx = NULL;
    tca_status s = tca_context_new(model, &cp, &ctx);
    if (s == TCA_OK)
        s = run_test(ctx, tca_model_hparams(model)->n_vocab, r->n_prompt, r->n_gen, r->depth, reps, r, r_depth, toks);
    tca_context_free(ctx);
    tca_budget_free(budget);
    return s;
}

static const char *mode_name(const result *r, char *buf, size_t cap) {
    if (!r->mode) return "dense";
    if (r->keep_req > 0) snprintf(buf, cap, "tca %g", r->keep_req);
    else snprintf(buf, cap, "tca");
    return buf;
}

static void print_md(const result *res, int n_res, bool both) {
    char nm[32];
    printf("| test | attention | t/s | attention | selection | matmul | other | KV MiB | keep |\n"
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < n_res; i++) {
        const result *r = &res[i];
        if (r->skipped) {
            printf("| %s | %s | (TCA configuration refused at this length: see the message above) | | | | | | |\n", r->test,
                   mode_name(r, nm, sizeof nm));
            continue;
        }
        printf("| %s | %s | %.2f ± %.2f | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f | %.3f |\n", r->test,
               mode_name(r, nm, sizeof nm), r->mean, r->sd, 100 * r->attn, 100 * r->select, 100 * r->matmul,
               100 * r->other, (double)r->kv_bytes / (1 << 20), r->keep);
    }
    if (!both) return;
    /* Ratios of the two modes measured in this run. Amdahl: with attention a share `a` of dense
     * time and sped up by 1/keep at best, the end-to-end speedup is at most 1 / (1 - a + a keep). */
    printf("\n| test | keep | speedup tca/dense | attention speedup | incl. selection | ideal 1/keep | "
           "attention / ideal | Amdahl bound | speedup / bound | KV tca/dense |\n"
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    const result *d = NULL;
    for (int i = 0; i < n_res; i++) {
        const result *t = &res[i];
        if (t->mode == 0) {
            d = t;
            continue;
        }
        if (!d || strcmp(d->test, t->test) || d->skipped || t->skipped || t->mean <= 0 || t->attn_s <= 0) continue;
        double su = t->mean / d->mean, as = d->attn_s / t->attn_s, asel = d->attn_s / (t->attn_s + t->select_s);
        double ideal = 1 / t->keep, bound = 1 / (1 - d->attn + d->attn * t->keep);
        printf("| %s | %.3f | %.2f | %.2f | %.2f | %.2f | %.0f%% | %.2f | %.0f%% | %.3f |\n", d->test, t->keep, su, as,
               asel, ideal, 100 * asel / ideal, bound, 100 * su / bound, (double)t->kv_bytes / (double)d->kv_bytes);
    }
}

int tca_cmd_bench(int argc, char **argv) {
    const char *model_arg = TCA_DEFAULT_MODEL, *fmt = "md";
    long pp[MAX_LIST] = {512}, depths[MAX_LIST] = {0};
    int n_pp = 1, n_depth = 1, n_gen = 64, reps = 3, threads = 0, batch = 0;
    int modes[2] = {0, 0}, n_modes = 0;
    bool time_depth = false;
    double keeps[4] = {0};
    int n_keeps = 0;
    attn_options ao;
    attn_options_default(&ao);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        char *end;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        }
        if (!strcmp(a, "--time-depth")) {
            time_depth = true;
            continue;
        }
        if (!strcmp(a, "--attn") && v) {
            n_modes = 0;
            for (const char *p = v; *p;) {
                size_t n = strcspn(p, ",");
                int m = n == 5 && !strncmp(p, "dense", 5) ? 0 : n == 3 && !strncmp(p, "tca", 3) ? 1 : -1;
                if (m < 0 || n_modes == 2) return fprintf(stderr, "tca bench: --attn expects dense, tca or dense,tca\n"), 2;
                modes[n_modes++] = m;
                p += n + (p[n] == ',');
            }
            i++;
            continue;
        }
        if (!strcmp(a, "--tca-keep") && v) { /* bench takes a list: one tca row per keep ratio */
            n_keeps = 0;
            for (const char *p = v; *p && n_keeps < 4;) {
                char *e;
                double k = strtod(p, &e);
                if (e == p || !(k > 0 && k <= 1) || (*e && *e != ','))
                    return fprintf(stderr, "tca bench: --tca-keep expects ratios in (0, 1], comma-separated\n"), 2;
                keeps[n_keeps++] = k;
                p = *e ? e + 1 : e;
            }
            ao.keep = keeps[0];
            i++;
            continue;
        }
        int r = attn_parse(&ao, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
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
    if (n_modes == 0) modes[n_modes++] = ao.budget_path || ao.keep > 0 ? 1 : 0;

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
    int32_t *toks = malloc((size_t)need * sizeof *toks);
    result res[12 * MAX_LIST] = {0}, depth_res[6 * MAX_LIST] = {0};
    int n_res = 0, n_depth_res = 0;
    for (int i = 0; i < n_pp + n_depth && s == TCA_OK && toks; i++) {
        const bool is_pp = i < n_pp;
        if (is_pp ? !pp[i] : !n_gen) continue;
        int n_rows = 0, row_mode[6];
        double row_keep[6];
        for (int mi = 0; mi < n_modes; mi++)
            for (int ki = 0; ki < (modes[mi] && n_keeps ? n_keeps : 1); ki++) {
                row_mode[n_rows] = modes[mi];
                row_keep[n_rows++] = modes[mi] && n_keeps ? keeps[ki] : 0;
            }
        for (int mi = 0; mi < n_rows && s == TCA_OK; mi++) {
            result *r = &res[n_res++];
            r->mode = row_mode[mi];
            r->keep_req = row_keep[mi];
            if (is_pp) {
                snprintf(r->test, sizeof r->test, "pp%ld", pp[i]);
                r->n_prompt = (int)pp[i];
            } else {
                long dep = depths[i - n_pp];
                snprintf(r->test, sizeof r->test, dep ? "tg%d @ d%ld" : "tg%d", n_gen, dep);
                r->n_gen = n_gen;
                r->depth = (int)dep;
            }
            result *rd = NULL;
            if (!is_pp && time_depth && r->depth) {
                rd = &depth_res[n_depth_res++];
                rd->mode = r->mode;
                rd->keep_req = r->keep_req;
                rd->n_prompt = r->depth;
                snprintf(rd->test, sizeof rd->test, "pp%d", r->depth);
            }
            s = bench_one(model, &ao, r->mode, need, threads, batch, reps, r, rd, toks);
            if (rd) rd->skipped = r->skipped;
            if (s == TCA_OK && !r->skipped)
                fprintf(stderr, "%s %s: %.2f tok/s (attention %.1f%%, keep %.3f)\n", r->test, r->mode ? "tca" : "dense",
                        r->mean, 100 * r->attn, r->keep);
        }
    }
    /* the depth prefills come first, as pp rows */
    if (n_depth_res) {
        memmove(res + n_depth_res, res, (size_t)n_res * sizeof *res);
        memcpy(res, depth_res, (size_t)n_depth_res * sizeof *res);
        n_res += n_depth_res;
    }
    int rc = 0;
    if (s != TCA_OK || !toks) {
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
        int nt = threads ? threads : tca_default_threads();
        char attn_name[512];
        if (ao.budget_path) snprintf(attn_name, sizeof attn_name, "tca budget %s", ao.budget_path);
        else if (n_keeps) snprintf(attn_name, sizeof attn_name, "tca uniform keep per row");
        else snprintf(attn_name, sizeof attn_name, "tca: the model's shipped budget where a row says tca");
        if (!strcmp(fmt, "json")) {
            cJSON *root = cJSON_CreateObject();
            cJSON_AddStringToObject(root, "commit", TCA_COMMIT);
            cJSON_AddStringToObject(root, "model", path);
            cJSON_AddStringToObject(root, "arch", hp->arch_name);
            cJSON_AddNumberToObject(root, "model_bytes", (double)tca_model_weight_bytes(model));
            cJSON_AddStringToObject(root, "isa", isa);
            cJSON_AddNumberToObject(root, "threads", nt);
            cJSON_AddStringToObject(root, "tca", attn_name);
            cJSON_AddNumberToObject(root, "peak_memory_bytes", peak_mib * (1 << 20));
            cJSON *rows = cJSON_AddArrayToObject(root, "results");
            for (int i = 0; i < n_res; i++) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "test", res[i].test);
                cJSON_AddStringToObject(o, "attention", res[i].mode ? "tca" : "dense");
                if (res[i].keep_req > 0) cJSON_AddNumberToObject(o, "keep_requested", res[i].keep_req);
                cJSON_AddBoolToObject(o, "skipped", res[i].skipped);
                cJSON_AddNumberToObject(o, "n_prompt", res[i].n_prompt);
                cJSON_AddNumberToObject(o, "n_gen", res[i].n_gen);
                cJSON_AddNumberToObject(o, "depth", res[i].depth);
                cJSON_AddNumberToObject(o, "tokens_per_s", res[i].mean);
                cJSON_AddNumberToObject(o, "tokens_per_s_sd", res[i].sd);
                cJSON_AddNumberToObject(o, "attention_share", res[i].attn);
                cJSON_AddNumberToObject(o, "selection_share", res[i].select);
                cJSON_AddNumberToObject(o, "matmul_share", res[i].matmul);
                cJSON_AddNumberToObject(o, "other_share", res[i].other);
                cJSON_AddNumberToObject(o, "attention_seconds", res[i].attn_s);
                cJSON_AddNumberToObject(o, "selection_seconds", res[i].select_s);
                cJSON_AddNumberToObject(o, "kv_bytes", (double)res[i].kv_bytes);
                cJSON_AddNumberToObject(o, "kv_bytes_dense", (double)res[i].kv_bytes_dense);
                cJSON_AddNumberToObject(o, "keep", res[i].keep);
                cJSON_AddItemToArray(rows, o);
            }
            char *js = cJSON_Print(root);
            puts(js);
            free(js);
            cJSON_Delete(root);
        } else {
            printf("model: %.*s (%s), %.2f GiB of weights; isa %s; %d threads; commit %s; %s; peak memory %.1f MiB\n\n",
                   (int)name_len, name, hp->arch_name, size_gib, isa, nt, TCA_COMMIT, attn_name, peak_mib);
            print_md(res, n_res, n_modes == 2 && modes[0] == 0 && modes[1] == 1);
        }
    }
    free(toks);
    tca_model_free(model);
    return rc;
}
