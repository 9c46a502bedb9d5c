/* tca eval: the results as JSON (everything, every sample), a markdown summary with the issue's
 * targets checked, and PNG plots through gnuplot. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "eval.h"
#include "tca_config.h"
#include "version.h"

static double ratio(int ok, int n) { return n ? (double)ok / n : NAN; }
static int ret_n(const eval_cell *c) { return c->ret_n[0] + c->ret_n[1] + c->ret_n[2]; }
static int ret_ok(const eval_cell *c) { return c->ret_ok[0] + c->ret_ok[1] + c->ret_ok[2]; }
static double ppl(const eval_cell *c) { return c->n_final ? exp(c->nll_final / (double)c->n_final) : NAN; }
static double kl(const eval_cell *c) { return c->n_kl ? c->kl_sum / (double)c->n_kl : NAN; }
static double top1(const eval_cell *c) { return c->n_top1 ? (double)c->top1_ok / (double)c->n_top1 : NAN; }
static double keep_of(const eval_cell *c) { return c->n_keep ? c->keep_sum / c->n_keep : NAN; }
static double keep_target(const eval_run *r, int mi, int ki) {
    return r->o->methods[mi].kind == EVAL_DENSE ? 1.0 : r->o->keeps[ki];
}

static void add_num(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

static cJSON *cell_json(const eval_run *r, int mi, int ki, int li) {
    const eval_cell *c = eval_cell_at(r, mi, ki, li);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "length", (double)r->o->lengths[li]);
    cJSON_AddStringToObject(o, "method", r->o->methods[mi].label);
    cJSON_AddNumberToObject(o, "keep_target", keep_target(r, mi, ki));
    cJSON_AddNumberToObject(o, "kv_budget", c->keep_target_eff);
    add_num(o, "keep", keep_of(c));
    cJSON_AddBoolToObject(o, "skipped", c->skipped);
    if (c->note[0]) cJSON_AddStringToObject(o, "note", c->note);
    if (c->skipped) return o;
    if (r->o->methods[mi].kind != EVAL_DENSE) {
        cJSON_AddNumberToObject(o, "sink", c->sink);
        cJSON_AddNumberToObject(o, "window", c->window);
        cJSON_AddNumberToObject(o, "prefill_window", c->prefill_window);
        cJSON_AddBoolToObject(o, "sink_window_shrunk", c->shrunk);
        cJSON_AddBoolToObject(o, "core_lowered", c->core_lowered);
    }
    if (c->budget_file[0]) {
        cJSON_AddStringToObject(o, "budget_file", c->budget_file);
        cJSON_AddStringToObject(o, "budget_fnv1a64", c->budget_hash);
    }
    cJSON *ret = cJSON_AddObjectToObject(o, "retrieval");
    for (int k = 0; k < RET_KINDS; k++) {
        cJSON *x = cJSON_AddObjectToObject(ret, ret_kind_names[k]);
        cJSON_AddNumberToObject(x, "n", c->ret_n[k]);
        cJSON_AddNumberToObject(x, "correct", c->ret_ok[k]);
    }
    cJSON *dep = cJSON_AddArrayToObject(o, "retrieval_by_depth");
    for (int d = 0; d < r->o->n_depths; d++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "depth", eval_depth(r->o, d));
        cJSON_AddNumberToObject(x, "n", c->depth_n[d]);
        cJSON_AddNumberToObject(x, "correct", c->depth_ok[d]);
        cJSON_AddItemToArray(dep, x);
    }
    cJSON *qa = cJSON_AddObjectToObject(o, "qa");
    cJSON_AddNumberToObject(qa, "n", c->qa_n);
    cJSON_AddNumberToObject(qa, "correct", c->qa_ok);
    cJSON *lm = cJSON_AddObjectToObject(o, "lm");
    add_num(lm, "final_chunk_perplexity", ppl(c));
    cJSON_AddNumberToObject(lm, "final_chunk_tokens", (double)c->n_final);
    add_num(lm, "kl_vs_dense", kl(c));
    cJSON_AddNumberToObject(lm, "kl_positions", (double)c->n_kl);
    add_num(lm, "kl_vs_dense_final_chunk", c->n_kl_final ? c->kl_final_sum / (double)c->n_kl_final : NAN);
    add_num(lm, "top1_agreement", top1(c));
    cJSON_AddNumberToObject(lm, "top1_positions", (double)c->n_top1);
    cJSON_AddNumberToObject(o, "seconds", c->seconds);
    return o;
}

static void pct(FILE *f, int ok, int n) {
    if (n) fprintf(f, " %d/%d (%.0f%%) |", ok, n, 100.0 * ok / n);
    else fprintf(f, " - |");
}

static void markdown(const eval_run *r, FILE *f, double seconds, const char *date) {
    const eval_opts *o = r->o;
    fprintf(f, "# tca eval: %s\n\n", r->model_path);
    fprintf(f, "%s, tca commit %s, %d threads, seed %llu, %.1f min in all.\n\n```sh\n%s\n```\n\n", date, TCA_COMMIT,
            o->threads, (unsigned long long)o->seed, seconds / 60, r->cmdline);
    if (r->n_done < r->n_total)
        fprintf(f, "**Partial: %lld of %lld runs done** (written after every run; the run was still going, or "
                   "stopped).\n\n", (long long)r->n_done, (long long)r->n_total);
    if (r->n_reused)
        fprintf(f, "%lld of these runs' answers were recorded by earlier runs and reused (--reuse, --resume; the JSON's "
                   "samples say which, and the commit that computed them).\n\n", (long long)r->n_reused);
    /* what ran, in one paragraph: the tasks that did not run are left out */
    if (o->task_ret) fprintf(f, "Retrieval: %d needle depths per task. ", o->n_depths);
    if (o->task_qa && o->qa_ids)
        fprintf(f, "Questions: %d chosen by id, each at its depth in the whole set's run. ", o->n_qa);
    else if (o->task_qa) fprintf(f, "Questions: %d. ", o->n_qa);
    if (o->task_lm)
        fprintf(f, "Language modelling: %d windows, perplexity of the final %d tokens (fed one at a time), "
                   "KL(dense || method) and top-1 agreement with dense at every position from %d on (KL final "
                   "chunk: the decoded positions only; the prompt's rows of prompt-last methods attend over a "
                   "selection made with the prompt's last query). ",
                o->n_lm, o->lm_final, o->lm_from);
    fprintf(f, "The KV budget is the whole-cache keep ratio every method at a keep target runs at: the "
               "calibrated budget's at that length.\n");
    for (int li = 0; li < o->n_lengths; li++) {
        fprintf(f, "\n## Length %lld\n\n", (long long)o->lengths[li]);
        fprintf(f, "| method | keep target | KV budget | keep measured | retrieval single | multikey | multivalue | "
                   "retrieval all | questions | final-chunk ppl | ppl / dense | KL vs dense | KL final chunk | "
                   "top-1 = dense |\n"
                   "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        const double ppl_dense = ppl(eval_cell_at(r, 0, 0, li));
        for (int ki = 0; ki < o->n_keeps; ki++)
            for (int mi = 0; mi < o->n_methods; mi++) {
                const eval_cell *c = eval_cell_at(r, mi, ki, li);
                if (c->skipped && mi == 0) continue;
                fprintf(f, "| %s | %.2f |", o->methods[mi].label, keep_target(r, mi, ki));
                if (c->skipped) {
                    fprintf(f, " skipped: %s ||||||||||||\n", c->note);
                    continue;
                }
                fprintf(f, " %.3f |", c->keep_target_eff);
                if (c->n_keep) fprintf(f, " %.3f |", keep_of(c));
                else fprintf(f, " - |"); /* not run yet (a partial report) */
                for (int k = 0; k < RET_KINDS; k++) pct(f, c->ret_ok[k], c->ret_n[k]);
                pct(f, ret_ok(c), ret_n(c));
                pct(f, c->qa_ok, c->qa_n);
                if (c->n_final) fprintf(f, " %.3f | %.4f |", ppl(c), ppl(c) / ppl_dense);
                else fprintf(f, " - | - |");
                if (mi == 0) fprintf(f, c->n_final ? " 0 | 0 | 1 |\n" : " - | - | - |\n");
                else if (c->n_kl)
                    fprintf(f, " %.4f | %.4f | %.3f |\n", kl(c), c->kl_final_sum / (double)c->n_kl_final, top1(c));
                else fprintf(f, " - | - | - |\n");
            }
        for (int ki = 0; ki < o->n_keeps; ki++)
            for (int mi = 0; mi < o->n_methods; mi++) {
                const eval_cell *c = eval_cell_at(r, mi, ki, li);
                if (!c->skipped && o->methods[mi].kind == EVAL_STREAMING)
                    fprintf(f, "\n%s at %.2f: sink %d, window %d (what the budget leaves after the sink).\n",
                            o->methods[mi].label, o->keeps[ki], c->sink, c->window);
                else if (!c->skipped && c->shrunk)
                    fprintf(f, "\n%s at %.2f: sink and window shrunk to %d and %d to fit the budget%s.\n",
                            o->methods[mi].label, o->keeps[ki], c->sink, c->window,
                            c->core_lowered ? ", every head's retain counts lowered to meet it" : "");
                if (!c->skipped && c->prefill_window > c->window)
                    fprintf(f, "\n%s at %.2f: the prompt's own rows see the %d raw tokens before their block; the "
                               "cache keeps a %d-token window.\n",
                            o->methods[mi].label, o->keeps[ki], c->prefill_window, c->window);
                if (!c->skipped && c->budget_file[0] && mi > 0 && ki == 0)
                    fprintf(f, "\n%s: budget file %s (FNV-1a 64 %s).\n", o->methods[mi].label, c->budget_file,
                            c->budget_hash);
            }
        if (o->task_ret && o->n_depths > 1) {
            fprintf(f, "\nRetrieval (all three tasks) by depth of the queried needle:\n\n| method | keep target |");
            for (int d = 0; d < o->n_depths; d++) fprintf(f, " %.0f%% |", 100 * eval_depth(o, d));
            fprintf(f, "\n| --- | ---: |");
            for (int d = 0; d < o->n_depths; d++) fprintf(f, " ---: |");
            fprintf(f, "\n");
            for (int ki = 0; ki < o->n_keeps; ki++)
                for (int mi = 0; mi < o->n_methods; mi++) {
                    const eval_cell *c = eval_cell_at(r, mi, ki, li);
                    if (c->skipped) continue;
                    fprintf(f, "| %s | %.2f |", o->methods[mi].label, keep_target(r, mi, ki));
                    for (int d = 0; d < o->n_depths; d++) pct(f, c->depth_ok[d], c->depth_n[d]);
                    fprintf(f, "\n");
                }
        }
    }
}

/* One measure of a sentence listing them: "a; b; c". */
static void part(FILE *f, int *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(*n ? "; " : " ", f);
    vfprintf(f, fmt, ap);
    va_end(ap);
    ++*n;
}

/* The targets at keep 0.39, for the tca method against dense and the baselines. */
static void targets(const eval_run *r, FILE *f) {
    const eval_opts *o = r->o;
    int ki = -1, m_tca = -1, m_stream = -1, m_snap = -1;
    for (int k = 0; k < o->n_keeps; k++)
        if (fabs(o->keeps[k] - 0.39) < 1e-9) ki = k;
    for (int m = 0; m < o->n_methods; m++) {
        const eval_method *x = &o->methods[m];
        const bool plain = !strchr(x->label, ':');
        if (x->kind == EVAL_TCA && plain) m_tca = m;
        if (x->kind == EVAL_STREAMING && plain) m_stream = m;
        if (x->kind == EVAL_SNAPKV && plain) m_snap = m;
    }
    if (ki < 0 || m_tca < 0) return;
    fprintf(f, "\n## Targets at keep 0.39 (tca against dense and the baselines)\n\n");
    for (int li = 0; li < o->n_lengths; li++) {
        const eval_cell *t = eval_cell_at(r, m_tca, ki, li), *d = eval_cell_at(r, 0, 0, li);
        if (t->skipped) continue;
        const double dr = 100 * (ratio(ret_ok(t), ret_n(t)) - ratio(ret_ok(d), ret_n(d)));
        const double dq = 100 * (ratio(t->qa_ok, t->qa_n) - ratio(d->qa_ok, d->qa_n));
        const double dp = 100 * (ppl(t) / ppl(d) - 1);
        int n = 0; /* measures of tasks that did not run (or not yet) are left out */
        fprintf(f, "- length %lld:", (long long)o->lengths[li]);
        if (!isnan(dr)) part(f, &n, "retrieval %+.1f points against dense (target >= -1): %s", dr, dr >= -1 ? "met" : "MISSED");
        if (!isnan(dq)) part(f, &n, "questions %+.1f points (target >= -1): %s", dq, dq >= -1 ? "met" : "MISSED");
        if (!isnan(dp)) part(f, &n, "final-chunk perplexity %+.2f%% (target <= +2%%): %s", dp, dp <= 2 ? "met" : "MISSED");
        fprintf(f, n ? "." : " nothing measured yet.");
        const int base[2] = {m_stream, m_snap};
        for (int b = 0; b < 2; b++) {
            if (base[b] < 0 || eval_cell_at(r, base[b], ki, li)->skipped) continue;
            const eval_cell *x = eval_cell_at(r, base[b], ki, li);
            const double xr = 100 * (ratio(ret_ok(t), ret_n(t)) - ratio(ret_ok(x), ret_n(x)));
            const double xq = 100 * (ratio(t->qa_ok, t->qa_n) - ratio(x->qa_ok, x->qa_n));
            n = 0;
            fprintf(f, " Against %s:", o->methods[base[b]].label);
            if (!isnan(xr)) part(f, &n, "retrieval %+.1f points", xr);
            if (!isnan(xq)) part(f, &n, "questions %+.1f points", xq);
            if (!isnan(ppl(t) + ppl(x))) part(f, &n, "perplexity %.4f vs %.4f", ppl(t), ppl(x));
            if (!isnan(kl(t) + kl(x))) part(f, &n, "KL %.4f vs %.4f", kl(t), kl(x));
            fprintf(f, n ? "." : " nothing measured yet.");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\nWith n samples an accuracy moves in steps of 100/n points: a 1-point difference needs hundreds of "
               "samples to resolve; read small differences as noise.\n");
}

/* PNGs: accuracy and perplexity against keep (largest length) and against length (first keep),
 * and retrieval by depth; one line per method. */
static void plots(const eval_run *r, const char *base) {
    const eval_opts *o = r->o;
    FILE *g = popen("gnuplot", "w");
    if (!g) {
        fprintf(stderr, "tca eval: cannot run gnuplot (apt-get install gnuplot-nox); no plots\n");
        return;
    }
    fprintf(g, "set terminal pngcairo size 1600,450 font ',10'\nset key outside bottom center horizontal\nset grid\n");
    const int li_last = o->n_lengths - 1;
    for (int axis = 0; axis < 2; axis++) {
        const int n_x = axis == 0 ? o->n_keeps : o->n_lengths;
        if (n_x < 2) continue;
        /* one panel per measure of the tasks that ran */
        const char *ylabel[4] = {"retrieval accuracy", "question accuracy", "final-chunk perplexity / dense",
                                 "KL(dense || method), nats"};
        int panels[4], n_panels = 0;
        if (o->task_ret) panels[n_panels++] = 0;
        if (o->task_qa) panels[n_panels++] = 1;
        if (o->task_lm) panels[n_panels++] = 2, panels[n_panels++] = 3;
        fprintf(g, "set output '%s-%s.png'\nset multiplot layout 1,%d title 'tca eval: %s, %s'\n", base,
                axis == 0 ? "keep" : "length", n_panels, r->hp->arch_name,
                axis == 0 ? "against the keep ratio" : "against the prompt length");
        for (int pi = 0; pi < n_panels; pi++) {
            const int panel = panels[pi];
            fprintf(g, "set xlabel '%s'\nset ylabel '%s'\n%s", axis == 0 ? "keep ratio (KV budget)" : "length (tokens)",
                    ylabel[panel], axis == 1 ? "set logscale x 2\n" : "unset logscale x\n");
            /* Dense runs at keep 1 only, so it has no line against the keep ratio, and its perplexity
             * ratio and KL against itself are 1 and 0; against the length its accuracy is the line the
             * others are read against. */
            const int mi_first = axis == 1 && panel <= 1 ? 0 : 1;
            fprintf(g, "plot ");
            for (int mi = mi_first; mi < o->n_methods; mi++)
                fprintf(g, "%s'-' with linespoints lw 2 title '%s'", mi > mi_first ? ", " : "", o->methods[mi].label);
            fprintf(g, "\n");
            for (int mi = mi_first; mi < o->n_methods; mi++) {
                for (int x = 0; x < n_x; x++) {
                    const int ki = axis == 0 ? x : 0, li = axis == 0 ? li_last : x;
                    const eval_cell *c = eval_cell_at(r, mi, ki, li), *d = eval_cell_at(r, 0, 0, li);
                    const double v = panel == 0   ? ratio(ret_ok(c), ret_n(c))
                                     : panel == 1 ? ratio(c->qa_ok, c->qa_n)
                                     : panel == 2 ? ppl(c) / ppl(d)
                                                  : kl(c);
                    if (!c->skipped && isfinite(v))
                        fprintf(g, "%g %g\n", axis == 0 ? c->keep_target_eff : (double)o->lengths[li], v);
                }
                fprintf(g, "e\n");
            }
        }
        fprintf(g, "unset multiplot\n");
    }
    if (o->task_ret && o->n_depths > 1) {
        fprintf(g, "set terminal pngcairo size 800,500 font ',10'\nset output '%s-depth.png'\nunset logscale x\n"
                   "set title 'retrieval accuracy by needle depth, length %lld, keep target %.2f'\n"
                   "set xlabel 'depth of the queried needle (%%)'\nset ylabel 'accuracy'\nset yrange [0:1.05]\nplot ",
                base, (long long)o->lengths[li_last], o->keeps[0]);
        for (int mi = 0; mi < o->n_methods; mi++)
            fprintf(g, "%s'-' with linespoints lw 2 title '%s'", mi ? ", " : "", o->methods[mi].label);
        fprintf(g, "\n");
        for (int mi = 0; mi < o->n_methods; mi++) {
            const eval_cell *c = eval_cell_at(r, mi, 0, li_last);
            for (int d = 0; d < o->n_depths && !c->skipped; d++)
                fprintf(g, "%g %g\n", 100 * eval_depth(o, d), ratio(c->depth_ok[d], c->depth_n[d]));
            fprintf(g, "e\n");
        }
    }
    const int rc = pclose(g);
    if (rc) fprintf(stderr, "tca eval: gnuplot failed (status %d)\n", rc);
}

void eval_out_base(const eval_run *r, char *base, size_t cap) {
    const eval_opts *o = r->o;
    char name[256];
    if (o->name) snprintf(name, sizeof name, "%s", o->name);
    else {
        const char *slash = strrchr(r->model_path, '/');
        snprintf(name, sizeof name, "%.200s", slash ? slash + 1 : r->model_path);
        char *dot = strstr(name, ".gguf");
        if (dot) *dot = 0;
        for (int li = 0; li < o->n_lengths; li++)
            snprintf(name + strlen(name), sizeof name - strlen(name), "-%lld", (long long)o->lengths[li]);
    }
    snprintf(base, cap, "%s/%s", o->out_dir, name);
}

int eval_write_report(eval_run *r, double seconds, bool final) {
    const eval_opts *o = r->o;
    char base[4096], date[32];
    const time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    eval_out_base(r, base, sizeof base);
    mkdir(o->out_dir, 0755);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", r->model_path);
    cJSON_AddStringToObject(root, "fingerprint", r->fingerprint);
    cJSON_AddStringToObject(root, "commit", TCA_COMMIT);
    cJSON_AddStringToObject(root, "date", date);
    cJSON_AddStringToObject(root, "command", r->cmdline);
    cJSON_AddNumberToObject(root, "seed", (double)o->seed);
    cJSON_AddNumberToObject(root, "threads", o->threads);
    cJSON_AddNumberToObject(root, "seconds", seconds);
    cJSON_AddNumberToObject(root, "runs_done", (double)r->n_done);
    cJSON_AddNumberToObject(root, "runs_planned", (double)r->n_total);
    cJSON_AddNumberToObject(root, "runs_reused", (double)r->n_reused);
    cJSON *cells = cJSON_AddArrayToObject(root, "results");
    for (int li = 0; li < o->n_lengths; li++)
        for (int ki = 0; ki < o->n_keeps; ki++)
            for (int mi = 0; mi < o->n_methods; mi++)
                if (!(mi == 0 && ki > 0)) cJSON_AddItemToArray(cells, cell_json(r, mi, ki, li));
    cJSON_AddItemReferenceToObject(root, "samples", r->samples);
    char *js = cJSON_Print(root);
    cJSON_Delete(root);
    /* each file whole or not at all: written beside, then renamed over the last checkpoint */
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s.json", base);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && js && fputs(js, f) >= 0 && fputc('\n', f) != EOF;
    ok = (f && !fclose(f)) && ok && !rename(tmp, path);
    free(js);
    if (!ok) return fprintf(stderr, "tca eval: cannot write %s\n", path), -1;

    snprintf(path, sizeof path, "%s.md", base);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w"))) return fprintf(stderr, "tca eval: cannot write %s\n", path), -1;
    markdown(r, f, seconds, date);
    targets(r, f);
    if (fclose(f) || rename(tmp, path)) return fprintf(stderr, "tca eval: cannot write %s\n", path), -1;
    if (!final) return 0;
    markdown(r, stdout, seconds, date);
    targets(r, stdout);
    plots(r, base);
    fprintf(stderr, "tca eval: wrote %s.json, %s.md and plots (%.1f min)\n", base, base, seconds / 60);
    return 0;
}
