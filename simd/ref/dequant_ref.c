/* PLACEHOLDER */
#include "ref/dequant_ref.h"
void tca_dequant_ref_register(tca_dequant_fn *table) { (void)table; }
