/* The public API of libtca: the only header that tools/ includes. */
#ifndef TCA_TCA_H
#define TCA_TCA_H

#include "tca/status.h"
#include "tca/gguf.h"
#include "tca/tokenizer.h"
#include "tca/models.h"
#include "tca/model.h"
#include "tca/context.h"
#include "tca/sample.h"
#include "tca/chat.h"
#include "tca/budget.h"
#include "tca/calibrate.h"

#endif
