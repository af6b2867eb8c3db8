/*
 * pcp.h - the per-CPU page set operations that sit on the fast path,
 * inline so that an allocation or free is one straight run of code:
 * own the current CPU's set (a restartable sequence, or a try-lock in
 * locked mode), pop or push, let go. The rest of the page-set code
 * (refill, flush, drain, sizing) is in pcp.c.
 */
#ifndef ZA_PCP_H
#define ZA_PCP_H

#include "internal.h"

/* The most pages a bulk call (za_alloc_pages_bulk, za_free_pages_bulk)
 * takes from or gives to a page set in one hold of it: between runs it
 * lets the set go and reports what the run cut, so that a remote user (a
 * drain, za_check, za_pcp_set_high, memory offline's switch-off, a CPU
 * offline) waits for one run, never for a whole long array. */
#define PCP_BULK_RUN 64

/* A list whose head is not a free block: cut it (pcp.c). */
void pcp_cut_locked(struct za *za, struct za_pcp *pcp, int idx, uint32_t pfn);
/* Report what pcp_cut_locked kept, once the set is let go (no lock
 * held): every cut waiting, each once. */
void pcp_report_corrupt_slow(struct za *za, struct za_pcp *pcp);
static inline void pcp_report_corrupt(struct za *za, struct za_pcp *pcp)
{
	if (unlikely(za_load_relaxed(&pcp->corrupt_pfn) != ZA_NIL))
		pcp_report_corrupt_slow(za, pcp);
}

/* Let go of a set and report what was cut while it was held: how every
 * slow path lets a set go, so that none forgets the report (a cut is
 * reported before the call that made it returns). The owner's release
 * (pcp_own_release_report) and a remote user's (pcp_unlock_report).
 * Bare releases are left for the fast paths, which cut only where they
 * report by hand (a failed pop), for remote users that never flush (the
 * statistics folds, za_check), and for a let-go that must report later:
 * several sets held at once (pcp_cpu_off), or a lock still held that an
 * error callback may want (pcp_pressure_trim_locked). */
static inline void pcp_own_release_report(struct za *za, struct za_pcp *pcp)
{
	pcp_own_release(za, pcp);
	pcp_report_corrupt(za, pcp);
}
static inline void pcp_unlock_report(struct za *za, struct za_pcp *pcp)
{
	pcp_unlock(za, pcp);
	pcp_report_corrupt(za, pcp);
}

/* Give nr pages (at least) back to the buddy lists. pcp->lock held. */
unsigned long pcp_flush_locked(struct za *za, struct za_zone *z,
                               struct za_pcp *pcp, long nr, int ev,
                               int ev_pages);

/* A free of order 4..8 onto list mt may go on the lists: true, having
 * given blocks back to the buddy lists if the budget needed it; false
 * when it goes to the buddy lists (pcp.c). pcp->lock held. */
bool pcp_mid_room_locked(struct za *za, struct za_zone *z, struct za_pcp *pcp,
                         unsigned long pfn, unsigned order, int mt);

/* A free took the list to or above high: flush. pcp->lock held. */
void pcp_free_over_high_locked(struct za *za, struct za_zone *z,
                               struct za_pcp *pcp, int count);

/* A CPU that keeps refilling earns a longer list, up to high_max, unless
 * memory is short: a batch per refill, or what the refill took back of
 * the pages the list flushed over high (taken_back), when that is more.
 * The growth is noted for the next decay pass (grown_since_decay), which
 * takes up to as much back while the list is still busy. pcp->lock
 * held. */
static inline void pcp_grow_locked(struct za *za, struct za_pcp *pcp,
                                   int taken_back)
{
	za_inc_single_writer(&pcp->trips_since_decay, 1);
	if (!(za->flags & ZA_CFG_PCP_FIXED) && pcp->high < pcp->high_max &&
	    !za_load_relaxed(&za->reclaim_active)) {
		long high = (long)pcp->high +
		            (taken_back > pcp->batch ? taken_back : pcp->batch);
		if (high > pcp->high_max)
			high = pcp->high_max;
		long grown = za_load_relaxed(&pcp->grown_since_decay) + high -
		             pcp->high;
		za_store_relaxed(&pcp->grown_since_decay,
		                 grown < pcp->high_max ? (int)grown : pcp->high_max);
		za_store_relaxed(&pcp->high, (int)high);
	}
}

/* Own the current CPU's page set to take blocks from or give blocks to:
 * NULL when it is busy or stopped (counted as PCP_TRYLOCK_FAIL when
 * count_busy) or switched off; the caller then goes to the buddy lists. */
static inline struct za_pcp *
pcp_trylock_usable(struct za_zone *z, struct za_pcp *pcp, bool count_busy)
{
	if (unlikely(!pcp_own_try(z->za, pcp))) {
		if (count_busy)
			event_zone(z, ZA_PCP_TRYLOCK_FAIL, 1);
		return NULL;
	}
	if (unlikely(za_load_relaxed(&pcp->flags)) && pcp_flags_slow(z, pcp)) {
		pcp_own_release_report(z->za, pcp); /* the resize flush cut */
		return NULL;
	}
	return pcp;
}

/* The CPU the fast paths run on and, restartable, the rseq area whose
 * sequence will own its page set: one load from the thread's rseq area
 * (cpu_id reads as -1 until the thread is registered). -1 when unknown. */
static inline __attribute__((always_inline)) int
pcp_fast_cpu(const struct za *za, struct rseq **rsp)
{
	int cpu;
	if (likely(za->pcp_rseq)) {
		struct rseq *rs = za_rseq_area_fast();
		*rsp = rs;
		cpu = (int)za_load_relaxed(&rs->cpu_id);
		if (unlikely((unsigned)cpu >= za->nr_cpus))
			return -1;
		return cpu;
	}
	*rsp = NULL;
	return za_current_cpu(za);
}

/* Own the current CPU's page set on a fast path: the restartable sequence
 * inline, or the try-lock. */
static inline __attribute__((always_inline)) bool
pcp_fast_own(struct za *za, struct za_pcp *pcp, int cpu, struct rseq *rs)
{
	if (likely(rs)) {
		if (!za_rseq_own(&pcp->own.word, cpu, rs))
			return false;
		za_witness_acquire(ZA_RANK_PCP, "pcp (owner)");
		return true;
	}
	return pcp_own_try(za, pcp);
}

/* A block that goes to or comes from the buddy lists directly (an order
 * with no list, a free the lists refused) is still counted in the current
 * CPU's deltas, so that it writes no cache line that other CPUs read: the
 * caller try-locks that page set around the zone-lock hold (pcp before
 * zone in the lock order). NULL when the page set is busy, switched off or
 * unknown: then the zone's shared atomic counters take the counts. */
static inline struct za_pcp *pcp_stat_trylock(struct za_zone *z, int cpu)
{
	return cpu < 0 ? NULL : pcp_trylock_usable(z, zone_pcp(z, cpu), false);
}
static inline void pcp_stat_mod(struct za_zone *z, struct za_pcp *pcp,
                                int item, long delta)
{
	if (pcp)
		vmstat_mod_pcp_locked(z, pcp, item, delta);
	else
		vmstat_mod(z, item, delta);
}
static inline void pcp_stat_event(struct za_zone *z, struct za_pcp *pcp,
                                  int ev, uint64_t n)
{
	if (pcp)
		event_pcp_locked(pcp, ev, n);
	else
		event_zone(z, ev, n);
}
static inline void pcp_stat_unlock(struct za_zone *z, struct za_pcp *pcp)
{
	/* A list the resize flush of pcp_trylock_usable cut. */
	if (pcp)
		pcp_own_release_report(z->za, pcp);
}

/* The NUMA statistics of n allocations from zone z (the kernel's
 * zone_statistics): pcp is the allocating CPU's owned set of z, or NULL
 * (the zone's shared counters). pref_nid is the node the request
 * preferred, cpu the allocating CPU (-1: unknown, counted as local). */
static inline __attribute__((always_inline)) void
count_numa(struct za *za, struct za_zone *z, struct za_pcp *pcp, int pref_nid,
           int cpu, uint64_t n)
{
	int local_nid = cpu >= 0 ? za->cpu_node[cpu] : z->nid;
	if (likely(pcp && z->nid == pref_nid && z->nid == local_nid)) {
		za_inc_single_writer(&pcp->numa_hit_local, n);
		return;
	}
	if (likely(z->nid == pref_nid)) {
		pcp_stat_event(z, pcp, ZA_NUMA_HIT, n);
	} else {
		pcp_stat_event(z, pcp, ZA_NUMA_MISS, n);
		event_zone(&za->nodes[pref_nid].zones[z->type], ZA_NUMA_FOREIGN, n);
	}
	pcp_stat_event(z, pcp, z->nid == local_nid ? ZA_NUMA_LOCAL : ZA_NUMA_OTHER,
	               n);
}

/* Pages put on (or, negative, taken off) a page set's lists other than by
 * handing them out or taking them back: a refill, a flush, a drain, a cut.
 * Nothing was allocated or freed, so alloc_base moves with count. The set
 * held. */
static inline void pcp_count_moved_locked(struct za_pcp *pcp, int pages)
{
	za_store_relaxed(&pcp->alloc_base, pcp->alloc_base + pages);
	za_store_relaxed(&pcp->count, pcp->count + pages);
}

/* Count pages handed out from (or, negative, given back to) a page set's
 * lists: the allocation event or free event. The allocated-pages delta
 * is the change of count the caller stores (struct za_pcp, alloc_base).
 * Bulk calls count a whole run at once. pcp->lock held. */
static inline void pcp_count_alloc_locked(struct za_pcp *pcp, long pages)
{
	if (pages > 0)
		event_pcp_locked(pcp, ZA_PGALLOC, (uint64_t)pages);
	else
		event_pcp_locked(pcp, ZA_PGFREE, (uint64_t)-pages);
}

/* Whether the head of one of the set's lists may be handed out: a block
 * that two racing frees put on two lists is the head of both; only the
 * CPU that wrote pcp_cpu last may take it, and it cannot be taken again
 * after a hand-out elsewhere (gen moved on). gen and free_gen are 8 bits
 * (za_page has no spare byte): a push by a free that stalled between its
 * check and its claim for a multiple of 256 hand-outs of the block
 * elsewhere passes this test, and the block is handed out twice
 * unreported. Strict frees (ZA_CFG_STRICT_FREE, every debug build) claim
 * by compare-and-swap and have no such window (docs/ARCHITECTURE.md,
 * "Racing double frees"). */
static inline bool pcp_head_ok_on(const struct za_page *page, int cpu)
{
	/* CPU numbers are below ZA_RSEQ_MAX_CPU_IDS: pcp_cpu's 16 bits
	 * compare with the number's own (one compare with memory). */
	return za_eq8_acquire(&page->state, ZA_PS_PCP) &&
	       page->pcp_cpu == (uint16_t)cpu && page->free_gen == page->gen;
}
static inline bool pcp_head_ok(const struct za_pcp *pcp,
                               const struct za_page *page)
{
	return pcp_head_ok_on(page, pcp->cpu);
}

/* Take the first block off list idx, uncounted (pcp_count_alloc_locked).
 * The set owned, list not empty. NULL when the head is not a free block:
 * two frees of it raced (DESIGN.md invariants: caught at the latest when
 * the page would be handed out the second time); the list is cut and the
 * caller reports it with pcp_report_corrupt once it lets the set go. */
static inline struct za_page *pcp_take_locked(struct za *za,
                                              struct za_pcp *pcp,
                                              unsigned order, int mt, int idx)
{
	uint32_t h = pcp->lists[idx];
	struct za_page *page = pfn_page(za, h);
	if (unlikely(!pcp_head_ok(pcp, page))) {
		pcp_cut_locked(za, pcp, idx, h);
		return NULL;
	}
	page->gen++;
	if (unlikely(idx >= ZA_PCP_MID_BASE && idx < ZA_PCP_PB_BASE))
		za_store_relaxed(&pcp->mid_pages, pcp->mid_pages - (1 << order));
	pcp->lists[idx] = page->next;
	/* Every block on list idx already carries mt (set when it was put
	 * there), and an allocated block's link is never read: the pop writes
	 * the state alone. */
	ZA_ASSERT(page_mt(page) == mt && page_order(page) == order);
	(void)mt;
	set_page_state(page, ZA_PS_ALLOC);
	za_store_relaxed(&pcp->count, pcp->count - (1 << order));
	return page;
}

/* Take the first block off list idx and count it. pcp->lock held, list
 * not empty. */
static inline struct za_page *pcp_pop_locked(struct za *za, struct za_zone *z,
                                             struct za_pcp *pcp,
                                             unsigned order, int mt, int idx)
{
	struct za_page *page = pcp_take_locked(za, pcp, order, mt, idx);
	if (likely(page))
		pcp_count_alloc_locked(pcp, 1l << order);
	return page;
}

/* The list a claimed block goes on when freed: its pageblock's type
 * (reserve pages are cached as movable), or -1 for an isolated pageblock,
 * whose blocks go straight to the buddy lists. */
static inline int pcp_free_mt(const struct za *za, unsigned long pfn)
{
	int mt = pageblock_mt(za, pfn);
	if (unlikely(mt >= ZA_NR_PCPTYPES))
		return mt == ZA_MT_ISOLATE ? -1 : ZA_MT_MOVABLE;
	return mt;
}

/* Whether a freed block of orders 4..8 (at pfn, for list idx) should go
 * to the buddy lists to merge rather than onto the set's list: its buddy
 * is a free block of that order there (read without the zone lock: a
 * hint), and list idx has a block already (pcp.c, pcp_mid_room_locked).
 * The set owned. */
static inline bool pcp_mid_merges(const struct za *za,
                                  const struct za_pcp *pcp, unsigned long pfn,
                                  unsigned order, size_t idx)
{
	/* The list first: the buddy's metadata may be in a line another
	 * CPU writes all the time (its own block of the order). */
	if (pcp->lists[idx] == ZA_NIL)
		return false;
	const struct za_page *b = pfn_page(za, pfn ^ (1ul << order));
	return page_state(b) == ZA_PS_BUDDY && page_order(b) == order;
}

/* Push a claimed block on list mt of a page set, flushing above high,
 * uncounted (pcp_count_alloc_locked). The set owned; gen is the hand-out
 * count the claim saw. */
static inline void pcp_push_locked(struct za *za, struct za_zone *z,
                                   struct za_pcp *pcp, struct za_page *page,
                                   unsigned long pfn, unsigned order, int mt,
                                   uint8_t gen)
{
	int idx = pcp_list_index(za, order, mt);
	/* The order is the one the free was checked against. */
	if (page_mt(page) != mt)
		za_store_relaxed(&page->mt, (uint8_t)mt);
	page->pcp_cpu = pcp->cpu;
	page->free_gen = gen;
	if (unlikely(idx >= ZA_PCP_MID_BASE && idx < ZA_PCP_PB_BASE))
		za_store_relaxed(&pcp->mid_pages, pcp->mid_pages + (1 << order));
	page->next = pcp->lists[idx];
	set_page_state(page, ZA_PS_PCP);
	pcp->lists[idx] = (uint32_t)pfn;
	int count = pcp->count + (1 << order);
	za_store_relaxed(&pcp->count, count);
	if (unlikely(count >= pcp->high))
		pcp_free_over_high_locked(za, z, pcp, count);
}

/* Put a claimed block on the current CPU's list (pcp, the set of the
 * block's zone on cpu; rs as pcp_fast_cpu gave it): 1. 0 when the page
 * set is busy or switched off, or the block's pageblock is isolated: then
 * the caller frees it to the buddy lists. -1 when the block is no longer
 * being freed by us (another free of it raced ours onto this CPU's list):
 * the caller reports it. */
static inline __attribute__((always_inline)) int
pcp_free(struct za *za, struct za_zone *z, struct za_pcp *pcp,
         struct za_page *page, unsigned long pfn, unsigned order, int cpu,
         struct rseq *rs, uint8_t gen)
{
	int mt = pcp_free_mt(za, pfn);
	if (unlikely(mt < 0))
		return 0;
	ZA_YIELD_POINT(za);
	if (unlikely(!pcp_fast_own(za, pcp, cpu, rs))) {
		event_zone(z, ZA_PCP_TRYLOCK_FAIL, 1);
		return 0;
	}
	if (unlikely(za_load_relaxed(&pcp->flags)) && pcp_flags_slow(z, pcp)) {
		pcp_own_release_report(za, pcp); /* the resize flush cut */
		return 0;
	}
	if (unlikely(page_state(page) != ZA_PS_FREEING)) {
		/* The resize flush may have cut though the set is usable. */
		pcp_own_release_report(za, pcp);
		return -1;
	}
	/* Orders 4..8: within the set's byte budget (pcp.c). */
	if (unlikely(pcp_mid_order(za, order)) &&
	    !pcp_mid_room_locked(za, z, pcp, pfn, order, mt)) {
		pcp_own_release_report(za, pcp); /* the budget's flush cut */
		return 0;
	}
	pcp_push_locked(za, z, pcp, page, pfn, order, mt, gen);
	pcp_count_alloc_locked(pcp, -(1l << order));
	pcp_own_release_report(za, pcp); /* a list the flush over high cut */
	return 1;
}

#endif
