/*
 * test_core_bulk.c - za_alloc_pages_bulk and za_free_pages_bulk.
 *
 * Checks that za_alloc_pages_bulk returns exactly nr pages when memory is
 * there, fewer (never more, never past pages[nr - 1], entries past the
 * count untouched, entries already set overwritten) when it runs out,
 * every returned page distinct, online and of a zone the gfp allows; that
 * it obeys the same watermark as single allocations; that nr == 0 and a
 * bad gfp return 0; that za_free_pages_bulk frees them all (NULL entries
 * skipped) so that everything merges back, with PGALLOC/PGFREE counting
 * every page; that NOFAIL holds for the first page only (more asked
 * than there is returns; nothing free at all waits for the first page);
 * and that reclaim and the OOM handler are for the first page only too
 * (with pages in hand the rest comes from what is free); and that a
 * THISNODE call keeps to the node it began on when its thread moves.
 * Runs with and without per-CPU lists, on several CPUs.
 */
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <zonealloc.h>

#define BLK 1024UL
#define START (1UL << 20)
#define NPAGES (4 * BLK)
#define CAP 8192

static int cur_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

static struct za_page *pages[CAP + 16];
static unsigned char seen[NPAGES];
static struct za_page *const SENTINEL = (struct za_page *)0x5a5a5a5a;
static struct za_page *const MARKER = (struct za_page *)0x3c3c3c3c;

static struct za *make(unsigned flags)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 4;
	cfg.cpu_id = get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = START + NPAGES + BLK;
	cfg.min_free_kbytes = 512; /* 128 pages */
	cfg.flags = flags | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	cur_cpu = 0;
	return za;
}

static struct za_zone_info zinfo(struct za *za)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	return zi;
}

/* Bulk-allocate nr into pages[off..]; check the result; return the count. */
static unsigned bulk(struct za *za, unsigned off, unsigned nr)
{
	CHECK(off + nr + 8 <= CAP + 16);
	/* Entries already set are overwritten, not skipped (the header: not
	 * the kernel's array call), and those from the count on are left as
	 * they were: a marker everywhere, the sentinel past the end. */
	for (unsigned i = off; i < off + nr + 8; i++)
		pages[i] = (i < off + nr) ? MARKER : SENTINEL;
	unsigned long long a0 = za_event_count(za, ZA_PGALLOC);
	unsigned got = za_alloc_pages_bulk(za, ZA_GFP_KERNEL, nr, pages + off);
	CHECK(got <= nr);
	for (unsigned i = off; i < off + got; i++) {
		CHECK(pages[i] != NULL && pages[i] != SENTINEL && pages[i] != MARKER);
		unsigned long pfn = za_page_to_pfn(za, pages[i]);
		CHECK(pfn >= START && pfn < START + NPAGES);
		CHECK(za_pfn_to_page(za, pfn) == pages[i]);
		CHECK_EQ(za_page_zone(za, pages[i]), ZA_ZONE_NORMAL);
		if (seen[pfn - START]) {
			fprintf(stderr, "pfn %#lx handed out twice\n", pfn);
			exit(1);
		}
		seen[pfn - START] = 1;
	}
	for (unsigned i = off + got; i < off + nr; i++)
		CHECK(pages[i] == MARKER); /* past the count: untouched */
	for (unsigned i = off + nr; i < off + nr + 8; i++)
		CHECK(pages[i] == SENTINEL); /* never past the end */
	CHECK_EQ(za_event_count(za, ZA_PGALLOC) - a0, got);
	return got;
}

static void unsee(struct za *za, unsigned off, unsigned n)
{
	for (unsigned i = off; i < off + n; i++)
		if (pages[i]) {
			unsigned long pfn = za_page_to_pfn(za, pages[i]);
			CHECK(seen[pfn - START]);
			seen[pfn - START] = 0;
		}
}

static void all_back(struct za *za)
{
	za_drain_all_pages(za);
	struct za_zone_info zi = zinfo(za);
	CHECK_EQ(zi.free, NPAGES);
	CHECK_EQ(zi.pcp_pages, 0);
	unsigned mo = za_max_order(za);
	CHECK_EQ(zi.nr_free[mo] << mo, NPAGES);
	CHECK_EQ(za_check(za, stderr), 0);
}

static int reports;
static struct za *handler_za;
static void on_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	CHECK_EQ(err, -EINVAL);
	printf("reported: %s\n", msg);
	reports++;
	/* A handler may use the allocator: it must not find the page set
	 * locked by the bulk free that called it. */
	struct za_page *p = za_alloc_pages(handler_za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	za_free_pages(handler_za, p, 0);
	/* A drain locks the page set outright: with the lock still held by
	 * the caller this would never return (the watchdog fails the test). */
	za_drain_local_pages(handler_za);
}

static void bad_free_checks(struct za *za)
{
	enum { N = 200 };
	static struct za_page *arr[N + 4];
	handler_za = za;
	za_set_error_handler(za, on_error, NULL);
	cur_cpu = 2;
	CHECK_EQ(bulk(za, 0, N), N);
	unsee(za, 0, N);
	struct za_page *big = za_alloc_pages(za, ZA_GFP_KERNEL, 1);
	CHECK(big != NULL);
	memcpy(arr, pages, N * sizeof(arr[0]));
	/* a double free inside the array, a pointer that is no page, an
	 * order-1 block in an order-0 free, and a page freed twice across
	 * two calls */
	arr[N] = arr[10];
	arr[N + 1] = (struct za_page *)((char *)arr[20] + 1);
	arr[N + 2] = big;
	unsigned long long f0 = za_event_count(za, ZA_PGFREE);
	reports = 0;
	za_free_pages_bulk(za, N + 3, arr);
	CHECK_EQ(reports, 3);
	/* and the handler frees one page per report */
	CHECK_EQ(za_event_count(za, ZA_PGFREE) - f0, N + 3);
	za_free_pages_bulk(za, 1, &arr[5]);
	CHECK_EQ(reports, 4);
	CHECK_EQ(za_check(za, stderr), 0);
	za_free_pages(za, big, 1);
	za_set_error_handler(za, NULL, NULL);
	CHECK_EQ(reports, 4);
	all_back(za);
}

static void run(unsigned flags)
{
	struct za *za = make(flags);
	memset(seen, 0, sizeof(seen));

	/* nothing asked, nothing given */
	CHECK_EQ(za_alloc_pages_bulk(za, ZA_GFP_KERNEL, 0, pages), 0);
	/* bad gfp: nothing */
	pages[0] = SENTINEL;
	CHECK_EQ(za_alloc_pages_bulk(za, ZA_GFP_KERNEL | 0x4000u, 4, pages), 0);
	CHECK_EQ(zinfo(za).free + zinfo(za).pcp_pages, NPAGES);

	/* small requests come back whole */
	unsigned n = 0;
	static const unsigned sizes[] = { 1, 5, 31, 64, 100, 7 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cur_cpu = (int)(i % 4);
		CHECK_EQ(bulk(za, n, sizes[i]), sizes[i]);
		n += sizes[i];
	}
	struct za_zone_info zi = zinfo(za);
	CHECK_EQ(zi.free + zi.pcp_pages + n, NPAGES);
	/* free with a NULL hole in the middle */
	unsee(za, 0, n);
	pages[n] = pages[3];
	pages[3] = NULL;
	unsigned long long f0 = za_event_count(za, ZA_PGFREE);
	za_free_pages_bulk(za, n + 1, pages);
	CHECK_EQ(za_event_count(za, ZA_PGFREE) - f0, n);
	all_back(za);

	/* misuse inside a bulk free: each bad entry reported (with the
	 * page-set lock dropped: the handler allocates and frees), the good
	 * ones around it freed */
	bad_free_checks(za);

	/* ask for more than there is: fewer, stopping at the watermark */
	cur_cpu = 1;
	unsigned got = bulk(za, 0, CAP);
	zi = zinfo(za);
	printf("asked %u, got %u of %lu (free %lu, min %lu, pcp %lu)\n", CAP, got,
	       NPAGES, zi.free, zi.min, zi.pcp_pages);
	CHECK(got < NPAGES);
	CHECK(got > 0);
	/* down to min, give or take the per-CPU counter drift */
	CHECK(zi.free <= zi.min + 1 + za_nr_cpus(za) * zi.stat_threshold);
	/* and not through the reserve: at most one per-CPU refill below min
	 * (and the counter drift the check need not sum) */
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 1, 0, ZA_ZONE_NORMAL, &pi), 0);
	unsigned long drift = za_nr_cpus(za) * zi.stat_threshold;
	if (zi.free + pi.batch + drift < zi.min)
		fprintf(stderr, "bulk took the zone to %lu free, min %lu\n", zi.free,
		        zi.min);
	CHECK(zi.free + pi.batch + drift >= zi.min);
	CHECK_EQ(zi.free + zi.pcp_pages + got, NPAGES);
	/* the rest, if any, by more bulk calls: never above the watermark */
	unsigned more = bulk(za, got, 256);
	got += more;
	zi = zinfo(za);
	CHECK_EQ(zi.free + zi.pcp_pages + got, NPAGES);
	CHECK(got + zi.min + 1 + zi.pcp_pages +
	          za_nr_cpus(za) * zi.stat_threshold >=
	      NPAGES);
	/* single allocations cannot get more than bulk left either */
	errno = 0;
	struct za_page *one = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY,
	                                     0);
	if (one) {
		/* only pages a drain gave back to the buddy lists */
		CHECK(zi.pcp_pages > 0);
		pages[got++] = one;
	}
	unsee(za, 0, got);
	za_free_pages_bulk(za, got, pages);
	all_back(za);

	/* many rounds, random sizes, frees interleaved */
	uint64_t s = 77;
	n = 0;
	for (int r = 0; r < tu_scale(300); r++) {
		cur_cpu = (int)(tu_rand(&s) % 4);
		if (n < 2000 && tu_rand(&s) % 2) {
			unsigned want = 1 + (unsigned)(tu_rand(&s) % 40);
			n += bulk(za, n, want);
		} else if (n > 0) {
			unsigned k = 1 + (unsigned)(tu_rand(&s) % n);
			unsee(za, n - k, k);
			za_free_pages_bulk(za, k, pages + (n - k));
			n -= k;
		}
		zi = zinfo(za);
		CHECK_EQ(zi.free + zi.pcp_pages + n, NPAGES);
	}
	unsee(za, 0, n);
	za_free_pages_bulk(za, n, pages);
	all_back(za);
	za_destroy(za);
}

/* NOFAIL holds for the first page only (the header; the kernel's bulk
 * call is the same): a caller that asked for more than there is gets
 * what there is. Waiting for more would be waiting for pages that only it
 * could free, with itself blocked in the call. An allocation that gets no
 * page calls the OOM handler at most 16 times, then fails, unless it is
 * NOFAIL: then it dips into the reserves and calls the handler again,
 * after a wait, until it gets one. */
static unsigned oom_calls, oom_free_at;
static unsigned held_n;
static struct za *oom_za;
static unsigned long on_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	oom_calls++;
	if (oom_free_at) {
		if (oom_calls < oom_free_at)
			return 0;
		unsigned long n = held_n;
		za_free_pages_bulk(oom_za, held_n, pages);
		held_n = 0;
		return n;
	}
	/* 16 calls for the first page at most (NOFAIL: then the reserves),
	 * none for the second (pages in hand: what is free, no handler). */
	if (oom_calls > 16) {
		fprintf(stderr,
		        "rule: NOFAIL applies to a bulk allocation's first "
		        "page only - the OOM handler was called %u times "
		        "with pages already in the caller's array\n",
		        oom_calls);
		CHECK(oom_calls <= 16);
	}
	return 0;
}

struct nofail_call {
	struct za *za;
	struct za_page **pages;
	unsigned got;
	atomic_int done;
};
static void *nofail_bulk(void *arg)
{
	struct nofail_call *c = arg;
	c->got = za_alloc_pages_bulk(c->za, ZA_GFP_KERNEL | ZA_GFP_NOFAIL,
	                             NPAGES + 64, c->pages);
	atomic_store(&c->done, 1);
	return NULL;
}

static void nofail_first_page_only(unsigned flags)
{
	static struct za_page *more[NPAGES + 64];
	struct za *za = make(flags);
	oom_za = za;
	za_set_oom_handler(za, on_oom, NULL);
	/* More than there is: what there is, then a return - in a thread,
	 * waited for 20 s at most: a NOFAIL passed on to the pages after the
	 * first would wait for ever (no reclaim or handler runs for them,
	 * in_hand_no_reclaim), and the test says so rather than time out. */
	oom_calls = 0;
	oom_free_at = 0;
	struct nofail_call c = { za, more, 0, 0 };
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, nofail_bulk, &c), 0);
	for (int i = 0; i < 2000 && !atomic_load(&c.done); i++)
		usleep(10000);
	RULE(atomic_load(&c.done),
	     "NOFAIL applies to a bulk allocation's first page only - a "
	     "call for more pages than there are has not returned in 20 s");
	CHECK_EQ(pthread_join(th, NULL), 0);
	unsigned got = c.got;
	CHECK(got > 0 && got <= NPAGES);
	za_free_pages_bulk(za, got, more);
	/* Nothing free at all (no reserve: min_free_kbytes 0): the first page
	 * is waited for. The handler frees everything on its third call; a
	 * request without NOFAIL would have failed at its first. */
	za_set_oom_handler(za, NULL, NULL);
	CHECK_EQ(za_sysctl_set(za, "min_free_kbytes", "0"), 0);
	held_n = 0;
	for (int round = 0; round < 4; round++) {
		/* Every page, of either type: what a drain brings back from
		 * the lists of one type is taken by the next round. */
		za_gfp_t g = ZA_GFP_ATOMIC | ZA_GFP_NOWARN |
		             (round & 1 ? ZA_GFP_MOVABLE : 0);
		za_drain_all_pages(za);
		for (struct za_page *p;
		     held_n < CAP && (p = za_alloc_pages(za, g, 0));)
			pages[held_n++] = p;
	}
	CHECK_EQ(held_n, NPAGES);
	za_set_oom_handler(za, on_oom, NULL);
	oom_calls = 0;
	oom_free_at = 3;
	got = za_alloc_pages_bulk(za, ZA_GFP_KERNEL | ZA_GFP_NOFAIL, 4, more);
	CHECK_EQ(got, 4);
	CHECK_EQ(oom_calls, 3);
	CHECK_EQ(held_n, 0);
	za_free_pages_bulk(za, got, more);
	za_set_oom_handler(za, NULL, NULL);
	all_back(za);
	za_destroy(za);
}

/* Reclaim and the OOM handler are for a bulk allocation's first page
 * only, as in the kernel (whose bulk call takes the single-page slow path
 * only while it has no page): with pages in hand, the rest of the array
 * comes from what is free - down to min, kswapd woken - and the call
 * returns rather than shrink the client's caches or call its OOM handler
 * (which frees memory by killing, in most programs) for more. */
static unsigned ih_scans, ih_oom;
static unsigned long ih_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return 100;
}
static unsigned long ih_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	ih_scans++;
	return 0;
}
static unsigned long ih_on_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	ih_oom++;
	return 0;
}

static void in_hand_no_reclaim(unsigned flags)
{
	static struct za_page *more[NPAGES + 64];
	struct za *za = make(flags);
	struct za_shrinker sh = { ih_count, ih_scan, NULL, NULL };
	CHECK_EQ(za_register_shrinker(za, &sh), 0);
	za_set_oom_handler(za, ih_on_oom, NULL);
	static const za_gfp_t gfps[] = { ZA_GFP_KERNEL,
		                             ZA_GFP_KERNEL | ZA_GFP_NOFAIL,
		                             ZA_GFP_KERNEL | ZA_GFP_NORETRY,
		                             ZA_GFP_MOVABLE };
	for (unsigned k = 0; k < sizeof(gfps) / sizeof(gfps[0]); k++) {
		cur_cpu = (int)k;
		ih_scans = ih_oom = 0;
		unsigned long long st0 = za_event_count(za, ZA_ALLOCSTALL);
		unsigned got = za_alloc_pages_bulk(za, gfps[k], NPAGES + 64, more);
		unsigned long long stalls = za_event_count(za, ZA_ALLOCSTALL) - st0;
		struct za_zone_info zi = zinfo(za);
		printf("in hand: gfp %#x got %u, free %lu (min %lu), reclaims %llu, "
		       "scans %u, OOM handler calls %u\n",
		       gfps[k], got, zi.free, zi.min, stalls, ih_scans, ih_oom);
		CHECK(got > 0 && got <= NPAGES);
		/* still down to min, give or take the counter drift */
		CHECK(zi.free <= zi.min + 1 + za_nr_cpus(za) * zi.stat_threshold);
		RULE(stalls == 0 && ih_scans == 0 && ih_oom == 0,
		     "reclaim and the OOM handler are for a bulk allocation's "
		     "first page only: with %u pages in hand it reclaimed %llu "
		     "times (%u shrinker scans) and called the OOM handler %u "
		     "times",
		     got, stalls, ih_scans, ih_oom);
		za_free_pages_bulk(za, got, more);
		all_back(za);
	}
	/* The first page still reclaims and asks the handler: everything
	 * down to min taken one by one, then a bulk call. */
	unsigned held = 0;
	for (struct za_page *p;
	     held < NPAGES && (p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0));)
		more[held++] = p;
	za_drain_all_pages(za);
	for (struct za_page *p;
	     held < NPAGES && (p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0));)
		more[held++] = p;
	ih_scans = ih_oom = 0;
	CHECK_EQ(za_alloc_pages_bulk(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 4,
	                             more + held),
	         0);
	CHECK(ih_scans > 0 && ih_oom > 0);
	za_free_pages_bulk(za, held, more);
	za_set_oom_handler(za, NULL, NULL);
	za_unregister_shrinker(za, &sh);
	all_back(za);
	za_destroy(za);
}

/* One call, one node: the thread moves from CPU 0 (node 0) to CPU 2
 * (node 1) during a THISNODE bulk call - the cpu_id callback says so
 * after its first `mv_at` calls, wherever that falls (the runs, the
 * pages one by one after them) - and every page of the array is still of
 * node 0, the node the call began on (as the kernel's bulk call keeps the
 * preferred node it was given). Node 0 holds fewer pages than asked, so
 * the call always goes on one page at a time. */
static int mv_calls, mv_at;
static int mv_cpu(void *ctx)
{
	(void)ctx;
	return ++mv_calls > mv_at ? 2 : 0;
}

static void thisnode_one_node(void)
{
	static struct za_page *arr[3000];
	for (int at = 1; at <= 60; at++) {
		struct za_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.nr_cpus = 4;
		cfg.nr_nodes = 2; /* CPUs 0, 1: node 0; 2, 3: node 1 */
		cfg.cpu_id = mv_cpu;
		cfg.block_pages = BLK;
		cfg.max_pfn = START + 6 * BLK;
		cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
		struct za *za = za_create(&cfg);
		CHECK(za != NULL);
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, BLK, NULL), 0);
		CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, START + BLK, 4 * BLK,
		                          NULL),
		         0);
		mv_calls = 0;
		mv_at = at;
		unsigned got = za_alloc_pages_bulk(za, ZA_GFP_KERNEL | ZA_GFP_THISNODE,
		                                   3000, arr);
		unsigned other = 0;
		for (unsigned i = 0; i < got; i++)
			other += za_page_to_pfn(za, arr[i]) >= START + BLK;
		RULE(other == 0,
		     "a THISNODE bulk call keeps to the node it began on: the "
		     "thread moved to node 1 after %d CPU lookups, and %u of its "
		     "%u pages are of node 1",
		     at, other, got);
		CHECK(got > 0 && got < BLK);
		mv_at = INT_MAX; /* CPU 0 from here */
		za_free_pages_bulk(za, got, arr);
		za_drain_all_pages(za);
		CHECK_EQ(za_check(za, stderr), 0);
		za_destroy(za);
	}
}

int main(void)
{
	tu_watchdog(60);
	run(0);
	run(ZA_CFG_NO_PCP);
	nofail_first_page_only(0);
	nofail_first_page_only(ZA_CFG_NO_PCP);
	in_hand_no_reclaim(0);
	in_hand_no_reclaim(ZA_CFG_NO_PCP);
	thisnode_one_node();
	printf("core_bulk: ok\n");
	return 0;
}
