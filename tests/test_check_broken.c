/*
 * test_check_broken.c - za_check can fail: each invariant of DESIGN.md is
 * broken on purpose (through the internals), za_check must report it, and
 * once the damage is undone it must pass again. A checker that cannot fail
 * proves nothing.
 */
#include <string.h>

#include "internal.h"
#include "testutil.h"

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
		int _r = check_quiet();                                               \
		if (_r == 0) {                                                        \
			fprintf(stderr, "za_check missed: %s\n", what);                   \
			exit(1);                                                          \
		}                                                                     \
		printf("caught: %s\n", what);                                         \
	} while (0)
#define EXPECT_OK()                                                           \
	do {                                                                      \
		int _r = za_check(za, stderr);                                        \
		CHECK_EQ(_r, 0);                                                      \
	} while (0)

/* The head of some free block of `order` in the NORMAL zone. */
static uint32_t free_block(unsigned order)
{
	for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
		if (zn->free_head[order][mt] != ZA_NIL)
			return zn->free_head[order][mt];
	return ZA_NIL;
}

int main(void)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.block_pages = 1024;
	cfg.max_pfn = 4096;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2048, NULL), 0);
	zn = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	/* Initialise the lazy blocks, so that free blocks are on the lists
	 * (test_core_lazy breaks the lazy ones). */
	buddy_materialize_range(zn, 0, 2048);

	/* Some allocations so that every kind of block exists. */
	struct za_page *held[8];
	for (int i = 0; i < 8; i++)
		CHECK(held[i] = za_alloc_pages(za, ZA_GFP_KERNEL, (unsigned)(i % 3)));
	EXPECT_OK();

	/* 1. A free page whose state says it is allocated. */
	uint32_t h = free_block(za->max_order);
	CHECK(h != ZA_NIL);
	struct za_page *p = pfn_page(za, h);
	p->state = ZA_PS_ALLOC;
	EXPECT_BROKEN("free block head in state ALLOC");
	p->state = ZA_PS_BUDDY;
	EXPECT_OK();

	/* 2. A free block split into two unmerged buddies. (The buddy
	 * functions want the zone lock, as they assert in debug builds.) */
	zone_lock(zn, NULL);
	buddy_del_locked(zn, p, h);
	unsigned o = za->max_order - 1;
	buddy_add_locked(zn, p, h, o, pageblock_mt(za, h));
	buddy_add_locked(zn, pfn_page(za, h + (1u << o)), h + (1u << o), o,
	                 pageblock_mt(za, h));
	zone_unlock(zn);
	EXPECT_BROKEN("two free buddies not merged");
	zone_lock(zn, NULL);
	buddy_del_locked(zn, pfn_page(za, h + (1u << o)), h + (1u << o));
	pfn_page(za, h + (1u << o))->state = ZA_PS_NONE;
	buddy_del_locked(zn, p, h);
	buddy_add_locked(zn, p, h, za->max_order, pageblock_mt(za, h));
	zone_unlock(zn);
	EXPECT_OK();

	/* 3. A free block taken off its list without a trace: a lost page. */
	zone_lock(zn, NULL);
	buddy_del_locked(zn, p, h);
	zone_unlock(zn);
	EXPECT_BROKEN("free block on no list (lost pages)");
	zone_lock(zn, NULL);
	buddy_add_locked(zn, p, h, za->max_order, pageblock_mt(za, h));
	zone_unlock(zn);
	EXPECT_OK();

	/* 4. The free counter off by more than any drift allows. */
	zone_vm_stat(zn, ZA_NR_FREE_PAGES) += 7;
	EXPECT_BROKEN("free-page counter disagrees with the lists");
	zone_vm_stat(zn, ZA_NR_FREE_PAGES) -= 7;
	EXPECT_OK();

	/* 5. A per-CPU count that disagrees with its lists. */
	struct za_page *q = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(q);
	za_free_pages(za, q, 0);
	int cpu = -1;
	for (unsigned c = 0; c < za->nr_cpus; c++)
		if (zn->pcp[c].count)
			cpu = (int)c;
	CHECK(cpu >= 0);
	zn->pcp[cpu].count += 1;
	EXPECT_BROKEN("pcp count disagrees with its lists");
	zn->pcp[cpu].count -= 1;
	EXPECT_OK();

	/* 6. Pages on a page set that is switched off (the seed 004 state). */
	zn->pcp[cpu].flags |= ZA_PCP_OFF_ZONE;
	EXPECT_BROKEN("pages on a disabled pcp list");
	zn->pcp[cpu].flags &= (uint8_t)~ZA_PCP_OFF_ZONE;
	EXPECT_OK();

	/* 6b. The zone's dead set (what a CPU number of no set reaches)
	 * switched on, or holding a block: a block there is on no list that
	 * anyone else looks at. */
	struct za_pcp *dead = za_pcp_dead(za, zn->id);
	uint8_t dead_flags = dead->flags;
	dead->flags = 0;
	EXPECT_BROKEN("the dead set switched on");
	dead->flags = dead_flags;
	EXPECT_OK();
	dead->lists[0] = zn->pcp[cpu].lists[0];
	EXPECT_BROKEN("the dead set holding a block");
	dead->lists[0] = ZA_NIL;
	EXPECT_OK();

	/* 7. A free block on the list of the wrong migratetype. */
	int mt = pageblock_mt(za, h);
	int other = mt == ZA_MT_MOVABLE ? ZA_MT_UNMOVABLE : ZA_MT_MOVABLE;
	zone_lock(zn, NULL);
	buddy_del_locked(zn, p, h);
	buddy_add_locked(zn, p, h, za->max_order, other);
	zone_unlock(zn);
	EXPECT_BROKEN("free block on the wrong migratetype list");
	zone_lock(zn, NULL);
	buddy_del_locked(zn, p, h);
	buddy_add_locked(zn, p, h, za->max_order, mt);
	zone_unlock(zn);
	EXPECT_OK();

	/* 8. An interior page of an allocated block claiming a state. */
	struct za_page *big = held[2]; /* order 2 */
	CHECK_EQ(big->order, 2);
	big[1].state = ZA_PS_ALLOC;
	EXPECT_BROKEN("tail page of an allocated block in state ALLOC");
	big[1].state = ZA_PS_NONE;
	EXPECT_OK();

	/* 9. A zone listed twice in a zonelist. */
	struct za_zoneref *zl = za->nodes[0].zonelist[0];
	CHECK(zl[0].zone && !zl[1].zone);
	zl[1].zone = zl[0].zone;
	EXPECT_BROKEN("zone twice in a zonelist");
	zl[1].zone = NULL;
	EXPECT_OK();

	/* 10. managed that no longer adds up (conservation). */
	zn->managed_pages += 1;
	EXPECT_BROKEN("managed != free + pcp + allocated");
	zn->managed_pages -= 1;
	EXPECT_OK();

	/* 11. A lost page that every count agrees with: half of a free block
	 * gone from the lists, the managed pages and the free counter (only
	 * the walk that covers every page can see it). */
	unsigned long half = 1ul << (za->max_order - 1);
	zone_lock(zn, NULL);
	buddy_del_locked(zn, p, h);
	buddy_add_locked(zn, p, h, za->max_order - 1, mt);
	zone_unlock(zn);
	zn->managed_pages -= half;
	zone_vm_stat(zn, ZA_NR_FREE_PAGES) -= (long)half;
	EXPECT_BROKEN("pages in no block, every count agreeing");
	zn->managed_pages += half;
	zone_vm_stat(zn, ZA_NR_FREE_PAGES) += (long)half;
	zone_lock(zn, NULL);
	buddy_del_locked(zn, p, h);
	buddy_add_locked(zn, p, h, za->max_order, mt);
	zone_unlock(zn);
	EXPECT_OK();

	/* 12. The high-order atomic reserve counting a pageblock that is not
	 * HIGHATOMIC (one an offline took, say): every list and counter of
	 * pages agrees, only the reserve's count is wrong. */
	unsigned long pb_pages = 1ul << za->pageblock_order;
	zn->nr_reserved_highatomic += pb_pages;
	EXPECT_BROKEN("nr_reserved_highatomic counts a pageblock that is not "
	              "HIGHATOMIC");
	zn->nr_reserved_highatomic -= pb_pages;
	EXPECT_OK();

	/* Undo the setup: everything free again, and still consistent. */
	for (int i = 0; i < 8; i++)
		za_free_pages(za, held[i], (unsigned)(i % 3));
	za_drain_all_pages(za);
	EXPECT_OK();
	za_destroy(za);
	printf("1 passed, 0 failed\n");
	return 0;
}
