/* UTF-8 reading with the "maximal subpart" replacement policy of the Unicode standard (sec. 3.9,
 * U+FFFD substitution), which Python's errors="replace" and Rust's from_utf8_lossy both follow:
 * the reference tokenizer sees exactly the text we tokenize. Plus the small buffers of encode. */
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tok_internal.h"

tca_status tok_bytes_reserve(tok_bytes *b, size_t cap) {
    if (cap <= b->cap) return TCA_OK;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < cap) nc *= 2;
    char *p = realloc(b->p, nc);
    if (!p) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory (%zu bytes)", nc);
    b->p = p;
    b->cap = nc;
    return TCA_OK;
}

tca_status tok_bytes_put(tok_bytes *b, const void *p, size_t n) {
    tca_status s = tok_bytes_reserve(b, b->len + n);
    if (s != TCA_OK) return s;
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    return TCA_OK;
}

tca_status tok_ids_push(tok_ids *v, tca_token id) {
    if (v->len == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 1024;
        tca_token *p = realloc(v->p, nc * sizeof *p);
        if (!p) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory (%zu ids)", nc);
        v->p = p;
        v->cap = nc;
    }
    v->p[v->len++] = id;
    return TCA_OK;
}

int tok_utf8_next(const uint8_t *s, size_t n, uint32_t *cp, size_t *used) {
    uint8_t b = s[0];
    if (b < 0x80) {
        *cp = b;
        *used = 1;
        return 1;
    }
    int len;
    uint32_t c;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        c = b & 0x0F;
        if (b == 0xE0) lo = 0xA0; /* no overlong forms */
        if (b == 0xED) hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        c = b & 0x07;
        if (b == 0xF0) lo = 0x90; /* no overlong forms */
        if (b == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        *used = 1; /* 80..C1, F5..FF never start a sequence */
        return 0;
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) {
            *used = n;
            return -1;
        }
        uint8_t x = s[i];
        if (x < lo || x > hi) {
            *used = (size_t)i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
        c = (c << 6) | (x & 0x3F);
    }
    *cp = c;
    *used = (size_t)len;
    return 1;
}

size_t tok_utf8_valid_prefix(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        /* ASCII runs dominate real text: skip 8 bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t used;
        if (tok_utf8_next(s + i, n - i, &cp, &used) != 1) break;
        i += used;
    }
    return i;
}

int tok_utf8_put(uint32_t cp, char *out) {
    uint8_t *o = (uint8_t *)out;
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

tca_status tok_utf8_sanitize(const uint8_t *s, size_t n, tok_bytes *out) {
    static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    size_t i = 0;
    while (i < n) {
        size_t ok = tok_utf8_valid_prefix(s + i, n - i);
        tca_status st = tok_bytes_put(out, s + i, ok);
        if (st != TCA_OK) return st;
        i += ok;
        if (i >= n) break;
        uint32_t cp;
        size_t used;
        tok_utf8_next(s + i, n - i, &cp, &used);
        st = tok_bytes_put(out, fffd, 3);
        if (st != TCA_OK) return st;
        i += used;
    }
    return TCA_OK;
}
