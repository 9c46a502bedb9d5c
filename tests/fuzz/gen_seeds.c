/* gen_seeds DIR: writes the crafted GGUF files of tests/gguf/gguf_writer.c (the valid ones and
 * every malformed variant) into DIR as the fuzzer's seed corpus. */
#include <stdio.h>

#include "gguf_writer.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds DIR\n");
        return 1;
    }
    for (int f = 0; f < GW_FAULT_COUNT; f++) {
        gw w = {0};
        gw_build(&w, (gw_fault)f);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%02d.gguf", argv[1], f);
        FILE *out = fopen(path, "wb");
        if (!out || fwrite(w.buf, 1, w.len, out) != w.len || fclose(out) != 0) {
            fprintf(stderr, "gen_seeds: cannot write %s\n", path);
            return 1;
        }
        gw_free(&w);
    }
    printf("%d seeds in %s\n", (int)GW_FAULT_COUNT, argv[1]);
    return 0;
}
