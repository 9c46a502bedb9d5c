/* tca: command-line front end. One executable, one subcommand per file (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "tca/tca.h"
#include "tca_config.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"info", tca_cmd_info, "print a model's architecture, hyperparameters, tensors and vocab"},
    {"tokenize", tca_cmd_tokenize, "print the token ids of a text"},
    {"run", tca_cmd_run, "complete a prompt, streaming the generated text"},
    {"ask", tca_cmd_ask, "answer a question about a document in the model's chat template"},
    {"bench", tca_cmd_bench, "measure prompt and generation speed (llama-bench style)"},
    {"fetch", tca_cmd_fetch, "download a supported model into the cache and print its path"},
    {"calibrate", tca_cmd_calibrate, "write a TCA head-budget file for a model from a calibration text"},
    {"eval", tca_cmd_eval, "accuracy of dense, TCA and baseline attention on long real text"},
};

static void usage(FILE *f) {
    fprintf(f, "tca %s: long-context LLM inference on the CPU with TCA-Attention\n\n"
               "usage: tca COMMAND [OPTIONS]   (tca COMMAND --help for its options)\n\n"
               "commands:\n", TCA_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nMODEL arguments take a .gguf path or the name of a fetched model "
               "(smollm2, qwen2.5-1.5b, qwen2.5-0.5b).\n"
               "The model cache is $TCA_MODELS_DIR, or ~/.cache/tca/models.\n");
}

int tca_tool_fail(const char *what, int status) {
    const char *detail = tca_last_error();
    fprintf(stderr, "tca: %s: %s%s%s\n", what, tca_status_str((tca_status)status),
            *detail ? ": " : "", detail);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tca %s\n", TCA_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tca: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
