/*
 * test_reclaim_common.c - pieces the reclaim tests share, #included by
 * each of them (not a test of its own): a simulated CPU per thread, a
 * client "cache" of pages behind a shrinker, an OOM handler that counts
 * its calls, and checks that a callback runs with no allocator lock held.
 *
 * The cache is what a real client would have: pages it allocated and
 * could give back (a buffer cache). count() says how many it holds,
 * scan() frees up to nr of them with za_free_pages. Every call is
 * counted, split by whether the thread that made it had flagged itself as
 * "in an allocation that must not call back" (tl_no_callbacks), so a test
 * can tell calls from its own allocating thread apart from kswapd's.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <zonealloc.h>

#include "internal.h"

#define RC_UNUSED __attribute__((unused))

/* EXPECT: like CHECK, but the test goes on (so that one known library bug
 * does not hide the checks after it); main() returns expect_failures(). */
static int expect_failed;
#define EXPECT(cond)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: EXPECT failed: %s\n", __FILE__, __LINE__, \
			        #cond);                                                   \
			expect_failed++;                                                  \
		}                                                                     \
	} while (0)

static RC_UNUSED int expect_failures(const char *name)
{
	if (expect_failed) {
		fprintf(stderr, "%s: %d EXPECT check(s) failed\n", name,
		        expect_failed);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

/* --- simulated CPUs ---------------------------------------------------------- */

/* The CPU a thread runs on as the allocator sees it; -1 (or anything out of
 * range) means "no CPU": no per-CPU list, every call goes to the buddy
 * lists and the counters are exact. Threads the library starts (kswapd, the
 * vmstat worker) read the initial value. */
static _Thread_local int tl_cpu = 0;
/* Set by a test thread around an allocation that must never reach a
 * shrinker or the OOM handler (ATOMIC, NOWAIT). */
static _Thread_local int tl_no_callbacks;
/* Set by the test's main thread (so callbacks can tell who called). */
static _Thread_local int tl_is_main;

static int sim_cpu(void *ctx)
{
	(void)ctx;
	return tl_cpu;
}

static RC_UNUSED void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static RC_UNUSED uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- "no allocator lock held" ------------------------------------------------- */

static atomic_ulong lock_violations;

/* Called first thing in every callback. In debug builds the witness knows
 * what this thread holds. In every build, when the test runs with no other
 * thread inside the library (alone), a lock that is taken can only be
 * held by this very thread: the zone and pcp spin locks must be free, and
 * the library's mutexes must be free to take. */
static RC_UNUSED void check_no_allocator_lock(struct za *za, bool alone)
{
	if (za_witness_held(ZA_RANK_PCP) || za_witness_held(ZA_RANK_ZONE) ||
	    za_witness_held(ZA_RANK_LEAF) || za_witness_held(ZA_RANK_DRAIN))
		atomic_fetch_add(&lock_violations, 1);
	if (!alone)
		return;
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			if (za_spin_is_locked(&z->lock))
				atomic_fetch_add(&lock_violations, 1);
			for (unsigned c = 0; c < za->nr_cpus; c++)
				if (za_spin_is_locked(&z->pcp[c].lock))
					atomic_fetch_add(&lock_violations, 1);
		}
	}
	za_mutex_t *mutexes[] = { &za->shrinker_lock, &za->drain_lock,
		                      &za->nodes[0].kswapd_lock };
	for (size_t i = 0; i < sizeof(mutexes) / sizeof(mutexes[0]); i++) {
		if (za_mutex_trylock(mutexes[i]))
			za_mutex_unlock(mutexes[i]);
		else
			atomic_fetch_add(&lock_violations, 1);
	}
}

/* --- the cache ------------------------------------------------------------------ */

struct cache {
	pthread_mutex_t lock;
	struct za *za;
	struct za_page **pages; /* LIFO stack of cached order-0 pages */
	unsigned long n, cap;
	bool alone;             /* no library thread runs: strict lock check */
	unsigned scan_sleep_ms; /* a slow shrinker */
	unsigned scan_max;      /* free at most this many per call; 0: nr */
	bool scan_allocates;    /* scan() allocates a bookkeeping page (KERNEL) */
	bool scan_no_cpu;       /* scan() frees as a thread on no CPU */
	/* scan() from a library thread (kswapd) frees nothing while set:
	 * the reclaim that frees is the test thread's own (direct). */
	atomic_bool others_free_nothing;
	/* scan() blocks while gate_closed (a test holds kswapd inside it). */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	bool gate_closed;

	atomic_ulong count_calls, scan_calls, scan_freed;
	atomic_ulong scan_asked;                         /* sum of nr */
	atomic_ulong scan_calls_main, scan_freed_main;   /* from the test */
	atomic_ulong scan_calls_other, scan_freed_other; /* from library threads */
	atomic_ulong scan_calls_forbidden; /* from an ATOMIC/NOWAIT caller */
	atomic_ulong count_calls_forbidden;
	atomic_int in_scan;     /* calls running now */
	atomic_ulong reentered; /* scan() inside scan() on one thread */
};

static _Thread_local int tl_scan_depth;

static RC_UNUSED void cache_init(struct cache *c, struct za *za,
                                 unsigned long cap)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->gate_lock, NULL);
	pthread_cond_init(&c->gate_cond, NULL);
	c->za = za;
	c->cap = cap;
	c->pages = calloc(cap, sizeof(*c->pages));
	CHECK(c->pages != NULL);
}

static RC_UNUSED void cache_fini(struct cache *c)
{
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->gate_lock);
	pthread_cond_destroy(&c->gate_cond);
	free(c->pages);
	c->pages = NULL;
}

static RC_UNUSED void cache_add(struct cache *c, struct za_page *p)
{
	pthread_mutex_lock(&c->lock);
	CHECK(c->n < c->cap);
	c->pages[c->n++] = p;
	pthread_mutex_unlock(&c->lock);
}

static RC_UNUSED unsigned long cache_size(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	unsigned long n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Take one page out of the cache (the client uses it again); NULL if empty. */
static RC_UNUSED struct za_page *cache_take(struct cache *c)
{
	struct za_page *p = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->n)
		p = c->pages[--c->n];
	pthread_mutex_unlock(&c->lock);
	return p;
}

/* Free everything the cache holds (end of a test). */
static RC_UNUSED void cache_free_all(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->n)
		za_free_pages(c->za, c->pages[--c->n], 0);
	pthread_mutex_unlock(&c->lock);
}

static RC_UNUSED void cache_gate(struct cache *c, bool closed)
{
	pthread_mutex_lock(&c->gate_lock);
	c->gate_closed = closed;
	pthread_cond_broadcast(&c->gate_cond);
	pthread_mutex_unlock(&c->gate_lock);
}

static unsigned long cache_count_cb(void *ctx, int nid)
{
	struct cache *c = ctx;
	check_no_allocator_lock(c->za, c->alone);
	atomic_fetch_add(&c->count_calls, 1);
	if (tl_no_callbacks)
		atomic_fetch_add(&c->count_calls_forbidden, 1);
	return nid == 0 ? cache_size(c) : 0;
}

static unsigned long cache_scan_cb(void *ctx, int nid, unsigned long nr)
{
	struct cache *c = ctx;
	unsigned long freed = 0;
	check_no_allocator_lock(c->za, c->alone);
	bool reentered = tl_scan_depth > 0;
	if (reentered)
		atomic_fetch_add(&c->reentered, 1);
	tl_scan_depth++;
	atomic_fetch_add(&c->in_scan, 1);
	atomic_fetch_add(&c->scan_calls, 1);
	atomic_fetch_add(&c->scan_asked, nr);
	if (tl_no_callbacks)
		atomic_fetch_add(&c->scan_calls_forbidden, 1);

	pthread_mutex_lock(&c->gate_lock);
	while (c->gate_closed)
		pthread_cond_wait(&c->gate_cond, &c->gate_lock);
	pthread_mutex_unlock(&c->gate_lock);
	if (c->scan_sleep_ms)
		sleep_ms(c->scan_sleep_ms);

	if (c->scan_allocates && !reentered) {
		/* A client that needs a page of its own to shrink (a log
		 * record, a bounce buffer): allowed, but it must not recurse
		 * into reclaim - that would call this very scan() again. */
		struct za_page *own = za_alloc_pages(c->za, ZA_GFP_KERNEL, 0);
		za_free_pages(c->za, own, 0);
	}
	if (nid == 0) {
		if (c->scan_max && nr > c->scan_max)
			nr = c->scan_max;
		if (!tl_is_main && atomic_load(&c->others_free_nothing))
			nr = 0;
		/* Re-entered on this thread, the client holds its own lock
		 * already: it gives nothing back rather than deadlock. */
		if (!reentered) {
			int cpu = tl_cpu;
			if (c->scan_no_cpu)
				tl_cpu = -1;
			pthread_mutex_lock(&c->lock);
			while (freed < nr && c->n) {
				za_free_pages(c->za, c->pages[--c->n], 0);
				freed++;
			}
			pthread_mutex_unlock(&c->lock);
			tl_cpu = cpu;
		}
	}
	atomic_fetch_add(&c->scan_freed, freed);
	if (tl_is_main) {
		atomic_fetch_add(&c->scan_calls_main, 1);
		atomic_fetch_add(&c->scan_freed_main, freed);
	} else {
		atomic_fetch_add(&c->scan_calls_other, 1);
		atomic_fetch_add(&c->scan_freed_other, freed);
	}
	atomic_fetch_sub(&c->in_scan, 1);
	tl_scan_depth--;
	return freed;
}

static RC_UNUSED void cache_shrinker(struct za_shrinker *s, struct cache *c)
{
	memset(s, 0, sizeof(*s));
	s->count = cache_count_cb;
	s->scan = cache_scan_cb;
	s->ctx = c;
}

/* --- pages the client keeps (not in the cache) ------------------------------- */

struct pinned {
	struct za_page **pages;
	unsigned long n, cap;
};

static RC_UNUSED void pinned_init(struct pinned *p, unsigned long cap)
{
	p->pages = calloc(cap, sizeof(*p->pages));
	CHECK(p->pages != NULL);
	p->n = 0;
	p->cap = cap;
}

static RC_UNUSED void pinned_add(struct pinned *p, struct za_page *pg)
{
	CHECK(p->n < p->cap);
	p->pages[p->n++] = pg;
}

static RC_UNUSED unsigned long pinned_free(struct za *za, struct pinned *p,
                                           unsigned long nr)
{
	unsigned long done = 0;
	while (done < nr && p->n) {
		za_free_pages(za, p->pages[--p->n], 0);
		done++;
	}
	return done;
}

/* --- zone facts ------------------------------------------------------------------ */

static RC_UNUSED struct za_zone_info zone_info(struct za *za, int zone)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)zone, &zi), 0);
	return zi;
}

/* Pages on the buddy lists, counted block by block: the truth that the
 * free-page counter is meant to track. */
static RC_UNUSED unsigned long buddy_pages(struct za *za, int zone)
{
	struct za_zone_info zi = zone_info(za, zone);
	unsigned long n = 0;
	for (unsigned o = 0; o <= za_max_order(za); o++)
		n += zi.nr_free[o] << o;
	return n - zi.isolated_free;
}

static RC_UNUSED struct za_pcp_info pcp_info(struct za *za, unsigned cpu,
                                             int zone)
{
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, cpu, 0, (enum za_zone_type)zone, &pi), 0);
	return pi;
}
