/* Test helper for check_dequant_ref.py: dequantises a file of raw GGUF blocks with the kernel
 * table of one ISA level and writes the f32 result.
 *
 *   dequant_cli ISA TYPE_ID IN OUT
 *
 * ISA: ref|avx2|avx512|neon; TYPE_ID: the GGUF type id (quant.h); IN: whole blocks of that type;
 * OUT: n little-endian f32 values. Exit status 0 ok, 77 when this build or CPU lacks the ISA
 * level, 1 on any other error (with a message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"

static int fail(const char *msg, const char *arg) {
    fprintf(stderr, "dequant_cli: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) return fail("usage: dequant_cli ISA TYPE_ID IN OUT", NULL);
    int isa = -1;
    for (int i = 0; i < TCA_ISA_COUNT; i++)
        if (strcmp(argv[1], tca_isa_name((tca_isa)i)) == 0) isa = i;
    if (isa < 0) return fail("unknown ISA level", argv[1]);
    tca_kernels k;
    if (tca_kernels_fill((tca_isa)isa, &k) != 0) {
        fprintf(stderr, "dequant_cli: ISA %s not available in this build or CPU\n", argv[1]);
        return 77;
    }
    char *end;
    unsigned long type = strtoul(argv[2], &end, 10);
    const tca_type_traits *tr = *end == '\0' ? tca_type_info((uint32_t)type) : NULL;
    if (tr == NULL || k.dequant[type] == NULL) return fail("unsupported type id", argv[2]);

    FILE *f = fopen(argv[3], "rb");
    if (!f) return fail("cannot open input", argv[3]);
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (bytes < 0 || bytes % tr->block_bytes != 0) {
        fclose(f);
        return fail("input is not a whole number of blocks", argv[3]);
    }
    int64_t n = bytes / tr->block_bytes * tr->block_elems;
    unsigned char *src = malloc(bytes ? (size_t)bytes : 1);        /* [bytes] raw blocks */
    float *dst = malloc(n ? (size_t)n * sizeof(float) : 1);          /* [n] f32 */
    if (!src || !dst) {
        fclose(f);
        return fail("out of memory", NULL);
    }
    size_t got = fread(src, 1, (size_t)bytes, f);
    fclose(f);
    if (got != (size_t)bytes) return fail("short read", argv[3]);

    k.dequant[type](src, dst, n);

    FILE *o = fopen(argv[4], "wb");
    if (!o) return fail("cannot create output", argv[4]);
    size_t put = fwrite(dst, sizeof(float), (size_t)n, o);
    if (fclose(o) != 0 || put != (size_t)n) return fail("cannot write output", argv[4]);
    free(src);
    free(dst);
    return 0;
}
