/*
 * test_hostile_api.c - hostile and careless calls into the library API
 * (issue 12): each must return what the header says, and change nothing.
 *
 * One case per run, named by argv[1] (tests/hostile.cmake registers each):
 *  contig_huge      za_alloc_contig_pages with nr_pages near ULONG_MAX:
 *                   NULL + ENOMEM, nothing written, za_check clean;
 *                   the matching contig free is reported, not obeyed.
 *  oom_liar         an OOM handler that says it freed pages and frees
 *                   nothing: a KERNEL allocation fails (ENOMEM) after a
 *                   bounded number of handler calls; NOFAIL keeps
 *                   trying but backs off (few handler calls while a
 *                   helper thread waits before freeing a page).
 *  page_shift_big   page_shift 28..30 work: the statistics threshold
 *                   of a zone depends on its size in bytes, not on the
 *                   page size (it read a shift by a negative amount).
 *  pcp_fixed        ZA_CFG_PCP_FIXED with pcp_high or pcp_batch above
 *                   INT_MAX (or above 2^30) is EINVAL, not high -1.
 *  min_free_huge    min_free_kbytes ULONG_MAX, 2^62 with 512-byte pages:
 *                   the reserve saturates at the zone (min == managed),
 *                   pcp high stays positive, and a KERNEL allocation
 *                   cannot take the zone's pages.
 *  sizes            other config sizes at their limits (block_pages
 *                   2^40 and 2^63, max_pfn ULONG_MAX) are EINVAL;
 *                   max_pfn up to 2^32 - block_pages once rounded up
 *                   to whole blocks is fine, one block more is EINVAL.
 *  null_za          every entry point given a NULL za returns its
 *                   documented failure value (none crashes).
 *  page_to_pfn      za_page_to_pfn of NULL, a foreign pointer, a
 *                   misaligned one: ULONG_MAX; of a good page: its pfn.
 *  bad_nid          za_alloc_pages_node with nid -2 or INT_MIN: EINVAL.
 *  offline_2zones   offline of a range spanning two zones: -EINVAL
 *                   (documented), nothing changed.
 *  report_full      za_report to a stream on /dev/full: -EIO (the write
 *                   error shows only when flushed).
 */
#include "testutil.h"

#include <stdbool.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <zonealloc.h>

#define BLK 1024UL
#define START (1UL << 16)
#define NPAGES (4 * BLK)

static int cpu0(void *ctx)
{
	(void)ctx;
	return 0;
}

static atomic_int reports;
static void count_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	atomic_fetch_add(&reports, 1);
	printf("  reported: %s\n", msg);
}

static struct za_config base_cfg(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 1;
	cfg.cpu_id = cpu0;
	cfg.block_pages = BLK;
	cfg.max_pfn = START + 16 * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.error = count_error;
	return cfg;
}

static struct za *make(void)
{
	struct za_config cfg = base_cfg();
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	return za;
}

static unsigned long zone_free(struct za *za, enum za_zone_type t)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, t, &zi), 0);
	return zi.free + zi.pcp_pages;
}

/* --- contig_huge ------------------------------------------------------------ */

static void contig_huge(void)
{
	struct za *za = make();
	unsigned long before = zone_free(za, ZA_ZONE_NORMAL);
	const unsigned long sizes[] = { ULONG_MAX,
		                            ULONG_MAX - 1000,
		                            ULONG_MAX - (1UL << 10) + 2,
		                            (ULONG_MAX >> 1) + 1,
		                            1UL << 40,
		                            START + 16 * BLK + 1 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		errno = 0;
		struct za_page *p = za_alloc_contig_pages(za, sizes[i],
		                                          ZA_GFP_MOVABLE);
		printf("contig %#lx: %p errno %d\n", sizes[i], (void *)p, errno);
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
		CHECK_EQ(zone_free(za, ZA_ZONE_NORMAL), before);
		CHECK_EQ(za_check(za, stderr), 0);
	}
	/* A real range, then a free of it with a wrapped size: reported. */
	struct za_page *p = za_alloc_contig_pages(za, 2 * BLK, ZA_GFP_MOVABLE);
	CHECK(p != NULL);
	int r0 = atomic_load(&reports);
	za_free_contig_pages(za, p, ULONG_MAX - 100);
	CHECK_EQ(atomic_load(&reports), r0 + 1);
	za_free_contig_pages(za, p, 2 * BLK);
	CHECK_EQ(atomic_load(&reports), r0 + 1);
	CHECK_EQ(zone_free(za, ZA_ZONE_NORMAL), before);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- oom_liar --------------------------------------------------------------------- */

static atomic_long oom_calls;
static unsigned long lying_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	atomic_fetch_add(&oom_calls, 1);
	return 1000; /* and frees nothing */
}

struct freer {
	struct za *za;
	struct za_page **pages;
	unsigned nr;
	unsigned delay_ms;
};
static void *free_later(void *arg)
{
	struct freer *f = arg;
	struct timespec ts = { 0, (long)f->delay_ms * 1000000L };
	nanosleep(&ts, NULL);
	for (unsigned i = 0; i < f->nr; i++)
		za_free_pages(f->za, f->pages[i], 0);
	return NULL;
}

static void oom_liar(void)
{
	struct za_config cfg = base_cfg();
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, BLK, NULL), 0);
	za_set_oom_handler(za, lying_oom, NULL);
	/* Take every page a KERNEL request can have. */
	static struct za_page *held[2 * BLK];
	unsigned n = 0;
	struct za_page *p;
	za_set_oom_handler(za, NULL, NULL);
	while ((p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0)))
		held[n++] = p;
	printf("held %u pages\n", n);
	CHECK(n > BLK / 2);
	za_set_oom_handler(za, lying_oom, NULL);

	errno = 0;
	p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	long calls = atomic_load(&oom_calls);
	printf("KERNEL with a lying OOM handler: %p errno %d, %ld handler calls\n",
	       (void *)p, errno, calls);
	CHECK(p == NULL);
	CHECK_EQ(errno, ENOMEM);
	/* zonealloc.h: at most 16 handler calls without a page. */
	CHECK(calls >= 1 && calls <= 16);

	/* NOFAIL: keeps trying until a page comes back, but waits between
	 * rounds: over 300 ms, a busy loop would call the handler millions
	 * of times; with the back-off (at least 32 ms a round once grown)
	 * it is a few hundred at most. */
	atomic_store(&oom_calls, 0);
	/* The reserves too, so that only the helper's frees can help. */
	za_set_oom_handler(za, NULL, NULL);
	while ((p = za_alloc_pages(za, ZA_GFP_ATOMIC, 0)))
		held[n++] = p;
	za_set_oom_handler(za, lying_oom, NULL);
	n -= 64;
	struct freer f = { za, held + n, 64, 300 };
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, free_later, &f), 0);
	p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOFAIL, 0);
	pthread_join(t, NULL);
	calls = atomic_load(&oom_calls);
	printf("NOFAIL with a lying OOM handler: %p, %ld handler calls\n",
	       (void *)p, calls);
	CHECK(p != NULL);
	CHECK(calls <= 2000);
	held[n++] = p;
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, held[i], 0);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- page_shift_big --------------------------------------------------------------- */

static unsigned threshold_for(unsigned shift, unsigned long bytes)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 1;
	cfg.cpu_id = cpu0;
	cfg.page_shift = shift;
	cfg.max_order = 1;
	cfg.block_pages = 2;
	cfg.max_pfn = 1024;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	if (!za) {
		printf("page_shift %u: za_create failed, errno %d\n", shift, errno);
		CHECK(za != NULL);
	}
	unsigned long pages = bytes >> shift;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, pages, NULL), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	struct za_page *pg = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(pg != NULL);
	za_free_pages(za, pg, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_page_shift(za), shift);
	za_destroy(za);
	printf("page_shift %u, %lu pages: stat_threshold %u\n", shift, pages,
	       zi.stat_threshold);
	return zi.stat_threshold;
}

static void page_shift_big(void)
{
	/* 16 GiB in pages of 256 MiB, 512 MiB and 1 GiB, against the same
	 * 16 GiB in 64 MiB pages (a shift the old code handled). */
	unsigned long bytes = 16UL << 30;
	unsigned want = threshold_for(26, bytes);
	for (unsigned shift = 28; shift <= 30; shift++)
		CHECK_EQ(threshold_for(shift, bytes), want);
	/* 31 stays out of range. */
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.page_shift = 31;
	errno = 0;
	CHECK(za_create(&cfg) == NULL);
	CHECK_EQ(errno, EINVAL);
}

/* --- pcp_fixed ---------------------------------------------------------------------- */

static void pcp_fixed(void)
{
	const unsigned bad[][2] = {
		{ UINT_MAX, 1 },
		{ UINT_MAX, UINT_MAX },
		{ (unsigned)INT_MAX + 1u, 31 },
		{ (1u << 30) + 1, 1 },
		{ 100, 200 },
		{ 100, 0 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct za_config cfg = base_cfg();
		cfg.flags |= ZA_CFG_PCP_FIXED;
		cfg.pcp_high = bad[i][0];
		cfg.pcp_batch = bad[i][1];
		errno = 0;
		struct za *za = za_create(&cfg);
		if (za) {
			struct za_pcp_info pi;
			za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL);
			za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi);
			printf("high %u batch %u accepted: pcp high %d batch %d\n",
			       bad[i][0], bad[i][1], (int)pi.high, (int)pi.batch);
			za_destroy(za);
		}
		CHECK(za == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	/* The largest accepted value works. */
	struct za_config cfg = base_cfg();
	cfg.flags |= ZA_CFG_PCP_FIXED;
	cfg.pcp_high = 1u << 30;
	cfg.pcp_batch = 63;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	CHECK_EQ(pi.high, 1u << 30);
	CHECK_EQ(pi.batch, 63);
	za_destroy(za);
}

/* --- min_free_huge ------------------------------------------------------------------ */

static void min_free_one(unsigned shift, unsigned long kb)
{
	struct za_config cfg = base_cfg();
	cfg.page_shift = shift;
	cfg.min_free_kbytes = kb;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	printf("page_shift %u min_free_kbytes %#lx: min %lu low %lu high %lu, "
	       "managed %lu, pcp high %d batch %d\n",
	       shift, kb, zi.min, zi.low, zi.high, zi.managed, (int)pi.high,
	       (int)pi.batch);
	CHECK(zi.min <= zi.low && zi.low <= zi.high);
	CHECK(zi.min >= zi.managed); /* saturated, not wrapped */
	CHECK(zi.high <= 4 * zi.managed);
	CHECK((int)pi.high > 0 && (int)pi.batch > 0);
	/* The reserve holds: a KERNEL request may not take the zone. */
	unsigned n = 0;
	struct za_page *p;
	while ((p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0))) {
		za_free_pages(za, p, 0);
		n++;
		if (n > 4)
			break;
	}
	CHECK_EQ(n, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void min_free_huge(void)
{
	min_free_one(12, ULONG_MAX);
	min_free_one(9, ULONG_MAX);
	min_free_one(9, 1UL << 62);
	min_free_one(9, 1UL << 63);
	min_free_one(12, 1UL << 50);
}

/* --- sizes ---------------------------------------------------------------------------- */

static void sizes(void)
{
	const unsigned long blocks[] = { 1UL << 32, 1UL << 40, 1UL << 63 };
	for (unsigned i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		struct za_config cfg = base_cfg();
		cfg.block_pages = blocks[i];
		cfg.max_pfn = 0;
		errno = 0;
		struct za *za = za_create(&cfg);
		printf("block_pages %#lx: %p errno %d\n", blocks[i], (void *)za,
		       errno);
		if (za)
			za_destroy(za);
		CHECK(za == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	struct za_config cfg = base_cfg();
	cfg.max_pfn = ULONG_MAX;
	errno = 0;
	CHECK(za_create(&cfg) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* max_pfn's limit is of the value rounded up to whole blocks: the
	 * last block may end at 2^32 - BLK (frame 2^32 - 1 is taken); a
	 * value that rounds up to that end is fine, one past it is not. */
	const struct {
		unsigned long max_pfn;
		bool ok;
	} ends[] = {
		{ (1UL << 32) - BLK, true },         { (1UL << 32) - BLK - 1, true },
		{ (1UL << 32) - 2 * BLK + 1, true }, { (1UL << 32) - BLK + 1, false },
		{ (1UL << 32) - 1, false },          { 1UL << 32, false },
	};
	for (unsigned i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		cfg = base_cfg();
		cfg.max_pfn = ends[i].max_pfn;
		errno = 0;
		struct za *za = za_create(&cfg);
		printf("max_pfn %#lx: %s (errno %d)\n", ends[i].max_pfn,
		       za ? "created" : "refused", errno);
		CHECK_EQ(za != NULL, ends[i].ok);
		if (za && i == 0) {
			/* The last block works: its last frame is 2^32 - 2. */
			unsigned long top = (1UL << 32) - BLK;
			CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, top - BLK, BLK,
			                          NULL),
			         0);
			CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, top, BLK, NULL),
			         -EINVAL);
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
			CHECK(p != NULL);
			unsigned long pfn = za_page_to_pfn(za, p);
			CHECK(pfn >= top - BLK && pfn < top);
			CHECK(za_pfn_to_page(za, top - 1) != NULL);
			za_free_pages(za, p, 0);
			CHECK_EQ(za_check(za, stderr), 0);
		}
		if (za)
			za_destroy(za);
		else
			CHECK_EQ(errno, EINVAL);
	}
	/* Timeouts at their limits are fine values. */
	cfg = base_cfg();
	cfg.offline_timeout_ms = UINT_MAX;
	cfg.vmstat_interval_ms = UINT_MAX;
	cfg.flags &= ~ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	CHECK_EQ(za_memory_offline(za, START, BLK), 0);
	za_destroy(za);
}

/* --- null_za -------------------------------------------------------------------------- */

static unsigned long null_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	return 0;
}

static void null_za(void)
{
	struct za *n = NULL;
	struct za_page *pages[2] = { NULL, NULL };
	struct za_zone_info zi;
	struct za_pcp_info pi;
	struct za_shrinker s;
	memset(&s, 0, sizeof(s));

	errno = 0;
	CHECK(za_alloc_pages(n, ZA_GFP_KERNEL, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_pages_node(n, 0, ZA_GFP_KERNEL, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_contig_pages(n, 1024, ZA_GFP_MOVABLE) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_pfn_to_page(n, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(za_alloc_pages_bulk(n, ZA_GFP_KERNEL, 2, pages), 0);
	za_free_pages(n, (struct za_page *)&zi, 0);
	za_free_pages_bulk(n, 2, pages);
	za_free_contig_pages(n, (struct za_page *)&zi, 1024);
	CHECK_EQ(za_memory_online(n, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), -EINVAL);
	CHECK_EQ(za_memory_offline(n, 0, 1024), -EINVAL);
	CHECK_EQ(za_cpu_online(n, 0), -EINVAL);
	CHECK_EQ(za_cpu_offline(n, 0), -EINVAL);
	CHECK_EQ(za_cpu_is_online(n, 0), -EINVAL);
	CHECK_EQ(za_page_to_pfn(n, (struct za_page *)&zi), ULONG_MAX);
	CHECK(za_page_address(n, (struct za_page *)&zi) == NULL);
	CHECK_EQ(za_page_nid(n, (struct za_page *)&zi), -1);
	CHECK_EQ(za_page_zone(n, (struct za_page *)&zi), -1);
	za_drain_local_pages(n);
	za_drain_all_pages(n);
	CHECK_EQ(za_nr_cpus(n), 0);
	CHECK_EQ(za_nr_nodes(n), 0);
	CHECK_EQ(za_max_order(n), 0);
	CHECK_EQ(za_pageblock_order(n), 0);
	CHECK_EQ(za_block_pages(n), 0);
	CHECK_EQ(za_page_shift(n), 0);
	CHECK_EQ(za_cpu_to_node(n, 0), -EINVAL);
	CHECK_EQ(za_zone_stat(n, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES), 0);
	CHECK_EQ(za_zone_stat_snapshot(n, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES), 0);
	CHECK_EQ(za_event_count(n, ZA_PGALLOC), 0);
	za_vmstat_fold(n);
	CHECK_EQ(za_zone_free_pages(n, 0, ZA_ZONE_NORMAL), 0);
	CHECK_EQ(za_zone_info(n, 0, ZA_ZONE_NORMAL, &zi), -EINVAL);
	CHECK_EQ(za_pcp_info(n, 0, 0, ZA_ZONE_NORMAL, &pi), -EINVAL);
	CHECK_EQ(za_report(n, ZA_REPORT_ZONEINFO, stdout), -EINVAL);
	CHECK_EQ(za_check(n, stderr), -EINVAL);
	za_set_error_handler(n, count_error, NULL);
	CHECK_EQ(za_register_shrinker(n, &s), -EINVAL);
	za_unregister_shrinker(n, &s);
	za_set_oom_handler(n, null_oom, NULL);
	CHECK_EQ(za_debug_set(n, ZA_DEBUG_RANDOM_YIELD, 1), -EINVAL);
	za_destroy(n);
	CHECK_EQ(atomic_load(&reports), 0);
}

/* --- page_to_pfn ---------------------------------------------------------------------- */

static void page_to_pfn(void)
{
	struct za *za = make();
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	unsigned long pfn = za_page_to_pfn(za, p);
	CHECK(pfn >= START && pfn < START + NPAGES);
	CHECK(za_pfn_to_page(za, pfn) == p);
	CHECK_EQ(za_page_to_pfn(za, NULL), ULONG_MAX);
	long on_stack[4];
	CHECK_EQ(za_page_to_pfn(za, (struct za_page *)on_stack), ULONG_MAX);
	CHECK_EQ(za_page_to_pfn(za, (struct za_page *)((char *)p + 1)), ULONG_MAX);
	CHECK_EQ(za_page_to_pfn(za, (struct za_page *)((char *)p + 8)), ULONG_MAX);
	/* A page of another allocator is foreign here. */
	struct za *other = make();
	struct za_page *q = za_alloc_pages(other, ZA_GFP_KERNEL, 0);
	CHECK(q != NULL);
	CHECK_EQ(za_page_to_pfn(za, q), ULONG_MAX);
	za_free_pages(other, q, 0);
	za_destroy(other);
	za_free_pages(za, p, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- bad_nid ------------------------------------------------------------------------------ */

static void bad_nid(void)
{
	struct za *za = make();
	unsigned long before = zone_free(za, ZA_ZONE_NORMAL);
	const int nids[] = { -2, -100, INT_MIN, 1, INT_MAX };
	for (unsigned i = 0; i < sizeof(nids) / sizeof(nids[0]); i++) {
		errno = 0;
		struct za_page *p = za_alloc_pages_node(za, nids[i], ZA_GFP_KERNEL, 0);
		printf("nid %d: %p errno %d\n", nids[i], (void *)p, errno);
		CHECK(p == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	struct za_page *p = za_alloc_pages_node(za, -1, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	za_free_pages(za, p, 0);
	za_drain_all_pages(za);
	CHECK_EQ(zone_free(za, ZA_ZONE_NORMAL), before);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- offline_2zones ------------------------------------------------------------------------ */

static void offline_2zones(void)
{
	struct za *za = make(); /* NORMAL at START, 4 blocks */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, START + NPAGES, BLK,
	                          NULL),
	         0);
	unsigned long n0 = zone_free(za, ZA_ZONE_NORMAL);
	unsigned long m0 = zone_free(za, ZA_ZONE_MOVABLE);
	CHECK_EQ(za_memory_offline(za, START + NPAGES - BLK, 2 * BLK), -EINVAL);
	CHECK_EQ(zone_free(za, ZA_ZONE_NORMAL), n0);
	CHECK_EQ(zone_free(za, ZA_ZONE_MOVABLE), m0);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_memory_offline(za, START + NPAGES, BLK), 0);
	za_destroy(za);
}

/* --- report_full ---------------------------------------------------------------------------- */

static void report_full(void)
{
	FILE *f = fopen("/dev/full", "w");
	if (!f) {
		printf("no /dev/full: skipped\n");
		exit(77);
	}
	struct za *za = make();
	const enum za_report what[] = { ZA_REPORT_ZONEINFO, ZA_REPORT_BUDDYINFO,
		                            ZA_REPORT_PAGETYPEINFO, ZA_REPORT_VMSTAT };
	for (unsigned i = 0; i < 4; i++) {
		int r = za_report(za, what[i], f);
		printf("report %u to /dev/full: %d\n", i, r);
		CHECK_EQ(r, -EIO);
		clearerr(f);
	}
	fclose(f);
	/* And a good stream still gets 0. */
	FILE *ok = fopen("/dev/null", "w");
	CHECK(ok != NULL);
	CHECK_EQ(za_report(za, ZA_REPORT_ZONEINFO, ok), 0);
	fclose(ok);
	za_destroy(za);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "contig_huge", contig_huge },
		{ "oom_liar", oom_liar },
		{ "page_shift_big", page_shift_big },
		{ "pcp_fixed", pcp_fixed },
		{ "min_free_huge", min_free_huge },
		{ "sizes", sizes },
		{ "null_za", null_za },
		{ "page_to_pfn", page_to_pfn },
		{ "bad_nid", bad_nid },
		{ "offline_2zones", offline_2zones },
		{ "report_full", report_full },
	};
	tu_watchdog(60);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		printf("== %s\n", cases[i].name);
		cases[i].fn();
	}
	printf("ok\n");
	return 0;
}
