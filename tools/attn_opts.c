#include "attn_opts.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "commands.h"
#include "tca_config.h"

const char attn_help[] =
    "      --attn MODE      dense or tca. Default: tca with the model's shipped budget (models/budgets/,\n"
    "                       keep 0.39) when there is one, or when --tca-budget or --tca-keep is given;\n"
    "                       dense otherwise\n"
    "      --tca-budget F   head-budget file (JSON, from `tca calibrate`)\n"
    "      --tca-keep X     uniform TCA: one log-Gaussian for every head, chosen so that the whole\n"
    "                       KV cache keeps the fraction X of the prompt's tokens (0 < X <= 1)\n"
    "      --tca-block B    selection block size: 16, 32 or 64 (default 32; a file fixes it)\n"
    "      --tca-sink S     first tokens always kept (default 64, or the file's)\n"
    "      --tca-window W   recent tokens kept raw, a multiple of B (default 512, or the file's)\n"
    "      --tca-scorer S   prompt-last or block-last (default prompt-last, or the file's)\n"
    "      --tca-redundancy R  mass or entropy (mass: prompt-last only; default mass with prompt-last,\n"
    "                          entropy with block-last)\n"
    "      --tca-sigma S    width of the uniform log-Gaussian in log2 tokens (default 1)\n"
    "      --tca-dense-layers N  the first N layers keep every token (default 0)\n"
    "      --tca-prefill-window P  raw tokens the prompt's own rows see before their block, when more\n"
    "                       than the window (a multiple of B; default: the window). The cache still\n"
    "                       keeps W: a small --tca-window with a larger P saves KV while the prompt is\n"
    "                       computed closer to dense, at more prefill time\n"
    "      --kv-type T      dense cache element type: f16 (default) or f32\n";

void attn_options_default(attn_options *a) {
    memset(a, 0, sizeof *a);
    a->mode = -1;
    a->block = a->sink = a->window = a->scorer = a->redundancy = -1;
    a->sigma = 1.0;
    a->kv_type = TCA_KV_F16;
}

static int int_value(const char *opt, const char *v, long lo, long hi, int *out) {
    long x;
    const int r = cli_long(opt, v, lo, hi, &x);
    if (r > 0) *out = (int)x;
    return r;
}

static int real_value(const char *opt, const char *v, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || errno || *end || !(x > lo && x <= hi))
        return fprintf(stderr, "tca: %s expects a number in (%g, %g], got '%s'\n", opt, lo, hi, v ? v : ""), -1;
    *out = x;
    return 1;
}

static int choice(const char *opt, const char *v, const char *a, const char *b, int *out) {
    if (v && !strcmp(v, a)) *out = 0;
    else if (v && !strcmp(v, b)) *out = 1;
    else return fprintf(stderr, "tca: %s expects %s or %s, got '%s'\n", opt, a, b, v ? v : ""), -1;
    return 1;
}

int attn_parse(attn_options *a, int argc, char **argv, int *i) {
    const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    int r, x;
    if (!strcmp(o, "--attn")) r = choice(o, v, "dense", "tca", &a->mode);
    else if (!strcmp(o, "--tca-budget")) {
        if (!v) return fprintf(stderr, "tca: %s needs a file\n", o), -1;
        a->budget_path = v;
        r = 1;
    } else if (!strcmp(o, "--tca-keep")) r = real_value(o, v, 0, 1, &a->keep);
    else if (!strcmp(o, "--tca-sigma")) r = real_value(o, v, 0, 64, &a->sigma);
    else if (!strcmp(o, "--tca-block")) {
        if ((r = int_value(o, v, 16, 64, &x)) > 0) {
            if (x != 16 && x != 32 && x != 64)
                return fprintf(stderr, "tca: --tca-block expects 16, 32 or 64, got %d\n", x), -1;
            a->block = x;
        }
    } else if (!strcmp(o, "--tca-sink")) r = int_value(o, v, 0, 1 << 24, &a->sink);
    else if (!strcmp(o, "--tca-window")) r = int_value(o, v, 0, 1 << 24, &a->window);
    else if (!strcmp(o, "--tca-prefill-window")) r = int_value(o, v, 0, 1 << 24, &a->prefill_window);
    else if (!strcmp(o, "--tca-scorer")) r = choice(o, v, "block-last", "prompt-last", &a->scorer);
    else if (!strcmp(o, "--tca-redundancy")) r = choice(o, v, "entropy", "mass", &a->redundancy);
    else if (!strcmp(o, "--kv-type")) {
        int t = 0;
        r = choice(o, v, "f16", "f32", &t);
        a->kv_type = t ? TCA_KV_F32 : TCA_KV_F16;
    } else return 0;
    if (r > 0) (*i)++;
    return r;
}

/* The shipped budget for model m: the file in $TCA_BUDGETS_DIR (default: the source tree's
 * models/budgets) whose model fingerprint matches (the reader checks it) and whose calibration
 * target is closest to 0.39. Returns it loaded, or NULL; *path_out names the file. */
static tca_budget *shipped_budget(const tca_model *m, char *path_out, size_t cap) {
    const char *dir = getenv("TCA_BUDGETS_DIR");
    if (!dir || !*dir) dir = TCA_SOURCE_DIR "/models/budgets";
    DIR *dp = opendir(dir);
    if (!dp) return NULL;
    tca_budget *best = NULL;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        tca_budget *b = NULL;
        if (tca_budget_load(path, m, &b) != TCA_OK) continue; /* another model's, or not a budget */
        if (!best || fabs(b->calib_target - 0.39) < fabs(best->calib_target - 0.39) ||
            (fabs(b->calib_target - 0.39) == fabs(best->calib_target - 0.39) && strcmp(path, path_out) < 0)) {
            tca_budget_free(best);
            best = b;
            snprintf(path_out, cap, "%s", path);
        } else {
            tca_budget_free(b);
        }
    }
    closedir(dp);
    return best;
}

void attn_dense_first_layers(tca_budget *b, int n) {
    for (int l = 0; l < n && l < b->n_layer; l++)
        for (int g = 0; g < b->n_head_kv; g++) {
            tca_head_budget *hb = &b->heads[l * b->n_head_kv + g];
            memset(hb->p, 0, sizeof hb->p);
            hb->p[tca_budget_n_counts(b) - 1] = 1.0;
            hb->has_thresholds = 0;
        }
}

int attn_configure(attn_options *a, const tca_model *m, long L, tca_context_params *cp, tca_budget **budget) {
    *budget = NULL;
    cp->kv_type = a->kv_type;
    tca_budget *shipped = NULL;
    if (!a->budget_path && !(a->keep > 0) && a->mode != 0 && a->kv_type == TCA_KV_F16) {
        shipped = shipped_budget(m, a->shipped_path, sizeof a->shipped_path);
        if (!shipped && a->mode == 1) {
            fprintf(stderr, "tca: --attn tca needs --tca-budget FILE or --tca-keep X (no budget for this model is "
                            "shipped in models/budgets)\n");
            return -1;
        }
    }
    const bool want_tca = a->mode == 1 || (a->mode == -1 && (a->budget_path || a->keep > 0 || shipped));
    if (!want_tca) {
        if (a->budget_path || a->keep > 0) {
            fprintf(stderr, "tca: --attn dense does not take --tca-budget or --tca-keep\n");
            return -1;
        }
        cp->attn = TCA_ATTN_DENSE;
        return 0;
    }
    if (a->budget_path && a->keep > 0) {
        fprintf(stderr, "tca: give --tca-budget FILE or --tca-keep X, not both\n");
        return -1;
    }
    tca_status s;
    tca_budget *b = shipped;
    if (b) {
        if (a->block >= 0 && a->block != b->block) {
            fprintf(stderr, "tca: --tca-block %d differs from the shipped budget's block size %d\n", a->block, b->block);
            tca_budget_free(b);
            return -1;
        }
    } else if (a->budget_path) {
        if ((s = tca_budget_load(a->budget_path, m, &b)) != TCA_OK) return tca_tool_fail("budget", s), -1;
        if (a->block >= 0 && a->block != b->block) {
            fprintf(stderr, "tca: --tca-block %d differs from the budget file's block size %d (its retain counts are per block)\n",
                    a->block, b->block);
            tca_budget_free(b);
            return -1;
        }
    } else {
        int block = a->block >= 0 ? a->block : TCA_DEFAULT_BLOCK, sink = a->sink >= 0 ? a->sink : TCA_DEFAULT_SINK;
        int window = a->window >= 0 ? a->window : TCA_DEFAULT_WINDOW;
        tca_scorer scorer = a->scorer < 0 ? TCA_DEFAULT_SCORER : a->scorer ? TCA_SCORER_PROMPT_LAST : TCA_SCORER_BLOCK_LAST;
        if ((s = tca_budget_uniform_for_keep(m, block, sink, window, scorer, L, a->keep, a->sigma, &b)) != TCA_OK)
            return tca_tool_fail("--tca-keep", s), -1;
    }
    if (a->sink >= 0) b->sink = a->sink;
    if (a->window >= 0) b->window = a->window;
    if (a->scorer >= 0) { /* a changed scorer takes its default ranking key unless one is given */
        b->scorer = a->scorer ? TCA_SCORER_PROMPT_LAST : TCA_SCORER_BLOCK_LAST;
        b->redundancy = tca_default_redundancy(b->scorer);
    }
    if (a->redundancy >= 0) b->redundancy = a->redundancy ? TCA_REDUNDANCY_MASS : TCA_REDUNDANCY_ENTROPY;
    if (b->window % b->block || a->prefill_window % b->block) {
        fprintf(stderr, "tca: --tca-%swindow %d is not a multiple of the block size %d\n",
                b->window % b->block ? "" : "prefill-", b->window % b->block ? b->window : a->prefill_window, b->block);
        tca_budget_free(b);
        return -1;
    }
    b->prefill_window = a->prefill_window;
    if (b->redundancy == TCA_REDUNDANCY_MASS && b->scorer != TCA_SCORER_PROMPT_LAST) {
        fprintf(stderr, "tca: --tca-redundancy mass needs --tca-scorer prompt-last (a block's own softmax has mass 1)\n");
        tca_budget_free(b);
        return -1;
    }
    attn_dense_first_layers(b, a->dense_layers);
    cp->attn = TCA_ATTN_TCA;
    cp->budget = b;
    *budget = b;
    return 0;
}

void attn_describe(const attn_options *a, const tca_context_params *cp, char *out, size_t cap) {
    if (cp->attn != TCA_ATTN_TCA)
        snprintf(out, cap, "dense");
    else if (a->shipped_path[0])
        snprintf(out, cap, "tca budget %s", a->shipped_path);
    else if (a->budget_path)
        snprintf(out, cap, "tca budget %s", a->budget_path);
    else
        snprintf(out, cap, "tca keep %g (uniform)", a->keep);
}
