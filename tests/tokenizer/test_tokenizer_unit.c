/* Unit test of the tokenizer on a hand-made vocab in a GGUF built in memory: BPE merge order,
 * added-token matching, NFC, invalid UTF-8, streaming detokenization, and bad input (unknown
 * model or pre-tokenizer, missing or broken merges, ids out of range, overlong input).
 *
 * The vocab: ids 0..255 are the single bytes (id b = byte b, in GPT-2's byte-level text), then
 *   256 "ab" (merge "a b", rank 0)     257 "aa" (merge "a a", rank 1)
 *   258 "abab" (merge "ab ab", rank 2) 259 "Ġa" (merge "Ġ a", rank 3)
 *   260 "<s>" CONTROL                  261 "<s>x" USER_DEFINED        262 "[PAD]" UNUSED */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_writer.h"
#include "tca/tca.h"

static int failures;

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (!(cond)) {                                          \
            failures++;                                         \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);         \
            printf(__VA_ARGS__);                                \
            printf("\n");                                       \
        }                                                       \
    } while (0)

enum { N_VOCAB = 263 };

typedef struct spec {
    const char *model, *pre;
    int merges;          /* 0: no merges key */
    const char *bad_merge; /* appended merge text */
    int types_count;     /* token_type entries (N_VOCAB normally) */
    long long bos;       /* -1: absent */
    const char *token0;  /* replaces token 0's text */
} spec;

static const spec good = {"gpt2", "qwen2", 1, NULL, N_VOCAB, -1, NULL};

static void byte_text(int b, char *out) {
    int n = 0;
    int cp;
    int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    if (printable) {
        cp = b;
    } else {
        cp = 256;
        for (int k = 0; k < b; k++) {
            int pk = (k >= '!' && k <= '~') || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE);
            if (!pk) cp++;
        }
    }
    if (cp < 0x80) {
        out[n++] = (char)cp;
    } else {
        out[n++] = (char)(0xC0 | (cp >> 6));
        out[n++] = (char)(0x80 | (cp & 0x3F));
    }
    out[n] = 0;
}

static void build(gw *w, const spec *s) {
    static const char *const extra[] = {"ab", "aa", "abab", "\xC4\xA0" "a", "<s>", "<s>x", "[PAD]"};
    static const int extra_type[] = {1, 1, 1, 1, 3, 4, 5};
    static const char *const merges[] = {"a b", "a a", "ab ab", "\xC4\xA0 a"};
    int n_kv = 4 + (s->merges ? 1 : 0) + (s->bos >= 0 ? 1 : 0) + 1;
    gw_header(w, 3, 0, (uint64_t)n_kv);
    gw_key(w, "tokenizer.ggml.model", 8);
    gw_str(w, s->model);
    gw_key(w, "tokenizer.ggml.pre", 8);
    gw_str(w, s->pre);
    gw_key(w, "tokenizer.ggml.tokens", 9);
    gw_u32(w, 8);
    gw_u64(w, N_VOCAB);
    for (int b = 0; b < 256; b++) {
        char t[4];
        byte_text(b, t);
        gw_str(w, b == 0 && s->token0 ? s->token0 : t);
    }
    for (int i = 0; i < 7; i++) gw_str(w, extra[i]);
    gw_key(w, "tokenizer.ggml.token_type", 9);
    gw_u32(w, 5);
    gw_u64(w, (uint64_t)s->types_count);
    for (int i = 0; i < s->types_count; i++) gw_u32(w, (uint32_t)(i < 256 ? 1 : extra_type[(i - 256) % 7]));
    if (s->merges) {
        gw_key(w, "tokenizer.ggml.merges", 9);
        gw_u32(w, 8);
        gw_u64(w, 4 + (s->bad_merge ? 1 : 0));
        for (int i = 0; i < 4; i++) gw_str(w, merges[i]);
        if (s->bad_merge) gw_str(w, s->bad_merge);
    }
    if (s->bos >= 0) {
        gw_key(w, "tokenizer.ggml.bos_token_id", 4);
        gw_u32(w, (uint32_t)s->bos);
    }
    gw_key(w, "tokenizer.ggml.eos_token_id", 4);
    gw_u32(w, 260);
}

static tca_status load(const spec *s, gw *w, tca_gguf **g, tca_tokenizer **t) {
    memset(w, 0, sizeof *w);
    build(w, s);
    *t = NULL;
    tca_status st = tca_gguf_open_memory(w->buf, w->len, g);
    if (st != TCA_OK) {
        printf("FAIL: the test GGUF does not open: %s\n", tca_last_error());
        failures++;
        return st;
    }
    return tca_tokenizer_load(*g, t);
}

static void expect_ids(tca_tokenizer *t, const char *text, size_t len, unsigned flags,
                       const tca_token *want, size_t n_want, const char *what) {
    tca_token got[64];
    size_t n = 0;
    tca_status s = tca_tokenize(t, text, len, flags, got, 64, &n);
    int same = s == TCA_OK && n == n_want;
    for (size_t i = 0; same && i < n; i++) same = got[i] == want[i];
    if (!same) {
        printf("FAIL %s: status %d (%s), %zu ids:", what, s, tca_last_error(), n);
        for (size_t i = 0; i < n && i < 64; i++) printf(" %d", got[i]);
        printf("  want:");
        for (size_t i = 0; i < n_want; i++) printf(" %d", want[i]);
        printf("\n");
        failures++;
    }
}

#define IDS(...) ((const tca_token[]){__VA_ARGS__}), sizeof((const tca_token[]){__VA_ARGS__}) / sizeof(tca_token)
#define EXPECT(t, text, flags, what, ...) expect_ids(t, text, sizeof(text) - 1, flags, IDS(__VA_ARGS__), what)

/* For texts whose words have no merges here: the ids are the bytes of the normalized text. */
static void expect_bytes(tca_tokenizer *t, const char *text, size_t len, const char *want,
                         size_t want_len, const char *what) {
    tca_token *ids;
    size_t n;
    tca_status s = tca_tokenize_alloc(t, text, len, 0, &ids, &n);
    int same = s == TCA_OK && n == want_len;
    for (size_t i = 0; same && i < n; i++) same = ids[i] == (tca_token)(unsigned char)want[i];
    CHECK(same, "%s: status %d, %zu ids, want %zu bytes", what, s, n, want_len);
    if (s == TCA_OK) free(ids);
}

static void test_nfc_long_run(tca_tokenizer *t) {
    /* 'a' + 200 x (U+0301 acute, ccc 230; U+0316 grave below, ccc 220): canonical ordering puts
     * the 200 U+0316 first; then a + U+0301 composes to U+00E1 (unblocked: the marks between
     * have a lower class), the other 199 U+0301 follow. Long enough for the counting sort. */
    char in[1 + 200 * 4], want[2 + 200 * 2 + 199 * 2];
    size_t ni = 0, nw = 0;
    in[ni++] = 'a';
    for (int i = 0; i < 200; i++) {
        memcpy(in + ni, "\xCC\x81\xCC\x96", 4);
        ni += 4;
    }
    memcpy(want, "\xC3\xA1", 2);
    nw = 2;
    for (int i = 0; i < 200; i++, nw += 2) memcpy(want + nw, "\xCC\x96", 2);
    for (int i = 0; i < 199; i++, nw += 2) memcpy(want + nw, "\xCC\x81", 2);
    expect_bytes(t, in, ni, want, nw, "NFC of a long run of alternating marks");
    /* A short run takes the insertion sort: e + U+0301 U+0316 -> U+00E9 U+0316. */
    expect_bytes(t, "e\xCC\x81\xCC\x96", 5, "\xC3\xA9\xCC\x96", 4, "NFC of a short run");
}

static void test_encode(tca_tokenizer *t) {
    const unsigned SP = TCA_TOK_PARSE_SPECIAL;
    EXPECT(t, "abab", SP, "whole word", 258);
    EXPECT(t, "aaa", SP, "equal ranks merge leftmost first", 257, 'a');
    EXPECT(t, "aab", SP, "lower rank first", 'a', 256);
    EXPECT(t, "ababab", SP, "rank order over the word", 258, 256);
    EXPECT(t, " a", SP, "space prefix", 259);
    EXPECT(t, "b a ab", SP, "words", 'b', 259, ' ', 256);
    EXPECT(t, "x<s>y", SP, "control token parsed", 'x', 260, 'y');
    EXPECT(t, "x<s>y", 0, "control token as text", 'x', '<', 's', '>', 'y');
    EXPECT(t, "<s>x", SP, "longest added token wins", 261);
    EXPECT(t, "<s>x", 0, "user-defined tokens are matched without specials", 261);
    EXPECT(t, "[PAD]", SP, "unused tokens are never matched", '[', 'P', 'A', 'D', ']');
    EXPECT(t, "e\xCC\x81", SP, "NFC composes e + U+0301", 0xC3, 0xA9);
    EXPECT(t, "\xE2\x84\xA6", SP, "NFC maps U+2126 OHM to U+03A9", 0xCE, 0xA9);
    EXPECT(t, "\xFF", SP, "an invalid byte is U+FFFD", 0xEF, 0xBF, 0xBD);
    EXPECT(t, "\xE2\x82", SP, "a truncated sequence is one U+FFFD", 0xEF, 0xBF, 0xBD);
    EXPECT(t, "\xE2\x82" "a", SP, "truncated then ASCII", 0xEF, 0xBF, 0xBD, 'a');
    EXPECT(t, "\xED\xA0\x80", SP, "a surrogate is three U+FFFD", 0xEF, 0xBF, 0xBD, 0xEF, 0xBF,
           0xBD, 0xEF, 0xBF, 0xBD);
    size_t n = 99;
    CHECK(tca_tokenize(t, "", 0, SP, NULL, 0, &n) == TCA_OK && n == 0, "empty text: %zu ids", n);

    /* Capacity: too small reports the count needed. */
    tca_token one[1];
    tca_status s = tca_tokenize(t, "b a ab", 6, SP, one, 1, &n);
    CHECK(s == TCA_ERR_RANGE && n == 4, "small capacity: status %d, n %zu", s, n);
    /* Overlong input is refused before it is read (the pointer covers 1 byte). */
    s = tca_tokenize(t, "x", TCA_TOKENIZER_MAX_BYTES + 1, SP, NULL, 0, &n);
    CHECK(s == TCA_ERR_RANGE && strstr(tca_last_error(), "longer"), "overlong: %d %s", s,
          tca_last_error());
    /* No BOS in this vocab. */
    s = tca_tokenize(t, "a", 1, TCA_TOK_FORCE_BOS, one, 1, &n);
    CHECK(s == TCA_ERR_NOT_FOUND && strstr(tca_last_error(), "BOS"), "bos: %d %s", s,
          tca_last_error());
    CHECK(tca_tokenize(t, "a", 1, TCA_TOK_ADD_SPECIAL, one, 1, &n) == TCA_OK && n == 1 &&
              one[0] == 'a', "metadata without add_bos adds nothing");
}

static void test_accessors(tca_tokenizer *t) {
    const char *p;
    size_t len;
    CHECK(tca_tokenizer_n_vocab(t) == N_VOCAB, "n_vocab %d", tca_tokenizer_n_vocab(t));
    CHECK(!strcmp(tca_tokenizer_model(t), "gpt2") && !strcmp(tca_tokenizer_pre(t), "qwen2"),
          "model/pre names");
    CHECK(tca_tokenizer_bos(t) == -1 && tca_tokenizer_eos(t) == 260 && tca_tokenizer_pad(t) == -1,
          "special ids");
    CHECK(tca_token_is_eog(t, 260) && !tca_token_is_eog(t, 'a') && !tca_token_is_eog(t, -5), "eog");
    CHECK(tca_token_piece(t, 259, &p, &len) == TCA_OK && len == 2 && !memcmp(p, " a", 2),
          "piece of 'Ġa'");
    CHECK(tca_token_text(t, 259, &p, &len) == TCA_OK && len == 3 && !memcmp(p, "\xC4\xA0" "a", 3),
          "text of 'Ġa'");
    CHECK(tca_token_piece(t, 262, &p, &len) == TCA_OK && len == 0, "UNUSED piece is empty");
    CHECK(tca_token_get_type(t, 260) == TCA_TOKEN_CONTROL && tca_token_get_type(t, 261) ==
              TCA_TOKEN_USER_DEFINED && tca_token_get_type(t, N_VOCAB) == TCA_TOKEN_UNDEFINED,
          "types");
    tca_token id = -1;
    CHECK(tca_token_find(t, "<s>", 3, &id) == TCA_OK && id == 260, "find <s>: %d", id);
    CHECK(tca_token_find(t, "zz", 2, &id) == TCA_ERR_NOT_FOUND, "find absent");
    const tca_token bad[] = {-1, N_VOCAB, 1 << 30};
    for (int i = 0; i < 3; i++) {
        tca_status s = tca_token_piece(t, bad[i], &p, &len);
        CHECK(s == TCA_ERR_RANGE, "piece of id %d: %d", bad[i], s);
        s = tca_token_text(t, bad[i], &p, &len);
        CHECK(s == TCA_ERR_RANGE, "text of id %d: %d", bad[i], s);
        char *out;
        tca_token ids[2] = {'a', bad[i]};
        s = tca_detokenize(t, ids, 2, false, &out, &len);
        CHECK(s == TCA_ERR_RANGE, "detokenize id %d: %d", bad[i], s);
    }
}

static void test_detok(tca_tokenizer *t) {
    char *out;
    size_t len;
    const tca_token smile[] = {0xF0, 0x9F, 0x98, 0x80, 260, 'a'};
    CHECK(tca_detokenize(t, smile, 6, false, &out, &len) == TCA_OK && len == 8 &&
              !memcmp(out, "\xF0\x9F\x98\x80<s>a", 8), "detokenize emoji + control");
    free(out);
    CHECK(tca_detokenize(t, smile, 6, true, &out, &len) == TCA_OK && len == 5 &&
              !memcmp(out, "\xF0\x9F\x98\x80" "a", 5), "detokenize skipping control");
    free(out);

    tca_detok *d;
    const char *p;
    CHECK(tca_detok_new(t, false, &d) == TCA_OK, "detok_new");
    /* An emoji one byte at a time: nothing until the last byte. */
    for (int i = 0; i < 3; i++)
        CHECK(tca_detok_push(d, smile[i], &p, &len) == TCA_OK && len == 0, "partial byte %d held", i);
    CHECK(tca_detok_push(d, smile[3], &p, &len) == TCA_OK && len == 4 && !memcmp(p, "\xF0\x9F\x98\x80", 4),
          "emoji completed");
    /* A lead byte followed by ASCII: the lead becomes U+FFFD, then the ASCII. */
    CHECK(tca_detok_push(d, 0xC3, &p, &len) == TCA_OK && len == 0, "lead byte held");
    CHECK(tca_detok_push(d, 'a', &p, &len) == TCA_OK && len == 4 && !memcmp(p, "\xEF\xBF\xBD" "a", 4),
          "broken sequence replaced");
    /* A stray continuation byte is replaced at once. */
    CHECK(tca_detok_push(d, 0x80, &p, &len) == TCA_OK && len == 3 && !memcmp(p, "\xEF\xBF\xBD", 3),
          "stray continuation");
    /* Flush emits an incomplete tail as one U+FFFD. */
    CHECK(tca_detok_push(d, 0xE2, &p, &len) == TCA_OK && len == 0, "E2 held");
    CHECK(tca_detok_push(d, 0x82, &p, &len) == TCA_OK && len == 0, "E2 82 held");
    CHECK(tca_detok_flush(d, &p, &len) == TCA_OK && len == 3 && !memcmp(p, "\xEF\xBF\xBD", 3),
          "flush of an incomplete tail");
    CHECK(tca_detok_flush(d, &p, &len) == TCA_OK && len == 0, "second flush is empty");
    CHECK(tca_detok_push(d, N_VOCAB, &p, &len) == TCA_ERR_RANGE, "push of an id out of range");
    tca_detok_free(d);
}

static void expect_load_error(spec s, tca_status want, const char *needle, const char *what) {
    gw w;
    tca_gguf *g = NULL;
    tca_tokenizer *t = NULL;
    tca_status st = load(&s, &w, &g, &t);
    CHECK(st == want && t == NULL && strstr(tca_last_error(), needle),
          "%s: status %d (want %d), message '%s' should name '%s'", what, st, want,
          tca_last_error(), needle);
    tca_tokenizer_free(t);
    tca_gguf_free(g);
    gw_free(&w);
}

int main(void) {
    gw w;
    tca_gguf *g = NULL;
    tca_tokenizer *t = NULL;
    if (load(&good, &w, &g, &t) != TCA_OK) {
        printf("FAIL: the hand-made tokenizer does not load: %s\n", tca_last_error());
        return 1;
    }
    tca_gguf_free(g); /* the tokenizer keeps copies */
    gw_free(&w);
    test_encode(t);
    test_nfc_long_run(t);
    test_accessors(t);
    test_detok(t);
    tca_tokenizer_free(t);

    spec s = good;
    s.model = "llama";
    expect_load_error(s, TCA_ERR_UNSUPPORTED, "'llama'", "unknown model");
    s = good;
    s.pre = "gpt4o";
    expect_load_error(s, TCA_ERR_UNSUPPORTED, "'gpt4o'", "unknown pre-tokenizer");
    s = good;
    s.merges = 0;
    expect_load_error(s, TCA_ERR_FORMAT, "tokenizer.ggml.merges", "missing merges");
    s = good;
    s.bad_merge = "a zz";
    expect_load_error(s, TCA_ERR_FORMAT, "'zz'", "merge of a missing token");
    s = good;
    s.bad_merge = "abab";
    expect_load_error(s, TCA_ERR_FORMAT, "'abab' is not 'left right'", "merge without a space");
    s = good;
    s.types_count = N_VOCAB - 1;
    expect_load_error(s, TCA_ERR_FORMAT, "token_type", "token_type count");
    s = good;
    s.bos = 9999;
    expect_load_error(s, TCA_ERR_FORMAT, "9999", "bos id out of range");
    s = good;
    s.token0 = "\xE4\xB8\x80"; /* U+4E00 is no byte's image */
    expect_load_error(s, TCA_ERR_FORMAT, "not byte-level", "normal token that is not byte-level");
    CHECK(tca_tokenizer_load(NULL, &t) == TCA_ERR_ARG, "NULL gguf");

    if (failures) {
        printf("%d failures\n", failures);
        return 1;
    }
    printf("tokenizer unit: all passed\n");
    return 0;
}
