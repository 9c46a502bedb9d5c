/* tca eval: the evaluation harness (eval.h, docs/eval/README.md). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli_args.h"
#include "../commands.h"
#include "eval.h"
#include "tca_config.h"
#include "../wall_clock.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: tca eval [-m MODEL] [options]\n\n"
            "Accuracy of attention methods on real long text, each at the same KV budget: RULER-style\n"
            "retrieval (single needle, multiple keys, multiple values) in Gutenberg haystacks, language\n"
            "modelling on held-out books (final-chunk perplexity; KL and top-1 agreement against dense at\n"
            "every position from --lm-from on), and questions about book passages asked in the chat template\n"
            "as `tca ask` asks them. Writes OUT/NAME.json, OUT/NAME.md and, with more than one keep ratio or\n"
            "length, OUT/NAME-*.png (gnuplot); the JSON and markdown also after every run, marked partial,\n"
            "so that a stopped run keeps what it did. The defaults are the quick suite (SmolLM2 at 4K,\n"
            "~20 min).\n\n"
            "  -m, --model MODEL    .gguf path or fetched model name (default " TCA_DEFAULT_MODEL ")\n"
            "      --methods LIST   comma-separated, of: dense, tca (the calibrated budget shipped in\n"
            "                       models/budgets for the keep ratio), uniform (one log-Gaussian for every\n"
            "                       head), streaming (StreamingLLM: sink + recent window), snapkv (per-head\n"
            "                       top-k by the prompt's last query, uniform over heads). A method may take\n"
            "                       options: uniform:scorer=prompt-last;block=16 (';' or '+' between them):\n"
            "                       block, sink, window, scorer (block-last|prompt-last), redundancy\n"
            "                       (entropy|mass), sigma, dense-layers, fit (window|core: how a prompt too\n"
            "                       short for the file's sink and window meets the budget; window, the\n"
            "                       default, halves them until it is met; core halves them only to half the\n"
            "                       budget, then lowers every head's retain counts), prefill-window (raw\n"
            "                       tokens the prompt's own rows see before their block; default the window\n"
            "                       before the fit shrinks it, as `tca ask` runs; 0: the fitted window;\n"
            "                       the cache keeps the fitted window either way), budgets (a directory of\n"
            "                       calibrated files in place of --budgets, to compare two calibrations in\n"
            "                       one run: tca,tca:budgets=docs/eval/budgets-block64).\n"
            "                       Default\n"
            "                       dense,tca,uniform,streaming,snapkv\n"
            "      --keep LIST      keep ratios (default 0.39); every method runs at the keep the calibrated\n"
            "                       budget gets at each length (the ratio itself without a calibrated file)\n"
            "      --length LIST    prompt lengths in tokens, answer included (default 4096; at least 1024,\n"
            "                       and for lm more than --lm-from + --lm-final + 1)\n"
            "      --tasks LIST     retrieval, lm, qa (default all three)\n"
            "      --depths N       needle depths 0..100%% in N steps (default 3: 0, 50, 100%%)\n"
            "      --qa N           questions (default 4; spread over the set; 0: all)\n"
            "      --qa-ids LIST    these questions only (comma-separated ids of the set), each at the depth\n"
            "                       it has when the whole set runs (--qa 0), so its prompt is that run's and\n"
            "                       --reuse finds its answers there\n"
            "      --qa-file FILE   the question set (default tools/eval/qa_questions.json)\n"
            "      --lm N           language-modelling windows (default 2)\n"
            "      --lm-final N     final chunk whose perplexity is reported, fed one token at a time (default 128)\n"
            "      --lm-from N      KL and top-1 from this position on (default 1024)\n"
            "      --data DIR       the Gutenberg books (default ../shared/data/gutenberg beside the source;\n"
            "                       $TCA_DATA_DIR)\n"
            "      --budgets LIST   calibrated budget directories, comma-separated; at each keep the first\n"
            "                       holding the model's file for it is taken (default models/budgets;\n"
            "                       $TCA_BUDGETS_DIR): docs/eval/budgets-block32,models/budgets\n"
            "      --seed S         haystacks, needles, windows (default 1)\n"
            "  -o, --out DIR        output directory (default docs/eval in the source tree)\n"
            "      --name NAME      output file names (default MODEL-LENGTHS)\n"
            "      --reuse LIST     earlier runs' JSON files (comma-separated): an answer they recorded for\n"
            "                       the same model, prompt tokens, method and configuration at that length\n"
            "                       is taken, not recomputed, and scored again. Resumes a stopped run (its\n"
            "                       own OUT/NAME.json), or adds a method to a run without recomputing dense.\n"
            "                       Language modelling windows always run.\n"
            "      --resume         reuse OUT/NAME.json too where it exists: the same command resumes a\n"
            "                       stopped run (and starts afresh when there is none)\n"
            "  -t, --threads N      threads (default: all cores)\n");
}

static int split_list(const char *opt, const char *v, char out[][96], int max) {
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", v ? v : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max) return fprintf(stderr, "tca eval: %s takes at most %d values\n", opt, max), -1;
        snprintf(out[n++], 96, "%s", t);
    }
    if (n == 0) return fprintf(stderr, "tca eval: %s needs a value\n", opt), -1;
    return n;
}

/* Every directory of a --budgets list must be readable: a mistyped one would otherwise be passed
 * over at each keep, and a method would run another directory's file or be skipped. */
static int check_budget_dirs(const char *list) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *dir = strtok_r(buf, ",", &save); dir; dir = strtok_r(NULL, ",", &save)) {
        DIR *dp = opendir(dir);
        if (!dp) return fprintf(stderr, "tca eval: --budgets: '%s' is not a directory we can read\n", dir), -1;
        closedir(dp);
    }
    return 0;
}

static int parse_args(eval_opts *o, int argc, char **argv, const char **qa_file) {
    char items[EVAL_MAX_METHODS][96];
    const char *methods = "dense,tca,uniform,streaming,snapkv";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        int n;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return help(stdout), 1;
        if (!strcmp(a, "--resume")) { /* the one option without a value */
            o->resume = true;
            continue;
        }
        if (!v) return fprintf(stderr, "tca eval: unknown or incomplete option '%s'\n", a), -1;
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--methods")) methods = v;
        else if (!strcmp(a, "--keep")) {
            if ((n = split_list(a, v, items, EVAL_MAX_KEEPS)) < 0) return -1;
            for (o->n_keeps = 0; o->n_keeps < n; o->n_keeps++) {
                char *end;
                o->keeps[o->n_keeps] = strtod(items[o->n_keeps], &end);
                if (*end || !(o->keeps[o->n_keeps] > 0 && o->keeps[o->n_keeps] <= 1))
                    return fprintf(stderr, "tca eval: --keep: '%s' is not in (0, 1]\n", items[o->n_keeps]), -1;
            }
        } else if (!strcmp(a, "--length")) {
            if ((n = split_list(a, v, items, EVAL_MAX_LENGTHS)) < 0) return -1;
            for (o->n_lengths = 0; o->n_lengths < n; o->n_lengths++) {
                if (cli_long(a, items[o->n_lengths], 1024, 1 << 20, &x) < 0) return -1;
                o->lengths[o->n_lengths] = x;
            }
        } else if (!strcmp(a, "--tasks")) {
            if ((n = split_list(a, v, items, 3)) < 0) return -1;
            o->task_ret = o->task_lm = o->task_qa = false;
            for (int k = 0; k < n; k++) {
                if (!strcmp(items[k], "retrieval")) o->task_ret = true;
                else if (!strcmp(items[k], "lm")) o->task_lm = true;
                else if (!strcmp(items[k], "qa")) o->task_qa = true;
                else return fprintf(stderr, "tca eval: unknown task '%s' (retrieval, lm, qa)\n", items[k]), -1;
            }
        } else if (!strcmp(a, "--depths")) {
            if (cli_long(a, v, 1, EVAL_MAX_DEPTHS, &x) < 0) return -1;
            o->n_depths = (int)x;
        } else if (!strcmp(a, "--qa")) {
            if (cli_long(a, v, 0, 100000, &x) < 0) return -1;
            o->n_qa = (int)x;
        } else if (!strcmp(a, "--qa-ids")) o->qa_ids = v;
        else if (!strcmp(a, "--qa-file")) *qa_file = v;
        else if (!strcmp(a, "--lm")) {
            if (cli_long(a, v, 1, 64, &x) < 0) return -1;
            o->n_lm = (int)x;
        } else if (!strcmp(a, "--lm-final")) {
            if (cli_long(a, v, 2, 1 << 16, &x) < 0) return -1;
            o->lm_final = (int)x;
        } else if (!strcmp(a, "--lm-from")) {
            if (cli_long(a, v, 0, 1 << 20, &x) < 0) return -1;
            o->lm_from = (int)x;
        } else if (!strcmp(a, "--data")) o->data_dir = v;
        else if (!strcmp(a, "--budgets")) {
            if (check_budget_dirs(v)) return -1;
            o->budget_dir = v;
        }
        else if (!strcmp(a, "--seed")) {
            if (cli_long(a, v, 0, 0x7fffffffL, &x) < 0) return -1;
            o->seed = (uint64_t)x;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) o->out_dir = v;
        else if (!strcmp(a, "--name")) o->name = v;
        else if (!strcmp(a, "--reuse")) o->reuse = v;
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (cli_long(a, v, 1, 1024, &x) < 0) return -1;
            o->threads = (int)x;
        } else return fprintf(stderr, "tca eval: unknown option '%s'\n\n", a), help(stderr), -1;
    }
    /* language modelling needs positions from --lm-from on before its final chunk; refused here,
     * not after the other tasks have run (retrieval and questions fit in 1024 tokens) */
    for (int li = 0; li < o->n_lengths && o->task_lm; li++)
        if (o->lengths[li] <= (int64_t)o->lm_from + o->lm_final + 1)
            return fprintf(stderr,
                           "tca eval: length %lld is too short for language modelling: it needs more than --lm-from "
                           "%d + --lm-final %d + 1 tokens (or --tasks retrieval,qa)\n",
                           (long long)o->lengths[li], o->lm_from, o->lm_final), -1;
    int n = split_list("--methods", methods, items, EVAL_MAX_METHODS);
    if (n < 0) return -1;
    /* dense first: it is every other method's reference (KL, top-1), added when not asked for */
    eval_method dense;
    eval_parse_method("dense", &dense);
    o->methods[o->n_methods++] = dense;
    for (int k = 0; k < n; k++) {
        for (char *c = items[k]; *c; c++) *c = *c == ';' || *c == '+' ? ',' : *c;
        if (!strcmp(items[k], "dense")) continue;
        if (o->n_methods == EVAL_MAX_METHODS) return fprintf(stderr, "tca eval: too many methods\n"), -1;
        if (eval_parse_method(items[k], &o->methods[o->n_methods++])) return -1;
    }
    return 0;
}

static bool contains_ci(const char *hay, const char *needle) {
    const size_t n = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

/* Seconds left, at the pace of the runs computed so far (reused ones take no time). */
static double eta_s(const eval_run *r) {
    const int64_t computed = r->n_done - r->n_reused;
    return computed ? (now_s() - r->t0) / (double)computed * (double)(r->n_total - r->n_done) : 0;
}

/* The prompt under every configuration that runs at this length; scored and recorded. */
static int run_prompt(eval_run *r, int li, const char *task, int kind, const eval_prompt *p,
                      tca_budget **budgets) {
    const eval_opts *o = r->o;
    char hash[17];
    eval_prompt_hash(p, hash);
    for (int mi = 0; mi < o->n_methods; mi++)
        for (int ki = 0; ki < o->n_keeps; ki++) {
            eval_cell *cell = eval_cell_at(r, mi, ki, li);
            if (cell->skipped) continue;
            const double t0 = now_s();
            char *text = NULL;
            double keep = 1, dt;
            const char *from = NULL;
            const cJSON *old = eval_reuse_find(r, task, hash, mi, ki, li, &from);
            if (old) { /* recorded by an earlier run (--reuse): taken with its time, scored again */
                text = strdup(cJSON_GetObjectItemCaseSensitive(old, "output")->valuestring);
                keep = cJSON_GetObjectItemCaseSensitive(old, "keep")->valuedouble;
                const cJSON *sec = cJSON_GetObjectItemCaseSensitive(old, "seconds");
                dt = cJSON_IsNumber(sec) ? sec->valuedouble : 0;
                r->n_reused++;
                if (!text) return -1;
            } else {
                if (eval_answer(r, budgets[mi * o->n_keeps + ki], p, &text, &keep)) return -1;
                dt = now_s() - t0;
            }
            bool ok = true;
            if (p->n_answers) {
                ok = false;
                for (int i = 0; i < p->n_answers; i++) ok |= contains_ci(text, p->answers[i]);
            }
            for (int i = 0; i < p->n_expect; i++) ok &= strstr(text, p->expect[i]) != NULL;
            if (kind >= 0) {
                cell->ret_n[kind]++, cell->ret_ok[kind] += ok;
                cell->depth_n[p->depth_index]++, cell->depth_ok[p->depth_index] += ok;
            } else {
                cell->qa_n++, cell->qa_ok += ok;
            }
            cell->keep_sum += keep, cell->n_keep++;
            cell->seconds += dt;
            cJSON *s = cJSON_CreateObject();
            cJSON_AddNumberToObject(s, "length", (double)o->lengths[li]);
            cJSON_AddStringToObject(s, "task", task);
            cJSON_AddStringToObject(s, "sample", p->what);
            cJSON_AddStringToObject(s, "method", o->methods[mi].label);
            cJSON_AddNumberToObject(s, "keep_target", o->methods[mi].kind == EVAL_DENSE ? 1.0 : o->keeps[ki]);
            cJSON_AddNumberToObject(s, "keep", keep);
            cJSON_AddNumberToObject(s, "prompt_tokens", (double)p->n);
            cJSON_AddStringToObject(s, "prompt_fnv1a64", hash);
            cJSON_AddNumberToObject(s, "seconds", dt);
            if (from) cJSON_AddStringToObject(s, "reused_from", from);
            cJSON_AddBoolToObject(s, "correct", ok);
            cJSON_AddStringToObject(s, "output", text);
            cJSON *want = cJSON_AddArrayToObject(s, p->n_answers ? "answers_any" : "expected_all");
            for (int i = 0; i < p->n_expect; i++) cJSON_AddItemToArray(want, cJSON_CreateString(p->expect[i]));
            for (int i = 0; i < p->n_answers; i++) cJSON_AddItemToArray(want, cJSON_CreateString(p->answers[i]));
            cJSON_AddItemToArray(r->samples, s);
            r->n_done++;
            if (eval_write_report(r, now_s() - r->t0, false)) return free(text), -1; /* the checkpoint, first */
            fprintf(stderr, "[%lld/%lld] L=%lld %s | %s @ %.2f: %s (keep %.3f, %.1f s%s) eta %.0f min\n",
                    (long long)r->n_done, (long long)r->n_total, (long long)o->lengths[li], p->what,
                    o->methods[mi].label, o->methods[mi].kind == EVAL_DENSE ? 1.0 : o->keeps[ki],
                    ok ? "correct" : "wrong", keep, dt, from ? ", reused" : "", eta_s(r) / 60);
            free(text);
        }
    return 0;
}

static int run_lm(eval_run *r, int li, int sample, tca_budget **budgets) {
    const eval_opts *o = r->o;
    const int64_t L = o->lengths[li];
    tca_token *ids = NULL;
    char what[96];
    if (eval_lm_window(r, sample, L, &ids, what, sizeof what)) return -1;
    eval_dense_ref *ref = NULL;
    int rc = 0;
    for (int mi = 0; mi < o->n_methods && !rc; mi++) /* dense (method 0) first: the reference */
        for (int ki = 0; ki < o->n_keeps && !rc; ki++) {
            eval_cell *cell = eval_cell_at(r, mi, ki, li);
            if (cell->skipped) continue;
            const double t0 = now_s();
            double keep = 1;
            const double nll0 = cell->nll_final;
            const int64_t nf0 = cell->n_final;
            if ((rc = eval_lm(r, budgets[mi * o->n_keeps + ki], ids, L, &ref, cell, &keep))) break;
            cell->keep_sum += keep, cell->n_keep++;
            const double dt = now_s() - t0;
            cell->seconds += dt;
            r->n_done++;
            if ((rc = eval_write_report(r, now_s() - r->t0, false))) break; /* the checkpoint, first */
            fprintf(stderr, "[%lld/%lld] L=%lld %s | %s @ %.2f: final-chunk ppl %.3f (keep %.3f, %.1f s) eta %.0f min\n",
                    (long long)r->n_done, (long long)r->n_total, (long long)L, what, o->methods[mi].label,
                    o->methods[mi].kind == EVAL_DENSE ? 1.0 : o->keeps[ki],
                    exp((cell->nll_final - nll0) / (double)(cell->n_final - nf0)), keep, dt, eta_s(r) / 60);
        }
    eval_dense_ref_free(ref);
    free(ids);
    return rc;
}

/* The chat template around a placeholder user turn, as four token runs (eval_run.tpl). */
static int template_pieces(eval_run *r) {
    char *prompt = NULL;
    size_t len, off, n;
    if (tca_chat_format(tca_model_gguf(r->model), NULL, "\x1f", &prompt, &len, &off, &n))
        return fprintf(stderr, "tca eval: chat template: %s\n", tca_last_error()), -1;
    const char *ph = memchr(prompt + off, 0x1f, n);
    const char *cut[5] = {prompt, prompt + off, ph, ph + 1, prompt + off + n};
    const unsigned flags[4] = {TCA_TOK_PARSE_SPECIAL, 0, 0, TCA_TOK_PARSE_SPECIAL};
    int rc = ph ? 0 : -1;
    for (int i = 0; i < 4 && !rc; i++) {
        const char *end = i == 3 ? prompt + len : cut[i + 1];
        if (tca_tokenize_alloc(r->tok, cut[i], (size_t)(end - cut[i]), flags[i], &r->tpl[i], &r->tpl_n[i])) rc = -1;
    }
    free(prompt);
    return rc;
}

/* The questions to ask, as indices into the set: --qa-ids by id, or --qa N spread over the
 * set; NULL (said why) on an unknown id. A question's depth follows its index in the set with --qa-ids
 * and its place in the run otherwise (eval_qa_prompt), so --qa-ids asks what --qa 0 asked. */
static int *pick_questions(const eval_opts *o, const eval_qa_item *qa, int n_items, int *n_pick, bool *by_id) {
    int *pick = malloc((size_t)n_items * sizeof *pick), n = 0;
    *by_id = o->qa_ids != NULL;
    if (!pick) return NULL;
    if (!o->qa_ids) {
        for (int q = 0; q < o->n_qa; q++) pick[n++] = (int)((int64_t)q * n_items / o->n_qa);
        *n_pick = n;
        return pick;
    }
    const char *s = o->qa_ids;
    while (*s) {
        const size_t len = strcspn(s, ",");
        int found = -1;
        for (int i = 0; i < n_items && found < 0; i++)
            if (strlen(qa[i].id) == len && !strncmp(qa[i].id, s, len)) found = i;
        if (found < 0 || n == n_items) {
            fprintf(stderr, "tca eval: --qa-ids: '%.*s' is %s\n", (int)len, s,
                    found < 0 ? "not a question of the set" : "one id too many");
            free(pick);
            return NULL;
        }
        pick[n++] = found;
        s += len + (s[len] == ',');
    }
    if (n == 0) {
        fprintf(stderr, "tca eval: --qa-ids needs at least one id\n");
        free(pick);
        return NULL;
    }
    *n_pick = n;
    return pick;
}

int tca_cmd_eval(int argc, char **argv) {
    eval_opts o = {.model = TCA_DEFAULT_MODEL, .n_keeps = 1, .keeps = {0.39}, .n_lengths = 1, .lengths = {4096},
                   .task_ret = true, .task_lm = true, .task_qa = true, .n_depths = 3, .n_qa = 4, .n_lm = 2,
                   .lm_final = 128, .lm_from = 1024, .seed = 1};
    const char *qa_file = TCA_SOURCE_DIR "/tools/eval/qa_questions.json";
    o.data_dir = getenv("TCA_DATA_DIR") && *getenv("TCA_DATA_DIR") ? getenv("TCA_DATA_DIR")
                                                                    : TCA_SOURCE_DIR "/../shared/data/gutenberg";
    o.budget_dir = getenv("TCA_BUDGETS_DIR") && *getenv("TCA_BUDGETS_DIR") ? getenv("TCA_BUDGETS_DIR")
                                                                          : TCA_SOURCE_DIR "/models/budgets";
    o.out_dir = TCA_SOURCE_DIR "/docs/eval";
    int rc = parse_args(&o, argc, argv, &qa_file);
    if (rc) return rc > 0 ? 0 : 2;

    eval_run r = {.o = &o, .t0 = now_s()};
    eval_qa_item *qa = NULL;
    int n_qa_items = 0;
    if (o.task_qa && eval_qa_load(qa_file, &qa, &n_qa_items)) return 1;
    if (o.task_qa && (o.n_qa == 0 || o.n_qa > n_qa_items)) o.n_qa = n_qa_items;
    int *qa_pick = NULL;
    bool qa_by_id = false;
    if (o.task_qa && !(qa_pick = pick_questions(&o, qa, n_qa_items, &o.n_qa, &qa_by_id))) return 2;
    tca_status s = tca_model_resolve(o.model, r.model_path, sizeof r.model_path);
    if (!s) s = tca_model_load(r.model_path, &r.model);
    if (s) return tca_tool_fail("model", s);
    r.hp = tca_model_hparams(r.model);
    tca_model_fingerprint(r.model, r.fingerprint);
    if ((s = tca_tokenizer_load(tca_model_gguf(r.model), &r.tok))) return tca_tool_fail("tokenizer", s);
    if (template_pieces(&r)) return 1;
    for (int li = 0; li < o.n_lengths; li++)
        if (o.lengths[li] > r.hp->n_ctx_train) {
            fprintf(stderr, "tca eval: length %lld exceeds the model's context of %d tokens\n",
                    (long long)o.lengths[li], r.hp->n_ctx_train);
            return 2;
        }
    if (o.threads == 0) o.threads = tca_default_threads();
    if (o.reuse && eval_reuse_load(&r, o.reuse)) return 2;
    char own[4200];
    eval_out_base(&r, own, sizeof own - 8);
    strcat(own, ".json");
    if (o.resume && access(own, F_OK) == 0 && eval_reuse_load(&r, own)) return 2;
    r.cells = calloc((size_t)o.n_methods * o.n_keeps * o.n_lengths, sizeof *r.cells);
    tca_budget **budgets = calloc((size_t)o.n_methods * o.n_keeps, sizeof *budgets);
    r.samples = cJSON_CreateArray();
    if (!r.cells || !budgets || !r.samples) return 1;

    /* how many runs, for progress (less those of skipped configurations, as they are found) */
    const int64_t per_len = (o.task_ret ? RET_KINDS * o.n_depths : 0) + (o.task_qa ? o.n_qa : 0) + (o.task_lm ? o.n_lm : 0);
    r.n_total = per_len * (1 + (int64_t)(o.n_methods - 1) * o.n_keeps) * o.n_lengths;
    for (int i = 0; i < argc; i++) /* the command line, for the report */
        snprintf(r.cmdline + strlen(r.cmdline), sizeof r.cmdline - strlen(r.cmdline), "%s%s", i ? " " : "tca ", argv[i]);
    for (int li = 0; li < o.n_lengths && !rc; li++) {
        const int64_t L = o.lengths[li];
        for (int mi = 0; mi < o.n_methods && !rc; mi++)
            for (int ki = 0; ki < o.n_keeps && !rc; ki++) {
                eval_cell *cell = eval_cell_at(&r, mi, ki, li);
                if (o.methods[mi].kind == EVAL_DENSE && ki > 0) { /* dense has no keep ratio: one row */
                    cell->skipped = true;
                    snprintf(cell->note, sizeof cell->note, "dense runs once");
                    continue;
                }
                rc = eval_make_budget(&r, &o.methods[mi], o.keeps[ki], L, cell, &budgets[mi * o.n_keeps + ki]) < 0;
                if (cell->skipped) {
                    fprintf(stderr, "tca eval: L=%lld %s @ %g skipped: %s\n", (long long)L, o.methods[mi].label,
                            o.keeps[ki], cell->note);
                    r.n_total -= per_len;
                }
            }
        for (int kind = 0; kind < RET_KINDS && o.task_ret && !rc; kind++)
            for (int di = 0; di < o.n_depths && !rc; di++) {
                eval_prompt p;
                rc = eval_retrieval_prompt(&r, kind, di, L, 0, &p) || run_prompt(&r, li, "retrieval", kind, &p, budgets);
                free(p.ids);
            }
        for (int q = 0; q < o.n_qa && o.task_qa && !rc; q++) {
            const int item = qa_pick[q];
            eval_prompt p;
            rc = eval_qa_prompt(&r, &qa[item], qa_by_id ? item : q, L, &p) || run_prompt(&r, li, "qa", -1, &p, budgets);
            free(p.ids);
        }
        for (int w = 0; w < o.n_lm && o.task_lm && !rc; w++) rc = run_lm(&r, li, w, budgets);
        for (int i = 0; i < o.n_methods * o.n_keeps; i++) tca_budget_free(budgets[i]), budgets[i] = NULL;
    }
    if (!rc) rc = eval_write_report(&r, now_s() - r.t0, true);
    free(budgets);
    free(r.cells);
    cJSON_Delete(r.samples);
    eval_reuse_free(&r);
    eval_qa_free(qa, n_qa_items);
    free(qa_pick);
    for (int i = 0; i < 4; i++) free(r.tpl[i]);
    tca_tokenizer_free(r.tok);
    tca_model_free(r.model);
    return rc ? 1 : 0;
}
