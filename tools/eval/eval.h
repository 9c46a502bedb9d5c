/* tca eval: accuracy of attention configurations on real long text (docs/eval/README.md).
 *
 * One model, a list of methods (dense, TCA with the calibrated budget, TCA uniform, and the
 * StreamingLLM and SnapKV-like baselines) at a list of keep ratios and prompt lengths, over three
 * tasks: RULER-style retrieval in Gutenberg haystacks, language modelling on held-out text (final
 * chunk perplexity, KL and top-1 agreement against dense) and long-document questions asked in
 * the chat template as `tca ask` asks them. Every method at one keep ratio runs at the same KV
 * budget: the keep the calibrated budget gets at that length (or the target when there is no
 * calibrated file). Results go to JSON, markdown and PNG plots. */
#ifndef TCA_TOOLS_EVAL_H
#define TCA_TOOLS_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tca/tca.h"

#define EVAL_MAX_METHODS 16
#define EVAL_MAX_KEEPS 8
#define EVAL_MAX_LENGTHS 8
#define EVAL_MAX_DEPTHS 11

typedef enum eval_kind { EVAL_DENSE, EVAL_TCA, EVAL_UNIFORM, EVAL_STREAMING, EVAL_SNAPKV } eval_kind;

/* A method as given on the command line: "uniform:scorer=prompt-last,window=256". Overrides of
 * -1 keep the defaults (block 32, sink 64, window 512, prompt-last, entropy; the calibrated
 * file's own for tca; prefill window: the window before a short prompt's fit shrinks it). */
typedef struct eval_method {
    char label[96];
    eval_kind kind;
    int block, sink, window, scorer, redundancy, dense_layers, prefill_window;
    double sigma;
    bool fit_core; /* fit=core: a short prompt's budget is met by the core, not the window (configs.c) */
    char budget_dir[64]; /* budgets=DIR: the calibrated files this method takes; "" for --budgets */
} eval_method;

/* Retrieval tasks (RULER's niah_single, niah_multikey, niah_multivalue). */
enum { RET_SINGLE, RET_MULTIKEY, RET_MULTIVALUE, RET_KINDS };
extern const char *const ret_kind_names[RET_KINDS];

/* Everything measured for one method at one keep ratio and one length. */
typedef struct eval_cell {
    int ret_n[RET_KINDS], ret_ok[RET_KINDS];
    int depth_n[EVAL_MAX_DEPTHS], depth_ok[EVAL_MAX_DEPTHS];
    int qa_n, qa_ok;
    double nll_final; int64_t n_final;          /* final-chunk targets (decode) */
    double kl_sum, kl_final_sum; int64_t n_kl, n_kl_final; /* KL(dense || method), nats */
    int64_t top1_ok, n_top1;                    /* argmax equals dense's, every position >= 1K */
    double keep_sum; int n_keep;                /* whole-cache keep after each prompt */
    double keep_target_eff;                     /* the KV budget all methods ran at (this length) */
    int sink, window, prefill_window;           /* as run (after any shrinking; prefill_window <= window: the window) */
    char budget_file[160], budget_hash[17];     /* tca: the calibrated file and FNV-1a 64 of its bytes */
    bool shrunk, skipped;                       /* skipped: no configuration possible (message in note) */
    bool core_lowered;                          /* fit=core: every head's retain counts lowered */
    char note[160];
    double seconds;
} eval_cell;

typedef struct eval_opts {
    const char *model, *data_dir, *out_dir, *name, *budget_dir;
    eval_method methods[EVAL_MAX_METHODS];
    int n_methods;
    double keeps[EVAL_MAX_KEEPS];
    int n_keeps;
    int64_t lengths[EVAL_MAX_LENGTHS];
    int n_lengths;
    bool task_ret, task_lm, task_qa;
    int n_depths, n_qa, n_lm, lm_final, lm_from, threads;
    uint64_t seed;
    bool plots;
    const char *reuse; /* --reuse: earlier runs' JSON files, comma-separated (reuse.c) */
    bool resume;       /* --resume: reuse OUT/NAME.json too, where it exists */
    const char *qa_ids; /* --qa-ids: these questions only, comma-separated ids */
} eval_opts;

/* The run: model, tokenizer, chat template pieces, results. */
typedef struct eval_run {
    const eval_opts *o;
    tca_model *model;
    tca_tokenizer *tok;
    const tca_hparams *hp;
    char model_path[4096];
    char fingerprint[17];
    /* the chat template around the user's text, tokenized once: special, plain before the
     * user text, plain after it, special (the assistant generation prompt) */
    tca_token *tpl[4];
    size_t tpl_n[4];
    eval_cell *cells; /* [method][keep][length] */
    /* per-sample records for the JSON (cJSON array, owned) */
    void *samples;
    void *reuse; /* the --reuse files (cJSON array of their roots) */
    int64_t n_done, n_total, n_reused;
    double t0;
    char cmdline[2048];
} eval_run;

static inline eval_cell *eval_cell_at(const eval_run *r, int mi, int ki, int li) {
    return &r->cells[((int64_t)mi * r->o->n_keeps + ki) * r->o->n_lengths + li];
}

/* configs.c */
int eval_parse_method(const char *spec, eval_method *m); /* 0, or -1 with a message */
/* The budget of method m at keep target `keep` for prompts of L tokens (NULL for dense), with
 * keep_eff the KV budget (the calibrated file's keep at L, else keep). Shrinks sink and window
 * when they alone exceed keep_eff (noted in the cell). 0, 1 when the method cannot run there
 * (cell->note says why), -1 on an error (message printed). */
int eval_make_budget(eval_run *r, const eval_method *m, double keep, int64_t L, eval_cell *cell, tca_budget **out);
/* The calibrated budget file for this model at target keep (exact match of the file's
 * calibration target) in m's budgets=DIR, else the first directory of --budgets that has one,
 * or NULL; its path into path. */
tca_budget *eval_calibrated(eval_run *r, const eval_method *m, double keep, char *path, size_t cap);

/* prompts.c: tokens of the prompts. All malloc'ed; free(). */
typedef struct eval_qa_item {
    char id[32], book[64];
    char *anchor, *question, *answers[8];
    int n_answers;
} eval_qa_item;
int eval_qa_load(const char *path, eval_qa_item **items, int *n); /* tools/eval/qa_questions.json */
void eval_qa_free(eval_qa_item *items, int n);

typedef struct eval_prompt {
    tca_token *ids;
    size_t n;
    char expect[4][32]; /* retrieval: the values that must all appear */
    int n_expect;
    const char *answers[8];     /* qa: any of these (case-insensitive) */
    int n_answers;
    int n_gen;
    int depth_index;
    char what[96];
} eval_prompt;
char *eval_read_book(const eval_run *r, const char *book, size_t *len);
int eval_retrieval_prompt(eval_run *r, int kind, int depth_index, int64_t L, int sample, eval_prompt *p);
int eval_qa_prompt(eval_run *r, const eval_qa_item *item, int index, int64_t L, eval_prompt *p);
/* Tokens [0, L) of a held-out text window for language modelling (sample-th window). */
int eval_lm_window(eval_run *r, int sample, int64_t L, tca_token **ids, char *what, size_t cap);
int eval_chat_wrap(eval_run *r, const tca_token *user, size_t n_user, const char *assistant_prefix,
                   tca_token **out, size_t *n);
double eval_depth(const eval_opts *o, int depth_index);

/* tasks.c: one prompt (prefill + greedy answer) or one LM window under one configuration. */
int eval_answer(eval_run *r, const tca_budget *b, const eval_prompt *p, char **text, double *keep);
typedef struct eval_dense_ref eval_dense_ref;
int eval_lm(eval_run *r, const tca_budget *b, const tca_token *ids, int64_t L, eval_dense_ref **ref,
            eval_cell *cell, double *keep);
void eval_dense_ref_free(eval_dense_ref *d);

/* reuse.c: answers recorded by earlier runs (--reuse), taken when model, prompt, method and its
 * configuration at that length are the same. */
void eval_prompt_hash(const eval_prompt *p, char out[17]); /* FNV-1a 64 of the ids and n_gen */
int eval_reuse_load(eval_run *r, const char *list); /* adds to those loaded; 0, or -1 with a message */
/* The recorded sample (its "output" and "keep") for this prompt under method mi at keep ki and
 * length li, or NULL; *from: the commit that computed it. */
const struct cJSON *eval_reuse_find(const eval_run *r, const char *task, const char *prompt_hash, int mi, int ki,
                                    int li, const char **from);
void eval_reuse_free(eval_run *r);

/* report.c */
/* OUT/NAME.json and .md; final: also the plots and the tables on stdout (a checkpoint after
 * every run writes only the two files, marked partial, so that a stopped run loses nothing) */
int eval_write_report(eval_run *r, double seconds, bool final);
void eval_out_base(const eval_run *r, char *base, size_t cap); /* OUT/NAME, without .json or .md */

#endif
