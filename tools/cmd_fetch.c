/* PLACEHOLDER: being written. */
#include <stdio.h>
#include "commands.h"
int tca_cmd_fetch(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "tca fetch: not built yet\n"); return 1; }
