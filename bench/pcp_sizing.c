/*
 * pcp_sizing.c - what self-sizing per-CPU lists buy.
 *
 * For a few allocation patterns, with self-sizing lists (the default) and
 * with ZA_CFG_PCP_FIXED at the size self-sizing starts from (the same
 * high_min and batch), it measures:
 *  - zone-lock acquisitions per 1000 allocations (zonealloc_zone_lock over
 *    pgalloc): every refill and every flush takes the zone lock once;
 *  - pages held on per-CPU lists (za_zone_info.pcp_pages), sampled while
 *    the pattern runs (mean and peak), and after a period of idling;
 *  - CPU time per allocation+free, for orientation only (a shared 2-core
 *    VM: noisy; nothing here is a pass/fail figure).
 *
 * Patterns, on simulated CPUs (za_config.cpu_id, one per thread):
 *  pairs      allocate one page, free it, again (one CPU);
 *  batch1024  allocate 1024 pages, free the 1024, again (one CPU);
 *  batch4096  the same with 4096 pages;
 *  prodcons   CPU 0 allocates, CPU 1 frees, through a ring of 256 pages
 *             (two threads).
 * Zones: 64 MiB and 1 GiB (frame numbers only, 4 KiB pages), two CPUs,
 * kswapd and reclaim never involved (memory stays well above low).
 *
 * Build: cmake --build build --target bench_pcp_sizing
 *   ./build/bench/bench_pcp_sizing [scale-percent]
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zonealloc.h>

#define BLK 1024UL

static _Thread_local int tl_cpu = -1;
static int sim_cpu(void *ctx)
{
	(void)ctx;
	return tl_cpu;
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void die(const char *what)
{
	fprintf(stderr, "pcp_sizing: %s\n", what);
	exit(1);
}

struct result {
	double locks_per_1000;
	double pcp_mean, ns_per_op;
	unsigned long pcp_peak, pcp_idle;
	unsigned high_end0, high_end1, batch;
};

struct sampler {
	unsigned long sum, n, peak;
};

static void sample(struct za *za, struct sampler *s)
{
	struct za_zone_info zi;
	if (za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi))
		die("za_zone_info");
	s->sum += zi.pcp_pages;
	s->n++;
	if (zi.pcp_pages > s->peak)
		s->peak = zi.pcp_pages;
}

static struct za *make(unsigned long blocks, bool fixed, unsigned high,
                       unsigned batch)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (blocks + 1) * BLK;
	cfg.vmstat_interval_ms = 50;
	cfg.flags = ZA_CFG_NO_KSWAPD | (fixed ? ZA_CFG_PCP_FIXED : 0);
	cfg.pcp_high = high;
	cfg.pcp_batch = batch;
	struct za *za = za_create(&cfg);
	if (!za)
		die("za_create");
	if (za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, blocks * BLK, NULL))
		die("za_memory_online");
	return za;
}

/* --- patterns ------------------------------------------------------------------ */

static void run_pairs(struct za *za, unsigned long n, struct sampler *s)
{
	tl_cpu = 0;
	for (unsigned long i = 0; i < n; i++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		if (!p)
			die("pairs: allocation failed");
		za_free_pages(za, p, 0);
		if ((i & 1023) == 0)
			sample(za, s);
	}
}

static void run_batch(struct za *za, unsigned long n, struct sampler *s,
                      unsigned size)
{
	static struct za_page *v[4096];
	tl_cpu = 0;
	for (unsigned long done = 0; done < n; done += size) {
		for (unsigned i = 0; i < size; i++)
			if (!(v[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)))
				die("batch: allocation failed");
		sample(za, s);
		for (unsigned i = 0; i < size; i++)
			za_free_pages(za, v[i], 0);
		sample(za, s);
	}
}

static void run_batch1024(struct za *za, unsigned long n, struct sampler *s)
{
	run_batch(za, n, s, 1024);
}

static void run_batch4096(struct za *za, unsigned long n, struct sampler *s)
{
	run_batch(za, n, s, 4096);
}

#define RING 256
struct ring {
	struct za *za;
	unsigned long n;
	struct za_page *slot[RING];
	_Atomic unsigned long head, tail; /* producer writes head, consumer tail */
	atomic_bool done;
};

static void *producer(void *arg)
{
	struct ring *r = arg;
	tl_cpu = 0;
	for (unsigned long i = 0; i < r->n; i++) {
		struct za_page *p = za_alloc_pages(r->za, ZA_GFP_KERNEL, 0);
		if (!p)
			die("prodcons: allocation failed");
		unsigned long h = atomic_load_explicit(&r->head, memory_order_relaxed);
		while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >=
		       RING)
			sched_yield();
		r->slot[h % RING] = p;
		atomic_store_explicit(&r->head, h + 1, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct ring *r = arg;
	tl_cpu = 1;
	for (unsigned long i = 0; i < r->n; i++) {
		unsigned long t = atomic_load_explicit(&r->tail, memory_order_relaxed);
		while (atomic_load_explicit(&r->head, memory_order_acquire) == t)
			sched_yield();
		struct za_page *p = r->slot[t % RING];
		atomic_store_explicit(&r->tail, t + 1, memory_order_release);
		za_free_pages(r->za, p, 0);
	}
	atomic_store(&r->done, true);
	return NULL;
}

static void run_prodcons(struct za *za, unsigned long n, struct sampler *s)
{
	static struct ring r;
	memset(&r, 0, sizeof(r));
	r.za = za;
	r.n = n;
	pthread_t pt, ct;
	if (pthread_create(&pt, NULL, producer, &r) ||
	    pthread_create(&ct, NULL, consumer, &r))
		die("pthread_create");
	while (!atomic_load(&r.done)) {
		sample(za, s);
		sleep_ms(1);
	}
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
}

/* --- driver --------------------------------------------------------------------- */

typedef void (*pattern_fn)(struct za *, unsigned long, struct sampler *);

static struct result measure(unsigned long blocks, bool fixed, unsigned high,
                             unsigned batch, pattern_fn fn, unsigned long n)
{
	struct result res;
	struct sampler s = { 0, 0, 0 };
	struct za *za = make(blocks, fixed, high, batch);
	/* Warm up: the first refills of an empty list cost the same either
	 * way; measure the steady state. */
	struct sampler warm = { 0, 0, 0 };
	fn(za, n / 10 + 1024, &warm);
	unsigned long long l0 = za_event_count(za, ZA_ZONE_LOCK);
	unsigned long long a0 = za_event_count(za, ZA_PGALLOC);
	double t0 = cpu_seconds();
	fn(za, n, &s);
	double t1 = cpu_seconds();
	unsigned long long locks = za_event_count(za, ZA_ZONE_LOCK) - l0;
	unsigned long long allocs = za_event_count(za, ZA_PGALLOC) - a0;
	res.locks_per_1000 = allocs ? (double)locks * 1000.0 / (double)allocs : 0;
	res.pcp_mean = s.n ? (double)s.sum / (double)s.n : 0;
	res.pcp_peak = s.peak;
	res.ns_per_op = allocs ? (t1 - t0) * 1e9 / (double)allocs : 0;
	struct za_pcp_info p0, p1;
	za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &p0);
	za_pcp_info(za, 1, 0, ZA_ZONE_NORMAL, &p1);
	res.high_end0 = p0.high;
	res.high_end1 = p1.high;
	res.batch = p0.batch;
	/* Idle for 40 worker intervals: what the lists still hold. */
	sleep_ms(2000);
	struct za_zone_info zi;
	za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi);
	res.pcp_idle = zi.pcp_pages;
	if (za_check(za, stderr))
		die("za_check");
	za_destroy(za);
	return res;
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 100;
	if (scale <= 0)
		scale = 100;
	static const struct {
		const char *name;
		pattern_fn fn;
		unsigned long n;
	} pats[] = {
		{ "pairs", run_pairs, 4000000 },
		{ "batch1024", run_batch1024, 4000000 },
		{ "batch4096", run_batch4096, 4000000 },
		{ "prodcons", run_prodcons, 2000000 },
	};
	static const struct {
		const char *name;
		unsigned long blocks;
	} zones[] = { { "64MiB", 16 }, { "1GiB", 256 } };

	printf("%-10s %-6s %-12s %6s %7s %7s %12s %9s %9s %9s %8s\n", "pattern",
	       "zone", "lists", "batch", "high0", "high1", "locks/1000",
	       "pcp_mean", "pcp_peak", "pcp_idle", "ns/op");
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		/* The initial size of self-sizing lists: the fixed config. */
		struct za *probe = make(zones[z].blocks, false, 0, 0);
		struct za_pcp_info pi;
		za_pcp_info(probe, 0, 0, ZA_ZONE_NORMAL, &pi);
		unsigned high = pi.high, batch = pi.batch;
		za_destroy(probe);
		for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
			unsigned long n = pats[p].n * (unsigned long)scale / 100;
			if (n < 10240)
				n = 10240;
			for (int fixed = 0; fixed <= 1; fixed++) {
				struct result r = measure(zones[z].blocks, fixed, high, batch,
				                          pats[p].fn, n);
				char lists[32];
				snprintf(lists, sizeof(lists), "%s",
				         fixed ? "fixed" : "self-sizing");
				printf("%-10s %-6s %-12s %6u %7u %7u %12.1f %9.0f %9lu %9lu %8.1f\n",
				       pats[p].name, zones[z].name, lists, r.batch,
				       r.high_end0, r.high_end1, r.locks_per_1000, r.pcp_mean,
				       r.pcp_peak, r.pcp_idle, r.ns_per_op);
				fflush(stdout);
			}
		}
		printf("(%s: fixed lists at high %u, batch %u = where self-sizing "
		       "starts)\n",
		       zones[z].name, high, batch);
	}
	return 0;
}
