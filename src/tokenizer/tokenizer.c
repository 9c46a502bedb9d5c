/* Encoding: UTF-8 repair -> added-token split -> (NFC) -> pre-tokenizer -> byte-level BPE, in
 * the order of the Hugging Face pipeline. Plus the small accessors of the public API. */
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tok_internal.h"

/* Per-call cache of BPE results: prose repeats its words, and a word seen before costs one
 * lookup in a table that stays small (a book has ~20k distinct words) instead of a BPE run over
 * the large merge table. Words longer than WC_MAX_WORD bytes are not cached. */
enum { WC_MAX_WORD = 64, WC_MAX_ENTRIES = 1 << 20 };

typedef struct wc_entry {
    uint32_t word_off, word_len; /* in wc.words */
    uint32_t ids_off, n_ids;     /* in wc.ids */
} wc_entry;

typedef struct word_cache {
    uint32_t *slots; /* entry index + 1, 0 = empty */
    uint32_t *tags;  /* high hash bits per slot */
    uint32_t mask;
    wc_entry *e;
    uint32_t n, cap_e;
    tok_bytes words;
    tok_ids ids;
} word_cache;

typedef struct enc {
    const tca_tokenizer *t;
    tok_pretok_state *re;
    tok_bpe_scratch bpe;
    tok_bytes norm; /* NFC output of one stretch */
    tok_ids ids;
    word_cache wc;
} enc;

static void wc_free(word_cache *c) {
    free(c->slots);
    free(c->tags);
    free(c->e);
    free(c->words.p);
    free(c->ids.p);
}

/* Index of the word's entry, or -1; *slot_out: where it would go. */
static int64_t wc_find(const word_cache *c, const char *w, size_t n, uint64_t h, uint32_t *slot_out) {
    uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & c->mask;
    for (;; i = (i + 1) & c->mask) {
        uint32_t v = c->slots[i];
        if (v == 0) {
            *slot_out = i;
            return -1;
        }
        const wc_entry *e = &c->e[v - 1];
        if (c->tags[i] == tag && e->word_len == n && !memcmp(c->words.p + e->word_off, w, n))
            return (int64_t)(v - 1);
    }
}

static tca_status wc_grow(word_cache *c) {
    uint32_t cap = c->slots ? (c->mask + 1) * 2 : 4096;
    uint32_t *slots = calloc(cap, sizeof *slots), *tags = calloc(cap, sizeof *tags);
    if (!slots || !tags) {
        free(slots);
        free(tags);
        return tca_fail(TCA_ERR_NOMEM, "tokenize: out of memory for the word cache");
    }
    for (uint32_t k = 0; k < c->n; k++) {
        const wc_entry *e = &c->e[k];
        uint64_t h = tok_hash(c->words.p + e->word_off, e->word_len);
        uint32_t i = (uint32_t)h & (cap - 1);
        while (slots[i]) i = (i + 1) & (cap - 1);
        slots[i] = k + 1;
        tags[i] = (uint32_t)(h >> 32);
    }
    free(c->slots);
    free(c->tags);
    c->slots = slots;
    c->tags = tags;
    c->mask = cap - 1;
    return TCA_OK;
}

static tca_status on_word(const char *w, size_t n, void *user) {
    enc *e = user;
    word_cache *c = &e->wc;
    if (n > WC_MAX_WORD) return tok_bpe_word(e->t, &e->bpe, w, n, &e->ids);
    if (!c->slots) {
        tca_status st = wc_grow(c);
        if (st != TCA_OK) return st;
    }
    uint64_t h = tok_hash(w, n);
    uint32_t slot;
    int64_t k = wc_find(c, w, n, h, &slot);
    if (k >= 0) {
        const wc_entry *en = &c->e[k];
        for (uint32_t i = 0; i < en->n_ids; i++) {
            tca_status st = tok_ids_push(&e->ids, c->ids.p[en->ids_off + i]);
            if (st != TCA_OK) return st;
        }
        return TCA_OK;
    }
    size_t before = e->ids.len;
    tca_status st = tok_bpe_word(e->t, &e->bpe, w, n, &e->ids);
    if (st != TCA_OK || c->n >= WC_MAX_ENTRIES) return st;
    if (c->n == c->cap_e) {
        uint32_t ncap = c->cap_e ? c->cap_e * 2 : 1024;
        wc_entry *ne = realloc(c->e, ncap * sizeof *ne);
        if (!ne) return tca_fail(TCA_ERR_NOMEM, "tokenize: out of memory for the word cache");
        c->e = ne;
        c->cap_e = ncap;
    }
    wc_entry *en = &c->e[c->n];
    en->word_off = (uint32_t)c->words.len;
    en->word_len = (uint32_t)n;
    en->ids_off = (uint32_t)c->ids.len;
    en->n_ids = (uint32_t)(e->ids.len - before);
    st = tok_bytes_put(&c->words, w, n);
    for (size_t i = before; i < e->ids.len && st == TCA_OK; i++) st = tok_ids_push(&c->ids, e->ids.p[i]);
    if (st != TCA_OK) return st;
    c->slots[slot] = ++c->n;
    c->tags[slot] = (uint32_t)(h >> 32);
    /* Load factor <= 1/2. */
    if (c->n * 2 > c->mask + 1) return wc_grow(c);
    return TCA_OK;
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
    wc_free(&e.wc);
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
