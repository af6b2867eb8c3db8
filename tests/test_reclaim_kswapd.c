/*
 * test_reclaim_kswapd.c - background reclaim.
 *
 * One NORMAL zone of 16 blocks, two simulated CPUs, kswapd on, a client
 * cache behind a shrinker. In part 1 the main thread only allocates with
 * ZA_GFP_NOWAIT, which wakes kswapd but never reclaims by itself, so every
 * shrinker call there is kswapd's.
 *
 *  1. Drive the zone below low (the shrinker held closed meanwhile, so the
 *     zone really gets there), open it: kswapd brings the zone's free pages
 *     back to at least high, then stops calling the shrinker (no call over
 *     a further 200 ms). kswapd_wake and pgsteal_kswapd are counted, and
 *     pgsteal_kswapd is exactly what the shrinker said it freed.
 *  2. za_unregister_shrinker while kswapd and two threads in direct reclaim
 *     are inside it (scan sleeps): it returns only when none of them is,
 *     and the shrinker is never called again.
 *  3. za_destroy while kswapd is inside a slow shrinker (scan sleeps
 *     50 ms), several times: no hang (watchdog), no leak (ASan), no race
 *     (TSan), no call into the shrinker after za_destroy returned.
 *  4. A shrinker that allocates a page of its own while it shrinks: when
 *     kswapd calls it with the zone at min, that allocation must not
 *     recurse into reclaim (it would call the same shrinker again on the
 *     same thread - a client holding its own lock deadlocks). A known
 *     library gap today: kswapd runs shrinkers without the flag that keeps
 *     direct reclaim's callbacks out of reclaim.
 *  5. Before, during and after reclaim, the free counter is within the sum
 *     of the stat thresholds of the truth, and za_check agrees - although
 *     reclaim changes the thresholds (up on a small zone with few CPUs,
 *     down with many CPUs).
 *     And a threshold that drops while low - min narrows (memory offline
 *     shrinks a 32 GiB zone to 64 MiB with watermark_scale_factor 3000,
 *     64 CPUs: 125 -> 14): until the fold, the drift mark covers the
 *     deltas of the old threshold under the new marks (debug builds;
 *     review 16: 6400 pages of deltas against a low - min of 4915 with a
 *     drift mark of 0).
 *  6. A stingy shrinker (at most 4 pages a call, asked for 32 or more):
 *     pgscan_kswapd counts the pages kswapd asked for, pgsteal_kswapd those
 *     freed, so scan is above steal and each is exactly what the shrinker
 *     saw (a scan counted as the pages freed would pass part 1 whenever
 *     the shrinker happened to free all it was asked for).
 *  7. A pass for zones up to DMA (a DMA request's wake) leaves NORMAL's
 *     watermark boost alone: it never looked at NORMAL. The boost's own
 *     wake, still owed, brings the pass that reclaims towards it and takes
 *     it back (the kernel's balance_pgdat reads and resets the boosts of
 *     zones 0..highest_zoneidx only).
 *  8. A fallback in a zone of fewer than four pageblocks boosts nothing
 *     (a boost of one pageblock took min from 64 to 576 of 1024 pages, and
 *     NOWAIT allocations failed with 40% of the zone free while kswapd
 *     ran); a zone of four pageblocks is boosted (the kernel's
 *     boost_watermark, since 5.7).
 *  9. A node with nothing to reclaim (no shrinker) goes hopeless after
 *     KSWAPD_MAX_FAILURES passes that freed nothing, and allocations below
 *     low stop waking its kswapd (each wake ran a pass draining every
 *     CPU's lists: 25,000 a second); zoneinfo says node_unreclaimable 1.
 *     A costly NOWAIT request wakes kcompactd directly. Registering a
 *     shrinker brings kswapd back, and so does a direct reclaim that
 *     frees something on the node (the kernel's kswapd_failures and
 *     MAX_RECLAIM_RETRIES).
 * Checks on known library gaps use EXPECT (the test fails, later parts run).
 */
#include "test_reclaim_common.c"

#define BLK 1024UL
#define NBLK 16UL
#define MANAGED (NBLK * BLK)

static struct za *make(unsigned vmstat_ms)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (NBLK + 1) * BLK;
	cfg.vmstat_interval_ms = vmstat_ms;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, MANAGED, NULL), 0);
	return za;
}

static bool kswapd_busy(struct za *za)
{
	struct za_node *node = &za->nodes[0];
	bool busy;
	za_mutex_lock(&node->kswapd_lock);
	busy = node->kswapd_running || node->kswapd_highest_zoneidx >= 0;
	za_mutex_unlock(&node->kswapd_lock);
	return busy;
}

/* NOWAIT allocations into the cache until NULL (the zone at min). Returns
 * how many. */
static unsigned long fill_nowait(struct za *za, struct cache *c,
                                 unsigned long max)
{
	unsigned long n = 0;
	struct za_page *p;
	while (n < max && (p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0))) {
		cache_add(c, p);
		n++;
	}
	return n;
}

static void wait_for(atomic_int *v, int at_least)
{
	for (int i = 0; i < 10000 && atomic_load(v) < at_least; i++)
		sleep_ms(1);
	CHECK(atomic_load(v) >= at_least);
}

/* Wait until the zone is over high and kswapd has gone back to sleep,
 * out of the shrinker (a generous bound: a hang shows up as a failure).
 * Returns the zone as it is then. */
static struct za_zone_info wait_over_high(struct za *za, struct cache *c)
{
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000) {
		struct za_zone_info zi = zone_info(za, ZA_ZONE_NORMAL);
		if (zi.free >= zi.high && !kswapd_busy(za) &&
		    !atomic_load(&c->in_scan))
			break;
		sleep_ms(2);
	}
	return zone_info(za, ZA_ZONE_NORMAL);
}

/* --- 1 --------------------------------------------------------------------------- */

static void part_restore_high(void)
{
	struct za *za = make(50);
	struct cache cache;
	struct za_shrinker shr;
	cache_init(&cache, za, MANAGED);
	cache_shrinker(&shr, &cache);
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	struct za_zone_info zi = zone_info(za, ZA_ZONE_NORMAL);

	cache_gate(&cache, true);
	unsigned long n = fill_nowait(za, &cache, MANAGED);
	zi = zone_info(za, ZA_ZONE_NORMAL);
	printf("1: %lu NOWAIT pages; free %lu (min %lu low %lu high %lu); "
	       "kswapd_wake %llu\n",
	       n, zi.free, zi.min, zi.low, zi.high,
	       za_event_count(za, ZA_KSWAPD_WAKE));
	CHECK(zi.free < zi.low);
	CHECK(za_event_count(za, ZA_KSWAPD_WAKE) >= 1);
	cache_gate(&cache, false);

	zi = wait_over_high(za, &cache);
	unsigned long scans = atomic_load(&cache.scan_calls);
	printf("1: kswapd: free %lu (high %lu) after %lu scan calls freeing %lu; "
	       "pcp pages %lu\n",
	       zi.free, zi.high, scans,
	       (unsigned long)atomic_load(&cache.scan_freed), zi.pcp_pages);
	CHECK(zi.free >= zi.high);
	CHECK(!kswapd_busy(za));

	sleep_ms(200);
	CHECK_EQ(atomic_load(&cache.scan_calls), scans);
	zi = zone_info(za, ZA_ZONE_NORMAL);
	CHECK(zi.free >= zi.high);

	CHECK_EQ(atomic_load(&cache.scan_calls_main), 0);
	CHECK_EQ(za_event_count(za, ZA_ALLOCSTALL), 0);
	CHECK(za_event_count(za, ZA_KSWAPD_WAKE) >= 1);
	CHECK_EQ(za_event_count(za, ZA_PGSTEAL_KSWAPD),
	         atomic_load(&cache.scan_freed_other));
	CHECK(za_event_count(za, ZA_PGSTEAL_KSWAPD) > 0);
	CHECK(za_event_count(za, ZA_PGSCAN_KSWAPD) >=
	      za_event_count(za, ZA_PGSTEAL_KSWAPD));
	/* kswapd asks for what is missing up to high, not for everything:
	 * the cache keeps most of its pages. */
	CHECK(cache_size(&cache) > n / 2);

	/* The cycle repeats: below low again, back over high again. */
	unsigned long wakes = za_event_count(za, ZA_KSWAPD_WAKE);
	cache_gate(&cache, true);
	fill_nowait(za, &cache, MANAGED);
	CHECK(zone_info(za, ZA_ZONE_NORMAL).free < zi.low);
	cache_gate(&cache, false);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000 &&
	       (zone_info(za, ZA_ZONE_NORMAL).free < zi.high || kswapd_busy(za)))
		sleep_ms(2);
	CHECK(zone_info(za, ZA_ZONE_NORMAL).free >= zi.high);
	CHECK(za_event_count(za, ZA_KSWAPD_WAKE) > wakes);
	CHECK_EQ(atomic_load(&lock_violations), 0);

	za_unregister_shrinker(za, &shr);
	cache_free_all(&cache);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&cache);
}

/* --- 2 --------------------------------------------------------------------------- */

struct stress {
	struct za *za;
	struct cache *cache; /* where allocated pages go */
	atomic_int *stop;
	int cpu;
	unsigned long allocs;
};

static void *direct_reclaimer(void *arg)
{
	struct stress *st = arg;
	tl_cpu = st->cpu;
	while (!atomic_load(st->stop)) {
		struct za_page *p = za_alloc_pages(st->za, ZA_GFP_KERNEL, 0);
		if (p) {
			cache_add(st->cache, p);
			st->allocs++;
		}
	}
	return NULL;
}

/* za_unregister_shrinker in a thread of its own, so that one that never
 * returns (nobody wakes it when the last walk ends) fails this test at
 * once rather than at the watchdog. */
struct unreg {
	struct za *za;
	struct za_shrinker *s;
	atomic_int done;
};

static void *unregister_thread(void *arg)
{
	struct unreg *u = arg;
	za_unregister_shrinker(u->za, u->s);
	atomic_store(&u->done, 1);
	return NULL;
}

static void unregister_in_time(struct za *za, struct za_shrinker *s)
{
	struct unreg u = { za, s, 0 };
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, unregister_thread, &u), 0);
	uint64_t t0 = now_ms();
	while (!atomic_load(&u.done) && now_ms() - t0 < 10000)
		sleep_ms(1);
	if (!atomic_load(&u.done)) {
		fprintf(stderr, "za_unregister_shrinker still waits 10 s after "
		                "the walk it waited for (shrinker_idle not "
		                "woken)\n");
		exit(1);
	}
	CHECK_EQ(pthread_join(t, NULL), 0);
}

static void part_unregister(void)
{
	struct za *za = make(50);
	struct cache slow, backup;
	struct za_shrinker s_slow, s_backup;
	cache_init(&slow, za, 4 * MANAGED);
	cache_init(&backup, za, 4 * MANAGED);
	slow.scan_sleep_ms = 5;
	slow.scan_max = 8;
	cache_shrinker(&s_slow, &slow);
	cache_shrinker(&s_backup, &backup);
	/* Registered last, the slow one is asked first (it gives at most 8
	 * pages a call, the backup makes up the rest). */
	CHECK_EQ(za_register_shrinker(za, &s_backup), 0);
	CHECK_EQ(za_register_shrinker(za, &s_slow), 0);

	/* Both caches hold pages; the two threads put what they allocate in
	 * the backup cache, which stays registered. */
	unsigned long n = 0;
	struct za_page *p;
	while ((p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0)))
		cache_add(n++ % 2 ? &slow : &backup, p);

	atomic_int stop = 0;
	struct stress st[2] = { { za, &backup, &stop, 0, 0 },
		                    { za, &backup, &stop, 1, 0 } };
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, direct_reclaimer, &st[i]), 0);

	int rounds = (int)tu_scale(8);
	unsigned long max_inside = 0;
	for (int r = 0; r < rounds; r++) {
		wait_for(&slow.in_scan, 1);
		int inside = atomic_load(&slow.in_scan);
		if ((unsigned long)inside > max_inside)
			max_inside = (unsigned long)inside;
		unregister_in_time(za, &s_slow);
		/* Returned: nobody is inside, and nobody will come. */
		CHECK_EQ(atomic_load(&slow.in_scan), 0);
		unsigned long calls = atomic_load(&slow.scan_calls) +
		                      atomic_load(&slow.count_calls);
		sleep_ms(30);
		CHECK_EQ(atomic_load(&slow.scan_calls) +
		             atomic_load(&slow.count_calls),
		         calls);
		CHECK_EQ(atomic_load(&slow.in_scan), 0);
		/* Give it pages back and register it again. */
		for (int i = 0; i < 256; i++) {
			struct za_page *q = cache_take(&backup);
			if (!q)
				break;
			cache_add(&slow, q);
		}
		CHECK_EQ(za_register_shrinker(za, &s_slow), 0);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	printf("2: %d unregisters with up to %lu calls inside; direct reclaim "
	       "threads allocated %lu + %lu pages\n",
	       rounds, max_inside, st[0].allocs, st[1].allocs);
	CHECK_EQ(atomic_load(&lock_violations), 0);

	za_unregister_shrinker(za, &s_slow);
	za_unregister_shrinker(za, &s_backup);
	cache_free_all(&slow);
	cache_free_all(&backup);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&slow);
	cache_fini(&backup);
}

/* --- 3 --------------------------------------------------------------------------- */

static void part_destroy_busy(void)
{
	int rounds = (int)tu_scale(12);
	if (rounds < 3)
		rounds = 3;
	for (int r = 0; r < rounds; r++) {
		struct za *za = make(r % 2 ? 10 : 1000);
		struct cache cache;
		struct za_shrinker shr;
		cache_init(&cache, za, MANAGED);
		cache.scan_sleep_ms = 50;
		cache.scan_max = 4; /* kswapd needs many passes */
		cache_shrinker(&shr, &cache);
		CHECK_EQ(za_register_shrinker(za, &shr), 0);
		fill_nowait(za, &cache, MANAGED);
		wait_for(&cache.in_scan, 1);
		za_destroy(za);
		/* kswapd was joined: nothing runs in the shrinker, and nothing
		 * will. The cache's pages went with the allocator. */
		CHECK_EQ(atomic_load(&cache.in_scan), 0);
		unsigned long calls = atomic_load(&cache.scan_calls);
		sleep_ms(5);
		CHECK_EQ(atomic_load(&cache.scan_calls), calls);
		cache_fini(&cache);
	}
	printf("3: %d destroys with kswapd inside a 50 ms shrinker: clean\n",
	       rounds);
}

/* --- 4 --------------------------------------------------------------------------- */

static void part_shrinker_allocates(void)
{
	struct za *za = make(1000);
	struct cache cache;
	struct za_shrinker shr;
	cache_init(&cache, za, MANAGED);
	cache.scan_allocates = true;
	cache_shrinker(&shr, &cache);
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	cache_gate(&cache, true);
	fill_nowait(za, &cache, MANAGED);
	wait_for(&cache.in_scan, 1); /* kswapd is in */
	/* Entering reclaim trimmed the per-CPU lists, which may have lifted
	 * the zone a little: back down to min. */
	fill_nowait(za, &cache, MANAGED);
	struct za_zone_info zi = zone_info(za, ZA_ZONE_NORMAL);
	CHECK(zi.free <= zi.min);
	cache_gate(&cache, false);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000 &&
	       (zone_info(za, ZA_ZONE_NORMAL).free < zi.high || kswapd_busy(za)))
		sleep_ms(2);
	printf("4: shrinker allocating from kswapd: re-entered %lu times; "
	       "allocstall %llu\n",
	       (unsigned long)atomic_load(&cache.reentered),
	       za_event_count(za, ZA_ALLOCSTALL));
	EXPECT(atomic_load(&cache.reentered) == 0);
	EXPECT(za_event_count(za, ZA_ALLOCSTALL) == 0);
	za_unregister_shrinker(za, &shr);
	cache_free_all(&cache);
	za_destroy(za);
	cache_fini(&cache);
}

/* --- 5 --------------------------------------------------------------------------- */

/* |global - snapshot| within the sum of the thresholds in effect; at the
 * end za_check must agree (only then: it folds every delta). */
static void check_drift_bound(struct za *za, unsigned ncpu, const char *when,
                              bool last)
{
	struct za_zone_info zi = zone_info(za, ZA_ZONE_NORMAL);
	long drift = za_zone_stat(za, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES) -
	             za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL,
	                                   ZA_NR_FREE_PAGES);
	long bound = (long)ncpu * (long)zi.stat_threshold;
	printf("5: %u CPUs, %s: threshold %u, counter off the truth by %ld "
	       "(bound %ld)\n",
	       ncpu, when, zi.stat_threshold, drift, bound);
	if (labs(drift) > bound)
		fprintf(stderr,
		        "RULE BROKEN: vmstat (the drift stays within CPUs x "
		        "threshold: a threshold that drops folds every CPU's "
		        "deltas first): %u CPUs, %s: off by %ld, bound %ld\n",
		        ncpu, when, drift, bound);
	EXPECT(labs(drift) <= bound);
	if (last)
		EXPECT(za_check(za, stderr) == 0);
}

/* At every threshold a recompute stores (ZA_DP_THRESHOLD_SET, debug
 * builds), the drift mark already covers it: the deltas owners may build
 * from then on (CPUs x threshold) fit within low - min, or the mark is at
 * least high plus that much. A threshold that rises (pressure ends) and
 * is stored before its mark leaves owners building deltas beyond low -
 * min while the mark (0 under pressure) says no snapshot is needed. */
static atomic_int th_seen, th_rise_seen;
static _Atomic long th_last;
static void threshold_hook(struct za *za, enum za_debug_point dp, void *arg)
{
	if (dp != ZA_DP_THRESHOLD_SET)
		return;
	struct za_zone *z = arg;
	if (z != &za->nodes[0].zones[ZA_ZONE_NORMAL])
		return;
	long th = za_load_relaxed(&z->stat_threshold);
	unsigned long drift = (unsigned long)th * za->nr_cpus;
	unsigned long gap = za_load_relaxed(&z->wmark_base[ZA_WMARK_LOW]) -
	                    za_load_relaxed(&z->wmark_base[ZA_WMARK_MIN]);
	unsigned long mark = za_load_relaxed(&z->percpu_drift_mark);
	atomic_fetch_add(&th_seen, 1);
	if (th > atomic_exchange(&th_last, th))
		atomic_fetch_add(&th_rise_seen, 1);
	RULE(drift <= gap ||
	         mark >= za_load_relaxed(&z->wmark_base[ZA_WMARK_HIGH]) + drift,
	     "vmstat (the drift mark covers the threshold in effect: a threshold "
	     "that rises is stored after its mark): threshold %ld on %u CPUs, "
	     "low - min %lu, drift mark %lu",
	     th, za->nr_cpus, gap, mark);
}

/* The per-CPU deltas stay within the stat thresholds (DESIGN.md: "before
 * folding it is within the sum of the stat thresholds") across the change
 * of threshold that reclaim makes, both ways:
 *  - 2 CPUs: the pressure threshold, (low - min) / CPUs = 32, is above the
 *    normal one (4); deltas built up during reclaim must not outlive it;
 *  - 64 CPUs: the pressure threshold (1) is below the normal one (14);
 *    deltas built up before reclaim (9 pages on each of 63 CPUs) must not
 *    outlive the switch.
 * No periodic worker here, so nothing folds them by chance. */
static void part_threshold_change(unsigned ncpu, unsigned pre_allocs)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = ncpu;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (NBLK + 1) * BLK;
	cfg.flags = ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, MANAGED, NULL), 0);
	atomic_store(&th_seen, 0);
	atomic_store(&th_rise_seen, 0);
	atomic_store(&th_last,
	             za_load_relaxed(
	                 &za->nodes[0].zones[ZA_ZONE_NORMAL].stat_threshold));
	za_store_relaxed(&za->debug_hook, threshold_hook);
	struct cache cache;
	struct za_shrinker shr;
	struct pinned held;
	pinned_init(&held, (unsigned long)ncpu * pre_allocs + 64);
	cache_init(&cache, za, MANAGED);
	/* kswapd's frees go straight to the buddy lists (exact counter):
	 * only the allocations below move per-CPU deltas, all downwards. */
	cache.scan_no_cpu = true;
	cache_shrinker(&shr, &cache);
	CHECK_EQ(za_register_shrinker(za, &shr), 0);

	/* Deltas before reclaim: refills on every CPU but 0. */
	for (unsigned c = 1; c < ncpu; c++) {
		tl_cpu = (int)c;
		for (unsigned i = 0; i < pre_allocs; i++) {
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
			CHECK(p != NULL);
			pinned_add(&held, p);
		}
	}
	tl_cpu = 0;
	check_drift_bound(za, ncpu, "before reclaim", false);

	/* Reclaim active, held inside the shrinker. */
	cache_gate(&cache, true);
	fill_nowait(za, &cache, MANAGED);
	wait_for(&cache.in_scan, 1);
	check_drift_bound(za, ncpu, "reclaim running", false);
	/* Under pressure the threshold is at most (low - min) / CPUs (at
	 * least 1): every CPU's delta together stays within low - min. */
	struct za_zone_info zp = zone_info(za, ZA_ZONE_NORMAL);
	long pmax = (long)(zp.low - zp.min) / (long)ncpu;
	if (pmax < 1)
		pmax = 1;
	printf("5: %u CPUs, reclaim running: threshold %u, (low - min) / CPUs "
	       "%ld\n",
	       ncpu, zp.stat_threshold, pmax);
	EXPECT((long)zp.stat_threshold <= pmax);

	/* Room above min (freed on no CPU: exact), then refills on CPU 1
	 * (3 + 6 + 12 pages): its delta goes to -21 unless the threshold in
	 * effect folds it. */
	tl_cpu = -1;
	for (int i = 0; i < 128; i++)
		za_free_pages(za, cache_take(&cache), 0);
	tl_cpu = 1;
	for (int i = 0; i < 21; i++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
		CHECK(p != NULL);
		pinned_add(&held, p);
	}
	tl_cpu = 0;
	check_drift_bound(za, ncpu, "reclaim running, after refills", false);

	/* Reclaim ends: the threshold goes back. */
	cache_gate(&cache, false);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000 &&
	       (za_load_relaxed(&za->reclaim_active) || kswapd_busy(za)))
		sleep_ms(2);
	CHECK_EQ(za_load_relaxed(&za->reclaim_active), 0);
	check_drift_bound(za, ncpu, "after reclaim", true);
	za_store_relaxed(&za->debug_hook, NULL);
	/* The hook saw both recomputes (debug builds), and with 64 CPUs,
	 * whose pressure threshold is below the normal one, the rise. */
	if (za_debug)
		CHECK(atomic_load(&th_seen) >= 2 &&
		      (ncpu < 64 || atomic_load(&th_rise_seen) >= 1));

	za_unregister_shrinker(za, &shr);
	pinned_free(za, &held, held.n);
	cache_free_all(&cache);
	za_destroy(za);
	cache_fini(&cache);
	free(held.pages);
}

/* Memory offline shrinks a zone: its threshold drops and its low - min
 * narrows in one recompute. At ZA_DP_THRESHOLD_SET (the new threshold
 * stored, the deltas of the old one not folded yet) the drift mark must
 * cover what is still out under the marks now in effect. */
static int drop_hook_seen;
static void drop_hook(struct za *za, int dp, void *arg)
{
	if (dp != ZA_DP_THRESHOLD_SET)
		return;
	struct za_zone *z = arg;
	if (z != &za->nodes[0].zones[ZA_ZONE_NORMAL])
		return;
	unsigned long out = 0;
	for (unsigned c = 0; c < za->nr_cpus; c++)
		out += (unsigned long)labs(
		    (long)za_load_relaxed(&z->pcp[c].vm_diff[ZA_NR_FREE_PAGES]));
	unsigned long gap = za_load_relaxed(&z->wmark_base[ZA_WMARK_LOW]) -
	                    za_load_relaxed(&z->wmark_base[ZA_WMARK_MIN]);
	unsigned long mark = za_load_relaxed(&z->percpu_drift_mark);
	unsigned long high = za_load_relaxed(&z->wmark_base[ZA_WMARK_HIGH]);
	drop_hook_seen++;
	printf("5: offline: threshold %d, deltas out %lu, low - min %lu, drift "
	       "mark %lu\n",
	       za_load_relaxed(&z->stat_threshold), out, gap, mark);
	RULE(out <= gap || mark >= high + out,
	     "vmstat (the drift mark covers the deltas a dropping threshold "
	     "has not folded yet, under the new marks): %lu out, low - min "
	     "%lu, drift mark %lu, high %lu",
	     out, gap, mark, high);
}

static void part_threshold_drop_offline(void)
{
	if (!za_debug) {
		printf("5: offline: no test hook in this build, skipped\n");
		return;
	}
	const unsigned long nblk = 8192, keep = 16;
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 64;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (nblk + 1) * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER | ZA_CFG_PCP_FIXED;
	cfg.pcp_batch = 2;
	cfg.pcp_high = 8;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_sysctl_set(za, "watermark_scale_factor", "3000"), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, nblk * BLK, NULL), 0);
	CHECK_EQ(zone_info(za, ZA_ZONE_NORMAL).stat_threshold, 125);
	/* 100 pages on every CPU (50 refills of 2: a delta of -100 each,
	 * under 125), from the top of the zone, which the offline keeps. */
	struct pinned held;
	pinned_init(&held, 64 * 100);
	for (int c = 0; c < 64; c++) {
		tl_cpu = c;
		for (int i = 0; i < 100; i++) {
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
			CHECK(p != NULL);
			CHECK(za_page_to_pfn(za, p) >= (nblk - keep) * BLK);
			pinned_add(&held, p);
		}
	}
	tl_cpu = 0;
	drop_hook_seen = 0;
	za_store_relaxed(&za->debug_hook, drop_hook);
	CHECK_EQ(za_memory_offline(za, 0, (nblk - keep) * BLK), 0);
	za_store_relaxed(&za->debug_hook, NULL);
	CHECK_EQ(drop_hook_seen, 1);
	CHECK_EQ(zone_info(za, ZA_ZONE_NORMAL).stat_threshold, 14);
	pinned_free(za, &held, held.n);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(held.pages);
}

/* --- 6 --------------------------------------------------------------------------- */

static void part_scan_above_steal(void)
{
	struct za *za = make(50);
	struct cache cache;
	struct za_shrinker shr;
	cache_init(&cache, za, MANAGED);
	cache.scan_max = 4;
	cache_shrinker(&shr, &cache);
	CHECK_EQ(za_register_shrinker(za, &shr), 0);

	/* NOWAIT only: every shrinker call is kswapd's. */
	cache_gate(&cache, true);
	fill_nowait(za, &cache, MANAGED);
	cache_gate(&cache, false);
	struct za_zone_info zi = wait_over_high(za, &cache);
	CHECK(zi.free >= zi.high);
	CHECK_EQ(atomic_load(&cache.scan_calls_main), 0);

	unsigned long asked = atomic_load(&cache.scan_asked);
	unsigned long freed = atomic_load(&cache.scan_freed_other);
	unsigned long long scan = za_event_count(za, ZA_PGSCAN_KSWAPD);
	unsigned long long steal = za_event_count(za, ZA_PGSTEAL_KSWAPD);
	printf("6: stingy shrinker: asked %lu, freed %lu; pgscan_kswapd %llu, "
	       "pgsteal_kswapd %llu\n",
	       asked, freed, scan, steal);
	CHECK(freed > 0 && asked > freed);
	RULE(scan == asked && scan > steal,
	     "vmstat (pgscan_kswapd counts the pages kswapd asked its "
	     "shrinkers to scan, not those they freed): asked %lu, freed %lu, "
	     "pgscan_kswapd %llu, pgsteal_kswapd %llu",
	     asked, freed, scan, steal);
	CHECK_EQ(steal, freed);

	za_unregister_shrinker(za, &shr);
	cache_free_all(&cache);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&cache);
}

/* --- 7 --------------------------------------------------------------------------- */

/* Wait until kswapd has run a pass that began after since and is idle. */
static void wait_pass_after(struct za *za, uint64_t since)
{
	struct za_node *node = &za->nodes[0];
	for (int i = 0; i < 10000; i++) {
		za_mutex_lock(&node->kswapd_lock);
		bool done = !node->kswapd_running &&
		            node->kswapd_highest_zoneidx < 0 &&
		            node->kswapd_slept_ns > since;
		za_mutex_unlock(&node->kswapd_lock);
		if (done)
			return;
		sleep_ms(1);
	}
	CHECK(!"kswapd's pass ended");
}

static void part_boost_above_hz(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (NBLK + 5) * BLK;
	cfg.flags = ZA_CFG_NO_KCOMPACTD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA, 0, 4 * BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 4 * BLK, MANAGED, NULL),
	         0);
	struct za_node *node = &za->nodes[0];
	struct za_zone *normal = &node->zones[ZA_ZONE_NORMAL];
	/* A fallback in NORMAL boosts its marks; its wake is owed (an
	 * atomic request that found kswapd's lock busy leaves it so). */
	zone_lock(normal, NULL);
	_za_boost_watermark_locked(normal);
	zone_unlock(normal);
	unsigned long boost = za_load_relaxed(&normal->watermark_boost);
	CHECK(boost > 0);
	CHECK_EQ(za_load_relaxed(&normal->boost_wake), 1);
	/* A DMA request below DMA's low wakes kswapd for zones up to DMA. */
	uint64_t t0 = za_now_ns();
	CHECK(wakeup_kswapd(za, &node->zones[ZA_ZONE_DMA], 0, ZA_ZONE_DMA, true));
	wait_pass_after(za, t0);
	unsigned long left = za_load_relaxed(&normal->watermark_boost);
	printf("boost_above_hz: NORMAL boost %lu, %lu after a pass for zones up "
	       "to DMA\n",
	       boost, left);
	RULE(left == boost,
	     "kswapd takes back only the boosts of the zones its pass balanced "
	     "(0..highest_zoneidx): NORMAL's boost survives a pass for DMA");
	/* The next NORMAL allocation delivers the owed wake: that pass looks
	 * at NORMAL and takes the boost back. */
	t0 = za_now_ns();
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	CHECK_EQ(za_load_relaxed(&normal->boost_wake), 0);
	wait_pass_after(za, t0);
	CHECK_EQ(za_load_relaxed(&normal->watermark_boost), 0);
	za_free_pages(za, p, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- 8 --------------------------------------------------------------------------- */

/* A zone of `pages` (movable pageblocks of 512 pages) with movable pages
 * in every pageblock, then one unmovable request: it falls back to part
 * of a movable pageblock. Returns the boost that left, kswapd held in the
 * shrinker meanwhile; *fails: NOWAIT allocations then refused out of 16. */
static unsigned long boost_of_zone(unsigned long pages, int *fails)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = pages + BLK;
	cfg.flags = ZA_CFG_NO_KCOMPACTD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, pages, NULL), 0);
	CHECK_EQ(1ul << za->pageblock_order, 512);
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	/* A cache of one page behind a closed gate: kswapd, once in the
	 * shrinker, stays there until the test opens it. */
	struct cache gate;
	struct za_shrinker sh;
	cache_init(&gate, za, 1);
	cache_shrinker(&sh, &gate);
	cache_gate(&gate, true);
	struct za_page *held = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA___GFP_MOVABLE,
	                                      0);
	CHECK(held != NULL);
	cache_add(&gate, held);
	CHECK_EQ(za_register_shrinker(za, &sh), 0);
	/* Movable pages in every pageblock, 40% of the zone left free in
	 * small blocks (two pages of every five given back). */
	struct za_page **movable = calloc(pages, sizeof(*movable));
	CHECK(movable != NULL);
	unsigned long n = 0;
	while (n < pages &&
	       (movable[n] = za_alloc_pages(za,
	                                    ZA_GFP_NOWAIT | ZA___GFP_MOVABLE |
	                                        ZA_GFP_NOWARN,
	                                    0)))
		n++;
	/* The fill took the zone to min and woke kswapd: let it reach the
	 * shrinker and stay there, in a pass that began before the boost.
	 * A pass that began after it could find the zone, 40% free below,
	 * above its boosted high and take the boost back before the test
	 * reads it (seen once under load: boost 0). */
	for (int i = 0; i < 2000 && !atomic_load(&gate.in_scan); i++)
		sleep_ms(1);
	for (unsigned long i = 0; i < n; i++)
		if (i % 5 < 2) {
			za_free_pages(za, movable[i], 0);
			movable[i] = NULL;
		}
	za_drain_all_pages(za);
	struct za_page *um = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
	CHECK(um != NULL);
	CHECK(za_event_count(za, ZA_FALLBACK) > 0);
	unsigned long boost = za_load_relaxed(&z->watermark_boost);
	/* Below its boosted high, the zone sends kswapd into the shrinker,
	 * which holds it there: the marks stay while the test looks. */
	bool unbalanced = zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES) <
	                  (long)zone_wmark(z, ZA_WMARK_HIGH);
	for (int i = 0;
	     i < 2000 && boost && unbalanced && !atomic_load(&gate.in_scan); i++)
		sleep_ms(1);
	struct za_page *more[16];
	*fails = 0;
	for (int i = 0; i < 16; i++)
		if (!(more[i] = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 0)))
			(*fails)++;
	cache_gate(&gate, false);
	za_unregister_shrinker(za, &sh);
	cache_free_all(&gate);
	for (int i = 0; i < 16; i++)
		if (more[i])
			za_free_pages(za, more[i], 0);
	za_free_pages(za, um, 0);
	for (unsigned long i = 0; i < n; i++)
		if (movable[i])
			za_free_pages(za, movable[i], 0);
	free(movable);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&gate);
	return boost;
}

static void part_boost_small_zone(void)
{
	int fails_small, fails_four;
	unsigned long small = boost_of_zone(2 * 512, &fails_small);
	unsigned long four = boost_of_zone(4 * 512, &fails_four);
	printf("boost_small_zone: 2 pageblocks: boost %lu, %d of 16 NOWAIT "
	       "refused; 4 pageblocks: boost %lu\n",
	       small, fails_small, four);
	RULE(small == 0 && fails_small == 0,
	     "a zone of fewer than four pageblocks is not boosted (kernel "
	     "boost_watermark): its allocations go on with 40%% of it free");
	RULE(four == 512, "a zone of four pageblocks is boosted by one");
}

/* --- 9 --------------------------------------------------------------------------- */

static bool zoneinfo_unreclaimable(struct za *za)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CHECK(f != NULL);
	CHECK_EQ(za_report(za, ZA_REPORT_ZONEINFO, f), 0);
	fclose(f);
	bool on = strstr(text, "node_unreclaimable:  1") != NULL;
	free(text);
	return on;
}

static void part_hopeless(void)
{
	struct za *za = make(50);
	struct za_node *node = &za->nodes[0];
	struct cache cache;
	struct za_shrinker shr;
	cache_init(&cache, za, MANAGED);
	cache_shrinker(&shr, &cache);

	/* No shrinker: NOWAIT down to min, then keep asking below low. Each
	 * ask wakes kswapd until the node is hopeless. */
	fill_nowait(za, &cache, MANAGED);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000 && !kswapd_hopeless(node)) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
		if (p)
			cache_add(&cache, p);
		sleep_ms(1);
	}
	RULE(kswapd_hopeless(node),
	     "a node whose kswapd passes reclaim nothing goes hopeless "
	     "(failures %u after 20 s)",
	     za_load_relaxed(&node->kswapd_failures));
	t0 = now_ms();
	while (now_ms() - t0 < 20000 && kswapd_busy(za))
		sleep_ms(1);
	CHECK(!kswapd_busy(za));
	CHECK(zoneinfo_unreclaimable(za));
	unsigned long long wakes = za_event_count(za, ZA_KSWAPD_WAKE);
	for (int i = 0; i < 200; i++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
		if (p)
			cache_add(&cache, p);
		sleep_ms(1);
	}
	RULE(za_event_count(za, ZA_KSWAPD_WAKE) == wakes && !kswapd_busy(za),
	     "a hopeless node's kswapd is not woken (%llu wakes in 200 "
	     "allocations below low)",
	     za_event_count(za, ZA_KSWAPD_WAKE) - wakes);
	printf("9: hopeless after %u passes that reclaimed nothing; 200 "
	       "allocations below low, no wake\n",
	       za_load_relaxed(&node->kswapd_failures));
	/* A costly NOWAIT request (it cannot compact by itself) wakes
	 * kcompactd directly, as kswapd's pass would have. */
	unsigned long long dwakes = za_event_count(za, ZA_COMPACT_DAEMON_WAKE);
	/* Again while none arrives: an atomic request only tries kcompactd's
	 * lock, which kcompactd holds for a moment at each periodic look. */
	t0 = now_ms();
	while (now_ms() - t0 < 10000 &&
	       za_event_count(za, ZA_COMPACT_DAEMON_WAKE) == dwakes) {
		CHECK(za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 9) == NULL);
		sleep_ms(5);
	}
	RULE(za_event_count(za, ZA_COMPACT_DAEMON_WAKE) > dwakes &&
	         za_event_count(za, ZA_KSWAPD_WAKE) == wakes,
	     "a hopeless node's costly atomic request wakes kcompactd "
	     "directly, not kswapd");

	/* A shrinker with pages: kswapd comes back and reclaims. */
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	RULE(!kswapd_hopeless(node) && !zoneinfo_unreclaimable(za),
	     "registering a shrinker makes a hopeless node's kswapd wakeable "
	     "again");
	struct za_page *p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0);
	if (p)
		cache_add(&cache, p);
	t0 = now_ms();
	while (now_ms() - t0 < 20000 && !atomic_load(&cache.scan_freed_other))
		sleep_ms(1);
	CHECK(atomic_load(&cache.scan_freed_other) > 0);
	CHECK(za_event_count(za, ZA_KSWAPD_WAKE) > wakes);

	/* Hopeless again (set by hand: the shrinker has pages), at min: a
	 * direct reclaim that frees something brings kswapd back. */
	t0 = now_ms();
	while (now_ms() - t0 < 20000 &&
	       (kswapd_busy(za) || atomic_load(&cache.in_scan)))
		sleep_ms(1);
	za_store_relaxed(&node->kswapd_failures, (unsigned)KSWAPD_MAX_FAILURES);
	fill_nowait(za, &cache, MANAGED);
	unsigned long direct = atomic_load(&cache.scan_freed_main);
	for (int i = 0; i < 64 && atomic_load(&cache.scan_freed_main) == direct;
	     i++) {
		p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		cache_add(&cache, p);
	}
	CHECK(atomic_load(&cache.scan_freed_main) > direct);
	RULE(!kswapd_hopeless(node),
	     "a direct reclaim that frees something makes a hopeless node's "
	     "kswapd wakeable again (failures %u)",
	     za_load_relaxed(&node->kswapd_failures));

	za_unregister_shrinker(za, &shr);
	cache_free_all(&cache);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&cache);
}

int main(void)
{
	tu_watchdog(120);
	tl_is_main = 1;
	tl_cpu = 0;
	part_restore_high();
	part_unregister();
	part_destroy_busy();
	part_shrinker_allocates();
	part_threshold_change(2, 0);
	part_threshold_change(64, 9);
	part_threshold_drop_offline();
	part_scan_above_steal();
	part_boost_above_hz();
	part_boost_small_zone();
	part_hopeless();
	CHECK_EQ(atomic_load(&lock_violations), 0);
	return expect_failures("reclaim_kswapd");
}
