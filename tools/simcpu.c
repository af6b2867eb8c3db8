/*
 * simcpu.c - simulated CPUs for the za_config.cpu_id callback.
 *
 * A machine with two cores cannot show an allocator what 64 CPUs do, but
 * the allocator only learns its CPU by asking. Here each thread answers
 * from a thread-local "current CPU", so many threads can share one CPU
 * (what preemption looks like to a per-CPU list: the owner's try-lock
 * fails), move between CPUs, and move right after answering (the thread
 * then locks a list that is no longer "its" CPU's: correct, because the
 * lock protects the list, DESIGN.md says; here we check that it is).
 *
 * The online map is the tool's own, the scheduler's view: a CPU leaves it
 * before za_cpu_offline is called and joins after za_cpu_online returns,
 * so threads stop picking a CPU before the allocator takes it down, while
 * a thread that read the CPU a moment earlier may still be using it.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>

#include "tool.h"

static unsigned nr_cpus = 1;
static unsigned char online_map[ZA_MAX_CPUS]; /* __atomic accessed */
static unsigned online_count;                 /* __atomic accessed */

static _Thread_local int cur_cpu = -1;
static _Thread_local uint64_t cpu_rng;
static _Thread_local unsigned cpu_jitter;

void simcpu_init(unsigned n)
{
	unsigned i;

	if (n < 1)
		n = 1;
	if (n > ZA_MAX_CPUS)
		n = ZA_MAX_CPUS;
	nr_cpus = n;
	for (i = 0; i < ZA_MAX_CPUS; i++)
		__atomic_store_n(&online_map[i], i < n, __ATOMIC_RELAXED);
	__atomic_store_n(&online_count, n, __ATOMIC_RELEASE);
}

int simcpu_is_online(unsigned cpu)
{
	return cpu < nr_cpus &&
	       __atomic_load_n(&online_map[cpu], __ATOMIC_ACQUIRE);
}

unsigned simcpu_nr_online(void)
{
	return __atomic_load_n(&online_count, __ATOMIC_ACQUIRE);
}

void simcpu_set_online(unsigned cpu, int on)
{
	unsigned char want = on ? 1 : 0;

	if (cpu >= nr_cpus)
		return;
	if (__atomic_exchange_n(&online_map[cpu], want, __ATOMIC_ACQ_REL) !=
	    want) {
		if (on)
			__atomic_add_fetch(&online_count, 1, __ATOMIC_RELEASE);
		else
			__atomic_sub_fetch(&online_count, 1, __ATOMIC_RELEASE);
	}
}

/* An online CPU found from a starting point; `start` if none is (the
 * hotplug driver never offlines the last one, so that is transient). */
static unsigned online_from(unsigned start)
{
	unsigned k;

	for (k = 0; k < nr_cpus; k++) {
		unsigned c = (start + k) % nr_cpus;
		if (simcpu_is_online(c))
			return c;
	}
	return start % nr_cpus;
}

int simcpu_cpu_id(void *ctx)
{
	int c = cur_cpu;

	(void)ctx;
	if (c < 0) {
		/* A thread outside the simulation: the allocator's own
		 * threads, or the main thread. Answer with an online CPU near
		 * the real one, as the kernel's scheduler would. */
		int real = sched_getcpu();
		return (int)online_from(real < 0 ? 0u : (unsigned)real % nr_cpus);
	}
	/* Migrated right after reading the CPU: the caller goes on with
	 * the CPU it was told while this thread now runs elsewhere. */
	if (cpu_jitter && rng_below(&cpu_rng, cpu_jitter) == 0)
		cur_cpu = (int)online_from(rng_below(&cpu_rng, nr_cpus));
	return c;
}

void simcpu_thread_start(unsigned cpu, uint64_t seed, unsigned jitter)
{
	cpu_rng = mix64(seed) | 1;
	cpu_jitter = jitter;
	cur_cpu = (int)(cpu % nr_cpus);
}

int simcpu_current(void)
{
	return cur_cpu;
}

void simcpu_move(unsigned cpu)
{
	cur_cpu = (int)(cpu % nr_cpus);
}

unsigned simcpu_hop(void)
{
	unsigned c = online_from(rng_below(&cpu_rng, nr_cpus));
	cur_cpu = (int)c;
	return c;
}

int simcpu_stranded(void)
{
	return cur_cpu >= 0 && !simcpu_is_online((unsigned)cur_cpu);
}
