/* Declarations shared by the files of the simrec command line. */
#ifndef SIMREC_CLI_H
#define SIMREC_CLI_H

/* A key, attribute or holder name as printed (show.c): control bytes,
 * invalid UTF-8 and '\\' escaped, so that a name stays on its line and
 * sends nothing to the terminal. Valid until eight calls later. */
const char *sr_cli_name(const char *s);

/* A library error message as printed: the same without escaping '\\'
 * (the library's messages are escaped already; this is the guard). */
const char *sr_cli_msg(const char *s);

/* simrec lock status|break ... (lock_cmd.c) */
int sr_cli_lock(int argc, char **argv);

#endif
