/*
 * report.c - reports in the layouts of the kernel's /proc/zoneinfo,
 * /proc/buddyinfo, /proc/pagetypeinfo and /proc/vmstat (as Linux 6.x
 * prints them: same headings, field names, column order and widths), so
 * that what people already read and parse reads the same. Fields the
 * kernel has and zonealloc does not (cma, per-node page
 * cache counters) print as 0 or are left out where the kernel leaves them
 * out too; the library's own counters follow the kernel's, prefixed
 * zonealloc_, so that no key a parser reads repeats within a zone's
 * block. Also za_zone_info and za_pcp_info, the same facts as structs.
 */
#include <string.h>

#include "internal.h"

static const char *const zone_names[ZA_NR_ZONES] = {
#define X(n, s, suffix) s,
	ZA_ZONE_LIST(X)
#undef X
};
static const char *const zone_suffix[ZA_NR_ZONES] = {
#define X(n, s, suffix) suffix,
	ZA_ZONE_LIST(X)
#undef X
};
static const char *const mt_names[ZA_NR_MIGRATETYPES] = {
#define X(n, s) s,
	ZA_MIGRATETYPE_LIST(X)
#undef X
};

const char *za_zone_name(enum za_zone_type zone)
{
	return (unsigned)zone < ZA_NR_ZONES ? zone_names[zone] : NULL;
}

const char *za_migratetype_name(enum za_migratetype mt)
{
	return (unsigned)mt < ZA_NR_MIGRATETYPES ? mt_names[mt] : NULL;
}

static unsigned long nr_free_order(struct za_zone *z, unsigned o)
{
	unsigned long n = 0;
	for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
		n += za_load_relaxed(&z->nr_free[o][mt]);
	return n;
}

static long stat_clamped(struct za_zone *z, int item)
{
	long v = zone_stat_global(z, item);
	return v < 0 ? 0 : v;
}

static bool node_has_memory(struct za *za, unsigned n)
{
	for (int t = 0; t < ZA_NR_ZONES; t++)
		if (zone_populated(&za->nodes[n].zones[t]))
			return true;
	return false;
}

static void report_buddyinfo(struct za *za, struct za_out *out)
{
	for_each_populated_zone(za, z) {
		za_out_printf(out, "Node %d, zone %8s ", z->nid, zone_names[z->type]);
		for (unsigned o = 0; o <= za->max_order; o++)
			za_out_printf(out, "%6lu ", nr_free_order(z, o));
		za_out_putc(out, '\n');
	}
}

static void report_pagetypeinfo(struct za *za, struct za_out *out)
{
	unsigned long pb = 1ul << za->pageblock_order;
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		if (!node_has_memory(za, n))
			continue;
		za_out_printf(out, "Page block order: %u\n", za->pageblock_order);
		za_out_printf(out, "Pages per block:  %lu\n", pb);
		za_out_putc(out, '\n');
		za_out_printf(out, "%-43s ",
		              "Free pages count per migrate type at order");
		for (unsigned o = 0; o <= za->max_order; o++)
			za_out_printf(out, "%6u ", o);
		za_out_putc(out, '\n');
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			if (!zone_populated(z))
				continue;
			for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++) {
				za_out_printf(out, "Node %4u, zone %8s, type %12s ", n,
				              zone_names[t], mt_names[mt]);
				for (unsigned o = 0; o <= za->max_order; o++) {
					unsigned long c = za_load_relaxed(&z->nr_free[o][mt]);
					/* The kernel stops counting at 100000. */
					if (c >= 100000)
						za_out_printf(out, ">%6lu ", 100000ul);
					else
						za_out_printf(out, "%6lu ", c);
				}
				za_out_putc(out, '\n');
			}
		}
		/* The block census reads page metadata, which memory offline
		 * gives back: hold hotplug off while counting. */
		bool lock = !mem_hotplug_held_by_me(za);
		if (lock)
			mem_hotplug_lock(za);
		za_out_printf(out, "\n%-23s", "Number of blocks type ");
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
			za_out_printf(out, "%12s ", mt_names[mt]);
		za_out_putc(out, '\n');
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			unsigned long cnt[ZA_NR_MIGRATETYPES] = { 0 };
			if (!zone_populated(z))
				continue;
			unsigned long s = za_load_relaxed(&z->start_pfn);
			unsigned long e = za_load_relaxed(&z->end_pfn);
			for (unsigned long p = s; p < e; p += pb) {
				if (!pfn_online(za, p) || pfn_section(za, p)->zone_id != z->id)
					continue;
				int mt = pageblock_mt(za, p);
				if (mt < ZA_NR_MIGRATETYPES)
					cnt[mt]++;
			}
			za_out_printf(out, "Node %u, zone %8s ", n, zone_names[t]);
			for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
				za_out_printf(out, "%12lu ", cnt[mt]);
			za_out_putc(out, '\n');
		}
		if (lock)
			mem_hotplug_unlock(za);
	}
}

static unsigned long long zone_event(struct za *za, struct za_zone *z, int ev)
{
	unsigned long long v = za_load_relaxed(&z->events[ev]);
	for (unsigned c = 0; c < za->nr_cpus; c++)
		v += pcp_event(&z->pcp[c], ev);
	return v;
}

/* The library's own counters carry this prefix and follow the kernel's. */
static bool own_name(const char *name)
{
	return strncmp(name, "zonealloc_", 10) == 0;
}

/* Events the kernel counts per zone type and prints one line per type. */
static bool per_zone_event(int ev)
{
	return ev == ZA_PGALLOC || ev == ZA_ALLOCSTALL;
}

static void report_zoneinfo(struct za *za, struct za_out *out)
{
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		bool first = true;
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			za_out_printf(out, "Node %u, zone %8s", n, zone_names[t]);
			if (first && zone_populated(z)) {
				/* Per-node counters, printed with the node's first
				 * populated zone as the kernel does. The kernel's are
				 * page-cache and LRU counts zonealloc has none of; its
				 * own node totals have names no zone line uses, so
				 * the block a parser reads as one zone has no key
				 * twice. */
				first = false;
				long nf = 0, na = 0;
				for (int u = 0; u < ZA_NR_ZONES; u++) {
					nf += stat_clamped(&za->nodes[n].zones[u],
					                   ZA_NR_FREE_PAGES);
					na += stat_clamped(&za->nodes[n].zones[u],
					                   ZA_NR_ZONE_ALLOCATED);
				}
				za_out_printf(out, "\n  per-node stats");
				za_out_printf(out, "\n      %-12s %ld",
				              "zonealloc_node_nr_free_pages", nf);
				za_out_printf(out, "\n      %-12s %ld",
				              "zonealloc_node_nr_allocated", na);
			}
			/* One span, not the start of one and the end of another
			 * (zone_span_read). */
			unsigned long start, end, present;
			zone_span_read(z, &start, &end, &present);
			za_out_printf(out,
			              "\n  pages free     %lu"
			              "\n        boost    %lu"
			              "\n        min      %lu"
			              "\n        low      %lu"
			              "\n        high     %lu"
			              "\n        promo    %lu"
			              "\n        spanned  %lu"
			              "\n        present  %lu"
			              "\n        managed  %lu"
			              "\n        cma      %lu",
			              (unsigned long)stat_clamped(z, ZA_NR_FREE_PAGES),
			              za_load_relaxed(&z->watermark_boost),
			              zone_wmark(z, ZA_WMARK_MIN),
			              zone_wmark(z, ZA_WMARK_LOW),
			              zone_wmark(z, ZA_WMARK_HIGH),
			              /* promo: a step above high, as the kernel sets it */
			              2 * zone_wmark(z, ZA_WMARK_HIGH) -
			                  zone_wmark(z, ZA_WMARK_LOW),
			              end - start, present,
			              za_load_relaxed(&z->managed_pages), 0ul);
			za_out_printf(out, "\n        protection: (%ld",
			              (long)za_load_relaxed(&z->lowmem_reserve[0]));
			for (int j = 1; j < ZA_NR_ZONES; j++)
				za_out_printf(out, ", %ld",
				              (long)za_load_relaxed(&z->lowmem_reserve[j]));
			za_out_putc(out, ')');
			if (!zone_populated(z)) {
				za_out_putc(out, '\n');
				continue;
			}
			/* The kernel's zone counters first (its zone stats, then
			 * its NUMA stats), then the library's. */
			for (int pass = 0; pass < 2; pass++) {
				for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
					if (own_name(za_zone_stat_name(i)) == (pass == 1))
						za_out_printf(out, "\n      %-12s %ld",
						              za_zone_stat_name(i),
						              stat_clamped(z, i));
				for (int ev = ZA_NUMA_HIT; pass == 0 && ev <= ZA_NUMA_OTHER;
				     ev++)
					za_out_printf(out, "\n      %-12s %llu", za_event_name(ev),
					              zone_event(za, z, ev));
			}
			za_out_printf(out, "\n      %-12s %llu", "zonealloc_pgalloc",
			              zone_event(za, z, ZA_PGALLOC));
			za_out_printf(out, "\n  pagesets");
			for (unsigned c = 0; c < za->nr_cpus; c++) {
				if (!za_load_relaxed(&za->cpu_online[c]))
					continue;
				struct za_pcp *pcp = zone_pcp(z, (int)c);
				int high, batch, hmin, hmax;
				pcp_sizes_now(z, pcp, &high, &batch, &hmin, &hmax);
				if (za->flags & ZA_CFG_NO_PCP) /* as za_pcp_info */
					high = hmin = hmax = 0, batch = 1;
				za_out_printf(out,
				              "\n    cpu: %u"
				              "\n              count:    %d"
				              "\n              high:     %d"
				              "\n              batch:    %d"
				              "\n              high_min: %d"
				              "\n              high_max: %d",
				              c, za_load_relaxed(&pcp->count), high, batch,
				              hmin, hmax);
				za_out_printf(out, "\n  vm stats threshold: %d",
				              za_load_relaxed(&z->stat_threshold));
			}
			za_out_printf(out,
			              "\n  node_unreclaimable:  %u"
			              "\n  start_pfn:           %lu",
			              (unsigned)kswapd_hopeless(z->node), start);
			za_out_putc(out, '\n');
		}
	}
}

static long stat_total(struct za *za, int item)
{
	long v = 0;
	for_each_zone(za, z)
		v += stat_clamped(z, item);
	return v;
}

static void print_per_zone(struct za *za, struct za_out *out, const char *stem,
                           int ev)
{
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		unsigned long long v = 0;
		for (unsigned n = 0; n < za->nr_nodes; n++)
			v += zone_event(za, &za->nodes[n].zones[t], ev);
		za_out_printf(out, "%s_%s %llu\n", stem, zone_suffix[t], v);
	}
}

/* As /proc/vmstat: counters, then events; every name the kernel has, in
 * the kernel's order (the order of the lists in zonealloc.h), then the
 * library's own, zonealloc_... */
static void report_vmstat(struct za *za, struct za_out *out)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
			if (own_name(za_zone_stat_name(i)) == (pass == 1))
				za_out_printf(out, "%s %ld\n", za_zone_stat_name(i),
				              stat_total(za, i));
		for (int ev = 0; ev < ZA_NR_EVENTS; ev++) {
			if (own_name(za_event_name(ev)) != (pass == 1))
				continue;
			if (per_zone_event(ev))
				print_per_zone(za, out, za_event_name(ev), ev);
			else
				za_out_printf(out, "%s %llu\n", za_event_name(ev),
				              za_event_count(za, ev));
		}
	}
}

/* The kernel's debugfs extfrag/extfrag_index and extfrag/unusable_index:
 * one row per populated zone, one value per order, in thousandths printed
 * as the kernel prints them ("%2d.%03d " and "%d.%03d "). The kernel's
 * formula gives -1000 when a block of the order is free, and between
 * -999 and -1 when the zone's one free block is smaller than the order
 * (-500: an order-1 block, order 2); those print "-0.500", with their
 * sign - "%2d" of the whole part alone drops it, and the kernel's "%03d"
 * of a negative remainder prints " 0.-500". */
static void report_frag_index(struct za *za, struct za_out *out, bool unusable)
{
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			if (!zone_populated(z))
				continue;
			za_out_printf(out, "Node %u, zone %8s ", n, zone_names[t]);
			for (unsigned o = 0; o <= za->max_order; o++) {
				int idx = unusable ? _za_unusable_index(z, o)
				                   : _za_fragmentation_index(z, o);
				if (idx < 0 && idx > -1000)
					za_out_printf(out, "-0.%03d ", -idx);
				else
					za_out_printf(out, unusable ? "%d.%03d " : "%2d.%03d ",
					              idx / 1000, (idx < 0 ? -idx : idx) % 1000);
			}
			za_out_putc(out, '\n');
		}
	}
}

/* Version 0.1's names and order, for one more release. */
static void report_vmstat_v0(struct za *za, struct za_out *out)
{
	for (unsigned i = 0; i < vmstat_v0_nr_zone_stats; i++)
		za_out_printf(out, "%s %ld\n", vmstat_v0_zone_stats[i].name,
		              stat_total(za, vmstat_v0_zone_stats[i].item));
	for (unsigned i = 0; i < vmstat_v0_nr_events; i++) {
		int ev = vmstat_v0_events[i].item;
		if (ev == ZA_PGALLOC)
			print_per_zone(za, out, "pgalloc", ev);
		else
			za_out_printf(out, "%s %llu\n", vmstat_v0_events[i].name,
			              za_event_count(za, ev));
	}
}

int za_report_write(struct za *za, enum za_report what, za_write_fn write,
                    void *ctx)
{
	struct za_out o = { write, ctx }, *out = &o;
	if (!za || !write)
		return -EINVAL;
	switch (what) {
	case ZA_REPORT_ZONEINFO:
		report_zoneinfo(za, out);
		break;
	case ZA_REPORT_BUDDYINFO:
		report_buddyinfo(za, out);
		break;
	case ZA_REPORT_PAGETYPEINFO:
		report_pagetypeinfo(za, out);
		break;
	case ZA_REPORT_VMSTAT:
		report_vmstat(za, out);
		break;
	case ZA_REPORT_VMSTAT_V0:
		report_vmstat_v0(za, out);
		break;
	case ZA_REPORT_EXTFRAG_INDEX:
		report_frag_index(za, out, false);
		break;
	case ZA_REPORT_UNUSABLE_INDEX:
		report_frag_index(za, out, true);
		break;
	case ZA_REPORT_PAGE_OWNER:
	case ZA_REPORT_PAGE_OWNER_SUMMARY: {
		int err = what == ZA_REPORT_PAGE_OWNER
		              ? _za_page_owner_report(za, out)
		              : _za_page_owner_summary_report(za, out);
		if (err)
			return err;
		break;
	}
	default:
		return -EINVAL;
	}
	return 0;
}

int za_zone_info(struct za *za, int nid, enum za_zone_type zone,
                 struct za_zone_info *out)
{
	if (!za || !out || nid < 0 || (unsigned)nid >= za->nr_nodes ||
	    (unsigned)zone >= ZA_NR_ZONES)
		return -EINVAL;
	struct za_zone *z = &za->nodes[nid].zones[zone];
	memset(out, 0, sizeof(*out));
	unsigned long end;
	zone_span_read(z, &out->start_pfn, &end, &out->present);
	out->spanned = end - out->start_pfn;
	out->managed = za_load_relaxed(&z->managed_pages);
	long f = zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES);
	out->free = f > 0 ? (unsigned long)f : 0;
	long iso = zone_stat_snapshot(za, z, ZA_NR_FREE_ISOLATED);
	out->isolated_free = iso > 0 ? (unsigned long)iso : 0;
	out->min = zone_wmark(z, ZA_WMARK_MIN);
	out->low = zone_wmark(z, ZA_WMARK_LOW);
	out->high = zone_wmark(z, ZA_WMARK_HIGH);
	for (int j = 0; j < ZA_NR_ZONES; j++)
		out->lowmem_reserve[j] = za_load_relaxed(&z->lowmem_reserve[j]);
	for (unsigned c = 0; c < za->nr_cpus; c++)
		out->pcp_pages += (unsigned long)za_load_relaxed(&z->pcp[c].count);
	for (unsigned o = 0; o <= za->max_order; o++)
		out->nr_free[o] = nr_free_order(z, o);
	out->stat_threshold = (unsigned)za_load_relaxed(&z->stat_threshold);
	out->populated = zone_populated(z);
	/* ZA_CFG_NO_PCP: the lists exist but are never used. */
	out->pcp_disabled = za_load_relaxed(&z->pcp_disabled) != 0 ||
	                    (za->flags & ZA_CFG_NO_PCP);
	return 0;
}

int za_pcp_info(struct za *za, unsigned cpu, int nid, enum za_zone_type zone,
                struct za_pcp_info *out)
{
	if (!za || !out || cpu >= za->nr_cpus || nid < 0 ||
	    (unsigned)nid >= za->nr_nodes || (unsigned)zone >= ZA_NR_ZONES)
		return -EINVAL;
	struct za_zone *z = &za->nodes[nid].zones[zone];
	struct za_pcp *pcp = zone_pcp(z, (int)cpu);
	int high, batch, hmin, hmax;
	/* The sizes the set has once it picks up what was published. */
	pcp_sizes_now(z, pcp, &high, &batch, &hmin, &hmax);
	out->count = (unsigned)za_load_relaxed(&pcp->count);
	out->high = (unsigned)high;
	out->batch = (unsigned)batch;
	out->usable = !(za_load_relaxed(&pcp->flags) & ZA_PCP_OFF_MASK);
	out->restartable = za->pcp_rseq;
	if (za->flags & ZA_CFG_NO_PCP) {
		/* Never used: as the kernel shows a set switched off. */
		out->high = 0;
		out->batch = 1;
		out->usable = 0;
	}
	return 0;
}

const char *za_pcp_mode_reason(const struct za *za)
{
	if (!za)
		return "no allocator";
	return za->pcp_rseq ? "" : za->pcp_mode_why;
}
