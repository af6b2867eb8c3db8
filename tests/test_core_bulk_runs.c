/*
 * test_core_bulk_runs.c - a bulk call owns a page set for one run of
 * pages at a time (PCP_BULK_RUN, src/pcp.h). It looks from the library's
 * debug points, which debug builds have: a Release build skips (77).
 *
 * Runs, seen where a bulk call lets its page set go (ZA_DP_BULK_RUN):
 *  - za_alloc_pages_bulk and za_free_pages_bulk of NR pages take from or
 *    give to a page set at most PCP_BULK_RUN pages per hold, and the set
 *    is not held at the end of a run; between two runs a remote user (a
 *    drain of every CPU's lists) takes the set, and, between the runs of
 *    an allocation, za_check passes;
 *  - the thread moves to the other CPU between two runs: the next run
 *    owns that CPU's set (restartable, the only one it could own);
 *  - the CPU is switched off between two runs (za_cpu_offline): no later
 *    run goes through its set, and the call still does all of its pages.
 *
 * With --rseq (ctest: core_bulk_runs_rseq) every check runs again with
 * restartable page sets on real CPUs 0 and 1 (pcp_mode.h), each in a child
 * process that is repeated when a sequence the kernel aborted sent a page
 * past the set it counts (pm_run).
 */
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <zonealloc.h>

#include "internal.h"
#include "pcp.h"
#include "pcp_mode.h"

#define NAME "core_bulk_runs"
#define BLK 1024ul
#define NBLK 8
#define NR 1000u /* pages of one bulk call: 16 runs */

static __thread int cur_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

/* The calling thread's CPU: simulated, or a real one it is pinned to. */
static void set_cpu(int c)
{
	pm_set_cpu(&cur_cpu, c);
}

/* Misuse reports: how many, and the pfn each names. */
#define MAXREP 8
static atomic_int nrep;
static unsigned long rep_pfn[MAXREP];
static char rep_msg[MAXREP][200];

static void on_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	int i = atomic_fetch_add(&nrep, 1);
	if (i >= MAXREP)
		return;
	snprintf(rep_msg[i], sizeof(rep_msg[i]), "%s", msg);
	const char *p = strstr(msg, "pfn 0x");
	rep_pfn[i] = ULONG_MAX;
	if (!p || sscanf(p, "pfn 0x%lx", &rep_pfn[i]) != 1)
		rep_pfn[i] = ULONG_MAX;
}

static void set_hook(struct za *za, void (*fn)(struct za *, int, void *))
{
	za_store_relaxed(&za->debug_hook, fn);
}

static struct za *make(unsigned flags, unsigned high, unsigned batch)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, 2, get_cpu);
	cfg.block_pages = BLK;
	cfg.max_pfn = NBLK * BLK;
	cfg.min_free_kbytes = 64;
	cfg.pageblock_order = 4; /* an unmovable request takes a block of its own */
	cfg.flags = flags | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.pcp_high = high;
	cfg.pcp_batch = batch;
	cfg.error = on_error;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	pm_check_mode(za, NAME);
	pm_watch(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, NBLK * BLK, NULL), 0);
	atomic_store(&nrep, 0);
	set_cpu(0);
	return za;
}

static struct za_zone *normal(struct za *za)
{
	return &za->nodes[0].zones[ZA_ZONE_NORMAL];
}

static struct za_pcp_info pinfo(struct za *za, unsigned cpu)
{
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, cpu, 0, ZA_ZONE_NORMAL, &pi), 0);
	return pi;
}

/* Every page back, and the allocator whole. */
static void end_whole(struct za *za)
{
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	CHECK_EQ(za_check(za, stderr), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, zi.managed);
	CHECK_EQ(atomic_load(&nrep), 0);
	set_hook(za, NULL);
	set_cpu(0);
	pm_destroy(za);
}

/* ============================================================================
 * Runs: what a bulk call has done each time it lets its set go.
 */

static struct {
	struct za_page **pages; /* the call's array */
	unsigned n;
	bool freeing;    /* za_free_pages_bulk, else za_alloc_pages_bulk */
	unsigned done;   /* pages done at the last point */
	unsigned points; /* runs ended */
	int run_cpu[NR]; /* the CPU of the set each run let go */
	int move_to;     /* after the first run: move the thread there */
	bool offline;    /* after the first run: switch its CPU off */
} ob;

/* Pages of the call done: taken (allocation), or freed (on a list, or
 * merged into a free block; not the page a free has claimed and not yet
 * put anywhere). */
static unsigned ob_done(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ob.n; i++) {
		if (!ob.freeing) {
			n += ob.pages[i] != NULL;
			continue;
		}
		int st = page_state(ob.pages[i]);
		n += st != ZA_PS_ALLOC && st != ZA_PS_FREEING;
	}
	return n;
}

static const char *ob_what(void)
{
	return ob.freeing ? "za_free_pages_bulk" : "za_alloc_pages_bulk";
}

static void ob_hook(struct za *za, int point, void *arg)
{
	if (point != ZA_DP_BULK_RUN || !ob.pages)
		return;
	struct za_pcp *set = arg;
	unsigned done = ob_done();
	RULE(!pcp_held(za, set),
	     "a bulk call lets its page set go between runs (ARCHITECTURE.md "
	     "\"Locks\": pcp locks are held for a bounded list operation): %s "
	     "ended run %u with CPU %d's set still held",
	     ob_what(), ob.points + 1, set->cpu);
	RULE(done - ob.done <= PCP_BULK_RUN,
	     "a bulk call holds a page set for at most PCP_BULK_RUN (%d) pages, "
	     "so that a remote user (a drain, za_check, za_pcp_set_high, memory "
	     "offline's switch-off, a CPU offline) waits for one run, not for "
	     "the whole array (ARCHITECTURE.md \"Locks\"): %s moved %u pages "
	     "through CPU %d's set in one hold (%u of %u done)",
	     PCP_BULK_RUN, ob_what(), done - ob.done, set->cpu, done, ob.n);
	ob.run_cpu[ob.points++] = set->cpu;
	ob.done = done;
	/* A remote user takes every set between two runs. */
	za_drain_all_pages(za);
	if (!ob.freeing) {
		/* (A free's next page is claimed already: not a quiescent
		 * point for za_check.) */
		int rc = za_check(za, stderr);
		RULE(rc == 0,
		     "between two runs of a bulk allocation everything is "
		     "consistent: za_check failed (%d) after run %u",
		     rc, ob.points);
	}
	if (ob.points == 1 && ob.move_to >= 0)
		set_cpu(ob.move_to);
	if (ob.points == 1 && ob.offline)
		CHECK_EQ(za_cpu_offline(za, (unsigned)set->cpu), 0);
}

/* One bulk allocation of NR pages into pages[], then one bulk free of
 * them, each watched by ob_hook; after the first run of each the thread
 * moves to CPU move_to (-1: stays) or, with offline, switches its CPU
 * off. The calls start on CPU 0. */
static void runs_case(int move_to, bool offline)
{
	static struct za_page *pages[NR];
	struct za *za = make(0, 0, 0);
	struct za_zone *z = normal(za);
	set_hook(za, ob_hook);
	for (int pass = 0; pass < 2; pass++) {
		bool freeing = pass == 1;
		memset(&ob, 0, sizeof(ob));
		ob.move_to = move_to;
		ob.offline = offline;
		ob.freeing = freeing;
		ob.n = NR;
		if (!freeing)
			memset(pages, 0, sizeof(pages));
		ob.pages = pages;
		set_cpu(0);
		unsigned got = NR;
		if (freeing)
			za_free_pages_bulk(za, NR, pages);
		else
			got = za_alloc_pages_bulk(za, ZA_GFP_KERNEL, NR, pages);
		CHECK_EQ(got, NR);
		CHECK_EQ(ob_done(), NR);
		ob.pages = NULL;
		const char *what = ob_what();
		if (move_to < 0 && !offline) {
			RULE(ob.points >= (NR + PCP_BULK_RUN - 1) / PCP_BULK_RUN,
			     "%s of %u pages lets its page set go after every "
			     "PCP_BULK_RUN (%d) pages: it did %u times",
			     what, NR, PCP_BULK_RUN, ob.points);
		} else if (move_to >= 0) {
			RULE(ob.points >= 2 && ob.run_cpu[1] == move_to,
			     "a bulk call takes the set of the CPU it runs on for "
			     "each run (restartable: the only one it can own): "
			     "after the thread moved from CPU 0 to CPU %d between "
			     "two runs of %s, %s",
			     move_to, what,
			     ob.points < 2 ? "no run followed"
			                   : "the next one owned another CPU's set");
			for (unsigned i = 1; i < ob.points; i++)
				CHECK_EQ(ob.run_cpu[i], move_to);
		} else {
			RULE(ob.points == 1 && pinfo(za, 0).count == 0,
			     "a page set switched off between two runs of a bulk "
			     "call takes and gives no page any more (DESIGN.md, "
			     "seeds 000 and 004): after CPU 0 went offline, %s ran "
			     "%u more times through a set, and CPU 0's holds %u "
			     "pages",
			     what, ob.points - 1, pinfo(za, 0).count);
			CHECK_EQ(za_cpu_online(za, 0), 0);
		}
		for (unsigned i = 0; i < NR; i++)
			CHECK(freeing ? page_state(pages[i]) != ZA_PS_ALLOC
			              : page_state(pages[i]) == ZA_PS_ALLOC);
		(void)z;
	}
	end_whole(za);
	printf("%s: bulk calls of %u pages let the set go every %d pages%s\n",
	       NAME, NR, PCP_BULK_RUN,
	       move_to >= 0 ? ", and took the new CPU's set after a move"
	       : offline    ? ", and left a set switched off meanwhile alone"
	                    : "");
}

static void runs_bounded(void)
{
	runs_case(-1, false);
}

static void runs_follow_cpu(void)
{
	runs_case(1, false);
}

static void runs_set_off(void)
{
	runs_case(-1, true);
}

/* ============================================================================ */

int main(int argc, char **argv)
{
	pm_init(argc, argv, NAME, 2);
	if (!za_debug) {
		printf("%s: the debug points are compiled out (ZA_DEBUG=0): "
		       "skipped\n",
		       NAME);
		return 77;
	}
	tu_watchdog(120);
	static const struct {
		const char *name;
		void (*fn)(void);
	} checks[] = {
		{ "runs_bounded", runs_bounded },
		{ "runs_follow_cpu", runs_follow_cpu },
		{ "runs_set_off", runs_set_off },
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		pm_run(checks[i].name, checks[i].fn);
	printf("%s: ok\n", NAME);
	return 0;
}
