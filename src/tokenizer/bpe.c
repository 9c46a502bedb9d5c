/* Byte-level BPE: the vocab and merge-rank hash tables and the merge loop of one word.
 *
 * The merge loop is the Hugging Face one: every adjacent pair with a merge rule goes into a
 * min-heap keyed by (rank, position of its left symbol); the lowest rank merges first and, among
 * equal ranks (the same rule at several places), the leftmost. Entries made stale by an earlier
 * merge are recognised when popped (the pair now at that position is no longer that rule) and
 * skipped. O(n log n) per word, so a megabyte of spaces is no worse than a megabyte of prose. */
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tok_internal.h"

uint64_t tok_hash(const void *p, size_t n) {
    /* FNV-1a, then a 64-bit finalizer so that the low bits (the slot) mix well. */
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static uint32_t pow2_at_least(uint64_t n) {
    uint32_t c = 16;
    while (c < n) c *= 2;
    return c;
}

tca_status tok_strmap_init(tok_strmap *m, uint32_t n_items) {
    /* Load factor <= 1/2 keeps probe sequences short. */
    uint32_t cap = pow2_at_least((uint64_t)n_items * 2);
    m->slots = calloc(cap, sizeof *m->slots);
    m->tags = calloc(cap, sizeof *m->tags);
    if (!m->slots || !m->tags)
        return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory for the vocab table");
    m->mask = cap - 1;
    return TCA_OK;
}

void tok_strmap_free(tok_strmap *m) {
    free(m->slots);
    free(m->tags);
    m->slots = NULL;
    m->tags = NULL;
}

tca_token tok_strmap_find(const tok_strmap *m, const char *base, const size_t *off, const char *k,
                          size_t n) {
    uint64_t h = tok_hash(k, n);
    uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & m->mask;
    for (;;) {
        uint32_t v = m->slots[i];
        if (v == 0) return -1;
        if (m->tags[i] == tag) { /* only a likely hit touches the vocab text */
            tca_token id = (tca_token)(v - 1);
            size_t len = off[id + 1] - off[id];
            if (len == n && memcmp(base + off[id], k, n) == 0) return id;
        }
        i = (i + 1) & m->mask;
    }
}

void tok_strmap_insert(tok_strmap *m, const char *base, const size_t *off, tca_token id) {
    const char *k = base + off[id];
    size_t n = off[id + 1] - off[id];
    if (tok_strmap_find(m, base, off, k, n) >= 0) return;
    uint64_t h = tok_hash(k, n);
    uint32_t i = (uint32_t)h & m->mask;
    while (m->slots[i]) i = (i + 1) & m->mask;
    m->slots[i] = (uint32_t)id + 1;
    m->tags[i] = (uint32_t)(h >> 32);
}

static uint64_t pair_key(tca_token a, tca_token b) {
    return (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
}

static uint64_t pair_slot(uint64_t key) {
    /* splitmix64's finalizer: every key bit reaches the low (slot) bits. A bare multiply would
     * leave the slot a function of the right id alone and pile up clusters. */
    uint64_t h = key;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

tca_status tok_mergemap_init(tok_mergemap *m, uint64_t n_items) {
    uint64_t cap = pow2_at_least(n_items * 2);
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory for the merge table");
    m->mask = cap - 1;
    return TCA_OK;
}

void tok_mergemap_free(tok_mergemap *m) {
    free(m->slots);
    m->slots = NULL;
}

const tok_merge *tok_mergemap_find(const tok_mergemap *m, tca_token a, tca_token b) {
    uint64_t key = pair_key(a, b);
    uint64_t i = pair_slot(key) & m->mask;
    for (;;) {
        const tok_merge *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == 0) return NULL;
        i = (i + 1) & m->mask;
    }
}

void tok_mergemap_insert(tok_mergemap *m, tca_token a, tca_token b, int32_t rank, tca_token merged) {
    uint64_t key = pair_key(a, b);
    uint64_t i = pair_slot(key) & m->mask;
    while (m->slots[i].key != 0 && m->slots[i].key != key) i = (i + 1) & m->mask;
    /* A repeated rule keeps its first (lowest) rank. */
    if (m->slots[i].key == key) return;
    m->slots[i].key = key;
    m->slots[i].rank = rank;
    m->slots[i].merged = merged;
}

typedef struct tok_heap_item {
    int32_t rank;
    int32_t pos; /* index of the left symbol */
} tok_heap_item;

static bool heap_less(tok_heap_item a, tok_heap_item b) {
    return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void heap_push(tok_heap_item *h, size_t *n, tok_heap_item x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(x, h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
}

static tok_heap_item heap_pop(tok_heap_item *h, size_t *n) {
    tok_heap_item top = h[0];
    tok_heap_item x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && heap_less(h[c + 1], h[c])) c++;
        if (!heap_less(h[c], x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
    return top;
}

void tok_bpe_scratch_free(tok_bpe_scratch *s) {
    free(s->id);
    free(s->prev);
    free(s->next);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

static tca_status scratch_reserve(tok_bpe_scratch *s, size_t n) {
    if (n <= s->cap) return TCA_OK;
    size_t c = s->cap ? s->cap : 64;
    while (c < n) c *= 2;
    tok_bpe_scratch ns = {0};
    ns.id = malloc(c * sizeof *ns.id);
    ns.prev = malloc(c * sizeof *ns.prev);
    ns.next = malloc(c * sizeof *ns.next);
    /* Each merge pushes at most two new pairs on top of the n - 1 initial ones. */
    ns.heap = malloc(3 * c * sizeof *ns.heap);
    if (!ns.id || !ns.prev || !ns.next || !ns.heap) {
        tok_bpe_scratch_free(&ns);
        return tca_fail(TCA_ERR_NOMEM, "tokenizer: out of memory for a %zu-byte word", n);
    }
    ns.cap = c;
    tok_bpe_scratch_free(s);
    *s = ns;
    return TCA_OK;
}

tca_status tok_bpe_word(const tca_tokenizer *t, tok_bpe_scratch *s, const char *w, size_t n,
                        tok_ids *out) {
    const uint8_t *u = (const uint8_t *)w;
    tca_status st = scratch_reserve(s, n);
    if (st != TCA_OK) return st;
    /* Symbols: one per byte that has a token; bytes without one are dropped before merging. */
    int32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        tca_token id = t->byte_token[u[i]];
        if (id < 0) continue;
        s->id[m] = id;
        s->prev[m] = m - 1;
        s->next[m] = m + 1;
        m++;
    }
    if (m == 0) return TCA_OK;
    s->next[m - 1] = -1;
    size_t hn = 0;
    for (int32_t i = 0; i + 1 < m; i++) {
        const tok_merge *e = tok_mergemap_find(&t->merges, s->id[i], s->id[i + 1]);
        if (e) heap_push(s->heap, &hn, (tok_heap_item){e->rank, i});
    }
    while (hn > 0) {
        tok_heap_item top = heap_pop(s->heap, &hn);
        int32_t l = top.pos;
        if (s->id[l] < 0) continue; /* merged into its left neighbour */
        int32_t r = s->next[l];
        if (r < 0) continue;
        const tok_merge *e = tok_mergemap_find(&t->merges, s->id[l], s->id[r]);
        if (!e || e->rank != top.rank) continue; /* stale */
        s->id[l] = e->merged;
        s->id[r] = -1;
        int32_t rr = s->next[r];
        s->next[l] = rr;
        if (rr >= 0) s->prev[rr] = l;
        int32_t pl = s->prev[l];
        if (pl >= 0) {
            const tok_merge *a = tok_mergemap_find(&t->merges, s->id[pl], s->id[l]);
            if (a) heap_push(s->heap, &hn, (tok_heap_item){a->rank, pl});
        }
        if (rr >= 0) {
            const tok_merge *b = tok_mergemap_find(&t->merges, s->id[l], s->id[rr]);
            if (b) heap_push(s->heap, &hn, (tok_heap_item){b->rank, l});
        }
    }
    for (int32_t i = 0; i >= 0; i = s->next[i]) {
        st = tok_ids_push(out, s->id[i]);
        if (st != TCA_OK) return st;
    }
    return TCA_OK;
}
