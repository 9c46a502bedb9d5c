/* PLACEHOLDER: being written. */
#include <stdio.h>
#include "commands.h"
int tca_cmd_info(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "tca info: not built yet\n"); return 1; }
