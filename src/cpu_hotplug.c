/*
 * cpu_hotplug.c - CPUs going offline and online.
 *
 * Every possible CPU has its page sets for the allocator's whole life, so
 * offline never frees anything another thread could be using. Offline
 * sets the OFF_CPU flag in each of the CPU's page sets and drains it in the
 * same hold (a lock, or a stop and a fence of that CPU for restartable
 * sets), then folds its statistics. A thread whose cpu_id still
 * names that CPU finds the flag under the lock and uses the buddy lists
 * instead. Neither allocation nor drains ever take cpu_hotplug_lock, so
 * no allocation can wait on a hotplug operation and no hotplug operation
 * waits on an allocation that waits on it (seed 000).
 */
#include "internal.h"

/* Page-set sizes depend on the number of online CPUs of each node. Empty
 * zones are left alone (memory online sizes them when they fill): a flip
 * takes as few page-set locks as it can. */
static void resize_after_change(struct za *za)
{
	cpu_hotplug_assert_held(za);
	for_each_populated_zone(za, z)
		pcp_update_sizes(za, z);
	vmstat_update_thresholds(za);
}

int za_cpu_offline(struct za *za, unsigned cpu)
{
	if (!za || cpu >= za->nr_cpus)
		return -EINVAL;
	za_mutex_lock(&za->cpu_hotplug_lock);
	if (!za->cpu_online[cpu]) {
		za_mutex_unlock(&za->cpu_hotplug_lock);
		return -EEXIST;
	}
	if (za->nr_online_cpus == 1) {
		za_mutex_unlock(&za->cpu_hotplug_lock);
		return -EBUSY;
	}
	/* Switch off and drain every page set of the CPU first; a fence that
	 * fails (restartable sets) undoes what was done and fails the
	 * offline with nothing changed. */
	for (unsigned i = 0; i < za->nr_nodes * ZA_NR_ZONES; i++) {
		struct za_zone *z = &za->nodes[i / ZA_NR_ZONES].zones[i % ZA_NR_ZONES];
		int err = pcp_set_flag(za, z, (int)cpu, ZA_PCP_OFF_CPU, true);
		if (err) {
			while (i-- > 0)
				pcp_set_flag(za, &za->nodes[i / ZA_NR_ZONES].zones[i % ZA_NR_ZONES],
				             (int)cpu, ZA_PCP_OFF_CPU, false);
			za_mutex_unlock(&za->cpu_hotplug_lock);
			return err;
		}
	}
	za_store_relaxed(&za->cpu_online[cpu], 0);
	za_store_relaxed(&za->nr_online_cpus, za->nr_online_cpus - 1);
	for_each_zone(za, z) {
		struct za_pcp *pcp = zone_pcp(z, (int)cpu);
		/* A set that cannot be stopped now keeps its deltas for
		 * the periodic fold. */
		if (pcp_lock(za, pcp))
			continue;
		vmstat_fold_cpu_zone(za, z, (int)cpu);
		pcp_unlock(za, pcp);
	}
	ZA_DEBUG_POINT(za, ZA_DP_CPU_OFFLINE, &cpu);
	resize_after_change(za);
	za_mutex_unlock(&za->cpu_hotplug_lock);
	return 0;
}

int za_cpu_online(struct za *za, unsigned cpu)
{
	if (!za || cpu >= za->nr_cpus)
		return -EINVAL;
	za_mutex_lock(&za->cpu_hotplug_lock);
	if (za->cpu_online[cpu]) {
		za_mutex_unlock(&za->cpu_hotplug_lock);
		return -EEXIST;
	}
	za_store_relaxed(&za->cpu_online[cpu], 1);
	za_store_relaxed(&za->nr_online_cpus, za->nr_online_cpus + 1);
	for_each_zone(za, z)
		pcp_set_flag(za, z, (int)cpu, ZA_PCP_OFF_CPU, false);
	resize_after_change(za);
	za_mutex_unlock(&za->cpu_hotplug_lock);
	return 0;
}

int za_cpu_is_online(struct za *za, unsigned cpu)
{
	if (!za || cpu >= za->nr_cpus)
		return -EINVAL;
	return za_load_relaxed(&za->cpu_online[cpu]);
}
