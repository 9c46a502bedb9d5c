/* PLACEHOLDER */
#ifndef TCA_DEQUANT_REF_H
#define TCA_DEQUANT_REF_H
#include "dequant.h"
#include "quant.h"
void tca_dequant_ref_register(tca_dequant_fn *table);
#endif
