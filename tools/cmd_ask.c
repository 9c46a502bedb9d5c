/* tca ask: a question about a document, in the model's chat template. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "generate.h"

static void help(FILE *f) {
    fprintf(f, "usage: tca ask [-m MODEL] --doc FILE [options] \"QUESTION\"\n\n"
               "Answers a question about a document: the document and the question form the user\n"
               "turn of the model's own chat template (from the GGUF; an error if it has none),\n"
               "and the answer streams to stdout. Ends with a run summary on stderr.\n\n"
               "  -d, --doc FILE       the document\n"
               "      --system TEXT    system prompt (default: the template's own default)\n"
               "      --print-prompt   print the formatted prompt and exit\n"
               "%s%s", gen_common_help, attn_help);
}

int tca_cmd_ask(int argc, char **argv) {
    gen_options o;
    gen_options_default(&o);
    o.n_predict = 256;
    const char *doc = NULL, *question = NULL, *system = NULL;
    int print_prompt = 0;
    for (int i = 1; i < argc; i++) {
        int r = gen_parse_common(&o, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            help(stdout);
            return 0;
        } else if ((!strcmp(argv[i], "-d") || !strcmp(argv[i], "--doc")) && i + 1 < argc) {
            doc = argv[++i];
        } else if (!strcmp(argv[i], "--system") && i + 1 < argc) {
            system = argv[++i];
        } else if (!strcmp(argv[i], "--print-prompt")) {
            print_prompt = 1;
        } else if (argv[i][0] != '-' && !question) {
            question = argv[i];
        } else {
            fprintf(stderr, "tca ask: unknown or incomplete option '%s'\n\n", argv[i]);
            help(stderr);
            return 2;
        }
    }
    if (!doc || !question) {
        fprintf(stderr, "tca ask: needs --doc FILE and a QUESTION\n\n");
        help(stderr);
        return 2;
    }
    size_t doc_len;
    char *text = read_file(doc, &doc_len);
    if (!text) return 1;
    size_t ucap = doc_len + strlen(question) + 64;
    char *user = malloc(ucap);
    if (!user) {
        free(text);
        return 1;
    }
    /* The document first, the question last: the answer is conditioned on the question nearest to it. */
    snprintf(user, ucap, "%s\n\n%s", text, question);
    free(text);

    char path[4096];
    tca_status s = tca_model_resolve(o.model, path, sizeof path);
    if (s != TCA_OK) {
        free(user);
        return tca_tool_fail("model", s);
    }
    tca_gguf *g = NULL;
    char *prompt = NULL;
    size_t plen = 0, off = 0, n = 0;
    if ((s = tca_gguf_open(path, &g)) == TCA_OK) s = tca_chat_format(g, system, user, &prompt, &plen, &off, &n);
    tca_gguf_free(g);
    free(user);
    if (s != TCA_OK) return tca_tool_fail("chat template", s);
    /* template markers are special tokens; the document and question are plain text */
    gen_part parts[3] = {{prompt, off, true}, {prompt + off, n, false}, {prompt + off + n, plen - off - n, true}};
    int rc = 0;
    if (print_prompt) {
        fwrite(prompt, 1, plen, stdout);
    } else {
        o.model = path;
        rc = gen_run(&o, parts, 3);
    }
    free(prompt);
    return rc;
}
