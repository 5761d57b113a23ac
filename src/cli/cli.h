/* Declarations shared by the files of the simrec command line. */
#ifndef SIMREC_CLI_H
#define SIMREC_CLI_H

/* simrec lock status|break ... (lock_cmd.c) */
int sr_cli_lock(int argc, char **argv);

#endif
