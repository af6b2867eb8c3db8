/*
 * buddy.c - the buddy free lists of a zone: add and remove blocks, split
 * on allocation, merge on free, fall back to other migratetypes and claim
 * whole pageblocks when that fights fragmentation.
 *
 * Every function here runs under the zone lock (the _locked suffix), except
 * buddy_free_range and the lazy-range functions, which take it.
 *
 * Rule kept throughout: a free block sits on the list of the migratetype
 * of its pageblock, and a free block larger than a pageblock has one
 * migratetype in all its pageblocks. So splitting a block never puts a
 * piece on the wrong list, and isolating a pageblock moves exactly the
 * free blocks whose head lies in it.
 */
#include "internal.h"

/* Debug level 2: every page of a block but its head heads nothing. */
static bool block_interior_clear(const struct za *za, unsigned long pfn,
                                 unsigned order)
{
	for (unsigned long q = pfn + 1; q < pfn + (1ul << order); q++)
		if (page_state(pfn_page(za, q)) != ZA_PS_NONE)
			return false;
	return true;
}

static bool list_holds(struct za_zone *z, unsigned order, int mt,
                       unsigned long pfn);

void buddy_add_locked(struct za_zone *z, struct za_page *page,
                      unsigned long pfn, unsigned order, int mt)
{
	struct za *za = z->za;
	zone_assert_held(z);
	/* A block handed out is claimed (FREEING) before it comes back. */
	ZA_ASSERT_PAGE(za, page, page_state(page) != ZA_PS_ALLOC);
	ZA_ASSERT_PAGE(za, page, page->zone_id == z->id);
	ZA_ASSERT_PAGE(za, page,
	               order <= za->max_order && !(pfn & ((1ul << order) - 1)));
	ZA_ASSERT(mt >= 0 && mt < ZA_NR_MIGRATETYPES);
	ZA_ASSERT_EXPENSIVE(block_interior_clear(za, pfn, order));
	ZA_ASSERT_EXPENSIVE(!list_holds(z, order, mt, pfn));
	uint32_t head = z->free_head[order][mt];
	page->next = head;
	page->prev = ZA_NIL;
	if (head != ZA_NIL)
		pfn_page(za, head)->prev = (uint32_t)pfn;
	z->free_head[order][mt] = (uint32_t)pfn;
	za_store_relaxed(&page->order, (uint8_t)order);
	za_store_relaxed(&page->mt, (uint8_t)mt);
	set_page_state(page, ZA_PS_BUDDY);
	za_inc_single_writer(&z->nr_free[order][mt], 1);
}

/* Debug level 2: walk a whole free list. Catches a block whose metadata
 * says "on this list" when it is not - a corruption otherwise found only
 * by the next za_check. */
static bool list_holds(struct za_zone *z, unsigned order, int mt,
                       unsigned long pfn)
{
	for (uint32_t h = z->free_head[order][mt]; h != ZA_NIL;
	     h = pfn_page(z->za, h)->next)
		if (h == pfn)
			return true;
	return false;
}

void buddy_del_locked(struct za_zone *z, struct za_page *page,
                      unsigned long pfn)
{
	struct za *za = z->za;
	unsigned order = page_order(page);
	int mt = page_mt(page);
	zone_assert_held(z);
	ZA_ASSERT_PAGE(za, page, page_state(page) == ZA_PS_BUDDY);
	ZA_ASSERT_EXPENSIVE(list_holds(z, order, mt, pfn));
	if (page->prev != ZA_NIL)
		pfn_page(za, page->prev)->next = page->next;
	else
		z->free_head[order][mt] = page->next;
	if (page->next != ZA_NIL)
		pfn_page(za, page->next)->prev = page->prev;
	page->next = page->prev = ZA_NIL;
	za_inc_single_writer(&z->nr_free[order][mt], -1ul);
	clear_page_reported_locked(z, pfn, order);
}

/* Set the migratetype of every pageblock in [pfn, pfn + 2^order). */
static void set_block_pb_mt(struct za *za, unsigned long pfn, unsigned order,
                            int mt)
{
	unsigned long pb = 1ul << za->pageblock_order;
	unsigned long n = order >= za->pageblock_order ? (1ul << order) : 1;
	for (unsigned long p = pageblock_start(za, pfn); p < pfn + n; p += pb)
		set_pageblock_mt(za, p, mt);
}

/* --- lazy sections ----------------------------------------------------------
 * A section that came online and is not wholly needed yet: the max-order
 * blocks of its lazy part (its lowest lazy_left) count in
 * nr_free[max_order][MOVABLE] and nr_lazy_blocks but are on no list, and
 * their metadata is not written (internal.h, struct za_section). When the
 * list runs dry, one run of the first lazy section is initialised: its
 * highest lazy blocks, ZA_LAZY_RUN_PAGES pages at most, so that the
 * blocks are handed out highest first, as the eagerly filled list would
 * have done, and a zone-lock hold writes one run of metadata whatever the
 * block size (an allocation on another CPU waits for one run at most).
 * The section leaves the lazy list with its last run.
 *
 * Why a run under the lock rather than a whole block written without it:
 * the allocation that finds the list empty holds the zone lock (and maybe
 * its CPU's page set) deep in buddy_alloc_locked, with no point at which
 * to let it go. A run is the unit instead, and every reader keeps one
 * rule, the lazy part of a block is its lowest lazy_left max-order blocks
 * (pfn_lazy): a half-initialised block is an initialised part, whose
 * blocks are ordinary free or allocated blocks, beside a lazy part, which
 * no list reaches into. A max-order block never merges with another, so
 * nothing crosses the boundary. za_check, compaction and the page owner's
 * walk skip the lazy part only; memory offline of a wholly lazy range
 * needs every block whole (lazy_left all there), and otherwise
 * initialises the rest, a run per hold (buddy_materialize_range). */

static unsigned long lazy_blocks(const struct za *za)
{
	return za->block_pages >> za->max_order;
}

/* Max-order blocks of one run: ZA_LAZY_RUN_PAGES, or one block. */
static unsigned long lazy_run_blocks(const struct za *za)
{
	unsigned long n = ZA_LAZY_RUN_PAGES >> za->max_order;
	return n ? n : 1;
}

static void lazy_push_locked(struct za_zone *z, unsigned long s)
{
	struct za *za = z->za;
	struct za_section *sec = &za->sections[s];
	zone_assert_held(z);
	ZA_ASSERT(sec->zone_id == z->id);
	/* Memory online marked it lazy whole (memmap_online_range). */
	ZA_ASSERT(sec->lazy && sec->lazy_left == lazy_blocks(za));
	sec->lazy_prev = ZA_NIL;
	sec->lazy_next = z->lazy_head;
	if (z->lazy_head != ZA_NIL)
		za->sections[z->lazy_head].lazy_prev = (uint32_t)s;
	z->lazy_head = (uint32_t)s;
	z->nr_lazy++;
	z->nr_lazy_blocks += sec->lazy_left;
	za_inc_single_writer(&z->nr_free[za->max_order][ZA_MT_MOVABLE],
	                     sec->lazy_left);
}

/* Off the lazy list, its lazy part (whatever is left) out of the counts. */
static void lazy_unlink_locked(struct za_zone *z, unsigned long s)
{
	struct za *za = z->za;
	struct za_section *sec = &za->sections[s];
	zone_assert_held(z);
	ZA_ASSERT(sec->lazy);
	if (sec->lazy_prev != ZA_NIL)
		za->sections[sec->lazy_prev].lazy_next = sec->lazy_next;
	else
		z->lazy_head = sec->lazy_next;
	if (sec->lazy_next != ZA_NIL)
		za->sections[sec->lazy_next].lazy_prev = sec->lazy_prev;
	sec->lazy_next = sec->lazy_prev = ZA_NIL;
	z->nr_lazy--;
	z->nr_lazy_blocks -= sec->lazy_left;
	za_inc_single_writer(&z->nr_free[za->max_order][ZA_MT_MOVABLE],
	                     -(unsigned long)sec->lazy_left);
	za_store_relaxed(&sec->lazy_left, 0);
	za_store_relaxed(&sec->lazy, 0);
}

/* Initialise the highest run of a lazy section's lazy part and put its
 * max-order blocks on the free list (ascending, so the highest is handed
 * out first). Its pageblocks are all MOVABLE: nothing changes the types
 * of a lazy part without initialising it first. The counts move from the
 * lazy part to the list within this hold: exact for every holder of the
 * lock, and the same total for the relaxed readers of nr_free. */
static void materialize_run_locked(struct za_zone *z, unsigned long s)
{
	struct za *za = z->za;
	struct za_section *sec = &za->sections[s];
	unsigned long chunk = 1ul << za->max_order;
	zone_assert_held(z);
	ZA_ASSERT(sec->lazy && sec->lazy_left && sec->zone_id == z->id);
	unsigned long left = sec->lazy_left, n = lazy_run_blocks(za);
	if (n > left)
		n = left;
	unsigned long lo = section_pfn(za, s) + ((left - n) << za->max_order);
	memmap_init_pages(za, lo, n << za->max_order, z->id);
	za_store_relaxed(&sec->lazy_left, (uint32_t)(left - n));
	z->nr_lazy_blocks -= n;
	za_inc_single_writer(&z->nr_free[za->max_order][ZA_MT_MOVABLE], -n);
	if (left == n) {
		lazy_unlink_locked(z, s); /* nothing left to uncount */
		event_zone(z, ZA_LAZY_INIT, 1);
	}
	for (unsigned long pfn = lo; pfn < lo + (n << za->max_order);
	     pfn += chunk) {
		ZA_ASSERT(pageblock_mt(za, pfn) == ZA_MT_MOVABLE);
		buddy_add_locked(z, pfn_page(za, pfn), pfn, za->max_order,
		                 ZA_MT_MOVABLE);
	}
}

/* Whether list (order, mt) has a block, counting lazy ones. */
static inline bool free_list_any(const struct za_zone *z, unsigned order,
                                 int mt)
{
	return z->free_head[order][mt] != ZA_NIL ||
	       (order == z->za->max_order && mt == ZA_MT_MOVABLE &&
	        z->lazy_head != ZA_NIL);
}

/* The first block of list (order, mt), initialising a run of a lazy
 * section when that list holds nothing else; ZA_NIL when empty. */
static inline uint32_t free_list_first(struct za_zone *z, unsigned order,
                                       int mt)
{
	uint32_t h = z->free_head[order][mt];
	if (unlikely(h == ZA_NIL) && order == z->za->max_order &&
	    mt == ZA_MT_MOVABLE && z->lazy_head != ZA_NIL) {
		materialize_run_locked(z, z->lazy_head);
		h = z->free_head[order][mt];
	}
	return h;
}

/* Free a block into the lists, merging with its free buddies. reported:
 * the block was reported (it comes back from the client or is refiled):
 * it stays so if every buddy it merges with was reported too, since then
 * no page of the merged block is new to the client; merged with an
 * unreported buddy it is a new block, reported later. notify wakes the
 * reporter for a block that is not marked. */
static int free_block_locked(struct za_zone *z, struct za_page *page,
                             unsigned long pfn, unsigned order, bool notify,
                             bool reported)
{
	struct za *za = z->za;
	zone_assert_held(z);
	ZA_ASSERT_PAGE(za, page,
	               order <= za->max_order && !(pfn & ((1ul << order) - 1)));
	ZA_DEBUG_POINT(za, ZA_DP_BUDDY_FREE, z);
	int mt = pageblock_mt(za, pfn);

	/* A block larger than a pageblock frees with one type throughout. */
	if (order > za->pageblock_order)
		set_block_pb_mt(za, pfn, order, mt);
	while (order < za->max_order) {
		unsigned long buddy_pfn = pfn ^ (1ul << order);
		struct za_page *buddy = pfn_page(za, buddy_pfn);
		if (page_state(buddy) != ZA_PS_BUDDY || page_order(buddy) != order)
			break;
		if (order >= za->pageblock_order) {
			int bmt = page_mt(buddy);
			if (bmt != mt) {
				/* Isolation (or a reserve) keeps blocks apart;
				 * two ordinary types merge, and the buddy takes
				 * our type so the merged block has one. */
				if (!mt_is_mergeable(mt) || !mt_is_mergeable(bmt))
					break;
				set_block_pb_mt(za, buddy_pfn, order, mt);
			}
		}
		reported = reported && page_reported(za, buddy_pfn);
		buddy_del_locked(z, buddy, buddy_pfn);
		set_page_state(buddy, ZA_PS_NONE);
		set_page_state(page, ZA_PS_NONE);
		pfn &= buddy_pfn;
		page = pfn_page(za, pfn);
		order++;
	}
	buddy_add_locked(z, page, pfn, order, mt);
	if (reported)
		set_page_reported_locked(z, pfn, order);
	else if (notify)
		page_reporting_notify_free(za, order);
	return mt;
}

int buddy_free_locked(struct za_zone *z, struct za_page *page,
                      unsigned long pfn, unsigned order)
{
	return free_block_locked(z, page, pfn, order, true, false);
}

/* Free page reporting hands its batch back (reporting.c): no new notice;
 * marked when the client took it and it merged with reported blocks only
 * (free_block_locked). */
int _za_buddy_putback_reported_locked(struct za_zone *z, struct za_page *page,
                                      unsigned long pfn, unsigned order,
                                      bool reported)
{
	return free_block_locked(z, page, pfn, order, false, reported);
}

/* --- isolation --------------------------------------------------------------
 * Isolating a pageblock only moves its free blocks to the isolate lists:
 * they keep their order and their reported mark, and merge with nothing
 * they were kept apart from (a HIGHATOMIC block and its ordinary buddy,
 * both ISOLATE now). Un-isolating frees them again with the types their
 * pageblocks get back. */

void buddy_move_locked(struct za_zone *z, struct za_page *page,
                       unsigned long pfn, int mt)
{
	unsigned order = page_order(page);
	bool reported = page_reported(z->za, pfn);
	buddy_del_locked(z, page, pfn);
	buddy_add_locked(z, page, pfn, order, mt);
	if (reported)
		set_page_reported_locked(z, pfn, order);
}

/* Whether every pageblock of the block [pfn, pfn + 2^order) has the type
 * of its first. */
static bool block_one_type(const struct za *za, unsigned long pfn,
                           unsigned order)
{
	int mt = pageblock_mt(za, pfn);
	for (unsigned long p = pfn; p < pfn + (1ul << order);
	     p += 1ul << za->pageblock_order)
		if (pageblock_mt(za, p) != mt)
			return false;
	return true;
}

void buddy_unisolate_locked(struct za_zone *z, struct za_page *page,
                            unsigned long pfn)
{
	struct za *za = z->za;
	unsigned order = page_order(page), piece = order;
	bool reported = page_reported(za, pfn);
	zone_assert_held(z);
	ZA_ASSERT_PAGE(za, page, page_mt(page) == ZA_MT_ISOLATE);
	buddy_del_locked(z, page, pfn);
	/* A block that grew while isolated (pages freed into the range
	 * merged) may span pageblocks whose types differ: freed whole it
	 * would give them all its first pageblock's type. Freed a pageblock
	 * at a time, each keeps its own, and those that may merge do. Its
	 * pieces keep its mark, as the halves of a split do. */
	if (order > za->pageblock_order && !block_one_type(za, pfn, order))
		piece = za->pageblock_order;
	for (unsigned long p = pfn; p < pfn + (1ul << order); p += 1ul << piece)
		free_block_locked(z, pfn_page(za, p), p, piece, true, reported);
}

/* --- where a block lies after a late claim ----------------------------------
 * A free that claims with a plain store may store FREEING over a block the
 * other free of it gave back meanwhile (a racing double free); its
 * free_one_page then refuses it, the hand-out count having moved on, and
 * gives the block the state it has where it lies now (alloc.c,
 * late_claim_state_locked). These say where, with the zone lock held:
 * the buddy lists and the free blocks on them hold still; a block on a
 * per-CPU list or in use does not, but whatever makes the page a head or
 * no longer one writes its state, which the refusal changes by
 * compare-and-swap from FREEING only. */

/* Whether a linked pfn names an online page whose link `back` (its next,
 * or its prev) is pfn. */
static bool links_back(const struct za *za, uint32_t to, unsigned long pfn,
                       bool next)
{
	if (to >= za->max_pfn || !pfn_online(za, to))
		return false;
	const struct za_page *q = pfn_page(za, to);
	return (next ? q->next : q->prev) == pfn;
}

bool buddy_on_list_locked(struct za_zone *z, const struct za_page *page,
                          unsigned long pfn)
{
	struct za *za = z->za;
	zone_assert_held(z);
	unsigned o = za_load_relaxed(&page->order);
	unsigned mt = za_load_relaxed(&page->mt);
	if (o > za->max_order || mt >= ZA_NR_MIGRATETYPES ||
	    (pfn & ((1ul << o) - 1)))
		return false;
	/* No back link: the head of list (o, mt) or on no list at all
	 * (buddy_del_locked clears it, and nothing else writes one). */
	if (page->prev == ZA_NIL ? z->free_head[o][mt] != pfn
	                         : !links_back(za, page->prev, pfn, true))
		return false;
	return page->next == ZA_NIL || links_back(za, page->next, pfn, false);
}

bool buddy_inside_block(const struct za *za, unsigned long pfn)
{
	for (unsigned o = 1; o <= za->max_order; o++) {
		unsigned long h = pfn & ~((1ul << o) - 1);
		if (h == pfn)
			continue;
		const struct za_page *hp = pfn_page(za, h);
		int st = page_state(hp);
		if (st == ZA_PS_NONE)
			continue;
		unsigned ho = za_load_relaxed(&hp->order);
		/* A contiguous range's head covers its first max-order block
		 * (OFFLINE pages head the others). */
		if (ho == ZA_CONTIG_ORDER
		        ? st == ZA_PS_ALLOC
		        : ho <= za->max_order && pfn < h + (1ul << ho))
			return true;
	}
	return false;
}

long buddy_refile_locked(struct za_zone *z, struct za_page *page,
                         unsigned long pfn)
{
	struct za *za = z->za;
	zone_assert_held(z);
	ZA_ASSERT_PAGE(za, page, page_state(page) == ZA_PS_BUDDY);
	unsigned order = page_order(page);
	int mt = page_mt(page);
	bool merges = false;
	if (order < za->max_order) {
		const struct za_page *b = pfn_page(za, pfn ^ (1ul << order));
		merges = page_state(b) == ZA_PS_BUDDY && page_order(b) == order;
	}
	bool one_type = block_one_type(za, pfn, order);
	if (!merges && one_type && pageblock_mt(za, pfn) == mt)
		return 0;
	long iso = mt == ZA_MT_ISOLATE ? -(1l << order) : 0;
	bool reported = page_reported(za, pfn);
	buddy_del_locked(z, page, pfn);
	/* As un-isolation frees a block: a pageblock at a time where their
	 * types differ, keeping the reported mark. */
	unsigned piece = one_type ? order : za->pageblock_order;
	for (unsigned long p = pfn; p < pfn + (1ul << order); p += 1ul << piece)
		if (free_block_locked(z, pfn_page(za, p), p, piece, true, reported) ==
		    ZA_MT_ISOLATE)
			iso += 1l << piece;
	return iso;
}

/* Put the upper halves of a block split from order high down to low back
 * on the lists. */
static void expand(struct za_zone *z, unsigned long pfn, unsigned low,
                   unsigned high, int mt, bool reported)
{
	struct za *za = z->za;
	while (high > low) {
		high--;
		unsigned long b = pfn + (1ul << high);
		buddy_add_locked(z, pfn_page(za, b), b, high, mt);
		/* The halves of a reported block were reported with it: they
		 * stay so until they are allocated themselves. */
		if (unlikely(reported))
			set_page_reported_locked(z, b, high);
	}
}

/* Whether the first block of list (o, mt), h, is a free block of that
 * order: always, unless two frees of it raced on two CPUs and the one that
 * lost pushed it on its per-CPU list after the other freed it here (frees
 * are not strict): its state and link are then the per-CPU list's
 * (DESIGN.md invariants: caught at the latest when the page would be
 * handed out the second time). The list is then cut: its blocks are lost
 * to the allocator, which za_check reports, and the cut is kept in the
 * zone (z->cuts: every cut, none dropped for one already waiting) and
 * reported once the zone lock is let go (buddy_report_corrupt). False
 * after a cut. */
static bool free_list_head_ok(struct za_zone *z, unsigned o, int mt,
                              uint32_t h)
{
	struct za_page *page = pfn_page(z->za, h);
	if (likely(page_state(page) == ZA_PS_BUDDY && page_order(page) == o))
		return true;
	/* Strict frees never leave a page here twice: the allocator's own
	 * bug then, which debug builds stop at. */
	ZA_ASSERT_PAGE(z->za, page, !z->za->strict_free);
	z->free_head[o][mt] = ZA_NIL;
	/* The lazy sections' blocks (counted in one list) are not cut. */
	unsigned long lazy = o == z->za->max_order && mt == ZA_MT_MOVABLE
	                         ? z->nr_lazy_blocks
	                         : 0;
	za_store_relaxed(&z->nr_free[o][mt], lazy);
	za_cuts_note_locked(&z->cuts, h, o);
	return false;
}

/* The cuts are noted and taken under the zone lock, so a cut made while
 * a report is under way waits for the next one: the thread that made it
 * finds it when it lets the lock go (buddy_report_corrupt), or another
 * taker has taken it. */
void buddy_report_corrupt_slow(struct za *za, struct za_zone *z)
{
	zone_lock(z, NULL);
	struct za_cuts cuts = z->cuts;
	z->cuts.unnamed = 0;
	za_store_relaxed(&z->cuts.n, 0);
	zone_unlock(z);
	if (!cuts.n)
		return;
	char lists[96];
	snprintf(lists, sizeof(lists), "node %d zone %s's free list", z->nid,
	         za_zone_name(z->type));
	_za_report_cuts(za, &cuts, "on the buddy lists is not a free block",
	                lists);
}

static struct za_page *rmqueue_smallest(struct za_zone *z, unsigned order,
                                        int mt)
{
	struct za *za = z->za;
	for (unsigned o = order; o <= za->max_order; o++) {
		uint32_t h;
		while ((h = free_list_first(z, o, mt)) != ZA_NIL &&
		       unlikely(!free_list_head_ok(z, o, mt, h)))
			;
		if (h == ZA_NIL)
			continue;
		struct za_page *page = pfn_page(za, h);
		bool reported = page_reported(za, h);
		buddy_del_locked(z, page, h);
		expand(z, h, order, o, mt, reported);
		set_page_state(page, ZA_PS_NONE);
		ZA_ASSERT_EXPENSIVE(block_interior_clear(za, h, order));
		return page;
	}
	return NULL;
}

/* Free pages of type `from` and allocated pages of type `to` in one
 * pageblock: decides whether the whole pageblock may change type. */
static void pageblock_census(struct za *za, unsigned long pb, int to,
                             unsigned long *free, unsigned long *alike)
{
	unsigned long end = pb + (1ul << za->pageblock_order);
	*free = *alike = 0;
	for (unsigned long pfn = pb; pfn < end;) {
		struct za_page *p = pfn_page(za, pfn);
		int st = page_state(p);
		unsigned long n = page_scan_span(p, st);
		if (st == ZA_PS_BUDDY)
			*free += n;
		else if (st == ZA_PS_ALLOC && page_mt(p) == to)
			*alike += n;
		pfn += n;
	}
}

unsigned long buddy_set_pageblock_mt_locked(struct za_zone *z,
                                            unsigned long pb, int mt)
{
	struct za *za = z->za;
	zone_assert_held(z);
	ZA_ASSERT(pb == pageblock_start(za, pb));
	unsigned long end = pb + (1ul << za->pageblock_order), moved = 0;
	int old = pageblock_mt(za, pb);
	/* A reserve or isolation kept these blocks from merging with their
	 * buddies; once the pageblock is ordinary again they must merge, or
	 * the zone stays fragmented for nothing. */
	bool remerge = !mt_is_mergeable(old) && mt_is_mergeable(mt);

	set_pageblock_mt(za, pb, mt);
	for (unsigned long pfn = pb; pfn < end;) {
		struct za_page *p = pfn_page(za, pfn);
		int st = page_state(p);
		unsigned long n = page_scan_span(p, st);
		if (st == ZA_PS_BUDDY && page_mt(p) != mt) {
			moved += n;
			if (remerge) {
				unsigned o = page_order(p);
				bool reported = page_reported(za, pfn);
				buddy_del_locked(z, p, pfn);
				/* May merge with the next block of this pageblock
				 * (still on the old list: its own mt says which) or
				 * with a buddy outside it; the walk goes on from
				 * pfn + n, over pages that are interior by then.
				 * It stays reported unless it merges with an
				 * unreported block, as an un-isolated block does. */
				free_block_locked(z, p, pfn, o, true, reported);
			} else {
				/* Only the list changes: order and mark kept. */
				buddy_move_locked(z, p, pfn, mt);
			}
		}
		pfn += n;
	}
	if (old == ZA_MT_ISOLATE && mt != ZA_MT_ISOLATE) {
		vmstat_mod(z, ZA_NR_FREE_ISOLATED, -(long)moved);
		vmstat_mod(z, ZA_NR_FREE_PAGES, (long)moved);
	} else if (old != ZA_MT_ISOLATE && mt == ZA_MT_ISOLATE) {
		vmstat_mod(z, ZA_NR_FREE_PAGES, -(long)moved);
		vmstat_mod(z, ZA_NR_FREE_ISOLATED, (long)moved);
	}
	return moved;
}

static const int fallbacks[ZA_NR_PCPTYPES][2] = {
	[ZA_MT_UNMOVABLE] = { ZA_MT_RECLAIMABLE, ZA_MT_MOVABLE },
	[ZA_MT_MOVABLE] = { ZA_MT_RECLAIMABLE, ZA_MT_UNMOVABLE },
	[ZA_MT_RECLAIMABLE] = { ZA_MT_UNMOVABLE, ZA_MT_MOVABLE },
};

/* No block of the wanted type: take one of another type, largest first so
 * that whole pageblocks change hands rather than many small pieces. */
static struct za_page *rmqueue_fallback(struct za_zone *z, unsigned order,
                                        int start_mt)
{
	struct za *za = z->za;
	int found_mt = -1;
	unsigned o;
	for (o = za->max_order + 1; o-- > order;) {
		for (int i = 0; i < 2; i++) {
			if (free_list_any(z, o, fallbacks[start_mt][i])) {
				found_mt = fallbacks[start_mt][i];
				break;
			}
		}
		if (found_mt >= 0)
			break;
	}
	if (found_mt < 0)
		return NULL;
	event_zone(z, ZA_FALLBACK, 1);

	uint32_t h = free_list_first(z, o, found_mt);
	if (unlikely(!free_list_head_ok(z, o, found_mt, h)))
		return rmqueue_fallback(z, order, start_mt); /* one list fewer */
	struct za_page *page = pfn_page(za, h);
	if (o >= za->pageblock_order) {
		/* A whole free pageblock or more: claim it all (a reported
		 * block stays reported: it only changes lists). */
		set_block_pb_mt(za, h, o, start_mt);
		buddy_move_locked(z, page, h, start_mt);
		event_zone(z, ZA_STEAL_PAGEBLOCK, 1);
		return rmqueue_smallest(z, order, start_mt);
	}
	/* Part of a pageblock. Unmovable and reclaimable requests claim the
	 * pageblock when at least half of it is free or already theirs, so
	 * that they cluster instead of polluting many movable pageblocks;
	 * movable requests only claim for large orders. */
	/* Types mix in a pageblock: boost the marks (compaction.c). */
	_za_boost_watermark_locked(z);
	if (o >= za->pageblock_order / 2 || start_mt != ZA_MT_MOVABLE) {
		unsigned long pb = pageblock_start(za, h), nfree, alike;
		pageblock_census(za, pb, start_mt, &nfree, &alike);
		if (nfree + alike >= (1ul << za->pageblock_order) / 2) {
			buddy_set_pageblock_mt_locked(z, pb, start_mt);
			event_zone(z, ZA_STEAL_PAGEBLOCK, 1);
			return rmqueue_smallest(z, order, start_mt);
		}
	}
	return rmqueue_smallest(z, order, found_mt);
}

struct za_page *buddy_alloc_locked(struct za_zone *z, unsigned order, int mt,
                                   unsigned alloc_flags)
{
	struct za_page *page = NULL;
	zone_assert_held(z);
	if (unlikely(alloc_flags & ALLOC_HARDER) && order > 0)
		page = rmqueue_smallest(z, order, ZA_MT_HIGHATOMIC);
	if (!page)
		page = rmqueue_smallest(z, order, mt);
	if (!page)
		page = rmqueue_fallback(z, order, mt);
	if (!page && (alloc_flags & ALLOC_HARDER))
		page = rmqueue_smallest(z, order, ZA_MT_HIGHATOMIC);
	return page;
}

void buddy_free_range(struct za_zone *z, unsigned long start, unsigned long nr)
{
	struct za *za = z->za;
	unsigned long pfn = start, end = start + nr;
	while (pfn < end) {
		long nfree = 0, niso = 0;
		/* Bounded lock holds: a large online must not stall
		 * allocations on this zone. */
		zone_lock(z, NULL);
		for (int i = 0; i < 64 && pfn < end; i++) {
			unsigned order = za->max_order;
			while ((pfn & ((1ul << order) - 1)) || pfn + (1ul << order) > end)
				order--;
			for (unsigned long q = pfn; q < pfn + (1ul << order); q++)
				set_page_state(pfn_page(za, q), ZA_PS_NONE);
			int mt = buddy_free_locked(z, pfn_page(za, pfn), pfn, order);
			if (mt == ZA_MT_ISOLATE)
				niso += 1l << order;
			else
				nfree += 1l << order;
			pfn += 1ul << order;
		}
		zone_unlock(z);
		/* Counters after the lists (seed 003). */
		vmstat_mod(z, ZA_NR_FREE_PAGES, nfree);
		if (niso)
			vmstat_mod(z, ZA_NR_FREE_ISOLATED, niso);
	}
}

void buddy_add_lazy_range(struct za_zone *z, unsigned long start,
                          unsigned long nr)
{
	struct za *za = z->za;
	unsigned long s = start >> za->block_shift,
	              end = (start + nr) >> za->block_shift;
	while (s < end) {
		long nfree = 0;
		/* Bounded lock holds, as for any large online. */
		zone_lock(z, NULL);
		for (int i = 0; i < 1024 && s < end; i++, s++) {
			lazy_push_locked(z, s);
			nfree += (long)za->block_pages;
		}
		zone_unlock(z);
		/* Counters after the lists (seed 003). */
		vmstat_mod(z, ZA_NR_FREE_PAGES, nfree);
	}
}

void buddy_materialize_range(struct za_zone *z, unsigned long start,
                             unsigned long nr)
{
	struct za *za = z->za;
	for (unsigned long pfn = start & ~(za->block_pages - 1); pfn < start + nr;
	     pfn += za->block_pages) {
		struct za_section *sec = pfn_section(za, pfn);
		/* One run per hold, as an allocation initialises them: the
		 * lock is let go between two runs, and an allocation on
		 * another CPU may take the next run of this very block
		 * meanwhile (the loop then finds fewer left). */
		while (za_load_relaxed(&sec->lazy)) {
			zone_lock(z, NULL);
			if (sec->lazy)
				materialize_run_locked(z, pfn >> za->block_shift);
			bool more = sec->lazy;
			zone_unlock(z);
			if (more)
				ZA_DEBUG_POINT(za, ZA_DP_LAZY_RUN, z);
		}
	}
}

bool buddy_take_lazy_range(struct za_zone *z, unsigned long start,
                           unsigned long nr)
{
	struct za *za = z->za;
	unsigned long s0 = start >> za->block_shift;
	unsigned long s1 = (start + nr) >> za->block_shift;
	/* A glance first, so that a range in use costs no lock hold. Every
	 * block must be lazy whole: one with a run initialised may have
	 * blocks in use (and has blocks on the free list). */
	for (unsigned long s = s0; s < s1; s++)
		if (za_load_relaxed(&za->sections[s].lazy_left) != lazy_blocks(za))
			return false;
	zone_lock(z, NULL);
	for (unsigned long s = s0; s < s1; s++) {
		if (za->sections[s].lazy_left != lazy_blocks(za)) {
			zone_unlock(z);
			return false;
		}
	}
	for (unsigned long s = s0; s < s1; s++)
		lazy_unlink_locked(z, s);
	zone_unlock(z);
	vmstat_mod(z, ZA_NR_FREE_PAGES, -(long)nr);
	return true;
}

void reserve_highatomic_pageblock(struct za_zone *z, struct za_page *page,
                                  unsigned order)
{
	struct za *za = z->za;
	unsigned long pb_pages = 1ul << za->pageblock_order;
	unsigned long max = za_load_relaxed(&z->managed_pages) / 100 + pb_pages;
	if (za_load_relaxed(&z->nr_reserved_highatomic) + pb_pages > max)
		return;
	zone_lock(z, NULL);
	unsigned long pb = pageblock_start(za, page_pfn(za, page));
	int mt = pageblock_mt(za, pb);
	/* Only ordinary pageblocks, and not one inside a larger free block
	 * (the allocation came from this pageblock, so none is). */
	if (mt_is_mergeable(mt) &&
	    za_load_relaxed(&z->nr_reserved_highatomic) + pb_pages <= max) {
		unsigned long n = pb_pages;
		if (order <= za->pageblock_order) {
			buddy_set_pageblock_mt_locked(z, pb, ZA_MT_HIGHATOMIC);
		} else {
			/* A block of several pageblocks, all in use (no free
			 * block to move): reserve them all, since its free
			 * gives the block one type throughout, its first
			 * pageblock's (as the kernel does). */
			n = 1ul << order;
			set_block_pb_mt(za, pb, order, ZA_MT_HIGHATOMIC);
		}
		za_store_relaxed(&z->nr_reserved_highatomic,
		                 z->nr_reserved_highatomic + n);
		zone_fast_input_changed(z);
	}
	zone_unlock(z);
}

bool unreserve_highatomic_pageblock(struct za *za, struct za_alloc_ctx *ac,
                                    bool force)
{
	unsigned long pb_pages = 1ul << za->pageblock_order;
	/* Unforced, a zone keeps its last reserved pageblock. */
	unsigned long keep = force ? 0 : pb_pages;
	struct za_zone *z;
	for (unsigned i = 0;
	     (z = zonelist_next(ac->zonelist, ac->highest_zoneidx, &i));) {
		if (za_load_relaxed(&z->nr_reserved_highatomic) <= keep)
			continue;
		zone_lock(z, NULL);
		if (z->nr_reserved_highatomic <= keep) {
			zone_unlock(z);
			continue;
		}
		for (unsigned o = 0; o <= za->max_order; o++) {
			uint32_t h = z->free_head[o][ZA_MT_HIGHATOMIC];
			if (h == ZA_NIL)
				continue;
			unsigned long pb = pageblock_start(za, h);
			/* A free block larger than a pageblock is HIGHATOMIC
			 * throughout; freed again on its new list it takes the
			 * new type throughout (free_block_locked). */
			unsigned long n = 1ul << (o > za->pageblock_order
			                              ? o
			                              : za->pageblock_order);
			if (n > z->nr_reserved_highatomic)
				n = z->nr_reserved_highatomic;
			buddy_set_pageblock_mt_locked(z, pb, ac->mt);
			za_store_relaxed(&z->nr_reserved_highatomic,
			                 z->nr_reserved_highatomic - n);
			zone_fast_input_changed(z);
			zone_unlock(z);
			return true;
		}
		zone_unlock(z);
	}
	return false;
}
