/* The generation loop shared by `tca run` and `tca ask`: prefill with progress, decode with
 * streaming, and the run summary (text or JSON). */
#ifndef TCA_TOOLS_GENERATE_H
#define TCA_TOOLS_GENERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "attn_opts.h"
#include "tca/tca.h"

typedef struct gen_options {
    const char *model;        /* name or path */
    int n_predict;            /* tokens to generate at most */
    int n_threads;            /* 0: all cores */
    int n_ctx;                /* 0: prompt + n_predict */
    tca_sampler_params sampling;
    bool json;                /* summary (and text) as one JSON object on stdout */
    attn_options attn;        /* dense or TCA, and the KV cache type */
} gen_options;

/* A prompt is a list of parts, tokenized one after the other: the chat template's markers are
 * parsed as special tokens, a document's text is not (so a "<|im_end|>" inside it stays text). */
typedef struct gen_part {
    const char *text;
    size_t len;
    bool special;
} gen_part;

void gen_options_default(gen_options *o);

/* Parses an option shared by run and ask at argv[*i] (advancing *i past its value). Returns 1
 * when consumed, 0 when not one of the shared options, -1 on a bad value (message printed). */
int gen_parse_common(gen_options *o, int argc, char **argv, int *i);

/* Help lines for the shared options. */
extern const char gen_common_help[];

/* Loads the model, tokenizes the prompt parts, generates, prints. Returns the exit status. */
int gen_run(const gen_options *o, const gen_part *parts, int n_parts);

/* Reads a whole file into a malloc'ed NUL-terminated buffer; NULL with a message on failure. */
char *read_file(const char *path, size_t *len);

#endif
