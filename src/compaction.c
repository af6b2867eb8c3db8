/*
 * compaction.c - making free blocks of high order out of scattered free
 * pages, by moving in-use movable blocks through the client's migrate
 * callback: direct compaction in the slow path (costly orders), a
 * background thread per node (kcompactd, woken by kswapd and proactive
 * against compaction_proactiveness), and za_compact for an explicit pass.
 *
 * One pass over a zone runs two scanners towards each other, as the
 * kernel's does. The migrate scanner walks the zone's pageblocks from its
 * start and picks the blocks to move: in-use blocks allocated movable, in
 * pageblocks of type MOVABLE that hold nothing unmovable (a pageblock
 * with an unmovable block in it can never become free, so emptying it is
 * wasted work). The free scanner walks from the zone's end down and takes
 * free blocks of MOVABLE pageblocks off the buddy lists as targets: they
 * count as allocated to the compactor (so every invariant holds while a
 * pass runs) and unused ones go back at the end of the pass. The pass
 * ends when the scanners meet, or for an allocation as soon as a block of
 * its order is free.
 *
 * Rules kept:
 *  - An unmovable block (allocated UNMOVABLE or RECLAIMABLE, a contiguous
 *    range, anything taken out) is never handed to the migrate callback
 *    (block_movable).
 *  - No lock of the allocator is held across the callback. Passes run
 *    side by side (direct compactions, kcompactd, za_compact), never with
 *    a memory-hotplug operation: taking mem_hotplug_lock stops the
 *    passes running after the block each is moving (compact_yield),
 *    waits until they end and keeps new ones out (compaction_begin), which
 *    keeps zone spans and pageblock isolation still during a pass. Direct
 *    compaction does not wait for a hotplug operation: it skips.
 *  - A target is allocated to the pass and reads as not movable
 *    (TARGET_MT) until it is handed to the client, so that a pass beside
 *    never gives the client a block that is not the client's.
 *  - No pageblock is isolated: nothing to leak.
 *  - The callback's answers: 0 moved (src is freed here), -ENOENT the
 *    client freed src (dst stays a target), anything else - garbage
 *    included - a refusal counted in pgmigrate_fail. A dst the callback
 *    freed before it refused is reported and not taken back.
 *
 * Deferral (the kernel's compaction_deferred / defer_compaction): after a
 * full pass that did not give the order, the zone is skipped by the next
 * 1, 2, 4 ... 64 direct compactions of that order or above, until a
 * compaction of it succeeds.
 *
 * Cached positions (the kernel's compact_cached_migrate_pfn and
 * compact_cached_free_pfn): a pass for an order starts its scanners where
 * the zone's last pass left them, not at the zone's ends, so that
 * repeated direct compactions do not scan again what the last one
 * emptied or took. Each pass moves them on; they go back to the ends
 * when the scanners meet, and when a zone deferred at the longest
 * deferral is tried again. A pass over the whole zone (za_compact,
 * proactive) starts at the ends. They are hints, read and written
 * relaxed, checked against the zone's span when a pass starts. A pass
 * that started from them and met the other scanner did not look at the
 * whole zone: it is not a reason to defer (COMPACT_PARTIAL_SKIPPED).
 */
#include "internal.h"

#define COMPACT_MAX_DEFER_SHIFT 6
/* The kernel's COMPACTION_HPAGE_ORDER: the order the fragmentation score
 * is about (the pageblock order here). Proactive passes are checked for
 * this often (HPAGE_FRAG_CHECK_INTERVAL_MSEC). */
#define PROACTIVE_INTERVAL_MS 500u

enum compact_result {
	COMPACT_SKIPPED,  /* not run: deferred, unsuitable, no callback */
	COMPACT_SUCCESS,  /* the order is free (or the score is low enough) */
	COMPACT_COMPLETE, /* the scanners met, having started at the ends */
	COMPACT_PARTIAL_SKIPPED, /* met, from the cached positions */
	COMPACT_ABORTED,         /* stopping */
};

struct compact_control {
	struct za *za;
	struct za_zone *z;
	int order;       /* -1: the whole zone */
	int mt;          /* what the request wants */
	bool proactive;  /* stop below the score's low mark */
	bool daemon;     /* kcompactd: counted in compact_daemon_* */
	bool whole_zone; /* the scanners started at the zone's ends */
	unsigned long pb_pages;
	unsigned long migrate_pb; /* pageblock the migrate scanner is in */
	unsigned long free_pb;    /* lowest pageblock the free scanner took */
	unsigned long zone_end;
	/* Targets by order: heads of pfn lists linked by page.next. */
	uint32_t target[ZA_MAX_ORDER_LIMIT + 1];
	unsigned long nr_targets; /* pages */
	/* Figures of the pass. */
	unsigned long migrate_scanned, free_scanned, isolated;
	unsigned long migrated, failed;
	unsigned long freed_by_client; /* -ENOENT answers */
};

/* --- indices ------------------------------------------------------------------ */

struct contig_info {
	unsigned long free_pages, free_blocks_total, free_blocks_suitable;
};

/* Free blocks per order (buddy lists, lazy blocks included), relaxed. */
static void fill_contig_info(struct za_zone *z, unsigned order,
                             struct contig_info *info)
{
	struct za *za = z->za;
	info->free_pages = info->free_blocks_total = info->free_blocks_suitable = 0;
	for (unsigned o = 0; o <= za->max_order; o++) {
		unsigned long blocks = 0;
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
			if (mt != ZA_MT_ISOLATE)
				blocks += za_load_relaxed(&z->nr_free[o][mt]);
		info->free_blocks_total += blocks;
		info->free_pages += blocks << o;
		if (o >= order)
			info->free_blocks_suitable += blocks << (o - order);
	}
}

int _za_fragmentation_index(struct za_zone *z, unsigned order)
{
	struct contig_info info;
	fill_contig_info(z, order, &info);
	if (!info.free_blocks_total)
		return 0;
	if (info.free_blocks_suitable)
		return -1000;
	/* 0 when the memory is simply short, towards 1000 when it is free
	 * but in pieces too small. */
	unsigned long per_block = (1000 +
	                           info.free_pages * 1000 / (1ul << order)) /
	                          info.free_blocks_total;
	return 1000 - (int)per_block;
}

int _za_unusable_index(struct za_zone *z, unsigned order)
{
	struct contig_info info;
	fill_contig_info(z, order, &info);
	if (!info.free_pages)
		return 0;
	return (int)((info.free_pages - (info.free_blocks_suitable << order)) *
	             1000 / info.free_pages);
}

/* Percent of a zone's free memory in blocks below the pageblock order. */
static unsigned zone_score(struct za_zone *z)
{
	struct contig_info info;
	unsigned order = z->za->pageblock_order;
	fill_contig_info(z, order, &info);
	if (!info.free_pages)
		return 0;
	return (
	    unsigned)((info.free_pages - (info.free_blocks_suitable << order)) *
	              100 / info.free_pages);
}

static unsigned long node_present(struct za_node *node)
{
	unsigned long n = 0;
	for (int t = 0; t < ZA_NR_ZONES; t++)
		n += za_load_relaxed(&node->zones[t].present_pages);
	return n;
}

/* A zone's score weighted by its share of the node, as the kernel's. */
static unsigned zone_score_weighted(struct za_zone *z)
{
	unsigned long present = za_load_relaxed(&z->present_pages);
	return (unsigned)(present * zone_score(z) / (node_present(z->node) + 1));
}

unsigned _za_node_fragmentation_score(struct za *za, struct za_node *node)
{
	(void)za;
	unsigned score = 0;
	for (int t = 0; t < ZA_NR_ZONES; t++)
		if (zone_populated(&node->zones[t]))
			score += zone_score_weighted(&node->zones[t]);
	return score;
}

/* The score a proactive pass works down to (low) and the one that starts
 * it (high), from compaction_proactiveness. */
static unsigned score_wmark(struct za *za, bool low)
{
	unsigned p = za_load_relaxed(&za->compaction_proactiveness);
	unsigned wlow = 100 - p > 5 ? 100 - p : 5;
	if (low)
		return wlow;
	return wlow + 10 < 100 ? wlow + 10 : 100;
}

/* --- deferral ------------------------------------------------------------------- */

static void defer_compaction(struct za_zone *z, int order)
{
	za_store_relaxed(&z->compact_considered, 0u);
	unsigned shift = za_load_relaxed(&z->compact_defer_shift);
	if (shift < COMPACT_MAX_DEFER_SHIFT)
		za_store_relaxed(&z->compact_defer_shift, shift + 1);
	if (order < za_load_relaxed(&z->compact_order_failed))
		za_store_relaxed(&z->compact_order_failed, order);
}

/* Whether direct compaction of this order should skip the zone now;
 * counts the attempt. */
static bool compaction_deferred(struct za_zone *z, int order)
{
	unsigned limit = 1u << za_load_relaxed(&z->compact_defer_shift);
	if (order < za_load_relaxed(&z->compact_order_failed))
		return false;
	unsigned c = za_load_relaxed(&z->compact_considered) + 1;
	if (c >= limit) {
		za_store_relaxed(&z->compact_considered, limit);
		return false;
	}
	za_store_relaxed(&z->compact_considered, c);
	return true;
}

static void compaction_defer_reset(struct za_zone *z, int order, bool success)
{
	if (success) {
		za_store_relaxed(&z->compact_considered, 0u);
		za_store_relaxed(&z->compact_defer_shift, 0u);
	}
	if (order >= za_load_relaxed(&z->compact_order_failed))
		za_store_relaxed(&z->compact_order_failed, order + 1);
}

/* The kernel's compaction_restarting: the zone was deferred as long as
 * deferral goes and that ran out; its next pass starts afresh. */
static bool compaction_restarting(struct za_zone *z, int order)
{
	if (order < za_load_relaxed(&z->compact_order_failed))
		return false;
	return za_load_relaxed(&z->compact_defer_shift) ==
	           COMPACT_MAX_DEFER_SHIFT &&
	       za_load_relaxed(&z->compact_considered) >=
	           1u << COMPACT_MAX_DEFER_SHIFT;
}

/* --- cached scanner positions ----------------------------------------------------- */

static void reset_cached_positions(struct za_zone *z)
{
	za_store_relaxed(&z->compact_cached_migrate_pfn,
	                 za_load_relaxed(&z->start_pfn));
	za_store_relaxed(&z->compact_cached_free_pfn,
	                 za_load_relaxed(&z->end_pfn));
}

/* Where this pass's scanners start: the cached positions when they are
 * on the pass's pageblock grid (migrate: start + k pageblocks, free:
 * end - k pageblocks) and two pageblocks apart at least (one to empty,
 * one to take targets from), else the zone's ends (and the cache is
 * reset to them). A pass over the whole zone starts at the ends. */
static void start_positions(struct compact_control *cc, unsigned long start)
{
	struct za_zone *z = cc->z;
	unsigned long pb = cc->pb_pages, end = cc->zone_end;
	unsigned long m = za_load_relaxed(&z->compact_cached_migrate_pfn);
	unsigned long f = za_load_relaxed(&z->compact_cached_free_pfn);
	if (m < start || (m - start) % pb || f > end || (end - f) % pb ||
	    f < m + 2 * pb) {
		reset_cached_positions(z);
		m = start;
		f = end;
	}
	if (cc->order < 0) {
		m = start;
		f = end;
	}
	cc->migrate_pb = m;
	cc->free_pb = f;
	cc->whole_zone = m == start && f == end;
}

/* The migrate scanner is done with everything below pfn. Forward only. */
static void advance_cached_migrate(struct za_zone *z, unsigned long pfn)
{
	if (pfn > za_load_relaxed(&z->compact_cached_migrate_pfn))
		za_store_relaxed(&z->compact_cached_migrate_pfn, pfn);
}

/* The free scanner took what it could at and above pfn. */
static void advance_cached_free(struct za_zone *z, unsigned long pfn)
{
	if (pfn < za_load_relaxed(&z->compact_cached_free_pfn))
		za_store_relaxed(&z->compact_cached_free_pfn, pfn);
}

/* Unused targets went back up to (below) pfn: move the cached free
 * position back up (never down) to the end of their pageblock on the
 * pass's grid, so the next pass's free scanner looks at it again. */
static void advance_cached_free_back(struct compact_control *cc,
                                     unsigned long pfn)
{
	unsigned long end = cc->zone_end, pb = cc->pb_pages;
	if (pfn > end || pfn == 0)
		return;
	unsigned long f = end - (end - pfn) / pb * pb;
	if (f > za_load_relaxed(&cc->z->compact_cached_free_pfn))
		za_store_relaxed(&cc->z->compact_cached_free_pfn, f);
}

/* --- passes and hotplug ---------------------------------------------------------- */

/* The allocators whose compaction passes this thread is inside: a
 * migrate callback of one may call into another, even compact it, and
 * that one's callback into the first (struct za_nest). */
static ZA_THREAD_LOCAL struct za_nest in_compaction;

bool _za_in_compaction(const struct za *za)
{
	return za_nest_in(&in_compaction, za);
}

/* Enter a pass: false when a hotplug operation keeps passes out and
 * wait is false (direct compaction never waits: the operation may be
 * waiting for a client callback that waits for this thread). */
static bool compaction_begin(struct za *za, bool wait)
{
	/* Passes nested deeper than the table on this thread (callbacks of
	 * several allocators compacting each other): no pass here. */
	if (!za_nest_enter(&in_compaction, za))
		return false;
	za_mutex_lock(&za->compact_lock);
	while (za->compact_excluded) {
		if (!wait) {
			za_mutex_unlock(&za->compact_lock);
			za_nest_leave(&in_compaction);
			return false;
		}
		za_cond_wait(&za->compact_idle, &za->compact_lock, 0);
	}
	za->compact_running++;
	za_mutex_unlock(&za->compact_lock);
	return true;
}

static void compaction_end(struct za *za)
{
	za_nest_leave(&in_compaction);
	za_mutex_lock(&za->compact_lock);
	if (--za->compact_running == 0)
		za_cond_broadcast(&za->compact_idle);
	za_mutex_unlock(&za->compact_lock);
}

void _za_compaction_exclude(struct za *za, bool on)
{
	za_mutex_lock(&za->compact_lock);
	if (on) {
		/* Relaxed: the passes running read it without the lock, to
		 * stop after the block they are moving (compact_yield). */
		za_store_relaxed(&za->compact_excluded, true);
		while (za->compact_running)
			za_cond_wait(&za->compact_idle, &za->compact_lock, 0);
	} else {
		za_store_relaxed(&za->compact_excluded, false);
		za_cond_broadcast(&za->compact_idle);
	}
	za_mutex_unlock(&za->compact_lock);
}

/* --- the scanners ------------------------------------------------------------------ */

/* Whether an in-use block may be given to the migrate callback: allocated
 * movable, an ordinary block (not a contiguous range), below the
 * pageblock order (a block that large is already what compaction makes).
 * Read without the owner's lock: a block freed meanwhile reads as not in
 * use, and the callback answers -ENOENT for one freed after. */
static bool block_movable(const struct za *za, const struct za_page *p)
{
	if (page_state(p) != ZA_PS_ALLOC || page_alloc_unmovable(p))
		return false;
	return page_order(p) < za->pageblock_order;
}

/* A pageblock of this zone, online and initialised (not in the lazy part
 * of its block: a block may be half initialised, buddy.c). Hotplug waits
 * for the pass to end, which keeps the answer true for the pass (lazy
 * parts only shrink). */
static bool pageblock_in_zone(struct compact_control *cc, unsigned long pb)
{
	struct za *za = cc->za;
	struct za_section *sec = pfn_section(za, pb);
	return pfn_online(za, pb) && sec->zone_id == cc->z->id &&
	       !pfn_lazy(za, pb);
}

/* Whether emptying the pageblock is worth it: MOVABLE, and every block in
 * use in it movable; false too when nothing in it is in use. */
static bool pageblock_worth_migrating(struct compact_control *cc,
                                      unsigned long pb)
{
	struct za *za = cc->za;
	bool any = false;
	if (pageblock_mt(za, pb) != ZA_MT_MOVABLE)
		return false;
	for (unsigned long pfn = pb; pfn < pb + cc->pb_pages;) {
		struct za_page *p = pfn_page(za, pfn);
		int st = page_state(p);
		unsigned long n = page_scan_span(p, st);
		if (st == ZA_PS_OFFLINE)
			return false;
		if (st == ZA_PS_ALLOC) {
			if (!block_movable(za, p))
				return false;
			any = true;
		}
		pfn += n;
	}
	return any;
}

/* A target reads as allocated but not movable while it is ours, so that
 * another pass running beside this one never hands it to the client. */
#define TARGET_MT ZA_MT_HIGHATOMIC

static void push_target(struct compact_control *cc, unsigned long pfn,
                        unsigned order)
{
	struct za_page *p = pfn_page(cc->za, pfn);
	za_store_relaxed(&p->mt, (uint8_t)TARGET_MT);
	p->next = cc->target[order];
	cc->target[order] = (uint32_t)pfn;
	cc->nr_targets += 1ul << order;
}

/* The free scanner: take the free blocks below the pageblock order of
 * one MOVABLE pageblock off the buddy lists, as blocks allocated to us. */
static void isolate_free_pageblock(struct compact_control *cc,
                                   unsigned long pb)
{
	struct za *za = cc->za;
	struct za_zone *z = cc->z;
	long taken = 0;
	cc->free_scanned += cc->pb_pages;
	zone_lock(z, NULL);
	if (pageblock_mt(za, pb) == ZA_MT_MOVABLE && !pfn_lazy(za, pb)) {
		for (unsigned long pfn = pb; pfn < pb + cc->pb_pages;) {
			struct za_page *p = pfn_page(za, pfn);
			int st = page_state(p);
			unsigned long n = page_scan_span(p, st);
			if (st == ZA_PS_BUDDY && page_order(p) < za->pageblock_order &&
			    page_mt(p) == ZA_MT_MOVABLE) {
				unsigned order = page_order(p);
				buddy_del_locked(z, p, pfn);
				/* Handed out to us, as rmqueue hands out. */
				page_hand_out_gen(p);
				push_target(cc, pfn, order);
				set_page_state(p, ZA_PS_ALLOC);
				taken += (long)n;
			}
			pfn += n;
		}
	}
	zone_unlock(z);
	if (taken) {
		/* After the lists, as an allocation counts (seed 003). */
		vmstat_mod(z, ZA_NR_FREE_PAGES, -taken);
		vmstat_mod(z, ZA_NR_ZONE_ALLOCATED, taken);
		cc->isolated += (unsigned long)taken;
	}
}

/* A target of exactly `order`, split from a larger one if need be, or
 * ZA_NIL when the free scanner has met the migrate scanner. */
static unsigned long take_target(struct compact_control *cc, unsigned order)
{
	struct za *za = cc->za;
	for (;;) {
		for (unsigned o = order; o <= za->max_order; o++) {
			uint32_t pfn = cc->target[o];
			if (pfn == ZA_NIL)
				continue;
			struct za_page *p = pfn_page(za, pfn);
			cc->target[o] = p->next;
			p->next = ZA_NIL;
			cc->nr_targets -= 1ul << o;
			/* Split: the upper halves stay targets, heads of their
			 * own (allocated) blocks. */
			while (o > order) {
				o--;
				unsigned long b = pfn + (1ul << o);
				struct za_page *h = pfn_page(za, b);
				za_store_relaxed(&h->order, (uint8_t)o);
				page_hand_out_gen(h);
				push_target(cc, b, o);
				set_page_state(h, ZA_PS_ALLOC);
			}
			za_store_relaxed(&p->order, (uint8_t)order);
			return pfn;
		}
		/* Next pageblock down, while it lies above the migrate
		 * scanner's. */
		if (cc->free_pb < cc->pb_pages ||
		    cc->free_pb - cc->pb_pages <= cc->migrate_pb)
			return ZA_NIL;
		cc->free_pb -= cc->pb_pages;
		if (pageblock_in_zone(cc, cc->free_pb))
			isolate_free_pageblock(cc, cc->free_pb);
		advance_cached_free(cc->z, cc->free_pb);
	}
}

/* Give the unused targets back to the buddy lists. Returns the pfn above
 * the highest one given back, 0 when none. */
static unsigned long release_targets(struct compact_control *cc)
{
	struct za *za = cc->za;
	struct za_zone *z = cc->z;
	long nfree = 0, niso = 0;
	unsigned long high = 0;
	zone_lock(z, NULL);
	for (unsigned o = 0; o <= za->max_order; o++) {
		while (cc->target[o] != ZA_NIL) {
			unsigned long pfn = cc->target[o];
			struct za_page *p = pfn_page(za, pfn);
			cc->target[o] = p->next;
			p->next = ZA_NIL;
			if (pfn + (1ul << o) > high)
				high = pfn + (1ul << o);
			set_page_state(p, ZA_PS_FREEING);
			if (buddy_free_locked(z, p, pfn, o) == ZA_MT_ISOLATE)
				niso += 1l << o;
			else
				nfree += 1l << o;
		}
	}
	zone_unlock(z);
	cc->nr_targets = 0;
	/* Counters after the lists (seed 003). */
	if (nfree)
		vmstat_mod(z, ZA_NR_FREE_PAGES, nfree);
	if (niso)
		vmstat_mod(z, ZA_NR_FREE_ISOLATED, niso);
	if (nfree + niso)
		vmstat_mod(z, ZA_NR_ZONE_ALLOCATED, -(nfree + niso));
	return high;
}

/* Move one block. 0 moved or not (the pass goes on), -ENOSPC when no
 * target is left. */
static int migrate_block(struct compact_control *cc, unsigned long pfn,
                         unsigned order)
{
	struct za *za = cc->za;
	struct za_page *src = pfn_page(za, pfn);
	unsigned long tpfn = take_target(cc, order);
	if (tpfn == ZA_NIL)
		return -ENOSPC;
	struct za_page *dst = pfn_page(za, tpfn);
	/* Looked at once more just before the call: the rule is checked on
	 * what is there now, not on what the scan saw. */
	if (!block_movable(za, src) || page_order(src) != order) {
		push_target(cc, tpfn, order);
		return 0;
	}
	cc->isolated += 1ul << order;
	/* The client's block to be: an ordinary movable allocation. */
	za_store_relaxed(&dst->mt, (uint8_t)ZA_MT_MOVABLE);
	/* Handed out: the debugging aids see it (poison check, page owner).
	 * Page owner then gives dst the client's record of src: here, as
	 * the callback hands dst to the client, who may free it at once
	 * (from another thread, before this one runs again), and src is the
	 * block the callback is asked to move. */
	bool aids = za_debug_aids_on(za);
	if (aids) {
		_za_debug_alloc(za, tpfn, 1ul << order, order, ZA_GFP_MOVABLE, -1,
		                (const void *)migrate_block);
		if (za->page_owner)
			_za_page_owner_migrate(za, tpfn, pfn, order,
			                       ZA_OWNER_MIGRATED_COMPACTION);
	}
	/* dst's hand-out count as the pass handed it to itself: a refusal
	 * checks dst is still that block (below). */
	uint8_t dgen = za_load_relaxed(&dst->gen);
	za_witness_assert_callback("migrate");
	int r = za->migrate(za->migrate_ctx, dst, src, order);
	if (r == 0) {
		/* The client owns dst now; src is ours to free. The hand-out
		 * count before the claim, as a free reads it (claim_free), not
		 * before the call: the callback answers for whoever holds src
		 * when it runs. */
		uint8_t gen = za_load_acquire(&src->gen);
		ZA_DEBUG_POINT(za, ZA_DP_FREE_GEN, src);
		/* As claim_free's compare-and-swap claim (page_claim_cas): src
		 * freed by its old owner and handed out again between the read
		 * and the claim is refused before the aids' hook writes the
		 * block or its record. Its order once more after the claim:
		 * checked before the callback, it may have merged and been
		 * handed out again as a larger block before the count's read. */
		if (page_claim_cas(src, gen, (int)order, NULL) == PAGE_CLAIMED) {
			if (za_debug_aids_on(za))
				_za_debug_free(za, pfn, 1ul << order,
				               (const void *)migrate_block);
			free_one_page(za, cc->z, src, pfn, order, -1, gen);
		} else
			_za_report_misuse(za, -EINVAL,
			                  "pfn 0x%lx freed by its owner after the "
			                  "migrate callback moved it",
			                  pfn);
		cc->migrated += 1ul << order;
		event_zone(cc->z, ZA_PGMIGRATE_SUCCESS, 1ul << order);
		return 0;
	}
	if (r != -ENOENT) {
		cc->failed += 1ul << order;
		event_zone(cc->z, ZA_PGMIGRATE_FAIL, 1ul << order);
	} else {
		cc->freed_by_client++;
	}
	/* Refused, dst was never the client's - but a callback that freed it
	 * all the same (a client bug) put it on a free list, from which it
	 * may be handed out again already. Taken back as a target it would
	 * be handed out twice, to the next move and from the list, and freed
	 * twice by release_targets: reported instead, and left where the
	 * client's free put it (its free ran the aids' free hook). */
	if (page_state(dst) != ZA_PS_ALLOC || za_load_acquire(&dst->gen) != dgen) {
		report_dst_freed_by_refuser(za, tpfn);
		return 0;
	}
	/* dst is still ours: a target for the next block, free again for
	 * the aids (poisoned, its record freed), so that every target that
	 * went through the alloc hook above goes through the free hook
	 * before it is a target again or reaches a free list. The record is
	 * the target's own again first: the client's was carried over for a
	 * move that did not happen. */
	if (aids) {
		if (za->page_owner)
			_za_page_owner_alloc(za, tpfn, 1ul << order, order, ZA_GFP_MOVABLE,
			                     -1, (const void *)migrate_block);
		_za_debug_free(za, tpfn, 1ul << order, (const void *)migrate_block);
	}
	push_target(cc, tpfn, order);
	return 0;
}

/* Free pages on the zone's per-CPU lists cannot merge: give them back to
 * the buddy lists before a pass. Skipped when another drain runs. */
static void drain_for_compaction(struct za *za, struct za_zone *z)
{
	if (za_mutex_trylock(&za->drain_lock)) {
		pcp_drain_zone(za, z);
		za_mutex_unlock(&za->drain_lock);
	}
}

/* Whether a block of cc->order (or more) that the request can use is
 * free in the zone now. */
static bool order_free(struct compact_control *cc)
{
	struct za *za = cc->za;
	for (unsigned o = (unsigned)cc->order; o <= za->max_order; o++) {
		if (za_load_relaxed(&cc->z->nr_free[o][cc->mt]))
			return true;
		/* A whole pageblock of another ordinary type is stolen. */
		if (o >= za->pageblock_order)
			for (int mt = 0; mt < ZA_NR_PCPTYPES; mt++)
				if (za_load_relaxed(&cc->z->nr_free[o][mt]))
					return true;
	}
	return false;
}

/* Whether the pass should stop now: za_destroy, or a memory-hotplug
 * operation waits for it (the kernel's memory offline never waits for
 * compaction: it isolates). A pass over a large zone with a slow client
 * would otherwise hold za_memory_offline beyond its timeout, and
 * za_check or a contiguous allocation as long - with the
 * memory-hotplug lock held, which free page reporting waits for too. */
static bool compact_yield(const struct za *za)
{
	return za_load_relaxed(&za->stopping) ||
	       za_load_relaxed(&za->compact_excluded);
}

static enum compact_result compact_finished(struct compact_control *cc)
{
	if (compact_yield(cc->za))
		return COMPACT_ABORTED;
	if (cc->proactive)
		return zone_score(cc->z) <= score_wmark(cc->za, true)
		           ? COMPACT_SUCCESS
		           : (enum compact_result) - 1;
	if (cc->order >= 0 && order_free(cc))
		return COMPACT_SUCCESS;
	return (enum compact_result) - 1; /* go on */
}

/* One pass over a zone, inside compaction_begin/end. */
static enum compact_result compact_zone(struct compact_control *cc)
{
	struct za *za = cc->za;
	struct za_zone *z = cc->z;
	enum compact_result ret = COMPACT_COMPLETE;
	drain_for_compaction(za, z);
	unsigned long start = za_load_relaxed(&z->start_pfn);
	cc->pb_pages = 1ul << za->pageblock_order;
	cc->zone_end = za_load_relaxed(&z->end_pfn);
	for (unsigned o = 0; o <= ZA_MAX_ORDER_LIMIT; o++)
		cc->target[o] = ZA_NIL;
	if (!za->migrate || start >= cc->zone_end)
		return COMPACT_SKIPPED;
	enum compact_result fin = compact_finished(cc);
	if (fin != (enum compact_result) - 1)
		return fin;
	start_positions(cc, start);

	for (; cc->migrate_pb < cc->free_pb; cc->migrate_pb += cc->pb_pages) {
		unsigned long pb = cc->migrate_pb;
		if (!pageblock_in_zone(cc, pb))
			goto next;
		cc->migrate_scanned += cc->pb_pages;
		if (!pageblock_worth_migrating(cc, pb))
			goto next;
		for (unsigned long pfn = pb; pfn < pb + cc->pb_pages;) {
			struct za_page *p = pfn_page(za, pfn);
			int st = page_state(p);
			unsigned long n = page_scan_span(p, st);
			if (st == ZA_PS_ALLOC && block_movable(za, p)) {
				unsigned order = page_order(p);
				n = 1ul << order;
				if (migrate_block(cc, pfn, order) == -ENOSPC)
					goto out;
				ZA_YIELD_POINT(za);
				/* Not only between pageblocks: one holds hundreds
				 * of blocks, each a callback. */
				if (compact_yield(za)) {
					ret = COMPACT_ABORTED;
					goto out;
				}
			}
			pfn += n;
		}
		fin = compact_finished(cc);
		if (fin != (enum compact_result) - 1) {
			ret = fin;
			advance_cached_migrate(z, pb + cc->pb_pages);
			break;
		}
next:
		advance_cached_migrate(z, pb + cc->pb_pages);
	}
out:;
	unsigned long high = release_targets(cc);
	if (ret == COMPACT_COMPLETE) {
		/* The scanners met: the next pass starts at the ends. */
		reset_cached_positions(z);
	} else if (high) {
		/* The free scanner starts again at the pageblock of the
		 * highest target given back: nothing is left behind. */
		advance_cached_free_back(cc, high);
	}
	/* Blocks the client freed meanwhile may sit on per-CPU lists, where
	 * they cannot merge into what the pass made. */
	if (cc->freed_by_client)
		drain_for_compaction(za, z);
	if (ret == COMPACT_COMPLETE && cc->order >= 0 && order_free(cc))
		ret = COMPACT_SUCCESS;
	if (ret == COMPACT_COMPLETE && !cc->whole_zone)
		ret = COMPACT_PARTIAL_SKIPPED;
	event_zone(z, ZA_COMPACT_MIGRATE_SCANNED, cc->migrate_scanned);
	event_zone(z, ZA_COMPACT_FREE_SCANNED, cc->free_scanned);
	event_zone(z, ZA_COMPACT_ISOLATED, cc->isolated);
	if (cc->daemon) {
		event_zone(z, ZA_COMPACT_DAEMON_MIGRATE_SCANNED, cc->migrate_scanned);
		event_zone(z, ZA_COMPACT_DAEMON_FREE_SCANNED, cc->free_scanned);
	}
	return ret;
}

/* The kernel's compaction_suitable: enough free memory for the targets
 * (an order-0 low mark plus twice the request), and a failure that is
 * about fragmentation rather than memory (the fragmentation index above
 * extfrag_threshold). */
static bool compaction_suitable(struct za *za, struct za_zone *z,
                                unsigned order)
{
	unsigned long free = zone_free_estimate(za, z);
	if (free < zone_wmark(z, ZA_WMARK_LOW) + (2ul << order))
		return false;
	int idx = _za_fragmentation_index(z, order);
	return !(idx >= 0 && idx <= (int)za_load_relaxed(&za->extfrag_threshold));
}

struct za_page *_za_direct_compact(struct za *za, struct za_alloc_ctx *ac,
                                   unsigned order, unsigned alloc_flags,
                                   bool *skipped)
{
	struct za_page *page = NULL;
	struct za_zone *z;
	bool ran = false;
	*skipped = false;
	if (!za->migrate || mem_hotplug_held_by_me(za) ||
	    !compaction_begin(za, false))
		return NULL;
	for (unsigned i = 0;
	     (z = zonelist_next(ac->zonelist, ac->highest_zoneidx, &i));) {
		if (!zone_populated(z) || compaction_deferred(z, (int)order) ||
		    !compaction_suitable(za, z, order))
			continue;
		if (compaction_restarting(z, (int)order))
			reset_cached_positions(z);
		ran = true;
		struct compact_control cc = {
			.za = za,
			.z = z,
			.order = (int)order,
			.mt = ac->mt,
		};
		enum compact_result r = compact_zone(&cc);
		page = get_page_from_freelist(za, ac, order, alloc_flags);
		if (page) {
			compaction_defer_reset(page_zone(za, page), (int)order, true);
			break;
		}
		if (r == COMPACT_COMPLETE)
			defer_compaction(z, (int)order);
		if (r == COMPACT_ABORTED)
			break;
	}
	compaction_end(za);
	if (!ran) {
		*skipped = true;
		return NULL;
	}
	struct za_zone *acct = &za->nodes[ac->preferred_nid].zones[0];
	event_zone(acct, ZA_COMPACT_STALL, 1);
	event_zone(acct, page ? ZA_COMPACT_SUCCESS : ZA_COMPACT_FAIL, 1);
	return page;
}

/* --- za_compact ---------------------------------------------------------------------- */

/* Every zone of the node, inside a pass (compaction_begin). A pass that a
 * memory-hotplug operation stopped (compact_yield) lets it run and goes on
 * with the zone once it is over: za_compact is one pass over everything.
 * *inside is false when that could not enter again (nested too deep). */
static unsigned long compact_node(struct za *za, struct za_node *node,
                                  bool *inside)
{
	unsigned long migrated = 0;
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct za_zone *z = &node->zones[t];
		if (!zone_populated(z))
			continue;
		for (;;) {
			struct compact_control cc = {
				.za = za,
				.z = z,
				.order = -1,
				.mt = ZA_MT_MOVABLE,
			};
			enum compact_result r = compact_zone(&cc);
			migrated += cc.migrated;
			if (r != COMPACT_ABORTED || za_load_relaxed(&za->stopping))
				break;
			compaction_end(za);
			if (!compaction_begin(za, true)) {
				*inside = false;
				return migrated;
			}
		}
	}
	return migrated;
}

int za_compact(struct za *za, int nid)
{
	if (!za || nid < -1 || (nid >= 0 && (unsigned)nid >= za->nr_nodes))
		return -EINVAL;
	/* From a callback that runs under the lock (migrate). */
	if (mem_hotplug_held_by_me(za))
		return -EDEADLK;
	if (!za->migrate)
		return -EAGAIN;
	unsigned long migrated = 0;
	if (!compaction_begin(za, true))
		return -EAGAIN; /* nested too deep: nothing it could do */
	bool inside = true;
	for (unsigned n = 0; inside && n < za->nr_nodes; n++)
		if (nid < 0 || (unsigned)nid == n)
			migrated += compact_node(za, &za->nodes[n], &inside);
	if (inside)
		compaction_end(za);
	return migrated ? 0 : -EAGAIN;
}

int za_fragmentation_score(struct za *za, int nid)
{
	if (!za || nid < 0 || (unsigned)nid >= za->nr_nodes)
		return -EINVAL;
	return (int)_za_node_fragmentation_score(za, &za->nodes[nid]);
}

/* --- kcompactd ---------------------------------------------------------------------- */

/* A request's pass: the zones up to the highest one asked for, each until
 * the order is free. Not deferred by its own failures beyond the
 * kernel's: a zone deferred for the order is left alone. */
static void kcompactd_do_work(struct za *za, struct za_node *node, int order,
                              int hz)
{
	for (int t = 0; t <= hz && t < ZA_NR_ZONES; t++) {
		struct za_zone *z = &node->zones[t];
		if (!zone_populated(z) || compaction_deferred(z, order) ||
		    !compaction_suitable(za, z, (unsigned)order))
			continue;
		if (compaction_restarting(z, order))
			reset_cached_positions(z);
		struct compact_control cc = {
			.za = za,
			.z = z,
			.order = order,
			.mt = ZA_MT_MOVABLE,
			.daemon = true,
		};
		enum compact_result r = compact_zone(&cc);
		if (r == COMPACT_SUCCESS)
			compaction_defer_reset(z, order, false);
		else if (r == COMPACT_COMPLETE)
			defer_compaction(z, order);
		if (za_load_relaxed(&za->stopping))
			return;
	}
}

/* Returns whether a pass was cut short (compact_yield). */
static bool proactive_compact_node(struct za *za, struct za_node *node)
{
	bool aborted = false;
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct za_zone *z = &node->zones[t];
		if (!zone_populated(z) || zone_score(z) <= score_wmark(za, true))
			continue;
		struct compact_control cc = {
			.za = za,
			.z = z,
			.order = -1,
			.mt = ZA_MT_MOVABLE,
			.proactive = true,
			.daemon = true,
		};
		if (compact_zone(&cc) == COMPACT_ABORTED)
			aborted = true;
	}
	return aborted;
}

static bool should_proactive_compact(struct za *za, struct za_node *node)
{
	if (!za_load_relaxed(&za->compaction_proactiveness))
		return false;
	return _za_node_fragmentation_score(za, node) > score_wmark(za, false);
}

static void *kcompactd_main(void *arg)
{
	struct za_node *node = arg;
	struct za *za = node->zones[0].za;
	/* Like kswapd: an allocation from inside a callback run from here
	 * must not recurse into reclaim or compaction. */
	za_in_reclaim = 1;
	/* The proactive interval, shifted by this: 64 times as long after a
	 * pass that did not lower the node's score (the kernel's kcompactd,
	 * 1 << COMPACT_MAX_DEFER_SHIFT intervals). A pass over every zone
	 * every interval, for as long as the allocator lives, when nothing
	 * can be moved - the client refuses, or unmovable blocks pin the
	 * free pages - is wasted work and a storm of callbacks. A write of
	 * compaction_proactiveness still looks at once; a request's wake, a
	 * pass that made progress or a look that found nothing to do brings
	 * the plain interval back. */
	unsigned defer_shift = 0;
	za_mutex_lock(&node->kcompactd_lock);
	while (!node->kcompactd_stop) {
		int order = node->kcompactd_max_order;
		if (order < 0 && !node->kcompactd_look) {
			/* Asleep until woken, or until the next look at the
			 * fragmentation score when proactive. Woken, the top of
			 * the loop finds what for (a stop, an order, a look);
			 * a spurious wake sleeps again. */
			bool pro = za_load_relaxed(&za->compaction_proactiveness) != 0;
			uint64_t interval =
			    (uint64_t)PROACTIVE_INTERVAL_MS * ZA_NSEC_PER_MSEC
			    << defer_shift;
			bool woken = za_cond_wait(&node->kcompactd_wait,
			                          &node->kcompactd_lock,
			                          pro ? interval : 0);
			if (!woken && pro && !node->kcompactd_stop &&
			    node->kcompactd_max_order < 0)
				node->kcompactd_look = true; /* the periodic look */
			continue;
		}
		if (order < 0) {
			/* A look at the score is owed: the interval ran out, or
			 * compaction_proactiveness was written. */
			node->kcompactd_look = false;
			za_mutex_unlock(&node->kcompactd_lock);
			defer_shift = 0;
			if (should_proactive_compact(za, node) && za->migrate &&
			    compaction_begin(za, true)) {
				event_zone(&node->zones[0], ZA_COMPACT_DAEMON_WAKE, 1);
				unsigned before = _za_node_fragmentation_score(za, node);
				bool cut = proactive_compact_node(za, node);
				compaction_end(za);
				/* A pass cut short by a hotplug operation is no sign
				 * that nothing can be moved. */
				if (!cut && _za_node_fragmentation_score(za, node) >= before)
					defer_shift = COMPACT_MAX_DEFER_SHIFT;
			}
			za_mutex_lock(&node->kcompactd_lock);
			continue;
		}
		int hz = node->kcompactd_highest_zoneidx;
		node->kcompactd_max_order = -1;
		node->kcompactd_highest_zoneidx = -1;
		defer_shift = 0;
		za_mutex_unlock(&node->kcompactd_lock);
		event_zone(&node->zones[0], ZA_COMPACT_DAEMON_WAKE, 1);
		/* Waits for a hotplug operation in progress: a background
		 * thread may (allocations never do). */
		if (za->migrate && compaction_begin(za, true)) {
			kcompactd_do_work(za, node, order, hz);
			compaction_end(za);
		}
		za_mutex_lock(&node->kcompactd_lock);
	}
	za_mutex_unlock(&node->kcompactd_lock);
	return NULL;
}

void _za_wakeup_kcompactd(struct za *za, int nid, int order,
                          int highest_zoneidx, bool may_sleep)
{
	struct za_node *node = &za->nodes[nid];
	if (order <= 0 || !za_load_relaxed(&node->kcompactd_started))
		return;
	/* An atomic caller never waits for the lock: a busy one drops the
	 * wake, as wakeup_kswapd's. */
	if (may_sleep)
		za_mutex_lock(&node->kcompactd_lock);
	else if (!za_mutex_trylock(&node->kcompactd_lock))
		return;
	if (order > node->kcompactd_max_order)
		node->kcompactd_max_order = order;
	if (highest_zoneidx > node->kcompactd_highest_zoneidx)
		node->kcompactd_highest_zoneidx = highest_zoneidx;
	za_cond_broadcast(&node->kcompactd_wait);
	za_mutex_unlock(&node->kcompactd_lock);
}

void _za_kcompactd_poke(struct za *za)
{
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		if (!za_load_relaxed(&node->kcompactd_started))
			continue;
		/* Under the lock kcompactd sleeps with: it is either asleep
		 * and woken, or finds the look owed before it sleeps again. */
		za_mutex_lock(&node->kcompactd_lock);
		node->kcompactd_look = true;
		za_cond_broadcast(&node->kcompactd_wait);
		za_mutex_unlock(&node->kcompactd_lock);
	}
}

int _za_compaction_init(struct za *za)
{
	int err = 0;
	for (unsigned n = 0; !err && n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		node->kcompactd_max_order = -1;
		node->kcompactd_highest_zoneidx = -1;
		err = za_mutex_init(&node->kcompactd_lock, ZA_RANK_LEAF,
		                    "kcompactd_lock");
		if (!err)
			err = za_cond_init(&node->kcompactd_wait);
	}
	return err;
}

void _za_compaction_fini(struct za *za)
{
	for (unsigned n = 0; za->nodes && n < za->nr_nodes; n++) {
		za_mutex_destroy(&za->nodes[n].kcompactd_lock);
		za_cond_destroy(&za->nodes[n].kcompactd_wait);
	}
}

int _za_kcompactd_start(struct za *za)
{
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		node->kcompactd_stop = false;
		int err = za_thread_start(&node->kcompactd, kcompactd_main, node,
		                          "za-kcompactd");
		if (err)
			return err;
		za_store_relaxed(&node->kcompactd_started, true);
	}
	return 0;
}

void _za_kcompactd_stop(struct za *za)
{
	for (unsigned n = 0; za->nodes && n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		if (!node->kcompactd_started)
			continue;
		za_mutex_lock(&node->kcompactd_lock);
		node->kcompactd_stop = true;
		za_cond_broadcast(&node->kcompactd_wait);
		za_mutex_unlock(&node->kcompactd_lock);
		za_thread_join(&node->kcompactd);
		za_store_relaxed(&node->kcompactd_started, false);
	}
}

/* --- watermark boosting --------------------------------------------------------------- */

static void set_marks_locked(struct za_zone *z)
{
	unsigned long b = za_load_relaxed(&z->watermark_boost);
	for (int i = 0; i < ZA_NR_WMARKS; i++)
		za_store_relaxed(&z->wmark[i], za_load_relaxed(&z->wmark_base[i]) + b);
	zone_fast_input_changed(z);
}

void _za_boost_apply(struct za_zone *z)
{
	/* Without kswapd nothing boosts (_za_boost_watermark_locked): no
	 * writer to race, no lock needed. */
	if (z->za->flags & ZA_CFG_NO_KSWAPD) {
		set_marks_locked(z);
		return;
	}
	zone_lock(z, NULL);
	set_marks_locked(z);
	zone_unlock(z);
}

/* The kernel's boost_watermark: a pageblock more per fallback, up to
 * watermark_boost_factor per 10000 of the high mark (at least one
 * pageblock). */
void _za_boost_watermark_locked(struct za_zone *z)
{
	struct za *za = z->za;
	zone_assert_held(z);
	unsigned long factor = za_load_relaxed(&za->watermark_boost_factor);
	unsigned long pb = 1ul << za->pageblock_order;
	/* Only kswapd takes a boost away again: without it, none. */
	if (!factor || (za->flags & ZA_CFG_NO_KSWAPD))
		return;
	/* Nor in a zone of fewer than four pageblocks: one pageblock is a
	 * quarter of it or more, and marks raised by that much fail
	 * allocations with much of the zone free until kswapd has reclaimed
	 * it all back (the kernel's boost_watermark leaves such zones alone
	 * since 5.7). */
	if (za_load_relaxed(&z->managed_pages) < 4 * pb)
		return;
	unsigned long max = (unsigned long)((unsigned __int128)za_load_relaxed(
	                                        &z->wmark_base[ZA_WMARK_HIGH]) *
	                                    factor / 10000);
	if (!max)
		return;
	if (max < pb)
		max = pb;
	unsigned long boost = za_load_relaxed(&z->watermark_boost) + pb;
	za_store_relaxed(&z->watermark_boost, boost < max ? boost : max);
	/* Before the marks' refresh, which closes the fast paths for it. */
	za_store_relaxed(&z->boost_wake, (uint8_t)1);
	set_marks_locked(z);
}

void _za_boost_wake(struct za *za, struct za_zone *z, int highest_zoneidx,
                    bool may_sleep)
{
	/* Only one of the allocations that found it set delivers it. */
	if (!za_xchg_acquire(&z->boost_wake, (uint8_t)0))
		return;
	/* Lost, the wake would leave the zone boosted with nobody to
	 * reclaim towards the marks or take the boost back: kept for the
	 * next allocation. Either way fast_ok follows (a refresh that ran
	 * while the flag was clear may have opened the fast paths). */
	if (!(za->flags & ZA_CFG_NO_KSWAPD) &&
	    !wakeup_kswapd(za, z, 0, highest_zoneidx, may_sleep))
		za_store_relaxed(&z->boost_wake, (uint8_t)1);
	zone_fast_input_changed(z);
}

void _za_boost_done(struct za *za, struct za_node *node,
                    const unsigned long *boost)
{
	bool any = false;
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct za_zone *z = &node->zones[t];
		if (!boost[t])
			continue;
		zone_lock(z, NULL);
		unsigned long now = za_load_relaxed(&z->watermark_boost);
		za_store_relaxed(&z->watermark_boost,
		                 now > boost[t] ? now - boost[t] : 0ul);
		set_marks_locked(z);
		zone_unlock(z);
		any = true;
	}
	if (any && !(za->flags & ZA_CFG_NO_COMPACTION))
		_za_wakeup_kcompactd(za, node->nid, (int)za->pageblock_order,
		                     ZA_NR_ZONES - 1, true);
}
