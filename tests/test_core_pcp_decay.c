/*
 * test_core_pcp_decay.c - setting a per-CPU list from outside
 * (za_pcp_set_high) and running the periodic decay on the caller's clock
 * (za_pcp_decay), as `zonealloc replay` does to start from a traced
 * kernel's lists and to decay them at the trace's seconds.
 *
 * One Normal zone of 16 blocks, two simulated CPUs, no background thread
 * (the statistics worker would decay on its own clock). Checks that:
 *  - za_pcp_set_high sets exactly a value inside the list's range, and
 *    clamps one below it to high_min and one above it to high_max;
 *  - pages freed on a list under the high set stay there (no flush), and
 *    a high set below the pages held gives the excess back at once as a
 *    drain, the buddy free counter up by as much;
 *  - bad requests fail and change nothing: NULL, a CPU or node that does
 *    not exist, a zone out of range or with no memory (-EINVAL), and
 *    ZA_CFG_PCP_FIXED (-EPERM);
 *  - za_pcp_decay on an idle list takes max(high / 8, batch) off its high
 *    (not below high_min) and gives back what is over the new high, pass
 *    after pass, until high_min, at most 32 batches a pass (this zone's
 *    batch is small enough for that to bind); a list that refilled since
 *    the last pass
 *    keeps its high that pass; with ZA_CFG_PCP_FIXED nothing moves;
 *    za_pcp_decay(NULL) does nothing.
 *  - a list still busy at a pass (it refilled or flushed since the last
 *    one) loses what its high grew by since the last pass, at most
 *    max(high / 8, batch): a few refills' growth exactly, a long
 *    stream's an eighth; a busy list that did not grow (a CPU that only
 *    frees, whose flushes grow nothing) keeps its high and its pages.
 *  - a flush gives each list back whole before the next, order 0 first.
 * Each part ends with za_check.
 */
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <zonealloc.h>

#define BLK 1024UL
#define NBLK 16UL
#define MANAGED (NBLK * BLK)

static int cur_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

static struct za *make(unsigned flags)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (NBLK + 1) * BLK;
	cfg.flags = flags | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	if (flags & ZA_CFG_PCP_FIXED) {
		cfg.pcp_high = 600;
		cfg.pcp_batch = 31;
	}
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, BLK, MANAGED, NULL), 0);
	cur_cpu = 0;
	return za;
}

static struct za_pcp_info info(struct za *za, unsigned cpu)
{
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, cpu, 0, ZA_ZONE_NORMAL, &pi), 0);
	return pi;
}

static unsigned long long ev(struct za *za, enum za_event e)
{
	return za_event_count(za, e);
}

static unsigned long buddy_free(struct za *za)
{
	za_vmstat_fold(za);
	return za_zone_free_pages(za, 0, ZA_ZONE_NORMAL);
}

static void check_ok(struct za *za)
{
	CHECK_EQ(za_check(za, stderr), 0);
}

/* n order-0 pages onto CPU cpu's list: allocated there, the lists
 * drained (the allocation refilled them), freed there. */
static void fill(struct za *za, unsigned cpu, unsigned n)
{
	static struct za_page *pg[MANAGED];
	unsigned k;
	cur_cpu = (int)cpu;
	for (k = 0; k < n; k++) {
		pg[k] = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(pg[k] != NULL);
	}
	za_drain_all_pages(za);
	for (k = 0; k < n; k++)
		za_free_pages(za, pg[k], 0);
}

static unsigned high_min, high_max, batch;

static void set_high(void)
{
	struct za *za = make(0);
	struct za_pcp_info pi = info(za, 0);
	batch = pi.batch;
	/* below the range: high_min (where a list starts) */
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, 1), 0);
	high_min = info(za, 0).high;
	CHECK_EQ(high_min, pi.high);
	CHECK(high_min >= 4 * batch);
	/* above it: high_max, an eighth of the zone shared by the CPUs */
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, UINT_MAX), 0);
	high_max = info(za, 0).high;
	CHECK_EQ(high_max, MANAGED / 8 / 2);
	CHECK(high_max > high_min + 2 * batch);
	/* inside: exactly; the other CPU's list untouched */
	unsigned mid = (high_min + high_max) / 2;
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, mid), 0);
	CHECK_EQ(info(za, 0).high, mid);
	CHECK_EQ(info(za, 1).high, high_min);

	/* pages under the high stay on the list: no flush */
	unsigned long long flush = ev(za, ZA_PCP_FLUSH);
	fill(za, 0, mid - 1);
	/* the allocations refilled and grew high: set it again */
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, mid), 0);
	pi = info(za, 0);
	CHECK_EQ(pi.count, mid - 1);
	CHECK_EQ(pi.high, mid);
	CHECK_EQ(ev(za, ZA_PCP_FLUSH), flush);

	/* a high below what the list holds: the rest goes back, drained */
	unsigned long before = buddy_free(za);
	unsigned long long drained = ev(za, ZA_PCP_DRAIN_PAGES);
	unsigned low = high_min + batch;
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, low), 0);
	pi = info(za, 0);
	CHECK_EQ(pi.high, low);
	CHECK(pi.count <= low);
	CHECK_EQ(ev(za, ZA_PCP_DRAIN_PAGES) - drained, (mid - 1) - pi.count);
	CHECK_EQ(buddy_free(za) - before, (mid - 1) - pi.count);

	/* bad requests change nothing */
	CHECK_EQ(za_pcp_set_high(NULL, 0, 0, ZA_ZONE_NORMAL, mid), -EINVAL);
	CHECK_EQ(za_pcp_set_high(za, 2, 0, ZA_ZONE_NORMAL, mid), -EINVAL);
	CHECK_EQ(za_pcp_set_high(za, 0, 1, ZA_ZONE_NORMAL, mid), -EINVAL);
	CHECK_EQ(za_pcp_set_high(za, 0, -1, ZA_ZONE_NORMAL, mid), -EINVAL);
	CHECK_EQ(za_pcp_set_high(za, 0, 0, (enum za_zone_type)ZA_NR_ZONES, mid),
	         -EINVAL);
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_DMA, mid), -EINVAL);
	CHECK_EQ(info(za, 0).high, low);
	CHECK_EQ(info(za, 0).count, pi.count);
	check_ok(za);
	za_destroy(za);

	za = make(ZA_CFG_PCP_FIXED);
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, 300), -EPERM);
	CHECK_EQ(info(za, 0).high, 600u);
	check_ok(za);
	za_destroy(za);
}

static void decay(void)
{
	struct za *za = make(0);
	unsigned start = high_max - batch, passes = 0;

	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, start), 0);
	fill(za, 0, start - 1);
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, start), 0);
	CHECK_EQ(info(za, 0).count, start - 1);
	/* The fill refilled the list: the first pass only notes that it was
	 * in use; so does a pass after a refill. */
	za_pcp_decay(za);
	struct za_pcp_info pi = info(za, 0);
	CHECK_EQ(pi.high, start);
	CHECK_EQ(pi.count, start - 1);
	/* Idle from here: each pass takes max(high / 8, batch) off high and
	 * gives back what is over it, down to high_min. */
	unsigned capped = 0;
	while (pi.high > high_min) {
		unsigned step = pi.high / 8 > batch ? pi.high / 8 : batch;
		unsigned want = pi.high - step;
		/* at most 32 batches given back a pass */
		if (pi.count > 32 * batch && want < pi.count - 32 * batch) {
			want = pi.count - 32 * batch;
			capped++;
		}
		if (want < high_min)
			want = high_min;
		unsigned long long drained = ev(za, ZA_PCP_DRAIN_PAGES);
		unsigned long before = buddy_free(za);
		unsigned had = pi.count;
		za_pcp_decay(za);
		pi = info(za, 0);
		CHECK_EQ(pi.high, want);
		CHECK_EQ(pi.count, had < want ? had : want);
		CHECK_EQ(ev(za, ZA_PCP_DRAIN_PAGES) - drained, had - pi.count);
		CHECK_EQ(buddy_free(za) - before, had - pi.count);
		CHECK(++passes < 100);
	}
	CHECK(passes >= 2);
	printf("decay: %u passes to high_min, %u of them capped at 32 batches\n",
	       passes, capped);
	CHECK(capped >= 1);
	/* at high_min it stays */
	za_pcp_decay(za);
	CHECK_EQ(info(za, 0).high, high_min);
	za_pcp_decay(NULL);
	check_ok(za);
	za_destroy(za);

	/* fixed sizes: decay moves nothing */
	za = make(ZA_CFG_PCP_FIXED);
	fill(za, 0, 500);
	za_pcp_decay(za);
	za_pcp_decay(za);
	za_pcp_decay(za);
	pi = info(za, 0);
	CHECK_EQ(pi.high, 600u);
	CHECK_EQ(pi.count, 500u);
	check_ok(za);
	za_destroy(za);
}

/* n order-0 pages allocated on CPU cpu and kept in pg. */
static void take(struct za *za, unsigned cpu, struct za_page **pg, unsigned n)
{
	cur_cpu = (int)cpu;
	for (unsigned k = 0; k < n; k++) {
		pg[k] = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(pg[k] != NULL);
	}
}

static void decay_busy(void)
{
	static struct za_page *pg[1000];
	struct za *za = make(0);
	unsigned set = 600;
	CHECK(set + 16 * batch < high_max && set / 8 > 8 * batch);

	/* A few refills (3, 6, 12, 24 pages: 30 allocations) grow high by a
	 * batch each; the pass takes exactly that growth back. */
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, set), 0);
	unsigned long long r0 = ev(za, ZA_PCP_REFILL);
	take(za, 0, pg, 30);
	unsigned long long refills = ev(za, ZA_PCP_REFILL) - r0;
	struct za_pcp_info pi = info(za, 0);
	CHECK_EQ(refills, 4ull);
	CHECK_EQ(pi.high, set + 4 * batch);
	unsigned had = pi.count;
	za_pcp_decay(za);
	pi = info(za, 0);
	printf("decay_busy: %llu refills grew high %u -> %u, the pass took it "
	       "back to %u\n",
	       refills, set, set + 4 * batch, pi.high);
	CHECK_EQ(pi.high, set);
	CHECK_EQ(pi.count, had);

	/* A long stream (another 970 allocations) grows it by more than an
	 * eighth: the pass takes an eighth. */
	take(za, 0, pg + 30, 970);
	pi = info(za, 0);
	unsigned grown = pi.high - set;
	CHECK(grown > pi.high / 8);
	unsigned want = pi.high - pi.high / 8;
	za_pcp_decay(za);
	printf("decay_busy: a stream grew high %u -> %u, the pass took it to "
	       "%u\n",
	       set, set + grown, info(za, 0).high);
	CHECK_EQ(info(za, 0).high, want);

	/* A CPU that only frees: its flushes grow nothing, and the pass
	 * leaves its high and pages alone, busy as it is. */
	CHECK_EQ(za_pcp_set_high(za, 1, 0, ZA_ZONE_NORMAL, set), 0);
	cur_cpu = 1;
	unsigned long long f0 = ev(za, ZA_PCP_FLUSH);
	for (unsigned k = 0; k < 1000; k++)
		za_free_pages(za, pg[k], 0);
	CHECK(ev(za, ZA_PCP_FLUSH) > f0);
	pi = info(za, 1);
	CHECK_EQ(pi.high, set);
	unsigned long long d0 = ev(za, ZA_PCP_DRAIN_PAGES);
	unsigned high0 = info(za, 0).high;
	za_pcp_decay(za);
	CHECK_EQ(info(za, 1).high, set);
	CHECK_EQ(info(za, 1).count, pi.count);
	/* and CPU 0, idle since the last pass, decays as usual */
	CHECK_EQ(info(za, 0).high, high0 - high0 / 8);
	CHECK_EQ(ev(za, ZA_PCP_DRAIN_PAGES), d0);
	check_ok(za);
	za_destroy(za);
}

/* A flush gives each list back whole before the next, order 0 first (as
 * the kernel's does): a list holding order-0 pages and order-2 blocks,
 * trimmed by less than its order-0 pages, keeps every order-2 block, so
 * allocating them again takes no refill. One block of each list in turn
 * (the old flush) gave back an order-2 block for every order-0 page. */
static void flush_whole_lists(void)
{
	struct za *za = make(0);
	enum { N0 = 200, N2 = 20 };
	struct za_page *p0[N0], *p2[N2];
	for (int k = 0; k < N0; k++)
		CHECK((p0[k] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	for (int k = 0; k < N2; k++)
		CHECK((p2[k] = za_alloc_pages(za, ZA_GFP_KERNEL, 2)) != NULL);
	za_drain_all_pages(za);
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, high_max), 0);
	for (int k = 0; k < N0; k++)
		za_free_pages(za, p0[k], 0);
	for (int k = 0; k < N2; k++)
		za_free_pages(za, p2[k], 2);
	CHECK_EQ(info(za, 0).count, N0 + 4 * N2);
	/* give back 120 pages: all order 0 */
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL, high_min), 0);
	CHECK_EQ(high_min, 160u);
	CHECK_EQ(info(za, 0).count, high_min);
	unsigned long long refills = ev(za, ZA_PCP_REFILL);
	for (int k = 0; k < N2; k++)
		CHECK((p2[k] = za_alloc_pages(za, ZA_GFP_KERNEL, 2)) != NULL);
	printf("flush: %llu refills to take the %d order-2 blocks back\n",
	       ev(za, ZA_PCP_REFILL) - refills, (int)N2);
	CHECK_EQ(ev(za, ZA_PCP_REFILL), refills);
	for (int k = 0; k < N2; k++)
		za_free_pages(za, p2[k], 2);
	check_ok(za);
	za_destroy(za);
}

int main(void)
{
	set_high();
	decay();
	decay_busy();
	flush_whole_lists();
	printf("core_pcp_decay: ok (high_min %u, high_max %u, batch %u)\n",
	       high_min, high_max, batch);
	return 0;
}
