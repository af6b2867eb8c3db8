/*
 * record.c - `zonealloc record`: capture the running kernel's own
 * page-allocator events (the five kmem events `zonealloc replay` reads)
 * into an xz-compressed trace, with a header describing the machine (see
 * machine.h), while a command runs, for N seconds, or until Ctrl-C.
 *
 * tracefs is left as it was found: by default the events go to a private
 * tracefs instance (instances/zonealloc-record-PID, its own ring buffer
 * and event switches) that is removed at the end, so the top-level buffer
 * and whatever else uses it are never touched. Kernels without instances,
 * or --no-instance, use the top-level buffer: then every file written is
 * read first and written back at the end. If tracefs was not mounted, it
 * is mounted for the recording and unmounted again. Ctrl-C, SIGTERM and
 * SIGHUP stop the recording the same way: the file is finished, tracefs
 * restored.
 *
 * The output is written to a temporary file beside FILE and renamed onto
 * it only when complete, so FILE is never half-written.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef ZA_HAVE_LZMA
#include <lzma.h>
#endif

#include "machine.h"
#include "tool.h"

static const char *const CMD = "record";

#define DEFAULT_TRACEFS "/sys/kernel/tracing"
#define DEFAULT_BUFFER_KB 65536
#define DEFAULT_XZ_LEVEL 0
#define DEFAULT_SAMPLE_MS 100

struct ropts {
	const char *out;
	double seconds;      /* 0: until the command ends or a signal */
	const char *tracefs; /* NULL: DEFAULT_TRACEFS, mounted if needed */
	const char *proc;
	unsigned long long buffer_kb;
	unsigned level;
	unsigned sample_ms; /* between looks at the kernel's lists; 0: none */
	int quiet, keep_page, no_instance, command_only;
	char **cmd; /* NULL-terminated, or NULL */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s record [OPTIONS] -o FILE [--] [COMMAND [ARGS...]]\n"
	        "\n"
	        "Records the running kernel's page-allocator events (ftrace "
	        "kmem:mm_page_alloc,\n"
	        "mm_page_free, mm_page_free_batched, mm_page_alloc_zone_locked, "
	        "mm_page_pcpu_drain)\n"
	        "into an xz-compressed trace for '%s replay', while COMMAND runs, "
	        "for\n"
	        "--seconds, or until Ctrl-C. The trace starts with a header: the "
	        "machine's\n"
	        "/proc/zoneinfo, page size, CPU count, kernel version and vm "
	        "sysctls, so that\n"
	        "replay can build the same zones, watermarks and per-CPU list "
	        "sizes, and the\n"
	        "compact_*, thp_* and pgmigrate_* lines of /proc/vmstat at the "
	        "start and the\n"
	        "end, which replay shows beside its own. Needs root (tracefs). "
	        "tracefs is left\n"
	        "as it was found.\n"
	        "\n"
	        "  -o, --output FILE     the trace to write (xz; written to a "
	        "temporary file\n"
	        "                        and renamed when complete)\n"
	        "  --seconds N           stop after N seconds (a COMMAND still "
	        "running then is\n"
	        "                        sent SIGTERM); decimals allowed\n"
	        "  --buffer-kb N         ring buffer per CPU, KiB (default %d)\n"
	        "  --xz-level N          xz preset 0..9 (default %d; recompress "
	        "with xz -9e\n"
	        "                        later for the smallest file)\n"
	        "  --sample-ms N         look at /proc/zoneinfo every N ms "
	        "while recording and\n"
	        "                        keep the most pages each per-CPU list "
	        "held and its\n"
	        "                        highest high (default %d; 0: only at "
	        "the start and\n"
	        "                        the end)\n"
	        "  --keep-page           keep the hashed page= field (default: "
	        "dropped, the\n"
	        "                        pfn says the same)\n"
	        "  --command-only        only the events of COMMAND and the "
	        "processes it starts\n"
	        "                        (default: the whole machine's)\n"
	        "  --no-instance         use tracefs's top-level buffer (its "
	        "settings are\n"
	        "                        saved and restored) instead of a private "
	        "instance\n"
	        "  --tracefs DIR         tracefs mount (default %s, mounted "
	        "there if\n"
	        "                        it is not); with DIR nothing is "
	        "mounted\n"
	        "  --proc DIR            read zoneinfo, vmstat, sys/vm and "
	        "sys/kernel from DIR\n"
	        "                        (default /proc)\n"
	        "  --quiet               no progress lines on stderr\n"
	        "  -h, --help            show this help\n"
	        "\n"
	        "Progress on stderr once a second: events, events/s, events the "
	        "kernel dropped\n"
	        "(ring buffer overruns; make --buffer-kb larger if any).\n"
	        "Exit status: 0 recorded; 1 cannot record (no root, no tracefs, "
	        "no kmem events,\n"
	        "cannot write FILE: nothing written), or COMMAND failed (the "
	        "trace is kept);\n"
	        "2 a usage error.\n"
	        "Example: %s record -o build.trace.xz -- make -j2\n",
	        TOOL_NAME, TOOL_NAME, DEFAULT_BUFFER_KB, DEFAULT_XZ_LEVEL,
	        DEFAULT_SAMPLE_MS, DEFAULT_TRACEFS, TOOL_NAME);
}

static int parse_options(struct ropts *o, int argc, char **argv, int *done)
{
	int i, r;
	const char *v;

	memset(o, 0, sizeof(*o));
	o->proc = "/proc";
	o->buffer_kb = DEFAULT_BUFFER_KB;
	o->level = DEFAULT_XZ_LEVEL;
	o->sample_ms = DEFAULT_SAMPLE_MS;
	*done = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break; /* the command */
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			*done = 1;
			return 0;
		}
		if (!strcmp(a, "-o")) {
			if (i + 1 >= argc)
				return tool_usage_err(CMD, "option '-o' needs a value");
			o->out = argv[++i];
			continue;
		}
		if ((r = opt_value(CMD, argc, argv, &i, "--seconds", &v)) != 0) {
			char *end;
			if (r < 0)
				return EXIT_USAGE;
			errno = 0;
			o->seconds = strtod(v, &end);
			if (errno || *end || end == v || !(o->seconds > 0) ||
			    o->seconds > 86400.0 * 365)
				return tool_usage_err(CMD,
				                      "--seconds %s: expected a "
				                      "number of seconds above 0",
				                      v);
			continue;
		}
		if ((r = opt_value(CMD, argc, argv, &i, "--output", &o->out)) ||
		    (r = opt_ull(CMD, argc, argv, &i, "--buffer-kb", 64, 1u << 24,
		                 &o->buffer_kb)) ||
		    (r = opt_uint(CMD, argc, argv, &i, "--xz-level", 0, 9,
		                  &o->level)) ||
		    (r = opt_uint(CMD, argc, argv, &i, "--sample-ms", 0, 60000,
		                  &o->sample_ms)) ||
		    (r = opt_value(CMD, argc, argv, &i, "--tracefs", &o->tracefs)) ||
		    (r = opt_value(CMD, argc, argv, &i, "--proc", &o->proc)) ||
		    (r = opt_set(CMD, argv, i, "--quiet", &o->quiet, 1)) ||
		    (r = opt_set(CMD, argv, i, "--keep-page", &o->keep_page, 1)) ||
		    (r = opt_set(CMD, argv, i, "--no-instance", &o->no_instance, 1)) ||
		    (r = opt_set(CMD, argv, i, "--command-only", &o->command_only,
		                 1))) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		return tool_usage_err(CMD, "unknown option '%s'", a);
	}
	if (i < argc)
		o->cmd = argv + i;
	if (!o->out)
		return tool_usage_err(CMD, "where to? give -o FILE");
	if (o->command_only && !o->cmd)
		return tool_usage_err(CMD, "--command-only needs a COMMAND");
	if (o->command_only && o->no_instance)
		return tool_usage_err(CMD, "--command-only works in a private "
		                           "instance: drop --no-instance");
	if (!strcmp(o->out, "-"))
		return tool_usage_err(CMD, "-o -: the trace goes to a file (it is "
		                           "renamed into place when complete)");
	return 0;
}

#ifndef ZA_HAVE_LZMA

int cmd_record(int argc, char **argv)
{
	struct ropts o;
	int done, rc = parse_options(&o, argc, argv, &done);

	if (rc || done)
		return rc;
	tool_err(CMD, "this zonealloc was built without liblzma (liblzma-dev): "
	              "it cannot write .xz traces");
	return EXIT_FAIL;
}

#else

/* The events replay understands (tools/trace_parse.c), in its order. */
static const char *const rec_events[] = {
	"mm_page_alloc",        "mm_page_free",
	"mm_page_free_batched", "mm_page_alloc_zone_locked",
	"mm_page_pcpu_drain",
};
#define NR_REC_EVENTS (sizeof(rec_events) / sizeof(rec_events[0]))

/* ---------------------------------------------------------------- */
/* Signals                                                           */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void catch_signals(int on)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t k;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll() and read() return at once */
	for (k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		sigaction(sigs[k], &sa, NULL);
	signal(SIGPIPE, on ? SIG_IGN : SIG_DFL);
}

/* ---------------------------------------------------------------- */
/* Small file helpers                                                */

/* The whole of a small file into buf (NUL-terminated, trailing newline
 * kept). Returns its length, or -1 with errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -1;
	while ((size_t)got < len - 1 &&
	       (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	n = got;
	if (n >= 0)
		buf[n] = '\0';
	close(fd);
	return n;
}

/* A whole file of any size (zoneinfo); NULL with errno. */
static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, got = 0;
	char *b;
	ssize_t n;

	if (fd < 0)
		return NULL;
	b = malloc(cap);
	while (b) {
		if (got + 1 >= cap) {
			char *q = realloc(b, cap * 2);
			if (!q) {
				free(b);
				b = NULL;
				errno = ENOMEM;
				break;
			}
			b = q;
			cap *= 2;
		}
		n = read(fd, b + got, cap - 1 - got);
		if (n < 0) {
			int e = errno;
			free(b);
			b = NULL;
			errno = e;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (b) {
		b[got] = '\0';
		*len = got;
	}
	return b;
}

/* Write val to a tracefs file. 0 or -1 with errno. */
static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	size_t n = strlen(val);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, val, n);
	if (w < 0 || (size_t)w != n) {
		int e = w < 0 ? errno : EIO;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* ---------------------------------------------------------------- */
/* tracefs                                                           */

#define MAX_SAVED 16

struct saved {
	char path[PATH_MAX];
	char val[256]; /* as read_small reads it: restored whole */
};

struct tfs {
	char root[PATH_MAX]; /* the tracefs mount */
	char dir[PATH_MAX];  /* where we work: root or our instance */
	int instance;        /* dir is an instance we created */
	int mounted;         /* we mounted root */
	struct saved saved[MAX_SAVED];
	unsigned nsaved;
	int pipe_fd;
	unsigned long long lost_base;
};

/* dir/rel into buf; a path too long for PATH_MAX becomes "" (which no
 * open() finds: the caller's message names the file). --tracefs is
 * checked to be short enough that this never happens. */
static void tpath(char *buf, size_t len, const char *dir, const char *rel)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, rel) >= len)
		buf[0] = '\0';
}

/* Remember what a top-level file holds, to write it back at the end. */
static int save_file(struct tfs *t, const char *rel)
{
	struct saved *s;
	char buf[256];
	char *p;

	if (t->nsaved == MAX_SAVED)
		return -1;
	s = &t->saved[t->nsaved];
	tpath(s->path, sizeof(s->path), t->dir, rel);
	if (read_small(s->path, buf, sizeof(buf)) < 0)
		return -1;
	chomp(buf);
	/* buffer_size_kb reads "7 (expanded: 1408)" before first use: the
	 * size it will have is the second number */
	if ((p = strstr(buf, "(expanded: ")))
		memmove(buf, p + 11, strlen(p + 11) + 1);
	/* an event switch reads "0*" or "1*" when soft-disabled */
	buf[strcspn(buf, " *)")] = '\0';
	snprintf(s->val, sizeof(s->val), "%s", buf);
	t->nsaved++;
	return 0;
}

/* Set rel to val, saving the old value first in top-level mode. */
static int set_file(struct tfs *t, const char *rel, const char *val, int fatal)
{
	char path[PATH_MAX];

	if (!t->instance && save_file(t, rel) && fatal) {
		tool_err(CMD, "cannot read %s/%s: %s", t->dir, rel, strerror(errno));
		return -1;
	}
	tpath(path, sizeof(path), t->dir, rel);
	if (write_file(path, val)) {
		if (!fatal)
			return 0;
		if (errno == EACCES || errno == EPERM)
			tool_err(CMD, "cannot write %s: %s (recording needs root)", path,
			         strerror(errno));
		else
			tool_err(CMD, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Events the kernel dropped: overruns (buffer full, overwritten) and
 * dropped events (buffer full, not overwritten), every CPU. */
static unsigned long long lost_now(const struct tfs *t)
{
	unsigned long long sum = 0;
	char path[PATH_MAX], buf[1024];
	long cpu, ncpu = sysconf(_SC_NPROCESSORS_CONF);

	for (cpu = 0; cpu < ncpu && cpu < ZA_MAX_CPUS; cpu++) {
		const char *p;
		char rel[64];
		snprintf(rel, sizeof(rel), "per_cpu/cpu%ld/stats", cpu);
		tpath(path, sizeof(path), t->dir, rel);
		if (read_small(path, buf, sizeof(buf)) < 0)
			continue;
		if ((p = strstr(buf, "\noverrun:")) || !strncmp(buf, "overrun:", 8))
			sum += strtoull(strchr(p ? p + 1 : buf, ':') + 1, NULL, 10);
		if ((p = strstr(buf, "dropped events:")))
			sum += strtoull(p + 15, NULL, 10);
	}
	return sum;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Find (and if needed mount) tracefs, check that the events exist and
 * that we may switch them on. 0, or -1 with the reason printed. */
static int tracefs_find(struct tfs *t, const struct ropts *o)
{
	char p[PATH_MAX];
	size_t k;
	int e;

	const char *root = o->tracefs ? o->tracefs : DEFAULT_TRACEFS;

	if (strlen(root) > PATH_MAX / 2) {
		tool_err(CMD, "--tracefs: a path of %zu bytes is too long",
		         strlen(root));
		return -1;
	}
	memcpy(t->root, root, strlen(root) + 1);
	if (!is_dir(t->root)) {
		e = errno;
		tool_err(CMD, "%s: %s%s", t->root, strerror(e ? e : ENOTDIR),
		         e == EACCES ? ": recording needs root"
		                     : ": no tracefs there");
		return -1;
	}
	tpath(p, sizeof(p), t->root, "events/kmem");
	if (!is_dir(p) && errno == ENOENT && !o->tracefs) {
		/* not mounted: mount it for the recording */
		tpath(p, sizeof(p), t->root, "events");
		if (!is_dir(p) && mount("nodev", t->root, "tracefs", 0, NULL)) {
			e = errno;
			tool_err(CMD,
			         "tracefs is not mounted at %s and mounting it "
			         "failed: %s%s",
			         t->root, strerror(e),
			         e == EPERM || e == EACCES ? " (recording needs root)"
			                                   : "");
			return -1;
		}
		t->mounted = !is_dir(p) ? 0 : 1;
		tpath(p, sizeof(p), t->root, "events/kmem");
	}
	if (!is_dir(p)) {
		e = errno;
		if (e == EACCES || e == EPERM)
			tool_err(CMD, "%s: %s: recording needs root", p, strerror(e));
		else
			tool_err(CMD,
			         "%s: %s: no kmem events in this tracefs (a "
			         "kernel without tracepoints?)",
			         p, strerror(e));
		return -1;
	}
	for (k = 0; k < NR_REC_EVENTS; k++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "events/kmem/%s/enable", rec_events[k]);
		tpath(p, sizeof(p), t->root, rel);
		if (access(p, F_OK)) {
			tool_err(CMD, "%s: %s: the kernel has no kmem:%s event", p,
			         strerror(errno), rec_events[k]);
			return -1;
		}
		if (access(p, W_OK)) {
			tool_err(CMD, "%s: %s: recording needs root", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Put everything back: our instance removed, or the top-level files
 * rewritten in reverse order; tracefs unmounted if we mounted it. */
static void tracefs_restore(struct tfs *t)
{
	unsigned k;

	if (t->pipe_fd >= 0)
		close(t->pipe_fd);
	t->pipe_fd = -1;
	if (t->instance) {
		/* the instance is busy for a moment after its last reader */
		for (k = 0; k < 50 && rmdir(t->dir) && errno == EBUSY; k++)
			usleep(20000);
		if (is_dir(t->dir))
			tool_err(CMD,
			         "could not remove the tracefs instance %s: %s "
			         "(rmdir it by hand)",
			         t->dir, strerror(errno));
		t->instance = 0;
	}
	while (t->nsaved) {
		struct saved *s = &t->saved[--t->nsaved];
		if (write_file(s->path, s->val))
			tool_err(CMD, "could not restore %s to '%s': %s", s->path, s->val,
			         strerror(errno));
	}
	if (t->mounted && umount2(t->root, 0))
		tool_err(CMD, "could not unmount %s: %s", t->root, strerror(errno));
	t->mounted = 0;
}

/* Switch the events on in our instance (or the top level) and open the
 * pipe. 0 or -1 (message printed; call tracefs_restore either way). */
static int tracefs_start(struct tfs *t, const struct ropts *o)
{
	char p[PATH_MAX], rel[128], val[32];
	size_t k;

	tpath(p, sizeof(p), t->root, "instances");
	if (!o->no_instance && is_dir(p)) {
		snprintf(rel, sizeof(rel), "instances/zonealloc-record-%ld",
		         (long)getpid());
		tpath(t->dir, sizeof(t->dir), t->root, rel);
		if (mkdir(t->dir, 0700)) {
			tool_err(CMD, "cannot create the tracefs instance %s: %s", t->dir,
			         strerror(errno));
			return -1;
		}
		t->instance = 1;
	} else {
		snprintf(t->dir, sizeof(t->dir), "%s", t->root);
	}
	if (set_file(t, "tracing_on", "0", 1))
		return -1;
	snprintf(val, sizeof(val), "%llu", o->buffer_kb);
	if (set_file(t, "buffer_size_kb", val, 1))
		return -1;
	if (t->instance) {
		/* leave out the recorder's own allocations */
		snprintf(val, sizeof(val), "%ld", (long)getpid());
		set_file(t, "set_event_notrace_pid", val, 0);
	}
	for (k = 0; k < NR_REC_EVENTS; k++) {
		snprintf(rel, sizeof(rel), "events/kmem/%s/enable", rec_events[k]);
		if (set_file(t, rel, "1", 1))
			return -1;
	}
	if (!t->instance) {
		/* what the top-level buffer held before is not ours */
		tpath(p, sizeof(p), t->dir, "trace");
		write_file(p, "");
	}
	tpath(p, sizeof(p), t->dir, "trace_pipe");
	t->pipe_fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->pipe_fd < 0) {
		tool_err(CMD, "cannot open %s: %s", p, strerror(errno));
		return -1;
	}
	t->lost_base = lost_now(t);
	tpath(p, sizeof(p), t->dir, "tracing_on");
	if (write_file(p, "1")) {
		tool_err(CMD, "cannot write %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* The compressed output                                             */

struct xout {
	lzma_stream s;
	int init;
	int fd;
	char tmp[PATH_MAX];
	uint8_t obuf[1 << 16];
	uint64_t bytes_out;
	char *lbuf; /* text not yet compressed */
	size_t llen;
	int failed;
};

#define LBUF_SIZE (1u << 18)

static int xout_pump(struct xout *x, const void *p, size_t n, lzma_action a)
{
	x->s.next_in = p;
	x->s.avail_in = n;
	for (;;) {
		lzma_ret r;
		x->s.next_out = x->obuf;
		x->s.avail_out = sizeof(x->obuf);
		r = lzma_code(&x->s, a);
		if (r != LZMA_OK && r != LZMA_STREAM_END) {
			tool_err(CMD, "xz compression failed (liblzma error %d)", (int)r);
			x->failed = 1;
			return -1;
		}
		if (x->s.avail_out < sizeof(x->obuf)) {
			size_t w = sizeof(x->obuf) - x->s.avail_out, off = 0;
			while (off < w) {
				ssize_t k = write(x->fd, x->obuf + off, w - off);
				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0) {
					tool_err(CMD, "writing %s: %s", x->tmp, strerror(errno));
					x->failed = 1;
					return -1;
				}
				off += (size_t)k;
			}
			x->bytes_out += w;
		}
		if (r == LZMA_STREAM_END)
			return 0;
		if (a == LZMA_RUN && x->s.avail_in == 0)
			return 0;
	}
}

static int xout_flush(struct xout *x)
{
	int rc = 0;
	if (x->llen && !x->failed)
		rc = xout_pump(x, x->lbuf, x->llen, LZMA_RUN);
	x->llen = 0;
	return rc || x->failed ? -1 : 0;
}

static void xout_add(struct xout *x, const char *p, size_t n)
{
	if (x->failed)
		return;
	if (x->llen + n > LBUF_SIZE && xout_flush(x))
		return;
	if (n > LBUF_SIZE) {
		xout_pump(x, p, n, LZMA_RUN);
		return;
	}
	memcpy(x->lbuf + x->llen, p, n);
	x->llen += n;
}

static void xout_printf(struct xout *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void xout_printf(struct xout *x, const char *fmt, ...)
{
	char buf[4608];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	xout_add(x, buf, (size_t)n);
}

static int xout_open(struct xout *x, const char *out, unsigned level)
{
	lzma_stream init = LZMA_STREAM_INIT;

	x->fd = -1;
	snprintf(x->tmp, sizeof(x->tmp), "%s.tmp.XXXXXX", out);
	x->fd = mkostemp(x->tmp, O_CLOEXEC);
	if (x->fd < 0) {
		tool_err(CMD, "cannot create %s: %s", x->tmp, strerror(errno));
		x->tmp[0] = '\0';
		return -1;
	}
	fchmod(x->fd, 0644);
	x->s = init;
	if (lzma_easy_encoder(&x->s, level, LZMA_CHECK_CRC64) != LZMA_OK) {
		tool_err(CMD, "cannot start the xz encoder");
		return -1;
	}
	x->init = 1;
	x->lbuf = malloc(LBUF_SIZE);
	if (!x->lbuf) {
		tool_err(CMD, "out of memory");
		return -1;
	}
	return 0;
}

/* Finish the stream and rename it onto out. 0 or -1. */
static int xout_commit(struct xout *x, const char *out)
{
	if (xout_flush(x) || xout_pump(x, NULL, 0, LZMA_FINISH))
		return -1;
	if (fsync(x->fd) && errno != EINVAL) {
		tool_err(CMD, "writing %s: %s", x->tmp, strerror(errno));
		return -1;
	}
	if (close(x->fd)) {
		x->fd = -1;
		tool_err(CMD, "writing %s: %s", x->tmp, strerror(errno));
		return -1;
	}
	x->fd = -1;
	if (rename(x->tmp, out)) {
		tool_err(CMD, "cannot rename %s to %s: %s", x->tmp, out,
		         strerror(errno));
		return -1;
	}
	x->tmp[0] = '\0';
	return 0;
}

/* Release; a temporary file not committed is removed. */
static void xout_close(struct xout *x)
{
	if (x->init)
		lzma_end(&x->s);
	x->init = 0;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	if (x->tmp[0])
		unlink(x->tmp);
	x->tmp[0] = '\0';
	free(x->lbuf);
	x->lbuf = NULL;
}

/* ---------------------------------------------------------------- */
/* The header                                                        */

struct mach_text {
	char *zoneinfo;
	size_t zlen;
};

static void put_prefixed(struct xout *x, const char *prefix, const char *text,
                         size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		xout_add(x, prefix, strlen(prefix));
		xout_add(x, p, n);
		xout_add(x, "\n", 1);
		p = nl ? nl + 1 : end;
	}
}

static void put_sysctl(struct xout *x, const struct ropts *o, const char *name)
{
	char path[PATH_MAX], buf[256];

	snprintf(path, sizeof(path), "%s/sys/vm/%s", o->proc, name);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	chomp(buf);
	for (char *c = buf; *c; c++)
		if (*c == '\t' || *c == '\n')
			*c = ' ';
	xout_printf(x, "# vm.%s: %s\n", name, buf);
}

/* The kernel's own compaction, huge-page and migration counters
 * (/proc/vmstat's compact_*, thp_* and pgmigrate_* lines), one "# KEY:
 * name value" line each, so that a replay can put what the kernel did
 * around the capture beside its own counters. Nothing when the file
 * cannot be read (a kernel without them). */
static void put_vmstat(struct xout *x, const struct ropts *o, const char *key)
{
	static const char *const want[] = { "compact_", "thp_", "pgmigrate_" };
	char path[PATH_MAX];
	size_t len = 0;
	char *text, *p, *end;

	snprintf(path, sizeof(path), "%s/vmstat", o->proc);
	text = read_all(path, &len);
	if (!text)
		return;
	for (p = text, end = text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
			if (n > strlen(want[k]) && !strncmp(p, want[k], strlen(want[k]))) {
				xout_printf(x, "# %s: %.*s\n", key, (int)n, p);
				break;
			}
		p = nl ? nl + 1 : end;
	}
	free(text);
}

/* The kernel's per-CPU lists as zoneinfo text shows them now, folded
 * into peak (machine_zones_max); *looks counts the texts that could be
 * read. One that cannot (a zoneinfo that changed its format mid-way) is
 * skipped: the start and the end still bound the peak. -1 when out of
 * memory. */
static int fold_zoneinfo(const char *text, size_t len,
                         struct machine_zones *peak, unsigned *looks)
{
	struct machine_zones *now = calloc(1, sizeof(*now));
	char err[256];
	int rc = 0;

	if (!now)
		return -1;
	if (!machine_parse_zoneinfo(text, len, now, err, sizeof(err))) {
		rc = machine_zones_max(peak, now);
		if (!rc)
			(*looks)++;
	}
	machine_zones_free(now);
	free(now);
	return rc;
}

/* One look at the running kernel's lists (--sample-ms). */
static int look_at_lists(const struct ropts *o, struct machine_zones *peak,
                         unsigned *looks)
{
	char path[PATH_MAX];
	size_t len = 0;
	char *zi;
	int rc;

	snprintf(path, sizeof(path), "%s/zoneinfo", o->proc);
	zi = read_all(path, &len);
	if (!zi)
		return 0; /* not there this time: the next look may be */
	rc = fold_zoneinfo(zi, len, peak, looks);
	free(zi);
	return rc;
}

/* The looks' result, after the end line: a pcp-peak line for each list
 * (machine.h). */
static void put_peaks(struct xout *x, const struct ropts *o,
                      const struct machine_zones *peak, unsigned looks)
{
	unsigned k, i;

	xout_printf(x, "# pcp-peak-samples: %u every %u ms\n", looks,
	            o->sample_ms);
	for (k = 0; k < peak->nr; k++) {
		const struct machine_zone *z = &peak->z[k];
		for (i = 0; i < z->nr_pcp; i++)
			if (z->pcp[i].count >= 0 && z->pcp[i].high >= 0)
				xout_printf(x,
				            "# pcp-peak: Node %d, zone %s, cpu %ld, "
				            "count %ld, high %ld\n",
				            z->nid, z->name, z->pcp[i].cpu, z->pcp[i].count,
				            z->pcp[i].high);
	}
}

/* The machine as it is now: 0, or -1 when its zoneinfo cannot be read or
 * makes no sense, or memory runs out (message printed). Its lists are the
 * first look folded into peak (fold_zoneinfo's). */
static int read_machine(const struct ropts *o, struct mach_text *mt,
                        struct machine_zones *peak, unsigned *looks)
{
	char path[PATH_MAX], err[256];
	struct machine_zones *zs;
	int rc;

	snprintf(path, sizeof(path), "%s/zoneinfo", o->proc);
	mt->zoneinfo = read_all(path, &mt->zlen);
	if (!mt->zoneinfo) {
		tool_err(CMD, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	zs = calloc(1, sizeof(*zs));
	if (!zs) {
		tool_err(CMD, "out of memory");
		return -1;
	}
	rc = machine_parse_zoneinfo(mt->zoneinfo, mt->zlen, zs, err, sizeof(err));
	if (!rc && zs->nr == 0) {
		snprintf(err, sizeof(err), "no zone in it");
		rc = -1;
	}
	if (rc) {
		tool_err(CMD, "%s: %s", path, err);
	} else if (machine_zones_max(peak, zs)) {
		tool_err(CMD, "out of memory");
		rc = -1;
	} else {
		(*looks)++;
	}
	machine_zones_free(zs);
	free(zs);
	return rc ? -1 : 0;
}

static void put_header(struct xout *x, const struct ropts *o,
                       const struct mach_text *mt)
{
	struct utsname u;
	char path[PATH_MAX], buf[512], when[64];
	time_t now = time(NULL);
	struct tm tm;
	long n;
	size_t k;

	xout_printf(x, "# zonealloc-trace: %d\n", MACHINE_FORMAT);
	xout_printf(x, "# recorded-by: %s record %s\n", TOOL_NAME, TOOL_VERSION);
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	snprintf(path, sizeof(path), "%s/sys/kernel/osrelease", o->proc);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		chomp(buf);
		xout_printf(x, "# kernel: %s\n", buf);
	} else {
		xout_printf(x, "# kernel: %s\n", u.release);
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/version", o->proc);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		chomp(buf);
		xout_printf(x, "# kernel-build: %s\n", buf);
	} else {
		xout_printf(x, "# kernel-build: %s\n", u.version);
	}
	xout_printf(x, "# arch: %s\n", u.machine);
	xout_printf(x, "# page-size: %ld\n", sysconf(_SC_PAGESIZE));
	n = sysconf(_SC_NPROCESSORS_CONF);
	xout_printf(x, "# cpus-possible: %ld\n", n > 0 ? n : 1);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	xout_printf(x, "# cpus-online: %ld\n", n > 0 ? n : 1);
	put_sysctl(x, o, "min_free_kbytes");
	put_sysctl(x, o, "watermark_scale_factor");
	put_sysctl(x, o, "watermark_boost_factor");
	put_sysctl(x, o, "percpu_pagelist_high_fraction");
	put_sysctl(x, o, "lowmem_reserve_ratio");
	if (read_small("/sys/kernel/mm/transparent_hugepage/enabled", buf,
	               sizeof(buf)) > 0) {
		chomp(buf);
		xout_printf(x, "# transparent_hugepage: %s\n", buf);
	}
	xout_printf(x, "# events:");
	for (k = 0; k < NR_REC_EVENTS; k++)
		xout_printf(x, " kmem:%s", rec_events[k]);
	xout_printf(x, "\n");
	buf[0] = '\0';
	for (k = 0; o->cmd && o->cmd[k]; k++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof(buf) - l, "%s%s", k ? " " : "", o->cmd[k]);
	}
	if (o->cmd)
		xout_printf(x, "# command: %s\n", buf);
	if (o->cmd)
		xout_printf(x, "# scope: %s\n",
		            o->command_only
		                ? "the command and the processes it started"
		                : "the whole machine");
	if (o->seconds > 0)
		xout_printf(x, "# seconds: %g\n", o->seconds);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	xout_printf(x, "# started: %s\n", when);
	put_prefixed(x, "# zoneinfo: ", mt->zoneinfo, mt->zlen);
	put_vmstat(x, o, "vmstat");
	xout_printf(x, "# header-end\n");
}

/* ---------------------------------------------------------------- */
/* Reading the pipe                                                  */

struct pipe_state {
	char *buf;
	size_t len, cap;
	uint64_t lines;
	uint64_t bytes_text;
	int at_end; /* read() said end of file: a plain file in
	                        * place of trace_pipe, which never ends */
};

/* One line, trimmed; returns 1, or 0 for a blank line (not written).
 * Leading blanks go, and so does " page=HEX" (a hashed
 * pointer that says nothing the pfn does not, and that compresses
 * badly) unless --keep-page or it says "(null)" (a failed allocation). */
static int put_line(struct xout *x, const struct ropts *o, const char *p,
                    size_t n)
{
	const char *end = p + n, *pg;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	n = (size_t)(end - p);
	if (!n)
		return 0; /* blank: dropped, not counted */
	if (!o->keep_page && (pg = memmem(p, n, " page=", 6)) && pg + 6 < end &&
	    pg[6] != '(') {
		const char *q = pg + 6;
		while (q < end && *q != ' ')
			q++;
		xout_add(x, p, (size_t)(pg - p));
		xout_add(x, q, (size_t)(end - q));
	} else {
		xout_add(x, p, n);
	}
	xout_add(x, "\n", 1);
	return 1;
}

/* Read what the pipe has now. Returns bytes read, 0 when it has nothing
 * (or is at its end), -1 on an error (message printed). */
static ssize_t pump_pipe(struct tfs *t, struct pipe_state *ps, struct xout *x,
                         const struct ropts *o)
{
	ssize_t n;
	char *p, *nl, *end;

	if (ps->cap - ps->len < 4096) {
		/* a line longer than the buffer: pass it through whole */
		xout_add(x, ps->buf, ps->len);
		ps->len = 0;
	}
	n = read(t->pipe_fd, ps->buf + ps->len, ps->cap - ps->len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		tool_err(CMD, "reading %s/trace_pipe: %s", t->dir, strerror(errno));
		return -1;
	}
	if (n == 0) {
		ps->at_end = 1;
		return 0;
	}
	ps->len += (size_t)n;
	ps->bytes_text += (uint64_t)n;
	p = ps->buf;
	end = ps->buf + ps->len;
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		ps->lines += put_line(x, o, p, (size_t)(nl - p));
		p = nl + 1;
	}
	ps->len = (size_t)(end - p);
	memmove(ps->buf, p, ps->len);
	return n;
}

/* ---------------------------------------------------------------- */
/* The command                                                       */

/* Run cmd. With only (--command-only) the instance traces that process
 * and, through event-fork, every process it starts: the child waits until
 * the filter holds its pid before it runs the command. */
static pid_t start_command(struct tfs *t, char **cmd, int only)
{
	int fds[2], go[2], e = 0;
	pid_t pid;
	ssize_t n;
	char c = 0;

	if (pipe2(fds, O_CLOEXEC)) {
		tool_err(CMD, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(go, O_CLOEXEC)) {
		tool_err(CMD, "pipe: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		tool_err(CMD, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		close(go[0]);
		close(go[1]);
		return -1;
	}
	if (pid == 0) {
		catch_signals(0);
		close(fds[0]);
		close(go[1]);
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		if (c != 'g')
			_exit(127); /* the recorder gave up */
		execvp(cmd[0], cmd);
		e = errno;
		if (write(fds[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	close(go[0]);
	if (only) {
		char val[32];
		snprintf(val, sizeof(val), "%ld", (long)pid);
		if (set_file(t, "options/event-fork", "1", 1) ||
		    set_file(t, "set_event_pid", val, 1)) {
			close(go[1]);
			close(fds[0]);
			waitpid(pid, NULL, 0);
			return -1;
		}
	}
	c = 'g';
	if (write(go[1], &c, 1) != 1) {
		tool_err(CMD, "cannot start the command: %s", strerror(errno));
		close(go[1]);
		close(fds[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(go[1]);
	/* the write end closes on exec: nothing to read means it ran */
	do
		n = read(fds[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		tool_err(CMD, "cannot run '%s': %s", cmd[0], strerror(e));
		return -1;
	}
	return pid;
}

static const char *signame(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "signal";
	}
}

static void progress(const struct ropts *o, double t0, uint64_t lines,
                     uint64_t *last_lines, double *last_t, uint64_t lost,
                     uint64_t bytes, int final)
{
	double now = now_seconds();
	char b[32];

	if (o->quiet || (!final && now - *last_t < 1.0))
		return;
	fprintf(stderr,
	        "%s%s %s: [%.0f s] %llu events, %.0f/s, %llu dropped "
	        "by the kernel, %s written%s",
	        isatty(2) ? "\r" : "", TOOL_NAME, CMD, now - t0,
	        (unsigned long long)lines,
	        now > *last_t ? (double)(lines - *last_lines) / (now - *last_t)
	                      : 0.0,
	        (unsigned long long)lost, fmt_size(bytes, b, sizeof(b)),
	        isatty(2) ? "\033[K" : "\n");
	if (final && isatty(2))
		fputc('\n', stderr);
	*last_lines = lines;
	*last_t = now;
}

int cmd_record(int argc, char **argv)
{
	struct ropts o;
	struct tfs t;
	struct xout x;
	struct mach_text mt = { 0 };
	struct pipe_state ps = { 0 };
	pid_t child = -1;
	int status = 0, done, rc, child_done = 0, child_failed = 0;
	double t0, last_t, deadline = 0, kill_at = 0;
	uint64_t last_lines = 0;
	unsigned long long lost = 0;
	const char *stop = "end";
	char stopbuf[64];
	struct machine_zones *peak = NULL;
	unsigned looks = 0;
	double next_look = 0;

	rc = parse_options(&o, argc, argv, &done);
	if (rc || done)
		return rc;
	memset(&t, 0, sizeof(t));
	memset(&x, 0, sizeof(x));
	t.pipe_fd = -1;
	x.fd = -1;
	rc = EXIT_FAIL;

	if (tracefs_find(&t, &o))
		goto out;
	peak = calloc(1, sizeof(*peak));
	if (!peak) {
		tool_err(CMD, "out of memory");
		goto out;
	}
	if (read_machine(&o, &mt, peak, &looks))
		goto out;
	if (xout_open(&x, o.out, o.level))
		goto out;
	ps.cap = 1u << 20;
	ps.buf = malloc(ps.cap);
	if (!ps.buf) {
		tool_err(CMD, "out of memory");
		goto out;
	}
	put_header(&x, &o, &mt);

	stop_signal = 0;
	catch_signals(1);
	if (tracefs_start(&t, &o))
		goto out;
	t0 = last_t = now_seconds();
	next_look = t0 + o.sample_ms / 1000.0;
	if (o.seconds > 0)
		deadline = t0 + o.seconds;
	if (o.cmd) {
		child = start_command(&t, o.cmd, o.command_only);
		if (child < 0)
			goto out;
	}
	if (!o.quiet)
		fprintf(stderr, "%s %s: recording to %s (tracefs %s)%s\n", TOOL_NAME,
		        CMD, o.out, t.dir,
		        o.cmd || o.seconds > 0 ? "" : "; Ctrl-C stops");

	for (;;) {
		struct pollfd pfd = { .fd = t.pipe_fd, .events = POLLIN };
		ssize_t got;
		double now;

		got = pump_pipe(&t, &ps, &x, &o);
		if (got < 0 || x.failed)
			goto out;
		if (child > 0 && !child_done) {
			pid_t w = waitpid(child, &status, WNOHANG);
			if (w == child) {
				child_done = 1;
				if (!kill_at)
					stop = "command";
			}
		}
		now = now_seconds();
		if (stop_signal && !kill_at) {
			snprintf(stopbuf, sizeof(stopbuf), "%s", signame(stop_signal));
			stop = stopbuf;
			if (child > 0 && !child_done) {
				/* passed on (from a terminal, Ctrl-C reached the
				 * command too; a second SIGINT does no harm) */
				kill(child, stop_signal);
				kill_at = now + 10;
			} else {
				break;
			}
		}
		if (deadline && now >= deadline && !kill_at) {
			stop = "seconds";
			if (child > 0 && !child_done) {
				kill(child, SIGTERM);
				kill_at = now + 10;
			} else {
				break;
			}
		}
		if (child > 0 && child_done)
			break;
		if (kill_at && now >= kill_at) {
			kill(child, SIGKILL);
			kill_at = now + 3600;
		}
		lost = lost_now(&t) - t.lost_base;
		progress(&o, t0, ps.lines, &last_lines, &last_t, lost, x.bytes_out, 0);
		if (o.sample_ms && now >= next_look) {
			if (look_at_lists(&o, peak, &looks)) {
				tool_err(CMD, "out of memory");
				goto out;
			}
			next_look = now + o.sample_ms / 1000.0;
		}
		if (got == 0 && ps.at_end)
			usleep(100000); /* poll() would not wait on a plain file */
		else if (got == 0)
			poll(&pfd, 1, 100);
	}
	/* Stop the events, then take what is left in the buffer. */
	{
		char p[PATH_MAX];
		unsigned idle = 0;
		tpath(p, sizeof(p), t.dir, "tracing_on");
		write_file(p, "0");
		while (idle < 3) {
			ssize_t got = pump_pipe(&t, &ps, &x, &o);
			if (got < 0 || x.failed)
				goto out;
			idle = got ? 0 : idle + 1;
		}
		if (ps.len) { /* a last line without newline */
			ps.lines += put_line(&x, &o, ps.buf, ps.len);
			ps.len = 0;
		}
	}
	lost = lost_now(&t) - t.lost_base;
	{
		double secs = now_seconds() - t0;
		size_t zlen = 0;
		char path[PATH_MAX], *endzi;

		xout_printf(&x,
		            "# zonealloc-trace-end: lines=%llu lost=%llu "
		            "seconds=%.3f stop=%s\n",
		            (unsigned long long)ps.lines, lost, secs, stop);
		snprintf(path, sizeof(path), "%s/zoneinfo", o.proc);
		endzi = read_all(path, &zlen);
		if (endzi) {
			put_prefixed(&x, "# end-zoneinfo: ", endzi, zlen);
			if (fold_zoneinfo(endzi, zlen, peak, &looks)) {
				free(endzi);
				tool_err(CMD, "out of memory");
				goto out;
			}
		}
		free(endzi);
		put_vmstat(&x, &o, "end-vmstat");
		put_peaks(&x, &o, peak, looks);
	}
	tracefs_restore(&t);
	if (xout_commit(&x, o.out))
		goto out;
	progress(&o, t0, ps.lines, &last_lines, &last_t, lost, x.bytes_out, 1);
	if (!o.quiet || lost)
		fprintf(stderr, "%s %s: wrote %s: %llu events in %.1f s%s\n",
		        TOOL_NAME, CMD, o.out, (unsigned long long)ps.lines,
		        now_seconds() - t0,
		        lost ? "; the kernel dropped events: use a larger "
		               "--buffer-kb"
		             : "");
	if (lost)
		fprintf(stderr, "%s %s: %llu events dropped by the kernel\n",
		        TOOL_NAME, CMD, lost);
	rc = 0;
	if (child > 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			child_failed = WEXITSTATUS(status);
		else if (WIFSIGNALED(status) && !kill_at)
			child_failed = 128 + WTERMSIG(status);
		if (child_failed) {
			tool_err(CMD, "the command %s %d; the trace is kept in %s",
			         WIFEXITED(status) ? "exited with status"
			                           : "was killed by signal",
			         WIFEXITED(status) ? WEXITSTATUS(status)
			                           : WTERMSIG(status),
			         o.out);
			rc = EXIT_FAIL;
		}
	}
out:
	if (child > 0 && !child_done) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	tracefs_restore(&t);
	xout_close(&x);
	catch_signals(0);
	free(ps.buf);
	free(mt.zoneinfo);
	if (peak)
		machine_zones_free(peak);
	free(peak);
	return rc;
}

#endif /* ZA_HAVE_LZMA */
