/*
 * test_core_pcp_mid.c - the per-CPU lists of orders 4..8 (issue 11 item
 * 4; src/pcp.c "orders 4..8"): a small buddy allocator of each CPU's own,
 * within a budget, that spares the zone lock and splits no pageblock the
 * allocation did not need.
 *
 * Checks that:
 *  - split: an allocation of order 4..8 whose list is empty splits a
 *    larger block of the CPU's lists, without the zone lock
 *    (zonealloc_zone_lock unchanged, zonealloc_pcp_mid_split + 1), and
 *    the pieces serve the next allocations of orders 4..7 the same way;
 *  - best fit: not while the zone has a free block of an order between
 *    (the buddy lists' best fit would take that one): the refill takes
 *    it and the CPU's larger block stays whole;
 *  - spare: a refill takes a second block only when the zone has another
 *    free block of that very order to leave behind: on a fresh zone (the
 *    first block split from a larger one) one block, with free blocks of
 *    the order about two;
 *  - budget: frees of blocks whose buddies are in use never take the lists
 *    past the budget (za_check checks it); the free that would gives
 *    blocks back in one zone-lock hold and is kept, instead of going to
 *    the buddy lists itself;
 *  - sizing: refills of these orders leave high alone (self-sizing on);
 *  - resize: sizes that lower the budget (a CPU online splits high_max
 *    among more CPUs) give back what is over it when the set picks them
 *    up, so that za_check finds the lists within the budget;
 *  - pattern: a working set of blocks of orders 4..8 freed and allocated
 *    at random (the benchmark's `mixed` without orders 0..3 and 9) takes
 *    the zone lock on few operations: 125 per 1000 (printed), against
 *    1027 when these orders were never refilled or split; the bound is
 *    350; and a split serves at least one operation in 100;
 *  - the fast path of orders 4..9 (alloc_fast_mid, fastpath.c "orders
 *    4..9"): an allocation off a list with a block takes no zone lock
 *    and counts what the general path counts (fast_common); the same
 *    random run with and without it hands out the same blocks with the
 *    same events and statistics (stats_match); it takes nothing the
 *    general path refuses: between min and low the request is refused at
 *    low first (watermark_fail), below min a request that may not reclaim
 *    gets nothing (fast_watermark), nor does one whose order the buddy
 *    lists hold no block of (fast_no_block), though the CPU's list has
 *    one;
 *  - frees of orders 4..9: a CPU that is offline keeps none of them
 *    (mid_offline); a second free is reported and changes nothing
 *    (mid_double_free);
 *  - every check ends with za_check and, once the lists are drained, all
 *    pages free.
 *
 * With --rseq (ctest: core_pcp_mid_rseq) the checks run again with
 * restartable page sets on real CPU 0 (pcp_mode.h).
 */
#include "testutil.h"

#include <string.h>
#include <zonealloc.h>

#include "internal.h"
#include "buddy_util.h"
#include "pcp_mode.h"

#define BLK 1024UL
#define START (1UL << 20)
#define NPAGES (16 * BLK) /* 64 MiB */

static int cur_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

static struct za *make_mfk(unsigned flags, unsigned high, unsigned batch,
                           unsigned long min_free_kbytes);
static struct za *make(unsigned flags, unsigned high, unsigned batch)
{
	return make_mfk(flags, high, batch, 1024);
}

static struct za *make_mfk(unsigned flags, unsigned high, unsigned batch,
                           unsigned long min_free_kbytes)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, 2, get_cpu);
	cfg.block_pages = BLK;
	cfg.max_pfn = START + NPAGES + BLK;
	cfg.min_free_kbytes = min_free_kbytes;
	cfg.flags = flags | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.pcp_high = high;
	cfg.pcp_batch = batch;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	pm_check_mode(za, "core_pcp_mid");
	pm_watch(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	pm_set_cpu(&cur_cpu, 0);
	return za;
}

static struct za_zone_info zinfo(struct za *za)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	return zi;
}

static struct za_pcp_info pinfo(struct za *za)
{
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	return pi;
}

static struct za_zone *normal(struct za *za);

static unsigned long long ev(struct za *za, enum za_event e)
{
	return za_event_count(za, e);
}

static unsigned long pfn(struct za *za, struct za_page *p)
{
	return za_page_to_pfn(za, p);
}

static void all_back(struct za *za)
{
	CHECK_EQ(za_check(za, stderr), 0);
	za_drain_all_pages(za);
	CHECK_EQ(zinfo(za).free, NPAGES);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

/* Fixed sizes: high 2048 pages, so the budget is 1024 pages (half). */
static void split(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 2048, 16);
	struct za_page *b8 = za_alloc_pages(za, ZA_GFP_KERNEL, 8);
	struct za_page *nb8 = za_alloc_pages(za, ZA_GFP_KERNEL, 8);
	CHECK(b8 && nb8);
	CHECK_EQ(pfn(za, b8) ^ 256, pfn(za, nb8)); /* its buddy, in use */
	CHECK_EQ(pinfo(za).count, 0);
	za_free_pages(za, b8, 8);
	CHECK_EQ(pinfo(za).count, 256); /* kept: its buddy is in use */

	unsigned long long locks = ev(za, ZA_ZONE_LOCK);
	unsigned long long splits = ev(za, ZA_PCP_MID_SPLIT);
	struct za_page *p[5];
	CHECK((p[0] = za_alloc_pages(za, ZA_GFP_KERNEL, 4)) != NULL);
	CHECK_EQ(pfn(za, p[0]), pfn(za, b8)); /* the head piece */
	CHECK_EQ(ev(za, ZA_PCP_MID_SPLIT), splits + 1);
	CHECK_EQ(ev(za, ZA_ZONE_LOCK), locks);
	CHECK_EQ(pinfo(za).count, 256 - 16); /* the pieces stay */
	CHECK_EQ(za_check(za, stderr), 0);
	locks = ev(za, ZA_ZONE_LOCK); /* za_check takes it */
	/* The pieces: orders 4, 5, 6 and 7, no zone lock, no other split. */
	for (unsigned o = 4; o <= 7; o++) {
		p[o - 3] = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		CHECK(p[o - 3] != NULL);
		CHECK_EQ(pfn(za, p[o - 3]), pfn(za, b8) + (1ul << o));
	}
	CHECK_EQ(ev(za, ZA_PCP_MID_SPLIT), splits + 1);
	CHECK_EQ(ev(za, ZA_ZONE_LOCK), locks);
	CHECK_EQ(pinfo(za).count, 0);
	for (unsigned o = 4; o <= 7; o++)
		za_free_pages(za, p[o - 3], o);
	za_free_pages(za, p[0], 4);
	za_free_pages(za, nb8, 8);
	all_back(za);
}

/* A free block of an order between on the buddy lists comes first, as
 * the buddy lists' best fit would take it: the CPU's larger block stays
 * whole. */
static void best_fit(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 4096, 16); /* budget 512 */
	struct za_page *a1 = za_alloc_pages(za, ZA_GFP_KERNEL, 4);
	struct za_page *a2 = za_alloc_pages(za, ZA_GFP_KERNEL, 4);
	CHECK(a1 && a2);
	CHECK_EQ(pfn(za, a1) ^ 16, pfn(za, a2));
	za_free_pages(za, a1, 4); /* kept, then to the buddy lists whole */
	za_drain_all_pages(za);
	CHECK_EQ(zinfo(za).nr_free[4], 1);
	/* An order-8 block on the CPU's list, its buddy in use. */
	struct za_page *e[4], *b8 = NULL;
	for (int i = 0; i < 4; i++)
		CHECK((e[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 8)) != NULL);
	for (int i = 0; i < 4 && !b8; i++)
		for (int j = 0; j < 4; j++)
			if ((pfn(za, e[i]) ^ 256) == pfn(za, e[j])) {
				b8 = e[i];
				e[i] = NULL;
				break;
			}
	CHECK(b8 != NULL);
	za_drain_all_pages(za); /* a block a refill took to spare */
	CHECK_EQ(zinfo(za).nr_free[4], 1);
	za_free_pages(za, b8, 8);
	CHECK_EQ(pinfo(za).count, 256);
	unsigned long long splits = ev(za, ZA_PCP_MID_SPLIT);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 4);
	CHECK(p != NULL);
	CHECK_EQ(pfn(za, p), pfn(za, a1)); /* the free order-4 block */
	CHECK_EQ(ev(za, ZA_PCP_MID_SPLIT), splits);
	CHECK_EQ(pinfo(za).count, 256); /* the order-8 block, whole */
	CHECK_EQ(zinfo(za).nr_free[4], 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_free_pages(za, p, 4);
	za_free_pages(za, a2, 4);
	for (int i = 0; i < 4; i++)
		if (e[i])
			za_free_pages(za, e[i], 8);
	all_back(za);
}

static void spare(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 2048, 16);
	/* Fresh zone: the block is split from a larger one, which leaves one
	 * block of order 5 free: none to spare. */
	unsigned long long pages = ev(za, ZA_PCP_REFILL_PAGES);
	struct za_page *first = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK(first != NULL);
	CHECK_EQ(ev(za, ZA_PCP_REFILL_PAGES), pages + 32);
	CHECK_EQ(pinfo(za).count, 0);
	CHECK_EQ(zinfo(za).nr_free[5], 1);

	/* Free blocks of order 5 with their buddies in use: on the buddy
	 * lists once drained. */
	struct za_page *b[16];
	for (int i = 0; i < 16; i++)
		CHECK((b[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 5)) != NULL);
	int freed = 0;
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			if (b[i] && b[j] && (pfn(za, b[i]) ^ 32) == pfn(za, b[j])) {
				za_free_pages(za, b[i], 5);
				b[i] = NULL;
				freed++;
			}
	CHECK(freed >= 4);
	za_drain_all_pages(za);
	unsigned long nfree = zinfo(za).nr_free[5];
	CHECK(nfree >= 4);
	pages = ev(za, ZA_PCP_REFILL_PAGES);
	struct za_page *x = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK(x != NULL);
	CHECK_EQ(ev(za, ZA_PCP_REFILL_PAGES), pages + 64); /* two blocks */
	CHECK_EQ(pinfo(za).count, 32);
	CHECK_EQ(zinfo(za).nr_free[5], nfree - 2);
	za_free_pages(za, x, 5);
	za_free_pages(za, first, 5);
	for (int i = 0; i < 16; i++)
		if (b[i])
			za_free_pages(za, b[i], 5);
	all_back(za);
}

/* Fixed sizes: high 512 pages, so the budget is 256 (half of it, and
 * the 1 MiB floor). */
static void budget(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 512, 16);
	struct za_page *b[48];
	for (int i = 0; i < 48; i++)
		CHECK((b[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 4)) != NULL);
	za_drain_all_pages(za);
	CHECK_EQ(pinfo(za).count, 0);
	unsigned long long locks = ev(za, ZA_ZONE_LOCK);
	unsigned long long flushes = ev(za, ZA_PCP_FLUSH);
	unsigned freed = 0;
	for (int i = 0; i < 48; i++)
		for (int j = 0; j < 48; j++)
			if (b[i] && b[j] && (pfn(za, b[i]) ^ 16) == pfn(za, b[j])) {
				za_free_pages(za, b[i], 4);
				b[i] = NULL;
				freed++;
				CHECK(pinfo(za).count <= 256);
			}
	/* 16 blocks fill the budget; the 17th first gives 9 back (down to
	 * half the budget less itself) and is kept. */
	CHECK(freed >= 17 && freed <= 24);
	printf("budget: %u frees of order 4, %llu zone locks, %u pages kept\n",
	       freed, ev(za, ZA_ZONE_LOCK) - locks, pinfo(za).count);
	CHECK_EQ(ev(za, ZA_PCP_FLUSH), flushes + 1);
	CHECK_EQ(ev(za, ZA_ZONE_LOCK), locks + 1);
	CHECK_EQ(pinfo(za).count, 16 * (freed - 9));
	for (int i = 0; i < 48; i++)
		if (b[i])
			za_free_pages(za, b[i], 4);
	all_back(za);
}

/* Self-sizing on: a list's high grows with refills of orders 0..3, not
 * with those of orders 4..8, which have their own budget. */
static void sizing(void)
{
	struct za *za = make(0, 0, 0);
	unsigned high = pinfo(za).high;
	unsigned long long refills = ev(za, ZA_PCP_REFILL);
	struct za_page *b[24];
	for (int i = 0; i < 24; i++)
		CHECK((b[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 6)) != NULL);
	CHECK(ev(za, ZA_PCP_REFILL) > refills);
	CHECK_EQ(pinfo(za).high, high);
	for (int i = 0; i < 24; i++)
		za_free_pages(za, b[i], 6);
	all_back(za);
}

/* A resize that lowers the budget (a CPU comes online: high_max is split
 * among more CPUs) gives back what is over it when the set picks the new
 * sizes up: za_check finds the lists within the budget. A zone of 1 GiB
 * (frames only), so that the budget is above its floor. */
#define BIG (256 * BLK)
static void resize(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, 2, get_cpu);
	cfg.block_pages = BLK;
	cfg.max_pfn = START + BIG + BLK;
	cfg.min_free_kbytes = 1024;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	pm_watch(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, BIG, NULL), 0);
	pm_set_cpu(&cur_cpu, 0);
	CHECK_EQ(za_cpu_offline(za, 1), 0);
	/* CPU 0's high at 14000: its budget is that (half its high_max,
	 * 32768 / 2, is more); with CPU 1 online, high_max halves and the
	 * budget is 16384 / 2 = 8192. */
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, 14000), 0);
	CHECK_EQ(pinfo(za).high, 14000);
	/* Forty order-8 blocks on the lists (10240 pages), their buddies in
	 * use: within the budget of one CPU, over that of two. */
	struct za_page *b[80];
	for (int i = 0; i < 80; i++)
		CHECK((b[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 8)) != NULL);
	za_drain_local_pages(za);
	unsigned kept = 0;
	for (int i = 0; i < 80 && kept < 40; i++)
		for (int j = 0; j < 80; j++)
			if (b[i] && b[j] && (pfn(za, b[i]) ^ 256) == pfn(za, b[j])) {
				za_free_pages(za, b[i], 8);
				b[i] = NULL;
				kept++;
				break;
			}
	CHECK_EQ(kept, 40);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(pinfo(za).count, 10240);
	CHECK_EQ(za_cpu_online(za, 1), 0);
	/* CPU 0 picks the sizes up on its next use. */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	za_free_pages(za, p, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	/* What was over the new budget went back (count has the order-0
	 * refill besides). */
	CHECK(za_pcp_of(za, normal(za)->id, 0)->mid_pages <= 8192);
	for (int i = 0; i < 80; i++)
		if (b[i])
			za_free_pages(za, b[i], 8);
	CHECK_EQ(za_check(za, stderr), 0);
	za_drain_all_pages(za);
	CHECK_EQ(zinfo(za).free, BIG);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
}

#define SLOTS 48
static void pattern(void)
{
	/* high 4096: a budget of 2048 pages (8 MiB). */
	struct za *za = make(ZA_CFG_PCP_FIXED, 4096, 63);
	struct za_page *slot[SLOTS];
	unsigned ord[SLOTS];
	uint64_t s = 11;
	for (int i = 0; i < SLOTS; i++) {
		ord[i] = 4 + (unsigned)(tu_rand(&s) % 5);
		CHECK((slot[i] = za_alloc_pages(za, ZA_GFP_KERNEL, ord[i])) != NULL);
	}
	unsigned long long locks = ev(za, ZA_ZONE_LOCK);
	unsigned long long splits = ev(za, ZA_PCP_MID_SPLIT);
	long ops = tu_scale(20000);
	for (long i = 0; i < ops; i++) {
		unsigned k = (unsigned)(tu_rand(&s) % SLOTS);
		za_free_pages(za, slot[k], ord[k]);
		ord[k] = 4 + (unsigned)(tu_rand(&s) % 5);
		CHECK((slot[k] = za_alloc_pages(za, ZA_GFP_KERNEL, ord[k])) != NULL);
	}
	double per1k = 1000.0 * (double)(ev(za, ZA_ZONE_LOCK) - locks) /
	               (double)ops;
	printf("pattern: %ld ops on orders 4..8, %.1f zone locks per 1000, "
	       "%llu splits, %u pages on the lists\n",
	       ops, per1k, ev(za, ZA_PCP_MID_SPLIT) - splits, pinfo(za).count);
	CHECK(ev(za, ZA_PCP_MID_SPLIT) - splits >= (unsigned long long)ops / 100);
	CHECK(per1k < 350.0);
	CHECK_EQ(za_check(za, stderr), 0);
	for (int i = 0; i < SLOTS; i++)
		za_free_pages(za, slot[i], ord[i]);
	all_back(za);
}

/* --- the fast path of orders 4..9 (fastpath.c, "orders 4..9":
 * alloc_fast_mid), and the frees of those orders ------------------------ */

static struct za_zone *normal(struct za *za)
{
	return &za->nodes[0].zones[ZA_ZONE_NORMAL];
}

/* NUMA hits counted on the zone's shared counters: by the general path
 * only (the fast path counts on the owned set). */
static unsigned long long shared_hits(struct za *za)
{
	return za_load_relaxed(&normal(za)->events[ZA_NUMA_HIT]);
}

/* npairs pairs of buddies of order o, from nalloc blocks allocated (at
 * most 12): pair k in pr[2k] and pr[2k + 1], all in use; the other blocks
 * freed and the lists drained. */
static void buddy_pairs(struct za *za, unsigned o, int nalloc,
                        struct za_page **pr, int npairs)
{
	bu_buddy_pairs(za, o, nalloc, pr, npairs);
	za_drain_all_pages(za);
}

/* A block of order o (4..9) allocated with its buddy, then freed: kept on
 * CPU 0's list, since the buddy stays in use. *buddy gets the buddy. */
static struct za_page *kept_block(struct za *za, unsigned o,
                                  struct za_page **buddy)
{
	struct za_page *pr[2];
	buddy_pairs(za, o, 8, pr, 1);
	*buddy = pr[1];
	unsigned before = pinfo(za).count;
	za_free_pages(za, pr[0], o);
	CHECK_EQ(pinfo(za).count, before + (1u << o));
	return pr[0];
}

/* The common case takes the fast path and counts what the general path
 * counts: an allocation of each order 4..9 off a list with a block, and
 * its free back on (free_pages_slow), take no zone lock, hand out the
 * listed block, count pgalloc and pgfree in pages and one NUMA hit and
 * local each on the set (not on the zone's shared counters, as the
 * general path would), and move the allocated pages and the list's count
 * by the block. */
static void fast_common(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 4096, 16);
	for (unsigned o = 4; o <= 9; o++) {
		struct za_page *buddy;
		struct za_page *k = kept_block(za, o, &buddy);
		unsigned long long locks = ev(za, ZA_ZONE_LOCK);
		unsigned long long pga = ev(za, ZA_PGALLOC), pgf = ev(za, ZA_PGFREE);
		unsigned long long hit = ev(za, ZA_NUMA_HIT);
		unsigned long long loc = ev(za, ZA_NUMA_LOCAL);
		unsigned long long sh = shared_hits(za);
		long alloc0 = za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL,
		                                    ZA_NR_ZONE_ALLOCATED);
		long free0 = za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL,
		                                   ZA_NR_FREE_PAGES);
		unsigned count = pinfo(za).count;
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		CHECK(p == k);
		CHECK_EQ(ev(za, ZA_ZONE_LOCK), locks);
		CHECK_EQ(ev(za, ZA_PGALLOC), pga + (1ull << o));
		CHECK_EQ(ev(za, ZA_NUMA_HIT), hit + 1);
		CHECK_EQ(ev(za, ZA_NUMA_LOCAL), loc + 1);
		CHECK_EQ(shared_hits(za), sh); /* the fast path, not the general */
		CHECK_EQ(za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL,
		                               ZA_NR_ZONE_ALLOCATED),
		         alloc0 + (1l << o));
		CHECK_EQ(za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL,
		                               ZA_NR_FREE_PAGES),
		         free0);
		CHECK_EQ(pinfo(za).count, count - (1u << o));
		za_free_pages(za, p, o);
		CHECK_EQ(ev(za, ZA_ZONE_LOCK), locks);
		CHECK_EQ(ev(za, ZA_PGFREE), pgf + (1ull << o));
		CHECK_EQ(pinfo(za).count, count);
		CHECK_EQ(za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL,
		                               ZA_NR_ZONE_ALLOCATED),
		         alloc0);
		CHECK_EQ(za_check(za, stderr), 0);
		/* Zeroing on the way out: the block comes from the list. */
		p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_ZERO, o);
		CHECK(p == k);
		if (o < 9) {
			/* A block whose buddy is free on the buddy lists, freed
			 * onto an empty list, is kept even so (mid_merge has
			 * the other case). */
			za_free_pages(za, buddy, o); /* kept: k is in use */
			za_drain_all_pages(za);
			unsigned long merged = zinfo(za).nr_free[o + 1];
			za_free_pages(za, p, o);
			CHECK_EQ(pinfo(za).count, 1u << o);
			CHECK_EQ(zinfo(za).nr_free[o + 1], merged);
		} else {
			za_free_pages(za, p, o);
			za_free_pages(za, buddy, o);
		}
	}
	all_back(za);
}

/* Two pairs of buddies of order o, all four allocated, the lists empty. */
static void two_pairs(struct za *za, unsigned o, struct za_page *pr[4])
{
	buddy_pairs(za, o, 12, pr, 2);
	CHECK_EQ(pinfo(za).count, 0);
}

/* A freed block of orders 4..8 whose buddy is a free block on the buddy
 * lists goes there to merge when the CPU's list of its order has a block
 * already (pcp_mid_merges): a, with its buddy a2 free, while b waits on
 * the list. */
static void mid_merge(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 2048, 16);
	for (unsigned o = 4; o <= 8; o++) {
		struct za_page *pr[4];
		two_pairs(za, o, pr);
		struct za_page *a = pr[0], *a2 = pr[1], *b = pr[2], *b2 = pr[3];
		za_free_pages(za, a2, o);
		za_drain_all_pages(za);  /* a2 on the buddy lists */
		za_free_pages(za, b, o); /* kept: b2 is in use */
		CHECK_EQ(pinfo(za).count, 1u << o);
		unsigned long merged = zinfo(za).nr_free[o + 1];
		unsigned long long locks = ev(za, ZA_ZONE_LOCK);
		za_free_pages(za, a, o);
		RULE(pinfo(za).count == 1u << o && ev(za, ZA_ZONE_LOCK) > locks &&
		         (zinfo(za).nr_free[o + 1] > merged ||
		          zinfo(za).nr_free[o] == 0),
		     "a freed block of order 4..8 whose buddy is free merges on "
		     "the buddy lists when its per-CPU list has a block");
		za_free_pages(za, b2, o);
		CHECK_EQ(za_check(za, stderr), 0);
	}
	all_back(za);
}

/* A flush over high gives back the lists of orders 0..3, then the list
 * of the pageblock order, and the lists of orders 4..8 last: those are
 * refilled a block a zone-lock hold, a pageblock-order list many blocks
 * a hold. Fixed high 2048: two order-8 blocks kept (512 pages), then
 * three order-9 blocks freed; the third takes the set to high. */
static void flush_order(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 2048, 16);
	unsigned pb = za_pageblock_order(za);
	struct za_page *q[3], *pr[4];
	for (int i = 0; i < 3; i++)
		CHECK((q[i] = za_alloc_pages(za, ZA_GFP_KERNEL, pb)) != NULL);
	two_pairs(za, 8, pr); /* drains the lists */
	za_free_pages(za, pr[0], 8);
	za_free_pages(za, pr[2], 8);
	CHECK_EQ(pinfo(za).count, 512);
	za_free_pages(za, q[0], pb);
	za_free_pages(za, q[1], pb);
	CHECK_EQ(pinfo(za).count, 512 + (2u << pb));
	unsigned long long flushes = ev(za, ZA_PCP_FLUSH);
	za_free_pages(za, q[2], pb);
	CHECK_EQ(ev(za, ZA_PCP_FLUSH), flushes + 1);
	RULE(za_pcp_of(za, normal(za)->id, 0)->mid_pages == 512 &&
	         pinfo(za).count == 512 + (2u << pb),
	     "a flush over high gives back the pageblock-order list before "
	     "the lists of orders 4..8");
	za_free_pages(za, pr[1], 8);
	za_free_pages(za, pr[3], 8);
	CHECK_EQ(za_check(za, stderr), 0);
	all_back(za);
}

/* A loop of one allocation and one free of an order 4..8 takes the zone
 * lock for the first allocation only, though each freed block's buddy is
 * free on the buddy lists: the block freed onto its empty list stays
 * (else each turn would merge it and split it again, under the zone
 * lock twice). */
static void mid_loop(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 2048, 16);
	for (unsigned o = 4; o <= 8; o++) {
		za_drain_all_pages(za);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		CHECK(p != NULL);
		za_free_pages(za, p, o);
		unsigned long long locks = ev(za, ZA_ZONE_LOCK);
		unsigned long long busy = ev(za, ZA_PCP_TRYLOCK_FAIL);
		for (int i = 0; i < 100; i++) {
			p = za_alloc_pages(za, ZA_GFP_KERNEL, o);
			CHECK(p != NULL);
			za_free_pages(za, p, o);
		}
		/* An aborted sequence (restartable runs) may send one turn
		 * to the general path: pm_run repeats the check then. */
		if (pm_rseq && ev(za, ZA_PCP_TRYLOCK_FAIL) != busy &&
		    ev(za, ZA_ZONE_LOCK) != locks) {
			printf("mid_loop: a sequence was aborted; again\n");
			fflush(NULL);
			_exit(PM_RETRY);
		}
		RULE(ev(za, ZA_ZONE_LOCK) == locks,
		     "a loop of one allocation and one free of an order 4..8 "
		     "takes no zone lock after the first allocation");
		CHECK_EQ(za_check(za, stderr), 0);
	}
	all_back(za);
}

/* The same random run of frees and allocations of orders 4..9 on two
 * allocators, one with the fast path of orders 4..9 and one without
 * (ZA_NOFAST_MID: every allocation through the general path): the same
 * blocks
 * come out in the same order, and every event and statistic is the
 * same, but for calls that found their set busy (an aborted sequence,
 * restartable runs: pm_run repeats the check then). */
#define MSLOTS 40
static void mid_run(struct za *za, unsigned long *out, long ops)
{
	struct za_page *slot[MSLOTS];
	unsigned ord[MSLOTS];
	uint64_t s = 7;
	for (int i = 0; i < MSLOTS; i++) {
		ord[i] = 4 + (unsigned)(tu_rand(&s) % 6);
		CHECK((slot[i] = za_alloc_pages(za, ZA_GFP_KERNEL, ord[i])) != NULL);
	}
	for (long i = 0; i < ops; i++) {
		unsigned k = (unsigned)(tu_rand(&s) % MSLOTS);
		za_free_pages(za, slot[k], ord[k]);
		ord[k] = 4 + (unsigned)(tu_rand(&s) % 6);
		CHECK((slot[k] = za_alloc_pages(za, ZA_GFP_KERNEL, ord[k])) != NULL);
		out[i] = pfn(za, slot[k]);
	}
	for (int i = 0; i < MSLOTS; i++)
		za_free_pages(za, slot[i], ord[i]);
}

static void stats_match(void)
{
	long ops = tu_scale(6000);
	unsigned long *pf[2];
	unsigned long long e[2][ZA_NR_EVENTS];
	long st[2][ZA_NR_ZONE_STATS];
	unsigned long long sh[2];
	unsigned cnt[2];
	struct za *za[2];
	for (int slow = 0; slow < 2; slow++) {
		CHECK((pf[slow] = calloc((size_t)ops, sizeof(*pf[slow]))) != NULL);
		za[slow] = make(ZA_CFG_PCP_FIXED, 16384, 63);
		if (slow)
			za_store_relaxed(&za[slow]->nofast, (uint8_t)ZA_NOFAST_MID);
		unsigned long long sh0 = shared_hits(za[slow]);
		mid_run(za[slow], pf[slow], ops);
		sh[slow] = shared_hits(za[slow]) - sh0;
		for (int i = 0; i < ZA_NR_EVENTS; i++)
			e[slow][i] = ev(za[slow], (enum za_event)i);
		for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
			st[slow][i] = za_zone_stat_snapshot(za[slow], 0, ZA_ZONE_NORMAL,
			                                    (enum za_zone_stat)i);
		cnt[slow] = pinfo(za[slow]).count;
	}
	if (pm_rseq && (e[0][ZA_PCP_TRYLOCK_FAIL] || e[1][ZA_PCP_TRYLOCK_FAIL]) &&
	    memcmp(pf[0], pf[1], (size_t)ops * sizeof(*pf[0]))) {
		printf("stats_match: a sequence was aborted; again\n");
		fflush(NULL);
		_exit(PM_RETRY);
	}
	printf("stats_match: %ld ops, general-path NUMA hits %llu with the "
	       "fast path, %llu without\n",
	       ops, sh[0], sh[1]);
	/* The fast path took most allocations: the general path only
	 * refills and splits. */
	CHECK(sh[0] < sh[1] / 2);
	CHECK(sh[1] >= (unsigned long long)ops);
	for (long i = 0; i < ops; i++)
		CHECK_EQ(pf[0][i], pf[1][i]);
	for (int i = 0; i < ZA_NR_EVENTS; i++) {
		if (i == ZA_PCP_TRYLOCK_FAIL)
			continue;
		if (e[0][i] != e[1][i])
			fprintf(stderr,
			        "stats_match: %s %llu with the fast path, %llu "
			        "without\n",
			        za_event_name((enum za_event)i), e[0][i], e[1][i]);
		CHECK_EQ(e[0][i], e[1][i]);
	}
	for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
		CHECK_EQ(st[0][i], st[1][i]);
	CHECK_EQ(cnt[0], cnt[1]);
	for (int slow = 0; slow < 2; slow++) {
		free(pf[slow]);
		all_back(za[slow]);
	}
}

/* The watermark: between min and low, an allocation of order 4..9 whose
 * block sits on the CPU's list is first refused at low (watermark_fail,
 * as the general path counts it) and then served at min by the slow
 * path; below min, a request that may not reclaim gets nothing, though
 * the list has a block. */
static void fast_watermark(void)
{
	/* min 2048 pages, low 2560. */
	struct za *za = make_mfk(ZA_CFG_PCP_FIXED, 2048, 16, 8192);
	struct za_page *buddy;
	struct za_page *k = kept_block(za, 5, &buddy);
	struct za_zone_info zi = zinfo(za);
	CHECK(zi.low > zi.min + 256);
	/* Down to between min and low with order-0 blocks, taken in
	 * lists' worth at a time. */
	static struct za_page *fill[NPAGES];
	unsigned long n = 0;
	while (zinfo(za).free > (zi.min + zi.low) / 2) {
		CHECK(n < NPAGES);
		CHECK((fill[n] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
		n++;
	}
	CHECK(zinfo(za).free > zi.min + 64);
	CHECK_EQ(pinfo(za).count >= 32, 1); /* the order-5 block */
	unsigned long long fails = ev(za, ZA_WMARK_FAIL);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK(p == k);
	CHECK(ev(za, ZA_WMARK_FAIL) > fails);
	za_free_pages(za, p, 5);
	CHECK(pinfo(za).count >= 32);
	/* Below min: no block for a request that may not reclaim. */
	while (zinfo(za).free > zi.min / 2) {
		CHECK(n < NPAGES);
		struct za_page *q = za_alloc_pages(za, ZA_GFP_ATOMIC, 0);
		if (!q)
			break;
		fill[n++] = q;
	}
	CHECK(zinfo(za).free <= zi.min);
	unsigned count = pinfo(za).count;
	fails = ev(za, ZA_WMARK_FAIL);
	CHECK(za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 5) == NULL);
	CHECK(ev(za, ZA_WMARK_FAIL) > fails);
	CHECK(pinfo(za).count == count); /* the block stays on the list */
	CHECK_EQ(za_check(za, stderr), 0);
	for (unsigned long i = 0; i < n; i++)
		za_free_pages(za, fill[i], 0);
	za_free_pages(za, buddy, 5);
	all_back(za);
}

/* The buddy lists hold no free block of order 5 or more (the zone's free
 * memory is all order-4 blocks), far above the watermarks, and the CPU's
 * list holds an order-5 block: the general path refuses the order
 * (zone_watermark_ok's test for a block of the order), and so does the
 * fast path: a request that may not reclaim gets nothing. */
static void fast_no_block(void)
{
	/* Low watermarks (min 32 pages): an allocation that fails for them
	 * leaves under 24 pages free, no block of order 5. */
	struct za *za = make_mfk(ZA_CFG_PCP_FIXED, 2048, 16, 128);
	enum { NB = NPAGES / 16 };
	static struct za_page *b[NB];
	static unsigned long bp[NB];
	unsigned long n = 0;
	while (n < NB && (b[n] = za_alloc_pages(za, ZA_GFP_ATOMIC, 4)) != NULL) {
		bp[n] = pfn(za, b[n]);
		n++;
	}
	CHECK(n > NB / 2);
	za_drain_all_pages(za);
	/* Free the blocks at odd multiples of 16 pages: none can merge. */
	for (unsigned long i = 0; i < n; i++)
		if ((bp[i] >> 4) & 1) {
			za_free_pages(za, b[i], 4);
			b[i] = NULL;
		}
	za_drain_all_pages(za);
	/* One order-5 block: an even block and its (free) odd buddy merge;
	 * the pair's own buddy is in use. */
	unsigned long e = 0;
	while (e < n && !(b[e] && !((bp[e] >> 4) & 1)))
		e++;
	CHECK(e < n);
	za_free_pages(za, b[e], 4);
	b[e] = NULL;
	za_drain_all_pages(za);
	CHECK_EQ(zinfo(za).nr_free[5], 1);
	struct za_page *k = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK(k != NULL);
	CHECK_EQ(zinfo(za).nr_free[5], 0);
	za_free_pages(za, k, 5);
	CHECK_EQ(pinfo(za).count, 32); /* kept: its buddy is in use */
	struct za_zone_info zi = zinfo(za);
	for (unsigned o = 5; o <= 10; o++)
		CHECK_EQ(zi.nr_free[o], 0);
	CHECK(zi.free > zi.high + 1024);
	unsigned long long fails = ev(za, ZA_WMARK_FAIL);
	CHECK(za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 5) == NULL);
	CHECK(ev(za, ZA_WMARK_FAIL) > fails);
	CHECK_EQ(pinfo(za).count, 32);
	/* Order 4 still comes from the buddy lists' blocks of that order. */
	struct za_page *q = za_alloc_pages(za, ZA_GFP_NOWAIT, 4);
	CHECK(q != NULL);
	za_free_pages(za, q, 4);
	CHECK_EQ(za_check(za, stderr), 0);
	for (unsigned long i = 0; i < n; i++)
		if (b[i])
			za_free_pages(za, b[i], 4);
	all_back(za);
}

/* A switched-off set takes nothing: CPU 1 offline, blocks of orders 4..9
 * allocated and freed on it go through the buddy lists. */
static void mid_offline(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 4096, 16);
	CHECK_EQ(za_cpu_offline(za, 1), 0);
	pm_set_cpu(&cur_cpu, 1);
	for (unsigned o = 4; o <= 9; o++) {
		struct za_page *a = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		struct za_page *b = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		CHECK(a && b);
		za_free_pages(za, a, o);
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, 1, 0, ZA_ZONE_NORMAL, &pi), 0);
		CHECK_EQ(pi.count, 0);
		za_free_pages(za, b, o);
	}
	pm_set_cpu(&cur_cpu, 0);
	CHECK_EQ(za_cpu_online(za, 1), 0);
	all_back(za);
}

/* A second free of a block of order 4..9 is reported and changes
 * nothing: the block is handed out once. */
static int misuse_reports;
static void count_misuse(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	(void)msg;
	misuse_reports++;
}

static void mid_double_free(void)
{
	struct za *za = make(ZA_CFG_PCP_FIXED, 4096, 16);
	za_set_error_handler(za, count_misuse, NULL);
	for (unsigned o = 4; o <= 9; o++) {
		struct za_page *buddy;
		struct za_page *k = kept_block(za, o, &buddy);
		unsigned count = pinfo(za).count;
		int reports = misuse_reports;
		za_free_pages(za, k, o); /* again */
		CHECK_EQ(misuse_reports, reports + 1);
		CHECK_EQ(pinfo(za).count, count);
		CHECK_EQ(za_check(za, stderr), 0);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		struct za_page *q = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		CHECK(p == k);
		CHECK(q != k);
		za_free_pages(za, q, o);
		za_free_pages(za, p, o);
		za_free_pages(za, buddy, o);
		/* A pointer that is no block's metadata: reported. */
		reports = misuse_reports;
		za_free_pages(za, (struct za_page *)((char *)k + 1), o);
		CHECK_EQ(misuse_reports, reports + 1);
	}
	all_back(za);
}

int main(int argc, char **argv)
{
	pm_init(argc, argv, "core_pcp_mid", 2);
	tu_watchdog(60);
	if (pm_rseq) {
		pm_run("split", split);
		pm_run("best_fit", best_fit);
		pm_run("spare", spare);
		pm_run("budget", budget);
		pm_run("sizing", sizing);
		pm_run("pattern", pattern);
		pm_run("resize", resize);
		pm_run("fast_common", fast_common);
		pm_run("mid_merge", mid_merge);
		pm_run("mid_loop", mid_loop);
		pm_run("flush_order", flush_order);
		pm_run("stats_match", stats_match);
		pm_run("fast_watermark", fast_watermark);
		pm_run("fast_no_block", fast_no_block);
		pm_run("mid_offline", mid_offline);
		pm_run("mid_double_free", mid_double_free);
		printf("core_pcp_mid: ok\n");
		return 0;
	}
	split();
	best_fit();
	spare();
	budget();
	sizing();
	pattern();
	resize();
	fast_common();
	mid_merge();
	mid_loop();
	flush_order();
	stats_match();
	fast_watermark();
	fast_no_block();
	mid_offline();
	mid_double_free();
	printf("core_pcp_mid: ok\n");
	return 0;
}
