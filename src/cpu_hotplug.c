/*
 * cpu_hotplug.c - CPUs going offline and online.
 *
 * Every possible CPU has its page sets for the allocator's whole life, so
 * offline never frees anything another thread could be using. Offline
 * sets the OFF_CPU flag in each of the CPU's page sets, drains it and
 * folds its statistics in one hold of all of them (their locks, and for
 * restartable sets one stop of each and one fence of the CPU:
 * pcp_cpu_off). A thread whose cpu_id still names that CPU finds the flag
 * and uses the buddy lists instead. Online clears the flags. Either way
 * the other CPUs' page sets get their new sizes through tunables_update,
 * which publishes them for their owners to pick up: a flip stops no other
 * CPU's page set and waits for none of their owners. Nor, for long, for
 * an owner of its own CPU's sets: one that was preempted while it held
 * a set leaves that set's drain to the statistics worker
 * (ZA_PCP_DEFERRED). Neither allocation
 * nor drains ever take cpu_hotplug_lock, so no allocation can wait on a
 * hotplug operation and no hotplug operation waits on an allocation that
 * waits on it (seed 000).
 */
#include "internal.h"

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
	/* Switch off, drain and fold every page set of the CPU first; a
	 * fence that fails (restartable sets) fails the offline with
	 * nothing changed. */
	int err = pcp_cpu_off(za, (int)cpu);
	if (err) {
		za_mutex_unlock(&za->cpu_hotplug_lock);
		return err;
	}
	za_store_relaxed(&za->cpu_online[cpu], 0);
	za_store_relaxed(&za->nr_online_cpus, za->nr_online_cpus - 1);
	ZA_DEBUG_POINT(za, ZA_DP_CPU_OFFLINE, &cpu);
	/* The low watermark is now shared by fewer CPUs of the node. */
	tunables_update(za, TUNABLES_CPU);
	za_mutex_unlock(&za->cpu_hotplug_lock);
	/* The lists the drains cut, with no lock held: the error handler
	 * may call what a callback may, za_report and its mem_hotplug_lock
	 * too, which ranks before cpu_hotplug_lock. */
	pcp_cpu_report(za, (int)cpu);
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
	/* A drain the offline left to the worker (ZA_PCP_DEFERRED) is
	 * called off: the set is in use again, with its pages. */
	for_each_zone(za, z)
		pcp_set_flag(za, z, (int)cpu, ZA_PCP_OFF_CPU | ZA_PCP_DEFERRED, false);
	tunables_update(za, TUNABLES_CPU);
	za_mutex_unlock(&za->cpu_hotplug_lock);
	return 0;
}

int za_cpu_is_online(struct za *za, unsigned cpu)
{
	if (!za || cpu >= za->nr_cpus)
		return -EINVAL;
	return za_load_relaxed(&za->cpu_online[cpu]);
}
