/* migratectl: the operator client of migrated. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "verbs.h"

static void
usage(FILE *f)
{
	fputs("Usage: migratectl [-s PATH] [-j] COMMAND [ARGS]\n"
	      "\n"
	      "Controls migrated, the tenant data migration daemon.\n"
	      "\n"
	      "Commands:\n",
	      f);
	verbs_list(f);
	fputs("\n"
	      "Options:\n"
	      "  -s, --socket PATH  the daemon's socket (default $MIGRATED_SOCKET,\n"
	      "                     else " CTL_DEFAULT_SOCKET ")\n"
	      "  -j, --json         print JSON for scripts instead of text\n"
	      "  -h, --help         show this help; COMMAND --help shows its own\n"
	      "  -V, --version      show the version\n",
	      f);
}

/* --socket wins over MIGRATED_SOCKET, which wins over the default. */
static const char *
default_socket(void)
{
	const char *env = getenv("MIGRATED_SOCKET");

	return env != NULL && env[0] != '\0' ? env : CTL_DEFAULT_SOCKET;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	struct ctl_global global = {.socket = default_socket()};
	const struct verb *verb;
	int c;

	setlocale(LC_CTYPE, "");
	opterr = 0;
	/* "+": stop at the command; its own options follow it. */
	while ((c = getopt_long(argc, argv, "+:s:jhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (optarg[0] == '\0')
				return args_usage_error(
				        NULL, "--socket: empty value");
			global.socket = optarg;
			break;
		case 'j':
			global.json = true;
			break;
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 ? CTL_EXIT_OK
			                           : CTL_EXIT_DAEMON;
		case 'V':
			printf("migratectl %s\n", MIGRATED_VERSION);
			return fflush(stdout) == 0 ? CTL_EXIT_OK
			                           : CTL_EXIT_DAEMON;
		default:
			return args_option_error(NULL, c, argv);
		}
	}
	if (optind >= argc)
		return args_usage_error(NULL, "no command given");
	verb = verbs_find(argv[optind]);
	if (verb == NULL)
		return args_usage_error(NULL, "unknown command '%s'",
		                        argv[optind]);
	return verbs_run(verb, &global, argc - optind, argv + optind);
}
