/* tca eval: methods from the command line, and the budget each runs with at one keep ratio and
 * one length (eval.h). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../attn_opts.h"
#include "eval.h"
#include "tca_config.h"

static const struct {
    const char *name;
    eval_kind kind;
} kinds[] = {{"dense", EVAL_DENSE}, {"tca", EVAL_TCA}, {"uniform", EVAL_UNIFORM},
             {"streaming", EVAL_STREAMING}, {"snapkv", EVAL_SNAPKV}};

int eval_parse_method(const char *spec, eval_method *m) {
    memset(m, 0, sizeof *m);
    m->block = m->sink = m->window = m->scorer = m->redundancy = m->prefill_window = -1;
    m->sigma = 1.0;
    snprintf(m->label, sizeof m->label, "%s", spec);
    const char *colon = strchr(spec, ':');
    const size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
    int found = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i].name) == nlen && !strncmp(spec, kinds[i].name, nlen)) m->kind = kinds[i].kind, found = 1;
    if (!found) {
        fprintf(stderr, "tca eval: unknown method '%.*s' (dense, tca, uniform, streaming, snapkv)\n", (int)nlen, spec);
        return -1;
    }
    if (!colon) return 0;
    char buf[96];
    snprintf(buf, sizeof buf, "%s", colon + 1);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return fprintf(stderr, "tca eval: method option '%s' is not KEY=VALUE\n", kv), -1;
        *eq = 0;
        const char *k = kv, *v = eq + 1;
        char *end;
        const long n = strtol(v, &end, 10);
        const int is_int = *v && !*end && n >= 0 && n <= 1 << 20;
        if (!strcmp(k, "block") && is_int) m->block = (int)n;
        else if (!strcmp(k, "sink") && is_int) m->sink = (int)n;
        else if (!strcmp(k, "window") && is_int) m->window = (int)n;
        else if (!strcmp(k, "dense-layers") && is_int) m->dense_layers = (int)n;
        else if (!strcmp(k, "prefill-window") && is_int) m->prefill_window = (int)n;
        else if (!strcmp(k, "sigma") && (m->sigma = strtod(v, &end)) > 0 && !*end) {
        } else if (!strcmp(k, "scorer") && (!strcmp(v, "block-last") || !strcmp(v, "prompt-last")))
            m->scorer = !strcmp(v, "prompt-last");
        else if (!strcmp(k, "redundancy") && (!strcmp(v, "entropy") || !strcmp(v, "mass")))
            m->redundancy = !strcmp(v, "mass");
        else if (!strcmp(k, "fit") && (!strcmp(v, "window") || !strcmp(v, "core")))
            m->fit_core = !strcmp(v, "core");
        else if (!strcmp(k, "budgets") && *v && strlen(v) < sizeof m->budget_dir) {
            DIR *dp = opendir(v);
            if (!dp) return fprintf(stderr, "tca eval: budgets=%s in '%s': not a directory we can read\n", v, spec), -1;
            closedir(dp);
            snprintf(m->budget_dir, sizeof m->budget_dir, "%s", v);
        } else
            return fprintf(stderr, "tca eval: bad method option %s=%s in '%s'\n", k, v, spec), -1;
    }
    return 0;
}

static void file_hash(const char *path, char out[17]) {
    uint64_t h = 0xcbf29ce484222325ull;
    FILE *f = fopen(path, "rb");
    for (int ch; f && (ch = fgetc(f)) != EOF;) h = (h ^ (uint8_t)ch) * 0x100000001b3ull;
    if (f) fclose(f);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* the calibrated budget directory a method takes: its budgets=DIR, else --budgets */
static const char *budget_dir_of(const eval_run *r, const eval_method *m) {
    return m->budget_dir[0] ? m->budget_dir : r->o->budget_dir;
}

/* the file for this model and keep in one directory, or NULL */
static tca_budget *calibrated_in(eval_run *r, const char *dir, double keep, char *path, size_t cap) {
    DIR *dp = opendir(dir);
    if (!dp) return NULL;
    tca_budget *found = NULL;
    char best[4096] = "";
    for (struct dirent *de; (de = readdir(dp));) {
        const size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json")) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        tca_budget *b = NULL;
        if (tca_budget_load(p, r->model, &b) != TCA_OK) continue; /* another model's */
        /* one file per target; the first by name if there were two */
        if (fabs(b->calib_target - keep) < 1e-9 && (!found || strcmp(p, best) < 0)) {
            tca_budget_free(found);
            found = b;
            snprintf(best, sizeof best, "%s", p);
        } else {
            tca_budget_free(b);
        }
    }
    closedir(dp);
    snprintf(path, cap, "%s", best);
    return found;
}

tca_budget *eval_calibrated(eval_run *r, const eval_method *m, double keep, char *path, size_t cap) {
    /* a list DIR,DIR,...: the first that holds a file for this keep, so that one directory of a
     * few files (another calibration of one target) can stand in front of the shipped ones */
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", budget_dir_of(r, m));
    tca_budget *found = NULL;
    for (char *save = NULL, *dir = strtok_r(dirs, ",", &save); dir && !found; dir = strtok_r(NULL, ",", &save))
        found = calibrated_in(r, dir, keep, path, cap);
    return found;
}

/* One step of fitting sink and window into a short prompt's budget: the window halves (whole
 * blocks, down to one), then the sink. 0 when neither can shrink. */
static int halve(int *sink, int *window, int block) {
    if (*window > block) *window = *window / 2 / block * block;
    else if (*sink > 0) *sink /= 2;
    else return 0;
    return 1;
}

static int skip(eval_cell *cell, const char *why) {
    cell->skipped = true;
    snprintf(cell->note, sizeof cell->note, "%s", why);
    return 1;
}

int eval_make_budget(eval_run *r, const eval_method *m, double keep, int64_t L, eval_cell *cell, tca_budget **out) {
    *out = NULL;
    cell->keep_target_eff = 1.0;
    if (m->kind == EVAL_DENSE) return 0;
    char path[4096];
    tca_budget *cal = eval_calibrated(r, m, keep, path, sizeof path);
    /* the prompt's own rows see the window the method names (the file's, else the default)
     * before any fit below: the fit holds the cache to the budget; what the prompt's rows see
     * costs compute, not KV, and `tca ask` keeps the file's window for both at every length */
    const int prefill_window = m->prefill_window >= 0 ? m->prefill_window
                               : m->window >= 0      ? m->window
                               : cal                 ? cal->window
                                                     : TCA_DEFAULT_WINDOW;
    /* a short prompt: the calibrated file keeps more than the target at L, its sink and window
     * being a larger share of it. fit=window (the default) halves the window, then the sink,
     * until the file's keep at L is within 0.01 of the target, every head keeping its retain
     * counts; fit=core halves them only until they hold at most half the budget, then lowers
     * every head's retain counts to the target (falling back to the window if that is not
     * enough) */
    if (cal && m->fit_core && tca_budget_keep_at(cal, L) > keep + 0.01) {
        while (cal->sink + cal->window > keep * (double)L / 2 && halve(&cal->sink, &cal->window, cal->block))
            cell->shrunk = true;
        cell->core_lowered = tca_budget_lower_to_keep(cal, L, keep) == TCA_OK;
    }
    while (cal && tca_budget_keep_at(cal, L) > keep + 0.01 && halve(&cal->sink, &cal->window, cal->block))
        cell->shrunk = true;
    cell->keep_target_eff = cal ? tca_budget_keep_at(cal, L) : keep;
    const double keep_eff = cell->keep_target_eff;
    /* selection parameters: the method's overrides, else the calibrated file's (so that uniform
     * and the baselines differ from it only in what they keep), else the defaults */
    int block = m->block >= 0 ? m->block : cal ? cal->block : TCA_DEFAULT_BLOCK;
    int sink = m->sink >= 0 ? m->sink : cal ? cal->sink : TCA_DEFAULT_SINK;
    int window = m->window >= 0 ? m->window : cal ? cal->window : TCA_DEFAULT_WINDOW;
    tca_scorer scorer = m->scorer >= 0 ? (tca_scorer)m->scorer : cal ? cal->scorer : TCA_DEFAULT_SCORER;
    /* the ranking key: the method's, else the file's unless the method changes the scorer, else
     * the default for the scorer */
    tca_redundancy red = tca_default_redundancy(scorer);
    if (m->redundancy >= 0) red = (tca_redundancy)m->redundancy;
    else if (cal && m->scorer < 0) red = cal->redundancy;
    tca_budget *b = NULL;
    if (m->kind == EVAL_TCA) {
        if (!cal) {
            tca_budget_free(cal);
            char why[160];
            snprintf(why, sizeof why, "no calibrated budget at keep %g for this model in %s", keep, budget_dir_of(r, m));
            return skip(cell, why);
        }
        if (block != cal->block) {
            tca_budget_free(cal);
            return skip(cell, "a calibrated budget's block size cannot be changed");
        }
        snprintf(cell->budget_file, sizeof cell->budget_file, "%.150s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
        file_hash(path, cell->budget_hash);
        b = cal;
        b->sink = sink, b->window = window, b->scorer = scorer, b->redundancy = red;
    } else {
        tca_budget_free(cal);
        cell->core_lowered = false; /* uniform and SnapKV-like solve their own core; only the sink and window follow the file */
        if (m->fit_core && m->kind != EVAL_STREAMING)
            while (sink + window > keep_eff * (double)L / 2 && halve(&sink, &window, block)) cell->shrunk = true;
        for (;;) {
            tca_status s = m->kind == EVAL_UNIFORM
                               ? tca_budget_uniform_for_keep(r->model, block, sink, window, scorer, L, keep_eff, m->sigma, &b)
                           : tca_budget_baseline(r->model, m->kind == EVAL_STREAMING ? TCA_METHOD_STREAMING : TCA_METHOD_SNAPKV,
                                                 block, sink, window, L, keep_eff, &b);
            if (s == TCA_OK) break;
            if (s != TCA_ERR_RANGE) {
                fprintf(stderr, "tca eval: %s: %s\n", m->label, tca_last_error());
                return -1;
            }
            /* sink and window alone exceed the budget: halve the window (streaming: its window
             * is the budget), then the sink */
            int shrank;
            if (m->kind == EVAL_STREAMING) shrank = sink > 0, sink /= 2;
            else shrank = halve(&sink, &window, block);
            if (!shrank) return skip(cell, tca_last_error());
            cell->shrunk = true;
        }
        if (m->kind == EVAL_UNIFORM) b->redundancy = red;
    }
    if (b->redundancy == TCA_REDUNDANCY_MASS && b->scorer != TCA_SCORER_PROMPT_LAST) {
        tca_budget_free(b);
        return skip(cell, "redundancy=mass needs scorer=prompt-last");
    }
    if (b->window % b->block || prefill_window % b->block) {
        tca_budget_free(b);
        return skip(cell, "the window (or prefill window) is not a multiple of the block size");
    }
    b->prefill_window = cell->prefill_window = prefill_window;
    attn_dense_first_layers(b, m->dense_layers);
    cell->sink = b->sink;
    cell->window = b->window;
    *out = b;
    return 0;
}
