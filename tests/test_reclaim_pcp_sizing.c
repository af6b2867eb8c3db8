/*
 * test_reclaim_pcp_sizing.c - per-CPU lists that size themselves.
 *
 * One NORMAL zone of 16 blocks, two simulated CPUs, the vmstat worker every
 * 20 ms (it also decays idle lists; part 1 runs without it).
 *
 *  1. A stream of allocations on CPU 0: refill batches double, refill after
 *     refill, from batch up to 8 * batch (so refills per 1000 allocations
 *     fall to about an eighth of what the initial batch would need), and
 *     high grows by a batch a refill from high_min up to high_max, never
 *     past it.
 *  2. Freeing it all on CPU 0 fills the list up to its grown high; then
 *     idle, the periodic worker decays high back to high_min and the list
 *     gives its pages back (count drops to at most high_min).
 *  3. With kswapd running (held inside the shrinker so that reclaim stays
 *     active): every list's high is at its minimum, and refills on a CPU do
 *     not grow it; once reclaim ends, an idle CPU's list gets back the
 *     high it had before, and refills grow a list again.
 *  4. ZA_CFG_PCP_FIXED at the initial size (high_min, batch of part 1):
 *     high and batch never move - not with a stream, not when idle, not
 *     under reclaim - and every refill is exactly one batch.
 *  5. A CPU going offline recomputes the sizes for the CPUs left online:
 *     high_min is the low watermark shared by the node's online CPUs (at
 *     least four batches), high_max an eighth of the zone shared the same
 *     way, so with one of the two CPUs offline both bounds are those of
 *     one CPU, and CPU 0's list takes them up; online again, those of two.
 */
#include "test_reclaim_common.c"

#define BLK 1024UL
#define NBLK 16UL
#define MANAGED (NBLK * BLK)
#define STREAM 8192

static struct za *make(unsigned flags, unsigned high, unsigned batch)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (NBLK + 1) * BLK;
	cfg.vmstat_interval_ms = 20;
	cfg.flags = flags;
	cfg.pcp_high = high;
	cfg.pcp_batch = batch;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, MANAGED, NULL), 0);
	return za;
}

static struct za_pcp *pcp_of(struct za *za, int cpu)
{
	return &za->nodes[0].zones[ZA_ZONE_NORMAL].pcp[cpu];
}

/* The bounds published for every set of the zone (each set copies them
 * when it next runs). */
static int high_min_of(struct za *za, int cpu)
{
	(void)cpu;
	return za_load_relaxed(
	    &za->nodes[0].zones[ZA_ZONE_NORMAL].pcp_sizes.high_min);
}

static int high_max_of(struct za *za, int cpu)
{
	(void)cpu;
	return za_load_relaxed(
	    &za->nodes[0].zones[ZA_ZONE_NORMAL].pcp_sizes.high_max);
}

/* Measured by parts 1 and 4 for the comparison printed at the end. */
static unsigned initial_high, initial_batch;
static double sizing_refills_per_1000, fixed_refills_per_1000;

/* Allocate n pages on the current CPU into held; returns refills made in
 * the second half of the stream, per 1000 allocations. */
static double stream(struct za *za, struct pinned *held, unsigned n,
                     unsigned *high_seen_max, bool check_sizes)
{
	unsigned long long r0 = za_event_count(za, ZA_PCP_REFILL);
	unsigned long long pg0 = za_event_count(za, ZA_PCP_REFILL_PAGES);
	unsigned long long r_half = 0;
	unsigned prev_refill_pages = 0,
	         batch = pcp_info(za, (unsigned)tl_cpu, ZA_ZONE_NORMAL).batch;
	unsigned hmax = (unsigned)high_max_of(za, tl_cpu);
	for (unsigned i = 0; i < n; i++) {
		unsigned long long r = za_event_count(za, ZA_PCP_REFILL);
		unsigned long long pg = za_event_count(za, ZA_PCP_REFILL_PAGES);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		pinned_add(held, p);
		unsigned long long r2 = za_event_count(za, ZA_PCP_REFILL);
		if (check_sizes && r2 != r) {
			/* One refill: batch first, then each one twice the last
			 * up to 8 * batch. */
			CHECK_EQ(r2, r + 1);
			unsigned got = (unsigned)(za_event_count(za, ZA_PCP_REFILL_PAGES) -
			                          pg);
			unsigned want = prev_refill_pages ? prev_refill_pages * 2 : batch;
			if (want > 8 * batch)
				want = 8 * batch;
			CHECK_EQ(got, want);
			prev_refill_pages = got;
		}
		struct za_pcp_info pi = pcp_info(za, (unsigned)tl_cpu, ZA_ZONE_NORMAL);
		CHECK(pi.high <= hmax);
		if (pi.high > *high_seen_max)
			*high_seen_max = pi.high;
		if (i == n / 2)
			r_half = za_event_count(za, ZA_PCP_REFILL);
	}
	(void)pg0;
	(void)r0;
	return (double)(za_event_count(za, ZA_PCP_REFILL) - r_half) * 1000.0 /
	       (double)(n - n / 2);
}

/* Wait (bounded) until CPU cpu's high is back at high_min and its list
 * holds no more than that. */
static void wait_decayed(struct za *za, int cpu)
{
	uint64_t t0 = now_ms();
	unsigned hmin = (unsigned)high_min_of(za, cpu);
	struct za_pcp_info pi;
	while (now_ms() - t0 < 20000) {
		pi = pcp_info(za, (unsigned)cpu, ZA_ZONE_NORMAL);
		if (pi.high == hmin && pi.count <= hmin)
			break;
		sleep_ms(5);
	}
	pi = pcp_info(za, (unsigned)cpu, ZA_ZONE_NORMAL);
	CHECK_EQ(pi.high, hmin);
	CHECK(pi.count <= hmin);
}

/* --- 1 ------------------------------------------------------------------------- */

/* No periodic worker here: a decay in the middle of the stream (the test
 * thread descheduled for a whole interval) would reset the growth this
 * part checks step by step. */
static void part_grow(void)
{
	struct za *za = make(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER, 0, 0);
	struct pinned held;
	pinned_init(&held, MANAGED);
	tl_cpu = 0;
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	int hmin = high_min_of(za, 0), hmax = high_max_of(za, 0);
	initial_high = pi.high;
	initial_batch = pi.batch;
	CHECK_EQ((int)pi.high, hmin);
	CHECK(hmax > hmin);

	unsigned high_seen = 0;
	double per1000 = stream(za, &held, STREAM, &high_seen, true);
	pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	printf("1: stream of %d on cpu0: batch %u, high %d -> %u (high_max %d); "
	       "refills per 1000 allocations at the end %.1f (the initial batch "
	       "would need %.1f)\n",
	       STREAM, pi.batch, hmin, pi.high, hmax, per1000, 1000.0 / pi.batch);
	CHECK((int)pi.high > hmin);
	CHECK((int)pi.high <= hmax);
	CHECK_EQ((int)high_seen, hmax); /* grew all the way, and no further */
	CHECK_EQ(pi.batch, initial_batch);
	CHECK(per1000 <= 1000.0 / (8.0 * pi.batch) + 1.0);
	sizing_refills_per_1000 = per1000;
	pinned_free(za, &held, held.n);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(held.pages);
}

/* --- 2 ------------------------------------------------------------------------- */

static void part_decay(void)
{
	struct za *za = make(ZA_CFG_NO_KSWAPD, 0, 0);
	struct pinned held;
	pinned_init(&held, MANAGED);
	tl_cpu = 0;
	int hmin = high_min_of(za, 0);
	unsigned high_seen = 0;
	stream(za, &held, STREAM, &high_seen, false);
	CHECK((int)high_seen > hmin);

	/* Free it all on cpu0: the list fills up to its grown high. */
	unsigned count_full = 0;
	while (held.n) {
		pinned_free(za, &held, 1);
		struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
		CHECK(pi.count <= pi.high);
		if (pi.count > count_full)
			count_full = pi.count;
	}
	printf("2: freeing on cpu0 filled its list to %u (high reached %u)\n",
	       count_full, high_seen);
	CHECK(count_full > (unsigned)hmin);

	/* Idle: the worker decays high back and the list gives pages back. */
	unsigned long long drains = za_event_count(za, ZA_PCP_DRAIN_PAGES);
	wait_decayed(za, 0);
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	printf("2: idle: high back to %u, count %u; %llu pages drained back by "
	       "the decay\n",
	       pi.high, pi.count, za_event_count(za, ZA_PCP_DRAIN_PAGES) - drains);
	CHECK(pi.count < count_full);
	CHECK(za_event_count(za, ZA_PCP_DRAIN_PAGES) > drains);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(held.pages);
}

/* --- 3 ------------------------------------------------------------------------- */

static void part_pressure(void)
{
	/* No periodic worker: its decay would shrink the idle cpu0 list
	 * that this part watches come back after reclaim. */
	struct za *za = make(ZA_CFG_NO_VMSTAT_WORKER, 0, 0);
	struct cache cache;
	struct za_shrinker shr;
	struct pinned held;
	pinned_init(&held, MANAGED);
	cache_init(&cache, za, MANAGED);
	cache_shrinker(&shr, &cache);
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	int hmin0 = high_min_of(za, 0), hmin1 = high_min_of(za, 1);

	/* Both lists grow first. */
	unsigned seen = 0;
	tl_cpu = 0;
	stream(za, &held, 2048, &seen, false);
	tl_cpu = 1;
	stream(za, &held, 2048, &seen, false);
	unsigned high0 = pcp_info(za, 0, ZA_ZONE_NORMAL).high;
	CHECK((int)high0 > hmin0);
	CHECK((int)pcp_info(za, 1, ZA_ZONE_NORMAL).high > hmin1);

	/* Below low with the shrinker closed: kswapd stays inside it. */
	cache_gate(&cache, true);
	tl_cpu = 0;
	struct za_page *p;
	while ((p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0)))
		cache_add(&cache, p);
	for (int i = 0; i < 10000 && !atomic_load(&cache.in_scan); i++)
		sleep_ms(1);
	CHECK(atomic_load(&cache.in_scan) > 0);
	CHECK(za_load_relaxed(&za->reclaim_active) > 0);
	struct za_pcp_info p0 = pcp_info(za, 0, ZA_ZONE_NORMAL);
	struct za_pcp_info p1 = pcp_info(za, 1, ZA_ZONE_NORMAL);
	printf("3: reclaim active: high cpu0 %u (min %d), cpu1 %u (min %d); "
	       "counts %u, %u\n",
	       p0.high, hmin0, p1.high, hmin1, p0.count, p1.count);
	CHECK_EQ((int)p0.high, hmin0);
	CHECK_EQ((int)p1.high, hmin1);
	CHECK(p0.count <= p0.high && p1.count <= p1.high);
	/* What cpu0's list had earned when the pressure trimmed it (its
	 * refills above grew it further until kswapd began). */
	int earned0 = za_load_relaxed(&pcp_of(za, 0)->high_saved);
	if (!earned0) /* not trimmed (it was empty): it keeps its high */
		earned0 = za_load_relaxed(&pcp_of(za, 0)->high);
	CHECK(earned0 >= (int)high0);

	/* Refills on cpu1 while reclaim runs: high stays at its minimum.
	 * Pages come back from the held set (freed on cpu1, overflowing its
	 * list to the buddy lists), then a stream takes them again. */
	tl_cpu = 1;
	pinned_free(za, &held, 1024);
	unsigned long long r0 = za_event_count(za, ZA_PCP_REFILL);
	for (int i = 0; i < 512; i++) {
		p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
		if (!p)
			break;
		pinned_add(&held, p);
		CHECK_EQ((int)pcp_info(za, 1, ZA_ZONE_NORMAL).high, hmin1);
	}
	unsigned long long refills = za_event_count(za, ZA_PCP_REFILL) - r0;
	printf("3: %llu refills on cpu1 under reclaim, high stayed %d\n", refills,
	       hmin1);
	CHECK(refills > 0);
	CHECK_EQ((int)pcp_info(za, 0, ZA_ZONE_NORMAL).high, hmin0);

	/* Reclaim ends; a stream grows the list again. */
	cache_gate(&cache, false);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000 && (za_load_relaxed(&za->reclaim_active) ||
	                                 atomic_load(&cache.in_scan)))
		sleep_ms(2);
	CHECK_EQ(za_load_relaxed(&za->reclaim_active), 0);
	/* The last kswapd out recomputes the sizes without pressure: cpu0,
	 * idle since it was trimmed, gets back the high it had earned. */
	struct za_zone *zn = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	while (now_ms() - t0 < 20000 && za_load_relaxed(&zn->pcp_sizes.pressure))
		sleep_ms(2);
	CHECK_EQ(za_load_relaxed(&zn->pcp_sizes.pressure), 0);
	/* The sets are flagged to pick up the new sizes just after pressure
	 * reads 0: wait for cpu0's to show (bounded). */
	while (now_ms() - t0 < 20000 &&
	       (int)pcp_info(za, 0, ZA_ZONE_NORMAL).high != earned0)
		sleep_ms(2);
	printf("3: after reclaim: cpu0 high %u again (%d when reclaim began)\n",
	       pcp_info(za, 0, ZA_ZONE_NORMAL).high, earned0);
	CHECK_EQ((int)pcp_info(za, 0, ZA_ZONE_NORMAL).high, earned0);
	pinned_free(za, &held, 2048);
	seen = 0;
	stream(za, &held, 1024, &seen, false);
	printf("3: after reclaim: cpu1 high back up to %u\n", seen);
	CHECK((int)seen > hmin1);
	CHECK_EQ(atomic_load(&lock_violations), 0);

	za_unregister_shrinker(za, &shr);
	tl_cpu = 0;
	pinned_free(za, &held, held.n);
	cache_free_all(&cache);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&cache);
	free(held.pages);
}

/* --- 4 ------------------------------------------------------------------------- */

static void check_fixed(struct za *za, unsigned high, unsigned batch)
{
	for (unsigned c = 0; c < 2; c++) {
		struct za_pcp_info pi = pcp_info(za, c, ZA_ZONE_NORMAL);
		CHECK_EQ(pi.high, high);
		CHECK_EQ(pi.batch, batch);
	}
}

static void part_fixed(void)
{
	unsigned high = initial_high, batch = initial_batch;
	struct za *za = make(ZA_CFG_PCP_FIXED, high, batch);
	struct cache cache;
	struct za_shrinker shr;
	struct pinned held;
	pinned_init(&held, MANAGED);
	cache_init(&cache, za, MANAGED);
	cache_shrinker(&shr, &cache);
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	check_fixed(za, high, batch);

	tl_cpu = 0;
	unsigned seen = 0;
	unsigned long long r0 = za_event_count(za, ZA_PCP_REFILL);
	unsigned long long pg0 = za_event_count(za, ZA_PCP_REFILL_PAGES);
	double per1000 = stream(za, &held, STREAM, &seen, false);
	check_fixed(za, high, batch);
	CHECK_EQ(za_event_count(za, ZA_PCP_REFILL_PAGES) - pg0,
	         (za_event_count(za, ZA_PCP_REFILL) - r0) * batch);
	fixed_refills_per_1000 = per1000;

	/* Idle. */
	pinned_free(za, &held, held.n);
	sleep_ms(150);
	check_fixed(za, high, batch);

	/* Under reclaim (kswapd held inside the shrinker). */
	cache_gate(&cache, true);
	struct za_page *p;
	while ((p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0)))
		cache_add(&cache, p);
	for (int i = 0; i < 10000 && !atomic_load(&cache.in_scan); i++)
		sleep_ms(1);
	CHECK(atomic_load(&cache.in_scan) > 0);
	check_fixed(za, high, batch);
	cache_gate(&cache, false);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000 && za_load_relaxed(&za->reclaim_active))
		sleep_ms(2);
	check_fixed(za, high, batch);
	printf("4: ZA_CFG_PCP_FIXED high %u batch %u: unchanged by a stream, "
	       "idling and reclaim; refills per 1000 allocations %.1f\n",
	       high, batch, per1000);

	za_unregister_shrinker(za, &shr);
	pinned_free(za, &held, held.n);
	cache_free_all(&cache);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&cache);
	free(held.pages);
}

/* --- 5 ------------------------------------------------------------------------- */

/* The bounds tunables_update publishes for a node with `cpus` online CPUs
 * (the kernel's zone_highsize: the low watermark shared by the CPUs, at
 * least four batches; high_max an eighth of the zone likewise). */
static void expected_bounds(struct za *za, unsigned cpus, int *hmin, int *hmax)
{
	struct za_zone_info zi = zone_info(za, ZA_ZONE_NORMAL);
	long batch = za_load_relaxed(
	    &za->nodes[0].zones[ZA_ZONE_NORMAL].pcp_sizes.batch);
	long lo = (long)(zi.low / cpus), hi = (long)(zi.managed / 8 / cpus);
	if (lo < 4 * batch)
		lo = 4 * batch;
	if (hi < lo)
		hi = lo;
	*hmin = (int)lo;
	*hmax = (int)hi;
}

static void part_cpu_flip(void)
{
	struct za *za = make(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER, 0, 0);
	tl_cpu = 0;
	int want_min, want_max;
	expected_bounds(za, 2, &want_min, &want_max);
	int hmin2 = high_min_of(za, 0), hmax2 = high_max_of(za, 0);
	CHECK_EQ(hmin2, want_min);
	CHECK_EQ(hmax2, want_max);

	CHECK_EQ(za_cpu_offline(za, 1), 0);
	expected_bounds(za, 1, &want_min, &want_max);
	int hmin1 = high_min_of(za, 0), hmax1 = high_max_of(za, 0);
	printf("5: cpu1 offline: high_min %d -> %d, high_max %d -> %d (one "
	       "CPU: %d, %d)\n",
	       hmin2, hmin1, hmax2, hmax1, want_min, want_max);
	/* The example's sizes must tell one CPU from two. */
	CHECK(want_min > hmin2);
	RULE(hmin1 == want_min && hmax1 == want_max,
	     "cpu hotplug (an offline recomputes the page-set sizes for the "
	     "CPUs left online): with cpu1 offline high_min/high_max are "
	     "%d/%d, those of the two CPUs before; one CPU's are %d/%d",
	     hmin1, hmax1, want_min, want_max);
	/* CPU 0's list takes the new bounds up when it next runs. */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	za_free_pages(za, p, 0);
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	RULE(pi.high >= (unsigned)hmin1,
	     "cpu hotplug (an offline recomputes the page-set sizes for the "
	     "CPUs left online): cpu0's list has high %u, below the one-CPU "
	     "high_min %d",
	     pi.high, hmin1);

	CHECK_EQ(za_cpu_online(za, 1), 0);
	expected_bounds(za, 2, &want_min, &want_max);
	RULE(high_min_of(za, 0) == want_min && high_max_of(za, 0) == want_max,
	     "cpu hotplug (an online recomputes the page-set sizes): with cpu1 "
	     "back high_min/high_max are %d/%d, two CPUs' are %d/%d",
	     high_min_of(za, 0), high_max_of(za, 0), want_min, want_max);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

int main(void)
{
	tu_watchdog(120);
	tl_is_main = 1;
	part_grow();
	part_decay();
	part_pressure();
	part_fixed();
	part_cpu_flip();
	printf("refills per 1000 allocations in a stream: self-sizing %.1f, "
	       "fixed at the initial size %.1f\n",
	       sizing_refills_per_1000, fixed_refills_per_1000);
	CHECK(sizing_refills_per_1000 * 4 < fixed_refills_per_1000);
	return expect_failures("reclaim_pcp_sizing");
}
