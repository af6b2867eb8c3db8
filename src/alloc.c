/*
 * alloc.c - allocation and free beyond the fast paths, and the bulk calls.
 *
 * The fast paths (fastpath.c) take a small block from the current CPU's
 * page set or put one back; everything they leave comes here:
 * alloc_general (the request checked, the zonelist walked, the buddy
 * lists, the debugging aids) and free_pages_slow (the block claimed and
 * misuse reported, then the page set or the buddy lists). The slow path,
 * in order: wake background reclaim, retry at min, reclaim directly
 * through the shrinkers, drain the per-CPU lists (local, then all) and
 * retry once, retry if the zonelists changed under us, call the OOM
 * handler, then fail - or keep trying for NOFAIL.
 * Nothing here waits for a hotplug operation (seed 000).
 */
#include <string.h>

#include "internal.h"
#include "pcp.h"

#define MAX_RECLAIM_RETRIES 16
/* OOM handler calls in one allocation that did not end in a page: a
 * handler that says it freed memory and did not (or whose pages others
 * took first) cannot keep a request looping (the kernel's
 * no_progress_loops). Past it, only NOFAIL keeps trying, backing off. */
#define MAX_OOM_RETRIES 16
#define NOFAIL_BACKOFF_MIN_NS (1 * ZA_NSEC_PER_MSEC)
#define NOFAIL_BACKOFF_MAX_NS (32 * ZA_NSEC_PER_MSEC)

/* Set while this thread runs shrinkers or the OOM handler, and for good on
 * kswapd threads: an allocation from inside them must not recurse into
 * reclaim (the kernel's PF_MEMALLOC). Per thread, not per allocator, on
 * purpose: it refuses nothing (the allocation still takes free pages),
 * and an allocation of another allocator from a shrinker must not reclaim
 * either - its shrinkers could allocate from the first, and so on. */
ZA_THREAD_LOCAL int za_in_reclaim;

/* Set while za_alloc_pages_bulk takes the rest of its array one page at
 * a time with pages already in the caller's hands: those pages come from
 * what is free (down to min, as any request's second look) and kswapd is
 * woken, but nothing reclaims, drains or calls the OOM handler for them.
 * The kernel's bulk call goes to the slow path only for a first page;
 * with pages in hand it returns them ("up to nr"), and a handler that
 * frees memory (kills a client, in most programs) or shrinkers that drop
 * the client's caches for a caller that already has pages would be paid
 * for nothing it needs. Per thread: no callback runs while it is set. */
static ZA_THREAD_LOCAL int bulk_in_hand;

static unsigned gfp_to_alloc_flags(za_gfp_t gfp)
{
	unsigned f = ALLOC_WMARK_MIN;
	if (gfp & ZA___GFP_HIGH)
		f |= ALLOC_HIGH;
	if (gfp & ZA___GFP_ATOMIC_RES)
		f |= ALLOC_HARDER;
	return f;
}

void zero_block(struct za *za, struct za_page *page, unsigned order)
{
	void *addr = za_page_address(za, page);
	if (addr)
		memset(addr, 0, (size_t)1 << (za->page_shift + order));
}

static struct za_page *rmqueue(struct za *za, struct za_zone *z,
                               unsigned order, int mt, unsigned alloc_flags,
                               long floor, int cpu)
{
	struct za_page *page;
	if (likely(cpu >= 0 && pcp_order(za, order) &&
	           !(za->flags & ZA_CFG_NO_PCP))) {
		bool usable;
		page = pcp_alloc(za, z, order, mt, alloc_flags, floor, cpu, &usable);
		if (page || usable)
			return page;
	}
	struct za_pcp *spcp = pcp_stat_trylock(z, cpu);
	zone_lock(z, spcp);
	page = buddy_alloc_locked(z, order, mt, alloc_flags);
	if (page) {
		za_store_relaxed(&page->order, (uint8_t)order);
		za_store_relaxed(&page->mt, (uint8_t)mt);
		page_hand_out_gen(page);
		set_page_state(page, ZA_PS_ALLOC);
	}
	zone_unlock(z);
	if (page) {
		/* After the block left the buddy lists (seed 003). */
		pcp_stat_mod(z, spcp, ZA_NR_FREE_PAGES, -(1l << order));
		pcp_stat_mod(z, spcp, ZA_NR_ZONE_ALLOCATED, 1l << order);
		pcp_stat_event(z, spcp, ZA_PGALLOC, 1u << order);
	}
	pcp_stat_unlock(z, spcp);
	return page;
}

struct za_page *get_page_from_freelist(struct za *za, struct za_alloc_ctx *ac,
                                       unsigned order, unsigned alloc_flags)
{
	struct za_zone *z;
	for (unsigned i = 0;
	     (z = zonelist_next(ac->zonelist, ac->highest_zoneidx, &i));) {
		unsigned long mark = zone_wmark(z, alloc_flags & ALLOC_WMARK_MASK);
		if (!(alloc_flags & ALLOC_NO_WATERMARKS) &&
		    !zone_watermark_fast(za, z, order, mark, ac->highest_zoneidx,
		                         alloc_flags)) {
			event_zone(z, ZA_WMARK_FAIL, 1);
			continue;
		}
		struct za_page *page =
		    rmqueue(za, z, order, ac->mt, alloc_flags,
		            wmark_floor(z, mark, ac->highest_zoneidx, alloc_flags),
		            ac->cpu);
		buddy_report_corrupt(za, z); /* a free list rmqueue cut */
		if (page) {
			count_numa(za, z, NULL, ac->preferred_nid, ac->cpu, 1);
			if (unlikely(za_load_relaxed(&z->boost_wake)))
				_za_boost_wake(za, z, ac->highest_zoneidx,
				               (ac->gfp & ZA___GFP_DIRECT_RECLAIM) != 0);
			if (unlikely(order && (alloc_flags & ALLOC_HARDER)))
				reserve_highatomic_pageblock(z, page, order);
			return page;
		}
	}
	return NULL;
}

static void wake_all_kswapds(struct za *za, struct za_alloc_ctx *ac,
                             unsigned order)
{
	struct za_zone *z;
	for (unsigned i = 0;
	     (z = zonelist_next(ac->zonelist, ac->highest_zoneidx, &i));) {
		if (!zone_watermark_ok(za, z, order, zone_wmark(z, ZA_WMARK_LOW),
		                       ac->highest_zoneidx, 0))
			wakeup_kswapd(za, z, order, ac->highest_zoneidx,
			              (ac->gfp & ZA___GFP_DIRECT_RECLAIM) != 0);
	}
}

static void drain_cpu_all_zones(struct za *za, int cpu)
{
	for_each_zone(za, z)
		pcp_drain_cpu_zone(za, z, cpu);
}

static void drain_all(struct za *za)
{
	for (unsigned c = 0; c < za->nr_cpus; c++)
		drain_cpu_all_zones(za, (int)c);
}

/* The zonelists changed while we walked them (memory hotplug): we may
 * have missed a zone, so look again (seed 002). */
static bool zonelist_changed(struct za *za, unsigned seq)
{
	if (!zonelist_seq_retry(za, seq))
		return false;
	event_zone(&za->nodes[0].zones[0], ZA_ZONELIST_RETRY, 1);
	return true;
}

static struct za_page *alloc_slowpath(struct za *za, struct za_alloc_ctx *ac,
                                      unsigned order)
{
	za_gfp_t gfp = ac->gfp;
	unsigned alloc_flags = gfp_to_alloc_flags(gfp);
	bool can_reclaim = (gfp & ZA___GFP_DIRECT_RECLAIM) && !za_in_reclaim &&
	                   !bulk_in_hand;
	bool drained = false;
	int retries = 0, oom_calls = 0;
	uint64_t backoff = NOFAIL_BACKOFF_MIN_NS;
	struct za_page *page;
	unsigned seq;

restart:
	seq = zonelist_seq_begin(za);
	if ((gfp & ZA___GFP_KSWAPD_RECLAIM) && !(za->flags & ZA_CFG_NO_KSWAPD))
		wake_all_kswapds(za, ac, order);
	page = get_page_from_freelist(za, ac, order, alloc_flags);
	if (page)
		return page;
	/* Before reclaim or OOM: was a zone missed? */
	if (zonelist_changed(za, seq))
		goto restart;

	if (!can_reclaim) {
		/* Atomic and no-wait requests neither sleep nor call back. */
		if (gfp & ZA___GFP_NOFAIL) {
			za_yield();
			goto restart;
		}
		return NULL;
	}

	/* Costly orders: compact before reclaiming (compaction.c). A
	 * NORETRY request gives up when every zone is deferred. */
	bool compact = order > ZA_COSTLY_ORDER &&
	               !(za->flags & ZA_CFG_NO_COMPACTION);
	if (compact) {
		bool skipped;
		ZA_DEBUG_POINT(za, ZA_DP_SLOW_COMPACT, ac);
		page = _za_direct_compact(za, ac, order, alloc_flags, &skipped);
		if (page)
			return page;
		if (skipped && (gfp & ZA___GFP_NORETRY) && !(gfp & ZA___GFP_NOFAIL)) {
			/* Every zone skipped - unless a rebuild hid one from
			 * the walk, which came after the look above. */
			if (zonelist_changed(za, seq))
				goto restart;
			return NULL;
		}
	}

	for (;;) {
		unsigned long progress;
		za_in_reclaim++;
		progress = direct_reclaim(za, ac, order);
		za_in_reclaim--;
		page = get_page_from_freelist(za, ac, order, alloc_flags);
		if (page)
			return page;
		if (compact && progress) {
			bool skipped;
			page = _za_direct_compact(za, ac, order, alloc_flags, &skipped);
			if (page)
				return page;
		}
		/* What reclaim freed may sit on per-CPU lists (ours or the
		 * shrinker's thread's): drain after every round that freed
		 * something, as well as the first time. */
		if (progress)
			drained = false;

		if (!drained) {
			drained = true;
			/* Reclaim freed something and still no page: the
			 * high-order atomic reserve may hold what is missing.
			 * Give a pageblock back, but leave each zone its last
			 * one (unforced; the forced give-back before the OOM
			 * handler takes that too). As in the kernel, not after
			 * a round that freed nothing. */
			if (progress)
				unreserve_highatomic_pageblock(za, ac, false);
			/* Free pages may sit on per-CPU lists: ours first, then
			 * everybody's, by taking their locks - no IPI, no
			 * hotplug lock (seeds 000 and 003). */
			event_zone(&za->nodes[0].zones[0], ZA_DRAIN_RETRY, 1);
			if (ac->cpu >= 0)
				drain_cpu_all_zones(za, ac->cpu);
			page = get_page_from_freelist(za, ac, order, alloc_flags);
			if (page)
				return page;
			if (za_mutex_trylock(&za->drain_lock)) {
				drain_all(za);
				za_mutex_unlock(&za->drain_lock);
			}
			page = get_page_from_freelist(za, ac, order, alloc_flags);
			if (page)
				return page;
		}
		if (zonelist_changed(za, seq))
			goto restart;
		/* NOFAIL wins over NORETRY. */
		if ((gfp & ZA___GFP_NORETRY) && !(gfp & ZA___GFP_NOFAIL))
			return NULL;
		if (progress && ++retries < MAX_RECLAIM_RETRIES)
			continue;

		/* Pageblocks kept for high-order atomic requests are the last
		 * free memory before the OOM handler: all of them go back, one
		 * per pass (forced). */
		ZA_DEBUG_POINT(za, ZA_DP_SLOW_UNRESERVE, ac);
		if (unreserve_highatomic_pageblock(za, ac, true)) {
			page = get_page_from_freelist(za, ac, order, alloc_flags);
			if (page)
				return page;
			continue;
		}
		/* That walk came after the last look at the count: a rebuild
		 * may have hidden the zone that holds a reserve, and the
		 * handler must not run (nor the request fail) for that. */
		if (zonelist_changed(za, seq))
			goto restart;
		unsigned long freed = 0;
		if (oom_calls < MAX_OOM_RETRIES) {
			oom_calls++;
			za_in_reclaim++;
			freed = call_oom_handler(za, ac->preferred_nid, order);
			za_in_reclaim--;
		}
		if (freed) {
			retries = 0;
			drained = false;
			continue;
		}
		if (!(gfp & ZA___GFP_NOFAIL))
			return NULL;
		/* NOFAIL: dip into the reserves, then wait for somebody to
		 * free memory and try again, waiting longer each time. */
		page = get_page_from_freelist(za, ac, order,
		                              alloc_flags | ALLOC_HIGH | ALLOC_HARDER);
		if (page)
			return page;
		za_sleep_ns(backoff);
		if (backoff < NOFAIL_BACKOFF_MAX_NS)
			backoff *= 2;
		/* Give the handler another round of chances after a wait. */
		oom_calls = 0;
		retries = 0;
		drained = false;
	}
}

static bool bad_request(struct za *za, za_gfp_t gfp, unsigned order, int nid)
{
	return order > za->max_order || (gfp & ~ZA_GFP_ALL_BITS) ||
	       (nid >= 0 && (unsigned)nid >= za->nr_nodes) ||
	       ((gfp & ZA___GFP_DMA) && (gfp & ZA___GFP_DMA32));
}

static void init_ctx(struct za *za, struct za_alloc_ctx *ac, int nid,
                     za_gfp_t gfp)
{
	ac->cpu = za_current_cpu(za);
	if (nid < 0)
		nid = ac->cpu >= 0 ? za->cpu_node[ac->cpu] : 0;
	ac->preferred_nid = nid;
	ac->gfp = gfp;
	ac->highest_zoneidx = gfp_zone(gfp);
	ac->mt = gfp_migratetype(gfp);
	ac->zonelist = za->nodes[nid].zonelist[(gfp & ZA___GFP_THISNODE) ? 1 : 0];
}

/* Everything the fast path left: checks the request, zeroes, refills,
 * the buddy lists, the slow path, and the debugging aids (fault
 * injection, page owner, poisoning: za.nofast sends every request here
 * while one is on). Out of line, so that the fast path stays a short
 * function with few registers to save. site: the return address of the
 * public call. */
__attribute__((noinline)) struct za_page *alloc_general(struct za *za, int nid,
                                                        za_gfp_t gfp,
                                                        unsigned order,
                                                        const void *site)
{
	struct za_alloc_ctx ac;
	if (unlikely(!za || bad_request(za, gfp, order, nid))) {
		errno = EINVAL;
		return NULL;
	}
	unsigned nofast = za_load_relaxed(&za->nofast);
	if (unlikely((nofast & ZA_NOFAST_FAULT) &&
	             _za_should_fail_alloc(za, gfp, order, site))) {
		errno = ENOMEM;
		return NULL;
	}
	init_ctx(za, &ac, nid, gfp);
	struct za_page *page = get_page_from_freelist(za, &ac, order,
	                                              ALLOC_WMARK_LOW);
	if (unlikely(!page)) {
		page = alloc_slowpath(za, &ac, order);
		if (!page) {
			event_zone(&za->nodes[ac.preferred_nid].zones[0], ZA_PGALLOC_FAIL,
			           1);
			errno = ENOMEM;
			return NULL;
		}
	}
	/* Before zeroing: the poison check reads what the block holds. */
	if (unlikely(nofast & ZA_NOFAST_DEBUG))
		_za_debug_alloc(za, page_pfn(za, page), 1ul << order, order, gfp,
		                ac.cpu, site);
	if (gfp & ZA___GFP_ZERO)
		zero_block(za, page, order);
	return page;
}

unsigned za_alloc_pages_bulk(struct za *za, za_gfp_t gfp, unsigned nr,
                             struct za_page **pages)
{
	struct za_alloc_ctx ac;
	unsigned got = 0;
	if (!za || !pages || bad_request(za, gfp, 0, -1))
		return 0;
	init_ctx(za, &ac, -1, gfp);
	/* Not while a debugging aid must see each page (za.nofast). */
	if (ac.cpu >= 0 && !za_load_relaxed(&za->nofast)) {
		/* The first zone that is above low, through the CPU's page
		 * set, let go between runs (pcp_alloc_bulk). */
		struct za_zone *z;
		for (unsigned i = 0;
		     got < nr &&
		     (z = zonelist_next(ac.zonelist, ac.highest_zoneidx, &i));) {
			unsigned long mark = zone_wmark(z, ZA_WMARK_LOW);
			/* The low mark, checked as single allocations check it:
			 * the per-CPU deltas are summed only near the drift
			 * mark, not on every call. */
			if (!zone_watermark_fast(za, z, 0, mark, ac.highest_zoneidx,
			                         ALLOC_WMARK_LOW))
				continue;
			got += pcp_alloc_bulk(za, z, ac.cpu, ac.mt, nr - got, pages + got,
			                      mark, ac.highest_zoneidx, ac.preferred_nid);
			break;
		}
		if ((gfp & ZA___GFP_ZERO))
			for (unsigned i = 0; i < got; i++)
				zero_block(za, pages[i], 0);
	}
	/* The rest one by one, through the slow path for a first page only.
	 * NOFAIL, reclaim and the OOM handler hold for the first page, as in
	 * the kernel: once the caller has pages, it gets what is there ("up
	 * to nr", bulk_in_hand). Waiting for more could wait forever, for
	 * pages nobody frees while the caller, who holds the ones already
	 * taken, is blocked here. */
	int in_hand = bulk_in_hand;
	while (got < nr) {
		/* The caller's flags as they are (a NOWARN added here would
		 * silence fault injection's line for a caller that did not ask
		 * for it, and page owner would record it). */
		za_gfp_t g = gfp;
		if (got)
			g &= ~(za_gfp_t)ZA___GFP_NOFAIL;
		/* Set for each page, not once: a bulk call from a callback
		 * that runs in the middle (the error handler, reporting a
		 * poisoned page) starts with no page in hand. */
		bulk_in_hand = got != 0;
		/* The node the call began on, not the one the thread may have
		 * moved to since: one call prefers one node, and THISNODE keeps
		 * every page of the array on it (as the runs above keep to z). */
		struct za_page *p = alloc_pages_slow(za, ac.preferred_nid, g, 0,
		                                     __builtin_return_address(0));
		if (!p)
			break;
		pages[got++] = p;
	}
	bulk_in_hand = in_hand;
	return got;
}

/* --- free ------------------------------------------------------------------ */

static const char *const state_names[] = {
	[ZA_PS_NONE] = "not the head of an allocated block",
	[ZA_PS_BUDDY] = "already free (double free)",
	[ZA_PS_PCP] = "already free on a per-CPU list (double free)",
	[ZA_PS_ALLOC] = "allocated",
	[ZA_PS_FREEING] = "being freed by another thread (double free)",
	[ZA_PS_OFFLINE] = "taken out of the allocator",
	[ZA_PS_REPORTING] = "free, held by free page reporting",
};

/* free_misuse's st for a free that found the block handed out again
 * since it read its hand-out count (free_one_page, or a compare-and-swap
 * claim in claim_free), and for one that found it freed by another free
 * since (free_one_page: free again, or taken out by now): not page
 * states. */
#define FREE_REUSED 0xff
#define FREE_RACED 0xfe

/* Why a free was refused, reported out of line. pfn is ULONG_MAX for a
 * pointer that is not the metadata of an online page; st is the state the
 * claim found, or FREE_REUSED; site the return address of the public
 * call. With page owner on, the report names the site and what page owner
 * knows of the block (its allocation and last free). */
static __attribute__((noinline)) void
free_misuse(struct za *za, struct za_page *page, unsigned long pfn,
            unsigned order, uint8_t st, const void *site)
{
	char sites[700] = "";
	if (unlikely(za->page_owner)) {
		char s[256];
		int n = site ? snprintf(sites, sizeof(sites), " by %s",
		                        za_os_symbolize(site, s, sizeof(s)))
		             : 0;
		if (pfn != ULONG_MAX && n > 0 && (size_t)n < sizeof(sites))
			_za_debug_describe(za, pfn, sites + n, sizeof(sites) - (size_t)n);
	}
	if (pfn == ULONG_MAX)
		_za_report_misuse(za, -EINVAL,
		                  "free of %p: not the metadata of an online page "
		                  "of this allocator%s",
		                  (void *)page, sites);
	else if (st == FREE_REUSED)
		_za_report_misuse(za, -EINVAL,
		                  "free of pfn 0x%lx order %u: handed out again "
		                  "since this free checked it (racing double "
		                  "free): not freed%s",
		                  pfn, order, sites);
	else if (st == FREE_RACED)
		_za_report_misuse(za, -EINVAL,
		                  "free of pfn 0x%lx order %u: freed by another "
		                  "free since this free checked it (racing double "
		                  "free): not freed%s",
		                  pfn, order, sites);
	else if (st != ZA_PS_ALLOC)
		_za_report_misuse(za, -EINVAL, "free of pfn 0x%lx order %u: %s%s", pfn,
		                  order, st <= ZA_PS_REPORTING ? state_names[st] : "?",
		                  sites);
	else
		_za_report_misuse(za, -EINVAL,
		                  "free of pfn 0x%lx with order %u, allocated with "
		                  "order %u%s",
		                  pfn, order, (unsigned)page_order(page), sites);
}

/* A late claim refused (free_one_page, zone lock held, the block in state
 * FREEING by the claim's plain store, its hand-out count moved on since
 * the claim read it): the state the block has where it lies now, which
 * the store overwrote. The count moves on when the block leaves its
 * owner's hands for the free lists as well as when it is handed out
 * again (free_one_page, a flush or drain of a per-CPU list), so the other
 * free of the block alone moves it: the block may be free now, or handed
 * out again, and only its place tells.
 *  - On a buddy list, heading a free block (its links agree; its order
 *    may have grown by merging): BUDDY.
 *  - Inside a larger block, whatever that block is (merged into a free
 *    one, which may have been handed out, refilled to a per-CPU list or
 *    taken out since): NONE, as every page but a block's head.
 *  - Taken off an isolate list (its type says ISOLATE, which no block in
 *    use or on a per-CPU list carries): a piece of a range taken out by
 *    memory offline or a contiguous allocation, OFFLINE.
 *  - Put on a per-CPU list and neither handed out nor given back to the
 *    buddy lists since: PCP. A push, a refill and a split store free_gen
 *    = gen; a pop, a flush and every hand-out move gen on, and a hand-out
 *    from the buddy lists (rmqueue, compaction's targets, a contiguous
 *    range) sets free_gen one behind it, as a pop leaves it. So a block
 *    in use never has free_gen == gen, and one given back to the buddy
 *    lists has it only if never handed out since memory online (which
 *    the late claim's block was): the test says exactly that, but for a
 *    stale push of another racing free, modulo 256 (the limit
 *    ARCHITECTURE.md documents).
 *  - Else it was handed out again (rmqueue, a pop, compaction, a
 *    contiguous range's head): ALLOC, its new owner's. A free of it by
 *    that owner whose claim came between ours and this check cannot be
 *    told from ours (both stored FREEING): it is refused too, reported,
 *    and the block stays allocated - lost, never handed out twice.
 * Each answer holds until the page's state is written: whatever makes
 * the page a head or no longer one (a merge, a split, a pop, a push, a
 * refill, a take) writes its state, and free_one_page gives the state
 * back by compare-and-swap from FREEING, so such a write before it wins
 * and one after it overwrites it. The buddy lists and their free blocks
 * change under the zone lock only, which this holds. */
static uint8_t late_claim_state_locked(struct za *za, struct za_zone *z,
                                       struct za_page *page, unsigned long pfn)
{
	if (buddy_on_list_locked(z, page, pfn))
		return ZA_PS_BUDDY;
	if (buddy_inside_block(za, pfn))
		return ZA_PS_NONE;
	if (za_load_relaxed(&page->mt) == ZA_MT_ISOLATE)
		return ZA_PS_OFFLINE;
	unsigned o = za_load_relaxed(&page->order);
	if (o <= za->max_order && pcp_order(za, o) &&
	    page->pcp_cpu < za->nr_cpus &&
	    za_load_relaxed(&page->free_gen) == za_load_acquire(&page->gen))
		return ZA_PS_PCP;
	return ZA_PS_ALLOC;
}

/* free_one_page's refusal of a late claim: out of line, rare (only a
 * racing double free gets here). Gives the block back the state it has
 * (late_claim_state_locked) and reports the free. */
static __attribute__((noinline, cold)) void
late_claim_refuse(struct za *za, struct za_zone *z, struct za_pcp *spcp,
                  struct za_page *page, unsigned long pfn, unsigned order)
{
	uint8_t back = late_claim_state_locked(za, z, page, pfn);
	uint8_t freeing = ZA_PS_FREEING;
	if (za_cas_acqrel(&page->state, &freeing, back) && back == ZA_PS_BUDDY) {
		/* While it read FREEING it stayed on its list, but a free of
		 * its buddy did not merge with it and a change of its
		 * pageblock's type (isolation, a steal) did not move it. */
		long iso = buddy_refile_locked(z, page, pfn);
		if (iso) {
			vmstat_mod(z, ZA_NR_FREE_ISOLATED, iso);
			vmstat_mod(z, ZA_NR_FREE_PAGES, -iso);
		}
	}
	zone_unlock(z);
	pcp_stat_unlock(z, spcp);
	free_misuse(za, page, pfn, order,
	            back == ZA_PS_ALLOC ? FREE_REUSED : FREE_RACED, NULL);
}

void free_one_page(struct za *za, struct za_zone *z, struct za_page *page,
                   unsigned long pfn, unsigned order, int cpu, uint8_t gen)
{
	struct za_pcp *spcp = pcp_stat_trylock(z, cpu);
	zone_lock(z, spcp);
	/* Claimed by plain stores, two frees of one page can both get here:
	 * the second finds it no longer FREEING. */
	uint8_t st = (uint8_t)page_state(page);
	if (unlikely(st != ZA_PS_FREEING)) {
		zone_unlock(z);
		pcp_stat_unlock(z, spcp);
		free_misuse(za, page, pfn, order, st, NULL);
		return;
	}
	/* Or the second finds it FREEING by its own claim's store, which
	 * landed after the other free was done: the count it read before its
	 * check has moved on since (the other free gave the block to the
	 * buddy lists, and it may have been handed out again). Nothing moves
	 * but the state our claim overwrote, given back as the block has it
	 * where it lies now. */
	if (unlikely(za_load_relaxed(&page->gen) != gen)) {
		late_claim_refuse(za, z, spcp, page, pfn, order);
		return;
	}
	/* A free of this page racing ours that passed its check before our
	 * claim may still push it on its CPU's list, after it is here: that
	 * free read gen before it checked the state (claim_free,
	 * free_fast_rseq), so a new gen, published after our claim, voids
	 * its entry (pcp_head_ok, at its pop or flush) even where the block
	 * merges and its own state is gone. */
	za_store_release(&page->gen, (uint8_t)(page->gen + 1));
	int mt = buddy_free_locked(z, page, pfn, order);
	zone_unlock(z);
	/* Counters after the lists (seed 003). */
	pcp_stat_mod(z, spcp,
	             mt == ZA_MT_ISOLATE ? ZA_NR_FREE_ISOLATED : ZA_NR_FREE_PAGES,
	             1l << order);
	pcp_stat_mod(z, spcp, ZA_NR_ZONE_ALLOCATED, -(1l << order));
	pcp_stat_event(z, spcp, ZA_PGFREE, 1u << order);
	pcp_stat_unlock(z, spcp);
}

/* Check that page heads a block of `order` that was handed out, and claim
 * it (ALLOC -> FREEING) so that a second free of it is reported instead of
 * corrupting a list (a concurrent one at once only with a compare-and-swap
 * claim: za.claim_cas, strict frees or a debugging aid on). False when it
 * may not be freed: *pfnp is ULONG_MAX for a pointer that is not the
 * metadata of an online page, *stp the state found, or FREE_REUSED for a
 * block a compare-and-swap claim found handed out again since it read the
 * count; the caller reports it (free_misuse) once it holds no lock. *genp
 * is the page's hand-out count as the claim saw it (pcp_push_locked,
 * free_one_page). */
static inline bool claim_free(struct za *za, struct za_page *page,
                              unsigned order, unsigned long *pfnp,
                              uint8_t *stp, uint8_t *genp)
{
	unsigned long pfn = page_ptr_pfn(za, page);
	*pfnp = pfn;
	*stp = ZA_PS_NONE;
	if (unlikely(pfn == ULONG_MAX))
		return false;
	/* The hand-out count first, before the order and the state: whatever
	 * the block becomes after this read - given back by another free
	 * (free_one_page, a flush), merged, handed out again with another
	 * order - moves the count on, and so the order and the state read
	 * after it are refused by the count (below, free_one_page, a pop) if
	 * they are not those of the block as it was at this read. Read after
	 * the order, it would let a free that checked the order of its block,
	 * and read the count only once the block had merged and been handed
	 * out again as a larger one, claim and free that one with its own
	 * order. */
	uint8_t gen = za_load_acquire(&page->gen);
	*genp = gen;
	/* The order is read before the claim: a block that is not allocated
	 * fails the claim (and is reported for its state) whatever it holds. */
	if (unlikely(page_order(page) != order)) {
		*stp = za_load_relaxed(&page->state);
		return false;
	}
	*stp = ZA_PS_ALLOC;
	ZA_DEBUG_POINT(za, ZA_DP_FREE_GEN, page);
	if (unlikely(!za_eq8_relaxed(&za->claim_cas, 0))) {
		/* Compare-and-swap, then the count (page_claim_cas): a new
		 * owner's ALLOC is refused before a debugging aid's hook
		 * (free_general) sees the block. The order needs no second
		 * look (-1): it was read after the count. */
		enum page_claim c = page_claim_cas(page, gen, -1, stp);
		if (likely(c == PAGE_CLAIMED))
			return true;
		if (c == PAGE_CLAIM_REUSED)
			*stp = FREE_REUSED;
		return false;
	}
	/* Check, then claim with a plain store: a free of a page that is not
	 * allocated is reported here; two frees racing on two CPUs may both
	 * pass, and the allocation side catches the page when it comes up a
	 * second time (pcp_take_locked, the flush, buddy_alloc_locked). */
	uint8_t st = za_load_acquire(&page->state);
	if (unlikely(st != ZA_PS_ALLOC)) {
		*stp = st;
		return false;
	}
	ZA_DEBUG_POINT(za, ZA_DP_FREE_CLAIM, page);
	za_store_relaxed(&page->state, (uint8_t)ZA_PS_FREEING);
	return true;
}

/* A claimed block the per-CPU branch of free_pages_slow did not take: to
 * the buddy lists, or, when a debugging aid sent it here (za.nofast),
 * through the aid's hook and then the per-CPU lists as the fast path
 * would have. Out of line. */
static __attribute__((noinline)) void
free_general(struct za *za, struct za_zone *z, struct za_page *page,
             unsigned long pfn, unsigned order, int cpu, struct rseq *rs,
             uint8_t gen, const void *site)
{
	unsigned nofast = za_load_relaxed(&za->nofast);
	if (unlikely(nofast & ZA_NOFAST_DEBUG)) {
		/* The hook writes the block (poisoning) or its record (page
		 * owner): only after a claim that proved it ours, by
		 * compare-and-swap and an unchanged count (claim_free). The
		 * aids are chosen at create, and claim_cas with them. */
		ZA_ASSERT(za_load_relaxed(&za->claim_cas) != 0);
		_za_debug_free(za, pfn, 1ul << order, site);
		/* rs NULL (the bulk free): the fast paths' CPU and area. */
		if (!rs && za->pcp_rseq)
			cpu = pcp_fast_cpu(za, &rs);
		if (cpu >= 0 && pcp_order(za, order) && !(nofast & ZA_NOFAST_NO_PCP)) {
			int r = pcp_free(za, z, za_pcp_of(za, z->id, cpu), page, pfn,
			                 order, cpu, rs, gen);
			if (r > 0)
				return;
			if (r < 0) {
				free_misuse(za, page, pfn, order, (uint8_t)page_state(page),
				            site);
				return;
			}
		}
	}
	free_one_page(za, z, page, pfn, order, cpu, gen);
}

/* Everything but the restartable fast path of za_free_pages: claim the
 * block (reporting misuse), then the current CPU's list or the buddy
 * lists. site: the return address of the public call. */
__attribute__((noinline)) void free_pages_slow(struct za *za,
                                               struct za_page *page,
                                               unsigned order,
                                               const void *site)
{
	if (unlikely(!page || !za))
		return;
	/* First, while little is live across the call. */
	struct rseq *rs;
	int cpu = pcp_fast_cpu(za, &rs);
	unsigned long pfn;
	uint8_t st, gen;
	if (unlikely(!claim_free(za, page, order, &pfn, &st, &gen))) {
		free_misuse(za, page, pfn, order, st, SLOW_SITE(site));
		return;
	}
	unsigned zid = page->zone_id;
	struct za_zone *z = za->zone_by_id[zid];
	if (likely(cpu >= 0 && pcp_order(za, order) &&
	           !(za_load_relaxed(&za->nofast) & ZA_NOFAST_FREE))) {
		int r = pcp_free(za, z, za_pcp_of(za, zid, cpu), page, pfn, order, cpu,
		                 rs, gen);
		if (likely(r > 0))
			return;
		if (unlikely(r < 0)) {
			free_misuse(za, page, pfn, order, (uint8_t)page_state(page),
			            SLOW_SITE(site));
			return;
		}
	}
	free_general(za, z, page, pfn, order, cpu, rs, gen, SLOW_SITE(site));
}

/* Let go of the page set a bulk free held for a run of `run` pages:
 * count them, let go, report a list a flush over high cut in the run
 * (as pcp_free does). */
static void bulk_free_let_go(struct za *za, struct za_pcp *held, unsigned run)
{
	pcp_count_alloc_locked(held, -(long)run);
	pcp_own_release_report(za, held);
	ZA_DEBUG_POINT(za, ZA_DP_BULK_RUN, held);
}

/* Each page checked and claimed as za_free_pages does, but the current
 * CPU's page set is owned once for a run of up to PCP_BULK_RUN pages
 * instead of once per page. Misuse is reported with the set let go. */
void za_free_pages_bulk(struct za *za, unsigned nr, struct za_page **pages)
{
	if (!za || !pages)
		return;
	int cpu = za_current_cpu(za);
	/* Not while a debugging aid must see each page (free_general). */
	bool lists = cpu >= 0 && !(za_load_relaxed(&za->nofast) & ZA_NOFAST_FREE);
	struct za_pcp *held = NULL;
	struct za_zone *held_zone = NULL;
	unsigned run = 0;
	for (unsigned i = 0; i < nr; i++) {
		struct za_page *page = pages[i];
		unsigned long pfn;
		uint8_t st, gen;
		if (!page)
			continue;
		if (unlikely(!claim_free(za, page, 0, &pfn, &st, &gen))) {
			if (held)
				bulk_free_let_go(za, held, run);
			held = NULL;
			free_misuse(za, page, pfn, 0, st, __builtin_return_address(0));
			continue;
		}
		struct za_zone *z = page_zone(za, page);
		int mt = lists ? pcp_free_mt(za, pfn) : -1;
		/* A run ends after PCP_BULK_RUN pages, before a page of another
		 * zone or for the buddy lists, and once a list of the set is
		 * cut (a flush over high met a racing double free's entry, or
		 * another holder left one for its report): the cut is reported
		 * at once, not a run later. Cuts that come before (two in one
		 * run, or one in the run's first flush beside another holder's)
		 * are all kept, and all reported at the end of the run
		 * (pcp_cut_locked). */
		if (held &&
		    (mt < 0 || z != held_zone || run == PCP_BULK_RUN ||
		     unlikely(za_load_relaxed(&held->corrupt_pfn) != ZA_NIL))) {
			bulk_free_let_go(za, held, run);
			held = NULL;
		}
		if (mt >= 0 && !held) {
			ZA_YIELD_POINT(za);
			/* The thread may run on another CPU since the last run:
			 * restartable, only that CPU's set can be owned. */
			cpu = za_current_cpu(za);
			held = cpu >= 0 ? pcp_trylock_usable(z, zone_pcp(z, cpu), true)
			                : NULL;
			held_zone = z;
			run = 0;
		}
		if (held && unlikely(page_state(page) != ZA_PS_FREEING)) {
			/* Another free of it raced ours (see pcp_free). */
			bulk_free_let_go(za, held, run);
			held = NULL;
			free_misuse(za, page, pfn, 0, (uint8_t)page_state(page),
			            __builtin_return_address(0));
		} else if (held) {
			pcp_push_locked(za, z, held, page, pfn, 0, mt, gen);
			run++;
		} else {
			free_general(za, z, page, pfn, 0, cpu, NULL, gen,
			             __builtin_return_address(0));
		}
	}
	if (held)
		bulk_free_let_go(za, held, run);
}

/* --- drains -------------------------------------------------------------------- */

void za_drain_local_pages(struct za *za)
{
	if (!za)
		return;
	int cpu = za_current_cpu(za);
	if (cpu >= 0)
		drain_cpu_all_zones(za, cpu);
}

void za_drain_all_pages(struct za *za)
{
	if (!za)
		return;
	za_mutex_lock(&za->drain_lock);
	drain_all(za);
	za_mutex_unlock(&za->drain_lock);
}
