/* tca calibrate: writes a head-budget file for a model from a calibration text (spec section 5),
 * with a JSON report of every measurement and, with --plots, two PNGs drawn by gnuplot. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"
#include "generate.h"
#include "tca/tca.h"
#include "tca_config.h"
#include "wall_clock.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: tca calibrate [-m MODEL] --text FILE (--target-keep X | --tolerance EPS) -o BUDGET.json [options]\n\n"
            "One dense forward pass over the text; at every layer each candidate retain-count distribution\n"
            "(log-Gaussian mu in 0, 0.5, .., log2 B; sigma in 0.25, 0.5, 1, 2, 4; and dense) runs per KV head\n"
            "through the inference selection and sparse attention, and its error against dense attention is\n"
            "measured on the last query rows. Per head, one candidate is chosen: for a target mean keep ratio\n"
            "(Lagrangian bisection over all heads, token-weighted, sink and window included), or the smallest\n"
            "keep whose error is within a tolerance. Same inputs give a byte-identical file.\n\n"
            "  -m, --model MODEL    .gguf path or fetched model name (default " TCA_DEFAULT_MODEL ")\n"
            "      --text FILE      calibration text (plain UTF-8; a public-domain book)\n"
            "      --tokens N       use the first N tokens of it (default: 8192, at most the model's context)\n"
            "      --target-keep X  mean whole-cache keep ratio over heads (e.g. 0.39); a comma-separated list\n"
            "                       writes one budget per ratio from the same pass (-o takes as many files).\n"
            "                       No head keeps less than the sink, the window and one token per block:\n"
            "                       a target under that floor is refused, one within a token per block of\n"
            "                       it warned about (the budget comes out nearly uniform; for keep 0.1 with\n"
            "                       the other defaults, --block 64)\n"
            "      --tolerance EPS  per head: smallest keep with relative L2 error <= EPS\n"
            "      --block B        16, 32 (default) or 64\n"
            "      --sink S         default 64\n"
            "      --window W       default 512 (a multiple of B)\n"
            "      --scorer S       prompt-last (default) or block-last\n"
            "      --redundancy R   mass or entropy (mass: prompt-last only; default mass with prompt-last,\n"
            "                       entropy with block-last)\n"
            "      --rows R         last query rows whose error is measured (default 512)\n"
            "  -t, --threads N      threads (default: all cores)\n"
            "  -o, --output FILE    the budget file to write (a comma-separated list with several targets)\n"
            "      --report FILE    every candidate's error and keep per head, the choice, time, memory (JSON)\n"
            "      --plots DIR      DIR/keep_heatmap.png (keep per layer and KV head) and DIR/error_vs_keep.png\n"
            "                       (every candidate, chosen ones marked), drawn with gnuplot\n");
}

typedef struct progress {
    double t0;
    int n_layer;
    int64_t total;
    int tty;
} progress;

static void show_layer(int64_t done, int64_t total, void *user) {
    progress *p = user;
    const int layer = (int)((done * p->n_layer + total / 2) / total);
    fprintf(stderr, "%scalibrating: layer %d/%d, %.0f s%s", p->tty ? "\r" : "", layer, p->n_layer, now_s() - p->t0,
            p->tty && layer < p->n_layer ? "" : "\n");
}

static int write_report(const char *path, const tca_calib_report *r, const tca_budget *b, double seconds,
                        double peak_mib) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", b->name);
    cJSON_AddStringToObject(o, "fingerprint", b->fingerprint);
    cJSON_AddStringToObject(o, "text", b->calib_text);
    cJSON_AddNumberToObject(o, "tokens", (double)r->tokens);
    cJSON_AddStringToObject(o, "mode", b->calib_mode);
    cJSON_AddNumberToObject(o, "target", b->calib_target);
    cJSON_AddNumberToObject(o, "lambda", r->lambda);
    cJSON_AddNumberToObject(o, "mean_keep", r->mean_keep);
    cJSON_AddNumberToObject(o, "mean_err", r->mean_err);
    cJSON_AddNumberToObject(o, "seconds", seconds);
    cJSON_AddNumberToObject(o, "peak_memory_mib", peak_mib);
    cJSON_AddItemToObject(o, "candidate_mu", cJSON_CreateDoubleArray(r->cand_mu, r->n_cand));
    cJSON_AddItemToObject(o, "candidate_sigma", cJSON_CreateDoubleArray(r->cand_sigma, r->n_cand));
    cJSON *heads = cJSON_AddArrayToObject(o, "heads");
    for (int l = 0; l < r->n_layer; l++)
        for (int g = 0; g < r->n_head_kv; g++) {
            const int64_t h = (int64_t)l * r->n_head_kv + g;
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "layer", l);
            cJSON_AddNumberToObject(x, "kv_head", g);
            cJSON_AddNumberToObject(x, "chosen", r->chosen[h]);
            cJSON_AddItemToObject(x, "err", cJSON_CreateDoubleArray(r->err + h * r->n_cand, r->n_cand));
            cJSON_AddItemToObject(x, "keep", cJSON_CreateDoubleArray(r->keep + h * r->n_cand, r->n_cand));
            cJSON_AddItemToArray(heads, x);
        }
    char *js = cJSON_Print(o);
    cJSON_Delete(o);
    FILE *f = fopen(path, "w");
    int ok = f && js && fputs(js, f) >= 0;
    if (f && fclose(f)) ok = 0;
    free(js);
    if (!ok) fprintf(stderr, "tca calibrate: cannot write %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

/* Two PNGs through gnuplot, the data inline. */
static int write_plots(const char *dir, const tca_calib_report *r, const char *title) {
    FILE *g = popen("gnuplot", "w");
    if (!g) {
        fprintf(stderr, "tca calibrate: cannot run gnuplot (apt-get install gnuplot-nox)\n");
        return -1;
    }
    fprintf(g, "set terminal pngcairo size 900,700\nset output '%s/keep_heatmap.png'\n", dir);
    fprintf(g, "set title 'keep ratio per layer and KV head: %s'\nset xlabel 'KV head'\nset ylabel 'layer'\n", title);
    fprintf(g, "set cbrange [0:1]\nset palette rgb 33,13,10\nset xtics 1\nset xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\n",
            r->n_head_kv - 1, r->n_layer - 1);
    fprintf(g, "$heat << EOD\n");
    for (int l = 0; l < r->n_layer; l++)
        for (int h = 0; h < r->n_head_kv; h++) {
            const int64_t i = (int64_t)l * r->n_head_kv + h;
            fprintf(g, "%d %d %.6f\n", h, l, r->keep[i * r->n_cand + r->chosen[i]]);
        }
    fprintf(g, "EOD\nplot $heat using 1:2:3 with image notitle\n");
    fprintf(g, "reset\nset output '%s/error_vs_keep.png'\n", dir);
    fprintf(g, "set title 'attention error vs keep ratio, every candidate of every head: %s'\n", title);
    fprintf(g, "set xlabel 'whole-cache keep ratio of the head'\nset ylabel 'relative L2 error vs dense'\nset logscale y\n");
    fprintf(g, "$all << EOD\n");
    for (int64_t i = 0; i < (int64_t)r->n_layer * r->n_head_kv; i++)
        for (int c = 0; c + 1 < r->n_cand; c++) fprintf(g, "%.6f %.6g\n", r->keep[i * r->n_cand + c], r->err[i * r->n_cand + c] + 1e-6);
    fprintf(g, "EOD\n$chosen << EOD\n");
    for (int64_t i = 0; i < (int64_t)r->n_layer * r->n_head_kv; i++)
        fprintf(g, "%.6f %.6g\n", r->keep[i * r->n_cand + r->chosen[i]], r->err[i * r->n_cand + r->chosen[i]] + 1e-6);
    fprintf(g, "EOD\nplot $all with dots lc rgb '#999999' title 'candidates', $chosen with points pt 7 ps 0.6 lc rgb "
               "'#cc0000' title 'chosen'\n");
    int rc = pclose(g);
    if (rc != 0) fprintf(stderr, "tca calibrate: gnuplot failed (status %d)\n", rc);
    return rc == 0 ? 0 : -1;
}

/* Retain counts never go below one token per block, so the sink, the window and one token of
 * every compressible block are the floor of any head's keep. A target under the floor cannot be
 * met: refused (-1) before the pass, which takes minutes. A target within one token per block of
 * it leaves the per-head choice nothing to share out: most heads get the smallest candidate and
 * the budget is nearly uniform (docs/tca.md, "Calibration"): a warning. */
static int check_floor(const tca_model *m, const tca_calib_params *p, int64_t n, const double *targets, int n_targets) {
    double floor_keep[2]; /* every block keeping 1, then 2 tokens */
    for (int c = 0; c < 2; c++) {
        tca_budget *b = NULL;
        if (tca_budget_new_uniform(m, p->block, p->sink, p->window, p->scorer, c, 0.05, &b)) return 0;
        floor_keep[c] = tca_budget_keep_at(b, n);
        tca_budget_free(b);
    }
    if (floor_keep[1] == floor_keep[0]) return 0; /* no block to compress: tca_calibrate says so */
    for (int t = 0; t < n_targets; t++) {
        if (targets[t] >= floor_keep[1]) continue;
        const int below = targets[t] < floor_keep[0];
        fprintf(stderr,
                "tca calibrate: %starget keep %g %s the floor at %lld tokens (block %d, sink %d, window %d: one token "
                "per block holds %.4f, two %.4f)%s; a larger --block or a smaller --window lowers the floor\n",
                below ? "" : "warning: ", targets[t], below ? "is below" : "is within one token per block of",
                (long long)n, p->block, p->sink, p->window, floor_keep[0], floor_keep[1],
                below ? ", so no budget can meet it"
                      : "; most heads will get the smallest candidate and the budget will be nearly uniform");
        if (below) return -1;
    }
    return 0;
}

int tca_cmd_calibrate(int argc, char **argv) {
    const char *model_arg = TCA_DEFAULT_MODEL, *text_path = NULL, *out_path = NULL, *report_path = NULL, *plots = NULL;
    long tokens = 8192;
    tca_calib_params p = tca_calib_default_params();
    int have_target = 0, have_tol = 0, have_red = 0, n_targets = 0, n_outs = 0;
    double targets[8];
    char outs_buf[4096], *outs[8];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "tca calibrate: unknown or incomplete option '%s'\n\n", a);
            help(stderr);
            return 2;
        }
        i++;
        char *end = NULL;
        errno = 0;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model_arg = v;
        else if (!strcmp(a, "--text")) text_path = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out_path = v;
        else if (!strcmp(a, "--report")) report_path = v;
        else if (!strcmp(a, "--plots")) plots = v;
        else if (!strcmp(a, "--scorer") && (!strcmp(v, "block-last") || !strcmp(v, "prompt-last")))
            p.scorer = strcmp(v, "block-last") ? TCA_SCORER_PROMPT_LAST : TCA_SCORER_BLOCK_LAST;
        else if (!strcmp(a, "--redundancy") && (!strcmp(v, "entropy") || !strcmp(v, "mass")))
            p.redundancy = strcmp(v, "entropy") ? TCA_REDUNDANCY_MASS : TCA_REDUNDANCY_ENTROPY, have_red = 1;
        else if (!strcmp(a, "--target-keep")) {
            for (const char *q = v; *q && n_targets < 8;) {
                double x = strtod(q, &end);
                if (end == q || !(x > 0 && x <= 1) || (*end && *end != ','))
                    return fprintf(stderr, "tca calibrate: --target-keep expects ratios in (0, 1], got '%s'\n", v), 2;
                targets[n_targets++] = x;
                q = *end ? end + 1 : end;
            }
            p.target = targets[0];
            have_target = 1;
        } else if (!strcmp(a, "--tolerance")) {
            double x = strtod(v, &end);
            if (errno || *end || !(x >= 0 && x <= 1e6))
                return fprintf(stderr, "tca calibrate: --tolerance expects a non-negative number, got '%s'\n", v), 2;
            p.tolerance = x;
            have_tol = 1;
        } else {
            long x = strtol(v, &end, 10);
            if (errno || *end || x < 0 || x > (1L << 24))
                return fprintf(stderr, "tca calibrate: %s expects a non-negative integer, got '%s'\n", a, v), 2;
            if (!strcmp(a, "--tokens")) tokens = x;
            else if (!strcmp(a, "--block") && (x == 16 || x == 32 || x == 64)) p.block = (int)x;
            else if (!strcmp(a, "--sink")) p.sink = (int)x;
            else if (!strcmp(a, "--window")) p.window = (int)x;
            else if (!strcmp(a, "--rows") && x >= 1) p.rows = (int)x;
            else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && x >= 1) p.n_threads = (int)x;
            else {
                fprintf(stderr, "tca calibrate: unknown option or bad value '%s %s'\n\n", a, v);
                help(stderr);
                return 2;
            }
        }
    }
    if (!have_red) p.redundancy = tca_default_redundancy(p.scorer);
    if (p.redundancy == TCA_REDUNDANCY_MASS && p.scorer != TCA_SCORER_PROMPT_LAST)
        return fprintf(stderr, "tca calibrate: --redundancy mass needs --scorer prompt-last\n"), 2;
    if (!text_path || !out_path || have_target == have_tol) {
        fprintf(stderr, "tca calibrate: needs --text FILE, -o BUDGET.json and one of --target-keep or --tolerance\n\n");
        help(stderr);
        return 2;
    }
    snprintf(outs_buf, sizeof outs_buf, "%s", out_path);
    for (char *q = strtok(outs_buf, ","); q && n_outs < 8; q = strtok(NULL, ",")) outs[n_outs++] = q;
    if (n_outs != (have_target ? n_targets : 1))
        return fprintf(stderr, "tca calibrate: -o needs one file per target keep (%d), got %d\n", have_target ? n_targets : 1, n_outs), 2;
    p.mode = have_target ? TCA_CALIB_TARGET_KEEP : TCA_CALIB_TOLERANCE;
    if (p.window % p.block) return fprintf(stderr, "tca calibrate: --window must be a multiple of --block\n"), 2;
    const char *base = strrchr(text_path, '/');
    p.text_name = base ? base + 1 : text_path;

    char path[4096];
    tca_status s = tca_model_resolve(model_arg, path, sizeof path);
    if (s) return tca_tool_fail("model", s);
    tca_model *m = NULL;
    tca_tokenizer *tok = NULL;
    tca_token *ids = NULL;
    tca_budget *budget = NULL;
    tca_calib_report *rep = NULL;
    char *text = NULL;
    int rc = 1;
    size_t len, n_ids = 0;
    if ((s = tca_model_load(path, &m))) {
        rc = tca_tool_fail("loading the model", s);
        goto done;
    }
    if ((s = tca_tokenizer_load(tca_model_gguf(m), &tok))) {
        rc = tca_tool_fail("loading the tokenizer", s);
        goto done;
    }
    if (!(text = read_file(text_path, &len))) goto done;
    if ((s = tca_tokenize_alloc(tok, text, len, 0, &ids, &n_ids))) {
        rc = tca_tool_fail("tokenizing the text", s);
        goto done;
    }
    const int n_ctx = tca_model_hparams(m)->n_ctx_train;
    int64_t n = (int64_t)n_ids < tokens ? (int64_t)n_ids : tokens;
    if (n > n_ctx) n = n_ctx;
    if (n < tokens)
        fprintf(stderr, "tca calibrate: using %lld tokens (the text has %zu, the model's context is %d)\n", (long long)n,
                n_ids, n_ctx);
    if (have_target && check_floor(m, &p, n, targets, n_targets)) {
        rc = 2;
        goto done;
    }
    progress pr = {now_s(), tca_model_hparams(m)->n_layer, n, isatty(2)};
    if ((s = tca_calibrate(m, ids, n, &p, show_layer, &pr, &budget, &rep))) {
        rc = tca_tool_fail("calibrate", s);
        goto done;
    }
    double seconds = now_s() - pr.t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double peak_mib = (double)ru.ru_maxrss / 1024.0;
    /* the report and plots show the first target's choice */
    if (report_path && write_report(report_path, rep, budget, seconds, peak_mib)) goto done;
    if (plots && write_plots(plots, rep, budget->name)) goto done;
    for (int t = 0; t < n_outs; t++) {
        if (t > 0) {
            tca_budget_free(budget);
            budget = NULL;
            p.target = targets[t];
            if ((s = tca_calib_choose(m, rep, &p, &budget))) {
                rc = tca_tool_fail("calibrate", s);
                goto done;
            }
        }
        if ((s = tca_budget_save(budget, outs[t]))) {
            rc = tca_tool_fail("writing the budget", s);
            goto done;
        }
        fprintf(stderr,
                "tca calibrate: %s on %lld tokens of %s in %.1f s, peak memory %.0f MiB: mean keep %.3f, mean error "
                "%.4f over %d heads -> %s\n",
                budget->name, (long long)n, p.text_name, seconds, peak_mib, rep->mean_keep, rep->mean_err,
                rep->n_layer * rep->n_head_kv, outs[t]);
    }
    rc = 0;
done:
    tca_calib_report_free(rep);
    tca_budget_free(budget);
    free(ids);
    free(text);
    tca_tokenizer_free(tok);
    tca_model_free(m);
    return rc;
}
