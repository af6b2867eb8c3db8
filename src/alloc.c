/*
 * alloc.c - the allocation and free entry points.
 *
 * Fast path: read the current CPU, walk the zonelist, check the zone's
 * low watermark, take a page from the CPU's page set (try-lock, pop,
 * unlock). Anything else - a page set that is busy or switched off, an
 * order with no page set, a zone below low - goes to the buddy lists or
 * the slow path. The slow path, in order: wake background reclaim, retry
 * at min, reclaim directly through the shrinkers, drain the per-CPU lists
 * (local, then all) and retry once, retry if the zonelists changed under
 * us, call the OOM handler, then fail - or keep trying for NOFAIL.
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
#define NOFAIL_BACKOFF_MIN_NS 1000000ull   /* 1 ms */
#define NOFAIL_BACKOFF_MAX_NS 32000000ull  /* 32 ms */

/* Set while this thread runs shrinkers or the OOM handler, and for good on
 * kswapd threads: an allocation from inside them must not recurse into
 * reclaim (the kernel's PF_MEMALLOC). */
_Thread_local int za_in_reclaim;
#define in_reclaim za_in_reclaim

static unsigned gfp_to_alloc_flags(za_gfp_t gfp)
{
	unsigned f = ALLOC_WMARK_MIN;
	if (gfp & ZA___GFP_HIGH)
		f |= ALLOC_HIGH;
	if (gfp & ZA___GFP_ATOMIC_RES)
		f |= ALLOC_HARDER;
	return f;
}

static void zero_block(struct za *za, struct za_page *page, unsigned order)
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
		page->gen++; /* a stale per-CPU list entry for it is now void */
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
	for (unsigned i = 0; (z = zonelist_next(ac->zonelist, ac->highest_zoneidx, &i));) {
		unsigned long mark = zone_wmark(z, alloc_flags & ALLOC_WMARK_MASK);
		if (!(alloc_flags & ALLOC_NO_WATERMARKS) &&
		    !zone_watermark_fast(za, z, order, mark, ac->highest_zoneidx,
		                         alloc_flags)) {
			event_zone(z, ZA_WMARK_FAIL, 1);
			continue;
		}
		struct za_page *page = rmqueue(
			za, z, order, ac->mt, alloc_flags,
			wmark_floor(z, mark, ac->highest_zoneidx, alloc_flags), ac->cpu);
		if (page) {
			count_numa(za, z, NULL, ac->preferred_nid, ac->cpu, 1);
			if (unlikely(za_load_relaxed(&z->boost_wake)))
				_za_boost_wake(za, z, ac->highest_zoneidx);
			if (unlikely(order && (alloc_flags & ALLOC_HARDER)))
				reserve_highatomic_pageblock(z, page);
			return page;
		}
	}
	return NULL;
}

static void wake_all_kswapds(struct za *za, struct za_alloc_ctx *ac,
                             unsigned order)
{
	struct za_zone *z;
	for (unsigned i = 0; (z = zonelist_next(ac->zonelist, ac->highest_zoneidx, &i));) {
		if (!zone_watermark_ok(za, z, order, zone_wmark(z, ZA_WMARK_LOW),
		                       ac->highest_zoneidx, 0))
			wakeup_kswapd(za, z, order, ac->highest_zoneidx,
			              (ac->gfp & ZA___GFP_DIRECT_RECLAIM) != 0);
	}
}

static void drain_cpu_all_zones(struct za *za, int cpu)
{
	for (unsigned n = 0; n < za->nr_nodes; n++)
		for (int t = 0; t < ZA_NR_ZONES; t++)
			pcp_drain_cpu_zone(za, &za->nodes[n].zones[t], cpu);
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
	bool can_reclaim = (gfp & ZA___GFP_DIRECT_RECLAIM) && !in_reclaim;
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
		page = _za_direct_compact(za, ac, order, alloc_flags, &skipped);
		if (page)
			return page;
		if (skipped && (gfp & ZA___GFP_NORETRY) && !(gfp & ZA___GFP_NOFAIL))
			return NULL;
	}

	for (;;) {
		unsigned long progress;
		in_reclaim++;
		progress = direct_reclaim(za, ac, order);
		in_reclaim--;
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
			/* Free pages may sit on per-CPU lists: ours first, then
			 * everybody's, by taking their locks - no IPI, no
			 * hotplug lock (seeds 000 and 003). */
			drained = true;
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
		 * free memory before the OOM handler. */
		if (unreserve_highatomic_pageblock(za, ac)) {
			page = get_page_from_freelist(za, ac, order, alloc_flags);
			if (page)
				return page;
			continue;
		}
		unsigned long freed = 0;
		if (oom_calls < MAX_OOM_RETRIES) {
			oom_calls++;
			in_reclaim++;
			freed = call_oom_handler(za, ac->preferred_nid, order);
			in_reclaim--;
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

/* The page set a fast allocation takes from, on cpu: for the CPU's own
 * node (nid < 0, no THISNODE) one load of the table the zonelist rebuild
 * keeps; else the first two entries of the zonelist. NULL when the
 * general path must look further. */
static inline __attribute__((always_inline)) struct za_pcp *
fast_pcp(const struct za *za, int nid, za_gfp_t gfp, int cpu, int hz)
{
	if (likely(nid < 0 && !(gfp & ZA___GFP_THISNODE)))
		return za_load_relaxed(&za->cpu_pcp[cpu * ZA_NR_ZONES + hz]);
	if (unlikely((unsigned)nid >= za->nr_nodes))
		return NULL;
	struct za_zoneref *zl = za->nodes[nid].zonelist[(gfp & ZA___GFP_THISNODE) ? 1 : 0];
	for (int i = 0; i < 2; i++) {
		struct za_zone *z = za_load_relaxed(&zl[i].zone);
		if (!z)
			break;
		if ((int)z->type <= hz)
			return za_pcp_of(za, z->id, cpu);
	}
	return NULL;
}

/* The fast path, by design: a small order from the first zone the request
 * may use, off the current CPU's list, when that list has a block and the
 * zone is clearly above its low watermark. Own the set (a restartable
 * sequence, or a try-lock), pop, let go. The set is one load away from
 * the CPU (za->cpu_pcp), so that the chain of dependent loads from the
 * call to the block is short: CPU, set, list head, block.
 * Anything else - an empty list (refill), a zone near its watermarks, a
 * busy or switched-off page set, an unknown CPU, a request that is not
 * valid - returns NULL and the general path below does it all properly
 * (and reports what is not valid). */
static inline __attribute__((always_inline)) struct za_page *
alloc_fast(struct za *za, int nid, za_gfp_t gfp, unsigned order)
{
	struct rseq *rs;
	int cpu = pcp_fast_cpu(za, &rs);
	unsigned cls = gfp_class(gfp);
	if (unlikely(cpu < 0 || order > ZA_PCP_SMALL_ORDER ||
	             order > za->max_order || cls == GFP_CLASS_BAD ||
	             (za->flags & ZA_CFG_NO_PCP)))
		return NULL;
	int hz = (int)(cls & 0xf);
	struct za_pcp *pcp = fast_pcp(za, nid, gfp, cpu, hz);
	if (unlikely(!pcp))
		return NULL;
	if (nid < 0)
		nid = za->cpu_node[cpu];
	struct za_zone *z = pcp->zone;
	if (unlikely(!zone_clearly_above(z, zone_wmark(z, ZA_WMARK_LOW), hz, order)))
		return NULL;
	int mt = (int)(cls >> 4);
	int idx = pcp_list_index(za, order, mt);
	if (unlikely(!pcp_fast_own(za, pcp, cpu, rs)))
		return NULL;
	struct za_page *page = NULL;
	if (likely(!pcp->flags && pcp->lists[idx] != ZA_NIL)) {
		page = pcp_pop_locked(za, z, pcp, order, mt, idx);
		if (likely(page))
			count_numa(za, z, pcp, nid, cpu, 1);
	}
	pcp_own_release(za, pcp);
	if (unlikely(!page))
		pcp_report_corrupt(za, pcp);
	return page;
}

/* Everything the fast path left: checks the request, zeroes, refills,
 * the buddy lists, the slow path. Out of line, so that the fast path
 * stays a short function with few registers to save. */
static __attribute__((noinline)) struct za_page *
alloc_general(struct za *za, int nid, za_gfp_t gfp, unsigned order)
{
	struct za_alloc_ctx ac;
	if (unlikely(!za || bad_request(za, gfp, order, nid))) {
		errno = EINVAL;
		return NULL;
	}
	struct za_page *page;
	/* Zeroing requests skip the fast path's first look: look here. */
	if ((gfp & ZA___GFP_ZERO) && (page = alloc_fast(za, nid, gfp, order))) {
		zero_block(za, page, order);
		return page;
	}
	init_ctx(za, &ac, nid, gfp);
	page = get_page_from_freelist(za, &ac, order, ALLOC_WMARK_LOW);
	if (unlikely(!page)) {
		page = alloc_slowpath(za, &ac, order);
		if (!page) {
			event_zone(&za->nodes[ac.preferred_nid].zones[0],
			           ZA_PGALLOC_FAIL, 1);
			errno = ENOMEM;
			return NULL;
		}
	}
	if (gfp & ZA___GFP_ZERO)
		zero_block(za, page, order);
	return page;
}

/* Requests the fast path leaves to the general one at once: unknown bits
 * (reported there) and zeroing. */
#define GFP_NOT_FAST (~ZA_GFP_ALL_BITS | ZA___GFP_ZERO)

/* The restartable fast path of za_alloc_pages: a leaf function's worth of
 * code with no call on any path, so that it needs no registers saved and
 * no frame. It takes the common case only - the current CPU's node, a
 * small order, a list with a block whose head is clean, the zone clearly
 * above low - and leaves everything else, untouched, to alloc_pages_slow
 * (which also reports and cuts a list head that a racing double free
 * spoilt). The statistics are those of pcp_pop_locked and count_numa. */
static inline __attribute__((always_inline)) struct za_page *
alloc_fast_rseq(struct za *za, za_gfp_t gfp, unsigned order)
{
	struct rseq *rs = za_rseq_area_fast();
	int cpu = (int)za_load_relaxed(&rs->cpu_id);
	unsigned cls = gfp_class(gfp);
	if (unlikely((unsigned)cpu >= za->nr_cpus || order > za->max_order ||
	             cls == GFP_CLASS_BAD || (gfp & ZA___GFP_THISNODE) ||
	             (za->flags & ZA_CFG_NO_PCP)))
		return NULL;
	int hz = (int)(cls & 0xf);
	struct za_pcp *pcp = za_load_relaxed(&za->cpu_pcp[cpu * ZA_NR_ZONES + hz]);
	if (unlikely(!pcp))
		return NULL;
	struct za_zone *z = pcp->zone;
	if (unlikely(!zone_clearly_above(z, zone_wmark(z, ZA_WMARK_LOW), hz, order)))
		return NULL;
	int mt = (int)(cls >> 4);
	int idx = (int)order * ZA_NR_PCPTYPES + mt;
	if (unlikely(!za_rseq_own(&pcp->own.word, cpu, rs)))
		return NULL;
	za_witness_acquire(ZA_RANK_PCP, "pcp (owner)");
	uint32_t h = pcp->lists[idx];
	struct za_page *page = pfn_page(za, h);
	/* The checks of pcp_take_locked; a head that fails them is left for
	 * the slow path to cut and report. A set that is switched off has
	 * empty lists (it was drained after the flag was set, and nothing is
	 * pushed onto it since): the flag test costs nothing beside the
	 * others and keeps that from being the only guard. */
	if (unlikely(pcp->flags || h == ZA_NIL || !pcp_head_ok(pcp, page))) {
		pcp_own_release_rseq(pcp);
		return NULL;
	}
	ZA_ASSERT(page_mt(page) == mt && page_order(page) == order);
	page->gen++;
	pcp->lists[idx] = page->next;
	set_page_state(page, ZA_PS_ALLOC);
	za_store_relaxed(&pcp->count, pcp->count - (1 << order));
	pcp_count_alloc_locked(z, pcp, 1l << order);
	count_numa(za, z, pcp, za->cpu_node[cpu], cpu, 1);
	pcp_own_release_rseq(pcp);
	return page;
}

/* Everything but the restartable fast path: the locked fast path, then
 * the general one. */
static __attribute__((noinline)) struct za_page *
alloc_pages_slow(struct za *za, int nid, za_gfp_t gfp, unsigned order)
{
	if (likely(za && order <= ZA_PCP_SMALL_ORDER && !(gfp & GFP_NOT_FAST))) {
		struct za_page *page = alloc_fast(za, nid, gfp, order);
		if (likely(page))
			return page;
	}
	return alloc_general(za, nid, gfp, order);
}

struct za_page *za_alloc_pages_node(struct za *za, int nid, za_gfp_t gfp,
                                    unsigned order)
{
	/* -1 is the only negative node id (the current CPU's node). */
	if (unlikely(nid < -1)) {
		errno = EINVAL;
		return NULL;
	}
	if (nid < 0 && likely(za && za->pcp_rseq && order <= ZA_PCP_SMALL_ORDER &&
	                      !(gfp & GFP_NOT_FAST))) {
		struct za_page *page = alloc_fast_rseq(za, gfp, order);
		if (likely(page))
			return page;
	}
	return alloc_pages_slow(za, nid, gfp, order);
}

struct za_page *za_alloc_pages(struct za *za, za_gfp_t gfp, unsigned order)
{
	if (likely(za && za->pcp_rseq && order <= ZA_PCP_SMALL_ORDER &&
	           !(gfp & GFP_NOT_FAST))) {
		struct za_page *page = alloc_fast_rseq(za, gfp, order);
		if (likely(page))
			return page;
	}
	return alloc_pages_slow(za, -1, gfp, order);
}

unsigned za_alloc_pages_bulk(struct za *za, za_gfp_t gfp, unsigned nr,
                             struct za_page **pages)
{
	struct za_alloc_ctx ac;
	unsigned got = 0;
	if (!za || !pages || bad_request(za, gfp, 0, -1))
		return 0;
	init_ctx(za, &ac, -1, gfp);
	if (ac.cpu >= 0 && !(za->flags & ZA_CFG_NO_PCP)) {
		/* One lock hold on the first zone that is above low. */
		struct za_zone *z;
		for (unsigned i = 0;
		     got < nr && (z = zonelist_next(ac.zonelist, ac.highest_zoneidx, &i));) {
			unsigned long mark = zone_wmark(z, ZA_WMARK_LOW);
			/* The low mark, checked as single allocations check it:
			 * the per-CPU deltas are summed only near the drift
			 * mark, not on every call. */
			if (!zone_watermark_fast(za, z, 0, mark, ac.highest_zoneidx,
			                         ALLOC_WMARK_LOW))
				continue;
			unsigned n = pcp_alloc_bulk(za, z, ac.cpu, ac.mt, nr - got,
			                            pages + got, mark, ac.highest_zoneidx);
			if (n)
				count_numa(za, z, NULL, ac.preferred_nid, ac.cpu, n);
			got += n;
			break;
		}
		if ((gfp & ZA___GFP_ZERO))
			for (unsigned i = 0; i < got; i++)
				zero_block(za, pages[i], 0);
	}
	/* The rest one by one, through the slow path if need be. */
	while (got < nr) {
		struct za_page *p = za_alloc_pages_node(za, -1, gfp | ZA___GFP_NOWARN, 0);
		if (!p)
			break;
		pages[got++] = p;
	}
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

/* Why a free was refused, reported out of line. pfn is ULONG_MAX for a
 * pointer that is not the metadata of an online page; st is the state the
 * claim found. */
static __attribute__((noinline)) void free_misuse(struct za *za,
                                                  struct za_page *page,
                                                  unsigned long pfn,
                                                  unsigned order, uint8_t st)
{
	if (pfn == ULONG_MAX)
		_za_report_misuse(za, -EINVAL,
		                  "free of %p: not the metadata of an online page "
		                  "of this allocator", (void *)page);
	else if (st != ZA_PS_ALLOC)
		_za_report_misuse(za, -EINVAL, "free of pfn 0x%lx order %u: %s", pfn,
		                  order, st <= ZA_PS_REPORTING ? state_names[st] : "?");
	else
		_za_report_misuse(za, -EINVAL,
		                  "free of pfn 0x%lx with order %u, allocated with "
		                  "order %u", pfn, order, (unsigned)page_order(page));
}

void free_one_page(struct za *za, struct za_zone *z, struct za_page *page,
                   unsigned long pfn, unsigned order, int cpu)
{
	struct za_pcp *spcp = pcp_stat_trylock(z, cpu);
	zone_lock(z, spcp);
	/* Claimed by plain stores, two frees of one page can both get here:
	 * the second finds it no longer FREEING. */
	if (unlikely(page_state(page) != ZA_PS_FREEING)) {
		uint8_t st = (uint8_t)page_state(page);
		zone_unlock(z);
		pcp_stat_unlock(z, spcp);
		free_misuse(za, page, pfn, order, st);
		return;
	}
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
 * corrupting a list (a concurrent one at once only with strict frees).
 * False when it may not be freed: *pfnp is ULONG_MAX for a pointer that is
 * not the metadata of an online page, *stp the state found; the caller
 * reports it (free_misuse) once it holds no lock. *genp is the page's
 * hand-out count as the claim saw it (pcp_push_locked). */
static inline bool claim_free(struct za *za, struct za_page *page,
                              unsigned order, unsigned long *pfnp,
                              uint8_t *stp, uint8_t *genp)
{
	unsigned long pfn = page_ptr_pfn(za, page);
	*pfnp = pfn;
	*stp = ZA_PS_NONE;
	if (unlikely(pfn == ULONG_MAX))
		return false;
	/* The order is read before the claim: a block that is not allocated
	 * fails the claim (and is reported for its state) whatever it holds. */
	if (unlikely(page_order(page) != order)) {
		*stp = za_load_relaxed(&page->state);
		return false;
	}
	*stp = ZA_PS_ALLOC;
	if (unlikely(za->strict_free)) {
		bool ok = za_cas_acqrel(&page->state, stp, ZA_PS_FREEING);
		*genp = page->gen;
		return likely(ok);
	}
	/* Check, then claim with a plain store: a free of a page that is not
	 * allocated is reported here; two frees racing on two CPUs may both
	 * pass, and the allocation side catches the page when it comes up a
	 * second time (pcp_take_locked, buddy_alloc_locked). */
	uint8_t st = za_load_acquire(&page->state);
	if (unlikely(st != ZA_PS_ALLOC)) {
		*stp = st;
		return false;
	}
	*genp = page->gen;
	za_store_relaxed(&page->state, (uint8_t)ZA_PS_FREEING);
	return true;
}

/* Everything but the restartable fast path of za_free_pages: claim the
 * block (reporting misuse), then the current CPU's list or the buddy
 * lists. */
static __attribute__((noinline)) void
free_pages_slow(struct za *za, struct za_page *page, unsigned order)
{
	if (unlikely(!page || !za))
		return;
	/* First, while little is live across the call. */
	struct rseq *rs;
	int cpu = pcp_fast_cpu(za, &rs);
	unsigned long pfn;
	uint8_t st, gen;
	if (unlikely(!claim_free(za, page, order, &pfn, &st, &gen))) {
		free_misuse(za, page, pfn, order, st);
		return;
	}
	unsigned zid = page->zone_id;
	struct za_zone *z = za->zone_by_id[zid];
	if (likely(cpu >= 0 && pcp_order(za, order) &&
	           !(za->flags & ZA_CFG_NO_PCP))) {
		int r = pcp_free(za, z, za_pcp_of(za, zid, cpu), page, pfn, order,
		                 cpu, rs, gen);
		if (likely(r > 0))
			return;
		if (unlikely(r < 0)) {
			free_misuse(za, page, pfn, order, (uint8_t)page_state(page));
			return;
		}
	}
	free_one_page(za, z, page, pfn, order, cpu);
}

/* The restartable fast path of za_free_pages, a leaf as alloc_fast_rseq:
 * a small-order block of a pageblock that is not isolated, onto the
 * current CPU's list while it stays below high. The block is checked
 * (the pointer, its order, that it is allocated) and, with the set owned,
 * checked again and claimed: allocated to on-the-list in one step (by
 * compare-and-swap with strict frees). False, with nothing changed, for
 * everything else: free_pages_slow then does it, and reports misuse. */
static inline __attribute__((always_inline)) bool
free_fast_rseq(struct za *za, struct za_page *page, unsigned order)
{
	struct rseq *rs = za_rseq_area_fast();
	int cpu = (int)za_load_relaxed(&rs->cpu_id);
	if (unlikely((unsigned)cpu >= za->nr_cpus || order > ZA_PCP_SMALL_ORDER ||
	             (za->flags & ZA_CFG_NO_PCP)))
		return false;
	unsigned long pfn = page_ptr_pfn(za, page);
	if (unlikely(pfn == ULONG_MAX || page_order(page) != order ||
	             za_load_relaxed(&page->state) != ZA_PS_ALLOC))
		return false;
	int mt = pageblock_mt(za, pfn);
	if (unlikely(mt >= ZA_NR_PCPTYPES))
		return false; /* isolated or reserved: pcp_free_mt's cases */
	unsigned zid = page->zone_id;
	struct za_zone *z = za->zone_by_id[zid];
	struct za_pcp *pcp = za_pcp_of(za, zid, cpu);
	if (unlikely(!za_rseq_own(&pcp->own.word, cpu, rs)))
		return false;
	za_witness_acquire(ZA_RANK_PCP, "pcp (owner)");
	int count = pcp->count + (1 << order);
	if (unlikely(pcp->flags || count >= pcp->high))
		goto no;
	/* Claim it where nobody on this CPU can come between the check and
	 * the claim: a free of it racing ours on another CPU is caught when
	 * the block comes up a second time (pcp_take_locked), or at once by
	 * the compare-and-swap of strict frees. */
	uint8_t gen = page->gen;
	if (unlikely(za->strict_free)) {
		uint8_t st = ZA_PS_ALLOC;
		if (!za_cas_acqrel(&page->state, &st, ZA_PS_PCP))
			goto no;
	} else if (unlikely(za_load_acquire(&page->state) != ZA_PS_ALLOC)) {
		goto no;
	}
	int idx = (int)order * ZA_NR_PCPTYPES + mt;
	if (page_mt(page) != mt)
		za_store_relaxed(&page->mt, (uint8_t)mt);
	page->pcp_cpu = pcp->cpu;
	page->free_gen = gen;
	page->next = pcp->lists[idx];
	set_page_state(page, ZA_PS_PCP);
	pcp->lists[idx] = (uint32_t)pfn;
	za_store_relaxed(&pcp->count, count);
	pcp_count_alloc_locked(z, pcp, -(1l << order));
	pcp_own_release_rseq(pcp);
	return true;
no:
	pcp_own_release_rseq(pcp);
	return false;
}

void za_free_pages(struct za *za, struct za_page *page, unsigned order)
{
	if (likely(za && page && za->pcp_rseq) && likely(free_fast_rseq(za, page, order)))
		return;
	free_pages_slow(za, page, order);
}

/* Longest run of frees under one hold of a page-set lock, so that a
 * remote drain never waits for a whole long array. */
#define BULK_FREE_RUN 64

/* Each page checked and claimed as za_free_pages does, but the current
 * CPU's page set is locked once for a run of pages instead of once per
 * page. Misuse is reported with the lock dropped. */
void za_free_pages_bulk(struct za *za, unsigned nr, struct za_page **pages)
{
	if (!za || !pages)
		return;
	int cpu = za_current_cpu(za);
	bool lists = cpu >= 0 && !(za->flags & ZA_CFG_NO_PCP);
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
			if (held) {
				pcp_count_alloc_locked(held_zone, held, -(long)run);
				pcp_own_release(za, held);
			}
			held = NULL;
			free_misuse(za, page, pfn, 0, st);
			continue;
		}
		struct za_zone *z = page_zone(za, page);
		int mt = lists ? pcp_free_mt(za, pfn) : -1;
		if (held && (mt < 0 || z != held_zone || run == BULK_FREE_RUN)) {
			pcp_count_alloc_locked(held_zone, held, -(long)run);
			pcp_own_release(za, held);
			held = NULL;
		}
		if (mt >= 0 && !held) {
			ZA_YIELD_POINT(za);
			held = pcp_trylock_usable(z, zone_pcp(z, cpu), true);
			held_zone = z;
			run = 0;
		}
		if (held && unlikely(page_state(page) != ZA_PS_FREEING)) {
			/* Another free of it raced ours (see pcp_free). */
			pcp_count_alloc_locked(held_zone, held, -(long)run);
			pcp_own_release(za, held);
			held = NULL;
			free_misuse(za, page, pfn, 0, (uint8_t)page_state(page));
		} else if (held) {
			pcp_push_locked(za, z, held, page, pfn, 0, mt, gen);
			run++;
		} else {
			free_one_page(za, z, page, pfn, 0, cpu);
		}
	}
	if (held) {
		pcp_count_alloc_locked(held_zone, held, -(long)run);
		pcp_own_release(za, held);
	}
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
