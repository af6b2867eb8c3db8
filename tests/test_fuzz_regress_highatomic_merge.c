/*
 * test_fuzz_regress_highatomic_merge.c - regression test for a bug the API
 * fuzzer found (tests/fuzz/corpus/regress-highatomic-unreserve-merge.bin):
 * a free block in a pageblock reserved for high-order atomic requests
 * (HIGHATOMIC) is rightly kept apart from its buddy in an ordinary
 * pageblock; but when the slow path gives the reserve back
 * (unreserve_highatomic_pageblock, before the OOM handler), the free
 * blocks only change lists, and are not merged with their now mergeable
 * buddies. za_check then fails ("free blocks pfn 0x3f8 and 0x3fa of order 1
 * are buddies but not merged") and the zone is fragmented for no reason: an
 * order-2 request cannot use the four free pages at 0x3f8.
 */
#include "testutil.h"
#include "zonealloc.h"

int main(void)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 1;
	cfg.max_order = 3;
	cfg.pageblock_order = 1; /* tiny pageblocks: the reserve is 2 pages */
	cfg.block_pages = 1024;
	cfg.max_pfn = 2048;
	cfg.min_free_kbytes = 4096; /* the whole zone is reserve: KERNEL fails */
	cfg.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);

	/* A high-order atomic allocation reserves its pageblock... */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_ATOMIC, 1);
	CHECK(p);
	CHECK_EQ(za_check(za, stderr), 0);
	/* ...its free stays in the reserve, apart from its buddy... */
	za_free_pages(za, p, 1);
	CHECK_EQ(za_check(za, stderr), 0);
	/* ...and a request that fails gives the reserve back. */
	CHECK(!za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 3));
	CHECK_EQ(za_check(za, stderr), 0);

	/* Nothing is allocated: all 1024 pages are free, fully merged in
	 * 128 blocks of the max order 3. */
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, 1024);
	CHECK_EQ(zi.nr_free[3], 128);
	za_destroy(za);
	printf("highatomic unreserve merges: ok\n");
	return 0;
}
