/*
 * test_hostile_callbacks.c - client callbacks that call back into the
 * allocator (issue 12, item 3), as the header's "Callbacks" rule says:
 *
 *  migrate_reenter  the migrate callback (memory offline holds the
 *                   memory-hotplug lock) calls za_memory_offline,
 *                   za_memory_online, za_check (-EDEADLK each),
 *                   za_alloc_contig_pages (NULL, EDEADLK),
 *                   za_free_contig_pages (reported -EDEADLK, not freed),
 *                   and the calls it may make: za_report of every kind,
 *                   drains, CPU hotplug, allocation and free, a sysctl
 *                   write (it takes effect) and read. The offline
 *                   then completes, and nothing is lost.
 *  nested_reenter   inside the migrate callback, an allocation that must
 *                   reclaim runs a shrinker and the OOM handler on the
 *                   same thread: they are under the lock too, and get the
 *                   same -EDEADLK answers (and a sysctl write works).
 *  shrinker_self    a shrinker that unregisters itself from its scan:
 *                   reported -EDEADLK, still registered, no hang; it can
 *                   be unregistered from outside afterwards.
 *  shrinker_liar    shrinkers claiming ULONG_MAX pages: the allocation
 *                   still ends (ENOMEM), nothing lost (this one held
 *                   before the fix too: a guard, the sum now saturates).
 *  shrinker_liar_nodes
 *                   two nodes, a shrinker freeing 1 page on node 0 and
 *                   claiming ULONG_MAX on node 1: a direct reclaim's sum
 *                   over the nodes saturates (it wrapped to 0: no
 *                   progress).
 *  error_recursion  an error handler that commits a misuse itself (a
 *                   double free) is called once per outside misuse: the
 *                   inner report goes to stderr, no unbounded recursion.
 *
 * Before the fix, the first two hung in release builds (and tripped the
 * lock-order witness in debug ones), shrinker_self hung, and
 * error_recursion overflowed the stack. The watchdog turns a hang into a
 * failure.
 */
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <zonealloc.h>

#define BLK 1024UL
#define NORMAL_START 0UL
#define NORMAL_PAGES (4 * BLK)
#define A_START (4 * BLK)
#define B_START (5 * BLK)
#define C_START (6 * BLK)
#define MAX_PFN (8 * BLK)

static int cpu0(void *ctx)
{
	(void)ctx;
	return 0;
}

static struct za *za;
static atomic_int reports, deadlk_reports;
static void on_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	atomic_fetch_add(&reports, 1);
	if (err == -EDEADLK)
		atomic_fetch_add(&deadlk_reports, 1);
	printf("  reported (%d): %s\n", err, msg);
}

/* The client's blocks: frame numbers only, so "copying" is bookkeeping. */
#define CAP 4096
static struct za_page *owned[CAP];
static unsigned nowned;

static int find_owned(struct za_page *p)
{
	for (unsigned i = 0; i < nowned; i++)
		if (owned[i] == p)
			return (int)i;
	return -1;
}

/* --- what the migrate callback does on its first call ------------------------ */

enum {
	R_OFFLINE,
	R_ONLINE,
	R_CHECK,
	R_CONTIG,
	R_CONTIG_ERRNO,
	R_REPORT,
	R_CPU_OFF,
	R_CPU_ON,
	R_ALLOC,
	R_SYSCTL_SET,
	R_SYSCTL_GET,
	R_NR
};
static long results[R_NR];
static int reenter_done;
static struct za_page *contig; /* a contiguous range the callback frees */

static void reenter_all(void)
{
	results[R_OFFLINE] = za_memory_offline(za, B_START, BLK);
	results[R_ONLINE] = za_memory_online(za, 0, ZA_ZONE_MOVABLE, C_START, BLK,
	                                     NULL);
	results[R_CHECK] = za_check(za, stderr);
	errno = 0;
	struct za_page *c = za_alloc_contig_pages(za, BLK, ZA_GFP_MOVABLE);
	results[R_CONTIG] = c != NULL;
	results[R_CONTIG_ERRNO] = errno;
	int d0 = atomic_load(&deadlk_reports);
	za_free_contig_pages(za, contig, BLK);
	CHECK_EQ(atomic_load(&deadlk_reports), d0 + 1);
	FILE *null = fopen("/dev/null", "w");
	CHECK(null != NULL);
	results[R_REPORT] = 0;
	for (int w = ZA_REPORT_ZONEINFO; w <= ZA_REPORT_VMSTAT; w++)
		results[R_REPORT] |= za_report(za, (enum za_report)w, null);
	fclose(null);
	za_drain_all_pages(za);
	za_drain_local_pages(za);
	results[R_CPU_OFF] = za_cpu_offline(za, 1);
	results[R_CPU_ON] = za_cpu_online(za, 1);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	results[R_ALLOC] = p != NULL;
	za_free_pages(za, p, 0);
	/* A sysctl write recomputes the watermarks under the tunables lock,
	 * which nobody holds while calling a client: no hotplug lock. */
	char v[ZA_SYSCTL_VALUE_MAX];
	results[R_SYSCTL_SET] = za_sysctl_set(za, "watermark_scale_factor", "20");
	results[R_SYSCTL_GET] = za_sysctl_get(za, "watermark_scale_factor", v,
	                                      sizeof(v));
	if (!results[R_SYSCTL_GET] && strcmp(v, "20"))
		results[R_SYSCTL_GET] = -1;
}

static int migrate(void *ctx, struct za_page *dst, struct za_page *src,
                   unsigned order)
{
	(void)ctx;
	(void)order;
	int i = find_owned(src);
	if (i < 0)
		return -ENOENT;
	if (!reenter_done) {
		reenter_done = 1;
		reenter_all();
	}
	owned[i] = dst;
	return 0;
}

static struct za *make(int (*mig)(void *, struct za_page *, struct za_page *,
                                  unsigned))
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = cpu0;
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.migrate = mig;
	cfg.error = on_error;
	struct za *z = za_create(&cfg);
	CHECK(z != NULL);
	CHECK_EQ(za_memory_online(z, 0, ZA_ZONE_NORMAL, NORMAL_START, NORMAL_PAGES,
	                          NULL),
	         0);
	return z;
}

static unsigned long total_free(void)
{
	unsigned long f = 0;
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct za_zone_info zi;
		CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)t, &zi), 0);
		f += zi.free + zi.pcp_pages;
	}
	return f;
}

static void fill_a(void)
{
	/* Movable pages in A: offline of A must migrate them. */
	static struct za_page *elsewhere[2 * BLK];
	unsigned nelse = 0;
	nowned = 0;
	while (nowned < 64) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
		CHECK(p != NULL);
		unsigned long pfn = za_page_to_pfn(za, p);
		if (pfn >= A_START && pfn < A_START + BLK)
			owned[nowned++] = p;
		else
			elsewhere[nelse++] = p;
		CHECK(nelse < 2 * BLK);
	}
	for (unsigned i = 0; i < nelse; i++)
		za_free_pages(za, elsewhere[i], 0);
}

static void free_owned(void)
{
	for (unsigned i = 0; i < nowned; i++)
		za_free_pages(za, owned[i], 0);
	nowned = 0;
	za_drain_all_pages(za);
}

static void migrate_reenter(void)
{
	za = make(migrate);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, A_START, BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, B_START, BLK, NULL), 0);
	contig = za_alloc_contig_pages(za, BLK, ZA_GFP_MOVABLE);
	CHECK(contig != NULL);
	CHECK(za_page_to_pfn(za, contig) >= B_START); /* highest first: B */
	fill_a();
	int r = za_memory_offline(za, A_START, BLK);
	printf("offline A: %d; from the callback: offline %ld online %ld check %ld "
	       "contig %ld (errno %ld) reports %ld cpu off %ld on %ld alloc %ld "
	       "sysctl set %ld get %ld\n",
	       r, results[R_OFFLINE], results[R_ONLINE], results[R_CHECK],
	       results[R_CONTIG], results[R_CONTIG_ERRNO], results[R_REPORT],
	       results[R_CPU_OFF], results[R_CPU_ON], results[R_ALLOC],
	       results[R_SYSCTL_SET], results[R_SYSCTL_GET]);
	CHECK(reenter_done);
	CHECK_EQ(r, 0);
	CHECK_EQ(results[R_OFFLINE], -EDEADLK);
	CHECK_EQ(results[R_ONLINE], -EDEADLK);
	CHECK_EQ(results[R_CHECK], -EDEADLK);
	CHECK_EQ(results[R_CONTIG], 0);
	CHECK_EQ(results[R_CONTIG_ERRNO], EDEADLK);
	CHECK_EQ(results[R_REPORT], 0);
	CHECK_EQ(results[R_CPU_OFF], 0);
	CHECK_EQ(results[R_CPU_ON], 0);
	CHECK_EQ(results[R_ALLOC], 1);
	CHECK_EQ(results[R_SYSCTL_SET], 0);
	CHECK_EQ(results[R_SYSCTL_GET], 0);
	/* Nothing happened that the callback was refused: B still online
	 * with the range in use, C never came online. */
	CHECK(za_pfn_to_page(za, B_START) != NULL);
	CHECK(za_pfn_to_page(za, C_START) == NULL);
	CHECK(za_pfn_to_page(za, A_START) == NULL);
	for (unsigned i = 0; i < nowned; i++) {
		unsigned long pfn = za_page_to_pfn(za, owned[i]);
		CHECK(pfn < A_START || pfn >= A_START + BLK);
	}
	za_free_contig_pages(za, contig, BLK);
	free_owned();
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(total_free(), NORMAL_PAGES + BLK);
	za_destroy(za);
}

/* --- nested_reenter ------------------------------------------------------------ */

static long nested[5];
static int in_migrate;
static unsigned long shr_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return in_migrate ? 1 : 0;
}
static unsigned long shr_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	nested[0] = za_memory_offline(za, B_START, BLK);
	nested[1] = za_check(za, NULL);
	nested[4] = za_sysctl_set(za, "watermark_scale_factor", "10");
	return 0;
}
static unsigned long oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	if (!in_migrate)
		return 0;
	errno = 0;
	nested[2] = za_alloc_contig_pages(za, BLK, ZA_GFP_MOVABLE) == NULL;
	nested[3] = errno;
	return 0;
}
static struct za_page *hog[2 * NORMAL_PAGES];
static unsigned nhog;

static int migrate_nested(void *ctx, struct za_page *dst, struct za_page *src,
                          unsigned order)
{
	(void)ctx;
	(void)order;
	int i = find_owned(src);
	if (i < 0)
		return -ENOENT;
	if (!in_migrate && !reenter_done) {
		reenter_done = 1;
		in_migrate = 1;
		/* NORMAL is full: this one reclaims, calls the OOM handler. */
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		in_migrate = 0;
		if (p)
			za_free_pages(za, p, 0);
	}
	owned[i] = dst;
	return 0;
}

static void nested_reenter(void)
{
	za = make(migrate_nested);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, A_START, BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, B_START, BLK, NULL), 0);
	fill_a();
	while ((hog[nhog] = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0)))
		nhog++;
	static struct za_shrinker s = { shr_count, shr_scan, NULL, NULL };
	CHECK_EQ(za_register_shrinker(za, &s), 0);
	za_set_oom_handler(za, oom, NULL);
	int r = za_memory_offline(za, A_START, BLK);
	printf("offline A: %d; shrinker: offline %ld check %ld sysctl %ld; oom: "
	       "contig failed %ld errno %ld\n",
	       r, nested[0], nested[1], nested[4], nested[2], nested[3]);
	CHECK_EQ(r, 0);
	CHECK_EQ(nested[0], -EDEADLK);
	CHECK_EQ(nested[1], -EDEADLK);
	CHECK_EQ(nested[2], 1);
	CHECK_EQ(nested[3], EDEADLK);
	CHECK_EQ(nested[4], 0);
	za_unregister_shrinker(za, &s);
	for (unsigned i = 0; i < nhog; i++)
		za_free_pages(za, hog[i], 0);
	free_owned();
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(total_free(), NORMAL_PAGES + BLK);
	za_destroy(za);
}

/* --- shrinker_self ---------------------------------------------------------------- */

static struct za_shrinker self;
static int self_scans;
static unsigned long self_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return 8;
}
static unsigned long self_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	self_scans++;
	za_unregister_shrinker(za, &self);
	return 0;
}

static void shrinker_self(void)
{
	za = make(NULL);
	while ((hog[nhog] = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0)))
		nhog++;
	self.count = self_count;
	self.scan = self_scan;
	CHECK_EQ(za_register_shrinker(za, &self), 0);
	int d0 = atomic_load(&deadlk_reports);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	printf("allocation: %p, %d scans, %d -EDEADLK reports\n", (void *)p,
	       self_scans, atomic_load(&deadlk_reports) - d0);
	CHECK(p == NULL);
	CHECK(self_scans >= 1);
	CHECK_EQ(atomic_load(&deadlk_reports) - d0, self_scans);
	/* Still registered: registering again says so. */
	CHECK_EQ(za_register_shrinker(za, &self), -EEXIST);
	za_unregister_shrinker(za, &self);
	CHECK_EQ(za_register_shrinker(za, &self), 0);
	za_unregister_shrinker(za, &self);
	for (unsigned i = 0; i < nhog; i++)
		za_free_pages(za, hog[i], 0);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(total_free(), NORMAL_PAGES);
	za_destroy(za);
}

/* --- shrinker_liar --------------------------------------------------------------- */

static unsigned long liar_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return ULONG_MAX;
}
static unsigned long liar_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	return ULONG_MAX;
}

static void shrinker_liar(void)
{
	za = make(NULL);
	while ((hog[nhog] = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0)))
		nhog++;
	static struct za_shrinker a = { liar_count, liar_scan, NULL, NULL };
	static struct za_shrinker b = { liar_count, liar_scan, NULL, NULL };
	CHECK_EQ(za_register_shrinker(za, &a), 0);
	CHECK_EQ(za_register_shrinker(za, &b), 0);
	errno = 0;
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 3);
	CHECK(p == NULL);
	CHECK_EQ(errno, ENOMEM);
	za_unregister_shrinker(za, &a);
	za_unregister_shrinker(za, &b);
	for (unsigned i = 0; i < nhog; i++)
		za_free_pages(za, hog[i], 0);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(total_free(), NORMAL_PAGES);
	za_destroy(za);
}

/* Two nodes: a shrinker that frees 1 page on node 0 and claims ULONG_MAX
 * on node 1. direct_reclaim adds the nodes' answers up: without
 * saturating, 1 + ULONG_MAX wraps to 0 and the round reads as no
 * progress (pgsteal_direct 0), though a shrinker claimed everything. */
static unsigned long liar1_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nr;
	return nid == 0 ? 1 : ULONG_MAX;
}

static void shrinker_liar_nodes(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = cpu0;
	cfg.nr_nodes = 2;
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.error = on_error;
	za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 2 * BLK, 2 * BLK, NULL),
	         0);
	while ((hog[nhog] = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0)))
		nhog++;
	static struct za_shrinker s = { liar_count, liar1_scan, NULL, NULL };
	CHECK_EQ(za_register_shrinker(za, &s), 0);
	unsigned long long steal = za_event_count(za, ZA_PGSTEAL_DIRECT);
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0) == NULL);
	unsigned long long got = za_event_count(za, ZA_PGSTEAL_DIRECT) - steal;
	RULE(got == ULONG_MAX,
	     "reclaim (a direct reclaim's sum over nodes saturates): "
	     "pgsteal_direct %llu after 1 + ULONG_MAX",
	     got);
	za_unregister_shrinker(za, &s);
	for (unsigned i = 0; i < nhog; i++)
		za_free_pages(za, hog[i], 0);
	nhog = 0;
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- error_recursion ---------------------------------------------------------------- */

static int handler_calls, handler_depth, handler_max_depth;
static struct za_page *freed_page;
static void misusing_handler(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	(void)msg;
	handler_calls++;
	if (++handler_depth > handler_max_depth)
		handler_max_depth = handler_depth;
	if (handler_depth < 100000)
		za_free_pages(za, freed_page, 0); /* another double free */
	handler_depth--;
}

static void error_recursion(void)
{
	za = make(NULL);
	za_set_error_handler(za, misusing_handler, NULL);
	freed_page = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(freed_page != NULL);
	za_free_pages(za, freed_page, 0);
	unsigned long long m0 = za_event_count(za, ZA_MISUSE);
	za_free_pages(za, freed_page, 0); /* the outside double free */
	printf("handler calls %d, deepest %d, misuse events %llu\n", handler_calls,
	       handler_max_depth, za_event_count(za, ZA_MISUSE) - m0);
	CHECK_EQ(handler_calls, 1);
	CHECK_EQ(handler_max_depth, 1);
	/* Both misuses are counted, the inner one reported on stderr. */
	CHECK_EQ(za_event_count(za, ZA_MISUSE) - m0, 2);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(total_free(), NORMAL_PAGES);
	za_destroy(za);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "migrate_reenter", migrate_reenter },
		{ "nested_reenter", nested_reenter },
		{ "shrinker_self", shrinker_self },
		{ "shrinker_liar", shrinker_liar },
		{ "shrinker_liar_nodes", shrinker_liar_nodes },
		{ "error_recursion", error_recursion },
	};
	tu_watchdog(60);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CASE\n", argv[0]);
		return 2;
	}
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].fn();
			printf("ok\n");
			return 0;
		}
	fprintf(stderr, "no case %s\n", argv[1]);
	return 2;
}
