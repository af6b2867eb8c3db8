/*
 * pcp.h - the per-CPU page set operations that sit on the fast path,
 * inline so that an allocation or free is one straight run of code:
 * pop from and push onto a page set's list under its lock. The rest of
 * the page-set code (refill, flush, drain, sizing) is in pcp.c.
 */
#ifndef ZA_PCP_H
#define ZA_PCP_H

#include "internal.h"

/* Give nr pages (at least) back to the buddy lists. pcp->lock held. */
unsigned long pcp_flush_locked(struct za *za, struct za_zone *z,
                               struct za_pcp *pcp, long nr, int ev,
                               int ev_pages);

/* A CPU that keeps refilling earns a longer list, up to high_max, unless
 * memory is short. pcp->lock held. */
static inline void pcp_grow_locked(struct za *za, struct za_pcp *pcp)
{
	za_inc_single_writer(&pcp->trips_since_decay, 1);
	if (!(za->flags & ZA_CFG_PCP_FIXED) && pcp->high < pcp->high_max &&
	    !za_load_relaxed(&za->reclaim_active)) {
		int high = pcp->high + pcp->batch;
		za_store_relaxed(&pcp->high, high < pcp->high_max ? high : pcp->high_max);
	}
}

/* Take the first block off list idx. pcp->lock held, list not empty. */
static inline struct za_page *pcp_pop_locked(struct za *za, struct za_zone *z,
                                             struct za_pcp *pcp, unsigned order,
                                             int mt, int idx)
{
	uint32_t h = pcp->lists[idx];
	struct za_page *page = pfn_page(za, h);
	pcp->lists[idx] = page->next;
	page->next = ZA_NIL;
	za_store_relaxed(&page->mt, (uint8_t)mt);
	set_page_state(page, ZA_PS_ALLOC);
	za_store_relaxed(&pcp->count, pcp->count - (1 << order));
	event_pcp_locked(pcp, ZA_PGALLOC, 1u << order);
	vmstat_mod_pcp_locked(z, pcp, ZA_NR_ZONE_ALLOCATED, 1l << order);
	return page;
}

/* Put a claimed block on the current CPU's list; false when the page set
 * is busy or switched off, or the block's pageblock is isolated: then the
 * caller frees it to the buddy lists. */
static inline bool pcp_free(struct za *za, struct za_zone *z, struct za_page *page,
              unsigned long pfn, unsigned order, int cpu)
{
	struct za_pcp *pcp = zone_pcp(z, cpu);
	int mt = pageblock_mt(za, pfn);
	if (unlikely(mt >= ZA_NR_PCPTYPES)) {
		/* Isolated blocks go straight to the buddy lists; reserve
		 * pages are cached as movable. */
		if (mt == ZA_MT_ISOLATE)
			return false;
		mt = ZA_MT_MOVABLE;
	}
	ZA_YIELD_POINT(za);
	if (unlikely(!pcp_trylock(pcp))) {
		event_zone(z, ZA_PCP_TRYLOCK_FAIL, 1);
		return false;
	}
	if (unlikely(pcp->flags)) {
		pcp_unlock(pcp);
		return false;
	}
	int idx = pcp_list_index(order, mt);
	za_store_relaxed(&page->order, (uint8_t)order);
	za_store_relaxed(&page->mt, (uint8_t)mt);
	page->next = pcp->lists[idx];
	set_page_state(page, ZA_PS_PCP);
	pcp->lists[idx] = (uint32_t)pfn;
	int count = pcp->count + (1 << order);
	za_store_relaxed(&pcp->count, count);
	event_pcp_locked(pcp, ZA_PGFREE, 1u << order);
	vmstat_mod_pcp_locked(z, pcp, ZA_NR_ZONE_ALLOCATED, -(1l << order));
	if (unlikely(count >= pcp->high)) {
		/* A CPU that keeps flushing (it frees more than it allocates)
		 * flushes bigger batches, up to the whole list above a batch:
		 * fewer trips to the zone lock without holding more memory. */
		long nr = ((long)pcp->batch << pcp->free_factor) + (count - pcp->high);
		if (nr > count - pcp->batch)
			nr = count - pcp->batch > pcp->batch ? count - pcp->batch
			                                     : pcp->batch;
		pcp->alloc_factor = 0;
		if (pcp->free_factor < 3 && !(za->flags & ZA_CFG_PCP_FIXED))
			pcp->free_factor++;
		za_inc_single_writer(&pcp->trips_since_decay, 1);
		pcp_flush_locked(za, z, pcp, nr, ZA_PCP_FLUSH, ZA_PCP_FLUSH_PAGES);
	}
	pcp_unlock(pcp);
	return true;
}

#endif
