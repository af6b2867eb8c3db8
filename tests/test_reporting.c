/* SPDX-License-Identifier: MIT */
/*
 * test_reporting.c - free page reporting (src/reporting.c):
 *  - bad input: NULL, order above max order, twice (-EBUSY), -ENOENT;
 *  - every free block of the reporting order is reported once, off the
 *    lists during the call; a reported block is not reported again until
 *    allocated; a split keeps the halves reported; a merge with a reported
 *    buddy makes the merged block unreported (reported again whole);
 *  - a callback error puts the batch back and it is retried;
 *  - without background threads (NO_KSWAPD + NO_VMSTAT_WORKER) register
 *    starts no thread and nothing is reported until the caller runs a
 *    pass (za_page_reporting_run); with the thread a run reports now;
 *  - memory offline never runs against a batch in flight (it waits, then
 *    succeeds with nothing lost); a failed offline leaves the marks as
 *    they were (nothing reported again), and so does a pageblock that
 *    changes type (a steal, a high-order atomic reserve and its return);
 *    unregister waits for a batch out; offline, za_check and unregister
 *    from inside the callback: -EDEADLK; unregister from a migrate
 *    callback while a pass waits for the memory-hotplug lock: -EDEADLK;
 *    a costly allocation while a batch is out still compacts;
 *  - stress: threads allocate, fill, verify and free while the callback
 *    scribbles over every block it is given (as MADV_DONTNEED zeroes it)
 *    and a block goes offline and online again; ends with za_check.
 * Waits are bounded by generous limits (a correctness bound, not speed).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

#define PB 9
#define MAXO 10
#define BLOCK (1ul << 13) /* 8192 pages: 32 MiB of 4 KiB pages */

static struct za *mk(unsigned flags, unsigned max_order)
{
	struct za_config c = { 0 };
	c.nr_cpus = 2;
	c.max_order = max_order;
	c.pageblock_order = PB;
	c.block_pages = BLOCK;
	c.max_pfn = 1ul << 20;
	c.flags = flags | ZA_CFG_NO_KSWAPD;
	c.min_free_kbytes = 128;
	c.offline_timeout_ms = 50;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	return za;
}

static unsigned long long ev(struct za *za, enum za_event e)
{
	return za_event_count(za, e);
}

static long reported_now(struct za *za, enum za_zone_type t)
{
	return za_zone_stat(za, 0, t, ZA_NR_FREE_REPORTED);
}

/* Wait (bounded) until f(za) holds. */
static bool wait_for(bool (*f)(struct za *, void *), struct za *za, void *arg)
{
	for (int i = 0; i < 2000; i++) {
		if (f(za, arg))
			return true;
		usleep(5000);
	}
	return f(za, arg);
}

/* --- a recording client ----------------------------------------------------- */

struct rec {
	struct za *za;
	pthread_mutex_t lock;
	unsigned long pages, calls;
	int fail_first;  /* refuse this many calls */
	int overlap;     /* an allocation in the call got a held block */
	int try_run;     /* call za_page_reporting_run from the callback */
	long run_inside; /* ... and what it answered */
	unsigned order;  /* the reporting order, if not PB */
};

static int rec_report(void *ctx, struct za_page *const *pages,
                      const unsigned *orders, unsigned n)
{
	struct rec *r = ctx;
	struct za *za = r->za;
	CHECK(n >= 1 && n <= ZA_PAGE_REPORTING_CAPACITY);
	pthread_mutex_lock(&r->lock);
	r->calls++;
	if (r->try_run)
		r->run_inside = za_page_reporting_run(za);
	if (r->fail_first > 0) {
		r->fail_first--;
		pthread_mutex_unlock(&r->lock);
		return -EAGAIN;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned long pfn = za_page_to_pfn(za, pages[i]);
		CHECK(pfn != ULONG_MAX);
		CHECK(orders[i] >= (r->order ? r->order : PB) &&
		      orders[i] <= za_max_order(za));
		CHECK((pfn & ((1ul << orders[i]) - 1)) == 0); /* aligned */
		/* Off the lists while we have it. */
		CHECK_EQ(page_state(pages[i]), ZA_PS_REPORTING);
		CHECK(!page_reported(za, pfn));
		r->pages += 1ul << orders[i];
	}
	/* Nobody can allocate a held block: take what is left of the zone's
	 * pageblock-sized blocks and look (in the first calls only: what we
	 * free here is new to report). */
	struct za_page *got[64];
	unsigned ng = 0;
	while (r->calls <= 2 && ng < 64 &&
	       (got[ng] = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, PB)))
		ng++;
	for (unsigned k = 0; k < ng; k++)
		for (unsigned i = 0; i < n; i++) {
			unsigned long a = za_page_to_pfn(za, got[k]);
			unsigned long b = za_page_to_pfn(za, pages[i]);
			if (a + (1ul << PB) > b && b + (1ul << orders[i]) > a)
				r->overlap++;
		}
	for (unsigned k = 0; k < ng; k++)
		za_free_pages(za, got[k], PB);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int rec_overlap(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	int n = r->overlap;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static bool all_reported(struct za *za, void *arg)
{
	/* Every free page in blocks of order >= PB is marked, and (the
	 * callers hold no page) every page of the zone is on the free
	 * lists: none is out in a batch, whose putback could still merge
	 * reported blocks into a larger one, unreported until the next
	 * pass reports it. */
	(void)arg;
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	unsigned long big = 0, listed = 0;
	for (unsigned o = 0; o <= za_max_order(za); o++) {
		listed += zi.nr_free[o] << o;
		if (o >= PB)
			big += zi.nr_free[o] << o;
	}
	return big && listed == zi.managed &&
	       reported_now(za, ZA_ZONE_NORMAL) == (long)big;
}

static void quiet(struct za *za, unsigned delays)
{
	(void)za;
	usleep(delays * 10 * 1000); /* delay_ms is 10 below */
}

static void test_bad_input(void)
{
	struct za *za = mk(0, MAXO);
	struct za_page_reporting pr = { rec_report, NULL, 0, 10 };
	CHECK_EQ(za_page_reporting_register(NULL, &pr), -EINVAL);
	CHECK_EQ(za_page_reporting_register(za, NULL), -EINVAL);
	struct za_page_reporting bad = pr;
	bad.report = NULL;
	CHECK_EQ(za_page_reporting_register(za, &bad), -EINVAL);
	bad = pr;
	bad.order = MAXO + 1;
	CHECK_EQ(za_page_reporting_register(za, &bad), -EINVAL);
	bad = pr;
	bad.delay_ms = 3600001;
	CHECK_EQ(za_page_reporting_register(za, &bad), -EINVAL);
	CHECK_EQ(za_page_reporting_unregister(za), -ENOENT);
	CHECK_EQ(za_page_reporting_unregister(NULL), -EINVAL);
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	CHECK_EQ(za_page_reporting_register(za, &pr), -EBUSY);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_page_reporting_unregister(za), -ENOENT);
	/* Register again after unregister; destroy with it registered. */
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	za_destroy(za);
}

/* Allocate all of the zone at order PB (materialising every block), then
 * free it: everything goes through the free lists. */
static void cycle_all(struct za *za)
{
	static struct za_page *all[4096];
	unsigned n = 0;
	while ((all[n] = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, PB)))
		n++;
	CHECK(n > 4);
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, all[i], PB);
	za_drain_all_pages(za);
}

static void test_report_rules(unsigned max_order)
{
	struct za *za = mk(ZA_CFG_NO_PCP, max_order);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLOCK, NULL), 0);
	cycle_all(za);
	struct rec *r = calloc(1, sizeof(*r));
	r->za = za;
	pthread_mutex_init(&r->lock, NULL);
	struct za_page_reporting pr = { rec_report, r, 0, 10 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	CHECK(wait_for(all_reported, za, NULL));
	CHECK_EQ(rec_overlap(r), 0);
	CHECK_EQ(za_check(za, stderr), 0);

	/* Nothing is reported twice while it stays free. */
	unsigned long long pages0 = ev(za, ZA_REPORTED_PAGES);
	CHECK(pages0 > 0);
	quiet(za, 10);
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), pages0);

	/* A split keeps the rest reported: one page allocated, one page
	 * less reported, nothing new to report. */
	long rep0 = reported_now(za, ZA_ZONE_NORMAL);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	CHECK_EQ(reported_now(za, ZA_ZONE_NORMAL), rep0 - 1);
	CHECK_EQ(za_check(za, stderr), 0);
	quiet(za, 10);
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), pages0);

	/* Freed, it merges back with its reported buddies: the merged block
	 * (the largest order) is unreported and reported again whole. */
	za_free_pages(za, p, 0);
	/* Unless the thread already reported it again (it waits delay_ms,
	 * which a descheduled test thread can outlast): then it was counted
	 * first. */
	long rep1 = reported_now(za, ZA_ZONE_NORMAL);
	CHECK(rep1 == rep0 - (1l << max_order) ||
	      (rep1 == rep0 && ev(za, ZA_REPORTED_PAGES) > pages0));
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK(wait_for(all_reported, za, NULL));
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), pages0 + (1ull << max_order));

	/* An allocated block is reported again when freed. */
	p = za_alloc_pages(za, ZA_GFP_KERNEL, PB);
	CHECK(p != NULL);
	CHECK(!page_reported(za, za_page_to_pfn(za, p)));
	CHECK_EQ(za_check(za, stderr), 0);
	za_free_pages(za, p, PB);
	CHECK(wait_for(all_reported, za, NULL));
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), pages0 + (2ull << max_order));
	CHECK_EQ(rec_overlap(r), 0);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
}

static void test_retry(void)
{
	struct za *za = mk(ZA_CFG_NO_PCP, MAXO);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
	cycle_all(za);
	struct rec *r = calloc(1, sizeof(*r));
	r->za = za;
	r->fail_first = 3;
	pthread_mutex_init(&r->lock, NULL);
	struct za_page_reporting pr = { rec_report, r, 0, 10 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	CHECK(wait_for(all_reported, za, NULL));
	CHECK_EQ(ev(za, ZA_REPORT_RETRY), 3);
	CHECK(ev(za, ZA_REPORTED_BATCHES) >= 1);
	/* Marked is what the client accepted, no more: a refused batch went
	 * back unmarked and was reported again. */
	pthread_mutex_lock(&r->lock);
	unsigned long accepted = r->pages;
	pthread_mutex_unlock(&r->lock);
	CHECK_EQ(reported_now(za, ZA_ZONE_NORMAL), (long)accepted);
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), accepted);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
}

/* --- without background threads: the caller runs the passes ----------------- */

/* Threads of this process (Linux: one directory each). */
static int nr_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;
	CHECK(d != NULL);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A joined thread's task leaves /proc a moment after the join returns
 * (the kernel reaps it after waking the joiner), later still under an
 * emulator (make test-aarch64). nr_threads_settled: the count once it is
 * want, or what it is after 2 s. nr_threads_stable: the count once two
 * reads 10 ms apart agree (a baseline with no thread of an earlier part
 * still leaving). */
static int nr_threads_settled(int want)
{
	int n = nr_threads();
	for (int i = 0; i < 2000 && n != want; i++) {
		usleep(1000);
		n = nr_threads();
	}
	return n;
}
static int nr_threads_stable(void)
{
	int n = nr_threads();
	for (int i = 0; i < 200; i++) {
		usleep(10000);
		int m = nr_threads();
		if (m == n)
			break;
		n = m;
	}
	return n;
}

/* Allocate a pageblock and free it: the next pass has it to report
 * (merged with its reported buddies into a max-order block, unreported). */
static void churn(struct za *za)
{
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, PB);
	CHECK(p != NULL);
	za_free_pages(za, p, PB);
}

static void test_no_threads(void)
{
	/* mk adds ZA_CFG_NO_KSWAPD: with the statistics worker off too, the
	 * allocator runs no thread, and reporting starts none. */
	struct za *za = mk(ZA_CFG_NO_PCP | ZA_CFG_NO_VMSTAT_WORKER, MAXO);
	CHECK_EQ(za_page_reporting_run(NULL), -EINVAL);
	CHECK_EQ(za_page_reporting_run(za), -ENOENT);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLOCK, NULL), 0);
	cycle_all(za);
	struct rec *r = calloc(1, sizeof(*r));
	r->za = za;
	pthread_mutex_init(&r->lock, NULL);
	struct za_page_reporting pr = { rec_report, r, 0, 10 };
	int threads = nr_threads_stable();
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	CHECK_EQ(nr_threads_settled(threads), threads);
	/* Ten delays: a thread would have reported everything by now. */
	quiet(za, 10);
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), 0);
	CHECK_EQ(reported_now(za, ZA_ZONE_NORMAL), 0);

	/* The caller's passes report it all, on this thread: the first
	 * does most; the callback's own allocations free blocks again (in
	 * its first two calls), which the next pass reports. Once nothing
	 * was freed since the last pass, a pass has nothing to do. */
	long got = 0, n = 0;
	for (int i = 0; i < 4 && (n = za_page_reporting_run(za)) > 0; i++)
		got += n;
	CHECK_EQ(n, 0);
	CHECK(got > 0);
	CHECK_EQ((unsigned long long)got, ev(za, ZA_REPORTED_PAGES));
	CHECK(all_reported(za, NULL));
	CHECK_EQ(rec_overlap(r), 0);
	CHECK_EQ(za_check(za, stderr), 0);

	/* A block freed again is reported by the next pass, whole. */
	churn(za);
	CHECK_EQ(za_page_reporting_run(za), 1l << MAXO);
	CHECK(all_reported(za, NULL));

	/* A refused batch: the client's error, and the next pass retries
	 * it; from inside the callback a pass would wait for itself. */
	churn(za);
	pthread_mutex_lock(&r->lock);
	r->fail_first = 1;
	r->try_run = 1;
	pthread_mutex_unlock(&r->lock);
	CHECK_EQ(za_page_reporting_run(za), -EAGAIN);
	CHECK_EQ(ev(za, ZA_REPORT_RETRY), 1);
	CHECK_EQ(za_page_reporting_run(za), 1l << MAXO);
	pthread_mutex_lock(&r->lock);
	CHECK_EQ(r->run_inside, -EDEADLK);
	r->try_run = 0;
	pthread_mutex_unlock(&r->lock);
	CHECK(all_reported(za, NULL));
	CHECK_EQ(za_check(za, stderr), 0);

	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_page_reporting_run(za), -ENOENT);
	CHECK_EQ(nr_threads_settled(threads), threads);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
}

/* With the thread, a caller's pass reports now instead of a delay later
 * (an hour here: the thread never gets to it). */
static void test_run_with_thread(void)
{
	struct za *za = mk(ZA_CFG_NO_PCP, MAXO);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLOCK, NULL), 0);
	cycle_all(za);
	struct rec *r = calloc(1, sizeof(*r));
	r->za = za;
	pthread_mutex_init(&r->lock, NULL);
	struct za_page_reporting pr = { rec_report, r, 0, 3600000 };
	int threads = nr_threads_stable();
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	CHECK_EQ(nr_threads_settled(threads + 1), threads + 1);
	long got = 0, n = 0;
	for (int i = 0; i < 4 && (n = za_page_reporting_run(za)) > 0; i++)
		got += n;
	CHECK_EQ(n, 0);
	CHECK(got > 0);
	CHECK_EQ((unsigned long long)got, ev(za, ZA_REPORTED_PAGES));
	CHECK(all_reported(za, NULL));
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(nr_threads_settled(threads), threads);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
}

/* --- offline against a batch in flight --------------------------------------- */

struct hold {
	struct za *za;
	atomic_int in_call, calls, released, isolated_seen, deadlk;
	atomic_int done; /* the callback has returned */
	unsigned hold_ms;
};

static int hold_report(void *ctx, struct za_page *const *pages,
                       const unsigned *orders, unsigned n)
{
	struct hold *h = ctx;
	struct za *za = h->za;
	(void)orders;
	if (atomic_fetch_add(&h->calls, 1) == 0) {
		/* Calls that would wait for this callback refuse. */
		if (za_memory_offline(za, BLOCK, BLOCK) == -EDEADLK &&
		    za_check(za, NULL) == -EDEADLK &&
		    za_page_reporting_unregister(za) == -EDEADLK)
			atomic_store(&h->deadlk, 1);
		atomic_store(&h->in_call, 1);
		/* Hold the batch while the main thread starts an offline of
		 * the block these pages are in; their pageblocks must not be
		 * isolated under us. */
		for (unsigned t = 0; t < h->hold_ms; t++) {
			for (unsigned i = 0; i < n; i++) {
				unsigned long pfn = za_page_to_pfn(za, pages[i]);
				if (pageblock_mt(za, pfn) == ZA_MT_ISOLATE ||
				    page_state(pages[i]) != ZA_PS_REPORTING)
					atomic_store(&h->isolated_seen, 1);
			}
			usleep(1000);
		}
		atomic_store(&h->done, 1);
	}
	return 0;
}

struct off_arg {
	struct za *za;
	struct hold *h;
	int ret, done_before;
};

static void *offline_thread(void *arg)
{
	struct off_arg *o = arg;
	o->ret = za_memory_offline(o->za, BLOCK, BLOCK);
	o->done_before = atomic_load(&o->h->done);
	return NULL;
}

static void test_offline_waits(void)
{
	struct za *za = mk(0, MAXO);
	/* Movable memory so that it can go offline; only the second block
	 * is ever made free at the reporting order before registering. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 0, 2 * BLOCK, NULL), 0);
	static struct za_page *all[4096];
	unsigned n = 0;
	while ((all[n] = za_alloc_pages(za,
	                                ZA_GFP_NOWAIT | ZA___GFP_MOVABLE |
	                                    ZA_GFP_NOWARN,
	                                PB)))
		n++;
	CHECK(n > 4);
	for (unsigned i = 0; i < n; i++)
		if (za_page_to_pfn(za, all[i]) >= BLOCK) {
			za_free_pages(za, all[i], PB);
			all[i] = NULL;
		}
	za_drain_all_pages(za);
	struct hold *h = calloc(1, sizeof(*h));
	h->za = za;
	h->hold_ms = 300;
	struct za_page_reporting pr = { hold_report, h, 0, 10 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	for (int i = 0; i < 4000 && !atomic_load(&h->in_call); i++)
		usleep(1000);
	CHECK(atomic_load(&h->in_call));
	struct off_arg o = { za, h, 1, 0 };
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, offline_thread, &o), 0);
	pthread_join(t, NULL);
	CHECK_EQ(o.ret, 0);         /* nothing lost: the range was all free */
	CHECK_EQ(o.done_before, 1); /* and it waited for the batch */
	CHECK_EQ(atomic_load(&h->isolated_seen), 0);
	CHECK_EQ(atomic_load(&h->deadlk), 1);
	CHECK_EQ(za_check(za, stderr), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	CHECK_EQ(zi.managed, BLOCK);
	for (unsigned i = 0; i < n; i++)
		if (all[i])
			za_free_pages(za, all[i], PB);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(h);
}

/* A failed memory offline leaves the marks as they were: the range's
 * reported blocks are not reported again, and NR_FREE_REPORTED does not
 * move. order: the client's reporting order (PB: whole pageblocks and
 * larger; below PB: pieces of a pageblock too, as a split leaves them). */
static void test_failed_offline_keeps_marks(unsigned order)
{
	struct za *za = mk(ZA_CFG_NO_PCP | ZA_CFG_NO_VMSTAT_WORKER, MAXO);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLOCK, NULL), 0);
	cycle_all(za);
	/* A movable page that nobody can migrate (no migrate callback): the
	 * offline of its block times out. Smaller pieces of its pageblock
	 * are free beside it. */
	struct za_page *pin = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(pin != NULL);
	unsigned long blk = za_page_to_pfn(za, pin) & ~(BLOCK - 1);
	struct rec *r = calloc(1, sizeof(*r));
	r->za = za;
	r->order = order;
	pthread_mutex_init(&r->lock, NULL);
	struct za_page_reporting pr = { rec_report, r, order, 10 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	/* The callback's first calls free blocks it took: passes until one
	 * finds nothing new. */
	long got = 1;
	for (int i = 0; i < 10 && got > 0; i++)
		got = za_page_reporting_run(za);
	CHECK_EQ(got, 0);
	long rep0 = reported_now(za, ZA_ZONE_NORMAL);
	unsigned long long pages0 = ev(za, ZA_REPORTED_PAGES);
	CHECK(rep0 > (long)BLOCK / 2);
	CHECK_EQ(za_check(za, stderr), 0);

	CHECK_EQ(za_memory_offline(za, blk, BLOCK), -EAGAIN);
	RULE(reported_now(za, ZA_ZONE_NORMAL) == rep0,
	     "a failed offline leaves the reported marks as they were: "
	     "nr_free_reported %ld before, %ld after",
	     rep0, reported_now(za, ZA_ZONE_NORMAL));
	got = za_page_reporting_run(za);
	RULE(got == 0,
	     "a reported block is not reported again until allocated: %ld "
	     "pages reported again after a failed offline (order %u)",
	     got, order);
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), pages0);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	za_free_pages(za, pin, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
}

/* --- a pageblock that changes type keeps its blocks' marks ------------------ */

#define TC_ORDER 3 /* the client's reporting order: below the pageblock's */

/* A zone of one memory block with every pageblock but one allocated at
 * the pageblock order with gfp: the one left, whole, is the only free
 * memory (of gfp's migratetype), and what comes next splits it. */
static struct za *mk_one_free_pageblock(za_gfp_t gfp, struct za_page **all,
                                        unsigned *n)
{
	struct za *za = mk(ZA_CFG_NO_PCP | ZA_CFG_NO_VMSTAT_WORKER, MAXO);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
	*n = 0;
	while ((all[*n] = za_alloc_pages(za, gfp | ZA_GFP_NOWARN, PB)))
		(*n)++;
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.nr_free[PB], 1);
	CHECK_EQ(zi.managed - ((unsigned long)*n << PB), 1ul << PB);
	return za;
}

/* Register a client of reporting order TC_ORDER and run passes until one
 * finds nothing new. */
static struct rec *report_everything(struct za *za)
{
	struct rec *r = calloc(1, sizeof(*r));
	r->za = za;
	r->order = TC_ORDER;
	pthread_mutex_init(&r->lock, NULL);
	struct za_page_reporting pr = { rec_report, r, TC_ORDER, 10 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	long got = 1;
	for (int i = 0; i < 10 && got > 0; i++)
		got = za_page_reporting_run(za);
	CHECK_EQ(got, 0);
	return r;
}

/* After a pageblock changed type (what says how): its reported blocks
 * kept their marks, NR_FREE_REPORTED is still rep0 and a pass reports
 * nothing. */
static void rule_marks_kept(struct za *za, long rep0,
                            unsigned long long pages0, const char *what)
{
	RULE(reported_now(za, ZA_ZONE_NORMAL) == rep0,
	     "a reported block is not reported again until allocated: "
	     "nr_free_reported %ld before, %ld after a pageblock changed type "
	     "(%s)",
	     rep0, reported_now(za, ZA_ZONE_NORMAL), what);
	long got = za_page_reporting_run(za);
	RULE(got == 0,
	     "a reported block is not reported again until allocated: %ld "
	     "pages reported again after a pageblock changed type (%s)",
	     got, what);
	CHECK_EQ(ev(za, ZA_REPORTED_PAGES), pages0);
	CHECK_EQ(za_check(za, stderr), 0);
}

/* A steal (rmqueue_fallback): an unmovable allocation finds only the
 * pieces of a movable pageblock, reported ones among them, and claims
 * the pageblock (more than half of it is free): its free blocks move to
 * the unmovable lists as they are (buddy_set_pageblock_mt_locked without
 * the remerge) and stay reported. */
static void test_steal_keeps_marks(void)
{
	static struct za_page *all[64];
	unsigned n;
	struct za *za = mk_one_free_pageblock(ZA_GFP_NOWAIT | ZA___GFP_MOVABLE,
	                                      all, &n);
	/* One page off the free pageblock: its other pieces are a block of
	 * every order below the pageblock's. */
	struct za_page *pin = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(pin != NULL);
	unsigned long pb = pageblock_start(za, za_page_to_pfn(za, pin));
	CHECK_EQ(pageblock_mt(za, pb), ZA_MT_MOVABLE);
	struct rec *r = report_everything(za);
	long rep0 = reported_now(za, ZA_ZONE_NORMAL);
	unsigned long long pages0 = ev(za, ZA_REPORTED_PAGES);
	CHECK_EQ(rep0, (1l << PB) - (1l << TC_ORDER));
	CHECK_EQ(za_check(za, stderr), 0);

	unsigned long long steals0 = ev(za, ZA_STEAL_PAGEBLOCK);
	struct za_page *u = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(u != NULL);
	CHECK_EQ(pageblock_start(za, za_page_to_pfn(za, u)), pb);
	CHECK_EQ(pageblock_mt(za, pb), ZA_MT_UNMOVABLE);
	CHECK_EQ(ev(za, ZA_STEAL_PAGEBLOCK), steals0 + 1);
	/* u is the unreported order-0 piece: nothing reported was taken. */
	rule_marks_kept(za, rep0, pages0, "steal");

	CHECK_EQ(za_page_reporting_unregister(za), 0);
	za_free_pages(za, u, 0);
	za_free_pages(za, pin, 0);
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, all[i], PB);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
}

/* The high-order atomic reserve: an atomic order-1 allocation that only
 * the slow path satisfies reserves the (unmovable) pageblock it came
 * from: its reported pieces move to the HIGHATOMIC lists as they are.
 * An unmovable allocation that finds nothing else gives the reserve back
 * (unreserve_highatomic_pageblock): the pieces are freed again on the
 * unmovable lists (the remerge: HIGHATOMIC does not merge, unmovable
 * does) and stay reported, as nothing unreported joins them. */
static void test_highatomic_keeps_marks(void)
{
	static struct za_page *all[64];
	static struct za_page *small[1u << PB];
	unsigned n, ns = 0;
	struct za *za = mk_one_free_pageblock(ZA_GFP_NOWAIT, all, &n);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	/* Room between the marks: the atomic request fails the first try
	 * (at low) and the unmovable one passes at min once the reserve is
	 * back. */
	CHECK(zi.low >= zi.min + 3 && zi.low + 1 < (1ul << PB));
	/* Pages off the free pageblock until low + 1 are left, in pieces
	 * of several orders, TC_ORDER and above among them. */
	while (zi.free > zi.low + 1) {
		small[ns] = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
		CHECK(small[ns] != NULL);
		ns++;
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	}
	unsigned long pb = pageblock_start(za, za_page_to_pfn(za, small[0]));
	CHECK_EQ(pageblock_mt(za, pb), ZA_MT_UNMOVABLE);
	/* Reporting keeps the zone above low: room for the passes (two
	 * pageblocks given back), then taken again (their marks go with
	 * the allocation), which leaves the reported pieces of pb. */
	za_free_pages(za, all[--n], PB);
	za_free_pages(za, all[--n], PB);
	struct rec *r = report_everything(za);
	all[n] = za_alloc_pages(za, ZA_GFP_NOWAIT, PB);
	CHECK(all[n] != NULL &&
	      pageblock_start(za, za_page_to_pfn(za, all[n])) != pb);
	n++;
	all[n] = za_alloc_pages(za, ZA_GFP_NOWAIT, PB);
	CHECK(all[n] != NULL &&
	      pageblock_start(za, za_page_to_pfn(za, all[n])) != pb);
	n++;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, zi.low + 1);
	long rep_pieces = reported_now(za, ZA_ZONE_NORMAL);
	CHECK(rep_pieces > 2);

	/* The split keeps the halves of a reported block reported (the two
	 * pages taken may have been reported); the reserve moves them as
	 * they are. */
	struct za_page *at = za_alloc_pages(za, ZA_GFP_ATOMIC, 1);
	CHECK(at != NULL);
	CHECK_EQ(pageblock_start(za, za_page_to_pfn(za, at)), pb);
	CHECK_EQ(pageblock_mt(za, pb), ZA_MT_HIGHATOMIC);
	long rep0 = reported_now(za, ZA_ZONE_NORMAL);
	unsigned long long pages0 = ev(za, ZA_REPORTED_PAGES);
	RULE(rep0 >= rep_pieces - 2,
	     "a reported block is not reported again until allocated: "
	     "nr_free_reported %ld before, %ld after an order-1 allocation and "
	     "a pageblock changed type (highatomic reserve)",
	     rep_pieces, rep0);
	long got = za_page_reporting_run(za);
	RULE(got == 0,
	     "a reported block is not reported again until allocated: %ld "
	     "pages reported again after a pageblock changed type "
	     "(highatomic reserve)",
	     got);
	CHECK_EQ(za_check(za, stderr), 0);

	/* Nothing for it but the reserve: given back, the pageblock is
	 * unmovable again and the request takes its unreported page. */
	struct za_page *u = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(u != NULL);
	CHECK_EQ(pageblock_start(za, za_page_to_pfn(za, u)), pb);
	CHECK_EQ(pageblock_mt(za, pb), ZA_MT_UNMOVABLE);
	rule_marks_kept(za, rep0, pages0, "highatomic reserve given back");

	CHECK_EQ(za_page_reporting_unregister(za), 0);
	za_free_pages(za, u, 0);
	za_free_pages(za, at, 1);
	for (unsigned i = 0; i < ns; i++)
		za_free_pages(za, small[i], 0);
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, all[i], PB);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
}

static atomic_int unregistered;

static void *unregister_thread(void *arg)
{
	struct hold *h = arg;
	int r = za_page_reporting_unregister(h->za);
	/* Two at once: one stops the thread, the other waits for it (or
	 * comes too late and finds nothing registered). */
	CHECK(r == 0 || r == -ENOENT);
	if (r == 0)
		atomic_fetch_add(&unregistered, 1);
	/* Returned: no batch may be out any more. */
	CHECK_EQ(atomic_load(&h->done), 1);
	return NULL;
}

static void test_unregister_waits(void)
{
	struct za *za = mk(0, MAXO);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
	cycle_all(za);
	struct hold *h = calloc(1, sizeof(*h));
	h->za = za;
	h->hold_ms = 100;
	struct za_page_reporting pr = { hold_report, h, 0, 10 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	for (int i = 0; i < 4000 && !atomic_load(&h->in_call); i++)
		usleep(1000);
	CHECK(atomic_load(&h->in_call));
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, unregister_thread, h), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&unregistered) >= 1);
	CHECK_EQ(za_page_reporting_unregister(za), -ENOENT);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(h);
}

/* Unregister from a migrate callback (here memory offline's, which holds
 * the memory-hotplug lock; a compaction pass's is the same) while the
 * reporting thread has begun a pass and waits for that lock: unregister
 * would join the thread, which waits for the caller. It must refuse
 * with -EDEADLK, as za_page_reporting_run does there. */
struct unreg_mig {
	struct za *za;
	atomic_int calls, done;
	int unreg;
};

static int unreg_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                         unsigned order)
{
	struct unreg_mig *u = ctx;
	(void)dst;
	(void)src;
	(void)order;
	if (atomic_fetch_add(&u->calls, 1) == 0) {
		/* Twenty delays: the thread has seen the flag register set
		 * and begun its pass, which waits for our lock. */
		usleep(200 * 1000);
		u->unreg = za_page_reporting_unregister(u->za);
	}
	return 0; /* no contents (no base): moved */
}

static void *unreg_offline_thread(void *arg)
{
	struct unreg_mig *u = arg;
	CHECK_EQ(za_memory_offline(u->za, BLOCK, BLOCK), 0);
	atomic_store(&u->done, 1);
	return NULL;
}

static void test_unregister_from_migrate(void)
{
	struct za_config c = { 0 };
	struct unreg_mig *u = calloc(1, sizeof(*u));
	c.nr_cpus = 2;
	c.max_order = MAXO;
	c.pageblock_order = PB;
	c.block_pages = BLOCK;
	c.max_pfn = 1ul << 20;
	c.flags = ZA_CFG_NO_KSWAPD;
	c.min_free_kbytes = 128;
	c.migrate = unreg_migrate;
	c.migrate_ctx = u;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	u->za = za;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 0, 2 * BLOCK, NULL), 0);
	/* One movable page in the second block, for the offline to move. */
	static struct za_page *keep[2 * BLOCK];
	unsigned nk = 0;
	struct za_page *p;
	while (
	    (p = za_alloc_pages(za,
	                        ZA_GFP_NOWAIT | ZA___GFP_MOVABLE | ZA_GFP_NOWARN,
	                        0)) &&
	    za_page_to_pfn(za, p) < BLOCK)
		keep[nk++] = p;
	CHECK(p != NULL);
	for (unsigned i = 0; i < nk; i++)
		za_free_pages(za, keep[i], 0);
	struct za_page_reporting pr = { rec_report, NULL, 0, 10 };
	struct rec *r = calloc(1, sizeof(*r));
	r->za = za;
	pthread_mutex_init(&r->lock, NULL);
	pr.ctx = r;
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, unreg_offline_thread, u), 0);
	for (int i = 0; i < 1000 && !atomic_load(&u->done); i++)
		usleep(10 * 1000);
	RULE(atomic_load(&u->done),
	     "za_page_reporting_unregister from a migrate callback answers "
	     "-EDEADLK, never waits for a reporting pass that waits for the "
	     "caller's memory-hotplug lock (memory offline still blocked "
	     "after 10 s)");
	pthread_join(t, NULL);
	CHECK(atomic_load(&u->calls) >= 1);
	CHECK_EQ(u->unreg, -EDEADLK);
	/* Still registered, and unregister works from outside. */
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(r);
	free(u);
}

/* Compaction beside a batch in flight: the batch keeps memory offline and
 * contiguous allocation out (the memory-hotplug lock), not compaction. A
 * costly allocation made while the callback runs compacts as it would
 * without reporting: here the zone's only free block of the order is the
 * one out with the client, the rest is fragmented movable memory. */
struct cb_hold {
	atomic_int in_cb, release;
};

static int cb_hold_report(void *ctx, struct za_page *const *pages,
                          const unsigned *orders, unsigned n)
{
	struct cb_hold *h = ctx;
	(void)pages;
	(void)orders;
	(void)n;
	atomic_store(&h->in_cb, 1);
	for (int i = 0; i < 20000 && !atomic_load(&h->release); i++)
		usleep(1000);
	return 0;
}

static int moved_ok(void *ctx, struct za_page *dst, struct za_page *src,
                    unsigned order)
{
	(void)ctx;
	(void)dst;
	(void)src;
	(void)order;
	return 0; /* no contents (no base): moved */
}

static void *run_pass_thread(void *arg)
{
	return (void *)(intptr_t)za_page_reporting_run(arg);
}

static void test_compaction_beside_batch(void)
{
	struct za_config c = { 0 };
	c.nr_cpus = 1;
	c.max_order = MAXO;
	c.pageblock_order = PB;
	c.block_pages = BLOCK;
	c.max_pfn = 1ul << 20;
	c.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER | ZA_CFG_NO_KCOMPACTD;
	c.min_free_kbytes = 128;
	c.migrate = moved_ok;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
	struct cb_hold *h = calloc(1, sizeof(*h));
	struct za_page_reporting pr = { cb_hold_report, h, PB, 0 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	/* Every page as a movable order-0 block, the reserve as blocks we
	 * keep; then every other page of pageblocks 0..14 back (fragments)
	 * and all of the last pageblock (the one block for the batch). */
	static struct za_page *pg[BLOCK], *res[64];
	unsigned n = 0, nr = 0, ro[64];
	struct za_page *p;
	while (n < BLOCK &&
	       (p = za_alloc_pages(za,
	                           ZA_GFP_MOVABLE | ZA_GFP_NOWARN | ZA_GFP_NORETRY,
	                           0)))
		pg[n++] = p;
	for (int o = MAXO; o >= 0; o--)
		while (nr < 64 &&
		       (res[nr] = za_alloc_pages(za, ZA_GFP_ATOMIC | ZA_GFP_NOWARN,
		                                 (unsigned)o)))
			ro[nr++] = (unsigned)o;
	unsigned long last_pb = (BLOCK >> PB) - 1;
	for (unsigned i = 0; i < n; i++) {
		unsigned long pfn = za_page_to_pfn(za, pg[i]);
		if ((pfn >> PB) == last_pb || (pfn & 1)) {
			za_free_pages(za, pg[i], 0);
			pg[i] = NULL;
		}
	}
	za_drain_all_pages(za);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, run_pass_thread, za), 0);
	for (int i = 0; i < 10000 && !atomic_load(&h->in_cb); i++)
		usleep(1000);
	CHECK(atomic_load(&h->in_cb));
	unsigned long long stall = ev(za, ZA_COMPACT_STALL);
	struct za_page *big =
	    za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NORETRY | ZA_GFP_NOWARN, 4);
	unsigned long long stalls = ev(za, ZA_COMPACT_STALL) - stall;
	atomic_store(&h->release, 1);
	void *ret;
	pthread_join(t, &ret);
	CHECK_EQ((long)(intptr_t)ret, 1l << PB);
	RULE(big && stalls == 1,
	     "a report batch in flight keeps memory offline out, not compaction: "
	     "a costly allocation meanwhile compacts (allocation %s, %llu direct "
	     "compactions)",
	     big ? "made" : "failed", stalls);
	za_free_pages(za, big, 4);
	for (unsigned i = 0; i < n; i++)
		if (pg[i])
			za_free_pages(za, pg[i], 0);
	for (unsigned i = 0; i < nr; i++)
		za_free_pages(za, res[i], ro[i]);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(h);
}

/* --- stress ---------------------------------------------------------------------- */

#define FILL 0x5au
#define SCRIBBLE 0xa5u

struct st {
	struct za *za;
	atomic_int stop;
	atomic_ulong scribbled;
	int bad;
	uint64_t seed;
};

static int scribble_report(void *ctx, struct za_page *const *pages,
                           const unsigned *orders, unsigned n)
{
	struct st *s = ctx;
	/* What MADV_DONTNEED does to the memory: its contents are gone. */
	for (unsigned i = 0; i < n; i++) {
		memset(za_page_address(s->za, pages[i]), SCRIBBLE,
		       (size_t)4096 << orders[i]);
		atomic_fetch_add(&s->scribbled, 1ul << orders[i]);
	}
	return 0;
}

static void *worker(void *arg)
{
	struct st *s = arg;
	uint64_t seed = atomic_fetch_add((atomic_ulong *)&s->seed, 7777) + 1;
	struct {
		struct za_page *p;
		unsigned o;
	} held[64];
	unsigned nh = 0;
	while (!atomic_load(&s->stop)) {
		uint64_t r = tu_rand(&seed);
		if (nh < 64 && (r & 1)) {
			unsigned o = (unsigned)(r >> 8) % (MAXO + 1);
			struct za_page *p = za_alloc_pages(s->za,
			                                   ZA_GFP_MOVABLE | ZA_GFP_NOWARN,
			                                   o);
			if (p) {
				memset(za_page_address(s->za, p), FILL, (size_t)4096 << o);
				held[nh].p = p;
				held[nh++].o = o;
			}
		} else if (nh) {
			unsigned i = (unsigned)(r >> 16) % nh;
			const unsigned char *m = za_page_address(s->za, held[i].p);
			for (size_t k = 0; k < ((size_t)4096 << held[i].o); k += 512)
				if (m[k] != FILL)
					s->bad = 1;
			za_free_pages(s->za, held[i].p, held[i].o);
			held[i] = held[--nh];
		}
	}
	while (nh--)
		za_free_pages(s->za, held[nh].p, held[nh].o);
	return NULL;
}

static void test_stress(void)
{
	/* Backed memory, NORMAL (block 0, where most allocations go) and
	 * MOVABLE (blocks 1-2, going offline and online). No migrate callback:
	 * an offline of a block in use fails, one of a free block works. */
	size_t bytes = (size_t)3 * BLOCK * 4096;
	void *mem = aligned_alloc(1ul << 21, bytes);
	CHECK(mem != NULL);
	struct za *za = mk(0, MAXO);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, mem), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, BLOCK, 2 * BLOCK,
	                          (char *)mem + (size_t)BLOCK * 4096),
	         0);
	struct st s = { .za = za, .seed = 42 };
	struct za_page_reporting pr = { scribble_report, &s, 0, 1 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, worker, &s), 0);
	long rounds = tu_scale(40), offlined = 0;
	for (long i = 0; i < rounds; i++) {
		int err = za_memory_offline(za, 2 * BLOCK, BLOCK);
		if (err == 0) {
			offlined++;
			CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 2 * BLOCK, BLOCK,
			                          (char *)mem + (size_t)2 * BLOCK * 4096),
			         0);
		} else {
			CHECK(err == -EBUSY || err == -EAGAIN);
		}
		usleep(10000);
	}
	/* The thread has had a pass by now, unless the machine starved it:
	 * give it one (bounded). */
	for (int i = 0; i < 20000 && !atomic_load(&s.scribbled); i++)
		usleep(1000);
	atomic_store(&s.stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(s.bad, 0);
	CHECK(atomic_load(&s.scribbled) > 0);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	fprintf(stderr, "stress: %lu pages reported, %ld offlines of %ld\n",
	        (unsigned long)atomic_load(&s.scribbled), offlined, rounds);
	za_destroy(za);
	free(mem);
}

int main(void)
{
	tu_watchdog(240);
	test_bad_input();
	test_report_rules(MAXO);
	test_report_rules(PB); /* max order = pageblock order: no merging up */
	test_retry();
	test_no_threads();
	test_run_with_thread();
	test_offline_waits();
	test_failed_offline_keeps_marks(PB);
	test_failed_offline_keeps_marks(3);
	test_steal_keeps_marks();
	test_highatomic_keeps_marks();
	test_unregister_waits();
	test_unregister_from_migrate();
	test_compaction_beside_batch();
	test_stress();
	puts("reporting: ok");
	return 0;
}
