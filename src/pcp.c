/*
 * pcp.c - per-CPU page sets: the fast path of allocation and free.
 *
 * A page set belongs to one (CPU, zone). Its owner takes its lock with a
 * try-lock and, when that fails (a remote drainer holds it, or another
 * thread that read the same CPU number), falls back to the buddy lists
 * rather than spinning. Remote drains take the lock outright: no signal,
 * no IPI, no stop-the-world. A page set whose flags are non-zero (CPU
 * offline, or its zone's lists disabled for memory offline) takes no
 * pages: the checks happen under its lock, so one drain after setting a
 * flag leaves it empty for good (seeds 000 and 004).
 *
 * Refills and flushes move `batch` pages under one zone-lock hold.
 */
#include "internal.h"
#include "pcp.h"

static unsigned refill_count(const struct za *za, const struct za_pcp *pcp,
                             unsigned order)
{
	unsigned b = (unsigned)pcp->batch;
	/* A stream of allocations (refill after refill with no flush in
	 * between) gets bigger batches, as long as they fit under high. */
	unsigned grown = b << pcp->alloc_factor;
	if (!(za->flags & ZA_CFG_PCP_FIXED) && grown > b &&
	    pcp->count + (int)grown <= pcp->high)
		b = grown;
	if (order == 0)
		return b;
	b >>= order;
	if (order <= ZA_PCP_SMALL_ORDER)
		return b < 2 ? 2 : b;
	return b < 1 ? 1 : b;
}

/* Fill list idx from the buddy lists. Keeps the order the buddy handed
 * the pages out in, so that a stream of allocations walks memory upward. */
static unsigned pcp_refill_locked(struct za *za, struct za_zone *z,
                                  struct za_pcp *pcp, unsigned order, int mt,
                                  unsigned alloc_flags, long floor)
{
	unsigned want = refill_count(za, pcp, order), got = 0;
	uint32_t head = ZA_NIL, tail = ZA_NIL;

	/* The watermark check let one block through; a batch must not take
	 * the zone below the floor that check kept (min for the slow path). */
	long room = ((alloc_flags & ALLOC_WMARK_MASK) == ALLOC_WMARK_MIN
	                 ? zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES)
	                 : (long)zone_free_estimate(za, z)) - floor;
	if ((long)(want << order) > room) {
		long n = room >> order;
		want = n > 1 ? (unsigned)n : 1;
	}

	zone_lock(z, pcp);
	for (; got < want; got++) {
		struct za_page *page = buddy_alloc_locked(z, order, mt, alloc_flags);
		if (!page)
			break;
		uint32_t pfn = (uint32_t)page_pfn(za, page);
		za_store_relaxed(&page->order, (uint8_t)order);
		za_store_relaxed(&page->mt, (uint8_t)mt);
		page->next = ZA_NIL;
		set_page_state(page, ZA_PS_PCP);
		if (tail == ZA_NIL)
			head = pfn;
		else
			pfn_page(za, tail)->next = pfn;
		tail = pfn;
	}
	zone_unlock(z);
	if (!got)
		return 0;
	int idx = pcp_list_index(order, mt);
	pfn_page(za, tail)->next = pcp->lists[idx];
	pcp->lists[idx] = head;
	za_store_relaxed(&pcp->count, pcp->count + (int)(got << order));
	/* After the pages left the buddy lists (seed 003). */
	vmstat_mod_pcp_locked(z, pcp, ZA_NR_FREE_PAGES, -(long)(got << order));
	event_pcp_locked(pcp, ZA_PCP_REFILL, 1);
	event_pcp_locked(pcp, ZA_PCP_REFILL_PAGES, got << order);
	if (pcp->alloc_factor < 3)
		pcp->alloc_factor++;
	pcp->free_factor = 0;
	pcp_grow_locked(za, pcp);
	return got;
}

/* Give `nr` pages (at least) back to the buddy lists, round-robin over
 * the lists so that no order or type starves. */
unsigned long pcp_flush_locked(struct za *za, struct za_zone *z,
                                      struct za_pcp *pcp, long nr, int ev,
                                      int ev_pages)
{
	long nfree = 0, niso = 0;
	unsigned long done = 0;
	int idx = 0, empty = 0;
	if (nr <= 0 || pcp->count == 0)
		return 0;
	zone_lock(z, pcp);
	while ((long)done < nr && empty < ZA_NR_PCP_LISTS) {
		uint32_t h = pcp->lists[idx];
		if (h == ZA_NIL) {
			empty++;
			idx = (idx + 1) % ZA_NR_PCP_LISTS;
			continue;
		}
		empty = 0;
		struct za_page *page = pfn_page(za, h);
		unsigned order = page_order(page);
		pcp->lists[idx] = page->next;
		page->next = ZA_NIL;
		/* The pageblock's type is read under the zone lock: a block
		 * isolated meanwhile lands on the isolate list. */
		if (buddy_free_locked(z, page, h, order) == ZA_MT_ISOLATE)
			niso += 1l << order;
		else
			nfree += 1l << order;
		done += 1ul << order;
		idx = (idx + 1) % ZA_NR_PCP_LISTS;
	}
	zone_unlock(z);
	za_store_relaxed(&pcp->count, pcp->count - (int)done);
	/* After the pages reached the buddy lists (seed 003). */
	vmstat_mod_pcp_locked(z, pcp, ZA_NR_FREE_PAGES, nfree);
	if (niso)
		vmstat_mod(z, ZA_NR_FREE_ISOLATED, niso);
	event_pcp_locked(pcp, ev, 1);
	event_pcp_locked(pcp, ev_pages, done);
	return done;
}

void pcp_free_over_high_locked(struct za *za, struct za_zone *z,
                               struct za_pcp *pcp, int count)
{
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

struct za_page *pcp_alloc(struct za *za, struct za_zone *z, unsigned order,
                          int mt, unsigned alloc_flags, long floor, int cpu,
                          bool *usable)
{
	struct za_page *page = NULL;

	ZA_YIELD_POINT(za); /* between reading the CPU and locking */
	struct za_pcp *pcp = pcp_trylock_usable(z, zone_pcp(z, cpu), true);
	*usable = pcp != NULL;
	if (unlikely(!pcp))
		return NULL;
	int idx = pcp_list_index(order, mt);
	if (pcp->lists[idx] != ZA_NIL ||
	    pcp_refill_locked(za, z, pcp, order, mt, alloc_flags, floor))
		page = pcp_pop_locked(za, z, pcp, order, mt, idx);
	pcp_unlock(pcp);
	return page;
}

unsigned pcp_alloc_bulk(struct za *za, struct za_zone *z, int cpu, int mt,
                        unsigned nr, struct za_page **pages,
                        unsigned long mark, int highest_zoneidx)
{
	unsigned got = 0;
	int idx = pcp_list_index(0, mt);
	struct za_pcp *pcp = pcp_trylock_usable(z, zone_pcp(z, cpu), true);
	if (!pcp)
		return 0;
	while (got < nr) {
		if (pcp->lists[idx] == ZA_NIL) {
			/* Each refill re-checks the watermark, so a bulk
			 * request cannot run a zone below it. */
			if (!zone_watermark_fast(za, z, 0, mark, highest_zoneidx,
			                         ALLOC_WMARK_LOW) ||
			    !pcp_refill_locked(za, z, pcp, 0, mt, ALLOC_WMARK_LOW,
			                       wmark_floor(z, mark, highest_zoneidx,
			                                   ALLOC_WMARK_LOW)))
				break;
		}
		pages[got++] = pcp_take_locked(za, pcp, 0, mt, idx);
	}
	if (got)
		pcp_count_alloc_locked(z, pcp, got);
	pcp_unlock(pcp);
	return got;
}

unsigned long pcp_drain_cpu_zone(struct za *za, struct za_zone *z, int cpu)
{
	struct za_pcp *pcp = zone_pcp(z, cpu);
	unsigned long n = 0;
	if (!za_load_relaxed(&pcp->count))
		return 0;
	pcp_lock(pcp);
	n = pcp_flush_locked(za, z, pcp, pcp->count, ZA_PCP_DRAIN,
	                     ZA_PCP_DRAIN_PAGES);
	pcp_unlock(pcp);
	return n;
}

void pcp_drain_zone(struct za *za, struct za_zone *z)
{
	for (unsigned c = 0; c < za->nr_cpus; c++)
		pcp_drain_cpu_zone(za, z, (int)c);
}

void pcp_set_flag(struct za *za, struct za_zone *z, int cpu, uint8_t flag,
                  bool on)
{
	struct za_pcp *pcp = zone_pcp(z, cpu);
	pcp_lock(pcp);
	if (on) {
		za_store_relaxed(&pcp->flags, pcp->flags | flag);
		/* Same lock hold: nothing can slip in between the flag and
		 * the drain. */
		pcp_flush_locked(za, z, pcp, pcp->count, ZA_PCP_DRAIN,
		                 ZA_PCP_DRAIN_PAGES);
	} else {
		za_store_relaxed(&pcp->flags, pcp->flags & ~flag);
	}
	pcp_unlock(pcp);
}

/* Memory offline and contiguous allocation: every free of this zone goes
 * straight to the buddy lists until pcp_zone_enable. Nests. Caller holds
 * mem_hotplug_lock. */
void pcp_zone_disable(struct za *za, struct za_zone *z)
{
	int was = z->pcp_disable_count;
	za_store_relaxed(&z->pcp_disable_count, was + 1);
	if (was == 0)
		for (unsigned c = 0; c < za->nr_cpus; c++)
			pcp_set_flag(za, z, (int)c, ZA_PCP_OFF_ZONE, true);
}

void pcp_zone_enable(struct za *za, struct za_zone *z)
{
	ZA_ASSERT(z->pcp_disable_count > 0);
	int now = z->pcp_disable_count - 1;
	za_store_relaxed(&z->pcp_disable_count, now);
	if (now == 0)
		for (unsigned c = 0; c < za->nr_cpus; c++)
			pcp_set_flag(za, z, (int)c, ZA_PCP_OFF_ZONE, false);
}

/* --- sizing ---------------------------------------------------------------- */

static int round_pow2_minus1(unsigned long b)
{
	unsigned long p = 1;
	while (p * 2 <= b)
		p *= 2;
	return (int)p - 1;
}

/* batch: a quarter of 1/1024 of the zone, capped at 1 MiB worth, a 2^n-1
 * so that successive batches do not fall on the same cache colours.
 * high_min: the low watermark shared among the node's CPUs; high_max: an
 * eighth of the zone likewise. high starts at high_min and sizes itself
 * between the two (pcp_decay_all and the refill path). */
void pcp_update_sizes(struct za *za, struct za_zone *z)
{
	unsigned long managed = za_load_relaxed(&z->managed_pages);
	int batch, high_min, high_max;
	if (za->flags & ZA_CFG_PCP_FIXED) {
		batch = (int)za->pcp_batch_cfg;
		high_min = high_max = (int)za->pcp_high_cfg;
	} else {
		unsigned long b = managed >> 10, cap = (1ul << 20) >> za->page_shift;
		if (b > cap)
			b = cap;
		b /= 4;
		if (b < 1)
			b = 1;
		batch = round_pow2_minus1(b + b / 2);
		if (batch < 1)
			batch = 1;
		unsigned ncpu = 0;
		for (unsigned c = 0; c < za->nr_cpus; c++)
			if (za->cpu_node[c] == z->nid && za_load_relaxed(&za->cpu_online[c]))
				ncpu++;
		if (!ncpu)
			ncpu = za_load_relaxed(&za->nr_online_cpus);
		if (!ncpu)
			ncpu = 1;
		unsigned long lo = zone_wmark(z, ZA_WMARK_LOW) / ncpu;
		unsigned long hi = (managed / 8) / ncpu;
		/* Within an int whatever the zone's size or marks. */
		if (lo > INT_MAX / 2)
			lo = INT_MAX / 2;
		if (hi > INT_MAX / 2)
			hi = INT_MAX / 2;
		high_min = (int)(lo > (unsigned long)batch * 4 ? lo : (unsigned long)batch * 4);
		high_max = (int)(hi > (unsigned long)high_min ? hi : (unsigned long)high_min);
	}
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp *pcp = zone_pcp(z, (int)c);
		pcp_lock(pcp);
		za_store_relaxed(&pcp->batch, batch);
		za_store_relaxed(&pcp->high_min, high_min);
		za_store_relaxed(&pcp->high_max, high_max);
		int high = pcp->high;
		if (high < high_min || high > high_max)
			high = high_min;
		za_store_relaxed(&pcp->high, high);
		pcp_unlock(pcp);
	}
}

/* Set a list's high and give back what is over it. pcp->lock held. */
static void pcp_trim_locked(struct za *za, struct za_zone *z,
                            struct za_pcp *pcp, int high)
{
	za_store_relaxed(&pcp->high, high);
	pcp->alloc_factor = 0;
	pcp->free_factor = 0;
	if (pcp->count > pcp->high)
		pcp_flush_locked(za, z, pcp, pcp->count - pcp->high, ZA_PCP_DRAIN,
		                 ZA_PCP_DRAIN_PAGES);
}

/* While reclaim runs, every list shrinks to its minimum and gives the
 * rest back; afterwards lists grow again on demand. */
void pcp_set_high_all(struct za *za, bool pressure)
{
	if (!pressure || (za->flags & ZA_CFG_PCP_FIXED))
		return;
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			if (!zone_populated(z))
				continue;
			for (unsigned c = 0; c < za->nr_cpus; c++) {
				struct za_pcp *pcp = zone_pcp(z, (int)c);
				pcp_lock(pcp);
				pcp_trim_locked(za, z, pcp, pcp->high_min);
				pcp_unlock(pcp);
			}
		}
	}
}

/* Periodic: a list that did not refill or flush since the last call
 * shrinks by an eighth (at least a batch) towards high_min and gives back
 * what is over; an idle CPU so returns its pages within a few intervals. */
void pcp_decay_all(struct za *za)
{
	if (za->flags & ZA_CFG_PCP_FIXED)
		return;
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			if (!zone_populated(z))
				continue;
			for (unsigned c = 0; c < za->nr_cpus; c++) {
				struct za_pcp *pcp = zone_pcp(z, (int)c);
				if (!pcp_trylock(pcp))
					continue;
				if (!pcp->trips_since_decay) {
					int step = pcp->high / 8;
					if (step < pcp->batch)
						step = pcp->batch;
					int high = pcp->high - step;
					pcp_trim_locked(za, z, pcp, high > pcp->high_min
					                                ? high : pcp->high_min);
				}
				za_store_relaxed(&pcp->trips_since_decay, 0);
				pcp_unlock(pcp);
			}
		}
	}
}
