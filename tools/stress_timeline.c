/*
 * stress_timeline.c - `zonealloc stress --timeline FILE.csv`: every
 * interval, one CSV row per zone with the zone's state (free pages and
 * the watermarks, per-CPU list occupancy, free blocks by order, how much
 * of the free memory is in large blocks) and what happened during the
 * interval (allocations, frees, pcp refills/flushes/drains, zone-lock
 * acquisitions, reclaim, hotplug). tools/plot-timeline.sh draws it.
 *
 * The state columns are per zone. The event columns are for the whole
 * allocator, because the library counts events summed over every zone
 * (za_event_count): each zone row of one interval carries the same
 * events. docs/TOOL.md lists every column.
 *
 * Only the monitor thread (the one that prints progress) calls in here;
 * the allocator is read through its public API while the workers run, so
 * a row is a snapshot of moving counters, not a quiescent state.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "stress.h"

/* The events a row reports, as column name and za_event. */
static const struct {
	const char *name;
	enum za_event ev;
} lib_events[] = {
	{ "pgalloc", ZA_PGALLOC },
	{ "pgfree", ZA_PGFREE },
	{ "pgalloc_fail", ZA_PGALLOC_FAIL },
	{ "pcp_refills", ZA_PCP_REFILL },
	{ "pcp_refill_pages", ZA_PCP_REFILL_PAGES },
	{ "pcp_flushes", ZA_PCP_FLUSH },
	{ "pcp_flush_pages", ZA_PCP_FLUSH_PAGES },
	{ "pcp_drains", ZA_PCP_DRAIN },
	{ "pcp_drain_pages", ZA_PCP_DRAIN_PAGES },
	{ "zone_locks", ZA_ZONE_LOCK },
	{ "watermark_fails", ZA_WMARK_FAIL },
	{ "kswapd_wakes", ZA_KSWAPD_WAKE },
	{ "allocstalls", ZA_ALLOCSTALL },
	{ "oom_kills", ZA_OOM_KILL },
	{ "offline_ok", ZA_OFFLINE_OK },
	{ "offline_fail", ZA_OFFLINE_FAIL },
	{ "compact_stall", ZA_COMPACT_STALL },
	{ "compact_success", ZA_COMPACT_SUCCESS },
	{ "compact_daemon_wake", ZA_COMPACT_DAEMON_WAKE },
	{ "pgmigrate_success", ZA_PGMIGRATE_SUCCESS },
};
#define NR_LIB_EVENTS (sizeof(lib_events) / sizeof(lib_events[0]))

/* Blocks of this order and above count as unfragmented free memory:
 * order 9 (2 MiB of 4 KiB pages, a huge page) or the pageblock order
 * when the topology has no order-9 blocks. */
static unsigned large_order(struct za *za)
{
	unsigned pb = za_pageblock_order(za);
	return pb < 9 ? pb : 9;
}

int timeline_open(struct timeline *tl, const char *path, const char *cmd)
{
	memset(tl, 0, sizeof(*tl));
	tl->path = path;
	tl->f = fopen(path, "w");
	if (!tl->f) {
		tool_usage_err(cmd, "cannot write the timeline to '%s': %s", path,
		               strerror(errno));
		return -1;
	}
	return 0;
}

int timeline_close(struct timeline *tl, const char *cmd)
{
	int bad;

	if (!tl->f)
		return 0;
	bad = ferror(tl->f);
	if (fclose(tl->f))
		bad = 1;
	tl->f = NULL;
	if (bad) {
		tool_err(cmd, "writing the timeline '%s' failed: %s", tl->path,
		         strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

static void write_header(struct timeline *tl, struct za *za)
{
	FILE *f = tl->f;
	unsigned k;

	tl->orders = za_max_order(za) + 1;
	fputs("time_s,scenario,node,zone,managed,free,min,low,high,"
	      "pcp_pages,pcp_high,pcp_cpus,pcp_disabled,isolated_free",
	      f);
	for (k = 0; k < tl->orders; k++)
		fprintf(f, ",nr_free_order_%u", k);
	fputs(",frag_frac_ge9,frag_score,ops,allocs,alloc_fails,frees", f);
	for (k = 0; k < NR_LIB_EVENTS; k++)
		fprintf(f, ",%s", lib_events[k].name);
	fputs(",cpu_flips,cpus_online,cache_pages\n", f);
	tl->header_done = 1;
}

static void read_counts(struct stress *st, struct tl_counts *c)
{
	struct wstats t;
	unsigned k;

	stress_sum_stats(st, &t);
	memset(c, 0, sizeof(*c));
	for (k = 0; k < ZA_NR_EVENTS; k++)
		c->ev[k] = za_event_count(st->za, (enum za_event)k);
	c->ops = t.ops;
	for (k = 0; k < ST_ORDERS; k++) {
		c->allocs += t.allocs[k];
		c->fails += t.fails[k];
	}
	/* Pages the shrinker and the OOM handler give back are frees of the
	 * client too (cached pages are order 0: pages = blocks). */
	c->frees = t.frees + G_GET(st, shrink_freed) + G_GET(st, oom_freed);
	c->cpu_flips = G_GET(st, cpu_offline) + G_GET(st, cpu_online);
}

void timeline_start(struct stress *st)
{
	unsigned nid;
	int z;

	if (!st->tl)
		return;
	if (!st->tl->header_done)
		write_header(st->tl, st->za);
	st->tl_nzones = 0;
	for (nid = 0; nid < st->tp.o.nodes; nid++)
		for (z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info zi;
			if (za_zone_info(st->za, (int)nid, (enum za_zone_type)z, &zi) ||
			    !zi.populated)
				continue;
			if (st->tl_nzones < TOPO_MAX_RANGES)
				st->tl_zone[st->tl_nzones++] =
				    (unsigned short)(nid * ZA_NR_ZONES + (unsigned)z);
		}
	read_counts(st, &st->tl_last);
	timeline_sample(st, 0.0);
}

/* za_zone_info reads each field on its own while hotplug may be changing
 * them (an online frees its pages before it raises managed; new
 * watermarks are stored one at a time). Read again, a few times, until
 * the snapshot is one that could be true at an instant. */
static void zone_snapshot(struct stress *st, int nid, enum za_zone_type z,
                          struct za_zone_info *zi)
{
	int tries;

	for (tries = 0; tries < 16; tries++) {
		if (za_zone_info(st->za, nid, z, zi)) {
			memset(zi, 0, sizeof(*zi));
			return;
		}
		if (zi->free <= zi->managed && zi->min <= zi->low &&
		    zi->low <= zi->high)
			return;
		sched_yield();
	}
}

static void write_row(struct stress *st, double t, int nid,
                      enum za_zone_type z, const struct tl_counts *d,
                      const uint64_t *ev_delta)
{
	struct timeline *tl = st->tl;
	FILE *f = tl->f;
	struct za_zone_info zi;
	unsigned long pcp_high = 0, buddy = 0, large = 0;
	unsigned cpu, pcp_cpus = 0, k, big = large_order(st->za);
	unsigned max = za_max_order(st->za);

	zone_snapshot(st, nid, z, &zi);
	for (cpu = 0; cpu < st->tp.o.cpus; cpu++) {
		struct za_pcp_info pi;
		if (za_pcp_info(st->za, cpu, nid, z, &pi) == 0 && pi.usable) {
			pcp_high += pi.high;
			pcp_cpus++;
		}
	}
	for (k = 0; k <= max && k < ST_ORDERS; k++) {
		unsigned long pages = zi.nr_free[k] << k;
		buddy += pages;
		if (k >= big)
			large += pages;
	}

	fprintf(f, "%.3f,%s,%d,%s,%lu,%lu,%lu,%lu,%lu,%lu,%lu,%u,%d,%lu", t,
	        scenario_names[st->sc], nid, topo_zone_name(z), zi.managed,
	        zi.free, zi.min, zi.low, zi.high, zi.pcp_pages, pcp_high, pcp_cpus,
	        zi.pcp_disabled, zi.isolated_free);
	for (k = 0; k < tl->orders; k++)
		fprintf(f, ",%lu", k <= max && k < ST_ORDERS ? zi.nr_free[k] : 0ul);
	fprintf(f, ",%.4f,%d,%llu,%llu,%llu,%llu",
	        buddy ? (double)large / (double)buddy : 0.0,
	        /* the node's, as proactive compaction reads it */
	        za_fragmentation_score(st->za, nid), (unsigned long long)d->ops,
	        (unsigned long long)d->allocs, (unsigned long long)d->fails,
	        (unsigned long long)d->frees);
	for (k = 0; k < NR_LIB_EVENTS; k++)
		fprintf(f, ",%llu", (unsigned long long)ev_delta[k]);
	fprintf(f, ",%llu,%u,%lu\n", (unsigned long long)d->cpu_flips,
	        simcpu_nr_online(), stress_cached_pages(st));
	tl->rows++;
}

void timeline_sample(struct stress *st, double t)
{
	struct tl_counts now, d;
	uint64_t ev_delta[NR_LIB_EVENTS];
	unsigned k;

	if (!st->tl || !st->tl->f)
		return;
	read_counts(st, &now);
	/* Differences; a counter read relaxed can look a hair behind the
	 * last row, which is not a negative event count. */
#define DELTA(f) (now.f > st->tl_last.f ? now.f - st->tl_last.f : 0)
	d.ops = DELTA(ops);
	d.allocs = DELTA(allocs);
	d.fails = DELTA(fails);
	d.frees = DELTA(frees);
	d.cpu_flips = DELTA(cpu_flips);
	for (k = 0; k < NR_LIB_EVENTS; k++)
		ev_delta[k] = DELTA(ev[lib_events[k].ev]);
#undef DELTA
	for (k = 0; k < st->tl_nzones; k++)
		write_row(st, t, st->tl_zone[k] / ZA_NR_ZONES,
		          (enum za_zone_type)(st->tl_zone[k] % ZA_NR_ZONES), &d,
		          ev_delta);
	/* Flushed every interval, so the file can be followed live. */
	fflush(st->tl->f);
	st->tl_last = now;
}
