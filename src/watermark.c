/*
 * watermark.c - watermarks and the checks against them.
 *
 * min_free_kbytes (by default sqrt(16 * lowmem KiB), clamped to
 * [128 KiB, 256 MiB]) is split across zones by size; low and high sit a
 * quarter of min, or 0.1% of the zone, above min and twice that. Each zone
 * also keeps a lowmem reserve against requests that could have used a
 * higher zone. The split, the scale factor and the reserve ratios are the
 * runtime tunables of sysctl.c (min_free_kbytes, watermark_scale_factor,
 * lowmem_reserve_ratio). The fast path checks low, the slow path min;
 * __GFP_HIGH halves min and atomic requests take a further quarter off,
 * which is their floor. Checks at min use the exact snapshot of the free
 * counter, checks at low the global value unless it is below the drift
 * mark.
 *
 * tunables_update is the one place that recomputes what derives from the
 * tunables and the machine: watermarks, lowmem reserves, page-set sizes
 * and statistics thresholds, for every zone, under tunables_lock. Memory
 * online and offline, CPU online and offline, reclaim pressure beginning
 * and ending and every sysctl write call it once their input changed.
 */
#include "internal.h"

static unsigned long isqrt(unsigned long x)
{
	unsigned long r = 0, b = 1ul << 62;
	while (b > x)
		b >>= 2;
	while (b) {
		if (x >= r + b) {
			x -= r + b;
			r = (r >> 1) + b;
		} else {
			r >>= 1;
		}
		b >>= 2;
	}
	return r;
}

/* Pages may be smaller than 1 KiB (page_shift 9). */
static unsigned long pages_to_kb(const struct za *za, unsigned long pages)
{
	return za->page_shift >= 10 ? pages << (za->page_shift - 10)
	                            : pages >> (10 - za->page_shift);
}
/* Saturates: a huge min_free_kbytes means "all of it", never a wrapped
 * small reserve. */
static unsigned long kb_to_pages(const struct za *za, unsigned long kb)
{
	if (za->page_shift >= 10)
		return kb >> (za->page_shift - 10);
	unsigned s = 10 - za->page_shift;
	return kb > (ULONG_MAX >> s) ? ULONG_MAX : kb << s;
}

/* Watermarks and lowmem reserves of every zone, from the managed pages
 * and the sysctls. */
static void setup_per_zone_wmarks_locked(struct za *za)
{
	unsigned long lowmem = 0;
	ZA_ASSERT(za_witness_held(ZA_RANK_TUNABLES));
	for_each_zone(za, z)
		if (z->type != ZA_ZONE_MOVABLE)
			lowmem += za_load_relaxed(&z->managed_pages);

	/* A value written at run time wins over the configured one, and
	 * both over the computed default; a written value stays across
	 * memory hotplug. */
	unsigned long mfk = za->min_free_kbytes_set ? za->min_free_kbytes_user
	                                            : za->min_free_kbytes_cfg;
	if (!mfk && !za->min_free_kbytes_set) {
		mfk = isqrt(pages_to_kb(za, lowmem) * 16);
		if (mfk < 128)
			mfk = 128;
		if (mfk > 262144)
			mfk = 262144;
	}
	za_store_relaxed(&za->min_free_kbytes, mfk);
	unsigned long pages_min = kb_to_pages(za, mfk);

	for (unsigned n = 0; n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &node->zones[t];
			unsigned long managed = za_load_relaxed(&z->managed_pages);
			unsigned long min;
			if (t == ZA_ZONE_MOVABLE) {
				/* The movable zone holds no kernel-style reserve:
				 * a small fixed floor, as highmem has. */
				min = managed / 1024;
				if (min < 32)
					min = 32;
				if (min > 128)
					min = 128;
				if (min > managed)
					min = managed;
			} else {
				min = lowmem ? (unsigned long)((unsigned __int128)pages_min *
				                               managed / lowmem)
				             : 0;
				/* A reserve larger than the zone is the whole
				 * zone: every mark stays within a few times the
				 * zone's size, far from overflowing a long. */
				if (min > managed)
					min = managed;
			}
			unsigned long step = min / 4;
			unsigned long scale = (unsigned long)((unsigned __int128)managed *
			                                      za->watermark_scale_factor /
			                                      10000);
			if (scale > step)
				step = scale;
			/* Unchanged (a CPU flip changes no mark): leave the
			 * zone lock to the allocators. */
			if (z->wmark_base[ZA_WMARK_MIN] == min &&
			    z->wmark_base[ZA_WMARK_LOW] == min + step &&
			    z->wmark_base[ZA_WMARK_HIGH] == min + 2 * step)
				continue;
			za_store_relaxed(&z->wmark_base[ZA_WMARK_MIN], min);
			za_store_relaxed(&z->wmark_base[ZA_WMARK_LOW], min + step);
			za_store_relaxed(&z->wmark_base[ZA_WMARK_HIGH], min + 2 * step);
			_za_boost_apply(z); /* wmark[] = base + boost */
		}
		/* lowmem_reserve[j] of zone i: the pages of zones i+1..j over
		 * zone i's ratio, so that requests able to use zone j leave
		 * zone i to those that cannot. */
		for (int i = 0; i < ZA_NR_ZONES; i++) {
			struct za_zone *z = &node->zones[i];
			unsigned long sum = 0;
			for (int j = 0; j < ZA_NR_ZONES; j++) {
				unsigned long r = 0;
				if (j > i) {
					sum += za_load_relaxed(&node->zones[j].managed_pages);
					if (za->lowmem_reserve_ratio[i] && zone_populated(z))
						r = sum / za->lowmem_reserve_ratio[i];
				}
				za_store_relaxed(&z->lowmem_reserve[j], r);
			}
		}
	}
}

/* Recompute everything from the inputs as they are now. Pressure is
 * read only for a pressure event: any other recompute keeps the pressure
 * state the last pressure event applied, so that only kswapd, which can
 * afford it, trims page sets and folds deltas for it. */
static void tunables_update_locked(struct za *za, bool pressure_event)
{
	ZA_ASSERT(za_witness_held(ZA_RANK_TUNABLES));
	bool pressure = pressure_event ? za_load_relaxed(&za->reclaim_active) != 0
	                               : za->pressure_applied;
	setup_per_zone_wmarks_locked(za);
	/* Page-set sizes follow the low watermark, the managed pages and the
	 * node's online CPUs; under pressure they stay at their minimum. */
	for_each_zone(za, z)
		pcp_publish_sizes_locked(za, z, pressure);
	/* The thresholds follow the zone sizes, the gap between the low and
	 * min marks and the pressure (not the online CPUs: vmstat.c). */
	vmstat_update_thresholds_locked(za, pressure);
	if (pressure && !za->pressure_applied)
		pcp_pressure_trim_locked(za);
	za->pressure_applied = pressure;
}

void tunables_enter(struct za *za)
{
	za_mutex_lock(&za->tunables_lock);
}

/* A CPU flip must not wait for a holder of tunables_lock (kswapd's
 * recompute can take a while: it stops page sets): it leaves its mark
 * and the holder recomputes for it as it lets go, here. The mark is
 * published before the lock is tried, and the holder looks for marks
 * after it let go (both with full fences), so no mark is missed: one of
 * the two sees the other. Every holder lets go here, whatever it held
 * the lock for. */
void tunables_leave(struct za *za)
{
	for (;;) {
		za_mutex_unlock(&za->tunables_lock);
		/* The lists a pressure trim cut, with the lock let go. */
		if (unlikely(za_load_relaxed(&za->pcp_cuts_waiting)) &&
		    za_xchg_acquire(&za->pcp_cuts_waiting, 0))
			pcp_report_corrupt_all(za);
		za_fence_seq_cst();
		if (!za_load_relaxed(&za->tunables_dirty))
			return;
		/* A flip left its mark while we held the lock: recompute for
		 * it, unless somebody else has the lock by now (then it is
		 * theirs to honour). */
		if (!za_mutex_trylock(&za->tunables_lock))
			return;
		za_xchg_acquire(&za->tunables_dirty, 0);
		tunables_update_locked(za, false);
	}
}

void tunables_update(struct za *za, enum tunables_event ev)
{
	if (ev == TUNABLES_CPU) {
		za_store_release(&za->tunables_dirty, 1);
		za_fence_seq_cst();
		if (!za_mutex_trylock(&za->tunables_lock))
			return; /* the holder recomputes for us (tunables_leave) */
	} else {
		tunables_enter(za);
	}
	/* One recompute covers every mark left so far. */
	za_xchg_acquire(&za->tunables_dirty, 0);
	tunables_update_locked(za, ev == TUNABLES_PRESSURE);
	tunables_leave(za);
}

/* fast_ok_pb as it should be now: zone_fast_mask for a block of the
 * pageblock order, the largest per-CPU order (the fast paths of orders
 * 4..9 test it: one bit for all of them, a little stricter than each
 * needs). Only the bits of fast_mask (the mask for a smaller block) can
 * be set: the others need no look. */
static uint8_t zone_fast_mask_pb(const struct za_zone *z, uint8_t fast_mask)
{
	unsigned long low = zone_wmark(z, ZA_WMARK_LOW);
	unsigned order = z->za->pageblock_order;
	uint8_t m = 0;
	for (int hz = 0; hz < ZA_NR_ZONES; hz++)
		if ((fast_mask & ZONE_FAST_OK_BIT(hz)) &&
		    zone_clearly_above(z, low, hz, order))
			m |= (uint8_t)ZONE_FAST_OK_BIT(hz);
	return m;
}

/* Copy fast_ok into every set of the zone (za_pcp.fast_ok), writing
 * only the lines that differ: the copies are other CPUs' hot lines. */
static void zone_fast_copy(struct za_zone *z, uint8_t m)
{
	for (unsigned c = 0; c < z->za->nr_cpus; c++) {
		struct za_pcp *pcp = zone_pcp(z, (int)c);
		if (za_load_relaxed(&pcp->fast_ok) != m)
			za_store_relaxed(&pcp->fast_ok, m);
	}
}

void zone_fast_refresh(struct za_zone *z)
{
	/* Two refreshes may race (two CPUs folding, a fold and a
	 * recompute): each stores what it computed, then looks again at what
	 * it computed from. The last to store either saw every change before
	 * its look, or a change after it, whose own refresh then stores
	 * later (the full fence orders the store before the look).
	 * The sets' copies follow fast_ok: whoever stores it copies it. A
	 * refresh that computed from inputs that changed under it may copy
	 * its value over the newer one in some sets after the newer refresh
	 * has finished; it looks again, sees the change, and copies what it
	 * computes then, whatever fast_ok holds, unless that is what it
	 * copied before (its copies were right after all). */
	int copied = -1;
	for (;;) {
		long free = za_load_relaxed(&zone_vm_stat(z, ZA_NR_FREE_PAGES));
		unsigned gen = za_load_acquire(&z->fast_gen);
		uint8_t m = zone_fast_mask(z);
		if (za_load_relaxed(&z->fast_ok) != m ||
		    (copied >= 0 && copied != m)) {
			za_store_relaxed(&z->fast_ok, m);
			zone_fast_copy(z, m);
			copied = m;
		}
		uint8_t mpb = zone_fast_mask_pb(z, m);
		if (za_load_relaxed(&z->fast_ok_pb) != mpb)
			za_store_relaxed(&z->fast_ok_pb, mpb);
		za_fence_seq_cst();
		if (za_load_relaxed(&zone_vm_stat(z, ZA_NR_FREE_PAGES)) == free &&
		    za_load_relaxed(&z->fast_gen) == gen)
			return;
	}
}

/* The free-page count the checks use: the global value, or, when that is
 * close enough to the watermarks for per-CPU drift to matter, the sum
 * with every CPU's delta (seed 003). */
unsigned long zone_free_estimate(struct za *za, struct za_zone *z)
{
	long v = zone_stat_global(z, ZA_NR_FREE_PAGES);
	unsigned long drift_mark = za_load_relaxed(&z->percpu_drift_mark);
	if (drift_mark && v < (long)drift_mark &&
	    !za_load_relaxed(&za->debug[ZA_DEBUG_NO_SNAPSHOT]))
		v = zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES);
	return v > 0 ? (unsigned long)v : 0;
}

long zone_free_counted(struct za *za, struct za_zone *z, unsigned alloc_flags)
{
	/* At min (the slow path) the drift between the global counter and
	 * the truth could carry a zone below min: count exactly there. */
	long free = (alloc_flags & ALLOC_WMARK_MASK) == ALLOC_WMARK_MIN
	                ? zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES)
	                : (long)zone_free_estimate(za, z);
	/* The high-order atomic reserve is not for anybody else. */
	if (!(alloc_flags & ALLOC_HARDER))
		free -= (long)za_load_relaxed(&z->nr_reserved_highatomic);
	return free;
}

bool zone_watermark_ok(struct za *za, struct za_zone *z, unsigned order,
                       unsigned long mark, int highest_zoneidx,
                       unsigned alloc_flags)
{
	long free = zone_free_counted(za, z, alloc_flags) - ((1l << order) - 1);
	/* Callers check ALLOC_NO_WATERMARKS before they ask. */
	if (free <= wmark_floor(z, mark, highest_zoneidx,
	                        alloc_flags & ~ALLOC_NO_WATERMARKS))
		return false;
	if (!order)
		return true;
	/* A high-order request also needs a block that large. */
	for (unsigned o = order; o <= za->max_order; o++) {
		for (int mt = 0; mt < ZA_NR_PCPTYPES; mt++)
			if (za_load_relaxed(&z->nr_free[o][mt]))
				return true;
		if ((alloc_flags & ALLOC_HARDER) &&
		    za_load_relaxed(&z->nr_free[o][ZA_MT_HIGHATOMIC]))
			return true;
	}
	return false;
}
