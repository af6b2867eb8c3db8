/*
 * test_fuzz_regress_contig_zone_hole.c - regression test for a bug the API
 * fuzzer found (tests/fuzz/corpus/regress-contig-zone-hole.bin): when a
 * zone's span has a hole (a block of another zone, or an offline block,
 * between two of its blocks), za_alloc_contig_pages can take a range that
 * runs out of the zone's block into the hole. Its candidate check
 * (candidate_ok) looks at the blocks of start, start + block_pages, ...
 * only, so for a range that does not start on a block boundary the block
 * holding its last pages is never checked. Into a block of another zone
 * the range corrupts both zones' lists and counters (za_check fails);
 * into an offline block the allocator touches metadata that does not
 * exist (segmentation fault).
 */
#include <stdbool.h>

#include "testutil.h"
#include "zonealloc.h"

static struct za *make(bool movable_between)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 1;
	cfg.max_order = 6; /* contig ranges are 64-page aligned, blocks 1024 */
	cfg.pageblock_order = 4;
	cfg.block_pages = 1024;
	cfg.max_pfn = 4096;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	/* NORMAL at blocks 1 and 3; block 2 MOVABLE or offline. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 1024, 1024, NULL), 0);
	if (movable_between)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 2048, 1024, NULL),
		         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 3072, 1024, NULL), 0);
	return za;
}

static void run(bool movable_between)
{
	struct za *za = make(movable_between);
	struct za_page *got[3];
	/* Two ranges fill block 3; the third must come from block 1 alone. */
	for (int i = 0; i < 3; i++) {
		got[i] = za_alloc_contig_pages(za, 512, ZA_GFP_KERNEL);
		CHECK(got[i]);
		unsigned long pfn = za_page_to_pfn(za, got[i]);
		struct za_page *last = za_pfn_to_page(za, pfn + 511);
		CHECK(last);
		CHECK_EQ(za_page_zone(za, got[i]), ZA_ZONE_NORMAL);
		CHECK_EQ(za_page_zone(za, last), ZA_ZONE_NORMAL);
		CHECK((pfn >= 1024 && pfn + 512 <= 2048) ||
		      (pfn >= 3072 && pfn + 512 <= 4096));
		CHECK_EQ(za_check(za, stderr), 0);
	}
	for (int i = 0; i < 3; i++)
		za_free_contig_pages(za, got[i], 512);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

int main(void)
{
	run(true);
	run(false);
	printf("contig ranges stay inside their zone's blocks: ok\n");
	return 0;
}
