/* Where model files live. Supported models are fetched by `tca fetch NAME` (tools/fetch_model.py
 * reading models/catalog.json) into the cache directory as NAME.gguf (a link to the file under
 * its original name); this resolves a MODEL argument to a path. */
#ifndef TCA_MODELS_H
#define TCA_MODELS_H

#include <stddef.h>

#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The cache directory: $TCA_MODELS_DIR, else $XDG_CACHE_HOME/tca/models, else
 * $HOME/.cache/tca/models. Writes a NUL-terminated path into buf. */
tca_status tca_models_dir(char *buf, size_t cap);

/* name_or_path: an existing file is used as is; otherwise a name (no '/' and no ".gguf") is
 * looked up as <cache>/<name>.gguf. TCA_ERR_NOT_FOUND names what was tried and how to fetch it. */
tca_status tca_model_resolve(const char *name_or_path, char *buf, size_t cap);

/* The model used when no -m is given. */
#define TCA_DEFAULT_MODEL "smollm2"

#ifdef __cplusplus
}
#endif
#endif
