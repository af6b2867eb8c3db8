/*
 * test_core_create.c - creating instances and onlining memory.
 *
 * Checks that:
 *  - za_create(NULL) gives working defaults (page shift 12, max_order 10,
 *    pageblock_order 9, 128 MiB blocks, one node, CPUs as configured);
 *  - bad configs fail with NULL and errno EINVAL: page_shift out of 9..30,
 *    pageblock_order > max_order, max_order above the limit, block_pages
 *    not a power of two or smaller than a max-order block, nr_nodes >
 *    ZA_MAX_NODES, nr_cpus > ZA_MAX_CPUS, online_cpus > nr_cpus, max_pfn
 *    above 2^32 - 1, a cpu_node entry naming no node;
 *  - za_memory_online rejects a bad node, a bad zone, a misaligned start
 *    or size, an empty range and a range beyond max_pfn with -EINVAL, an
 *    overlap with -EEXIST, and a failed online adds nothing;
 *  - frame-only memory has NULL page addresses; real memory has addresses
 *    inside the base buffer, at base + (pfn - start) << page_shift;
 *  - ZA_GFP_ZERO zeroes real memory (pages filled with 0xff, freed, then
 *    allocated again with ZERO), including pages from the per-CPU lists and
 *    high orders; a non-default page_shift works the same way.
 */
#include "testutil.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zonealloc.h>

#define BLK 1024UL

static int cpu0(void *ctx)
{
	(void)ctx;
	return 0;
}

static void base_cfg(struct za_config *c)
{
	memset(c, 0, sizeof(*c));
	c->nr_cpus = 2;
	c->cpu_id = cpu0;
	c->block_pages = BLK;
	c->max_pfn = 64 * BLK;
	c->flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
}

static void bad(const char *what, const struct za_config *c)
{
	errno = 0;
	struct za *za = za_create(c);
	if (za != NULL || errno != EINVAL) {
		fprintf(stderr,
		        "bad config accepted or wrong errno: %s (za %p, "
		        "errno %d)\n",
		        what, (void *)za, errno);
		exit(1);
	}
}

static void defaults(void)
{
	struct za *za = za_create(NULL);
	CHECK(za != NULL);
	CHECK_EQ(za_page_shift(za), 12);
	CHECK_EQ(za_max_order(za), 10);
	CHECK_EQ(za_pageblock_order(za), 9);
	CHECK_EQ(za_block_pages(za), (128UL << 20) >> 12);
	CHECK_EQ(za_nr_nodes(za), 1);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	CHECK_EQ(za_nr_cpus(za), ncpu);
	for (unsigned c = 0; c < za_nr_cpus(za); c++) {
		CHECK(za_cpu_is_online(za, c));
		CHECK_EQ(za_cpu_to_node(za, c), 0);
	}
	CHECK(za_page_meta_size() > 0);
	/* no memory yet: nothing to allocate */
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK(za_pfn_to_page(za, 0) == NULL);
	/* one default block of frame-only memory */
	unsigned long bp = za_block_pages(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 8 * bp, bp, NULL), 0);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	CHECK(za_page_to_pfn(za, p) >= 8 * bp && za_page_to_pfn(za, p) < 9 * bp);
	CHECK(za_page_address(za, p) == NULL);
	za_free_pages(za, p, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);

	/* all-zero config is the same as NULL */
	struct za_config c;
	memset(&c, 0, sizeof(c));
	za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_max_order(za), 10);
	za_destroy(za);
}

static void bad_configs(void)
{
	struct za_config c;

	base_cfg(&c);
	struct za *za = za_create(&c);
	CHECK(za != NULL); /* the base is good */
	za_destroy(za);

	base_cfg(&c);
	c.page_shift = 3;
	bad("page_shift 3", &c);
	base_cfg(&c);
	c.page_shift = 8;
	bad("page_shift 8", &c);
	base_cfg(&c);
	c.page_shift = 31;
	bad("page_shift 31", &c);
	base_cfg(&c);
	c.max_order = 5;
	c.pageblock_order = 6;
	bad("pageblock_order > max_order", &c);
	base_cfg(&c);
	c.max_order = ZA_MAX_ORDER_LIMIT + 1;
	bad("max_order above the limit", &c);
	base_cfg(&c);
	c.block_pages = 1536;
	bad("block_pages 1536", &c);
	base_cfg(&c);
	c.block_pages = 1000;
	bad("block_pages 1000", &c);
	base_cfg(&c);
	c.block_pages = 512;
	bad("block_pages < max-order block", &c);
	base_cfg(&c);
	c.max_order = 6;
	c.block_pages = 32;
	bad("block_pages 32 < order-6 block", &c);
	base_cfg(&c);
	c.nr_nodes = ZA_MAX_NODES + 1;
	bad("nr_nodes 65", &c);
	base_cfg(&c);
	c.nr_cpus = ZA_MAX_CPUS + 1;
	bad("nr_cpus 4097", &c);
	base_cfg(&c);
	c.online_cpus = 3;
	bad("online_cpus > nr_cpus", &c);
	base_cfg(&c);
	c.max_pfn = 1UL << 33;
	if (sizeof(unsigned long) > 4)
		bad("max_pfn 2^33", &c);
	static const int cn[2] = { 0, 1 };
	base_cfg(&c);
	c.cpu_node = cn; /* one node only: node 1 is bad */
	bad("cpu_node names node 1 of 1", &c);

	base_cfg(&c);
	c.nr_nodes = ZA_MAX_NODES;
	c.nr_cpus = ZA_MAX_NODES;
	za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_nr_nodes(za), ZA_MAX_NODES);
	/* default cpu_node: cpu * nr_nodes / nr_cpus */
	CHECK_EQ(za_cpu_to_node(za, 5), 5);
	za_destroy(za);
	base_cfg(&c);
	c.nr_cpus = 4;
	c.online_cpus = 2;
	za = za_create(&c);
	CHECK(za != NULL);
	CHECK(za_cpu_is_online(za, 0) && za_cpu_is_online(za, 1));
	CHECK(!za_cpu_is_online(za, 2) && !za_cpu_is_online(za, 3));
	za_destroy(za);
}

/* Small geometries the header allows: block_pages "a power of two, at
 * least one max-order block and one pageblock". */
static void small_blocks(void)
{
	struct za_config c;
	struct za *za;
	base_cfg(&c);
	c.max_order = 6;
	c.pageblock_order = 6;
	c.block_pages = 64;
	c.max_pfn = 1024;
	errno = 0;
	za = za_create(&c);
	if (!za)
		fprintf(stderr, "max_order 6, block_pages 64 refused (errno %d)\n",
		        errno);
	CHECK(za != NULL);
	CHECK_EQ(za_max_order(za), 6);
	CHECK_EQ(za_pageblock_order(za), 6);
	CHECK_EQ(za_block_pages(za), 64);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 64, 64, NULL), 0);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 3);
	CHECK(p != NULL);
	za_free_pages(za, p, 3);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);

	base_cfg(&c);
	c.page_shift = 9;
	c.max_order = 3;
	c.block_pages = 8;
	za = za_create(&c);
	if (!za)
		fprintf(stderr,
		        "page_shift 9, max_order 3, block_pages 8 refused "
		        "(errno %d)\n",
		        errno);
	CHECK(za != NULL);
	CHECK_EQ(za_page_shift(za), 9);
	CHECK_EQ(za_pageblock_order(za), 3); /* min(9, max_order) */
	za_destroy(za);
}

/* Pages smaller than 1 KiB (page_shift 9 is allowed): min_free_kbytes
 * still converts to pages (1024 KiB = 2048 pages of 512 bytes). */
static void half_k_pages(void)
{
	struct za_config c;
	base_cfg(&c);
	c.page_shift = 9;
	c.max_order = 8;
	c.block_pages = 4096;
	c.max_pfn = 64 * 4096;
	c.min_free_kbytes = 1024;
	c.nr_cpus = 1;
	c.flags |= ZA_CFG_NO_PCP;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 4096, 8 * 4096, NULL), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	printf("512-byte pages: managed %lu min %lu low %lu high %lu\n",
	       zi.managed, zi.min, zi.low, zi.high);
	CHECK_EQ(zi.managed, 8 * 4096);
	CHECK_EQ(zi.min, 2048);
	CHECK(zi.min < zi.low && zi.low < zi.high && zi.high < zi.managed);
	/* and allocation stops there */
	unsigned long n = 0;
	while (za_alloc_pages(za, ZA_GFP_KERNEL, 0))
		n++;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK(zi.free >= 2048 && zi.free <= 2049);
	CHECK_EQ(n + zi.free, 8 * 4096);
	za_destroy(za);
}

static void online_errors(void)
{
	struct za_config c;
	base_cfg(&c);
	c.nr_nodes = 2;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	const unsigned long S = 16 * BLK;

	CHECK_EQ(za_memory_online(za, 2, ZA_ZONE_NORMAL, S, BLK, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, -1, ZA_ZONE_NORMAL, S, BLK, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_NR_ZONES, S, BLK, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, (enum za_zone_type) - 1, S, BLK, NULL),
	         -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S + 512, BLK, NULL),
	         -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S + 1, BLK, NULL),
	         -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S, BLK + 512, NULL),
	         -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S, 512, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S, 0, NULL), -EINVAL);
	/* beyond max_pfn (64 blocks), wholly or partly */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 64 * BLK, BLK, NULL),
	         -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 63 * BLK, 2 * BLK, NULL),
	         -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 1UL << 40, BLK, NULL),
	         -EINVAL);
	/* wrapping around */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 32 * BLK,
	                          ~0UL & ~(BLK - 1), NULL),
	         -EINVAL);
	/* none of that put anything online */
	for (unsigned long pfn = 0; pfn < 64 * BLK; pfn += BLK / 2)
		CHECK(za_pfn_to_page(za, pfn) == NULL);
	for (int z = 0; z < ZA_NR_ZONES; z++) {
		struct za_zone_info zi;
		CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)z, &zi), 0);
		CHECK(!zi.populated);
		CHECK_EQ(zi.managed, 0);
	}
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 2, ZA_ZONE_NORMAL, &zi), -EINVAL);
	CHECK_EQ(za_zone_info(za, 0, ZA_NR_ZONES, &zi), -EINVAL);

	/* good, then overlaps */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S, 2 * BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S, 2 * BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S + BLK, 2 * BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S - BLK, 2 * BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, S + BLK, BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, S - BLK, 4 * BLK, NULL),
	         -EEXIST);
	/* the partly overlapping ones added nothing either */
	CHECK(za_pfn_to_page(za, S - 1) == NULL);
	CHECK(za_pfn_to_page(za, S + 2 * BLK) == NULL);
	CHECK(za_pfn_to_page(za, S) != NULL);
	CHECK(za_pfn_to_page(za, S + 2 * BLK - 1) != NULL);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, 2 * BLK);
	CHECK_EQ(zi.present, 2 * BLK);
	CHECK_EQ(zi.start_pfn, S);
	CHECK_EQ(zi.free, 2 * BLK);
	CHECK(zi.populated);
	CHECK_EQ(za_zone_info(za, 1, ZA_ZONE_NORMAL, &zi), 0);
	CHECK(!zi.populated);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	CHECK(!zi.populated);
	/* adjacent is fine, and the zone grows */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S + 2 * BLK, BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, S + 8 * BLK, BLK, NULL),
	         0);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, 3 * BLK);
	CHECK_EQ(zi.spanned, 3 * BLK);
	struct za_page *p = za_pfn_to_page(za, S + 8 * BLK + 5);
	CHECK(p != NULL);
	CHECK_EQ(za_page_nid(za, p), 1);
	CHECK_EQ(za_page_zone(za, p), ZA_ZONE_NORMAL);
	CHECK_EQ(za_page_to_pfn(za, p), S + 8 * BLK + 5);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void real_memory(unsigned page_shift)
{
	struct za_config c;
	base_cfg(&c);
	c.page_shift = page_shift;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_page_shift(za), page_shift);
	size_t psz = 1UL << page_shift;
	const unsigned long S = 4 * BLK, N = 2 * BLK;
	size_t bytes = N * psz;
	unsigned char *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0xff, bytes);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S, N, mem), 0);
	/* frame-only block beside it */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, S + N, BLK, NULL), 0);
	for (unsigned long pfn = S; pfn < S + N; pfn += 97)
		CHECK(za_page_address(za, za_pfn_to_page(za, pfn)) ==
		      mem + (pfn - S) * psz);
	CHECK(za_page_address(za, za_pfn_to_page(za, S + N)) == NULL);
	CHECK(za_page_address(za, za_pfn_to_page(za, S + N + BLK - 1)) == NULL);

	/* allocate what we can, fill with 0xff, free, allocate with ZERO */
	static struct za_page *pg[4096];
	unsigned n = 0;
	struct za_page *p;
	while (n < 4096 && (p = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL) {
		unsigned char *a = za_page_address(za, p);
		unsigned long pfn = za_page_to_pfn(za, p);
		if (pfn < S + N) {
			CHECK(a == mem + (pfn - S) * psz);
			memset(a, 0xff, psz);
		} else {
			CHECK(a == NULL);
		}
		pg[n++] = p;
	}
	CHECK(n > N / 2);
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, pg[i], 0);
	/* some now sit on the per-CPU list, the rest in the buddy lists */
	unsigned zeroed = 0;
	n = 0;
	while (n < 4096 &&
	       (p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_ZERO, 0)) != NULL) {
		const unsigned char *a = za_page_address(za, p);
		if (a) {
			for (size_t i = 0; i < psz; i++)
				if (a[i] != 0) {
					fprintf(stderr, "ZERO page pfn %#lx byte %zu is %#x\n",
					        za_page_to_pfn(za, p), i, a[i]);
					exit(1);
				}
			zeroed++;
		}
		pg[n++] = p;
	}
	CHECK(zeroed > N / 2);
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, pg[i], 0);

	/* high orders */
	for (unsigned order = 1; order <= 6; order++) {
		struct za_page *b = za_alloc_pages(za, ZA_GFP_KERNEL, order);
		CHECK(b != NULL);
		unsigned char *a = za_page_address(za, b);
		if (a)
			memset(a, 0xff, psz << order);
		za_free_pages(za, b, order);
		b = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_ZERO, order);
		CHECK(b != NULL);
		a = za_page_address(za, b);
		if (a)
			for (size_t i = 0; i < (psz << order); i++)
				CHECK(a[i] == 0);
		za_free_pages(za, b, order);
	}
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	munmap(mem, bytes);
}

int main(void)
{
	tu_watchdog(60);
	defaults();
	bad_configs();
	online_errors();
	real_memory(12);
	real_memory(13);
	small_blocks();
	half_k_pages();
	printf("core_create: ok\n");
	return 0;
}
