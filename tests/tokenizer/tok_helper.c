/* The C side of tests/tokenizer/test_reference.py: loads one model's tokenizer and answers
 * requests on stdin with binary replies on stdout (little-endian), so that the Python test can
 * send thousands of texts through one process.
 *
 *   request  'E' u32 flags, u32 len, len bytes      encode (flags: TCA_TOK_*)
 *            'S' u32 n, n x i32                     streaming detokenizer, one push per id
 *            'D' u32 n, n x i32                     tca_detokenize
 *            'T' u32 id                             tca_token_piece
 *   reply    u32 status; status != 0: u32 len, message
 *            E: u32 n, n x i32
 *            S: u32 chunks, chunks x (u32 len, bytes): one per push, then the flush
 *            D, T: u32 len, bytes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tca/tca.h"

static int rd(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }
static void wr(const void *p, size_t n) { fwrite(p, 1, n, stdout); }
static void wr_u32(uint32_t v) { wr(&v, 4); }

static void fail(tca_status s) {
    const char *m = tca_last_error();
    wr_u32((uint32_t)s);
    wr_u32((uint32_t)strlen(m));
    wr(m, strlen(m));
    fflush(stdout);
}

static tca_token *read_ids(uint32_t *n) {
    if (!rd(n, 4)) return NULL;
    tca_token *ids = malloc((*n ? *n : 1) * sizeof *ids);
    if (!ids || !rd(ids, *n * sizeof *ids)) exit(2);
    return ids;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: tok_helper MODEL.gguf < requests > replies\n");
        return 2;
    }
    tca_gguf *g;
    tca_tokenizer *t;
    if (tca_gguf_open(argv[1], &g) != TCA_OK || tca_tokenizer_load(g, &t) != TCA_OK) {
        fprintf(stderr, "tok_helper: %s: %s\n", argv[1], tca_last_error());
        return 1;
    }
    tca_gguf_free(g);
    int op;
    while ((op = getchar()) != EOF) {
        if (op == 'E') {
            uint32_t flags, len;
            if (!rd(&flags, 4) || !rd(&len, 4)) return 2;
            char *text = malloc(len ? len : 1);
            if (!text || !rd(text, len)) return 2;
            tca_token *ids;
            size_t n;
            tca_status s = tca_tokenize_alloc(t, text, len, flags, &ids, &n);
            free(text);
            if (s != TCA_OK) {
                fail(s);
                continue;
            }
            wr_u32(0);
            wr_u32((uint32_t)n);
            wr(ids, n * sizeof *ids);
            free(ids);
        } else if (op == 'S') {
            uint32_t n;
            tca_token *ids = read_ids(&n);
            if (!ids) return 2;
            tca_detok *d;
            tca_status s = tca_detok_new(t, false, &d);
            /* Replies are buffered until every push succeeded, so a failure is one reply. */
            size_t cap = 1024, len = 0;
            char *buf = malloc(cap);
            for (uint32_t i = 0; i <= n && s == TCA_OK; i++) {
                const char *p;
                size_t pl;
                s = i < n ? tca_detok_push(d, ids[i], &p, &pl) : tca_detok_flush(d, &p, &pl);
                if (s != TCA_OK) break;
                while (len + pl + 4 > cap) buf = realloc(buf, cap *= 2);
                uint32_t l32 = (uint32_t)pl;
                memcpy(buf + len, &l32, 4);
                memcpy(buf + len + 4, p, pl);
                len += 4 + pl;
            }
            if (s != TCA_OK) {
                fail(s);
            } else {
                wr_u32(0);
                wr_u32(n + 1);
                wr(buf, len);
            }
            free(buf);
            tca_detok_free(d);
            free(ids);
        } else if (op == 'D') {
            uint32_t n;
            tca_token *ids = read_ids(&n);
            if (!ids) return 2;
            char *out;
            size_t len;
            tca_status s = tca_detokenize(t, ids, n, false, &out, &len);
            free(ids);
            if (s != TCA_OK) {
                fail(s);
                continue;
            }
            wr_u32(0);
            wr_u32((uint32_t)len);
            wr(out, len);
            free(out);
        } else if (op == 'T') {
            uint32_t id;
            if (!rd(&id, 4)) return 2;
            const char *p;
            size_t len;
            tca_status s = tca_token_piece(t, (tca_token)id, &p, &len);
            if (s != TCA_OK) {
                fail(s);
                continue;
            }
            wr_u32(0);
            wr_u32((uint32_t)len);
            wr(p, len);
        } else {
            fprintf(stderr, "tok_helper: unknown request %d\n", op);
            return 2;
        }
        fflush(stdout);
    }
    tca_tokenizer_free(t);
    return 0;
}
