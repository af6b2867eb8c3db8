/*
 * hotplug_latency.c - how long one CPU-hotplug flip waits while threads
 * allocate to exhaustion (docs/RELIABILITY.md, "CPU-hotplug latency").
 *
 * THREADS worker threads (default 4), each on a simulated CPU of its own,
 * take order-0 pages until the allocator says no and then free them all,
 * over and over: every failed allocation goes through the slow path, which
 * drains the per-CPU lists (its own, then everybody's), so the page-set
 * and zone locks are as contended as they get. One more thread flips the
 * other simulated CPUs offline and online (never a worker's, never the
 * last) and times each za_cpu_offline and za_cpu_online call. On a
 * machine with fewer cores than threads, lock holders are descheduled
 * while others wait: the case where an unfair lock lets a flip starve.
 *
 *   build/bench/bench_hotplug_latency [--gap US] [SECONDS [THREADS [CPUS [real]]]]
 *
 * --gap US: the flipper sleeps US microseconds after each offline+online
 * pair (default 200, as an administrator's or a balancer's flips come
 * now and then). 0 flips back to back: the flipper is then one more
 * thread that never sleeps, and the scheduler preempts it at the end of
 * its time slice wherever it is - in a flip, which then waits for every
 * other thread on its CPU to have its slice (several milliseconds each)
 * whatever the library does.
 *
 * "real": the workers run on the machine's real CPUs (pinned round-robin,
 * no cpu_id callback: the page sets are restartable where the machine
 * allows) and the flipper flips the last real CPU, where workers run;
 * CPUS is then ignored.
 *
 * Prints flips, mean, 99th percentile and the worst flip in ms, and the
 * allocation rate; the worst flip is the figure recorded in
 * docs/RELIABILITY.md. A benchmark, not a test: it asserts nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "zonealloc.h"

#define NR_PAGES 16384ul /* 64 MiB of 4 KiB pages, frames only */
#define MAX_FLIPS (1u << 23)

static struct za *za;
static __thread int this_cpu;
static atomic_int stop;
static atomic_ullong allocs;

static int cpu_id(void *ctx)
{
	(void)ctx;
	return this_cpu;
}

/* CPU time of the calling thread: what a flip cost in work, apart from
 * the time its thread waited for a CPU. */
static uint64_t thread_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int real_cpus; /* 0: simulated CPUs; else the machine's count */

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *worker(void *arg)
{
	struct za_page **held = malloc(NR_PAGES * sizeof(*held));
	unsigned long long n_ok = 0;

	this_cpu = (int)(intptr_t)arg;
	if (real_cpus)
		pin(this_cpu % real_cpus);
	if (!held)
		return NULL;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned long n = 0;
		struct za_page *p;

		while (n < NR_PAGES &&
		       (p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0)))
			held[n++] = p;
		n_ok += n;
		for (unsigned long i = 0; i < n; i++)
			za_free_pages(za, held[i], 0);
	}
	atomic_fetch_add(&allocs, n_ok);
	free(held);
	return NULL;
}

/* The calling thread's context switches: voluntary (it slept) and
 * involuntary (preempted, or it yielded). */
static void switches(long *vol, long *invol)
{
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	*vol = ru.ru_nvcsw;
	*invol = ru.ru_nivcsw;
}

/* How long the calling thread has waited, runnable, for a CPU (the
 * second field of /proc/thread-self/schedstat, in ns): the scheduler's
 * share of a flip's wall time. 0 where the kernel does not keep it. */
static int schedstat_fd = -1;
static uint64_t run_delay_ns(void)
{
	char buf[96];
	unsigned long long on_cpu, delay;
	if (schedstat_fd < 0)
		return 0;
	ssize_t n = pread(schedstat_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &on_cpu, &delay) != 2)
		return 0;
	return delay;
}

/* One flip, taken apart: its wall time, the CPU time its thread used
 * (the library's work, spinning included, and the system calls), the
 * time its thread waited for a CPU of this machine, and its context
 * switches. What is left of the wall time, with no sleep, is time the
 * thread's CPU itself was not running: on a virtual machine, time the
 * host gave the virtual CPU to somebody else. */
struct flip {
	uint64_t wall, cpu, runq;
	long vol, invol;
	const char *what;
};

/* What of its wall time this machine's scheduler saw: on a CPU or
 * waiting for one (run_delay is charged when the thread next runs, so
 * a wait may show in the flip after the one it fell in: never more than
 * the wall time). */
static uint64_t guest_ns(const struct flip *f)
{
	return f->cpu + f->runq < f->wall ? f->cpu + f->runq : f->wall;
}

static void note(struct flip *worst, struct flip *worst_guest,
                 const struct flip *f)
{
	if (f->wall > worst->wall)
		*worst = *f;
	if (guest_ns(f) > guest_ns(worst_guest))
		*worst_guest = *f;
}

static void print_flip(const char *title, const struct flip *f)
{
	uint64_t rest = f->wall -
	                (f->cpu + f->runq < f->wall ? f->cpu + f->runq : f->wall);
	printf("%s: an %s, %.3f ms: %.3f ms on a CPU, %.3f ms waiting for "
	       "one, %.3f ms neither (its virtual CPU not running, or asleep); "
	       "%ld sleeps, %ld preemptions or yields\n",
	       title, f->what, (double)f->wall / 1e6, (double)f->cpu / 1e6,
	       (double)f->runq / 1e6, (double)rest / 1e6, f->vol, f->invol);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long gap_us = 200;
	struct za_config cfg;
	pthread_t *t;
	uint64_t *lat;
	unsigned nflips = 0;

	if (argc > 2 && !strcmp(argv[1], "--gap")) {
		char *end;
		gap_us = strtol(argv[2], &end, 10);
		if (*end || gap_us < 0 || gap_us > 1000000) {
			fprintf(stderr, "--gap: microseconds 0..1000000, not '%s'\n",
			        argv[2]);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	double seconds = argc > 1 ? atof(argv[1]) : 10;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 4;
	unsigned cpus = argc > 3 ? (unsigned)atoi(argv[3]) : 8;
	if (argc > 4 && !strcmp(argv[4], "real"))
		real_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (seconds <= 0 || !threads || cpus < threads + 2 || cpus > 4096 ||
	    (argc > 4 && real_cpus < 2)) {
		fprintf(stderr,
		        "usage: %s [--gap US] [SECONDS [THREADS [CPUS >= THREADS+2 "
		        "[real]]]] (real: at least 2 CPUs)\n",
		        argv[0]);
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = real_cpus ? 0 : cpus;
	cfg.cpu_id = real_cpus ? NULL : cpu_id;
	cfg.block_pages = 4096;
	cfg.max_pfn = NR_PAGES;
	za = za_create(&cfg);
	if (!za || za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, NR_PAGES, NULL)) {
		fprintf(stderr, "cannot build the allocator\n");
		return 1;
	}
	t = calloc(threads, sizeof(*t));
	lat = malloc(MAX_FLIPS * sizeof(*lat));
	if (!t || !lat)
		return 1;
	unsigned nthreads = threads;
	for (unsigned i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);

	/* The flipper is on the last CPU; it flips the CPUs between the
	 * workers' and its own. */
	this_cpu = (int)cpus - 1;
	unsigned next = threads;
	if (real_cpus) {
		/* Flip the last real CPU from the first. */
		pin(0);
		cpus = (unsigned)real_cpus + 1;
		next = threads = (unsigned)real_cpus - 1;
	}
	struct za_pcp_info pi;
	za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi);
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), t0 = now_ns();
	struct flip worst = { .what = "none" }, worst_guest = worst;
	uint64_t worst_cpu = 0;
	const struct timespec gap = { gap_us / 1000000, gap_us % 1000000 * 1000 };
	schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY);
	while (now_ns() < end && nflips + 2 <= MAX_FLIPS) {
		unsigned cpu = next;
		long v0, i0, v1, i1, v2, i2;
		switches(&v0, &i0);
		uint64_t qa = run_delay_ns(), ta = thread_ns(), a = now_ns();
		int r = za_cpu_offline(za, cpu);
		uint64_t b = now_ns(), tb = thread_ns(), qb = run_delay_ns();
		switches(&v1, &i1);
		int r2 = za_cpu_online(za, cpu);
		uint64_t c = now_ns(), tc = thread_ns(), qc = run_delay_ns();
		switches(&v2, &i2);
		if (tb - ta > worst_cpu)
			worst_cpu = tb - ta;
		if (tc - tb > worst_cpu)
			worst_cpu = tc - tb;
		struct flip off = { b - a,   tb - ta, qb - qa,
			                v1 - v0, i1 - i0, "offline" };
		struct flip on = {
			c - b, tc - tb, qc - qb, v2 - v1, i2 - i1, "online"
		};
		note(&worst, &worst_guest, &off);
		note(&worst, &worst_guest, &on);
		if (r || r2) {
			fprintf(stderr, "flip of CPU %u: %d %d\n", cpu, r, r2);
			return 1;
		}
		lat[nflips++] = b - a;
		lat[nflips++] = c - b;
		if (++next >= cpus - 1)
			next = threads;
		if (gap_us)
			nanosleep(&gap, NULL);
	}
	double wall = (double)(now_ns() - t0) / 1e9;
	atomic_store(&stop, 1);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);

	qsort(lat, nflips, sizeof(*lat), cmp_u64);
	double sum = 0;
	for (unsigned i = 0; i < nflips; i++)
		sum += (double)lat[i];
	printf("%s page sets, ", pi.restartable ? "restartable" : "locked");
	printf("threads %u, %s CPUs %u, gap %ld us, %.1f s: %u flips "
	       "(offline or online), mean %.3f ms, p99 %.3f ms, p99.9 %.3f ms, worst %.3f ms; "
	       "%.2f M allocations/s; %llu offlines left a set to the worker; "
	       "most CPU time one flip used %.3f ms (the rest of its worst was "
	       "its thread waiting for a CPU)\n",
	       nthreads, real_cpus ? "real" : "simulated",
	       real_cpus ? (unsigned)real_cpus : cpus, gap_us, wall, nflips,
	       nflips ? sum / nflips / 1e6 : 0.0,
	       nflips ? (double)lat[nflips * 99 / 100] / 1e6 : 0.0,
	       nflips ? (double)lat[nflips * 999 / 1000] / 1e6 : 0.0,
	       nflips ? (double)lat[nflips - 1] / 1e6 : 0.0,
	       (double)atomic_load(&allocs) / wall / 1e6,
	       za_event_count(za, ZA_PCP_OFFLINE_DEFERRED),
	       (double)worst_cpu / 1e6);
	print_flip("worst flip", &worst);
	if (schedstat_fd >= 0)
		print_flip("worst flip on this machine's CPUs (on one, or "
		           "waiting for one)",
		           &worst_guest);
	int check = za_check(za, stderr);
	za_destroy(za);
	free(lat);
	free(t);
	return check ? 1 : 0;
}
