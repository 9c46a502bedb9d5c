/* The model fingerprint stored in head-budget files (tca/budget.h, docs/tca.md "Budget file"):
 * a hash of every tensor's name, shape and type, so that a budget is not applied to a file whose
 * hyperparameters happen to match but whose tensors differ (another quantisation, an extra or
 * renamed tensor). Tensor values are not hashed (that would read the whole file at every load),
 * so two fine-tunes with the same layout share a fingerprint; nor is metadata, so re-writing the
 * GGUF's key-value section keeps it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tca/budget.h"
#include "tca/gguf.h"
#include "tca/model.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

static uint64_t fnv_bytes(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV64_PRIME;
    }
    return h;
}

/* Little-endian whatever the host, so that the fingerprint is the same on every machine. */
static uint64_t fnv_le(uint64_t h, uint64_t v, int nbytes) {
    for (int i = 0; i < nbytes; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= FNV64_PRIME;
    }
    return h;
}

void tca_model_fingerprint(const tca_model *m, char out[17]) {
    const tca_gguf *g = tca_model_gguf(m);
    uint64_t h = FNV64_OFFSET;
    const int64_t n = tca_gguf_tensor_count(g);
    for (int64_t i = 0; i < n; i++) {
        const tca_tensor_info *t = tca_gguf_tensor(g, i);
        h = fnv_bytes(h, (const unsigned char *)t->name, strlen(t->name) + 1); /* name and its 0 */
        h = fnv_le(h, (uint32_t)t->n_dims, 4);
        for (int d = 0; d < t->n_dims; d++) h = fnv_le(h, (uint64_t)t->ne[d], 8);
        h = fnv_le(h, t->type, 4);
    }
    snprintf(out, 17, "%016" PRIx64, h);
}
