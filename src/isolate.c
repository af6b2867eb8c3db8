/*
 * isolate.c - taking a range of memory away from allocation: pageblock
 * isolation, migration of the blocks in use, and the checks that the range
 * is wholly free. Memory offline and contiguous allocation share it.
 *
 * Ranges are whole max-order blocks, so no free block straddles a range
 * boundary. Isolation moves each free block of the range to the isolate
 * list as it is (order and reported mark kept, buddy.c); pages freed into
 * the range meanwhile merge there. Undoing it frees each block again with
 * the types its pageblocks get back - a pageblock at a time where a block
 * that grew while isolated spans differing types - so that a failed
 * operation leaves every pageblock's type, the high-order atomic reserve
 * and every reported mark as they were. Isolated free pages leave
 * NR_FREE_PAGES for NR_FREE_ISOLATED, so watermarks never count memory
 * that is going away.
 *
 * The caller holds mem_hotplug_lock.
 */
#include "internal.h"

/* Refile every free block in [start, end) whose list type is not what
 * its pageblock says now: onto the isolate list as it is, or off it and
 * freed with its pageblocks' types. */
static void refile_free_blocks_locked(struct za_zone *z, unsigned long start,
                                      unsigned long end, long *to_iso,
                                      long *from_iso)
{
	struct za *za = z->za;
	zone_assert_held(z);
	for (unsigned long pfn = start; pfn < end;) {
		struct za_page *p = pfn_page(za, pfn);
		int st = page_state(p);
		unsigned long n = page_scan_span(p, st);
		int mt = pageblock_mt(za, pfn);
		if (st == ZA_PS_BUDDY && page_mt(p) != mt) {
			if (mt == ZA_MT_ISOLATE) {
				buddy_move_locked(z, p, pfn, ZA_MT_ISOLATE);
				*to_iso += (long)n;
			} else {
				ZA_ASSERT_PAGE(za, p, page_mt(p) == ZA_MT_ISOLATE);
				buddy_unisolate_locked(z, p, pfn);
				*from_iso += (long)n;
			}
		}
		pfn += n;
	}
}

static void account_refile(struct za_zone *z, long to_iso, long from_iso)
{
	long d = to_iso - from_iso;
	if (d) {
		vmstat_mod(z, ZA_NR_FREE_PAGES, -d);
		vmstat_mod(z, ZA_NR_FREE_ISOLATED, d);
	}
}

/* Whether any in-use block of the range is one that cannot be migrated. */
static bool range_has_unmovable(struct za *za, unsigned long start,
                                unsigned long end)
{
	for (unsigned long pfn = start; pfn < end;) {
		struct za_page *p = pfn_page(za, pfn);
		int st = page_state(p);
		unsigned long n = page_scan_span(p, st);
		if (st == ZA_PS_OFFLINE ||
		    (n == 1 && st != ZA_PS_NONE && page_order(p) == ZA_CONTIG_ORDER))
			return true;
		if (st == ZA_PS_ALLOC && page_alloc_unmovable(p))
			return true;
		pfn += n;
	}
	return false;
}

int isolate_range(struct za *za, struct za_zone *z, unsigned long start,
                  unsigned long nr, uint8_t *saved)
{
	mem_hotplug_assert_held(za);
	unsigned long pb = 1ul << za->pageblock_order, end = start + nr;
	unsigned long chunk = 1ul << za->max_order;
	long to_iso = 0, from_iso = 0;

	/* Cheap refusal before anything changes: an unmovable block in use
	 * fails the whole operation at once. */
	if (range_has_unmovable(za, start, end))
		return -EBUSY;
	/* Isolation works on page metadata: initialise lazy blocks first
	 * (they stay initialised if the operation fails later; their pages
	 * are free either way). */
	buddy_materialize_range(z, start, nr);
	for (unsigned long c = start; c < end; c += chunk) {
		zone_lock(z, NULL);
		for (unsigned long p = c; p < c + chunk; p += pb) {
			saved[(p - start) / pb] = (uint8_t)pageblock_mt(za, p);
			set_pageblock_mt(za, p, ZA_MT_ISOLATE);
		}
		z->nr_isolate_pageblock += chunk / pb;
		refile_free_blocks_locked(z, c, c + chunk, &to_iso, &from_iso);
		zone_unlock(z);
	}
	account_refile(z, to_iso, from_iso);
	return 0;
}

void unisolate_range(struct za *za, struct za_zone *z, unsigned long start,
                     unsigned long nr, const uint8_t *saved)
{
	mem_hotplug_assert_held(za);
	unsigned long pb = 1ul << za->pageblock_order, end = start + nr;
	unsigned long chunk = 1ul << za->max_order;
	long to_iso = 0, from_iso = 0;
	for (unsigned long c = start; c < end; c += chunk) {
		zone_lock(z, NULL);
		for (unsigned long p = c; p < c + chunk; p += pb) {
			int mt = saved ? saved[(p - start) / pb] : ZA_MT_MOVABLE;
			if (mt == ZA_MT_ISOLATE)
				mt = ZA_MT_MOVABLE;
			set_pageblock_mt(za, p, mt);
		}
		z->nr_isolate_pageblock -= chunk / pb;
		refile_free_blocks_locked(z, c, c + chunk, &to_iso, &from_iso);
		zone_unlock(z);
	}
	account_refile(z, to_iso, from_iso);
}

bool range_all_free_isolated(struct za *za, struct za_zone *z,
                             unsigned long start, unsigned long nr)
{
	mem_hotplug_assert_held(za);
	bool ok = true;
	zone_lock(z, NULL);
	for (unsigned long pfn = start; pfn < start + nr;) {
		struct za_page *p = pfn_page(za, pfn);
		if (page_state(p) != ZA_PS_BUDDY || page_mt(p) != ZA_MT_ISOLATE) {
			ok = false;
			break;
		}
		pfn += 1ul << page_order(p);
	}
	zone_unlock(z);
	return ok;
}

/* Take the (all free, isolated) range off the lists for good. */
void take_range_off_lists(struct za *za, struct za_zone *z,
                          unsigned long start, unsigned long nr)
{
	mem_hotplug_assert_held(za);
	unsigned long chunk = 1ul << za->max_order;
	for (unsigned long c = start; c < start + nr; c += chunk) {
		zone_lock(z, NULL);
		for (unsigned long pfn = c; pfn < c + chunk;) {
			struct za_page *p = pfn_page(za, pfn);
			unsigned long n = 1ul << page_order(p);
			ZA_ASSERT_PAGE(za, p,
			               page_state(p) == ZA_PS_BUDDY &&
			                   page_mt(p) == ZA_MT_ISOLATE);
			buddy_del_locked(z, p, pfn);
			set_page_state(p, ZA_PS_OFFLINE);
			pfn += n;
		}
		zone_unlock(z);
	}
	vmstat_mod(z, ZA_NR_FREE_ISOLATED, -(long)nr);
}

/* Try to move every in-use block out of the range once. Returns 0 when a
 * pass found nothing left to move, -EBUSY for an unmovable block, or
 * -EAGAIN when something could not be moved this time. */
int migrate_range(struct za *za, unsigned long start, unsigned long nr,
                  uint64_t deadline_ns, unsigned long *migrated)
{
	mem_hotplug_assert_held(za);
	int ret = 0;
	unsigned checked = 0;
	for (unsigned long pfn = start; pfn < start + nr;) {
		/* A pass over a large range with a slow client can outlast the
		 * timeout: look at the clock every so often, not only between
		 * passes. */
		if (++checked % 64 == 0 && za_now_ns() > deadline_ns)
			return -EAGAIN;
		struct za_page *src = pfn_page(za, pfn);
		int st = page_state(src);
		unsigned long n = 1;
		if (st == ZA_PS_BUDDY || st == ZA_PS_PCP || st == ZA_PS_ALLOC ||
		    st == ZA_PS_FREEING) {
			unsigned o = za_load_relaxed(&src->order);
			if (o == ZA_CONTIG_ORDER)
				return -EBUSY;
			n = 1ul << o;
		}
		if (st != ZA_PS_ALLOC) {
			if (st == ZA_PS_FREEING || st == ZA_PS_PCP)
				ret = -EAGAIN; /* a free in flight: look again */
			pfn += n;
			continue;
		}
		unsigned order = za_load_relaxed(&src->order);
		if (page_alloc_unmovable(src))
			return -EBUSY;
		if (page_state(src) != ZA_PS_ALLOC || order == ZA_CONTIG_ORDER) {
			ret = -EAGAIN; /* freed while we looked */
			pfn += n;
			continue;
		}
		if (!za->migrate) {
			ret = -EAGAIN; /* only its owner can free it */
			pfn += n;
			continue;
		}
		const za_gfp_t gfp = ZA_GFP_MOVABLE | ZA_GFP_NORETRY | ZA_GFP_NOWARN;
		struct za_page *dst = za_alloc_pages_node(za,
		                                          zone_id_nid(src->zone_id),
		                                          gfp, order);
		if (!dst) {
			za_add_relaxed(&page_zone(za, src)->events[ZA_PGMIGRATE_FAIL],
			               1ul << order);
			ret = -EAGAIN;
			pfn += n;
			continue;
		}
		/* Page owner: dst carries the client's record of src. Before
		 * the call: once it returns the client may free dst at once
		 * (its frees are serialised against the callback, not against
		 * this thread afterwards), while src is still its block here. */
		unsigned long dpfn = page_pfn(za, dst);
		/* dst's hand-out count, ours: a refusal frees dst with it. */
		uint8_t dgen = za_load_acquire(&dst->gen);
		if (za->page_owner)
			_za_page_owner_migrate(za, dpfn, pfn, order,
			                       ZA_OWNER_MIGRATED_RANGE);
		za_witness_assert_callback("migrate");
		int r = za->migrate(za->migrate_ctx, dst, src, order);
		if (r == 0) {
			/* The client now owns dst; src is ours to free. The
			 * hand-out count before the claim, as a free reads it
			 * (claim_free), not before the call: the callback
			 * answers for whoever holds src when it runs. */
			uint8_t gen = za_load_acquire(&src->gen);
			uint8_t expect = ZA_PS_ALLOC;
			if (za_cas_acqrel(&src->state, &expect, ZA_PS_FREEING)) {
				/* Page owner records the move as a free here;
				 * poisoning fills what the client left. */
				if (za_debug_aids_on(za))
					_za_debug_free(za, pfn, 1ul << order,
					               (const void *)migrate_range);
				free_one_page(za, page_zone(za, src), src, pfn, order, -1,
				              gen);
			} else
				_za_report_misuse(za, -EINVAL,
				                  "pfn 0x%lx freed by its owner after the "
				                  "migrate callback moved it",
				                  pfn);
			(*migrated)++;
			za_add_relaxed(&page_zone(za, src)->events[ZA_PGMIGRATE_SUCCESS],
			               1ul << order); /* pages, as the kernel */
		} else {
			/* Not moved: dst is still ours, unless the callback freed
			 * it (a client bug: dst is the client's only on 0), and
			 * then it may be handed out again already - to the client
			 * itself, as a new block. A free by the count read above
			 * refuses that block instead of freeing it under its new
			 * owner, as za_free_pages would; the claim comes first, so
			 * that page owner's record is ours again only for a dst
			 * that is ours. */
			if (page_claim_cas(dst, dgen, (int)order, NULL) == PAGE_CLAIMED) {
				if (za->page_owner)
					_za_page_owner_alloc(za, dpfn, 1ul << order, order, gfp,
					                     -1, (const void *)migrate_range);
				if (za_debug_aids_on(za))
					_za_debug_free(za, dpfn, 1ul << order,
					               (const void *)migrate_range);
				free_one_page(za, page_zone(za, dst), dst, dpfn, order, -1,
				              dgen);
			} else {
				report_dst_freed_by_refuser(za, dpfn);
			}
			if (r != -ENOENT) {
				za_add_relaxed(&page_zone(za, src)->events[ZA_PGMIGRATE_FAIL],
				               1ul << order);
				ret = -EAGAIN;
			}
		}
		pfn += n;
	}
	return ret;
}

int take_range(struct za *za, struct za_zone *z, unsigned long start,
               unsigned long nr, uint64_t deadline_ns, unsigned long *migrated,
               unsigned idle_passes)
{
	mem_hotplug_assert_held(za);
	uint8_t *saved = za_meta_alloc(za, (nr >> za->pageblock_order) + 1, 1);
	int err;
	if (!saved)
		return -ENOMEM;
	err = isolate_range(za, z, start, nr, saved);
	if (err) {
		za_meta_free(za, saved);
		return err;
	}
	ZA_YIELD_POINT(za); /* between isolation and the drain */
	/* From here every free of this zone goes to the buddy lists, where
	 * the isolated pageblocks keep range pages off the normal lists: one
	 * drain is enough (seed 004). */
	err = pcp_zone_disable(za, z);
	if (err) {
		/* A fence failed: nothing was disabled; undo the isolation. */
		unisolate_range(za, z, start, nr, saved);
		za_meta_free(za, saved);
		return err;
	}
	ZA_DEBUG_POINT(za, ZA_DP_OFFLINE_DRAINED, z);
	for (unsigned idle = 0;;) {
		unsigned long moved = *migrated;
		int r = migrate_range(za, start, nr, deadline_ns, migrated);
		if (r == -EBUSY) {
			err = -EBUSY;
			break;
		}
		if (range_all_free_isolated(za, z, start, nr)) {
			err = 0;
			break;
		}
		if (za_now_ns() > deadline_ns) {
			err = -EAGAIN;
			break;
		}
		/* idle_passes passes in a row that moved nothing: the
		 * caller has other ranges to try first (contig.c). */
		idle = *migrated != moved ? 0 : idle + 1;
		if (idle_passes && idle >= idle_passes) {
			err = -EAGAIN;
			break;
		}
		za_sleep_ns(50000);
	}
	if (!err) {
		take_range_off_lists(za, z, start, nr);
		/* The range's pageblocks reserved for high-order atomic requests
		 * are gone from the zone (offline) or handed out (contig, whose
		 * free makes them MOVABLE): no longer reserved. */
		unsigned long reserved = 0;
		for (unsigned long i = 0; i < nr >> za->pageblock_order; i++)
			if (saved[i] == ZA_MT_HIGHATOMIC)
				reserved += 1ul << za->pageblock_order;
		zone_lock(z, NULL);
		z->nr_isolate_pageblock -= nr >> za->pageblock_order;
		if (reserved) {
			za_store_relaxed(&z->nr_reserved_highatomic,
			                 z->nr_reserved_highatomic - reserved);
			zone_fast_input_changed(z);
		}
		zone_unlock(z);
	} else {
		unisolate_range(za, z, start, nr, saved);
	}
	pcp_zone_enable(za, z);
	za_meta_free(za, saved);
	return err;
}
