/*
 * pcp.c - per-CPU page sets: refill, flush, drain, sizing, and the remote
 * users' hold. The fast paths that pop and push (alloc_fast_rseq,
 * free_fast_rseq and the locked alloc_fast in alloc.c, the inline helpers
 * of pcp.h) come here when a list is empty or over high.
 *
 * A page set belongs to one (CPU, zone). Its owner takes it with a
 * restartable sequence or, locked, a try-lock and, when that fails (a
 * remote user holds it, or another thread of the same CPU), falls back to
 * the buddy lists rather than spinning. Remote users stop and fence it
 * (restartable) or take the lock outright: no signal, no stop-the-world.
 * A page set whose flags say off (CPU offline, or its zone's lists
 * disabled for memory offline) takes no pages: the checks happen while
 * it is held, so one drain after setting a flag leaves it empty for good
 * (seeds 000 and 004).
 *
 * Refills and flushes move `batch` pages under one zone-lock hold.
 *
 * high sizes itself between high_min and high_max: every refill grows it
 * by a batch, and by more when the refill takes back pages the list had
 * to flush over high (flushed_debt): a CPU that frees a run of blocks and
 * then allocates them again (a program that maps and unmaps huge pages,
 * 512 pages a block) so earns, within a cycle or two, a list that holds
 * the whole run, where a batch per refill would take hundreds of trips to
 * the zone lock. A stream of allocations, or of frees, that never comes
 * back earns nothing more than a batch per refill. The periodic decay and
 * memory pressure shrink high again and forget the debt (the decay takes
 * from a busy list what it grew since the last pass, an eighth at most);
 * a drain that empties the list forgets it too.
 */
#include "internal.h"
#include "pcp.h"

/* The largest flush moves batch << 5 pages (free_factor stops at 5, the
 * kernel's CONFIG_PCP_BATCH_SCALE_MAX); a refill of huge-page blocks as
 * many. */
#define PCP_BATCH_SCALE_MAX 5

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
	/* Huge-page blocks: as many as fit under high, up to 32 batches'
	 * worth (what the largest flush gives back in one hold), at least
	 * one. A program that maps and unmaps huge pages in runs longer
	 * than its list so moves them in a third of the zone-lock holds. */
	if (order == za->pageblock_order && !(za->flags & ZA_CFG_PCP_FIXED)) {
		long n = ((long)pcp->batch << PCP_BATCH_SCALE_MAX) >> order;
		long room = ((long)pcp->high - pcp->count) >> order; /* may be < 0 */
		if (n > room)
			n = room;
		return n < 1 ? 1 : (unsigned)n;
	}
	b >>= order;
	if (order <= ZA_PCP_SMALL_ORDER)
		return b < 2 ? 2 : b;
	return b < 1 ? 1 : b;
}

/* Whether the zone can spare a block of (order, mt) beyond the one an
 * allocation needs: a block of that order is free there and another one
 * stays, so that taking it splits nothing and leaves the buddy lists a
 * block of the order for everyone else. Zone lock held. */
static bool zone_spares_block_locked(struct za_zone *z, unsigned order, int mt)
{
	zone_assert_held(z);
	return z->nr_free[order][mt] >= 2;
}

/* Fill list idx with up to `want` blocks from the buddy lists. Keeps the
 * order the buddy handed the pages out in, so that a stream of
 * allocations walks memory upward. */
static unsigned pcp_refill_locked(struct za *za, struct za_zone *z,
                                  struct za_pcp *pcp, unsigned order, int mt,
                                  unsigned alloc_flags, long floor,
                                  unsigned want)
{
	unsigned got = 0;
	uint32_t head = ZA_NIL, tail = ZA_NIL;
	pcp_assert_held(za, pcp);

	/* The watermark check let one block through; a batch must not take
	 * the zone below the floor that check kept (min for the slow path),
	 * counted as that check counts: less the high-order atomic reserve
	 * unless the request may use it. */
	long room = zone_free_counted(za, z, alloc_flags) - floor;
	if ((long)(want << order) > room) {
		long n = room >> order;
		want = n > 1 ? (unsigned)n : 1;
	}

	bool mid = pcp_mid_order(za, order);
	zone_lock(z, pcp);
	for (; got < want; got++) {
		/* Orders 4..8: a block beyond the first only where the zone
		 * can spare one (zone_spares_block_locked). */
		if (mid && got && !zone_spares_block_locked(z, order, mt))
			break;
		/* The high-order atomic reserve gives the request its own
		 * block, never the batch's others: on the list they would go
		 * to any request (the kernel's rmqueue_bulk takes none). */
		struct za_page *page = buddy_alloc_locked(z, order, mt,
		                                          got ? alloc_flags &
		                                                    ~ALLOC_HARDER
		                                              : alloc_flags);
		if (!page)
			break;
		uint32_t pfn = (uint32_t)page_pfn(za, page);
		za_store_relaxed(&page->order, (uint8_t)order);
		za_store_relaxed(&page->mt, (uint8_t)mt);
		page->next = ZA_NIL;
		page->pcp_cpu = pcp->cpu;
		page->free_gen = page->gen;
		/* buddy_alloc_locked hands out a block that heads nothing. */
		ZA_ASSERT_PAGE(za, page, page_state(page) == ZA_PS_NONE);
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
	int idx = pcp_list_index(za, order, mt);
	pfn_page(za, tail)->next = pcp->lists[idx];
	pcp->lists[idx] = head;
	pcp_count_moved_locked(pcp, (int)(got << order));
	if (pcp_mid_order(za, order))
		za_store_relaxed(&pcp->mid_pages,
		                 pcp->mid_pages + (int)(got << order));
	/* After the pages left the buddy lists (seed 003). */
	vmstat_mod_pcp_locked(z, pcp, ZA_NR_FREE_PAGES, -(long)(got << order));
	event_pcp_locked(pcp, ZA_PCP_REFILL, 1);
	event_pcp_locked(pcp, ZA_PCP_REFILL_PAGES, got << order);
	/* Orders 4..8 live within their own budget: their refills leave
	 * the sizing of the lists (high, the batch factors) alone. */
	if (mid)
		return got;
	if (pcp->alloc_factor < 3)
		pcp->alloc_factor++;
	pcp->free_factor = 0;
	/* Pages flushed over high and now needed again: the list was too
	 * short for this CPU's cycle of frees and allocations. */
	int back = (int)(got << order);
	if (back > pcp->flushed_debt)
		back = pcp->flushed_debt;
	pcp->flushed_debt -= back;
	pcp_grow_locked(za, pcp, back);
	return got;
}

/* The k-th list a flush of every list gives back: orders 0..3, the
 * pageblock order, then orders 4..8. */
static inline int flush_list_at(int k)
{
	const int npb = ZA_NR_PCP_LISTS - ZA_PCP_PB_BASE;
	if (k < ZA_PCP_MID_BASE)
		return k;
	if (k < ZA_PCP_MID_BASE + npb)
		return ZA_PCP_PB_BASE + (k - ZA_PCP_MID_BASE);
	return k - npb;
}

/* flush_lists_locked with the zone lock already taken (nr > 0, pages on
 * the set), which it lets go. */
static unsigned long flush_lists_zone_locked(struct za *za, struct za_zone *z,
                                             struct za_pcp *pcp, long nr,
                                             int ev, int ev_pages, int first,
                                             int nlists)
{
	long nfree = 0, niso = 0;
	unsigned long done = 0;
	/* The lists cut, and their heads: each is cut and kept for its
	 * report (pcp_cut_locked), not the first alone. */
	int nbad = 0;
	int bad_idx[ZA_NR_PCP_LISTS];
	uint32_t bad[ZA_NR_PCP_LISTS];
	/* Each list is given back whole before the next, as the kernel's
	 * flush does: one block of each list in turn emptied the lists of
	 * large blocks (512 pages a turn against one of order 0), which the
	 * next allocation of that order then refilled, growing high by what
	 * it took back, while order-0 pages stayed.
	 * A flush of every list takes orders 0..3, then the pageblock order,
	 * then orders 4..8 (flush_list_at): a list of orders 4..8 refills a
	 * block a zone-lock hold (extra blocks only where the zone can spare
	 * them), a pageblock-order list many blocks a hold; given back
	 * before it, they were what a set whose huge-page list held most of
	 * high lost at every flush (docs/PERFORMANCE.md, "Half of high_max
	 * for orders 4..8"). */
	for (int k = first; k < first + nlists && (long)done < nr; k++) {
		int idx = first == 0 && nlists == ZA_NR_PCP_LISTS ? flush_list_at(k)
		                                                  : k;
		while ((long)done < nr && pcp->lists[idx] != ZA_NIL) {
			uint32_t h = pcp->lists[idx];
			struct za_page *page = pfn_page(za, h);
			/* The pop's test (pcp_take_locked): a block that two
			 * racing frees put on two lists, or on this one and the
			 * buddy lists, is not this list's to give back - freed
			 * into the buddy lists a second time it would corrupt
			 * them. The list is cut here (the rest of it may be
			 * another list's), the others still given back, and the
			 * set recounted once the zone lock is let go. Strict
			 * frees never get a page here twice: with them, this is
			 * the allocator's own bug (a remote user working beside
			 * the owner, say), which debug builds stop at. */
			if (unlikely(!pcp_head_ok(pcp, page))) {
				ZA_ASSERT_PAGE(za, page, !za->strict_free);
				pcp->lists[idx] = ZA_NIL;
				bad_idx[nbad] = idx;
				bad[nbad++] = h;
				break;
			}
			unsigned order = page_order(page);
			ZA_ASSERT_PAGE(za, page, order == pcp_list_order(za, idx));
			pcp->lists[idx] = page->next;
			page->next = ZA_NIL;
			if (idx >= ZA_PCP_MID_BASE && idx < ZA_PCP_PB_BASE)
				za_store_relaxed(&pcp->mid_pages,
				                 pcp->mid_pages - (1 << order));
			/* Off the per-CPU lists, as a hand-out takes it off: the
			 * count moves on, as free_one_page moves it. A free of
			 * the block racing the one that put it here read the
			 * count the entry carries; its late push (another CPU's
			 * list) or late claim (free_one_page) must find it old,
			 * or the block, merged here into a larger free one, is
			 * handed out from that list or freed here a second time. */
			za_store_release(&page->gen, (uint8_t)(page->gen + 1));
			/* The pageblock's type is read under the zone lock: a
			 * block isolated meanwhile lands on the isolate list. */
			if (buddy_free_locked(z, page, h, order) == ZA_MT_ISOLATE)
				niso += 1l << order;
			else
				nfree += 1l << order;
			done += 1ul << order;
		}
	}
	zone_unlock(z);
	pcp_count_moved_locked(pcp, -(int)done);
	for (int i = 0; unlikely(i < nbad); i++)
		pcp_cut_locked(za, pcp, bad_idx[i], bad[i]); /* reported later */
	/* A list drained empty (a CPU offline, a drain of every CPU when
	 * memory is short) owes its high nothing any more. */
	if (ev == ZA_PCP_DRAIN && !pcp->count)
		pcp->flushed_debt = 0;
	/* After the pages reached the buddy lists (seed 003). */
	vmstat_mod_pcp_locked(z, pcp, ZA_NR_FREE_PAGES, nfree);
	if (niso)
		vmstat_mod(z, ZA_NR_FREE_ISOLATED, niso);
	event_pcp_locked(pcp, ev, 1);
	event_pcp_locked(pcp, ev_pages, done);
	return done;
}

/* Give `nr` pages (at least) from lists first .. first + nlists - 1 back
 * to the buddy lists, each list whole before the next (order 0 first). */
static unsigned long flush_lists_locked(struct za *za, struct za_zone *z,
                                        struct za_pcp *pcp, long nr, int ev,
                                        int ev_pages, int first, int nlists)
{
	pcp_assert_held(za, pcp);
	if (nr <= 0 || pcp->count == 0)
		return 0;
	zone_lock(z, pcp);
	return flush_lists_zone_locked(za, z, pcp, nr, ev, ev_pages, first,
	                               nlists);
}

unsigned long pcp_flush_locked(struct za *za, struct za_zone *z,
                               struct za_pcp *pcp, long nr, int ev,
                               int ev_pages)
{
	pcp_assert_held(za, pcp);
	return flush_lists_locked(za, z, pcp, nr, ev, ev_pages, 0,
	                          ZA_NR_PCP_LISTS);
}

void pcp_free_over_high_locked(struct za *za, struct za_zone *z,
                               struct za_pcp *pcp, int count)
{
	pcp_assert_held(za, pcp);
	/* A CPU that keeps flushing (it frees more than it allocates)
	 * flushes bigger batches, up to the whole list above a batch:
	 * fewer trips to the zone lock without holding more memory. */
	long nr = ((long)pcp->batch << pcp->free_factor) + (count - pcp->high);
	if (nr > count - pcp->batch)
		nr = count - pcp->batch > pcp->batch ? count - pcp->batch : pcp->batch;
	pcp->alloc_factor = 0;
	if (pcp->free_factor < PCP_BATCH_SCALE_MAX &&
	    !(za->flags & ZA_CFG_PCP_FIXED))
		pcp->free_factor++;
	za_inc_single_writer(&pcp->trips_since_decay, 1);
	long done = (long)pcp_flush_locked(za, z, pcp, nr, ZA_PCP_FLUSH,
	                                   ZA_PCP_FLUSH_PAGES);
	/* Owed back to high if a refill takes them back (pcp_refill_locked);
	 * never more than high can grow by. */
	if (!(za->flags & ZA_CFG_PCP_FIXED)) {
		long debt = pcp->flushed_debt + done;
		pcp->flushed_debt = (int)(debt < pcp->high_max ? debt : pcp->high_max);
	}
}

static void pcp_cut_note(struct za *za, struct za_pcp *pcp, uint32_t pfn);

/* The head of list idx is not a free block: two frees of one page raced
 * past the free-side check (frees are not strict) and put it on two lists,
 * or on one twice, and it was handed out from the other. What follows it
 * may be on another list too: cut the list here (its pages are lost to
 * the allocator, which za_check then reports) and recount the rest,
 * walking at most what the set held so that a cycle ends the walk. The
 * cut is kept for its report (pcp_cut_note), which whoever lets the set
 * go makes, with no lock held (pcp_report_corrupt): every place that
 * lets a set go outside the fast paths reports, and those never cut but
 * where they report themselves (a pop that failed). */
__attribute__((noinline, cold)) void
pcp_cut_locked(struct za *za, struct za_pcp *pcp, int idx, uint32_t pfn)
{
	pcp_assert_held(za, pcp);
	pcp->lists[idx] = ZA_NIL;
	long budget = pcp->count, count = 0, mid = 0;
	for (int i = 0; i < ZA_NR_PCP_LISTS; i++) {
		long steps = 0, pages = 0;
		for (uint32_t h = pcp->lists[i]; h != ZA_NIL && steps <= budget;
		     h = pfn_page(za, h)->next, steps++)
			pages += 1l << pcp_list_order(za, i);
		if (steps > budget) {
			pcp->lists[i] = ZA_NIL; /* a cycle: cut this one too */
			pages = 0;
		}
		count += pages;
		if (i >= ZA_PCP_MID_BASE && i < ZA_PCP_PB_BASE)
			mid += pages;
	}
	za_store_relaxed(&pcp->mid_pages, (int)mid);
	pcp_count_moved_locked(pcp, (int)(count < budget ? count : budget) -
	                                pcp->count);
	pcp_cut_note(za, pcp, pfn);
}

/* Keep a cut for its report: in corrupt_pfn when that is free, else in
 * the first free slot of corrupt_next, else counted in corrupt_unnamed.
 * Nothing pending is overwritten or dropped: every racing double free
 * caught is reported, each once. The set is held, so one thread notes at a time;
 * but whoever let it go last may be taking the pending cuts for their
 * report right now, without it (pcp_report_corrupt_slow: corrupt_pfn
 * first, then the others). A cut noted behind corrupt_pfn while that
 * one is being taken could be left behind by that report, with
 * corrupt_pfn free - a state the let-go paths do not look at: so after
 * noting one there, corrupt_pfn is looked at again (a full fence
 * between, as the report has), and when it is free the cut is taken
 * back, if the report did not take it, and noted afresh. */
static void pcp_cut_note(struct za *za, struct za_pcp *pcp, uint32_t pfn)
{
	for (;;) {
		uint32_t none = ZA_NIL;
		if (za_cas_acqrel(&pcp->corrupt_pfn, &none, pfn))
			return;
		/* The failed exchange left corrupt_pfn's value in none: the
		 * first slot is tried against a free one too. */
		none = ZA_NIL;
		ZA_DEBUG_POINT(za, ZA_DP_CUT_NOTE, pcp);
		int i = 0;
		while (i < ZA_PCP_CUTS_KEPT - 1 &&
		       !za_cas_acqrel(&pcp->corrupt_next[i], &none, pfn)) {
			none = ZA_NIL;
			i++;
		}
		if (i == ZA_PCP_CUTS_KEPT - 1)
			za_add_acqrel(&pcp->corrupt_unnamed, 1);
		za_fence_seq_cst();
		if (za_load_relaxed(&pcp->corrupt_pfn) != ZA_NIL)
			return; /* whoever takes it takes this one too */
		if (i < ZA_PCP_CUTS_KEPT - 1) {
			if (za_xchg_acquire(&pcp->corrupt_next[i], ZA_NIL) == ZA_NIL)
				return; /* the report took it */
			continue;
		}
		uint32_t n = za_load_relaxed(&pcp->corrupt_unnamed);
		while (n && !za_cas_acqrel(&pcp->corrupt_unnamed, &n, n - 1))
			;
		if (!n)
			return; /* the report counted it */
	}
}

void pcp_report_corrupt_slow(struct za *za, struct za_pcp *pcp)
{
	struct za_cuts cuts;
	cuts.pfn[0] = za_xchg_acquire(&pcp->corrupt_pfn, ZA_NIL);
	if (cuts.pfn[0] == ZA_NIL)
		return;
	/* The others after it (pcp_cut_note says why). */
	za_fence_seq_cst();
	cuts.n = 1;
	for (int i = 0; i < ZA_PCP_CUTS_KEPT - 1; i++) {
		uint32_t p = za_xchg_acquire(&pcp->corrupt_next[i], ZA_NIL);
		if (p != ZA_NIL)
			cuts.pfn[cuts.n++] = p;
	}
	cuts.unnamed = za_xchg_acquire(&pcp->corrupt_unnamed, 0);
	memset(cuts.order, ZA_CUT_NO_ORDER, sizeof(cuts.order));
	/* One report per cut list, in the order they were cut; cuts past
	 * the slots are counted in the last one. */
	char lists[48];
	snprintf(lists, sizeof(lists), "CPU %u's per-CPU list",
	         (unsigned)pcp->cpu);
	_za_report_cuts(za, &cuts, "would be handed out twice", lists);
}

/* --- orders 4..8 --------------------------------------------------------------
 * The lists of orders 4..8 (below the pageblock order) hold at most
 * pcp_mid_budget pages per set (mid_pages): half of high_max, or
 * high when that is less, at least ZA_PCP_MID_BYTES worth (1 MiB). They
 * work as a small buddy allocator of the CPU's own:
 * - an allocation whose list is empty splits the smallest larger block on
 *   the set's lists of orders up to 8 (same migratetype), keeping the
 *   pieces on their lists: no zone lock (mid_split_locked); only when the
 *   zone has no free block of an order between, which the buddy lists'
 *   best fit would take first;
 * - when there is none, one zone-lock hold refills the list with at
 *   least two blocks, a batch's worth for the small orders, within the
 *   budget and above the watermark floor (pcp_mid_fill_locked); every
 *   block beyond the first is one the zone can spare: a free block of
 *   that very order, with another one left on the buddy lists
 *   (zone_spares_block_locked), so that caching it splits nothing and
 *   the smaller orders' refills still find it; these refills leave the
 *   lists' sizing (high, the batch factors) alone;
 * - a free that would take the lists past the budget first gives blocks
 *   back until they hold half of it, in one zone-lock hold, instead of
 *   sending this one block (and every later one) to the buddy lists
 *   (pcp_mid_room_locked).
 * What keeps fragmentation where it was: a freed block whose buddy is
 * free on the buddy lists still goes there, to merge, but for the first
 * block of an empty list (pcp_mid_merges: else a loop of one allocation
 * and one free of the order splits and merges a larger block each
 * turn, under the zone lock twice); the pieces of a
 * split stay on the CPU that split them, next to each other; the
 * periodic decay gives every block of these orders back at each tick;
 * pcp_mid_order keeps the pageblock order (and above) out of it. */

/* Give blocks of orders 4..8 back until the lists hold at most `keep`
 * pages. One zone-lock hold. */
static void mid_flush_to_locked(struct za *za, struct za_zone *z,
                                struct za_pcp *pcp, int keep)
{
	if (pcp->mid_pages > keep)
		flush_lists_locked(za, z, pcp, pcp->mid_pages - keep, ZA_PCP_FLUSH,
		                   ZA_PCP_FLUSH_PAGES, ZA_PCP_MID_BASE,
		                   ZA_PCP_PB_BASE - ZA_PCP_MID_BASE);
}

bool pcp_mid_room_locked(struct za *za, struct za_zone *z, struct za_pcp *pcp,
                         unsigned long pfn, unsigned order, int mt)
{
	pcp_assert_held(za, pcp);
	/* A block whose buddy is free merges at once on the buddy lists:
	 * keeping it would cost a larger block (the buddy's state is read
	 * without the zone lock: a hint) - unless its list is empty: then
	 * the next allocation of the order would split a larger block
	 * again, and a loop of one allocation and one free of an order
	 * would take the zone lock twice a turn. One such block per list
	 * keeps one larger block from forming, at most. */
	if (pcp_mid_merges(za, pcp, pfn, order,
	                   (size_t)pcp_list_index(za, order, mt)))
		return false;
	int budget = pcp_mid_budget(za, pcp);
	if (pcp->mid_pages + (1 << order) <= budget)
		return true;
	if ((1 << order) > budget / 2)
		return false;
	mid_flush_to_locked(za, z, pcp, budget / 2 - (1 << order));
	return pcp->mid_pages + (1 << order) <= budget;
}

/* Put a piece of a block the set holds on its list (the set's pages and
 * counts include it already, but for mid_pages). Set held. */
static void mid_put_locked(struct za *za, struct za_pcp *pcp, uint32_t pfn,
                           unsigned order, int mt)
{
	struct za_page *page = pfn_page(za, pfn);
	int idx = pcp_list_index(za, order, mt);
	za_store_relaxed(&page->order, (uint8_t)order);
	za_store_relaxed(&page->mt, (uint8_t)mt);
	page->pcp_cpu = pcp->cpu;
	page->free_gen = page->gen;
	page->next = pcp->lists[idx];
	set_page_state(page, ZA_PS_PCP);
	pcp->lists[idx] = pfn;
	if (pcp_mid_order(za, order))
		za_store_relaxed(&pcp->mid_pages, pcp->mid_pages + (1 << order));
}

/* List (order, mt) is empty: split the smallest larger block of the
 * set's lists of orders up to 8 into it - but only a block that the
 * buddy lists' best fit would split as well: while the zone has a free
 * block of type mt of an order between, the refill takes that one, so
 * that the CPU's blocks do not stay whole (and get split) while smaller
 * free blocks wait on the buddy lists (nr_free read without the zone
 * lock: a hint). 1 when the list has a block now, 0 when there was none
 * to split, -1 when the larger list's head was not a free block
 * (pcp_take_locked cut it). Set held. */
static int mid_split_locked(struct za *za, struct za_zone *z,
                            struct za_pcp *pcp, unsigned order, int mt)
{
	for (unsigned j = order + 1; pcp_mid_order(za, j); j++) {
		int idx = pcp_list_index(za, j, mt);
		if (za_load_relaxed(&z->nr_free[j - 1][mt]))
			return 0;
		if (pcp->lists[idx] == ZA_NIL)
			continue;
		struct za_page *page = pcp_take_locked(za, pcp, j, mt, idx);
		if (unlikely(!page))
			return -1;
		uint32_t pfn = (uint32_t)page_pfn(za, page);
		/* pcp_take_locked took 2^j pages off count, an allocation to
		 * the statistics (alloc_base - count): the pieces stay, so
		 * count goes back and nothing was allocated. */
		za_store_relaxed(&pcp->count, pcp->count + (1 << j));
		for (unsigned h = j; h-- > order;)
			mid_put_locked(za, pcp, pfn + (1u << h), h, mt);
		mid_put_locked(za, pcp, pfn, order, mt);
		event_pcp_locked(pcp, ZA_PCP_MID_SPLIT, 1);
		return 1;
	}
	return 0;
}

/* List (order, mt) of orders 4..8 is empty: split a larger block of the
 * set's, or refill from the buddy lists in one zone-lock hold. False
 * when neither gave a block (the caller goes to the buddy lists). */
static bool pcp_mid_fill_locked(struct za *za, struct za_zone *z,
                                struct za_pcp *pcp, unsigned order, int mt,
                                unsigned alloc_flags, long floor)
{
	int r = mid_split_locked(za, z, pcp, order, mt);
	if (r)
		return r > 0;
	int budget = pcp_mid_budget(za, pcp), size = 1 << order;
	if (size > budget / 2)
		return false;
	/* At least two blocks a hold, more when a batch holds more. */
	int want = (int)refill_count(za, pcp, order);
	if (want < 2)
		want = 2;
	if (want > budget / 2 / size)
		want = budget / 2 / size;
	/* Blocks the set holds go back to make room for the one block the
	 * allocation needs, never for the extra ones. */
	if (pcp->mid_pages + size > budget)
		mid_flush_to_locked(za, z, pcp, budget - size);
	if (want > (budget - pcp->mid_pages) / size)
		want = (budget - pcp->mid_pages) / size;
	return pcp_refill_locked(za, z, pcp, order, mt, alloc_flags, floor,
	                         (unsigned)want) != 0;
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
	int idx = pcp_list_index(za, order, mt);
	if (pcp->lists[idx] == ZA_NIL && pcp_mid_order(za, order)) {
		/* Split or refill (pcp_mid_fill_locked); else straight to
		 * the buddy lists, as if the set were busy. */
		if (!pcp_mid_fill_locked(za, z, pcp, order, mt, alloc_flags, floor)) {
			*usable = false;
			pcp_own_release_report(za, pcp); /* a flush's cut */
			return NULL;
		}
	}
	if (pcp->lists[idx] != ZA_NIL ||
	    pcp_refill_locked(za, z, pcp, order, mt, alloc_flags, floor,
	                      refill_count(za, pcp, order)))
		page = pcp_pop_locked(za, z, pcp, order, mt, idx);
	/* A list the pop cut, or a flush before it (the budget of orders
	 * 4..8, new sizes picked up), though the pop then succeeded. */
	pcp_own_release_report(za, pcp);
	return page;
}

unsigned pcp_alloc_bulk(struct za *za, struct za_zone *z, int cpu, int mt,
                        unsigned nr, struct za_page **pages,
                        unsigned long mark, int highest_zoneidx, int pref_nid)
{
	unsigned got = 0;
	int idx = pcp_list_index(za, 0, mt);
	/* One run of at most PCP_BULK_RUN pages per hold of the set: a remote
	 * user (a drain, za_check, za_pcp_set_high, memory offline's
	 * switch-off, a CPU offline) waits for one run, never for the whole
	 * array. */
	for (;;) {
		struct za_pcp *pcp = pcp_trylock_usable(z, zone_pcp(z, cpu), true);
		if (!pcp)
			return got; /* busy or switched off: the caller's slow path */
		unsigned run = 0;
		bool more = true;
		while (got < nr && run < PCP_BULK_RUN) {
			/* Each refill re-checks the watermark, so a bulk
			 * request cannot run a zone below it. */
			if (pcp->lists[idx] == ZA_NIL &&
			    (!zone_watermark_fast(za, z, 0, mark, highest_zoneidx,
			                          ALLOC_WMARK_LOW) ||
			     !pcp_refill_locked(za, z, pcp, 0, mt, ALLOC_WMARK_LOW,
			                        wmark_floor(z, mark, highest_zoneidx,
			                                    ALLOC_WMARK_LOW),
			                        refill_count(za, pcp, 0)))) {
				more = false;
				break;
			}
			struct za_page *page = pcp_take_locked(za, pcp, 0, mt, idx);
			if (unlikely(!page)) {
				more = false; /* a cut list: reported below */
				break;
			}
			pages[got++] = page;
			run++;
		}
		if (run) {
			pcp_count_alloc_locked(pcp, run);
			count_numa(za, z, pcp, pref_nid, cpu, run);
		}
		pcp_own_release_report(za, pcp); /* a list this run cut */
		buddy_report_corrupt(za, z);     /* a refill's cut */
		ZA_DEBUG_POINT(za, ZA_DP_BULK_RUN, pcp);
		if (!more || got == nr)
			return got;
		/* The thread may run on another CPU by now: restartable, only
		 * the set of the CPU it runs on can be owned; locked, that
		 * set is the one to use. */
		cpu = za_current_cpu(za);
		if (cpu < 0)
			return got;
	}
}

/* --- remote users ------------------------------------------------------------ */

/* Fence the set's CPU: after it, no restartable sequence that read stop
 * as 0 can still commit there. ZA_DEBUG_FAIL_FENCE = n makes the nth
 * fence from now fail. */
static int pcp_fence(struct za *za, struct za_pcp *pcp)
{
	if (unlikely(za_load_relaxed(&za->debug[ZA_DEBUG_FAIL_FENCE]) > 0) &&
	    za_add_relaxed(&za->debug[ZA_DEBUG_FAIL_FENCE], -1) == 0)
		return -EPERM;
	event_zone(&za->nodes[0].zones[0], ZA_PCP_FENCE, 1);
	return za_os_fence_cpu(pcp->cpu);
}

/* How long a remote user waits for an owner that took the set before it
 * was stopped (a CPU offline: for all of its CPU's sets together). An
 * owner runs a few dozen instructions with nothing to wait for; one that
 * is still at it after this long was preempted in the middle, and may not
 * run again for a time slice or more (docs/RELIABILITY.md). Past it, a
 * remote user lets the set go rather than hold its remote lock, which a
 * CPU offline of that CPU needs: the worker's trylock gives up, pcp_lock
 * waits for the owner without the lock and tries again, a CPU offline
 * defers (pcp_cpu_off). */
#define OWNER_WAIT_NS (100 * 1000ul)

/* One round of waiting for an owner to let go of a set (round: how many
 * went before). deadline: za_now_ns() after which to give up; until then
 * spin (a yield could hand the CPU to another thread for a whole time
 * slice, longer than the deadline). 0: however long, yielding after a
 * while (the owner may have been preempted). False once the deadline has
 * passed. */
static bool wait_round(unsigned round, uint64_t deadline)
{
	if (round >= 1000) {
		if (!deadline) {
			za_yield();
			return true;
		}
		if (za_now_ns() >= deadline)
			return false;
	}
	za_cpu_relax();
	return true;
}

/* Restartable mode, remote lock held: wait for an owner that took the
 * set before it was stopped and fenced to let go (wait_round). False
 * when the owner still holds it at the deadline. */
static bool pcp_wait_owner_until(struct za_pcp *pcp, uint64_t deadline)
{
	for (unsigned round = 0; za_load_acquire(&pcp->own.busy); round++)
		if (!wait_round(round, deadline))
			return false;
	return true;
}

/* Locked mode: a set's lock, which its owner holds for one operation
 * (or the whole time slice it was preempted for), waited for until
 * deadline (wait_round). False without it. */
static bool pcp_spin_lock_until(za_spinlock_t *l, uint64_t deadline)
{
	for (unsigned round = 0; !za_spin_trylock_raw(l); round++)
		if (!wait_round(round, deadline))
			return false;
	return true;
}

/* The zone lock, waited for until deadline (wait_round): a CPU offline
 * does not wait for a thread the scheduler preempted while it held it.
 * False without it. Counted as zone_lock counts. */
static bool zone_lock_until(struct za_zone *z, struct za_pcp *pcp_held,
                            uint64_t deadline)
{
	za_witness_acquire_lock(ZA_RANK_ZONE, "zone lock", &z->lock);
	if (!pcp_spin_lock_until(&z->lock, deadline)) {
		za_witness_release(ZA_RANK_ZONE);
		return false;
	}
	za_inc_single_writer(&pcp_held->events[ZA_ZONE_LOCK], 1);
	return true;
}

/* Restartable mode, remote lock held: stop the set, fence its CPU, wait
 * for an owner that took it before the stop to let go, until deadline
 * (0: however long). 0; or the fence's error, or -EAGAIN when the owner
 * still held it at the deadline, with the set restarted. */
static int pcp_stop_locked(struct za *za, struct za_pcp *pcp,
                           uint64_t deadline)
{
	ZA_ASSERT(za->pcp_rseq && za_spin_is_locked(&pcp->lock));
	za_store_relaxed(&pcp->own.stop, 1);
	int err = pcp_fence(za, pcp);
	if (!err && !pcp_wait_owner_until(pcp, deadline))
		err = -EAGAIN;
	if (unlikely(err))
		za_store_release(&pcp->own.stop, 0);
	return err;
}

/* witness_lock: what the witness records as held, NULL for "any set"
 * (pcp_lock_nested holds them all). An owner that holds the set past
 * OWNER_WAIT_NS (restartable mode) is waited for without the set's
 * remote lock, which a CPU offline needs, then the set stopped again. */
static int pcp_lock_as(struct za *za, struct za_pcp *pcp,
                       const void *witness_lock)
{
	za_witness_acquire_lock(ZA_RANK_PCP, "pcp lock", witness_lock);
	za_spin_lock_raw(&pcp->lock);
	if (!za->pcp_rseq)
		return 0;
	for (;;) {
		int err = pcp_stop_locked(za, pcp, za_now_ns() + OWNER_WAIT_NS);
		if (likely(!err))
			return 0;
		za_spin_unlock_raw(&pcp->lock);
		if (err != -EAGAIN) {
			za_witness_release(ZA_RANK_PCP);
			return err;
		}
		while (za_load_acquire(&pcp->own.busy))
			za_yield();
		za_spin_lock_raw(&pcp->lock);
	}
}

int pcp_lock(struct za *za, struct za_pcp *pcp)
{
	return pcp_lock_as(za, pcp, pcp);
}

/* Restartable mode: a set whose owner holds it past OWNER_WAIT_NS is
 * left alone, as one whose remote lock is taken. */
bool pcp_trylock(struct za *za, struct za_pcp *pcp)
{
	if (!za_spin_trylock_raw(&pcp->lock))
		return false;
	za_witness_acquire_lock(ZA_RANK_PCP, "pcp lock", pcp);
	if (za->pcp_rseq &&
	    pcp_stop_locked(za, pcp, za_now_ns() + OWNER_WAIT_NS)) {
		za_spin_unlock_raw(&pcp->lock);
		za_witness_release(ZA_RANK_PCP);
		return false;
	}
	return true;
}

void pcp_unlock(struct za *za, struct za_pcp *pcp)
{
	if (za->pcp_rseq)
		za_store_release(&pcp->own.stop, 0);
	za_spin_unlock_raw(&pcp->lock);
	za_witness_release(ZA_RANK_PCP);
}

/* za_check holds every set of a zone at once; the witness sees the first
 * (index 0) and the last release. */
int pcp_lock_nested(struct za *za, struct za_pcp *pcp, unsigned index)
{
	if (index == 0)
		return pcp_lock_as(za, pcp, NULL);
	za_spin_lock_raw(&pcp->lock);
	int err = za->pcp_rseq ? pcp_stop_locked(za, pcp, 0) : 0;
	if (err)
		za_spin_unlock_raw(&pcp->lock);
	return err;
}

void pcp_unlock_nested(struct za *za, struct za_pcp *pcp, unsigned index)
{
	if (index == 0) {
		pcp_unlock(za, pcp);
		return;
	}
	if (za->pcp_rseq)
		za_store_release(&pcp->own.stop, 0);
	za_spin_unlock_raw(&pcp->lock);
}

/* Every page of a held set back to the buddy lists, counted as a drain. */
static unsigned long pcp_drain_locked(struct za *za, struct za_zone *z,
                                      struct za_pcp *pcp)
{
	return pcp_flush_locked(za, z, pcp, pcp->count, ZA_PCP_DRAIN,
	                        ZA_PCP_DRAIN_PAGES);
}

/* A held set of an offline CPU: drained, and its statistics deltas
 * folded, so that whoever names the CPU counts in the zone's shared
 * counters. */
static void pcp_offline_drain_locked(struct za *za, struct za_zone *z,
                                     struct za_pcp *pcp)
{
	pcp_drain_locked(za, z, pcp);
	vmstat_fold_cpu_zone(za, z, pcp->cpu);
}

/* pcp_offline_drain_locked for a CPU offline that can leave the work to
 * the statistics worker: the zone lock is waited for until deadline
 * (0: however long). False, with nothing done, without it. */
static bool pcp_offline_drain_until_locked(struct za *za, struct za_zone *z,
                                           struct za_pcp *pcp,
                                           uint64_t deadline)
{
	if (deadline && pcp->count) {
		if (!zone_lock_until(z, pcp, deadline))
			return false;
		flush_lists_zone_locked(za, z, pcp, pcp->count, ZA_PCP_DRAIN,
		                        ZA_PCP_DRAIN_PAGES, 0, ZA_NR_PCP_LISTS);
	}
	/* The rest (all of it without a deadline) and the fold. */
	pcp_offline_drain_locked(za, z, pcp);
	return true;
}

unsigned long pcp_drain_cpu_zone(struct za *za, struct za_zone *z, int cpu)
{
	struct za_pcp *pcp = zone_pcp(z, cpu);
	unsigned long n = 0;
	if (!za_load_relaxed(&pcp->count))
		return 0;
	/* A set that cannot be stopped (its fence failed) keeps its pages
	 * this time; drains are best effort. An owner preempted while it
	 * holds the set is waited for (the pages may be what an allocation
	 * that is about to fail needs), without the set's remote lock. */
	if (pcp_lock(za, pcp))
		return 0;
	n = pcp_drain_locked(za, z, pcp);
	pcp_unlock_report(za, pcp); /* a list the drain cut */
	return n;
}

void pcp_drain_zone(struct za *za, struct za_zone *z)
{
	for (unsigned c = 0; c < za->nr_cpus; c++)
		pcp_drain_cpu_zone(za, z, (int)c);
}

int pcp_set_flag(struct za *za, struct za_zone *z, int cpu, uint8_t flag,
                 bool on)
{
	struct za_pcp *pcp = zone_pcp(z, cpu);
	if (on) {
		int err = pcp_lock(za, pcp);
		if (err)
			return err;
		za_or_release(&pcp->flags, flag);
		/* Same hold: nothing can slip in between the flag and the
		 * drain (seeds 000 and 004). */
		pcp_drain_locked(za, z, pcp);
		pcp_unlock_report(za, pcp); /* a list the drain cut */
		return 0;
	}
	/* Clearing needs no hold: an owner that still sees the flag only
	 * goes to the buddy lists once more, and the read-modify-write keeps
	 * the other bits (another remote user's, a published resize). */
	za_and_acquire(&pcp->flags, (uint8_t)~flag);
	return 0;
}

/* The zones in the one order in which anybody holds several page sets
 * at once: node, then zone type, then CPU (za_check holds every CPU's set
 * of one zone, CPU offline one CPU's set of every zone). */
#define for_each_zone_index(za, i)                                            \
	for (unsigned i = 0; i < (za)->nr_nodes * ZA_NR_ZONES; i++)
static struct za_zone *zone_at(struct za *za, unsigned i)
{
	return &za->nodes[i / ZA_NR_ZONES].zones[i % ZA_NR_ZONES];
}

int pcp_cpu_off(struct za *za, int cpu)
{
	/* Every set of the CPU is stopped before the one fence, so that
	 * after it no owner can take any of them; then each owner that took
	 * one before is waited for. One fence and one wait per CPU, not per
	 * zone: a CPU flip costs what one page set's stop costs. The wait is
	 * bounded when the statistics worker can take over: a set it cannot
	 * finish within OWNER_WAIT_NS - one whose owner was preempted while
	 * it held it (its busy byte, or in locked mode its lock), one whose
	 * remote lock another remote user holds, or one whose zone lock is
	 * taken - is switched off at once (an owner finishes its one
	 * operation; nobody takes a page after it) and its drain and fold are
	 * left to the worker, which waits for those threads instead of the
	 * offline (ZA_PCP_DEFERRED). A thread the scheduler preempted holding
	 * one of them may not run again for several time slices. */
	bool defer = za->vmstat_started;
	uint64_t deadline = defer ? za_now_ns() + OWNER_WAIT_NS : 0;
	bool deferred = false;
	bool held[ZA_MAX_NODES * ZA_NR_ZONES];
	za_witness_acquire(ZA_RANK_PCP, "pcp lock (every zone of a CPU)");
	for_each_zone_index(za, i)
	{
		struct za_pcp *pcp = zone_pcp(zone_at(za, i), cpu);
		held[i] = true;
		if (!defer)
			za_spin_lock_raw(&pcp->lock);
		else
			held[i] = pcp_spin_lock_until(&pcp->lock, deadline);
		if (held[i] && za->pcp_rseq)
			za_store_relaxed(&pcp->own.stop, 1);
	}
	int err = za->pcp_rseq ? pcp_fence(za, zone_pcp(zone_at(za, 0), cpu)) : 0;
	for_each_zone_index(za, i)
	{
		struct za_zone *z = zone_at(za, i);
		struct za_pcp *pcp = zone_pcp(z, cpu);
		bool done = false;
		if (!err && held[i] &&
		    (!za->pcp_rseq || pcp_wait_owner_until(pcp, deadline))) {
			za_or_release(&pcp->flags, ZA_PCP_OFF_CPU);
			/* The flag, the drain and the fold in one hold: from
			 * here on the set takes no page. */
			done = pcp_offline_drain_until_locked(za, z, pcp, deadline);
		}
		if (!err && !done) {
			/* An owner inside one operation read the flags before
			 * this, so it completes it, and every later operation
			 * finds the set off; the worker drains what is left
			 * once nobody holds the set or the zone. */
			za_or_release(&pcp->flags, ZA_PCP_OFF_CPU | ZA_PCP_DEFERRED);
			deferred = true;
		}
		if (!held[i])
			continue;
		if (za->pcp_rseq)
			za_store_release(&pcp->own.stop, 0);
		za_spin_unlock_raw(&pcp->lock);
	}
	za_witness_release(ZA_RANK_PCP);
	/* The lists the drains cut are reported by the caller
	 * (pcp_cpu_report), once it has let go of cpu_hotplug_lock too. */
	if (deferred) {
		za_store_release(&za->pcp_deferred, 1);
		event_zone(&za->nodes[0].zones[0], ZA_PCP_OFFLINE_DEFERRED, 1);
		vmstat_kick(za);
	}
	return err;
}

void pcp_cpu_report(struct za *za, int cpu)
{
	for_each_zone_index(za, i)
	{
		pcp_report_corrupt(za, zone_pcp(zone_at(za, i), cpu));
	}
}

void pcp_finish_deferred(struct za *za, bool every_set)
{
	/* The worker: taken before the look (an exchange reads the latest
	 * value and sees the flags stored before it): an offline that
	 * defers after this sets it again, after its flags. So the flag is
	 * clear while the worker still waits for an owner to drain a set;
	 * za_check looks at every set instead, and pcp_lock serialises the
	 * two (whoever comes second finds the set done). */
	if (!every_set) {
		if (!za_load_relaxed(&za->pcp_deferred) ||
		    !za_xchg_acquire(&za->pcp_deferred, 0))
			return;
		ZA_DEBUG_POINT(za, ZA_DP_DEFERRED_TAKEN, NULL);
	}
	for_each_zone(za, z) {
		for (unsigned c = 0; c < za->nr_cpus; c++) {
			struct za_pcp *pcp = zone_pcp(z, (int)c);
			if (!(za_load_acquire(&pcp->flags) & ZA_PCP_DEFERRED))
				continue;
			/* pcp_lock waits for the owner, however long. */
			if (pcp_lock(za, pcp)) {
				za_store_relaxed(&za->pcp_deferred, 1);
				continue; /* a failed fence: next time */
			}
			/* An online since may have cleared it: then the set
			 * is in use again and keeps its pages. */
			if (za_load_relaxed(&pcp->flags) & ZA_PCP_DEFERRED) {
				pcp_offline_drain_locked(za, z, pcp);
				za_and_acquire(&pcp->flags, (uint8_t)~ZA_PCP_DEFERRED);
			}
			pcp_unlock_report(za, pcp); /* a list the drain cut */
		}
	}
}

/* Memory offline and contiguous allocation: every free of this zone goes
 * straight to the buddy lists until pcp_zone_enable. Each page set's flag
 * is set and its lists drained in one hold, so this is the one drain the
 * operation needs (seed 004). Caller holds mem_hotplug_lock: one such
 * operation at a time, so it never nests. 0, or the error of a fence that
 * failed: then nothing changed. */
int pcp_zone_disable(struct za *za, struct za_zone *z)
{
	mem_hotplug_assert_held(za);
	ZA_ASSERT(!z->pcp_disabled);
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		int err = pcp_set_flag(za, z, (int)c, ZA_PCP_OFF_ZONE, true);
		if (err) {
			while (c-- > 0)
				pcp_set_flag(za, z, (int)c, ZA_PCP_OFF_ZONE, false);
			return err;
		}
	}
	za_store_relaxed(&z->pcp_disabled, 1);
	return 0;
}

void pcp_zone_enable(struct za *za, struct za_zone *z)
{
	mem_hotplug_assert_held(za);
	ZA_ASSERT(z->pcp_disabled);
	for (unsigned c = 0; c < za->nr_cpus; c++)
		pcp_set_flag(za, z, (int)c, ZA_PCP_OFF_ZONE, false);
	za_store_relaxed(&z->pcp_disabled, 0);
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
 * high_min: the low watermark shared among the node's online CPUs;
 * high_max: an eighth of the zone likewise (both a fraction of the zone
 * with percpu_pagelist_high_fraction set). high starts at high_min and
 * sizes itself between the two (pcp_decay_all and the refill path). */
static void pcp_compute_sizes(struct za *za, struct za_zone *z,
                              struct za_pcp_sizes *s)
{
	unsigned long managed = za_load_relaxed(&z->managed_pages);
	if (za->flags & ZA_CFG_PCP_FIXED) {
		s->batch = (int)za->pcp_batch_cfg;
		s->high_min = s->high_max = (int)za->pcp_high_cfg;
		return;
	}
	unsigned long b = managed >> 10, cap = (1ul << 20) >> za->page_shift;
	if (b > cap)
		b = cap;
	b /= 4;
	if (b < 1)
		b = 1;
	int batch = round_pow2_minus1(b + b / 2);
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
	/* percpu_pagelist_high_fraction (sysctl.c), when set, fixes high at
	 * that fraction of the zone and turns self-sizing off, as the kernel
	 * does. Huge watermarks (a large min_free_kbytes) must not overflow
	 * the int fields. */
	unsigned frac = za->percpu_pagelist_high_fraction;
	unsigned long lo = (frac ? managed / frac : zone_wmark(z, ZA_WMARK_LOW)) /
	                   ncpu;
	unsigned long hi = (managed / 8) / ncpu;
	unsigned long lim = INT_MAX / 2;
	if (lo < (unsigned long)batch * 4)
		lo = (unsigned long)batch * 4;
	if (frac || hi < lo)
		hi = lo;
	s->batch = batch;
	s->high_min = (int)(lo < lim ? lo : lim);
	s->high_max = (int)(hi < lim ? hi : lim);
}

/* The zone's published sizes, consistent with each other. */
static void pcp_sizes_read(const struct za_zone *z, struct za_pcp_sizes *s)
{
	unsigned seq;
	do {
		seq = za_load_acquire(&z->pcp_sizes_seq);
		s->batch = za_load_relaxed(&z->pcp_sizes.batch);
		s->high_min = za_load_relaxed(&z->pcp_sizes.high_min);
		s->high_max = za_load_relaxed(&z->pcp_sizes.high_max);
		s->pressure = za_load_relaxed(&z->pcp_sizes.pressure);
		za_fence_acquire();
	} while ((seq & 1) || za_load_relaxed(&z->pcp_sizes_seq) != seq);
}

/* A set's high under sizes s, from its high and the high it had when
 * pressure trimmed it (saved, 0: none): under pressure the minimum, the
 * set remembering what it had earned; after it, what it had earned back;
 * never outside the bounds (out of them: the minimum). */
static void sizes_high(const struct za_pcp_sizes *s, int *high, int *saved)
{
	if (s->pressure) {
		if (!*saved)
			*saved = *high;
		*high = s->high_min;
	} else if (*saved) {
		*high = *saved;
		*saved = 0;
	}
	if (*high < s->high_min || *high > s->high_max)
		*high = s->high_min;
}

/* Held set: copy what was published since it last looked. The bit is
 * cleared before the sizes are read, so a publication that races this
 * sets it again and is picked up next time. */
static void pcp_pickup_sizes_locked(const struct za_zone *z,
                                    struct za_pcp *pcp)
{
	struct za_pcp_sizes s;
	za_and_acquire(&pcp->flags, (uint8_t)~ZA_PCP_RESIZE);
	pcp_sizes_read(z, &s);
	int high = pcp->high, saved = za_load_relaxed(&pcp->high_saved);
	sizes_high(&s, &high, &saved);
	za_store_relaxed(&pcp->batch, s.batch);
	za_store_relaxed(&pcp->high_min, s.high_min);
	za_store_relaxed(&pcp->high_max, s.high_max);
	za_store_relaxed(&pcp->high, high);
	za_store_relaxed(&pcp->high_saved, saved);
}

__attribute__((noinline, cold)) bool pcp_flags_slow(struct za_zone *z,
                                                    struct za_pcp *pcp)
{
	if (za_load_relaxed(&pcp->flags) & ZA_PCP_RESIZE) {
		pcp_pickup_sizes_locked(z, pcp);
		/* Smaller sizes, a smaller budget for orders 4..8. */
		mid_flush_to_locked(z->za, z, pcp, pcp_mid_budget(z->za, pcp));
	}
	return (za_load_relaxed(&pcp->flags) & ZA_PCP_OFF_MASK) != 0;
}

void pcp_sizes_now(const struct za_zone *z, const struct za_pcp *pcp,
                   int *high, int *batch, int *high_min, int *high_max)
{
	*high = za_load_acquire(&pcp->high); /* before count: pcp_trim_locked */
	*batch = za_load_relaxed(&pcp->batch);
	*high_min = za_load_relaxed(&pcp->high_min);
	*high_max = za_load_relaxed(&pcp->high_max);
	if (!(za_load_relaxed(&pcp->flags) & ZA_PCP_RESIZE))
		return;
	struct za_pcp_sizes s;
	int saved = za_load_relaxed(&pcp->high_saved);
	pcp_sizes_read(z, &s);
	sizes_high(&s, high, &saved);
	*batch = s.batch;
	*high_min = s.high_min;
	*high_max = s.high_max;
}

/* Publish the zone's sizes and tell every set, without stopping any: a
 * CPU flip or a memory online resizes every CPU's lists and waits for
 * none of them. Nothing is published when nothing changed. */
void pcp_publish_sizes_locked(struct za *za, struct za_zone *z, bool pressure)
{
	struct za_pcp_sizes s;
	ZA_ASSERT(za_witness_held(ZA_RANK_TUNABLES));
	pcp_compute_sizes(za, z, &s);
	s.pressure = pressure && !(za->flags & ZA_CFG_PCP_FIXED);
	if (z->pcp_sizes_seq && s.batch == z->pcp_sizes.batch &&
	    s.high_min == z->pcp_sizes.high_min &&
	    s.high_max == z->pcp_sizes.high_max &&
	    s.pressure == z->pcp_sizes.pressure)
		return;
	za_store_relaxed(&z->pcp_sizes_seq, z->pcp_sizes_seq + 1);
	za_fence_release();
	za_store_relaxed(&z->pcp_sizes.batch, s.batch);
	za_store_relaxed(&z->pcp_sizes.high_min, s.high_min);
	za_store_relaxed(&z->pcp_sizes.high_max, s.high_max);
	za_store_relaxed(&z->pcp_sizes.pressure, s.pressure);
	za_store_release(&z->pcp_sizes_seq, z->pcp_sizes_seq + 1);
	for (unsigned c = 0; c < za->nr_cpus; c++)
		za_or_release(&zone_pcp(z, (int)c)->flags, ZA_PCP_RESIZE);
}

/* Set a list's high and give back what is over it. Set held. */
static void pcp_trim_locked(struct za *za, struct za_zone *z,
                            struct za_pcp *pcp, int high)
{
	pcp_assert_held(za, pcp);
	pcp->alloc_factor = 0;
	pcp->free_factor = 0;
	pcp->flushed_debt = 0;
	za_store_relaxed(&pcp->grown_since_decay, 0);
	/* Give back first, then publish the lower high: a reader outside
	 * the set (za_pcp_info reads high, then count) never sees a count
	 * above the high it read. */
	if (pcp->count > high)
		pcp_flush_locked(za, z, pcp, pcp->count - high, ZA_PCP_DRAIN,
		                 ZA_PCP_DRAIN_PAGES);
	za_store_release(&pcp->high, high);
}

/* Pressure began (the sizes with pressure published): every list takes
 * its minimum size now and gives the rest back, so that less memory
 * hides in per-CPU lists while it is short. When the pressure ends the
 * next publication gives each list back the high it had (sizes_high). */
void pcp_pressure_trim_locked(struct za *za)
{
	ZA_ASSERT(za_witness_held(ZA_RANK_TUNABLES));
	if (za->flags & ZA_CFG_PCP_FIXED)
		return;
	for_each_populated_zone(za, z) {
		for (unsigned c = 0; c < za->nr_cpus; c++) {
			struct za_pcp *pcp = zone_pcp(z, (int)c);
			/* An empty set gives nothing back: its owner
			 * picks the sizes up itself. */
			if (!za_load_relaxed(&pcp->count) || pcp_lock(za, pcp))
				continue;
			pcp_flags_slow(z, pcp);
			pcp_trim_locked(za, z, pcp, pcp->high);
			/* Not pcp_unlock_report: a list the trim cut is
			 * reported once tunables_lock is let go
			 * (tunables_leave: an error callback may want that
			 * lock), before the call that took it returns. */
			pcp_unlock(za, pcp);
			if (unlikely(za_load_relaxed(&pcp->corrupt_pfn) != ZA_NIL))
				za_store_release(&za->pcp_cuts_waiting, 1);
		}
	}
}

/* One decay step of a list's high: an eighth of it (at least a batch)
 * less, or for a list still busy (it refilled or flushed since the last
 * pass) no more than high grew by meanwhile; but not below high_min, and
 * not so low that the pass gives back more than PCP_DECAY_MAX_BATCHES
 * batches. */
#define PCP_DECAY_MAX_BATCHES 32
static int decayed_high(const struct za_pcp *pcp, bool busy)
{
	int step = pcp->high / 8;
	if (step < pcp->batch)
		step = pcp->batch;
	if (busy && step > za_load_relaxed(&pcp->grown_since_decay))
		step = za_load_relaxed(&pcp->grown_since_decay);
	long high = (long)pcp->high - step;
	long keep = (long)pcp->count - (long)pcp->batch * PCP_DECAY_MAX_BATCHES;
	if (high < keep)
		high = keep < pcp->high ? keep : pcp->high;
	if (high < pcp->high_min)
		high = pcp->high_min;
	return (int)high;
}

/* Whether a decay pass shrinks the list's high: the list is idle (no
 * refill or flush since the last pass) or its high grew meanwhile.
 * Relaxed: read before the set is taken too, as a hint. */
static bool decay_trims(const struct za_pcp *pcp)
{
	return !za_load_relaxed(&pcp->trips_since_decay) ||
	       za_load_relaxed(&pcp->grown_since_decay) > 0;
}

/* The cuts every set keeps for its report (the pressure trim's, which it
 * could not report with tunables_lock held: tunables_leave). */
void pcp_report_corrupt_all(struct za *za)
{
	for_each_zone(za, z) {
		for (unsigned c = 0; c < za->nr_cpus; c++)
			pcp_report_corrupt(za, zone_pcp(z, (int)c));
	}
}

/* Periodic: a list that did not refill or flush since the last call
 * shrinks by an eighth (at least a batch) towards high_min and gives back
 * what is over; an idle CPU so returns its pages within a few intervals.
 * A list still busy shrinks by what its high grew since the last call,
 * an eighth at most: growth has to be earned again each interval, so a
 * busy list settles where an interval's growth meets an eighth of high,
 * as the kernel's does, instead of keeping whatever it once grew to; a
 * busy list that did not grow (its length fits its cycle) is left alone.
 * A pass gives back at most 32 batches (decayed_high), so that the decay
 * of a long list is not one zone-lock hold of thousands of pages while
 * its owner waits. Blocks of orders 4..8 go back at every call (with
 * fixed sizes too). */
void pcp_decay_all(struct za *za)
{
	bool trim = !(za->flags & ZA_CFG_PCP_FIXED);
	for_each_populated_zone(za, z) {
		for (unsigned c = 0; c < za->nr_cpus; c++) {
			struct za_pcp *pcp = zone_pcp(z, (int)c);
			/* Nothing to give back, nothing to shrink (in use,
			 * or at its smallest already) and no blocks of
			 * orders 4..8: no need to stop it (the trips count
			 * is a heuristic; a reset that loses an owner's
			 * increment costs nothing). */
			if (!za_load_relaxed(&pcp->count)) {
				za_store_relaxed(&pcp->grown_since_decay, 0);
				continue;
			}
			bool shrink = trim && decay_trims(pcp) &&
			              (za_load_relaxed(&pcp->high) >
			                   za_load_relaxed(&pcp->high_min) ||
			               za_load_relaxed(&pcp->count) >
			                   za_load_relaxed(&pcp->high));
			if (!shrink && !za_load_relaxed(&pcp->mid_pages)) {
				za_store_relaxed(&pcp->trips_since_decay, 0);
				za_store_relaxed(&pcp->grown_since_decay, 0);
				continue;
			}
			if (!pcp_trylock(za, pcp))
				continue;
			pcp_flags_slow(z, pcp);
			/* Orders 4..8 are kept for reuse within an interval,
			 * no longer: held, they keep their buddies from
			 * merging into larger blocks. */
			if (pcp->mid_pages)
				flush_lists_locked(za, z, pcp, pcp->mid_pages, ZA_PCP_DRAIN,
				                   ZA_PCP_DRAIN_PAGES, ZA_PCP_MID_BASE,
				                   ZA_PCP_PB_BASE - ZA_PCP_MID_BASE);
			if (trim && decay_trims(pcp))
				pcp_trim_locked(za, z, pcp,
				                decayed_high(pcp,
				                             pcp->trips_since_decay != 0));
			za_store_relaxed(&pcp->trips_since_decay, 0);
			za_store_relaxed(&pcp->grown_since_decay, 0);
			pcp_unlock_report(za, pcp); /* a list the flush cut */
		}
	}
}

/* --- setting a list from outside ------------------------------------------- */

int za_pcp_set_high(struct za *za, unsigned cpu, int nid,
                    enum za_zone_type zone, unsigned high)
{
	if (!za || cpu >= za->nr_cpus || nid < 0 ||
	    (unsigned)nid >= za->nr_nodes || (unsigned)zone >= ZA_NR_ZONES)
		return -EINVAL;
	struct za_zone *z = &za->nodes[nid].zones[zone];
	if (!zone_populated(z))
		return -EINVAL;
	if (za->flags & ZA_CFG_PCP_FIXED)
		return -EPERM;
	struct za_pcp *pcp = zone_pcp(z, (int)cpu);
	int err = pcp_lock(za, pcp);
	if (err)
		return err;
	/* the sizes published since the set last looked, first */
	pcp_flags_slow(z, pcp);
	long h = high > (unsigned)INT_MAX ? INT_MAX : (long)high;
	if (h < pcp->high_min)
		h = pcp->high_min;
	if (h > pcp->high_max)
		h = pcp->high_max;
	pcp_trim_locked(za, z, pcp, (int)h);
	pcp_unlock_report(za, pcp); /* a list the flush cut, before return */
	return 0;
}

void za_pcp_decay(struct za *za)
{
	if (za)
		pcp_decay_all(za);
}
