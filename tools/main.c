/*
 * main.c - the `zonealloc` command: finds the subcommand and runs it.
 *
 * With no arguments it runs the default stress scenario, because that is
 * what a newcomer's first command should show: the allocator working
 * under load, with its invariants checked at the end.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "stress", cmd_stress,
	  "run threads against the allocator and check it (the default)" },
	{ "info", cmd_info,
	  "build a topology and print zoneinfo, buddyinfo, pagetypeinfo, "
	  "vmstat" },
	{ "replay", cmd_replay,
	  "replay a kernel page-allocator trace (ftrace kmem events)" },
	{ "record", cmd_record,
	  "record this kernel's page-allocator events into a trace (root)" },
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t k;

	fprintf(f,
	        "Usage: %s [COMMAND [OPTIONS...]]\n"
	        "\n"
	        "zonealloc is a zoned buddy page allocator with per-CPU lists,\n"
	        "watermarks, reclaim and CPU/memory hotplug. This command drives\n"
	        "and inspects it.\n"
	        "\n"
	        "Commands:\n",
	        TOOL_NAME);
	for (k = 0; k < NR_COMMANDS; k++)
		fprintf(f, "  %-8s %s\n", commands[k].name, commands[k].summary);
	fprintf(f,
	        "  help CMD  show the options of CMD\n"
	        "\n"
	        "Options:\n"
	        "  -h, --help     show this help\n"
	        "  -V, --version  show the version\n"
	        "\n"
	        "Without a command, runs '%s stress' (the mixed scenario for 5 "
	        "seconds).\n"
	        "Exit status: 0 all checks held, 1 a check failed, 2 a usage "
	        "error.\n",
	        TOOL_NAME);
}

static const struct command *find(const char *name)
{
	size_t k;

	for (k = 0; k < NR_COMMANDS; k++)
		if (!strcmp(commands[k].name, name))
			return &commands[k];
	return NULL;
}

static int version(void)
{
	printf("%s %s (library %d.%d.%d)\n", TOOL_NAME, TOOL_VERSION,
	       ZA_VERSION_MAJOR, ZA_VERSION_MINOR, ZA_VERSION_PATCH);
	return 0;
}

/* What a command printed is its result: if standard output could not
 * take it (a full disk, a closed pipe), say so and fail, whatever the
 * command thought of its run. */
static int finish(int rc)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		tool_err(NULL, "writing standard output failed: %s",
		         errno ? strerror(errno) : "I/O error");
		if (rc == 0 || rc == EXIT_INTERRUPTED)
			rc = EXIT_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		char name[] = "stress";
		char *args[] = { name, NULL };
		return finish(cmd_stress(1, args));
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return finish(0);
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") ||
	    !strcmp(argv[1], "version"))
		return finish(version());
	if (!strcmp(argv[1], "help")) {
		char opt[] = "--help";
		char *args[3];

		if (argc < 3) {
			/* The same check of standard output as every other
			 * command's (review 20, finding 5: it exited 0). */
			usage(stdout);
			return finish(0);
		}
		if (argc > 3)
			return tool_usage_err(NULL, "'help' takes one command name");
		c = find(argv[2]);
		if (!c)
			return tool_usage_err(NULL, "unknown command '%s'", argv[2]);
		args[0] = argv[2];
		args[1] = opt;
		args[2] = NULL;
		return finish(c->run(2, args));
	}
	if (argv[1][0] == '-')
		return tool_usage_err(NULL,
		                      "unknown option '%s' (options go after the "
		                      "command, e.g. '%s stress %s')",
		                      argv[1], TOOL_NAME, argv[1]);
	c = find(argv[1]);
	if (!c)
		return tool_usage_err(NULL, "unknown command '%s'", argv[1]);
	return finish(c->run(argc - 1, argv + 1));
}
