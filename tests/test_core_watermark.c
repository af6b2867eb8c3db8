/*
 * test_core_watermark.c - watermarks per gfp, lowmem reserve, bad requests.
 *
 * With per-CPU lists off (so the buddy counter is exact), draining one
 * zone checks that:
 *  - watermarks are sane (0 < min < low < high < managed) and come from
 *    min_free_kbytes split across the zones by size;
 *  - ZA_GFP_KERNEL and ZA_GFP_NOWAIT order-0 allocations never take the
 *    zone below min and fail (ENOMEM) right at min;
 *  - __GFP_HIGH alone goes below min, ZA_GFP_ATOMIC deeper, and both stop
 *    at the floor watermark.c documents (the kernel's: min/2 for HIGH,
 *    3/8 of min for ATOMIC), above zero;
 *  - higher orders obey the same rule (free - 2^order + 1 > mark);
 *  - NOFAIL succeeds while memory is there;
 *  - a DMA32 zone under a NORMAL zone keeps lowmem_reserve[NORMAL] back
 *    from KERNEL requests falling back into it, but not from DMA32 ones;
 *  - an order above max_order and unknown gfp bits give NULL with EINVAL;
 *  - with per-CPU lists on, a CPU whose list is full still sees its zone
 *    fall below low (the fast paths' kept check follows the free count);
 *    with --rseq (ctest: core_watermark_rseq) this check, where the
 *    restartable fast path makes it, and the next, on real CPUs with the
 *    page sets restartable (tests/pcp_mode.h);
 *  - a per-CPU refill, single or bulk, never takes the zone below the
 *    floor of the request that made it, the high-order atomic reserve
 *    left out of the count of a request that may not use it (both modes);
 *  - an atomic request's per-CPU refill takes its own block from the
 *    high-order atomic reserve, never a batch (both modes).
 */
#include "pcp_mode.h"
#include "testutil.h"

#include <errno.h>
#include <string.h>
#include <zonealloc.h>

#include "internal.h" /* nr_reserved_highatomic */

#define BLK 1024UL
#define D32_START 0x10000UL
#define NORM_START 0x100000UL
#define MAXP 65536

static int cpu0(void *ctx)
{
	(void)ctx;
	return 0;
}

static struct za_page *held[MAXP];
static unsigned held_order[MAXP];
static unsigned nheld;

static struct za_zone_info zinfo(struct za *za, int zone)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)zone, &zi), 0);
	return zi;
}

static void hold(struct za_page *p, unsigned order)
{
	CHECK(nheld < MAXP);
	held[nheld] = p;
	held_order[nheld++] = order;
}

static void release(struct za *za)
{
	while (nheld) {
		nheld--;
		za_free_pages(za, held[nheld], held_order[nheld]);
	}
}

static struct za *make(unsigned long normal_blocks, unsigned long d32_blocks,
                       unsigned long min_kb)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 1;
	cfg.cpu_id = cpu0;
	cfg.block_pages = BLK;
	cfg.max_pfn = NORM_START + 64 * BLK;
	cfg.min_free_kbytes = min_kb;
	cfg.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	if (d32_blocks)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, D32_START,
		                          d32_blocks * BLK, NULL),
		         0);
	if (normal_blocks)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, NORM_START,
		                          normal_blocks * BLK, NULL),
		         0);
	return za;
}

/*
 * Allocate with gfp/order from zone until NULL; check each success left
 * free >= floor_min and return the free count at the NULL.
 */
static unsigned long drain(struct za *za, int zone, za_gfp_t gfp,
                           unsigned order, unsigned long floor_min,
                           const char *what)
{
	unsigned long n = 0;
	for (;;) {
		struct za_zone_info before = zinfo(za, zone);
		errno = 0;
		struct za_page *p = za_alloc_pages(za, gfp, order);
		if (!p) {
			CHECK_EQ(errno, ENOMEM);
			break;
		}
		hold(p, order);
		n++;
		CHECK_EQ(za_page_zone(za, p), zone);
		struct za_zone_info after = zinfo(za, zone);
		CHECK_EQ(after.free, before.free - (1UL << order));
		if (after.free < floor_min) {
			fprintf(stderr, "%s: free %lu below the floor %lu (min %lu)\n",
			        what, after.free, floor_min, after.min);
			CHECK(after.free >= floor_min);
		}
	}
	unsigned long f = zinfo(za, zone).free;
	printf("%s: %lu allocations, stopped at %lu free\n", what, n, f);
	return f;
}

static void per_gfp(void)
{
	/* one zone of 32 MiB, min_free_kbytes 2048 -> min 512 pages */
	struct za *za = make(8, 0, 2048);
	struct za_zone_info zi = zinfo(za, ZA_ZONE_NORMAL);
	printf("min %lu low %lu high %lu managed %lu\n", zi.min, zi.low, zi.high,
	       zi.managed);
	CHECK_EQ(zi.managed, 8 * BLK);
	CHECK(zi.min > 0 && zi.min < zi.low && zi.low < zi.high &&
	      zi.high < zi.managed);
	/* the only lowmem zone gets all of min_free_kbytes */
	CHECK_EQ(zi.min, 2048 / 4);
	unsigned long min = zi.min;

	/* NOFAIL with memory available simply succeeds */
	struct za_page *nf = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOFAIL, 0);
	CHECK(nf != NULL);
	hold(nf, 0);

	/* KERNEL: down to min, never below */
	unsigned long f = drain(za, ZA_ZONE_NORMAL, ZA_GFP_KERNEL, 0, min,
	                        "KERNEL");
	CHECK(f >= min && f <= min + 1);
	/* NOWAIT: nothing more */
	CHECK_EQ(drain(za, ZA_ZONE_NORMAL, ZA_GFP_NOWAIT, 0, min, "NOWAIT"), f);
	/* order 3 under the same rule cannot succeed either */
	CHECK_EQ(drain(za, ZA_ZONE_NORMAL, ZA_GFP_KERNEL, 3, min, "KERNEL o3"), f);
	/* KERNEL|NORETRY: no */
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK(za_event_count(za, ZA_PGALLOC_FAIL) >= 1);
	CHECK(za_event_count(za, ZA_WMARK_FAIL) >= 1);

	/* __GFP_HIGH: into the reserve, not all of it */
	unsigned long fh = drain(za, ZA_ZONE_NORMAL, ZA___GFP_HIGH, 0, 1, "HIGH");
	CHECK(fh < min);
	CHECK(fh >= min / 4);
	/* ATOMIC: deeper still, keeps a floor */
	unsigned long fa = drain(za, ZA_ZONE_NORMAL, ZA_GFP_ATOMIC, 0, 1,
	                         "ATOMIC");
	CHECK(fa <= fh);
	CHECK(fa > 0);
	CHECK(fa >= min / 4);
	/* the documented floors (watermark.c, as the kernel's
	 * __zone_watermark_ok): __GFP_HIGH halves min, atomic takes a further
	 * quarter off that */
	unsigned long high_floor = min - min / 2;
	unsigned long atomic_floor = high_floor - high_floor / 4;
	CHECK(fh >= high_floor && fh <= high_floor + 1);
	CHECK(fa >= atomic_floor && fa <= atomic_floor + 1);
	/* KERNEL still fails; ATOMIC no more */
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK(za_alloc_pages(za, ZA_GFP_ATOMIC | ZA_GFP_NOWARN, 0) == NULL);

	/* give back and go again with order 2 */
	release(za);
	CHECK_EQ(zinfo(za, ZA_ZONE_NORMAL).free, 8 * BLK);
	f = drain(za, ZA_ZONE_NORMAL, ZA_GFP_KERNEL, 2, min, "KERNEL o2");
	/* an order-2 request needs free - 4 + 1 > min */
	CHECK(f >= min && f <= min + 3);
	release(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void lowmem_reserve(void)
{
	/* DMA32 8 MiB under NORMAL 64 MiB */
	struct za *za = make(16, 2, 1024);
	struct za_zone_info d = zinfo(za, ZA_ZONE_DMA32);
	struct za_zone_info n = zinfo(za, ZA_ZONE_NORMAL);
	printf("DMA32 min %lu low %lu protection (%lu, %lu, %lu, %lu)\n", d.min,
	       d.low, d.lowmem_reserve[0], d.lowmem_reserve[1],
	       d.lowmem_reserve[2], d.lowmem_reserve[3]);
	printf("Normal min %lu low %lu protection (%lu, %lu, %lu, %lu)\n", n.min,
	       n.low, n.lowmem_reserve[0], n.lowmem_reserve[1],
	       n.lowmem_reserve[2], n.lowmem_reserve[3]);
	/* min_free_kbytes is split by size: 1/9 and 8/9 of 256 pages */
	CHECK(d.min + n.min >= 256 - 2 && d.min + n.min <= 256);
	CHECK(d.min < n.min);
	/* DMA32 protects itself against NORMAL requests, not DMA32 ones */
	CHECK_EQ(d.lowmem_reserve[ZA_ZONE_DMA32], 0);
	CHECK(d.lowmem_reserve[ZA_ZONE_NORMAL] > 0);
	CHECK_EQ(n.lowmem_reserve[ZA_ZONE_NORMAL], 0);
	unsigned long R = d.lowmem_reserve[ZA_ZONE_NORMAL];
	/* the kernel's ratio for DMA32 is 256 */
	if (R != n.managed / 256)
		printf("note: DMA32 reserve %lu, kernel ratio gives %lu\n", R,
		       n.managed / 256);

	/* KERNEL: NORMAL first, then DMA32 down to min + R */
	unsigned long got_d32 = 0;
	for (;;) {
		struct za_zone_info bd = zinfo(za, ZA_ZONE_DMA32);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		if (!p)
			break;
		hold(p, 0);
		if (za_page_zone(za, p) == ZA_ZONE_DMA32) {
			got_d32++;
			CHECK(bd.free > bd.min + R);
			/* NORMAL was below its low mark by then */
			struct za_zone_info bn = zinfo(za, ZA_ZONE_NORMAL);
			CHECK(bn.free <= bn.low);
		} else {
			CHECK_EQ(za_page_zone(za, p), ZA_ZONE_NORMAL);
		}
	}
	d = zinfo(za, ZA_ZONE_DMA32);
	CHECK(got_d32 > 0);
	CHECK(d.free >= d.min + R && d.free <= d.min + R + 1);
	CHECK(zinfo(za, ZA_ZONE_NORMAL).free <= n.min);

	/* DMA32 requests may use what the reserve kept back, down to min */
	unsigned long f = drain(za, ZA_ZONE_DMA32, ZA_GFP_KERNEL | ZA_GFP_DMA32, 0,
	                        d.min, "DMA32 below the reserve");
	CHECK(f >= d.min && f <= d.min + 1);
	release(za);

	/* and with NORMAL full, DMA32 requests still come from DMA32 only */
	f = drain(za, ZA_ZONE_DMA32, ZA_GFP_KERNEL | ZA_GFP_DMA32, 0, d.min,
	          "DMA32 fresh");
	CHECK(f >= d.min && f <= d.min + 1);
	CHECK_EQ(zinfo(za, ZA_ZONE_NORMAL).free, 16 * BLK);
	release(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void bad_requests(void)
{
	struct za *za = make(2, 0, 256);
	unsigned mo = za_max_order(za);
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL, mo + 1) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL, 1000) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_pages_node(za, 0, ZA_GFP_KERNEL, mo + 1) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | 0x4000u, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | 0x80000000u, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_pages_node(za, 0, ~0u, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* DMA and DMA32 together name no zone (the kernel's GFP_ZONE_BAD) */
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_DMA | ZA_GFP_DMA32, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* nothing was taken */
	CHECK_EQ(zinfo(za, ZA_ZONE_NORMAL).free, 2 * BLK);
	/* max_order itself is fine */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, mo);
	CHECK(p != NULL);
	za_free_pages(za, p, mo);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static int cur_cpu;
static int cpu_cur(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

/* Two CPUs with per-CPU lists in the run's mode (tests/pcp_mode.h), high
 * 256 and batch 32 fixed, and one zone of 4 blocks with min 256. */
static struct za *make_pcp(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, 2, cpu_cur);
	cfg.block_pages = BLK;
	cfg.max_pfn = NORM_START + 64 * BLK;
	cfg.min_free_kbytes = 1024;
	cfg.pcp_high = 256;
	cfg.pcp_batch = 32;
	cfg.flags = ZA_CFG_PCP_FIXED | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	pm_check_mode(za, "core_watermark");
	pm_watch(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, NORM_START, 4 * BLK,
	                          NULL),
	         0);
	return za;
}

/* The fast paths check the zone against low before they take from a
 * per-CPU list (their check is kept when its inputs change, not made on
 * every call: za_zone.fast_ok). CPU 0's list is full when CPU 1 takes the
 * zone below low: CPU 0's next allocation must see the zone below low
 * (a watermark failure, then the slow path), its full list or not. */
static void fast_path_below_low(void)
{
	struct za *za = make_pcp();
	pm_set_cpu(&cur_cpu, 0);
	for (int i = 0; i < 200; i++)
		hold(za_alloc_pages(za, ZA_GFP_KERNEL, 0), 0);
	release(za);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	CHECK(pi.count >= 100);
	pm_set_cpu(&cur_cpu, 1);
	for (struct za_zone_info zi = zinfo(za, ZA_ZONE_NORMAL); zi.free >= zi.low;
	     zi = zinfo(za, ZA_ZONE_NORMAL)) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		hold(p, 0);
	}
	struct za_zone_info zi = zinfo(za, ZA_ZONE_NORMAL);
	CHECK(zi.free < zi.low && zi.free > zi.min);
	pm_set_cpu(&cur_cpu, 0);
	unsigned long long fails = za_event_count(za, ZA_WMARK_FAIL);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	hold(p, 0);
	if (za_event_count(za, ZA_WMARK_FAIL) == fails) {
		fprintf(stderr,
		        "rule broken: an allocation with the zone below low "
		        "(free %lu, low %lu) took a page from its CPU's list without "
		        "seeing the low watermark\n",
		        zi.free, zi.low);
		exit(1);
	}
	release(za);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
	printf("fast path below low: ok\n");
}

/* Drain every CPU's lists and fold the counters: the free count is then
 * the buddy lists' exactly, for the snapshot and the global value alike. */
static void settle(struct za *za)
{
	za_drain_all_pages(za);
	za_vmstat_fold(za);
}

/* Free the last n pages held (all of order 0 here) and settle. */
static void give_back(struct za *za, unsigned long n)
{
	CHECK(n <= nheld);
	while (n--) {
		nheld--;
		CHECK_EQ(held_order[nheld], 0);
		za_free_pages(za, held[nheld], 0);
	}
	settle(za);
}

/* Give pages back until a request that may not use the atomic reserve
 * has 10 pages to spare over its mark (low, else min): free - reserve =
 * mark + 10, the lists drained. The zone as it is then. */
static struct za_zone_info ten_above(struct za *za, long reserve, bool at_low)
{
	settle(za);
	struct za_zone_info zi = zinfo(za, ZA_ZONE_NORMAL);
	long mark = (long)(at_low ? zi.low : zi.min);
	CHECK((long)zi.free - reserve < mark + 10);
	give_back(za, (unsigned long)(mark + 10 + reserve - (long)zi.free));
	zi = zinfo(za, ZA_ZONE_NORMAL);
	CHECK_EQ((long)zi.free - reserve - mark, 10);
	return zi;
}

/* After an allocation from the zone ten_above left (before): the zone is
 * not below the mark for a request that may not use the reserve. */
static void check_floor(struct za *za, const char *what,
                        struct za_zone_info before, long reserve, bool at_low)
{
	const char *name = at_low ? "low" : "min";
	long mark = (long)(at_low ? before.low : before.min);
	struct za_zone_info after = zinfo(za, ZA_ZONE_NORMAL);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	printf("%s: %s %ld, reserve %ld, free %lu -> %lu, CPU 0's list %u\n", what,
	       name, mark, reserve, before.free, after.free, pi.count);
	RULE((long)after.free - reserve >= mark,
	     "a refill never takes the zone below the request's floor, the "
	     "atomic reserve not counted for requests that may not use it: %s "
	     "10 pages above %s (free %lu, reserve %ld, %s %ld) left free %lu, "
	     "%ld pages below %s, CPU 0's list holding %u",
	     what, name, before.free, reserve, name, mark, after.free,
	     mark - ((long)after.free - reserve), name, pi.count);
}

/* The zone down to min with every list drained (below low), then one
 * ATOMIC order-1 request in the slow path, which reserves its pageblock
 * for high-order atomic requests: that block, held. */
static struct za_page *down_to_min_reserved(struct za *za)
{
	for (;;) {
		struct za_page *p;
		while ((p = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 0)))
			hold(p, 0);
		settle(za);
		struct za_zone_info zi = zinfo(za, ZA_ZONE_NORMAL);
		if (zi.free <= zi.min)
			break;
	}
	struct za_page *a = za_alloc_pages(za, ZA_GFP_ATOMIC | ZA_GFP_NOWARN, 1);
	CHECK(a != NULL);
	settle(za);
	CHECK(za_load_relaxed(
	          &za->nodes[0].zones[ZA_ZONE_NORMAL].nr_reserved_highatomic) > 0);
	return a;
}

/* A refill takes no more than the room above the floor of the request
 * that made it, counted as its watermark check counts (RECLAIM.md section
 * 5): a request that may not use the high-order atomic reserve
 * (nr_reserved_highatomic) leaves it out. With a pageblock reserved and
 * the zone 10 pages above min for a KERNEL request, a refill counted the
 * reserve as room and took a whole batch (32), leaving the zone 22 pages
 * below min, the pages stranded on CPU 0's list; a bulk allocation 10
 * pages above low did the same at low. */
static void refill_keeps_reserve(void)
{
	struct za *za = make_pcp();
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	pm_set_cpu(&cur_cpu, 0);

	struct za_page *a = down_to_min_reserved(za);
	long reserve = (long)za_load_relaxed(&z->nr_reserved_highatomic);

	/* A KERNEL request, CPU 0's list empty: its refill may take 10
	 * pages, not a batch. */
	struct za_zone_info zi = ten_above(za, reserve, false);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0);
	CHECK(p != NULL);
	hold(p, 0);
	check_floor(za, "a KERNEL allocation", zi, reserve, false);

	/* A bulk allocation: its refills are trimmed at low. */
	zi = ten_above(za, reserve, true);
	struct za_page *bulk[5];
	unsigned got = za_alloc_pages_bulk(za, ZA_GFP_KERNEL, 5, bulk);
	CHECK_EQ(got, 5);
	for (unsigned i = 0; i < got; i++)
		hold(bulk[i], 0);
	check_floor(za, "a bulk KERNEL allocation", zi, reserve, true);

	za_free_pages(za, a, 1);
	release(za);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
	printf("refill keeps the atomic reserve: ok\n");
}

/* Free pages on the zone's HIGHATOMIC lists. */
static unsigned long reserve_free(struct za *za, struct za_zone *z)
{
	unsigned long n = 0;
	zone_lock(z, NULL);
	for (unsigned o = 0; o <= za->max_order; o++)
		n += z->nr_free[o][ZA_MT_HIGHATOMIC] << o;
	zone_unlock(z);
	return n;
}

/* The high-order atomic reserve gives an atomic request the one block it
 * asked for, never a per-CPU batch: the batch's other blocks would wait
 * on the list for any request, atomic or not (the kernel's per-CPU refill
 * takes nothing from MIGRATE_HIGHATOMIC). Review 8: an ATOMIC order-1
 * request in the slow path refilled its list with 16 blocks of the
 * reserve (batch 32), which ordinary order-1 requests then took. */
static void refill_takes_one_reserve_block(void)
{
	struct za *za = make_pcp();
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	pm_set_cpu(&cur_cpu, 0);
	/* The first reserves its pageblock; the drain puts the rest of its
	 * refill on the reserve's lists. */
	struct za_page *a = down_to_min_reserved(za);
	unsigned long before = reserve_free(za, z);
	CHECK(before >= 8);
	/* The second, CPU 0's order-1 list empty: one block of the reserve. */
	struct za_page *b = za_alloc_pages(za, ZA_GFP_ATOMIC | ZA_GFP_NOWARN, 1);
	CHECK(b != NULL);
	unsigned long after = reserve_free(za, z);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	printf("an atomic order-1 refill: reserve's free pages %lu -> %lu, CPU "
	       "0's list %u\n",
	       before, after, pi.count);
	RULE(before - after <= 2,
	     "the high-order atomic reserve gives an atomic request its own "
	     "block only, never a per-CPU batch: an ATOMIC order-1 allocation "
	     "took %lu pages off the reserve's lists (CPU 0's list now %u)",
	     before - after, pi.count);
	za_free_pages(za, a, 1);
	za_free_pages(za, b, 1);
	release(za);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
	printf("refill takes one reserve block: ok\n");
}

int main(int argc, char **argv)
{
	tu_watchdog(120);
	pm_init(argc, argv, "core_watermark", 2);
	if (pm_rseq) {
		pm_run("fast_path_below_low", fast_path_below_low);
		pm_run("refill_keeps_reserve", refill_keeps_reserve);
		pm_run("refill_takes_one_reserve_block",
		       refill_takes_one_reserve_block);
		printf("core_watermark (restartable): ok\n");
		return 0;
	}
	per_gfp();
	lowmem_reserve();
	bad_requests();
	fast_path_below_low();
	refill_keeps_reserve();
	refill_takes_one_reserve_block();
	printf("core_watermark: ok\n");
	return 0;
}
