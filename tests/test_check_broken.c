/*
 * test_check_broken.c - za_check can fail: each invariant of DESIGN.md is
 * broken on purpose (through the internals), za_check must report it, and
 * once the damage is undone it must pass again. A checker that cannot fail
 * proves nothing.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

static struct za *za;
static struct za_zone *zn;

static char check_out[8192];

static int check_quiet(void)
{
	memset(check_out, 0, sizeof(check_out));
	FILE *f = fmemopen(check_out, sizeof(check_out) - 1, "w");
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
		CHECK_EQ(_r, -EUCLEAN);                                               \
		printf("caught: %s\n", what);                                         \
	} while (0)
/* The same, and the report names the invariant: `says` is in it. */
#define EXPECT_BROKEN_SAYING(what, says)                                      \
	do {                                                                      \
		EXPECT_BROKEN(what);                                                  \
		if (!strstr(check_out, says)) {                                       \
			fprintf(stderr, "za_check caught %s but did not say \"%s\":\n%s", \
			        what, says, check_out);                                   \
			exit(1);                                                          \
		}                                                                     \
		printf("  %.*s\n", (int)strcspn(check_out, "\n"), check_out);         \
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

/* --- a threshold that drops beside za_check --------------------------------- */

/* Not a broken state: a quiescent point at which kswapd begins reclaim.
 * Pressure drops the statistics thresholds; the recompute stores the new
 * one, then folds every CPU's deltas built up under the old one - which
 * waits for the page sets za_check holds. A za_check that holds them
 * then must not compare those deltas with the new threshold: it takes
 * tunables_lock per zone and runs before the drop or after the fold
 * (review 21, finding 2). The hook at ZA_DP_THRESHOLD_SET (debug builds)
 * starts za_check on another thread between the store and the fold. */
static __thread int tl_cpu;
static int sim_cpu(void *ctx)
{
	(void)ctx;
	return tl_cpu;
}

static struct za *drop_za;
static pthread_t drop_checker;
static int drop_started;
static _Atomic int drop_rc = 1;
static char drop_out[8192];

static void *drop_check(void *arg)
{
	(void)arg;
	FILE *f = fmemopen(drop_out, sizeof(drop_out) - 1, "w");
	int r = za_check(drop_za, f);
	fclose(f);
	drop_rc = r;
	return NULL;
}

static void drop_hook(struct za *h, int dp, void *arg)
{
	if (dp != ZA_DP_THRESHOLD_SET || drop_started ||
	    arg != &h->nodes[0].zones[ZA_ZONE_NORMAL])
		return;
	drop_started = 1;
	CHECK_EQ(pthread_create(&drop_checker, NULL, drop_check, NULL), 0);
	/* Until that za_check returns (it holds the sets, and would wait
	 * for nothing here), or a second: it waits for this recompute. */
	for (int i = 0; i < 100 && drop_rc == 1; i++)
		usleep(10 * 1000);
}

static void part_threshold_drop(void)
{
	if (!za_debug) {
		printf("threshold drop beside za_check: no test hook in this "
		       "build, skipped\n");
		return;
	}
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 4;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = 32768;
	cfg.max_pfn = 32768;
	cfg.min_free_kbytes = 128; /* low - min 32: 8 a CPU under pressure */
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER | ZA_CFG_PCP_FIXED;
	cfg.pcp_batch = 2;
	cfg.pcp_high = 8;
	drop_za = za_create(&cfg);
	CHECK(drop_za);
	CHECK_EQ(za_memory_online(drop_za, 0, ZA_ZONE_NORMAL, 0, 32768, NULL), 0);
	struct za_zone *z = &drop_za->nodes[0].zones[ZA_ZONE_NORMAL];
	int old = z->stat_threshold;
	/* Each CPU takes its threshold's worth of pages in refills of 2:
	 * a delta of -old on every CPU, none folded. */
	CHECK(old % 2 == 0);
	struct za_page *held[4][64];
	CHECK(old <= 64);
	for (int c = 0; c < 4; c++) {
		tl_cpu = c;
		for (int i = 0; i < old; i++)
			CHECK(held[c][i] = za_alloc_pages(drop_za, ZA_GFP_KERNEL, 0));
		CHECK_EQ(z->pcp[c].vm_diff[ZA_NR_FREE_PAGES], -old);
	}
	/* What kswapd's pressure_begin does. */
	za_store_relaxed(&drop_za->debug_hook, drop_hook);
	za_add_acqrel(&drop_za->reclaim_active, 1);
	tunables_update(drop_za, TUNABLES_PRESSURE);
	za_store_relaxed(&drop_za->debug_hook, NULL);
	CHECK_EQ(drop_started, 1);
	CHECK_EQ(pthread_join(drop_checker, NULL), 0);
	printf("threshold drop beside za_check: %d -> %d, za_check %d\n", old,
	       z->stat_threshold, (int)drop_rc);
	CHECK(z->stat_threshold < old);
	RULE(drop_rc == 0,
	     "za_check (a quiescent point while a threshold drops: the deltas "
	     "of the old one are compared with it, or folded first): %d\n%s",
	     (int)drop_rc, drop_out);
	za_add_acqrel(&drop_za->reclaim_active, -1u);
	tunables_update(drop_za, TUNABLES_PRESSURE);
	for (int c = 0; c < 4; c++)
		for (int i = 0; i < old; i++)
			za_free_pages(drop_za, held[c][i], 0);
	CHECK_EQ(za_check(drop_za, stderr), 0);
	za_destroy(drop_za);
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

	/* 13. A range left isolated (an offline or a contiguous allocation
	 * that failed and forgot to unisolate): za_check holds the
	 * memory-hotplug lock, so at a quiescent point no pageblock is
	 * isolated but those of contiguous ranges in use, and no free page is
	 * on an isolate list (they are lost to every allocation). */
	uint8_t saved[64];
	CHECK((za->block_pages >> za->pageblock_order) < 64);
	/* The block with none of the unmovable pages held above. */
	unsigned long blk1 = 0;
	int iso_err = -EBUSY;
	mem_hotplug_lock(za);
	for (; iso_err && blk1 < 2 * za->block_pages; blk1 += za->block_pages)
		iso_err = isolate_range(za, zn, blk1, za->block_pages, saved);
	blk1 -= za->block_pages;
	mem_hotplug_unlock(za);
	CHECK_EQ(iso_err, 0);
	EXPECT_BROKEN_SAYING("a range left isolated", "on isolate lists");
	CHECK(strstr(check_out, "an isolation left behind"));
	mem_hotplug_lock(za);
	unisolate_range(za, zn, blk1, za->block_pages, saved);
	mem_hotplug_unlock(za);
	EXPECT_OK();

	/* 14. The count of isolated pageblocks off (a free decides by it
	 * whether to look up its pageblock's type). */
	zn->nr_isolate_pageblock += 1;
	EXPECT_BROKEN_SAYING("nr_isolate_pageblock counts a pageblock not "
	                     "isolated",
	                     "nr_isolate_pageblock is 1, 0 of its pageblocks");
	zn->nr_isolate_pageblock -= 1;
	EXPECT_OK();

	/* 15. A pageblock isolated and counted, in no contiguous range: the
	 * census of isolated pageblocks against the contiguous ranges in use
	 * says so (its free blocks, left on their lists, say so too). */
	struct za_page *pbp = held[0];
	unsigned long pbpfn = pageblock_start(za, za_page_to_pfn(za, pbp));
	int pbmt = pageblock_mt(za, pbpfn);
	zone_lock(zn, NULL);
	set_pageblock_mt(za, pbpfn, ZA_MT_ISOLATE);
	zn->nr_isolate_pageblock += 1;
	zone_unlock(zn);
	EXPECT_BROKEN_SAYING("a pageblock isolated outside any contiguous range",
	                     "the contiguous ranges in use hold 0");
	zone_lock(zn, NULL);
	set_pageblock_mt(za, pbpfn, pbmt);
	zn->nr_isolate_pageblock -= 1;
	zone_unlock(zn);
	EXPECT_OK();

	/* 16. Pages left taken out (state OFFLINE) in an online block,
	 * outside a contiguous range, every count adjusted: lost for good. */
	h = free_block(za->max_order);
	CHECK(h != ZA_NIL);
	p = pfn_page(za, h);
	mt = p->mt;
	unsigned long chunk = 1ul << za->max_order;
	zone_lock(zn, NULL);
	buddy_del_locked(zn, p, h);
	for (unsigned long i = 0; i < chunk; i++)
		set_page_state(pfn_page(za, h + i), ZA_PS_OFFLINE);
	zone_unlock(zn);
	zone_vm_stat(zn, ZA_NR_FREE_PAGES) -= (long)chunk;
	EXPECT_BROKEN_SAYING("pages taken out (OFFLINE) outside a contiguous "
	                     "range",
	                     "taken out (state OFFLINE");
	zone_lock(zn, NULL);
	for (unsigned long i = 0; i < chunk; i++)
		set_page_state(pfn_page(za, h + i), ZA_PS_NONE);
	buddy_add_locked(zn, p, h, za->max_order, mt);
	zone_unlock(zn);
	zone_vm_stat(zn, ZA_NR_FREE_PAGES) += (long)chunk;
	EXPECT_OK();

	/* 17. An online CPU's page set left disabled for the zone, empty (a
	 * memory offline that forgot to enable the sets again), and the
	 * zone's switch left on too. */
	unsigned oc = 1;
	za_drain_all_pages(za);
	CHECK_EQ(zn->pcp[oc].count, 0);
	zn->pcp[oc].flags |= ZA_PCP_OFF_ZONE;
	EXPECT_BROKEN_SAYING("an online CPU's page set left disabled for the "
	                     "zone",
	                     "is disabled for the zone");
	zn->pcp[oc].flags &= (uint8_t)~ZA_PCP_OFF_ZONE;
	EXPECT_OK();
	zn->pcp_disabled = 1;
	for (unsigned c = 0; c < za->nr_cpus; c++)
		zn->pcp[c].flags |= ZA_PCP_OFF_ZONE;
	EXPECT_BROKEN_SAYING("a zone's page sets left disabled", "pcp_disabled 1");
	for (unsigned c = 0; c < za->nr_cpus; c++)
		zn->pcp[c].flags &= (uint8_t)~ZA_PCP_OFF_ZONE;
	zn->pcp_disabled = 0;
	EXPECT_OK();

	/* 18. An online CPU's page set flagged CPU-offline: that CPU never
	 * uses its lists again. */
	zn->pcp[oc].flags |= ZA_PCP_OFF_CPU;
	EXPECT_BROKEN_SAYING("an online CPU's page set flagged CPU-offline",
	                     "the CPU is online but its page set is flagged");
	zn->pcp[oc].flags &= (uint8_t)~ZA_PCP_OFF_CPU;
	EXPECT_OK();

	/* 19. An offline CPU's page set switched on: a free made for that
	 * CPU (a stale CPU number) parks pages where no drain looks. Also in
	 * a zone with no memory: a CPU's flip switches every zone's set. */
	CHECK_EQ(za_cpu_offline(za, oc), 0);
	EXPECT_OK();
	uint8_t of = zn->pcp[oc].flags;
	zn->pcp[oc].flags = 0;
	EXPECT_BROKEN_SAYING("an offline CPU's page set switched on",
	                     "the CPU is offline but its page set is not flagged");
	zn->pcp[oc].flags = of;
	EXPECT_OK();
	struct za_zone *dma = &za->nodes[0].zones[ZA_ZONE_DMA];
	CHECK(!zone_populated(dma));
	of = dma->pcp[oc].flags;
	dma->pcp[oc].flags = 0;
	EXPECT_BROKEN_SAYING("an offline CPU's page set of an empty zone "
	                     "switched on",
	                     "zone DMA: the CPU is offline");
	dma->pcp[oc].flags = of;
	EXPECT_OK();
	CHECK_EQ(za_cpu_online(za, oc), 0);
	EXPECT_OK();

	/* 20. present_pages not the pages of the zone's online blocks, and
	 * a span that is not theirs exactly. */
	zn->present_pages += za->block_pages;
	EXPECT_BROKEN_SAYING("present_pages more than the online blocks hold",
	                     "present_pages is");
	zn->present_pages -= za->block_pages;
	EXPECT_OK();
	zn->end_pfn += za->block_pages;
	EXPECT_BROKEN_SAYING("a span wider than the online blocks", "spans pfn");
	zn->end_pfn -= za->block_pages;
	EXPECT_OK();

	/* 21. A zonelist with every zone once, in the wrong order: DMA32
	 * before Normal, so that every ZA_GFP_KERNEL request drains DMA32
	 * first. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, 2 * za->block_pages,
	                          za->block_pages, NULL),
	         0);
	EXPECT_OK();
	zl = za->nodes[0].zonelist[0];
	CHECK(zl[0].zone == zn && zl[1].zone && !zl[2].zone);
	zl[0].zone = zl[1].zone;
	zl[1].zone = zn;
	EXPECT_BROKEN_SAYING("a zonelist in the wrong order",
	                     "entry 0 is DMA32 of node 0");
	zl[1].zone = zl[0].zone;
	zl[0].zone = zn;
	EXPECT_OK();
	CHECK_EQ(za_memory_offline(za, 2 * za->block_pages, za->block_pages), 0);
	EXPECT_OK();

	/* 22. A contiguous range in use with one of its pageblocks no longer
	 * isolated (the census count adjusted to match): a free could hand
	 * its pages to the buddy lists while the range still holds them. */
	unsigned long cn = 1ul << za->max_order;
	struct za_page *cr = za_alloc_contig_pages(za, cn, ZA_GFP_MOVABLE);
	CHECK(cr);
	EXPECT_OK();
	unsigned long cq = page_pfn(za, cr);
	CHECK_EQ(pageblock_mt(za, cq), ZA_MT_ISOLATE);
	set_pageblock_mt(za, cq, ZA_MT_MOVABLE);
	zn->nr_isolate_pageblock -= 1;
	EXPECT_BROKEN_SAYING("a contiguous range in use with a pageblock not "
	                     "isolated",
	                     "not isolated");
	set_pageblock_mt(za, cq, ZA_MT_ISOLATE);
	zn->nr_isolate_pageblock += 1;
	EXPECT_OK();
	za_free_contig_pages(za, cr, cn);
	EXPECT_OK();

	/* 23. A buddy list's count (nr_free) one block above what the list
	 * holds, every count of pages agreeing: an allocation that trusts
	 * the count looks for a block that is not there. Too high as well
	 * as too low is a broken count. */
	h = free_block(za->max_order);
	CHECK(h != ZA_NIL);
	mt = pageblock_mt(za, h);
	zn->nr_free[za->max_order][mt] += 1;
	EXPECT_BROKEN_SAYING("a buddy list's count above the blocks on it",
	                     "free blocks, the list has");
	zn->nr_free[za->max_order][mt] -= 1;
	EXPECT_OK();
	zn->nr_free[za->max_order][mt] -= 1;
	EXPECT_BROKEN_SAYING("a buddy list's count below the blocks on it",
	                     "free blocks, the list has");
	zn->nr_free[za->max_order][mt] += 1;
	EXPECT_OK();

	/* 24. A buddy list's head whose back link names another block, not
	 * none: a deletion that follows it would unlink that block's
	 * neighbour. Every block of a list links back to the one before it,
	 * the head to none. */
	p = pfn_page(za, h);
	CHECK_EQ(p->prev, ZA_NIL);
	uint32_t other_pfn = h ^ (1u << za->max_order);
	p->prev = other_pfn;
	EXPECT_BROKEN_SAYING("a buddy list's head with a back link", "back link");
	p->prev = ZA_NIL;
	EXPECT_OK();

	/* 25. A statistics delta past the zone's threshold (a fold that was
	 * lost), the sum of the deltas exact: two CPUs' deltas of opposite
	 * signs, each three thresholds wide. The global value and the
	 * snapshot both agree with the lists, yet the drift is unbounded the
	 * moment one of them folds. Then one delta just past the threshold,
	 * the global value moved the other way: the drift within the
	 * thresholds' sum. za_check folds them itself, so it must look
	 * before, per CPU (review 21, finding 1). */
	long th = zn->stat_threshold;
	CHECK(th > 0);
	zn->pcp[0].vm_diff[ZA_NR_FREE_PAGES] += (int32_t)(3 * th);
	zn->pcp[1].vm_diff[ZA_NR_FREE_PAGES] -= (int32_t)(3 * th);
	EXPECT_BROKEN_SAYING("two deltas past the threshold, cancelling",
	                     "nr_free_pages delta");
	EXPECT_OK(); /* folded: exact again */
	zn->pcp[1].vm_diff[ZA_NR_ZONE_ALLOCATED] += (int32_t)(th + 1);
	zone_vm_stat(zn, ZA_NR_ZONE_ALLOCATED) -= th + 1;
	EXPECT_BROKEN_SAYING("a delta one past the threshold",
	                     "zonealloc_nr_allocated delta");
	EXPECT_OK();

	/* 26. An offline CPU's set still holding deltas (its offline did not
	 * fold them): the global value and the snapshot agree with the
	 * lists, and the drift is within any bound - only that CPU's set
	 * shows it. Then allocated pages its set handed out and did not
	 * fold (alloc_base - count). */
	CHECK_EQ(za_cpu_offline(za, oc), 0);
	EXPECT_OK();
	zn->pcp[oc].vm_diff[ZA_NR_FREE_PAGES] += 1;
	zone_vm_stat(zn, ZA_NR_FREE_PAGES) -= 1;
	EXPECT_BROKEN_SAYING("an offline CPU holding a delta of 1",
	                     "and the CPU is offline");
	EXPECT_OK();
	zn->pcp[oc].alloc_base += 2;
	zone_vm_stat(zn, ZA_NR_ZONE_ALLOCATED) -= 2;
	EXPECT_BROKEN_SAYING("an offline CPU holding allocated pages not folded",
	                     "allocated pages not folded");
	EXPECT_OK();
	CHECK_EQ(za_cpu_online(za, oc), 0);
	EXPECT_OK();

	/* Undo the setup: everything free again, and still consistent. */
	for (int i = 0; i < 8; i++)
		za_free_pages(za, held[i], (unsigned)(i % 3));
	za_drain_all_pages(za);
	EXPECT_OK();
	za_destroy(za);
	part_threshold_drop();
	printf("1 passed, 0 failed\n");
	return 0;
}
