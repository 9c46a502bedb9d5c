/* Prints tca_model_fingerprint of a model (a name from the cache or a path), for
 * check_fingerprint.py to compare with the same hash computed from gguf-py's reading. */
#include <stdio.h>

#include "tca/budget.h"
#include "tca/model.h"
#include "tca/models.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fingerprint_cli MODEL\n");
        return 2;
    }
    char path[4096];
    tca_model *m = NULL;
    tca_status s = tca_model_resolve(argv[1], path, sizeof path);
    if (s == TCA_OK) s = tca_model_load(path, &m);
    if (s != TCA_OK) {
        fprintf(stderr, "fingerprint_cli: %s: %s\n", tca_status_str(s), tca_last_error());
        return 1;
    }
    char fp[17];
    tca_model_fingerprint(m, fp);
    printf("%s\n", fp);
    tca_model_free(m);
    return 0;
}
