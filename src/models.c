#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "status_internal.h"
#include "tca/models.h"

tca_status tca_models_dir(char *buf, size_t cap) {
    const char *env = getenv("TCA_MODELS_DIR");
    int n;
    if (env && *env) {
        n = snprintf(buf, cap, "%s", env);
    } else if ((env = getenv("XDG_CACHE_HOME")) && *env) {
        n = snprintf(buf, cap, "%s/tca/models", env);
    } else if ((env = getenv("HOME")) && *env) {
        n = snprintf(buf, cap, "%s/.cache/tca/models", env);
    } else {
        return tca_fail(TCA_ERR_NOT_FOUND, "no model cache: set TCA_MODELS_DIR or HOME");
    }
    if (n < 0 || (size_t)n >= cap) return tca_fail(TCA_ERR_RANGE, "model cache path too long");
    return TCA_OK;
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

tca_status tca_model_resolve(const char *arg, char *buf, size_t cap) {
    if (arg == NULL || *arg == '\0') return tca_fail(TCA_ERR_ARG, "empty model name");
    size_t len = strlen(arg);
    int looks_like_path = strchr(arg, '/') != NULL || (len > 5 && !strcmp(arg + len - 5, ".gguf"));
    if (is_file(arg) || looks_like_path) {
        if (!is_file(arg)) return tca_fail(TCA_ERR_NOT_FOUND, "model file '%s' does not exist", arg);
        if (len >= cap) return tca_fail(TCA_ERR_RANGE, "model path too long");
        memcpy(buf, arg, len + 1);
        return TCA_OK;
    }
    char dir[4096];
    tca_status s = tca_models_dir(dir, sizeof dir);
    if (s != TCA_OK) return s;
    int n = snprintf(buf, cap, "%s/%s.gguf", dir, arg);
    if (n < 0 || (size_t)n >= cap) return tca_fail(TCA_ERR_RANGE, "model path too long");
    if (!is_file(buf))
        return tca_fail(TCA_ERR_NOT_FOUND,
                        "model '%s' is neither a file nor fetched (%s missing): run `tca fetch %s`",
                        arg, buf, arg);
    return TCA_OK;
}
