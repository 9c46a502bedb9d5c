/* The attention options shared by run, ask and bench: --attn, --tca-budget, --tca-keep, the
 * selection parameters of spec section 7, and --kv-type. They become the context's attention
 * fields once the prompt length is known (a uniform --tca-keep is solved at that length). With
 * no attention option, a model with a shipped budget (models/budgets) runs TCA with it. */
#ifndef TCA_TOOLS_ATTN_OPTS_H
#define TCA_TOOLS_ATTN_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "tca/tca.h"

typedef struct attn_options {
    int mode;                /* -1: not given (TCA when a budget or keep is given, else dense) */
    const char *budget_path;
    double keep;             /* 0: none */
    int block, sink, window; /* -1: the file's, or the defaults 32, 64, 512 */
    int scorer, redundancy;  /* -1: the file's, or prompt-last, entropy */
    double sigma;            /* uniform configuration's log-Gaussian width */
    int dense_layers;        /* the first N layers keep every token */
    int prefill_window;      /* raw tokens the prompt's rows see before their block; 0: the window */
    tca_kv_type kv_type;
    char shipped_path[4096]; /* set by attn_configure when it took the model's shipped budget */
} attn_options;

void attn_options_default(attn_options *a);

/* Parses one option at argv[*i] (advancing *i past its value): 1 consumed, 0 not an attention
 * option, -1 bad value (message printed). `--attn` takes dense or tca. */
int attn_parse(attn_options *a, int argc, char **argv, int *i);

extern const char attn_help[];

/* Sets cp->attn, cp->budget, cp->kv_type for a sequence whose prompt has L tokens. *budget
 * receives the budget to free after the context (NULL for dense). Returns 0, or -1 with a
 * message printed (a bad file, a keep ratio that sink + window alone exceed at L, ...). */
int attn_configure(attn_options *a, const tca_model *m, long L, tca_context_params *cp, tca_budget **budget);

/* Dense first layers: every block of the first n layers' heads keeps all its tokens. */
void attn_dense_first_layers(tca_budget *b, int n);

/* "dense" or "tca keep 0.39 (uniform)" / "tca budget FILE", for summaries (after attn_configure). */
void attn_describe(const attn_options *a, const tca_context_params *cp, char *out, size_t cap);

#endif
