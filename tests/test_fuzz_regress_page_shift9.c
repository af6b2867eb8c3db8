/*
 * test_fuzz_regress_page_shift9.c - regression test for a bug the API
 * fuzzer found (docs/VERIFICATION.md): with pages smaller than 1 KiB
 * (page_shift 9, which the API allows), the watermark setup shifts by
 * page_shift - 10 computed in unsigned arithmetic, i.e. by 2^32 - 1:
 * undefined behaviour (UBSan: "shift exponent 4294967295 is too large"),
 * and on x86 the min watermark comes out 0, so no reserve is kept at all.
 *
 * The watermarks must not depend on the page size beyond the unit:
 * min_free_kbytes = 1024 on 512-byte pages is 2048 pages of reserve, as
 * it is 256 pages on 4 KiB pages.
 */
#include "testutil.h"
#include "zonealloc.h"

static unsigned long zone_min(unsigned page_shift, unsigned long mfk)
{
	struct za_config cfg = { 0 };
	cfg.page_shift = page_shift;
	cfg.nr_cpus = 2;
	cfg.max_order = 10;
	cfg.block_pages = 1024;
	cfg.max_pfn = 16384;
	cfg.min_free_kbytes = mfk;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 8192, NULL), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, 8192);
	CHECK(zi.low >= zi.min && zi.high >= zi.low);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	return zi.min;
}

int main(void)
{
	/* The one zone gets the whole reserve: min_free_kbytes in pages. */
	CHECK_EQ(zone_min(12, 1024), 256);
	CHECK_EQ(zone_min(10, 1024), 1024);
	CHECK_EQ(zone_min(9, 1024), 2048);
	/* The computed default keeps some reserve on small pages too. */
	CHECK(zone_min(9, 0) > 0);
	printf("page_shift 9 watermarks: ok\n");
	return 0;
}
