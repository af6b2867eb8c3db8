/*
 * fastpath.c - the per-CPU fast paths: a small block off the current
 * CPU's page set, or back onto it, and the public calls that try them
 * first.
 *
 * Two fast paths, one per way of protecting a page set (DESIGN.md "Rules
 * of concurrency"):
 *
 *  - restartable (alloc_fast_rseq, free_fast_rseq): the owner takes its
 *    CPU's set with one restartable sequence (za_rseq_own, written per
 *    architecture beside this file: rseq-x86_64.h, rseq-aarch64.h), works
 *    with plain loads and stores and lets go with a store-release. Each
 *    is a leaf: no call on any path, so no frame and no register saved;
 *    anything it does not take - a busy, stopped or switched-off set, an
 *    empty list, a zone near its watermarks, an unknown CPU, a request
 *    that is not plain, a debugging aid switched on - it leaves untouched
 *    to the out-of-line paths below, which also report misuse.
 *  - locked (alloc_fast, and pcp_free in pcp.h for frees): the set's
 *    spin lock, try-locked (seed 001: an owner never spins), for a
 *    cpu_id callback, ZA_CFG_PCP_LOCKED, ThreadSanitizer builds and
 *    platforms without rseq; in restartable mode the same code takes the
 *    set with the sequence (pcp_fast_own) for the requests the leaf
 *    leaves (another node, a zeroing request).
 *
 * Both share the checks they make (zone_fast_ok, pcp_head_ok, the
 * counting helpers in pcp.h and internal.h). What neither takes goes to
 * alloc_pages_slow / alloc_general and free_pages_slow (alloc.c).
 */
#include "internal.h"
#include "pcp.h"

/* The page set a fast allocation takes from, on cpu: for the CPU's own
 * node (nid < 0, no THISNODE) one load of the table the zonelist rebuild
 * keeps; else the first two entries of the zonelist. NULL when the
 * general path must look further. */
static inline __attribute__((always_inline)) struct za_pcp *
fast_pcp(const struct za *za, int nid, za_gfp_t gfp, int cpu, int hz)
{
	if (likely(nid < 0 && !(gfp & ZA___GFP_THISNODE)))
		return za_load_relaxed(&za->cpu_pcp[cpu * ZA_CPU_PCP_STRIDE + hz]);
	if (unlikely((unsigned)nid >= za->nr_nodes))
		return NULL;
	struct za_zoneref *zl =
	    za->nodes[nid].zonelist[(gfp & ZA___GFP_THISNODE) ? 1 : 0];
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
	             za_load_relaxed(&za->nofast)))
		return NULL;
	int hz = (int)(cls & 0xf);
	struct za_pcp *pcp = fast_pcp(za, nid, gfp, cpu, hz);
	if (unlikely(!pcp))
		return NULL;
	if (nid < 0)
		nid = za->cpu_node[cpu];
	struct za_zone *z = pcp->zone;
	if (unlikely(!zone_fast_ok(z, hz)))
		return NULL;
	int mt = (int)(cls >> 4);
	int idx = pcp_list_index(za, order, mt);
	if (unlikely(!pcp_fast_own(za, pcp, cpu, rs)))
		return NULL;
	struct za_page *page = NULL;
	if (likely(!za_load_relaxed(&pcp->flags) && pcp->lists[idx] != ZA_NIL)) {
		page = pcp_pop_locked(za, z, pcp, order, mt, idx);
		if (likely(page))
			count_numa(za, z, pcp, nid, cpu, 1);
	}
	pcp_own_release(za, pcp);
	if (unlikely(!page))
		pcp_report_corrupt(za, pcp);
	return page;
}

/* Requests the restartable fast path leaves to alloc_pages_slow at once,
 * tested with one instruction at the entry: unknown bits (reported by
 * the general path), zeroing, and THISNODE (its zonelist: the locked fast
 * path's work). */
#define GFP_NOT_FAST (~ZA_GFP_ALL_BITS | ZA___GFP_ZERO | ZA___GFP_THISNODE)

/* zone_watermark_ok's test (b) for an order-k request at the low mark
 * (alloc_fast_mid says why the fast paths of orders 4..9 keep it). */
static inline bool zone_has_block_of(const struct za *za,
                                     const struct za_zone *z, unsigned order);

/* The restartable fast path of za_alloc_pages: a leaf function's worth of
 * code with no call on any path, so that it needs no registers saved and
 * no frame. It takes the common case only - the current CPU's node, a
 * list with a block whose head is clean, the zone clearly above low - and
 * leaves everything else, untouched, to alloc_pages_slow (which also
 * reports and cuts a list head that a racing double free spoilt). The
 * statistics are those of pcp_pop_locked and count_numa.
 *
 * big (a constant): orders 0..3 when false; when true, orders 4..9 (those
 * with per-CPU lists), with the tests and counts of alloc_fast_mid: its
 * watermark bit (fast_ok_pb, clear while a boost is owed), a free block
 * of the order somewhere in the zone, the pages of orders 4..8
 * (mid_pages), and PGALLOC in pages beside one NUMA hit and local. */
static inline __attribute__((always_inline)) struct za_page *
alloc_fast_rseq(struct za *za, za_gfp_t gfp, unsigned order, bool big)
{
	/* Orders 0..3 are the small leaf's; alloc_pages_big calls this one
	 * for the orders above only. */
	if (big)
		ZA_ASSUME(order > ZA_PCP_SMALL_ORDER);
	za_rseq_leaf_t rs = za_rseq_leaf();
	/* cpu_id_start: always a possible CPU number (0 before the thread
	 * registers), which za.rseq_pcp has a row for; the sequence then
	 * checks that the thread still runs there (cpu_id). */
	unsigned cpu = za_rseq_leaf_cpu_start(rs);
	/* The set, the zone type and the list's type in one entry. Neither
	 * an order above max_order (at most ZA_PCP_SMALL_ORDER here) nor a
	 * bad request needs a test of its own: the list of such an order
	 * never has a block, and a bad request's entry is dead_pcp with no
	 * watermark bit, which the watermark test below refuses - as are the
	 * entries of a CPU with no set and of a zone on another node (left
	 * to alloc_fast, whose NUMA count tells the cases apart: here every
	 * allocation is a hit and local). The slow path reports the bad.
	 * Orders 0..3 read the table through rseq_pcp_gated: every entry is
	 * dead_pcp while the allocation's gate is closed (locked sets, a
	 * debugging aid, fault injection armed), so the gate needs no test
	 * here. */
	const uintptr_t *tab = big ? za->rseq_pcp
	                           : za_load_relaxed(&za->rseq_pcp_gated);
	uintptr_t e = za_load_relaxed(&tab[(size_t)cpu * 16 + (gfp & 0xf)]);
	struct za_pcp *pcp = (struct za_pcp *)(e & ~(uintptr_t)RSEQ_PCP_TAGS);
	unsigned idx;
	if (big) {
		/* An order with lists (pcp_order: none above the pageblock
		 * order, which za_create keeps within max_order), the fast
		 * path of orders 4..9 not switched off (the gate covers every
		 * other bit of nofast), and the zone's state as alloc_fast_mid
		 * tests it: the entry's fast_ok bit against fast_ok_pb (a
		 * dead set's zone is zone id 0's, and its entry has no bit). */
		if (unlikely(!pcp_order(za, order) || za_load_relaxed(&za->nofast)))
			return NULL;
		idx = (unsigned)pcp_list_index(za, order, (int)(e & RSEQ_PCP_MT));
		const struct za_zone *z = pcp->zone;
		if (unlikely(!(za_load_relaxed(&z->fast_ok_pb) & (uint8_t)e) ||
		             !zone_has_block_of(za, z, order)))
			return NULL;
	} else {
		/* zone_fast_ok: the entry's fast_ok bit against the set's
		 * copy of the zone's byte (the type bits below it are never
		 * set in fast_ok); an entry of dead_pcp has no bit. */
		if (unlikely(!za_any8_relaxed(&pcp->fast_ok, (uint8_t)e)))
			return NULL;
		idx = order * ZA_NR_PCPTYPES + (unsigned)(e & RSEQ_PCP_MT);
	}
	/* Flagged (switched off, new sizes to pick up): the slow path's. A
	 * set that is switched off has empty lists anyway (drained after the
	 * flag was set, nothing pushed since); the test, in the sequence,
	 * keeps that from being the only guard. */
	if (unlikely(!za_rseq_own_clear(&pcp->own.word, (int)cpu, rs)))
		return NULL;
	za_witness_acquire(ZA_RANK_PCP, "pcp (owner)");
	uint32_t h = pcp->lists[idx];
	/* The checks of pcp_take_locked; a head that fails them is left for
	 * the slow path to cut and report. */
	ZA_ASSERT(pcp->cpu == cpu);
	if (unlikely(h == ZA_NIL))
		goto refuse;
	/* The address after the test of h, so that the compiler tests h
	 * where it loaded it (no copy kept for the test). */
	struct za_page *page = pfn_page(za, h);
	if (unlikely(!pcp_head_ok_on(page, (int)cpu)))
		goto refuse;
	ZA_ASSERT(page_mt(page) == (int)(idx % ZA_NR_PCPTYPES) &&
	          page_order(page) == order);
	/* The page's two stores side by side, then the set's: the list
	 * head is the owner's alone (remote users stop the set and wait for
	 * the release below), so it may follow the state. Measured: the
	 * pair 2 % faster so on an Intel host (PERFORMANCE.md). */
	page->gen++;
	set_page_state(page, ZA_PS_ALLOC);
	pcp->lists[idx] = page->next;
	/* za.order_pages: the block's pages in one load. */
	za_sub_single_writer(&pcp->count,
	                     big ? 1 << order : za->order_pages[order]);
	if (big) {
		/* pcp_take_locked's mid_pages, pcp_count_alloc_locked's
		 * PGALLOC and count_numa's common case (the request prefers
		 * the CPU's node; every zone of rseq_pcp is on it). */
		if (pcp_mid_order(za, order))
			za_store_relaxed(&pcp->mid_pages, pcp->mid_pages - (1 << order));
		event_pcp_locked(pcp, ZA_PGALLOC, 1ul << order);
		za_inc_single_writer(&pcp->numa_hit_local, 1);
	} else {
		/* PGALLOC, and a NUMA hit and local (count_numa's common
		 * case: the request prefers the CPU's node, and the zone is
		 * on it, as every zone of rseq_pcp is), in one count (struct
		 * za_pcp, fast_alloc). */
		za_inc_single_writer(&pcp->fast_alloc[order], 1);
	}
	pcp_own_release_rseq(pcp);
	return page;
refuse:
	pcp_own_release_rseq(pcp);
	return NULL;
}

static struct za_page *alloc_fast_mid(struct za *za, int nid, za_gfp_t gfp,
                                      unsigned order);

/* Everything but the restartable fast path: the locked fast path (for a
 * zeroing request too, which the restartable one leaves: the zeroing is
 * no leaf's work), then the general one. site: the return address of the
 * public call, for the debugging aids (fetched on the way here only), or
 * the bulk call's. */
__attribute__((noinline)) struct za_page *
alloc_pages_slow(struct za *za, int nid, za_gfp_t gfp, unsigned order,
                 const void *site)
{
	if (likely(za && order <= ZA_PCP_SMALL_ORDER &&
	           !(gfp & ~ZA_GFP_ALL_BITS))) {
		struct za_page *page = alloc_fast(za, nid, gfp, order);
		if (likely(page)) {
			if (gfp & ZA___GFP_ZERO)
				zero_block(za, page, order);
			return page;
		}
	}
	if (za && order > ZA_PCP_SMALL_ORDER) { /* orders 4..9, at the end */
		struct za_page *page = alloc_fast_mid(za, nid, gfp, order);
		if (likely(page))
			return page;
	}
	return alloc_general(za, nid, gfp, order, SLOW_SITE(site));
}

/* za_alloc_pages of orders above 3 for the CPU's own node: the
 * restartable fast path of orders 4..9, then the general path (the
 * locked fast paths would only repeat its tests). Out of line, so that
 * the common allocation carries none of it; site as alloc_pages_slow's. */
static __attribute__((noinline)) struct za_page *
alloc_pages_big(struct za *za, za_gfp_t gfp, unsigned order, const void *site)
{
	if (unlikely(!za_load_relaxed(&za->rseq_alloc_gate)))
		return alloc_pages_slow(za, -1, gfp, order, SLOW_SITE(site));
	struct za_page *page = alloc_fast_rseq(za, gfp, order, true);
	if (likely(page))
		return page;
	return alloc_general(za, -1, gfp, order, SLOW_SITE(site));
}

struct za_page *za_alloc_pages_node(struct za *za, int nid, za_gfp_t gfp,
                                    unsigned order)
{
	/* -1 is the only negative node id (the current CPU's node). */
	if (unlikely(nid < -1)) {
		errno = EINVAL;
		return NULL;
	}
	if (nid < 0 && likely(za && !(gfp & GFP_NOT_FAST))) {
		if (unlikely(order > ZA_PCP_SMALL_ORDER))
			return alloc_pages_big(za, gfp, order, ENTRY_SITE());
		struct za_page *page = alloc_fast_rseq(za, gfp, order, false);
		if (likely(page))
			return page;
	}
	return alloc_pages_slow(za, nid, gfp, order, ENTRY_SITE());
}

struct za_page *za_alloc_pages(struct za *za, za_gfp_t gfp, unsigned order)
{
	if (likely(za && !(gfp & GFP_NOT_FAST))) {
		if (unlikely(order > ZA_PCP_SMALL_ORDER))
			return alloc_pages_big(za, gfp, order, ENTRY_SITE());
		struct za_page *page = alloc_fast_rseq(za, gfp, order, false);
		if (likely(page))
			return page;
	}
	return alloc_pages_slow(za, -1, gfp, order, ENTRY_SITE());
}

/* The restartable fast path of za_free_pages, a leaf as alloc_fast_rseq:
 * a block of a pageblock that is not isolated, onto the current CPU's
 * list while it stays below high. The block is checked (the pointer, its
 * order) and, with the set owned, checked and claimed: allocated to
 * on-the-list in one step (by compare-and-swap when strict, a constant:
 * za_free_pages inlines one copy for each kind of free, so that neither
 * carries the other's registers). False, with nothing changed, for
 * everything else: free_pages_slow then does it, and reports misuse.
 *
 * big (a constant too): orders 0..3 when false; when true, the orders
 * above with per-CPU lists (4..8 under the set's byte budget, and the
 * pageblock order), which pcp_free would take: the same steps, plus
 * pcp_mid_room_locked's two tests (a block whose buddy is free goes to
 * the buddy lists to merge, unless its list is empty; a free past the
 * budget goes to the slow path, which gives blocks back first) and the
 * counts of pcp_push_locked and pcp_count_alloc_locked. */
static inline __attribute__((always_inline)) bool
free_fast_rseq(struct za *za, struct za_page *page, unsigned order,
               bool strict, bool big)
{
	/* Orders 0..3 are the small leaf's (free_pages_big, free_pages_strict
	 * call this one for the orders above only). */
	if (big)
		ZA_ASSUME(order > ZA_PCP_SMALL_ORDER);
	za_rseq_leaf_t rs = za_rseq_leaf();
	/* cpu_id_start, as the allocation: a possible CPU number, which
	 * rseq_free_row has a row for; the sequence checks cpu_id. */
	unsigned cpu = za_rseq_leaf_cpu_start(rs);
	if (big ? unlikely(!pcp_order(za, order))
	        : unlikely(order > ZA_PCP_SMALL_ORDER))
		return false;
	/* The pointer: the index of an entry of the metadata array, below
	 * max_pfn - or below 0, which nothing passes, while the gate of
	 * orders 0..3 is not ZA_RSEQ_FREE_PLAIN (rseq_free_pfns), tested
	 * first so that a closed gate costs the other modes little. */
	unsigned long pfn = page_ptr_rot(za, page);
	if (unlikely(!za_below_relaxed(pfn, (strict || big)
	                                        ? &za->max_pfn
	                                        : &za->rseq_free_pfns)))
		return false;
	/* The CPU's row: its set of zone id 0; dead_pcp for a CPU number
	 * with no set, whose sets (one a zone) the sequence below refuses. */
	char *row = za->rseq_free_row[cpu];
	/* The pageblock's type, before anything of the page is read: below
	 * ZA_NR_PCPTYPES the metadata is readable (a pageblock never online
	 * reads ISOLATE, memmap_init; once committed, metadata stays so,
	 * memmap_offline_range), so that no test of the memory section is
	 * needed here. An offline block's metadata reads as zero or as it was
	 * left: nothing there is an allocated block's, and the claim below
	 * fails. The acquire pairs with the memmap's commit before the type
	 * is set (a plain load on x86). Isolated or reserved pageblocks:
	 * pcp_free_mt's cases, for the slow path. */
	unsigned mt = za_load_acquire(&za->pb_mt[pfn >> za->pageblock_order]);
	if (unlikely(mt >= ZA_NR_PCPTYPES))
		return false;
	ZA_YIELD_POINT(za); /* the block may go offline from here on */
	bool mid = big && pcp_mid_order(za, order);
	/* The set of the page's zone on this CPU: za_pcp_of without its
	 * multiply by nr_cpus. */
	struct za_pcp *pcp = (struct za_pcp *)(row +
	                                       page->zone_id * za->pcp_zone_bytes);
	ZA_ASSERT(pcp == (cpu < za->nr_cpus
	                      ? za_pcp_of(za, page->zone_id, (int)cpu)
	                      : za_pcp_dead(za, page->zone_id)));
	size_t idx = big ? (size_t)pcp_list_index(za, order, (int)mt)
	                 : (size_t)order * ZA_NR_PCPTYPES + mt;
	/* A flagged set (switched off, new sizes): the slow path's. */
	if (unlikely(!za_rseq_own_clear(&pcp->own.word, (int)cpu, rs)))
		return false;
	za_witness_acquire(ZA_RANK_PCP, "pcp (owner)");
	int count = pcp->count + (big ? 1 << order : za->order_pages[order]);
	if (unlikely(count >= pcp->high))
		goto no;
	/* Orders 4..8: within the budget, or the slow path gives back; and
	 * not a block that should merge with its free buddy (the buddy is
	 * in the block's pageblock, whose metadata the type above says is
	 * readable). pcp_mid_room_locked's two tests. */
	if (mid && (pcp->mid_pages + (1 << order) > pcp_mid_budget(za, pcp) ||
	            pcp_mid_merges(za, pcp, pfn, order, idx)))
		goto no;
	/* Claim it where nobody on this CPU can come between the check and
	 * the claim: a free of it racing ours on another CPU is caught when
	 * the block comes up a second time (pcp_take_locked), or at once by
	 * the compare-and-swap of strict frees. */
	/* The hand-out count before the order and the state (claim_free
	 * says why). */
	uint8_t gen = za_load_acquire(&page->gen);
	if (unlikely(!za_eq8_relaxed(&page->order, (uint8_t)order)))
		goto no;
	if (strict) {
		uint8_t st = ZA_PS_ALLOC;
		if (unlikely(!za_cas_acqrel(&page->state, &st, ZA_PS_PCP)))
			goto no;
	} else if (unlikely(!za_eq8_acquire(&page->state, ZA_PS_ALLOC))) {
		goto no;
	} else {
		ZA_DEBUG_POINT(za, ZA_DP_FREE_CLAIM, page);
	}
	/* The list's type (an allocated block holds the type it was asked
	 * for): a store, in a line written here anyway. */
	za_store_relaxed(&page->mt, (uint8_t)mt);
	ZA_ASSERT(pcp->cpu == (int)cpu);
	page->pcp_cpu = (uint16_t)cpu;
	page->free_gen = gen;
	page->next = pcp->lists[idx];
	set_page_state(page, ZA_PS_PCP);
	pcp->lists[idx] = (uint32_t)pfn;
	za_store_relaxed(&pcp->count, count);
	if (big) {
		if (mid)
			za_store_relaxed(&pcp->mid_pages, pcp->mid_pages + (1 << order));
		event_pcp_locked(pcp, ZA_PGFREE, 1ul << order);
	} else {
		za_inc_single_writer(&pcp->fast_free[order], 1); /* PGFREE */
	}
	pcp_own_release_rseq(pcp);
	return true;
no:
	pcp_own_release_rseq(pcp);
	return false;
}

/* za_free_pages with strict frees: out of line, so that the common one
 * stays a leaf that saves no register. site as free_pages_slow's. */
static __attribute__((noinline)) void free_pages_strict(struct za *za,
                                                        struct za_page *page,
                                                        unsigned order,
                                                        const void *site)
{
	bool done = order > ZA_PCP_SMALL_ORDER
	                ? free_fast_rseq(za, page, order, true, true)
	                : free_fast_rseq(za, page, order, true, false);
	if (!done)
		free_pages_slow(za, page, order, SLOW_SITE(site));
}

/* za_free_pages of orders above 3: out of line, as free_pages_strict, so
 * that the common free carries none of it. */
static __attribute__((noinline)) void free_pages_big(struct za *za,
                                                     struct za_page *page,
                                                     unsigned order,
                                                     const void *site)
{
	unsigned gate = za_load_relaxed(&za->rseq_free_gate);
	if (likely(gate == ZA_RSEQ_FREE_PLAIN)) {
		if (free_fast_rseq(za, page, order, false, true))
			return;
	} else if (gate == ZA_RSEQ_FREE_STRICT) {
		free_pages_strict(za, page, order, SLOW_SITE(site));
		return;
	}
	free_pages_slow(za, page, order, SLOW_SITE(site));
}

void za_free_pages(struct za *za, struct za_page *page, unsigned order)
{
	/* A NULL page needs no test here: below the metadata array, it fails
	 * the pointer check, and free_pages_slow ignores it. The leaf needs
	 * no test of the gate either: a closed one gives it a bound no
	 * pointer passes (rseq_free_pfns), and strict frees go their way
	 * after it. */
	if (likely(za)) {
		if (unlikely(order > ZA_PCP_SMALL_ORDER)) {
			free_pages_big(za, page, order, ENTRY_SITE());
			return;
		}
		if (likely(free_fast_rseq(za, page, order, false, false)))
			return;
		if (za_load_relaxed(&za->rseq_free_gate) == ZA_RSEQ_FREE_STRICT) {
			free_pages_strict(za, page, order, ENTRY_SITE());
			return;
		}
	}
	free_pages_slow(za, page, order, ENTRY_SITE());
}

/* --- orders 4..9 -------------------------------------------------------------
 * Blocks of orders 4..8 (pcp.c, "orders 4..8") and of the pageblock order
 * sit on per-CPU lists too, but the restartable fast path takes orders
 * 0..3 only. Before this path, every such allocation went through
 * alloc_general: the request checked again, init_ctx, the zonelist walk,
 * the full high-order watermark check (zone_watermark_ok, out of line),
 * a try-lock of the set in rmqueue, and the NUMA counts on the zone's
 * shared counters (two locked additions): about half of the `mixed`
 * benchmark's time on one thread went there, for a sixth of its
 * allocations (docs/PERFORMANCE.md, "A fast path for orders 4..9").
 *
 * alloc_fast_mid takes the common case the way alloc_fast takes that of
 * orders 0..3, in either mode (pcp_fast_own): a plain request for the
 * current CPU's set of the first zone it may use, whose list has a block,
 * when the zone is safely above its low mark for the order. Anything
 * else (an empty list, which the general path splits or refills; a
 * stopped, busy or switched-off set; a debugging aid; a zone near its
 * marks) goes on to alloc_general unchanged.
 *
 * The watermark. The general path's first try (get_page_from_freelist
 * at ALLOC_WMARK_LOW, zone_watermark_ok) passes a zone for an order-k
 * request when
 *  (a) the free-page count, less 2^k - 1 and less the high-order atomic
 *      reserve, is above the low mark plus the lowmem reserve against
 *      the request's highest zone (the count is the global value, or the
 *      snapshot below the drift mark), and
 *  (b) the buddy lists hold a free block of order k or more of a type the
 *      request may take (unmovable, movable, reclaimable: no atomic
 *      reserve at that try).
 * (a) is za_zone.fast_ok_pb: the zone clearly above low plus the reserve
 * for a block of the pageblock order (at least 2^k), and at or above the
 * drift mark, where the global value is what the general check reads.
 * The count leaves out what the per-CPU lists hold (a refill takes the
 * pages out of it), so taking the block off the list changes it no more
 * on this path than on the general one.
 * (b) is zone_has_block_of. The block handed out here is not on the
 * buddy lists, so the test is not needed for this allocation to
 * succeed; it is kept because it is what says that the zone's free
 * memory is not all fragments too small for the order. Without it, a CPU
 * would go on handing out its cached blocks of an order the zone can no
 * longer form, where the general path refuses (WMARK_FAIL) and sends the
 * request to the slow path, which wakes kswapd and compacts for that
 * order: a zone fragmented for the order is noticed at the same request
 * as before, and this path never takes a block the general path would
 * refuse. It costs a load or three in the common case (read from the top
 * order down: a zone with free memory almost always has a free block of
 * the largest order).
 *
 * The statistics are the general path's: pcp_pop_locked counts PGALLOC
 * (the pages) and mid_pages, the list's count moves the allocated pages
 * (struct za_pcp, alloc_base), count_numa the NUMA events (on the owned
 * set instead of the zone: readers add both, pcp_event). A boost's wake
 * owed to kswapd (boost_wake), which the general path delivers after an
 * allocation, clears fast_ok_pb with fast_ok (zone_fast_mask): no test
 * of its own here. */

/* zone_watermark_ok's test (b) for an order-k request at the low mark:
 * a free block of order k or more on the lists of the types the per-CPU
 * lists serve. nr_free is read without the zone lock, as that check
 * reads it. */
static inline bool zone_has_block_of(const struct za *za,
                                     const struct za_zone *z, unsigned order)
{
	for (unsigned o = za->max_order; o >= order; o--) /* order >= 4 */
		for (int mt = 0; mt < ZA_NR_PCPTYPES; mt++)
			if (za_load_relaxed(&z->nr_free[o][mt]))
				return true;
	return false;
}

/* An allocation of order 4..9 off the current CPU's list, as the comment
 * above says; zeroed when asked. NULL, with nothing changed, for
 * everything it leaves to alloc_general. */
static __attribute__((noinline)) struct za_page *
alloc_fast_mid(struct za *za, int nid, za_gfp_t gfp, unsigned order)
{
	struct rseq *rs;
	int cpu = pcp_fast_cpu(za, &rs);
	unsigned cls = gfp_class(gfp);
	if (unlikely(cpu < 0 || order > za->max_order || !pcp_order(za, order) ||
	             cls == GFP_CLASS_BAD || (gfp & ~ZA_GFP_ALL_BITS) ||
	             za_load_relaxed(&za->nofast)))
		return NULL;
	int hz = (int)(cls & 0xf);
	struct za_pcp *pcp = fast_pcp(za, nid, gfp, cpu, hz);
	if (unlikely(!pcp))
		return NULL;
	struct za_zone *z = pcp->zone;
	if (unlikely(!(za_load_relaxed(&z->fast_ok_pb) & ZONE_FAST_OK_BIT(hz)) ||
	             !zone_has_block_of(za, z, order)))
		return NULL;
	/* The node the request prefers, for the NUMA counts. */
	int pref_nid = nid < 0 ? za->cpu_node[cpu] : nid;
	int mt = (int)(cls >> 4);
	int idx = pcp_list_index(za, order, mt);
	if (unlikely(!pcp_fast_own(za, pcp, cpu, rs)))
		return NULL;
	struct za_page *page = NULL;
	if (likely(!za_load_relaxed(&pcp->flags) && pcp->lists[idx] != ZA_NIL)) {
		page = pcp_pop_locked(za, z, pcp, order, mt, idx);
		if (likely(page))
			count_numa(za, z, pcp, pref_nid, cpu, 1);
	}
	pcp_own_release(za, pcp);
	if (unlikely(!page)) {
		pcp_report_corrupt(za, pcp);
		return NULL;
	}
	if (gfp & ZA___GFP_ZERO)
		zero_block(za, page, order);
	return page;
}
