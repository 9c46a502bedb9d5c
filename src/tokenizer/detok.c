/* Decoding: token pieces concatenated, made valid UTF-8 with the maximal-subpart replacement
 * (what HF's ByteLevel decoder does with from_utf8_lossy). The streaming form holds back an
 * incomplete sequence at the end of what it has seen, so each push returns whole characters. */
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tok_internal.h"

struct tca_detok {
    const tca_tokenizer *t;
    bool skip_control;
    uint8_t held[4]; /* a valid but incomplete sequence, at most 3 bytes */
    size_t n_held;
    tok_bytes in, out;
};

static tca_status check_id(const tca_tokenizer *t, tca_token id) {
    if (id < 0 || id >= t->n_vocab)
        return tca_fail(TCA_ERR_RANGE, "detokenize: token id %d outside the vocab (0..%d)", (int)id,
                        (int)t->n_vocab - 1);
    return TCA_OK;
}

tca_status tca_detokenize(const tca_tokenizer *t, const tca_token *ids, size_t n, bool skip_control,
                          char **out, size_t *len) {
    if (!t || !out || !len || (!ids && n)) return tca_fail(TCA_ERR_ARG, "detokenize: NULL argument");
    *out = NULL;
    *len = 0;
    tok_bytes raw = {0}, fixed = {0};
    tca_status st = TCA_OK;
    for (size_t i = 0; i < n && st == TCA_OK; i++) {
        st = check_id(t, ids[i]);
        if (st != TCA_OK || (skip_control && t->types[ids[i]] == TCA_TOKEN_CONTROL)) continue;
        size_t pl;
        const char *p = tok_piece(t, ids[i], &pl);
        st = tok_bytes_put(&raw, p, pl);
    }
    if (st == TCA_OK) st = tok_utf8_sanitize((const uint8_t *)raw.p, raw.len, &fixed);
    if (st == TCA_OK) st = tok_bytes_put(&fixed, "", 1);
    free(raw.p);
    if (st != TCA_OK) {
        free(fixed.p);
        return st;
    }
    *out = fixed.p;
    *len = fixed.len - 1;
    return TCA_OK;
}

tca_status tca_detok_new(const tca_tokenizer *t, bool skip_control, tca_detok **out) {
    if (!t || !out) return tca_fail(TCA_ERR_ARG, "detok: NULL argument");
    *out = calloc(1, sizeof **out);
    if (!*out) return tca_fail(TCA_ERR_NOMEM, "detok: out of memory");
    (*out)->t = t;
    (*out)->skip_control = skip_control;
    return TCA_OK;
}

void tca_detok_free(tca_detok *d) {
    if (!d) return;
    free(d->in.p);
    free(d->out.p);
    free(d);
}

tca_status tca_detok_push(tca_detok *d, tca_token id, const char **text, size_t *len) {
    if (!d || !text || !len) return tca_fail(TCA_ERR_ARG, "detok: NULL argument");
    *text = "";
    *len = 0;
    tca_status st = check_id(d->t, id);
    if (st != TCA_OK) return st;
    if (d->skip_control && d->t->types[id] == TCA_TOKEN_CONTROL) return TCA_OK;
    size_t pl;
    const char *p = tok_piece(d->t, id, &pl);
    d->in.len = 0;
    d->out.len = 0;
    st = tok_bytes_put(&d->in, d->held, d->n_held);
    if (st == TCA_OK) st = tok_bytes_put(&d->in, p, pl);
    if (st != TCA_OK) return st;
    const uint8_t *u = (const uint8_t *)d->in.p;
    size_t n = d->in.len, i = 0;
    d->n_held = 0;
    while (i < n && st == TCA_OK) {
        size_t ok = tok_utf8_valid_prefix(u + i, n - i);
        st = tok_bytes_put(&d->out, u + i, ok);
        i += ok;
        if (i >= n || st != TCA_OK) break;
        uint32_t cp;
        size_t used;
        int r = tok_utf8_next(u + i, n - i, &cp, &used);
        if (r < 0) { /* incomplete so far: wait for the next token */
            memcpy(d->held, u + i, used);
            d->n_held = used;
            break;
        }
        st = tok_bytes_put(&d->out, "\xEF\xBF\xBD", 3);
        i += used;
    }
    if (st != TCA_OK) return st;
    *text = d->out.len ? d->out.p : "";
    *len = d->out.len;
    return TCA_OK;
}

tca_status tca_detok_flush(tca_detok *d, const char **text, size_t *len) {
    if (!d || !text || !len) return tca_fail(TCA_ERR_ARG, "detok: NULL argument");
    d->out.len = 0;
    tca_status st = TCA_OK;
    /* The held bytes are one valid prefix, hence one maximal subpart: one U+FFFD. */
    if (d->n_held) st = tok_bytes_put(&d->out, "\xEF\xBF\xBD", 3);
    d->n_held = 0;
    if (st != TCA_OK) return st;
    *text = d->out.len ? d->out.p : "";
    *len = d->out.len;
    return TCA_OK;
}
