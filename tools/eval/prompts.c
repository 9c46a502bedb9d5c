/* tca eval: the prompts. Retrieval haystacks and question documents are token windows of the
 * Gutenberg books; the needles, instructions and questions are tokenized on their own and the
 * pieces concatenated, inside the model's chat template exactly as `tca ask` frames a document
 * and a question ("DOC\n\nQUESTION" as the user turn). austen-persuasion.txt is never used: it is
 * the calibration text of the shipped budgets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../generate.h"
#include "eval.h"

const char *const ret_kind_names[RET_KINDS] = {"single", "multikey", "multivalue"};

/* Haystacks and language-modelling windows rotate through these held-out books. */
static const char *const hay_books[] = {"austen-emma.txt", "melville-moby_dick.txt", "chesterton-thursday.txt",
                                        "edgeworth-parents.txt", "austen-sense.txt", "chesterton-brown.txt",
                                        "whitman-leaves.txt", "chesterton-ball.txt"};
static const char *const lm_books[] = {"austen-emma.txt", "melville-moby_dick.txt", "chesterton-ball.txt",
                                       "edgeworth-parents.txt", "austen-sense.txt", "chesterton-brown.txt",
                                       "milton-paradise.txt", "chesterton-thursday.txt"};
#define N_OF(a) (int)(sizeof(a) / sizeof((a)[0]))

static const char *const key_a[] = {"amber", "brisk", "silent", "hollow", "crimson", "gentle", "rapid", "frozen",
                                    "golden", "humble", "lively", "narrow", "quiet", "rustic", "tender", "vivid"};
static const char *const key_b[] = {"falcon", "harbor", "lantern", "meadow", "orchard", "pebble", "quarry", "river",
                                    "saddle", "thistle", "valley", "willow", "anchor", "beacon", "cellar", "ember"};

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double eval_depth(const eval_opts *o, int i) { return o->n_depths > 1 ? (double)i / (o->n_depths - 1) : 0.5; }

char *eval_read_book(const eval_run *r, const char *book, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->o->data_dir, book);
    return read_file(path, len);
}

static int tokenize(eval_run *r, const char *text, size_t len, unsigned flags, tca_token **ids, size_t *n) {
    tca_status s = tca_tokenize_alloc(r->tok, text, len, flags, ids, n);
    if (s) fprintf(stderr, "tca eval: tokenize: %s\n", tca_last_error());
    return s ? -1 : 0;
}

/* Appends src to *dst (capacity grown by realloc). */
static int append(tca_token **dst, size_t *n, const tca_token *src, size_t m) {
    if (m == 0 && *dst) return 0;
    tca_token *p = realloc(*dst, (*n + m + 1) * sizeof *p);
    if (!p) return -1;
    memcpy(p + *n, src, m * sizeof *p);
    *dst = p;
    *n += m;
    return 0;
}

static int append_text(eval_run *r, tca_token **dst, size_t *n, const char *text) {
    tca_token *t;
    size_t m;
    if (tokenize(r, text, strlen(text), 0, &t, &m)) return -1;
    int rc = append(dst, n, t, m);
    free(t);
    return rc;
}

int eval_chat_wrap(eval_run *r, const tca_token *user, size_t n_user, const char *assistant_prefix,
                   tca_token **out, size_t *n) {
    *out = NULL;
    *n = 0;
    int rc = append(out, n, r->tpl[0], r->tpl_n[0]) || append(out, n, r->tpl[1], r->tpl_n[1]) ||
             append(out, n, user, n_user) || append(out, n, r->tpl[2], r->tpl_n[2]) ||
             append(out, n, r->tpl[3], r->tpl_n[3]);
    if (!rc && assistant_prefix && *assistant_prefix) rc = append_text(r, out, n, assistant_prefix);
    return rc;
}

/* N tokens of a book from about fraction `frac` of it, starting at a paragraph. */
static int book_window(eval_run *r, const char *book, double frac, int64_t N, tca_token **out) {
    size_t len;
    char *text = eval_read_book(r, book, &len);
    if (!text) return -1;
    size_t chars = (size_t)N * 8 + 4096, start = (size_t)(frac * (double)len);
    if (start + chars > len) start = len > chars ? len - chars : 0;
    const char *para = strstr(text + start, "\n\n");
    if (!para) para = strstr(text + start, "\r\n\r\n");
    if (para && (size_t)(para - text) + chars / 2 < len) start = (size_t)(para - text);
    while (start < len && (text[start] == '\r' || text[start] == '\n')) start++;
    if (start + chars > len) chars = len - start;
    tca_token *ids;
    size_t n;
    int rc = tokenize(r, text + start, chars, 0, &ids, &n);
    free(text);
    if (rc) return -1;
    if ((int64_t)n < N) {
        fprintf(stderr, "tca eval: %s has only %zu tokens from %.0f%% on, %lld needed\n", book, n, frac * 100, (long long)N);
        free(ids);
        return -1;
    }
    *out = ids;
    return 0;
}

/* The first index at or after t (up to 64 further) whose token ends a sentence, + 1. */
static size_t after_sentence(eval_run *r, const tca_token *ids, size_t n, size_t t) {
    for (size_t i = t; i < n && i < t + 64; i++) {
        const char *s;
        size_t len;
        if (tca_token_piece(r->tok, ids[i], &s, &len) == TCA_OK && len > 0 && s[len - 1] == '.') return i + 1;
    }
    return t < n ? t : n;
}

int eval_retrieval_prompt(eval_run *r, int kind, int depth_index, int64_t L, int sample, eval_prompt *p) {
    memset(p, 0, sizeof *p);
    uint64_t rng = r->o->seed * 1000003u + (uint64_t)kind * 7919u + (uint64_t)depth_index * 104729u +
                   (uint64_t)sample * 15485863u + (uint64_t)L;
    const int n_needles = kind == RET_SINGLE ? 1 : 4;
    char keys[4][32], needles[4][128];
    long values[4];
    for (int i = 0; i < n_needles; i++) {
        for (int again = 1; again;) { /* distinct keys and values */
            snprintf(keys[i], sizeof keys[i], "%s-%s", key_a[splitmix(&rng) % N_OF(key_a)],
                     key_b[splitmix(&rng) % N_OF(key_b)]);
            values[i] = 1000000 + (long)(splitmix(&rng) % 9000000);
            again = 0;
            for (int j = 0; j < i; j++) again |= !strcmp(keys[i], keys[j]) || values[i] == values[j];
        }
        if (kind == RET_MULTIVALUE) snprintf(keys[i], sizeof keys[i], "%s", keys[0]);
        snprintf(needles[i], sizeof needles[i], " One of the special magic numbers for %s is: %ld.", keys[i], values[i]);
    }
    p->n_expect = kind == RET_MULTIVALUE ? 4 : 1;
    for (int i = 0; i < p->n_expect; i++) snprintf(p->expect[i], sizeof p->expect[i], "%ld", values[i]);
    p->n_gen = kind == RET_MULTIVALUE ? 48 : 16;
    p->depth_index = depth_index;
    const double depth = eval_depth(r->o, depth_index);
    snprintf(p->what, sizeof p->what, "retrieval %s depth %.0f%%", ret_kind_names[kind], depth * 100);

    char intro[300], question[300], prefix[200];
    snprintf(intro, sizeof intro, "Some special magic numbers are hidden within the following text. Make sure to "
                                  "memorize it. I will quiz you about the numbers afterwards.\n\n");
    if (kind == RET_MULTIVALUE) {
        snprintf(question, sizeof question, "\n\nWhat are all the special magic numbers for %s mentioned in the provided text?", keys[0]);
        snprintf(prefix, sizeof prefix, "The special magic numbers for %s mentioned in the provided text are", keys[0]);
    } else {
        snprintf(question, sizeof question, "\n\nWhat is the special magic number for %s mentioned in the provided text?", keys[0]);
        snprintf(prefix, sizeof prefix, "The special magic number for %s mentioned in the provided text is", keys[0]);
    }
    /* pieces other than the haystack, to size it */
    tca_token *nt[4] = {0}, *user = NULL, *hay = NULL;
    size_t nn[4] = {0}, n_user = 0, overhead = 0, n_hay;
    int rc = append_text(r, &user, &n_user, intro);
    for (int i = 0; i < n_needles && !rc; i++) rc = tokenize(r, needles[i], strlen(needles[i]), 0, &nt[i], &nn[i]), overhead += nn[i];
    tca_token *tail = NULL, *probe = NULL;
    size_t n_tail = 0, n_probe = 0;
    if (!rc) rc = append_text(r, &tail, &n_tail, question);
    if (!rc) rc = eval_chat_wrap(r, NULL, 0, prefix, &probe, &n_probe);
    free(probe);
    overhead += n_user + n_tail + n_probe + (size_t)p->n_gen;
    if (!rc && (int64_t)overhead + 256 > L) {
        fprintf(stderr, "tca eval: length %lld is too short for a retrieval prompt\n", (long long)L);
        rc = -1;
    }
    n_hay = (size_t)L - overhead;
    if (!rc) rc = book_window(r, hay_books[(sample + kind) % N_OF(hay_books)], 0.1 + 0.5 * (double)(splitmix(&rng) % 1000) / 1000, (int64_t)n_hay, &hay);
    if (!rc) {
        /* the queried needle at the depth, the others at random depths; in haystack order */
        size_t at[4];
        at[0] = after_sentence(r, hay, n_hay, (size_t)(depth * (double)n_hay));
        for (int i = 1; i < n_needles; i++) at[i] = after_sentence(r, hay, n_hay, (size_t)(splitmix(&rng) % n_hay));
        size_t done = 0;
        for (int pass = 0; pass < n_needles && !rc; pass++) {
            int next = -1;
            for (int i = 0; i < n_needles; i++)
                if (at[i] != (size_t)-1 && (next < 0 || at[i] < at[next])) next = i;
            rc = append(&user, &n_user, hay + done, at[next] - done) || append(&user, &n_user, nt[next], nn[next]);
            done = at[next];
            at[next] = (size_t)-1;
        }
        if (!rc) rc = append(&user, &n_user, hay + done, n_hay - done) || append(&user, &n_user, tail, n_tail);
    }
    if (!rc) rc = eval_chat_wrap(r, user, n_user, prefix, &p->ids, &p->n);
    for (int i = 0; i < 4; i++) free(nt[i]);
    free(user), free(hay), free(tail);
    return rc;
}

int eval_qa_load(const char *path, eval_qa_item **items, int *n_items) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "items");
    const int n = cJSON_GetArraySize(arr);
    if (!root || !cJSON_IsArray(arr) || n == 0) {
        fprintf(stderr, "tca eval: %s: not a question set (an object with an \"items\" array)\n", path);
        cJSON_Delete(root);
        return -1;
    }
    eval_qa_item *it = calloc((size_t)n, sizeof *it);
    int k = 0, bad = !it;
    for (const cJSON *x = arr->child; x && !bad; x = x->next, k++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id"), *book = cJSON_GetObjectItemCaseSensitive(x, "book");
        const cJSON *anchor = cJSON_GetObjectItemCaseSensitive(x, "anchor");
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(x, "question"), *ans = cJSON_GetObjectItemCaseSensitive(x, "answers");
        if (!cJSON_IsString(id) || !cJSON_IsString(book) || !cJSON_IsString(anchor) || !cJSON_IsString(q) ||
            !cJSON_IsArray(ans) || cJSON_GetArraySize(ans) < 1) {
            fprintf(stderr, "tca eval: %s: item %d lacks id, book, anchor, question or answers\n", path, k);
            bad = 1;
            break;
        }
        snprintf(it[k].id, sizeof it[k].id, "%s", id->valuestring);
        snprintf(it[k].book, sizeof it[k].book, "%s", book->valuestring);
        it[k].anchor = strdup(anchor->valuestring);
        it[k].question = strdup(q->valuestring);
        for (const cJSON *a = ans->child; a && it[k].n_answers < 8; a = a->next)
            if (cJSON_IsString(a)) it[k].answers[it[k].n_answers++] = strdup(a->valuestring);
    }
    cJSON_Delete(root);
    if (bad) {
        eval_qa_free(it, n);
        return -1;
    }
    *items = it;
    *n_items = n;
    return 0;
}

void eval_qa_free(eval_qa_item *items, int n) {
    for (int i = 0; items && i < n; i++) {
        free(items[i].anchor), free(items[i].question);
        for (int j = 0; j < items[i].n_answers; j++) free(items[i].answers[j]);
    }
    free(items);
}

/* The document: N tokens of the book around the anchor, the anchor at `depth` of it (less on a
 * side the book runs out, more on the other), then "\n\n" and the question, as tca ask does. */
int eval_qa_prompt(eval_run *r, const eval_qa_item *it, int index, int64_t L, eval_prompt *p) {
    memset(p, 0, sizeof *p);
    p->n_gen = 48; /* Qwen restates the question before the answer; 24 tokens cut some answers */
    for (int i = 0; i < it->n_answers; i++) p->answers[p->n_answers++] = it->answers[i];
    const double depth = 0.1 + 0.2 * (index % 5);
    snprintf(p->what, sizeof p->what, "qa %s depth %.0f%%", it->id, depth * 100);
    size_t len;
    char *text = eval_read_book(r, it->book, &len);
    if (!text) return -1;
    const char *hit = strstr(text, it->anchor);
    if (!hit) {
        fprintf(stderr, "tca eval: question %s: anchor not found in %s\n", it->id, it->book);
        free(text);
        return -1;
    }
    char question[1100];
    snprintf(question, sizeof question, "\n\n%s", it->question);
    tca_token *tail = NULL, *probe = NULL, *before = NULL, *after = NULL, *user = NULL;
    size_t n_tail = 0, n_probe = 0, n_before = 0, n_after = 0, n_user = 0;
    int rc = append_text(r, &tail, &n_tail, question) || eval_chat_wrap(r, NULL, 0, NULL, &probe, &n_probe);
    free(probe);
    const int64_t N = L - (int64_t)(n_tail + n_probe) - p->n_gen;
    if (!rc && N < 256) fprintf(stderr, "tca eval: length %lld is too short for a question\n", (long long)L), rc = -1;
    const size_t a = (size_t)(hit - text), span = (size_t)N * 8 + 4096;
    const size_t b0 = a > span ? a - span : 0, a1 = a + span < len ? a + span : len;
    if (!rc) rc = tokenize(r, text + b0, a - b0, 0, &before, &n_before) || tokenize(r, text + a, a1 - a, 0, &after, &n_after);
    if (!rc) {
        int64_t want_before = (int64_t)(depth * (double)N);
        if (want_before > (int64_t)n_before) want_before = (int64_t)n_before;
        int64_t want_after = N - want_before;
        if (want_after > (int64_t)n_after) { /* the book ends: take more before the anchor */
            want_after = (int64_t)n_after;
            want_before = N - want_after < (int64_t)n_before ? N - want_after : (int64_t)n_before;
        }
        rc = append(&user, &n_user, before + n_before - want_before, (size_t)want_before) ||
             append(&user, &n_user, after, (size_t)want_after) || append(&user, &n_user, tail, n_tail);
    }
    if (!rc) rc = eval_chat_wrap(r, user, n_user, NULL, &p->ids, &p->n);
    free(text), free(tail), free(before), free(after), free(user);
    return rc;
}

int eval_lm_window(eval_run *r, int sample, int64_t L, tca_token **ids, char *what, size_t cap) {
    uint64_t rng = r->o->seed * 2654435761u + (uint64_t)sample;
    const char *book = lm_books[sample % N_OF(lm_books)];
    const double frac = 0.15 + 0.4 * (double)(splitmix(&rng) % 1000) / 1000;
    snprintf(what, cap, "lm %s from %.0f%%", book, frac * 100);
    return book_window(r, book, frac, L, ids);
}
