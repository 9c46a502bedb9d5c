/* tca run: complete a prompt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "generate.h"

static void help(FILE *f) {
    fprintf(f, "usage: tca run [-m MODEL] (-p PROMPT | -f FILE) [options]\n\n"
               "Streams a completion of the prompt (raw text, no chat template; use `tca ask` for\n"
               "questions). Ends with a summary on stderr: prompt tokens, prefill and decode\n"
               "tokens/s, KV cache bytes, peak memory.\n\n"
               "  -p, --prompt TEXT    the prompt\n"
               "  -f, --file FILE      read the prompt from FILE\n"
               "      --special        parse special-token text (<|im_start|> ...) in the prompt\n"
               "%s%s", gen_common_help, attn_help);
}

int tca_cmd_run(int argc, char **argv) {
    gen_options o;
    gen_options_default(&o);
    const char *prompt = NULL, *file = NULL;
    bool special = false;
    for (int i = 1; i < argc; i++) {
        int r = gen_parse_common(&o, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            help(stdout);
            return 0;
        } else if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--prompt")) && i + 1 < argc) {
            prompt = argv[++i];
        } else if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--file")) && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(argv[i], "--special")) {
            special = true;
        } else {
            fprintf(stderr, "tca run: unknown or incomplete option '%s'\n\n", argv[i]);
            help(stderr);
            return 2;
        }
    }
    if (!prompt == !file) {
        fprintf(stderr, "tca run: give exactly one of -p PROMPT or -f FILE\n\n");
        help(stderr);
        return 2;
    }
    size_t len;
    char *buf = NULL;
    if (file) {
        if (!(buf = read_file(file, &len))) return 1;
        prompt = buf;
    } else {
        len = strlen(prompt);
    }
    gen_part part = {prompt, len, special};
    int rc = gen_run(&o, &part, 1);
    free(buf);
    return rc;
}
