/*
 * info.c - `zonealloc info`: builds a topology from the options and
 * prints what the allocator reports about it, in the layouts of the
 * kernel's /proc/zoneinfo, /proc/buddyinfo, /proc/pagetypeinfo and
 * /proc/vmstat, then runs the consistency check. A quick way to see what
 * a layout of nodes, zones and watermarks looks like before running load
 * on it, and a check that a freshly onlined topology is consistent.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const struct {
	const char *name;
	enum za_report what;
} reports[] = {
	{ "zoneinfo", ZA_REPORT_ZONEINFO },
	{ "buddyinfo", ZA_REPORT_BUDDYINFO },
	{ "pagetypeinfo", ZA_REPORT_PAGETYPEINFO },
	{ "vmstat", ZA_REPORT_VMSTAT },
	/* Version 0.1's vmstat names, for one release: not part of "all". */
	{ "vmstat-v0", ZA_REPORT_VMSTAT_V0 },
	/* debugfs extfrag files: not part of "all" either. */
	{ "extfrag_index", ZA_REPORT_EXTFRAG_INDEX },
	{ "unusable_index", ZA_REPORT_UNUSABLE_INDEX },
	/* Page owner (--page-owner): not part of "all" either. */
	{ "page_owner", ZA_REPORT_PAGE_OWNER },
	{ "page_owner_summary", ZA_REPORT_PAGE_OWNER_SUMMARY },
};
#define NR_REPORTS (sizeof(reports) / sizeof(reports[0]))
#define ALL_REPORTS ((1u << 4) - 1)   /* zoneinfo .. vmstat */
#define SYSCTL_BIT (1u << NR_REPORTS) /* --report sysctl: not in "all" */

/* The bit of the report called name (it is in the table). */
static unsigned report_bit(const char *name)
{
	size_t k;

	for (k = 0; k < NR_REPORTS; k++)
		if (!strcmp(reports[k].name, name))
			return 1u << k;
	return 0;
}

/* The tunables as `sysctl vm` prints them. */
static int print_sysctl(struct za *za, const char *cmd)
{
	char buf[ZA_SYSCTL_VALUE_MAX];
	unsigned k;

	for (k = 0; za_sysctl_name(k); k++) {
		int err = za_sysctl_get(za, za_sysctl_name(k), buf, sizeof(buf));
		if (err) {
			tool_err(cmd, "za_sysctl_get(%s) failed: %s", za_sysctl_name(k),
			         strerror(-err));
			return EXIT_FAIL;
		}
		printf("vm.%s = %s\n", za_sysctl_name(k), buf);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s info [--report NAME]... [TOPOLOGY OPTIONS]\n"
	        "\n"
	        "Builds an allocator with the given topology, brings its memory "
	        "online,\n"
	        "prints its reports and runs za_check. Exit 1 if the check "
	        "fails.\n"
	        "\n"
	        "  --report NAME         zoneinfo, buddyinfo, pagetypeinfo, "
	        "vmstat or all;\n"
	        "                        may repeat (default all, with the "
	        "layout and\n"
	        "                        a header before each report); sysctl: "
	        "the runtime\n"
	        "                        tunables as `sysctl vm` prints them; "
	        "vmstat-v0:\n"
	        "                        vmstat with version 0.1's names (for one "
	        "release);\n"
	        "                        extfrag_index, unusable_index: the "
	        "kernel's debugfs\n"
	        "                        extfrag files; extfrag: both;\n"
	        "                        page_owner, page_owner_summary: the "
	        "page owner's\n"
	        "                        records, per block and by call site "
	        "(with\n"
	        "                        --page-owner; a fresh allocator has "
	        "none: see\n"
	        "                        stress --page-owner for a loaded one)\n"
	        "  -h, --help            show this help\n"
	        "\n",
	        TOOL_NAME);
	topo_usage(f, "1G");
	fprintf(f,
	        "\n"
	        "Example: %s info --nodes 2 --mem 512M --movable 128M "
	        "--report buddyinfo\n",
	        TOOL_NAME);
}

int cmd_info(int argc, char **argv)
{
	const char *cmd = "info";
	struct topo_opts o;
	struct topo *t;
	unsigned want = 0; /* bit per report */
	int headers, i, r, rc = 0;
	size_t k;
	char *buf = NULL;
	size_t len = 0;
	FILE *ms;

	topo_opts_init(&o);
	for (i = 1; i < argc; i++) {
		const char *v;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		r = topo_parse(&o, cmd, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		r = opt_value(cmd, argc, argv, &i, "--report", &v);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0) {
			if (!strcmp(v, "sysctl")) {
				want |= SYSCTL_BIT;
				continue;
			}
			if (!strcmp(v, "all")) {
				want |= ALL_REPORTS;
				continue;
			}
			if (!strcmp(v, "extfrag")) {
				/* Both debugfs extfrag files, with headers. */
				want |= report_bit("extfrag_index") |
				        report_bit("unusable_index");
				continue;
			}
			for (k = 0; k < NR_REPORTS; k++)
				if (!strcmp(v, reports[k].name))
					break;
			if (k == NR_REPORTS)
				return tool_usage_err(cmd,
				                      "unknown report '%s' (expected "
				                      "zoneinfo, buddyinfo, pagetypeinfo, "
				                      "vmstat, vmstat-v0, extfrag, "
				                      "extfrag_index, unusable_index, "
				                      "page_owner, page_owner_summary, "
				                      "sysctl or all)",
				                      v);
			want |= 1u << k;
			continue;
		}
		if (argv[i][0] == '-')
			return tool_usage_err(cmd, "unknown option '%s'", argv[i]);
		return tool_usage_err(cmd, "unexpected argument '%s'", argv[i]);
	}
	if ((want &
	     (report_bit("page_owner") | report_bit("page_owner_summary"))) &&
	    !(o.cfg_flags & ZA_CFG_PAGE_OWNER))
		return tool_usage_err(cmd,
		                      "--report page_owner and "
		                      "page_owner_summary need --page-owner (page "
		                      "owner is off unless asked for)");
	/* One report asked for: print it bare, so it can be parsed like
	 * the /proc file it imitates. */
	headers = !want || (want & (want - 1));
	if (!want)
		want = ALL_REPORTS;

	t = calloc(1, sizeof(*t));
	if (!t) {
		tool_err(cmd, "out of memory");
		return EXIT_FAIL;
	}
	if (topo_plan(t, &o, cmd)) {
		free(t);
		return EXIT_USAGE;
	}
	if (topo_build(t, NULL, cmd)) {
		free(t);
		return EXIT_FAIL;
	}

	if (headers)
		topo_describe(t, stdout);
	for (k = 0; k < NR_REPORTS; k++) {
		int err;

		if (!(want & (1u << k)))
			continue;
		if (headers)
			printf("\n==> %s <==\n", reports[k].name);
		fflush(stdout);
		err = za_report(t->za, reports[k].what, stdout);
		if (err) {
			tool_err(cmd, "za_report(%s) failed: %s", reports[k].name,
			         strerror(-err));
			rc = EXIT_FAIL;
		}
	}
	if (want & SYSCTL_BIT) {
		if (headers)
			printf("\n==> sysctl <==\n");
		if (print_sysctl(t->za, cmd))
			rc = EXIT_FAIL;
	}
	fflush(stdout);

	ms = open_memstream(&buf, &len);
	r = za_check(t->za, ms);
	if (ms)
		fclose(ms);
	if (r) {
		tool_err(cmd, "za_check failed: %s", strerror(-r));
		if (buf && len)
			fprintf(stderr, "%s%s", buf, buf[len - 1] == '\n' ? "" : "\n");
		rc = EXIT_FAIL;
	} else if (headers) {
		printf("\nza_check: ok\n");
	}
	free(buf);
	topo_destroy(t);
	free(t);
	return rc;
}
