/*
 * memory_hotplug.c - memory coming online and going offline, in whole
 * blocks, while allocations run.
 *
 * Online: commit the block's metadata, grow the zone, count the pages free
 * as lazy blocks (their metadata is initialised when the zone first needs
 * them, buddy.c), recompute watermarks and pcp sizes, and rebuild the
 * zonelists if the zone was empty. Nothing here runs once per page.
 * Offline: isolate the range's pageblocks, disable the zone's per-CPU
 * lists and drain them once, migrate every in-use movable block out, check
 * that the range is all free and isolated, take it out of the zone, and
 * rebuild the zonelists if the zone is now empty; then re-enable the
 * per-CPU lists. Unmovable pages fail it at once (-EBUSY), a deadline fails
 * it (-EAGAIN), and a failure leaves the range online and usable as it was.
 * One hotplug operation runs at a time (mem_hotplug_lock); allocations
 * never take that lock.
 *
 * NUMA (libnuma builds): the memory of a block with a base, on an
 * allocator of more than one node, is given a preference for the host
 * node numbered as its node, when the host has that node; offline (and
 * za_destroy, for what is still online) gives it the default policy
 * back. See backing_bind.
 */
#include "internal.h"

/* The memory stays the client's (DESIGN.md, "Backing"): the allocator
 * only says where its pages should best come from, where that means
 * something, and takes it back when the memory leaves it.
 *  - Only with more than one node: a one-node allocator's node 0 names
 *    no host node, and its memory keeps the policy the client gave it.
 *  - Only where the host has that node (za_os_bind_node: -ENOENT else):
 *    node ids are the allocator's topology, which may be simulated.
 *  - A preference (MPOL_PREFERRED), never a strict bind: a fault in the
 *    client's memory must not fail because one host node is full.
 *  - Block by block, recorded in the section (bound), so that offline
 *    and za_destroy undo exactly what online did. Caller holds
 *    mem_hotplug_lock. */
static void backing_bind(struct za *za, unsigned long start, unsigned long nr,
                         int nid)
{
	size_t bytes = (size_t)za->block_pages << za->page_shift;
	if (za->nr_nodes < 2)
		return;
	for (unsigned long pfn = start; pfn < start + nr; pfn += za->block_pages) {
		struct za_section *sec = pfn_section(za, pfn);
		sec->bound = sec->base && !za_os_bind_node(sec->base, bytes, nid);
	}
}

void backing_unbind(struct za *za, unsigned long start, unsigned long nr)
{
	size_t bytes = (size_t)za->block_pages << za->page_shift;
	for (unsigned long pfn = start; pfn < start + nr; pfn += za->block_pages) {
		struct za_section *sec = pfn_section(za, pfn);
		if (!sec->bound)
			continue;
		(void)za_os_unbind_node(sec->base, bytes);
		sec->bound = 0;
	}
}

/* Whether the block at pfn is online in zone z. */
static bool zone_block_online(const struct za *za, const struct za_zone *z,
                              unsigned long pfn)
{
	const struct za_section *sec = pfn_section(za, pfn);
	return za_load_relaxed(&sec->online) && sec->zone_id == z->id;
}

/* The span of zone z once [start, end) has left it (its sections read
 * offline already), in *lo and *hi; 0, 0 when nothing is left. As the
 * kernel shrinks a zone's span: a range that is not at an end of the span
 * leaves it as it was, and one at an end moves that end inward to the
 * next block of the zone, looking at the zone's span only. The walk runs
 * without the zone lock: the section table is written under
 * mem_hotplug_lock alone, which the caller holds, and a walk over the
 * whole allocator (4 million sections for 2^32 frames of 4 MiB blocks:
 * 11 ms) under the zone lock stalled every allocation of the zone for
 * as long (review 12, finding 1). The caller stores the result under the
 * zone lock. */
static void shrunk_span(struct za *za, struct za_zone *z, unsigned long start,
                        unsigned long end, unsigned long *lo,
                        unsigned long *hi)
{
	mem_hotplug_assert_held(za);
	ZA_DEBUG_POINT(za, ZA_DP_SPAN_SHRINK, z);
	unsigned long l = za_load_relaxed(&z->start_pfn);
	unsigned long h = za_load_relaxed(&z->end_pfn);
	if (start == l)
		while (l < h && !zone_block_online(za, z, l))
			l += za->block_pages;
	if (end == h)
		while (h > l && !zone_block_online(za, z, h - za->block_pages))
			h -= za->block_pages;
	if (l == h)
		l = h = 0;
	*lo = l;
	*hi = h;
}

int za_memory_online(struct za *za, int nid, enum za_zone_type zone,
                     unsigned long start_pfn, unsigned long nr_pages,
                     void *base)
{
	if (!za || nid < 0 || (unsigned)nid >= za->nr_nodes ||
	    (unsigned)zone >= ZA_NR_ZONES || !nr_pages ||
	    (start_pfn & (za->block_pages - 1)) ||
	    (nr_pages & (za->block_pages - 1)) || start_pfn >= za->max_pfn ||
	    nr_pages > za->max_pfn - start_pfn)
		return -EINVAL;

	/* Poisoning needs memory to write the pattern into. */
	if (!base && (za->flags & ZA_CFG_POISON))
		return -EINVAL;
	/* From a callback that runs under the lock (migrate). */
	if (mem_hotplug_held_by_me(za))
		return -EDEADLK;

	struct za_zone *z = &za->nodes[nid].zones[zone];
	bool any;
	mem_hotplug_lock(za);
	memmap_range_online(za, start_pfn, nr_pages, &any);
	int err = any ? -EEXIST : base ? vrun_check(za, base, nr_pages) : 0;
	if (err) {
		mem_hotplug_unlock(za);
		return err;
	}
	err = memmap_online_range(za, start_pfn, nr_pages, z, base);
	if (err) {
		mem_hotplug_unlock(za);
		return err;
	}
	if (base) {
		vrun_add(za, start_pfn, nr_pages, base);
		backing_bind(za, start_pfn, nr_pages, nid);
	}
	bool was_empty = !zone_populated(z);

	zone_lock(z, NULL);
	/* Growing: no need to look at every block of the allocator. */
	unsigned long lo = start_pfn, hi = start_pfn + nr_pages;
	if (!was_empty && z->end_pfn) {
		if (z->start_pfn < lo)
			lo = z->start_pfn;
		if (z->end_pfn > hi)
			hi = z->end_pfn;
	}
	zone_span_write_locked(z, lo, hi, z->present_pages + nr_pages);
	zone_unlock(z);
	/* Free, but lazily: the metadata of a block is written when the zone
	 * first needs one of its pages (buddy.c). */
	buddy_add_lazy_range(z, start_pfn, nr_pages);
	/* Managed last: a zone becomes populated when its pages are there. */
	za_add_relaxed(&z->managed_pages, nr_pages);

	tunables_update(za, TUNABLES_MEMORY);
	if (was_empty)
		build_all_zonelists(za);
	mem_hotplug_unlock(za);
	return 0;
}

int za_memory_offline(struct za *za, unsigned long start_pfn,
                      unsigned long nr_pages)
{
	if (!za || !nr_pages || (start_pfn & (za->block_pages - 1)) ||
	    (nr_pages & (za->block_pages - 1)) || start_pfn >= za->max_pfn ||
	    nr_pages > za->max_pfn - start_pfn)
		return -EINVAL;
	if (mem_hotplug_held_by_me(za))
		return -EDEADLK;

	bool any;
	mem_hotplug_lock(za);
	if (!memmap_range_online(za, start_pfn, nr_pages, &any)) {
		mem_hotplug_unlock(za);
		return -ENOENT;
	}
	/* One zone per operation. */
	uint8_t zid = pfn_section(za, start_pfn)->zone_id;
	for (unsigned long p = start_pfn; p < start_pfn + nr_pages;
	     p += za->block_pages) {
		if (pfn_section(za, p)->zone_id != zid) {
			mem_hotplug_unlock(za);
			return -EINVAL;
		}
	}
	struct za_zone *z = za->zone_by_id[zid];
	unsigned long migrated = 0;
	uint64_t deadline = za_now_ns() +
	                    (uint64_t)za->offline_timeout_ms * ZA_NSEC_PER_MSEC;
	/* Memory never needed since it came online goes at once; anything
	 * else through isolation and migration. */
	int err = buddy_take_lazy_range(z, start_pfn, nr_pages)
	              ? 0
	              : take_range(za, z, start_pfn, nr_pages, deadline, &migrated,
	                           0);
	if (err) {
		event_zone(z, ZA_OFFLINE_FAIL, 1);
		mem_hotplug_unlock(za);
		return err;
	}

	za_store_relaxed(&z->managed_pages, z->managed_pages - nr_pages);
	vrun_remove(za, start_pfn, nr_pages);
	/* The memory is the client's again, with the policy it came with. */
	backing_unbind(za, start_pfn, nr_pages);
	if (za_debug_aids_on(za))
		_za_debug_forget(za, start_pfn, nr_pages);
	memmap_offline_range(za, start_pfn, nr_pages);
	unsigned long lo, hi;
	shrunk_span(za, z, start_pfn, start_pfn + nr_pages, &lo, &hi);
	zone_lock(z, NULL);
	zone_span_write_locked(z, lo, hi, z->present_pages - nr_pages);
	zone_unlock(z);
	tunables_update(za, TUNABLES_MEMORY);
	if (!zone_populated(z)) {
		/* Nothing left to count: the CPUs' deltas, folded, leave
		 * the zone's counters at the 0 it has. */
		vmstat_fold_zone(za, z);
		build_all_zonelists(za);
	}
	event_zone(z, ZA_OFFLINE_OK, 1);
	mem_hotplug_unlock(za);
	return 0;
}
