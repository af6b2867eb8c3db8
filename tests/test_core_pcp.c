/*
 * test_core_pcp.c - per-CPU page lists: refill, flush and drain counts.
 *
 * Checks that:
 *  - the first order-0 allocation on a CPU refills its list with `batch`
 *    pages from the buddy lists (count == batch - 1, one PCP_REFILL event,
 *    PCP_REFILL_PAGES == batch, buddy free counter down by batch);
 *  - frees go on the list and, once the list passes `high`, exactly
 *    `batch` pages go back to the buddy lists (PCP_FLUSH, count drops, the
 *    buddy free counter rises by batch); the count never exceeds high;
 *  - za_drain_local_pages empties only the current CPU's list,
 *    za_drain_all_pages every list, and the pages reach the buddy counter;
 *  - orders above the pcp orders (0..3 and pageblock order) bypass the lists;
 *  - an allocation that would fail drains the other CPUs' lists and
 *    retries before it gives up (seed 003's third patch);
 *  - random mixed-order traffic on several CPUs keeps free + pcp +
 *    allocated == managed and zone pcp_pages == the sum of the lists;
 *  - ZA_CFG_NO_PCP: no page ever sits on a per-CPU list;
 *  - ZA_CFG_PCP_FIXED: high and batch are pcp_high and pcp_batch;
 *  - bad requests (unknown gfp bits, DMA with DMA32, a node that does not
 *    exist, an order above max) fail with EINVAL while the lists are warm:
 *    the fast path refuses them too;
 *  - a CPU offline does not wait for an owner preempted while it holds
 *    the CPU's (locked) page set: the worker drains it afterwards.
 *
 * With --rseq (ctest: core_pcp_rseq) every check runs again with
 * restartable page sets on real CPUs 0 and 1 (pcp_mode.h): the thread
 * pins itself to the CPU it would have simulated, so the remote drains
 * above (za_drain_all_pages of CPU 1 from CPU 0, and the drain before an
 * allocation fails - seed 001's remote drain of a set its owner may be
 * using) stop and fence a real CPU. Each check then runs in a child
 * process and is repeated when a sequence the kernel aborted moved a page
 * past the lists it counts (pcp_mode.h, pm_run).
 */
#include "testutil.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <zonealloc.h>

#include "internal.h"
#include "pcp_mode.h"
#include "offline_util.h"

#define BLK 1024UL
#define START (1UL << 20)
#define NPAGES (16 * BLK) /* 64 MiB */

static int cur_cpu;
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

static struct za *make(unsigned nr_cpus, unsigned flags, unsigned high,
                       unsigned batch)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, nr_cpus, get_cpu);
	cfg.block_pages = BLK;
	cfg.max_pfn = START + NPAGES + BLK;
	cfg.min_free_kbytes = 1024;
	cfg.flags = flags | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.pcp_high = high;
	cfg.pcp_batch = batch;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	pm_check_mode(za, "core_pcp");
	pm_watch(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	set_cpu(0);
	return za;
}

static struct za_zone_info zinfo(struct za *za)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	return zi;
}

static struct za_pcp_info pinfo(struct za *za, unsigned cpu)
{
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, cpu, 0, ZA_ZONE_NORMAL, &pi), 0);
	return pi;
}

static unsigned long long ev(struct za *za, enum za_event e)
{
	return za_event_count(za, e);
}

/* Default sizing: the first allocation refills one batch. */
static void first_refill(void)
{
	struct za *za = make(1, 0, 0, 0);
	struct za_pcp_info pi = pinfo(za, 0);
	CHECK_EQ(pi.count, 0);
	CHECK(pi.batch >= 1);
	CHECK(pi.high >= pi.batch);
	CHECK(pi.usable);
	CHECK_EQ(ev(za, ZA_PCP_REFILL), 0);

	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	struct za_pcp_info a = pinfo(za, 0);
	CHECK_EQ(a.count, pi.batch - 1);
	CHECK_EQ(ev(za, ZA_PCP_REFILL), 1);
	CHECK_EQ(ev(za, ZA_PCP_REFILL_PAGES), pi.batch);
	struct za_zone_info zi = zinfo(za);
	CHECK_EQ(zi.free, NPAGES - pi.batch);
	CHECK_EQ(zi.pcp_pages, pi.batch - 1);

	za_free_pages(za, p, 0);
	CHECK_EQ(pinfo(za, 0).count, pi.batch);
	za_drain_all_pages(za);
	CHECK_EQ(pinfo(za, 0).count, 0);
	zi = zinfo(za);
	CHECK_EQ(zi.free, NPAGES);
	CHECK_EQ(zi.pcp_pages, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* Refills of a size other than batch seen with ZA_CFG_PCP_FIXED; checked
 * last so that the other checks run first. */
static unsigned odd_refills;
static unsigned long long first_odd_refill;

/* Fixed high/batch: exact refill and flush arithmetic. */
static void fixed_refill_flush(void)
{
	const unsigned H = 64, B = 16, N = 200;
	struct za_page *pages[200];
	struct za *za = make(1, ZA_CFG_PCP_FIXED, H, B);
	struct za_pcp_info pi = pinfo(za, 0);
	CHECK_EQ(pi.high, H);
	CHECK_EQ(pi.batch, B);

	for (unsigned i = 0; i < N; i++) {
		unsigned before = pinfo(za, 0).count;
		unsigned long long refills = ev(za, ZA_PCP_REFILL);
		unsigned long long rpages = ev(za, ZA_PCP_REFILL_PAGES);
		unsigned long bfree = zinfo(za).free;
		pages[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(pages[i] != NULL);
		unsigned after = pinfo(za, 0).count;
		CHECK(after <= H);
		if (before == 0) {
			/* refill: pages in from the buddy lists, one handed out */
			unsigned long long got = ev(za, ZA_PCP_REFILL_PAGES) - rpages;
			CHECK_EQ(ev(za, ZA_PCP_REFILL), refills + 1);
			CHECK(got >= 1);
			CHECK_EQ(after, got - 1);
			CHECK_EQ(zinfo(za).free, bfree - got);
			if (got != B && odd_refills++ == 0)
				first_odd_refill = got;
			if (i == 0)
				CHECK_EQ(got, B); /* the first one surely is a batch */
		} else {
			CHECK_EQ(ev(za, ZA_PCP_REFILL), refills);
			CHECK_EQ(after, before - 1);
			CHECK_EQ(zinfo(za).free, bfree);
		}
	}
	unsigned long long rp = ev(za, ZA_PCP_REFILL_PAGES);
	CHECK_EQ(pinfo(za, 0).count, rp - N);
	CHECK_EQ(zinfo(za).pcp_pages, rp - N);
	CHECK_EQ(zinfo(za).free, NPAGES - rp);
	CHECK_EQ(ev(za, ZA_PGALLOC), N);
	unsigned left = (unsigned)(rp - N);

	/* Drain: the leftover pages go back to the buddy counter. */
	unsigned long long drains = ev(za, ZA_PCP_DRAIN_PAGES);
	za_drain_local_pages(za);
	CHECK_EQ(pinfo(za, 0).count, 0);
	CHECK_EQ(ev(za, ZA_PCP_DRAIN_PAGES), drains + left);
	CHECK_EQ(zinfo(za).free, NPAGES - N);

	/* Free one at a time: the list grows to high, then flushes batch. */
	unsigned flushes = 0;
	for (unsigned i = 0; i < N; i++) {
		unsigned before = pinfo(za, 0).count;
		unsigned long long fl = ev(za, ZA_PCP_FLUSH);
		unsigned long long flp = ev(za, ZA_PCP_FLUSH_PAGES);
		unsigned long bfree = zinfo(za).free;
		za_free_pages(za, pages[i], 0);
		unsigned after = pinfo(za, 0).count;
		CHECK(after <= H);
		if (ev(za, ZA_PCP_FLUSH) != fl) {
			CHECK_EQ(ev(za, ZA_PCP_FLUSH), fl + 1);
			CHECK_EQ(ev(za, ZA_PCP_FLUSH_PAGES), flp + B);
			/* only once the list reached or passed high */
			CHECK(before + 1 >= H);
			CHECK_EQ(after, before + 1 - B);
			CHECK_EQ(zinfo(za).free, bfree + B);
			flushes++;
		} else {
			CHECK_EQ(ev(za, ZA_PCP_FLUSH_PAGES), flp);
			CHECK(before + 1 <= H);
			CHECK_EQ(after, before + 1);
			CHECK_EQ(zinfo(za).free, bfree);
		}
	}
	CHECK(flushes >= (N - H) / B);
	CHECK_EQ(ev(za, ZA_PGFREE), N);
	struct za_zone_info zi = zinfo(za);
	CHECK_EQ(zi.free + zi.pcp_pages, NPAGES);
	CHECK_EQ(zi.pcp_pages, pinfo(za, 0).count);

	za_drain_all_pages(za);
	CHECK_EQ(pinfo(za, 0).count, 0);
	zi = zinfo(za);
	CHECK_EQ(zi.free, NPAGES);
	CHECK_EQ(zi.pcp_pages, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* Two CPUs: drain_local drains only the caller's list. */
/* A lower high is published after the pages over it went back (the
 * decay, pressure, za_pcp_set_high: pcp_trim_locked), so that a reader
 * outside the set - za_pcp_info reads high, then count - never sees more
 * pages than high. Looked at from inside the trim's flush (the buddy
 * lists' debug point, debug builds). */
static atomic_int trim_seen, trim_over;
static void trim_hook(struct za *za, int point, void *arg)
{
	(void)arg;
	if (point != ZA_DP_BUDDY_FREE)
		return;
	struct za_pcp_info pi;
	if (za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi) == 0) {
		atomic_fetch_add(&trim_seen, 1);
		if (pi.count > pi.high)
			atomic_fetch_add(&trim_over, 1);
	}
}

static void trim_publishes_after_flush(void)
{
	if (!za_debug)
		return; /* the debug point is compiled in debug builds only */
	enum { N = 1024 };
	static struct za_page *pages[N];
	struct za *za = make(2, 0, 0, 0);
	set_cpu(0);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++)
			CHECK((pages[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
		for (int i = 0; i < N; i++)
			za_free_pages(za, pages[i], 0);
	}
	struct za_pcp_info before = pinfo(za, 0);
	atomic_store(&trim_seen, 0);
	atomic_store(&trim_over, 0);
	za_store_relaxed(&za->debug_hook, trim_hook);
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, 0), 0); /* high_min */
	za_store_relaxed(&za->debug_hook, NULL);
	struct za_pcp_info after = pinfo(za, 0);
	CHECK(after.high < before.count);   /* the trim gave pages back */
	CHECK(atomic_load(&trim_seen) > 0); /* and was looked at meanwhile */
	RULE(atomic_load(&trim_over) == 0,
	     "a set gives its pages back before it publishes a lower high: "
	     "za_pcp_info read a count above high %d times during the trim "
	     "(%u pages down to high %u)",
	     atomic_load(&trim_over), before.count, after.high);
	printf("trim: %u pages down to high %u, looked at %d times from its "
	       "flush\n",
	       before.count, after.high, atomic_load(&trim_seen));
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void drain_local_vs_all(void)
{
	const unsigned H = 32, B = 8;
	struct za_page *a[5], *b[3];
	struct za *za = make(2, ZA_CFG_PCP_FIXED, H, B);

	set_cpu(0);
	for (int i = 0; i < 5; i++)
		CHECK((a[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	set_cpu(1);
	for (int i = 0; i < 3; i++)
		CHECK((b[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	CHECK_EQ(pinfo(za, 0).count, B - 5);
	CHECK_EQ(pinfo(za, 1).count, B - 3);
	CHECK_EQ(zinfo(za).pcp_pages, 2 * B - 8);
	CHECK_EQ(zinfo(za).free, NPAGES - 2 * B);

	/* frees from CPU 1 of CPU 0's pages land on CPU 1's list */
	for (int i = 0; i < 5; i++)
		za_free_pages(za, a[i], 0);
	CHECK_EQ(pinfo(za, 1).count, B - 3 + 5);
	CHECK_EQ(pinfo(za, 0).count, B - 5);

	set_cpu(0);
	za_drain_local_pages(za);
	CHECK_EQ(pinfo(za, 0).count, 0);
	CHECK_EQ(pinfo(za, 1).count, B + 2);
	CHECK_EQ(zinfo(za).free, NPAGES - 2 * B + (B - 5));

	set_cpu(1);
	za_drain_local_pages(za);
	CHECK_EQ(pinfo(za, 1).count, 0);
	CHECK_EQ(zinfo(za).free, NPAGES - 3);

	for (int i = 0; i < 3; i++)
		za_free_pages(za, b[i], 0);
	CHECK_EQ(pinfo(za, 1).count, 3);
	set_cpu(0);
	za_drain_all_pages(za); /* remote drain of CPU 1 from CPU 0 */
	CHECK_EQ(pinfo(za, 0).count, 0);
	CHECK_EQ(pinfo(za, 1).count, 0);
	CHECK_EQ(zinfo(za).free, NPAGES);
	CHECK_EQ(zinfo(za).pcp_pages, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* Orders 1..3 use the lists with refills; orders 4..8 keep what is freed
 * within a budget (256 pages of 4 KiB here: ZA_PCP_MID_BYTES, more than
 * an eighth of high) and are refilled with one block when the zone has
 * none of their order to spare (test_core_pcp_mid.c has the rest). */
static void orders(void)
{
	const unsigned H = 512, B = 16;
	struct za *za = make(1, ZA_CFG_PCP_FIXED, H, B);
	unsigned long long refills = ev(za, ZA_PCP_REFILL);

	struct za_page *big = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK(big != NULL);
	CHECK_EQ(pinfo(za, 0).count, 0);
	CHECK_EQ(ev(za, ZA_PCP_REFILL), refills + 1);
	CHECK_EQ(zinfo(za).free, NPAGES - 32);
	/* Its buddy in use, so that a freed block cannot merge. */
	struct za_page *nb = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK_EQ(za_page_to_pfn(za, big) ^ 32, za_page_to_pfn(za, nb));
	za_free_pages(za, big, 5);
	CHECK_EQ(pinfo(za, 0).count, 32); /* kept for the next order 5 */
	CHECK_EQ(zinfo(za).free, NPAGES - 64);
	struct za_page *again = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK(again == big);
	CHECK_EQ(pinfo(za, 0).count, 0);
	CHECK_EQ(ev(za, ZA_PCP_REFILL), refills + 2);
	za_free_pages(za, again, 5);
	/* 32 + 256 pages would pass the budget: the order-8 block goes back
	 * to the buddy lists. */
	struct za_page *b8 = za_alloc_pages(za, ZA_GFP_KERNEL, 8);
	CHECK(b8 != NULL);
	za_free_pages(za, b8, 8);
	CHECK_EQ(pinfo(za, 0).count, 32);
	CHECK_EQ(zinfo(za).free, NPAGES - 64);
	CHECK_EQ(za_check(za, stderr), 0);
	/* The periodic decay gives them back: held, they would keep their
	 * buddies from merging. */
	pcp_decay_all(za);
	CHECK_EQ(pinfo(za, 0).count, 0);
	/* Its buddy is free, but its list is empty: kept even so
	 * (pcp_mid_merges), until a drain merges it. */
	za_free_pages(za, nb, 5);
	CHECK_EQ(pinfo(za, 0).count, 32);
	za_drain_all_pages(za);
	CHECK_EQ(pinfo(za, 0).count, 0);
	CHECK_EQ(zinfo(za).free, NPAGES);
	/* The budget: of 20 freed order-4 blocks whose buddies are in use,
	 * never more than 256 pages' worth stay (past it, blocks go back to
	 * the buddy lists). */
	{
		struct za_page *b4[40];
		for (int i = 0; i < 40; i++)
			CHECK((b4[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 4)) != NULL);
		unsigned kept_pairs = 0;
		for (int i = 0; i < 40; i += 2)
			if ((za_page_to_pfn(za, b4[i]) ^ 16) ==
			    za_page_to_pfn(za, b4[i + 1])) {
				za_free_pages(za, b4[i], 4);
				b4[i] = NULL;
				kept_pairs++;
			}
		CHECK(kept_pairs > 16);
		CHECK(pinfo(za, 0).count <= 256);
		CHECK_EQ(za_check(za, stderr), 0);
		for (int i = 0; i < 40; i++)
			if (b4[i])
				za_free_pages(za, b4[i], 4);
		za_drain_all_pages(za);
		CHECK_EQ(zinfo(za).free, NPAGES);
	}
	/* A block whose buddy is free merges at once when its list has a
	 * block (core_pcp_mid, mid_merge); onto an empty list it stays. */
	struct za_page *pair[2];
	CHECK((pair[0] = za_alloc_pages(za, ZA_GFP_KERNEL, 4)) != NULL);
	CHECK((pair[1] = za_alloc_pages(za, ZA_GFP_KERNEL, 4)) != NULL);
	CHECK_EQ(za_page_to_pfn(za, pair[0]) ^ 16, za_page_to_pfn(za, pair[1]));
	za_free_pages(za, pair[0], 4);
	CHECK_EQ(pinfo(za, 0).count, 16); /* its buddy is in use: kept */
	pcp_decay_all(za);
	za_free_pages(za, pair[1], 4);
	CHECK_EQ(pinfo(za, 0).count, 16);
	za_drain_all_pages(za);
	CHECK_EQ(pinfo(za, 0).count, 0);
	CHECK_EQ(zinfo(za).free, NPAGES);

	/* Order 2: pages on the list are counted in pages. */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 2);
	CHECK(p != NULL);
	struct za_zone_info zi = zinfo(za);
	CHECK_EQ(zi.pcp_pages, pinfo(za, 0).count);
	CHECK_EQ(zi.free + zi.pcp_pages + 4, NPAGES);
	za_free_pages(za, p, 2);
	zi = zinfo(za);
	CHECK_EQ(zi.pcp_pages, pinfo(za, 0).count);
	CHECK_EQ(zi.free + zi.pcp_pages, NPAGES);
	CHECK(zi.pcp_pages >= 4); /* the order-2 block went on the list */
	za_drain_all_pages(za);
	CHECK_EQ(zinfo(za).free, NPAGES);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* Pages parked on CPU 1's list are found by CPU 0 before it fails. */
static void drain_before_fail(void)
{
	static struct za_page *pg[NPAGES];
	unsigned n = 0;
	struct za *za = make(2, ZA_CFG_PCP_FIXED, 2000, 100);
	set_cpu(1);
	for (unsigned i = 0; i < 1500; i++)
		CHECK((pg[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	for (unsigned i = 0; i < 1500; i++)
		za_free_pages(za, pg[i], 0);
	unsigned parked = pinfo(za, 1).count;
	CHECK(parked >= 1500);
	set_cpu(0);
	for (;;) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		if (!p)
			break;
		CHECK(n < NPAGES);
		pg[n++] = p;
	}
	struct za_zone_info zi = zinfo(za);
	unsigned long drift = 2 * zi.stat_threshold;
	printf("CPU 1 had %u pages parked; CPU 0 got %u of %lu, free %lu, min "
	       "%lu, CPU 1 now %u\n",
	       parked, n, NPAGES, zi.free, zi.min, pinfo(za, 1).count);
	/* the pages on CPU 1's list were used, not given up on */
	CHECK_EQ(pinfo(za, 1).count, 0);
	CHECK(n + zi.min + 100 + drift + pinfo(za, 0).count >= NPAGES);
	CHECK(ev(za, ZA_DRAIN_RETRY) >= 1);
	while (n)
		za_free_pages(za, pg[--n], 0);
	za_drain_all_pages(za);
	CHECK_EQ(zinfo(za).free, NPAGES);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* Random traffic, default sizing: the books always balance. */
static void random_traffic(void)
{
	static struct za_page *pg[4096];
	static unsigned char ord[4096];
	unsigned n = 0;
	unsigned long held = 0;
	uint64_t s = 99;
	const unsigned ncpu = pm_cpus(4);
	struct za *za = make(4, 0, 0, 0);
	static const unsigned orders[] = { 0, 0, 0, 1, 2, 3, 5, 9 };
	for (long i = 0; i < tu_scale(20000); i++) {
		uint64_t r = tu_rand(&s);
		/* On real CPUs a move waits for the CPU: every 64 calls. */
		if (!pm_rseq || i % 64 == 0)
			set_cpu((int)(r % ncpu));
		if (n < 4096 && (n == 0 || (r >> 8) % 2)) {
			unsigned o = orders[(r >> 16) % 8];
			za_gfp_t g = (r >> 24) % 2 ? ZA_GFP_KERNEL : ZA_GFP_MOVABLE;
			struct za_page *p = za_alloc_pages(za, g, o);
			if (!p)
				continue;
			pg[n] = p;
			ord[n++] = (unsigned char)o;
			held += 1UL << o;
		} else {
			unsigned k = (unsigned)((r >> 16) % n);
			za_free_pages(za, pg[k], ord[k]);
			held -= 1UL << ord[k];
			pg[k] = pg[--n];
			ord[k] = ord[n];
		}
		if (i % 16 == 0) {
			struct za_zone_info zi = zinfo(za);
			unsigned long sum = 0;
			for (unsigned c = 0; c < ncpu; c++)
				sum += pinfo(za, c).count;
			CHECK_EQ(zi.pcp_pages, sum);
			CHECK_EQ(zi.free + zi.pcp_pages + held, NPAGES);
		}
	}
	while (n) {
		n--;
		za_free_pages(za, pg[n], ord[n]);
	}
	za_drain_all_pages(za);
	CHECK_EQ(zinfo(za).free, NPAGES);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* ZA_CFG_NO_PCP: every allocation and free goes to the buddy lists. */
static void no_pcp(void)
{
	struct za_page *pages[300];
	struct za *za = make(2, ZA_CFG_NO_PCP, 0, 0);
	uint64_t s = 42;
	unsigned n = 0;
	for (int i = 0; i < 2000; i++) {
		int c = (int)(tu_rand(&s) % 2);
		if (!pm_rseq || i % 64 == 0) /* real CPUs: see random_traffic */
			set_cpu(c);
		if (n < 300 && (n == 0 || tu_rand(&s) % 3)) {
			pages[n] = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
			CHECK(pages[n] != NULL);
			n++;
		} else {
			unsigned k = (unsigned)(tu_rand(&s) % n);
			za_free_pages(za, pages[k], 0);
			pages[k] = pages[--n];
		}
		CHECK_EQ(pinfo(za, 0).count, 0);
		CHECK_EQ(pinfo(za, 1).count, 0);
		struct za_zone_info zi = zinfo(za);
		CHECK_EQ(zi.pcp_pages, 0);
		CHECK_EQ(zi.free, NPAGES - n);
	}
	CHECK_EQ(ev(za, ZA_PCP_REFILL), 0);
	CHECK_EQ(ev(za, ZA_PCP_FLUSH), 0);
	/* And the reports say so: no list to use, in every view. */
	for (unsigned c = 0; c < 2; c++) {
		struct za_pcp_info pi = pinfo(za, c);
		CHECK_EQ(pi.usable, 0);
		CHECK_EQ(pi.high, 0);
		CHECK_EQ(pi.batch, 1);
	}
	CHECK(zinfo(za).pcp_disabled);
	while (n)
		za_free_pages(za, pages[--n], 0);
	CHECK_EQ(zinfo(za).free, NPAGES);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* Requests that must fail whatever the lists hold: with every list of the
 * current CPU warm (orders 0..3, each migratetype, and the unmovable list
 * of order 5, where an order-0 request of a bad class would land if it
 * were not refused first: GFP_CLASS_BAD), the fast path meets them
 * first and must refuse them as the general path does - it is not allowed
 * to hand out a block just because one is at hand. */
static void bad_requests_warm(void)
{
	/* Fixed sizes with room for all of it: no flush empties a list. */
	struct za *za = make(2, ZA_CFG_PCP_FIXED, 1024, 32);
	static const za_gfp_t types[] = { ZA_GFP_KERNEL, ZA_GFP_MOVABLE,
		                              ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE };
	set_cpu(1);
	/* Order 5: a freed block stays on the list when its buddy is in
	 * use, so the test frees one of two buddies it holds and keeps the
	 * rest until the end. */
	enum { MID_HOLD = 16 };
	struct za_page *held[MID_HOLD];
	for (unsigned k = 0; k < MID_HOLD; k++)
		CHECK((held[k] = za_alloc_pages(za, ZA_GFP_KERNEL, 5)) != NULL);
	bool kept = false;
	for (unsigned k = 0; k < MID_HOLD && !kept; k++)
		for (unsigned j = 0; j < MID_HOLD && !kept; j++)
			if (held[j] && held[k] &&
			    za_page_to_pfn(za, held[j]) ==
			        (za_page_to_pfn(za, held[k]) ^ (1ul << 5))) {
				za_free_pages(za, held[k], 5);
				held[k] = NULL;
				kept = true;
			}
	CHECK(kept);
	for (unsigned t = 0; t < 3; t++)
		for (unsigned o = 0; o <= 3; o++) {
			struct za_page *p = za_alloc_pages(za, types[t], o);
			CHECK(p != NULL);
			za_free_pages(za, p, o);
		}
	const struct za_pcp *pcp1 = zone_pcp(&za->nodes[0].zones[ZA_ZONE_NORMAL],
	                                     1);
	CHECK(pcp1->lists[pcp_list_index(za, 5, ZA_MT_UNMOVABLE)] != ZA_NIL);
	struct za_pcp_info pi = pinfo(za, 1);
	CHECK(pi.count > 0);
	struct za_zone_info z0 = zinfo(za);
	static const struct {
		int nid;
		za_gfp_t gfp;
		unsigned order;
	} bad[] = {
		{ -1, ZA_GFP_KERNEL | 0x4000u, 0 },     /* unknown bit */
		{ -1, ZA_GFP_KERNEL | 0x80000000u, 1 }, /* unknown bit */
		{ -1, ZA_GFP_DMA | ZA_GFP_DMA32, 0 },   /* no such zone */
		{ -1, ZA_GFP_MOVABLE | ZA_GFP_DMA | ZA_GFP_DMA32, 2 },
		{ 1, ZA_GFP_KERNEL, 0 }, /* no node 1 */
		{ ZA_MAX_NODES, ZA_GFP_MOVABLE, 3 },
		{ -1, ZA_GFP_KERNEL, ZA_MAX_ORDER_LIMIT + 1 }, /* order */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		struct za_page *p = za_alloc_pages_node(za, bad[i].nid, bad[i].gfp,
		                                        bad[i].order);
		if (p || errno != EINVAL)
			fprintf(stderr,
			        "bad request %u (nid %d gfp %#x order %u): "
			        "%p, errno %d\n",
			        i, bad[i].nid, bad[i].gfp, bad[i].order, (void *)p, errno);
		CHECK(p == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	/* nothing moved */
	struct za_zone_info z1 = zinfo(za);
	CHECK_EQ(z1.free, z0.free);
	CHECK_EQ(z1.pcp_pages, z0.pcp_pages);
	CHECK_EQ(pinfo(za, 1).count, pi.count);
	/* and the good twins of those requests are served from the lists */
	unsigned long long refills = ev(za, ZA_PCP_REFILL);
	for (unsigned t = 0; t < 3; t++) {
		struct za_page *p = za_alloc_pages_node(za, 0, types[t], 0);
		CHECK(p != NULL);
		za_free_pages(za, p, 0);
	}
	CHECK_EQ(ev(za, ZA_PCP_REFILL), refills);
	for (unsigned k = 0; k < MID_HOLD; k++)
		if (held[k])
			za_free_pages(za, held[k], 5);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* DESIGN.md: "an empty list is refilled with `batch` pages"; and
 * ZA_CFG_PCP_FIXED fixes batch. */
static void check_odd_refills(void)
{
	if (odd_refills)
		fprintf(stderr,
		        "ZA_CFG_PCP_FIXED batch %u: %u refills were not "
		        "batch pages (first: %llu)\n",
		        16u, odd_refills, first_odd_refill);
	CHECK_EQ(odd_refills, 0);
}

/* A restartable run checks each in its own process (pm_run). */
static void fixed_refill_flush_all(void)
{
	fixed_refill_flush();
	check_odd_refills();
}

/* Locked page sets (simulated CPUs): a CPU offline does not wait for a
 * lock that a thread the scheduler preempted holds - the set's lock (its
 * owner) or the zone lock its drain needs; the set is switched off at
 * once and the statistics worker drains it once the lock is let go (the
 * restartable twins are in test_pcp_rseq.c). */
static void offline_beside_held_lock(bool zone)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = START + NPAGES + BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD; /* the statistics worker on */
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	cur_cpu = 1;
	struct za_page *p[32];
	for (int i = 0; i < 32; i++)
		CHECK((p[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	for (int i = 0; i < 32; i++)
		za_free_pages(za, p[i], 0);
	cur_cpu = 0;
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	struct za_pcp *pcp = zone_pcp(z, 1);
	za_spinlock_t *lock = zone ? &z->lock : &pcp->lock;
	const char *what = zone ? "the zone lock its drain needs"
	                        : "its page set's lock (the preempted owner)";
	int held = pcp->count;
	CHECK(held > 0);
	za_spin_lock_raw(lock);
	struct offline_call c = { za, 1, -1 };
	pthread_t t;
	if (!offline_returns(&c, &t, 20)) {
		za_spin_unlock_raw(lock);
		pthread_join(t, NULL);
		fprintf(stderr,
		        "rule broken: a CPU offline waits for a thread preempted "
		        "while it holds %s (locked)\n",
		        what);
		exit(1);
	}
	CHECK_EQ(c.rc, 0);
	unsigned flags = za_load_acquire(&pcp->flags);
	CHECK((flags & ZA_PCP_OFF_CPU) && (flags & ZA_PCP_DEFERRED));
	usleep(100 * 1000);
	CHECK_EQ(pcp->count, held); /* nobody drains it under the lock */
	za_spin_unlock_raw(lock);
	if (!wait_drained(pcp, 20)) {
		fprintf(stderr,
		        "rule broken: the worker never drained the set the "
		        "offline left it (locked, %s)\n",
		        what);
		exit(1);
	}
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("offline beside a held %s lock: ok\n", zone ? "zone" : "page-set");
}

int main(int argc, char **argv)
{
	pm_init(argc, argv, "core_pcp", 2);
	tu_watchdog(60);
	if (pm_rseq) {
		pm_run("bad_requests_warm", bad_requests_warm);
		pm_run("first_refill", first_refill);
		pm_run("fixed_refill_flush", fixed_refill_flush_all);
		pm_run("drain_local_vs_all", drain_local_vs_all);
		pm_run("trim_publishes_after_flush", trim_publishes_after_flush);
		pm_run("orders", orders);
		pm_run("drain_before_fail", drain_before_fail);
		pm_run("random_traffic", random_traffic);
		pm_run("no_pcp", no_pcp);
		printf("core_pcp: ok\n");
		return 0;
	}
	bad_requests_warm();
	first_refill();
	fixed_refill_flush();
	drain_local_vs_all();
	trim_publishes_after_flush();
	orders();
	drain_before_fail();
	random_traffic();
	no_pcp();
	check_odd_refills();
	offline_beside_held_lock(false);
	offline_beside_held_lock(true);
	printf("core_pcp: ok\n");
	return 0;
}
