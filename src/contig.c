/*
 * contig.c - contiguous ranges larger than a max-order block, built on the
 * machinery of memory offline: find a candidate range of whole max-order
 * blocks in an allowed zone, isolate it, migrate what is in use out, and
 * hand the range out as one allocation (what the kernel calls
 * alloc_contig_range, behind CMA and gigantic pages).
 *
 * A range in use has its head in state ALLOC with order ZA_CONTIG_ORDER and
 * its length in the second page's `next`; its pageblocks stay isolated
 * until it is freed, so nothing else allocates from them.
 */
#include "internal.h"

static bool candidate_ok(struct za *za, struct za_zone *z, unsigned long start,
                         unsigned long nr)
{
	/* Every block the range touches: it need not start on a block
	 * boundary, so step from the block that holds its first page. */
	for (unsigned long p = start & ~(za->block_pages - 1); p < start + nr;
	     p += za->block_pages)
		if (!pfn_online(za, p) || pfn_section(za, p)->zone_id != z->id)
			return false;
	/* Quick scan: nothing unmovable in use, nothing taken already. */
	for (unsigned long pfn = start; pfn < start + nr;) {
		struct za_page *p = pfn_page(za, pfn);
		int st = page_state(p);
		unsigned long n = page_scan_span(p, st);
		if (st == ZA_PS_OFFLINE || pageblock_mt(za, pfn) == ZA_MT_ISOLATE ||
		    (n == 1 && st != ZA_PS_NONE && page_order(p) == ZA_CONTIG_ORDER))
			return false;
		/* Without a migrate callback nothing in use can move: only
		 * its owner's free would clear it, and waiting for that took
		 * the whole deadline from every candidate after this one. */
		if (st == ZA_PS_ALLOC && (!za->migrate || page_alloc_unmovable(p)))
			return false;
		pfn += n;
	}
	return true;
}

/* Passes of a candidate's migration in a row that move nothing before
 * the first round leaves it for the next candidate (the kernel's
 * alloc_contig_range gives a range five tries). */
#define CONTIG_IDLE_PASSES 5

/* Take the first candidate of the allowed zones, highest first, that
 * take_range takes (idle_passes as take_range's): its zone, its start in
 * *start; NULL when none. *gave_up says that a candidate was left
 * unfinished (-EAGAIN). */
static struct za_zone *take_candidate(struct za *za, struct za_zoneref *zl,
                                      int hz, unsigned long nr,
                                      uint64_t deadline, unsigned idle_passes,
                                      unsigned long *start, bool *gave_up)
{
	unsigned long chunk = 1ul << za->max_order;
	struct za_zone *z;
	for (unsigned i = 0; (z = zonelist_next(zl, hz, &i));) {
		unsigned long zs = za_load_relaxed(&z->start_pfn);
		unsigned long ze = za_load_relaxed(&z->end_pfn);
		/* Highest candidates first: low memory is what DMA-limited
		 * users need. */
		for (unsigned long s = (ze >= nr ? (ze - nr) & ~(chunk - 1) : 0);
		     s >= zs && s + nr <= ze; s -= chunk) {
			/* Keep the zone above its high watermark afterwards. */
			if (zone_free_estimate(za, z) < nr + zone_wmark(z, ZA_WMARK_HIGH))
				break;
			if (!candidate_ok(za, z, s, nr)) {
				if (s < chunk)
					break;
				continue;
			}
			unsigned long migrated = 0;
			int err = take_range(za, z, s, nr, deadline, &migrated,
			                     idle_passes);
			if (!err) {
				*start = s;
				return z;
			}
			if (err == -EAGAIN)
				*gave_up = true;
			if (za_now_ns() > deadline || s < chunk)
				break;
		}
	}
	return NULL;
}

struct za_page *za_alloc_contig_pages(struct za *za, unsigned long nr_pages,
                                      za_gfp_t gfp)
{
	if (!za || !nr_pages || (gfp & ~ZA_GFP_ALL_BITS) ||
	    ((gfp & ZA___GFP_DMA) && (gfp & ZA___GFP_DMA32))) {
		errno = EINVAL;
		return NULL;
	}
	/* A range longer than the frame numbers can never be had; checking
	 * first also keeps the round-up below from wrapping. */
	if (nr_pages > za->max_pfn) {
		event_zone(&za->nodes[0].zones[0], ZA_CONTIG_FAIL, 1);
		errno = ENOMEM;
		return NULL;
	}
	if (mem_hotplug_held_by_me(za)) {
		errno = EDEADLK;
		return NULL;
	}
	unsigned long chunk = 1ul << za->max_order;
	unsigned long nr = (nr_pages + chunk - 1) & ~(chunk - 1);
	int cpu = za_current_cpu(za);
	int nid = cpu >= 0 ? za->cpu_node[cpu] : 0;
	int hz = gfp_zone(gfp);
	struct za_zoneref *zl =
	    za->nodes[nid].zonelist[(gfp & ZA___GFP_THISNODE) ? 1 : 0];
	uint64_t deadline = za_now_ns() +
	                    (uint64_t)za->offline_timeout_ms * ZA_NSEC_PER_MSEC;

	mem_hotplug_lock(za);
	/* Every candidate first with a short budget, so that one that cannot
	 * be had soon (a block whose owner refuses to let it move for now)
	 * does not take the whole deadline from the candidates after it;
	 * then, if one was left unfinished, all again with what is left of
	 * the deadline. */
	bool gave_up = false;
	unsigned long s = 0;
	struct za_zone *z = take_candidate(za, zl, hz, nr, deadline,
	                                   CONTIG_IDLE_PASSES, &s, &gave_up);
	if (!z && gave_up && za_now_ns() <= deadline)
		z = take_candidate(za, zl, hz, nr, deadline, 0, &s, &gave_up);
	if (!z) {
		event_zone(&za->nodes[nid].zones[0], ZA_CONTIG_FAIL, 1);
		mem_hotplug_unlock(za);
		errno = ENOMEM;
		return NULL;
	}
	struct za_page *head = pfn_page(za, s);
	/* Handed out: its count moves on, as every hand-out moves it, for a
	 * racing free of a range that was here before
	 * (za_free_contig_pages). */
	page_hand_out_gen(head);
	za_store_relaxed(&head->order, (uint8_t)(ZA_CONTIG_ORDER));
	za_store_relaxed(&head->mt, (uint8_t)(ZA_MT_MOVABLE));
	pfn_page(za, s + 1)->next = (uint32_t)nr;
	zone_lock(z, NULL);
	z->nr_isolate_pageblock += nr >> za->pageblock_order;
	zone_unlock(z);
	set_page_state(head, ZA_PS_ALLOC);
	vmstat_mod(z, ZA_NR_ZONE_ALLOCATED, (long)nr);
	event_zone(z, ZA_CONTIG_OK, 1);
	mem_hotplug_unlock(za);
	if (za_debug_aids_on(za))
		_za_debug_alloc(za, s, nr, ZA_PAGE_OWNER_CONTIG, gfp, cpu,
		                __builtin_return_address(0));
	if (gfp & ZA___GFP_ZERO) {
		/* Zero block by block: the range may span hotplug blocks with
		 * separate bases. */
		for (unsigned long p = s; p < s + nr; p += chunk) {
			void *a = za_page_address(za, pfn_page(za, p));
			if (a)
				__builtin_memset(a, 0, chunk << za->page_shift);
		}
	}
	return head;
}

void za_free_contig_pages(struct za *za, struct za_page *page,
                          unsigned long nr_pages)
{
	if (!za || !page)
		return;
	unsigned long pfn = page_ptr_pfn(za, page);
	unsigned long chunk = 1ul << za->max_order;
	unsigned long nr = (nr_pages + chunk - 1) & ~(chunk - 1);
	if (pfn == ULONG_MAX) {
		_za_report_misuse(za, -EINVAL,
		                  "contig free of %p: not page "
		                  "metadata of this allocator",
		                  (void *)page);
		return;
	}
	if (mem_hotplug_held_by_me(za)) {
		_za_report_misuse(za, -EDEADLK,
		                  "contig free of pfn 0x%lx from a "
		                  "callback under the memory-hotplug lock: not "
		                  "freed",
		                  pfn);
		return;
	}
	/* The hand-out count before the checks, as claim_free reads it: a
	 * free of this range racing another, whose checks passed before the
	 * other free and whose claim comes after the range (or a block at
	 * its head) was handed out again, finds it moved, and leaves the new
	 * owner's range alone instead of freeing it whole. */
	uint8_t gen = za_load_acquire(&page->gen);
	bool range = page_order(page) == ZA_CONTIG_ORDER &&
	             nr_pages <= za->max_pfn && pfn_page(za, pfn + 1)->next == nr;
	if (range)
		ZA_DEBUG_POINT(za, ZA_DP_FREE_GEN, page);
	/* The claim and the count compared (page_claim_cas); the range was
	 * checked after the count's read (-1). */
	enum page_claim c = range ? page_claim_cas(page, gen, -1, NULL)
	                          : PAGE_CLAIM_STATE;
	if (c == PAGE_CLAIM_STATE) {
		_za_report_misuse(za, -EINVAL,
		                  "contig free of pfn 0x%lx (%lu pages): "
		                  "not a contiguous range of that size in use",
		                  pfn, nr_pages);
		return;
	}
	if (c == PAGE_CLAIM_REUSED) {
		_za_report_misuse(za, -EINVAL,
		                  "contig free of pfn 0x%lx (%lu pages): handed out "
		                  "again since this free checked it (racing double "
		                  "free): not freed",
		                  pfn, nr_pages);
		return;
	}
	struct za_zone *z = page_zone(za, page);
	if (za_debug_aids_on(za))
		_za_debug_free(za, pfn, nr, __builtin_return_address(0));
	mem_hotplug_lock(za);
	zone_lock(z, NULL);
	for (unsigned long p = pfn; p < pfn + nr; p += 1ul << za->pageblock_order)
		set_pageblock_mt(za, p, ZA_MT_MOVABLE);
	z->nr_isolate_pageblock -= nr >> za->pageblock_order;
	zone_unlock(z);
	pfn_page(za, pfn + 1)->next = ZA_NIL;
	za_store_relaxed(&page->order, (uint8_t)(0));
	vmstat_mod(z, ZA_NR_ZONE_ALLOCATED, -(long)nr);
	buddy_free_range(z, pfn, nr);
	mem_hotplug_unlock(za);
}
