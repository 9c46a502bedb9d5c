/* Encoding: UTF-8 repair -> added-token split -> (NFC) -> pre-tokenizer -> byte-level BPE, in
 * the order of the Hugging Face pipeline. Plus the small accessors of the public API. */
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tok_internal.h"

typedef struct enc {
    const tca_tokenizer *t;
    tok_pretok_state *re;
    tok_bpe_scratch bpe;
    tok_bytes norm; /* NFC output of one stretch */
    tok_ids ids;
} enc;

static tca_status on_word(const char *w, size_t n, void *user) {
    enc *e = user;
    return tok_bpe_word(e->t, &e->bpe, w, n, &e->ids);
}

/* A stretch of text between added tokens: normalized and pre-tokenized on its own, as HF does
 * with each piece its added-vocabulary split leaves. */
static tca_status encode_stretch(enc *e, const char *s, size_t n) {
    if (n == 0) return TCA_OK;
    if (e->t->pre_kind == TOK_PRE_QWEN2) {
        e->norm.len = 0;
        tca_status st = tok_nfc(s, n, &e->norm);
        if (st != TCA_OK) return st;
        s = e->norm.p;
        n = e->norm.len;
    }
    return tok_pretok_run(e->t->pretok, e->re, s, n, on_word, e);
}

/* Added tokens are found leftmost first, longest at that position (aho-corasick leftmost-
 * longest, as HF). A CONTROL token found while specials are not parsed stays ordinary text, and
 * the search resumes after it, which is what HF's encode_special_tokens does. */
static tca_status encode_text(enc *e, const char *s, size_t n, bool parse_special) {
    const tca_tokenizer *t = e->t;
    const uint8_t *u = (const uint8_t *)s;
    size_t seg = 0, p = 0;
    while (p < n) {
        uint32_t lo = t->added_start[u[p]], hi = t->added_start[u[p] + 1];
        const tok_added *hit = NULL;
        for (uint32_t k = lo; k < hi; k++) {
            const tok_added *a = &t->added[k];
            if (a->len <= n - p && memcmp(s + p, t->text + t->text_off[a->id], a->len) == 0) {
                hit = a;
                break;
            }
        }
        if (!hit) {
            p++;
            continue;
        }
        if (hit->control && !parse_special) {
            p += hit->len;
            continue;
        }
        tca_status st = encode_stretch(e, s + seg, p - seg);
        if (st == TCA_OK) st = tok_ids_push(&e->ids, hit->id);
        if (st != TCA_OK) return st;
        p += hit->len;
        seg = p;
    }
    return encode_stretch(e, s + seg, n - seg);
}

static tca_status encode(const tca_tokenizer *t, const char *text, size_t len, unsigned flags,
                         tok_ids *out) {
    if (!t) return tca_fail(TCA_ERR_ARG, "tokenize: NULL tokenizer");
    if (!text && len) return tca_fail(TCA_ERR_ARG, "tokenize: NULL text");
    if (len > TCA_TOKENIZER_MAX_BYTES)
        return tca_fail(TCA_ERR_RANGE, "tokenize: text of %zu bytes is longer than the %zu accepted",
                        len, (size_t)TCA_TOKENIZER_MAX_BYTES);
    bool bos = (flags & TCA_TOK_FORCE_BOS) || ((flags & TCA_TOK_ADD_SPECIAL) && t->add_bos);
    bool eos = (flags & TCA_TOK_ADD_SPECIAL) && t->add_eos;
    if (bos && t->bos < 0) return tca_fail(TCA_ERR_NOT_FOUND, "tokenize: the model has no BOS token");

    enc e = {.t = t};
    tok_bytes fixed = {0};
    tca_status st = tok_pretok_state_new(t->pretok, &e.re);
    if (st == TCA_OK && len && tok_utf8_valid_prefix((const uint8_t *)text, len) != len) {
        st = tok_utf8_sanitize((const uint8_t *)text, len, &fixed);
        text = fixed.p;
        len = fixed.len;
    }
    if (st == TCA_OK && bos) st = tok_ids_push(&e.ids, t->bos);
    if (st == TCA_OK) st = encode_text(&e, text, len, (flags & TCA_TOK_PARSE_SPECIAL) != 0);
    if (st == TCA_OK && eos) st = tok_ids_push(&e.ids, t->eos);
    tok_pretok_state_free(e.re);
    tok_bpe_scratch_free(&e.bpe);
    free(e.norm.p);
    free(fixed.p);
    if (st != TCA_OK) {
        free(e.ids.p);
        return st;
    }
    *out = e.ids;
    return TCA_OK;
}

tca_status tca_tokenize(const tca_tokenizer *t, const char *text, size_t len, unsigned flags,
                        tca_token *out, size_t cap, size_t *n_out) {
    if (!n_out) return tca_fail(TCA_ERR_ARG, "tokenize: NULL count pointer");
    *n_out = 0;
    if (!out && cap) return tca_fail(TCA_ERR_ARG, "tokenize: NULL output with capacity %zu", cap);
    tok_ids ids = {0};
    tca_status st = encode(t, text, len, flags, &ids);
    if (st != TCA_OK) return st;
    *n_out = ids.len;
    if (ids.len > cap) {
        free(ids.p);
        return tca_fail(TCA_ERR_RANGE, "tokenize: %zu tokens do not fit the %zu given", ids.len, cap);
    }
    if (ids.len) memcpy(out, ids.p, ids.len * sizeof *out);
    free(ids.p);
    return TCA_OK;
}

tca_status tca_tokenize_alloc(const tca_tokenizer *t, const char *text, size_t len, unsigned flags,
                              tca_token **out, size_t *n_out) {
    if (!out || !n_out) return tca_fail(TCA_ERR_ARG, "tokenize: NULL output pointer");
    *out = NULL;
    *n_out = 0;
    tok_ids ids = {0};
    tca_status st = encode(t, text, len, flags, &ids);
    if (st != TCA_OK) return st;
    if (!ids.p) { /* empty: still a valid pointer to free */
        ids.p = malloc(sizeof *ids.p);
        if (!ids.p) return tca_fail(TCA_ERR_NOMEM, "tokenize: out of memory");
    }
    *out = ids.p;
    *n_out = ids.len;
    return TCA_OK;
}

int32_t tca_tokenizer_n_vocab(const tca_tokenizer *t) { return t->n_vocab; }
const char *tca_tokenizer_model(const tca_tokenizer *t) { return t->model; }
const char *tca_tokenizer_pre(const tca_tokenizer *t) { return t->pre; }
tca_token tca_tokenizer_bos(const tca_tokenizer *t) { return t->bos; }
tca_token tca_tokenizer_eos(const tca_tokenizer *t) { return t->eos; }
tca_token tca_tokenizer_pad(const tca_tokenizer *t) { return t->pad; }
bool tca_tokenizer_adds_bos(const tca_tokenizer *t) { return t->add_bos; }
bool tca_tokenizer_adds_eos(const tca_tokenizer *t) { return t->add_eos; }

bool tca_token_is_eog(const tca_tokenizer *t, tca_token id) {
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return true;
    return false;
}

tca_token_type tca_token_get_type(const tca_tokenizer *t, tca_token id) {
    if (id < 0 || id >= t->n_vocab) return TCA_TOKEN_UNDEFINED;
    return (tca_token_type)t->types[id];
}

tca_status tca_token_text(const tca_tokenizer *t, tca_token id, const char **s, size_t *len) {
    if (id < 0 || id >= t->n_vocab)
        return tca_fail(TCA_ERR_RANGE, "tokenizer: token id %d outside the vocab (0..%d)", (int)id,
                        (int)t->n_vocab - 1);
    *s = tok_text(t, id, len);
    return TCA_OK;
}

tca_status tca_token_piece(const tca_tokenizer *t, tca_token id, const char **s, size_t *len) {
    if (id < 0 || id >= t->n_vocab)
        return tca_fail(TCA_ERR_RANGE, "tokenizer: token id %d outside the vocab (0..%d)", (int)id,
                        (int)t->n_vocab - 1);
    *s = tok_piece(t, id, len);
    return TCA_OK;
}

tca_status tca_token_find(const tca_tokenizer *t, const char *text, size_t len, tca_token *id) {
    tca_token r = tok_strmap_find(&t->by_text, t->text, t->text_off, text, len);
    if (r < 0)
        return tca_fail(TCA_ERR_NOT_FOUND, "tokenizer: no token '%.*s' in the vocab",
                        (int)(len > 60 ? 60 : len), text);
    *id = r;
    return TCA_OK;
}
