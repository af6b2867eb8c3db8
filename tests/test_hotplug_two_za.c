/*
 * test_hotplug_two_za.c - two allocators in one process: a callback of
 * allocator A may call into allocator B freely (review 6, finding 2).
 * What a thread "holds" - the memory-hotplug lock, a compaction pass, a
 * shrinker walk, a report callback, an error handler, the lock-order
 * witness's ranks - is recorded per allocator: only a call back into A
 * itself refuses (-EDEADLK) where the header says.
 *
 * Part 1: from A's migrate callback during za_compact(A), B comes online,
 *   gives and takes back a contiguous range, is checked, compacted and
 *   reported on; the same calls into A refuse. B's compaction, run from
 *   there, calls back into A from its own migrate callback: A still
 *   refuses, B too (inside its pass), and after B's pass A still does.
 * Part 2: the same from A's migrate callback during za_memory_offline(A)
 *   (A's mem_hotplug_lock held): a debug build's witness must not take
 *   B's locks for A's.
 * Part 3: A's shrinker unregisters B's shrinker; its own allocator's
 *   still refuses.
 * Part 4: A's error handler commits a misuse on B: B's handler gets it;
 *   a misuse on A goes to stderr.
 * Part 5: A's report callback runs a reporting pass of B, whose callback
 *   may not unregister A's reporting (A's pass is under way on this
 *   thread), nor may A's callback after B's pass returned.
 */
#include <errno.h>
#include <string.h>

#include "zonealloc.h"
#include "testutil.h"

#define BLOCK 1024ul /* pages per block (max order 10) */

static struct za *A, *B;
static int part, a_calls, b_calls, a_errors, b_errors;
static FILE *null_out;

static void count_a(void *ctx, int err, const char *msg);
static void count_b(void *ctx, int err, const char *msg);

static struct za *mk(int (*migrate)(void *, struct za_page *, struct za_page *,
                                    unsigned),
                     za_error_fn error, unsigned nblocks)
{
	struct za_config c = { 0 };
	c.nr_cpus = 2;
	c.max_order = 10;
	c.block_pages = BLOCK;
	c.max_pfn = 64 * BLOCK;
	c.flags = ZA_CFG_NO_KCOMPACTD | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	c.migrate = migrate;
	c.error = error;
	struct za *za = za_create(&c);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, nblocks * BLOCK, NULL),
	         0);
	return za;
}

/* Frames-only memory (online with no base): nothing to copy. */
static void copy(struct za *za, struct za_page *dst, struct za_page *src,
                 unsigned order)
{
	void *d = za_page_address(za, dst), *s = za_page_address(za, src);
	if (d && s)
		memcpy(d, s, 4096ul << order);
}

/* Fill za with order-0 movable pages and free every other one: compaction
 * has something to move. kept[slot] holds the pages that stay. */
static struct za_page *kept[4][8 * BLOCK];
static unsigned nkept[4];

static void fragment(struct za *za, unsigned slot)
{
	unsigned n = 0;
	struct za_page *p;
	while (
	    n < 8 * BLOCK &&
	    (p = za_alloc_pages(za, ZA_GFP_MOVABLE & ~ZA___GFP_DIRECT_RECLAIM, 0)))
		kept[slot][n++] = p;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i % 2)
			za_free_pages(za, kept[slot][i], 0);
		else
			kept[slot][k++] = kept[slot][i];
	}
	nkept[slot] = k;
}

static void unfragment(struct za *za, unsigned slot)
{
	for (unsigned i = 0; i < nkept[slot]; i++)
		za_free_pages(za, kept[slot][i], 0);
	nkept[slot] = 0;
}

static unsigned long next_b_block = 8; /* B's blocks onlined from callbacks */

/* Calls into A from inside one of A's passes (or a pass of B run from
 * A's callback): each would wait for A's own locks, and refuses. */
static void into_a_refuses(const char *where)
{
	RULE(za_memory_online(A, 0, ZA_ZONE_NORMAL, 40 * BLOCK, BLOCK, NULL) ==
	         -EDEADLK,
	     "%s: za_memory_online(A) refuses (A's pass is this thread's)", where);
	errno = 0;
	struct za_page *c = za_alloc_contig_pages(A, BLOCK, ZA_GFP_MOVABLE);
	RULE(!c && errno == EDEADLK,
	     "%s: za_alloc_contig_pages(A) refuses with EDEADLK", where);
	RULE(za_check(A, null_out) == -EDEADLK, "%s: za_check(A) refuses", where);
}

/* Calls into B from A's callback: nothing of B is held, all succeed. */
static void into_b_succeeds(const char *where)
{
	unsigned long blk = next_b_block++;
	int r = za_memory_online(B, 0, ZA_ZONE_NORMAL, blk * BLOCK, BLOCK, NULL);
	RULE(r == 0, "%s: za_memory_online(B) = %d, not 0 (A's hold is not B's)",
	     where, r);
	errno = 0;
	struct za_page *c = za_alloc_contig_pages(B, BLOCK, ZA_GFP_MOVABLE);
	RULE(c != NULL, "%s: za_alloc_contig_pages(B) failed, errno %d", where,
	     errno);
	int before = b_errors;
	za_free_contig_pages(B, c, BLOCK);
	RULE(b_errors == before, "%s: za_free_contig_pages(B) was refused", where);
	r = za_check(B, null_out);
	RULE(r == 0, "%s: za_check(B) = %d, not 0", where, r);
	r = za_report(B, ZA_REPORT_PAGETYPEINFO, null_out);
	RULE(r == 0, "%s: za_report(B, PAGETYPEINFO) = %d", where, r);
	r = (int)za_page_reporting_run(B);
	RULE(r == -ENOENT, "%s: za_page_reporting_run(B) = %d, not -ENOENT", where,
	     r);
}

static int migrate_b(void *ctx, struct za_page *dst, struct za_page *src,
                     unsigned order)
{
	(void)ctx;
	copy(B, dst, src, order);
	if (b_calls++ == 0) {
		/* B's pass, run from A's callback: both are this thread's. */
		into_a_refuses("in B's compaction callback inside A's");
		RULE(za_memory_online(B, 0, ZA_ZONE_NORMAL, 50 * BLOCK, BLOCK, NULL) ==
		         -EDEADLK,
		     "in B's compaction callback: za_memory_online(B) refuses");
	}
	return 0;
}

static int migrate_a(void *ctx, struct za_page *dst, struct za_page *src,
                     unsigned order)
{
	(void)ctx;
	copy(A, dst, src, order);
	if (a_calls++)
		return 0;
	const char *where = part == 1 ? "in A's compaction callback"
	                              : "in A's offline callback";
	into_b_succeeds(where);
	into_a_refuses(where);
	if (part == 1) {
		RULE(za_compact(A, -1) == -EDEADLK, "%s: za_compact(A) refuses",
		     where);
		/* B's own pass, from here; its callback calls back into A. */
		fragment(B, 1);
		b_calls = 0;
		int r = za_compact(B, -1);
		RULE(r == 0, "%s: za_compact(B) = %d, not 0", where, r);
		RULE(b_calls > 0, "%s: B's compaction moved nothing", where);
		unfragment(B, 1);
		into_a_refuses("in A's compaction callback, after B's pass");
	} else {
		/* A's report reads its census under this thread's hold. */
		RULE(za_report(A, ZA_REPORT_PAGETYPEINFO, null_out) == 0,
		     "%s: za_report(A, PAGETYPEINFO)", where);
		int r = za_compact(B, -1);
		RULE(r == 0 || r == -EAGAIN, "%s: za_compact(B) = %d", where, r);
	}
	return 0;
}

/* --- part 3: shrinkers ----------------------------------------------------- */

static unsigned long sh_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return 1;
}
static unsigned long sh_scan_none(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	return 0;
}
static struct za_shrinker sh_b = { sh_count, sh_scan_none, NULL, NULL };
static struct za_shrinker sh_a2 = { sh_count, sh_scan_none, NULL, NULL };
static int sh_a_calls;

static unsigned long sh_scan_a(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	if (sh_a_calls++)
		return 0;
	int before_b = b_errors, before_a = a_errors;
	za_unregister_shrinker(B, &sh_b);
	RULE(b_errors == before_b,
	     "in A's shrinker: za_unregister_shrinker(B) was refused");
	RULE(za_register_shrinker(B, &sh_b) == 0,
	     "in A's shrinker: B's shrinker is still registered");
	za_unregister_shrinker(A, &sh_a2);
	RULE(a_errors == before_a + 1,
	     "in A's shrinker: za_unregister_shrinker(A) was not refused");
	return 0;
}
static struct za_shrinker sh_a = { sh_count, sh_scan_a, NULL, NULL };

/* --- part 4: error handlers ------------------------------------------------ */

static char bogus[64];

static void count_b(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	(void)msg;
	b_errors++;
}

static void count_a(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	(void)msg;
	if (a_errors++ == 0 && part == 4) {
		int before = b_errors;
		za_free_pages(B, (struct za_page *)bogus, 0);
		RULE(b_errors == before + 1,
		     "in A's error handler: a misuse of B did not reach B's "
		     "handler");
		za_free_pages(A, (struct za_page *)bogus, 0); /* to stderr */
	}
}

/* --- part 5: page reporting ------------------------------------------------ */

static int rep_a_calls, rep_b_calls;

/* A call that must refuse rather than wait for this thread's own pass:
 * if it waits, say so (a broken rule, not a bare timeout) and fail. */
static const char *volatile deadline_what;

static void deadline_fire(int sig)
{
	static const char head[] = "RULE BROKEN: ";
	static const char tail[] = " waited for its own pass (deadlock)\n";
	const char *w = deadline_what;
	size_t n = 0;
	(void)sig;
	while (w[n])
		n++;
	if (write(2, head, sizeof(head) - 1) < 0 || write(2, w, n) < 0 ||
	    write(2, tail, sizeof(tail) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(1);
}

static int unregister_within_deadline(struct za *za, const char *what)
{
	deadline_what = what;
	signal(SIGALRM, deadline_fire);
	alarm(5);
	int r = za_page_reporting_unregister(za);
	tu_watchdog(60);
	return r;
}

static int report_b(void *ctx, struct za_page *const *pages,
                    const unsigned *orders, unsigned n)
{
	(void)ctx;
	(void)pages;
	(void)orders;
	(void)n;
	if (rep_b_calls++ == 0)
		RULE(unregister_within_deadline(A, "in B's report callback inside "
		                                   "A's: za_page_reporting_"
		                                   "unregister(A)") == -EDEADLK,
		     "in B's report callback inside A's: "
		     "za_page_reporting_unregister(A) refuses");
	return 0;
}

static int report_a(void *ctx, struct za_page *const *pages,
                    const unsigned *orders, unsigned n)
{
	(void)ctx;
	(void)pages;
	(void)orders;
	(void)n;
	if (rep_a_calls++)
		return 0;
	long r = za_page_reporting_run(B);
	RULE(r > 0, "in A's report callback: za_page_reporting_run(B) = %ld", r);
	RULE(rep_b_calls > 0, "B's report callback was not called");
	RULE(unregister_within_deadline(A, "in A's report callback after B's "
	                                   "pass: za_page_reporting_"
	                                   "unregister(A)") == -EDEADLK,
	     "in A's report callback after B's pass: "
	     "za_page_reporting_unregister(A) refuses");
	return 0;
}

/* A block of the pageblock order that went through the free lists. */
static void free_a_block(struct za *za)
{
	struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, 10);
	CHECK(p);
	za_free_pages(za, p, 10);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tu_watchdog(60);
	null_out = fopen("/dev/null", "w");
	CHECK(null_out);
	A = mk(migrate_a, count_a, 2);
	B = mk(migrate_b, count_b, 1);

	printf("part 1: from A's compaction callback into B\n");
	part = 1;
	fragment(A, 0);
	int r = za_compact(A, -1);
	CHECK_EQ(r, 0);
	CHECK(a_calls > 0);
	unfragment(A, 0);

	printf("part 2: from A's offline callback into B\n");
	part = 2;
	a_calls = 0;
	struct za_page *q = za_alloc_pages(A, ZA_GFP_MOVABLE, 0);
	CHECK(q);
	unsigned long blk = za_page_to_pfn(A, q) & ~(BLOCK - 1);
	CHECK_EQ(za_memory_offline(A, blk, BLOCK), 0);
	CHECK(a_calls > 0);
	/* Outside every callback, A takes its hotplug calls again. */
	CHECK_EQ(za_memory_online(A, 0, ZA_ZONE_NORMAL, blk, BLOCK, NULL), 0);
	CHECK_EQ(za_check(A, null_out), 0);
	CHECK_EQ(za_check(B, null_out), 0);
	za_destroy(A);
	za_destroy(B);

	printf("part 3: from A's shrinker into B\n");
	part = 3;
	A = mk(NULL, count_a, 1);
	B = mk(NULL, count_b, 1);
	CHECK_EQ(za_register_shrinker(A, &sh_a), 0);
	CHECK_EQ(za_register_shrinker(A, &sh_a2), 0);
	CHECK_EQ(za_register_shrinker(B, &sh_b), 0);
	a_errors = b_errors = 0;
	fragment(A, 0);
	struct za_page *big = za_alloc_pages(A, ZA_GFP_KERNEL, 8);
	CHECK(!big);
	CHECK(sh_a_calls > 0);
	unfragment(A, 0);
	za_unregister_shrinker(A, &sh_a);
	za_unregister_shrinker(B, &sh_b);
	za_destroy(A);
	za_destroy(B);

	printf("part 4: from A's error handler into B\n");
	part = 4;
	A = mk(NULL, count_a, 1);
	B = mk(NULL, count_b, 1);
	a_errors = b_errors = 0;
	za_free_pages(A, (struct za_page *)bogus, 0);
	CHECK_EQ(a_errors, 1); /* its own second misuse went to stderr */
	CHECK_EQ(b_errors, 1);
	za_destroy(A);
	za_destroy(B);

	printf("part 5: from A's report callback into B\n");
	part = 5;
	A = mk(NULL, count_a, 4);
	B = mk(NULL, count_b, 4);
	struct za_page_reporting pa = { .report = report_a };
	struct za_page_reporting pb = { .report = report_b };
	CHECK_EQ(za_page_reporting_register(A, &pa), 0);
	CHECK_EQ(za_page_reporting_register(B, &pb), 0);
	free_a_block(A);
	free_a_block(B);
	long n = za_page_reporting_run(A);
	CHECK(n > 0);
	CHECK(rep_a_calls > 0);
	CHECK_EQ(za_page_reporting_unregister(A), 0);
	CHECK_EQ(za_page_reporting_unregister(B), 0);
	za_destroy(A);
	za_destroy(B);
	fclose(null_out);
	printf("5 passed, 0 failed\n");
	return 0;
}
