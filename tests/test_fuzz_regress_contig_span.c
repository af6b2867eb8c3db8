/*
 * test_fuzz_regress_contig_span.c - regression test for a bug the API
 * fuzzer found (docs/VERIFICATION.md): a contiguous allocation that spans
 * two memory hotplug blocks (which za_alloc_contig_pages does on purpose
 * when a request is larger than a block, or straddles one) makes za_check
 * fail with "taken block pfn 0x800+1 overlaps another block at pfn 0x800"
 * for every max-order chunk of the range inside the second block. The
 * check walks each hotplug block from its first page, so it starts again
 * in the middle of the contig range and counts the range's chunk heads
 * (state OFFLINE) a second time. The allocator state is fine; the check
 * is wrong, and so za_check cannot be used at all while such a range is
 * allocated.
 */
#include <errno.h>

#include "testutil.h"
#include "zonealloc.h"

int main(void)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.max_order = 6;
	cfg.pageblock_order = 4;
	cfg.block_pages = 1024;
	cfg.max_pfn = 4096;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 1024, 2048, NULL), 0);
	CHECK_EQ(za_check(za, stderr), 0);

	/* 1536 pages cannot fit in one 1024-page block. */
	struct za_page *p = za_alloc_contig_pages(za, 1536, ZA_GFP_MOVABLE);
	CHECK(p);
	unsigned long pfn = za_page_to_pfn(za, p);
	CHECK(pfn >= 1024 && pfn + 1536 <= 3072);
	CHECK_EQ(za_page_zone(za, p), ZA_ZONE_MOVABLE);
	CHECK_EQ(za_check(za, stderr), 0);

	/* The hotplug blocks under it cannot go offline... */
	CHECK_EQ(za_memory_offline(za, 2048, 1024), -EBUSY);
	CHECK_EQ(za_check(za, stderr), 0);

	/* ...and after the free everything is back. */
	za_free_contig_pages(za, p, 1536);
	CHECK_EQ(za_check(za, stderr), 0);
	za_drain_all_pages(za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	CHECK_EQ(zi.free, 2048);
	CHECK_EQ(za_memory_offline(za, 2048, 1024), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("contig range across hotplug blocks: ok\n");
	return 0;
}
