/*
 * test_rules.c - the seeds' rules, each pinned by a deterministic test
 * that opens the race window on purpose and fails with a message naming
 * the rule it saw broken (docs/TESTING.md maps seed -> fix -> test ->
 * mutant). The windows are opened with the library's test hook
 * (za->debug_hook, called at the ZA_DP_* points of src/internal.h), which
 * exists in debug builds only: a build with ZA_DEBUG=0 skips (77).
 *
 *   test_rules seed003_counter_order
 *     Seed 003: NR_FREE_PAGES is raised after pages reach the buddy lists,
 *     never before. An observer runs every time a block is about to enter
 *     the buddy lists (per-CPU flushes and drains, frees that bypass the
 *     lists, memory online) and compares the counter (global value plus
 *     every CPU's delta) with the pages the buddy lists hold: the counter
 *     may lag the lists inside a flush, never lead them.
 *
 *   test_rules seed004_disable_drain
 *     Seed 004: memory offline disables the zone's per-CPU lists and
 *     drains them once. One thread per CPU claims a page of the range and
 *     stops between reading its pageblock type (still MOVABLE) and putting
 *     it on its CPU's list; the offline then isolates the range and
 *     disables and drains the lists, and is stopped there while the
 *     threads finish their frees (and free a page of the zone outside the
 *     range). Every CPU's page set of the zone must then be empty and
 *     unusable, no list may hold a page of the range, the offline must
 *     succeed, and afterwards every page set must be usable again.
 *
 *   test_rules seed001_trylock_fallback
 *     Seed 001: the owner of a page set never waits for it. While another
 *     thread holds every page set of the zone (as a remote drain does), an
 *     allocation and a free on one of those CPUs must finish, through the
 *     buddy lists, and leave the held sets alone.
 *
 *   test_rules highatomic_before_oom
 *     The slow path gives the pageblocks reserved for high-order atomic
 *     requests back before it calls the OOM handler: the handler never
 *     runs while a reserve is left.
 *
 *   test_rules seed000_cpu_offline_halfway
 *     Seed 000: drains never wait for CPU hotplug. A CPU offline is
 *     stopped half-way (its page sets switched off, drained and folded,
 *     cpu_hotplug_lock held); meanwhile another thread makes a max-order
 *     allocation that only the slow path's drain-and-retry can satisfy,
 *     then drains every CPU and its own. All must finish, and the
 *     allocation must succeed.
 *
 *   test_rules double_free_late_claim
 *     DESIGN.md invariants: racing double frees are caught at the latest
 *     when the page would be handed out a second time. A free (plain
 *     claim, as outside debug builds) is stopped between its check and
 *     its claim (ZA_DP_FREE_CLAIM); the other free of the block runs and
 *     the block is handed out again; then the stopped free claims it and
 *     goes to the buddy lists - an order without per-CPU lists, a busy
 *     set, a bulk free. The block must stay its new owner's, the late
 *     free be reported, nothing be counted or lost.
 *
 *   test_rules double_free_late_claim_debug
 *     The same race with poisoning and page owner on, whose hook runs
 *     after the claim and before any list: the late free is stopped
 *     after it read the block's hand-out count (ZA_DP_FREE_GEN), with
 *     strict frees off (as outside debug builds) and on; the other
 *     free runs, the block is handed out again and its new owner writes
 *     it; then the late free claims it - on its way to a per-CPU list
 *     (order 0, and a bulk free) or to the buddy lists (max order). The
 *     new owner's bytes must be as it wrote them (not poisoned), the
 *     block still allocated with page owner's record of it untouched,
 *     the late free reported once, nothing counted or lost.
 *
 *   test_rules double_free_late_claim_freed
 *     The same race where the late claim's store lands on a block the
 *     other free gave back (ARCHITECTURE.md, "Racing double frees"): the
 *     late free (plain claim) stops between its check and its claim; the
 *     other free puts the block on a buddy list (max order; merged inside
 *     a larger block or heading it; that block handed out again; a buddy
 *     freed while the late store was there), on a per-CPU list (drained
 *     to the buddy lists, or handed out and freed there again, or handed
 *     out after 127 round trips through the buddy lists, where the
 *     counts' 8 bits meet again), or a contiguous range takes it (a
 *     piece, the head). free_one_page refuses the claim and must give
 *     the block back the state it has there: one report, the free pages
 *     as before, za_check clean, every page allocatable again. Also: a
 *     free stopped after it read the count and the order (ZA_DP_FREE_GEN;
 *     plain, strict) or, restartable, before either, while the block
 *     merges and is handed out again as the larger block it heads; and a
 *     second free of a contiguous range stopped before its claim while
 *     the range is freed and handed out again. The new owner's block must
 *     stay its own.
 *
 *   test_rules deferred_drain_check
 *     za_check is right at any quiescent point: a CPU offline leaves a
 *     set's drain to the statistics worker (another remote user holds
 *     the set's lock), the worker takes the work (za.pcp_deferred) and is
 *     stopped before it drains (ZA_DP_DEFERRED_TAKEN); the lock is let
 *     go, and za_check must pass, having drained the set itself.
 *
 * Each test runs once per per-CPU discipline (disciplines[] below): the
 * checks look at observable state only (za_pcp_info, counters, za_check),
 * not at how a page set is protected.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zonealloc.h>

#include "internal.h"
#include "rseq_kernel.h"
#include "testutil.h"

/* --- per-CPU disciplines -------------------------------------------------- */

struct discipline {
	const char *name;
	unsigned flags;   /* za_config.flags added for this discipline */
	bool simulated;   /* CPUs from tl_cpu (za_config.cpu_id), else real */
	bool restartable; /* the page sets must come out restartable */
};

/* Simulated CPUs always run locked; real CPUs run restartable by default
 * (where the build has the sequence: not under ThreadSanitizer), and
 * locked when asked. */
static const struct discipline disciplines[] = {
	{ "locked, simulated CPUs", 0, true, false },
	{ "restartable (default), real CPUs", 0, false, ZA_HAVE_RSEQ_SEQ },
	{ "locked, real CPUs", ZA_CFG_PCP_LOCKED, false, false },
};

static __thread int tl_cpu;
static int sim_cpu(void *ctx)
{
	(void)ctx;
	return tl_cpu;
}

/* Real CPUs: every CPU the threads may run on has its page sets (at least
 * the test's own count, so that its CPU numbers exist). */
static void apply_discipline(struct za_config *cfg, const struct discipline *d)
{
	cfg->flags |= d->flags;
	cfg->cpu_id = d->simulated ? sim_cpu : NULL;
	if (!d->simulated) {
		long n = sysconf(_SC_NPROCESSORS_CONF);
		if (n > (long)cfg->nr_cpus && n <= ZA_MAX_CPUS)
			cfg->nr_cpus = (unsigned)n;
	}
}

/* The configuration every rule starts from: nr_cpus CPUs (more on real
 * ones: apply_discipline), blocks of block_pages pages, max_pfn frames,
 * no background threads. */
static void rules_config(struct za_config *cfg, unsigned nr_cpus,
                         unsigned long block_pages, unsigned long max_pfn)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_cpus = nr_cpus;
	cfg->block_pages = block_pages;
	cfg->max_pfn = max_pfn;
	cfg->flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
}

/* za_create in discipline d, and a check that the discipline is the one
 * asked for. */
static struct za *create_in(struct za_config *cfg, const struct discipline *d)
{
	apply_discipline(cfg, d);
	struct za *za = za_create(cfg);
	CHECK(za != NULL);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	if (pi.restartable != d->restartable) {
		fprintf(stderr, "discipline %s: page sets are %s (%s)\n", d->name,
		        pi.restartable ? "restartable" : "locked",
		        za_pcp_mode_reason(za));
		exit(1);
	}
	return za;
}

/* --- small helpers --------------------------------------------------------- */

/* The end of every rule: nothing on the page sets, the counters folded,
 * and za_check passes. */
static void drain_fold_check(struct za *za)
{
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	CHECK_EQ(za_check(za, stderr), 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait until *v >= want; false after `seconds` (the caller then reports
 * the rule that a thread stuck behind a lock broke). */
static bool wait_for(atomic_int *v, int want, double seconds)
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	while (atomic_load(v) < want) {
		if (now_ns() > end)
			return false;
		sched_yield();
	}
	return true;
}

static void set_hook(struct za *za, void (*fn)(struct za *, int, void *))
{
	za_store_relaxed(&za->debug_hook, fn);
}

/* Pages free in a zone's buddy lists: (normal, isolated). The caller holds
 * the zone lock or the zone is quiescent. */
static void buddy_pages(struct za *za, struct za_zone *z, long *free,
                        long *iso)
{
	*free = *iso = 0;
	for (unsigned o = 0; o <= za->max_order; o++)
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++) {
			long n = (long)za_load_relaxed(&z->nr_free[o][mt]) << o;
			if (mt == ZA_MT_ISOLATE)
				*iso += n;
			else
				*free += n;
		}
}

static const char *const zone_names[ZA_NR_ZONES] = { "DMA", "DMA32", "Normal",
	                                                 "Movable" };

/* ============================================================================
 * Seed 003: the counter follows the lists.
 */

static struct {
	struct za_zone *zone;
	atomic_int observing;
	long points; /* blocks seen entering the buddy lists */
	const char *doing;
} s3;

static void s3_hook(struct za *za, int point, void *arg)
{
	if (point != ZA_DP_BUDDY_FREE || arg != s3.zone ||
	    !atomic_load(&s3.observing))
		return;
	struct za_zone *z = arg;
	long free, iso;
	buddy_pages(za, z, &free, &iso);
	long cnt = zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES);
	long cnt_iso = zone_stat_snapshot(za, z, ZA_NR_FREE_ISOLATED);
	s3.points++;
	RULE(cnt <= free,
	     "seed 003 (counters after the lists): while %s, a block about to "
	     "enter zone %s's buddy lists finds NR_FREE_PAGES at %ld but only "
	     "%ld pages on those lists: the counter was raised before the pages "
	     "reached the lists",
	     s3.doing, zone_names[z->type], cnt, free);
	RULE(cnt_iso <= iso,
	     "seed 003 (counters after the lists): while %s, NR_FREE_ISOLATED "
	     "is %ld with %ld pages on the isolate lists",
	     s3.doing, cnt_iso, iso);
}

/* At a quiescent point, after folding: the counter is the lists. */
static void s3_quiescent(struct za *za, const char *when)
{
	za_vmstat_fold(za);
	long free, iso;
	buddy_pages(za, s3.zone, &free, &iso);
	long cnt = zone_stat_global(s3.zone, ZA_NR_FREE_PAGES);
	RULE(cnt == free,
	     "invariant (after folding the free-page counter equals the pages "
	     "on the buddy lists): %s: NR_FREE_PAGES %ld, buddy lists %ld",
	     when, cnt, free);
	CHECK_EQ(za_check(za, stderr), 0);
}

#define S3_BLK 1024ul
#define S3_MAXHELD 2048

static void seed003_counter_order(const struct discipline *d)
{
	struct za_config cfg;
	rules_config(&cfg, 4, S3_BLK, 3 * S3_BLK);
	/* Short fixed lists: a flush every few frees. */
	cfg.flags |= ZA_CFG_PCP_FIXED;
	cfg.pcp_high = 24;
	cfg.pcp_batch = 8;
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	memset(&s3, 0, sizeof(s3));
	s3.zone = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	set_hook(za, s3_hook);
	atomic_store(&s3.observing, 1);
	s3.doing = "memory came online";
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * S3_BLK, NULL), 0);
	s3_quiescent(za, "after online");

	static struct za_page *held[S3_MAXHELD];
	static unsigned held_order[S3_MAXHELD];
	uint64_t rng = 0x5eed0003ull;
	for (int round = 0; round < 8; round++) {
		unsigned n = 0;
		/* Mixed orders on every CPU (and on none: straight from and to
		 * the buddy lists), until the allocator says no or we have
		 * enough. */
		s3.doing = "allocating (refills)";
		for (unsigned i = 0; i < 1200 && n < S3_MAXHELD; i++) {
			uint64_t r = tu_rand(&rng);
			tl_cpu = (int)(r % 5) - 1; /* -1: no CPU */
			unsigned order = (r >> 8) % 8;
			order = order < 4 ? 0 : order - 3; /* 0 mostly, 1..4 */
			if ((r >> 16) % 64 == 0)
				order = 9; /* a pageblock: its own pcp list */
			struct za_page *p = za_alloc_pages(za,
			                                   ZA_GFP_NOWAIT | ZA_GFP_NOWARN,
			                                   order);
			if (!p)
				continue;
			held[n] = p;
			held_order[n++] = order;
		}
		CHECK(n > 40);
		/* Free in a random order on random CPUs: flushes above high. */
		s3.doing = "freeing (per-CPU flushes and direct frees)";
		for (unsigned i = n; i > 0; i--) {
			uint64_t r = tu_rand(&rng);
			unsigned k = (unsigned)(r % i);
			tl_cpu = (int)((r >> 20) % 5) - 1;
			za_free_pages(za, held[k], held_order[k]);
			held[k] = held[i - 1];
			held_order[k] = held_order[i - 1];
		}
		s3.doing = "draining every CPU";
		za_drain_all_pages(za);
		s3_quiescent(za, "after a round");
	}
	atomic_store(&s3.observing, 0);
	set_hook(za, NULL);
	/* The window was looked at, many times, inside flushes and drains. */
	CHECK(s3.points > 500);
	CHECK(za_event_count(za, ZA_PCP_FLUSH) > 10);
	CHECK(za_event_count(za, ZA_PCP_DRAIN) > 0);
	printf("seed003_counter_order [%s]: %ld blocks watched entering the "
	       "buddy lists, %llu flushes, %llu drains\n",
	       d->name, s3.points, za_event_count(za, ZA_PCP_FLUSH),
	       za_event_count(za, ZA_PCP_DRAIN));
	za_destroy(za);
}

/* ============================================================================
 * Seed 004: disable the zone's per-CPU lists, then drain once.
 */

#define S4_BLK 1024ul
#define S4_NORMAL 0ul
#define S4_C (1 * S4_BLK) /* ZONE_MOVABLE, stays */
#define S4_B (2 * S4_BLK) /* ZONE_MOVABLE, goes offline */
#define S4_MAX_PFN (3 * S4_BLK)
#define S4_NCPU 4

static struct {
	struct za *za;
	struct za_zone *zone;
	unsigned nthr;
	struct za_page *in_b[S4_NCPU], *in_c[S4_NCPU];
	atomic_int parked, go, done, hook_ran, window_frees;
} s4;
static __thread int tl_stop_at_yield;

static void s4_check_lists_off(const char *when)
{
	struct za *za = s4.za;
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, c, 0, ZA_ZONE_MOVABLE, &pi), 0);
		RULE(pi.count == 0 && !pi.usable,
		     "seed 004 (offline disables the zone's per-CPU lists, then "
		     "drains once): %s, CPU %u's page set of zone Movable holds "
		     "%u pages and is %s: a free racing the offline put pages on "
		     "it after the drain",
		     when, c, pi.count, pi.usable ? "usable" : "disabled");
		/* And no list holds a page of the range (count 0 says so; the
		 * walk says it without trusting the count). */
		struct za_pcp *pcp = zone_pcp(s4.zone, (int)c);
		for (int i = 0; i < ZA_NR_PCP_LISTS; i++)
			for (uint32_t h = pcp->lists[i]; h != ZA_NIL;
			     h = pfn_page(za, h)->next)
				RULE(h < S4_B || h >= S4_B + S4_BLK,
				     "invariant (after offline has disabled pcp and "
				     "drained, no pcp list holds a page of the range): "
				     "%s, CPU %u's list %d holds pfn 0x%x",
				     when, c, i, h);
	}
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	RULE(zi.pcp_disabled,
	     "seed 004: %s, za_zone_info does not say the "
	     "zone's per-CPU lists are disabled",
	     when);
}

static void s4_hook(struct za *za, int point, void *arg)
{
	if (point == ZA_DP_YIELD && tl_stop_at_yield) {
		/* A free between reading its pageblock's type and taking its
		 * CPU's page set: stop until the offline has drained. */
		tl_stop_at_yield = 0;
		atomic_fetch_add(&s4.parked, 1);
		while (!atomic_load(&s4.go))
			sched_yield();
		return;
	}
	if (point != ZA_DP_OFFLINE_DRAINED || arg != s4.zone)
		return;
	(void)za;
	atomic_fetch_add(&s4.hook_ran, 1);
	s4_check_lists_off("right after the offline's drain");
	/* Let the stopped frees go on, and wait until they and a free of a
	 * page outside the range on every CPU are done. */
	atomic_store(&s4.go, 1);
	RULE(wait_for(&s4.done, (int)s4.nthr, 10.0),
	     "seed 004: frees did not finish while memory offline was between "
	     "its drain and its migration (%d of %u done): a free must never wait "
	     "for a hotplug operation",
	     atomic_load(&s4.done), s4.nthr);
	s4_check_lists_off("after frees raced the offline past its drain");
}

static void *s4_freer(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	tl_cpu = (int)id;
	/* A page of the range: stops in the free path (s4_hook). */
	tl_stop_at_yield = 1;
	za_free_pages(s4.za, s4.in_b[id], 0);
	tl_stop_at_yield = 0;
	/* A page of the same zone outside the range: the lists are off. */
	za_free_pages(s4.za, s4.in_c[id], 0);
	atomic_fetch_add(&s4.done, 1);
	return NULL;
}

static void seed004_disable_drain(const struct discipline *d)
{
	struct za_config cfg;
	rules_config(&cfg, S4_NCPU, S4_BLK, S4_MAX_PFN);
	cfg.offline_timeout_ms = 10000;
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	memset(&s4, 0, sizeof(s4));
	s4.za = za;
	s4.zone = &za->nodes[0].zones[ZA_ZONE_MOVABLE];
	s4.nthr = S4_NCPU;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S4_NORMAL, S4_BLK, NULL),
	         0);
	/* C first, so that the first movable pages come from C. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, S4_C, S4_BLK, NULL), 0);
	for (unsigned t = 0; t < s4.nthr; t++) {
		s4.in_c[t] = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
		CHECK(s4.in_c[t] != NULL);
		unsigned long pfn = za_page_to_pfn(za, s4.in_c[t]);
		CHECK(pfn >= S4_C && pfn < S4_C + S4_BLK);
	}
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, S4_B, S4_BLK, NULL), 0);
	/* Now take movable pages until each thread has one in B; the rest go
	 * back (onto CPU 0's list: the drain has work to do). */
	static struct za_page *extra[3 * S4_BLK];
	unsigned nextra = 0, nb = 0;
	while (nb < s4.nthr && nextra < 3 * S4_BLK) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NOWARN,
		                                   0);
		CHECK(p != NULL);
		unsigned long pfn = za_page_to_pfn(za, p);
		if (pfn >= S4_B && pfn < S4_B + S4_BLK)
			s4.in_b[nb++] = p;
		else
			extra[nextra++] = p;
	}
	CHECK_EQ(nb, s4.nthr);
	for (unsigned i = 0; i < nextra; i++)
		za_free_pages(za, extra[i], 0);

	/* The window: every thread stops inside its free of a B page. */
	za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 1);
	set_hook(za, s4_hook);
	pthread_t th[S4_NCPU];
	for (long i = 0; i < (long)s4.nthr; i++)
		CHECK(pthread_create(&th[i], NULL, s4_freer, (void *)i) == 0);
	RULE(wait_for(&s4.parked, (int)s4.nthr, 10.0),
	     "test setup: only %d of %u frees stopped at a race point between "
	     "reading the pageblock type and taking the page set (ZA_YIELD_POINT "
	     "in the free path): the seed-004 window cannot be opened",
	     atomic_load(&s4.parked), s4.nthr);

	int r = za_memory_offline(za, S4_B, S4_BLK);
	for (unsigned i = 0; i < s4.nthr; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	set_hook(za, NULL);
	za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 0);
	CHECK_EQ(atomic_load(&s4.hook_ran), 1);
	RULE(r == 0,
	     "seed 004: memory offline returned %d after one drain with "
	     "frees racing it: the range must be all free and isolated",
	     r);

	/* Afterwards every page set of the zone takes pages again. */
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, c, 0, ZA_ZONE_MOVABLE, &pi), 0);
		RULE(pi.usable,
		     "memory offline (re-enable the per-CPU lists at the "
		     "end): CPU %u's page set of zone Movable is still disabled",
		     c);
	}
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	RULE(!zi.pcp_disabled, "memory offline left zone Movable's per-CPU lists "
	                       "marked disabled");
	CHECK_EQ(zi.managed, S4_BLK);
	CHECK_EQ(za_check(za, stderr), 0);
	/* B comes back whole. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, S4_B, S4_BLK, NULL), 0);
	drain_fold_check(za);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	CHECK_EQ(zi.free, 2 * S4_BLK);
	printf("seed004_disable_drain [%s]: %u frees stopped inside the window, "
	       "page sets empty and off after the drain, offline ok\n",
	       d->name, s4.nthr);
	za_destroy(za);
}

/* ============================================================================
 * Seed 000: a drain finishes while a CPU offline is stopped half-way.
 */

#define S0_BLK 1024ul
#define S0_NCPU 4
#define S0_OFF_CPU 2u

static struct {
	struct za *za;
	atomic_int started, done, hook_ran;
	struct za_page *big;
	int helper_cpu;
} s0;

static void *s0_helper(void *arg)
{
	(void)arg;
	struct za *za = s0.za;
	tl_cpu = s0.helper_cpu;
	atomic_store(&s0.started, 1);
	/* Every block of the zone misses one page, which sits on CPU 1's
	 * list: only the slow path's drain of every CPU can make a max-order
	 * block. */
	s0.big = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, za->max_order);
	za_drain_all_pages(za);
	za_drain_local_pages(za);
	atomic_store(&s0.done, 1);
	return NULL;
}

static void s0_hook(struct za *za, int point, void *arg)
{
	if (point != ZA_DP_CPU_OFFLINE)
		return;
	unsigned cpu = *(unsigned *)arg;
	atomic_fetch_add(&s0.hook_ran, 1);
	/* Half-way: the CPU's page sets are off, empty and folded. */
	for (unsigned n = 0; n < za->nr_nodes; n++)
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_pcp_info pi;
			CHECK_EQ(za_pcp_info(za, cpu, (int)n, (enum za_zone_type)t, &pi),
			         0);
			RULE(pi.count == 0 && !pi.usable,
			     "CPU offline (flag and flush the CPU's page sets): CPU %u's "
			     "page set of node %u zone %s holds %u pages and is %s",
			     cpu, n, zone_names[t], pi.count,
			     pi.usable ? "usable" : "off");
			struct za_pcp *pcp = zone_pcp(&za->nodes[n].zones[t], (int)cpu);
			for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
				RULE(za_load_relaxed(&pcp->vm_diff[i]) == 0,
				     "CPU offline (fold the CPU's statistics): CPU %u "
				     "still holds a %s delta of %d in node %u zone %s",
				     cpu, za_zone_stat_name(i),
				     (int)za_load_relaxed(&pcp->vm_diff[i]), n, zone_names[t]);
		}
	/* With cpu_hotplug_lock held here, another thread allocates through
	 * the slow path's drains and drains every CPU. */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, s0_helper, NULL) == 0);
	RULE(wait_for(&s0.done, 1, 10.0),
	     "seed 000 (drains never take the CPU hotplug lock): a drain (the "
	     "slow path's drain-and-retry, za_drain_all_pages or "
	     "za_drain_local_pages) did not finish in 10 s while a CPU offline "
	     "was stopped half-way holding cpu_hotplug_lock");
	CHECK(pthread_join(th, NULL) == 0);
}

static void seed000_cpu_offline_halfway(const struct discipline *d)
{
	struct za_config cfg;
	rules_config(&cfg, S0_NCPU, S0_BLK, 2 * S0_BLK);
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	memset(&s0, 0, sizeof(s0));
	s0.za = za;
	s0.helper_cpu = 3;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * S0_BLK, NULL), 0);

	/* One page of each block held back; the CPU going offline has pages
	 * on its lists and deltas to fold. */
	struct za_page *keep[2] = { NULL, NULL };
	static struct za_page *extra[2 * S0_BLK];
	unsigned nextra = 0;
	while ((!keep[0] || !keep[1]) && nextra < 2 * S0_BLK) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		unsigned b = (unsigned)(za_page_to_pfn(za, p) / S0_BLK);
		if (!keep[b])
			keep[b] = p;
		else
			extra[nextra++] = p;
	}
	CHECK(keep[0] && keep[1]);
	for (unsigned i = 0; i < nextra; i++)
		za_free_pages(za, extra[i], 0);
	za_drain_all_pages(za);
	/* The CPU going offline has pages on its list and, with one block
	 * still allocated, deltas that only a fold can clear. */
	tl_cpu = (int)S0_OFF_CPU;
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	struct za_page *held_off = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL && held_off != NULL);
	za_free_pages(za, p, 0);
	tl_cpu = 1;
	za_free_pages(za, keep[0], 0);
	za_free_pages(za, keep[1], 0);
	tl_cpu = 0;

	unsigned long long retries = za_event_count(za, ZA_DRAIN_RETRY);
	set_hook(za, s0_hook);
	CHECK_EQ(za_cpu_offline(za, S0_OFF_CPU), 0);
	set_hook(za, NULL);
	CHECK_EQ(atomic_load(&s0.hook_ran), 1);
	RULE(s0.big != NULL,
	     "seed 000 (after a failed high-order allocation, drain what can be "
	     "drained safely and retry): a max-order allocation failed while "
	     "the only missing pages sat on another CPU's list");
	if (d->simulated)
		CHECK(za_event_count(za, ZA_DRAIN_RETRY) > retries);
	/* Every page set is empty after the drains. */
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, c, 0, ZA_ZONE_NORMAL, &pi), 0);
		CHECK_EQ(pi.count, 0);
	}
	za_free_pages(za, s0.big, za->max_order);
	za_free_pages(za, held_off, 0);
	CHECK_EQ(za_cpu_online(za, S0_OFF_CPU), 0);
	drain_fold_check(za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, zi.managed);
	printf("seed000_cpu_offline_halfway [%s]: drains and a drain-and-retry "
	       "allocation finished while CPU %u's offline was stopped half-way\n",
	       d->name, S0_OFF_CPU);
	za_destroy(za);
}

/* ============================================================================
 * Seed 001: the owner try-locks its page set and falls back.
 */

static struct {
	struct za *za;
	atomic_int done;
	struct za_page *got;
} s1;

/* Take every page set of a zone away from its owners, as a remote drainer
 * does: the set's lock in the locked discipline, a stop and a fence of its
 * CPU in the restartable one (pcp_lock_nested does either). */
static void hold_page_sets(struct za *za, struct za_zone *z, bool hold)
{
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		unsigned k = hold ? c : za->nr_cpus - 1 - c;
		if (hold)
			CHECK_EQ(pcp_lock_nested(za, zone_pcp(z, (int)k), k), 0);
		else
			pcp_unlock_nested(za, zone_pcp(z, (int)k), k);
	}
}

static void *s1_owner(void *arg)
{
	(void)arg;
	tl_cpu = 1;
	struct za_page *p = za_alloc_pages(s1.za, ZA_GFP_KERNEL, 0);
	s1.got = p;
	if (p)
		za_free_pages(s1.za, p, 0);
	atomic_store(&s1.done, 1);
	return NULL;
}

static void seed001_trylock_fallback(const struct discipline *d)
{
	struct za_config cfg;
	rules_config(&cfg, 4, 1024, 2048);
	tl_cpu = 1;
	struct za *za = create_in(&cfg, d);
	memset(&s1, 0, sizeof(s1));
	s1.za = za;
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2048, NULL), 0);
	/* The owner's list has pages it could take. */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	za_free_pages(za, p, 0);
	unsigned *counts = calloc(za->nr_cpus, sizeof(*counts));
	CHECK(counts != NULL);
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, c, 0, ZA_ZONE_NORMAL, &pi), 0);
		counts[c] = pi.count;
	}
	unsigned long long busy = za_event_count(za, ZA_PCP_TRYLOCK_FAIL);

	hold_page_sets(za, z, true);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, s1_owner, NULL) == 0);
	bool done = wait_for(&s1.done, 1, 5.0);
	RULE(done,
	     "seed 001 (the owner try-locks its page set and falls back "
	     "to the buddy lists): an allocation and a free on a CPU whose page "
	     "set another thread holds did not finish in 5 s");
	/* The sets were not touched while held. */
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, c, 0, ZA_ZONE_NORMAL, &pi), 0);
		CHECK_EQ(pi.count, counts[c]);
	}
	hold_page_sets(za, z, false);
	free(counts);
	CHECK(pthread_join(th, NULL) == 0);
	RULE(s1.got != NULL, "seed 001: an allocation failed while its page set "
	                     "was busy: it must fall back to the buddy lists");
	CHECK(za_event_count(za, ZA_PCP_TRYLOCK_FAIL) > busy);
	drain_fold_check(za);
	printf("seed001_trylock_fallback [%s]: allocation and free went to the "
	       "buddy lists while every page set was held\n",
	       d->name);
	za_destroy(za);
}

/* ============================================================================
 * The slow path gives the high-order atomic reserve back before OOM.
 */

static struct {
	struct za_zone *zone;
	unsigned calls;
	unsigned long worst_reserved;
} ha;

static unsigned long ha_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	unsigned long r = za_load_relaxed(&ha.zone->nr_reserved_highatomic);
	ha.calls++;
	if (r > ha.worst_reserved)
		ha.worst_reserved = r;
	return 0;
}

static void highatomic_before_oom(const struct discipline *d)
{
	struct za_config cfg;
	rules_config(&cfg, 2, 1024, 1024);
	/* The whole zone under min: only atomic requests (which reserve a
	 * pageblock when they reach the slow path) get pages. */
	cfg.min_free_kbytes = 4096;
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	memset(&ha, 0, sizeof(ha));
	ha.zone = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);
	za_set_oom_handler(za, ha_oom, NULL);
	/* A high-order atomic allocation reserves its pageblock. */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_ATOMIC, 1);
	CHECK(p != NULL);
	za_free_pages(za, p, 1);
	CHECK(za_load_relaxed(&ha.zone->nr_reserved_highatomic) > 0);
	/* Ordinary requests until the allocator says no: the slow path must
	 * give the reserve back (and use it) before it calls the handler. */
	static struct za_page *held[1024];
	unsigned n = 0;
	while (n < 1024 &&
	       (p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0)))
		held[n++] = p;
	CHECK(ha.calls > 0);
	RULE(ha.worst_reserved == 0,
	     "slow path (give the high-order atomic reserve back before OOM): "
	     "the OOM handler was called while %lu pages stayed reserved for "
	     "high-order atomic requests",
	     ha.worst_reserved);
	while (n)
		za_free_pages(za, held[--n], 0);
	drain_fold_check(za);
	printf("highatomic_before_oom [%s]: the reserve was given back before "
	       "the OOM handler ran (%u calls)\n",
	       d->name, ha.calls);
	za_destroy(za);
}

/* ============================================================================
 * A racing double free whose claim lands after the page was handed out
 * again: never on the buddy lists.
 */

#define DF_BLK 1024ul
#define DF_MAXGOT (4 * DF_BLK)

/* The other free of the block, run whole, then allocations of its order
 * until the block comes back (handed out again, legitimately, to the
 * test as its new owner): the blocks taken before it go to got[], their
 * number returned. */
static unsigned df_free_take_back(struct za *za, struct za_page *p,
                                  unsigned order, struct za_page **got)
{
	za_free_pages(za, p, order);
	unsigned n = 0;
	struct za_page *q = NULL;
	while (n < DF_MAXGOT &&
	       (q = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, order)) &&
	       q != p)
		got[n++] = q;
	CHECK(q == p);
	return n;
}

static struct {
	struct za_page *page;
	unsigned order;
	bool bulk;
	int point; /* where the late free stops: ZA_DP_FREE_CLAIM or _GEN */
	atomic_int parked, go;
	atomic_long reports;
	char last[256];
} df;
static __thread int tl_stop_at_claim;

static void df_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	snprintf(df.last, sizeof(df.last), "%s", msg);
	atomic_fetch_add(&df.reports, 1);
}

/* The late free stops between its check (the block allocated) and its
 * claim (ZA_DP_FREE_CLAIM), or, strict or not, between its read of the
 * block's hand-out count and its claim (ZA_DP_FREE_GEN), until the other
 * free and a new hand-out are done. */
static void df_hook(struct za *za, int point, void *arg)
{
	(void)za;
	if (point != df.point || !tl_stop_at_claim || arg != df.page)
		return;
	tl_stop_at_claim = 0;
	atomic_store(&df.parked, 1);
	wait_for(&df.go, 1, 10.0);
}

static void *df_late_free(void *arg)
{
	struct za *za = arg;
	struct za_page *one[1] = { df.page };
	tl_cpu = 1;
	tl_stop_at_claim = 1;
	if (df.bulk)
		za_free_pages_bulk(za, 1, one);
	else
		za_free_pages(za, df.page, df.order);
	return NULL;
}

/* One path from the claim to the buddy lists: an order without per-CPU
 * lists, or a set the late free finds busy (held, as a remote user
 * holds it: locked, or stopped and fenced), by za_free_pages or
 * za_free_pages_bulk. */
static void df_case(const struct discipline *d, const char *what,
                    bool max_order, bool bulk, bool set_busy)
{
	struct za_config cfg;
	rules_config(&cfg, 4, DF_BLK, 4 * DF_BLK);
	cfg.error = df_error;
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * DF_BLK, NULL), 0);
	/* Frees claim with a plain store, as outside debug builds (which
	 * make every free strict). */
	za->strict_free = false;
	fast_gates_update(za);
	memset(&df, 0, sizeof(df));
	df.point = ZA_DP_FREE_CLAIM;
	unsigned order = max_order ? za->max_order : 0;
	df.order = order;
	df.bulk = bulk;
	df.page = za_alloc_pages(za, ZA_GFP_KERNEL, order);
	CHECK(df.page != NULL);
	struct za_page *p = df.page;
	if (set_busy)
		hold_page_sets(za, z, true);
	set_hook(za, df_hook);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, df_late_free, za) == 0);
	RULE(wait_for(&df.parked, 1, 10.0),
	     "test setup: %s: the late free did not stop between its check "
	     "and its claim (ZA_DP_FREE_CLAIM)",
	     what);
	/* Meanwhile the other free of the block runs whole, and the block
	 * is handed out again, legitimately: U owns it now. */
	static struct za_page *got[DF_MAXGOT];
	unsigned n = df_free_take_back(za, p, order, got);
	CHECK_EQ(atomic_load(&df.reports), 0);
	/* The late free claims it and goes on to the buddy lists. */
	atomic_store(&df.go, 1);
	CHECK(pthread_join(th, NULL) == 0);
	set_hook(za, NULL);
	if (set_busy)
		hold_page_sets(za, z, false);
	RULE(page_state(p) == ZA_PS_ALLOC,
	     "invariant (racing double frees are caught at the latest when the "
	     "page would be handed out a second time) [%s]: %s: a free that "
	     "checked the block, then claimed it after the other free of it "
	     "and a new hand-out, freed it to the buddy lists under its new "
	     "owner (state %d): it would be handed out twice",
	     d->name, what, page_state(p));
	RULE(atomic_load(&df.reports) == 1 &&
	         strstr(df.last, "racing double free"),
	     "invariant (a double free is reported, never silently absorbed) "
	     "[%s]: %s: the late free of a block handed out again since it "
	     "checked it made %ld reports (last: %s)",
	     d->name, what, atomic_load(&df.reports), df.last);
	RULE(za_check(za, stderr) == 0,
	     "invariant (conservation) [%s]: %s: a refused late free moved a "
	     "counter or a list",
	     d->name, what);
	/* The new owner frees it as usual. */
	za_free_pages(za, p, order);
	while (n)
		za_free_pages(za, got[--n], order);
	RULE(atomic_load(&df.reports) == 1,
	     "[%s] %s: the new owner's free of the block was refused (%s)",
	     d->name, what, df.last);
	drain_fold_check(za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	RULE(zi.free == zi.managed,
	     "[%s] %s: a page was lost to the refused late free (%lu free of "
	     "%lu)",
	     d->name, what, (unsigned long)zi.free, (unsigned long)zi.managed);
	za_destroy(za);
}

static void double_free_late_claim(const struct discipline *d)
{
	df_case(d, "max order (no per-CPU list)", true, false, false);
	df_case(d, "order 0, the late free's page set busy", false, false, true);
	df_case(d, "bulk free, the late free's page set busy", false, true, true);
	printf("double_free_late_claim [%s]: a late claim of a block handed "
	       "out again was refused and reported (max order, busy set, bulk)\n",
	       d->name);
}

/* ============================================================================
 * A racing double free with debugging aids on: the late free is refused
 * before its aids touch the block, which is its new owner's.
 */

#define DFD_FILL 0x5c /* the new owner's bytes; the poison is 0xaa */

/* Real CPUs: the main thread stays on the first CPU it may run on, so
 * that the block the other free puts on that CPU's list is what its next
 * allocation pops. Returns the mask to restore at the end. */
static cpu_set_t dfd_pin(const struct discipline *d)
{
	cpu_set_t all;
	CHECK_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
	if (!d->simulated) {
		int c = 0;
		while (c < CPU_SETSIZE && !CPU_ISSET(c, &all))
			c++;
		CHECK(c < CPU_SETSIZE);
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		CHECK_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
	}
	return all;
}

/* One path of the late free after its claim: the per-CPU lists (order
 * 0, as za_free_pages and za_free_pages_bulk take it) or the buddy lists
 * (max order); strict frees on, as in every debug build and with
 * ZA_CFG_STRICT_FREE, or off, as elsewhere (the aids must make the claim
 * strict themselves). */
static void dfd_case(const struct discipline *d, const char *what,
                     bool max_order, bool bulk, bool strict)
{
	struct za_config cfg;
	rules_config(&cfg, 4, DF_BLK, 4 * DF_BLK);
	cfg.flags |= ZA_CFG_POISON | ZA_CFG_PAGE_OWNER;
	cfg.error = df_error;
	tl_cpu = 0;
	cpu_set_t all = dfd_pin(d);
	struct za *za = create_in(&cfg, d);
	size_t psz = (size_t)1 << za_page_shift(za);
	size_t mem_bytes = 4 * DF_BLK * psz;
	void *mem = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * DF_BLK, mem), 0);
	/* Debug builds make every free strict; off is how the others free
	 * without ZA_CFG_STRICT_FREE. */
	za->strict_free = strict;
	fast_gates_update(za);
	memset(&df, 0, sizeof(df));
	df.point = ZA_DP_FREE_GEN;
	unsigned order = max_order ? za->max_order : 0;
	size_t len = psz << order;
	df.order = order;
	df.bulk = bulk;
	df.page = za_alloc_pages(za, ZA_GFP_KERNEL, order);
	CHECK(df.page != NULL);
	struct za_page *p = df.page;
	set_hook(za, df_hook);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, df_late_free, za) == 0);
	RULE(wait_for(&df.parked, 1, 10.0),
	     "test setup: %s: the late free did not stop between its read of "
	     "the block's hand-out count and its claim (ZA_DP_FREE_GEN)",
	     what);
	/* The other free of the block runs whole (poisoning it, recording
	 * it), and the block is handed out again: U owns it and writes it. */
	static struct za_page *got[DF_MAXGOT];
	unsigned n = df_free_take_back(za, p, order, got);
	unsigned char *a = za_page_address(za, p);
	CHECK(a != NULL);
	memset(a, DFD_FILL, len);
	CHECK_EQ(atomic_load(&df.reports), 0);
	/* The late free claims it. */
	atomic_store(&df.go, 1);
	CHECK(pthread_join(th, NULL) == 0);
	set_hook(za, NULL);
	size_t bad = 0;
	while (bad < len && a[bad] == DFD_FILL)
		bad++;
	RULE(bad == len,
	     "a racing double free is refused before the debugging aids see "
	     "the block (ARCHITECTURE.md, racing double frees) [%s]: %s, "
	     "strict frees %s: the late free of a block handed out again since "
	     "it read its count wrote the new owner's data (byte %zu of %zu is "
	     "0x%02x, written 0x%02x; the poison is 0x%02x)",
	     d->name, what, strict ? "on" : "off", bad, len,
	     bad < len ? a[bad] : 0, DFD_FILL, ZA_POISON_BYTE);
	RULE(page_state(p) == ZA_PS_ALLOC,
	     "invariant (racing double frees are caught at the latest when the "
	     "page would be handed out a second time) [%s]: %s, strict frees "
	     "%s: the late free took the new owner's block (state %d)",
	     d->name, what, strict ? "on" : "off", page_state(p));
	struct za_page_owner_info oi;
	CHECK_EQ(za_page_owner(za, p, &oi), 0);
	RULE(oi.allocated == 1 && oi.free_ns == 0,
	     "a racing double free is refused before the debugging aids see "
	     "the block [%s]: %s, strict frees %s: page owner recorded the "
	     "refused late free as a free of the new owner's block (allocated "
	     "%d)",
	     d->name, what, strict ? "on" : "off", oi.allocated);
	RULE(atomic_load(&df.reports) == 1 &&
	         strstr(df.last, "racing double free"),
	     "invariant (a double free is reported, never silently absorbed) "
	     "[%s]: %s, strict frees %s: the late free of a block handed out "
	     "again made %ld reports (last: %s)",
	     d->name, what, strict ? "on" : "off", atomic_load(&df.reports),
	     df.last);
	RULE(za_check(za, stderr) == 0,
	     "invariant (conservation) [%s]: %s, strict frees %s: a refused "
	     "late free moved a counter or a list",
	     d->name, what, strict ? "on" : "off");
	/* The new owner frees it as usual: poisoned then, and no mismatch
	 * anywhere. */
	za_free_pages(za, p, order);
	while (n)
		za_free_pages(za, got[--n], order);
	RULE(atomic_load(&df.reports) == 1,
	     "[%s] %s, strict frees %s: a report after the refused late free "
	     "(%s)",
	     d->name, what, strict ? "on" : "off", df.last);
	drain_fold_check(za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	RULE(zi.free == zi.managed,
	     "[%s] %s, strict frees %s: a page was lost to the refused late "
	     "free (%lu free of %lu)",
	     d->name, what, strict ? "on" : "off", (unsigned long)zi.free,
	     (unsigned long)zi.managed);
	za_destroy(za);
	CHECK_EQ(munmap(mem, mem_bytes), 0);
	CHECK_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
}

static void double_free_late_claim_debug(const struct discipline *d)
{
	for (int strict = 0; strict < 2; strict++) {
		dfd_case(d, "order 0 (per-CPU list)", false, false, strict);
		dfd_case(d, "max order (buddy lists)", true, false, strict);
		dfd_case(d, "bulk free (per-CPU list)", false, true, strict);
	}
	printf("double_free_late_claim_debug [%s]: with poisoning and page "
	       "owner on, a late claim of a block handed out again was refused "
	       "before either touched it (order 0, max order, bulk; strict "
	       "frees off and on)\n",
	       d->name);
}

/* ============================================================================
 * A racing double free whose late claim lands after the other free gave
 * the block back: refused, the late free gives the block the state it has
 * where it is (a buddy list, inside a larger block, a per-CPU list, a
 * contiguous range), and nothing is lost.
 */

enum lf_kind {
	LF_MAX,          /* max order: the other free puts it on a buddy list */
	LF_INSIDE,       /* order 0: it merges into a larger free block */
	LF_HEAD,         /* order 0: it heads the larger free block it made */
	LF_INSIDE_ALLOC, /* order 0: merged, the larger block handed out */
	LF_MISSED_MERGE, /* order 0: its buddy freed while the late store sat */
	LF_DRAINED,      /* order 0: a per-CPU list, drained to the buddy lists */
	LF_PCP_AGAIN,    /* order 0: handed out, freed to a per-CPU list again */
	LF_WRAPPED,      /* order 0: a per-CPU list, drained, 127 round trips
	                  * through the buddy lists, handed out again: its
	                  * counts' 8 bits (gen, free_gen) meet again */
	LF_CONTIG,       /* max order: then a piece of a contiguous range */
	LF_CONTIG_HEAD,  /* max order: then the head of a contiguous range */
	LF_ORDER,        /* order 0: merged, handed out again as the larger
	                  * block it heads (the late free stopped after it
	                  * read the count and the order: ZA_DP_FREE_GEN) */
	LF_ORDER_STRICT, /* the same with strict frees */
	LF_ORDER_LEAF,   /* the same, the late free in the restartable fast
	                  * path (stopped before it reads either) */
};

static const char *const lf_what[] = {
	[LF_MAX] = "max order, on the buddy lists",
	[LF_INSIDE] = "order 0, merged into a larger free block",
	[LF_HEAD] = "order 0, heading the larger free block it merged into",
	[LF_INSIDE_ALLOC] = "order 0, merged, the larger block handed out again",
	[LF_MISSED_MERGE] = "order 0, on the buddy lists, its buddy freed while "
	                    "the late claim's store was there",
	[LF_DRAINED] = "order 0, on a per-CPU list, drained to the buddy lists",
	[LF_PCP_AGAIN] = "order 0, handed out again and freed by its new owner "
	                 "to a per-CPU list",
	[LF_WRAPPED] = "order 0, drained from a per-CPU list, handed out again "
	               "after 127 round trips through the buddy lists",
	[LF_CONTIG] = "max order, then a piece of a contiguous range",
	[LF_CONTIG_HEAD] = "max order, then the head of a contiguous range",
	[LF_ORDER] = "order 0, merged, handed out again as the larger block it "
	             "heads",
	[LF_ORDER_STRICT] = "order 0, merged, handed out again as the larger "
	                    "block it heads, strict frees",
	[LF_ORDER_LEAF] = "order 0, merged, handed out again as the larger "
	                  "block it heads, the restartable fast path",
};

static const char *const lf_state_names[] = {
	"NONE", "BUDDY", "PCP", "ALLOC", "FREEING", "OFFLINE", "REPORTING",
};

static const char *lf_state_name(int st)
{
	return st >= 0 && st <= ZA_PS_REPORTING ? lf_state_names[st] : "?";
}

static struct {
	int a, b;        /* the CPU of the main thread and of the late free */
	bool real;       /* real CPUs: both threads pinned (b < 0: not it) */
	int stop;        /* where the late free stops first (ZA_DP_*) */
	bool park_after; /* the late free stops once more after its claim */
	atomic_int parked2, go2;
	/* A third thread holds the late free's set, as a remote user does
	 * (the main thread, which owns its own set meanwhile, may not). */
	struct za *za;
	struct za_pcp *held_set;
	pthread_t holder;
	atomic_int set_held, let_go;
} lf;
/* 1: the late free stops at lf.stop: before its claim (ZA_DP_FREE_CLAIM,
 * ZA_DP_FREE_GEN) or at its first race point (ZA_DP_YIELD, its arg NULL:
 * while the block is still allocated); 2: then at its first race point
 * after the claim (ZA_DEBUG_RANDOM_YIELD on for both). */
static __thread int tl_lf_stage;

static void lf_hook(struct za *za, int point, void *arg)
{
	(void)za;
	if (tl_lf_stage == 1 && point == lf.stop &&
	    (point == ZA_DP_YIELD ? page_state(df.page) == ZA_PS_ALLOC
	                          : arg == df.page)) {
		tl_lf_stage = lf.park_after ? 2 : 0;
		atomic_store(&df.parked, 1);
		wait_for(&df.go, 1, 10.0);
	} else if (tl_lf_stage == 2 && point == ZA_DP_YIELD &&
	           page_state(df.page) == ZA_PS_FREEING) {
		tl_lf_stage = 0;
		atomic_store(&lf.parked2, 1);
		wait_for(&lf.go2, 1, 10.0);
	}
}

static void lf_pin(int cpu)
{
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
}

static void *lf_late_free(void *arg)
{
	struct za *za = arg;
	if (!lf.real)
		tl_cpu = lf.b;
	else if (lf.b >= 0)
		lf_pin(lf.b);
	tl_lf_stage = 1;
	za_free_pages(za, df.page, df.order);
	tl_lf_stage = 0;
	return NULL;
}

static void *lf_holder(void *arg)
{
	(void)arg;
	CHECK_EQ(pcp_lock(lf.za, lf.held_set), 0);
	atomic_store(&lf.set_held, 1);
	wait_for(&lf.let_go, 1, 30.0);
	pcp_unlock(lf.za, lf.held_set);
	return NULL;
}

/* Pages free in the zone: on its buddy lists and its per-CPU lists. The
 * zone quiescent (the late free stopped where it holds nothing). */
static long lf_free_pages(struct za *za, struct za_zone *z)
{
	long free, iso;
	buddy_pages(za, z, &free, &iso);
	for (unsigned c = 0; c < za->nr_cpus; c++)
		free += za_load_relaxed(&zone_pcp(z, (int)c)->count);
	return free + iso;
}

/* Every page of the zone is free and can be handed out again: drained,
 * folded, za_check clean, and every max-order block allocated at once (the
 * watermarks are 0: lf_case), with no report beyond the late free's. */
static void lf_all_allocatable(const struct discipline *d, const char *what,
                               struct za *za)
{
	drain_fold_check(za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	RULE(zi.free == zi.managed,
	     "invariant (conservation) [%s]: %s: a page was lost to the refused "
	     "late free (%lu free of %lu)",
	     d->name, what, (unsigned long)zi.free, (unsigned long)zi.managed);
	static struct za_page *blk[64];
	unsigned n = 0;
	struct za_page *q;
	while (n < 64 && (q = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN,
	                                     za->max_order)))
		blk[n++] = q;
	RULE(((unsigned long)n << za->max_order) == zi.managed &&
	         atomic_load(&df.reports) == 1,
	     "invariant (conservation; a free list is never cut without a "
	     "second hand-out) [%s]: %s: after a refused late free %u blocks of "
	     "order %u could be handed out of %lu pages, %ld reports (last: %s)",
	     d->name, what, n, za->max_order, (unsigned long)zi.managed,
	     atomic_load(&df.reports), df.last);
	while (n)
		za_free_pages(za, blk[--n], za->max_order);
}

/* Every set of the zone but cpu's held (or let go), as hold_page_sets
 * holds them: the first taken, index 0, let go last. */
static void hold_sets_but(struct za *za, struct za_zone *z, int cpu, bool hold)
{
	unsigned cpus[ZA_MAX_CPUS], n = 0;
	for (unsigned c = 0; c < za->nr_cpus; c++)
		if ((int)c != cpu)
			cpus[n++] = c;
	if (hold)
		for (unsigned i = 0; i < n; i++)
			CHECK_EQ(pcp_lock_nested(za, zone_pcp(z, (int)cpus[i]), i), 0);
	else
		for (unsigned i = n; i-- > 0;)
			pcp_unlock_nested(za, zone_pcp(z, (int)cpus[i]), i);
}

/* One case: a block is allocated; a free of it (plain claim, as outside
 * debug builds) checks it and stops before its claim (ZA_DP_FREE_CLAIM);
 * the other free of the block runs, and what `kind` says follows; then the
 * late free claims it with its plain store and goes to free_one_page (an
 * order without per-CPU lists, or its CPU's set held as a remote user
 * holds it), which refuses it: the count it read has moved on. The
 * LF_ORDER kinds stop the late free earlier, where it has read the count
 * and checked the order (ZA_DP_FREE_GEN), or, in the restartable fast
 * path, neither (its first race point), and the block merges and is
 * handed out again as the larger block it heads: the late free, which
 * checked (or will check) order 0, must leave that block alone. */
static void lf_case(const struct discipline *d, enum lf_kind kind)
{
	const char *what = lf_what[kind];
	bool pcp = kind == LF_DRAINED || kind == LF_PCP_AGAIN ||
	           kind == LF_WRAPPED;
	bool small = kind != LF_MAX && kind != LF_CONTIG && kind != LF_CONTIG_HEAD;
	bool reorder = kind >= LF_ORDER, leaf = kind == LF_ORDER_LEAF;
	if (leaf && !d->restartable) {
		printf("double_free_late_claim_freed [%s]: %s: skipped, no "
		       "restartable fast path\n",
		       d->name, what);
		return;
	}
	cpu_set_t all;
	CHECK_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
	memset(&lf, 0, sizeof(lf));
	lf.real = !d->simulated;
	lf.a = 0;
	lf.b = 1;
	if (lf.real) {
		/* The first two CPUs this thread may run on. */
		int c = 0;
		lf.a = lf.b = -1;
		for (; c < CPU_SETSIZE && lf.b < 0; c++)
			if (CPU_ISSET(c, &all)) {
				if (lf.a < 0)
					lf.a = c;
				else
					lf.b = c;
			}
		CHECK(lf.a >= 0);
		if ((pcp || leaf) && lf.b < 0) {
			printf("double_free_late_claim_freed [%s]: %s: skipped, one "
			       "CPU\n",
			       d->name, what);
			return;
		}
		lf_pin(lf.a);
	}

	struct za_config cfg;
	rules_config(&cfg, 4, DF_BLK, 4 * DF_BLK);
	cfg.error = df_error;
	tl_cpu = lf.real ? 0 : lf.a;
	struct za *za = create_in(&cfg, d);
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * DF_BLK, NULL), 0);
	/* No watermark, so that lf_all_allocatable can take every page. */
	CHECK_EQ(za_sysctl_set(za, "min_free_kbytes", "0"), 0);
	CHECK_EQ(za_sysctl_set(za, "watermark_scale_factor", "1"), 0);
	/* Frees claim with a plain store, as outside debug builds (but for
	 * LF_ORDER_STRICT). */
	za->strict_free = kind == LF_ORDER_STRICT;
	fast_gates_update(za);
	memset(&df, 0, sizeof(df));
	unsigned max = za->max_order, order = small ? 0 : max;
	unsigned long chunk = 1ul << max;
	za_gfp_t gfp = ZA_GFP_MOVABLE;

	/* The blocks. Order 0 outside the per-CPU cases: every set held, so
	 * that every allocation and free goes through the buddy lists, and
	 * two allocations give a pair of buddies (lower, upper). */
	struct za_page *p = NULL, *other = NULL, *held = NULL;
	if (leaf) {
		/* The late free's set picks up the sizes the sysctl writes
		 * published (ZA_PCP_RESIZE, which the restartable fast path
		 * leaves to the slow path), and is left empty. */
		lf_pin(lf.b);
		za_free_pages(za, za_alloc_pages(za, gfp, 0), 0);
		za_drain_local_pages(za);
		CHECK_EQ(za_load_relaxed(&zone_pcp(z, lf.b)->flags), 0);
		lf_pin(lf.a);
	}
	if (small && !pcp) {
		/* The restartable fast path needs the late free's set. */
		if (leaf)
			hold_sets_but(za, z, lf.b, true);
		else
			hold_page_sets(za, z, true);
		struct za_page *lo = za_alloc_pages(za, gfp, 0);
		struct za_page *up = za_alloc_pages(za, gfp, 0);
		CHECK(lo && up);
		CHECK_EQ(za_page_to_pfn(za, up), za_page_to_pfn(za, lo) + 1);
		CHECK_EQ(za_page_to_pfn(za, lo) & 1, 0);
		p = kind == LF_HEAD || reorder ? lo : up;
		other = p == lo ? up : lo;
	} else if (pcp) {
		/* Through the main thread's CPU's list; the late free's set is
		 * held from the start, so that it goes to free_one_page. */
		lf.za = za;
		lf.held_set = zone_pcp(z, lf.b);
		CHECK(pthread_create(&lf.holder, NULL, lf_holder, NULL) == 0);
		CHECK(wait_for(&lf.set_held, 1, 10.0));
		p = za_alloc_pages(za, gfp, 0);
	} else {
		if (kind == LF_CONTIG_HEAD)
			held = za_alloc_pages(za, gfp, max);
		p = za_alloc_pages(za, gfp, max);
	}
	CHECK(p != NULL);
	unsigned long pfn = za_page_to_pfn(za, p);

	lf.park_after = kind == LF_MISSED_MERGE;
	lf.stop = leaf ? ZA_DP_YIELD : reorder ? ZA_DP_FREE_GEN : ZA_DP_FREE_CLAIM;
	if (leaf)
		CHECK_EQ(za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 1), 0);
	df.page = p;
	df.order = order;
	set_hook(za, lf_hook);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, lf_late_free, za) == 0);
	RULE(wait_for(&df.parked, 1, 10.0),
	     "test setup [%s]: %s: the late free did not stop where the case "
	     "stops it (ZA_DP_%s)",
	     d->name, what,
	     leaf      ? "YIELD"
	     : reorder ? "FREE_GEN"
	               : "FREE_CLAIM");

	/* The other free of the block, and what follows it. */
	int want = ZA_PS_BUDDY;
	struct za_page *again = NULL, *range = NULL;
	switch (kind) {
	case LF_MAX:
		za_free_pages(za, p, max);
		break;
	case LF_INSIDE:
	case LF_HEAD:
		za_free_pages(za, other, 0);
		za_free_pages(za, p, 0);
		CHECK(page_state(pfn_page(za, pfn & ~(chunk - 1))) == ZA_PS_BUDDY);
		want = kind == LF_HEAD ? ZA_PS_BUDDY : ZA_PS_NONE;
		break;
	case LF_INSIDE_ALLOC:
		za_free_pages(za, other, 0);
		za_free_pages(za, p, 0);
		again = za_alloc_pages(za, gfp, max);
		CHECK(again != NULL);
		CHECK_EQ(za_page_to_pfn(za, again), pfn & ~(chunk - 1));
		want = ZA_PS_NONE;
		break;
	case LF_MISSED_MERGE:
		za_free_pages(za, p, 0);
		CHECK(page_state(p) == ZA_PS_BUDDY);
		break;
	case LF_DRAINED:
		za_free_pages(za, p, 0);
		CHECK(page_state(p) == ZA_PS_PCP);
		za_drain_local_pages(za);
		want = pfn & (chunk - 1) ? ZA_PS_NONE : ZA_PS_BUDDY;
		CHECK(page_state(p) == want);
		break;
	case LF_WRAPPED:
		/* Freed, handed out, freed again by its new owner: pushed with
		 * a count one past the late free's (free_gen = gen), drained
		 * (gen + 1), then through the buddy lists alone, two steps a
		 * trip: handed out the 128th time, gen is 256 past the push's
		 * free_gen (and 257 past the late free's count, which still
		 * tells). A hand-out that left free_gen as it was would make
		 * the block, in use, look pushed and never handed out since. */
		za_free_pages(za, p, 0);
		CHECK(za_alloc_pages(za, gfp, 0) == p);
		za_free_pages(za, p, 0);
		za_drain_local_pages(za);
		hold_sets_but(za, z, lf.b, true);
		for (int i = 0; i < 127; i++) {
			struct za_page *q = za_alloc_pages(za, gfp, 0);
			CHECK(q == p);
			za_free_pages(za, q, 0);
		}
		again = za_alloc_pages(za, gfp, 0);
		CHECK(again == p);
		want = ZA_PS_ALLOC;
		break;
	case LF_PCP_AGAIN:
		za_free_pages(za, p, 0);
		again = za_alloc_pages(za, gfp, 0);
		CHECK(again == p);
		za_free_pages(za, p, 0);
		CHECK(page_state(p) == ZA_PS_PCP);
		want = ZA_PS_PCP;
		break;
	case LF_ORDER:
	case LF_ORDER_STRICT:
	case LF_ORDER_LEAF:
		za_free_pages(za, other, 0);
		za_free_pages(za, p, 0);
		again = za_alloc_pages(za, gfp, max);
		CHECK(again == p);
		want = ZA_PS_ALLOC;
		break;
	case LF_CONTIG:
	case LF_CONTIG_HEAD:
		za_free_pages(za, p, max);
		if (held)
			za_free_pages(za, held, max);
		range = za_alloc_contig_pages(za, 2 * chunk, gfp);
		CHECK(range != NULL);
		CHECK(pfn >= za_page_to_pfn(za, range) &&
		      pfn < za_page_to_pfn(za, range) + 2 * chunk);
		want = range == p ? ZA_PS_ALLOC : ZA_PS_OFFLINE;
		CHECK(kind == LF_CONTIG_HEAD ? range == p : range != p);
		break;
	}
	CHECK_EQ(atomic_load(&df.reports), 0);

	long before = lf_free_pages(za, z);
	if (lf.park_after) {
		/* The late claim's store lands; the late free stops at its next
		 * race point, and meanwhile the block's buddy is freed: it finds
		 * the block's state FREEING and does not merge. */
		CHECK_EQ(za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 1), 0);
		atomic_store(&df.go, 1);
		RULE(wait_for(&lf.parked2, 1, 10.0),
		     "test setup [%s]: %s: the late free did not stop after its "
		     "claim (ZA_DP_YIELD)",
		     d->name, what);
		za_free_pages(za, other, 0);
		CHECK(page_state(other) == ZA_PS_BUDDY);
		CHECK_EQ(za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 0), 0);
		before = lf_free_pages(za, z);
		/* Merged again, the pair is inside one larger free block. */
		want = ZA_PS_NONE;
		atomic_store(&lf.go2, 1);
	}
	/* The late free claims the block and goes to free_one_page. */
	atomic_store(&df.go, 1);
	CHECK(pthread_join(th, NULL) == 0);
	set_hook(za, NULL);
	CHECK_EQ(za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 0), 0);
	/* The sets let go (za_check takes them all), nothing else moves. */
	if ((small && !pcp && leaf) || kind == LF_WRAPPED)
		hold_sets_but(za, z, lf.b, false);
	else if (small && !pcp)
		hold_page_sets(za, z, false);
	if (pcp) {
		atomic_store(&lf.let_go, 1);
		CHECK(pthread_join(lf.holder, NULL) == 0);
	}

	int st = page_state(p);
	RULE(!reorder || st == want,
	     "invariant (racing double frees are caught at the latest when the "
	     "page would be handed out a second time) [%s]: %s: a free that "
	     "checked order 0 claimed the block once it was handed out again "
	     "as a block of order %u: pfn %#lx is %s, must be %s (its owner's)",
	     d->name, what, page_order(p), pfn, lf_state_name(st),
	     lf_state_name(want));
	RULE(st == want,
	     "a late claim refused by free_one_page (racing double free) gives "
	     "the block the state it has where it is (ARCHITECTURE.md, "
	     "\"Racing double frees\") [%s]: %s: pfn %#lx is %s, must be %s",
	     d->name, what, pfn, lf_state_name(st), lf_state_name(want));
	RULE(za_check(za, stderr) == 0,
	     "invariant (buddy structure, conservation: za_check) [%s]: %s: "
	     "broken after a refused late claim",
	     d->name, what);
	/* The restartable fast path's late free finds the order changed
	 * and is refused for it; the others by the count. */
	const char *report = leaf ? "allocated with order" : "racing double free";
	RULE(atomic_load(&df.reports) == 1 && strstr(df.last, report),
	     "invariant (a double free is reported, never silently absorbed) "
	     "[%s]: %s: the late free made %ld reports (last: %s)",
	     d->name, what, atomic_load(&df.reports), df.last);
	long after = lf_free_pages(za, z);
	RULE(after == before,
	     "invariant (conservation) [%s]: %s: %ld pages free before the late "
	     "free was refused, %ld after",
	     d->name, what, before, after);

	/* The block's owners let go as usual; all is free, and every page
	 * can be handed out. */
	if (kind == LF_PCP_AGAIN) {
		/* The new owner's free put it on this CPU's list: its next
		 * allocation takes it, once. */
		struct za_page *q = za_alloc_pages(za, gfp, 0);
		RULE(q == p && atomic_load(&df.reports) == 1,
		     "a block on a per-CPU list stays there when a late claim on "
		     "it is refused [%s]: the next allocation on its CPU took "
		     "pfn %#lx, not %#lx (%ld reports, last: %s)",
		     d->name, q ? za_page_to_pfn(za, q) : 0ul, pfn,
		     atomic_load(&df.reports), df.last);
		za_free_pages(za, q, 0);
	}
	if (again && (kind == LF_INSIDE_ALLOC || reorder))
		za_free_pages(za, again, max);
	if (kind == LF_WRAPPED)
		za_free_pages(za, again, 0);
	if (range)
		za_free_contig_pages(za, range, 2 * chunk);
	lf_all_allocatable(d, what, za);
	za_destroy(za);
	if (lf.real)
		CHECK_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
}

static void *lf_late_contig_free(void *arg)
{
	struct za *za = arg;
	tl_cpu = 1;
	tl_lf_stage = 1;
	za_free_contig_pages(za, df.page, 2ul << za->max_order);
	tl_lf_stage = 0;
	return NULL;
}

/* Two frees of one contiguous range: the late one checked the range and
 * stops before its claim (ZA_DP_FREE_GEN); the other frees it, and the
 * same range is handed out again as a new one. The late free must leave
 * it to its new owner. */
static void lf_contig_free(const struct discipline *d)
{
	const char *what = "a contiguous range, freed and handed out again";
	struct za_config cfg;
	rules_config(&cfg, 4, DF_BLK, 4 * DF_BLK);
	cfg.error = df_error;
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * DF_BLK, NULL), 0);
	CHECK_EQ(za_sysctl_set(za, "min_free_kbytes", "0"), 0);
	CHECK_EQ(za_sysctl_set(za, "watermark_scale_factor", "1"), 0);
	memset(&df, 0, sizeof(df));
	memset(&lf, 0, sizeof(lf));
	unsigned long nr = 2ul << za->max_order;
	struct za_page *r = za_alloc_contig_pages(za, nr, ZA_GFP_MOVABLE);
	CHECK(r != NULL);
	df.page = r;
	lf.stop = ZA_DP_FREE_GEN;
	set_hook(za, lf_hook);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, lf_late_contig_free, za) == 0);
	RULE(wait_for(&df.parked, 1, 10.0),
	     "test setup [%s]: %s: the late free did not stop before its claim "
	     "(ZA_DP_FREE_GEN)",
	     d->name, what);
	za_free_contig_pages(za, r, nr);
	struct za_page *again = za_alloc_contig_pages(za, nr, ZA_GFP_MOVABLE);
	CHECK(again == r);
	CHECK_EQ(atomic_load(&df.reports), 0);
	atomic_store(&df.go, 1);
	CHECK(pthread_join(th, NULL) == 0);
	set_hook(za, NULL);
	RULE(page_state(r) == ZA_PS_ALLOC && page_order(r) == ZA_CONTIG_ORDER,
	     "invariant (racing double frees are caught at the latest when the "
	     "page would be handed out a second time) [%s]: %s: the late free "
	     "claimed the new owner's range (head state %s, order %u)",
	     d->name, what, lf_state_name(page_state(r)), page_order(r));
	RULE(za_check(za, stderr) == 0,
	     "invariant (za_check) [%s]: %s: broken after a refused late free",
	     d->name, what);
	RULE(atomic_load(&df.reports) == 1 &&
	         strstr(df.last, "racing double free"),
	     "invariant (a double free is reported, never silently absorbed) "
	     "[%s]: %s: the late free made %ld reports (last: %s)",
	     d->name, what, atomic_load(&df.reports), df.last);
	za_free_contig_pages(za, again, nr);
	lf_all_allocatable(d, what, za);
	za_destroy(za);
}

static void double_free_late_claim_freed(const struct discipline *d)
{
	for (int k = LF_MAX; k <= LF_ORDER_LEAF; k++)
		lf_case(d, (enum lf_kind)k);
	lf_contig_free(d);
	printf("double_free_late_claim_freed [%s]: a late claim refused on a "
	       "block the other free gave back left it as it was: on the buddy "
	       "lists (max order, merged, head, handed out inside a larger "
	       "block, a missed merge), on a per-CPU list (drained, freed "
	       "again), in a contiguous range (piece, head); and refused when "
	       "the block was handed out again with another order, or a range "
	       "freed and handed out again\n",
	       d->name);
}

/* ============================================================================
 * za_check right after a CPU offline whose drain the worker has taken.
 */

static struct {
	pthread_t main;
	atomic_int parked, go;
} dd;

/* The statistics worker stops after it took za.pcp_deferred, before it
 * looks at any set. */
static void dd_hook(struct za *za, int point, void *arg)
{
	(void)za;
	(void)arg;
	if (point != ZA_DP_DEFERRED_TAKEN ||
	    pthread_equal(pthread_self(), dd.main))
		return;
	atomic_store(&dd.parked, 1);
	wait_for(&dd.go, 1, 10.0);
}

/* Run on cpu: the simulated number, or pinned to the real CPU. */
static void run_on(const struct discipline *d, int cpu)
{
	tl_cpu = cpu;
	if (d->simulated)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	CHECK_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
}

static void deferred_drain_check(const struct discipline *d)
{
	if (!d->simulated && sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("deferred_drain_check [%s]: skipped, one CPU\n", d->name);
		return;
	}
	cpu_set_t all;
	CHECK_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
	struct za_config cfg;
	rules_config(&cfg, 4, 1024, 2048);
	cfg.flags &= ~ZA_CFG_NO_VMSTAT_WORKER; /* it finishes deferred drains */
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2048, NULL), 0);
	/* Pages on CPU 1's set. */
	struct za_page *pg[32];
	run_on(d, 1);
	for (int i = 0; i < 32; i++)
		CHECK((pg[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	for (int i = 0; i < 32; i++)
		za_free_pages(za, pg[i], 0);
	run_on(d, 0);
	struct za_pcp *pcp = zone_pcp(z, 1);
	int held = za_load_relaxed(&pcp->count);
	CHECK(held > 0);
	memset(&dd, 0, sizeof(dd));
	dd.main = pthread_self();
	set_hook(za, dd_hook);
	/* Another remote user holds the set's remote lock (preempted in a
	 * drain, say): the offline switches the set off, leaves its drain to
	 * the worker and kicks it; the worker takes the claim and stops. */
	za_spin_lock_raw(&pcp->lock);
	CHECK_EQ(za_cpu_offline(za, 1), 0);
	CHECK(za_load_acquire(&pcp->flags) & ZA_PCP_DEFERRED);
	bool parked = wait_for(&dd.parked, 1, 10.0);
	za_spin_unlock_raw(&pcp->lock);
	RULE(parked, "test setup: the statistics worker did not take the drain "
	             "a CPU offline left it (ZA_DP_DEFERRED_TAKEN)");
	CHECK_EQ(za_load_acquire(&za->pcp_deferred), 0u);
	/* Quiescent now: no call of the program is in flight. */
	int rc = za_check(za, stderr);
	unsigned flags = za_load_acquire(&pcp->flags);
	int left = za_load_relaxed(&pcp->count);
	atomic_store(&dd.go, 1);
	RULE(rc == 0,
	     "za_check is right at any quiescent point [%s]: right after a CPU "
	     "offline whose drain the statistics worker has taken but not yet "
	     "done, it failed (%d)",
	     d->name, rc);
	RULE(left == 0 && !(flags & ZA_PCP_DEFERRED),
	     "za_check finishes every drain a CPU offline deferred before it "
	     "looks [%s]: CPU 1's set holds %d pages, flags %#x",
	     d->name, left, flags);
	set_hook(za, NULL);
	CHECK_EQ(za_cpu_online(za, 1), 0);
	drain_fold_check(za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, zi.managed);
	za_destroy(za);
	CHECK_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
	printf("deferred_drain_check [%s]: za_check finished the drain the "
	       "worker had taken (%d pages)\n",
	       d->name, held);
}

/* ============================================================================
 * A rebuild of the zonelists that a walk of the slow path races after the
 * slow path's last look at their sequence count never makes the request
 * give up or call the OOM handler (seed 002: the look is made again).
 */

static struct {
	struct za *za;
	struct za_zone *zone;
	int point; /* the hook's point, ZA_DP_SLOW_UNRESERVE or _COMPACT */
	atomic_int armed, torn, done;
	unsigned seq;
	unsigned oom_calls;
	unsigned long reserved_at_oom;
	za_gfp_t gfp;
	unsigned order;
	struct za_page *page;
	int cpu;
} zt;

static unsigned long zt_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	zt.oom_calls++;
	zt.reserved_at_oom = za_load_relaxed(&zt.zone->nr_reserved_highatomic);
	return 0;
}

static int zt_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                      unsigned order)
{
	(void)ctx;
	(void)dst;
	(void)src;
	(void)order;
	return -EAGAIN;
}

/* A rebuild begins at the point (one that puts ZONE_MOVABLE first): the
 * count odd, node 0's list as a reader may see it halfway, [MOVABLE,
 * NULL] - the only zone with memory hidden. */
static void zt_hook(struct za *za, int point, void *arg)
{
	(void)arg;
	if (point != zt.point || !atomic_exchange(&zt.armed, 0))
		return;
	zt.seq = za_load_acquire(&za->zonelist_seq);
	za_store_release(&za->zonelist_seq, zt.seq + 1);
	za_store_relaxed(&za->nodes[0].zonelist[0][0].zone,
	                 &za->nodes[0].zones[ZA_ZONE_MOVABLE]);
	atomic_store(&zt.torn, 1);
}

static void *zt_alloc(void *arg)
{
	(void)arg;
	tl_cpu = zt.cpu;
	zt.page = za_alloc_pages(zt.za, zt.gfp, zt.order);
	atomic_store(&zt.done, 1);
	return NULL;
}

static void zt_case(const struct discipline *d, int point, const char *what)
{
	struct za_config cfg;
	rules_config(&cfg, 2, 1024, 1024);
	/* The whole zone under min: only atomic requests get pages. */
	cfg.min_free_kbytes = 4096;
	cfg.migrate = zt_migrate; /* direct compaction runs */
	tl_cpu = 0;
	struct za *za = create_in(&cfg, d);
	memset(&zt, 0, sizeof(zt));
	zt.za = za;
	zt.zone = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	zt.point = point;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);
	za_set_oom_handler(za, zt_oom, NULL);
	if (point == ZA_DP_SLOW_UNRESERVE) {
		/* A pageblock reserved: the forced give-back before the OOM
		 * handler finds it, and the request gets its page. */
		struct za_page *p = za_alloc_pages(za, ZA_GFP_ATOMIC, 1);
		CHECK(p != NULL);
		za_free_pages(za, p, 1);
		CHECK(za_load_relaxed(&zt.zone->nr_reserved_highatomic) > 0);
		zt.gfp = ZA_GFP_KERNEL | ZA_GFP_NOWARN;
		zt.order = 0;
	} else {
		zt.gfp = ZA_GFP_KERNEL | ZA_GFP_NORETRY | ZA_GFP_NOWARN;
		zt.order = 4;
	}
	unsigned long long retries = za_event_count(za, ZA_ZONELIST_RETRY);
	set_hook(za, zt_hook);
	atomic_store(&zt.armed, 1);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, zt_alloc, NULL) == 0);
	uint64_t end = now_ns() + 10000000000ull;
	while (!atomic_load(&zt.done) &&
	       za_event_count(za, ZA_ZONELIST_RETRY) == retries && now_ns() < end)
		sched_yield();
	CHECK_EQ(atomic_load(&zt.torn), 1);
	RULE(!atomic_load(&zt.done) && zt.oom_calls == 0,
	     "slow path (seed 002: never give up or call the OOM handler because "
	     "a rebuild hid a zone): %s with the rebuild under way: the request "
	     "%s, %u OOM calls (%lu pages reserved at the call)",
	     what, atomic_load(&zt.done) ? "returned" : "still runs", zt.oom_calls,
	     zt.reserved_at_oom);
	/* The rebuild ends: the list as it was. */
	za_store_relaxed(&za->nodes[0].zonelist[0][0].zone, zt.zone);
	za_store_release(&za->zonelist_seq, zt.seq + 2);
	CHECK(pthread_join(th, NULL) == 0);
	set_hook(za, NULL);
	if (point == ZA_DP_SLOW_UNRESERVE) {
		/* Looked again: the reserve went back before any OOM call
		 * (the zone stays under min: the request may still fail). */
		CHECK(zt.oom_calls == 0 || zt.reserved_at_oom == 0);
		CHECK_EQ(za_load_relaxed(&zt.zone->nr_reserved_highatomic), 0);
		if (zt.page)
			za_free_pages(za, zt.page, 0);
	} else if (zt.page) {
		za_free_pages(za, zt.page, 4);
	}
	drain_fold_check(za);
	printf("zonelist_retry_late [%s]: %s raced a rebuild, looked again "
	       "(%llu retries)\n",
	       d->name, what, za_event_count(za, ZA_ZONELIST_RETRY) - retries);
	za_destroy(za);
}

static void zonelist_retry_late(const struct discipline *d)
{
	zt_case(d, ZA_DP_SLOW_UNRESERVE,
	        "the forced give-back of the atomic reserve");
	zt_case(d, ZA_DP_SLOW_COMPACT, "a NORETRY request's direct compaction");
}

/* ============================================================================ */

static const struct {
	const char *name;
	void (*run)(const struct discipline *d);
} tests[] = {
	{ "seed003_counter_order", seed003_counter_order },
	{ "seed004_disable_drain", seed004_disable_drain },
	{ "seed000_cpu_offline_halfway", seed000_cpu_offline_halfway },
	{ "seed001_trylock_fallback", seed001_trylock_fallback },
	{ "highatomic_before_oom", highatomic_before_oom },
	{ "double_free_late_claim", double_free_late_claim },
	{ "double_free_late_claim_debug", double_free_late_claim_debug },
	{ "double_free_late_claim_freed", double_free_late_claim_freed },
	{ "deferred_drain_check", deferred_drain_check },
	{ "zonelist_retry_late", zonelist_retry_late },
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_rules NAME\n");
		return 2;
	}
	if (!za_debug) {
		printf("the test hooks are compiled out (ZA_DEBUG=0): skipped\n");
		return 77;
	}
	tu_watchdog(60);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (strcmp(argv[1], tests[i].name))
			continue;
		const char *lacks = tu_kernel_lacks_rseq(); /* asked once */
		for (size_t k = 0; k < sizeof(disciplines) / sizeof(disciplines[0]);
		     k++) {
			if (disciplines[k].restartable && lacks) {
				printf("%s [%s]: skipped, this kernel %s\n", tests[i].name,
				       disciplines[k].name, lacks);
				continue;
			}
			tests[i].run(&disciplines[k]);
		}
		return 0;
	}
	fprintf(stderr, "test_rules: no test '%s'\n", argv[1]);
	return 2;
}
