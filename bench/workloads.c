/*
 * workloads.c - the page-allocator benchmark: one source, built once per
 * allocator (bench_zonealloc, bench_glibc, bench_jemalloc, bench_tcmalloc,
 * bench_mimalloc). The allocator calls come from bench_alloc.h.
 *
 * Unit of measure, the same for every workload and allocator:
 *   one op = one block allocated and that same block freed again
 *            (an alloc+free pair, whichever threads do the two halves);
 *   ns/op  = wall time x threads / ops, i.e. thread-time spent per op.
 *            With perfect scaling it stays the same from 1 to 2 threads;
 *            Mops/s (ops / wall time) is reported beside it.
 *
 * Workloads (1 and 2 threads unless said):
 *   pair        alloc order 0, free it, repeat
 *   batch       1024 order-0 allocs, then the 1024 frees (same order)
 *   bulk        za_alloc_pages_bulk(64) then za_free_pages_bulk(64)
 *               (peers: a loop of 64 aligned_alloc, a loop of 64 free)
 *   xfree       2 threads: thread 0 allocates order 0 and passes each
 *               block through a single-producer single-consumer ring to
 *               thread 1, which frees it
 *   xfree-swap  2 threads: each allocates, passes to the other through its
 *               own SPSC ring, and frees what the other passed to it
 *   mixed       orders 0..9 over a 64 MiB working set per thread: order 0
 *               half the time, 1..3 a third, 4..9 the rest (uniform inside
 *               each group); each op frees a random live slot and
 *               allocates a new block into it
 *   replay      (with the trace reader, zatrace) the kernel trace replayed threaded,
 *               trace CPU c on thread c % threads (bench/replay.c)
 * and, only when named with --only: pair-mid (pair with order-5 blocks,
 * 128 KiB: the orders 4..8 that zonealloc caches per CPU), and two
 * calibrations of the machine with no allocator at all: calib (1 and 2
 * threads of pure arithmetic: how far this machine scales) and
 * calib-ring (the xfree ring alone).
 *
 * Each measurement: warm-up, then reps repetitions of at least --time
 * seconds (0.5 s; --quick 0.1 s), median reported. Worker threads persist
 * across the warm-up and the repetitions of one workload, so thread
 * caches stay warm; each is pinned to its own core.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_alloc.h"
#include "bench_replay.h"

#define MAX_THREADS 2
#define MAX_REPS 15
#define CACHELINE 64

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Keep the compiler from proving an alloc+free pair dead and deleting it
 * (GCC knows aligned_alloc/free as builtins). */
static inline void escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

/* Waiting for the other thread of a ring: spin a little, then give the
 * core away, so that a waiting thread never burns the time slice of the
 * thread it waits for when the machine has fewer free cores than threads. */
static inline void ring_wait(unsigned *spins)
{
	if (++*spins < 256) {
		cpu_relax();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- options ------------------------------------------------------------ */

static struct {
	double time_s, warmup_s;
	int reps;
	int quick;
	unsigned long iters; /* fixed-count mode (instruction counting) */
	const char *only;    /* comma list of workload names */
	const char *variant; /* one variant name */
	int threads_mask;    /* bit t-1: run with t threads */
	const char *csv, *json;
	int sched_cpu;
	unsigned nr_cpus;
	unsigned cpu_stride;
	unsigned long mem_mib;
	int pin;
	const char *trace;
	unsigned long trace_events; /* replay only the first N events (0: all) */
	int verbose;
} opt = {
	.time_s = 0.5,
	.warmup_s = 0.2,
	.reps = 5,
	.threads_mask = 3,
	.mem_mib = 1024,
	.pin = 1,
	.sched_cpu = 1,
	.trace = BENCH_DEFAULT_TRACE,
};

/* ---- workers -------------------------------------------------------------- */

struct run;

struct worker {
	_Alignas(CACHELINE) unsigned idx;
	struct run *run;
	void *state;     /* per-thread workload state */
	uint64_t ops;    /* ops completed in the last repetition */
	uint64_t fails;  /* allocations that returned NULL */
	uint64_t t0, t1; /* start and end of the last repetition */
	pthread_t tid;
};

struct workload {
	const char *name;
	const char *desc;
	unsigned threads[2];             /* thread counts to run (0 = none) */
	int (*setup)(struct run *r);     /* main thread, before the workers */
	void (*teardown)(struct run *r); /* main thread, after they joined */
	int (*init)(struct worker *w);   /* in each worker, before the warm-up */
	uint64_t (*run)(struct worker *w);
	void (*fini)(struct worker *w);   /* in each worker, at the end */
	void (*after_rep)(struct run *r); /* main thread, between reps */
};

struct run {
	const struct workload *wl;
	unsigned nthreads;
	_Atomic int stop;    /* set by the main thread to end a repetition */
	int quit;            /* read by workers after the start barrier */
	int counted;         /* this repetition is the instruction-counted one */
	unsigned long limit; /* fixed-count mode: ops per repetition */
	pthread_barrier_t ready, start, end;
	void *shared; /* rings, trace */
	struct worker w[MAX_THREADS];
};

static inline int should_stop(struct worker *w, uint64_t ops)
{
	struct run *r = w->run;

	if (unlikely(r->limit))
		return ops >= r->limit;
	return atomic_load_explicit(&r->stop, memory_order_relaxed);
}

/* ---- SPSC ring (xfree workloads) -------------------------------------- */

/* The producer publishes its index every RING_PUBLISH pushes and the
 * consumer its index every RING_PUBLISH pops (and both whenever they would
 * otherwise wait), so that the ring's own cache-line traffic between the
 * two cores stays small next to the allocator's: without it one line
 * bounces per block and the ring, not the allocator, sets the pace. */
#define RING_CAP 1024u
#define RING_PUBLISH 32u

struct ring {
	_Alignas(CACHELINE) _Atomic size_t head; /* published by the producer */
	_Alignas(CACHELINE) size_t p_head;       /* producer: next slot to fill */
	size_t p_tail_seen;                      /* producer: copy of tail */
	_Alignas(CACHELINE) _Atomic size_t tail; /* published by the consumer */
	_Alignas(CACHELINE) size_t c_tail;       /* consumer: next slot to read */
	size_t c_head_seen;                      /* consumer: copy of head */
	_Alignas(CACHELINE) void *slot[RING_CAP];
};

static inline void ring_publish_head(struct ring *r)
{
	atomic_store_explicit(&r->head, r->p_head, memory_order_release);
}

static inline void ring_publish_tail(struct ring *r)
{
	atomic_store_explicit(&r->tail, r->c_tail, memory_order_release);
}

/* Producer side. 0 when the ring is full (everything is then published). */
static inline int ring_push(struct ring *r, void *p)
{
	size_t h = r->p_head;

	if (h - r->p_tail_seen == RING_CAP) {
		ring_publish_head(r);
		r->p_tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - r->p_tail_seen == RING_CAP)
			return 0;
	}
	r->slot[h & (RING_CAP - 1)] = p;
	r->p_head = h + 1;
	if ((r->p_head & (RING_PUBLISH - 1)) == 0)
		ring_publish_head(r);
	return 1;
}

/* Consumer side. NULL when nothing is published (its own index then is). */
static inline void *ring_pop(struct ring *r)
{
	size_t t = r->c_tail;
	void *p;

	if (t == r->c_head_seen) {
		ring_publish_tail(r);
		r->c_head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
		if (t == r->c_head_seen)
			return NULL;
	}
	p = r->slot[t & (RING_CAP - 1)];
	r->c_tail = t + 1;
	if ((r->c_tail & (RING_PUBLISH - 1)) == 0)
		ring_publish_tail(r);
	return p;
}

/* ---- pair ---------------------------------------------------------------- */

static inline __attribute__((always_inline)) uint64_t
run_pair_order(struct worker *w, unsigned order)
{
	uint64_t ops = 0, fails = 0;

	do {
		for (int i = 0; i < 64; i++) {
			void *p = ba_alloc(order);

			if (unlikely(!p)) {
				fails++;
				continue;
			}
			escape(p);
			ba_free(p, order);
		}
		ops += 64;
	} while (!should_stop(w, ops));
	w->fails += fails;
	return ops - fails;
}

static uint64_t run_pair(struct worker *w)
{
	return run_pair_order(w, 0);
}

/* Order 5 (128 KiB): one of the orders 4..8 that zonealloc caches per
 * CPU under a byte budget (named with --only). */
static uint64_t run_pair_mid(struct worker *w)
{
	return run_pair_order(w, 5);
}

/* ---- batch of 1024 ------------------------------------------------------- */

#define BATCH 1024

static int init_array(struct worker *w)
{
	w->state = calloc(BATCH, sizeof(void *));
	return w->state ? 0 : -1;
}

static void fini_free_state(struct worker *w)
{
	free(w->state);
	w->state = NULL;
}

static uint64_t run_batch(struct worker *w)
{
	void **v = w->state;
	uint64_t ops = 0, fails = 0;

	do {
		for (int i = 0; i < BATCH; i++) {
			v[i] = ba_alloc(0);
			escape(v[i]);
		}
		for (int i = 0; i < BATCH; i++) {
			if (likely(v[i]))
				ba_free(v[i], 0);
			else
				fails++;
		}
		ops += BATCH;
	} while (!should_stop(w, ops));
	w->fails += fails;
	return ops - fails;
}

/* ---- bulk 64 ---------------------------------------------------------------- */

#define BULK 64

static uint64_t run_bulk(struct worker *w)
{
	void **v = w->state;
	uint64_t ops = 0, fails = 0;

	do {
		unsigned n = ba_alloc_bulk(BULK, v);

		escape(v);
		ba_free_bulk(n, v);
		ops += n;
		fails += BULK - n;
	} while (!should_stop(w, ops + fails));
	w->fails += fails;
	return ops;
}

/* ---- xfree: SPSC producer -> consumer ------------------------------------- */

static int setup_rings(struct run *r)
{
	struct ring *rings = aligned_alloc(CACHELINE, 2 * sizeof(struct ring));

	if (!rings)
		return -1;
	memset(rings, 0, 2 * sizeof(struct ring));
	r->shared = rings;
	return 0;
}

/* Free what is left in the rings (main thread, untimed). */
static void drain_rings(struct run *r)
{
	struct ring *rings = r->shared;
	void *p;

	/* The workers are parked at a barrier: take every pushed block, even
	 * the ones the producer had not published yet. */
	for (int i = 0; i < 2; i++) {
		ring_publish_head(&rings[i]);
		while ((p = ring_pop(&rings[i])))
			ba_free(p, 0);
	}
}

static void teardown_rings(struct run *r)
{
	drain_rings(r);
	free(r->shared);
	r->shared = NULL;
}

/* With real = 0 nothing is allocated (a dummy pointer travels): the
 * calibration of the ring itself. */
static inline uint64_t xfree_body(struct worker *w, const int real)
{
	struct ring *ring = w->run->shared;
	uint64_t n = 0;

	if (w->idx == 0) { /* producer: its ops are counted by the consumer */
		for (;;) {
			void *p = real ? ba_alloc(0) : (void *)ring;

			if (unlikely(!p)) {
				w->fails++;
				if (should_stop(w, 0))
					break;
				continue;
			}
			unsigned spins = 0;

			while (!ring_push(ring, p)) {
				if (should_stop(w, 0)) {
					if (real)
						ba_free(p, 0);
					return 0;
				}
				ring_wait(&spins);
			}
			if ((++n & 63) == 0 && should_stop(w, 0))
				break;
		}
		return 0;
	}
	for (unsigned spins = 0;;) { /* consumer: frees */
		void *p = ring_pop(ring);

		if (p) {
			spins = 0;
			if (real)
				ba_free(p, 0);
			else
				escape(p);
			if ((++n & 63) == 0 && should_stop(w, 0))
				break;
		} else {
			if (should_stop(w, 0))
				break;
			ring_wait(&spins);
		}
	}
	return n;
}

static uint64_t run_xfree(struct worker *w)
{
	return xfree_body(w, 1);
}

static uint64_t run_ring_calib(struct worker *w)
{
	return xfree_body(w, 0);
}

/* The calibration ring carries no blocks: nothing to free. */
static void reset_rings(struct run *r)
{
	struct ring *rings = r->shared;

	for (int i = 0; i < 2; i++) {
		ring_publish_head(&rings[i]);
		while (ring_pop(&rings[i]))
			;
	}
}

static void teardown_calib_rings(struct run *r)
{
	reset_rings(r);
	free(r->shared);
	r->shared = NULL;
}

/* ---- xfree-swap: both directions ---------------------------------------- */

static uint64_t run_xswap(struct worker *w)
{
	struct ring *rings = w->run->shared;
	struct ring *out = &rings[w->idx], *in = &rings[1 - w->idx];
	void *pending = NULL;
	uint64_t n = 0, iter = 0;
	unsigned spins = 0;

	for (;;) {
		void *q;
		int progress = 0;

		if (!pending) {
			pending = ba_alloc(0);
			if (unlikely(!pending))
				w->fails++;
		}
		if (pending && ring_push(out, pending)) {
			pending = NULL;
			progress = 1;
		}
		if ((q = ring_pop(in))) {
			ba_free(q, 0);
			n++;
			progress = 1;
		}
		if (!progress)
			ring_wait(&spins);
		if ((++iter & 63) == 0 && should_stop(w, 0))
			break;
	}
	if (pending)
		ba_free(pending, 0);
	return n;
}

/* ---- mixed orders over a 64 MiB working set ------------------------------ */

#define MIXED_WS (64ul << 20)
#define MIXED_TAB (1u << 16)

struct mixed_slot {
	void *p;
	unsigned order;
};

struct mixed_op {
	uint16_t slot;
	uint8_t order;
};

struct mixed_state {
	unsigned nslots;
	unsigned pos;
	struct mixed_slot *slots;
	struct mixed_op tab[MIXED_TAB];
};

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Order 0 half the time, 1..3 a third, 4..9 a sixth. */
static unsigned mixed_order(uint64_t *s)
{
	uint64_t r = xorshift64(s) >> 11;
	unsigned g = (unsigned)(r % 6);

	r /= 6;
	if (g < 3)
		return 0;
	if (g < 5)
		return 1 + (unsigned)(r % 3);
	return 4 + (unsigned)(r % 6);
}

/* Expected block size in pages: 1/2*1 + 1/3*(2+4+8)/3 + 1/6*(16+..+512)/6. */
static double mixed_mean_pages(void)
{
	return 0.5 * 1 + (1.0 / 3) * (14.0 / 3) + (1.0 / 6) * (1008.0 / 6);
}

static int init_mixed(struct worker *w)
{
	struct mixed_state *m = calloc(1, sizeof(*m));
	uint64_t seed = 0x9E3779B97F4A7C15ull * (w->idx + 1);

	if (!m)
		return -1;
	m->nslots = (unsigned)(MIXED_WS / (mixed_mean_pages() * 4096.0));
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return -1;
	}
	for (unsigned i = 0; i < MIXED_TAB; i++) {
		m->tab[i].slot = (uint16_t)((xorshift64(&seed) >> 20) % m->nslots);
		m->tab[i].order = (uint8_t)mixed_order(&seed);
	}
	for (unsigned i = 0; i < m->nslots; i++) {
		m->slots[i].order = mixed_order(&seed);
		m->slots[i].p = ba_alloc(m->slots[i].order);
		if (!m->slots[i].p)
			w->fails++;
	}
	w->state = m;
	return 0;
}

static uint64_t run_mixed(struct worker *w)
{
	struct mixed_state *m = w->state;
	uint64_t ops = 0, fails = 0;
	unsigned pos = m->pos;

	do {
		for (int i = 0; i < 64; i++) {
			struct mixed_op op = m->tab[pos++ & (MIXED_TAB - 1)];
			struct mixed_slot *s = &m->slots[op.slot];

			if (likely(s->p))
				ba_free(s->p, s->order);
			s->p = ba_alloc(op.order);
			s->order = op.order;
			if (unlikely(!s->p))
				fails++;
			escape(s->p);
		}
		ops += 64;
	} while (!should_stop(w, ops));
	m->pos = pos;
	w->fails += fails;
	return ops - fails;
}

static void fini_mixed(struct worker *w)
{
	struct mixed_state *m = w->state;

	for (unsigned i = 0; i < m->nslots; i++)
		if (m->slots[i].p)
			ba_free(m->slots[i].p, m->slots[i].order);
	free(m->slots);
	free(m);
	w->state = NULL;
}

/* ---- replay of a kernel trace (bench_replay.h) -------------------------- */

#ifdef BENCH_HAVE_REPLAY
static int setup_replay(struct run *r)
{
	r->shared = bench_replay_load(opt.trace, opt.trace_events, r->nthreads,
	                              stderr);
	return r->shared ? 0 : -1;
}

static void teardown_replay(struct run *r)
{
	bench_replay_unload(r->shared);
	r->shared = NULL;
}

static int init_replay(struct worker *w)
{
	w->state = bench_replay_thread_init(w->run->shared, w->idx);
	return w->state ? 0 : -1;
}

static int replay_stop(void *ctx)
{
	struct worker *w = ctx;

	return should_stop(w, w->ops);
}

static uint64_t run_replay(struct worker *w)
{
	int again = 1;

	/* w->ops carries the running count for replay_stop (fixed mode). */
	w->ops = 0;
	while (again)
		w->ops += bench_replay_pass(w->state, &w->fails, replay_stop, w,
		                            &again);
	return w->ops;
}

static void fini_replay(struct worker *w)
{
	bench_replay_thread_fini(w->state);
	w->state = NULL;
}
#endif

/* ---- calibration: no allocator at all ----------------------------------- */

/* A dependent multiply-add chain of ~20 ns: what 1 and 2 threads of pure
 * computation get on this machine. On a VM whose two vCPUs share a core
 * this is the ceiling for any 2-thread scaling figure. */
static uint64_t run_calib(struct worker *w)
{
	uint64_t ops = 0, x = w->idx + 1;

	do {
		for (int i = 0; i < 64; i++) {
			for (int k = 0; k < 20; k++)
				x = x * 6364136223846793005ull + 1442695040888963407ull;
			escape((void *)(uintptr_t)x);
		}
		ops += 64;
	} while (!should_stop(w, ops));
	return ops;
}

/* ---- the table ------------------------------------------------------------ */

static const struct workload workloads[] = {
	{ "pair",
	  "order-0 alloc+free pairs",
	  { 1, 2 },
	  NULL,
	  NULL,
	  NULL,
	  run_pair,
	  NULL,
	  NULL },
	{ "batch",
	  "1024 allocs then 1024 frees",
	  { 1, 2 },
	  NULL,
	  NULL,
	  init_array,
	  run_batch,
	  fini_free_state,
	  NULL },
	{ "bulk",
	  "bulk alloc 64 + bulk free 64",
	  { 1, 2 },
	  NULL,
	  NULL,
	  init_array,
	  run_bulk,
	  fini_free_state,
	  NULL },
	{ "xfree",
	  "alloc on thread 0, free on thread 1 (SPSC ring)",
	  { 2, 0 },
	  setup_rings,
	  teardown_rings,
	  NULL,
	  run_xfree,
	  NULL,
	  drain_rings },
	{ "xfree-swap",
	  "each thread frees the other's pages (2 rings)",
	  { 2, 0 },
	  setup_rings,
	  teardown_rings,
	  NULL,
	  run_xswap,
	  NULL,
	  drain_rings },
	{ "mixed",
	  "orders 0..9, 64 MiB working set per thread",
	  { 1, 2 },
	  NULL,
	  NULL,
	  init_mixed,
	  run_mixed,
	  fini_mixed,
	  NULL },
#ifdef BENCH_HAVE_REPLAY
	{ "replay",
	  "kernel-mixed trace, threaded",
	  { 1, 2 },
	  setup_replay,
	  teardown_replay,
	  init_replay,
	  run_replay,
	  fini_replay,
	  NULL },
#endif
	/* Only when named in --only: */
	{ "pair-mid",
	  "order-5 (128 KiB) alloc+free pairs",
	  { 1, 2 },
	  NULL,
	  NULL,
	  NULL,
	  run_pair_mid,
	  NULL,
	  NULL },
	/* (calibrations of the machine) */
	{ "calib",
	  "no allocator: 20 dependent multiply-adds (machine scaling)",
	  { 1, 2 },
	  NULL,
	  NULL,
	  NULL,
	  run_calib,
	  NULL,
	  NULL },
	{ "calib-ring",
	  "no allocator: the xfree ring alone",
	  { 2, 0 },
	  setup_rings,
	  teardown_calib_rings,
	  NULL,
	  run_ring_calib,
	  NULL,
	  reset_rings },
};
#define NR_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

/* ---- measurement ------------------------------------------------------ */

struct result {
	const char *alloc;
	const char *workload;
	unsigned threads;
	int nreps;
	double ns[MAX_REPS]; /* ns/op of each repetition */
	double median, min, max;
	double mops;  /* at the median repetition */
	uint64_t ops; /* over all measured repetitions */
	uint64_t fails;
	int have_stats;
	double zl_per_1k;     /* zone-lock acquisitions per 1000 pages
	                           * allocated (ZA_PGALLOC counts pages) */
	double zl_per_1k_ops; /* the same per 1000 allocation calls (ops) */
	unsigned long long zone_lock, pgalloc, refill, flush, trylock_fail;
	unsigned long pcp_pages_end;
	size_t meta_bytes;
	int check_failed;
};

static struct result results[64];
static unsigned nr_results;
static int ncpus_allowed;
static int cpus_allowed[CPU_SETSIZE];

static void pin_to(unsigned idx)
{
	cpu_set_t set;

	if (!opt.pin || ncpus_allowed <= 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpus_allowed[idx % (unsigned)ncpus_allowed], &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The one function the instruction counter (callgrind --toggle-collect)
 * looks at: the measured repetition in fixed-count mode. */
__attribute__((noinline)) uint64_t bench_counted_run(struct worker *w)
{
	return w->run->wl->run(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	int ok;

	pin_to(w->idx);
	ba_thread_start(w->idx);
	ok = !r->wl->init || r->wl->init(w) == 0;
	if (!ok)
		fprintf(stderr, "%s: thread %u failed to initialise\n", r->wl->name,
		        w->idx);
	pthread_barrier_wait(&r->ready);
	for (;;) {
		pthread_barrier_wait(&r->start);
		if (r->quit)
			break;
		w->t0 = now_ns();
		w->ops = ok ? (r->counted ? bench_counted_run(w) : r->wl->run(w)) : 0;
		w->t1 = now_ns();
		pthread_barrier_wait(&r->end);
	}
	if (ok && r->wl->fini)
		r->wl->fini(w);
	return NULL;
}

/* One repetition: release the workers, let them run, stop them. Returns
 * ns/op (thread-time per op), or -1 if no op completed. */
static double one_rep(struct run *r, double seconds, uint64_t *ops_out,
                      double *mops)
{
	uint64_t ops = 0, t0 = UINT64_MAX, t1 = 0;

	atomic_store(&r->stop, 0);
	pthread_barrier_wait(&r->start);
	if (!r->limit) {
		struct timespec ts = { (time_t)seconds,
			                   (long)((seconds - (time_t)seconds) * 1e9) };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		atomic_store(&r->stop, 1);
	}
	pthread_barrier_wait(&r->end);
	for (unsigned i = 0; i < r->nthreads; i++) {
		ops += r->w[i].ops;
		if (r->w[i].t0 < t0)
			t0 = r->w[i].t0;
		if (r->w[i].t1 > t1)
			t1 = r->w[i].t1;
	}
	if (r->wl->after_rep)
		r->wl->after_rep(r);
	*ops_out = ops;
	if (!ops)
		return -1;
	*mops = (double)ops / ((double)(t1 - t0) / 1e3);
	return (double)(t1 - t0) * r->nthreads / (double)ops;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int measure(const char *alloc, const struct workload *wl,
                   unsigned nthreads)
{
	static struct run r; /* big and aligned; one at a time */
	struct result *res = &results[nr_results];
	struct bench_alloc_stats s0, s1, s2;
	double mops[MAX_REPS], sorted[MAX_REPS];
	int rc = 0;

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	r.wl = wl;
	r.nthreads = nthreads;
	res->alloc = alloc;
	res->workload = wl->name;
	res->threads = nthreads;
	if (wl->setup && wl->setup(&r)) {
		fprintf(stderr, "%s/%s: set-up failed\n", alloc, wl->name);
		return -1;
	}
	pthread_barrier_init(&r.ready, NULL, nthreads + 1);
	pthread_barrier_init(&r.start, NULL, nthreads + 1);
	pthread_barrier_init(&r.end, NULL, nthreads + 1);
	for (unsigned i = 0; i < nthreads; i++) {
		r.w[i].idx = i;
		r.w[i].run = &r;
		if (pthread_create(&r.w[i].tid, NULL, worker_main, &r.w[i])) {
			perror("pthread_create");
			exit(2);
		}
	}
	pthread_barrier_wait(&r.ready);

	/* Warm-up: caches, per-CPU lists, page tables of the peers' heaps. */
	{
		uint64_t ops;
		double m;

		r.limit = opt.iters;
		one_rep(&r, opt.warmup_s, &ops, &m);
	}
	ba_stats(&s0);
	res->nreps = opt.iters ? 1 : opt.reps;
	for (int i = 0; i < res->nreps; i++) {
		uint64_t ops = 0;

		r.counted = opt.iters != 0;
		res->ns[i] = one_rep(&r, opt.time_s, &ops, &mops[i]);
		res->ops += ops;
	}
	ba_stats(&s1);

	r.quit = 1;
	pthread_barrier_wait(&r.start);
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(r.w[i].tid, NULL);
		res->fails += r.w[i].fails;
	}
	if (wl->teardown)
		wl->teardown(&r);
	pthread_barrier_destroy(&r.ready);
	pthread_barrier_destroy(&r.start);
	pthread_barrier_destroy(&r.end);

	/* Median over the repetitions. */
	memcpy(sorted, res->ns, sizeof(double) * (size_t)res->nreps);
	qsort(sorted, (size_t)res->nreps, sizeof(double), cmp_double);
	res->median = sorted[res->nreps / 2];
	res->min = sorted[0];
	res->max = sorted[res->nreps - 1];
	for (int i = 0; i < res->nreps; i++)
		if (res->ns[i] == res->median)
			res->mops = mops[i];

	/* zonealloc's own counters: measured repetitions only, then what the
	 * per-CPU lists still hold once the workload freed everything. */
	ba_stats(&s2);
	if (s1.valid) {
		res->have_stats = 1;
		res->zone_lock = s1.zone_lock - s0.zone_lock;
		res->pgalloc = s1.pgalloc - s0.pgalloc;
		res->refill = s1.pcp_refill - s0.pcp_refill;
		res->flush = s1.pcp_flush - s0.pcp_flush;
		res->trylock_fail = s1.trylock_fail - s0.trylock_fail;
		res->zl_per_1k = res->pgalloc ? 1000.0 * (double)res->zone_lock /
		                                    (double)res->pgalloc
		                              : 0;
		res->zl_per_1k_ops = res->ops ? 1000.0 * (double)res->zone_lock /
		                                    (double)res->ops
		                              : 0;
		res->pcp_pages_end = s2.pcp_pages;
		res->meta_bytes = s2.meta_bytes;
	}
	if (ba_quiesce(stderr)) {
		res->check_failed = 1;
		rc = -1;
	}
	nr_results++;
	return rc;
}

/* ---- output --------------------------------------------------------------- */

static void print_header(void)
{
	printf("%-16s %-11s %3s %9s %9s %9s %9s  %s\n", "allocator", "workload",
	       "thr", "ns/op", "min", "max", "Mops/s",
	       "zone-lock/1k-pages /1k-ops  pcp-pages-at-end");
}

static void print_result(const struct result *res)
{
	printf("%-16s %-11s %3u %9.2f %9.2f %9.2f %9.2f", res->alloc,
	       res->workload, res->threads, res->median, res->min, res->max,
	       res->mops);
	if (res->have_stats)
		printf("  %10.2f %8.2f  %10lu", res->zl_per_1k, res->zl_per_1k_ops,
		       res->pcp_pages_end);
	if (res->fails)
		printf("  (%llu failed allocations)", (unsigned long long)res->fails);
	if (res->check_failed)
		printf("  CHECK FAILED");
	printf("\n");
	fflush(stdout);
}

static const char csv_header[] =
    "allocator,workload,threads,ns_per_op,ns_min,ns_max,mops,reps,ops,"
    "failed_allocs,zone_lock,pgalloc,zone_lock_per_1k_alloc,pcp_refill,"
    "pcp_flush,pcp_trylock_fail,pcp_pages_end,meta_bytes_per_page,"
    "zone_lock_per_1k_ops\n";

static void write_csv(const char *path)
{
	FILE *f = fopen(path, "a+");

	if (!f) {
		perror(path);
		return;
	}
	fseek(f, 0, SEEK_END);
	if (ftell(f) == 0)
		fputs(csv_header, f);
	for (unsigned i = 0; i < nr_results; i++) {
		const struct result *r = &results[i];

		fprintf(f, "%s,%s,%u,%.3f,%.3f,%.3f,%.3f,%d,%llu,%llu,", r->alloc,
		        r->workload, r->threads, r->median, r->min, r->max, r->mops,
		        r->nreps, (unsigned long long)r->ops,
		        (unsigned long long)r->fails);
		if (r->have_stats)
			fprintf(f, "%llu,%llu,%.3f,%llu,%llu,%llu,%lu,%zu,%.3f\n",
			        r->zone_lock, r->pgalloc, r->zl_per_1k, r->refill,
			        r->flush, r->trylock_fail, r->pcp_pages_end, r->meta_bytes,
			        r->zl_per_1k_ops);
		else
			fprintf(f, ",,,,,,,,\n");
	}
	fclose(f);
}

/* One result per line, so that bench/run.sh can merge files with grep. */
static void write_json(const char *path, const char *version)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		return;
	}
	fprintf(f,
	        "{\n  \"version\": \"%s\",\n  \"op\": \"one block allocated "
	        "and freed; ns_per_op = wall time x threads / ops\",\n"
	        "  \"time_s\": %.3f, \"reps\": %d,\n  \"results\": [\n",
	        version, opt.time_s, opt.reps);
	for (unsigned i = 0; i < nr_results; i++) {
		const struct result *r = &results[i];

		fprintf(f,
		        "    {\"allocator\": \"%s\", \"workload\": \"%s\", "
		        "\"threads\": %u, \"ns_per_op\": %.3f, \"ns_min\": %.3f, "
		        "\"ns_max\": %.3f, \"mops\": %.3f, \"ops\": %llu, "
		        "\"failed_allocs\": %llu, \"reps_ns\": [",
		        r->alloc, r->workload, r->threads, r->median, r->min, r->max,
		        r->mops, (unsigned long long)r->ops,
		        (unsigned long long)r->fails);
		for (int k = 0; k < r->nreps; k++)
			fprintf(f, "%s%.3f", k ? ", " : "", r->ns[k]);
		fprintf(f, "]");
		if (r->have_stats)
			fprintf(f,
			        ", \"zone_lock\": %llu, \"pgalloc\": %llu, "
			        "\"zone_lock_per_1k_alloc\": %.3f, \"pcp_refill\": %llu, "
			        "\"pcp_flush\": %llu, \"pcp_trylock_fail\": %llu, "
			        "\"pcp_pages_end\": %lu, \"meta_bytes_per_page\": %zu, "
			        "\"zone_lock_per_1k_ops\": %.3f",
			        r->zone_lock, r->pgalloc, r->zl_per_1k, r->refill,
			        r->flush, r->trylock_fail, r->pcp_pages_end, r->meta_bytes,
			        r->zl_per_1k_ops);
		fprintf(f, "}%s\n", i + 1 < nr_results ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	fclose(f);
}

/* ---- main ------------------------------------------------------------------- */

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
	        "usage: %s [options]\n"
	        "  --quick            0.1 s per measurement, 3 repetitions, a shorter\n"
	        "                     replay\n"
	        "  --time S           seconds per measurement (default 0.5)\n"
	        "  --reps N           repetitions, median reported (default 5)\n"
	        "  --warmup S         warm-up seconds (default 0.2)\n"
	        "  --only LIST        workloads, comma separated (default all):\n",
	        prog);
	for (unsigned i = 0; i < NR_WORKLOADS; i++)
		fprintf(out, "                       %-11s %s\n", workloads[i].name,
		        workloads[i].desc);
	fprintf(
	    out,
	    "  --threads LIST     thread counts to run: 1, 2 or 1,2 (default)\n"
	    "  --variant NAME     one variant only (zonealloc, zonealloc-locked,\n"
	    "                     zonealloc-nopcp)\n"
	    "  --csv FILE         append results as CSV\n"
	    "  --json FILE        write results as JSON\n"
	    "  --iters N          fixed-count mode: warm-up N ops, then exactly N\n"
	    "                     counted ops in bench_counted_run() (1 thread)\n"
	    "  --sim-cpu          zonealloc: each thread its own simulated CPU (a\n"
	    "                     cpu_id callback: the page sets then run locked);\n"
	    "                     the default is the real CPU, as for a user\n"
	    "                     (default: each thread is its own simulated CPU)\n"
	    "  --cpus N           zonealloc: simulated CPUs (default: online CPUs)\n"
	    "  --cpu-stride N     zonealloc: thread i is simulated CPU i*N (tests\n"
	    "                     false sharing between neighbouring CPUs' data)\n"
	    "  --mem MIB          zonealloc: backing memory (default 1024)\n"
	    "  --trace FILE       trace for the replay workload\n"
	    "  --trace-events N   replay only the trace's first N events (default\n"
	    "                     all; --quick: 200000)\n"
	    "  --no-pin           do not pin threads to cores\n"
	    "  --check            only check which allocator is active, then exit\n"
	    "  -v, --verbose\n");
}

static int selected(const char *name)
{
	const char *p = opt.only;
	size_t n = strlen(name);

	if (!p)
		return strncmp(name, "calib", 5) != 0 && strcmp(name, "pair-mid");
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, name, n))
			return 1;
		p += len + (e ? 1 : 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "time", required_argument, NULL, 't' },
		{ "reps", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "only", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 'T' },
		{ "variant", required_argument, NULL, 'V' },
		{ "csv", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "iters", required_argument, NULL, 'i' },
		{ "sched-cpu", no_argument, NULL, 's' },
		{ "sim-cpu", no_argument, NULL, 'U' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "cpu-stride", required_argument, NULL, 'S' },
		{ "mem", required_argument, NULL, 'm' },
		{ "trace", required_argument, NULL, 'R' },
		{ "trace-events", required_argument, NULL, 'E' },
		{ "no-pin", no_argument, NULL, 'P' },
		{ "check", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_alloc_cfg cfg;
	int c, check_only = 0, rc = 0, time_set = 0, reps_set = 0, ev_set = 0;
	cpu_set_t set;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			opt.quick = 1;
			break;
		case 't':
			opt.time_s = atof(optarg);
			time_set = 1;
			break;
		case 'r':
			opt.reps = atoi(optarg);
			reps_set = 1;
			break;
		case 'w':
			opt.warmup_s = atof(optarg);
			break;
		case 'o':
			opt.only = optarg;
			break;
		case 'T':
			opt.threads_mask = 0;
			for (const char *p = optarg; *p; p++)
				if (*p == '1' || *p == '2')
					opt.threads_mask |= 1 << (*p - '1');
			break;
		case 'V':
			opt.variant = optarg;
			break;
		case 'c':
			opt.csv = optarg;
			break;
		case 'j':
			opt.json = optarg;
			break;
		case 'i':
			opt.iters = strtoul(optarg, NULL, 0);
			break;
		case 's':
			opt.sched_cpu = 1;
			break;
		case 'U':
			opt.sched_cpu = 0;
			break;
		case 'C':
			opt.nr_cpus = (unsigned)atoi(optarg);
			break;
		case 'S':
			opt.cpu_stride = (unsigned)atoi(optarg);
			break;
		case 'm':
			opt.mem_mib = strtoul(optarg, NULL, 0);
			break;
		case 'R':
			opt.trace = optarg;
			break;
		case 'E':
			opt.trace_events = strtoul(optarg, NULL, 0);
			ev_set = 1;
			break;
		case 'P':
			opt.pin = 0;
			break;
		case 'k':
			check_only = 1;
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (opt.quick) {
		if (!time_set)
			opt.time_s = 0.1;
		if (!reps_set)
			opt.reps = 3;
		opt.warmup_s = 0.05;
		if (!ev_set)
			opt.trace_events = 200000;
	}
	if (opt.reps < 1 || opt.reps > MAX_REPS || opt.time_s <= 0) {
		fprintf(stderr, "bad --reps or --time\n");
		return 2;
	}
	if (opt.iters)
		opt.threads_mask = 1; /* fixed-count mode: one thread */

	/* Which allocator answers? Refuse to measure the wrong one. */
	if (ba_check_active(stdout))
		return 1;
	if (check_only)
		return 0;

	if (!sched_getaffinity(0, sizeof(set), &set))
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpus_allowed[ncpus_allowed++] = i;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mem_mib = opt.mem_mib;
	cfg.nr_cpus = opt.nr_cpus
	                  ? opt.nr_cpus
	                  : (ncpus_allowed > MAX_THREADS ? (unsigned)ncpus_allowed
	                                                 : MAX_THREADS);
	cfg.sched_cpu = opt.sched_cpu;
	cfg.cpu_stride = opt.cpu_stride;
	if (opt.cpu_stride && !opt.nr_cpus)
		cfg.nr_cpus = opt.cpu_stride * MAX_THREADS;
	cfg.verbose = opt.verbose;

	printf("# %s%s; %.2f s x %d reps (median), warm-up %.2f s; op = one "
	       "alloc+free, ns/op = wall x threads / ops\n",
	       ba_version(),
#ifdef BENCH_ZONEALLOC
	       opt.sched_cpu ? "; real CPUs (one thread pinned per core)"
	                     : "; each thread its own simulated CPU",
#else
	       "",
#endif
	       opt.time_s, opt.reps, opt.warmup_s);
	print_header();
	for (unsigned v = 0; v < ba_nr_variants(); v++) {
		const char *name = ba_variant_name(v);

		if (opt.variant && strcmp(opt.variant, name))
			continue;
		if (ba_setup(v, &cfg)) {
			fprintf(stderr, "%s: set-up failed\n", name);
			rc = 1;
			continue;
		}
		for (unsigned i = 0; i < NR_WORKLOADS; i++) {
			const struct workload *wl = &workloads[i];

			if (!selected(wl->name))
				continue;
			for (int k = 0; k < 2; k++) {
				unsigned t = wl->threads[k];

				if (!t)
					continue;
				/* Two-thread-only workloads run when 2 is asked. */
				if (!(opt.threads_mask & (1 << (t - 1))))
					continue;
				if (opt.iters && t != 1)
					continue;
				if (nr_results >= sizeof(results) / sizeof(results[0]))
					break;
				if (measure(name, wl, t))
					rc = 3;
				if (nr_results && results[nr_results - 1].workload == wl->name)
					print_result(&results[nr_results - 1]);
			}
		}
		ba_teardown();
	}
	if (opt.iters && nr_results)
		printf("counted: %llu ops in bench_counted_run\n",
		       (unsigned long long)results[0].ops);
	if (opt.csv)
		write_csv(opt.csv);
	if (opt.json)
		write_json(opt.json, ba_version());
	return rc;
}
