/*
 * options.c - the option-parsing and message helpers every subcommand of
 * the `zonealloc` command uses (tool.h), so all of them report mistakes
 * the same way: "zonealloc CMD: message" on stderr, a usage error followed
 * by a hint to run --help and exit status 2. Also the tool's clock and
 * CPU count.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

static void vmsg(const char *cmd, const char *fmt, va_list ap)
{
	if (cmd && *cmd)
		fprintf(stderr, "%s %s: ", TOOL_NAME, cmd);
	else
		fprintf(stderr, "%s: ", TOOL_NAME);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
}

int tool_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
	if (cmd && *cmd)
		fprintf(stderr, "Try '%s %s --help' for more information.\n",
		        TOOL_NAME, cmd);
	else
		fprintf(stderr, "Try '%s --help' for more information.\n", TOOL_NAME);
	return EXIT_USAGE;
}

int opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
              const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		if (!**val) {
			tool_usage_err(cmd, "option '%s' needs a value", name);
			return -1;
		}
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		tool_usage_err(cmd, "option '%s' needs a value", name);
		return -1;
	}
	*i += 1;
	*val = argv[*i];
	return 1;
}

int opt_is(const char *a, const char *name)
{
	size_t n = strlen(name);
	return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

int opt_flag(const char *cmd, char **argv, int i, const char *name)
{
	const char *a = argv[i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '\0')
		return 1;
	if (a[n] == '=') {
		tool_usage_err(cmd, "option '%s' takes no value", name);
		return -1;
	}
	return 0;
}

int opt_uint(const char *cmd, int argc, char **argv, int *i, const char *name,
             unsigned min, unsigned max, unsigned *out)
{
	const char *v;
	int r = opt_value(cmd, argc, argv, i, name, &v);

	if (r <= 0)
		return r;
	return parse_uint(cmd, name, v, min, max, out) ? -1 : 1;
}

int opt_ull(const char *cmd, int argc, char **argv, int *i, const char *name,
            unsigned long long min, unsigned long long max,
            unsigned long long *out)
{
	const char *v;
	int r = opt_value(cmd, argc, argv, i, name, &v);

	if (r <= 0)
		return r;
	return parse_ull(cmd, name, v, min, max, out) ? -1 : 1;
}

int opt_set(const char *cmd, char **argv, int i, const char *name, int *field,
            int value)
{
	int r = opt_flag(cmd, argv, i, name);

	if (r > 0)
		*field = value;
	return r;
}

int opt_choice(const char *cmd, int argc, char **argv, int *i,
               const char *name, const struct opt_word *words, int *out,
               const char *bad)
{
	const char *v;
	int r = opt_value(cmd, argc, argv, i, name, &v);

	if (r <= 0)
		return r;
	for (; words->word; words++) {
		if (!strcmp(v, words->word)) {
			*out = words->value;
			return 1;
		}
	}
	tool_usage_err(cmd, bad, v);
	return -1;
}

int parse_ull(const char *cmd, const char *opt, const char *s,
              unsigned long long min, unsigned long long max,
              unsigned long long *out)
{
	char *end;
	unsigned long long v;

	/* strtoull accepts "-1" and wraps it; a count is never negative. */
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		goto bad;
	errno = 0;
	/* Decimal, or hex after 0x (docs/TOOL.md). Not base 0: it reads a
	 * leading zero as octal, so '--cpus 010' gave 8 CPUs and '--cpus 08'
	 * was refused as no number. */
	v = strtoull(s, &end,
	             s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	if (errno || *end)
		goto bad;
	if (v < min || v > max) {
		tool_usage_err(cmd, "%s %s is out of range (%llu..%llu)", opt, s, min,
		               max);
		return -1;
	}
	*out = v;
	return 0;
bad:
	tool_usage_err(cmd, "invalid value '%s' for %s: expected a number", s,
	               opt);
	return -1;
}

int parse_uint(const char *cmd, const char *opt, const char *s, unsigned min,
               unsigned max, unsigned *out)
{
	unsigned long long v;

	if (parse_ull(cmd, opt, s, min, max, &v))
		return -1;
	*out = (unsigned)v;
	return 0;
}

int parse_size(const char *cmd, const char *opt, const char *s,
               unsigned long long *out)
{
	char *end;
	unsigned long long v, mult = 1;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		goto bad;
	switch (*end) {
	case 'k':
	case 'K':
		mult = KiB;
		end++;
		break;
	case 'm':
	case 'M':
		mult = MiB;
		end++;
		break;
	case 'g':
	case 'G':
		mult = GiB;
		end++;
		break;
	case 't':
	case 'T':
		mult = TiB;
		end++;
		break;
	default:
		break;
	}
	/* Accept "16M", "16MB", "16MiB" and a bare byte count "16777216B". */
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		goto bad;
	if (v > ULLONG_MAX / mult) {
		tool_usage_err(cmd, "%s %s is too large", opt, s);
		return -1;
	}
	*out = v * mult;
	return 0;
bad:
	tool_usage_err(cmd,
	               "invalid size '%s' for %s: expected a number with an "
	               "optional K, M, G or T suffix",
	               s, opt);
	return -1;
}

const char *fmt_size(unsigned long long bytes, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	unsigned long long v = bytes;

	while (u < 4 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (v >= 10240 && u < 4) {
		/* Not a round number: one decimal in the next unit up. */
		double d = (double)v;
		while (u < 4 && d >= 1024) {
			d /= 1024;
			u++;
		}
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	} else {
		snprintf(buf, len, "%llu %s", v, unit[u]);
	}
	return buf;
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

unsigned tool_nproc(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}
