/*
 * replay.c - `zonealloc replay`: runs a real kernel page-allocator trace
 * (ftrace kmem events, see trace.h) against zonealloc and compares how
 * often each moved pages between its per-CPU lists and its buddy lists.
 *
 * The trace is read whole first (its highest pfn sizes the memory, its
 * highest CPU number the CPU count), frees are paired with allocations
 * (trace_match), and then every allocation in the trace makes zonealloc
 * allocate the same order on the same CPU, and every free frees what that
 * allocation got. zonealloc picks its own frames: the trace's pfns only
 * say which free belongs to which allocation.
 *
 * Two modes. det: one thread that switches its simulated CPU before each
 * event, so a run is exactly repeatable (the background threads are off).
 * threads: one thread per CPU, each replaying its own CPU's events as the
 * kernel's CPUs did, concurrently; a free waits until the allocation it
 * frees has run (often on another thread), so frees never run ahead.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "machine.h"
#include "tool.h"
#include "trace.h"

static const char *const CMD = "replay";

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define MEM_CAP (64 * GiB) /* largest memory sized from a trace's pfns */
#define FRAG_ORDER 9       /* "large" free blocks: order 9 and up (2 MiB) */
#define MISUSE_KEEP 3      /* misuse messages kept for the report */
#define PCP_SIZE_MAX (1u << 20) /* --pcp-high, --pcp-batch: pages */
#define SWEEP_MAX_JOBS 1024
#define SWEEP_MAX_COMBOS 256 /* combinations in one --sweep */

enum mode { MODE_DET, MODE_THREADS };
enum topology { TOPO_AUTO, TOPO_RECORDED, TOPO_OURS };

struct options {
	const char *path;
	int mode; /* enum mode */
	int json, timing, quiet;
	unsigned long long limit;
	struct topo_opts topo;
	int mem_given, cpus_given, max_order_given, block_given;
	int topology;                 /* enum topology */
	int stream;                   /* --stream: replay while reading (det) */
	const char *shape_opt;        /* a topology option that sets the machine's
	                         * shape (--mem, --zones...): first one given */
	unsigned pcp_high, pcp_batch; /* --pcp-high, --pcp-batch: fixed per-CPU
	                               * list sizes (0: the library's) */
	const char *sweep;            /* --sweep SPEC; repeated: joined with ';' */
	char *sweep_buf;              /* what sweep points at, when joined */
	unsigned jobs;                /* --jobs, 0: one per online CPU */
	const char *rank;             /* --rank KEY */
	const char *output;           /* -o, --output FILE (with --sweep) */
	const char *plot;             /* --plot FILE.png (with --sweep) */
	int compaction;               /* --compaction: a migrate callback (det) */
	unsigned prefragment;         /* --prefragment PCT: memory fragmented by
	                         * held order-0 blocks before the replay */
	unsigned prefragment_unmovable; /* --prefragment-unmovable PCT */
	int prefragment_unmovable_given;
	int empty_lists;    /* --empty-lists: per-CPU lists start empty, at
	                     * their smallest, not as the recorded kernel's */
	int skip_unmatched; /* --skip-unmatched: no stand-in blocks for the
	                     * frees of pages allocated before the trace */
	int no_decay;       /* --no-decay: det mode runs no decay at the
	                     * trace's seconds */
};

/* A zone of the recorded machine as built here. */
struct built_zone {
	const struct machine_zone *mz;
	unsigned long start_pfn, pages;   /* onlined: whole memory blocks */
	unsigned long held;               /* of which held back: pages the
	                                  * kernel did not manage */
	struct za_zone_info zi;           /* once the held pages are out */
	const struct machine_zone *built; /* zonealloc's own zoneinfo report
	                                   * right after building, read back
	                                   * with the parser of the recorded
	                                   * one: watermarks, list sizes */
};

/* Pages allocated before the replay to hold back what a zone onlined
 * beyond the kernel's managed count; freed before the final check. */
struct held_block {
	struct za_page *page;
	unsigned order;
};

/* One allocation of the trace, as zonealloc answered it. */
struct rec {
	struct za_page *page; /* NULL: not allocated (yet) or it failed */
	int ready;            /* threads mode: the alloc op ran (__atomic) */
	uint8_t order;
	uint8_t standin; /* a stand-in for an unmatched free (place_standins) */
};

/* What one replaying thread did; summed at the end. */
struct tally {
	uint64_t ops; /* progress, read by the main thread */
	uint64_t allocs, frees;
	uint64_t failed[TRACE_MAX_ORDER + 1];
	uint64_t rejected; /* NULL with EINVAL: zonealloc refused the gfp */
	uint64_t too_big;  /* order above zonealloc's max_order */
	uint64_t frees_of_failed;
	uint64_t waits;         /* frees that waited for another thread */
	uint64_t standin_frees; /* frees of stand-in blocks */
	char pad[64];           /* keep threads' tallies off one cache line */
};

struct worker {
	struct run *run;
	unsigned cpu;
	uint32_t *idx; /* its ops, in trace order */
	size_t nr;
	int started;
	struct tally t;
	pthread_t th;
};

struct zone_end {
	int nid;
	enum za_zone_type zone;
	struct za_zone_info zi;
};

/* A vm sysctl of the recorded machine (from its header) and what became
 * of it when the replay's allocator was set up. */
enum rt_state {
	RT_ABSENT,   /* not in the header */
	RT_APPLIED,  /* set: the replay runs with the machine's value */
	RT_OPTION,   /* --sysctl or a --sweep combination sets it instead */
	RT_REFUSED,  /* za_sysctl_set refused it (err): zonealloc's stays */
	RT_UNMAPPED, /* lowmem_reserve_ratio: its values cannot be matched to
	              * the zoneinfo's zones */
};
enum { RT_MIN_FREE, RT_WSF, RT_BOOST, RT_HIGH_FRACTION, RT_LOWMEM, RT_NR };
struct rec_tunable {
	const char *name;
	const char *range; /* the library's, for the note of a refusal */
	enum rt_state state;
	int err;
	char recorded[96]; /* as the header has it */
	char now[96];      /* what the replay runs with (read back) */
};

struct run {
	struct options o;
	struct trace tr;
	struct trace_ops ops;
	struct trace_lock_batches kb;
	struct machine *mach; /* the trace's header, or NULL */
	int recorded;         /* the topology is the recorded machine's */
	/* the recorded vm sysctls and what setup made of them */
	struct rec_tunable rtun[RT_NR];
	struct built_zone bz[MACHINE_MAX_ZONES];
	unsigned nr_bz;
	struct machine_zones *built;
	size_t stream_peak_live, stream_peak_bytes; /* --stream */
	struct held_block *held;
	size_t nr_held;
	struct topo *topo;
	struct za *za;
	struct rec *recs;
	/* --compaction: our pfn -> the rec holding it, + 1 (0: none), so
	 * that the migrate callback can move a block the trace holds. */
	uint32_t *rev;
	unsigned long rev_pfns;
	unsigned long long moved, moved_pre;
	/* --prefragment: the order-0 blocks held through the replay (a
	 * movable one may move: rev[] has its index + 1 | REV_PRE). */
	struct za_page **pre;
	uint8_t *pre_unmovable;
	size_t nr_pre;
	unsigned long long pre_filled, pre_held, pre_unmovable_held;
	/* the per-CPU lists started as the recorded kernel's (warm_lists):
	 * pages put on them, lists given the kernel's high, pages of the
	 * recorded counts that did not fit (over high, or the zone full) */
	unsigned long long warm_pages, warm_lists, warm_short;
	/* stand-ins for the unmatched frees (allocated before the first
	 * event): allocated, in another zone than the pfn's, failed */
	unsigned long long standin_ok, standin_pages, standin_other_zone,
	    standin_failed;
	/* det mode: decay passes run at the trace's seconds */
	unsigned long long decay_passes;
	uint64_t decay_next_ns;
	int decay_armed;
	unsigned ncpu, max_order;
	int abort;      /* threads mode: stop (__atomic) */
	int mem_capped; /* the trace's pfns asked for more: MEM_CAP */
	struct tally total;
	/* misuse reported by the library (should never happen) */
	pthread_mutex_t misuse_lock;
	uint64_t misuse;
	char *misuse_msg[MISUSE_KEEP];
	/* timing */
	double t_start, t_read, t_match, t_replay, t_progress;
	int progress_shown;
	/* end state; ev[] counts the replay only (onlining takes zone locks
	 * too: ev_base is what the counters said before the first event) */
	unsigned long long ev_base[ZA_NR_EVENTS];
	unsigned long long ev[ZA_NR_EVENTS];
	struct zone_end zones[ZA_MAX_NODES * ZA_NR_ZONES];
	unsigned nr_zones;
	unsigned long long free_pages, free_large, pcp_pages;
	/* det mode: the most pages one CPU's list of a zone held between two
	 * operations, per populated zone (the same order as zones[] at the
	 * end) and CPU: peak[z * ncpu + cpu]; peak_high the high it had then */
	struct zone_end peak_zone[ZA_MAX_NODES * ZA_NR_ZONES];
	unsigned nr_peak_zones;
	unsigned *peak, *peak_high;
	unsigned *start_count, *start_high; /* each list when the replay began */
	char *buddyinfo;
	int check_live, check_after;
	char *check_live_msg, *check_after_msg;
	unsigned long long after_free, after_managed;
	int whole_again;
};

static void pcp_fixed_sizes(unsigned high, unsigned batch, unsigned *h,
                            unsigned *b);
static void decay_until(struct run *r, uint64_t ts);

/* ---------------------------------------------------------------- */
/* Options                                                           */

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s replay [OPTIONS] FILE|-\n"
	        "\n"
	        "Replays a Linux kernel page-allocator trace against zonealloc: "
	        "ftrace text of\n"
	        "kmem:mm_page_alloc, mm_page_free and mm_page_free_batched "
	        "(replayed) and\n"
	        "mm_page_alloc_zone_locked, mm_page_pcpu_drain (counted, to "
	        "compare), as\n"
	        "trace_pipe, 'trace-cmd report' or 'perf script' print it; plain, "
	        ".gz or .xz\n"
	        "(detected by content), '-' for standard input.\n"
	        "\n"
	        "  --mode det|threads    det (default): one thread, exactly "
	        "repeatable;\n"
	        "                        threads: one thread per traced CPU, "
	        "concurrently\n"
	        "  --json                the whole report as one JSON object\n"
	        "  --no-timing           leave out wall times and rates (for "
	        "comparing runs)\n"
	        "  --limit N             read only the first N events of the "
	        "trace\n"
	        "  --quiet               no progress lines on stderr\n"
	        "  --stream              det mode: replay while reading, memory "
	        "bounded by the\n"
	        "                        blocks still allocated (needs a "
	        "recording, or --mem)\n"
	        "  --compaction          det mode: a migrate callback moves the "
	        "trace's blocks,\n"
	        "                        so that compaction runs (default: "
	        "off, nothing can move)\n"
	        "  --prefragment PCT     before the replay, fill PCT%% (1..95) of "
	        "memory with\n"
	        "                        order-0 blocks and free every movable "
	        "one at an odd\n"
	        "                        frame: memory fragmented as a busy "
	        "machine's is; the\n"
	        "                        rest are held to the end (--compaction "
	        "moves them)\n"
	        "  --prefragment-unmovable PCT\n"
	        "                        the share of that fill allocated "
	        "unmovable (default 0;\n"
	        "                        never freed early, never moved)\n"
	        "  --empty-lists         per-CPU lists start empty and at their "
	        "smallest high,\n"
	        "                        not as the recorded kernel's were "
	        "(its count and high)\n"
	        "  --skip-unmatched      skip the frees of pages allocated "
	        "before the trace\n"
	        "                        began (default: stand-in blocks, "
	        "allocated first, are\n"
	        "                        freed there; --stream always skips "
	        "them)\n"
	        "  --no-decay            det mode: no per-CPU list decay at "
	        "each second of the\n"
	        "                        trace's time (the statistics "
	        "worker's, default on)\n"
	        "  --pcp-high N, --pcp-batch N\n"
	        "                        fixed per-CPU list sizes in pages "
	        "(one alone: high is\n"
	        "                        six batches); default: the library's "
	        "own sizing\n"
	        "  --sweep SPEC          replay under every combination of "
	        "settings and print a\n"
	        "                        ranked table, e.g. "
	        "'pcp_high=64,256;batch=8..32/8';\n"
	        "                        tunables: pcp_high, pcp_batch (batch), "
	        "min_free_kbytes,\n"
	        "                        watermark_scale_factor, "
	        "percpu_pagelist_high_fraction;\n"
	        "                        values V, LO..HI or LO..HI/STEP, "
	        "comma-separated; at\n"
	        "                        most %d combinations (docs/REPLAY.md); "
	        "repeatable\n"
	        "  --jobs N              with --sweep: replays at once (default: "
	        "online CPUs)\n"
	        "  --rank KEY            with --sweep: lock (default), moves, pcp, "
	        "highorder,\n"
	        "                        failed\n"
	        "  -o, --output FILE     with --sweep: the table (or --json) to "
	        "FILE, not stdout\n"
	        "  --plot FILE.png       with --sweep: a bar chart (needs "
	        "gnuplot)\n"
	        "  --topology recorded|ours\n"
	        "                        recorded (default when the trace has "
	        "the header of\n"
	        "                        '%s record'): the recorded machine's "
	        "zones,\n"
	        "                        watermarks and per-CPU list sizes; "
	        "ours: zonealloc's\n"
	        "                        own, as below\n"
	        "  -h, --help            show this help\n"
	        "\n"
	        "Without a recorded machine the topology defaults to the traced "
	        "machine as its\n"
	        "trace shows it, not to the defaults listed below: memory up to "
	        "the highest\n"
	        "pfn seen (whole 16 MiB blocks; "
	        "DMA below\n"
	        "16 MiB, DMA32 below 4 GiB, Normal above), one CPU per traced CPU "
	        "number,\n"
	        "the trace's largest order. Memory is always frames only; det "
	        "mode also\n"
	        "turns the background threads off. --mem and --cpus override the "
	        "trace\n"
	        "(with fewer CPUs than traced, CPU c replays on CPU c mod N).\n"
	        "With the recorded machine only --no-pcp, --no-kswapd and "
	        "--max-order apply.\n"
	        "\n",
	        TOOL_NAME, SWEEP_MAX_COMBOS, TOOL_NAME);
	topo_usage(f, "from the trace");
	fprintf(f,
	        "\n"
	        "Exit status: 0 replayed and za_check held; 1 unreadable or "
	        "empty trace,\n"
	        "no event in it, a header that cannot be true, a truncated "
	        "recording, or a\n"
	        "failed check; 2 a usage error.\n"
	        "Example: %s replay --json kernel-mixed.trace.xz\n",
	        TOOL_NAME);
}

static const struct opt_word mode_words[] = {
	{ "det", MODE_DET },
	{ "threads", MODE_THREADS },
	{ NULL, 0 },
};
static const struct opt_word topology_words[] = {
	{ "recorded", TOPO_RECORDED },
	{ "ours", TOPO_OURS },
	{ NULL, 0 },
};

/* 0 to go on, or an exit code (0 after --help). */
static int parse_options(struct options *o, int argc, char **argv, int *done)
{
	int i, r;

	free(o->sweep_buf);
	memset(o, 0, sizeof(*o));
	o->mode = MODE_DET;
	o->timing = 1;
	topo_opts_init(&o->topo);
	*done = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			*done = 1;
			return 0;
		}
		if ((r = opt_choice(CMD, argc, argv, &i, "--mode", mode_words,
		                    &o->mode, "--mode %s: expected det or threads")) ||
		    (r = opt_choice(CMD, argc, argv, &i, "--topology", topology_words,
		                    &o->topology,
		                    "--topology %s: expected recorded or ours"))) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		if ((r = opt_uint(CMD, argc, argv, &i, "--prefragment-unmovable", 0,
		                  100, &o->prefragment_unmovable)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			o->prefragment_unmovable_given = 1;
			continue;
		}
		if ((r = opt_value(CMD, argc, argv, &i, "--sweep", &v)) != 0) {
			size_t n;
			char *j;
			if (r < 0)
				return EXIT_USAGE;
			/* repeated: the tunables of every --sweep together */
			n = (o->sweep ? strlen(o->sweep) + 1 : 0) + strlen(v) + 1;
			j = malloc(n);
			if (!j) {
				tool_err(CMD, "out of memory");
				return EXIT_FAIL;
			}
			snprintf(j, n, "%s%s%s", o->sweep ? o->sweep : "",
			         o->sweep ? ";" : "", v);
			free(o->sweep_buf);
			o->sweep = o->sweep_buf = j;
			continue;
		}
		if ((r = opt_uint(CMD, argc, argv, &i, "--pcp-high", 1, PCP_SIZE_MAX,
		                  &o->pcp_high)) ||
		    (r = opt_uint(CMD, argc, argv, &i, "--pcp-batch", 1, PCP_SIZE_MAX,
		                  &o->pcp_batch)) ||
		    (r = opt_uint(CMD, argc, argv, &i, "--jobs", 1, SWEEP_MAX_JOBS,
		                  &o->jobs)) ||
		    (r = opt_uint(CMD, argc, argv, &i, "--prefragment", 1, 95,
		                  &o->prefragment)) ||
		    (r = opt_value(CMD, argc, argv, &i, "--rank", &o->rank)) ||
		    (r = opt_value(CMD, argc, argv, &i, "--output", &o->output)) ||
		    (r = opt_value(CMD, argc, argv, &i, "-o", &o->output)) ||
		    (r = opt_value(CMD, argc, argv, &i, "--plot", &o->plot)) ||
		    (r = opt_ull(CMD, argc, argv, &i, "--limit", 1, UINT32_MAX - 1,
		                 &o->limit)) ||
		    (r = opt_set(CMD, argv, i, "--json", &o->json, 1)) ||
		    (r = opt_set(CMD, argv, i, "--no-timing", &o->timing, 0)) ||
		    (r = opt_set(CMD, argv, i, "--quiet", &o->quiet, 1)) ||
		    (r = opt_set(CMD, argv, i, "--stream", &o->stream, 1)) ||
		    (r = opt_set(CMD, argv, i, "--compaction", &o->compaction, 1)) ||
		    (r = opt_set(CMD, argv, i, "--empty-lists", &o->empty_lists, 1)) ||
		    (r = opt_set(CMD, argv, i, "--skip-unmatched", &o->skip_unmatched,
		                 1)) ||
		    (r = opt_set(CMD, argv, i, "--no-decay", &o->no_decay, 1))) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		if (opt_is(a, "--mem"))
			o->mem_given = 1;
		if (opt_is(a, "--cpus"))
			o->cpus_given = 1;
		if (opt_is(a, "--max-order"))
			o->max_order_given = 1;
		if (opt_is(a, "--block"))
			o->block_given = 1;
		if (!o->shape_opt) {
			static const char *const shape[] = {
				"--mem",     "--cpus",  "--nodes",      "--zones",
				"--movable", "--block", "--page-shift", "--min-free-kbytes",
			};
			size_t k;
			for (k = 0; k < sizeof(shape) / sizeof(shape[0]); k++)
				if (opt_is(a, shape[k]))
					o->shape_opt = shape[k];
		}
		r = topo_parse(&o->topo, CMD, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (a[0] == '-' && a[1] != '\0')
			return tool_usage_err(CMD, "unknown option '%s'", a);
		if (o->path)
			return tool_usage_err(CMD,
			                      "one trace file only ('%s' and "
			                      "'%s')",
			                      o->path, a);
		o->path = a;
	}
	if (!o->path)
		return tool_usage_err(CMD, "which trace? give a FILE, or - for "
		                           "standard input");
	if (o->stream && o->mode != MODE_DET)
		return tool_usage_err(CMD, "--stream replays in det mode only");
	if (o->no_decay && o->mode != MODE_DET)
		return tool_usage_err(CMD, "--no-decay is for det mode: in threads "
		                           "mode the statistics worker decays the "
		                           "lists by the wall clock");
	if (o->skip_unmatched && o->stream)
		return tool_usage_err(CMD, "--skip-unmatched: --stream always "
		                           "skips the unmatched frees (it cannot "
		                           "know them before it reads them)");
	if (o->compaction && (o->mode != MODE_DET || o->stream || o->sweep))
		return tool_usage_err(CMD, "--compaction replays in det mode, "
		                           "without --stream or --sweep");
	if ((o->pcp_high || o->pcp_batch) && (o->topo.cfg_flags & ZA_CFG_NO_PCP))
		return tool_usage_err(CMD, "--pcp-high and --pcp-batch size the "
		                           "per-CPU lists, and --no-pcp has none");
	if (o->pcp_high && o->pcp_batch && o->pcp_high < o->pcp_batch)
		return tool_usage_err(CMD, "--pcp-high %u is below --pcp-batch %u",
		                      o->pcp_high, o->pcp_batch);
	if (!o->sweep && (o->jobs || o->rank || o->output || o->plot))
		return tool_usage_err(CMD, "%s goes with --sweep",
		                      o->jobs     ? "--jobs"
		                      : o->rank   ? "--rank"
		                      : o->output ? "--output"
		                                  : "--plot");
	if (o->prefragment_unmovable_given && !o->prefragment)
		return tool_usage_err(CMD, "--prefragment-unmovable goes with "
		                           "--prefragment");
	if (o->sweep && o->mode != MODE_DET)
		return tool_usage_err(CMD, "--sweep replays in det mode only");
	if (o->sweep && o->stream)
		return tool_usage_err(CMD, "--sweep reads the trace once, whole: "
		                           "leave out --stream");
	if (o->topology == TOPO_RECORDED && o->shape_opt)
		return tool_usage_err(CMD,
		                      "%s shapes the machine, and --topology "
		                      "recorded takes the recorded one; use "
		                      "--topology ours",
		                      o->shape_opt);
	/* The replay manages frame numbers only: the trace has no data. */
	if (o->topo.cfg_flags & (ZA_CFG_POISON | ZA_CFG_INIT_ON_ALLOC))
		return tool_usage_err(CMD,
		                      "%s works on page contents, and a "
		                      "replay has frame numbers only (no memory "
		                      "behind them)",
		                      (o->topo.cfg_flags & ZA_CFG_POISON)
		                          ? "--poison"
		                          : "--init-on-alloc");
	if (o->topo.hugepages)
		return tool_usage_err(CMD, "--hugepages needs backing memory, and a "
		                           "replay has frame numbers only");
	o->topo.frames_only = 1;
	if (o->mode == MODE_DET)
		/* No background thread may change anything behind the replay's
		 * back. kswapd has nothing to reclaim here anyway (no shrinker),
		 * and statistics are summed on read. */
		o->topo.cfg_flags |= ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Progress                                                          */

static void progress(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* At most one line a second, and none in the first second: short runs
 * stay quiet. On a terminal the line rewrites itself. */
static void progress(struct run *r, const char *fmt, ...)
{
	double now;
	va_list ap;

	if (r->o.quiet)
		return;
	now = now_seconds();
	if (now - r->t_progress < 1.0)
		return;
	r->t_progress = now;
	fprintf(stderr, "%s%s %s: [%.0f s] ", isatty(2) ? "\r" : "", TOOL_NAME,
	        CMD, now - r->t_start);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(isatty(2) ? "\033[K" : "\n", stderr);
	r->progress_shown = 1;
}

static void progress_end(struct run *r)
{
	if (r->progress_shown && isatty(2))
		fputc('\n', stderr);
	r->progress_shown = 0;
}

static void load_progress(void *ctx, const struct trace *t)
{
	struct run *r = ctx;
	progress(r, "reading: %llu lines, %zu events, %.1f MiB of text",
	         (unsigned long long)t->st.lines, t->nr,
	         (double)t->bytes_out / (double)MiB);
}

/* ---------------------------------------------------------------- */
/* Replaying                                                         */

static void on_misuse(void *ctx, int err, const char *msg)
{
	struct run *r = ctx;

	(void)err;
	pthread_mutex_lock(&r->misuse_lock);
	if (r->misuse < MISUSE_KEEP)
		r->misuse_msg[r->misuse] = strdup(msg ? msg : "?");
	r->misuse++;
	pthread_mutex_unlock(&r->misuse_lock);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* 0 once the record's allocation has run, -1 if the replay was called
 * off (a thread could not start: its allocations will never come). */
static int wait_ready(struct run *r, struct rec *rc, struct tally *t)
{
	unsigned spins = 0;

	if (__atomic_load_n(&rc->ready, __ATOMIC_ACQUIRE))
		return 0;
	t->waits++;
	/* The allocating thread is at an earlier point of the trace, so it
	 * never waits on us: the wait ends. Spin briefly, then let it run
	 * (there may be more threads than cores). */
	while (!__atomic_load_n(&rc->ready, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&r->abort, __ATOMIC_RELAXED))
			return -1;
		if (++spins < 64)
			cpu_relax();
		else
			sched_yield();
	}
	return 0;
}

static void run_op(struct run *r, const struct trace_op *op, struct tally *t,
                   int threaded)
{
	struct rec *rc = &r->recs[op->rec];

	if (op->kind == TRACE_OP_ALLOC) {
		struct za_page *p = NULL;

		t->allocs++;
		rc->order = op->order;
		if (op->order > r->max_order) {
			t->too_big++;
			t->failed[op->order]++;
		} else {
			p = za_alloc_pages(r->za, op->gfp, op->order);
			if (!p) {
				t->failed[op->order]++;
				if (errno == EINVAL)
					t->rejected++;
			}
		}
		rc->page = p;
		if (p && r->rev)
			r->rev[za_page_to_pfn(r->za, p)] = op->rec + 1;
		if (threaded)
			__atomic_store_n(&rc->ready, 1, __ATOMIC_RELEASE);
	} else {
		if (threaded && wait_ready(r, rc, t))
			return;
		if (rc->page) {
			if (r->rev)
				r->rev[za_page_to_pfn(r->za, rc->page)] = 0;
			za_free_pages(r->za, rc->page, rc->order);
			rc->page = NULL;
			t->frees++;
			t->standin_frees += rc->standin;
		} else {
			t->frees_of_failed++;
		}
	}
}

/* Det mode: the populated zones, whose per-CPU lists pcp_peak follows. */
static void pcp_peak_start(struct run *r)
{
	unsigned nid;
	int z;

	r->nr_peak_zones = 0;
	for (nid = 0; nid < za_nr_nodes(r->za); nid++) {
		for (z = 0; z < ZA_NR_ZONES; z++) {
			struct zone_end *ze = &r->peak_zone[r->nr_peak_zones];
			if (za_zone_info(r->za, (int)nid, (enum za_zone_type)z, &ze->zi) ||
			    !ze->zi.populated)
				continue;
			ze->nid = (int)nid;
			ze->zone = (enum za_zone_type)z;
			r->nr_peak_zones++;
		}
	}
	r->peak = calloc((size_t)r->nr_peak_zones * r->ncpu + 1, sizeof(*r->peak));
	r->peak_high = calloc((size_t)r->nr_peak_zones * r->ncpu + 1,
	                      sizeof(*r->peak_high));
	r->start_count = calloc((size_t)r->nr_peak_zones * r->ncpu + 1,
	                        sizeof(*r->start_count));
	r->start_high = calloc((size_t)r->nr_peak_zones * r->ncpu + 1,
	                       sizeof(*r->start_high));
	if (!r->peak || !r->peak_high || !r->start_count || !r->start_high) {
		free(r->peak);
		free(r->peak_high);
		free(r->start_count);
		free(r->start_high);
		r->peak = r->peak_high = r->start_count = r->start_high = NULL;
		r->nr_peak_zones = 0;
		return;
	}
	for (unsigned k = 0; k < r->nr_peak_zones; k++)
		for (unsigned c = 0; c < r->ncpu; c++) {
			struct za_pcp_info pi;
			size_t at = (size_t)k * r->ncpu + c;
			if (za_pcp_info(r->za, c, r->peak_zone[k].nid,
			                r->peak_zone[k].zone, &pi))
				continue;
			r->start_count[at] = pi.count;
			r->start_high[at] = pi.high;
			if (pi.count) {
				r->peak[at] = pi.count;
				r->peak_high[at] = pi.high;
			}
		}
}

/* After an operation on cpu: the most pages its lists ever held. */
static inline void pcp_peak(struct run *r, unsigned cpu)
{
	unsigned k;

	for (k = 0; k < r->nr_peak_zones; k++) {
		struct za_pcp_info pi;
		size_t at = (size_t)k * r->ncpu + cpu;
		if (!za_pcp_info(r->za, cpu, r->peak_zone[k].nid, r->peak_zone[k].zone,
		                 &pi) &&
		    pi.count > r->peak[at]) {
			r->peak[at] = pi.count;
			r->peak_high[at] = pi.high;
		}
	}
}

static void replay_det(struct run *r)
{
	struct tally *t = &r->total;
	size_t i;

	simcpu_thread_start(0, 1, 0);
	pcp_peak_start(r);
	if (r->tr.nr)
		decay_until(r, r->tr.ev[0].ts_ns);
	for (i = 0; i < r->ops.nr; i++) {
		const struct trace_op *op = &r->ops.op[i];

		decay_until(r, r->tr.ev[op->ev].ts_ns);
		simcpu_move(op->cpu % r->ncpu);
		run_op(r, op, t, 0);
		pcp_peak(r, op->cpu % r->ncpu);
		if ((i & 0x3fff) == 0)
			progress(r, "replaying: %zu of %zu operations (%.0f%%)", i,
			         r->ops.nr, 100.0 * (double)i / (double)r->ops.nr);
	}
	/* up to the trace's last event, as --stream ticks at every event */
	if (r->tr.nr)
		decay_until(r, r->tr.ev[r->tr.nr - 1].ts_ns);
	t->ops = r->ops.nr;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t i;

	simcpu_thread_start(w->cpu, w->cpu + 1, 0);
	for (i = 0;
	     i < w->nr && !__atomic_load_n(&w->run->abort, __ATOMIC_RELAXED);
	     i++) {
		run_op(w->run, &w->run->ops.op[w->idx[i]], &w->t, 1);
		if ((i & 0x3ff) == 0)
			__atomic_store_n(&w->t.ops, i, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&w->t.ops, w->nr, __ATOMIC_RELEASE);
	return NULL;
}

static void add_tally(struct tally *sum, const struct tally *t)
{
	unsigned k;

	sum->ops += t->ops;
	sum->allocs += t->allocs;
	sum->frees += t->frees;
	for (k = 0; k <= TRACE_MAX_ORDER; k++)
		sum->failed[k] += t->failed[k];
	sum->rejected += t->rejected;
	sum->too_big += t->too_big;
	sum->frees_of_failed += t->frees_of_failed;
	sum->waits += t->waits;
	sum->standin_frees += t->standin_frees;
}

/* 0, or -1 when threads could not be had (message printed). */
static int replay_threads(struct run *r)
{
	struct worker *w = calloc(r->ncpu, sizeof(*w));
	size_t *count = calloc(r->ncpu, sizeof(*count));
	uint32_t *idx = malloc((r->ops.nr + 1) * sizeof(*idx));
	size_t i, off = 0, started = 0;
	unsigned c;
	int rc = 0;

	if (!w || !count || !idx) {
		tool_err(CMD, "out of memory for %u threads", r->ncpu);
		rc = -1;
		goto out;
	}
	for (i = 0; i < r->ops.nr; i++)
		count[r->ops.op[i].cpu % r->ncpu]++;
	for (c = 0; c < r->ncpu; c++) {
		w[c].run = r;
		w[c].cpu = c;
		w[c].idx = idx + off;
		off += count[c];
	}
	for (i = 0; i < r->ops.nr; i++) {
		struct worker *x = &w[r->ops.op[i].cpu % r->ncpu];
		x->idx[x->nr++] = (uint32_t)i;
	}
	for (c = 0; c < r->ncpu; c++) {
		int e;
		if (!w[c].nr)
			continue; /* a CPU with nothing to do needs no thread */
		e = pthread_create(&w[c].th, NULL, worker_main, &w[c]);
		if (e) {
			tool_err(CMD, "cannot start a thread: %s", strerror(e));
			/* the others may wait for this one's allocations */
			__atomic_store_n(&r->abort, 1, __ATOMIC_RELAXED);
			rc = -1;
			break;
		}
		w[c].started = 1;
		started++;
	}
	/* The main thread only reports progress until every worker is done
	 * (or, if one could not start, waits for those that did). */
	for (;;) {
		size_t done = 0, ops = 0;
		for (c = 0; c < r->ncpu; c++) {
			size_t n = w[c].nr ? __atomic_load_n(&w[c].t.ops, __ATOMIC_ACQUIRE)
			                   : 0;
			ops += n;
			done += n == w[c].nr;
		}
		if (done == r->ncpu || rc)
			break;
		progress(r,
		         "replaying: %zu of %zu operations (%.0f%%), %zu "
		         "threads",
		         ops, r->ops.nr, 100.0 * (double)ops / (double)r->ops.nr,
		         started);
		usleep(20000);
	}
	for (c = 0; c < r->ncpu; c++) {
		if (!w[c].started)
			continue;
		pthread_join(w[c].th, NULL);
		add_tally(&r->total, &w[c].t);
	}
out:
	free(w);
	free(count);
	free(idx);
	return rc;
}

/* ---------------------------------------------------------------- */
/* The recorded machine                                              */

/* Read the trace's header. 0 (r->mach set or not), or an exit code after
 * a message: a header that cannot be true, a truncated or damaged
 * recording, or --topology recorded without a header. */
static int read_machine(struct run *r, int check_end)
{
	const struct trace_stats *st = &r->tr.st;
	int limited = !check_end || (r->o.limit && r->tr.nr >= r->o.limit);
	char err[512];
	int k;

	r->mach = calloc(1, sizeof(*r->mach));
	if (!r->mach) {
		tool_err(CMD, "out of memory");
		return EXIT_FAIL;
	}
	k = machine_parse_header(r->tr.header, r->tr.header_len, r->mach, err,
	                         sizeof(err));
	if (k < 0) {
		tool_err(CMD, "%s: bad machine header: %s", r->o.path, err);
		return EXIT_FAIL;
	}
	if (k == 0) {
		free(r->mach);
		r->mach = NULL;
		if (r->o.topology == TOPO_RECORDED)
			return tool_usage_err(CMD,
			                      "--topology recorded: %s has no "
			                      "machine header (it was not made by "
			                      "'%s record')",
			                      r->o.path, TOOL_NAME);
		return 0;
	}
	if (!limited && !r->mach->have_end) {
		tool_err(CMD,
		         "%s: a truncated recording: it starts with the header "
		         "of '%s record' but its end line ('# zonealloc-trace-end') "
		         "is missing after %llu lines",
		         r->o.path, TOOL_NAME, (unsigned long long)st->lines);
		return EXIT_FAIL;
	}
	if (!limited &&
	    r->mach->end_lines != st->lines - st->comment - st->blank) {
		tool_err(CMD,
		         "%s: a damaged recording: its end line counts %llu "
		         "lines of events, the file holds %llu",
		         r->o.path, (unsigned long long)r->mach->end_lines,
		         (unsigned long long)(st->lines - st->comment - st->blank));
		return EXIT_FAIL;
	}
	if (check_end && st->max_cpu >= (int)r->mach->cpus_possible) {
		tool_err(CMD,
		         "%s: bad machine header: events on CPU %d, and the "
		         "header says the machine has %u CPUs",
		         r->o.path, st->max_cpu, r->mach->cpus_possible);
		return EXIT_FAIL;
	}
	/* --mem and the like without --topology ask for our own */
	r->recorded = r->o.topology == TOPO_RECORDED ||
	              (r->o.topology == TOPO_AUTO && !r->o.shape_opt);
	return 0;
}

/* The recorded machine's zones as whole memory blocks (the unit memory
 * goes online in): each zone gets its managed pages rounded up to whole
 * blocks, from its start (rounded down to a block, and past the zone
 * before it), and what it gets beyond managed is held back, allocated
 * before the replay begins, as the kernel's reserved pages are never
 * managed. min_free_kbytes is the machine's, so the watermarks and the
 * per-CPU list sizes (derived from them, as the kernel derives its own)
 * come out as the machine's. 0, or -1 with a message. */
static int plan_recorded(struct run *r)
{
	const struct machine *m = r->mach;
	const struct trace_stats *st = &r->tr.st;
	struct topo *t = r->topo;
	struct topo_opts *o = &t->o;
	const struct machine_zone *zs[MACHINE_MAX_ZONES];
	unsigned n = 0, k, j, shift = 0;
	unsigned long block, prev_end = 0;

	memset(t, 0, sizeof(*t));
	*o = r->o.topo;
	while ((1ul << shift) < m->page_size)
		shift++;
	o->page_shift = shift;
	o->nodes = m->nr_nodes;
	o->cpus = m->cpus_possible;
	if (!r->o.max_order_given)
		o->max_order = st->max_order > 10 ? st->max_order : 10;
	block = 1ul << o->max_order;
	o->block = (unsigned long long)block << shift;
	o->min_free_kbytes = m->min_free_kbytes > 0
	                         ? (unsigned long)m->min_free_kbytes
	                         : 0;
	o->frames_only = 1;
	for (k = 0; k < m->zones.nr; k++) {
		const struct machine_zone *z = &m->zones.z[k];
		if (!z->managed)
			continue;
		for (j = n; j > 0 && zs[j - 1]->start_pfn > z->start_pfn; j--)
			zs[j] = zs[j - 1];
		zs[j] = z;
		n++;
	}
	for (k = 0; k < n; k++) {
		const struct machine_zone *z = zs[k];
		struct built_zone *b = &r->bz[r->nr_bz++];
		unsigned long start = z->start_pfn / block * block;
		unsigned long pages = (z->managed + block - 1) / block * block;

		if (start < prev_end)
			start = prev_end;
		if (start + pages > 0xffffffffull - block) {
			tool_err(CMD,
			         "%s: node %d zone %s: pfn %#lx + %lu pages is "
			         "past what zonealloc addresses",
			         r->o.path, z->nid, z->name, start, pages);
			return -1;
		}
		b->mz = z;
		b->start_pfn = start;
		b->pages = pages;
		b->held = pages - z->managed;
		t->range[t->nr_ranges].nid = z->nid;
		t->range[t->nr_ranges].zone = (enum za_zone_type)z->type;
		t->range[t->nr_ranges].start_pfn = start;
		t->range[t->nr_ranges].nr_pages = pages;
		t->nr_ranges++;
		prev_end = start + pages;
	}
	t->block_pages = block;
	t->max_pfn = prev_end;
	t->page_size = (size_t)1 << shift;
	o->mem = (unsigned long long)prev_end << shift;
	return 0;
}

/* The value --sysctl NAME=VALUE gives name (a --sweep combination's
 * setting is one too), the last one given; NULL when none does. */
static const char *option_sysctl(const struct run *r, const char *name)
{
	const char *v = NULL;
	size_t n = strlen(name);
	unsigned k;

	for (k = 0; k < r->o.topo.nr_sysctl; k++) {
		const char *a = r->o.topo.sysctl[k];
		if (!strncmp(a, name, n) && a[n] == '=')
			v = a + n + 1;
	}
	return v;
}

/* The recorded lowmem_reserve_ratio, one value per zone of the recorded
 * kernel in its order of zones (the order its zoneinfo lists them in,
 * every zone of a node, populated or not), as zonealloc's "DMA DMA32
 * Normal Movable": a zone the recorded kernel does not have keeps
 * zonealloc's value (cur, as za_sysctl_get reads it). 0, or -1 when the
 * values are not numbers or not one per zone of the zoneinfo's first
 * node. */
static int map_lowmem_ratio(const struct machine *m, const char *cur,
                            char *out, size_t len)
{
	long rec[MACHINE_MAX_ZONES], now[ZA_NR_ZONES];
	unsigned nrec = 0, nzones = 0, k, t;
	const char *p = m->lowmem_reserve_ratio;
	char *end;
	size_t at = 0;

	while (*p) {
		long v = strtol(p, &end, 10);
		if (end == p)
			return -1;
		if (nrec == MACHINE_MAX_ZONES)
			return -1;
		rec[nrec++] = v;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	for (k = 0; k < m->zones.nr; k++)
		if (m->zones.z[k].nid == m->zones.z[0].nid)
			nzones++;
	if (!nrec || nrec != nzones)
		return -1;
	p = cur;
	for (t = 0; t < ZA_NR_ZONES; t++) {
		now[t] = strtol(p, &end, 10);
		p = end;
	}
	for (k = 0, nzones = 0; k < m->zones.nr; k++) {
		const struct machine_zone *z = &m->zones.z[k];
		if (z->nid != m->zones.z[0].nid)
			continue;
		if (z->type >= 0)
			now[z->type] = rec[nzones];
		nzones++;
	}
	out[0] = '\0';
	for (t = 0; t < ZA_NR_ZONES && at < len; t++)
		at += (size_t)snprintf(out + at, len - at, "%s%ld", t ? " " : "",
		                       now[t]);
	return 0;
}

/* The recorded machine's vm sysctls onto the replay's allocator, which
 * topo_build has made (with min_free_kbytes through za_config unless it
 * is 0, and the --sysctl settings applied): watermark_scale_factor,
 * watermark_boost_factor, percpu_pagelist_high_fraction and
 * lowmem_reserve_ratio, each unless an option sets it (the option's
 * value wins, as it would on the recorded machine if written after
 * boot). A value the library refuses leaves its own and is named in a
 * note (machine_notes). */
static void apply_recorded_sysctls(struct run *r)
{
	const struct machine *m = r->mach;
	struct rec_tunable *t = r->rtun;
	unsigned k;

	memset(r->rtun, 0, sizeof(r->rtun));
	t[RT_MIN_FREE].name = "min_free_kbytes";
	t[RT_MIN_FREE].range = "0..2147483647";
	t[RT_WSF].name = "watermark_scale_factor";
	t[RT_WSF].range = "1..3000";
	t[RT_BOOST].name = "watermark_boost_factor";
	t[RT_BOOST].range = "0..2147483647";
	t[RT_HIGH_FRACTION].name = "percpu_pagelist_high_fraction";
	t[RT_HIGH_FRACTION].range = "0, or 8..2147483647";
	t[RT_LOWMEM].name = "lowmem_reserve_ratio";
	t[RT_LOWMEM].range = "0..2147483647 each";
	if (m->min_free_kbytes >= 0)
		snprintf(t[RT_MIN_FREE].recorded, sizeof(t[0].recorded), "%ld",
		         m->min_free_kbytes);
	if (m->watermark_scale_factor >= 0)
		snprintf(t[RT_WSF].recorded, sizeof(t[0].recorded), "%ld",
		         m->watermark_scale_factor);
	if (m->watermark_boost_factor >= 0)
		snprintf(t[RT_BOOST].recorded, sizeof(t[0].recorded), "%ld",
		         m->watermark_boost_factor);
	if (m->percpu_pagelist_high_fraction >= 0)
		snprintf(t[RT_HIGH_FRACTION].recorded, sizeof(t[0].recorded), "%ld",
		         m->percpu_pagelist_high_fraction);
	snprintf(t[RT_LOWMEM].recorded, sizeof(t[0].recorded), "%s",
	         m->lowmem_reserve_ratio);
	for (k = 0; k < RT_NR; k++) {
		char value[96];
		int err;

		if (!t[k].recorded[0])
			continue;
		if (option_sysctl(r, t[k].name)) {
			t[k].state = RT_OPTION;
		} else if (k == RT_MIN_FREE && m->min_free_kbytes > 0) {
			t[k].state = RT_APPLIED; /* za_config's (plan_recorded) */
		} else {
			snprintf(value, sizeof(value), "%s", t[k].recorded);
			if (k == RT_LOWMEM) {
				char cur[ZA_SYSCTL_VALUE_MAX];
				if (za_sysctl_get(r->za, t[k].name, cur, sizeof(cur)) ||
				    map_lowmem_ratio(m, cur, value, sizeof(value))) {
					t[k].state = RT_UNMAPPED;
					continue;
				}
			}
			err = za_sysctl_set(r->za, t[k].name, value);
			t[k].state = err ? RT_REFUSED : RT_APPLIED;
			t[k].err = err;
		}
	}
	for (k = 0; k < RT_NR; k++)
		if (t[k].state != RT_ABSENT &&
		    za_sysctl_get(r->za, t[k].name, t[k].now, sizeof(t[k].now)))
			snprintf(t[k].now, sizeof(t[k].now), "?");
}

/* zonealloc's zoneinfo report, parsed as the recorded one is, so that
 * both sides of the comparison come from the same lines. */
static int read_built(struct run *r)
{
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	unsigned k, j;
	int rc;

	r->built = calloc(1, sizeof(*r->built));
	if (!f || !r->built) {
		if (f)
			fclose(f);
		free(text);
		tool_err(CMD, "out of memory");
		return -1;
	}
	rc = za_report(r->za, ZA_REPORT_ZONEINFO, f);
	fclose(f);
	if (!rc)
		rc = machine_parse_zoneinfo(text, len, r->built, err, sizeof(err));
	free(text);
	if (rc) {
		tool_err(CMD, "cannot read zonealloc's own zoneinfo back");
		return -1;
	}
	for (k = 0; k < r->nr_bz; k++)
		for (j = 0; j < r->built->nr; j++)
			if (r->built->z[j].nid == r->bz[k].mz->nid &&
			    r->built->z[j].type == r->bz[k].mz->type)
				r->bz[k].built = &r->built->z[j];
	return 0;
}

static za_gfp_t zone_gfp(int type)
{
	switch (type) {
	case ZA_ZONE_DMA:
		return ZA_GFP_DMA;
	case ZA_ZONE_DMA32:
		return ZA_GFP_DMA32;
	case ZA_ZONE_MOVABLE:
		return ZA___GFP_MOVABLE;
	default:
		return 0;
	}
}

/* Allocate the held-back pages, largest blocks first, then empty the
 * per-CPU lists so that the replay starts from buddy lists alone, and
 * note what the zones look like. 0, or -1 with a message. */
static int hold_back(struct run *r)
{
	size_t cap = 0;
	unsigned k;

	simcpu_thread_start(0, 1, 0);
	/* the zones as built, before any allocation moves the lists */
	if (read_built(r))
		return -1;
	for (k = 0; k < r->nr_bz; k++) {
		struct built_zone *b = &r->bz[k];
		unsigned long left = b->held;
		unsigned o = r->max_order;
		za_gfp_t gfp = ZA_GFP_NOWARN | ZA_GFP_THISNODE | zone_gfp(b->mz->type);

		while (left) {
			struct za_page *p;
			if ((1ul << o) > left) {
				o--;
				continue;
			}
			if (r->nr_held == cap) {
				struct held_block *h;
				cap = cap ? cap * 2 : 64;
				h = realloc(r->held, cap * sizeof(*h));
				if (!h) {
					tool_err(CMD, "out of memory");
					return -1;
				}
				r->held = h;
			}
			p = za_alloc_pages_node(r->za, b->mz->nid, gfp, o);
			if (p && (za_page_zone(r->za, p) != b->mz->type ||
			          za_page_nid(r->za, p) != b->mz->nid)) {
				za_free_pages(r->za, p, o);
				p = NULL;
			}
			if (!p) {
				tool_err(CMD,
				         "cannot hold back %lu pages of node %d zone "
				         "%s (order %u failed)",
				         b->held, b->mz->nid, b->mz->name, o);
				return -1;
			}
			r->held[r->nr_held].page = p;
			r->held[r->nr_held].order = o;
			r->nr_held++;
			left -= 1ul << o;
		}
	}
	za_drain_all_pages(r->za);
	for (k = 0; k < r->nr_bz; k++) {
		struct built_zone *b = &r->bz[k];
		za_zone_info(r->za, b->mz->nid, (enum za_zone_type)b->mz->type,
		             &b->zi);
	}
	return 0;
}

static void free_held(struct run *r)
{
	size_t k;

	for (k = 0; k < r->nr_held; k++)
		za_free_pages(r->za, r->held[k].page, r->held[k].order);
	r->nr_held = 0;
	for (k = 0; k < r->nr_pre; k++)
		za_free_pages(r->za, r->pre[k], 0);
	r->nr_pre = 0;
}

/* rev[] entry of a --prefragment block (else: a rec's index + 1). */
#define REV_PRE 0x80000000u

/*
 * --prefragment PCT: memory as a long-running machine leaves it, before
 * the first event. Order-0 blocks are allocated until PCT percent of the
 * managed memory is (--prefragment-unmovable of them unmovable, spread
 * evenly: the kernel's slab and page tables), then every movable one at
 * an odd frame number is freed: the memory filled is left half free, in
 * single pages, with no free block above order 0 in it, and the rest of
 * memory is whole. The blocks left are held through the replay and freed
 * before the final check; with --compaction the movable ones can move,
 * the unmovable ones never. 0, or -1 with a message.
 */
static int prefragment(struct run *r)
{
	unsigned long long managed = 0, target;
	unsigned nid, u = r->o.prefragment_unmovable, acc = 0;
	size_t cap = 0, k, kept = 0;
	int z;

	for (nid = 0; nid < za_nr_nodes(r->za); nid++)
		for (z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info zi;
			if (!za_zone_info(r->za, (int)nid, (enum za_zone_type)z, &zi) &&
			    zi.populated)
				managed += zi.managed;
		}
	target = managed * r->o.prefragment / 100;
	simcpu_thread_start(0, 1, 0);
	while (r->nr_pre < target) {
		/* Bresenham: u of every 100 unmovable, evenly spread. */
		int unmov = (acc += u) >= 100;
		struct za_page *p;
		if (unmov)
			acc -= 100;
		if (r->nr_pre == cap) {
			size_t c = cap ? cap * 2 : 4096;
			struct za_page **np = realloc(r->pre, c * sizeof(*np));
			uint8_t *nu = np ? realloc(r->pre_unmovable, c) : NULL;
			if (np)
				r->pre = np;
			if (!np || !nu) {
				tool_err(CMD, "out of memory");
				return -1;
			}
			r->pre_unmovable = nu;
			cap = c;
		}
		p = za_alloc_pages(r->za,
		                   ZA_GFP_NOWARN | ZA_GFP_NORETRY |
		                       (unmov ? ZA_GFP_KERNEL : ZA_GFP_MOVABLE),
		                   0);
		if (!p)
			break; /* at the watermarks: as full as it gets */
		r->pre[r->nr_pre] = p;
		r->pre_unmovable[r->nr_pre] = (uint8_t)unmov;
		r->nr_pre++;
	}
	r->pre_filled = r->nr_pre;
	for (k = 0; k < r->nr_pre; k++) {
		struct za_page *p = r->pre[k];
		if (!r->pre_unmovable[k] && (za_page_to_pfn(r->za, p) & 1)) {
			za_free_pages(r->za, p, 0);
			continue;
		}
		r->pre[kept] = p;
		r->pre_unmovable[kept] = r->pre_unmovable[k];
		r->pre_unmovable_held += r->pre_unmovable[k];
		if (r->rev && !r->pre_unmovable[k])
			r->rev[za_page_to_pfn(r->za, p)] = (uint32_t)(kept + 1) | REV_PRE;
		kept++;
	}
	r->nr_pre = kept;
	r->pre_held = kept;
	/* The replay starts from the buddy lists alone, as after hold_back. */
	za_drain_all_pages(r->za);
	return 0;
}

/* The populated zones of the built machine, to place a trace's pfn in. */
struct zspan {
	int nid;
	enum za_zone_type zone;
	unsigned long start, end;
};
#define MAX_ZSPANS (ZA_MAX_NODES * ZA_NR_ZONES)

static unsigned zone_spans(struct run *r, struct zspan *zs)
{
	unsigned nid, n = 0;
	int z;

	for (nid = 0; nid < za_nr_nodes(r->za); nid++)
		for (z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info zi;
			if (za_zone_info(r->za, (int)nid, (enum za_zone_type)z, &zi) ||
			    !zi.populated)
				continue;
			zs[n].nid = (int)nid;
			zs[n].zone = (enum za_zone_type)z;
			zs[n].start = zi.start_pfn;
			zs[n].end = zi.start_pfn + zi.spanned;
			n++;
		}
	return n;
}

/* The zone whose span holds pfn: its index in zs, or -1. */
static int pfn_zone(const struct zspan *zs, unsigned n, uint64_t pfn)
{
	unsigned k;

	for (k = 0; k < n; k++)
		if (pfn >= zs[k].start && pfn < zs[k].end)
			return (int)k;
	return -1;
}

/* Every list's high (zs order, then CPU), to put back after the set-up's
 * own allocations grew them. NULL when out of memory (message). */
static unsigned *save_highs(struct run *r, const struct zspan *zs, unsigned n)
{
	unsigned *h = calloc((size_t)n * r->ncpu + 1, sizeof(*h));
	unsigned k, c;

	if (!h) {
		tool_err(CMD, "out of memory");
		return NULL;
	}
	for (k = 0; k < n; k++)
		for (c = 0; c < r->ncpu; c++) {
			struct za_pcp_info pi;
			if (!za_pcp_info(r->za, c, zs[k].nid, zs[k].zone, &pi))
				h[(size_t)k * r->ncpu + c] = pi.high;
		}
	return h;
}

static void restore_highs(struct run *r, const struct zspan *zs, unsigned n,
                          const unsigned *h)
{
	unsigned k, c;

	for (k = 0; k < n; k++)
		for (c = 0; c < r->ncpu; c++)
			/* -EPERM with fixed sizes: nothing grew */
			za_pcp_set_high(r->za, c, zs[k].nid, zs[k].zone,
			                h[(size_t)k * r->ncpu + c]);
}

/*
 * The unmatched frees of the trace free pages the kernel allocated before
 * the trace began. Without them the kernel's per-CPU lists would have
 * received fewer pages, so they are replayed: a stand-in block of the
 * same order for each, allocated here (before the counters are read) in
 * the zone of its pfn, with the mobility a later event of that pfn shows
 * (movable otherwise), and freed by the replay on the CPU and at the
 * point where the trace frees it. The set-up's own refills are drained
 * and the lists' highs put back as they were, so that the replay starts
 * from the same lists. 0, or -1 with a message.
 */
static int place_standins(struct run *r)
{
	const struct trace_ops *o = &r->ops;
	struct zspan zs[MAX_ZSPANS];
	unsigned nz, *high;
	size_t k;

	if (!o->nr_standin)
		return 0;
	nz = zone_spans(r, zs);
	if (!(high = save_highs(r, zs, nz)))
		return -1;
	simcpu_thread_start(0, 1, 0);
	for (k = 0; k < o->nr_standin; k++) {
		const struct trace_op *op = &o->standin[k];
		struct rec *rc = &r->recs[op->rec];
		int zi = pfn_zone(zs, nz, r->tr.ev[op->ev].pfn);
		za_gfp_t gfp = op->gfp | ZA_GFP_NOWARN;
		struct za_page *p = NULL;

		rc->order = op->order;
		rc->standin = 1;
		__atomic_store_n(&rc->ready, 1, __ATOMIC_RELEASE);
		if (op->order > r->max_order) {
			r->standin_failed++;
			continue;
		}
		simcpu_move(op->cpu % r->ncpu);
		if (zi >= 0) {
			p = za_alloc_pages_node(r->za, zs[zi].nid,
			                        gfp | ZA_GFP_THISNODE |
			                            zone_gfp((int)zs[zi].zone),
			                        op->order);
			if (p && za_page_zone(r->za, p) != (int)zs[zi].zone)
				r->standin_other_zone++;
		}
		if (!p) {
			/* anywhere rather than nowhere */
			p = za_alloc_pages(r->za, gfp, op->order);
			if (p && zi >= 0)
				r->standin_other_zone++;
		}
		if (!p) {
			r->standin_failed++;
			continue;
		}
		rc->page = p;
		if (r->rev)
			r->rev[za_page_to_pfn(r->za, p)] = op->rec + 1;
		r->standin_ok++;
		r->standin_pages += 1ull << op->order;
	}
	za_drain_all_pages(r->za);
	restore_highs(r, zs, nz, high);
	free(high);
	return 0;
}

/* The recorded kernel's list of cpu in a zone at the start, or NULL. */
static const struct machine_pcp *recorded_pcp(const struct machine_zone *z,
                                              unsigned cpu)
{
	unsigned j;

	for (j = 0; j < z->nr_pcp; j++)
		if (z->pcp[j].cpu == (long)cpu)
			return &z->pcp[j];
	return NULL;
}

/* Every list of the recorded machine gets the kernel's high at the start
 * of the recording (within its own high_min..high_max); count: how many
 * did into r->warm_lists. */
static void set_kernel_highs(struct run *r, int count)
{
	unsigned j, c;

	for (j = 0; j < r->nr_bz; j++) {
		const struct built_zone *b = &r->bz[j];
		for (c = 0; c < r->ncpu; c++) {
			const struct machine_pcp *kp = recorded_pcp(b->mz, c);
			if (kp && kp->high >= 0 &&
			    za_pcp_set_high(r->za, c, b->mz->nid,
			                    (enum za_zone_type)b->mz->type,
			                    (unsigned)kp->high) == 0 &&
			    count)
				r->warm_lists++;
		}
	}
}

/* One list to fill: its pages, split by mobility. */
struct warm {
	const struct built_zone *b;
	unsigned cpu;
	unsigned long want[3]; /* unmovable, movable, reclaimable */
	struct za_page **page;
	size_t nr;
};

/* How the trace's order-0 allocations on cpu in zone zi split by
 * mobility: n pages shared out in that proportion (all movable when the
 * trace shows none). */
static void warm_split(struct run *r, const struct zspan *zs, unsigned nz,
                       int zi, unsigned cpu, unsigned long n,
                       unsigned long want[3])
{
	unsigned long long c[3] = { 0, 0, 0 }, total = 0;
	size_t i;
	unsigned m, big = 1;

	for (i = 0; r->tr.ev && i < r->tr.nr; i++) {
		const struct trace_event *e = &r->tr.ev[i];
		if (e->type != TRACE_ALLOC || e->order || e->cpu % r->ncpu != cpu ||
		    (e->flags & TRACE_EV_FAILED) || e->migratetype < 0 ||
		    e->migratetype > 2 || pfn_zone(zs, nz, e->pfn) != zi)
			continue;
		c[e->migratetype]++;
		total++;
	}
	want[0] = want[2] = 0;
	want[1] = n;
	if (!total)
		return;
	for (m = 0; m < 3; m++) {
		want[m] = (unsigned long)((unsigned long long)n * c[m] / total);
		if (c[m] > c[big])
			big = m;
	}
	want[big] += n - want[0] - want[1] - want[2];
}

/*
 * A recording's header has each CPU's list of each zone as the kernel's
 * zoneinfo showed it when the recording began: its high, and the pages
 * it held (count). The replay starts from there, before the counters are
 * read: every list gets the kernel's high (za_pcp_set_high, within the
 * list's own high_min..high_max), and the pages the kernel's held are put
 * on it: allocated on its CPU from its zone, the lists drained (those
 * allocations refilled them), the high set again (the refills grew it),
 * and the pages freed on the CPU, where they stay (one page fewer than
 * high at most: a free that brings a list to high flushes). Order 0, split
 * by mobility as the trace's order-0 allocations on that CPU in that zone
 * are. 0, or -1 with a message.
 */
static int warm_lists(struct run *r)
{
	const unsigned mt_gfp[3] = { 0, ZA___GFP_MOVABLE, ZA___GFP_RECLAIMABLE };
	struct zspan zs[MAX_ZSPANS];
	struct warm *w;
	size_t nw = 0, k, i;
	unsigned nz, c, j;
	int rc = -1;

	nz = zone_spans(r, zs);
	w = calloc((size_t)r->nr_bz * r->ncpu + 1, sizeof(*w));
	if (!w) {
		tool_err(CMD, "out of memory");
		return -1;
	}
	simcpu_thread_start(0, 1, 0);
	set_kernel_highs(r, 1);
	for (j = 0; j < r->nr_bz; j++) {
		const struct built_zone *b = &r->bz[j];
		int zi = -1;
		for (k = 0; k < nz; k++)
			if (zs[k].nid == b->mz->nid && (int)zs[k].zone == b->mz->type)
				zi = (int)k;
		for (c = 0; c < r->ncpu; c++) {
			const struct machine_pcp *kp = recorded_pcp(b->mz, c);
			struct za_pcp_info pi;
			unsigned long n;
			if (!kp || kp->high < 0 || kp->count < 0)
				continue;
			if (za_pcp_info(r->za, c, b->mz->nid,
			                (enum za_zone_type)b->mz->type, &pi) ||
			    !pi.usable || !kp->count)
				continue;
			n = (unsigned long)kp->count;
			if (n > (pi.high ? pi.high - 1 : 0)) {
				r->warm_short += n - (pi.high ? pi.high - 1 : 0);
				n = pi.high ? pi.high - 1 : 0;
			}
			if (!n)
				continue;
			w[nw].b = b;
			w[nw].cpu = c;
			warm_split(r, zs, nz, zi, c, n, w[nw].want);
			w[nw].page = calloc(n, sizeof(*w[nw].page));
			if (!w[nw].page) {
				tool_err(CMD, "out of memory");
				goto out;
			}
			nw++;
		}
	}
	for (k = 0; k < nw; k++) {
		struct warm *x = &w[k];
		int nid = x->b->mz->nid, type = x->b->mz->type;
		unsigned m;
		simcpu_move(x->cpu);
		for (m = 0; m < 3; m++) {
			unsigned long got;
			for (got = 0; got < x->want[m]; got++) {
				struct za_page *p = za_alloc_pages_node(r->za, nid,
				                                        ZA_GFP_NOWARN |
				                                            ZA_GFP_THISNODE |
				                                            zone_gfp(type) |
				                                            mt_gfp[m],
				                                        0);
				if (p && za_page_zone(r->za, p) != type) {
					za_free_pages(r->za, p, 0);
					p = NULL;
				}
				if (!p)
					break; /* the zone is full: what fitted */
				x->page[x->nr++] = p;
			}
			r->warm_short += x->want[m] - got;
		}
	}
	za_drain_all_pages(r->za);
	/* the refills grew some: the kernel's again */
	set_kernel_highs(r, 0);
	for (k = 0; k < nw; k++) {
		struct warm *x = &w[k];
		simcpu_move(x->cpu);
		for (i = 0; i < x->nr; i++)
			za_free_pages(r->za, x->page[i], 0);
		r->warm_pages += x->nr;
		x->nr = 0;
	}
	rc = 0;
out:
	for (k = 0; k < nw; k++) {
		for (i = 0; i < w[k].nr; i++)
			za_free_pages(r->za, w[k].page[i], 0);
		free(w[k].page);
	}
	free(w);
	return rc;
}

/* Det mode: the statistics worker's decay (za_pcp_decay), once for every
 * second of the trace's time before the event at ts, as the kernel's
 * vmstat worker decays its lists every second. The first event arms the
 * clock; time that goes backwards is ignored, and a gap of more than
 * DECAY_MAX_GAP passes runs that many (by then every list is at its
 * smallest). */
#define DECAY_NS 1000000000ull
#define DECAY_MAX_GAP 256
static void decay_until(struct run *r, uint64_t ts)
{
	unsigned n = 0;

	if (r->o.no_decay || r->o.mode != MODE_DET)
		return;
	if (!r->decay_armed) {
		r->decay_armed = 1;
		r->decay_next_ns = ts + DECAY_NS;
		return;
	}
	while (ts >= r->decay_next_ns) {
		if (n++ < DECAY_MAX_GAP) {
			za_pcp_decay(r->za);
			r->decay_passes++;
		}
		if (n > DECAY_MAX_GAP) {
			r->decay_next_ns = ts + DECAY_NS;
			break;
		}
		r->decay_next_ns += DECAY_NS;
	}
}

static const struct machine_pcp *first_pcp(const struct machine_zone *z)
{
	unsigned k;

	for (k = 0; k < z->nr_pcp; k++)
		if (z->pcp[k].cpu == 0)
			return &z->pcp[k];
	return z->nr_pcp ? &z->pcp[0] : NULL;
}

/* Settings of the recorded machine that zonealloc cannot reproduce: one
 * line each (to stderr, and into the report). */
static void machine_notes(const struct run *r, FILE *f, const char *pfx)
{
	const struct machine *m = r->mach;
	unsigned k, j;

	for (k = 0; k < RT_NR; k++) {
		const struct rec_tunable *t = &r->rtun[k];
		if (t->state == RT_REFUSED)
			fprintf(f,
			        "%svm.%s was %s, which zonealloc refuses (%s; it takes "
			        "%s); the replay keeps its %s\n",
			        pfx, t->name, t->recorded,
			        t->err == -ERANGE ? "out of range" : "not a value",
			        t->range, t->now);
		else if (t->state == RT_UNMAPPED)
			fprintf(f,
			        "%svm.%s was '%s', which is not one number per zone of "
			        "the header's zoneinfo; the replay keeps zonealloc's "
			        "%s\n",
			        pfx, t->name, t->recorded, t->now);
		else if (t->state == RT_OPTION)
			fprintf(f,
			        "%svm.%s was %s; the replay uses %s, as --sysctl or "
			        "--sweep sets it\n",
			        pfx, t->name, t->recorded, t->now);
	}
	for (k = 0; k < m->end_zones.nr; k++) {
		const struct machine_zone *e = &m->end_zones.z[k];
		for (j = 0; j < m->zones.nr; j++) {
			const struct machine_zone *z = &m->zones.z[j];
			if (z->nid == e->nid && !strcmp(z->name, e->name) &&
			    z->managed != e->managed)
				fprintf(f,
				        "%snode %d zone %s had %lu managed pages at the "
				        "start and %lu at the end of the recording; the "
				        "replay uses the start\n",
				        pfx, z->nid, z->name, z->managed, e->managed);
		}
	}
}

static void describe_recorded(const struct run *r, FILE *f)
{
	const struct machine *m = r->mach;
	char b1[32], b2[32];
	unsigned k;

	fprintf(f,
	        "# the recorded machine: Linux %s %s, %u CPUs, %s pages, "
	        "min_free_kbytes %ld",
	        m->kernel[0] ? m->kernel : "?", m->arch, m->cpus_possible,
	        fmt_size(m->page_size, b1, sizeof(b1)), m->min_free_kbytes);
	/* the other vm sysctls that shape the zones, as recorded (the
	 * replay runs with them, but for the ones a note names) */
	for (k = RT_WSF; k < RT_NR; k++)
		if (r->rtun[k].state != RT_ABSENT)
			fprintf(f, ", %s %s", r->rtun[k].name, r->rtun[k].recorded);
	fputc('\n', f);
	if (m->command[0])
		fprintf(f, "# recorded running: %s\n", m->command);
	fprintf(f,
	        "# built: memory blocks of %s, max order %u, frames-only "
	        "memory\n",
	        fmt_size(r->topo->o.block, b2, sizeof(b2)), r->max_order);
	for (k = 0; k < r->nr_bz; k++) {
		const struct built_zone *b = &r->bz[k];
		const struct machine_zone *z = b->mz;
		const struct machine_pcp *c = first_pcp(z);

		fprintf(f,
		        "# node %d %-8s pfn 0x%08lx-0x%08lx  %s, %lu pages held "
		        "back\n",
		        z->nid, z->name, b->start_pfn, b->start_pfn + b->pages - 1,
		        fmt_size((unsigned long long)b->pages << r->topo->o.page_shift,
		                 b1, sizeof(b1)),
		        b->held);
		fprintf(f, "#   recorded: managed %lu, min %lu, low %lu, high %lu",
		        z->managed, z->min, z->low, z->high);
		if (c)
			fprintf(f, "; CPU %ld's list high %ld (%ld..%ld), batch %ld",
			        c->cpu, c->high, c->high_min, c->high_max, c->batch);
		fprintf(f, "\n#   built:    managed %lu, min %lu, low %lu, high %lu",
		        b->zi.managed - b->held, b->zi.min, b->zi.low, b->zi.high);
		if (b->built && (c = first_pcp(b->built)))
			fprintf(f, "; CPU %ld's list high %ld (%ld..%ld), batch %ld",
			        c->cpu, c->high, c->high_min, c->high_max, c->batch);
		fputc('\n', f);
	}
	machine_notes(r, f, "# note: ");
}

/* ---------------------------------------------------------------- */
/* The end state                                                     */

static char *capture_report(struct za *za, enum za_report what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (za_report(za, what, f))
		fputs("(report failed)\n", f);
	fclose(f);
	return buf;
}

static int capture_check(struct za *za, char **msg)
{
	size_t len = 0;
	FILE *f = open_memstream(msg, &len);
	int rc = za_check(za, f);
	if (f)
		fclose(f);
	return rc;
}

static void collect_end_state(struct run *r)
{
	unsigned nid, k, o;
	int z;

	for (k = 0; k < ZA_NR_EVENTS; k++)
		r->ev[k] = za_event_count(r->za, (enum za_event)k) - r->ev_base[k];
	r->buddyinfo = capture_report(r->za, ZA_REPORT_BUDDYINFO);
	for (nid = 0; nid < za_nr_nodes(r->za); nid++) {
		for (z = 0; z < ZA_NR_ZONES; z++) {
			struct zone_end *ze = &r->zones[r->nr_zones];
			if (za_zone_info(r->za, (int)nid, (enum za_zone_type)z, &ze->zi) ||
			    !ze->zi.populated)
				continue;
			ze->nid = (int)nid;
			ze->zone = (enum za_zone_type)z;
			r->nr_zones++;
			for (o = 0; o <= za_max_order(r->za) && o <= ZA_MAX_ORDER_LIMIT;
			     o++) {
				unsigned long long pages =
				    (unsigned long long)ze->zi.nr_free[o] << o;
				r->free_pages += pages;
				if (o >= FRAG_ORDER)
					r->free_large += pages;
			}
			r->pcp_pages += ze->zi.pcp_pages;
		}
	}
	/* with the allocations the trace never freed still held */
	r->check_live = capture_check(r->za, &r->check_live_msg);

	/* Then give everything back: a zone must be whole again, every page
	 * free on the buddy lists, or a page went missing. */
	simcpu_thread_start(0, 1, 0);
	for (k = 0; k < r->ops.nr_recs; k++) {
		if (r->recs[k].page) {
			za_free_pages(r->za, r->recs[k].page, r->recs[k].order);
			r->recs[k].page = NULL;
		}
	}
	free_held(r);
	za_drain_all_pages(r->za);
	za_vmstat_fold(r->za);
	r->after_free = r->after_managed = 0;
	for (k = 0; k < r->nr_zones; k++) {
		struct za_zone_info zi;
		if (za_zone_info(r->za, r->zones[k].nid, r->zones[k].zone, &zi))
			continue;
		r->after_free += zi.free;
		r->after_managed += zi.managed;
	}
	r->whole_again = r->after_free == r->after_managed;
	r->check_after = capture_check(r->za, &r->check_after_msg);
}

/* ---------------------------------------------------------------- */
/* Reports                                                           */

static double per1000(unsigned long long n, unsigned long long d)
{
	return d ? 1000.0 * (double)n / (double)d : 0.0;
}

/* The figures both reports print, computed once. */
struct figures {
	unsigned long long k_allocs, k_pages, k_refill, k_drain, k_lock_min;
	unsigned long long z_allocs, z_pages, z_refill, z_flush, z_drain, z_lock;
	unsigned long long replayed;
	unsigned long long failed; /* allocations zonealloc failed, all orders */
};

static void figures(const struct run *r, struct figures *f)
{
	const struct trace_stats *st = &r->tr.st;

	const struct tally *t = &r->total;
	unsigned k;

	/* Allocations are calls that got memory, on both sides: zonealloc's
	 * pgalloc counts pages, as the kernel's vmstat does, so it is shown
	 * beside the kernel's pages, not used to divide. */
	f->k_allocs = st->by_type[TRACE_ALLOC] - st->kernel_alloc_failed;
	f->k_pages = 0;
	for (k = 0; k <= TRACE_MAX_ORDER; k++)
		f->k_pages += (unsigned long long)st->alloc_by_order[k] << k;
	f->z_allocs = t->allocs;
	for (k = 0; k <= TRACE_MAX_ORDER; k++)
		f->z_allocs -= t->failed[k];
	f->z_pages = r->ev[ZA_PGALLOC];
	f->k_refill = st->refill_pages;
	f->k_drain = st->pages_by_type[TRACE_PCPU_DRAIN];
	f->k_lock_min = r->kb.refill_batches + r->kb.drain_batches + r->kb.direct;
	f->z_refill = r->ev[ZA_PCP_REFILL_PAGES];
	f->z_flush = r->ev[ZA_PCP_FLUSH_PAGES];
	f->z_drain = r->ev[ZA_PCP_DRAIN_PAGES];
	f->z_lock = r->ev[ZA_ZONE_LOCK];
	f->replayed = r->ops.st.alloc_events + r->ops.st.free_events;
	f->failed = 0;
	for (k = 0; k <= TRACE_MAX_ORDER; k++)
		f->failed += t->failed[k];
}

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

static void text_line_list(FILE *f, const uint64_t *lines, uint64_t n,
                           const char *const *why)
{
	uint64_t k;
	for (k = 0; k < n && k < TRACE_FIRST_LINES; k++) {
		fprintf(f, "%sline %llu", k ? ", " : " (first: ", ull(lines[k]));
		if (why && why[k])
			fprintf(f, " %s", why[k]);
	}
	if (n)
		fprintf(f, "%s)", n > TRACE_FIRST_LINES ? ", ..." : "");
}

/* "zonealloc replay of FILE (xz, 1.2 MiB, 9.8 MiB of text)" */
static void text_input(const struct run *r, FILE *f)
{
	char b1[32], b2[32];

	fprintf(f, "zonealloc replay of %s (%s", r->o.path,
	        trace_compression_name(r->tr.comp));
	if (r->tr.comp != TRACE_PLAIN)
		fprintf(f, ", %s", fmt_size(r->tr.bytes_in, b1, sizeof(b1)));
	fprintf(f, ", %s of text%s)\n\n",
	        fmt_size(r->tr.bytes_out, b2, sizeof(b2)),
	        r->o.limit && r->tr.nr >= r->o.limit ? ", stopped at --limit"
	                                             : "");
}

/* What the trace held, line by line. */
static void text_trace(const struct run *r, FILE *f)
{
	const struct trace_stats *st = &r->tr.st;

	fprintf(f, "Trace: %llu lines\n", ull(st->lines));
	fprintf(f, "  %-28s %10llu", trace_type_name(TRACE_ALLOC),
	        ull(st->by_type[TRACE_ALLOC]));
	if (st->kernel_alloc_failed)
		fprintf(f, "  (%llu failed in the kernel)",
		        ull(st->kernel_alloc_failed));
	fputc('\n', f);
	fprintf(f, "  %-28s %10llu\n", trace_type_name(TRACE_FREE),
	        ull(st->by_type[TRACE_FREE]));
	fprintf(f, "  %-28s %10llu\n", trace_type_name(TRACE_FREE_BATCHED),
	        ull(st->by_type[TRACE_FREE_BATCHED]));
	fprintf(f, "  %-28s %10llu  (%llu pcp refills, %llu pages)\n",
	        trace_type_name(TRACE_ZONE_LOCKED),
	        ull(st->by_type[TRACE_ZONE_LOCKED]), ull(st->refill_events),
	        ull(st->refill_pages));
	fprintf(f, "  %-28s %10llu  (%llu pages)\n",
	        trace_type_name(TRACE_PCPU_DRAIN),
	        ull(st->by_type[TRACE_PCPU_DRAIN]),
	        ull(st->pages_by_type[TRACE_PCPU_DRAIN]));
	fprintf(f, "  %-28s %10llu\n", "other events", ull(st->other));
	fprintf(f, "  %-28s %10llu\n", "comments and blank lines",
	        ull(st->comment + st->blank));
	fprintf(f, "  %-28s %10llu", "lines not understood", ull(st->unknown));
	text_line_list(f, st->unknown_line, st->unknown, NULL);
	fprintf(f, "\n  %-28s %10llu", "malformed event lines",
	        ull(st->malformed));
	text_line_list(f, st->malformed_line, st->malformed, st->malformed_why);
	fprintf(f, "\n  %-28s %10llu\n", "events lost by the kernel",
	        ull(st->lost_events));
	if (st->unknown_gfp_names)
		fprintf(f, "  %-28s %10llu\n", "unknown gfp flag names",
		        ull(st->unknown_gfp_names));
	fprintf(f, "  CPUs 0-%d, pfns below %#llx, largest order %u\n\n",
	        st->max_cpu, ull(st->max_pfn_end), st->max_order);
}

/* The machine the replay ran on. */
static void text_topology(const struct run *r, FILE *f)
{
	fprintf(f, "Topology (%s; mode %s):\n",
	        r->recorded ? "the recorded machine's"
	        : r->mach   ? "zonealloc's own, --topology ours"
	                    : "from the trace",
	        r->o.mode == MODE_DET ? "det, one thread switching CPUs"
	                              : "threads, one per CPU");
	if (r->recorded)
		describe_recorded(r, f);
	else
		topo_describe(r->topo, f);
	if (r->o.pcp_high || r->o.pcp_batch) {
		unsigned h, b;
		pcp_fixed_sizes(r->o.pcp_high, r->o.pcp_batch, &h, &b);
		fprintf(f,
		        "  per-CPU lists fixed (--pcp-high, --pcp-batch): high %u, "
		        "batch %u pages\n",
		        h, b);
	}
	fputc('\n', f);
}

/* What was replayed, what failed, how frees matched. */
static void text_replay(const struct run *r, const struct figures *fg, FILE *f)
{
	const struct trace_match_stats *ms = &r->ops.st;
	const struct tally *t = &r->total;
	unsigned k;

	fprintf(f, "Replay:\n");
	fprintf(f, "  %-28s %10llu  (alloc and free events; %llu operations)\n",
	        "events replayed", fg->replayed, ull(t->ops));
	fprintf(f, "  %-28s %10llu  failed %llu", "allocations", ull(t->allocs),
	        fg->failed);
	if (fg->failed) {
		fprintf(f, " (by order:");
		for (k = 0; k <= TRACE_MAX_ORDER; k++)
			if (t->failed[k])
				fprintf(f, " %u:%llu", k, ull(t->failed[k]));
		fprintf(f, ")");
		if (t->rejected)
			fprintf(f, ", %llu refused as invalid", ull(t->rejected));
		if (t->too_big)
			fprintf(f, ", %llu above max order %u", ull(t->too_big),
			        r->max_order);
	}
	fputc('\n', f);
	if (r->o.prefragment)
		fprintf(f,
		        "  %-28s %10llu  (order-0 blocks filled before the "
		        "replay, %u%% of memory; %llu held, %llu of them unmovable)\n",
		        "prefragmented", r->pre_filled, r->o.prefragment, r->pre_held,
		        r->pre_unmovable_held);
	if (r->o.compaction)
		fprintf(f,
		        "  %-28s %10llu  (%llu of them prefragment blocks; "
		        "compact_stall %llu, compact_success %llu, compact_fail "
		        "%llu)\n",
		        "blocks compaction moved", r->moved, r->moved_pre,
		        ull(r->ev[ZA_COMPACT_STALL]), ull(r->ev[ZA_COMPACT_SUCCESS]),
		        ull(r->ev[ZA_COMPACT_FAIL]));
	fprintf(f, "  %-28s %10llu  (%llu whole, %llu in parts)\n",
	        "frees matching an alloc",
	        ull(ms->frees_exact + ms->frees_partial), ull(ms->frees_exact),
	        ull(ms->frees_partial));
	fprintf(f, "  %-28s %10llu  (pages allocated before the trace began)\n",
	        "unmatched frees", ull(ms->frees_unmatched));
	if (r->o.stream || r->o.skip_unmatched)
		fprintf(f, "  %-28s %10s  (%s)\n", "stand-in blocks", "none",
		        r->o.stream ? "--stream skips the unmatched frees"
		                    : "--skip-unmatched: skipped");
	else
		fprintf(f,
		        "  %-28s %10llu  (%llu pages, for the unmatched frees: "
		        "allocated before\n  %-28s %10s   the first event; %llu freed "
		        "where the trace frees them)\n"
		        "    %-26s %10llu  (the others movable); %llu in another "
		        "zone, %llu failed\n",
		        "stand-in blocks", r->standin_ok, r->standin_pages, "", "",
		        ull(t->standin_frees), "mobility from the trace",
		        ull(r->ops.standin_mt_known), r->standin_other_zone,
		        r->standin_failed);
	if (r->recorded && !r->o.empty_lists)
		fprintf(f,
		        "  %-28s %10llu  (pages on the per-CPU lists at the start, as "
		        "the recorded\n  %-28s %10s   kernel's; %llu lists given its "
		        "high; %llu pages did not fit)\n",
		        "lists started warm", r->warm_pages, "", "", r->warm_lists,
		        r->warm_short);
	else if (r->recorded)
		fprintf(f, "  %-28s %10s  (--empty-lists)\n", "lists started warm",
		        "no");
	if (r->o.mode == MODE_DET)
		fprintf(f, "  %-28s %10llu  (%s)\n", "decay passes", r->decay_passes,
		        r->o.no_decay ? "--no-decay"
		                      : "one a second of the trace's time");
	fprintf(f, "  %-28s %10llu  (%llu pages: the trace never frees them)\n",
	        "never-freed allocations", ull(ms->never_freed),
	        ull(ms->never_freed_pages));
	if (ms->implicit_frees)
		fprintf(f,
		        "  %-28s %10llu  (pages handed out again: free events "
		        "lost)\n",
		        "implied frees", ull(ms->implicit_frees));
	if (t->frees_of_failed)
		fprintf(f, "  %-28s %10llu\n", "frees of failed allocations",
		        ull(t->frees_of_failed));
	fprintf(f, "  %-28s %10llu\n", "__GFP_NOFAIL not passed on",
	        ull(ms->nofail_stripped));
	if (r->o.mode == MODE_THREADS)
		fprintf(f, "  %-28s %10llu\n", "frees that waited", ull(t->waits));
	if (r->o.stream)
		fprintf(f, "  %-28s %10zu  (%zu bytes of table, %.0f a block)\n",
		        "streamed: most blocks live", r->stream_peak_live,
		        r->stream_peak_bytes,
		        r->stream_peak_live ? (double)r->stream_peak_bytes /
		                                  (double)r->stream_peak_live
		                            : 0.0);
	if (r->misuse) {
		fprintf(f, "  %-28s %10llu\n", "MISUSE REPORTED", ull(r->misuse));
		for (k = 0; k < MISUSE_KEEP && k < r->misuse; k++)
			fprintf(f, "    %s\n", r->misuse_msg[k]);
	}
	fputc('\n', f);
}

/* zonealloc's per-CPU and buddy list traffic beside the kernel's. */
static void text_lists(const struct run *r, const struct figures *fg, FILE *f)
{
	char b1[32], b2[32];

	fprintf(f, "Per-CPU lists and buddy lists, per 1000 allocations:\n");
	fprintf(f, "  %-36s %14s %14s\n", "", "zonealloc", "kernel");
	fprintf(f, "  %-36s %14.1f %14.1f\n", "pages refilled, buddy -> pcp",
	        per1000(fg->z_refill, fg->z_allocs),
	        per1000(fg->k_refill, fg->k_allocs));
	fprintf(f, "  %-36s %14.1f %14.1f\n", "pages returned, pcp -> buddy",
	        per1000(fg->z_flush + fg->z_drain, fg->z_allocs),
	        per1000(fg->k_drain, fg->k_allocs));
	snprintf(b1, sizeof(b1), ">= %.1f", per1000(fg->k_lock_min, fg->k_allocs));
	fprintf(f, "  %-36s %14.1f %14s\n", "zone-lock acquisitions",
	        per1000(fg->z_lock, fg->z_allocs), b1);
	fprintf(f, "Counts:\n");
	fprintf(f, "  %-36s %14llu %14llu\n", "allocations", fg->z_allocs,
	        fg->k_allocs);
	fprintf(f, "  %-36s %14llu %14llu\n", "pages allocated", fg->z_pages,
	        fg->k_pages);
	snprintf(b1, sizeof(b1), "%llu", fg->z_refill);
	snprintf(b2, sizeof(b2), "%llu", fg->k_refill);
	fprintf(f, "  %-36s %14s %14s\n", "pages refilled", b1, b2);
	fprintf(f, "  %-36s %14llu %14llu\n", "  in batches (one zone lock each)",
	        ull(r->ev[ZA_PCP_REFILL]), ull(r->kb.refill_batches));
	fprintf(f, "  %-36s %14llu %14llu\n", "pages returned",
	        fg->z_flush + fg->z_drain, fg->k_drain);
	fprintf(f, "  %-36s %14llu %14llu\n", "  in batches (one zone lock each)",
	        ull(r->ev[ZA_PCP_FLUSH] + r->ev[ZA_PCP_DRAIN]),
	        ull(r->kb.drain_batches));
	fprintf(f, "  %-36s %14llu %14s\n", "  of which drained, not flushed",
	        fg->z_drain, "-");
	fprintf(f, "  %-36s %14s %14llu\n", "allocations straight from buddy", "-",
	        ull(r->kb.direct));
	snprintf(b1, sizeof(b1), ">= %llu", fg->k_lock_min);
	fprintf(f, "  %-36s %14llu %14s\n\n", "zone-lock acquisitions", fg->z_lock,
	        b1);
}

/* cpu's list of a zone in a recorded zoneinfo (start or end), or NULL
 * when it does not say. */
static const struct machine_pcp *kernel_pcp(const struct machine_zones *zs,
                                            int nid, enum za_zone_type zone,
                                            unsigned cpu)
{
	unsigned k;

	for (k = 0; k < zs->nr; k++) {
		const struct machine_zone *z = &zs->z[k];
		if (z->nid == nid && z->type == (int)zone)
			return recorded_pcp(z, cpu);
	}
	return NULL;
}

/* The kernel's high (or count) of that list, -1 when it does not say. */
static long kernel_high(const struct machine_zones *zs, int nid,
                        enum za_zone_type zone, unsigned cpu)
{
	const struct machine_pcp *p = kernel_pcp(zs, nid, zone, cpu);
	return p ? p->high : -1;
}

static long kernel_count(const struct machine_zones *zs, int nid,
                         enum za_zone_type zone, unsigned cpu)
{
	const struct machine_pcp *p = kernel_pcp(zs, nid, zone, cpu);
	return p ? p->count : -1;
}

/* One row of the peak table: the kernel's highs of the recorded machine
 * (only when it is the machine replayed: the same CPUs). */
static void peak_kernel(const struct run *r, unsigned k, unsigned cpu,
                        long *start, long *end)
{
	*start = *end = -1;
	if (!r->recorded)
		return;
	*start = kernel_high(&r->mach->zones, r->peak_zone[k].nid,
	                     r->peak_zone[k].zone, cpu);
	*end = kernel_high(&r->mach->end_zones, r->peak_zone[k].nid,
	                   r->peak_zone[k].zone, cpu);
}

/* One row's kernel peaks, as record's looks at zoneinfo saw them: the
 * most pages the list held and its highest high (-1 when the recording
 * has no looks, or it is not the machine replayed). */
static void peak_kernel_looked(const struct run *r, unsigned k, unsigned cpu,
                               long *count, long *high)
{
	const struct machine_pcp *p = NULL;

	if (r->recorded && r->mach->peak_zones.nr)
		p = kernel_pcp(&r->mach->peak_zones, r->peak_zone[k].nid,
		               r->peak_zone[k].zone, cpu);
	*count = p ? p->count : -1;
	*high = p ? p->high : -1;
}

static void text_peak(const struct run *r, FILE *f)
{
	unsigned k, c;

	if (!r->peak)
		return;
	fprintf(f, "Per-CPU lists, the most pages each held between two "
	           "operations:\n");
	fprintf(f, "  %-18s %4s %10s %10s %15s %10s %15s %10s\n", "zone", "CPU",
	        "zonealloc", "its high", "kernel's high:", "at end",
	        "kernel, looked:", "top high");
	fprintf(f, "  %-18s %4s %10s %10s %15s %10s %15s %10s\n", "", "", "",
	        "then", "at start", "", "most pages", "");
	for (k = 0; k < r->nr_peak_zones; k++) {
		for (c = 0; c < r->ncpu; c++) {
			size_t at = (size_t)k * r->ncpu + c;
			char name[32], b1[24], b2[24], b3[24], b4[24];
			long ks, ke, lc, lh;
			peak_kernel(r, k, c, &ks, &ke);
			peak_kernel_looked(r, k, c, &lc, &lh);
			snprintf(name, sizeof(name), "node %d %s", r->peak_zone[k].nid,
			         topo_zone_name(r->peak_zone[k].zone));
			snprintf(b1, sizeof(b1), ks < 0 ? "-" : "%ld", ks);
			snprintf(b2, sizeof(b2), ke < 0 ? "-" : "%ld", ke);
			snprintf(b3, sizeof(b3), lc < 0 ? "-" : "%ld", lc);
			snprintf(b4, sizeof(b4), lh < 0 ? "-" : "%ld", lh);
			fprintf(f, "  %-18s %4u %10u %10u %15s %10s %15s %10s\n", name, c,
			        r->peak[at], r->peak_high[at], b1, b2, b3, b4);
		}
	}
	if (r->recorded && r->mach->peak_zones.nr)
		fprintf(f,
		        "  (the kernel's lists looked at %u times, every %u ms: "
		        "their true peaks fall between the looks)\n",
		        r->mach->peak_samples, r->mach->peak_interval_ms);
	fputc('\n', f);
}

static void text_fragmentation(const struct run *r, FILE *f)
{
	fprintf(f, "Fragmentation at the end (never-freed allocations held):\n");
	if (r->buddyinfo)
		fputs(r->buddyinfo, f);
	fprintf(f,
	        "  free pages in blocks of order >= %d: %.1f%% (%llu of %llu "
	        "on the buddy lists; %llu more on per-CPU lists)\n\n",
	        FRAG_ORDER,
	        r->free_pages
	            ? 100.0 * (double)r->free_large / (double)r->free_pages
	            : 0.0,
	        r->free_large, r->free_pages, r->pcp_pages);
}

/* Timing (unless --no-timing) and the checks at the end. */
static void text_check(const struct run *r, const struct figures *fg, FILE *f)
{
	const struct tally *t = &r->total;

	if (r->o.timing) {
		fprintf(f,
		        "Timing: read %.2f s, match %.2f s, replay %.2f s "
		        "(%.0f events/s, %.0f operations/s)\n",
		        r->t_read, r->t_match, r->t_replay,
		        r->t_replay > 0 ? (double)fg->replayed / r->t_replay : 0.0,
		        r->t_replay > 0 ? (double)t->ops / r->t_replay : 0.0);
	}
	fprintf(f,
	        "Check: za_check with the live allocations: %s; after freeing "
	        "them, %llu of %llu\n  managed pages free: %s; za_check: %s\n",
	        r->check_live ? "FAILED" : "ok", r->after_free, r->after_managed,
	        r->whole_again ? "ok" : "PAGES MISSING",
	        r->check_after ? "FAILED" : "ok");
}

/* The counters compared in the compaction section: zonealloc's compact_*
 * and pgmigrate_* events, which carry the kernel's names. */
static int compaction_event(enum za_event e)
{
	const char *n = za_event_name(e);
	return n && (!strncmp(n, "compact_", 8) || !strncmp(n, "pgmigrate_", 10));
}

/* What the recorded kernel's counter did during the capture: 1 and *d
 * when the header has it at both ends. */
static int kernel_delta(const struct run *r, const char *name,
                        unsigned long long *d)
{
	const struct machine_counter *c = r->mach ? machine_counter(r->mach, name)
	                                          : NULL;
	if (!c || !c->have_start || !c->have_end)
		return 0;
	*d = c->end >= c->start ? c->end - c->start : 0;
	return 1;
}

/* Whether a kernel counter of the header is one of zonealloc's events. */
static int ours(const char *name)
{
	int e = za_event_lookup(name);
	return e >= 0 && compaction_event((enum za_event)e);
}

/* zonealloc's compaction counters for the replay beside the recorded
 * kernel's around the capture (recordings whose header has /proc/vmstat),
 * and the kernel's huge-page counters. */
static void text_compaction(const struct run *r, FILE *f)
{
	int have_kernel = 0;
	unsigned long long d;
	unsigned k, thp = 0, thp_zero = 0;

	for (k = 0; r->mach && k < r->mach->nr_vmstat; k++)
		if (r->mach->vmstat[k].have_start && r->mach->vmstat[k].have_end)
			have_kernel = 1;
	if (!have_kernel && !r->o.compaction)
		return;
	fprintf(f,
	        "Compaction: zonealloc's in the replay (%s) beside the "
	        "kernel's %s:\n",
	        r->o.compaction ? "on, --compaction" : "off",
	        have_kernel ? "in the recording (/proc/vmstat at its start and "
	                      "end)"
	                    : "(not recorded: no /proc/vmstat in the trace)");
	fprintf(f, "  %-34s %12s %12s\n", "", "zonealloc", "kernel");
	for (int e = 0; e < ZA_NR_EVENTS; e++) {
		const char *n = za_event_name((enum za_event)e);
		if (!compaction_event((enum za_event)e))
			continue;
		fprintf(f, "  %-34s %12llu ", n, ull(r->ev[e]));
		if (kernel_delta(r, n, &d))
			fprintf(f, "%12llu\n", d);
		else
			fprintf(f, "%12s\n", "-");
	}
	for (k = 0; r->mach && k < r->mach->nr_vmstat; k++) {
		const char *n = r->mach->vmstat[k].name;
		if (!kernel_delta(r, n, &d) || ours(n))
			continue;
		if (!strncmp(n, "thp_", 4)) {
			thp++;
			continue;
		}
		fprintf(f, "  %-34s %12s %12llu\n", n, "-", d);
	}
	if (thp) {
		fprintf(f, "  the kernel's huge pages during the recording:\n");
		for (k = 0; k < r->mach->nr_vmstat; k++) {
			const char *n = r->mach->vmstat[k].name;
			if (strncmp(n, "thp_", 4) || !kernel_delta(r, n, &d))
				continue;
			if (!d) {
				thp_zero++;
				continue;
			}
			fprintf(f, "  %-34s %12s %12llu\n", n, "-", d);
		}
		if (thp_zero)
			fprintf(f, "  (%u other thp_* counters did not move)\n", thp_zero);
	}
	fputc('\n', f);
}

static void report_text(const struct run *r, FILE *f)
{
	struct figures fg;

	figures(r, &fg);
	text_input(r, f);
	text_trace(r, f);
	text_topology(r, f);
	text_replay(r, &fg, f);
	text_compaction(r, f);
	text_lists(r, &fg, f);
	text_peak(r, f);
	text_fragmentation(r, f);
	text_check(r, &fg, f);
}

/* The recorded machine, and (with --topology recorded) what was built
 * from it, zone by zone. */
static void json_machine(const struct run *r, struct jw *w)
{
	const struct machine *m = r->mach;
	unsigned k;

	jw_open(w, "recorded_machine", '{');
	jw_s(w, "kernel", m->kernel);
	jw_s(w, "kernel_build", m->kernel_build);
	jw_s(w, "arch", m->arch);
	jw_u(w, "page_size", m->page_size);
	jw_u(w, "cpus", m->cpus_possible);
	jw_i(w, "min_free_kbytes", m->min_free_kbytes);
	jw_i(w, "watermark_scale_factor", m->watermark_scale_factor);
	jw_i(w, "percpu_pagelist_high_fraction", m->percpu_pagelist_high_fraction);
	jw_i(w, "watermark_boost_factor", m->watermark_boost_factor);
	jw_s(w, "lowmem_reserve_ratio",
	     m->lowmem_reserve_ratio[0] ? m->lowmem_reserve_ratio : NULL);
	/* what the replay ran with (read back from the allocator): the
	 * recorded values, but for one an option set or the library refused */
	jw_open(w, "replayed_sysctls", '{');
	for (k = 0; k < RT_NR; k++)
		if (r->rtun[k].state != RT_ABSENT)
			jw_s(w, r->rtun[k].name, r->rtun[k].now);
	jw_close(w, '}');
	jw_s(w, "command", m->command[0] ? m->command : NULL);
	jw_s(w, "started", m->started[0] ? m->started : NULL);
	jw_d(w, "seconds", m->end_seconds);
	jw_u(w, "lost_events", m->end_lost);
	jw_s(w, "stopped_by", m->end_stop);
	jw_open(w, "zones", '[');
	for (k = 0; k < m->zones.nr; k++) {
		const struct machine_zone *z = &m->zones.z[k];
		const struct machine_pcp *c = first_pcp(z);
		unsigned j;

		if (!z->managed)
			continue;
		jw_open(w, NULL, '{');
		jw_i(w, "node", z->nid);
		jw_s(w, "zone", z->name);
		jw_u(w, "start_pfn", z->start_pfn);
		jw_u(w, "spanned", z->spanned);
		jw_u(w, "present", z->present);
		jw_u(w, "managed", z->managed);
		jw_u(w, "min", z->min);
		jw_u(w, "low", z->low);
		jw_u(w, "high", z->high);
		if (c) {
			jw_i(w, "pcp_cpu", c->cpu);
			jw_i(w, "pcp_high", c->high);
			jw_i(w, "pcp_batch", c->batch);
			jw_i(w, "pcp_high_min", c->high_min);
			jw_i(w, "pcp_high_max", c->high_max);
		}
		for (j = 0; j < r->nr_bz; j++) {
			const struct built_zone *b = &r->bz[j];
			if (b->mz != z)
				continue;
			jw_open(w, "built", '{');
			jw_u(w, "start_pfn", b->start_pfn);
			jw_u(w, "pages", b->pages);
			jw_u(w, "held_back", b->held);
			jw_u(w, "managed", b->zi.managed - b->held);
			jw_u(w, "min", b->zi.min);
			jw_u(w, "low", b->zi.low);
			jw_u(w, "high", b->zi.high);
			if (b->built && (c = first_pcp(b->built))) {
				jw_i(w, "pcp_high", c->high);
				jw_i(w, "pcp_batch", c->batch);
				jw_i(w, "pcp_high_min", c->high_min);
				jw_i(w, "pcp_high_max", c->high_max);
			}
			jw_close(w, '}');
		}
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

/* Sections of the JSON report, in its order. */
static void json_input(const struct run *r, struct jw *w)
{
	jw_open(w, "input", '{');
	jw_s(w, "file", r->o.path);
	jw_s(w, "compression", trace_compression_name(r->tr.comp));
	jw_u(w, "bytes_read", r->tr.bytes_in);
	jw_u(w, "bytes_text", r->tr.bytes_out);
	jw_u(w, "limit", r->o.limit);
	jw_close(w, '}');
}

static void json_trace(const struct run *r, struct jw *w)
{
	const struct trace_stats *st = &r->tr.st;
	unsigned k;

	jw_open(w, "trace", '{');
	jw_u(w, "lines", st->lines);
	jw_open(w, "events", '{');
	for (k = 0; k < TRACE_NR_TYPES; k++)
		jw_u(w, trace_type_name((enum trace_type)k), st->by_type[k]);
	jw_close(w, '}');
	jw_u(w, "events_total", r->tr.nr);
	jw_u(w, "kernel_alloc_failed", st->kernel_alloc_failed);
	jw_u(w, "pcp_refill_events", st->refill_events);
	jw_u(w, "pcp_refill_pages", st->refill_pages);
	jw_u(w, "pcp_drain_pages", st->pages_by_type[TRACE_PCPU_DRAIN]);
	jw_u(w, "other_events", st->other);
	jw_u(w, "comment_lines", st->comment);
	jw_u(w, "blank_lines", st->blank);
	jw_u(w, "lines_not_understood", st->unknown);
	jw_open(w, "lines_not_understood_first", '[');
	for (k = 0; k < st->unknown && k < TRACE_FIRST_LINES; k++)
		jw_u(w, NULL, st->unknown_line[k]);
	jw_close(w, ']');
	jw_u(w, "lines_malformed", st->malformed);
	jw_open(w, "lines_malformed_first", '[');
	for (k = 0; k < st->malformed && k < TRACE_FIRST_LINES; k++) {
		jw_open(w, NULL, '{');
		jw_u(w, "line", st->malformed_line[k]);
		jw_s(w, "why", st->malformed_why[k]);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_u(w, "lost_events", st->lost_events);
	jw_u(w, "unknown_gfp_names", st->unknown_gfp_names);
	jw_i(w, "max_cpu", st->max_cpu);
	jw_u(w, "max_pfn_end", st->max_pfn_end);
	jw_u(w, "max_order", st->max_order);
	jw_open(w, "allocs_by_order", '[');
	for (k = 0; k <= st->max_order; k++)
		jw_u(w, NULL, st->alloc_by_order[k]);
	jw_close(w, ']');
	jw_close(w, '}');
}

static void json_topology(const struct run *r, struct jw *w)
{
	unsigned k;

	jw_open(w, "topology", '{');
	jw_s(w, "source", r->recorded ? "recorded" : r->mach ? "ours" : "trace");
	jw_s(w, "mode", r->o.mode == MODE_DET ? "det" : "threads");
	jw_u(w, "nodes", r->topo->o.nodes);
	jw_u(w, "cpus", r->ncpu);
	jw_u(w, "mem_bytes_per_node", r->topo->o.mem);
	jw_u(w, "page_size", r->topo->page_size);
	jw_u(w, "block_pages", r->topo->block_pages);
	jw_u(w, "max_order", r->max_order);
	jw_b(w, "frames_only", r->topo->o.frames_only);
	jw_b(w, "mem_capped", r->mem_capped);
	if (r->o.pcp_high || r->o.pcp_batch) {
		unsigned h, b;
		pcp_fixed_sizes(r->o.pcp_high, r->o.pcp_batch, &h, &b);
		jw_u(w, "pcp_fixed_high", h);
		jw_u(w, "pcp_fixed_batch", b);
	}
	jw_open(w, "ranges", '[');
	for (k = 0; k < r->topo->nr_ranges; k++) {
		const struct topo_range *rg = &r->topo->range[k];
		jw_open(w, NULL, '{');
		jw_i(w, "node", rg->nid);
		jw_s(w, "zone", topo_zone_name(rg->zone));
		jw_u(w, "start_pfn", rg->start_pfn);
		jw_u(w, "pages", rg->nr_pages);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	if (r->mach)
		json_machine(r, w);
	jw_close(w, '}');
}

static void json_replay(const struct run *r, const struct figures *fg,
                        struct jw *w)
{
	const struct trace_stats *st = &r->tr.st;
	const struct trace_match_stats *ms = &r->ops.st;
	const struct tally *t = &r->total;
	unsigned k;

	jw_open(w, "replay", '{');
	jw_u(w, "events_replayed", fg->replayed);
	jw_u(w, "operations", t->ops);
	jw_u(w, "allocations", t->allocs);
	jw_u(w, "alloc_failures", fg->failed);
	jw_open(w, "alloc_failures_by_order", '[');
	for (k = 0; k <= st->max_order; k++)
		jw_u(w, NULL, t->failed[k]);
	jw_close(w, ']');
	jw_u(w, "alloc_refused_invalid", t->rejected);
	jw_u(w, "alloc_above_max_order", t->too_big);
	jw_b(w, "compaction", r->o.compaction);
	jw_u(w, "compaction_moved", r->moved);
	jw_u(w, "compaction_moved_prefragment", r->moved_pre);
	jw_u(w, "prefragment_pct", r->o.prefragment);
	jw_u(w, "prefragment_unmovable_pct", r->o.prefragment_unmovable);
	jw_u(w, "prefragment_filled", r->pre_filled);
	jw_u(w, "prefragment_held", r->pre_held);
	jw_u(w, "prefragment_unmovable_held", r->pre_unmovable_held);
	jw_u(w, "free_events", ms->free_events);
	jw_u(w, "frees", t->frees);
	jw_u(w, "frees_whole", ms->frees_exact);
	jw_u(w, "frees_in_parts", ms->frees_partial);
	jw_u(w, "frees_unmatched", ms->frees_unmatched);
	jw_b(w, "standins_on", !r->o.skip_unmatched && !r->o.stream);
	jw_u(w, "standins", r->standin_ok);
	jw_u(w, "standin_frees", r->total.standin_frees);
	jw_u(w, "standin_pages", r->standin_pages);
	jw_u(w, "standin_mobility_known", r->ops.standin_mt_known);
	jw_u(w, "standin_other_zone", r->standin_other_zone);
	jw_u(w, "standin_failed", r->standin_failed);
	jw_b(w, "warm_lists_on", r->recorded && !r->o.empty_lists);
	jw_u(w, "warm_lists", r->warm_lists);
	jw_u(w, "warm_pages", r->warm_pages);
	jw_u(w, "warm_pages_short", r->warm_short);
	jw_b(w, "decay_on", r->o.mode == MODE_DET && !r->o.no_decay);
	jw_u(w, "decay_passes", r->decay_passes);
	jw_u(w, "frees_of_failed_allocations", t->frees_of_failed);
	jw_u(w, "implied_frees", ms->implicit_frees);
	jw_u(w, "never_freed", ms->never_freed);
	jw_u(w, "never_freed_pages", ms->never_freed_pages);
	jw_u(w, "nofail_stripped", ms->nofail_stripped);
	if (r->o.mode == MODE_THREADS)
		jw_u(w, "frees_that_waited", t->waits);
	if (r->o.stream) {
		jw_u(w, "stream_peak_live_blocks", r->stream_peak_live);
		jw_u(w, "stream_peak_table_bytes", r->stream_peak_bytes);
		jw_d(w, "stream_bytes_per_live_block",
		     r->stream_peak_live
		         ? (double)r->stream_peak_bytes / (double)r->stream_peak_live
		         : 0.0);
	}
	jw_u(w, "misuse_reports", r->misuse);
	jw_open(w, "misuse_first", '[');
	for (k = 0; k < MISUSE_KEEP && k < r->misuse; k++)
		jw_s(w, NULL, r->misuse_msg[k]);
	jw_close(w, ']');
	jw_close(w, '}');
}

/* The compaction section: zonealloc's counters for the replay, and the
 * recorded kernel's vmstat counters at the start and end of the capture
 * (an empty list for traces without them). */
static void json_compaction(const struct run *r, struct jw *w)
{
	unsigned k;

	jw_open(w, "compaction", '{');
	jw_b(w, "on", r->o.compaction);
	jw_open(w, "zonealloc", '{');
	for (int e = 0; e < ZA_NR_EVENTS; e++)
		if (compaction_event((enum za_event)e))
			jw_u(w, za_event_name((enum za_event)e), r->ev[e]);
	jw_close(w, '}');
	jw_open(w, "kernel", '[');
	for (k = 0; r->mach && k < r->mach->nr_vmstat; k++) {
		const struct machine_counter *c = &r->mach->vmstat[k];
		jw_open(w, NULL, '{');
		jw_s(w, "name", c->name);
		if (c->have_start)
			jw_u(w, "start", c->start);
		if (c->have_end)
			jw_u(w, "end", c->end);
		if (c->have_start && c->have_end)
			jw_u(w, "delta", c->end >= c->start ? c->end - c->start : 0);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

/* zonealloc's events, and per-CPU and buddy list traffic beside the
 * kernel's. */
static void json_lists(const struct run *r, const struct figures *fg,
                       struct jw *w)
{
	unsigned k;

	jw_open(w, "zonealloc_events", '{');
	for (k = 0; k < ZA_NR_EVENTS; k++)
		jw_u(w, za_event_name((enum za_event)k), r->ev[k]);
	jw_close(w, '}');

	jw_open(w, "per_1000_allocs", '{');
	jw_open(w, "zonealloc", '{');
	jw_u(w, "allocations", fg->z_allocs);
	jw_u(w, "pages_allocated", fg->z_pages);
	jw_d(w, "pages_refilled", per1000(fg->z_refill, fg->z_allocs));
	jw_d(w, "pages_returned",
	     per1000(fg->z_flush + fg->z_drain, fg->z_allocs));
	jw_d(w, "pages_flushed", per1000(fg->z_flush, fg->z_allocs));
	jw_d(w, "pages_drained", per1000(fg->z_drain, fg->z_allocs));
	jw_d(w, "zone_lock", per1000(fg->z_lock, fg->z_allocs));
	jw_close(w, '}');
	jw_open(w, "kernel", '{');
	jw_u(w, "allocations", fg->k_allocs);
	jw_u(w, "pages_allocated", fg->k_pages);
	jw_d(w, "pages_refilled", per1000(fg->k_refill, fg->k_allocs));
	jw_d(w, "pages_returned", per1000(fg->k_drain, fg->k_allocs));
	jw_d(w, "zone_lock_at_least", per1000(fg->k_lock_min, fg->k_allocs));
	jw_u(w, "refill_batches", r->kb.refill_batches);
	jw_u(w, "drain_batches", r->kb.drain_batches);
	jw_u(w, "direct_buddy_allocs", r->kb.direct);
	jw_close(w, '}');
	jw_close(w, '}');
}

static void json_fragmentation(const struct run *r, struct jw *w)
{
	unsigned k, o;

	jw_open(w, "fragmentation", '{');
	jw_u(w, "free_pages", r->free_pages);
	jw_u(w, "free_pages_order_ge_9", r->free_large);
	jw_d(w, "fraction_order_ge_9",
	     r->free_pages ? (double)r->free_large / (double)r->free_pages : 0.0);
	jw_u(w, "pcp_pages", r->pcp_pages);
	jw_open(w, "zones", '[');
	for (k = 0; k < r->nr_zones; k++) {
		const struct zone_end *ze = &r->zones[k];
		jw_open(w, NULL, '{');
		jw_i(w, "node", ze->nid);
		jw_s(w, "zone", topo_zone_name(ze->zone));
		jw_u(w, "managed", ze->zi.managed);
		jw_u(w, "free", ze->zi.free);
		jw_u(w, "pcp_pages", ze->zi.pcp_pages);
		jw_open(w, "nr_free", '[');
		for (o = 0; o <= r->max_order; o++)
			jw_u(w, NULL, ze->zi.nr_free[o]);
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_s(w, "buddyinfo", r->buddyinfo);
	jw_close(w, '}');
}

/* The checks, then timing: last, and one object, so a comparison of two
 * runs drops it easily (or run with --no-timing). */
static void json_check(const struct run *r, const struct figures *fg,
                       struct jw *w)
{
	const struct tally *t = &r->total;

	jw_open(w, "check", '{');
	jw_b(w, "live_ok", r->check_live == 0);
	jw_s(w, "live_message", r->check_live ? r->check_live_msg : NULL);
	jw_u(w, "after_free_pages", r->after_free);
	jw_u(w, "after_managed_pages", r->after_managed);
	jw_b(w, "whole_again", r->whole_again);
	jw_b(w, "after_ok", r->check_after == 0);
	jw_s(w, "after_message", r->check_after ? r->check_after_msg : NULL);
	jw_close(w, '}');

	if (r->o.timing) {
		jw_open(w, "timing", '{');
		jw_d(w, "read_seconds", r->t_read);
		jw_d(w, "match_seconds", r->t_match);
		jw_d(w, "replay_seconds", r->t_replay);
		jw_d(w, "events_per_second",
		     r->t_replay > 0 ? (double)fg->replayed / r->t_replay : 0.0);
		jw_d(w, "operations_per_second",
		     r->t_replay > 0 ? (double)t->ops / r->t_replay : 0.0);
		jw_close(w, '}');
	}
}

/* The peak table of text_peak: [] outside det mode. */
static void json_peak(const struct run *r, struct jw *w)
{
	unsigned k, c;

	jw_open(w, "pcp_peak", '[');
	for (k = 0; r->peak && k < r->nr_peak_zones; k++) {
		for (c = 0; c < r->ncpu; c++) {
			size_t at = (size_t)k * r->ncpu + c;
			long ks, ke;
			peak_kernel(r, k, c, &ks, &ke);
			jw_open(w, NULL, '{');
			jw_i(w, "node", r->peak_zone[k].nid);
			jw_s(w, "zone", topo_zone_name(r->peak_zone[k].zone));
			jw_u(w, "cpu", c);
			jw_u(w, "pages", r->peak[at]);
			jw_u(w, "high_then", r->peak_high[at]);
			jw_u(w, "start_pages", r->start_count[at]);
			jw_u(w, "start_high", r->start_high[at]);
			if (ks >= 0)
				jw_i(w, "kernel_high_start", ks);
			if (r->recorded &&
			    (ks = kernel_count(&r->mach->zones, r->peak_zone[k].nid,
			                       r->peak_zone[k].zone, c)) >= 0)
				jw_i(w, "kernel_count_start", ks);
			if (ke >= 0)
				jw_i(w, "kernel_high_end", ke);
			peak_kernel_looked(r, k, c, &ks, &ke);
			if (ks >= 0)
				jw_i(w, "kernel_looked_most_pages", ks);
			if (ke >= 0)
				jw_i(w, "kernel_looked_top_high", ke);
			jw_close(w, '}');
		}
	}
	jw_close(w, ']');
}

static void report_json(const struct run *r, FILE *f)
{
	struct jw w = { .f = f };
	struct figures fg;

	figures(r, &fg);
	jw_open(&w, NULL, '{');
	json_input(r, &w);
	json_trace(r, &w);
	json_topology(r, &w);
	json_replay(r, &fg, &w);
	json_compaction(r, &w);
	json_lists(r, &fg, &w);
	json_peak(r, &w);
	json_fragmentation(r, &w);
	json_check(r, &fg, &w);
	jw_close(&w, '}');
	fputc('\n', f);
}

/* ---------------------------------------------------------------- */
/* The command                                                       */

/* Round up to a multiple of m (a power of two). */
static unsigned long long round_up(unsigned long long v, unsigned long long m)
{
	return (v + m - 1) / m * m;
}

/* Fill in what the user left to the trace: memory up to the highest pfn
 * seen, one CPU per traced CPU number, orders as large as the trace's. */
static void fit_topology(struct run *r)
{
	struct topo_opts *o = &r->o.topo;
	const struct trace_stats *st = &r->tr.st;
	unsigned long long page = 1ull << o->page_shift;

	if (!r->o.max_order_given && st->max_order > 10)
		o->max_order = st->max_order;
	if (!r->o.block_given && o->max_order && (page << o->max_order) > o->block)
		o->block = page << o->max_order;
	if (!r->o.mem_given) {
		unsigned long long pages = st->max_pfn_end ? st->max_pfn_end : 1;
		/* pages * page, rounded up to the block, may not fit in 64
		 * bits (pfns go up to 2^52, pages up to 2^30 bytes): then it
		 * is simply more than the cap. */
		int huge = pages > (ULLONG_MAX - o->block + 1) >> o->page_shift;
		o->mem = huge ? ULLONG_MAX : round_up(pages * page, o->block);
		/* zonealloc picks its own frames, so the size only shapes the
		 * zones; one stray huge pfn must not cost gigabytes of page
		 * metadata */
		if (o->mem > MEM_CAP) {
			char b1[32], b2[32], b3[32];
			if (huge)
				snprintf(b1, sizeof(b1), "more than 16 EiB");
			else
				fmt_size(o->mem, b1, sizeof(b1));
			tool_err(CMD,
			         "the trace's highest pfn %#llx means %s of memory "
			         "at %s pages; replaying with %s (use --mem to choose)",
			         (unsigned long long)st->max_pfn_end - 1, b1,
			         fmt_size(page, b2, sizeof(b2)),
			         fmt_size(MEM_CAP, b3, sizeof(b3)));
			o->mem = MEM_CAP;
			r->mem_capped = 1;
		}
	}
	if (!r->o.cpus_given)
		o->cpus = st->max_cpu >= 0 ? (unsigned)st->max_cpu + 1 : 1;
}

/* The most pages the pairing lets the trace's allocations hold at once:
 * MEM_CAP's worth (what memory sized from the trace's pfns stops at), or
 * --mem's when more. A kernel holds no more pages than its machine has;
 * the bound is for a trace that says otherwise (order-20 lines at ever
 * new pfns), whose pairing would need 24 bytes a page. Runs before the
 * machine is sized: o.topo.mem is --mem's or the 1 GiB default. */
static uint64_t match_max_live(const struct run *r)
{
	unsigned long long mem = r->o.topo.mem > MEM_CAP ? r->o.topo.mem : MEM_CAP;
	return mem >> r->o.topo.page_shift;
}

static void match_over_err(const struct run *r)
{
	char b1[32], b2[32];
	uint64_t max = match_max_live(r);

	tool_err(CMD,
	         "line %u: the trace's allocations would hold more than %llu "
	         "pages (%s) at once; pairing allows %s, or --mem when more "
	         "(give --mem the traced machine's size)",
	         (unsigned)r->ops.st.over_line, (unsigned long long)max,
	         fmt_size(max << r->o.topo.page_shift, b1, sizeof(b1)),
	         fmt_size(MEM_CAP, b2, sizeof(b2)));
}

static void free_run(struct run *r)
{
	unsigned k;

	if (r->mach) {
		machine_free(r->mach);
		free(r->mach);
	}
	if (r->built) {
		machine_zones_free(r->built);
		free(r->built);
	}
	free(r->held);
	free(r->rev);
	free(r->pre);
	free(r->pre_unmovable);
	trace_free(&r->tr);
	trace_ops_free(&r->ops);
	if (r->topo) {
		topo_destroy(r->topo);
		free(r->topo);
	}
	free(r->recs);
	for (k = 0; k < MISUSE_KEEP; k++)
		free(r->misuse_msg[k]);
	free(r->buddyinfo);
	free(r->peak);
	free(r->peak_high);
	free(r->start_count);
	free(r->start_high);
	free(r->check_live_msg);
	free(r->check_after_msg);
	free(r->o.sweep_buf);
	pthread_mutex_destroy(&r->misuse_lock);
}

/* ---------------------------------------------------------------- */
/* Streaming (det mode, --stream)                                    */

/*
 * The trace is replayed while it is read: each allocation runs when its
 * event is read, each free when its event is. What must be kept is the
 * blocks still allocated, one entry each (24 bytes, in a table at most a
 * quarter full after it grows: under 100 bytes per live block), keyed by
 * the block's first pfn. A free finds the blocks it covers by their start
 * pfns: blocks that begin inside it, and the blocks of higher order that
 * could hold it (the kernel's blocks are aligned to their order). Pairing
 * follows trace_match() (a block is freed with its last page; a page
 * handed out again frees what held it), except that a block freed in
 * parts counts pages, not which pages: freeing the same part twice counts
 * it twice.
 *
 * The machine must be known before the first event: a recording's header,
 * or --topology ours with --mem (CPUs: --cpus or the machine's).
 */
static int build_machine(struct run *r);
static int finish(struct run *r);

struct live_ent {
	uint64_t pfn;
	struct za_page *page;
	uint32_t left; /* pages not yet freed */
	uint8_t order;
	uint8_t used;
};

struct live_map {
	struct live_ent *e;
	size_t cap, n; /* cap a power of two */
	size_t peak_n, peak_bytes;
};

static size_t live_home(uint64_t k, size_t mask)
{
	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k ^ (k >> 29)) & mask;
}

static struct live_ent *live_find(struct live_map *m, uint64_t pfn)
{
	size_t mask = m->cap - 1, i = live_home(pfn, mask);

	while (m->e[i].used) {
		if (m->e[i].pfn == pfn)
			return &m->e[i];
		i = (i + 1) & mask;
	}
	return NULL;
}

static int live_grow(struct live_map *m, size_t cap)
{
	struct live_ent *old = m->e, *e = calloc(cap, sizeof(*e));
	size_t k, oc = m->cap;

	if (!e)
		return -1;
	m->e = e;
	m->cap = cap;
	for (k = 0; k < oc; k++) {
		if (old[k].used) {
			size_t i = live_home(old[k].pfn, cap - 1);
			while (e[i].used)
				i = (i + 1) & (cap - 1);
			e[i] = old[k];
		}
	}
	free(old);
	return 0;
}

static struct live_ent *live_put(struct live_map *m, uint64_t pfn)
{
	size_t mask, i;

	if ((m->n + 1) * 2 > m->cap && live_grow(m, m->cap * 2))
		return NULL;
	mask = m->cap - 1;
	for (i = live_home(pfn, mask); m->e[i].used; i = (i + 1) & mask)
		;
	memset(&m->e[i], 0, sizeof(m->e[i]));
	m->e[i].pfn = pfn;
	m->e[i].used = 1;
	m->n++;
	if (m->n > m->peak_n) {
		m->peak_n = m->n;
		m->peak_bytes = m->cap * sizeof(*m->e);
	}
	return &m->e[i];
}

/* Backward-shift deletion: no tombstones. */
static void live_del(struct live_map *m, struct live_ent *x)
{
	size_t mask = m->cap - 1, i = (size_t)(x - m->e), j = i;

	for (;;) {
		size_t h;
		j = (j + 1) & mask;
		if (!m->e[j].used)
			break;
		h = live_home(m->e[j].pfn, mask);
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			m->e[i] = m->e[j];
			i = j;
		}
	}
	m->e[i].used = 0;
	m->n--;
}

struct streamer {
	struct run *r;
	struct live_map live;
	unsigned char last[ZA_MAX_CPUS]; /* lock-batch state per CPU */
};

/* n pages of x released on cpu; the block goes when its last does. */
static void stream_release(struct streamer *sm, struct live_ent *x, uint64_t n,
                           uint16_t cpu, uint64_t *released,
                           uint64_t *completed)
{
	struct run *r = sm->r;
	struct tally *t = &r->total;

	if (n > x->left)
		n = x->left;
	x->left -= (uint32_t)n;
	*released += n;
	if (x->left)
		return;
	simcpu_move(cpu % r->ncpu);
	if (x->page) {
		za_free_pages(r->za, x->page, x->order);
		t->frees++;
	} else {
		t->frees_of_failed++;
	}
	t->ops++;
	(*completed)++;
	live_del(&sm->live, x);
}

/* Release what live blocks cover of [pfn, pfn + 2^order); with lost
 * (an allocation of those pages: their free events were lost), each block
 * touched goes whole, as trace_match() frees it, not only the pages
 * covered: a block kept with its other pages would share its pfn with the
 * new one in the map, and a free of the new block would find the old.
 * *touched counts the blocks touched; *exact says the one block was
 * exactly this one. */
static uint64_t stream_range(struct streamer *sm, uint64_t pfn, unsigned order,
                             int lost, uint16_t cpu, uint64_t *completed,
                             unsigned *touched, int *exact)
{
	uint64_t end = pfn + (1ull << order), released = 0, p, last = pfn;
	unsigned o;

	*touched = 0;
	*exact = 0;
	if (!sm->live.n)
		return 0;
	/* blocks of higher order that begin before pfn and may cover it: each
	 * start once. Several orders round pfn down to the same start (every
	 * order up to the start's alignment: pfn 0x1001 gives 0x1000 for
	 * orders 1 to 12), and the block there must be released once, not
	 * once for each. */
	for (o = 1; o <= TRACE_MAX_ORDER; o++) {
		uint64_t s0 = pfn & ~((1ull << o) - 1);
		struct live_ent *x;
		if (s0 == last)
			continue;
		last = s0;
		x = live_find(&sm->live, s0);
		if (x && s0 + (1ull << x->order) > pfn) {
			uint64_t e2 = s0 + (1ull << x->order);
			(*touched)++;
			stream_release(sm, x, lost ? x->left : (e2 < end ? e2 : end) - pfn,
			               cpu, &released, completed);
		}
	}
	/* blocks that begin inside it */
	for (p = pfn; p < end; p++) {
		struct live_ent *x = live_find(&sm->live, p);
		uint64_t e2, n;
		int whole;
		if (!x)
			continue;
		e2 = p + (1ull << x->order);
		n = (e2 < end ? e2 : end) - p;
		whole = p == pfn && x->order == order && x->left == 1u << order;
		(*touched)++;
		if (*touched == 1 && whole)
			*exact = 1;
		stream_release(sm, x, lost ? x->left : n, cpu, &released, completed);
		p = e2 - 1;
	}
	return released;
}

static int stream_event(struct streamer *sm, const struct trace_event *e)
{
	struct run *r = sm->r;
	struct trace_match_stats *st = &r->ops.st;
	struct tally *t = &r->total;
	unsigned char now = 0;
	uint64_t completed = 0, released;
	unsigned touched;
	int exact;

	/* the kernel's lock holds, as trace_lock_batches() counts them */
	if (e->type == TRACE_ZONE_LOCKED) {
		if (e->flags & TRACE_EV_REFILL || !(e->flags & TRACE_EV_HAVE_REFILL))
			now = 1;
		else
			r->kb.direct++;
	} else if (e->type == TRACE_PCPU_DRAIN) {
		now = 2;
	}
	if (now == 1 && sm->last[e->cpu] != 1)
		r->kb.refill_batches++;
	if (now == 2 && sm->last[e->cpu] != 2)
		r->kb.drain_batches++;
	sm->last[e->cpu] = now;

	if (e->type == TRACE_ALLOC) {
		struct live_ent *x;
		struct za_page *p = NULL;
		za_gfp_t gfp;

		st->alloc_events++;
		if (e->flags & TRACE_EV_FAILED) {
			st->kernel_failed++;
			return 0;
		}
		stream_range(sm, e->pfn, e->order, 1, e->cpu, &completed, &touched,
		             &exact);
		st->implicit_frees += completed;
		gfp = trace_gfp_to_za(e->kgfp, &st->nofail_stripped);
		simcpu_move(e->cpu % r->ncpu);
		t->allocs++;
		t->ops++;
		st->allocs++;
		if (e->order > r->max_order) {
			t->too_big++;
			t->failed[e->order]++;
		} else {
			p = za_alloc_pages(r->za, gfp, e->order);
			if (!p) {
				t->failed[e->order]++;
				if (errno == EINVAL)
					t->rejected++;
			}
		}
		x = live_put(&sm->live, e->pfn);
		if (!x) {
			if (p)
				za_free_pages(r->za, p, e->order);
			tool_err(CMD, "out of memory for %zu live blocks", sm->live.n);
			return -1;
		}
		x->page = p;
		x->order = e->order;
		x->left = 1u << e->order;
	} else if (e->type == TRACE_FREE || e->type == TRACE_FREE_BATCHED) {
		st->free_events++;
		released = stream_range(sm, e->pfn, e->order, 0, e->cpu, &completed,
		                        &touched, &exact);
		st->free_ops += completed;
		if (released == 0)
			st->frees_unmatched++;
		else if (touched == 1 && exact && completed == 1)
			st->frees_exact++;
		else
			st->frees_partial++;
	}
	return 0;
}

static void stream_progress(struct run *r, struct trace_reader *rd,
                            uint64_t size)
{
	double el = now_seconds() - r->t_start;
	uint64_t in = trace_reader_bytes_in(rd);

	if (size && in && in <= size)
		progress(r,
		         "replaying: %zu events, %.0f%% of the file, about %.0f "
		         "s to go",
		         r->tr.nr, 100.0 * (double)in / (double)size,
		         el * (double)(size - in) / (double)in);
	else
		progress(r, "replaying: %zu events, %.1f MiB of text", r->tr.nr,
		         (double)trace_reader_bytes_out(rd) / (double)MiB);
}

/* The whole of --stream: 0 or an exit code. */
static int replay_stream(struct run *r)
{
	struct streamer *sm = calloc(1, sizeof(*sm));
	struct trace_reader *rd = NULL;
	struct trace_event ev;
	const char *line;
	char err[512];
	size_t len;
	uint64_t size = 0;
	int rc = EXIT_FAIL, got, cut, nomem = 0;
	unsigned k;
	struct stat sb;

	if (!sm) {
		tool_err(CMD, "out of memory");
		return EXIT_FAIL;
	}
	sm->r = r;
	r->t_start = r->t_progress = now_seconds();
	memset(&r->tr, 0, sizeof(r->tr));
	r->tr.st.max_cpu = -1;
	rd = trace_reader_open(r->o.path, err, sizeof(err));
	if (!rd) {
		tool_err(CMD, "%s", err);
		goto out;
	}
	r->tr.comp = trace_reader_compression(rd);
	if (strcmp(r->o.path, "-") && !stat(r->o.path, &sb) && S_ISREG(sb.st_mode))
		size = (uint64_t)sb.st_size;

	/* the header: every line up to the first event */
	while ((got = trace_reader_line(rd, &line, &len, &cut)) == 1) {
		if (!cut && trace_count_line(&r->tr, line, len, &ev, &nomem)) {
			r->tr.nr++;
			break;
		}
		if (cut) {
			r->tr.st.lines++;
			r->tr.st.unknown++;
		}
		if (nomem)
			break;
	}
	if (got < 0) {
		tool_err(CMD, "%s: %s", r->o.path, trace_reader_error(rd));
		goto out;
	}
	if (got == 0 || nomem) {
		const struct trace_stats *st = &r->tr.st;
		if (!nomem && st->malformed && st->malformed_why[0])
			tool_err(CMD,
			         "%s: no kmem page-allocator event in it (%llu "
			         "malformed, the first at line %llu: %s)",
			         r->o.path, (unsigned long long)st->malformed,
			         (unsigned long long)st->malformed_line[0],
			         st->malformed_why[0]);
		else
			tool_err(CMD, "%s: %s", r->o.path,
			         nomem ? "out of memory"
			               : "no kmem page-allocator event in it");
		goto out;
	}
	if ((rc = read_machine(r, 0)) != 0)
		goto out;
	rc = EXIT_FAIL;
	if (!r->recorded && !r->o.mem_given) {
		rc = tool_usage_err(CMD,
		                    "--stream needs the machine before the "
		                    "events: a recording of '%s record', or --mem "
		                    "(and --cpus)",
		                    TOOL_NAME);
		goto out;
	}
	/* Nothing of the trace is known yet: CPUs are --cpus or the
	 * default, orders 10 or --max-order (larger ones fail). */
	r->o.cpus_given = 1;
	if ((rc = build_machine(r)) != 0)
		goto out;
	rc = EXIT_FAIL;
	if (live_grow(&sm->live, 1024)) {
		tool_err(CMD, "out of memory");
		goto out;
	}
	for (k = 0; k < ZA_NR_EVENTS; k++)
		r->ev_base[k] = za_event_count(r->za, (enum za_event)k);
	simcpu_thread_start(0, 1, 0);
	pcp_peak_start(r);

	/* replay while reading (ev is the first event, read above) */
	do {
		if (r->mach && ev.cpu >= r->mach->cpus_possible) {
			tool_err(CMD,
			         "%s: bad machine header: an event on CPU %u, and "
			         "the header says the machine has %u CPUs",
			         r->o.path, ev.cpu, r->mach->cpus_possible);
			goto out;
		}
		decay_until(r, ev.ts_ns);
		if (stream_event(sm, &ev))
			goto out;
		if (ev.type == TRACE_ALLOC || ev.type == TRACE_FREE ||
		    ev.type == TRACE_FREE_BATCHED)
			pcp_peak(r, ev.cpu % r->ncpu);
		if (r->o.limit && r->tr.nr >= r->o.limit)
			break;
		for (;;) {
			got = trace_reader_line(rd, &line, &len, &cut);
			if (got != 1)
				break;
			if (cut) {
				r->tr.st.lines++;
				r->tr.st.unknown++;
				continue;
			}
			if (trace_count_line(&r->tr, line, len, &ev, &nomem)) {
				r->tr.nr++;
				break;
			}
			if (nomem)
				break;
		}
		if ((r->tr.nr & 0x3fff) == 0)
			stream_progress(r, rd, size);
	} while (got == 1 && !nomem);
	r->tr.bytes_in = trace_reader_bytes_in(rd);
	r->tr.bytes_out = trace_reader_bytes_out(rd);
	progress_end(r);
	if (got < 0) {
		tool_err(CMD, "%s: %s (after %llu lines)", r->o.path,
		         trace_reader_error(rd), (unsigned long long)r->tr.st.lines);
		goto out;
	}
	if (nomem) {
		tool_err(CMD, "out of memory");
		goto out;
	}
	r->t_replay = now_seconds() - r->t_start;

	/* the end line, now that it has been read */
	if (r->mach && !(r->o.limit && r->tr.nr >= r->o.limit)) {
		struct machine *m = calloc(1, sizeof(*m));
		const struct trace_stats *st = &r->tr.st;
		int bad = !m || machine_parse_header(r->tr.header, r->tr.header_len, m,
		                                     err, sizeof(err)) != 1;
		if (!bad && !m->have_end) {
			tool_err(CMD,
			         "%s: a truncated recording: it starts with the "
			         "header of '%s record' but its end line ('# "
			         "zonealloc-trace-end') is missing after %llu lines",
			         r->o.path, TOOL_NAME, (unsigned long long)st->lines);
			bad = 2;
		} else if (!bad &&
		           m->end_lines != st->lines - st->comment - st->blank) {
			tool_err(CMD,
			         "%s: a damaged recording: its end line counts "
			         "%llu lines of events, the file holds %llu",
			         r->o.path, (unsigned long long)m->end_lines,
			         (unsigned long long)(st->lines - st->comment -
			                              st->blank));
			bad = 2;
		} else if (bad == 1) {
			tool_err(CMD, "%s: cannot read its end: %s", r->o.path,
			         m ? err : "out of memory");
		}
		if (!bad) {
			/* the end's facts join the header read at the start */
			r->mach->have_end = 1;
			r->mach->end_lines = m->end_lines;
			r->mach->end_lost = m->end_lost;
			r->mach->end_seconds = m->end_seconds;
			memcpy(r->mach->end_stop, m->end_stop, sizeof(m->end_stop));
			machine_zones_free(&r->mach->end_zones);
			r->mach->end_zones = m->end_zones;
			memset(&m->end_zones, 0, sizeof(m->end_zones));
			machine_zones_free(&r->mach->peak_zones);
			r->mach->peak_zones = m->peak_zones;
			memset(&m->peak_zones, 0, sizeof(m->peak_zones));
			r->mach->peak_samples = m->peak_samples;
			r->mach->peak_interval_ms = m->peak_interval_ms;
		}
		if (m) {
			machine_free(m);
			free(m);
		}
		if (bad)
			goto out;
	}

	/* what is still allocated becomes the records the end state frees */
	r->stream_peak_live = sm->live.peak_n;
	r->stream_peak_bytes = sm->live.peak_bytes;
	r->recs = calloc(sm->live.n + 1, sizeof(*r->recs));
	if (!r->recs) {
		tool_err(CMD, "out of memory");
		goto out;
	}
	for (k = 0; k < sm->live.cap; k++) {
		struct live_ent *x = &sm->live.e[k];
		if (!x->used)
			continue;
		r->recs[r->ops.nr_recs].page = x->page;
		r->recs[r->ops.nr_recs].order = x->order;
		r->ops.nr_recs++;
		r->ops.st.never_freed++;
		r->ops.st.never_freed_pages += 1ull << x->order;
	}
	rc = finish(r);
out:
	if (rd)
		trace_reader_close(rd);
	free(sm->live.e);
	free(sm);
	return rc;
}

/* The per-CPU list sizes of --pcp-high and --pcp-batch (or a sweep's):
 * one given alone implies the other, as the kernel's old fixed sizing
 * did (high six batches). */
static void pcp_fixed_sizes(unsigned high, unsigned batch, unsigned *h,
                            unsigned *b)
{
	if (!batch)
		batch = high / 6 ? high / 6 : 1;
	if (!high)
		high = batch * 6 < PCP_SIZE_MAX ? batch * 6 : PCP_SIZE_MAX;
	*h = high;
	*b = batch;
}

/* --compaction: the allocator moves a block the trace holds. Det mode: it
 * runs in the replaying thread, inside an allocation, so run_op is not
 * in the middle of changing recs. */
static int replay_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                          unsigned order)
{
	struct run *r = ctx;
	unsigned long spfn = za_page_to_pfn(r->za, src);
	unsigned long dpfn = za_page_to_pfn(r->za, dst);
	if (spfn >= r->rev_pfns || dpfn >= r->rev_pfns || !r->rev[spfn])
		return -ENOENT;
	if (r->rev[spfn] & REV_PRE) {
		size_t k = (r->rev[spfn] & ~REV_PRE) - 1;
		if (k >= r->nr_pre || r->pre[k] != src || order != 0)
			return -ENOENT;
		r->pre[k] = dst;
		r->rev[dpfn] = r->rev[spfn];
		r->rev[spfn] = 0;
		r->moved++;
		r->moved_pre++;
		return 0;
	}
	struct rec *rc = &r->recs[r->rev[spfn] - 1];
	if (rc->page != src || rc->order != order)
		return -ENOENT;
	rc->page = dst;
	r->rev[dpfn] = r->rev[spfn];
	r->rev[spfn] = 0;
	r->moved++;
	return 0;
}

/* Step 3: an allocator shaped like the recorded machine, or like the
 * traced one as far as its events show. 0 or an exit code. */
static int build_machine(struct run *r)
{
	struct za_config cfg;

	r->topo = calloc(1, sizeof(*r->topo));
	if (!r->topo) {
		tool_err(CMD, "out of memory");
		return EXIT_FAIL;
	}
	if (r->recorded) {
		if (plan_recorded(r))
			return EXIT_FAIL;
	} else {
		fit_topology(r);
		if (topo_plan(r->topo, &r->o.topo, CMD))
			return EXIT_USAGE;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.error = on_misuse;
	cfg.error_ctx = r;
	if (r->o.pcp_high || r->o.pcp_batch) {
		pcp_fixed_sizes(r->o.pcp_high, r->o.pcp_batch, &cfg.pcp_high,
		                &cfg.pcp_batch);
		cfg.flags |= ZA_CFG_PCP_FIXED;
	}
	if (r->o.compaction) {
		cfg.migrate = replay_migrate;
		cfg.migrate_ctx = r;
	} else {
		/* The kernel without CONFIG_COMPACTION: nothing could move. */
		cfg.flags |= ZA_CFG_NO_COMPACTION;
	}
	if (topo_build(r->topo, &cfg, CMD))
		return EXIT_FAIL;
	r->za = r->topo->za;
	if (r->recorded)
		apply_recorded_sysctls(r);
	if (r->o.compaction) {
		/* Nothing is allocated yet: the callback cannot run before. */
		r->rev = calloc(r->topo->max_pfn, sizeof(*r->rev));
		if (!r->rev) {
			tool_err(CMD, "out of memory");
			return EXIT_FAIL;
		}
		r->rev_pfns = r->topo->max_pfn;
	}
	r->ncpu = za_nr_cpus(r->za);
	r->max_order = za_max_order(r->za);
	if (r->recorded) {
		if (hold_back(r))
			return EXIT_FAIL;
		if (!r->o.quiet)
			machine_notes(r, stderr, "zonealloc replay: note: ");
	}
	/* The traced kernel's state at the start: the blocks its trace frees
	 * without having allocated them (before --prefragment's fill, which
	 * stands for the rest of a long-running machine's memory: the
	 * stand-ins take whole blocks where the kernel's had them, and not
	 * the few whole blocks that the fill leaves), then its per-CPU
	 * lists. */
	if (!r->o.skip_unmatched && place_standins(r))
		return EXIT_FAIL;
	if (r->o.prefragment && prefragment(r))
		return EXIT_FAIL;
	if (r->recorded && !r->o.empty_lists &&
	    !(r->o.topo.cfg_flags & ZA_CFG_NO_PCP) && warm_lists(r))
		return EXIT_FAIL;
	return 0;
}

/* Step 5: what the replay left behind, the report, then everything given
 * back and checked. The exit code. */
static int finish(struct run *r)
{
	collect_end_state(r);
	if (r->o.json)
		report_json(r, stdout);
	else
		report_text(r, stdout);
	fflush(stdout);

	if (r->check_live || r->check_after || !r->whole_again || r->misuse) {
		if (r->check_live)
			fprintf(stderr,
			        "%s %s: za_check failed with the trace's "
			        "allocations held:\n%s",
			        TOOL_NAME, CMD,
			        r->check_live_msg ? r->check_live_msg : "");
		if (!r->whole_again)
			tool_err(CMD,
			         "after freeing everything, %llu of %llu managed "
			         "pages are free: pages went missing",
			         r->after_free, r->after_managed);
		if (r->check_after)
			fprintf(stderr,
			        "%s %s: za_check failed after freeing "
			        "everything:\n%s",
			        TOOL_NAME, CMD,
			        r->check_after_msg ? r->check_after_msg : "");
		if (r->misuse)
			tool_err(CMD,
			         "the library reported %llu misuse(s): a replay "
			         "or library bug",
			         ull(r->misuse));
		return EXIT_FAIL;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Policy sweeps (--sweep)                                           */

/*
 * The trace is read and paired once; then each combination of settings
 * is replayed in a child process (fork: the children share the parent's
 * trace, copy on write), det mode, exactly as a plain replay with the same
 * --pcp-high, --pcp-batch and --sysctl options would run it. A child sends
 * its figures back through a pipe (one write, smaller than PIPE_BUF) and
 * exits; at most --jobs children run at once. One more child replays with
 * no sweep setting, as a reference row.
 */

#define SWEEP_MAX_DIMS 8
#define SWEEP_MAX_VALUES SWEEP_MAX_COMBOS

enum sweep_kind { SW_PCP_HIGH, SW_PCP_BATCH, SW_SYSCTL };

struct sweep_dim {
	const char *name; /* canonical */
	enum sweep_kind kind;
	unsigned nr;
	unsigned long long v[SWEEP_MAX_VALUES];
};

enum sweep_key { RK_LOCK, RK_MOVES, RK_PCP, RK_HIGHORDER, RK_FAILED, RK_NR };
static const struct {
	const char *name, *what;
	int descending;
} rank_keys[RK_NR] = {
	[RK_LOCK] = { "lock", "zone-lock acquisitions per 1000 allocations", 0 },
	[RK_MOVES] = { "moves", "pages moved pcp<->buddy per 1000 allocations",
	               0 },
	[RK_PCP] = { "pcp", "pages on per-CPU lists at the end", 0 },
	[RK_HIGHORDER] = { "highorder",
	                   "share of free pages in blocks of order "
	                   ">= 9 at the end",
	                   1 },
	[RK_FAILED] = { "failed", "failed allocations", 0 },
};

/* What a child sends back. */
struct sweep_res {
	int status; /* 0 replayed and checked, else the child's exit code */
	int done;
	unsigned long long allocs, failed, lock, refill, returned;
	unsigned long long refill_batches, return_batches;
	unsigned long long pcp_pages, free_pages, free_large, page_size;
	double seconds;
};

struct sweep {
	const char *spec;
	struct sweep_dim dim[SWEEP_MAX_DIMS];
	unsigned nr_dims;
	unsigned nr;           /* combinations kept */
	unsigned skipped;      /* pcp_high below pcp_batch */
	unsigned *combo;       /* nr combination numbers (mixed radix) */
	struct sweep_res *res; /* nr + 1: the last is the reference */
	enum sweep_key key;
	unsigned jobs;
};

static const struct {
	const char *name, *canon;
	enum sweep_kind kind;
} sweep_names[] = {
	{ "pcp_high", "pcp_high", SW_PCP_HIGH },
	{ "pcp_batch", "pcp_batch", SW_PCP_BATCH },
	{ "batch", "pcp_batch", SW_PCP_BATCH },
	{ "min_free_kbytes", "min_free_kbytes", SW_SYSCTL },
	{ "watermark_scale_factor", "watermark_scale_factor", SW_SYSCTL },
	{ "percpu_pagelist_high_fraction", "percpu_pagelist_high_fraction",
	  SW_SYSCTL },
};
#define SWEEP_NAMES_LIST                                                      \
	"pcp_high, pcp_batch (or batch), min_free_kbytes, "                       \
	"watermark_scale_factor, percpu_pagelist_high_fraction"

static void sweep_free(struct sweep *sw)
{
	if (!sw)
		return;
	free(sw->combo);
	free(sw->res);
	free(sw);
}

/* A decimal number of s[0..n): 0 or -1. */
static int sweep_number(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t k;

	if (!n || n > 12)
		return -1;
	for (k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[k] - '0');
	}
	*out = v;
	return 0;
}

/* Whether value v may be given to the dimension: 0, or -1 (message). */
static int sweep_check_value(const struct sweep_dim *d, unsigned long long v)
{
	char arg[96];
	struct za *za;
	int err;

	if (d->kind != SW_SYSCTL) {
		if (v < 1 || v > PCP_SIZE_MAX) {
			tool_usage_err(CMD,
			               "--sweep %s=%llu: out of range (1 to %u "
			               "pages)",
			               d->name, v, PCP_SIZE_MAX);
			return -1;
		}
		return 0;
	}
	/* the library's own rules, on a tiny allocator */
	za = topo_scratch_za();
	if (!za) {
		tool_err(CMD, "cannot check --sweep values: za_create failed: %s",
		         strerror(errno));
		return -1;
	}
	snprintf(arg, sizeof(arg), "%llu", v);
	err = za_sysctl_set(za, d->name, arg);
	za_destroy(za);
	if (err) {
		tool_usage_err(CMD, "--sweep %s=%llu: value out of range for %s",
		               d->name, v, d->name);
		return -1;
	}
	return 0;
}

/* One "LO..HI/STEP" or "V" of dimension d: appended. 0 or -1. */
static int sweep_item(struct sweep_dim *d, const char *s, size_t n)
{
	const char *dots = NULL, *slash = NULL;
	unsigned long long lo, hi, step = 1, v, count;
	size_t k;

	for (k = 0; k + 1 < n; k++)
		if (s[k] == '.' && s[k + 1] == '.') {
			dots = s + k;
			break;
		}
	for (k = 0; k < n; k++)
		if (s[k] == '/')
			slash = s + k;
	if (!dots) {
		if (slash || sweep_number(s, n, &lo)) {
			tool_usage_err(CMD,
			               "--sweep %s: '%.*s' is not a number or a "
			               "range LO..HI[/STEP]",
			               d->name, (int)n, s);
			return -1;
		}
		hi = lo;
	} else {
		const char *end = s + n;
		if (slash && slash < dots)
			slash = NULL;
		if (sweep_number(s, (size_t)(dots - s), &lo) ||
		    sweep_number(dots + 2,
		                 (size_t)((slash ? slash : end) - (dots + 2)), &hi) ||
		    (slash &&
		     sweep_number(slash + 1, (size_t)(end - slash - 1), &step))) {
			tool_usage_err(CMD,
			               "--sweep %s: '%.*s' is not a number or a "
			               "range LO..HI[/STEP]",
			               d->name, (int)n, s);
			return -1;
		}
		if (!step) {
			tool_usage_err(CMD, "--sweep %s: '%.*s': a step of 0", d->name,
			               (int)n, s);
			return -1;
		}
		if (lo > hi) {
			tool_usage_err(CMD,
			               "--sweep %s: '%.*s' is an empty range "
			               "(%llu is above %llu)",
			               d->name, (int)n, s, lo, hi);
			return -1;
		}
	}
	count = (hi - lo) / step + 1;
	if (count > SWEEP_MAX_VALUES - d->nr) {
		tool_usage_err(CMD, "--sweep %s: more than %d values", d->name,
		               SWEEP_MAX_VALUES);
		return -1;
	}
	for (v = lo; count--; v += step) {
		for (k = 0; k < d->nr; k++)
			if (d->v[k] == v) {
				tool_usage_err(CMD, "--sweep %s: the value %llu twice",
				               d->name, v);
				return -1;
			}
		if (sweep_check_value(d, v))
			return -1;
		d->v[d->nr++] = v;
	}
	return 0;
}

static unsigned long long sweep_value(const struct sweep *sw, unsigned combo,
                                      unsigned dim)
{
	unsigned k;
	for (k = sw->nr_dims; k-- > dim + 1;)
		combo /= sw->dim[k].nr;
	return sw->dim[dim].v[combo % sw->dim[dim].nr];
}

/* The settings of combination `combo`: pcp sizes (0: not swept). */
static void sweep_pcp(const struct sweep *sw, unsigned combo, unsigned *high,
                      unsigned *batch)
{
	unsigned k;
	for (k = 0; k < sw->nr_dims; k++) {
		if (sw->dim[k].kind == SW_PCP_HIGH)
			*high = (unsigned)sweep_value(sw, combo, k);
		else if (sw->dim[k].kind == SW_PCP_BATCH)
			*batch = (unsigned)sweep_value(sw, combo, k);
	}
}

/* Parses --sweep and the options that go with it. NULL and *rc = 2 on a
 * usage error (message printed), or the sweep. */
static struct sweep *sweep_parse(const struct options *o, int *rc)
{
	struct sweep *sw = calloc(1, sizeof(*sw));
	const char *s = o->sweep;
	unsigned long long total = 1;
	unsigned k, c;

	*rc = EXIT_USAGE;
	if (!sw) {
		tool_err(CMD, "out of memory");
		*rc = EXIT_FAIL;
		return NULL;
	}
	sw->spec = o->sweep;
	sw->key = RK_LOCK;
	if (o->rank) {
		for (k = 0; k < RK_NR; k++)
			if (!strcmp(o->rank, rank_keys[k].name))
				break;
		if (k == RK_NR) {
			tool_usage_err(CMD,
			               "--rank %s: expected lock, moves, pcp, "
			               "highorder or failed",
			               o->rank);
			goto bad;
		}
		sw->key = (enum sweep_key)k;
	}
	while (*s) {
		const char *end = strchr(s, ';'), *eq, *p;
		size_t n, len;
		struct sweep_dim *d;

		if (!end)
			end = s + strlen(s);
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		len = (size_t)(end - s);
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (!len) {
			if (!*end)
				break;
			s = end + 1;
			continue;
		}
		eq = memchr(s, '=', len);
		if (!eq) {
			tool_usage_err(CMD, "--sweep: '%.*s' is not NAME=VALUES", (int)len,
			               s);
			goto bad;
		}
		n = (size_t)(eq - s);
		for (k = 0; k < sizeof(sweep_names) / sizeof(sweep_names[0]); k++)
			if (strlen(sweep_names[k].name) == n &&
			    !strncmp(sweep_names[k].name, s, n))
				break;
		if (k == sizeof(sweep_names) / sizeof(sweep_names[0])) {
			tool_usage_err(CMD,
			               "--sweep: unknown tunable '%.*s' (known: " SWEEP_NAMES_LIST
			               ")",
			               (int)n, s);
			goto bad;
		}
		for (c = 0; c < sw->nr_dims; c++)
			if (!strcmp(sw->dim[c].name, sweep_names[k].canon)) {
				tool_usage_err(CMD, "--sweep: %s given twice",
				               sweep_names[k].canon);
				goto bad;
			}
		if (sw->nr_dims == SWEEP_MAX_DIMS) {
			tool_usage_err(CMD, "--sweep: more than %d tunables",
			               SWEEP_MAX_DIMS);
			goto bad;
		}
		d = &sw->dim[sw->nr_dims++];
		d->name = sweep_names[k].canon;
		d->kind = sweep_names[k].kind;
		if (d->kind != SW_SYSCTL && (o->pcp_high || o->pcp_batch)) {
			tool_usage_err(CMD,
			               "--sweep %s: --pcp-high or --pcp-batch "
			               "is given too; sweep both or fix both",
			               d->name);
			goto bad;
		}
		if (d->kind != SW_SYSCTL && (o->topo.cfg_flags & ZA_CFG_NO_PCP)) {
			tool_usage_err(CMD,
			               "--sweep %s: --no-pcp has no per-CPU "
			               "lists",
			               d->name);
			goto bad;
		}
		for (c = 0; c < o->topo.nr_sysctl; c++) {
			const char *a = o->topo.sysctl[c];
			if (!strncmp(a, d->name, strlen(d->name)) &&
			    a[strlen(d->name)] == '=') {
				tool_usage_err(CMD,
				               "--sweep %s: --sysctl %s sets it "
				               "too",
				               d->name, a);
				goto bad;
			}
		}
		/* the values, comma-separated */
		p = eq + 1;
		if (p == s + len) {
			tool_usage_err(CMD, "--sweep %s: an empty range (no values)",
			               d->name);
			goto bad;
		}
		while (p < s + len) {
			const char *comma = memchr(p, ',', (size_t)(s + len - p));
			const char *ie = comma ? comma : s + len;
			if (ie == p) {
				tool_usage_err(CMD, "--sweep %s: an empty value in '%.*s'",
				               d->name, (int)len, s);
				goto bad;
			}
			if (sweep_item(d, p, (size_t)(ie - p)))
				goto bad;
			p = comma ? comma + 1 : ie;
			if (comma && p == s + len) {
				tool_usage_err(CMD,
				               "--sweep %s: an empty value in "
				               "'%.*s'",
				               d->name, (int)len, s);
				goto bad;
			}
		}
		total *= d->nr;
		if (total > SWEEP_MAX_COMBOS) {
			tool_usage_err(CMD, "--sweep: more than %d combinations",
			               SWEEP_MAX_COMBOS);
			goto bad;
		}
		if (!*end)
			break;
		s = end + 1;
	}
	if (!sw->nr_dims) {
		tool_usage_err(CMD, "--sweep '%s': no tunable (NAME=VALUES;...)",
		               o->sweep);
		goto bad;
	}
	sw->combo = calloc(total, sizeof(*sw->combo));
	sw->res = calloc(total + 1, sizeof(*sw->res));
	if (!sw->combo || !sw->res) {
		tool_err(CMD, "out of memory");
		*rc = EXIT_FAIL;
		goto bad;
	}
	for (c = 0; c < total; c++) {
		unsigned high = o->pcp_high, batch = o->pcp_batch;
		sweep_pcp(sw, c, &high, &batch);
		if (high && batch && high < batch) {
			sw->skipped++;
			continue;
		}
		sw->combo[sw->nr++] = c;
	}
	if (!sw->nr) {
		tool_usage_err(CMD, "--sweep: in every combination pcp_high is "
		                    "below pcp_batch");
		goto bad;
	}
	sw->jobs = o->jobs ? o->jobs : tool_nproc();
	if (sw->jobs > sw->nr + 1)
		sw->jobs = sw->nr + 1;
	*rc = 0;
	return sw;
bad:
	sweep_free(sw);
	return NULL;
}

/* In the child: replay under combination `combo` (or none, < 0), send the
 * figures down fd, exit. */
static void sweep_child(struct run *r, const struct sweep *sw, int combo,
                        int fd)
{
	static char sysctl[SWEEP_MAX_DIMS][96];
	struct sweep_res res;
	struct figures fg;
	unsigned k;
	ssize_t n;
	double t0 = now_seconds();

	memset(&res, 0, sizeof(res));
	r->o.quiet = 1;
	if (combo >= 0) {
		sweep_pcp(sw, (unsigned)combo, &r->o.pcp_high, &r->o.pcp_batch);
		for (k = 0; k < sw->nr_dims; k++) {
			if (sw->dim[k].kind != SW_SYSCTL)
				continue;
			snprintf(sysctl[k], sizeof(sysctl[k]), "%s=%llu", sw->dim[k].name,
			         sweep_value(sw, (unsigned)combo, k));
			if (r->o.topo.nr_sysctl < TOPO_MAX_SYSCTL)
				r->o.topo.sysctl[r->o.topo.nr_sysctl++] = sysctl[k];
		}
	}
	res.status = build_machine(r);
	if (!res.status) {
		for (k = 0; k < ZA_NR_EVENTS; k++)
			r->ev_base[k] = za_event_count(r->za, (enum za_event)k);
		replay_det(r);
		collect_end_state(r);
		figures(r, &fg);
		res.allocs = fg.z_allocs;
		res.failed = r->total.allocs - fg.z_allocs;
		res.lock = fg.z_lock;
		res.refill = fg.z_refill;
		res.returned = fg.z_flush + fg.z_drain;
		res.refill_batches = r->ev[ZA_PCP_REFILL];
		res.return_batches = r->ev[ZA_PCP_FLUSH] + r->ev[ZA_PCP_DRAIN];
		res.pcp_pages = r->pcp_pages;
		res.free_pages = r->free_pages;
		res.free_large = r->free_large;
		res.page_size = r->topo->page_size;
		if (r->check_live || r->check_after || !r->whole_again || r->misuse)
			res.status = EXIT_FAIL;
	}
	res.done = 1;
	res.seconds = now_seconds() - t0;
	n = write(fd, &res, sizeof(res));
	_exit(n == (ssize_t)sizeof(res) ? 0 : EXIT_FAIL);
}

static double res_metric(const struct sweep_res *x, enum sweep_key k)
{
	switch (k) {
	case RK_LOCK:
		return per1000(x->lock, x->allocs);
	case RK_MOVES:
		return per1000(x->refill + x->returned, x->allocs);
	case RK_PCP:
		return (double)x->pcp_pages;
	case RK_HIGHORDER:
		return x->free_pages
		           ? 100.0 * (double)x->free_large / (double)x->free_pages
		           : 0.0;
	case RK_FAILED:
	default:
		return (double)x->failed;
	}
}

/* What a combination is called: "pcp_high=64 pcp_batch=8". */
static void sweep_label(const struct sweep *sw, unsigned combo, char *buf,
                        size_t len)
{
	size_t k, off = 0;
	buf[0] = '\0';
	for (k = 0; k < sw->nr_dims && off < len; k++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s=%llu",
		                        k ? " " : "", sw->dim[k].name,
		                        sweep_value(sw, combo, (unsigned)k));
}

/* Runs every combination, at most sw->jobs at once. 0, or 1 after a
 * message naming the combination that failed. */
static int sweep_run(struct run *r, struct sweep *sw)
{
	unsigned total = sw->nr + 1, next = 0, done = 0, running = 0, k;
	pid_t *pid = calloc(total, sizeof(*pid));
	int *fd = calloc(total, sizeof(*fd));
	int rc = 0;
	double t0 = now_seconds();

	if (!pid || !fd) {
		free(pid);
		free(fd);
		tool_err(CMD, "out of memory");
		return EXIT_FAIL;
	}
	fflush(stdout);
	fflush(stderr);
	while (done < total) {
		int st;
		pid_t p;

		while (!rc && running < sw->jobs && next < total) {
			int pfd[2];
			/* the reference (no sweep setting) runs first */
			int combo = next == 0 ? -1 : (int)sw->combo[next - 1];
			if (pipe(pfd)) {
				tool_err(CMD, "pipe: %s", strerror(errno));
				rc = EXIT_FAIL;
				break;
			}
			p = fork();
			if (p < 0) {
				tool_err(CMD, "fork: %s", strerror(errno));
				close(pfd[0]);
				close(pfd[1]);
				rc = EXIT_FAIL;
				break;
			}
			if (p == 0) {
				close(pfd[0]);
				sweep_child(r, sw, combo, pfd[1]);
			}
			close(pfd[1]);
			pid[next] = p;
			fd[next] = pfd[0];
			next++;
			running++;
		}
		if (!running)
			break;
		p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			tool_err(CMD, "waitpid: %s", strerror(errno));
			rc = EXIT_FAIL;
			break;
		}
		for (k = 0; k < next && pid[k] != p; k++)
			;
		if (k == next)
			continue;
		running--;
		done++;
		{
			/* the slot's result: the reference is res[nr] */
			struct sweep_res *x = k == 0 ? &sw->res[sw->nr] : &sw->res[k - 1];
			ssize_t n = read(fd[k], x, sizeof(*x));
			close(fd[k]);
			pid[k] = 0;
			if (n != (ssize_t)sizeof(*x) || !x->done || x->status ||
			    !WIFEXITED(st) || WEXITSTATUS(st)) {
				char label[256];
				if (k == 0)
					snprintf(label, sizeof(label), "without sweep settings");
				else
					sweep_label(sw, sw->combo[k - 1], label, sizeof(label));
				if (WIFSIGNALED(st))
					tool_err(CMD,
					         "--sweep: the replay with %s was killed by "
					         "signal %d",
					         label, WTERMSIG(st));
				else
					tool_err(CMD,
					         "--sweep: the replay with %s failed (exit "
					         "%d)",
					         label,
					         n == (ssize_t)sizeof(*x) && x->done
					             ? x->status
					             : WEXITSTATUS(st));
				rc = EXIT_FAIL;
			}
		}
		if (!r->o.quiet && done < total) {
			double el = now_seconds() - t0;
			progress(r,
			         "sweep: %u of %u replays done, %u running, ETA %.0f "
			         "s",
			         done, total, running, el / done * (double)(total - done));
		}
	}
	/* after a failure: wait for those still running */
	for (k = 0; k < next; k++)
		if (pid[k]) {
			int st;
			waitpid(pid[k], &st, 0);
			close(fd[k]);
		}
	progress_end(r);
	free(pid);
	free(fd);
	return rc;
}

/* Combination indexes (into sw->combo / sw->res) in ranked order. */
static const struct sweep *sort_sw;
static int sweep_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	double mx = res_metric(&sort_sw->res[x], sort_sw->key);
	double my = res_metric(&sort_sw->res[y], sort_sw->key);
	if (mx != my)
		return (mx < my) == !rank_keys[sort_sw->key].descending ? -1 : 1;
	return x < y ? -1 : 1;
}

static void sweep_kernel(const struct run *r, unsigned long long *allocs,
                         double *lock, double *moves)
{
	const struct trace_stats *st = &r->tr.st;
	*allocs = st->by_type[TRACE_ALLOC] - st->kernel_alloc_failed;
	*lock = per1000(r->kb.refill_batches + r->kb.drain_batches + r->kb.direct,
	                *allocs);
	*moves = per1000(st->refill_pages + st->pages_by_type[TRACE_PCPU_DRAIN],
	                 *allocs);
}

static void sweep_text(const struct run *r, const struct sweep *sw,
                       const unsigned *order, FILE *f)
{
	unsigned k, d, w[SWEEP_MAX_DIMS], lw = 0;
	unsigned long long kallocs;
	double klock, kmoves;
	char b[64];
	const struct sweep_res *ref = &sw->res[sw->nr];

	sweep_kernel(r, &kallocs, &klock, &kmoves);
	fprintf(f,
	        "zonealloc replay --sweep of %s: %u combinations, ranked by "
	        "%s (%s first)\n",
	        r->o.path, sw->nr, rank_keys[sw->key].what,
	        rank_keys[sw->key].descending ? "highest" : "lowest");
	if (sw->skipped)
		fprintf(f,
		        "(%u combinations with pcp_high below pcp_batch left "
		        "out)\n",
		        sw->skipped);
	fprintf(f, "\n");
	for (d = 0; d < sw->nr_dims; d++) {
		w[d] = (unsigned)strlen(sw->dim[d].name);
		if (w[d] < 6)
			w[d] = 6;
		lw += w[d] + 2;
	}
	fprintf(f, "%4s", "rank");
	for (d = 0; d < sw->nr_dims; d++)
		fprintf(f, "  %*s", (int)w[d], sw->dim[d].name);
	fprintf(f, "  %10s %10s %9s %9s %7s\n", "lock/1000", "moves/1000",
	        "pcp_pages", "order>=9%", "failed");
	for (k = 0; k < sw->nr; k++) {
		const struct sweep_res *x = &sw->res[order[k]];
		fprintf(f, "%4u", k + 1);
		for (d = 0; d < sw->nr_dims; d++)
			fprintf(f, "  %*llu", (int)w[d],
			        sweep_value(sw, sw->combo[order[k]], d));
		fprintf(f, "  %10.2f %10.1f %9llu %9.1f %7llu\n",
		        res_metric(x, RK_LOCK), res_metric(x, RK_MOVES), x->pcp_pages,
		        res_metric(x, RK_HIGHORDER), x->failed);
	}
	fprintf(f, "\nReference:\n");
	fprintf(f, "%-*s  %10.2f %10.1f %9llu %9.1f %7llu\n", (int)(lw + 4),
	        "zonealloc, no sweep setting", res_metric(ref, RK_LOCK),
	        res_metric(ref, RK_MOVES), ref->pcp_pages,
	        res_metric(ref, RK_HIGHORDER), ref->failed);
	snprintf(b, sizeof(b), ">= %.2f", klock);
	fprintf(f, "%-*s  %10s %10.1f %9s %9s %7llu\n", (int)(lw + 4),
	        "kernel, from the trace", b, kmoves, "-", "-",
	        (unsigned long long)r->tr.st.kernel_alloc_failed);
	fprintf(f,
	        "\nlock/1000: zone-lock acquisitions per 1000 allocations; "
	        "moves/1000: pages\nmoved between per-CPU and buddy lists per "
	        "1000 allocations; pcp_pages: pages\non per-CPU lists at the "
	        "end; order>=9%%: free pages in blocks of order >= 9\nat the end "
	        "(the kernel's end state is not in a trace: '-'). %llu "
	        "allocations.\n",
	        (unsigned long long)ref->allocs);
}

static void json_res(struct jw *w, const struct sweep_res *x)
{
	jw_u(w, "allocations", x->allocs);
	jw_u(w, "alloc_failures", x->failed);
	jw_u(w, "zone_lock", x->lock);
	jw_d(w, "zone_lock_per_1000", res_metric(x, RK_LOCK));
	jw_u(w, "pages_refilled", x->refill);
	jw_u(w, "pages_returned", x->returned);
	jw_u(w, "refill_batches", x->refill_batches);
	jw_u(w, "return_batches", x->return_batches);
	jw_d(w, "moves_per_1000", res_metric(x, RK_MOVES));
	jw_u(w, "pcp_pages_end", x->pcp_pages);
	jw_u(w, "pcp_bytes_end", x->pcp_pages * x->page_size);
	jw_u(w, "free_pages_end", x->free_pages);
	jw_u(w, "free_pages_order_ge_9_end", x->free_large);
	jw_d(w, "high_order_free_percent", res_metric(x, RK_HIGHORDER));
}

static void sweep_json(const struct run *r, const struct sweep *sw,
                       const unsigned *order, double secs, FILE *f)
{
	struct jw w = { .f = f };
	unsigned long long kallocs;
	double klock, kmoves;
	unsigned k, d;

	sweep_kernel(r, &kallocs, &klock, &kmoves);
	jw_open(&w, NULL, '{');
	jw_open(&w, "input", '{');
	jw_s(&w, "file", r->o.path);
	jw_u(&w, "limit", r->o.limit);
	jw_close(&w, '}');
	jw_open(&w, "sweep", '{');
	jw_s(&w, "spec", sw->spec);
	jw_open(&w, "tunables", '[');
	for (d = 0; d < sw->nr_dims; d++) {
		jw_open(&w, NULL, '{');
		jw_s(&w, "name", sw->dim[d].name);
		jw_open(&w, "values", '[');
		for (k = 0; k < sw->dim[d].nr; k++)
			jw_u(&w, NULL, sw->dim[d].v[k]);
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_u(&w, "combinations", sw->nr);
	jw_u(&w, "skipped_pcp_high_below_batch", sw->skipped);
	jw_s(&w, "rank_by", rank_keys[sw->key].name);
	jw_s(&w, "rank_order",
	     rank_keys[sw->key].descending ? "descending" : "ascending");
	jw_close(&w, '}');
	jw_open(&w, "kernel", '{');
	jw_u(&w, "allocations", kallocs);
	jw_u(&w, "alloc_failures", r->tr.st.kernel_alloc_failed);
	jw_u(&w, "zone_lock_at_least",
	     r->kb.refill_batches + r->kb.drain_batches + r->kb.direct);
	jw_d(&w, "zone_lock_per_1000_at_least", klock);
	jw_u(&w, "pages_refilled", r->tr.st.refill_pages);
	jw_u(&w, "pages_returned", r->tr.st.pages_by_type[TRACE_PCPU_DRAIN]);
	jw_d(&w, "moves_per_1000", kmoves);
	jw_close(&w, '}');
	jw_open(&w, "reference", '{');
	json_res(&w, &sw->res[sw->nr]);
	jw_close(&w, '}');
	jw_open(&w, "rows", '[');
	for (k = 0; k < sw->nr; k++) {
		jw_open(&w, NULL, '{');
		jw_u(&w, "rank", k + 1);
		jw_open(&w, "settings", '{');
		for (d = 0; d < sw->nr_dims; d++)
			jw_u(&w, sw->dim[d].name, sweep_value(sw, sw->combo[order[k]], d));
		jw_close(&w, '}');
		json_res(&w, &sw->res[order[k]]);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	if (r->o.timing) {
		jw_open(&w, "timing", '{');
		jw_d(&w, "sweep_seconds", secs);
		jw_u(&w, "jobs", sw->jobs);
		jw_close(&w, '}');
	}
	jw_close(&w, '}');
	fputc('\n', f);
}

/* A temporary file beside `path`, renamed over it by out_commit. */
struct out_file {
	const char *path;
	char tmp[4096];
	FILE *f;
};

static int out_open(struct out_file *o, const char *path, const char *suffix)
{
	int fd;

	o->path = path;
	o->f = NULL;
	if (snprintf(o->tmp, sizeof(o->tmp), "%s.tmp-XXXXXX%s", path, suffix) >=
	    (int)sizeof(o->tmp)) {
		tool_err(CMD, "%s: name too long", path);
		return -1;
	}
	fd = mkstemps(o->tmp, (int)strlen(suffix));
	if (fd < 0) {
		tool_err(CMD, "cannot write beside %s: %s", path, strerror(errno));
		return -1;
	}
	{
		/* as an ordinary new file would be: 0666 less the umask */
		mode_t m = umask(0);
		umask(m);
		if (fchmod(fd, 0666 & ~m)) {
			/* mkstemps' 0600 is safe; go on */
		}
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		close(fd);
		unlink(o->tmp);
		tool_err(CMD, "%s: %s", o->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/* Closes and renames (ok) or removes (!ok). 0 or -1 (message). */
static int out_commit(struct out_file *o, int ok)
{
	int bad = o->f && (ferror(o->f) | fclose(o->f));

	o->f = NULL;
	if (!ok || bad) {
		if (bad)
			tool_err(CMD, "cannot write %s", o->path);
		unlink(o->tmp);
		return -1;
	}
	if (rename(o->tmp, o->path)) {
		tool_err(CMD, "cannot rename %s to %s: %s", o->tmp, o->path,
		         strerror(errno));
		unlink(o->tmp);
		return -1;
	}
	return 0;
}

/* gnuplot on PATH? */
static int have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path && *path) {
		const char *c = strchr(path, ':');
		size_t n = c ? (size_t)(c - path) : strlen(path);
		if (n && n < sizeof(buf) - 10) {
			memcpy(buf, path, n);
			strcpy(buf + n, "/gnuplot");
			if (access(buf, X_OK) == 0)
				return 1;
		}
		if (!c)
			break;
		path = c + 1;
	}
	return 0;
}

/* Whether gnuplot has the cairo PNG terminal (nicer text). */
static int gnuplot_has_cairo(void)
{
	return system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") == 0;
}

/* A gnuplot string: ' is written ''. */
static void gp_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* The ranked combinations as bars of the rank key, the reference and the
 * kernel as lines. 0 or -1 (message; no file left behind). */
static int sweep_plot(const struct run *r, const struct sweep *sw,
                      const unsigned *order)
{
	struct out_file png, dat;
	char cmd[64], label[256];
	unsigned long long kallocs;
	double klock, kmoves, kref = -1;
	unsigned k;
	FILE *gp;
	int ok, st;

	sweep_kernel(r, &kallocs, &klock, &kmoves);
	if (sw->key == RK_LOCK)
		kref = klock;
	else if (sw->key == RK_MOVES)
		kref = kmoves;
	if (out_open(&dat, r->o.plot, ".dat"))
		return -1;
	for (k = 0; k < sw->nr; k++) {
		sweep_label(sw, sw->combo[order[k]], label, sizeof(label));
		fprintf(dat.f, "%u\t%.4f\t\"%s\"\n", k,
		        res_metric(&sw->res[order[k]], sw->key), label);
	}
	if (fflush(dat.f) || ferror(dat.f)) {
		out_commit(&dat, 0);
		tool_err(CMD, "cannot write the plot's data");
		return -1;
	}
	if (out_open(&png, r->o.plot, ".png")) {
		out_commit(&dat, 0);
		return -1;
	}
	fclose(png.f); /* gnuplot writes it */
	png.f = NULL;
	snprintf(cmd, sizeof(cmd), "gnuplot");
	gp = popen(cmd, "w");
	if (!gp) {
		tool_err(CMD, "cannot run gnuplot: %s", strerror(errno));
		out_commit(&dat, 0);
		out_commit(&png, 0);
		return -1;
	}
	{
		unsigned width = sw->nr * 40 + 300;
		width = width < 800 ? 800 : width > 2400 ? 2400 : width;
		fprintf(gp, "set terminal %s size %u,700 noenhanced\nset output ",
		        gnuplot_has_cairo() ? "pngcairo" : "png", width);
	}
	gp_quote(gp, png.tmp);
	fprintf(gp, "\nset title ");
	snprintf(label, sizeof(label), "zonealloc replay --sweep of %s",
	         r->o.path);
	gp_quote(gp, label);
	fprintf(gp, "\nset ylabel ");
	gp_quote(gp, rank_keys[sw->key].what);
	fprintf(gp,
	        "\nset style fill solid 0.6\nset boxwidth 0.7\n"
	        "set xtics rotate by -60 font ',8'\nset key below\n"
	        "set bmargin 14\nset grid ytics\n"
	        "set yrange [0:*]\nset xrange [-1:%u]\n",
	        sw->nr);
	fprintf(gp, "plot ");
	gp_quote(gp, dat.tmp);
	fprintf(gp,
	        " using 1:2:xtic(3) with boxes title 'combinations, "
	        "ranked', %.4f with lines lw 2 title 'zonealloc, no sweep "
	        "setting'",
	        res_metric(&sw->res[sw->nr], sw->key));
	if (kref >= 0)
		fprintf(gp, ", %.4f with lines lw 2 dt 2 title 'kernel%s'", kref,
		        sw->key == RK_LOCK ? " (at least)" : "");
	fprintf(gp, "\n");
	st = pclose(gp);
	ok = st == 0;
	out_commit(&dat, 0); /* the data file is not kept */
	if (!ok) {
		tool_err(CMD, "gnuplot failed making %s", r->o.plot);
		out_commit(&png, 0);
		return -1;
	}
	return out_commit(&png, 1);
}

/* --sweep after the trace is read and paired. The exit code. */
static int sweep_main(struct run *r, struct sweep *sw)
{
	unsigned *order;
	unsigned k;
	double t0 = now_seconds(), secs;
	int rc;

	if ((rc = sweep_run(r, sw)) != 0)
		return rc;
	secs = now_seconds() - t0;
	order = calloc(sw->nr, sizeof(*order));
	if (!order) {
		tool_err(CMD, "out of memory");
		return EXIT_FAIL;
	}
	for (k = 0; k < sw->nr; k++)
		order[k] = k;
	sort_sw = sw;
	qsort(order, sw->nr, sizeof(*order), sweep_cmp);
	if (r->o.plot && sweep_plot(r, sw, order)) {
		free(order);
		return EXIT_FAIL;
	}
	if (r->o.output) {
		struct out_file out;
		if (out_open(&out, r->o.output, "")) {
			free(order);
			return EXIT_FAIL;
		}
		if (r->o.json)
			sweep_json(r, sw, order, secs, out.f);
		else
			sweep_text(r, sw, order, out.f);
		rc = out_commit(&out, 1) ? EXIT_FAIL : 0;
	} else {
		if (r->o.json)
			sweep_json(r, sw, order, secs, stdout);
		else
			sweep_text(r, sw, order, stdout);
		fflush(stdout);
	}
	free(order);
	return rc;
}

int cmd_replay(int argc, char **argv)
{
	struct run *r = calloc(1, sizeof(*r));
	struct sweep *sw = NULL;
	struct trace_load_opts lo;
	char err[512];
	int rc, done, m;
	unsigned k;
	double t0;

	if (!r) {
		tool_err(CMD, "out of memory");
		return EXIT_FAIL;
	}
	pthread_mutex_init(&r->misuse_lock, NULL);
	rc = parse_options(&r->o, argc, argv, &done);
	if (rc || done)
		goto out;
	if (r->o.sweep) {
		sw = sweep_parse(&r->o, &rc);
		if (!sw)
			goto out;
		if (r->o.plot && !have_gnuplot()) {
			tool_err(CMD,
			         "--plot %s: gnuplot is not installed (Debian: "
			         "apt-get install gnuplot-nox); leave out --plot",
			         r->o.plot);
			rc = EXIT_FAIL;
			goto out;
		}
	}
	rc = EXIT_FAIL;
	if (!strcmp(r->o.path, "-") && isatty(0)) {
		tool_usage_err(CMD, "standard input is a terminal: pipe a trace "
		                    "in, or name a file");
		rc = EXIT_USAGE;
		goto out;
	}
	if (r->o.stream) {
		rc = replay_stream(r);
		goto out;
	}

	/* 1. the whole trace into memory */
	r->t_start = r->t_progress = now_seconds();
	memset(&lo, 0, sizeof(lo));
	lo.limit = r->o.limit;
	lo.progress = load_progress;
	lo.ctx = r;
	if (trace_load(&r->tr, r->o.path, &lo, err, sizeof(err))) {
		progress_end(r);
		tool_err(CMD, "%s", err);
		goto out;
	}
	t0 = now_seconds();
	r->t_read = t0 - r->t_start;
	if ((rc = read_machine(r, 1)) != 0)
		goto out;
	rc = EXIT_FAIL;

	/* 2. pair frees with allocations */
	if ((m = trace_match_flags(&r->tr, r->tr.nr,
	                           r->o.skip_unmatched ? 0 : TRACE_MATCH_STANDINS,
	                           match_max_live(r), &r->ops)) != 0) {
		progress_end(r);
		if (m == -2)
			match_over_err(r);
		else
			tool_err(CMD, "out of memory pairing %zu events", r->tr.nr);
		goto out;
	}
	trace_lock_batches(&r->tr, r->tr.nr, &r->kb);
	r->recs = calloc(r->ops.nr_recs + 1, sizeof(*r->recs));
	if (!r->recs) {
		tool_err(CMD, "out of memory for %u allocations", r->ops.nr_recs);
		goto out;
	}
	r->t_match = now_seconds() - t0;

	if (sw) {
		rc = sweep_main(r, sw);
		goto out;
	}

	/* 3. the machine */
	if ((rc = build_machine(r)) != 0)
		goto out;
	rc = EXIT_FAIL;

	/* 4. replay */
	for (k = 0; k < ZA_NR_EVENTS; k++)
		r->ev_base[k] = za_event_count(r->za, (enum za_event)k);
	t0 = now_seconds();
	if (r->o.mode == MODE_DET) {
		replay_det(r);
	} else if (replay_threads(r)) {
		progress_end(r);
		goto out;
	}
	r->t_replay = now_seconds() - t0;
	progress_end(r);

	/* 5. the end */
	rc = finish(r);
out:
	sweep_free(sw);
	free_run(r);
	free(r);
	return rc;
}
