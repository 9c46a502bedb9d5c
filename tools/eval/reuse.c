/* tca eval --reuse: answers recorded in earlier runs' JSON, taken instead of recomputed.
 *
 * A recorded answer is reused when everything that decides it is the same: the model (the
 * file's fingerprint), the prompt (FNV-1a 64 of its token ids and answer length, recorded with
 * every sample), the method's label and keep target, and the configuration that method ran at
 * that length (KV budget, sink, window, prefill window, calibrated file's hash). So a stopped
 * run resumes from its own partial JSON, and a method added to an earlier run does not
 * recompute dense. The answer is scored again here, so a scorer change applies to reused
 * answers too. Language modelling windows are not reused (their sums are per method, not per
 * sample). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../generate.h"
#include "eval.h"

void eval_prompt_hash(const eval_prompt *p, char out[17]) {
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *b = (const unsigned char *)p->ids;
    for (size_t i = 0; i < p->n * sizeof *p->ids; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    for (int i = 0; i < 4; i++) h = (h ^ (uint8_t)(p->n_gen >> (8 * i))) * 0x100000001b3ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static const char *str_of(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

int eval_reuse_load(eval_run *r, const char *list) {
    if (!r->reuse && !(r->reuse = cJSON_CreateArray())) return -1;
    cJSON *files = r->reuse;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *path = strtok_r(buf, ",", &save); path; path = strtok_r(NULL, ",", &save)) {
        size_t len;
        char *text = read_file(path, &len);
        if (!text) return -1;
        cJSON *root = cJSON_ParseWithLength(text, len);
        free(text);
        const char *fp = str_of(root, "fingerprint");
        if (!fp || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "results")) ||
            !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "samples"))) {
            cJSON_Delete(root);
            return fprintf(stderr, "tca eval: --reuse %s: not a tca eval result (fingerprint, results, samples)\n",
                           path), -1;
        }
        if (strcmp(fp, r->fingerprint)) {
            fprintf(stderr, "tca eval: --reuse %s: another model (fingerprint %s; %s has %s)\n", path, fp,
                    r->model_path, r->fingerprint);
            return cJSON_Delete(root), -1;
        }
        if (num_of(root, "threads") != r->o->threads)
            fprintf(stderr, "tca eval: --reuse %s ran %g threads, this run %d: a greedy answer may differ in the "
                            "last bits of a sum\n", path, num_of(root, "threads"), r->o->threads);
        cJSON_AddStringToObject(root, "reused_path", path);
        cJSON_AddItemToArray(files, root);
    }
    return 0;
}

/* The recorded configuration of (length, method, keep) in one file equals this run's. */
static bool same_config(const eval_run *r, const cJSON *root, int mi, int ki, int li) {
    const eval_cell *c = eval_cell_at(r, mi, ki, li);
    const double keep_target = r->o->methods[mi].kind == EVAL_DENSE ? 1.0 : r->o->keeps[ki];
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "results")) {
        const char *m = str_of(x, "method"), *h = str_of(x, "budget_fnv1a64");
        if (!m || strcmp(m, r->o->methods[mi].label) || num_of(x, "length") != (double)r->o->lengths[li] ||
            !(fabs(num_of(x, "keep_target") - keep_target) < 1e-9))
            continue;
        if (r->o->methods[mi].kind == EVAL_DENSE) return true;
        /* the prompt's rows saw the larger of the prefill window and the window; files written
         * before the prefill window was recorded ran the one their label names, else none */
        const double window = num_of(x, "window");
        double pw = num_of(x, "prefill_window");
        if (isnan(pw)) pw = r->o->methods[mi].prefill_window;
        return fabs(num_of(x, "kv_budget") - c->keep_target_eff) < 1e-9 && num_of(x, "sink") == c->sink &&
               window == c->window && fmax(pw, window) == fmax(c->prefill_window, c->window) &&
               !strcmp(h ? h : "", c->budget_hash);
    }
    return false;
}

const cJSON *eval_reuse_find(const eval_run *r, const char *task, const char *prompt_hash, int mi, int ki, int li,
                             const char **from) {
    const double keep_target = r->o->methods[mi].kind == EVAL_DENSE ? 1.0 : r->o->keeps[ki];
    const cJSON *root;
    cJSON_ArrayForEach(root, (const cJSON *)r->reuse) {
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(root, "samples")) {
            const char *h = str_of(s, "prompt_fnv1a64"), *t = str_of(s, "task"), *m = str_of(s, "method");
            if (!h || strcmp(h, prompt_hash) || !t || strcmp(t, task) || !m || strcmp(m, r->o->methods[mi].label) ||
                num_of(s, "length") != (double)r->o->lengths[li] ||
                !(fabs(num_of(s, "keep_target") - keep_target) < 1e-9) || !str_of(s, "output") ||
                !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "keep")))
                continue;
            if (!same_config(r, root, mi, ki, li)) break; /* every sample of this file ran that config */
            /* a sample reused before names where it was computed, and so does this one */
            const char *computed = str_of(s, "reused_from") ? str_of(s, "reused_from") : str_of(root, "commit");
            *from = computed ? computed : "unknown";
            return s;
        }
    }
    return NULL;
}

void eval_reuse_free(eval_run *r) {
    cJSON_Delete(r->reuse);
    r->reuse = NULL;
}
