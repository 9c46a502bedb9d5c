/* dump_tensor MODEL TENSOR OUT [ROW0 [NROWS]]
 * dump_tensor --check-isa
 *
 * Dequantises rows [ROW0, ROW0 + NROWS) of a tensor (a row: ne[0] elements; default all rows)
 * with the active dispatch table (TCA_ISA selects the level) and writes them to OUT as raw
 * little-endian f32, NROWS x ne[0]. check_dequant.py compares the result with the gguf Python
 * package. Prints "ISA TYPE ne0 ROW0 NROWS" on success. Exit status 77 (skipped) when TCA_ISA
 * asks for a level that this CPU or build lacks, 1 on any error. --check-isa only checks that,
 * so that a caller can skip before any work. */
#include <string.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"
#include "tca/tca.h"

int main(int argc, char **argv) {
    int check_only = argc == 2 && !strcmp(argv[1], "--check-isa");
    if (!check_only && (argc < 4 || argc > 6)) {
        fprintf(stderr, "usage: dump_tensor MODEL TENSOR OUT [ROW0 [NROWS]]\n");
        return 1;
    }
    const tca_kernels *k = tca_kernels_active();
    if (!tca_kernels_isa_forced_ok()) {
        fprintf(stderr, "dump_tensor: TCA_ISA=%s is not available on this CPU or build\n",
                getenv("TCA_ISA"));
        return 77;
    }
    if (check_only) return 0;
    char path[4096];
    tca_gguf *g = NULL;
    if (tca_model_resolve(argv[1], path, sizeof path) != TCA_OK ||
        tca_gguf_open(path, &g) != TCA_OK) {
        fprintf(stderr, "dump_tensor: %s\n", tca_last_error());
        return 1;
    }
    int rc = 1;
    float *out = NULL;
    FILE *f = NULL;
    const tca_tensor_info *t = tca_gguf_tensor_find(g, argv[2]);
    if (!t) {
        fprintf(stderr, "dump_tensor: no tensor '%s' in %s\n", argv[2], path);
        goto done;
    }
    int64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
    int64_t row0 = argc > 4 ? strtoll(argv[4], NULL, 10) : 0;
    int64_t nrows = argc > 5 ? strtoll(argv[5], NULL, 10) : rows - row0;
    if (row0 < 0 || row0 > rows) row0 = rows;
    if (nrows < 0 || nrows > rows - row0) nrows = rows - row0;
    tca_dequant_fn fn = t->type < TCA_TYPE_COUNT ? k->dequant[t->type] : NULL;
    if (!fn) {
        fprintf(stderr, "dump_tensor: no %s dequant kernel for %s in the %s table\n",
                tca_gguf_type_name(t->type), t->name, tca_isa_name(k->isa));
        goto done;
    }
    uint64_t row_bytes = t->nbytes / (uint64_t)rows;
    int64_t n = nrows * t->ne[0];
    out = malloc((size_t)(n ? n : 1) * sizeof *out); /* nrows x ne[0] f32 */
    if (!out) {
        fprintf(stderr, "dump_tensor: out of memory for %" PRId64 " floats\n", n);
        goto done;
    }
    fn((const uint8_t *)t->data + (uint64_t)row0 * row_bytes, out, n);
    f = fopen(argv[3], "wb");
    if (!f || fwrite(out, sizeof *out, (size_t)n, f) != (size_t)n || fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "dump_tensor: cannot write %s\n", argv[3]);
        goto done;
    }
    f = NULL;
    printf("%s %s %" PRId64 " %" PRId64 " %" PRId64 "\n", tca_isa_name(k->isa),
           tca_gguf_type_name(t->type), t->ne[0], row0, nrows);
    rc = 0;
done:
    if (f) fclose(f);
    free(out);
    tca_gguf_free(g);
    return rc;
}
