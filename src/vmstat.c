/*
 * vmstat.c - statistics. A zone counter is a global atomic value plus one
 * delta per CPU, kept in that CPU's page set for the zone and protected by
 * its lock. A delta is folded into the global value when it passes the
 * zone's stat_threshold, by the periodic worker, and when the CPU goes
 * offline. So the global value drifts by at most nr_cpus * threshold, and
 * readers that must not be fooled by the drift take a snapshot (seed 003).
 *
 * Events (allocations, refills, reclaim...) are plain per-CPU counts,
 * summed on read.
 */
#include <string.h>

#include "internal.h"

static const char *const zone_stat_names[] = {
#define X(n, s) s,
	ZA_ZONE_STAT_LIST(X)
#undef X
};
static const char *const event_names[] = {
#define X(n, s) s,
	ZA_EVENT_LIST(X)
#undef X
};

const char *za_zone_stat_name(enum za_zone_stat item)
{
	return (unsigned)item < ZA_NR_ZONE_STATS ? zone_stat_names[item] : NULL;
}

const char *za_event_name(enum za_event item)
{
	return (unsigned)item < ZA_NR_EVENTS ? event_names[item] : NULL;
}

/* Version 0.1's vmstat, frozen: its names and order, for
 * ZA_REPORT_VMSTAT_V0 and the lookups. Delete in the release after 0.2. */
const struct vmstat_v0_row vmstat_v0_zone_stats[] = {
	{ ZA_NR_FREE_PAGES, "nr_free_pages" },
	{ ZA_NR_ZONE_ALLOCATED, "nr_zone_allocated" },
	{ ZA_NR_FREE_ISOLATED, "nr_free_isolated" },
};
const struct vmstat_v0_row vmstat_v0_events[] = {
	{ ZA_PGALLOC, "pgalloc" }, /* printed as pgalloc_<zone> */
	{ ZA_PGFREE, "pgfree" },
	{ ZA_PGALLOC_FAIL, "pgalloc_fail" },
	{ ZA_PCP_REFILL, "zonealloc_pcp_refill" },
	{ ZA_PCP_REFILL_PAGES, "zonealloc_pcp_refill_pages" },
	{ ZA_PCP_FLUSH, "zonealloc_pcp_flush" },
	{ ZA_PCP_FLUSH_PAGES, "zonealloc_pcp_flush_pages" },
	{ ZA_PCP_DRAIN, "zonealloc_pcp_drain" },
	{ ZA_PCP_DRAIN_PAGES, "zonealloc_pcp_drain_pages" },
	{ ZA_PCP_TRYLOCK_FAIL, "zonealloc_pcp_trylock_fail" },
	{ ZA_ZONE_LOCK, "zonealloc_zone_lock" },
	{ ZA_WMARK_FAIL, "zonealloc_watermark_fail" },
	{ ZA_FALLBACK, "pgalloc_fallback" },
	{ ZA_STEAL_PAGEBLOCK, "pgsteal_pageblock" },
	{ ZA_ZONELIST_RETRY, "zonealloc_zonelist_retry" },
	{ ZA_ALLOCSTALL, "allocstall" },
	{ ZA_PGSCAN_DIRECT, "pgscan_direct" },
	{ ZA_PGSTEAL_DIRECT, "pgsteal_direct" },
	{ ZA_PGSCAN_KSWAPD, "pgscan_kswapd" },
	{ ZA_PGSTEAL_KSWAPD, "pgsteal_kswapd" },
	{ ZA_KSWAPD_WAKE, "kswapd_wake" },
	{ ZA_KSWAPD_LOW_WMARK_HIT, "kswapd_low_wmark_hit_quickly" },
	{ ZA_KSWAPD_HIGH_WMARK_HIT, "kswapd_high_wmark_hit_quickly" },
	{ ZA_DRAIN_RETRY, "zonealloc_drain_retry" },
	{ ZA_OOM_KILL, "oom_kill" },
	{ ZA_PGMIGRATE_SUCCESS, "pgmigrate_success" },
	{ ZA_PGMIGRATE_FAIL, "pgmigrate_fail" },
	{ ZA_OFFLINE_OK, "zonealloc_offline_success" },
	{ ZA_OFFLINE_FAIL, "zonealloc_offline_fail" },
	{ ZA_CONTIG_OK, "zonealloc_contig_success" },
	{ ZA_CONTIG_FAIL, "zonealloc_contig_fail" },
	{ ZA_MISUSE, "zonealloc_misuse" },
};
const unsigned vmstat_v0_nr_zone_stats = sizeof(vmstat_v0_zone_stats) /
                                         sizeof(vmstat_v0_zone_stats[0]);
const unsigned vmstat_v0_nr_events = sizeof(vmstat_v0_events) /
                                     sizeof(vmstat_v0_events[0]);

static int lookup(const char *name, const char *const *names, int n,
                  const struct vmstat_v0_row *v0, unsigned nv0)
{
	if (!name)
		return -ENOENT;
	for (int i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	for (unsigned i = 0; i < nv0; i++)
		if (strcmp(name, v0[i].name) == 0)
			return v0[i].item;
	return -ENOENT;
}

int za_zone_stat_lookup(const char *name)
{
	return lookup(name, zone_stat_names, ZA_NR_ZONE_STATS,
	              vmstat_v0_zone_stats, vmstat_v0_nr_zone_stats);
}

int za_event_lookup(const char *name)
{
	return lookup(name, event_names, ZA_NR_EVENTS, vmstat_v0_events,
	              vmstat_v0_nr_events);
}

/* The global value. For NR_ZONE_ALLOCATED that includes what the page
 * sets handed out and took back since their last fold, which no
 * threshold folds (the fast paths count it by count alone): added here,
 * so that the global value drifts by the deltas of vm_diff[] only, as
 * every other item's does. Read racing an owner, the sum is off by the
 * blocks in flight. */
long zone_stat_global(struct za_zone *z, int item)
{
	long v = za_load_relaxed(&zone_vm_stat(z, item));
	if (item == ZA_NR_ZONE_ALLOCATED)
		for (unsigned c = 0; c < z->za->nr_cpus; c++)
			v += pcp_alloc_unfolded(&z->pcp[c]);
	return v;
}

long zone_stat_snapshot(struct za *za, struct za_zone *z, int item)
{
	long v = zone_stat_global(z, item);
	for (unsigned c = 0; c < za->nr_cpus; c++)
		v += za_load_relaxed(&z->pcp[c].vm_diff[item]);
	return v;
}

void vmstat_fold_cpu_zone(struct za *za, struct za_zone *z, int cpu)
{
	struct za_pcp *pcp = zone_pcp(z, cpu);
	(void)za;
	for (int i = 0; i < ZA_NR_ZONE_STATS; i++) {
		long d = pcp->vm_diff[i];
		if (d) {
			vmstat_mod(z, i, d);
			za_store_relaxed(&pcp->vm_diff[i], 0);
		}
	}
	/* Readers add alloc_base - count to the global value: whether they
	 * see it before or after these two stores, they count it once, give
	 * or take the window between them. */
	long a = pcp_alloc_unfolded(pcp);
	if (a) {
		vmstat_mod(z, ZA_NR_ZONE_ALLOCATED, a);
		za_store_relaxed(&pcp->alloc_base, (long)pcp->count);
	}
}

static bool pcp_has_diff(const struct za_pcp *pcp)
{
	for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
		if (za_load_relaxed(&pcp->vm_diff[i]))
			return true;
	return pcp_alloc_unfolded(pcp) != 0;
}

/* Whether the set's owner allocated or freed since the worker last
 * looked (the worker's own bookkeeping, read without the set). */
static bool pcp_busy_since_tick(struct za_pcp *pcp)
{
	uint64_t ev = pcp_event(pcp, ZA_PGALLOC) + pcp_event(pcp, ZA_PGFREE);
	bool busy = ev != pcp->tick_events;
	pcp->tick_events = ev;
	return busy;
}

/* trylock: the periodic worker. It leaves alone a set whose owner is busy
 * - the owner folds every delta that passes the threshold itself, so the
 * drift stays bounded, and stopping the set (restartable) or holding its
 * lock would send the owner to the buddy lists meanwhile - and skips a
 * set another remote user holds rather than wait for it. */
void vmstat_fold_all(struct za *za, bool trylock)
{
	for_each_zone(za, z) {
		for (unsigned c = 0; c < za->nr_cpus; c++) {
			struct za_pcp *pcp = zone_pcp(z, (int)c);
			if (trylock && pcp_busy_since_tick(pcp))
				continue;
			if (!pcp_has_diff(pcp))
				continue;
			if (trylock ? !pcp_trylock(za, pcp) : pcp_lock(za, pcp) != 0)
				continue;
			vmstat_fold_cpu_zone(za, z, (int)c);
			pcp_unlock(za, pcp);
		}
	}
}

/* Memory offline left the zone without memory: every CPU's delta goes
 * into the global value now, as the kernel's zone_pcp_reset does. The
 * deltas of an empty zone add up to minus its global value; left alone,
 * that value - what za_zone_stat and the reports print - counts pages
 * the zone no longer has (or goes below 0) until something folds the
 * sets, which without the periodic worker is only za_vmstat_fold. A set
 * whose fence fails keeps its deltas (best effort, as every fold). */
void vmstat_fold_zone(struct za *za, struct za_zone *z)
{
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp *pcp = zone_pcp(z, (int)c);
		if (!pcp_has_diff(pcp) || pcp_lock(za, pcp))
			continue;
		vmstat_fold_cpu_zone(za, z, (int)c);
		pcp_unlock(za, pcp);
	}
}

static int fls_ul(unsigned long x)
{
	return x ? 64 - __builtin_clzl(x) : 0;
}

/* The level below which the zone's checks at low look at the snapshot:
 * the deltas of all CPUs together (drift) could hide a breach of min
 * only when they can exceed low - min (gap). */
static unsigned long drift_mark(struct za_zone *z, unsigned long drift,
                                unsigned long gap)
{
	return drift > gap ? zone_wmark(z, ZA_WMARK_HIGH) + drift : 0;
}

/* tunables_update only (tunables_lock held). The threshold grows with
 * CPUs and zone size (more CPUs: more contention
 * on the global value; bigger zone: drift matters less), capped at 125.
 * While reclaim runs, it drops to what keeps the total drift within the
 * gap between the low and min watermarks. */
void vmstat_update_thresholds_locked(struct za *za, bool pressure)
{
	/* The possible CPUs, not the online ones: a CPU flip then changes no
	 * threshold and folds no other CPU's deltas (an offline CPU holds
	 * none, so the drift stays within online CPUs x threshold, less than
	 * the bound used here). */
	unsigned cpus = za->nr_cpus;
	ZA_ASSERT(za_witness_held(ZA_RANK_TUNABLES));
	for_each_zone(za, z) {
		unsigned long managed = za_load_relaxed(&z->managed_pages);
		/* The zone's size in 128 MiB units, for pages up to
		 * 1 GiB (page_shift 30). */
		unsigned long mem = za->page_shift <= 27
		                        ? managed >> (27 - za->page_shift)
		                        : managed << (za->page_shift - 27);
		unsigned long gap = zone_wmark(z, ZA_WMARK_LOW) -
		                    zone_wmark(z, ZA_WMARK_MIN);
		long th = 2l * fls_ul(cpus) * (1 + fls_ul(mem));
		if (th > 125)
			th = 125;
		if (pressure) {
			/* Only ever lower: small enough that all CPUs'
			 * deltas together stay within low - min. */
			long p = (long)(gap / cpus);
			if (p < 1)
				p = 1;
			if (p < th)
				th = p;
		}
		/* Below this mark the summed deltas could hide a
		 * breach of min: check with the snapshot there. */
		unsigned long mark = drift_mark(z, (unsigned long)th * cpus, gap);
		long old = za_load_relaxed(&z->stat_threshold);
		/* A threshold that rises (pressure ends) lets owners build
		 * larger deltas at once: the mark that covers them goes first,
		 * or the checks at low trust a count up to CPUs x the new
		 * threshold off while the old mark (0 under pressure) says
		 * that the drift fits within low - min. */
		if (th > old)
			za_store_relaxed(&z->percpu_drift_mark, mark);
		/* A threshold that drops leaves the deltas built up under the
		 * old one out until the fold below, and the marks just stored
		 * may have narrowed low - min meanwhile (memory offline shrank
		 * the zone): until then the mark covers the old threshold under
		 * the new gap. The mark it had was made for the old gap - 0
		 * when that was wide - and the checks at low trusted a count
		 * up to CPUs x the old threshold off (review 16). */
		if (th < old)
			za_store_relaxed(&z->percpu_drift_mark,
			                 drift_mark(z, (unsigned long)old * cpus, gap));
		za_store_release(&z->stat_threshold, (int)th);
		ZA_DEBUG_POINT(za, ZA_DP_THRESHOLD_SET, z);
		/* Deltas built up under a larger threshold would exceed
		 * the new one unseen: fold them now, so the drift stays
		 * within nr_cpus * threshold at all times. Every set, not
		 * only those that show a delta (vmstat_fold_zone's skip): an
		 * owner that holds its set may be adding one under the old
		 * threshold, and taking the set waits that out. */
		if (th < old)
			for (unsigned c = 0; c < za->nr_cpus; c++) {
				struct za_pcp *pcp = zone_pcp(z, (int)c);
				if (pcp_lock(za, pcp))
					continue;
				vmstat_fold_cpu_zone(za, z, (int)c);
				pcp_unlock(za, pcp);
			}
		/* A threshold that dropped: the lower mark once the deltas
		 * are folded. */
		za_store_relaxed(&z->percpu_drift_mark, mark);
		/* The drift mark, and the marks and reserves the recompute
		 * set just before (tunables_update_locked), are inputs of the
		 * fast paths' check. */
		zone_fast_input_changed(z);
	}
}

/* --- the periodic worker ---------------------------------------------------------- */

/* Every interval: fold, decay. In between, when a CPU offline kicks it:
 * finish the drains the offline left (pcp_finish_deferred), which may
 * wait for a preempted owner - here, not in the offline. */
static void *vmstat_worker(void *arg)
{
	struct za *za = arg;
	uint64_t interval = (uint64_t)za->vmstat_interval_ms * ZA_NSEC_PER_MSEC;
	uint64_t next = za_now_ns() + interval;
	za_mutex_lock(&za->vmstat_lock);
	while (!za_load_relaxed(&za->stopping)) {
		uint64_t now = za_now_ns();
		if (now < next && !za->vmstat_kicked)
			za_cond_wait(&za->vmstat_wait, &za->vmstat_lock, next - now);
		if (za_load_relaxed(&za->stopping))
			break;
		bool kicked = za->vmstat_kicked;
		za->vmstat_kicked = false;
		za_mutex_unlock(&za->vmstat_lock);
		if (kicked)
			pcp_finish_deferred(za, false);
		if (za_now_ns() >= next) {
			pcp_finish_deferred(za, false); /* one whose fence failed */
			vmstat_fold_all(za, true);
			pcp_decay_all(za);
			next = za_now_ns() + interval;
		}
		za_mutex_lock(&za->vmstat_lock);
	}
	za_mutex_unlock(&za->vmstat_lock);
	return NULL;
}

bool vmstat_kick(struct za *za)
{
	if (!za->vmstat_started)
		return false;
	za_mutex_lock(&za->vmstat_lock);
	za->vmstat_kicked = true;
	za_cond_broadcast(&za->vmstat_wait);
	za_mutex_unlock(&za->vmstat_lock);
	return true;
}

int vmstat_start(struct za *za)
{
	int err = za_thread_start(&za->vmstat_thread, vmstat_worker, za,
	                          "za-vmstat");
	if (!err)
		za->vmstat_started = true;
	return err;
}

void vmstat_stop(struct za *za)
{
	if (!za->vmstat_started)
		return;
	za_mutex_lock(&za->vmstat_lock);
	za_store_relaxed(&za->stopping, true);
	za_cond_broadcast(&za->vmstat_wait);
	za_mutex_unlock(&za->vmstat_lock);
	za_thread_join(&za->vmstat_thread);
	za->vmstat_started = false;
}

/* --- public ----------------------------------------------------------------------- */

static struct za_zone *zone_of(struct za *za, int nid, enum za_zone_type t)
{
	if (!za || nid < 0 || (unsigned)nid >= za->nr_nodes ||
	    (unsigned)t >= ZA_NR_ZONES)
		return NULL;
	return &za->nodes[nid].zones[t];
}

/* The public readers, as the kernel's zone_page_state and
 * zone_page_state_snapshot: a count that the per-CPU deltas carry below
 * 0 reads 0 (the deltas hold frees whose pages allocations counted in
 * the global value took again), as the reports print it (report.c,
 * stat_clamped). The checks use the raw sums. */
static long stat_read(long v)
{
	return v > 0 ? v : 0;
}

long za_zone_stat(struct za *za, int nid, enum za_zone_type zone,
                  enum za_zone_stat item)
{
	struct za_zone *z = zone_of(za, nid, zone);
	if (!z || (unsigned)item >= ZA_NR_ZONE_STATS)
		return 0;
	return stat_read(zone_stat_global(z, item));
}

long za_zone_stat_snapshot(struct za *za, int nid, enum za_zone_type zone,
                           enum za_zone_stat item)
{
	struct za_zone *z = zone_of(za, nid, zone);
	if (!z || (unsigned)item >= ZA_NR_ZONE_STATS)
		return 0;
	return stat_read(zone_stat_snapshot(za, z, item));
}

unsigned long za_zone_free_pages(struct za *za, int nid,
                                 enum za_zone_type zone)
{
	return (unsigned long)za_zone_stat_snapshot(za, nid, zone,
	                                            ZA_NR_FREE_PAGES);
}

unsigned long long za_event_count(struct za *za, enum za_event item)
{
	unsigned long long v = 0;
	if (!za || (unsigned)item >= ZA_NR_EVENTS)
		return 0;
	for_each_zone(za, z) {
		v += za_load_relaxed(&z->events[item]);
		for (unsigned c = 0; c < za->nr_cpus; c++)
			v += pcp_event(&z->pcp[c], (int)item);
	}
	return v;
}

void za_vmstat_fold(struct za *za)
{
	if (za)
		vmstat_fold_all(za, false);
}
