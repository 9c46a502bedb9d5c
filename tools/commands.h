/* Subcommands of the `tca` executable: each takes argv after the subcommand name
 * (argv[0] is the subcommand) and returns the process exit status. */
#ifndef TCA_TOOLS_COMMANDS_H
#define TCA_TOOLS_COMMANDS_H

int tca_cmd_info(int argc, char **argv);
int tca_cmd_tokenize(int argc, char **argv);
int tca_cmd_fetch(int argc, char **argv);
int tca_cmd_run(int argc, char **argv);
int tca_cmd_ask(int argc, char **argv);
int tca_cmd_bench(int argc, char **argv);
int tca_cmd_calibrate(int argc, char **argv);
int tca_cmd_eval(int argc, char **argv);

/* Prints "tca: <msg>: <tca_last_error()>" for a failed library call and returns exit status 1. */
int tca_tool_fail(const char *what, int status);

#endif
