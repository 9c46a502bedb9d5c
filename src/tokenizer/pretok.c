/* Pre-tokenizers: the split of normalized text into words before BPE, per GGUF
 * tokenizer.ggml.pre, as the Hugging Face pipelines of the models define them:
 *
 *   smollm  Digits(individual_digits=True): every \p{N} character is a word of its own; then
 *           ByteLevel(use_regex=True) runs the GPT-2 regex on each stretch between them
 *   qwen2   Split(QWEN2 regex, isolated)
 *
 * Matching uses PCRE2 (UTF + UCP, JIT when available). \s and \S are written out as the Unicode
 * White_Space set, which is what Oniguruma (the engine of the reference) matches and which
 * does not depend on the PCRE2 version (PCRE2's UCP \s left out U+0085 before 10.43).
 * \p{L} and \p{N} come from PCRE2's Unicode tables (docs/tokenizer.md: Unicode versions). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tok_internal.h"

#define WS "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}" \
           "\\x{202F}\\x{205F}\\x{3000}"

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+|[" WS "]+(?![^" WS
    "])|[" WS "]+";

/* Qwen2: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|
 *        \s*[\r\n]+|\s+(?!\S)|\s+ */
static const char qwen2_pattern[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^" WS
    "\\p{L}\\p{N}]+[\\r\\n]*|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS "])|[" WS "]+";

static const char digit_pattern[] = "\\p{N}";

struct tok_pretok {
    tok_pre_kind kind;
    pcre2_code *main; /* the word regex */
    pcre2_code *digit; /* smollm: the \p{N} isolator */
    bool jit;
};

struct tok_pretok_state {
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *stack;
};

static tca_status compile(const char *pat, pcre2_code **out, bool *jit) {
    int err;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                  &err, &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return tca_fail(TCA_ERR_INTERNAL, "tokenizer: regex does not compile at %zu: %s",
                        (size_t)off, (const char *)msg);
    }
    /* Without JIT (a PCRE2 built without it) the interpreter gives the same matches, slower. */
    if (pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0) *jit = false;
    *out = c;
    return TCA_OK;
}

tca_status tok_pretok_new(tok_pre_kind kind, tok_pretok **out) {
    *out = NULL;
    tok_pretok *p = calloc(1, sizeof *p);
    if (!p) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory");
    p->kind = kind;
    p->jit = true;
    tca_status s = compile(kind == TOK_PRE_QWEN2 ? qwen2_pattern : gpt2_pattern, &p->main, &p->jit);
    if (s == TCA_OK && kind == TOK_PRE_SMOLLM) s = compile(digit_pattern, &p->digit, &p->jit);
    if (s != TCA_OK) {
        tok_pretok_free(p);
        return s;
    }
    *out = p;
    return TCA_OK;
}

void tok_pretok_free(tok_pretok *p) {
    if (!p) return;
    pcre2_code_free(p->main);
    pcre2_code_free(p->digit);
    free(p);
}

tca_status tok_pretok_state_new(const tok_pretok *p, tok_pretok_state **out) {
    *out = NULL;
    tok_pretok_state *st = calloc(1, sizeof *st);
    if (!st) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory");
    /* One ovector pair is all we read. */
    st->md = pcre2_match_data_create(1, NULL);
    st->mc = pcre2_match_context_create(NULL);
    if (p->jit) {
        /* Long whitespace runs backtrack through (?!\S): give JIT room (grows up to 16 MiB). */
        st->stack = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, NULL);
        if (st->stack) pcre2_jit_stack_assign(st->mc, NULL, st->stack);
    }
    if (!st->md || !st->mc || (p->jit && !st->stack)) {
        tok_pretok_state_free(st);
        return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory for regex state");
    }
    *out = st;
    return TCA_OK;
}

void tok_pretok_state_free(tok_pretok_state *st) {
    if (!st) return;
    pcre2_match_data_free(st->md);
    pcre2_match_context_free(st->mc);
    pcre2_jit_stack_free(st->stack);
    free(st);
}

/* First match of c in s[off..end) (the subject ends at end, so lookaheads see its end): 1 with
 * [*ms, *me), 0 when none. */
static int find(const tok_pretok *p, tok_pretok_state *st, const pcre2_code *c, const char *s,
                size_t end, size_t off, size_t *ms, size_t *me, tca_status *err) {
    int rc = pcre2_match(c, (PCRE2_SPTR)s, end, off, PCRE2_NO_UTF_CHECK, st->md, st->mc);
    (void)p;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        *err = tca_fail(TCA_ERR_INTERNAL, "tokenizer: regex match failed at byte %zu: %s", off,
                        (const char *)msg);
        return -1;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st->md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

/* Split s[start..end) with the word regex; unmatched gaps (none for these patterns, which
 * match every character) would be words too, as in HF's "isolated" split. */
static tca_status split_words(const tok_pretok *p, tok_pretok_state *st, const char *s, size_t start,
                              size_t end, tok_word_fn fn, void *user) {
    tca_status err = TCA_OK;
    size_t off = start;
    while (off < end) {
        size_t ms, me;
        int r = find(p, st, p->main, s, end, off, &ms, &me, &err);
        if (r < 0) return err;
        if (r == 0) return fn(s + off, end - off, user);
        if (ms > off) {
            tca_status e = fn(s + off, ms - off, user);
            if (e != TCA_OK) return e;
        }
        if (me == ms) { /* cannot happen with these patterns; never loop forever */
            size_t used = 1;
            uint32_t cp;
            tok_utf8_next((const uint8_t *)s + ms, end - ms, &cp, &used);
            me = ms + used;
        }
        tca_status e = fn(s + ms, me - ms, user);
        if (e != TCA_OK) return e;
        off = me;
    }
    return TCA_OK;
}

tca_status tok_pretok_run(const tok_pretok *p, tok_pretok_state *st, const char *s, size_t n,
                          tok_word_fn fn, void *user) {
    if (p->kind != TOK_PRE_SMOLLM) return split_words(p, st, s, 0, n, fn, user);
    tca_status err = TCA_OK;
    size_t off = 0;
    while (off < n) {
        size_t ms, me;
        int r = find(p, st, p->digit, s, n, off, &ms, &me, &err);
        if (r < 0) return err;
        size_t seg_end = r ? ms : n;
        /* The stretch before the digit is a subject of its own: "a 1" gives "a", " ", "1". */
        tca_status e = split_words(p, st, s, off, seg_end, fn, user);
        if (e != TCA_OK || r == 0) return e;
        e = fn(s + ms, me - ms, user);
        if (e != TCA_OK) return e;
        off = me;
    }
    return TCA_OK;
}
