/* Unit test of the head-budget file (src/budget/): a budget with awkward values (every kind of
 * double, escapes in strings, heads with and without thresholds) round-trips exactly through
 * writer and reader, and a second write is byte-identical; saving is atomic; every malformed or
 * mismatched file is refused with its status and a message naming the field. The model checks
 * run against the real SmolLM2 file (llama, 30 layers, 9 heads, 3 KV heads, head_dim 64). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "select/policy.h"
#include "tca/budget.h"
#include "tca/tca.h"

#include "../check.h"

static const tca_model *model;
static char tmpdir[] = "/tmp/tca_budget_test_XXXXXX";

/* ---- helpers --------------------------------------------------------------------------- */

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Field-by-field, bit-exact for doubles. */
static int budget_equal(const tca_budget *a, const tca_budget *b) {
    if (strcmp(a->arch, b->arch) || strcmp(a->name, b->name) || strcmp(a->fingerprint, b->fingerprint) ||
        a->n_layer != b->n_layer || a->n_head != b->n_head || a->n_head_kv != b->n_head_kv ||
        a->head_dim != b->head_dim || a->block != b->block || a->sink != b->sink || a->window != b->window ||
        a->scorer != b->scorer || a->redundancy != b->redundancy || strcmp(a->calib_text, b->calib_text) ||
        strcmp(a->calib_mode, b->calib_mode) || a->calib_tokens != b->calib_tokens ||
        !same_double(a->calib_target, b->calib_target))
        return 0;
    for (int i = 0; i < a->n_layer * a->n_head_kv; i++) {
        const tca_head_budget *x = &a->heads[i], *y = &b->heads[i];
        if (x->layer != y->layer || x->kv_head != y->kv_head || !same_double(x->mu, y->mu) ||
            !same_double(x->sigma, y->sigma) || x->has_thresholds != y->has_thresholds ||
            !same_double(x->keep, y->keep) || !same_double(x->err, y->err)) {
            fprintf(stderr, "heads[%d] differ\n", i);
            return 0;
        }
        for (int c = 0; c < TCA_MAX_COUNTS; c++)
            if (!same_double(x->p[c], y->p[c])) return 0;
        for (int c = 0; c < TCA_MAX_COUNTS - 1; c++)
            if (!same_double(x->thresholds[c], y->thresholds[c])) return 0;
    }
    return 1;
}

static tca_budget *dup_budget(const tca_budget *b) {
    tca_budget *c = malloc(sizeof *c);
    const size_t n = (size_t)b->n_layer * (size_t)b->n_head_kv;
    *c = *b;
    c->heads = malloc(n * sizeof *c->heads);
    memcpy(c->heads, b->heads, n * sizeof *c->heads);
    return c;
}

/* json with the first occurrence of `from` replaced by `to` (malloc'ed); NULL and a failure
 * when `from` is not there (the test would otherwise test nothing). */
static char *replace(const char *json, const char *from, const char *to) {
    const char *at = strstr(json, from);
    if (!at) {
        fprintf(stderr, "test bug: '%s' not in the JSON\n", from);
        failures++;
        return NULL;
    }
    const size_t n = strlen(json) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    const size_t pre = (size_t)(at - json);
    memcpy(out, json, pre);
    strcpy(out + pre, to);
    strcat(out, at + strlen(from));
    return out;
}

static char *path_in_tmp(const char *name) {
    char *p = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(p, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* Parsing `json` against the model must fail with st and a message containing `sub`; *out NULL. */
#define EXPECT_BAD(json, st, sub)                                                            \
    do {                                                                                     \
        const char *j_ = (json);                                                             \
        if (j_) {                                                                            \
            tca_budget *o_ = (tca_budget *)&failures;                                        \
            CHECK_FAIL(tca_budget_parse(j_, strlen(j_), model, &o_), st, sub);               \
            CHECK(o_ == NULL);                                                               \
        }                                                                                    \
    } while (0)

/* ---- the budget under test ------------------------------------------------------------- */

/* SmolLM2, b = 32: varied heads (log-Gaussians at awkward mu/sigma, one-hot and exact p, a
 * subnormal, thresholds on some heads, keep/err on some) and calibration strings that need
 * escaping. */
static tca_budget *make_budget(void) {
    tca_budget *b = NULL;
    CHECK_OK(tca_budget_new_uniform(model, 32, 64, 512, TCA_SCORER_BLOCK_LAST, 2.5, 1.0, &b));
    if (!b) return NULL;
    snprintf(b->calib_text, sizeof b->calib_text, "alice \"ch. 1\"\\ \n\t\x01 caf\xc3\xa9");
    snprintf(b->calib_mode, sizeof b->calib_mode, "target-keep");
    b->calib_tokens = 8192;
    b->calib_target = 0.39;
    const int nc = tca_budget_n_counts(b);
    for (int i = 0; i < b->n_layer * b->n_head_kv; i++) {
        tca_head_budget *h = &b->heads[i];
        h->mu = -4.0 + 0.1 * i + 1.0 / 3.0;
        h->sigma = 0.25 + 0.037 * (i % 11);
        tca_log_gaussian(b->block, h->mu, h->sigma, h->p);
        if (i % 3 == 0) {
            h->has_thresholds = 1;
            for (int c = 0; c < nc - 1; c++) h->thresholds[c] = 1.0 + c * (31.0 / 7.0) + (i % 5) * 0.1;
        }
        if (i % 4 == 1) {
            h->keep = 0.1 + i / 1000.0;
            h->err = 1e-3 * M_PI * i;
        }
    }
    /* exact values and extremes: dense, one-hot at k = 1, a subnormal next to 1 - tiny */
    for (int c = 0; c < nc; c++) b->heads[1].p[c] = c == nc - 1;
    for (int c = 0; c < nc; c++) b->heads[2].p[c] = c == 0;
    b->heads[4].p[0] = 5e-324;
    b->heads[4].p[1] = 0.5 - 5e-324;
    b->heads[4].p[2] = 0.5;
    for (int c = 3; c < nc; c++) b->heads[4].p[c] = 0;
    b->heads[6].thresholds[0] = 0;          /* the range's ends are allowed */
    b->heads[6].thresholds[nc - 2] = 33;
    b->heads[6].keep = 0;
    b->heads[6].err = 0;
    return b;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_round_trip(const tca_budget *b) {
    char *j1 = tca_budget_to_json(b);
    CHECK(j1 != NULL);
    if (!j1) return;
    tca_budget *r = NULL;
    CHECK_OK(tca_budget_parse(j1, strlen(j1), model, &r));
    CHECK(r && budget_equal(b, r));
    char *j2 = r ? tca_budget_to_json(r) : NULL;
    CHECK(j2 && strcmp(j1, j2) == 0);
    /* without a model: the same budget, model checks skipped */
    tca_budget *r2 = NULL;
    CHECK_OK(tca_budget_parse(j1, strlen(j1), NULL, &r2));
    CHECK(r2 && budget_equal(b, r2));
    /* the writer's choices that make this exact */
    CHECK(strstr(j1, "\"target\": 0.39}") != NULL);            /* shortest that round-trips */
    CHECK(strstr(j1, "\"p\": [4.94065645841247e-324, ") != NULL); /* the smallest subnormal, 15 digits */
    CHECK(strstr(j1, "\\\"ch. 1\\\"\\\\ \\u000a\\u0009\\u0001 caf\xc3\xa9") != NULL);

    /* save -> load; the file holds the same bytes; no temp file is left behind */
    char *path = path_in_tmp("smollm2.budget.json");
    CHECK_OK(tca_budget_save(b, path));
    CHECK_OK(tca_budget_save(b, path)); /* over an existing file */
    tca_budget *l = NULL;
    CHECK_OK(tca_budget_load(path, model, &l));
    CHECK(l && budget_equal(b, l));
    size_t len = 0;
    char *bytes = read_file(path, &len);
    CHECK(bytes && len == strlen(j1) && memcmp(bytes, j1, len) == 0);
    int entries = 0;
    DIR *d = opendir(tmpdir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            entries++;
            CHECK(strcmp(e->d_name, "smollm2.budget.json") == 0);
        }
    if (d) closedir(d);
    CHECK(entries == 1);
    unlink(path);

    /* a budget the reader would refuse is not written */
    tca_budget *bad = dup_budget(b);
    bad->heads[0].sigma = 0;
    CHECK_FAIL(tca_budget_save(bad, path), TCA_ERR_FORMAT, "sigma");
    CHECK(access(path, F_OK) != 0);
    tca_budget_free(bad);

    free(bytes);
    free(path);
    tca_budget_free(l);
    tca_budget_free(r2);
    tca_budget_free(r);
    free(j2);
    free(j1);
}

/* The uniform constructors. */
static void test_uniform(void) {
    tca_budget *b = NULL;
    CHECK_OK(tca_budget_new_uniform(model, 16, 0, 0, TCA_SCORER_PROMPT_LAST, 1.0, 0.5, &b));
    if (b) {
        CHECK(tca_budget_n_counts(b) == 5 && b->n_layer == 30 && b->n_head == 9 && b->n_head_kv == 3 &&
              b->head_dim == 64 && strcmp(b->arch, "llama") == 0 && strlen(b->fingerprint) == 16);
        double p[TCA_MAX_COUNTS];
        tca_log_gaussian(16, 1.0, 0.5, p);
        CHECK(memcmp(b->heads[89].p, p, 5 * sizeof *p) == 0 && b->heads[89].layer == 29 &&
              b->heads[89].kv_head == 2 && b->heads[89].keep == -1 && !b->heads[89].has_thresholds);
        CHECK(b->redundancy == TCA_REDUNDANCY_MASS); /* the default ranking key of prompt-last */
    }
    tca_budget_free(b);
    b = NULL;
    CHECK_OK(tca_budget_new_uniform(model, 32, 64, 512, TCA_SCORER_BLOCK_LAST, 2.5, 1.0, &b));
    if (b) CHECK(b->redundancy == TCA_REDUNDANCY_ENTROPY); /* block-last has no mass to rank by */
    tca_budget_free(b);
    b = (tca_budget *)&failures;
    CHECK_FAIL(tca_budget_new_uniform(model, 48, 64, 512, TCA_SCORER_BLOCK_LAST, 1, 1, &b), TCA_ERR_ARG, "block");
    CHECK(b == NULL);
    CHECK_FAIL(tca_budget_new_uniform(model, 32, 64, 500, TCA_SCORER_BLOCK_LAST, 1, 1, &b), TCA_ERR_ARG, "window");
    CHECK_FAIL(tca_budget_new_uniform(model, 32, 64, 512, TCA_SCORER_BLOCK_LAST, 1, 0, &b), TCA_ERR_ARG, "sigma");

    /* keep 0.39 at 8192 tokens: mu is the policy's bisection result */
    double mu = 0;
    CHECK_OK(tca_uniform_mu(32, 64, 512, 8192, 0.39, 1.0, &mu));
    CHECK_OK(tca_budget_uniform_for_keep(model, 32, 64, 512, TCA_SCORER_BLOCK_LAST, 8192, 0.39, 1.0, &b));
    if (b) {
        CHECK(same_double(b->heads[0].mu, mu));
        const double k = tca_whole_cache_keep(32, 64, 512, 8192, b->heads[0].p);
        CHECK(fabs(k - 0.39) < 0.01);
    }
    tca_budget_free(b);
    /* sink + window = 576 of 1024 tokens: 0.3 cannot be met */
    CHECK_FAIL(tca_budget_uniform_for_keep(model, 32, 64, 512, TCA_SCORER_BLOCK_LAST, 1024, 0.3, 1.0, &b),
               TCA_ERR_RANGE, "below what sink");
}

/* tca_budget_lower_to_keep: heads of different mu and sigma, fitted to a prompt of 1024 tokens
 * (where sink 64 + window 128 of a file made for longer prompts leave the core to give way). */
static void test_lower_to_keep(void) {
    tca_budget *b = NULL;
    CHECK_OK(tca_budget_new_uniform(model, 32, 64, 128, TCA_SCORER_PROMPT_LAST, 0.0, 1.0, &b));
    if (!b) return;
    const int n = b->n_layer * b->n_head_kv;
    for (int h = 0; h < n; h++) {
        b->heads[h].mu = 2.5 + 0.5 * (h % 5), b->heads[h].sigma = 0.5 + 0.4 * (h % 3);
        tca_log_gaussian(32, b->heads[h].mu, b->heads[h].sigma, b->heads[h].p);
        b->heads[h].has_thresholds = 1;
        for (int t = 0; t < 5; t++) b->heads[h].thresholds[t] = 1.0 + t;
    }
    tca_budget *orig = dup_budget(b);
    const double keep = 0.39;
    CHECK(tca_budget_keep_at(b, 1024) > keep + 0.05);
    /* already within: nothing changes */
    CHECK_OK(tca_budget_lower_to_keep(b, 1024, 0.99));
    CHECK(budget_equal(b, orig));
    /* below sink + window + one token per block (0.1875 + 832/32/1024): refused, b unchanged */
    CHECK_FAIL(tca_budget_lower_to_keep(b, 1024, 0.2), TCA_ERR_RANGE, "one token per block");
    CHECK(budget_equal(b, orig));
    CHECK_OK(tca_budget_lower_to_keep(b, 1024, keep));
    const double k = tca_budget_keep_at(b, 1024);
    CHECK(k <= keep && k > keep - 0.005);
    /* one common shift, downwards; p the log-Gaussian of the new mu and the old sigma */
    const double shift = b->heads[0].mu - orig->heads[0].mu;
    CHECK(shift < 0);
    for (int h = 0; h < n; h++) {
        double p[TCA_MAX_COUNTS];
        tca_log_gaussian(32, b->heads[h].mu, orig->heads[h].sigma, p);
        CHECK(fabs(b->heads[h].mu - orig->heads[h].mu - shift) < 1e-12);
        CHECK(same_double(b->heads[h].sigma, orig->heads[h].sigma));
        CHECK(!memcmp(p, b->heads[h].p, 6 * sizeof *p));
        CHECK(!b->heads[h].has_thresholds);
    }
    /* the largest such shift: a little more keeps more than the target */
    tca_budget *more = dup_budget(orig);
    for (int h = 0; h < n; h++) {
        more->heads[h].mu = orig->heads[h].mu + shift + 0.1;
        tca_log_gaussian(32, more->heads[h].mu, more->heads[h].sigma, more->heads[h].p);
    }
    CHECK(tca_budget_keep_at(more, 1024) > keep);
    tca_budget_free(more);
    tca_budget_free(orig);
    tca_budget_free(b);
}

/* A mutated copy of base (mutate edits it), written and read back: must be refused. */
static char *json_with(const tca_budget *base, void (*mutate)(tca_budget *)) {
    tca_budget *c = dup_budget(base);
    mutate(c);
    char *j = tca_budget_to_json(c);
    tca_budget_free(c);
    return j;
}

static void m_fingerprint(tca_budget *b) { strcpy(b->fingerprint, "0123456789abcdef"); }
static void m_fingerprint_fmt(tca_budget *b) { strcpy(b->fingerprint, "0123456789ABCDEF"); }
static void m_p_sum(tca_budget *b) { b->heads[63].p[3] += 0.07; } /* layer 21, kv_head 0: p[3] ~ 0.4 */
/* heads[60] (layer 20, kv_head 0) spreads over k = 4, 8: p[1] made negative, p[0] keeps the sum 1 */
static void m_p_neg(tca_budget *b) {
    b->heads[60].p[0] += b->heads[60].p[1] + 0.01;
    b->heads[60].p[1] = -0.01;
}
static void m_dup(tca_budget *b) {
    b->heads[5].layer = b->heads[4].layer;
    b->heads[5].kv_head = b->heads[4].kv_head;
}
static void m_layer(tca_budget *b) { b->heads[7].layer = 30; }
static void m_kv(tca_budget *b) { b->heads[8].kv_head = -1; }
static void m_thr_dec(tca_budget *b) {
    b->heads[2].has_thresholds = 1;
    const double t[5] = {1, 2, 5, 4, 6};
    memcpy(b->heads[2].thresholds, t, sizeof t);
}
static void m_thr_range(tca_budget *b) {
    b->heads[3].has_thresholds = 1;
    const double t[5] = {1, 2, 3, 4, 33.5};
    memcpy(b->heads[3].thresholds, t, sizeof t);
}
static void m_sigma(tca_budget *b) { b->heads[9].sigma = -1; }
static void m_mu(tca_budget *b) { b->heads[9].mu = NAN; }
static void m_keep(tca_budget *b) { b->heads[10].keep = 1.5; }
static void m_err(tca_budget *b) { b->heads[10].err = INFINITY; }

static void test_refusals(const tca_budget *b) {
    char *j = tca_budget_to_json(b);
    if (!j) return;
    char *t;
#define BAD_TEXT(from, to, st, sub)          \
    do {                                     \
        t = replace(j, (from), (to));        \
        EXPECT_BAD(t, st, sub);              \
        free(t);                             \
    } while (0)
#define BAD_STRUCT(fn, st, sub)              \
    do {                                     \
        t = json_with(b, fn);                \
        EXPECT_BAD(t, st, sub);              \
        free(t);                             \
    } while (0)
    const tca_status F = TCA_ERR_FORMAT;

    /* format and version */
    BAD_TEXT("\"format\": \"tca-budget\"", "\"format\": \"tca-budgets\"", F, "format is \"tca-budgets\"");
    BAD_TEXT("\"format\": \"tca-budget\",", "", F, "format is missing");
    BAD_TEXT("\"version\": 1", "\"version\": 2", F, "version is 2");
    BAD_TEXT("\"version\": 1", "\"version\": \"1\"", F, "version is not a number");
    /* the model: each field against the SmolLM2 file */
    BAD_TEXT("\"arch\": \"llama\"", "\"arch\": \"qwen2\"", F, "model.arch is \"qwen2\" but the model is \"llama\"");
    BAD_TEXT("\"n_layer\": 30", "\"n_layer\": 29", F, "model.n_layer is 29 but the model has 30");
    BAD_TEXT("\"n_head\": 9", "\"n_head\": 6", F, "model.n_head is 6 but the model has 9");
    BAD_TEXT("\"n_head_kv\": 3", "\"n_head_kv\": 1", F, "model.n_head_kv is 1 but the model has 3");
    BAD_TEXT("\"head_dim\": 64", "\"head_dim\": 32", F, "model.head_dim is 32 but the model has 64");
    BAD_TEXT("\"n_layer\": 30", "\"n_layer\": 30.5", F, "model.n_layer is 30.5, not an integer");
    BAD_TEXT("\"n_head_kv\": 3", "\"n_head_kv\": 2", F, "model.n_head 9 is not a multiple of model.n_head_kv 2");
    BAD_STRUCT(m_fingerprint, F, "model.fingerprint is 0123456789abcdef but the model's is");
    BAD_STRUCT(m_fingerprint_fmt, F, "model.fingerprint \"0123456789ABCDEF\" is not 16 lowercase hex digits");
    BAD_TEXT("\"model\": {", "\"modell\": {", F, "unknown key \"modell\"");
    /* selection parameters */
    BAD_TEXT("\"block_size\": 32", "\"block_size\": 24", F, "block_size 24 is not a power of two");
    BAD_TEXT("\"block_size\": 32", "\"block_size\": 128", F, "block_size is 128, not an integer in 2..64");
    BAD_TEXT("\"window\": 512", "\"window\": 500", F, "window 500 is not a multiple of block_size 32");
    BAD_TEXT("\"sink\": 64", "\"sink\": -1", F, "sink is -1");
    BAD_TEXT("\"scorer\": \"block-last\"", "\"scorer\": \"last-row\"", F, "scorer is \"last-row\"");
    BAD_TEXT("\"redundancy\": \"entropy\"", "\"redundancy\": \"mass\"", F, "redundancy \"mass\" needs scorer");
    BAD_TEXT("\"redundancy\": \"entropy\"", "\"redundancy\": \"variance\"", F, "redundancy is \"variance\"");
    BAD_TEXT("\"tokens\": 8192", "\"tokens\": -5", F, "calibration.tokens is -5");
    BAD_TEXT("\"tokens\": 8192", "\"tokens\": 8192, \"tokens\": 1", F, "calibration: key \"tokens\" appears twice");
    /* head records */
    BAD_STRUCT(m_p_sum, F, "heads[63] (layer 21, kv_head 0): p sums to 1.07, not 1");
    BAD_TEXT("\"p\": [", "\"p\": [0, ", F, "heads[0] (layer 0, kv_head 0): p has 7 entries, block size 32 needs 6");
    BAD_TEXT("\"block_size\": 32", "\"block_size\": 16", F, "heads[0] (layer 0, kv_head 0): p has 6 entries, block size 16 needs 5");
    BAD_STRUCT(m_p_neg, F, "heads[60] (layer 20, kv_head 0): p[1] is -0.01");
    BAD_STRUCT(m_dup, F, "heads[5]: a second record for layer 1, kv_head 1 (the first is heads[4])");
    BAD_STRUCT(m_layer, F, "heads[7]: layer is 30, not an integer in 0..29");
    BAD_STRUCT(m_kv, F, "heads[8]: kv_head is -1, not an integer in 0..2");
    BAD_STRUCT(m_thr_dec, F, "heads[2] (layer 0, kv_head 2): thresholds decrease: thresholds[3] = 4 < thresholds[2] = 5");
    BAD_STRUCT(m_thr_range, F, "heads[3] (layer 1, kv_head 0): thresholds[4] is 33.5, not in [0, 33]");
    BAD_TEXT("\"thresholds\": [", "\"thresholds\": [1, ", F, "heads[0] (layer 0, kv_head 0): thresholds has 6 entries");
    BAD_STRUCT(m_sigma, F, "heads[9] (layer 3, kv_head 0): sigma is -1, not > 0");
    BAD_STRUCT(m_mu, F, "heads[9] (layer 3, kv_head 0): mu is not a number");
    BAD_STRUCT(m_keep, F, "heads[10] (layer 3, kv_head 1): keep is 1.5, not in [0, 1]");
    BAD_STRUCT(m_err, F, "heads[10] (layer 3, kv_head 1): err is not a number");
    BAD_TEXT("\"mu\"", "\"mu_\"", F, "heads[0]: unknown key \"mu_\"");
    BAD_TEXT("\"heads\": [", "\"heads\": {\"x\": [", F, "not valid JSON");
    /* a missing head: the sixth record's line removed */
    {
        const char *at = j;
        for (int k = 0; k < 6 && at; k++) at = strstr(at + 1, "\n    {\"layer\"");
        const char *end = at ? strchr(at + 1, '\n') : NULL;
        if (at && end) {
            char *cut = malloc(strlen(j) + 1);
            memcpy(cut, j, (size_t)(at - j));
            strcpy(cut + (at - j), end);
            EXPECT_BAD(cut, F, "heads: no record for layer 1, kv_head 2 (89 records for 30 layers x 3 kv heads)");
            free(cut);
        } else {
            CHECK(!"could not find the sixth head record");
        }
    }
    /* not JSON, or not the JSON we want */
    EXPECT_BAD("this is not json", F, "not valid JSON: parse error at byte 0 (line 1, column 1)");
    EXPECT_BAD("{\"format\": \"tca-budget\",\n \"version\": 1,\n \"model\": x}", F, "parse error at byte 50 (line 3, column 11)");
    EXPECT_BAD("[1, 2]", F, "top-level JSON value is not an object");
    BAD_TEXT("\n}\n", "\n}\n}", F, "more text after the top-level value");
    {
        char *half = strdup(j);
        half[strlen(j) / 2] = 0;
        EXPECT_BAD(half, F, "not valid JSON: parse error at byte");
        EXPECT_BAD(half, F, "where the text ends (truncated?)");
        free(half);
    }
    EXPECT_BAD("   \n", F, "not valid JSON");
    free(j);
#undef BAD_TEXT
#undef BAD_STRUCT
}

/* Through files: the message names the path; empty and missing files. */
static void test_files(const tca_budget *b) {
    tca_budget *o = (tca_budget *)&failures;
    char *path = path_in_tmp("missing.json");
    CHECK_FAIL(tca_budget_load(path, model, &o), TCA_ERR_IO, "cannot open");
    CHECK(o == NULL && strstr(tca_last_error(), path));
    free(path);

    path = path_in_tmp("empty.json");
    write_file(path, "", 0);
    o = (tca_budget *)&failures;
    CHECK_FAIL(tca_budget_load(path, model, &o), TCA_ERR_FORMAT, "empty file");
    CHECK(o == NULL && strstr(tca_last_error(), path));
    unlink(path);
    free(path);

    path = path_in_tmp("bad.json");
    tca_budget *c = dup_budget(b);
    m_p_sum(c);
    char *j = tca_budget_to_json(c);
    write_file(path, j, strlen(j));
    char want[512];
    snprintf(want, sizeof want, "budget %s: heads[63] (layer 21, kv_head 0): p sums to 1.07, not 1", path);
    CHECK_FAIL(tca_budget_load(path, model, &o), TCA_ERR_FORMAT, want);
    /* truncated on disk */
    write_file(path, j, strlen(j) - 40);
    CHECK_FAIL(tca_budget_load(path, model, &o), TCA_ERR_FORMAT, "truncated");
    CHECK(strstr(tca_last_error(), path) != NULL);
    unlink(path);
    free(j);
    tca_budget_free(c);
    free(path);
}

int main(void) {
    char path[4096];
    tca_model *m = NULL;
    if (tca_model_resolve("smollm2", path, sizeof path) != TCA_OK || tca_model_load(path, &m) != TCA_OK) {
        fprintf(stderr, "test_budget: SmolLM2 is needed (%s): run `tca fetch smollm2`\n", tca_last_error());
        return 1;
    }
    model = m;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    tca_budget *b = make_budget();
    if (b) {
        test_round_trip(b);
        test_refusals(b);
        test_files(b);
    }
    test_uniform();
    test_lower_to_keep();
    tca_budget_free(b);
    rmdir(tmpdir);
    tca_model_free(m);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
