/* Context creation: every buffer is sized here, once, from the model and the parameters. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "forward_internal.h"
#include "status_internal.h"

tca_context_params tca_context_default_params(void) {
    tca_context_params p = {0, 0, 512};
    return p;
}

static void *alloc(tca_context *c, size_t bytes, int *failed) {
    /* 64-byte alignment: one cache line, and whole ZMM loads for the f32 rows */
    void *p = NULL;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0) {
        *failed = 1;
        return NULL;
    }
    c->scratch_bytes += rounded;
    return p;
}

tca_status tca_context_new(const tca_model *m, const tca_context_params *p, tca_context **out) {
    *out = NULL;
    tca_context_params defaults = tca_context_default_params();
    if (p == NULL) p = &defaults;
    const tca_hparams *hp = tca_model_hparams(m);
    if (p->n_ctx < 0 || p->n_threads < 0 || p->n_batch < 0)
        return tca_fail(TCA_ERR_ARG, "context: negative n_ctx, n_threads or n_batch");
    if (p->n_ctx > hp->n_ctx_train)
        return tca_fail(TCA_ERR_RANGE, "context: %d tokens exceed the model's trained context of %d", p->n_ctx,
                        hp->n_ctx_train);
    if (hp->n_head / hp->n_head_kv > 64)
        return tca_fail(TCA_ERR_UNSUPPORTED, "context: GQA groups of more than 64 query heads are not supported");
    tca_context *c = calloc(1, sizeof *c);
    if (c == NULL) return tca_fail(TCA_ERR_NOMEM, "context: out of memory");
    c->model = m;
    c->hp = hp;
    c->k = tca_kernels_active();
    c->n_ctx = p->n_ctx ? p->n_ctx : hp->n_ctx_train;
    c->n_batch = p->n_batch ? p->n_batch : 512;
    if (c->n_batch > c->n_ctx) c->n_batch = c->n_ctx;
    c->n_threads = p->n_threads ? p->n_threads : omp_get_max_threads();

    const size_t B = (size_t)c->n_batch, e = (size_t)hp->n_embd, d = (size_t)hp->head_dim;
    const size_t qd = (size_t)hp->n_head * d, kvd = (size_t)hp->n_head_kv * d, ff = (size_t)hp->n_ff;
    const size_t kv_elems = (size_t)hp->n_layer * kvd * (size_t)c->n_ctx;
    /* widest quantized activation row: Q8 types take at most 292/256 bytes per element, F32 4 */
    const size_t xq_row = (ff > e ? ff : e) * 4 + 64;
    const int grp = hp->n_head / hp->n_head_kv;
    c->attn_tile = 32;
    const int64_t tile_rows = (int64_t)c->attn_tile * grp;
    /* per thread: gathered queries (rows x d) + m, l (rows) + acc (rows x d) */
    c->attn_scratch_floats = tile_rows * (2 * (int64_t)d + 2);
    c->n_split = c->n_threads;
    int failed = 0;
    c->kv_k = alloc(c, kv_elems * sizeof(tca_f16), &failed);
    c->kv_v = alloc(c, kv_elems * sizeof(tca_f16), &failed);
    c->x = alloc(c, B * e * 4, &failed);
    c->xn = alloc(c, B * e * 4, &failed);
    c->xq = alloc(c, B * xq_row, &failed);
    c->q = alloc(c, B * qd * 4, &failed);
    c->kf = alloc(c, B * kvd * 4, &failed);
    c->vf = alloc(c, B * kvd * 4, &failed);
    c->att = alloc(c, B * qd * 4, &failed);
    c->gate = alloc(c, B * ff * 4, &failed);
    c->up = alloc(c, B * ff * 4, &failed);
    c->rope_cos = alloc(c, B * d / 2 * 4, &failed);
    c->rope_sin = alloc(c, B * d / 2 * 4, &failed);
    c->rope_inv_freq = alloc(c, d / 2 * sizeof(double), &failed);
    c->attn_scratch = alloc(c, (size_t)c->n_threads * (size_t)c->attn_scratch_floats * 4, &failed);
    c->attn_qpos = alloc(c, (size_t)c->n_threads * (size_t)tile_rows * sizeof(int64_t), &failed);
    /* OpenBLAS runs inside our threads: it must not start its own (a team of one thread is not
     * "in parallel" for OpenMP, so OpenBLAS would otherwise fan out and oversubscribe the cores). */
    openblas_set_num_threads(1);
    /* TCA_PREFILL_GEMM=q keeps the integer kernels for prefill too (for measurements). */
    const char *gemm = getenv("TCA_PREFILL_GEMM");
    c->sgemm_min_rows = gemm && !strcmp(gemm, "q") ? 1 << 30 : 32;
    c->gemm_scratch_floats = TCA_SGEMM_ROWS * (int64_t)(ff > e ? ff : e);
    if (c->n_batch >= c->sgemm_min_rows)
        c->gemm_scratch = alloc(c, (size_t)c->n_threads * (size_t)c->gemm_scratch_floats * 4, &failed);
    c->split_state = alloc(c, (size_t)hp->n_head_kv * (size_t)c->n_split * (size_t)grp * (2 + d) * 4, &failed);
    if (failed) {
        tca_context_free(c);
        return tca_fail(TCA_ERR_NOMEM, "context: cannot allocate buffers for %d tokens of context", p->n_ctx);
    }
    for (size_t i = 0; i < d / 2; i++) c->rope_inv_freq[i] = pow(hp->rope_base, -2.0 * (double)i / (double)d);
    *out = c;
    return TCA_OK;
}

void tca_context_free(tca_context *c) {
    if (c == NULL) return;
    void *bufs[] = {c->kv_k, c->kv_v, c->x, c->xn, c->xq, c->q, c->kf, c->vf, c->att, c->gate, c->up,
                    c->rope_cos, c->rope_sin, c->rope_inv_freq, c->attn_scratch, c->attn_qpos, c->split_state,
                    c->gemm_scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(c);
}

int64_t tca_context_pos(const tca_context *c) { return c->pos; }
int tca_context_n_ctx(const tca_context *c) { return c->n_ctx; }
int tca_context_n_threads(const tca_context *c) { return c->n_threads; }
uint64_t tca_context_scratch_bytes(const tca_context *c) { return c->scratch_bytes; }
const tca_timings *tca_context_timings(const tca_context *c) { return &c->timings; }

void tca_context_reset(tca_context *c) {
    c->pos = 0;
    memset(&c->timings, 0, sizeof c->timings);
}

uint64_t tca_context_kv_bytes(const tca_context *c) {
    return (uint64_t)c->pos * (uint64_t)c->hp->n_layer * (uint64_t)c->hp->n_head_kv * (uint64_t)c->hp->head_dim *
           2 * sizeof(tca_f16);
}

const char *tca_isa_active_name(void) { return tca_isa_name(tca_kernels_active()->isa); }
