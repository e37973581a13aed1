/* migratectl subcommands: one table of names, handlers and help texts. */
#ifndef COMMANDS_H
#define COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

/* Exit status of migratectl (documented in migratectl(1)). */
enum cmd_exit {
	CMD_EXIT_OK = 0,
	CMD_EXIT_DAEMON = 1, /* the daemon answered with an error */
	CMD_EXIT_USAGE = 2,
	CMD_EXIT_CONNECT = 3, /* cannot connect, connection broke, bad reply */
	CMD_EXIT_FAILED = 4,  /* a job or a check did not pass: --wait,
	                          validate, verify */
};

#define CMD_DEFAULT_SOCKET "/run/migrated/io.migrated"

/* Options that may come before the command (and also after it). */
struct cmd_global {
	const char *socket;
	bool json;
};

struct cmd;

const struct cmd *cmd_find(const char *name);

/*
 * Runs cmd with argv[0] its name and argv[1..] its arguments. Returns the
 * exit status.
 */
int cmd_run(const struct cmd *cmd, struct cmd_global *global, int argc,
            char **argv);

/* Lists the commands with one line each, for migratectl --help. */
void cmd_list(FILE *f);

#endif
