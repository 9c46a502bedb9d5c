/* PLACEHOLDER: being written. */
#include <stdio.h>
#include "commands.h"
int tca_cmd_tokenize(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "tca tokenize: not built yet\n"); return 1; }
