/*
 * test_core_buddy.c - buddy split and merge.
 *
 * Checks that:
 *  - exhausting one zone with order-0 ZA_GFP_KERNEL allocations ends in NULL
 *    (errno ENOMEM) only once the zone's free pages are down at the min
 *    watermark, and never far below it;
 *  - after freeing everything and draining the per-CPU lists every free
 *    page sits in a max-order block (nr_free[max_order] << max_order ==
 *    managed, every other order empty);
 *  - random mixed orders, allocated and freed in random order, merge back
 *    completely;
 *  - every block handed out is aligned to its order, lies in the zone, and
 *    overlaps no other live block (tracked with a page bitmap);
 *  - conservation (free + pcp + allocated == managed) and za_check() at
 *    quiescent points;
 *  - anti-fragmentation: in a fresh zone (all pageblocks movable),
 *    interleaved unmovable and movable allocations fall back once, claim
 *    whole pageblocks for the unmovable ones, and never share a pageblock;
 *    a pageblock exactly half free is claimed.
 * Runs with the default geometry (max_order 10) and a small one (max_order
 * 4, pageblock_order 3).
 */
#include "testutil.h"

#include <errno.h>
#include <string.h>
#include <zonealloc.h>

#define NBLK 4UL
#define BLK 1024UL
#define START (1UL << 20) /* a NORMAL zone above 4 GiB, as on x86-64 */
#define NPAGES (NBLK * BLK)

struct blk {
	struct za_page *p;
	unsigned long pfn;
	unsigned order;
};

static unsigned char used[NPAGES]; /* 1 while the page is handed out */
static struct blk live[NPAGES];
static unsigned long nlive, live_pages;
static uint64_t seed = 0x5eed1234abcdull;
static int below_min_by_refill; /* exhaustions that went too far below min */

static int cpu0(void *ctx)
{
	(void)ctx;
	return 0;
}

static struct za *make(unsigned max_order, unsigned pb_order)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 1;
	cfg.cpu_id = cpu0;
	cfg.max_order = max_order;
	cfg.pageblock_order = pb_order;
	cfg.block_pages = BLK;
	cfg.max_pfn = START + NPAGES + BLK;
	cfg.min_free_kbytes = 512; /* 128 pages of 4 KiB */
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_max_order(za), max_order ? max_order : 10);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	return za;
}

static void take(struct za *za, struct za_page *p, unsigned order)
{
	unsigned long pfn = za_page_to_pfn(za, p);
	unsigned long n = 1UL << order;
	CHECK(pfn >= START && pfn + n <= START + NPAGES);
	if (pfn % n != 0) {
		fprintf(stderr, "pfn %#lx not aligned to order %u\n", pfn, order);
		CHECK(pfn % n == 0);
	}
	CHECK(za_pfn_to_page(za, pfn) == p);
	CHECK_EQ(za_page_zone(za, p), ZA_ZONE_NORMAL);
	CHECK_EQ(za_page_nid(za, p), 0);
	CHECK(za_page_address(za, p) == NULL); /* frame-only memory */
	for (unsigned long i = 0; i < n; i++) {
		if (used[pfn - START + i]) {
			fprintf(stderr,
			        "block pfn %#lx order %u overlaps a live "
			        "block at pfn %#lx\n",
			        pfn, order, pfn + i);
			CHECK(!used[pfn - START + i]);
		}
		used[pfn - START + i] = 1;
	}
	live[nlive].p = p;
	live[nlive].pfn = pfn;
	live[nlive].order = order;
	nlive++;
	live_pages += n;
}

static void give_back(struct za *za, unsigned long idx)
{
	struct blk b = live[idx];
	unsigned long n = 1UL << b.order;
	for (unsigned long i = 0; i < n; i++) {
		CHECK(used[b.pfn - START + i]);
		used[b.pfn - START + i] = 0;
	}
	live[idx] = live[--nlive];
	live_pages -= n;
	za_free_pages(za, b.p, b.order);
}

static void free_all_random(struct za *za)
{
	while (nlive)
		give_back(za, tu_rand(&seed) % nlive);
	CHECK_EQ(live_pages, 0);
}

static void check_conservation(struct za *za)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, NPAGES);
	CHECK_EQ(zi.free + zi.pcp_pages + live_pages, zi.managed);
	CHECK_EQ(za_check(za, stderr), 0);
}

static void check_fully_merged(struct za *za)
{
	struct za_zone_info zi;
	unsigned mo = za_max_order(za);
	za_drain_all_pages(za);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.pcp_pages, 0);
	CHECK_EQ(zi.free, zi.managed);
	for (unsigned o = 0; o < mo; o++) {
		if (zi.nr_free[o] != 0)
			fprintf(stderr, "order %u still has %lu free blocks\n", o,
			        zi.nr_free[o]);
		CHECK_EQ(zi.nr_free[o], 0);
	}
	CHECK_EQ(zi.nr_free[mo] << mo, zi.managed);
	for (unsigned o = mo + 1; o <= ZA_MAX_ORDER_LIMIT; o++)
		CHECK_EQ(zi.nr_free[o], 0);
	CHECK_EQ(za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES),
	         (long)zi.managed);
	CHECK_EQ(za_check(za, stderr), 0);
}

/* Order-0 exhaustion: fails only at the min watermark. */
static void exhaust_order0(struct za *za)
{
	struct za_zone_info zi;
	struct za_pcp_info pi;
	unsigned long lowest = ~0UL;

	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK(zi.min > 0 && zi.min < zi.low && zi.low < zi.high);
	CHECK(zi.high < zi.managed);
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	unsigned batch = pi.batch;

	for (;;) {
		errno = 0;
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		if (!p) {
			CHECK_EQ(errno, ENOMEM);
			break;
		}
		take(za, p, 0);
		CHECK(nlive <= NPAGES);
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
		if (zi.free < lowest)
			lowest = zi.free;
	}
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	/* Failing while the zone has more than min free is a failure the
	 * watermark rules do not allow - give or take the per-CPU counter
	 * drift the check may not sum (it need not where the drift is
	 * smaller than the gap between low and min). */
	unsigned long drift = za_nr_cpus(za) * zi.stat_threshold;
	if (zi.free > zi.min + drift) {
		fprintf(stderr,
		        "order-0 KERNEL failed with %lu free, min %lu "
		        "(global counter %ld, pcp %lu, threshold %u)\n",
		        zi.free, zi.min,
		        za_zone_stat(za, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES),
		        zi.pcp_pages, zi.stat_threshold);
		za_report(za, ZA_REPORT_PAGETYPEINFO, stderr);
	}
	CHECK(zi.free <= zi.min + drift);
	/* A per-CPU refill may take at most one batch below the check (the
	 * kernel does not grow refills while a zone is below its high mark).
	 * Checked at the end, so that the rest runs first. */
	if (lowest + batch + drift < zi.min) {
		fprintf(stderr, "free went to %lu, min %lu, batch %u\n", lowest,
		        zi.min, batch);
		below_min_by_refill++;
	}
	/* Almost everything was handed out. */
	CHECK(live_pages + zi.pcp_pages + zi.min + batch + drift >= zi.managed);
	/* An order-0 NOWAIT request cannot succeed either now. */
	errno = 0;
	struct za_page *p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
	if (p)
		take(za, p, 0);
	else
		CHECK_EQ(errno, ENOMEM);
	check_conservation(za);
	free_all_random(za);
	check_fully_merged(za);
}

/* Random mixed orders with random frees, then everything merges back. */
static void random_orders(struct za *za, long ops)
{
	unsigned mo = za_max_order(za);
	unsigned long fails = 0, allocs = 0;
	for (long i = 0; i < ops; i++) {
		uint64_t r = tu_rand(&seed);
		if (nlive == 0 || r % 8 < 5) {
			unsigned order;
			if (r % 16 == 0)
				order = (unsigned)((r >> 8) % (mo + 1));
			else
				order = (unsigned)((r >> 8) % (mo < 4 ? mo + 1 : 4));
			errno = 0;
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, order);
			if (!p) {
				CHECK_EQ(errno, ENOMEM);
				fails++;
				continue;
			}
			allocs++;
			take(za, p, order);
		} else {
			give_back(za, (r >> 8) % nlive);
		}
		if (i % 997 == 0)
			check_conservation(za);
	}
	CHECK(allocs > 0);
	check_conservation(za);
	free_all_random(za);
	check_fully_merged(za);

	/* One of every order, up to max, then free in reverse/shuffled. */
	for (unsigned o = 0; o <= mo; o++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, o);
		CHECK(p != NULL);
		take(za, p, o);
	}
	check_conservation(za);
	free_all_random(za);
	check_fully_merged(za);
	(void)fails;
}

/* Fill with max-order blocks: they cannot overlap and all are aligned. */
static void max_order_blocks(struct za *za)
{
	unsigned mo = za_max_order(za);
	unsigned long got = 0;
	for (;;) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, mo);
		if (!p)
			break;
		take(za, p, mo);
		got++;
	}
	/* The watermark keeps at most a couple of max-order blocks back. */
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK(got >= 1);
	CHECK(zi.free < (zi.min + (2UL << mo)));
	check_conservation(za);
	free_all_random(za);
	check_fully_merged(za);
}

/* Fresh zone: unmovable requests steal pageblocks, never share them. */
static void no_mixing(struct za *za)
{
	unsigned pbo = za_pageblock_order(za);
	unsigned long npb = NPAGES >> pbo;
	static unsigned char kind[NPAGES >> 3]; /* per pageblock: 1 unmov, 2 mov */
	CHECK(npb <= sizeof(kind));
	memset(kind, 0, sizeof(kind));
	unsigned long long fb0 = za_event_count(za, ZA_FALLBACK);
	unsigned long long st0 = za_event_count(za, ZA_STEAL_PAGEBLOCK);
	const unsigned N = 600;
	for (unsigned i = 0; i < 2 * N; i++) {
		int mov = i % 2;
		struct za_page *p =
		    za_alloc_pages(za, mov ? ZA_GFP_MOVABLE : ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		take(za, p, 0);
		kind[(live[nlive - 1].pfn - START) >> pbo] |= (unsigned char)(mov ? 2
		                                                                  : 1);
	}
	unsigned long mixed = 0, unmov = 0;
	for (unsigned long b = 0; b < npb; b++) {
		mixed += kind[b] == 3;
		unmov += (kind[b] & 1) != 0;
	}
	printf("pageblock order %u: %lu pageblocks hold unmovable pages, %lu "
	       "mixed; fallbacks %llu, steals %llu\n",
	       pbo, unmov, mixed, za_event_count(za, ZA_FALLBACK) - fb0,
	       za_event_count(za, ZA_STEAL_PAGEBLOCK) - st0);
	CHECK_EQ(mixed, 0);
	/* 600 unmovable pages need ceil(600 / pageblock) pageblocks, and a
	 * max-order steal may take a few more at once */
	unsigned long need = (N + (1UL << pbo) - 1) >> pbo;
	unsigned long per_steal = za_max_order(za) > pbo
	                              ? 1UL << (za_max_order(za) - pbo)
	                              : 1;
	CHECK(unmov >= need && unmov <= need + per_steal);
	CHECK(za_event_count(za, ZA_FALLBACK) > fb0);
	CHECK(za_event_count(za, ZA_STEAL_PAGEBLOCK) > st0);
	check_conservation(za);
	free_all_random(za);
	check_fully_merged(za);
}

static void run(unsigned max_order, unsigned pb_order)
{
	memset(used, 0, sizeof(used));
	nlive = live_pages = 0;
	struct za *za = make(max_order, pb_order);
	check_fully_merged(za);
	no_mixing(za);
	exhaust_order0(za);
	random_orders(za, tu_scale(60000));
	max_order_blocks(za);
	exhaust_order0(za);
	za_destroy(za);
}

/* A pageblock exactly half free is claimed by the unmovable request that
 * falls back into it (the kernel: free + alike >= half the pageblock). The
 * zone full of movable pages but the first half of its first pageblock,
 * merged into one block; the marks at 0, so that the zone can be filled. */
static void claim_at_half(void)
{
	struct za *za = make(0, 0);
	CHECK_EQ(za_sysctl_set(za, "min_free_kbytes", "0"), 0);
	CHECK_EQ(za_sysctl_set(za, "watermark_scale_factor", "1"), 0);
	unsigned long pb = 1UL << za_pageblock_order(za);
	static struct za_page *pages[NPAGES];
	unsigned long n = 0;
	struct za_page *p;
	while (n < NPAGES && (p = za_alloc_pages(za, ZA_GFP_MOVABLE, 0)))
		pages[n++] = p;
	CHECK_EQ(n, NPAGES);
	unsigned long left = 0;
	for (unsigned long i = 0; i < n; i++) {
		unsigned long pfn = za_page_to_pfn(za, pages[i]);
		if (pfn >= START && pfn < START + pb / 2)
			za_free_pages(za, pages[i], 0);
		else
			pages[left++] = pages[i];
	}
	CHECK_EQ(left, NPAGES - pb / 2);
	za_drain_all_pages(za);
	unsigned long long st0 = za_event_count(za, ZA_STEAL_PAGEBLOCK);
	p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	unsigned long pfn = za_page_to_pfn(za, p);
	CHECK(pfn >= START && pfn < START + pb / 2);
	printf("claim at half: unmovable page at pfn %#lx, steals %llu\n", pfn,
	       za_event_count(za, ZA_STEAL_PAGEBLOCK) - st0);
	CHECK_EQ(za_event_count(za, ZA_STEAL_PAGEBLOCK), st0 + 1);
	za_free_pages(za, p, 0);
	for (unsigned long i = 0; i < left; i++)
		za_free_pages(za, pages[i], 0);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

int main(void)
{
	tu_watchdog(120);
	run(0, 0); /* defaults: max_order 10, pageblock_order 9 */
	run(4, 3);
	claim_at_half();
	CHECK_EQ(below_min_by_refill, 0);
	printf("core_buddy: ok\n");
	return 0;
}
