/* Internals of src/tokenizer: shared between its files, not part of the public API. */
#ifndef TCA_TOK_INTERNAL_H
#define TCA_TOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tca/tokenizer.h"

/* ---- growable byte / id buffers (per encode call) ---- */
typedef struct tok_bytes {
    char *p;
    size_t len, cap;
} tok_bytes;
typedef struct tok_ids {
    tca_token *p;
    size_t len, cap;
} tok_ids;
tca_status tok_bytes_reserve(tok_bytes *b, size_t cap);
tca_status tok_bytes_put(tok_bytes *b, const void *p, size_t n);
tca_status tok_ids_push(tok_ids *v, tca_token id);

/* ---- UTF-8 (utf8.c) ---- */
/* Reads one sequence at s[0..n), n >= 1, following Unicode's well-formed table (Table 3-7).
 * Returns 1 for a valid sequence (*cp, *used = its length); 0 for an invalid one, where *used is
 * the length of the maximal subpart to replace by one U+FFFD (what Python's errors="replace"
 * replaces); -1 when s ends inside a sequence that is valid so far (*used = n). */
int tok_utf8_next(const uint8_t *s, size_t n, uint32_t *cp, size_t *used);
/* Length of the longest valid UTF-8 prefix of s. */
size_t tok_utf8_valid_prefix(const uint8_t *s, size_t n);
/* Appends s with every maximal invalid subpart replaced by U+FFFD (EF BF BD); a truncated
 * sequence at the end counts as invalid. */
tca_status tok_utf8_sanitize(const uint8_t *s, size_t n, tok_bytes *out);
/* Appends the UTF-8 encoding of cp (< 0x110000, not a surrogate); returns its length. */
int tok_utf8_put(uint32_t cp, char *out);

/* ---- NFC (nfc.c) ---- */
/* Appends the NFC form of valid UTF-8 text s (the normalizer of the reference tokenizer: see
 * tools/gen_nfc_tables.py for the Unicode data it follows). */
tca_status tok_nfc(const char *s, size_t n, tok_bytes *out);

/* ---- pre-tokenizers (pretok.c) ---- */
typedef enum tok_pre_kind { TOK_PRE_SMOLLM, TOK_PRE_QWEN2 } tok_pre_kind;
typedef struct tok_pretok tok_pretok;
tca_status tok_pretok_new(tok_pre_kind kind, tok_pretok **out);
void tok_pretok_free(tok_pretok *p);
/* Per-call match state (PCRE2 match data is not shareable across threads). */
typedef struct tok_pretok_state tok_pretok_state;
tca_status tok_pretok_state_new(const tok_pretok *p, tok_pretok_state **out);
void tok_pretok_state_free(tok_pretok_state *st);
/* Splits valid UTF-8 s[0..n) into words and calls fn on each, in order; the words cover s. */
typedef tca_status (*tok_word_fn)(const char *w, size_t len, void *user);
tca_status tok_pretok_run(const tok_pretok *p, tok_pretok_state *st, const char *s, size_t n,
                          tok_word_fn fn, void *user);

/* ---- BPE (bpe.c) ---- */
/* Open-addressing hash from a byte string to a token id. */
typedef struct tok_strmap {
    uint32_t *slots; /* token id + 1, 0 = empty; capacity a power of two */
    uint32_t *tags;  /* high 32 bits of the key's hash, per slot */
    uint32_t mask;
} tok_strmap;
/* Open-addressing hash from a pair of ids to (rank, merged id). */
typedef struct tok_merge {
    uint64_t key; /* (left << 32 | right) + 1, 0 = empty */
    int32_t rank;
    tca_token merged;
} tok_merge;
typedef struct tok_mergemap {
    tok_merge *slots;
    uint64_t mask;
} tok_mergemap;

/* ---- the tokenizer ---- */
typedef struct tok_added {
    tca_token id;
    uint32_t len;  /* bytes of its text */
    uint8_t first; /* first byte of its text */
    bool control;  /* matched only when parsing specials */
} tok_added;

struct tca_tokenizer {
    int32_t n_vocab;
    char model[16], pre[16];
    tok_pre_kind pre_kind;
    uint8_t *types;   /* [n_vocab] tca_token_type */
    char *text;       /* all vocab texts, concatenated */
    size_t *text_off; /* [n_vocab + 1] */
    char *piece;      /* all decoded pieces, concatenated */
    size_t *piece_off; /* [n_vocab + 1] */
    tok_strmap by_piece; /* raw bytes of NORMAL tokens -> id: the BPE vocab */
    tok_strmap by_text;  /* vocab text -> id, every token */
    tok_mergemap merges;
    tca_token byte_token[256]; /* id of each single byte, -1 if the vocab lacks it */
    /* Added tokens (CONTROL, USER_DEFINED) grouped by first byte, longest first within a group:
     * added[added_start[b] .. added_start[b + 1]). */
    tok_added *added;
    uint32_t added_start[257];
    tca_token bos, eos, pad, eot, eom;
    bool add_bos, add_eos;
    tca_token *eog; /* sorted */
    size_t n_eog;
    tok_pretok *pretok;
};

static inline const char *tok_text(const tca_tokenizer *t, tca_token id, size_t *len) {
    *len = t->text_off[id + 1] - t->text_off[id];
    return t->text + t->text_off[id];
}
static inline const char *tok_piece(const tca_tokenizer *t, tca_token id, size_t *len) {
    *len = t->piece_off[id + 1] - t->piece_off[id];
    return t->piece + t->piece_off[id];
}

uint64_t tok_hash(const void *p, size_t n);
tca_status tok_strmap_init(tok_strmap *m, uint32_t n_items);
void tok_strmap_free(tok_strmap *m);
/* Inserts unless the key is present (first id wins); keys are read through t's pieces/texts. */
tca_token tok_strmap_find(const tok_strmap *m, const char *base, const size_t *off, const char *k,
                          size_t n);
void tok_strmap_insert(tok_strmap *m, const char *base, const size_t *off, tca_token id);
tca_status tok_mergemap_init(tok_mergemap *m, uint64_t n_items);
void tok_mergemap_free(tok_mergemap *m);
void tok_mergemap_insert(tok_mergemap *m, tca_token a, tca_token b, int32_t rank, tca_token merged);
const tok_merge *tok_mergemap_find(const tok_mergemap *m, tca_token a, tca_token b);

/* Per-call BPE scratch. */
typedef struct tok_bpe_scratch {
    tca_token *id;
    int32_t *prev, *next;
    struct tok_heap_item *heap;
    size_t cap;
} tok_bpe_scratch;
void tok_bpe_scratch_free(tok_bpe_scratch *s);
/* Byte-level BPE of one pre-tokenized word: appends its ids to out. Bytes without a token of
 * their own are dropped before merging, as the reference BPE (no unk token) does: SmolLM2's vocab
 * lacks 21 (0x04 0x06 0x13 0x14 0x16 0x1D, 0xC0 0xC1, 0xF1 0xF2, 0xF5..0xFF). */
tca_status tok_bpe_word(const tca_tokenizer *t, tok_bpe_scratch *s, const char *w, size_t n,
                        tok_ids *out);

#endif
