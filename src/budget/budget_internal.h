/* Shared between the budget's constructor, reader and writer (library-internal). */
#ifndef TCA_BUDGET_INTERNAL_H
#define TCA_BUDGET_INTERNAL_H

#include "tca/budget.h"

/* A zeroed budget with room for n_layer * n_head_kv head records (calibration target -1);
 * NULL when out of memory. */
tca_budget *tca_budget_alloc(int n_layer, int n_head_kv);

/* 1 when block is a power of two in 2..64 (retain counts up to TCA_MAX_COUNTS). */
int tca_budget_block_ok(int block);

#endif
