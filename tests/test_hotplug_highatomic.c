/*
 * test_hotplug_highatomic.c - memory offline and contiguous ranges keep the
 * high-order atomic reserve (HIGHATOMIC pageblocks) and its count in step.
 *
 * Tiny hotplug blocks (8 pages: one max-order block of four 2-page
 * pageblocks) make every free block's place known. An order-1 ATOMIC
 * request that reaches the slow path (min_free_kbytes above the zone)
 * reserves its pageblock, as the kernel does.
 *
 * (a) A successful offline of a block holding a HIGHATOMIC pageblock takes
 *     the pageblock's pages out of nr_reserved_highatomic; round after
 *     round, the count never counts pageblocks that are gone.
 * (b) A contiguous range over a HIGHATOMIC pageblock: the count drops when
 *     the range is handed out, and its free (pageblocks MOVABLE) leaves it
 *     right.
 * (c) A failed offline (an unmigratable page, timeout) leaves every
 *     pageblock's type as it was (the reviewer's sequence).
 * (d) A failed offline during which a page of the HIGHATOMIC pageblock's
 *     buddy pageblock was migrated away: the freed page merged, on the
 *     isolate list, into one block with the free HIGHATOMIC pageblock.
 *     Given back, that block is freed a pageblock at a time: the reserve
 *     keeps exactly its pageblock, the buddy its own type.
 * (e) Free page reporting across (c)'s failed offline: a reported
 *     HIGHATOMIC block beside an unreported free buddy pageblock; only the
 *     buddy is reported afterwards (isolation moved the blocks, it did not
 *     merge them).
 * Every part ends with za_check, which compares the count with the
 * pageblocks itself.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "zonealloc.h"

#define BLK 8ul /* pages per hotplug block: one max-order block */
#define PB 2ul  /* pages per pageblock */

typedef int migrate_fn(void *, struct za_page *, struct za_page *, unsigned);

static struct za *mk(unsigned long max_pfn, migrate_fn *migrate)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 1;
	cfg.max_order = 3;
	cfg.pageblock_order = 1;
	cfg.block_pages = BLK;
	cfg.max_pfn = max_pfn;
	cfg.offline_timeout_ms = 30;
	cfg.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.migrate = migrate;
	struct za *za = za_create(&cfg);
	CHECK(za);
	return za;
}

static struct za_zone *normal(struct za *za)
{
	return &za->nodes[0].zones[ZA_ZONE_NORMAL];
}

/* Pages of the online HIGHATOMIC pageblocks. */
static unsigned long ha_pages(struct za *za)
{
	unsigned long n = 0;
	for (unsigned long pfn = 0; pfn < za->max_pfn; pfn += PB)
		if (pfn_online(za, pfn) && pageblock_mt(za, pfn) == ZA_MT_HIGHATOMIC)
			n += PB;
	return n;
}

static void reserve_count_right(struct za *za, const char *when)
{
	struct za_zone *z = normal(za);
	RULE(z->nr_reserved_highatomic == ha_pages(za),
	     "nr_reserved_highatomic counts the HIGHATOMIC pageblocks (%s): "
	     "count %lu, HIGHATOMIC pages %lu",
	     when, z->nr_reserved_highatomic, ha_pages(za));
}

/* An order-1 ATOMIC allocation through the slow path: its pageblock
 * becomes HIGHATOMIC. Freed again; returns its pfn. */
static unsigned long reserve_one(struct za *za)
{
	CHECK_EQ(za_sysctl_set(za, "min_free_kbytes", "65536"), 0);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_ATOMIC, 1);
	CHECK(p);
	unsigned long pfn = za_page_to_pfn(za, p);
	CHECK_EQ(pageblock_mt(za, pfn), ZA_MT_HIGHATOMIC);
	za_free_pages(za, p, 1);
	CHECK_EQ(za_sysctl_set(za, "min_free_kbytes", "0"), 0);
	return pfn;
}

/* --- (a) ------------------------------------------------------------------ */

static void offline_drops_reserve(void)
{
	struct za *za = mk(4 * BLK, NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLK, NULL), 0);
	for (int round = 0; round < 8; round++) {
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, BLK, BLK, NULL), 0);
		/* The block just onlined is the zone's first lazy block. */
		unsigned long pfn = reserve_one(za);
		CHECK(pfn >= BLK && pfn < 2 * BLK);
		CHECK_EQ(normal(za)->nr_reserved_highatomic, PB);
		CHECK_EQ(za_check(za, stderr), 0);
		CHECK_EQ(za_memory_offline(za, BLK, BLK), 0);
		reserve_count_right(za, "after an offline that took the reserve");
		CHECK_EQ(za_check(za, stderr), 0);
	}
	za_destroy(za);
	printf("highatomic: 8 offlines of a reserved pageblock, count right\n");
}

/* --- (b) ------------------------------------------------------------------ */

static void contig_drops_reserve(void)
{
	struct za *za = mk(4 * BLK, NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * BLK, NULL), 0);
	/* The highest block is the first lazy one, and the first candidate
	 * of a contiguous allocation. */
	unsigned long pfn = reserve_one(za);
	CHECK(pfn >= 3 * BLK);
	struct za_page *c = za_alloc_contig_pages(za, BLK, ZA_GFP_KERNEL);
	CHECK(c);
	CHECK_EQ(za_page_to_pfn(za, c), 3 * BLK);
	reserve_count_right(za, "while a contiguous range holds the reserve");
	CHECK_EQ(za_check(za, stderr), 0);
	za_free_contig_pages(za, c, BLK);
	reserve_count_right(za, "after the contiguous range is freed");
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("highatomic: contiguous range over the reserve, count right\n");
}

/* --- (c), (d), (e) ---------------------------------------------------------- */

static unsigned long refuse_pfn; /* the migrate callback refuses this */
static struct za_page *moved_to; /* and takes the last page it moved */

static struct za *mig_za; /* the allocator the callback works for */

static int migrate(void *ctx, struct za_page *dst, struct za_page *src,
                   unsigned order)
{
	(void)ctx;
	(void)order;
	if (za_page_to_pfn(mig_za, src) == refuse_pfn)
		return -EBUSY;
	moved_to = dst;
	return 0;
}

/* Block B (pfn 8..15) alone in the zone: pageblock 8 reserved and free,
 * the rest claimed by the reserve's allocation (UNMOVABLE, free). */
static struct za *reserved_block(migrate_fn *m)
{
	struct za *za = mk(4 * BLK, m);
	mig_za = za;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, BLK, BLK, NULL), 0);
	CHECK_EQ(reserve_one(za), BLK);
	return za;
}

static void types(struct za *za, int *mt)
{
	for (unsigned long i = 0; i < BLK / PB; i++)
		mt[i] = pageblock_mt(za, BLK + i * PB);
}

/* A movable page at the lowest pfn of [lo, hi) the allocator hands out;
 * the pages it takes first are kept in keep[] (returned count). */
static struct za_page *movable_in(struct za *za, unsigned long lo,
                                  unsigned long hi, struct za_page **keep,
                                  unsigned *nk)
{
	for (int i = 0; i < 8; i++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
		CHECK(p);
		unsigned long pfn = za_page_to_pfn(za, p);
		if (pfn >= lo && pfn < hi)
			return p;
		keep[(*nk)++] = p;
	}
	CHECK(!"no movable page in the range");
	return NULL;
}

/* After a failed offline: every pageblock of block B has the type it
 * had before. */
static void types_kept(struct za *za, const int *before, const char *rule)
{
	int after[BLK / PB];
	types(za, after);
	for (unsigned long i = 0; i < BLK / PB; i++)
		RULE(before[i] == after[i], "%s: pageblock 0x%lx was %d, is %d", rule,
		     BLK + i * PB, before[i], after[i]);
	reserve_count_right(za, "after a failed offline");
	CHECK_EQ(za_check(za, stderr), 0);
}

/* With the pin gone, block B goes offline, and the reserve with it. */
static void offline_goes_through(struct za *za, struct za_page *pin)
{
	za_free_pages(za, pin, 0);
	CHECK_EQ(za_memory_offline(za, BLK, BLK), 0);
	reserve_count_right(za, "after the offline went through");
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void failed_offline_keeps_types(void)
{
	struct za *za = reserved_block(NULL);
	/* A movable page nobody can migrate (no callback): the offline
	 * times out. */
	struct za_page *pin = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(pin);
	CHECK(za_page_to_pfn(za, pin) >= BLK + PB);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLK, NULL), 0);
	int before[BLK / PB];
	types(za, before);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_memory_offline(za, BLK, BLK), -EAGAIN);
	types_kept(za, before,
	           "a failed offline leaves every pageblock's type as it was");
	offline_goes_through(za, pin);
	printf("highatomic: failed offline, pageblock types as they were\n");
}

static void failed_offline_splits_grown_block(void)
{
	struct za *za = reserved_block(migrate);
	/* Movable pages claim the UNMOVABLE pageblocks: the first lands in
	 * 12..15 (refused by the callback: the offline fails), one in the
	 * reserve's buddy pageblock 10 (migrated: freed into the isolated
	 * range, it merges with the HIGHATOMIC block at 8). */
	struct za_page *keep[8];
	unsigned nk = 0;
	struct za_page *pin = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(pin);
	refuse_pfn = za_page_to_pfn(za, pin);
	CHECK(refuse_pfn >= BLK + 2 * PB);
	struct za_page *m = movable_in(za, BLK + PB, BLK + 2 * PB, keep, &nk);
	for (unsigned i = 0; i < nk; i++)
		za_free_pages(za, keep[i], 0);
	/* Where the migrated page goes. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLK, NULL), 0);
	int before[BLK / PB];
	types(za, before);
	CHECK_EQ(before[0], ZA_MT_HIGHATOMIC);
	CHECK(before[1] != ZA_MT_HIGHATOMIC);
	CHECK_EQ(za_check(za, stderr), 0);

	moved_to = NULL;
	CHECK_EQ(za_memory_offline(za, BLK, BLK), -EAGAIN);
	CHECK(moved_to != NULL); /* the page in pageblock 10 was moved */
	CHECK(za_page_to_pfn(za, moved_to) < BLK);
	(void)m; /* freed by the migration */
	types_kept(za, before,
	           "a free block that grew while isolated goes back a pageblock "
	           "at a time, each with its own type");
	za_free_pages(za, moved_to, 0);
	offline_goes_through(za, pin);
	printf("highatomic: grown isolated block split back by pageblock\n");
}

static unsigned long reported_pages, reported_h;
static int report(void *ctx, struct za_page *const *pages,
                  const unsigned *orders, unsigned n)
{
	struct za *za = ctx;
	for (unsigned i = 0; i < n; i++) {
		reported_pages += 1ul << orders[i];
		if (za_page_to_pfn(za, pages[i]) == BLK)
			reported_h += 1ul << orders[i];
	}
	return 0;
}

static void failed_offline_keeps_marks_apart(void)
{
	struct za *za = reserved_block(NULL);
	struct za_page *pin = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(pin);
	CHECK(za_page_to_pfn(za, pin) >= BLK + 2 * PB);
	/* Pageblock 10 allocated while the rest is reported. */
	struct za_page *keep[8];
	unsigned nk = 0;
	struct za_page *m = movable_in(za, BLK + PB, BLK + 2 * PB, keep, &nk);
	for (unsigned i = 0; i < nk; i++)
		za_free_pages(za, keep[i], 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLK, NULL), 0);
	struct za_page_reporting pr = { report, za, 1, 1 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	for (int i = 0; i < 4 && za_page_reporting_run(za) > 0; i++)
		;
	CHECK(page_reported(za, BLK));
	CHECK_EQ(za_page_reporting_run(za), 0);
	/* The pageblock beside the reserve comes free, unreported: kept
	 * apart from the reserve's block (HIGHATOMIC does not merge). */
	za_free_pages(za, m, 0);
	CHECK(!page_reported(za, BLK + PB));
	CHECK_EQ(za_check(za, stderr), 0);

	reported_pages = reported_h = 0;
	CHECK_EQ(za_memory_offline(za, BLK, BLK), -EAGAIN);
	long r = za_page_reporting_run(za);
	RULE(reported_h == 0,
	     "a reported block is not reported again until allocated: the "
	     "reserve's block was reported again (%lu pages) after a failed "
	     "offline",
	     reported_h);
	CHECK_EQ(r, (long)PB); /* the pageblock freed meanwhile, once */
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	za_free_pages(za, pin, 0);
	za_destroy(za);
	printf("highatomic: failed offline, reported reserve not reported "
	       "again\n");
}

int main(void)
{
	tu_watchdog(60);
	offline_drops_reserve();
	contig_drops_reserve();
	failed_offline_keeps_types();
	failed_offline_splits_grown_block();
	failed_offline_keeps_marks_apart();
	printf("hotplug_highatomic: ok\n");
	return 0;
}
