/*
 * test_core_bulk_runs.c - a bulk call owns a page set for one run of
 * pages at a time (PCP_BULK_RUN, src/pcp.h), and reports the lists its
 * runs cut. It looks from the library's debug points, which debug builds
 * have: a Release build skips (77).
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
 * Cuts. Frees claim with a plain store here, as outside debug builds. A
 * bulk free is the late one of two frees of a page that race: it is
 * stopped between its check and its claim (ZA_DP_FREE_CLAIM) while a
 * thread on the other CPU frees the page and is handed it again; it then
 * pushes the page on its own CPU's list with an old hand-out count, and a
 * flush over high later in the same call cuts that list (ARCHITECTURE.md,
 * "Racing double frees"):
 *  - one such page: its cut is reported before the call returns;
 *  - two, the second pushed right after the first was cut, so that the
 *    flush that cuts it is within PCP_BULK_RUN pages of the first cut:
 *    two reports, in order, and
 *    the run that cut the first ended at once and reported it;
 * and cuts by a remote user that flushes the set (cut_remote):
 *  - za_pcp_set_high that cuts a list reports it before it returns;
 *  - one za_pcp_set_high, or a CPU offline's drain, that cuts two lists:
 *    each cut is kept (the second is not dropped for the first, which
 *    waits for its report), and both are reported before it returns;
 *    and so do memory offline's switch-off of the zone's sets, the trim
 *    when reclaim pressure begins (reported once tunables_lock is let
 *    go) and the drain a CPU offline left to the statistics worker.
 * Cuts by the flush that new sizes bring (cut_resize): whoever takes the
 * set next picks them up - an allocation (pcp_alloc, whose pop then
 * succeeds; pcp_trylock_usable, the set switched off), one of an order
 * with no list (pcp_stat_unlock), a free (pcp_free: pushed, or sent to
 * the buddy lists) - and reports the cut before it returns.
 * A cut of a zone's buddy lists (cut_buddy_two): the other free takes
 * the buddy lists and the late one pushes the block on its CPU's list;
 * one allocation then cuts two buddy lists, and both are reported, in
 * order, before it returns.
 * More cuts before one report than a set keeps (cut_overflow): the kept
 * ones reported by pfn, in order, the others counted in the last report.
 * A cut noted while a report takes the cuts waiting (cut_during_report,
 * ZA_DP_CUT_NOTE): reported by the let-go after it, once.
 * A cut loses the pages of the list (docs/ARCHITECTURE.md): those checks
 * end with za_check failing, as the other cut tests do.
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
	/* A callback may call CPU hotplug and za_report (the header): a
	 * report made holding cpu_hotplug_lock would deadlock on the first
	 * and invert the lock order with the second (mem_hotplug_lock ranks
	 * first; review 7). */
	RULE(!za_witness_held(ZA_RANK_CPU_HOTPLUG),
	     "the error handler is called without cpu_hotplug_lock (a cut is "
	     "reported once the CPU offline or za_check let it go): it may "
	     "call za_cpu_offline or za_report: %s",
	     msg);
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

/* make's page size and pageblock order when not 0 (cut_resize). */
static unsigned mk_page_shift, mk_pb_order;

static struct za *make(unsigned flags, unsigned high, unsigned batch)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, 2, get_cpu);
	cfg.block_pages = BLK;
	cfg.max_pfn = NBLK * BLK;
	cfg.min_free_kbytes = 64;
	cfg.pageblock_order = 4; /* an unmovable request takes a block of its own */
	if (mk_pb_order)
		cfg.pageblock_order = mk_pb_order;
	cfg.page_shift = mk_page_shift;
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

/* ============================================================================
 * Cuts: racing double frees whose late free is a bulk call's.
 */

#define EXTRA 4096

static struct {
	struct za *za;
	struct za_page *target[2]; /* pages whose free by us comes late */
	za_gfp_t gfp[2];
	bool stopped[2];
	atomic_int req, done, quit;   /* req/done: index + 1 of a target */
	struct za_page *extra[EXTRA]; /* handed out to the other thread first */
	unsigned nextra;
	int run_reps[8]; /* reports made when a late bulk free's run ended */
	int runs;
	/* The other free goes to the buddy lists (CPU 0's set held), with
	 * the target's order, and the page is not handed out again. */
	bool to_buddy;
	unsigned order[2];
} rc;
static __thread bool tl_late; /* this thread's frees of a target come late */

/* Wait until *v == want; false after 10 s. */
static bool wait_eq(atomic_int *v, int want)
{
	for (long i = 0; atomic_load(v) != want; i++) {
		if (i > 10l * 1000 * 1000)
			return false;
		if (i > 1000)
			usleep(1);
		else
			sched_yield();
	}
	return true;
}

/* Our free of a target has checked it and not yet claimed it: the other
 * free of it runs whole, and the page is handed out again, meanwhile. */
static void rc_hook(struct za *za, int point, void *arg)
{
	(void)za;
	if (point == ZA_DP_BULK_RUN && tl_late && rc.runs < 8)
		rc.run_reps[rc.runs++] = atomic_load(&nrep);
	if (point != ZA_DP_FREE_CLAIM || !tl_late)
		return;
	for (int k = 0; k < 2; k++) {
		if (arg != rc.target[k] || rc.stopped[k])
			continue;
		rc.stopped[k] = true;
		atomic_store(&rc.req, k + 1);
		RULE(wait_eq(&rc.done, k + 1),
		     "test setup: the other free of target %d did not finish", k);
	}
}

/* The other thread, on CPU 0: frees a target when asked, then allocates
 * until it is handed that page again. */
static void *rc_other(void *arg)
{
	(void)arg;
	set_cpu(0);
	int handled = 0;
	while (!atomic_load(&rc.quit)) {
		int k = atomic_load(&rc.req);
		if (k == handled) {
			sched_yield();
			continue;
		}
		struct za_page *p = rc.target[k - 1], *q = NULL;
		if (rc.to_buddy) {
			struct za_pcp *own = zone_pcp(normal(rc.za), 0);
			CHECK_EQ(pcp_lock(rc.za, own), 0);
			za_free_pages(rc.za, p, rc.order[k - 1]);
			pcp_unlock(rc.za, own);
			handled = k;
			atomic_store(&rc.done, k);
			continue;
		}
		za_free_pages(rc.za, p, 0);
		while (rc.nextra < EXTRA &&
		       (q = za_alloc_pages(rc.za, rc.gfp[k - 1] | ZA_GFP_NOWARN, 0)) &&
		       q != p)
			rc.extra[rc.nextra++] = q;
		CHECK(q == p);
		handled = k;
		atomic_store(&rc.done, k);
	}
	return NULL;
}

/* A page of the given type, whose pageblock's type is mt (its list's). */
static struct za_page *page_of(struct za *za, za_gfp_t gfp, int mt)
{
	struct za_page *p = za_alloc_pages(za, gfp, 0);
	CHECK(p != NULL);
	CHECK_EQ(pcp_free_mt(za, za_page_to_pfn(za, p)), mt);
	return p;
}

/* An allocator with plain claims, and the other thread started. */
static struct za *rc_start(unsigned flags, unsigned high, unsigned batch,
                           pthread_t *th)
{
	struct za *za = make(flags, high, batch);
	/* Debug builds make every free strict; these frees claim with a
	 * plain store, as elsewhere without ZA_CFG_STRICT_FREE. */
	za->strict_free = false;
	fast_gates_update(za);
	memset(&rc, 0, sizeof(rc));
	rc.za = za;
	CHECK(pthread_create(th, NULL, rc_other, NULL) == 0);
	set_hook(za, rc_hook);
	return za;
}

static void rc_stop(struct za *za, pthread_t th)
{
	atomic_store(&rc.quit, 1);
	CHECK(pthread_join(th, NULL) == 0);
	set_hook(za, NULL);
	set_cpu(0);
	while (rc.nextra)
		za_free_pages(za, rc.extra[--rc.nextra], 0);
	/* The cut lists' pages are lost to the allocator, as designed, and
	 * za_check says so. */
	RULE(za_check(za, NULL) != 0,
	     "za_check reports the pages of a list cut after a racing double "
	     "free");
	pm_destroy(za);
}

static unsigned long pfn_of(struct za *za, struct za_page *p)
{
	return za_page_to_pfn(za, p);
}

/* high 16, batch 4: a flush over high gives back 4 pages, list 0 (order
 * 0, unmovable: the targets) first. The array: target 0, 15 movable
 * pages (the 16th page on CPU 1's list flushes, meeting target 0), then,
 * with two, target 1 and more movable pages, whose 5th flushes again. */
static void cut_case(int targets)
{
	pthread_t th;
	struct za *za = rc_start(ZA_CFG_PCP_FIXED, 16, 4, &th);
	struct za_page *m[24];
	for (int k = 0; k < targets; k++) {
		rc.gfp[k] = ZA_GFP_KERNEL;
		rc.target[k] = page_of(za, rc.gfp[k], ZA_MT_UNMOVABLE);
	}
	for (int i = 0; i < 24; i++)
		m[i] = page_of(za, ZA_GFP_MOVABLE, ZA_MT_MOVABLE);
	za_drain_all_pages(za); /* both CPUs' lists empty */
	struct za_page *v[26];
	unsigned n = 0;
	v[n++] = rc.target[0];
	for (int i = 0; i < 15; i++)
		v[n++] = m[i];
	if (targets == 2)
		v[n++] = rc.target[1];
	for (int i = 15; i < 24; i++)
		v[n++] = m[i];
	set_cpu(1);
	tl_late = true;
	za_free_pages_bulk(za, n, v);
	tl_late = false;
	int reps = atomic_load(&nrep);
	for (int k = 0; k < targets; k++)
		CHECK(rc.stopped[k]);
	if (targets == 1)
		RULE(reps == 1 && rep_pfn[0] == pfn_of(za, rc.target[0]) &&
		         strstr(rep_msg[0], "handed out twice"),
		     "a racing double free whose list za_free_pages_bulk cut is "
		     "reported before the call returns (DESIGN.md invariants: "
		     "a double free is caught and reported, never silently "
		     "absorbed): %d reports (first: %s)",
		     reps, reps ? rep_msg[0] : "-");
	else
		RULE(reps == 2 && rep_pfn[0] == pfn_of(za, rc.target[0]) &&
		         rep_pfn[1] == pfn_of(za, rc.target[1]),
		     "two racing double frees whose lists one za_free_pages_bulk "
		     "cut are two reports, made before it returns (DESIGN.md "
		     "invariants: never silently absorbed; a run ends at a cut, "
		     "which it reports before another can come): %d reports for "
		     "pfn 0x%lx and 0x%lx (first: %s)",
		     reps, pfn_of(za, rc.target[0]), pfn_of(za, rc.target[1]),
		     reps ? rep_msg[0] : "-");
	if (targets == 2)
		RULE(rc.runs >= 2 && rc.run_reps[0] == 1,
		     "a bulk free's run ends at the cut of a list and reports it "
		     "then, before it pushes the next page (ARCHITECTURE.md "
		     "\"Racing double frees\"): its first run ended with %d "
		     "reports made (%d runs)",
		     rc.runs ? rc.run_reps[0] : -1, rc.runs);
	rc_stop(za, th);
	printf("%s: %d racing double free%s cut by one bulk free, reported "
	       "before it returned\n",
	       NAME, targets, targets == 1 ? "" : "s");
}

static void cut_one(void)
{
	cut_case(1);
}

static void cut_two(void)
{
	cut_case(2);
}

/* Our free of page p, on CPU 1, comes late (rc_hook). */
static void late_free(struct za *za, struct za_page *p)
{
	tl_late = true;
	za_free_pages(za, p, 0);
	tl_late = false;
}

/* Whether report i names page p as a cut per-CPU list's. */
static bool names(struct za *za, int i, struct za_page *p)
{
	return atomic_load(&nrep) > i && rep_pfn[i] == pfn_of(za, p) &&
	       strstr(rep_msg[i], "handed out twice") != NULL;
}

enum cut_by {
	BY_SET_HIGH_EACH,
	BY_SET_HIGH_BOTH,
	BY_CPU_OFF,
	BY_MEM_OFFLINE,
	BY_PRESSURE,
	BY_DEFERRED,
	BY_CHECK,
};

/* Cuts of CPU 1's lists by a remote user, who reports them before it
 * returns: CPU 1's set holds list 0 [target 0] and list 1 [g, target 1,
 * k...], both targets freed late (a racing double free each).
 *  - BY_SET_HIGH_EACH: one za_pcp_set_high gives back one page: it cuts
 *    list 0 and gives back g; a second gives back down to high_min and
 *    cuts list 1. Each reports its cut before it returns.
 *  - BY_SET_HIGH_BOTH: one za_pcp_set_high down to high_min: its one
 *    flush cuts both lists, the second while the first waits for its
 *    report; two reports, in order, before it returns.
 *  - BY_CPU_OFF: za_cpu_offline of CPU 1 drains the set: the same two
 *    cuts, reported before it returns;
 *  - BY_MEM_OFFLINE: za_memory_offline of the zone's last block switches
 *    every set of the zone off and drains it (pcp_set_flag): the same;
 *  - BY_PRESSURE: reclaim pressure begins (kswapd's pressure_begin:
 *    reclaim_active, tunables_update): every set is trimmed to its
 *    minimum, with tunables_lock held, which the report waits for
 *    (tunables_leave): the same two cuts, reported before
 *    tunables_update returns;
 *  - BY_DEFERRED: the drain a CPU offline left to the statistics worker
 *    (the set switched off with its pages, ZA_PCP_DEFERRED, as
 *    pcp_cpu_off leaves it when it cannot wait: rules'
 *    deferred_drain_check makes that for real), done by the worker's
 *    call (pcp_finish_deferred): the same;
 *  - BY_CHECK: that drain done by za_check, which finishes them all
 *    first: the same, and the reports made without cpu_hotplug_lock
 *    (on_error). */
static void cut_remote(enum cut_by by)
{
	pthread_t th;
	struct za *za = rc_start(0, 0, 0, &th);
	struct za_pcp *pcp = zone_pcp(normal(za), 1);
	int high, batch, high_min, high_max;
	pcp_sizes_now(normal(za), pcp, &high, &batch, &high_min, &high_max);
	int nk = high_min + 2;
	CHECK(nk + 3 < high_max && nk < 1000);
	rc.gfp[0] = ZA_GFP_KERNEL;
	rc.target[0] = page_of(za, rc.gfp[0], ZA_MT_UNMOVABLE);
	rc.gfp[1] = ZA_GFP_MOVABLE;
	rc.target[1] = page_of(za, rc.gfp[1], ZA_MT_MOVABLE);
	struct za_page *g = page_of(za, ZA_GFP_MOVABLE, ZA_MT_MOVABLE);
	static struct za_page *k[1000];
	for (int i = 0; i < nk; i++)
		k[i] = page_of(za, ZA_GFP_MOVABLE, ZA_MT_MOVABLE);
	za_drain_all_pages(za);
	/* Room for everything on CPU 1's lists, no flush meanwhile. */
	CHECK_EQ(za_pcp_set_high(za, 1, 0, ZA_ZONE_NORMAL, (unsigned)high_max), 0);
	set_cpu(1);
	for (int i = 0; i < nk; i++)
		za_free_pages(za, k[i], 0);
	late_free(za, rc.target[1]);
	za_free_pages(za, g, 0);
	late_free(za, rc.target[0]);
	set_cpu(0);
	CHECK(rc.stopped[0] && rc.stopped[1]);
	CHECK_EQ(atomic_load(&nrep), 0);
	int count = (int)pinfo(za, 1).count;
	CHECK_EQ(count, nk + 3);
	unsigned long p0 = pfn_of(za, rc.target[0]);
	unsigned long p1 = pfn_of(za, rc.target[1]);
	if (by == BY_SET_HIGH_EACH) {
		CHECK_EQ(za_pcp_set_high(za, 1, 0, ZA_ZONE_NORMAL,
		                         (unsigned)count - 1),
		         0);
		int reps = atomic_load(&nrep);
		RULE(reps == 1 && names(za, 0, rc.target[0]),
		     "za_pcp_set_high reports the list its flush cut (a racing "
		     "double free) before it returns, not leaving it to the set's "
		     "next holder (DESIGN.md invariants: a double free is caught "
		     "and reported, never silently absorbed): %d reports for pfn "
		     "0x%lx (first: %s)",
		     reps, p0, reps ? rep_msg[0] : "-");
		CHECK_EQ(za_pcp_set_high(za, 1, 0, ZA_ZONE_NORMAL, 0), 0);
		reps = atomic_load(&nrep);
		RULE(reps == 2 && names(za, 1, rc.target[1]),
		     "a second za_pcp_set_high that cuts another list reports "
		     "it before it returns: %d reports, pfn 0x%lx second (%s)",
		     reps, p1, reps > 1 ? rep_msg[1] : "-");
	} else {
		const char *who = by == BY_CPU_OFF       ? "za_cpu_offline's drain"
		                  : by == BY_MEM_OFFLINE ? "za_memory_offline's drain"
		                  : by == BY_PRESSURE    ? "the pressure trim"
		                  : by == BY_DEFERRED    ? "the deferred drain"
		                  : by == BY_CHECK       ? "za_check's deferred drain"
		                                   : "one za_pcp_set_high's flush";
		if (by == BY_CPU_OFF) {
			CHECK_EQ(za_cpu_offline(za, 1), 0);
		} else if (by == BY_PRESSURE) {
			CHECK_EQ(za_add_acqrel(&za->reclaim_active, 1), 1u);
			tunables_update(za, TUNABLES_PRESSURE);
			CHECK(za->pressure_applied);
		} else if (by == BY_DEFERRED || by == BY_CHECK) {
			za_or_release(&pcp->flags, ZA_PCP_OFF_CPU | ZA_PCP_DEFERRED);
			za_store_release(&za->pcp_deferred, 1);
			if (by == BY_CHECK) /* its verdict: CPU 1 is online */
				(void)za_check(za, NULL);
			else
				pcp_finish_deferred(za, false);
			CHECK_EQ(pinfo(za, 1).count, 0);
			CHECK(!(za_load_acquire(&pcp->flags) & ZA_PCP_DEFERRED));
		} else if (by == BY_MEM_OFFLINE) {
			/* Whether the block goes offline does not matter here:
			 * the sets are switched off and drained first (and its
			 * pages in use, which have no migrate callback, are not
			 * waited for long). */
			za->offline_timeout_ms = 1;
			int err = za_memory_offline(za, (NBLK - 1) * BLK, BLK);
			CHECK(err == 0 || err == -EBUSY || err == -EAGAIN);
		} else
			CHECK_EQ(za_pcp_set_high(za, 1, 0, ZA_ZONE_NORMAL, 0), 0);
		int reps = atomic_load(&nrep);
		RULE(reps == 2 && names(za, 0, rc.target[0]) &&
		         names(za, 1, rc.target[1]),
		     "%s cut two lists of CPU 1's set (two racing double frees): "
		     "each cut is kept for its report, never dropped for one "
		     "already waiting, and both are reported, in order, before it "
		     "returns (DESIGN.md invariants: never silently absorbed): %d "
		     "reports for pfn 0x%lx and 0x%lx (first: %s; second: %s)",
		     who, reps, p0, p1, reps ? rep_msg[0] : "-",
		     reps > 1 ? rep_msg[1] : "-");
		if (by == BY_PRESSURE) {
			CHECK_EQ(za_add_acqrel(&za->reclaim_active, -1u), 0u);
			tunables_update(za, TUNABLES_PRESSURE);
		} else if (by == BY_DEFERRED || by == BY_CHECK) {
			za_and_acquire(&pcp->flags, (uint8_t)~ZA_PCP_OFF_CPU);
		}
	}
	rc_stop(za, th);
	printf("%s: %s cut CPU 1's lists and reported each cut before it "
	       "returned\n",
	       NAME,
	       by == BY_SET_HIGH_EACH   ? "two za_pcp_set_high calls"
	       : by == BY_SET_HIGH_BOTH ? "one za_pcp_set_high"
	       : by == BY_CPU_OFF       ? "za_cpu_offline"
	       : by == BY_PRESSURE      ? "the pressure trim"
	       : by == BY_DEFERRED      ? "the deferred drain"
	       : by == BY_CHECK         ? "za_check's deferred drain"
	                                : "za_memory_offline");
}

static void cut_set_high_each(void)
{
	cut_remote(BY_SET_HIGH_EACH);
}

static void cut_set_high_both(void)
{
	cut_remote(BY_SET_HIGH_BOTH);
}

static void cut_cpu_off(void)
{
	cut_remote(BY_CPU_OFF);
}

static void cut_mem_offline(void)
{
	cut_remote(BY_MEM_OFFLINE);
}

static void cut_pressure(void)
{
	cut_remote(BY_PRESSURE);
}

static void cut_deferred(void)
{
	cut_remote(BY_DEFERRED);
}

static void cut_check(void)
{
	cut_remote(BY_CHECK);
}

/* Two cuts of a zone's buddy lists before one report. Both sets held,
 * order-0 pages a (pfn P) and b (P + 1, a's buddy) and an order-1 block c
 * (P + 2) are handed out: split from one free block, and each freed
 * alone stays where it is freed. Then a and c each get two racing frees:
 * ours, on CPU 1, stops between its check and its claim while the other
 * (CPU 0's set held, so it goes to the buddy lists) puts the block at the
 * head of its buddy list (order 0 and order 1, movable), and ours then
 * pushes it on CPU 1's list: its state is the per-CPU list's. One order-0
 * movable allocation on CPU 0 refills from the buddy lists: it finds a
 * heading the order-0 list and cuts it, and c heading the order-1 list
 * and cuts that too, the first cut still waiting for its report (the
 * zone lock is held throughout). Both cuts are reported, in order,
 * before za_alloc_pages returns. */
static void cut_buddy_two(void)
{
	pthread_t th;
	struct za *za = rc_start(0, 0, 0, &th);
	struct za_zone *z = normal(za);
	rc.to_buddy = true;
	za_drain_all_pages(za);
	set_cpu(0);
	CHECK_EQ(pcp_lock_nested(za, zone_pcp(z, 0), 0), 0);
	CHECK_EQ(pcp_lock_nested(za, zone_pcp(z, 1), 1), 0);
	struct za_page *a = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	struct za_page *b = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	struct za_page *c = za_alloc_pages(za, ZA_GFP_MOVABLE, 1);
	pcp_unlock_nested(za, zone_pcp(z, 1), 1);
	pcp_unlock_nested(za, zone_pcp(z, 0), 0);
	CHECK(a && b && c);
	unsigned long pa = pfn_of(za, a), pc = pfn_of(za, c);
	CHECK_EQ(pa & 3, 0);
	CHECK_EQ(pfn_of(za, b), pa + 1);
	CHECK_EQ(pc, pa + 2);
	rc.target[0] = a;
	rc.order[0] = 0;
	rc.target[1] = c;
	rc.order[1] = 1;
	set_cpu(1);
	for (int k = 0; k < 2; k++) {
		tl_late = true;
		za_free_pages(za, rc.target[k], rc.order[k]);
		tl_late = false;
		CHECK(rc.stopped[k]);
		CHECK_EQ(page_state(rc.target[k]), ZA_PS_PCP);
		CHECK_EQ(z->free_head[rc.order[k]][ZA_MT_MOVABLE],
		         pfn_of(za, rc.target[k]));
	}
	set_cpu(0);
	CHECK_EQ(atomic_load(&nrep), 0);
	CHECK_EQ(pinfo(za, 0).count, 0);
	struct za_page *got = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(got != NULL);
	int reps = atomic_load(&nrep);
	bool named = reps == 2 && rep_pfn[0] == pa && rep_pfn[1] == pc &&
	             strstr(rep_msg[0],
	                    "on the buddy lists is not a free block") &&
	             strstr(rep_msg[1],
	                    "on the buddy lists is not a free block") &&
	             strstr(rep_msg[0], "free list of order 0") &&
	             strstr(rep_msg[1], "free list of order 1");
	RULE(named,
	     "two buddy free lists cut (two racing double frees) before one "
	     "report are two reports, in order, each naming its pfn, before "
	     "the call that cut them returns: a cut is kept for its report, "
	     "never dropped for one already waiting (DESIGN.md invariants: a "
	     "double free is caught and reported, never silently absorbed): "
	     "%d reports for pfn 0x%lx and 0x%lx (first: %s; second: %s)",
	     reps, pa, pc, reps ? rep_msg[0] : "-", reps > 1 ? rep_msg[1] : "-");
	za_free_pages(za, got, 0);
	za_free_pages(za, b, 0);
	rc_stop(za, th);
	printf("%s: two buddy free lists cut by one allocation, both reported "
	       "before it returned\n",
	       NAME);
}

/* Cuts by the flush of orders 4..8 that new sizes bring (pcp_flags_slow:
 * the smaller budget of those orders), made by whoever takes CPU 1's set
 * next. 64 KiB pages (so that the budget's floor, ZA_PCP_MID_BYTES, is
 * 16 pages) and 512-page pageblocks: orders 4..8 have lists. CPU 1's
 * order-4 movable list holds four blocks (64 pages) under a high whose
 * budget is larger; the one on top is a racing double free's (ours on
 * CPU 1 came late, the other went to the buddy lists: rc.to_buddy). Then
 * percpu_pagelist_high_fraction publishes sizes whose budget is 16
 * pages, and one call on CPU 1 picks them up, flushes and cuts the list;
 * its report is made before the call returns:
 *  - RESIZE_ALLOC: an order-0 allocation (the slow path, pcp_alloc: the
 *    set's flags send the fast path there) whose pop then succeeds;
 *  - RESIZE_ALLOC_OFF: the same with the set switched off too (its CPU's
 *    offline deferred its drain: the pages still on it), so that
 *    pcp_trylock_usable lets it go at once;
 *  - RESIZE_STAT: an order-10 allocation (no list: the buddy lists,
 *    counted in the set, pcp_stat_trylock / pcp_stat_unlock);
 *  - RESIZE_FREE: an order-0 free, pushed on the set (pcp_free);
 *  - RESIZE_FREE_BUDGET: an order-5 free, larger than half the new
 *    budget: pcp_free sends it to the buddy lists;
 *  - RESIZE_FREE_OFF: an order-0 free with the set switched off too:
 *    pcp_free sends it to the buddy lists. */
enum resize_by {
	RESIZE_ALLOC,
	RESIZE_ALLOC_OFF,
	RESIZE_STAT,
	RESIZE_FREE,
	RESIZE_FREE_BUDGET,
	RESIZE_FREE_OFF,
};

static void cut_resize(enum resize_by by)
{
	static const char *const what[] = {
		[RESIZE_ALLOC] = "an order-0 allocation (pcp_alloc, the pop "
		                 "succeeded)",
		[RESIZE_ALLOC_OFF] = "an order-0 allocation that found the set "
		                     "switched off (pcp_trylock_usable)",
		[RESIZE_STAT] = "an order-10 allocation (pcp_stat_unlock)",
		[RESIZE_FREE] = "an order-0 free onto the set (pcp_free)",
		[RESIZE_FREE_BUDGET] = "an order-5 free over the budget "
		                       "(pcp_free, to the buddy lists)",
		[RESIZE_FREE_OFF] = "an order-0 free that found the set "
		                    "switched off (pcp_free, to the buddy lists)",
	};
	pthread_t th;
	mk_page_shift = 16;
	mk_pb_order = 9;
	struct za *za = rc_start(0, 0, 0, &th);
	mk_page_shift = 0;
	mk_pb_order = 0;
	struct za_zone *z = normal(za);
	struct za_pcp *pcp = zone_pcp(z, 1);
	CHECK(pcp_mid_order(za, 4) && pcp_mid_order(za, 5));
	rc.to_buddy = true;
	za_drain_all_pages(za);
	/* From the buddy lists (both sets held): eight order-4 blocks in a
	 * row, an order-5 block, and order-0 pages. Each even block's buddy
	 * (the next) stays allocated, so none merges when freed. */
	set_cpu(0);
	CHECK_EQ(pcp_lock_nested(za, zone_pcp(z, 0), 0), 0);
	CHECK_EQ(pcp_lock_nested(za, zone_pcp(z, 1), 1), 0);
	struct za_page *b[8], *o[4], *c;
	for (int i = 0; i < 8; i++)
		b[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, 4);
	c = za_alloc_pages(za, ZA_GFP_MOVABLE, 5);
	for (int i = 0; i < 4; i++)
		o[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	pcp_unlock_nested(za, zone_pcp(z, 1), 1);
	pcp_unlock_nested(za, zone_pcp(z, 0), 0);
	for (int i = 0; i < 8; i++) {
		CHECK(b[i] != NULL);
		CHECK_EQ(pfn_of(za, b[i]), pfn_of(za, b[0]) + 16ul * (unsigned)i);
	}
	CHECK_EQ(pfn_of(za, b[0]) & 31, 0);
	CHECK(c != NULL && o[0] && o[1] && o[2] && o[3]);
	/* A high whose budget holds the four blocks. */
	int high, batch, high_min, high_max;
	pcp_sizes_now(z, pcp, &high, &batch, &high_min, &high_max);
	CHECK_EQ(za_pcp_set_high(za, 1, 0, ZA_ZONE_NORMAL, (unsigned)high_max), 0);
	CHECK(pcp_mid_budget(za, pcp) >= 64);
	set_cpu(1);
	for (int i = 0; i < 6; i += 2)
		za_free_pages(za, b[i], 4);
	for (int i = 0; i < 3; i++)
		za_free_pages(za, o[i], 0);
	rc.target[0] = b[6];
	rc.order[0] = 4;
	tl_late = true;
	za_free_pages(za, b[6], 4);
	tl_late = false;
	int idx = pcp_list_index(za, 4, ZA_MT_MOVABLE);
	CHECK(rc.stopped[0]);
	CHECK_EQ(page_state(b[6]), ZA_PS_PCP);
	CHECK_EQ(pcp->lists[idx], pfn_of(za, b[6]));
	CHECK_EQ(pcp->mid_pages, 64);
	CHECK_EQ(pcp->lists[pcp_list_index(za, 0, ZA_MT_MOVABLE)] != ZA_NIL, 1);
	/* New sizes: high a 128th of the zone, split between the CPUs. */
	set_cpu(0);
	CHECK_EQ(za_sysctl_set(za, "percpu_pagelist_high_fraction", "128"), 0);
	CHECK(za_load_relaxed(&pcp->flags) & ZA_PCP_RESIZE);
	pcp_sizes_now(z, pcp, &high, &batch, &high_min, &high_max);
	CHECK(high_max / 2 < 64 || high < 64);
	bool off = by == RESIZE_ALLOC_OFF || by == RESIZE_FREE_OFF;
	if (off)
		za_or_release(&pcp->flags, ZA_PCP_OFF_CPU | ZA_PCP_DEFERRED);
	CHECK_EQ(atomic_load(&nrep), 0);
	set_cpu(1);
	struct za_page *got = NULL;
	switch (by) {
	case RESIZE_ALLOC:
	case RESIZE_ALLOC_OFF:
		got = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
		CHECK(got != NULL);
		break;
	case RESIZE_STAT:
		got = za_alloc_pages(za, ZA_GFP_MOVABLE, 10);
		CHECK(got != NULL);
		break;
	case RESIZE_FREE:
	case RESIZE_FREE_OFF:
		za_free_pages(za, o[3], 0);
		break;
	case RESIZE_FREE_BUDGET:
		za_free_pages(za, c, 5);
		break;
	}
	int reps = atomic_load(&nrep);
	set_cpu(0);
	CHECK(!(za_load_relaxed(&pcp->flags) & ZA_PCP_RESIZE));
	CHECK_EQ(pcp->lists[idx], ZA_NIL);
	if (by == RESIZE_ALLOC)
		CHECK(got == o[0] || got == o[1] || got == o[2]);
	if (by == RESIZE_FREE)
		CHECK_EQ(page_state(o[3]), ZA_PS_PCP);
	if (by == RESIZE_FREE_BUDGET || by == RESIZE_FREE_OFF)
		CHECK_EQ(page_state(by == RESIZE_FREE_OFF ? o[3] : c), ZA_PS_BUDDY);
	RULE(reps == 1 && names(za, 0, b[6]),
	     "%s picked up new sizes whose flush of orders 4..8 cut a list of "
	     "CPU 1's set (a racing double free): the cut is reported before "
	     "the call returns (DESIGN.md invariants: a double free is caught "
	     "and reported, never silently absorbed): %d reports for pfn "
	     "0x%lx (first: %s)",
	     what[by], reps, pfn_of(za, b[6]), reps ? rep_msg[0] : "-");
	if (off)
		za_and_acquire(&pcp->flags,
		               (uint8_t) ~(ZA_PCP_OFF_CPU | ZA_PCP_DEFERRED));
	if (got)
		za_free_pages(za, got, by == RESIZE_STAT ? 10 : 0);
	for (int i = 1; i < 8; i += 2)
		za_free_pages(za, b[i], 4);
	if (by != RESIZE_FREE_BUDGET)
		za_free_pages(za, c, 5);
	if (by != RESIZE_FREE && by != RESIZE_FREE_OFF)
		za_free_pages(za, o[3], 0);
	rc_stop(za, th);
	printf("%s: %s cut CPU 1's list of order 4 for new sizes and reported "
	       "it before it returned\n",
	       NAME, what[by]);
}

static void cut_resize_alloc(void)
{
	cut_resize(RESIZE_ALLOC);
}

static void cut_resize_alloc_off(void)
{
	cut_resize(RESIZE_ALLOC_OFF);
}

static void cut_resize_stat(void)
{
	cut_resize(RESIZE_STAT);
}

static void cut_resize_free(void)
{
	cut_resize(RESIZE_FREE);
}

static void cut_resize_free_budget(void)
{
	cut_resize(RESIZE_FREE_BUDGET);
}

static void cut_resize_free_off(void)
{
	cut_resize(RESIZE_FREE_OFF);
}

/* More cuts before one report than a set keeps the pfns of
 * (ZA_PCP_CUTS_KEPT): CUTS cuts of CPU 1's (empty) lists in one hold,
 * then the set let go. The first ZA_PCP_CUTS_KEPT are reported by pfn,
 * in order, and the last of those reports counts the others: every cut
 * is reported or counted, none dropped. */
#define CUTS (ZA_PCP_CUTS_KEPT + 2)
static void cut_overflow(void)
{
	struct za *za = make(0, 0, 0);
	struct za_zone *z = normal(za);
	struct za_pcp *pcp = zone_pcp(z, 1);
	za_drain_all_pages(za);
	unsigned long pfn0 = z->start_pfn + 64;
	CHECK_EQ(pcp_lock(za, pcp), 0);
	for (unsigned i = 0; i < CUTS; i++)
		pcp_cut_locked(za, pcp, (int)(i % ZA_NR_PCP_LISTS),
		               (uint32_t)(pfn0 + i));
	CHECK_EQ(atomic_load(&nrep), 0);
	pcp_unlock_report(za, pcp);
	int reps = atomic_load(&nrep);
	bool named = reps == ZA_PCP_CUTS_KEPT;
	for (int i = 0; named && i < ZA_PCP_CUTS_KEPT; i++)
		named = rep_pfn[i] == pfn0 + (unsigned)i &&
		        strstr(rep_msg[i], "handed out twice") != NULL;
	char more[64];
	snprintf(more, sizeof(more), "and %d more of its lists",
	         CUTS - ZA_PCP_CUTS_KEPT);
	RULE(named && strstr(rep_msg[ZA_PCP_CUTS_KEPT - 1], more) &&
	         !strstr(rep_msg[0], "more of its lists"),
	     "%d cuts of a set's lists before its report: the first %d are "
	     "reported by pfn, in order, and the last of those reports counts "
	     "the %d others (\"%s\"; DESIGN.md invariants: a double free is "
	     "caught and reported, never silently absorbed): %d reports "
	     "(first: %s; last: %s)",
	     CUTS, ZA_PCP_CUTS_KEPT, CUTS - ZA_PCP_CUTS_KEPT, more, reps,
	     reps ? rep_msg[0] : "-",
	     reps ? rep_msg[reps > MAXREP ? MAXREP - 1 : reps - 1] : "-");
	/* Nothing left waiting. */
	CHECK_EQ(za_load_relaxed(&pcp->corrupt_pfn), ZA_NIL);
	CHECK_EQ(za_load_relaxed(&pcp->corrupt_unnamed), 0u);
	atomic_store(&nrep, 0);
	end_whole(za);
	printf("%s: %d cuts before one report: %d reported by pfn, %d counted\n",
	       NAME, CUTS, ZA_PCP_CUTS_KEPT, CUTS - ZA_PCP_CUTS_KEPT);
}

/* A cut noted while a report takes the cuts waiting (pcp_cut_note's
 * fence protocol). CPU 1's set held, a cut A waits in corrupt_pfn; a
 * second cut B is about to be noted behind it (ZA_DP_CUT_NOTE) when the
 * report of whoever let the set go last (another thread here, holding
 * nothing) takes A, and with it every cut noted so far. B, noted after
 * that behind a corrupt_pfn now free, where the let-go paths do not look,
 * is taken back and noted in corrupt_pfn: the let-go reports it. Two
 * reports, A's by the other thread, B's by the let-go, each once. */
static struct {
	struct za *za;
	struct za_pcp *pcp;
	int seen;
} cn;

static void *cn_report(void *arg)
{
	(void)arg;
	pcp_report_corrupt(cn.za, cn.pcp);
	return NULL;
}

static void cn_hook(struct za *za, int point, void *arg)
{
	(void)za;
	if (point != ZA_DP_CUT_NOTE || arg != cn.pcp || cn.seen++)
		return;
	pthread_t th;
	CHECK(pthread_create(&th, NULL, cn_report, NULL) == 0);
	CHECK(pthread_join(th, NULL) == 0);
}

static void cut_during_report(void)
{
	struct za *za = make(0, 0, 0);
	struct za_zone *z = normal(za);
	struct za_pcp *pcp = zone_pcp(z, 1);
	za_drain_all_pages(za);
	memset(&cn, 0, sizeof(cn));
	cn.za = za;
	cn.pcp = pcp;
	unsigned long a = z->start_pfn + 64, b = a + 1;
	set_hook(za, cn_hook);
	CHECK_EQ(pcp_lock(za, pcp), 0);
	pcp_cut_locked(za, pcp, 0, (uint32_t)a);
	CHECK_EQ(cn.seen, 0);
	pcp_cut_locked(za, pcp, 1, (uint32_t)b);
	CHECK_EQ(cn.seen, 1);
	int mid = atomic_load(&nrep);
	pcp_unlock_report(za, pcp);
	set_hook(za, NULL);
	int reps = atomic_load(&nrep);
	RULE(mid == 1 && rep_pfn[0] == a && reps == 2 && rep_pfn[1] == b,
	     "a cut noted while a report takes the cuts waiting is reported, "
	     "once, by that report or by the let-go after it - never left "
	     "behind a free corrupt_pfn (pcp_cut_note; DESIGN.md invariants: "
	     "a double free is caught and reported, never silently absorbed): "
	     "%d reports while the set was held (pfn 0x%lx first), %d in all "
	     "(pfn 0x%lx second; first: %s; second: %s)",
	     mid, a, reps, b, reps ? rep_msg[0] : "-",
	     reps > 1 ? rep_msg[1] : "-");
	CHECK_EQ(za_load_relaxed(&pcp->corrupt_pfn), ZA_NIL);
	for (int i = 0; i < ZA_PCP_CUTS_KEPT - 1; i++)
		CHECK_EQ(za_load_relaxed(&pcp->corrupt_next[i]), ZA_NIL);
	atomic_store(&nrep, 0);
	end_whole(za);
	printf("%s: a cut noted while a report took the one waiting was "
	       "reported by the let-go\n",
	       NAME);
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
		{ "cut_one", cut_one },
		{ "cut_two", cut_two },
		{ "cut_set_high_each", cut_set_high_each },
		{ "cut_set_high_both", cut_set_high_both },
		{ "cut_cpu_off", cut_cpu_off },
		{ "cut_mem_offline", cut_mem_offline },
		{ "cut_pressure", cut_pressure },
		{ "cut_deferred", cut_deferred },
		{ "cut_check", cut_check },
		{ "cut_resize_alloc", cut_resize_alloc },
		{ "cut_resize_alloc_off", cut_resize_alloc_off },
		{ "cut_resize_stat", cut_resize_stat },
		{ "cut_resize_free", cut_resize_free },
		{ "cut_resize_free_budget", cut_resize_free_budget },
		{ "cut_resize_free_off", cut_resize_free_off },
		{ "cut_buddy_two", cut_buddy_two },
		{ "cut_overflow", cut_overflow },
		{ "cut_during_report", cut_during_report },
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		pm_run(checks[i].name, checks[i].fn);
	printf("%s: ok\n", NAME);
	return 0;
}
