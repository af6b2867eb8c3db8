/*
 * stress.c - `zonealloc stress`: runs worker threads against an allocator
 * built from the topology options, in one of four scenarios (mixed load,
 * CPU and memory hotplug under load, memory pressure with reclaim, memory
 * offline under load), shows progress every second, and at the end frees
 * everything and checks that the allocator is whole again: za_check, and
 * every managed page back on the free lists.
 *
 * This file is the driver: options, the run of one scenario, the
 * progress line and the summary (a table, or one JSON object). The
 * workload itself is in stress_work.c, the hotplug drivers in
 * stress_hotplug.c, the page cache and shrinker in stress_reclaim.c.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "stress.h"

#define MAX_MESSAGES 20

const char *const scenario_names[SC_NR] = {
	[SC_MIXED] = "mixed",       [SC_HOTPLUG] = "hotplug",
	[SC_PRESSURE] = "pressure", [SC_OFFLINE] = "offline",
	[SC_FRAGMENT] = "fragment",
};

static volatile sig_atomic_t interrupted;
/* --page-owner-report: open for the whole command (every scenario of
 * --scenario all appends to it), NULL without it. */
static FILE *owner_file;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---------------------------------------------------------------- */
/* Messages                                                          */

static void vnote(struct stress *st, const char *kind, const char *fmt,
                  va_list ap)
{
	pthread_mutex_lock(&st->msg_lock);
	if (st->msgs < MAX_MESSAGES) {
		if (st->progress_dirty) {
			fputs("\r\033[K", stderr);
			st->progress_dirty = 0;
		}
		fprintf(stderr, "%s stress: %s: ", TOOL_NAME, kind);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else if (st->msgs == MAX_MESSAGES) {
		fprintf(stderr, "%s stress: (further messages suppressed)\n",
		        TOOL_NAME);
	}
	st->msgs++;
	pthread_mutex_unlock(&st->msg_lock);
}

void st_fail(struct stress *st, const char *fmt, ...)
{
	va_list ap;

	G_ADD(st, errors, 1);
	va_start(ap, fmt);
	vnote(st, "error", fmt, ap);
	va_end(ap);
}

void st_note(struct stress *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(st, "note", fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- */
/* Options                                                           */

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s stress [OPTIONS] [TOPOLOGY OPTIONS]\n"
	        "\n"
	        "Runs threads that allocate and free pages on simulated CPUs, "
	        "fills each\n"
	        "block with a pattern and verifies it before the free, then "
	        "frees\n"
	        "everything and checks that the allocator is whole (za_check, no "
	        "page lost).\n"
	        "Exit 0 when every check held, 1 when one failed, 2 for a usage "
	        "error\n"
	        "(a --timeline file that cannot be created is one).\n"
	        "\n"
	        "  --scenario NAME       mixed (default): mixed orders and gfp, "
	        "cross-thread frees\n"
	        "                        hotplug: + CPUs and ZONE_MOVABLE blocks "
	        "going off/online\n"
	        "                        pressure: demand beyond memory, with a "
	        "cache shrinker\n"
	        "                        and an OOM handler\n"
	        "                        offline: movable blocks offlined and "
	        "onlined under load\n"
	        "                        fragment: memory half free in single "
	        "pages, then\n"
	        "                        pageblock-order requests, compaction "
	        "off and on\n"
	        "                        (docs/COMPACTION.md)\n"
	        "                        all: each in turn, --seconds each\n"
	        "  --seconds N           run time (default 5)\n"
	        "  --threads N           worker threads (default nproc = %u)\n"
	        "  --seed N              seed of the workload and fill patterns "
	        "(default 1)\n"
	        "  --json                summary as one JSON object on stdout\n"
	        "  --quiet               no progress line\n"
	        "  --timeline FILE.csv   write one CSV row per zone every "
	        "interval: free pages,\n"
	        "                        watermarks, pcp pages, free blocks by "
	        "order, events\n"
	        "                        (plot it with tools/plot-timeline.sh; "
	        "docs/TOOL.md)\n"
	        "  --interval MS         progress and timeline interval (default "
	        "1000, >= 10)\n"
	        "  --offline-timeout MS  za_memory_offline timeout (default "
	        "1000)\n"
	        "  --random-yield N      ZA_DEBUG_RANDOM_YIELD knob (debug "
	        "builds)\n"
	        "  --verify MODE         fill-and-verify: auto (default: every "
	        "word of blocks\n"
	        "                        up to order 3, the first and last 64 "
	        "bytes of each\n"
	        "                        page above), full, or off\n"
	        "  --compaction MODE     fragment: off, on or both (default "
	        "both, off first)\n"
	        "  --unmovable PCT       fragment: share of the fill allocated "
	        "unmovable\n"
	        "                        (default 10)\n"
	        "  --inject FAULT        self-test: break the client on purpose "
	        "(corrupt: a word\n"
	        "                        of a held page; leak: forget a block; "
	        "use-after-free:\n"
	        "                        write to a page after freeing it, with "
	        "--poison);\n"
	        "                        the run must fail\n"
	        "  --page-owner-report FILE  with --page-owner: write the "
	        "per-block report\n"
	        "                        (the kernel's page_owner layout) of the "
	        "blocks held\n"
	        "                        when the workers stop to FILE; the "
	        "summary by call\n"
	        "                        site follows the result table\n"
	        "  -h, --help            show this help\n"
	        "\n"
	        "The hotplug and offline scenarios put part of each node in "
	        "ZONE_MOVABLE\n"
	        "(a quarter, resp. a half) unless --movable says how much.\n"
	        "\n",
	        TOOL_NAME, tool_nproc());
	topo_usage(f, "256M");
	fprintf(f,
	        "\n"
	        "Example: %s stress --scenario hotplug --seconds 10 --cpus 16 "
	        "--nodes 2\n",
	        TOOL_NAME);
}

static const struct opt_word inject_words[] = {
	{ "corrupt", INJECT_CORRUPT },
	{ "leak", INJECT_LEAK },
	{ "use-after-free", INJECT_UAF },
	{ NULL, 0 },
};
static const struct opt_word verify_words[] = {
	{ "off", VERIFY_OFF },
	{ "auto", VERIFY_AUTO },
	{ "full", VERIFY_FULL },
	{ NULL, 0 },
};

/* Options the fragment scenario does not read: it runs a client of its
 * own (stress_fragment.c), which injects no fault, checks two words of
 * every page whatever --verify says, sets no debug knob, offlines no
 * memory and writes no page owner report. */
static const char *const not_fragment_opts[] = {
	"--inject",
	"--verify",
	"--random-yield",
	"--offline-timeout",
	"--page-owner-report",
	NULL,
};

/* The option of names that argv word a is ("--verify" or "--verify=..."),
 * or NULL. */
static const char *option_named(const char *a, const char *const *names)
{
	for (; *names; names++)
		if (opt_is(a, *names))
			return *names;
	return NULL;
}

static int parse_args(struct stress_opts *o, int argc, char **argv)
{
	const char *cmd = "stress";
	const char *not_fragment = NULL; /* an option fragment does not read */
	int i, r;

	memset(o, 0, sizeof(*o));
	topo_opts_init(&o->topo);
	o->topo.mem = 256ull << 20;
	o->scenario = SC_MIXED;
	o->seconds = 5;
	o->threads = tool_nproc();
	o->seed = 1;
	o->progress = 1;
	o->offline_timeout_ms = 1000;
	o->random_yield = -1;
	o->verify = VERIFY_AUTO;
	o->interval_ms = 1000;
	o->compaction = 3;
	o->unmovable_pct = 10;

	const char *fragment_only = NULL; /* an option only fragment reads */
	for (i = 1; i < argc; i++) {
		const char *v;
		unsigned long long x;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 1;
		}
		const char *nf = option_named(argv[i], not_fragment_opts);
		if (nf)
			not_fragment = nf;
		r = topo_parse(&o->topo, cmd, argc, argv, &i);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
#define VALUE(name) ((r = opt_value(cmd, argc, argv, &i, name, &v)) != 0)
		if (VALUE("--scenario")) {
			int k;
			if (r < 0)
				return -1;
			if (!strcmp(v, "all")) {
				o->scenario = -1;
				continue;
			}
			for (k = 0; k < SC_NR; k++)
				if (!strcmp(v, scenario_names[k]))
					break;
			if (k == SC_NR) {
				tool_usage_err(cmd,
				               "unknown scenario '%s' (expected mixed, "
				               "hotplug, pressure, offline, fragment or "
				               "all)",
				               v);
				return -1;
			}
			o->scenario = k;
		} else if (VALUE("--compaction")) {
			if (r < 0)
				return -1;
			fragment_only = "--compaction";
			if (!strcmp(v, "off"))
				o->compaction = 1;
			else if (!strcmp(v, "on"))
				o->compaction = 2;
			else if (!strcmp(v, "both"))
				o->compaction = 3;
			else {
				tool_usage_err(cmd,
				               "unknown --compaction mode '%s' "
				               "(expected off, on or both)",
				               v);
				return -1;
			}
		} else if (VALUE("--unmovable")) {
			if (r < 0 ||
			    parse_uint(cmd, "--unmovable", v, 0, 100, &o->unmovable_pct))
				return -1;
			fragment_only = "--unmovable";
		} else if ((r = opt_uint(cmd, argc, argv, &i, "--seconds", 1, 86400,
		                         &o->seconds)) ||
		           (r = opt_uint(cmd, argc, argv, &i, "--threads", 1, 1024,
		                         &o->threads)) ||
		           (r = opt_uint(cmd, argc, argv, &i, "--offline-timeout", 1,
		                         3600000, &o->offline_timeout_ms)) ||
		           (r = opt_uint(cmd, argc, argv, &i, "--interval", 10,
		                         3600000, &o->interval_ms)) ||
		           (r = opt_value(cmd, argc, argv, &i, "--timeline",
		                          &o->timeline)) ||
		           (r = opt_value(cmd, argc, argv, &i, "--page-owner-report",
		                          &o->owner_report)) ||
		           (r = opt_set(cmd, argv, i, "--json", &o->json, 1)) ||
		           (r = opt_set(cmd, argv, i, "--quiet", &o->progress, 0))) {
			if (r < 0)
				return -1;
		} else if (VALUE("--seed")) {
			if (r < 0 || parse_ull(cmd, "--seed", v, 0, ~0ull, &x))
				return -1;
			o->seed = x;
		} else if (VALUE("--random-yield")) {
			if (r < 0 || parse_ull(cmd, "--random-yield", v, 0, 1000000, &x))
				return -1;
			o->random_yield = (long)x;
		} else if ((r = opt_choice(cmd, argc, argv, &i, "--inject",
		                           inject_words, &o->inject,
		                           "unknown --inject fault '%s' "
		                           "(expected corrupt, leak or "
		                           "use-after-free)")) ||
		           (r = opt_choice(cmd, argc, argv, &i, "--verify",
		                           verify_words, &o->verify,
		                           "unknown --verify mode '%s' "
		                           "(expected auto, full or off)"))) {
			if (r < 0)
				return -1;
		} else if (argv[i][0] == '-') {
			tool_usage_err(cmd, "unknown option '%s'", argv[i]);
			return -1;
		} else {
			tool_usage_err(cmd, "unexpected argument '%s'", argv[i]);
			return -1;
		}
#undef VALUE
	}
	/* An option that would do nothing is a mistake, not a setting. */
	if (fragment_only && o->scenario != SC_FRAGMENT && o->scenario != -1) {
		tool_usage_err(cmd,
		               "%s is an option of the fragment scenario (or all); "
		               "--scenario %s does not use it",
		               fragment_only, scenario_names[o->scenario]);
		return -1;
	}
	/* The same the other way round: a fragment run given --inject
	 * passed without injecting anything (review 20, finding 3). */
	if (not_fragment && o->scenario == SC_FRAGMENT) {
		tool_usage_err(cmd,
		               "%s is not an option of the fragment scenario (it "
		               "runs a client of its own, which does not read it); "
		               "give it with another --scenario, or all",
		               not_fragment);
		return -1;
	}
	/* A corruption nobody can see would pass: refuse the run. */
	if (o->inject == INJECT_CORRUPT && o->topo.frames_only) {
		tool_usage_err(cmd, "--inject corrupt needs page contents: it "
		                    "cannot be used with --frames-only");
		return -1;
	}
	if (o->inject == INJECT_CORRUPT && o->verify == VERIFY_OFF) {
		tool_usage_err(cmd, "--inject corrupt is found by the verify "
		                    "before each free: it cannot be used with "
		                    "--verify off");
		return -1;
	}
	/* A write after free is seen by the allocator's poisoning only. */
	if (o->inject == INJECT_UAF && !(o->topo.cfg_flags & ZA_CFG_POISON)) {
		tool_usage_err(cmd, "--inject use-after-free is caught by the "
		                    "allocator's poisoning: it needs --poison");
		return -1;
	}
	if (o->owner_report && !(o->topo.cfg_flags & ZA_CFG_PAGE_OWNER)) {
		tool_usage_err(cmd, "--page-owner-report needs --page-owner (page "
		                    "owner is off unless asked for)");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Observing the allocator                                           */

struct zone_sums {
	unsigned long managed, free, isolated, pcp, min, low, high;
	/* The populated zone deepest below its watermarks: band 0 below
	 * min, 1 below low, 2 below high, 3 at or above high. */
	int tight_nid, tight_zone, tight_band;
};

static int wmark_band(const struct za_zone_info *zi)
{
	if (zi->free < zi->min)
		return 0;
	if (zi->free < zi->low)
		return 1;
	return zi->free < zi->high ? 2 : 3;
}

static void zone_sums(struct stress *st, struct zone_sums *s)
{
	unsigned nid;
	int z;

	memset(s, 0, sizeof(*s));
	s->tight_band = 3;
	for (nid = 0; nid < st->tp.o.nodes; nid++)
		for (z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info zi;
			if (za_zone_info(st->za, (int)nid, (enum za_zone_type)z, &zi))
				continue;
			if (zi.managed && wmark_band(&zi) < s->tight_band) {
				s->tight_band = wmark_band(&zi);
				s->tight_nid = (int)nid;
				s->tight_zone = z;
			}
			s->managed += zi.managed;
			s->free += zi.free;
			s->isolated += zi.isolated_free;
			s->pcp += zi.pcp_pages;
			if (zi.managed) {
				s->min += zi.min;
				s->low += zi.low;
				s->high += zi.high;
			}
		}
}

void stress_sum_stats(struct stress *st, struct wstats *t)
{
	unsigned i, k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < st->nthreads; i++) {
		const uint64_t *src = (const uint64_t *)&st->w[i].s;
		uint64_t *dst = (uint64_t *)t;
		for (k = 0; k < sizeof(*t) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
}

static uint64_t sum_fails(const struct wstats *t)
{
	uint64_t n = 0;
	unsigned k;

	for (k = 0; k < ST_ORDERS; k++)
		n += t->fails[k];
	return n;
}

unsigned long stress_cached_pages(struct stress *st)
{
	unsigned long n = 0;
	unsigned i;

	for (i = 0; i < st->tp.o.nodes; i++)
		if (st->cache[i])
			n += __atomic_load_n(&st->cache[i]->pages, __ATOMIC_RELAXED);
	return n;
}

/* One progress line: t_ms into the run, mops over the time since the
 * previous line. Free pages and watermarks are summed over the zones;
 * the zone deepest below its watermarks is named when one is below
 * high, since a sum can hide one zone at min behind another that is
 * full. */
static void progress_line(struct stress *st, unsigned long t_ms, double mops)
{
	static const char *const band_name[3] = { "< min", "< low", "< high" };
	struct zone_sums z;
	struct wstats t;
	char extra[160] = "", when[32], tight[48] = "";

	zone_sums(st, &z);
	stress_sum_stats(st, &t);
	switch (st->sc) {
	case SC_HOTPLUG:
		snprintf(extra, sizeof(extra),
		         "  cpus %u/%u flips %llu  offline %llu/%llu",
		         simcpu_nr_online(), st->tp.o.cpus,
		         (unsigned long long)(G_GET(st, cpu_offline) +
		                              G_GET(st, cpu_online)),
		         (unsigned long long)G_GET(st, mem_ok),
		         (unsigned long long)G_GET(st, mem_tried));
		break;
	case SC_OFFLINE:
		snprintf(extra, sizeof(extra), "  offline %llu/%llu migrated %llu",
		         (unsigned long long)G_GET(st, mem_ok),
		         (unsigned long long)G_GET(st, mem_tried),
		         (unsigned long long)G_GET(st, migrate_ok));
		break;
	case SC_PRESSURE:
		snprintf(extra, sizeof(extra),
		         "  cache %lu  stalls %llu  kswapd %llu  oom %llu",
		         stress_cached_pages(st),
		         za_event_count(st->za, ZA_ALLOCSTALL),
		         za_event_count(st->za, ZA_KSWAPD_WAKE),
		         (unsigned long long)G_GET(st, oom_calls));
		break;
	default:
		break;
	}
	if (st->o->interval_ms % 1000 == 0)
		snprintf(when, sizeof(when), "%3lus", t_ms / 1000);
	else
		snprintf(when, sizeof(when), "%5.1fs", (double)t_ms / 1000.0);
	if (z.tight_band < 3) {
		char node[16] = "";
		if (st->tp.o.nodes > 1)
			snprintf(node, sizeof(node), "node %d ", z.tight_nid);
		snprintf(tight, sizeof(tight), "; %s%s %s", node,
		         topo_zone_name((enum za_zone_type)z.tight_zone),
		         band_name[z.tight_band]);
	}
	pthread_mutex_lock(&st->msg_lock);
	fprintf(stderr,
	        "%s[%s] %.2f Mops/s  free %lu (min %lu low %lu high %lu%s)  pcp "
	        "%lu  fails %llu%s%s",
	        st->progress_tty ? "\r" : "", when, mops, z.free, z.min, z.low,
	        z.high, tight, z.pcp, (unsigned long long)sum_fails(&t), extra,
	        st->progress_tty ? "\033[K" : "\n");
	st->progress_dirty = st->progress_tty;
	fflush(stderr);
	pthread_mutex_unlock(&st->msg_lock);
}

/* ---------------------------------------------------------------- */
/* The final accounting                                              */

struct final {
	int check_rc;
	char *check_out;
	struct zone_sums z;
	long allocated;            /* NR_ZONE_ALLOCATED, all zones */
	unsigned long client_held; /* pages the client still marks in use */
	long lost;                 /* managed - free - isolated - pcp */
	double wall;
	uint64_t ev[ZA_NR_EVENTS];
	int pass;
	/* --page-owner: the summary by call site of the blocks held when
	 * the workers stopped (NULL without page owner). */
	char *owner_summary;
};

static void final_check(struct stress *st, struct final *f)
{
	size_t len = 0;
	FILE *ms;
	unsigned nid;
	int z;

	za_drain_all_pages(st->za);
	za_vmstat_fold(st->za);

	ms = open_memstream(&f->check_out, &len);
	f->check_rc = za_check(st->za, ms);
	if (ms)
		fclose(ms);
	if (f->check_rc) {
		st_fail(st, "za_check failed: %s", strerror(-f->check_rc));
		if (f->check_out && len)
			fprintf(stderr, "%s%s", f->check_out,
			        f->check_out[len - 1] == '\n' ? "" : "\n");
	}

	/* Every page back: per zone, free + isolated == managed. */
	memset(&f->z, 0, sizeof(f->z));
	for (nid = 0; nid < st->tp.o.nodes; nid++)
		for (z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info zi;
			unsigned long fr;
			long a;

			if (za_zone_info(st->za, (int)nid, (enum za_zone_type)z, &zi))
				continue;
			fr = za_zone_free_pages(st->za, (int)nid, (enum za_zone_type)z);
			a = za_zone_stat_snapshot(st->za, (int)nid, (enum za_zone_type)z,
			                          ZA_NR_ZONE_ALLOCATED);
			f->z.managed += zi.managed;
			f->z.free += fr;
			f->z.isolated += zi.isolated_free;
			f->z.pcp += zi.pcp_pages;
			f->allocated += a;
			if (fr + zi.isolated_free != zi.managed)
				st_fail(st,
				        "node %u %s: free %lu + isolated %lu != managed %lu "
				        "(%ld pages missing; %lu on per-CPU lists)",
				        nid, topo_zone_name((enum za_zone_type)z), fr,
				        zi.isolated_free, zi.managed,
				        (long)zi.managed - (long)(fr + zi.isolated_free),
				        zi.pcp_pages);
			if (a)
				st_fail(st,
				        "node %u %s: zonealloc_nr_allocated is %ld after "
				        "every page was freed",
				        nid, topo_zone_name((enum za_zone_type)z), a);
		}
	f->lost = (long)f->z.managed - (long)(f->z.free + f->z.isolated);
	f->client_held = work_owned_in(st, 0, st->map_pfns);
	if (f->client_held)
		st_fail(st,
		        "the client still marks %lu pages in use after "
		        "freeing everything",
		        f->client_held);
	for (z = 0; z < ZA_NR_EVENTS; z++)
		f->ev[z] = za_event_count(st->za, (enum za_event)z);
}

/* ---------------------------------------------------------------- */
/* Summary                                                           */

static double ms_of(uint64_t us)
{
	return (double)us / 1000.0;
}

static void print_table(struct stress *st, const struct final *f, FILE *o)
{
	struct wstats t;
	char b1[32], b2[32];
	unsigned k, max = za_max_order(st->za);
	uint64_t tried = G_GET(st, mem_tried);
	const uint64_t *ev = f->ev;

	stress_sum_stats(st, &t);
	fprintf(o,
	        "== stress %s: %.1f s, %u threads on %u CPUs, %u node%s x %s"
	        "%s%s, %s pages, seed %llu ==\n",
	        scenario_names[st->sc], f->wall, st->nthreads, st->tp.o.cpus,
	        st->tp.o.nodes, st->tp.o.nodes == 1 ? "" : "s",
	        fmt_size(st->tp.o.mem, b1, sizeof(b1)),
	        st->tp.o.movable ? " with movable " : "",
	        st->tp.o.movable ? fmt_size(st->tp.o.movable, b2, sizeof(b2)) : "",
	        st->backed ? "backed" : "frame-only",
	        (unsigned long long)st->seed);
	fprintf(o, "%-22s %llu (%.2f Mops/s)\n", "ops", (unsigned long long)t.ops,
	        (double)t.ops / f->wall / 1e6);
	fprintf(o, "%-22s %10s %10s\n", "order", "allocs", "fails");
	for (k = 0; k <= max && k < ST_ORDERS; k++)
		if (t.allocs[k] || t.fails[k])
			fprintf(o, "%22u %10llu %10llu\n", k,
			        (unsigned long long)t.allocs[k],
			        (unsigned long long)t.fails[k]);
	fprintf(o, "%-22s", "by request");
	for (k = 0; k < GK_NR; k++)
		if (t.allocs_gfp[k] || t.fails_gfp[k])
			fprintf(o, " %s %llu/%llu", gfp_kind_names[k],
			        (unsigned long long)t.allocs_gfp[k],
			        (unsigned long long)t.fails_gfp[k]);
	fprintf(o, "  (allocs/fails)\n");
	fprintf(o, "%-22s %llu, on another thread %llu, on another CPU %llu\n",
	        "frees", (unsigned long long)t.frees,
	        (unsigned long long)t.cross_thread_frees,
	        (unsigned long long)t.cross_cpu_frees);
	fprintf(o,
	        "%-22s alloc %llu calls (%llu pages), free %llu calls (%llu "
	        "pages)\n",
	        "bulk", (unsigned long long)t.bulk_calls,
	        (unsigned long long)t.bulk_pages,
	        (unsigned long long)t.bulk_free_calls,
	        (unsigned long long)t.bulk_free_pages);
	fprintf(o,
	        "%-22s local %llu, all %llu; CPU hops %llu; zeroed allocs "
	        "%llu\n",
	        "drains", (unsigned long long)t.drains_local,
	        (unsigned long long)t.drains_all, (unsigned long long)t.hops,
	        (unsigned long long)t.zero_allocs);
	fprintf(o,
	        "%-22s verify %llu, zero %llu, double allocation %llu, "
	        "misuse reports %llu, all errors %llu\n",
	        "check failures", (unsigned long long)G_GET(st, verify_errors),
	        (unsigned long long)G_GET(st, zero_errors),
	        (unsigned long long)G_GET(st, double_allocs),
	        (unsigned long long)G_GET(st, misuse),
	        (unsigned long long)G_GET(st, errors));
	fprintf(o,
	        "%-22s refill %llu (%llu pages), flush %llu (%llu pages), "
	        "drain %llu (%llu pages), trylock fail %llu\n",
	        "pcp events", (unsigned long long)ev[ZA_PCP_REFILL],
	        (unsigned long long)ev[ZA_PCP_REFILL_PAGES],
	        (unsigned long long)ev[ZA_PCP_FLUSH],
	        (unsigned long long)ev[ZA_PCP_FLUSH_PAGES],
	        (unsigned long long)ev[ZA_PCP_DRAIN],
	        (unsigned long long)ev[ZA_PCP_DRAIN_PAGES],
	        (unsigned long long)ev[ZA_PCP_TRYLOCK_FAIL]);
	fprintf(o,
	        "%-22s zone lock %llu, watermark fail %llu, fallback %llu, "
	        "pageblock steal %llu, zonelist retry %llu, drain retry %llu\n",
	        "zone events", (unsigned long long)ev[ZA_ZONE_LOCK],
	        (unsigned long long)ev[ZA_WMARK_FAIL],
	        (unsigned long long)ev[ZA_FALLBACK],
	        (unsigned long long)ev[ZA_STEAL_PAGEBLOCK],
	        (unsigned long long)ev[ZA_ZONELIST_RETRY],
	        (unsigned long long)ev[ZA_DRAIN_RETRY]);
	fprintf(o, "%-22s pgalloc %llu, pgfree %llu, pgalloc_fail %llu\n",
	        "library counts", (unsigned long long)ev[ZA_PGALLOC],
	        (unsigned long long)ev[ZA_PGFREE],
	        (unsigned long long)ev[ZA_PGALLOC_FAIL]);
	if (st->sc == SC_HOTPLUG)
		fprintf(o, "%-22s offline %llu, online %llu, errors %llu\n",
		        "CPU hotplug", (unsigned long long)G_GET(st, cpu_offline),
		        (unsigned long long)G_GET(st, cpu_online),
		        (unsigned long long)(G_GET(st, cpu_errors) +
		                             G_GET(st, cpu_ebusy)));
	if (st->sc == SC_HOTPLUG || st->sc == SC_OFFLINE) {
		fprintf(o,
		        "%-22s tried %llu, ok %llu, -EBUSY %llu, -EAGAIN %llu, "
		        "-ENOMEM %llu, other %llu, re-online failed %llu\n",
		        "memory offline", (unsigned long long)tried,
		        (unsigned long long)G_GET(st, mem_ok),
		        (unsigned long long)G_GET(st, mem_ebusy),
		        (unsigned long long)G_GET(st, mem_eagain),
		        (unsigned long long)G_GET(st, mem_enomem),
		        (unsigned long long)G_GET(st, mem_other),
		        (unsigned long long)G_GET(st, mem_online_fail));
		fprintf(o, "%-22s worst %.2f ms, mean %.2f ms\n", "offline latency",
		        ms_of(G_GET(st, mem_latency_worst_us)),
		        tried ? ms_of(G_GET(st, mem_latency_total_us)) / (double)tried
		              : 0.0);
		fprintf(o,
		        "%-22s pgmigrate_success %llu, pgmigrate_fail %llu; "
		        "callback moved %llu, -ENOENT %llu, refused %llu\n",
		        "migration", (unsigned long long)ev[ZA_PGMIGRATE_SUCCESS],
		        (unsigned long long)ev[ZA_PGMIGRATE_FAIL],
		        (unsigned long long)G_GET(st, migrate_ok),
		        (unsigned long long)G_GET(st, migrate_enoent),
		        (unsigned long long)G_GET(st, migrate_bad));
	}
	if (st->sc == SC_PRESSURE)
		fprintf(o,
		        "%-22s allocstall %llu, pgscan direct %llu kswapd %llu, "
		        "pgsteal direct %llu kswapd %llu, kswapd wakes %llu, "
		        "oom_kill %llu\n"
		        "%-22s pages cached %llu, shrinker scans %llu (freed "
		        "%llu), OOM handler calls %llu (freed %llu)\n",
		        "reclaim", (unsigned long long)ev[ZA_ALLOCSTALL],
		        (unsigned long long)ev[ZA_PGSCAN_DIRECT],
		        (unsigned long long)ev[ZA_PGSCAN_KSWAPD],
		        (unsigned long long)ev[ZA_PGSTEAL_DIRECT],
		        (unsigned long long)ev[ZA_PGSTEAL_KSWAPD],
		        (unsigned long long)ev[ZA_KSWAPD_WAKE],
		        (unsigned long long)ev[ZA_OOM_KILL], "",
		        (unsigned long long)G_GET(st, cache_in),
		        (unsigned long long)G_GET(st, shrink_scans),
		        (unsigned long long)G_GET(st, shrink_freed),
		        (unsigned long long)G_GET(st, oom_calls),
		        (unsigned long long)G_GET(st, oom_freed));
	fprintf(o,
	        "%-22s za_check %s; managed %lu = free %lu + isolated %lu "
	        "(%ld missing), pcp %lu, allocated %ld, client holds %lu\n",
	        "final state", f->check_rc ? "FAILED" : "ok", f->z.managed,
	        f->z.free, f->z.isolated, f->lost, f->z.pcp, f->allocated,
	        f->client_held);
	if (st->notimpl[0])
		fprintf(o, "%-22s %s\n", "not implemented", st->notimpl);
	fprintf(o, "%-22s %.2f s\n", "wall time", f->wall);
	fprintf(o, "%-22s %s\n\n", "result",
	        !f->pass      ? "FAIL"
	        : interrupted ? "INTERRUPTED (stopped early; checks held)"
	                      : "PASS");
	if (f->owner_summary)
		fprintf(o,
		        "== page owner (%s): blocks held when the workers "
		        "stopped, by allocation site ==\n%s%s",
		        scenario_names[st->sc],
		        *f->owner_summary ? f->owner_summary : "(none)\n",
		        *f->owner_summary ? "" : "\n");
}

/* The run as one JSON object on one line (json.h, compact). */
static void print_json(struct stress *st, const struct final *f, FILE *o)
{
	struct jw w = { .f = o, .compact = 1 };
	struct wstats t;
	unsigned k, max = za_max_order(st->za);
	uint64_t tried = G_GET(st, mem_tried);

	stress_sum_stats(st, &t);
	jw_open(&w, NULL, '{');
	jw_s(&w, "scenario", scenario_names[st->sc]);
	jw_u(&w, "seconds", st->o->seconds);
	jw_fixed(&w, "wall_seconds", f->wall, 3);
	jw_u(&w, "threads", st->nthreads);
	jw_u(&w, "cpus", st->tp.o.cpus);
	jw_u(&w, "nodes", st->tp.o.nodes);
	jw_u(&w, "mem_bytes_per_node", st->tp.o.mem);
	jw_u(&w, "movable_bytes_per_node", st->tp.o.movable);
	jw_u(&w, "page_size", st->page_size);
	jw_u(&w, "seed", st->seed);
	jw_b(&w, "backed", st->backed);
	jw_s(&w, "hugepages", topo_backing_name(&st->tp));
	jw_u(&w, "ops", t.ops);
	jw_d(&w, "mops_per_second", (double)t.ops / f->wall / 1e6);
	jw_open(&w, "allocs_by_order", '[');
	for (k = 0; k <= max && k < ST_ORDERS; k++)
		jw_u(&w, NULL, t.allocs[k]);
	jw_close(&w, ']');
	jw_open(&w, "fails_by_order", '[');
	for (k = 0; k <= max && k < ST_ORDERS; k++)
		jw_u(&w, NULL, t.fails[k]);
	jw_close(&w, ']');
	jw_open(&w, "allocs_by_request", '{');
	for (k = 0; k < GK_NR; k++)
		jw_u(&w, gfp_kind_names[k], t.allocs_gfp[k]);
	jw_close(&w, '}');
	jw_open(&w, "fails_by_request", '{');
	for (k = 0; k < GK_NR; k++)
		jw_u(&w, gfp_kind_names[k], t.fails_gfp[k]);
	jw_close(&w, '}');
	jw_u(&w, "frees", t.frees);
	jw_u(&w, "cross_thread_frees", t.cross_thread_frees);
	jw_u(&w, "cross_cpu_frees", t.cross_cpu_frees);
	jw_u(&w, "bulk_alloc_calls", t.bulk_calls);
	jw_u(&w, "bulk_alloc_pages", t.bulk_pages);
	jw_u(&w, "bulk_free_calls", t.bulk_free_calls);
	jw_u(&w, "bulk_free_pages", t.bulk_free_pages);
	jw_u(&w, "drains_local", t.drains_local);
	jw_u(&w, "drains_all", t.drains_all);
	jw_u(&w, "cpu_hops", t.hops);
	jw_u(&w, "verify_errors", G_GET(st, verify_errors));
	jw_u(&w, "zero_errors", G_GET(st, zero_errors));
	jw_u(&w, "double_allocations", G_GET(st, double_allocs));
	jw_u(&w, "misuse_reports", G_GET(st, misuse));
	jw_u(&w, "errors", G_GET(st, errors));
	jw_open(&w, "hotplug", '{');
	jw_u(&w, "cpu_offline", G_GET(st, cpu_offline));
	jw_u(&w, "cpu_online", G_GET(st, cpu_online));
	jw_u(&w, "cpu_errors", G_GET(st, cpu_errors) + G_GET(st, cpu_ebusy));
	jw_u(&w, "mem_offline_tried", tried);
	jw_u(&w, "mem_offline_ok", G_GET(st, mem_ok));
	jw_u(&w, "mem_offline_ebusy", G_GET(st, mem_ebusy));
	jw_u(&w, "mem_offline_eagain", G_GET(st, mem_eagain));
	jw_u(&w, "mem_offline_enomem", G_GET(st, mem_enomem));
	jw_u(&w, "mem_offline_other", G_GET(st, mem_other));
	jw_u(&w, "mem_online_failed", G_GET(st, mem_online_fail));
	jw_fixed(&w, "offline_worst_ms", ms_of(G_GET(st, mem_latency_worst_us)),
	         3);
	jw_fixed(&w, "offline_mean_ms",
	         tried ? ms_of(G_GET(st, mem_latency_total_us)) / (double)tried
	               : 0.0,
	         3);
	jw_u(&w, "migrate_callback_moved", G_GET(st, migrate_ok));
	jw_u(&w, "migrate_callback_enoent", G_GET(st, migrate_enoent));
	jw_close(&w, '}');
	jw_open(&w, "reclaim", '{');
	jw_u(&w, "pages_cached", G_GET(st, cache_in));
	jw_u(&w, "shrinker_scans", G_GET(st, shrink_scans));
	jw_u(&w, "shrinker_freed", G_GET(st, shrink_freed));
	jw_u(&w, "oom_handler_calls", G_GET(st, oom_calls));
	jw_u(&w, "oom_handler_freed", G_GET(st, oom_freed));
	jw_close(&w, '}');
	jw_open(&w, "events", '{');
	for (k = 0; k < ZA_NR_EVENTS; k++)
		jw_u(&w, za_event_name((enum za_event)k), f->ev[k]);
	jw_close(&w, '}');
	jw_open(&w, "final", '{');
	jw_s(&w, "za_check", f->check_rc ? "failed" : "ok");
	jw_s(&w, "za_check_output", f->check_out ? f->check_out : "");
	jw_u(&w, "managed", f->z.managed);
	jw_u(&w, "free", f->z.free);
	jw_u(&w, "isolated", f->z.isolated);
	jw_u(&w, "pcp", f->z.pcp);
	jw_i(&w, "allocated", f->allocated);
	jw_i(&w, "missing", f->lost);
	jw_u(&w, "client_held", f->client_held);
	jw_close(&w, '}');
	jw_s(&w, "not_implemented", st->notimpl[0] ? st->notimpl : NULL);
	jw_s(&w, "page_owner_summary", f->owner_summary);
	jw_b(&w, "interrupted", interrupted);
	jw_s(&w, "result", f->pass ? "pass" : "fail");
	jw_close(&w, '}');
}

/* ---------------------------------------------------------------- */
/* One scenario                                                      */

static unsigned long long movable_default(const struct stress_opts *o,
                                          enum scenario sc)
{
	unsigned long long mem = o->topo.mem, block = o->topo.block, m;

	/* --movable, or --zones with or without movable, says it all. */
	if (o->topo.movable_given || o->topo.zones_given)
		return o->topo.movable;
	if (sc != SC_HOTPLUG && sc != SC_OFFLINE)
		return o->topo.movable;
	if (block == 0 || mem < 2 * block)
		return o->topo.movable; /* too small: no offline, said later */
	m = (sc == SC_OFFLINE ? mem / 2 : mem / 4) / block * block;
	return m ? m : block;
}

/* Sleeps until `until` (monotonic seconds) or an interrupt; while it
 * waits, moves the pressure scenario's demand up and down. */
static void wait_until(struct stress *st, double until, double start)
{
	for (;;) {
		double now = now_seconds(), left = until - now;
		struct timespec ts;

		if (st->sc == SC_PRESSURE) {
			/* Demand sweeps 60 % .. 130 % of memory every 4 s, so
			 * the run sees reclaim keep up, then fall behind. */
			double ph = (now - start) / 4.0;
			ph -= (double)(long)ph;
			ph = ph < 0.5 ? ph * 2 : 2 - ph * 2;
			__atomic_store_n(&st->target_pct, 60 + (unsigned)(ph * 70),
			                 __ATOMIC_RELAXED);
		}
		if (left <= 0 || interrupted)
			return;
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

static const unsigned target_pct_of[SC_NR] = {
	[SC_MIXED] = 50,
	[SC_HOTPLUG] = 40,
	[SC_PRESSURE] = 100,
	[SC_OFFLINE] = 30,
};

/* A run of scenario sc: its state, before anything is built. NULL when
 * out of memory (said). */
static struct stress *stress_new(const struct stress_opts *o, enum scenario sc)
{
	struct stress *st = calloc(1, sizeof(*st));

	if (!st) {
		tool_err("stress", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&st->msg_lock, NULL);
	st->o = o;
	st->sc = sc;
	st->seed = o->seed;
	st->nthreads = o->threads;
	st->progress_tty = o->progress && isatty(STDERR_FILENO);
	return st;
}

static void stress_free(struct stress *st)
{
	pthread_mutex_destroy(&st->msg_lock);
	free(st);
}

/* The topology of the scenario, planned into st->tp and not built, and
 * checked against what the scenario needs. 0, or EXIT_USAGE (said). */
static int scenario_plan(struct stress *st)
{
	const char *cmd = "stress";
	const struct stress_opts *o = st->o;
	struct topo_opts to = o->topo;

	if (st->sc == SC_FRAGMENT)
		return fragment_plan(o, &st->tp);
	to.movable = movable_default(o, st->sc);
	if (topo_plan(&st->tp, &to, cmd))
		return EXIT_USAGE;
	if (st->sc == SC_OFFLINE && !st->tp.o.movable && o->topo.zones_given &&
	    !o->topo.movable_given)
		return tool_usage_err(cmd, "the offline scenario needs ZONE_MOVABLE "
		                           "memory: --zones leaves it out; add "
		                           "movable to it, or give --movable");
	/* --movable 0 asked for none: telling that user to "give --movable"
	 * (or more --mem, which changes nothing then) names the wrong cause
	 * (review 12, finding 2). */
	if (st->sc == SC_OFFLINE && !st->tp.o.movable && o->topo.movable_given)
		return tool_usage_err(cmd, "the offline scenario needs ZONE_MOVABLE "
		                           "memory: --movable 0 leaves none; give "
		                           "--movable of at least one block");
	if (st->sc == SC_OFFLINE && !st->tp.o.movable)
		return tool_usage_err(cmd, "the offline scenario needs ZONE_MOVABLE "
		                           "memory: give --movable, or --mem of at "
		                           "least two blocks");
	return 0;
}

/* The allocator of the scenario, its memory online, and the workers'
 * share of it. 0, EXIT_USAGE (a topology that does not fit the scenario)
 * or EXIT_FAIL (said; nothing is left built). */
static int scenario_build(struct stress *st)
{
	const char *cmd = "stress";
	const struct stress_opts *o = st->o;
	struct za_config cfg;
	struct zone_sums z;
	int rc = scenario_plan(st);

	if (rc)
		return rc;
	memset(&cfg, 0, sizeof(cfg));
	cfg.migrate = stress_migrate;
	cfg.migrate_ctx = st;
	cfg.error = stress_error_handler;
	cfg.error_ctx = st;
	cfg.offline_timeout_ms = o->offline_timeout_ms;
	if (topo_build(&st->tp, &cfg, cmd))
		return EXIT_FAIL;
	st->za = st->tp.za;
	st->backed = !st->tp.o.frames_only;
	st->page_size = st->tp.page_size;

	zone_sums(st, &z);
	st->managed_total = z.managed;
	st->target_pct = 100;
	st->base_target = z.managed * target_pct_of[st->sc] / 100 / st->nthreads;
	if (!st->base_target)
		st->base_target = 1;
	return 0;
}

/* The workload's tables, the debug yields, the pressure scenario's
 * reclaim. 0, or -1 when out of memory (said). */
static int scenario_setup(struct stress *st)
{
	const struct stress_opts *o = st->o;

	if (work_setup(st)) {
		tool_err("stress", "out of memory setting up the workload");
		return -1;
	}
	if (o->random_yield >= 0) {
		int err = za_debug_set(st->za, ZA_DEBUG_RANDOM_YIELD, o->random_yield);
		if (err)
			st_note(st, "za_debug_set(RANDOM_YIELD) returned %s",
			        strerror(-err));
	}
	if (st->sc == SC_PRESSURE && reclaim_setup(st) && st->notimpl[0])
		st_note(st, "%s", st->notimpl);
	return 0;
}

/* "zonealloc stress: scenario mixed, 10 s, ..." on stderr. */
static void progress_banner(const struct stress *st)
{
	const struct stress_opts *o = st->o;
	char b1[32];

	fprintf(stderr,
	        "%s stress: scenario %s, %u s, %u threads on %u CPUs, %u "
	        "node%s x %s, %lu pages managed, seed %llu\n",
	        TOOL_NAME, scenario_names[st->sc], o->seconds, st->nthreads,
	        st->tp.o.cpus, st->tp.o.nodes, st->tp.o.nodes == 1 ? "" : "s",
	        fmt_size(st->tp.o.mem, b1, sizeof(b1)), st->managed_total,
	        (unsigned long long)st->seed);
}

/* Watches the running threads until --seconds are up (or SIGINT): one
 * tick per --interval, a timeline row each tick; a progress line each
 * tick on a terminal (it rewrites itself), else at most one a second, so
 * a log stays readable. */
static void scenario_watch(struct stress *st, double start)
{
	const struct stress_opts *o = st->o;
	unsigned long tick, t_ms, last_ms = 0,
	                          end_ms = (unsigned long)o->seconds * 1000;
	double last = start;
	uint64_t last_ops = 0;

	for (tick = 1, t_ms = 0; t_ms < end_ms && !interrupted; tick++) {
		struct wstats t;
		double now;

		t_ms = tick * o->interval_ms;
		if (t_ms > end_ms)
			t_ms = end_ms;
		wait_until(st, start + (double)t_ms / 1000.0, start);
		now = now_seconds();
		timeline_sample(st, now - start);
		/* A monitor that was kept off the CPU past several ticks
		 * skips them, rather than writing rows of one instant with
		 * nothing in between. */
		while ((tick + 1) * o->interval_ms < end_ms &&
		       start + (double)((tick + 1) * o->interval_ms) / 1000.0 <= now)
			tick++;
		if (!o->progress || (!st->progress_tty &&
		                     t_ms / 1000 == last_ms / 1000 && t_ms < end_ms))
			continue;
		stress_sum_stats(st, &t);
		progress_line(st, t_ms,
		              (double)(t.ops - last_ops) / (now - last) / 1e6);
		last_ops = t.ops;
		last = now;
		last_ms = t_ms;
	}
}

/* --page-owner, with the workers stopped and every block still held:
 * the summary by call site into f->owner_summary, and with
 * --page-owner-report the per-block report appended to that file. */
static void owner_reports(struct stress *st, struct final *f)
{
	size_t len = 0;
	FILE *ms = open_memstream(&f->owner_summary, &len);
	int err;

	if (!ms) {
		st_fail(st, "out of memory for the page owner summary");
		return;
	}
	err = za_report(st->za, ZA_REPORT_PAGE_OWNER_SUMMARY, ms);
	fclose(ms);
	if (err)
		st_fail(st, "za_report(page_owner_summary) failed: %s",
		        strerror(-err));
	if (owner_file) {
		fprintf(owner_file,
		        "# scenario %s: blocks held when the "
		        "workers stopped\n",
		        scenario_names[st->sc]);
		fflush(owner_file);
		err = za_report(st->za, ZA_REPORT_PAGE_OWNER, owner_file);
		if (err)
			st_fail(st, "za_report(page_owner) to %s failed: %s",
			        st->o->owner_report, strerror(-err));
	}
}

/* Stops the threads, gives every page back and checks what is left:
 * fills *f (the caller frees f->check_out). */
static void scenario_finish(struct stress *st, struct final *f, double start)
{
	if (st->progress_dirty) {
		fputc('\n', stderr);
		st->progress_dirty = 0;
	}
	if (interrupted)
		st_note(st, "interrupted: stopping early");

	/* The hotplug drivers stop first, while workers still run, so that
	 * an offline waiting for a page in flight sees it freed. */
	hotplug_stop(st);
	work_stop(st);
	f->wall = now_seconds() - start;
	reclaim_teardown(st);
	if (st->tp.o.cfg_flags & ZA_CFG_PAGE_OWNER)
		owner_reports(st, f);
	work_release_all(st);
	final_check(st, f);
	f->pass = G_GET(st, errors) == 0 && f->check_rc == 0 && f->lost == 0 &&
	          !st->notimpl[0];
	if (st->notimpl[0])
		tool_err("stress", "%s", st->notimpl);
}

/* The summary: a table on stdout, or with --json one object left in
 * *json_out (NULL if it could not be made). */
static void scenario_report(struct stress *st, const struct final *f,
                            char **json_out)
{
	if (st->o->json) {
		size_t jlen = 0;
		FILE *js = open_memstream(json_out, &jlen);
		if (js) {
			print_json(st, f, js);
			fclose(js);
		}
	} else {
		print_table(st, f, stdout);
	}
	fflush(stdout);
}

/* Runs one scenario; its summary goes to stdout (table) or, with
 * --json, into a string left in *json_out; tl (NULL without --timeline)
 * gets its rows. Returns an exit code. */
static int run_one(const struct stress_opts *o, enum scenario sc,
                   struct timeline *tl, char **json_out)
{
	struct stress *st;
	struct final f;
	double start;
	int rc;

	st = stress_new(o, sc);
	if (!st)
		return EXIT_FAIL;
	memset(&f, 0, sizeof(f));
	rc = scenario_build(st);
	if (rc)
		goto out_free;
	rc = EXIT_FAIL;
	if (scenario_setup(st))
		goto out_destroy;
	if (o->progress)
		progress_banner(st);
	topo_describe_backing(&st->tp, stderr);

	st->tl = tl;
	timeline_start(st);
	start = now_seconds();
	if (work_start(st) || hotplug_start(st))
		st_fail(st, "could not start the threads");
	else
		scenario_watch(st, start);
	scenario_finish(st, &f, start);
	scenario_report(st, &f, json_out);
	rc = f.pass ? 0 : EXIT_FAIL;
	free(f.check_out);
	free(f.owner_summary);

	work_teardown(st);
out_destroy:
	topo_destroy(&st->tp);
out_free:
	stress_free(st);
	return rc;
}

int cmd_stress(int argc, char **argv)
{
	struct stress_opts o;
	struct sigaction sa;
	int r, rc = 0, sc, only, n = 0;
	char *objs[SC_NR] = { NULL };
	struct timeline tl;

	r = parse_args(&o, argc, argv);
	if (r > 0)
		return 0;
	if (r < 0)
		return EXIT_USAGE;
	only = o.scenario >= 0;
	/* Every scenario to run is planned before any of them runs: a
	 * topology one of them refuses (offline without ZONE_MOVABLE, a
	 * fragment run past what its client tracks) is a usage error now,
	 * not after the others have run their --seconds and their reports
	 * were dropped for it (review 20, finding 2). */
	for (sc = only ? o.scenario : 0; sc < (only ? o.scenario + 1 : SC_NR);
	     sc++) {
		struct stress *st = stress_new(&o, (enum scenario)sc);
		if (!st)
			return EXIT_FAIL;
		r = scenario_plan(st);
		stress_free(st);
		if (r)
			return r;
	}
	/* Before anything runs: a path that cannot be written is the
	 * user's to fix, and should not cost a whole run first. */
	if (o.timeline && timeline_open(&tl, o.timeline, "stress"))
		return EXIT_USAGE;
	if (o.owner_report) {
		owner_file = fopen(o.owner_report, "w");
		if (!owner_file) {
			int e = errno;
			if (o.timeline)
				timeline_close(&tl, "stress");
			return tool_usage_err("stress",
			                      "cannot write the page owner "
			                      "report to '%s': %s",
			                      o.owner_report, strerror(e));
		}
	}

	/* The first ^C ends the run early but still checks and reports; a
	 * second one kills. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);

	for (sc = only ? o.scenario : 0; sc < (only ? o.scenario + 1 : SC_NR);
	     sc++) {
		if (sc == SC_FRAGMENT)
			r = stress_fragment(&o, &interrupted, &objs[n]);
		else
			r = run_one(&o, (enum scenario)sc, o.timeline ? &tl : NULL,
			            &objs[n]);
		if (objs[n])
			n++;
		if (r > rc)
			rc = r;
		if (r == EXIT_USAGE || interrupted)
			break;
	}
	if (o.json && rc != EXIT_USAGE) {
		if (only) {
			if (n)
				printf("%s\n", objs[0]);
		} else {
			struct jw w = { .f = stdout, .compact = 1 };

			jw_open(&w, NULL, '{');
			jw_open(&w, "scenarios", '[');
			for (sc = 0; sc < n; sc++)
				jw_raw(&w, NULL, objs[sc]);
			jw_close(&w, ']');
			jw_b(&w, "interrupted", interrupted);
			jw_s(&w, "result", rc ? "fail" : "pass");
			jw_close(&w, '}');
			putchar('\n');
		}
	}
	for (sc = 0; sc < n; sc++)
		free(objs[sc]);
	if (o.timeline && timeline_close(&tl, "stress") && rc == 0)
		rc = EXIT_FAIL;
	if (owner_file) {
		if ((ferror(owner_file) | fclose(owner_file)) && rc == 0) {
			tool_err("stress",
			         "writing the page owner report to '%s' "
			         "failed",
			         o.owner_report);
			rc = EXIT_FAIL;
		}
		owner_file = NULL;
	}
	/* Stopped early: the checks ran on what ran, but the run asked for
	 * did not happen. A failed check still says 1. */
	if (interrupted && rc == 0) {
		tool_err("stress", "interrupted (SIGINT): the run stopped early; "
		                   "the final checks held");
		rc = EXIT_INTERRUPTED;
	}
	return rc;
}
