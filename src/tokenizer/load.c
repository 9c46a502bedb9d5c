/* Building a tca_tokenizer from GGUF metadata: vocab texts and decoded pieces, the hash tables
 * of BPE, the added-token matcher, the special ids. Everything is copied out of the GGUF. */
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tok_internal.h"

#define KEY_MODEL "tokenizer.ggml.model"
#define KEY_PRE "tokenizer.ggml.pre"
#define KEY_TOKENS "tokenizer.ggml.tokens"
#define KEY_TYPES "tokenizer.ggml.token_type"
#define KEY_MERGES "tokenizer.ggml.merges"

/* GPT-2's byte-to-unicode table: printable bytes map to themselves, the other 68 to U+0100 on,
 * in byte order. unicode_to_byte is its inverse over U+0000..U+0143 (-1: not an image). */
static void byte_unicode_tables(uint32_t b2u[256], int16_t u2b[0x144]) {
    for (int i = 0; i < 0x144; i++) u2b[i] = -1;
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        b2u[b] = printable ? (uint32_t)b : (uint32_t)(256 + extra++);
        u2b[b2u[b]] = (int16_t)b;
    }
}

static tca_status get_string(const tca_gguf *g, const char *key, char *buf, size_t cap) {
    const char *s;
    size_t n;
    tca_status st = tca_gguf_get_str(g, key, &s, &n);
    if (st == TCA_ERR_NOT_FOUND) return tca_fail(st, "tokenizer: the model has no %s", key);
    if (st != TCA_OK) return st;
    if (n >= cap) return tca_fail(TCA_ERR_UNSUPPORTED, "tokenizer: %s '%.*s' is not supported", key,
                                  (int)(n > 64 ? 64 : n), s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return TCA_OK;
}

/* Optional token id: -1 when absent; an id outside the vocab is malformed. */
static tca_status get_id(const tca_gguf *g, const char *key, int32_t n_vocab, tca_token *out) {
    int64_t v;
    tca_status st = tca_gguf_get_int(g, key, &v);
    *out = -1;
    if (st == TCA_ERR_NOT_FOUND) return TCA_OK;
    if (st != TCA_OK) return st;
    if (v < 0 || v >= n_vocab)
        return tca_fail(TCA_ERR_FORMAT, "tokenizer: %s = %lld is outside the vocab (%d tokens)", key,
                        (long long)v, n_vocab);
    *out = (tca_token)v;
    return TCA_OK;
}

static tca_status get_flag(const tca_gguf *g, const char *key, bool *out) {
    *out = false;
    tca_status st = tca_gguf_get_bool(g, key, out);
    return st == TCA_ERR_NOT_FOUND ? TCA_OK : st;
}

/* Vocab texts into one arena; pieces (the bytes each token stands for) into another. */
static tca_status load_vocab(tca_tokenizer *t, const tca_gguf *g) {
    tca_gguf_vtype elem;
    uint64_t n;
    tca_status st = tca_gguf_get_arr(g, KEY_TOKENS, &elem, &n);
    if (st == TCA_ERR_NOT_FOUND) return tca_fail(st, "tokenizer: the model has no %s", KEY_TOKENS);
    if (st != TCA_OK) return st;
    if (elem != TCA_GGUF_STRING)
        return tca_fail(TCA_ERR_FORMAT, "tokenizer: %s holds %s, not strings", KEY_TOKENS,
                        tca_gguf_vtype_name(elem));
    if (n == 0 || n > (uint64_t)INT32_MAX - 1)
        return tca_fail(TCA_ERR_FORMAT, "tokenizer: %s has %llu entries", KEY_TOKENS,
                        (unsigned long long)n);
    t->n_vocab = (int32_t)n;

    t->types = malloc(n);
    t->text_off = malloc((n + 1) * sizeof *t->text_off);
    t->piece_off = malloc((n + 1) * sizeof *t->piece_off);
    if (!t->types || !t->text_off || !t->piece_off)
        return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory for %llu tokens",
                        (unsigned long long)n);

    const void *tdata = NULL;
    uint64_t tn = 0;
    st = tca_gguf_get_arr_data(g, KEY_TYPES, TCA_GGUF_I32, &tdata, &tn);
    if (st == TCA_ERR_NOT_FOUND) {
        tdata = NULL; /* no types: every token is NORMAL (as llama.cpp assumes) */
    } else if (st != TCA_OK) {
        return st;
    } else if (tn != n) {
        return tca_fail(TCA_ERR_FORMAT, "tokenizer: %s has %llu entries but %s has %llu", KEY_TYPES,
                        (unsigned long long)tn, KEY_TOKENS, (unsigned long long)n);
    }

    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        st = tca_gguf_get_arr_str(g, KEY_TOKENS, i, &s, &len);
        if (st != TCA_OK) return st;
        total += len;
        int32_t ty = TCA_TOKEN_NORMAL;
        if (tdata) memcpy(&ty, (const char *)tdata + 4 * i, 4);
        if (ty < TCA_TOKEN_UNDEFINED || ty > TCA_TOKEN_BYTE)
            return tca_fail(TCA_ERR_FORMAT, "tokenizer: token %llu has type %d (valid: 0..6)",
                            (unsigned long long)i, (int)ty);
        t->types[i] = (uint8_t)ty;
    }
    t->text = malloc(total ? total : 1);
    /* A decoded piece is never longer than its text (each byte-level character is >= 1 byte). */
    t->piece = malloc(total ? total : 1);
    if (!t->text || !t->piece) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory for the vocab");

    uint32_t b2u[256];
    int16_t u2b[0x144];
    byte_unicode_tables(b2u, u2b);
    size_t to = 0, po = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        tca_gguf_get_arr_str(g, KEY_TOKENS, i, &s, &len);
        t->text_off[i] = to;
        t->piece_off[i] = po;
        if (len) memcpy(t->text + to, s, len);
        to += len;
        switch (t->types[i]) {
        case TCA_TOKEN_NORMAL:
            /* Byte-level text: every character is the image of one byte. */
            for (size_t k = 0; k < len;) {
                uint32_t cp;
                size_t used;
                int r = tok_utf8_next((const uint8_t *)s + k, len - k, &cp, &used);
                if (r != 1 || cp >= 0x144 || u2b[cp] < 0)
                    return tca_fail(TCA_ERR_FORMAT,
                                    "tokenizer: token %llu '%.*s' is not byte-level BPE text "
                                    "(character at byte %zu)",
                                    (unsigned long long)i, (int)(len > 40 ? 40 : len), s, k);
                t->piece[po++] = (char)u2b[cp];
                k += used;
            }
            break;
        case TCA_TOKEN_UNUSED:
            break; /* padding rows: not real tokens, they print nothing */
        default:
            if (len) memcpy(t->piece + po, s, len);
            po += len;
        }
    }
    t->text_off[n] = to;
    t->piece_off[n] = po;

    st = tok_strmap_init(&t->by_text, (uint32_t)n);
    if (st == TCA_OK) st = tok_strmap_init(&t->by_piece, (uint32_t)n);
    if (st != TCA_OK) return st;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        tok_strmap_insert(&t->by_text, t->text, t->text_off, i);
        if (t->types[i] == TCA_TOKEN_NORMAL) tok_strmap_insert(&t->by_piece, t->piece, t->piece_off, i);
    }
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        t->byte_token[b] = tok_strmap_find(&t->by_piece, t->piece, t->piece_off, &c, 1);
    }
    return TCA_OK;
}

static tca_status load_merges(tca_tokenizer *t, const tca_gguf *g) {
    tca_gguf_vtype elem;
    uint64_t n;
    tca_status st = tca_gguf_get_arr(g, KEY_MERGES, &elem, &n);
    if (st == TCA_ERR_NOT_FOUND)
        return tca_fail(TCA_ERR_FORMAT, "tokenizer: the model has no %s (BPE needs them)", KEY_MERGES);
    if (st != TCA_OK) return st;
    if (elem != TCA_GGUF_STRING)
        return tca_fail(TCA_ERR_FORMAT, "tokenizer: %s holds %s, not strings", KEY_MERGES,
                        tca_gguf_vtype_name(elem));
    if (n > (uint64_t)INT32_MAX)
        return tca_fail(TCA_ERR_FORMAT, "tokenizer: %s has %llu entries", KEY_MERGES,
                        (unsigned long long)n);
    st = tok_mergemap_init(&t->merges, n);
    if (st != TCA_OK) return st;
    char *cat = NULL;
    size_t cat_cap = 0;
    for (uint64_t i = 0; i < n && st == TCA_OK; i++) {
        const char *s;
        size_t len;
        st = tca_gguf_get_arr_str(g, KEY_MERGES, i, &s, &len);
        if (st != TCA_OK) break;
        /* "left right": byte-level text never holds a space (U+0020 is written as U+0120). */
        const char *sp = memchr(s, ' ', len);
        if (!sp || sp == s || sp == s + len - 1 || memchr(sp + 1, ' ', len - (size_t)(sp - s) - 1)) {
            st = tca_fail(TCA_ERR_FORMAT, "tokenizer: merge %llu '%.*s' is not 'left right'",
                          (unsigned long long)i, (int)(len > 60 ? 60 : len), s);
            break;
        }
        size_t la = (size_t)(sp - s), lb = len - la - 1;
        tca_token a = tok_strmap_find(&t->by_text, t->text, t->text_off, s, la);
        tca_token b = tok_strmap_find(&t->by_text, t->text, t->text_off, sp + 1, lb);
        if (la + lb > cat_cap) {
            cat_cap = 2 * (la + lb);
            char *nc = realloc(cat, cat_cap);
            if (!nc) {
                st = tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory");
                break;
            }
            cat = nc;
        }
        memcpy(cat, s, la);
        memcpy(cat + la, sp + 1, lb);
        tca_token m = tok_strmap_find(&t->by_text, t->text, t->text_off, cat, la + lb);
        if (a < 0 || b < 0 || m < 0) {
            st = tca_fail(TCA_ERR_FORMAT, "tokenizer: merge %llu '%.*s': '%.*s' is not in the vocab",
                          (unsigned long long)i, (int)(len > 60 ? 60 : len), s,
                          (int)(a < 0 ? la : b < 0 ? lb : la + lb), a < 0 ? s : b < 0 ? sp + 1 : cat);
            break;
        }
        tok_mergemap_insert(&t->merges, a, b, (int32_t)i, m);
    }
    free(cat);
    return st;
}

static int cmp_added(const void *pa, const void *pb) {
    const tok_added *a = pa, *b = pb;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1; /* longest first: leftmost-longest */
    return a->id < b->id ? -1 : a->id > b->id;
}

static tca_status load_added(tca_tokenizer *t) {
    size_t n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if ((t->types[i] == TCA_TOKEN_CONTROL || t->types[i] == TCA_TOKEN_USER_DEFINED) &&
            t->text_off[i + 1] > t->text_off[i])
            n++;
    t->added = malloc((n ? n : 1) * sizeof *t->added);
    if (!t->added) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory");
    size_t k = 0;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if ((t->types[i] == TCA_TOKEN_CONTROL || t->types[i] == TCA_TOKEN_USER_DEFINED) &&
            t->text_off[i + 1] > t->text_off[i])
            t->added[k++] = (tok_added){i, (uint32_t)(t->text_off[i + 1] - t->text_off[i]),
                                        (uint8_t)t->text[t->text_off[i]],
                                        t->types[i] == TCA_TOKEN_CONTROL};
    qsort(t->added, n, sizeof *t->added, cmp_added);
    size_t j = 0;
    for (int b = 0; b < 256; b++) {
        t->added_start[b] = (uint32_t)j;
        while (j < n && t->added[j].first == b) j++;
    }
    t->added_start[256] = (uint32_t)n;
    return TCA_OK;
}

static int cmp_token(const void *a, const void *b) {
    tca_token x = *(const tca_token *)a, y = *(const tca_token *)b;
    return (x > y) - (x < y);
}

static tca_status load_eog(tca_tokenizer *t) {
    static const char *const names[] = {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>"};
    t->eog = malloc(8 * sizeof *t->eog);
    if (!t->eog) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory");
    tca_token cand[8];
    size_t nc = 0;
    cand[nc++] = t->eos;
    cand[nc++] = t->eot;
    cand[nc++] = t->eom;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tca_token id = tok_strmap_find(&t->by_text, t->text, t->text_off, names[i], strlen(names[i]));
        if (id >= 0 && t->types[id] == TCA_TOKEN_CONTROL) cand[nc++] = id;
    }
    qsort(cand, nc, sizeof cand[0], cmp_token);
    for (size_t i = 0; i < nc; i++)
        if (cand[i] >= 0 && (t->n_eog == 0 || t->eog[t->n_eog - 1] != cand[i])) t->eog[t->n_eog++] = cand[i];
    return TCA_OK;
}

tca_status tca_tokenizer_load(const tca_gguf *g, tca_tokenizer **out) {
    if (!out) return tca_fail(TCA_ERR_ARG, "tokenizer: NULL output pointer");
    *out = NULL;
    if (!g) return tca_fail(TCA_ERR_ARG, "tokenizer: NULL gguf");
    tca_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory");
    tca_status st = get_string(g, KEY_MODEL, t->model, sizeof t->model);
    if (st == TCA_OK && strcmp(t->model, "gpt2") != 0)
        st = tca_fail(TCA_ERR_UNSUPPORTED,
                      "tokenizer: %s '%s' is not supported (only 'gpt2', byte-level BPE)", KEY_MODEL,
                      t->model);
    if (st == TCA_OK) st = get_string(g, KEY_PRE, t->pre, sizeof t->pre);
    if (st == TCA_OK) {
        if (!strcmp(t->pre, "smollm")) t->pre_kind = TOK_PRE_SMOLLM;
        else if (!strcmp(t->pre, "qwen2")) t->pre_kind = TOK_PRE_QWEN2;
        else
            st = tca_fail(TCA_ERR_UNSUPPORTED,
                          "tokenizer: %s '%s' is not supported (supported: 'smollm', 'qwen2')",
                          KEY_PRE, t->pre);
    }
    if (st == TCA_OK) st = load_vocab(t, g);
    if (st == TCA_OK) st = load_merges(t, g);
    if (st == TCA_OK) st = get_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos);
    if (st == TCA_OK) st = get_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos);
    if (st == TCA_OK) st = get_id(g, "tokenizer.ggml.padding_token_id", t->n_vocab, &t->pad);
    if (st == TCA_OK) st = get_id(g, "tokenizer.ggml.eot_token_id", t->n_vocab, &t->eot);
    if (st == TCA_OK) st = get_id(g, "tokenizer.ggml.eom_token_id", t->n_vocab, &t->eom);
    if (st == TCA_OK) st = get_flag(g, "tokenizer.ggml.add_bos_token", &t->add_bos);
    if (st == TCA_OK) st = get_flag(g, "tokenizer.ggml.add_eos_token", &t->add_eos);
    if (st == TCA_OK && t->add_bos && t->bos < 0)
        st = tca_fail(TCA_ERR_FORMAT, "tokenizer: add_bos_token is set but there is no bos_token_id");
    if (st == TCA_OK && t->add_eos && t->eos < 0)
        st = tca_fail(TCA_ERR_FORMAT, "tokenizer: add_eos_token is set but there is no eos_token_id");
    if (st == TCA_OK) st = load_added(t);
    if (st == TCA_OK) st = load_eog(t);
    if (st == TCA_OK) st = tok_pretok_new(t->pre_kind, &t->pretok);
    if (st != TCA_OK) {
        tca_tokenizer_free(t);
        return st;
    }
    *out = t;
    return TCA_OK;
}

void tca_tokenizer_free(tca_tokenizer *t) {
    if (!t) return;
    free(t->types);
    free(t->text);
    free(t->text_off);
    free(t->piece);
    free(t->piece_off);
    tok_strmap_free(&t->by_piece);
    tok_strmap_free(&t->by_text);
    tok_mergemap_free(&t->merges);
    free(t->added);
    free(t->eog);
    tok_pretok_free(t->pretok);
    free(t);
}
