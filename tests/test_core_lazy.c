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
 *  7. A block of several runs (ZA_LAZY_RUN_PAGES) is initialised one run
 *     per zone-lock hold: an allocation that finds the list empty
 *     initialises one run, highest first; a half-initialised block serves
 *     allocations, frees, compaction, the page owner's walk and za_check;
 *     memory offline initialises the rest a run per hold and lets the zone
 *     lock go in between (a debug point there: the lock is free, and an
 *     allocation and a free go through).
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

/* --- 7. runs ---------------------------------------------------------- */

#define RMAX 10                                /* the default max order */
#define RBLOCK (1ul << 17)                     /* 512 MiB of 4 KiB pages */
#define RBLOCKS (RBLOCK >> RMAX)               /* max-order blocks: 128 */
#define RUN_BLOCKS (ZA_LAZY_RUN_PAGES >> RMAX) /* of them in a run: 32 */
#define NSMALL 4096

/* The client's table of the order-0 pages it holds, which compaction's
 * migrate callback keeps right. */
static struct za_page *small[NSMALL];

static int migrate_small(void *ctx, struct za_page *dst, struct za_page *src,
                         unsigned order)
{
	(void)ctx;
	if (order)
		return -ENOENT;
	for (unsigned i = 0; i < NSMALL; i++)
		if (small[i] == src) {
			small[i] = dst;
			return 0;
		}
	return -ENOENT;
}

static unsigned long left_of(unsigned long pfn)
{
	return za_load_relaxed(&pfn_section(za, pfn)->lazy_left);
}

/* Pages of the block at pfn whose metadata was written (zone id). */
static unsigned long written(unsigned long pfn)
{
	unsigned long n = 0;
	for (unsigned long p = pfn; p < pfn + RBLOCK; p++)
		n += pfn_page(za, p)->zone_id != 0;
	return n;
}

static unsigned long owner_pages(void)
{
	struct za_page_owner_site sites[8];
	long n = za_page_owner_summary(za, sites, 8);
	CHECK(n >= 0 && n <= 8);
	unsigned long pages = 0;
	for (long i = 0; i < n; i++)
		pages += sites[i].pages;
	return pages;
}

static unsigned hook_calls;
static unsigned long hook_left;

/* Between two runs of memory offline's initialisation of block 0. */
static void run_hook(struct za *a, int point, void *arg)
{
	if (point != ZA_DP_LAZY_RUN)
		return;
	struct za_zone *z = arg;
	RULE(za_spin_trylock_raw(&z->lock),
	     "initialising the lazy blocks of a range lets the zone lock go "
	     "between two runs (hold %u)",
	     hook_calls);
	za_spin_unlock_raw(&z->lock);
	unsigned long left = left_of(0);
	RULE(left + RUN_BLOCKS == hook_left,
	     "each zone-lock hold initialises one run of a lazy block: %lu "
	     "max-order blocks left, %lu before",
	     left, hook_left);
	hook_left = left;
	/* An allocation and a free against the half-initialised block. */
	struct za_page *p = za_alloc_pages(a, ZA_GFP_MOVABLE, RMAX);
	CHECK(p);
	unsigned long pfn = za_page_to_pfn(a, p);
	RULE(!pfn_lazy(a, pfn) && pfn < RBLOCK,
	     "a block handed out between two runs lies in the initialised "
	     "part (pfn 0x%lx, lazy part below 0x%lx)",
	     pfn, left << RMAX);
	za_free_pages(a, p, RMAX);
	hook_calls++;
}

static void test_runs(void)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.block_pages = RBLOCK;
	cfg.max_pfn = 2 * RBLOCK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER | ZA_CFG_PAGE_OWNER;
	cfg.migrate = migrate_small;
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za->max_order, RMAX);
	CHECK(RBLOCKS / RUN_BLOCKS == 4);
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, RBLOCK, NULL), 0);
	CHECK_EQ(left_of(0), RBLOCKS);

	/* The first allocation initialises the highest run, no more. */
	struct za_page *big = za_alloc_pages(za, ZA_GFP_MOVABLE, RMAX);
	CHECK(big);
	unsigned long run0 = RBLOCK - ZA_LAZY_RUN_PAGES; /* the run's first pfn */
	RULE(written(0) == ZA_LAZY_RUN_PAGES && left_of(0) == RBLOCKS - RUN_BLOCKS,
	     "an allocation that finds the list empty initialises one run of a "
	     "lazy block (%lu pages), not the whole block: %lu pages written, "
	     "%lu max-order blocks left",
	     ZA_LAZY_RUN_PAGES, written(0), left_of(0));
	RULE(za_page_to_pfn(za, big) == RBLOCK - (1ul << RMAX),
	     "a lazy block's max-order blocks are handed out highest first "
	     "(pfn 0x%lx)",
	     za_page_to_pfn(za, big));
	CHECK(pfn_section(za, 0)->lazy);
	CHECK_EQ(z->nr_lazy, 1);
	CHECK_EQ(z->nr_lazy_blocks, RBLOCKS - RUN_BLOCKS);
	CHECK_EQ(lazy_inits(), 0); /* counted when the block is done */
	CHECK(pfn_lazy(za, run0 - 1) && !pfn_lazy(za, run0));
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, RBLOCK - (1ul << RMAX));
	CHECK_EQ(zi.nr_free[RMAX], RBLOCKS - 1);
	za_debug_set(za, ZA_DEBUG_CHECK_LAZY, 1);
	EXPECT_OK();
	/* za_check's view of a half-initialised block. */
	pfn_page(za, run0 - 1)->next = 5;
	EXPECT_BROKEN("metadata written in the lazy part of a block");
	pfn_page(za, run0 - 1)->next = 0;
	za_debug_set(za, ZA_DEBUG_CHECK_LAZY, 0);
	z->nr_lazy_blocks++;
	EXPECT_BROKEN("lazy max-order block count off by one");
	z->nr_lazy_blocks--;
	pfn_section(za, 0)->lazy_left++;
	z->nr_lazy_blocks++;
	EXPECT_BROKEN("initialised run counted in the lazy part");
	pfn_section(za, 0)->lazy_left--;
	z->nr_lazy_blocks--;
	EXPECT_OK();

	/* The lowest block of the run, beside the lazy part: allocated and
	 * freed; it must not merge or be listed across the boundary. */
	struct za_page *low[RUN_BLOCKS];
	for (unsigned i = 0; i < RUN_BLOCKS - 1; i++) {
		low[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, RMAX);
		CHECK(low[i]);
		CHECK(za_page_to_pfn(za, low[i]) >= run0);
	}
	CHECK_EQ(left_of(0), RBLOCKS - RUN_BLOCKS);
	CHECK_EQ(za_page_to_pfn(za, low[RUN_BLOCKS - 2]), run0);
	za_free_pages(za, low[RUN_BLOCKS - 2], RMAX);
	EXPECT_OK();
	low[RUN_BLOCKS - 2] = za_alloc_pages(za, ZA_GFP_MOVABLE, RMAX);
	CHECK_EQ(za_page_to_pfn(za, low[RUN_BLOCKS - 2]), run0);
	/* The run is all handed out: the next one is initialised. */
	low[RUN_BLOCKS - 1] = za_alloc_pages(za, ZA_GFP_MOVABLE, RMAX);
	CHECK(low[RUN_BLOCKS - 1]);
	CHECK_EQ(za_page_to_pfn(za, low[RUN_BLOCKS - 1]), run0 - (1ul << RMAX));
	RULE(left_of(0) == RBLOCKS - 2 * RUN_BLOCKS &&
	         written(0) == 2 * ZA_LAZY_RUN_PAGES,
	     "the next run is initialised when the list runs dry again: %lu "
	     "max-order blocks left",
	     left_of(0));
	EXPECT_OK();
	for (unsigned i = 0; i < RUN_BLOCKS; i++)
		za_free_pages(za, low[i], RMAX);
	EXPECT_OK();

	/* Order-0 movable pages, every other one freed: fragmented pageblocks
	 * in the initialised part, lazy memory below them. */
	for (unsigned i = 0; i < NSMALL; i++) {
		small[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
		CHECK(small[i]);
		CHECK(!pfn_lazy(za, za_page_to_pfn(za, small[i])));
	}
	for (unsigned i = 0; i < NSMALL; i += 2) {
		za_free_pages(za, small[i], 0);
		small[i] = NULL;
	}
	za_drain_all_pages(za);
	CHECK(pfn_section(za, 0)->lazy);
	EXPECT_OK();
	RULE(owner_pages() == (1ul << RMAX) + NSMALL / 2,
	     "the page owner's walk sees the blocks in use in a "
	     "half-initialised block (%lu pages)",
	     owner_pages());
	unsigned long left = left_of(0);
	uint64_t moved = za_event_count(za, ZA_COMPACT_MIGRATE_SCANNED);
	int rc = za_compact(za, 0);
	RULE(rc == 0,
	     "compaction works in the initialised part of a half-initialised "
	     "block (za_compact %d, %llu pages scanned)",
	     rc,
	     (unsigned long long)(za_event_count(za, ZA_COMPACT_MIGRATE_SCANNED) -
	                          moved));
	CHECK_EQ(left_of(0), left);
	for (unsigned i = 0; i < NSMALL; i++)
		CHECK(!small[i] || !pfn_lazy(za, za_page_to_pfn(za, small[i])));
	EXPECT_OK();
	for (unsigned i = 0; i < NSMALL; i++)
		if (small[i])
			za_free_pages(za, small[i], 0);
	za_free_pages(za, big, RMAX);
	za_drain_all_pages(za);
	EXPECT_OK();

	/* A second block comes online (first on the lazy list now); memory
	 * offline of the half-initialised one initialises its other runs,
	 * one per hold, the lock let go in between. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, RBLOCK, RBLOCK, NULL), 0);
	CHECK_EQ(z->lazy_head, 1);
	hook_calls = 0;
	hook_left = left_of(0);
	unsigned long runs_left = (left_of(0) + RUN_BLOCKS - 1) / RUN_BLOCKS;
	CHECK(runs_left >= 2);
	za_store_relaxed(&za->debug_hook, run_hook);
	CHECK_EQ(za_memory_offline(za, 0, RBLOCK), 0);
	za_store_relaxed(&za->debug_hook, NULL);
	if (za_debug)
		RULE(hook_calls == runs_left - 1,
		     "memory offline initialises a half-initialised block a run "
		     "per zone-lock hold: %u points between %lu runs",
		     hook_calls, runs_left);
	else
		printf("runs: no debug points (ZA_DEBUG=0): hold count not seen\n");
	CHECK_EQ(left_of(RBLOCK), RBLOCKS); /* the other block untouched */
	EXPECT_OK();
	CHECK_EQ(za_memory_offline(za, RBLOCK, RBLOCK), 0); /* wholly lazy */
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, 0);
	EXPECT_OK();
	printf("runs: %lu-page block, %lu pages a run, %u points between the "
	       "runs of an offline\n",
	       RBLOCK, ZA_LAZY_RUN_PAGES, hook_calls);
	za_destroy(za);
	za = NULL;
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
	test_runs();
	printf("lazy: ok\n");
	return 0;
}
