/*
 * test_core_lazy.c - lazily initialised memory (internal.h, struct
 * za_section): a block that comes online is free and counted, but its
 * page metadata is written only when its zone first needs it.
 *
 *  1. Online writes no page metadata: every block is lazy, counted free,
 *     and za_check passes.
 *  2. Allocations at every order, unmovable and movable, out of lazy
 *     memory: each block handed out lies in the zone, is aligned, overlaps
 *     no other and heads an initialised block; blocks are initialised one
 *     at a time, only when the lists run dry; za_check passes throughout;
 *     after everything is freed the zone is whole max-order blocks again.
 *  3. Memory offline: a wholly lazy range goes without being initialised;
 *     a mixed range is initialised and goes the usual way; a refused
 *     offline (-EBUSY) leaves a lazy block lazy.
 *  4. Contiguous allocation out of lazy memory.
 *  5. A block that shares an OS page of metadata with a neighbour comes
 *     back online clean after going offline (its old metadata is wiped).
 *  6. za_check catches every broken lazy invariant.
 */
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define MAX_ORDER 4
#define BLOCK 64ul /* 4 max-order blocks per hotplug block */
#define NBLOCKS 8
#define NPAGES (BLOCK * NBLOCKS)

static struct za *za;
static struct za_zone *zn;

static int check_quiet(void)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	int r = za_check(za, f);
	fclose(f);
	return r;
}

#define EXPECT_BROKEN(what)                                                   \
	do {                                                                      \
		if (check_quiet() == 0) {                                             \
			fprintf(stderr, "za_check missed: %s\n", what);                   \
			exit(1);                                                          \
		}                                                                     \
		printf("caught: %s\n", what);                                         \
	} while (0)
#define EXPECT_OK() CHECK_EQ(za_check(za, stderr), 0)

static struct za *make(unsigned long max_pfn)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.max_order = MAX_ORDER;
	cfg.block_pages = BLOCK;
	cfg.max_pfn = max_pfn;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *z = za_create(&cfg);
	CHECK(z);
	return z;
}

static unsigned long lazy_sections(unsigned long start, unsigned long nr)
{
	unsigned long n = 0;
	for (unsigned long p = start; p < start + nr; p += BLOCK)
		n += pfn_section(za, p)->lazy;
	return n;
}

static unsigned long lazy_inits(void)
{
	return (unsigned long)za_event_count(za, ZA_LAZY_INIT);
}

static void test_online(void)
{
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, NPAGES, NULL), 0);
	CHECK_EQ(lazy_sections(0, NPAGES), NBLOCKS);
	CHECK_EQ(zn->nr_lazy, NBLOCKS);
	CHECK_EQ(lazy_inits(), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, NPAGES);
	CHECK_EQ(zi.free, NPAGES);
	CHECK_EQ(zi.nr_free[MAX_ORDER] << MAX_ORDER, NPAGES);
	/* No page's metadata was written. */
	for (unsigned long p = 0; p < NPAGES; p++) {
		struct za_page *pg = pfn_page(za, p);
		CHECK(pg->state == 0 && pg->next == 0 && pg->zone_id == 0);
	}
	EXPECT_OK();
}

static void test_every_order(void)
{
	struct {
		struct za_page *p;
		unsigned order;
	} held[NPAGES];
	unsigned nheld = 0;
	uint8_t used[NPAGES] = { 0 };
	unsigned long pages = 0;
	uint64_t seed = 42;

	/* Up to 3/4 of the zone (the watermarks keep some back), at every
	 * order from 0 to MAX_ORDER, unmovable requests falling back on the
	 * MOVABLE lazy blocks and movable ones taking them directly. */
	for (unsigned i = 0; pages + (1ul << MAX_ORDER) <= NPAGES * 3 / 4; i++) {
		unsigned order = i % (MAX_ORDER + 1);
		za_gfp_t gfp = (i / (MAX_ORDER + 1)) % 2 ? ZA_GFP_MOVABLE
		                                         : ZA_GFP_KERNEL;
		struct za_page *p = za_alloc_pages(za, gfp, order);
		CHECK(p);
		unsigned long pfn = za_page_to_pfn(za, p);
		CHECK(pfn + (1ul << order) <= NPAGES);
		CHECK_EQ(pfn & ((1ul << order) - 1), 0);
		CHECK_EQ(page_state(p), ZA_PS_ALLOC);
		CHECK(page_zone(za, p) == zn);
		CHECK(!pfn_section(za, pfn)->lazy);
		for (unsigned long k = 0; k < (1ul << order); k++) {
			CHECK(!used[pfn + k]);
			used[pfn + k] = 1;
			/* Every page of the block is initialised. */
			CHECK_EQ(pfn_page(za, pfn + k)->zone_id, zn->id);
		}
		/* The first allocation initialised one block, no more. */
		if (i == 0) {
			CHECK_EQ(lazy_inits(), 1);
			CHECK_EQ(lazy_sections(0, NPAGES), NBLOCKS - 1);
		}
		held[nheld].p = p;
		held[nheld].order = order;
		nheld++;
		pages += 1ul << order;
		if (i % 7 == 0)
			EXPECT_OK();
	}
	EXPECT_OK();
	/* Each initialised block is one that is no longer lazy. */
	CHECK_EQ(lazy_inits() + lazy_sections(0, NPAGES), NBLOCKS);
	CHECK(lazy_inits() >= pages / BLOCK);

	/* Free in a random order; the zone merges back whole. */
	for (unsigned i = nheld; i > 1; i--) {
		unsigned j = (unsigned)(tu_rand(&seed) % i);
		__typeof__(held[0]) t = held[i - 1];
		held[i - 1] = held[j];
		held[j] = t;
	}
	for (unsigned i = 0; i < nheld; i++)
		za_free_pages(za, held[i].p, held[i].order);
	za_drain_all_pages(za);
	EXPECT_OK();
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.nr_free[MAX_ORDER] << MAX_ORDER, NPAGES);
	CHECK_EQ(zi.free, NPAGES);
}

static void test_offline(void)
{
	unsigned long inits = lazy_inits();
	struct za_zone_info zi;

	/* A wholly lazy range: gone without being initialised. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, NPAGES, 2 * BLOCK, NULL),
	         0);
	CHECK_EQ(lazy_sections(NPAGES, 2 * BLOCK), 2);
	EXPECT_OK();
	CHECK_EQ(za_memory_offline(za, NPAGES, 2 * BLOCK), 0);
	CHECK_EQ(lazy_inits(), inits);
	CHECK(za_pfn_to_page(za, NPAGES) == NULL);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, NPAGES);
	CHECK_EQ(zi.free, NPAGES);
	EXPECT_OK();

	/* A mixed range: one block initialised (an allocation), one lazy. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, NPAGES, 2 * BLOCK, NULL),
	         0);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(p);
	unsigned long pfn = za_page_to_pfn(za, p);
	CHECK(pfn >= NPAGES && pfn < NPAGES + 2 * BLOCK);
	CHECK_EQ(lazy_sections(NPAGES, 2 * BLOCK), 1);
	za_free_pages(za, p, 0);
	EXPECT_OK();
	inits = lazy_inits();
	CHECK_EQ(za_memory_offline(za, NPAGES, 2 * BLOCK), 0);
	CHECK_EQ(lazy_inits(), inits + 1); /* the other block, for isolation */
	EXPECT_OK();

	/* Refused: an unmovable page in use in one block of the range; the
	 * lazy block beside it stays lazy. (DMA32: a zone of its own, so the
	 * allocation comes out of the new range.) */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, NPAGES, 2 * BLOCK, NULL),
	         0);
	p = za_alloc_pages(za, ZA_GFP_DMA32, 0);
	CHECK(p);
	CHECK(za_page_to_pfn(za, p) >= NPAGES);
	unsigned long blk = za_page_to_pfn(za, p) & ~(BLOCK - 1);
	unsigned long other = blk == NPAGES ? NPAGES + BLOCK : NPAGES;
	CHECK_EQ(pfn_section(za, other)->lazy, 1);
	inits = lazy_inits();
	CHECK_EQ(za_memory_offline(za, NPAGES, 2 * BLOCK), -EBUSY);
	CHECK_EQ(pfn_section(za, other)->lazy, 1);
	CHECK_EQ(lazy_inits(), inits);
	EXPECT_OK();
	za_free_pages(za, p, 0);
	za_drain_all_pages(za);
	CHECK_EQ(za_memory_offline(za, NPAGES, 2 * BLOCK), 0);
	EXPECT_OK();
}

static void test_contig(void)
{
	/* Fresh lazy memory in its own zone. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, NPAGES, 4 * BLOCK, NULL),
	         0);
	CHECK_EQ(lazy_sections(NPAGES, 4 * BLOCK), 4);
	struct za_page *r = za_alloc_contig_pages(za, BLOCK, ZA_GFP_MOVABLE);
	CHECK(r);
	unsigned long pfn = za_page_to_pfn(za, r);
	CHECK(pfn >= NPAGES && pfn + BLOCK <= NPAGES + 4 * BLOCK);
	EXPECT_OK();
	za_free_contig_pages(za, r, BLOCK);
	EXPECT_OK();
	CHECK_EQ(za_memory_offline(za, NPAGES, 4 * BLOCK), 0);
	EXPECT_OK();
}

/* Blocks of 64 pages have 1 KiB of metadata: four share an OS page. A
 * block that goes offline leaves its metadata in the shared page; when it
 * comes back it must read as lazy (zero) again. */
static void test_shared_meta_page(void)
{
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, NPAGES, 2 * BLOCK, NULL),
	         0);
	buddy_materialize_range(&za->nodes[0].zones[ZA_ZONE_MOVABLE], NPAGES,
	                        2 * BLOCK);
	CHECK_EQ(lazy_sections(NPAGES, 2 * BLOCK), 0);
	EXPECT_OK();
	CHECK_EQ(za_memory_offline(za, NPAGES, BLOCK), 0);
	/* The neighbour's metadata is still there (same OS page)... */
	CHECK_EQ(pfn_page(za, NPAGES + BLOCK)->zone_id,
	         za->nodes[0].zones[ZA_ZONE_MOVABLE].id);
	/* ...and so is what offline left in the block's own. */
	CHECK(pfn_page(za, NPAGES)->state != 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, NPAGES, BLOCK, NULL), 0);
	for (unsigned long p = NPAGES; p < NPAGES + BLOCK; p++) {
		struct za_page *pg = pfn_page(za, p);
		CHECK(pg->state == 0 && pg->next == 0 && pg->order == 0);
	}
	za_debug_set(za, ZA_DEBUG_CHECK_LAZY, 1);
	EXPECT_OK();
	za_debug_set(za, ZA_DEBUG_CHECK_LAZY, 0);
	CHECK_EQ(za_memory_offline(za, NPAGES, 2 * BLOCK), 0);
	EXPECT_OK();
}

static void test_check_catches(void)
{
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, NPAGES, 2 * BLOCK, NULL),
	         0);
	struct za_zone *zm = &za->nodes[0].zones[ZA_ZONE_MOVABLE];
	EXPECT_OK();
	unsigned long s = NPAGES >> za->block_shift;
	CHECK(za->sections[s].lazy);

	/* 1. A page handed out of a lazy block without initialising it. */
	struct za_page *first = pfn_page(za, NPAGES);
	first->state = ZA_PS_ALLOC;
	EXPECT_BROKEN("allocated page in a lazy block");
	first->state = 0;
	EXPECT_OK();

	/* 2. The same deeper inside, seen when every page is read. */
	struct za_page *mid = pfn_page(za, NPAGES + 17);
	mid->next = 5;
	za_debug_set(za, ZA_DEBUG_CHECK_LAZY, 1);
	EXPECT_BROKEN("metadata written inside a lazy block");
	mid->next = 0;
	EXPECT_OK();
	za_debug_set(za, ZA_DEBUG_CHECK_LAZY, 0);

	/* 3. The lazy count disagrees with the list. */
	zm->nr_lazy++;
	EXPECT_BROKEN("lazy count off by one");
	zm->nr_lazy--;
	EXPECT_OK();

	/* 4. The free count of the max-order list disagrees. */
	zm->nr_free[MAX_ORDER][ZA_MT_MOVABLE]++;
	EXPECT_BROKEN("max-order free count off by one");
	zm->nr_free[MAX_ORDER][ZA_MT_MOVABLE]--;
	EXPECT_OK();

	/* 5. A lazy block whose pageblock is not MOVABLE. */
	set_pageblock_mt(za, NPAGES, ZA_MT_UNMOVABLE);
	EXPECT_BROKEN("lazy pageblock of another type");
	set_pageblock_mt(za, NPAGES, ZA_MT_MOVABLE);
	EXPECT_OK();

	/* 6. A block marked lazy that is on no lazy list. */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(p);
	unsigned long blk = za_page_to_pfn(za, p) & ~(BLOCK - 1);
	za_free_pages(za, p, 0);
	za_drain_all_pages(za);
	CHECK(!pfn_section(za, blk)->lazy);
	pfn_section(za, blk)->lazy = 1;
	EXPECT_BROKEN("block marked lazy off the lazy list");
	pfn_section(za, blk)->lazy = 0;
	EXPECT_OK();

	/* 7. A lazy block also on the free lists. */
	unsigned long lz = blk == NPAGES ? NPAGES + BLOCK : NPAGES;
	CHECK(pfn_section(za, lz)->lazy);
	pfn_page(za, lz)->zone_id = zm->id; /* debug builds assert it */
	zone_lock(zm, NULL);
	buddy_add_locked(zm, pfn_page(za, lz), lz, MAX_ORDER, ZA_MT_MOVABLE);
	zone_unlock(zm);
	EXPECT_BROKEN("lazy block on a free list");
	zone_lock(zm, NULL);
	buddy_del_locked(zm, pfn_page(za, lz), lz);
	zone_unlock(zm);
	memset(pfn_page(za, lz), 0, sizeof(struct za_page));
	EXPECT_OK();

	CHECK_EQ(za_memory_offline(za, NPAGES, 2 * BLOCK), 0);
	EXPECT_OK();
}

int main(void)
{
	tu_watchdog(60);
	za = make(NPAGES + 4 * BLOCK);
	zn = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	test_online();
	test_every_order();
	test_offline();
	test_contig();
	test_shared_meta_page();
	test_check_catches();
	za_destroy(za);
	printf("lazy: ok\n");
	return 0;
}
