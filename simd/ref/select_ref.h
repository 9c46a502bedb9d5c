/* Reference (scalar C) TCA selection kernels: the specification of select.h. Exported one by one
 * so that variants can hand what they do not vectorise (shapes past their stack tiles) to them. */
#ifndef TCA_SELECT_REF_H
#define TCA_SELECT_REF_H

#include <stdint.h>

#include "select.h"

struct tca_kernels;

void tca_score_dot_ref(const float *q, int64_t ldq, int nq, const tca_f16 *k, int64_t ldk, int64_t n, int d,
                       float scale, float *out, int64_t ldo);
void tca_group_softmax_mean_ref(float *s, int64_t lds, int nq, int64_t n, float *a);
float tca_eff_count_ref(const float *a, int64_t n);
void tca_topk_ref(const float *a, int n, int k, int32_t *idx);
void tca_gather_rows_ref(const tca_f16 *src, int64_t lds, const int32_t *idx, int k, int d, tca_f16 *dst,
                         int64_t ldd);

/* Fills the selection entries of the table. */
void tca_select_ref_register(struct tca_kernels *k);

#endif
