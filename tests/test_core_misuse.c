/*
 * test_core_misuse.c - bad frees are reported and change nothing.
 *
 * Each of these goes to the error handler (za_set_error_handler, or
 * za_config.error) exactly once, with err == -EINVAL and, where the page
 * has a pfn, a message naming it (decimal or hex); the MISUSE event counts
 * it; free counts, per-CPU counts and za_check() are unchanged afterwards:
 *  - a double free (the page on a per-CPU list; the page merged into a
 *    larger free buddy block; a high-order block);
 *  - a free of a page the allocator never handed out;
 *  - a free with the wrong order (smaller, larger, above max_order);
 *  - a free of a tail page of a live block;
 *  - a free of a page of another za instance;
 *  - a free of pointers that are not page metadata (stack, heap,
 *    misaligned inside the metadata);
 *  - a bulk free holding one bad entry reports that entry only;
 *  - two threads freeing the same block at the same moment: one free
 *    succeeds, the other is reported, every time.
 * NULL frees are ignored silently. The handler is called with no allocator
 * lock held: it allocates and frees a page itself (a deadlock would trip
 * the watchdog).
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <zonealloc.h>

#define BLK 1024UL
#define START (1UL << 20)
#define NPAGES (4 * BLK)

static int cpu0(void *ctx)
{
	(void)ctx;
	return 0;
}

struct errlog {
	int calls;
	int last_err;
	char last_msg[512];
	struct za *za; /* allocate from inside the handler */
};

static void handler(void *ctx, int err, const char *msg)
{
	struct errlog *e = ctx;
	e->calls++;
	e->last_err = err;
	snprintf(e->last_msg, sizeof(e->last_msg), "%s", msg ? msg : "(null)");
	if (e->za) {
		struct za_page *p = za_alloc_pages(e->za, ZA_GFP_ATOMIC, 0);
		if (p)
			za_free_pages(e->za, p, 0);
	}
}

static struct za *make(za_error_fn fn, void *ctx, unsigned long start)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 1;
	cfg.cpu_id = cpu0;
	cfg.block_pages = BLK;
	cfg.max_pfn = START + 16 * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.error = fn;
	cfg.error_ctx = ctx;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, start, NPAGES, NULL), 0);
	return za;
}

struct state {
	unsigned long free, pcp;
	unsigned long nr_free[ZA_MAX_ORDER_LIMIT + 1];
	unsigned long long pgfree;
};

static struct state snap(struct za *za)
{
	struct za_zone_info zi;
	struct state s;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	s.free = zi.free;
	s.pcp = zi.pcp_pages;
	memcpy(s.nr_free, zi.nr_free, sizeof(s.nr_free));
	s.pgfree = za_event_count(za, ZA_PGFREE);
	return s;
}

static int names_pfn(const char *msg, unsigned long pfn)
{
	char d[32], h[32], H[32];
	snprintf(d, sizeof(d), "%lu", pfn);
	snprintf(h, sizeof(h), "%lx", pfn);
	snprintf(H, sizeof(H), "%lX", pfn);
	return strstr(msg, d) || strstr(msg, h) || strstr(msg, H);
}

/*
 * Do the bad free and check: one report, -EINVAL, the pfn named (if
 * pfn != ~0), nothing changed.
 */
static void bad_free(struct za *za, struct errlog *log, const char *what,
                     struct za_page *p, unsigned order, unsigned long pfn)
{
	struct state before = snap(za);
	unsigned long long mis = za_event_count(za, ZA_MISUSE);
	int calls = log->calls;
	za_free_pages(za, p, order);
	if (log->calls != calls + 1) {
		fprintf(stderr, "%s: error handler called %d times, want 1\n", what,
		        log->calls - calls);
		CHECK_EQ(log->calls, calls + 1);
	}
	CHECK_EQ(log->last_err, -EINVAL);
	if (pfn != ~0UL && !names_pfn(log->last_msg, pfn)) {
		fprintf(stderr, "%s: message \"%s\" does not name pfn %lu (%#lx)\n",
		        what, log->last_msg, pfn, pfn);
		CHECK(names_pfn(log->last_msg, pfn));
	}
	printf("%s: \"%s\"\n", what, log->last_msg);
	CHECK_EQ(za_event_count(za, ZA_MISUSE), mis + 1);
	struct state after = snap(za);
	if (memcmp(&before, &after, sizeof(before)) != 0) {
		fprintf(stderr,
		        "%s: state changed: free %lu -> %lu, pcp %lu -> %lu, "
		        "pgfree %llu -> %llu\n",
		        what, before.free, after.free, before.pcp, after.pcp,
		        before.pgfree, after.pgfree);
		for (unsigned o = 0; o <= ZA_MAX_ORDER_LIMIT; o++)
			if (before.nr_free[o] != after.nr_free[o])
				fprintf(stderr, "  nr_free[%u] %lu -> %lu\n", o,
				        before.nr_free[o], after.nr_free[o]);
		exit(1);
	}
	CHECK_EQ(za_check(za, stderr), 0);
}

/* --- concurrent double free ------------------------------------------- */
/* Two frees of one block on two CPUs at the same instant, many times:
 * exactly one report each time. That is the promise of strict frees
 * (ZA_CFG_STRICT_FREE, the claim by compare-and-swap); without them the
 * two may both pass the free-side check and the report comes when the
 * block would be handed out the second time (DESIGN.md invariants; tested
 * by pcp_rseq), so this test asks for strict frees. */

static atomic_int race_reports;
static pthread_barrier_t race_bar;
static struct za *race_za;
static struct za_page *race_page;
static unsigned race_order;
static int race_rounds;
static __thread int race_cpu;

static int race_get_cpu(void *ctx)
{
	(void)ctx;
	return race_cpu;
}

static void race_handler(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)msg;
	if (err == -EINVAL)
		atomic_fetch_add(&race_reports, 1);
}

static void *race_worker(void *arg)
{
	race_cpu = (int)(long)arg;
	for (int r = 0; r < race_rounds; r++) {
		pthread_barrier_wait(&race_bar); /* page ready */
		za_free_pages(race_za, race_page, race_order);
		pthread_barrier_wait(&race_bar); /* both done */
	}
	return NULL;
}

static void concurrent_double_free(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = race_get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = START + 16 * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER |
	            ZA_CFG_STRICT_FREE;
	cfg.error = race_handler;
	race_za = za_create(&cfg);
	CHECK(race_za != NULL);
	CHECK_EQ(za_memory_online(race_za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL),
	         0);
	race_rounds = (int)tu_scale(20000);
	CHECK(pthread_barrier_init(&race_bar, NULL, 3) == 0);
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, race_worker, (void *)i) == 0);
	for (int r = 0; r < race_rounds; r++) {
		race_order = (unsigned)(r % 3 == 2 ? 5 : r % 3); /* 0, 1, 5 */
		race_page = za_alloc_pages(race_za, ZA_GFP_KERNEL, race_order);
		CHECK(race_page != NULL);
		int before = atomic_load(&race_reports);
		pthread_barrier_wait(&race_bar);
		pthread_barrier_wait(&race_bar);
		if (atomic_load(&race_reports) != before + 1) {
			fprintf(stderr,
			        "round %d: %d reports for two frees of one "
			        "block\n",
			        r, atomic_load(&race_reports) - before);
			CHECK_EQ(atomic_load(&race_reports), before + 1);
		}
	}
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	pthread_barrier_destroy(&race_bar);
	za_drain_all_pages(race_za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(race_za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, NPAGES);
	CHECK_EQ(za_check(race_za, stderr), 0);
	za_destroy(race_za);
}

int main(void)
{
	tu_watchdog(60);
	struct errlog log;
	memset(&log, 0, sizeof(log));
	struct za *za = make(NULL, NULL, START);
	za_set_error_handler(za, handler, &log);
	unsigned mo = za_max_order(za);

	/* NULL: silently ignored */
	za_free_pages(za, NULL, 0);
	za_free_pages(za, NULL, 3);
	CHECK_EQ(log.calls, 0);
	CHECK_EQ(za_event_count(za, ZA_MISUSE), 0);

	/* double free while the page sits on the per-CPU list */
	struct za_page *a = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(a != NULL);
	unsigned long apfn = za_page_to_pfn(za, a);
	za_free_pages(za, a, 0);
	CHECK_EQ(log.calls, 0);
	bad_free(za, &log, "double free (pcp)", a, 0, apfn);

	/* double free after the page merged back into a max-order block, as
	 * a tail of it */
	za_drain_all_pages(za);
	struct za_page *b = NULL;
	unsigned long bpfn = 0;
	struct za_page *skip[4];
	int nskip = 0;
	for (;;) {
		b = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(b != NULL);
		bpfn = za_page_to_pfn(za, b);
		if (bpfn % (1UL << mo) != 0)
			break;
		CHECK(nskip < 4);
		skip[nskip++] = b;
	}
	while (nskip)
		za_free_pages(za, skip[--nskip], 0);
	za_free_pages(za, b, 0);
	za_drain_all_pages(za);
	{
		struct za_zone_info zi;
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
		CHECK_EQ(zi.nr_free[mo] << mo, NPAGES); /* all merged */
	}
	bad_free(za, &log, "double free (merged)", b, 0, bpfn);

	/* a page never handed out: the last page of the zone */
	struct za_page *last = za_pfn_to_page(za, START + NPAGES - 1);
	CHECK(last != NULL);
	bad_free(za, &log, "never allocated", last, 0, START + NPAGES - 1);
	/* a free max-order block head */
	struct za_page *head = za_pfn_to_page(za, START);
	CHECK(head != NULL);
	bad_free(za, &log, "never allocated (head, max order)", head, mo, START);

	/* high-order block: wrong orders, tail page, then double free */
	struct za_page *c = za_alloc_pages(za, ZA_GFP_KERNEL, 2);
	CHECK(c != NULL);
	unsigned long cpfn = za_page_to_pfn(za, c);
	bad_free(za, &log, "wrong order (smaller)", c, 1, cpfn);
	bad_free(za, &log, "wrong order (0)", c, 0, cpfn);
	bad_free(za, &log, "wrong order (larger)", c, 3, cpfn);
	bad_free(za, &log, "wrong order (above max_order)", c, mo + 1, cpfn);
	struct za_page *tail = za_pfn_to_page(za, cpfn + 1);
	CHECK(tail != NULL && tail != c);
	bad_free(za, &log, "tail page", tail, 0, cpfn + 1);
	bad_free(za, &log, "tail page, block order", tail, 2, cpfn + 1);
	/* a 1-page free of the head is wrong too: the block is order 2 */
	int calls = log.calls;
	za_free_pages(za, c, 2); /* the right free */
	CHECK_EQ(log.calls, calls);
	bad_free(za, &log, "double free (order 2)", c, 2, cpfn);

	/* an order-5 block (not on the per-CPU lists) */
	struct za_page *d = za_alloc_pages(za, ZA_GFP_KERNEL, 5);
	CHECK(d != NULL);
	unsigned long dpfn = za_page_to_pfn(za, d);
	bad_free(za, &log, "wrong order (order 5 as 4)", d, 4, dpfn);
	za_free_pages(za, d, 5);
	bad_free(za, &log, "double free (order 5)", d, 5, dpfn);

	/* a page of another instance, same pfns and different ones */
	struct errlog log2;
	memset(&log2, 0, sizeof(log2));
	struct za *other = make(handler, &log2, START);
	struct za_page *f = za_alloc_pages(other, ZA_GFP_KERNEL, 0);
	CHECK(f != NULL);
	bad_free(za, &log, "page of another instance", f, 0, ~0UL);
	CHECK_EQ(log2.calls, 0);
	za_free_pages(other, f, 0);
	CHECK_EQ(log2.calls, 0);
	CHECK_EQ(za_check(other, stderr), 0);
	za_destroy(other);
	other = make(handler, &log2, START + 8 * BLK);
	f = za_alloc_pages(other, ZA_GFP_KERNEL, 0);
	CHECK(f != NULL);
	bad_free(za, &log, "page of another instance (other pfns)", f, 0, ~0UL);
	za_destroy(other);

	/* not page metadata at all */
	long on_stack[8] = { 0 };
	bad_free(za, &log, "stack pointer", (struct za_page *)on_stack, 0, ~0UL);
	void *heap = calloc(1, 4096);
	CHECK(heap != NULL);
	bad_free(za, &log, "heap pointer", (struct za_page *)heap, 0, ~0UL);
	free(heap);
	struct za_page *live = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(live != NULL);
	bad_free(za, &log, "misaligned metadata pointer",
	         (struct za_page *)((char *)live + 1), 0, ~0UL);
	if (za_page_meta_size() > 8)
		bad_free(za, &log, "metadata pointer, mid-struct",
		         (struct za_page *)((char *)live + 8), 0, ~0UL);

	/* bulk free: the bad entry is reported, the good ones freed */
	struct za_page *bulk[4];
	bulk[0] = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	bulk[1] = NULL;
	bulk[2] = last; /* never allocated */
	bulk[3] = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(bulk[0] && bulk[3]);
	calls = log.calls;
	unsigned long long pgfree = za_event_count(za, ZA_PGFREE);
	za_free_pages_bulk(za, 4, bulk);
	CHECK_EQ(log.calls, calls + 1);
	CHECK(names_pfn(log.last_msg, START + NPAGES - 1));
	CHECK_EQ(za_event_count(za, ZA_PGFREE), pgfree + 2);

	/* everything back: the misuse changed nothing */
	za_free_pages(za, live, 0);
	za_drain_all_pages(za);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.free, NPAGES);
	CHECK_EQ(zi.nr_free[mo] << mo, NPAGES);
	CHECK_EQ(za_check(za, stderr), 0);
	printf("%d reports, %llu misuse events\n", log.calls,
	       za_event_count(za, ZA_MISUSE));
	CHECK_EQ(za_event_count(za, ZA_MISUSE), (unsigned long long)log.calls);

	/* the handler may call into the allocator: no lock is held */
	log.za = za;
	calls = log.calls;
	struct za_page *h = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(h != NULL);
	za_free_pages(za, h, 0);
	za_free_pages(za, h, 0);
	CHECK_EQ(log.calls, calls + 1);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	log.za = NULL;

	/* the handler set in za_config, and NULL restores the default */
	za_destroy(za);
	memset(&log, 0, sizeof(log));
	za = make(handler, &log, START);
	struct za_page *g = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(g != NULL);
	za_free_pages(za, g, 0);
	za_free_pages(za, g, 0);
	CHECK_EQ(log.calls, 1);
	za_set_error_handler(za, NULL, NULL);
	fprintf(stderr, "(a default report on stderr follows)\n");
	za_free_pages(za, g, 0); /* to stderr, not to our handler */
	CHECK_EQ(log.calls, 1);
	CHECK_EQ(za_event_count(za, ZA_MISUSE), 2);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);

	concurrent_double_free();
	printf("core_misuse: ok\n");
	return 0;
}
