/*
 * test_fuzz_regress_highatomic_large.c - regression test for a bug the API
 * fuzzer found once za_check compared the high-order atomic reserve's
 * count with the HIGHATOMIC pageblocks
 * (tests/fuzz/corpus/regress-highatomic-large-block.bin): an ATOMIC
 * allocation larger than a pageblock reserved only its first pageblock
 * and counted one pageblock; its free then gave the whole block its first
 * pageblock's type, HIGHATOMIC, so the reserve held four times what it
 * counted ("nr_reserved_highatomic is 2, its HIGHATOMIC pageblocks hold 8
 * pages"). Now every pageblock of such a block is reserved and counted,
 * and giving a free block of several pageblocks back uncounts them all.
 */
#include "internal.h"
#include "testutil.h"
#include "zonealloc.h"

static unsigned long ha_pages(struct za *za)
{
	unsigned long n = 0;
	for (unsigned long pfn = 0; pfn < 1024; pfn += 2)
		if (pageblock_mt(za, pfn) == ZA_MT_HIGHATOMIC)
			n += 2;
	return n;
}

int main(void)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 1;
	cfg.max_order = 3;
	cfg.pageblock_order = 1; /* an order-3 block spans four pageblocks */
	cfg.block_pages = 1024;
	cfg.max_pfn = 2048;
	cfg.min_free_kbytes = 65536; /* the whole zone is reserve: slow path */
	cfg.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];

	struct za_page *p = za_alloc_pages(za, ZA_GFP_ATOMIC, 3);
	CHECK(p);
	RULE(z->nr_reserved_highatomic == ha_pages(za) && ha_pages(za) == 8,
	     "a reserved block of several pageblocks is reserved and counted "
	     "whole: count %lu, HIGHATOMIC pages %lu",
	     z->nr_reserved_highatomic, ha_pages(za));
	za_free_pages(za, p, 3);
	RULE(z->nr_reserved_highatomic == ha_pages(za),
	     "the free of a reserved block leaves the count right: count %lu, "
	     "HIGHATOMIC pages %lu",
	     z->nr_reserved_highatomic, ha_pages(za));
	CHECK_EQ(za_check(za, stderr), 0);

	/* A request that fails gives the reserve back: the whole order-3
	 * HIGHATOMIC block, uncounted whole. */
	CHECK(!za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 3));
	RULE(z->nr_reserved_highatomic == 0 && ha_pages(za) == 0,
	     "giving back a free reserved block of several pageblocks "
	     "uncounts them all: count %lu, HIGHATOMIC pages %lu",
	     z->nr_reserved_highatomic, ha_pages(za));
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("highatomic large block: ok\n");
	return 0;
}
