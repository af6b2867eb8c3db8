/*
 * watermark.c - watermarks and the checks against them.
 *
 * min_free_kbytes (by default sqrt(16 * lowmem KiB), clamped to
 * [128 KiB, 256 MiB]) is split across zones by size; low and high sit a
 * quarter of min, or 0.1% of the zone, above min and twice that. Each zone
 * also keeps a lowmem reserve against requests that could have used a
 * higher zone. The split, the scale factor and the reserve ratios are the
 * runtime tunables of sysctl.c (min_free_kbytes, watermark_scale_factor,
 * lowmem_reserve_ratio). The fast path checks low, the slow path min; __GFP_HIGH
 * halves min and atomic requests take a further quarter off, which is
 * their floor. Checks at min use the exact snapshot of the free counter,
 * checks at low the global value unless it is below the drift mark.
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

/* Recompute watermarks, lowmem reserves, pcp sizes and stat thresholds of
 * every zone. Caller holds mem_hotplug_lock (which keeps the tunables
 * still: their writers hold it too). */
void setup_per_zone_wmarks(struct za *za)
{
	unsigned long lowmem = 0;
	for (unsigned n = 0; n < za->nr_nodes; n++)
		for (int t = 0; t < ZA_NR_ZONES; t++)
			if (t != ZA_ZONE_MOVABLE)
				lowmem += za_load_relaxed(&za->nodes[n].zones[t].managed_pages);

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
			                                      za->watermark_scale_factor / 10000);
			if (scale > step)
				step = scale;
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
	for (unsigned n = 0; n < za->nr_nodes; n++)
		for (int t = 0; t < ZA_NR_ZONES; t++)
			pcp_update_sizes(za, &za->nodes[n].zones[t]);
	vmstat_update_thresholds(za);
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

bool zone_watermark_ok(struct za *za, struct za_zone *z, unsigned order,
                       unsigned long mark, int highest_zoneidx,
                       unsigned alloc_flags)
{
	/* At min (the slow path) the drift between the global counter and
	 * the truth could carry a zone below min: count exactly there. */
	long free = (alloc_flags & ALLOC_WMARK_MASK) == ALLOC_WMARK_MIN
		? zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES)
		: (long)zone_free_estimate(za, z);
	long min = (long)mark;

	free -= (1l << order) - 1;
	if (alloc_flags & ALLOC_HIGH)
		min -= min / 2;
	if (alloc_flags & ALLOC_HARDER)
		min -= min / 4;
	else
		/* The high-order atomic reserve is not for anybody else. */
		free -= (long)za_load_relaxed(&z->nr_reserved_highatomic);
	if (free <= min + (long)za_load_relaxed(&z->lowmem_reserve[highest_zoneidx]))
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
