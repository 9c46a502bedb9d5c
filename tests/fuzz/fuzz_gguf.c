/* libFuzzer target for the GGUF reader: opens the input with tca_gguf_open_memory and, when it is
 * accepted, walks every accessor and checks the invariants that callers rely on (every string,
 * array and tensor lies inside the input; lookups by name find what the index lists). A violated
 * invariant traps, so that the fuzzer reports it like a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tca/gguf.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

static const uint8_t *lo, *hi; /* the input */

static void inside(const void *p, uint64_t n) {
    const uint8_t *b = p;
    REQUIRE(n == 0 || (b >= lo && b <= hi && n <= (uint64_t)(hi - b)));
}

/* Reads every byte so that ASan sees any out-of-bounds range. */
static volatile uint8_t sink;
static void touch(const void *p, uint64_t n) {
    inside(p, n);
    uint8_t x = 0;
    for (uint64_t i = 0; i < n; i++) x ^= ((const uint8_t *)p)[i];
    sink = x;
}

static void walk_kv(const tca_gguf *g, int64_t i) {
    const char *key = tca_gguf_kv_key(g, i);
    REQUIRE(key != NULL && *key);
    REQUIRE(tca_gguf_kv_find(g, key) == i);
    tca_gguf_vtype t = tca_gguf_kv_type(g, i);
    REQUIRE(strcmp(tca_gguf_vtype_name(t), "unknown") != 0);
    int64_t iv;
    double dv;
    bool bv;
    const char *s;
    size_t len;
    tca_status si = tca_gguf_get_int(g, key, &iv);
    tca_status sf = tca_gguf_get_float(g, key, &dv);
    REQUIRE(si == TCA_OK || si == TCA_ERR_FORMAT);
    REQUIRE(sf == TCA_OK || sf == TCA_ERR_FORMAT);
    REQUIRE((tca_gguf_get_bool(g, key, &bv) == TCA_OK) == (t == TCA_GGUF_BOOL));
    if (tca_gguf_get_str(g, key, &s, &len) == TCA_OK) {
        REQUIRE(t == TCA_GGUF_STRING);
        touch(s, len);
    }
    tca_gguf_vtype elem;
    uint64_t n;
    if (tca_gguf_get_arr(g, key, &elem, &n) != TCA_OK) {
        REQUIRE(t != TCA_GGUF_ARRAY);
        return;
    }
    REQUIRE(t == TCA_GGUF_ARRAY);
    if (elem == TCA_GGUF_STRING) {
        for (uint64_t k = 0; k < n; k++) {
            REQUIRE(tca_gguf_get_arr_str(g, key, k, &s, &len) == TCA_OK);
            touch(s, len);
        }
        REQUIRE(tca_gguf_get_arr_str(g, key, n, &s, &len) == TCA_ERR_RANGE);
    } else if (elem != TCA_GGUF_ARRAY) {
        const void *data;
        uint64_t m;
        REQUIRE(tca_gguf_get_arr_data(g, key, elem, &data, &m) == TCA_OK && m == n);
        static const uint8_t size[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        touch(data, m * size[elem]);
    }
}

static void walk_tensor(const tca_gguf *g, int64_t i) {
    const tca_tensor_info *t = tca_gguf_tensor(g, i);
    REQUIRE(t != NULL && t->name && *t->name);
    REQUIRE(tca_gguf_tensor_find(g, t->name) == t);
    REQUIRE(tca_gguf_type_name(t->type) != NULL);
    REQUIRE(t->n_dims >= 1 && t->n_dims <= 4);
    for (int d = 0; d < 4; d++) REQUIRE(t->ne[d] >= 1);
    REQUIRE(t->offset % tca_gguf_alignment(g) == 0);
    touch(t->data, t->nbytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tca_gguf *g = NULL;
    tca_status s = tca_gguf_open_memory(data, size, &g);
    if (s != TCA_OK) {
        REQUIRE(g == NULL);
        REQUIRE(s == TCA_ERR_FORMAT || s == TCA_ERR_UNSUPPORTED);
        return 0;
    }
    lo = data;
    hi = data + size;
    REQUIRE(tca_gguf_file_size(g) == size);
    uint32_t a = tca_gguf_alignment(g);
    REQUIRE(a != 0 && (a & (a - 1)) == 0);
    for (int64_t i = 0; i < tca_gguf_kv_count(g); i++) walk_kv(g, i);
    for (int64_t i = 0; i < tca_gguf_tensor_count(g); i++) walk_tensor(g, i);
    REQUIRE(tca_gguf_kv_key(g, tca_gguf_kv_count(g)) == NULL);
    REQUIRE(tca_gguf_tensor(g, tca_gguf_tensor_count(g)) == NULL);
    tca_gguf_free(g);
    return 0;
}
